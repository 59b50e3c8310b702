"""Fixtures for the video detector tests (the helpers live in _video_synth.py, a name no
other test folder shares)."""

from _video_synth import *  # noqa: F401,F403  (fixtures and helpers)
