"""Copy-move in an image larger than the working scale, verified at full resolution.

The residual passes of :mod:`detectors.image.copy_move` look for clones at a working scale of
at most 1024 px. A clone made on a 12-megapixel photo sits there at a fractional offset: the
two ends are resampled at different phases, their block features no longer agree closely
enough for the sorted-projection search, and their noise residuals no longer match pixel for
pixel. Of 8 clones pasted into ML72 photos of 1880-3168 px and saved as PNG, those passes
found 4.

Here the candidates come from the dense nearest-neighbour field of
:func:`detectors.image._copy_move_jpeg.candidate_offsets` (robust to resampling: its features
are low-frequency DCT terms and the match is the nearest neighbour, not an exact one), and each
candidate is verified where the copy is exact, at full resolution:

1. the full-resolution offset is refined within the field's uncertainty (its sampling step
   over the working scale, plus a pixel) by the normalised correlation of the noise residual
   over pixels near the field points that voted for it;
2. around each group of those points, the windowed residual correlation at the refined offset
   must exceed the verification threshold over a minimum area, and must be clearly lower at
   the offsets 2-3 px away (the sharpness test of the residual passes).

Pure numpy/OpenCV; the detector passes its own thresholds.

References
----------
.. [1] D. Cozzolino, G. Poggi, L. Verdoliva, "Efficient dense-field copy-move forgery
   detection", IEEE TIFS 10(11):2284-2297, 2015.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from detectors.image._copy_move_jpeg import FieldPeak, moved_mask

#: Residual samples used to refine one candidate's offset (an even subset of the support).
REFINE_SAMPLES = 12_000


def window_corr(a: np.ndarray, b: np.ndarray, win: int) -> np.ndarray:
    """Normalised correlation of two aligned residual arrays over ``win`` x ``win`` windows
    (0 where either is flat)."""
    k = (win, win)
    va = cv2.blur(a * a, k)
    vb = cv2.blur(b * b, k)
    cab = cv2.blur(a * b, k)
    den = np.sqrt(np.maximum(va * vb, 0))
    return np.where(den > 0.05, cab / np.maximum(den, 1e-6), 0.0)


@dataclass
class LargeClone:
    """One clone verified at full resolution: ``mask_b`` is ``mask_a`` moved by ``offset``."""

    mask_a: np.ndarray
    mask_b: np.ndarray
    offset: tuple[int, int]
    votes: int           # field points that voted for the candidate
    correlation: float   # mean windowed residual correlation over the region
    sharpness: float     # ... minus the best of the same at the ring offsets


def _refine(r: np.ndarray, ys: np.ndarray, xs: np.ndarray, fy: int, fx: int,
            radius: int) -> tuple[int, int]:
    """The offset within ``radius`` of ``(fy, fx)`` whose residual best reproduces the
    residual at the sample points ``(ys, xs)``."""
    h, w = r.shape
    a = r[ys, xs]
    best, best_c = (fy, fx), -np.inf
    for dy in range(fy - radius, fy + radius + 1):
        for dx in range(fx - radius, fx + radius + 1):
            ty, tx = ys + dy, xs + dx
            ok = (ty >= 0) & (ty < h) & (tx >= 0) & (tx < w)
            if ok.sum() < 64:
                continue
            aa, bb = a[ok], r[ty[ok], tx[ok]]
            c = float(aa @ bb) / math.sqrt(float(aa @ aa) * float(bb @ bb) + 1e-9)
            if c > best_c:
                best, best_c = (dy, dx), c
    return best


def verified_region(a: np.ndarray, moved: Callable[[int, int], np.ndarray], *, win: int,
                    thr: float, min_area: int, min_sharpness: float,
                    ring: tuple[tuple[int, int], ...], valid: np.ndarray | None = None
                    ) -> tuple[np.ndarray, float, float] | None:
    """Where the residual ``a`` is reproduced by the residual at a candidate offset, and at
    that offset only: (region, mean correlation, sharpness), or None.

    ``moved(oy, ox)`` is the residual at the candidate offset plus ``(oy, ox)``, aligned with
    ``a``; ``valid`` (optional) where that offset stays inside the picture. A region is the
    union of connected areas of at least ``min_area`` px whose windowed correlation exceeds
    ``thr``; it counts when its mean correlation exceeds, by ``min_sharpness``, the best mean
    correlation over it at the ``ring`` offsets around the candidate. It is then grown back by
    most of the window's radius (the window straddles the clone's border).
    """
    corr = window_corr(a, moved(0, 0), win)
    good = corr > thr
    if valid is not None:
        good &= valid
    good = cv2.morphologyEx(good.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    good = cv2.morphologyEx(good, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, lab, stats, _ = cv2.connectedComponentsWithStats(good)
    keep = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] >= min_area]
    if not keep:
        return None
    region = np.isin(lab, keep)
    cval = float(corr[region].mean())
    sharp = cval - max(float(window_corr(a, moved(oy, ox), win)[region].mean())
                       for oy, ox in ring)
    if sharp < min_sharpness:
        return None
    region = cv2.dilate(region.astype(np.uint8),
                        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (win - 2, win - 2))) > 0
    if valid is not None:
        region &= valid
    return region, cval, sharp


def _verify_group(r: np.ndarray, box: tuple[int, int, int, int], dy: int, dx: int, *,
                  win: int, thr: float, min_area: int, min_sharpness: float,
                  ring: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, float, float] | None:
    """:func:`verified_region` inside ``box`` (y0, y1, x0, x1) of the full-resolution
    residual, at ``+(dy, dx)``; the region as a full-size mask."""
    h, w = r.shape
    reach = 3 + win  # the ring's largest step, and the window
    y0, y1, x0, x1 = box
    # both the box and the box moved by the offset (and by the ring) must lie in the image
    y0, y1 = max(y0, reach, reach - dy), min(y1, h - reach, h - reach - dy)
    x0, x1 = max(x0, reach, reach - dx), min(x1, w - reach, w - reach - dx)
    if y1 - y0 < win or x1 - x0 < win:
        return None
    res = verified_region(
        r[y0:y1, x0:x1], lambda oy, ox: r[y0 + dy + oy:y1 + dy + oy, x0 + dx + ox:x1 + dx + ox],
        win=win, thr=thr, min_area=min_area, min_sharpness=min_sharpness, ring=ring)
    if res is None:
        return None
    full = np.zeros((h, w), bool)
    full[y0:y1, x0:x1] = res[0]
    return full, res[1], res[2]


def full_resolution_clones(residual: np.ndarray, peaks: list[FieldPeak], scale: float, *,
                           verify_corr: float, min_area: int, min_sharpness: float,
                           ring: tuple[tuple[int, int], ...], win: int = 9
                           ) -> list[LargeClone]:
    """Verify the field's candidate offsets on the full-resolution residual.

    Parameters
    ----------
    residual : (H, W) float32
        Noise residual of the full-resolution grey image.
    peaks : list of FieldPeak
        Candidates of :func:`~detectors.image._copy_move_jpeg.candidate_offsets` on the image
        resized by ``scale`` (< 1).
    verify_corr, min_area, min_sharpness, ring, win
        The residual passes' verification threshold, smallest region (full-resolution px),
        sharpness margin and its ring of offsets, and the correlation window.

    Returns
    -------
    list of LargeClone
        One per candidate that verified (its largest region).
    """
    h, w = residual.shape
    out: list[LargeClone] = []
    for peak in peaks:
        fy, fx = round(peak.dy / scale), round(peak.dx / scale)
        radius = int(np.ceil(peak.step / scale)) + 1
        py, px = np.nonzero(peak.support)
        sup = np.zeros((h, w), np.uint8)
        sup[np.minimum((py / scale).astype(int), h - 1),
            np.minimum((px / scale).astype(int), w - 1)] = 1
        # every field point stands for a 16 px block of the working scale
        k = int(np.ceil(8 / scale)) * 2 + 1
        sup = cv2.dilate(sup, np.ones((k, k), np.uint8))
        ys, xs = np.nonzero(sup)
        if len(ys) < 64:
            continue
        pick = np.linspace(0, len(ys) - 1, min(REFINE_SAMPLES, len(ys))).astype(int)
        dy, dx = _refine(residual, ys[pick], xs[pick], fy, fx, radius)
        n, _, stats, _ = cv2.connectedComponentsWithStats(sup)
        best: tuple[float, np.ndarray, float, float] | None = None
        for i in range(1, n):
            x0, y0, bw, bh = (int(v) for v in stats[i, :4])
            res = _verify_group(residual, (y0, y0 + bh, x0, x0 + bw), dy, dx, win=win,
                                thr=verify_corr, min_area=min_area,
                                min_sharpness=min_sharpness, ring=ring)
            if res is not None and (best is None or res[0].sum() > best[0]):
                best = (float(res[0].sum()), *res)
        if best is None:
            continue
        _, mask_a, cval, sharp = best
        out.append(LargeClone(mask_a, moved_mask(mask_a, dy, dx), (dy, dx), peak.votes, cval,
                              sharp))
    return out
