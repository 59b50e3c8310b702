"""Copy-move in a JPEG file: clones that a re-save has left without a matching noise residual.

When a forgery is saved as JPEG (or re-saved by a platform), both ends of a clone are quantized
on the file's 8x8 grid, each at its own grid phase: the copy no longer reproduces its source's
noise, and the residual test of :mod:`detectors.image.copy_move` fails. What survives is the
content. Two steps, in the spirit of Cozzolino, Poggi & Verdoliva (2015, dense field) and of
Novozámský & Šorel (2018, a JPEG compression model to verify a copy):

1. **Dense nearest-neighbour field** at a working scale: every textured pixel (on a 2-3 px
   grid) gets the low-frequency DCT of its 16x16 block (10 terms, which quantization hardly
   moves) and its nearest neighbour at least ``min_offset`` away (a k-d tree). A clone makes
   the field *regular*: neighbours share one offset; elsewhere the offsets scatter. The most
   frequent regular offsets are the candidates.
2. **Verification in the file's own quantization units**. For a candidate offset ``d``, every
   8x8 block of the file's grid is compared with the content at ``x + d`` brought onto the
   same grid: both are transformed by the block DCT and divided by the file's luminance
   steps ``Q``. A true copy differs only by re-quantization, well under one step per
   coefficient (NoSo clones re-saved at quality 75: mean 0.35-0.50 over the first 10 zig-zag
   terms); other content differs by several steps. The match must also be *sharp*: moved by
   one pixel, the difference must exceed a step, or smooth self-similar content (sky, a
   blurred background) would pass. A clone is a 4-connected group of matching blocks (sharp
   or not: a clone's smooth parts match without being sharp, and link its sharp blocks), and
   its evidence is the number of sharp blocks in it. NoSo clones re-saved at q90 scoring above
   0.5: 7 of 18 when only sharp blocks connected a group, 10 with this; the largest group on
   every authentic image of the development corpus, as it is and re-saved at q95/90/75
   (276 files): 4 sharp blocks either way.

Pure numpy/scipy/OpenCV; nothing here knows of the detector around it.

References
----------
.. [1] D. Cozzolino, G. Poggi, L. Verdoliva, "Efficient dense-field copy-move forgery
   detection", IEEE TIFS 10(11):2284-2297, 2015.
.. [2] A. Novozámský, M. Šorel, "Copy-move modification detection using JPEG compression
   model", Forensic Science International 2018 (the NoSo dataset).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import cKDTree

#: Side of the block whose low-frequency DCT is the nearest-neighbour feature.
FIELD_BLOCK = 16
#: Pixels whose 16x16 block varies less than this (grey levels squared) have no usable match.
FIELD_MIN_VAR = 25.0
#: At most this many pixels enter the k-d tree (the grid step grows to keep to it).
FIELD_MAX_POINTS = 90_000
#: Approximate nearest neighbours: a returned neighbour is within (1 + FIELD_EPS) of the true
#: nearest distance. A copy's partner is far nearer than that to its block; the exact search
#: cost 2-4 s on a textured 1024 px image, this 0.4-0.6 s, with the same candidate offsets
#: (ML72 photos with pasted clones: votes within 1 %).
FIELD_EPS = 1.0
#: Smallest quantization step the comparison uses: below it, the rounding of the decoded
#: pixels to integers (about 0.3 grey levels per DCT term) and not the quantization dominates.
STEP_FLOOR = 2.0
#: Zig-zag terms compared in the verification (DC and the 9 lowest AC).
N_TERMS = 10
#: A block matches when its mean |difference| is under this many quantization steps...
MATCH_STEPS = 0.6
#: ... and moved by one pixel (any of the four directions) the difference exceeds this.
SHARP_STEPS = 1.0

#: At most this many blocks rank the offsets around a candidate (the full region is then
#: verified at the best few).
REFINE_MAX_BLOCKS = 600

_ZIGZAG_FIRST = ((0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0))


@dataclass
class JpegClone:
    """One clone verified on the JPEG grid: ``mask_a`` holds blocks whose content recurs at
    ``mask_a`` shifted by ``offset`` (= ``mask_b``)."""

    mask_a: np.ndarray
    mask_b: np.ndarray
    offset: tuple[int, int]   # (dy, dx), full-resolution pixels
    blocks: int               # sharp matching 8x8 blocks in the best connected group
    mean_steps: float         # mean |difference| in quantization steps over those blocks
    sharp_steps: float        # mean of the same one pixel off


def moved_mask(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``mask`` moved by ``(dy, dx)``: ``out[y + dy, x + dx] = mask[y, x]``, cut at the border
    (the other end of a clone)."""
    h, w = mask.shape
    out = np.zeros_like(mask)
    ys0, ys1 = max(0, -dy), min(h, h - dy)
    xs0, xs1 = max(0, -dx), min(w, w - dx)
    if ys1 > ys0 and xs1 > xs0:
        out[ys0 + dy:ys1 + dy, xs0 + dx:xs1 + dx] = mask[ys0:ys1, xs0:xs1]
    return out


def _dct_1d(n: int) -> np.ndarray:
    k = np.arange(n)
    d = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / (2 * n)) * np.sqrt(2 / n)
    d[0] /= np.sqrt(2)
    return d.astype(np.float32)


def _field_features(g: np.ndarray) -> np.ndarray:
    """Low-frequency DCT terms (u + v <= 3) of the 16x16 block around every pixel."""
    d = _dct_1d(FIELD_BLOCK)
    feats = [cv2.sepFilter2D(g, cv2.CV_32F, d[v], d[u],
                             borderType=cv2.BORDER_REFLECT)
             for u in range(4) for v in range(4) if u + v <= 3]
    return np.stack(feats, -1)


@dataclass
class FieldPeak:
    """A candidate offset of the nearest-neighbour field (working-scale pixels)."""

    dy: int                 # >= 0: an offset and its opposite are one clone
    dx: int
    votes: int              # regular field points that agree with it (within ``step``)
    support: np.ndarray     # (H, W) bool, those points
    step: int               # the field's sampling step, so also the offset's uncertainty


def candidate_offsets(g: np.ndarray, *, min_offset: float, max_peaks: int = 12,
                      min_votes: int = 10) -> list[FieldPeak]:
    """Offsets at which the nearest-neighbour field of ``g`` is regular.

    Parameters
    ----------
    g : (H, W) float32
        Grey image at the working scale.
    min_offset : float
        Shorter offsets are near-self matches and never candidates.

    Returns
    -------
    list of FieldPeak
        Most votes first.
    """
    h, w = g.shape
    b = FIELD_BLOCK
    if min(h, w) < 3 * b:
        return []
    feat = _field_features(g)
    var = np.maximum(cv2.blur(g * g, (b, b)) - cv2.blur(g, (b, b)) ** 2, 0)
    half = b // 2
    step = 2
    while ((h - b) // step + 1) * ((w - b) // step + 1) > FIELD_MAX_POINTS * 2:
        step += 1
    gy, gx = np.mgrid[half:h - half:step, half:w - half:step]
    gy, gx = gy.ravel(), gx.ravel()
    tex = var[gy, gx] > FIELD_MIN_VAR
    if tex.sum() > FIELD_MAX_POINTS:  # textured-heavy image: keep an even subset
        keep = np.nonzero(tex)[0]
        tex[:] = False
        tex[keep[np.linspace(0, len(keep) - 1, FIELD_MAX_POINTS).astype(int)]] = True
    ys, xs = gy[tex], gx[tex]
    if len(ys) < 2 * min_votes:
        return []
    f = feat[ys, xs]
    k = min(8, len(ys))
    _, j = cKDTree(f).query(f, k=k, eps=FIELD_EPS, workers=-1)
    oy = ys[j] - ys[:, None]
    ox = xs[j] - xs[:, None]
    far = oy.astype(np.int64) ** 2 + ox.astype(np.int64) ** 2 > min_offset ** 2
    far[:, 0] = False
    has = far.any(1)
    first = np.argmax(far, 1)
    rows = np.arange(len(ys))
    fy = oy[rows, first]
    fx = ox[rows, first]
    # offset field on the sampling grid; a missing match is a value no offset takes
    gh, gw = (h - b) // step + 1, (w - b) // step + 1
    iy, ix = (ys - half) // step, (xs - half) // step
    none = 1 << 20
    field_y = np.full((gh, gw), none, np.int32)
    field_x = np.full((gh, gw), none, np.int32)
    field_y[iy[has], ix[has]] = fy[has]
    field_x[iy[has], ix[has]] = fx[has]
    valid = field_y != none
    # regular: at least 60 % of the 5x5 neighbourhood points the same way (within 1 px)
    agree = np.zeros((gh, gw), np.float32)
    pad_y = np.pad(field_y, 2, constant_values=none)
    pad_x = np.pad(field_x, 2, constant_values=none)
    for a in range(5):
        for c in range(5):
            sy = pad_y[a:a + gh, c:c + gw]
            sx = pad_x[a:a + gh, c:c + gw]
            agree += (np.abs(sy - field_y) <= step) & (np.abs(sx - field_x) <= step)
    regular = valid & (agree >= 15)
    ry, rx = field_y[regular], field_x[regular]
    flip = (ry < 0) | ((ry == 0) & (rx < 0))
    ry = np.where(flip, -ry, ry)
    rx = np.where(flip, -rx, rx)
    if len(ry) == 0:
        return []
    # votes per offset, pooled over +-step (the field is sampled every ``step`` px)
    span_x = 2 * w + 1
    codes = ry.astype(np.int64) * span_x + (rx + w)
    uniq, counts = np.unique(codes, return_counts=True)
    order = np.argsort(-counts)
    peaks: list[FieldPeak] = []
    taken: list[tuple[int, int]] = []
    reg_idx = np.argwhere(regular)
    for o in order:
        py, px = divmod(int(uniq[o]), span_x)
        px -= w
        if any(abs(py - a) <= step + 1 and abs(px - c) <= step + 1 for a, c in taken):
            continue
        if counts[o] * 9 < min_votes:  # pooled over 3x3 offsets it cannot reach min_votes
            break
        near = (np.abs(ry - py) <= step) & (np.abs(rx - px) <= step)
        votes = int(near.sum())
        if votes < min_votes:
            continue
        taken.append((py, px))
        support = np.zeros((h, w), bool)
        pts = reg_idx[near]
        support[pts[:, 0] * step + half, pts[:, 1] * step + half] = True
        peaks.append(FieldPeak(py, px, votes, support, step))
        if len(peaks) >= max_peaks:
            break
    return peaks


def _term_basis(q: np.ndarray) -> np.ndarray:
    """(64, N_TERMS) matrix: an 8x8 block (row-major) times it gives the first zig-zag DCT
    terms divided by their quantization steps."""
    d = _dct_1d(8)
    return np.stack([np.outer(d[u], d[v]).ravel() / max(float(q[u, v]), STEP_FLOOR)
                     for u, v in _ZIGZAG_FIRST[:N_TERMS]], 1).astype(np.float32)


def _terms(y: np.ndarray, by: np.ndarray, bx: np.ndarray, dy: int, dx: int,
           basis: np.ndarray) -> np.ndarray:
    """Quantized-unit DCT terms of the 8x8 blocks at rows ``by*8 + dy``, columns ``bx*8 + dx``
    of ``y`` (the caller keeps them inside)."""
    r = (by * 8 + dy)[:, None, None] + np.arange(8)[None, :, None]
    c = (bx * 8 + dx)[:, None, None] + np.arange(8)[None, None, :]
    return y[r, c].reshape(len(by), 64) @ basis


def verify_offset(y: np.ndarray, q: np.ndarray, dy: int, dx: int, region: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Blocks of the file's grid inside ``region`` whose content recurs at ``+(dy, dx)``.

    Parameters
    ----------
    y : (H, W) float32
        Luma of the decoded JPEG, full resolution, grid at the origin.
    q : (8, 8)
        The file's luminance quantization steps (natural order).
    region : (H // 8, W // 8) bool
        Blocks to test.

    Returns
    -------
    good : (H // 8, W // 8) bool
        Blocks that match within :data:`MATCH_STEPS` and are sharp (:data:`SHARP_STEPS`).
    matching : (H // 8, W // 8) bool
        Blocks that match, sharp or not.
    mean_steps, sharp_steps : float
        Medians over the good blocks (nan when none).
    """
    h, w = y.shape
    hb, wb = h // 8, w // 8
    by, bx = np.nonzero(region)
    # the moved block and its four one-pixel neighbours must lie inside the image
    inside = ((by * 8 + dy - 1 >= 0) & (by * 8 + dy + 9 <= h)
              & (bx * 8 + dx - 1 >= 0) & (bx * 8 + dx + 9 <= w))
    by, bx = by[inside], bx[inside]
    good = np.zeros((hb, wb), bool)
    if len(by) == 0:
        return good, good.copy(), float("nan"), float("nan")
    basis = _term_basis(q)
    own = _terms(y, by, bx, 0, 0, basis)
    diff = np.abs(own - _terms(y, by, bx, dy, dx, basis)).mean(1)
    off = np.min([np.abs(own - _terms(y, by, bx, dy + a, dx + c, basis)).mean(1)
                  for a, c in ((0, 1), (0, -1), (1, 0), (-1, 0))], 0)
    match = diff < MATCH_STEPS
    ok = match & (off > SHARP_STEPS)
    good[by[ok], bx[ok]] = True
    matching = np.zeros((hb, wb), bool)
    matching[by[match], bx[match]] = True
    if not ok.any():
        return good, matching, float("nan"), float("nan")
    return good, matching, float(np.median(diff[ok])), float(np.median(off[ok]))


def _closest_offsets(y: np.ndarray, q: np.ndarray, fy: int, fx: int, radius: int,
                     region: np.ndarray, keep: int = 3) -> list[tuple[int, int]]:
    """The ``keep`` offsets near ``+-(fy, fx)`` (within ``radius``) at which most blocks of
    ``region`` match (the field was measured at a coarser scale and every other pixel)."""
    h, w = y.shape
    by, bx = np.nonzero(region)
    if len(by) > REFINE_MAX_BLOCKS:  # an even subset ranks the offsets as well, faster
        pick = np.linspace(0, len(by) - 1, REFINE_MAX_BLOCKS).astype(int)
        by, bx = by[pick], bx[pick]
    basis = _term_basis(q)
    own = _terms(y, by, bx, 0, 0, basis) if len(by) else None
    scored = []
    for sign in (1, -1):
        for ey in range(-radius, radius + 1):
            for ex in range(-radius, radius + 1):
                dy, dx = sign * (fy + ey), sign * (fx + ex)
                inside = ((by * 8 + dy >= 0) & (by * 8 + dy + 8 <= h)
                          & (bx * 8 + dx >= 0) & (bx * 8 + dx + 8 <= w))
                if not inside.any():
                    continue
                moved = _terms(y, by[inside], bx[inside], dy, dx, basis)
                n = int((np.abs(own[inside] - moved).mean(1) < MATCH_STEPS).sum())
                scored.append((n, dy, dx))
    scored.sort(reverse=True)
    return [(dy, dx) for n, dy, dx in scored[:keep] if n > 0]


def jpeg_clones(y: np.ndarray, q: np.ndarray, *, max_side: int, min_offset: float,
                min_blocks: int) -> list[JpegClone]:
    """Clones of a decoded JPEG verified on its grid (see the module docstring).

    Parameters
    ----------
    y : (H, W) array
        Luma of the decoded file, full resolution.
    q : (8, 8) array
        Its luminance quantization table, natural order.
    max_side : int
        Working scale of the nearest-neighbour field.
    min_offset : float
        Shortest clone offset, full-resolution pixels.
    min_blocks : int
        Smallest connected group of matching blocks that is reported.
    """
    y = np.asarray(y, np.float32)
    h, w = y.shape
    hb, wb = h // 8, w // 8
    if hb < 4 or wb < 4:
        return []
    s = min(1.0, max_side / max(h, w))
    work = y if s >= 1.0 else cv2.resize(y, (max(1, round(w * s)), max(1, round(h * s))),
                                         interpolation=cv2.INTER_AREA)
    peaks = candidate_offsets(work, min_offset=max(min_offset * s, 16.0))
    out: list[JpegClone] = []
    for peak in peaks:
        # refinement window at full resolution: the field's step and scale, and 1 px
        radius = int(np.ceil(peak.step / s)) + 1
        # blocks near the field points that voted, at both ends of the clone
        sup = cv2.resize(peak.support.astype(np.uint8), (w, h),
                         interpolation=cv2.INTER_NEAREST)
        sup = cv2.dilate(sup, np.ones((3, 3), np.uint8), iterations=1)
        blocks = sup[:hb * 8, :wb * 8].reshape(hb, 8, wb, 8).max(axis=(1, 3)) > 0
        blocks = cv2.dilate(blocks.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
        fy, fx = round(peak.dy / s), round(peak.dx / s)
        best: tuple[int, JpegClone] | None = None
        for dy, dx in _closest_offsets(y, q, fy, fx, radius, blocks):
            good, matching, m, sh = verify_offset(y, q, dy, dx, blocks)
            if not good.any():
                continue
            # a clone's smooth parts match without being sharp: they link its sharp blocks
            # into one group, but only the sharp blocks count as evidence
            n, lab = cv2.connectedComponents(matching.astype(np.uint8), connectivity=4)
            sharp_per = np.bincount(lab[good], minlength=n)  # sharp blocks all match: label > 0
            i = int(np.argmax(sharp_per))
            size = int(sharp_per[i])
            # the map: the group's matching blocks within two blocks of a sharp one (a smooth
            # area next to a clone matches at its offset too, without being part of it)
            near = cv2.dilate(good.astype(np.uint8), np.ones((5, 5), np.uint8)) > 0
            comp = (lab == i) & near
            if size < min_blocks or (best is not None and size <= best[0]):
                continue
            mask_a = np.zeros((h, w), bool)
            mask_a[:hb * 8, :wb * 8] = np.repeat(np.repeat(comp, 8, 0), 8, 1)
            best = (size, JpegClone(mask_a, moved_mask(mask_a, dy, dx), (dy, dx), size, m, sh))
        if best is not None:
            out.append(best[1])
    return out
