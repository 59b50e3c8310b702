"""Tests for training/tts_speech.py (espeak-ng text-to-speech for the spoof trainer)."""

from __future__ import annotations

import numpy as np
import pytest

from training import tts_speech as T


def test_jobs_are_deterministic_and_cover_both_synthesisers():
    a, b = T.tts_jobs(8, 4), T.tts_jobs(8, 4)
    assert [j.key for j in a] == [j.key for j in b]
    assert len({j.key for j in a}) == 12
    assert sum(j.synthesiser == "klatt" for j in a) == 4
    assert all("+klatt" in j.voice for j in a if j.synthesiser == "klatt")
    assert all("+klatt" not in j.voice for j in a if j.synthesiser == "espeak")
    assert all(25.0 <= j.snr_db <= 45.0 and 130 <= j.speed <= 190 for j in a)


def test_missing_engine_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(T, "ESPEAK", "espeak-ng-that-is-not-installed")
    with pytest.raises(RuntimeError, match="espeak-ng not found"):
        T.synthesize_tts(T.tts_jobs(1, 0)[0])


@pytest.mark.skipif(not T.espeak_available(), reason="espeak-ng is not installed")
def test_synthesis_gives_speech_with_a_noise_floor():
    job = T.tts_jobs(1, 0)[0]
    x, fs = T.synthesize_tts(job)
    assert fs > 8000 and len(x) > fs            # a sentence lasts more than a second
    assert 0.05 < np.max(np.abs(x)) <= 1.5
    frame = fs // 50
    rms = np.sqrt(np.mean(x[: len(x) // frame * frame].reshape(-1, frame) ** 2, axis=1))
    assert rms.min() > 0                        # no digital silence between words
    assert np.percentile(rms, 95) / rms.min() > 10  # but speech well above the floor
