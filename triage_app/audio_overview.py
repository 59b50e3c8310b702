"""What the viewer and the report draw of a recording, read a block at a time.

A long recording's samples are read from its file on demand
(:class:`triage_app.media.StreamedSamples`); the waveform envelope and the spectrogram's
frames are computed here block by block, so that drawing four hours of sound never holds them
at once. On an in-memory array the results are the same, value for value, as on the whole
mono signal.
"""

from __future__ import annotations

from typing import Any

import numpy as np

#: Frames per block read (about 23 s at 44.1 kHz).
BLOCK_FRAMES = 1 << 20


def _mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1).astype(np.float32, copy=False)


def mono_envelope(samples: Any, bins: int, *, block: int = BLOCK_FRAMES) -> np.ndarray:
    """(min, max) of the channel mean over ``bins`` equal stretches of ``samples`` (shape
    (n, channels), an ndarray or streamed samples): shape (min(bins, n), 2)."""
    n = int(samples.shape[0])
    if n == 0:
        raise ValueError("the audio has no samples")
    nb = min(bins, n)
    edges = np.linspace(0, n, nb + 1).astype(np.int64)
    lo = np.full(nb, np.inf, np.float32)
    hi = np.full(nb, -np.inf, np.float32)
    for s in range(0, n, block):
        e = min(n, s + block)
        x = _mono(samples[s:e])
        # the bins this block touches, cut at the block's ends
        first = int(np.searchsorted(edges, s, side="right")) - 1
        last = int(np.searchsorted(edges, e, side="left"))
        cuts = np.clip(edges[first:last], s, e) - s
        cuts[0] = 0
        keep = np.r_[cuts[1:] > cuts[:-1], True]  # reduceat needs strictly increasing starts
        starts, idx = cuts[keep], np.arange(first, last)[keep]
        idx = idx[starts < e - s]
        starts = starts[starts < e - s]
        np.minimum.at(lo, idx, np.minimum.reduceat(x, starts))
        np.maximum.at(hi, idx, np.maximum.reduceat(x, starts))
    return np.stack([lo, hi], axis=1)


def mono_frames(samples: Any, starts: np.ndarray, length: int, *,
                block: int = BLOCK_FRAMES) -> np.ndarray:
    """The channel mean's ``length``-sample windows beginning at each of ``starts`` (sorted
    frame indices), zero-padded past the end: shape (len(starts), length), float32."""
    n = int(samples.shape[0])
    starts = np.asarray(starts, dtype=np.int64)
    out = np.zeros((starts.size, length), np.float32)
    i = 0
    while i < starts.size:
        s = int(starts[i])
        # every window that starts within the next block, read with its tail
        j = int(np.searchsorted(starts, s + block, side="left"))
        j = max(j, i + 1)
        e = min(n, int(starts[j - 1]) + length)
        x = _mono(samples[s:e]) if e > s else np.zeros(0, np.float32)
        for k in range(i, j):
            a = int(starts[k]) - s
            w = x[a:a + length]
            out[k, :w.size] = w
        i = j
    return out
