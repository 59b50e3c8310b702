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

#: Frames per block read (about 95 s at 44.1 kHz, 32 MB of float32 stereo): each read of a
#: compressed file seeks and primes its decoder, so fewer, larger reads are faster.
BLOCK_FRAMES = 1 << 22


def _mono(block: np.ndarray) -> np.ndarray:
    return block.mean(axis=1).astype(np.float32, copy=False)


def mono_overview(samples: Any, bins: int, starts: np.ndarray, length: int, *,
                  block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One pass over ``samples`` ((n, channels), an ndarray or streamed samples), a block at a
    time, giving both pictures of the channel mean:

    - the envelope: (min, max) over ``bins`` equal stretches, shape (min(bins, n), 2)
      (none when ``bins`` is 0);
    - the ``length``-sample windows beginning at each of ``starts`` (sorted frame indices),
      zero-padded past the end, shape (len(starts), length), float32.
    """
    n = int(samples.shape[0])
    if n == 0:
        raise ValueError("the audio has no samples")
    block = block or BLOCK_FRAMES
    nb = min(bins, n)
    edges = np.linspace(0, n, nb + 1).astype(np.int64)
    lo = np.full(nb, np.inf, np.float32)
    hi = np.full(nb, -np.inf, np.float32)
    starts = np.asarray(starts, dtype=np.int64)
    frames = np.zeros((starts.size, length), np.float32)
    i = 0  # next window to fill
    for s in range(0, n, block):
        e = min(n, s + block)
        j = int(np.searchsorted(starts, e, side="left"))  # windows starting in [s, e)
        tail = min(n, max(e, int(starts[j - 1]) + length)) if j > i else e
        x = _mono(samples[s:tail])
        if nb:
            # the bins this block touches, cut at the block's start (edges strictly increase)
            first = int(np.searchsorted(edges, s, side="right")) - 1
            last = int(np.searchsorted(edges, e, side="left"))
            cuts = np.maximum(edges[first:last], s) - s
            idx = np.arange(first, last)
            np.minimum.at(lo, idx, np.minimum.reduceat(x[:e - s], cuts))
            np.maximum.at(hi, idx, np.maximum.reduceat(x[:e - s], cuts))
        for k in range(i, j):
            w = x[int(starts[k]) - s:int(starts[k]) - s + length]
            frames[k, :w.size] = w
        i = max(i, j)
    return np.stack([lo, hi], axis=1), frames


def mono_envelope(samples: Any, bins: int, *, block: int | None = None) -> np.ndarray:
    """The envelope of :func:`mono_overview` alone."""
    return mono_overview(samples, bins, np.zeros(0, np.int64), 0, block=block)[0]


def mono_frames(samples: Any, starts: np.ndarray, length: int, *,
                block: int | None = None) -> np.ndarray:
    """The windows of :func:`mono_overview` alone."""
    return mono_overview(samples, 0, starts, length, block=block)[1]
