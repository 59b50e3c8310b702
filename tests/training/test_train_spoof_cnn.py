"""Tests for training/train_spoof_cnn.py (the spectrogram CNN's front end and network)."""

from __future__ import annotations

import numpy as np
import pytest

from training import train_spoof_cnn as C

FS = 16000


def _load_speechlike():
    """The audio tests' synthetic speech generator (test folders are not packages)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "detectors" / "audio" / "conftest.py"
    spec = importlib.util.spec_from_file_location("_audio_signals", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.speechlike


speechlike = _load_speechlike()


def test_front_end_keeps_speech_frames_mean_removed():
    x = speechlike(3.0, FS, seed=40)
    f, t = C.spectrogram_frames(x, FS)
    assert f.dtype == np.float32 and f.shape[1] == C.N_FEATURES and len(f) == len(t) > 50
    assert np.allclose(f.mean(axis=0), 0.0, atol=1e-4)   # per-file mean removed
    assert np.all(np.diff(t) > 0) and t[-1] <= 3.0
    # pauses are dropped: fewer frames than the file has
    assert len(f) < 3.0 / 0.01 - 5


def test_front_end_ignores_gain_and_sample_rate():
    from scipy.signal import resample_poly

    x = speechlike(3.0, FS, seed=41, noise_db=-50)
    f1, _ = C.spectrogram_frames(x, FS)
    f2, _ = C.spectrogram_frames(0.5 * x, FS)
    # log power minus the file's mean: a gain cancels, up to 16-bit quantisation in the
    # quietest bins
    assert f1.shape == f2.shape and np.mean(np.abs(f1 - f2)) < 0.05
    x44 = resample_poly(x, 441, 160)
    f3, _ = C.spectrogram_frames(x44, 44100)    # resampled to 16 kHz first
    assert abs(len(f3) - len(f1)) <= 3


def test_silence_gives_no_frames():
    f, t = C.spectrogram_frames(np.zeros(FS), FS)
    assert f.shape == (0, C.N_FEATURES) and len(t) == 0


def test_patches_cover_the_file_and_tile_short_ones():
    f = np.arange(250 * C.N_FEATURES, dtype=np.float32).reshape(250, C.N_FEATURES)
    p = C.patches(f)
    assert p.shape[1:] == (C.PATCH, C.N_FEATURES)
    assert p[0, 0, 0] == f[0, 0] and p[-1, -1, -1] == f[-1, -1]    # first and last frame
    short = C.patches(f[:30])
    assert short.shape == (1, C.PATCH, C.N_FEATURES)
    assert np.array_equal(short[0, 30:60], f[:30])                  # repeated
    assert C.patches(f[:0]).shape[0] == 0


def test_network_gives_one_logit_per_patch():
    net = C.build_network({"channels": [4, 8, 16, 32]})
    net.eval()
    logit, per_patch = C.file_logit(net, np.zeros((200, C.N_FEATURES), np.float32))
    assert per_patch.shape == (len(C.patches(np.zeros((200, C.N_FEATURES)))),)
    assert np.isfinite(logit) and logit == pytest.approx(per_patch.mean())
