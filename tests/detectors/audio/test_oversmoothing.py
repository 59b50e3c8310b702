"""Tests for detectors/audio/oversmoothing.py (global variance of the cepstral trajectory)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from detectors.audio import oversmoothing as O
from triage_app.media import AudioMedia

FS = 16000


def _voice(duration: float, *, moving: bool, seed: int = 0) -> np.ndarray:
    """A harmonic source through three resonances. ``moving``: the resonances jump to new
    frequencies every 60 ms, as articulation moves a vocal tract's; otherwise they stay put
    (an over-smoothed envelope)."""
    rng = np.random.default_rng(seed)
    n = int(duration * FS)
    t = np.arange(n) / FS
    f0 = 130 * (1 + 0.05 * np.sin(2 * np.pi * 0.5 * t))
    src = sum(np.sin(k * 2 * np.pi * np.cumsum(f0) / FS) / k for k in range(1, 40))
    block = int(0.06 * FS)
    out = np.zeros(n)
    for i in range(0, n, block):
        seg = src[i:i + block]
        y = seg
        for base, span, bw in ((600.0, 300.0, 100.0), (1500.0, 700.0, 150.0),
                               (2600.0, 600.0, 200.0)):
            fc = base + (rng.uniform(-span, span) if moving else 0.0)
            r = np.exp(-np.pi * bw / FS)
            y = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / FS), r * r], y)
        out[i:i + block] = y
    env = 0.6 + 0.4 * np.sin(2 * np.pi * 3 * t) ** 2
    x = out * env
    return 0.3 * x / np.max(np.abs(x)) + 1e-4 * rng.standard_normal(n)


def _media(x: np.ndarray, fs: int = FS) -> AudioMedia:
    return AudioMedia(path="x.wav", format="WAV", samples=x.astype(np.float32)[:, None],
                      sample_rate=fs)


def test_spread_is_the_log_sd_of_each_static_cepstrum():
    rng = np.random.default_rng(0)
    frames = np.c_[rng.normal(0, 2.0, (500, O.N_CEPS - 1)), rng.normal(0, 9.0, (500, 78))]
    s = O.cepstral_spread(frames)
    assert s.shape == (O.N_CEPS - 1,)
    assert np.allclose(s, np.log(2.0), atol=0.1)   # the deltas are not read
    assert np.all(O.cepstral_spread(np.ones((50, 117))) < -10)   # a frozen envelope


def test_less_fine_detail_variance_scores_higher():
    """Known answer on the shipped model: the GV profile of the training files' mean, then
    the same with the fine detail (c25-c39) varying less, as over-smoothed speech does, and
    varying more; the smoother profile scores higher, the rougher lower."""
    m = O.load_model(str(O.MODEL_PATH))
    base = m["mean"].copy()
    smooth, rough = base.copy(), base.copy()
    smooth[24:39] -= 0.3
    rough[24:39] += 0.3
    p_base, p_smooth, p_rough = (O.probability(m, v)[0] for v in (base, smooth, rough))
    assert p_smooth > p_base > p_rough
    assert O.fine_to_envelope(smooth) < O.fine_to_envelope(base) < O.fine_to_envelope(rough)


def test_a_voice_is_measured_and_scored(speechlike):
    r = O.oversmoothing(_media(speechlike(4.0, FS, seed=3)))
    assert r.status == "ok", r.reason
    assert 0.0 <= r.score <= 1.0 and r.extras["speech_frames"] >= O.MIN_FRAMES
    assert len(r.extras["gv_profile"]) == O.N_CEPS - 1
    assert r.extras["fine_to_envelope"] == pytest.approx(
        O.fine_to_envelope(np.array(r.extras["gv_profile"])), abs=2e-3)
    for f in r.findings:   # only when it leans synthetic
        assert f.artifact == "generator_fingerprint" and f.location.end <= 4.0
        assert f.measurement.reference == r.extras["bona_fide_median"]


def test_too_little_speech_and_telephone_audio_are_not_judged():
    short = O.oversmoothing(_media(_voice(0.5, moving=True)))
    assert short.status == "not_applicable" and "speech" in short.reason
    x8 = _voice(4.0, moving=True)[::2]
    tel = O.oversmoothing(_media(x8, 8000))
    assert tel.status == "not_applicable" and "8,000 Hz" in tel.reason
    assert "this model" in tel.reason


def test_a_model_file_without_its_tensors_is_refused(tmp_path):
    from safetensors.numpy import save_file

    p = tmp_path / "m.safetensors"
    save_file({"mean": np.zeros(39)}, str(p))
    with pytest.raises(ValueError, match="lacks tensor"):
        O.load_model(str(p))
    missing = O.oversmoothing(_media(_voice(2.0, moving=True)), model_path=str(tmp_path / "no"))
    assert missing.status == "error" and "model file missing" in missing.reason


def test_the_voice_detector_pools_long_recordings_by_mean():
    from detectors.registry import get

    spec = get("oversmoothing")
    assert spec.segment_pooling == "mean" and spec.weight_files
