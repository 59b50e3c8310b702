"""Fixtures for the GUI tests (the helpers live in _gui_support.py, a name no other test
folder shares)."""

from _gui_support import *  # noqa: F401,F403  (fixtures and helpers)
