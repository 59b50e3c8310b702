"""Tests for training/train_oversmoothing.py (engine grouping, fit and decision)."""

from __future__ import annotations

import numpy as np

from training.train_audio_spoof import Utt
from training.train_oversmoothing import ENGINES, decision, engine_of, fit


def _utt(label: int, group: str, kind: str = "corpus") -> Utt:
    return Utt(f"{group}/{kind}/{label}", "p", label, group, kind, "s", None, None)


def test_only_the_neural_engines_are_the_positive_class():
    assert engine_of(_utt(1, "ljspeech")) == "ljspeech"          # gan-police vocoders
    assert engine_of(_utt(1, "trump")) == "trump"                # voice clones
    assert engine_of(_utt(1, "tts_piper", "tts")) == "tts_piper"
    assert engine_of(_utt(0, "ljspeech")) is None                # the real LJSpeech reader
    assert engine_of(_utt(1, "alsa", "world")) is None           # a WORLD re-synthesis
    assert engine_of(_utt(1, "tts_espeak", "tts")) is None       # formant TTS: a check only
    assert set(ENGINES) == {"ljspeech", "trump", "tts_piper"}


def test_fit_and_decision_separate_a_lower_spread():
    rng = np.random.default_rng(0)
    bona = rng.normal(0.0, 0.1, (40, 39))
    smooth = rng.normal(0.0, 0.1, (40, 39))
    smooth[:, 24:] -= 0.3                     # less fine-detail variance
    model = fit(np.r_[bona, smooth], np.r_[np.zeros(40), np.ones(40)], 0.1)
    z = decision(model, np.r_[bona, smooth])
    assert z[40:].mean() > z[:40].mean() + 1.0
    assert decision(model, smooth[0]).shape == (1,)
