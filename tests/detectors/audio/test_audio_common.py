"""Tests for detectors/audio/_common.py."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.audio import _common as C
from triage_app.media import AudioMedia


def test_resample_length_and_tone():
    fs = 44100
    t = np.arange(fs) / fs
    y = C.resample_to(np.sin(2 * np.pi * 1000 * t), fs)
    assert len(y) == 16000
    spec = np.abs(np.fft.rfft(y))
    assert abs(np.argmax(spec) - 1000) <= 1  # 1 Hz bins over 1 s


def test_runs_and_merge():
    assert C.runs(np.array([0, 1, 1, 0, 1], bool)) == [(1, 3), (4, 5)]
    assert C.merge_spans([(0, 1, 2.0), (1.05, 2, 5.0), (3, 4, 1.0)], gap=0.1) == \
        [(0, 2, 5.0), (3, 4, 1.0)]


def test_speech_activity_finds_the_burst():
    rng = np.random.default_rng(0)
    x = 0.001 * rng.standard_normal(32000)
    x[12000:20000] += 0.3 * np.sin(2 * np.pi * 200 * np.arange(8000) / 16000)
    act = C.speech_activity(x, 16000)
    on = act.times[act.active]
    assert 0.7 <= on.min() <= 0.8 and 1.2 <= on.max() <= 1.3


def test_get_audio_from_media_and_checks():
    m = AudioMedia(path="a.wav", format="WAV", samples=np.zeros((8000, 2), np.float32),
                   sample_rate=16000)
    x, fs, reason = C.get_audio(m)
    assert reason is None and x.shape == (8000,) and fs == 16000
    assert C.get_audio((np.zeros(10), 16000))[2].startswith("audio too short")
    with pytest.raises(ValueError):
        C.get_audio(m, channels="left")


def test_logistic_is_safe():
    assert C.logistic(1e9, 0, 1) == 1.0 and C.logistic(-1e9, 0, 1) < 1e-300
    assert C.logistic(3, 3, 1) == 0.5


def test_span_findings_keep_the_strongest_hundred_in_time_order():
    from detectors.audio._common import MAX_SPAN_FINDINGS, span_findings

    spans = [(float(i), i + 0.1, float(i % 7)) for i in range(150)]
    fs = span_findings(spans, artifact="pops", detector="pops", measurement="jump", unit="x",
                       reference=1.0, strength_fn=lambda v: v / 6)
    assert len(fs) == MAX_SPAN_FINDINGS == 100
    assert [f.location.start for f in fs] == sorted(f.location.start for f in fs)
    assert min(f.measurement.value for f in fs) >= 2.0   # the weakest were left out
