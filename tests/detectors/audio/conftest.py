"""Synthetic test signals for the audio detectors (generated, no files)."""

from __future__ import annotations

import numpy as np
import pytest


def speechlike(duration: float = 4.0, fs: int = 16000, *, seed: int = 0, f0: float = 140.0,
               intonation_st: float = 3.0, jitter: float = 0.01, noise_db: float = -60.0,
               syllable_hz: float = 4.0) -> np.ndarray:
    """A voiced, syllabic, speech-like signal: a glottal-pulse-like harmonic source whose F0
    follows a slow intonation contour with jitter, shaped by two formant-ish resonances and
    gated by an irregular syllable envelope with pauses, over a white noise floor."""
    from scipy.signal import lfilter

    rng = np.random.default_rng(seed)
    n = int(duration * fs)
    t = np.arange(n) / fs
    contour = intonation_st * np.sin(2 * np.pi * 0.4 * t + rng.uniform(0, 6))
    inst = f0 * 2 ** (contour / 12) * (1 + jitter * rng.standard_normal(n).cumsum() / np.sqrt(n))
    phase = 2 * np.pi * np.cumsum(inst) / fs
    src = sum(np.sin(k * phase) / k for k in range(1, 30) if k * f0 * 1.3 < fs / 2)
    for fc, bw in ((700.0, 120.0), (1600.0, 200.0)):
        r = np.exp(-np.pi * bw / fs)
        src = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * fc / fs), r * r], src)
    # irregular syllables, with a pause every few syllables
    env = np.zeros(n)
    pos = int(0.2 * fs)
    while pos < n - int(0.2 * fs):
        length = int(fs / syllable_hz * rng.uniform(0.6, 1.2))
        seg = np.hanning(length)
        end = min(n, pos + length)
        env[pos:end] = seg[: end - pos]
        pos = end + (int(rng.uniform(0.25, 0.4) * fs) if rng.random() < 0.3 else 0)
    x = src * env
    x = 0.3 * x / (np.max(np.abs(x)) + 1e-12)
    return x + 10 ** (noise_db / 20) * rng.standard_normal(n)


@pytest.fixture(name="speechlike")
def speechlike_fixture():
    """The :func:`speechlike` generator (a fixture: test modules here are not a package)."""
    return speechlike
