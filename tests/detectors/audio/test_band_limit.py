"""Known-answer tests for detectors/audio/band_limit.py."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt

from detectors.audio import band_limit
from triage_app.media import VideoMedia


def test_lowpassed_noise_cutoff_near_4khz():
    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal(16000 * 4)
    x = sosfiltfilt(butter(16, 4000, fs=16000, output="sos"), x)
    r = band_limit.vocoder_band_limit((x, 16000))
    assert r.status == "ok"
    assert abs(r.extras["cutoff_hz"] - 4000) < 250
    assert r.extras["drop_db"] > 60
    f = r.findings[0]
    assert abs(f.location.low_hz - 4000) < 250 and f.location.high_hz == 8000
    assert 0.2 < r.score <= 0.6


def test_full_band_noise_has_no_cutoff():
    rng = np.random.default_rng(1)
    r = band_limit.vocoder_band_limit((0.1 * rng.standard_normal(16000 * 3), 16000))
    assert r.status == "ok" and r.extras["cutoff_hz"] is None and r.findings == []
    assert r.score == 0.2


def test_mp3_like_lowpass_is_named_as_codec_range():
    rng = np.random.default_rng(2)
    x = sosfiltfilt(butter(16, 16000, fs=44100, output="sos"),
                    0.1 * rng.standard_normal(44100 * 3))
    r = band_limit.vocoder_band_limit((x, 44100))
    assert abs(r.extras["cutoff_hz"] - 16000) < 500
    assert "Nyquist" in r.extras["explanation"] or "codec" in r.extras["explanation"]
    assert r.score <= 0.5


def test_video_without_audio_is_not_applicable():
    v = VideoMedia(path="x.mp4", format="MP4", width=2, height=2, fps=1.0, duration=1.0,
                   frame_count=1, codec="h264", has_audio=False)
    r = band_limit.vocoder_band_limit(v)
    assert r.status == "not_applicable" and r.reason == "no audio track"


def test_a_telephone_channel_is_named_as_such():
    """From a QA pass: speech through a 300-3400 Hz telephone band was 'unexplained'."""
    fs = 16000
    x = np.random.default_rng(3).standard_normal(6 * fs)
    sos = butter(10, [300, 3400], btype="bandpass", fs=fs, output="sos")
    r = band_limit.vocoder_band_limit((sosfiltfilt(sos, x).astype(np.float32), fs))
    assert r.extras["explanation"] == "the 300-3400 Hz band of a telephone channel", r.extras
