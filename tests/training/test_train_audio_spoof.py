"""Tests for training/train_audio_spoof.py's codec copies (--codec-augment)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from training.train_audio_spoof import AUG_CODECS, codec_roundtrip


def _codec_of(key: str) -> tuple[str, int]:
    return AUG_CODECS[int(hashlib.sha256(key.encode()).hexdigest(), 16) % len(AUG_CODECS)]


def test_codec_roundtrip_is_deterministic_lossy_and_keeps_the_signal():
    fs = 16000
    t = np.arange(2 * fs) / fs
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * np.sin(2 * np.pi * 3100 * t)
    keys = [f"utt{i}" for i in range(40)]
    seen = {}
    for k in keys:
        seen.setdefault(_codec_of(k)[0], k)
    assert set(seen) == {c for c, _ in AUG_CODECS}            # every codec is used
    for codec, k in seen.items():
        y = codec_roundtrip(x, k)
        assert np.array_equal(y, codec_roundtrip(x, k))       # deterministic
        assert abs(len(y) - len(x)) < 0.25 * fs, codec         # codec delay/padding only
        n = min(len(x), len(y))
        # aligned by cross-correlation (codecs delay the signal), close but not identical
        lag = int(np.argmax(np.correlate(y[:n], x[: n - 4000], mode="valid")))
        seg = y[lag:lag + n - 4000]
        ref = x[: len(seg)]
        corr = float(np.corrcoef(seg, ref)[0, 1])
        assert corr > 0.95, (codec, corr)
        assert not np.allclose(seg, ref, atol=1e-4), codec


def test_pooled_gmm_is_the_equal_mixture_of_its_members():
    """--bags: GMMs fitted on different subsamples, pooled as one mixture whose likelihood is
    the mean of the members' likelihoods."""
    from types import SimpleNamespace

    from detectors.audio.spoof_lfcc import DiagGMM
    from training.train_audio_spoof import PooledGMM, to_diag

    rng = np.random.default_rng(0)

    def member(k):
        return SimpleNamespace(weights_=np.full(k, 1.0 / k), means_=rng.normal(0, 1, (k, 3)),
                               covariances_=rng.uniform(0.5, 2.0, (k, 3)))

    a, b = member(2), member(3)
    pooled = PooledGMM([a, b])
    assert pooled.means_.shape == (5, 3) and np.isclose(pooled.weights_.sum(), 1.0)
    x = rng.normal(0, 1, (7, 3))
    la = DiagGMM(a.weights_, a.means_, a.covariances_).loglik(x)
    lb = DiagGMM(b.weights_, b.means_, b.covariances_).loglik(x)
    want = np.log(0.5 * np.exp(la) + 0.5 * np.exp(lb))
    assert np.allclose(to_diag(pooled).loglik(x), want)
