"""Tests for triage_app/audio_overview.py: envelope and spectrogram frames read by blocks."""

from __future__ import annotations

import numpy as np
import pytest

from triage_app.audio_overview import mono_envelope, mono_frames
from triage_app.media import StreamedSamples


def _streamed(x: np.ndarray) -> tuple[StreamedSamples, list[tuple[int, int]]]:
    reads: list[tuple[int, int]] = []

    def read(a: int, b: int) -> np.ndarray:
        reads.append((a, b))
        return x[a:b].copy()

    return StreamedSamples(x.shape[0], x.shape[1], read), reads


@pytest.mark.parametrize("n,bins,block", [(10, 1600, 3), (5000, 1600, 777), (123457, 1600, 4096),
                                          (123457, 7, 1000)])
def test_envelope_by_blocks_is_the_whole_signals(n, bins, block):
    x = np.random.default_rng(n).normal(0, 0.3, (n, 2)).astype(np.float32)
    mono = x.mean(axis=1).astype(np.float32)
    nb = min(bins, n)
    edges = np.linspace(0, n, nb + 1).astype(np.int64)
    want = np.stack([np.minimum.reduceat(mono, edges[:-1]), np.maximum.reduceat(mono, edges[:-1])],
                    axis=1)
    s, reads = _streamed(x)
    assert np.array_equal(mono_envelope(s, bins, block=block), want)
    assert max(b - a for a, b in reads) <= block  # never more than a block at once


def test_frames_by_blocks_are_the_whole_signals_padded_past_the_end():
    n, length = 50000, 1024
    x = np.random.default_rng(0).normal(0, 0.3, (n, 1)).astype(np.float32)
    starts = np.arange(0, n, 997)
    s, reads = _streamed(x)
    got = mono_frames(s, starts, length, block=4000)
    padded = np.pad(x[:, 0], (0, length))
    assert np.array_equal(got, np.stack([padded[a:a + length] for a in starts]))
    assert max(b - a for a, b in reads) <= 4000 + length


def test_no_samples_is_an_error():
    with pytest.raises(ValueError, match="no samples"):
        mono_envelope(np.zeros((0, 1), np.float32), 10)
