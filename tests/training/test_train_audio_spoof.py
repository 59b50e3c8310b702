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
