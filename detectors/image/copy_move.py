"""Copy-move (cloned region) detection: SIFT keypoint matching plus a dense block pass.

Two complementary passes over the same image, and a third for JPEG files:

1. **Keypoint pass** (Amerini et al., 2011): SIFT keypoints matched against the same image with
   the generalised 2NN test (g2NN), near-self matches (< 10 px) removed, the matched points
   grouped by agglomerative (Ward) clustering, and each pair of clusters verified by a RANSAC
   affine fit. A verified transform is turned into a dense region by correlating the noise
   residual of the image with that of its own warped copy.
2. **Dense pass** (after Cozzolino, Poggi & Verdoliva, 2015, adapted): every pixel gets a block
   feature (low-frequency DCT of the 8x8 block plus mid-frequency DCT terms of its noise
   residual, so that blocks of flat content stay distinguishable); near-identical blocks are
   paired by sorting random 1-D projections of the features (the lexicographic-sort search of
   Fridrich et al., 2003, randomised), the pairs vote for their offset, and the peaks of the
   offset histogram (a rigid copy makes thousands of pairs share one offset) are verified
   pixel-wise by the windowed correlation of the noise residual with itself at that offset.
   This pass finds translated clones of low-texture content, where SIFT finds no keypoints.
3. **JPEG pass** (:mod:`detectors.image._copy_move_jpeg`), for a JPEG file only: after the
   forgery was saved as JPEG, the two ends of a clone sit at different phases of the 8x8
   grid, their noise residuals no longer agree and passes 1 and 2 verify nothing. Candidate
   offsets come from the regularity of a dense nearest-neighbour field of low-frequency block
   features; a clone is verified block by block in the file's own quantization steps.

All passes mark source *and* target; the heatmap is their union.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

from detectors.image import _common as C
from detectors.image import _copy_move_jpeg as jpeg_pass
from detectors.image import _copy_move_large as large_pass
from detectors.image.jpeg_traces import luma_table
from detectors.registry import detector
from triage_app.model import Box, DetectorResult, Finding, Mask, Measurement

NAME = "copy_move"
VERSION = "1.5.0"  # 1.5: computer-drawn pictures are not judged

#: Logistic mapping of the evidence ``e`` to a probability: ``p = 1 / (1 + exp(-(e - E0) /
#: ES))``. ``e`` is log2 of the area (full-resolution pixels) of one end of the strongest
#: verified clone, i.e. of the region whose noise residual is reproduced elsewhere in the
#: image. Set on the NoSo development set: after verification its 13 originals give no clone
#: at all (e = 0) and its 18 forgeries e = 7.9..16.7 (the smallest, 12_mod, ~190 px), so the
#: midpoint is put at 7 (128 px, an 11 x 11 patch) with a scale of 0.5 (one octave of area
#: moves p from 0.12 to 0.88).
E0 = 7.0
ES = 0.5

#: A pixel belongs to a clone when the noise residuals of its 9x9 window and of the window at
#: the clone offset correlate above this (exact copies give 0.9-1.0; independent noise of
#: similar-looking content gives < 0.5, periodic JPEG-grid residue up to ~0.65 on NoSo).
VERIFY_CORR = 0.75
#: The same for keypoint-pass clones, lower because a rotated or scaled copy was resampled.
SIFT_VERIFY_CORR = 0.75
#: ... and the mean correlation over the region (NoSo: true clones 0.86-0.94, a synthetic
#: 25-degree rotated copy 0.88; the repeated real products of NoSo 02.png 0.81-0.88).
SIFT_MIN_MEAN_CORR = 0.85
#: ... and that correlation must fall by this much when the transform is moved by 1 px
#: (NoSo true clones 0.58-0.85, rotated synthetic 0.71; NoSo 02.png products 0.18-0.60).
SIFT_MIN_SHARPNESS = 0.6
#: A dense-pass clone's mean residual correlation must exceed, by this much, the best mean
#: correlation over the same region at the offsets 2 and 3 px away along either axis
#: (:data:`SHARPNESS_RING`). A copy reproduces the noise at one offset only; structure that is
#: invariant along a direction (the contour bands of a smooth sky gradient in a JPEG)
#: matches at the neighbouring offsets as well. NoSo forgeries: 0.59-0.90; the ML72
#: landscapes that passed without it (nature_7, and nature_7 / nature_8 re-saved at q90,
#: scored 0.66-0.98): -0.01 to 0.06. The ring starts at 2 px so that a clone at a
#: fractional offset of the working scale, split between two integer offsets, still passes.
DENSE_MIN_SHARPNESS = 0.3
SHARPNESS_RING = ((2, 0), (-2, 0), (0, 2), (0, -2), (3, 0), (-3, 0), (0, 3), (0, -3))
#: How exact the copy is decides how much a verified pair counts: a pair's strength is the
#: area logistic (E0, ES) times a logistic of its mean residual correlation around CORR0
#: (scale CORR_S). An exact copy reproduces the sensor noise (NoSo forgeries: 0.953-0.997 on
#: the dense pass); self-similar smooth content of JPEG photos (ML72 real and generated images,
#: q75) reaches 0.77-0.91 without any copy. Keypoint-pass copies were resampled (rotated or
#: scaled), so their correlation is lower (NoSo 0.86-0.94): CORR0_SIFT.
CORR0 = 0.925
CORR0_SIFT = 0.85
CORR_S = 0.012
#: The JPEG pass's evidence is log2 of the area of the sharp matching 8x8 blocks in its best
#: connected group of matching blocks; its midpoint is 8 blocks (512 px, e = 9). Every
#: authentic image of the development corpus, as it is and re-saved at q95, q90 and q75 (276
#: JPEG files), gave at most 4 (food_10.jpg, grass.png at q75); NoSo clones re-saved at q90
#: gave 5-338. Groups under JPEG_MIN_BLOCKS are not reported.
E0_JPEG = 9.0
JPEG_MIN_BLOCKS = 6

#: The full-resolution pass runs up to this many pixels (a 60-megapixel camera); beyond, its
#: full-size residual and masks would take gigabytes, and the working-scale passes alone judge.
FULL_RES_MAX_PIXELS = 60_000_000

PARAMS = {
    "sift_max_side": 640,
    "dense_max_side": 1024,
    "block": 8,
    "min_offset_px": 10,
    "g2nn_ratio": 0.5,
    "min_inliers": 5,
    "dense_min_area": 64,
    "verify_corr": VERIFY_CORR,
    "sift_verify_corr": SIFT_VERIFY_CORR,
    "sift_min_mean_corr": SIFT_MIN_MEAN_CORR,
    "corr0": CORR0, "corr0_sift": CORR0_SIFT, "corr_scale": CORR_S,
    "sift_min_sharpness": SIFT_MIN_SHARPNESS,
    "dense_min_sharpness": DENSE_MIN_SHARPNESS,
    "evidence_midpoint": E0,
    "evidence_scale": ES,
    "jpeg_evidence_midpoint": E0_JPEG,
    "jpeg_min_blocks": JPEG_MIN_BLOCKS,
    "jpeg_match_steps": jpeg_pass.MATCH_STEPS,
    "jpeg_sharp_steps": jpeg_pass.SHARP_STEPS,
    "jpeg_step_floor": jpeg_pass.STEP_FLOOR,
    "field_eps": jpeg_pass.FIELD_EPS,
    "full_resolution_max_pixels": FULL_RES_MAX_PIXELS,
}


@dataclass
class ClonePair:
    """One verified copy-move: region ``a`` and region ``b`` (boolean masks, full size)."""

    mask_a: np.ndarray
    mask_b: np.ndarray
    pairs: int            # matched keypoints (keypoint pass) or matching blocks (dense pass)
    correlation: float    # mean normalised correlation between the two regions; for the
    #                       JPEG pass the median difference in quantization steps
    evidence: float       # log2 area-like evidence, see E0
    method: str


# --------------------------------------------------------------------------- helpers


def _gray(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim == 2:
        return rgb.astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)


def _resize_to(gray: np.ndarray, max_side: int) -> tuple[np.ndarray, float]:
    h, w = gray.shape
    s = min(1.0, max_side / max(h, w))
    if s >= 1.0:
        return gray, 1.0
    out = cv2.resize(gray, (max(1, round(w * s)), max(1, round(h * s))),
                     interpolation=cv2.INTER_AREA)
    return out, s


def _bbox(mask: np.ndarray) -> Box:
    ys, xs = np.nonzero(mask)
    if len(xs) == 0:
        return Box(0, 0, 0, 0)
    return Box(int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1),
               int(ys.max() - ys.min() + 1))


def _local_corr(a: np.ndarray, b: np.ndarray, win: int = 7) -> np.ndarray:
    """Normalised cross-correlation of ``a`` and ``b`` in a ``win`` x ``win`` window."""
    a = a.astype(np.float32)
    b = b.astype(np.float32)
    k = (win, win)
    ma = cv2.blur(a, k)
    mb = cv2.blur(b, k)
    va = cv2.blur(a * a, k) - ma * ma
    vb = cv2.blur(b * b, k) - mb * mb
    cab = cv2.blur(a * b, k) - ma * mb
    den = np.sqrt(np.maximum(va, 0) * np.maximum(vb, 0))
    corr = np.where(den > 1.0, cab / np.maximum(den, 1e-6), 0.0)
    # flat windows: equal means and both flat count as a match (a cloned flat area)
    flat = (va < 1.0) & (vb < 1.0)
    corr = np.where(flat & (np.abs(ma - mb) < 1.5), 1.0, corr)
    return corr.astype(np.float32)


# --------------------------------------------------------------------------- keypoint pass


def _keypoint_pass(gray: np.ndarray, *, max_side: int, min_offset: float, ratio: float,
                   min_inliers: int, known: np.ndarray | None = None) -> list[ClonePair]:
    """Amerini et al.'s pipeline; cluster pairs whose matches already lie (mostly) inside
    ``known`` (a boolean full-size mask of clones found by the dense pass) are skipped."""
    work, s = _resize_to(gray, max_side)
    sift = cv2.SIFT_create(nfeatures=2000, contrastThreshold=0.02)
    kps, des = sift.detectAndCompute(work, None)
    if des is None or len(kps) < 8:
        return []
    pts = np.array([k.pt for k in kps], np.float32)
    k = min(10, len(kps))
    matches = cv2.BFMatcher(cv2.NORM_L2).knnMatch(des, des, k=k)
    src, dst = [], []
    for i, ms in enumerate(matches):
        # ms[0] is the keypoint itself (distance 0); g2NN over the rest
        ds = [m.distance for m in ms]
        for j in range(1, len(ms) - 1):
            if ds[j] > ratio * ds[j + 1] + 1e-6:
                break
            q = ms[j].trainIdx
            if q == i or np.hypot(*(pts[i] - pts[q])) <= min_offset * s:
                continue
            if i < q:
                src.append(i)
                dst.append(q)
    if len(src) < min_inliers:
        return []
    src = np.array(src)
    dst = np.array(dst)
    # agglomerative clustering of all matched points (Amerini et al.: ward linkage)
    idx = np.unique(np.concatenate([src, dst]))
    lab_of = {}
    if len(idx) >= 2:
        z = linkage(pts[idx].astype(np.float64), method="ward")
        labels = fcluster(z, t=max(work.shape) * 0.15, criterion="distance")
        lab_of = dict(zip(idx.tolist(), labels.tolist()))
    la = np.array([lab_of.get(i, 0) for i in src])
    lb = np.array([lab_of.get(i, 0) for i in dst])
    out: list[ClonePair] = []
    seen = set()
    pair_count: dict[tuple[int, int], int] = {}
    for ca, cb in zip(la.tolist(), lb.tolist()):
        key = (min(ca, cb), max(ca, cb))
        pair_count[key] = pair_count.get(key, 0) + 1
    # verify the most-matched cluster pairs first, at most 6 of them
    top = sorted(pair_count, key=lambda kk: -pair_count[kk])[:6]
    for ca, cb in top:
        key = (min(ca, cb), max(ca, cb))
        if key in seen:
            continue
        seen.add(key)
        sel = ((la == ca) & (lb == cb)) | ((la == cb) & (lb == ca))
        if sel.sum() < min_inliers:
            continue
        # orient every match from cluster key[0] to key[1]
        p = np.where((la[sel] == key[0])[:, None], pts[src[sel]], pts[dst[sel]])
        q = np.where((la[sel] == key[0])[:, None], pts[dst[sel]], pts[src[sel]])
        a_mat, inl = cv2.estimateAffine2D(p, q, method=cv2.RANSAC, ransacReprojThreshold=3.0,
                                          maxIters=2000, confidence=0.99)
        if a_mat is None or inl is None or int(inl.sum()) < min_inliers:
            continue
        n_in = int(inl.sum())
        if known is not None:
            pi = np.round(p[inl.ravel() > 0] / s).astype(int)
            qi = np.round(q[inl.ravel() > 0] / s).astype(int)
            hk, wk = known.shape
            inside = [known[np.clip(v[:, 1], 0, hk - 1), np.clip(v[:, 0], 0, wk - 1)].mean()
                      for v in (pi, qi)]
            if min(inside) > 0.5:
                continue
        lin = a_mat[:, :2]
        det = float(np.linalg.det(lin))
        if not (0.25 < abs(det) < 4.0):
            continue
        # a transform that is (close to) the identity is no clone
        if np.abs(lin - np.eye(2)).max() < 0.02 and np.hypot(*a_mat[:, 2]) <= min_offset * s:
            continue
        pair = _dense_from_affine(gray, a_mat, s, p[inl.ravel() > 0], q[inl.ravel() > 0],
                                  n_in)
        if pair is not None:
            out.append(pair)
    return out


def _dense_from_affine(gray: np.ndarray, a_mat: np.ndarray, s: float, p: np.ndarray,
                       q: np.ndarray, n_in: int) -> ClonePair | None:
    """Region where the image's noise residual equals that of its own affine-warped copy.

    The image is warped (both directions are tried, since a resampled copy is matched best by
    resampling its source the same way) and the median residuals of image and warped image are
    correlated in 9x9 windows; the region is seeded at the RANSAC inliers. Repeated real
    objects (two identical products on a shelf) fit an affine map too, but their noise is
    independent, so they fail this check.
    """
    ws, s2 = _resize_to(gray, PARAMS["dense_max_side"])
    h, w = ws.shape
    m_fwd = a_mat.astype(np.float64).copy()
    m_fwd[:, 2] = m_fwd[:, 2] / s * s2
    m_inv = cv2.invertAffineTransform(m_fwd)
    best = None
    for m2, seeds_xy in ((m_fwd, p), (m_inv, q)):
        res = _affine_region(ws, m2, np.round(seeds_xy / s * s2).astype(int))
        if res is not None and (best is None or res[1] > best[1]):
            best = (res[0], res[1], m2)
    if best is None:
        return None
    region_a, cval, m2 = best
    area = float(region_a.sum()) / (s2 * s2)
    region_b = cv2.warpAffine(region_a.astype(np.uint8), m2, (w, h),
                              flags=cv2.INTER_NEAREST) > 0
    mask_a = cv2.resize(region_a.astype(np.uint8), gray.shape[::-1],
                        interpolation=cv2.INTER_NEAREST) > 0
    mask_b = cv2.resize(region_b.astype(np.uint8), gray.shape[::-1],
                        interpolation=cv2.INTER_NEAREST) > 0
    return ClonePair(mask_a, mask_b, n_in, cval, float(np.log2(max(area, 1.0))), "sift_affine")


def _median_residual(g: np.ndarray) -> np.ndarray:
    """Image minus its 3x3 median: mostly sensor noise (the median keeps edges)."""
    g8 = np.clip(g, 0, 255).astype(np.uint8) if g.dtype != np.uint8 else g
    return g.astype(np.float32) - cv2.medianBlur(g8, 3).astype(np.float32)


def _affine_region(ws: np.ndarray, m2: np.ndarray, seeds: np.ndarray
                   ) -> tuple[np.ndarray, float] | None:
    h, w = ws.shape
    # warped(x) = I(T x): compares every point with its image under T
    warped = cv2.warpAffine(ws, m2, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REFLECT)
    r = _median_residual(ws)
    rw = _median_residual(warped)
    k = (9, 9)
    va = cv2.blur(r * r, k)
    vb = cv2.blur(rw * rw, k)
    cab = cv2.blur(r * rw, k)
    den = np.sqrt(np.maximum(va * vb, 0))
    corr = np.where(den > 0.05, cab / np.maximum(den, 1e-6), 0.0)
    xs = np.arange(w, dtype=np.float32)[None, :]
    ys = np.arange(h, dtype=np.float32)[:, None]
    tx = m2[0, 0] * xs + m2[0, 1] * ys + m2[0, 2]
    ty = m2[1, 0] * xs + m2[1, 1] * ys + m2[1, 2]
    inside = (tx >= 0) & (tx < w) & (ty >= 0) & (ty < h)
    # points mapped (nearly) onto themselves are not evidence
    good = (corr > SIFT_VERIFY_CORR) & ((tx - xs) ** 2 + (ty - ys) ** 2 > 64) & inside
    good = cv2.morphologyEx(good.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    good = cv2.morphologyEx(good, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, lab = cv2.connectedComponents(good)
    if n <= 1:
        return None
    seeds = seeds.copy()
    seeds[:, 0] = np.clip(seeds[:, 0], 0, w - 1)
    seeds[:, 1] = np.clip(seeds[:, 1], 0, h - 1)
    dl = cv2.dilate(lab.astype(np.float32), np.ones((7, 7), np.uint8)).astype(np.int32)
    keep = np.unique(dl[seeds[:, 1], seeds[:, 0]])
    keep = keep[keep > 0]
    if len(keep) == 0:
        return None
    region = np.isin(lab, keep)
    if region.sum() < max(20, PARAMS["dense_min_area"] * (max(h, w) / 1024.0) ** 2):
        return None
    cval = float(corr[region].mean())
    if cval < SIFT_MIN_MEAN_CORR:
        return None
    # copied noise correlates only at the exact transform: 1 px off, it must drop sharply
    # (repeated real objects share fine structure that still correlates 1 px off)
    off = []
    for ddx, ddy in ((1.0, 0.0), (0.0, 1.0)):
        m3 = m2.copy()
        m3[0, 2] += ddx
        m3[1, 2] += ddy
        w3 = cv2.warpAffine(ws, m3, (w, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                            borderMode=cv2.BORDER_REFLECT)
        r3 = _median_residual(w3)
        v3 = cv2.blur(r3 * r3, k)
        c3 = cv2.blur(r * r3, k) / np.maximum(np.sqrt(np.maximum(va * v3, 0)), 1e-6)
        off.append(float(c3[region].mean()))
    sharp = cval - max(off)
    if sharp < SIFT_MIN_SHARPNESS:
        return None
    region = cv2.dilate(region.astype(np.uint8),
                        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (7, 7))) > 0
    return region & inside, cval


# --------------------------------------------------------------------------- dense pass


def _dct_features(g: np.ndarray, block: int) -> np.ndarray:
    """Block features at every pixel: low-frequency 2-D DCT coefficients of the image block
    (u + v <= 2) and four mid-frequency DCT coefficients of its noise residual.

    The residual terms make blocks of flat content distinguishable (their low-frequency
    content is all alike, their noise is not), so that low-texture clones are still found.
    """
    x = (np.arange(block) + 0.5) / block
    basis = [(np.cos(np.pi * u * x) / block).astype(np.float32) for u in range(block)]
    feats = []
    for u in range(3):
        for v in range(3):
            if u + v > 2:
                continue
            feats.append(cv2.sepFilter2D(g, cv2.CV_32F, basis[v], basis[u],
                                         borderType=cv2.BORDER_REFLECT))
    r = _residual(g)
    for u, v in ((2, 3), (3, 2), (3, 3), (4, 4)):
        feats.append(4.0 * cv2.sepFilter2D(r, cv2.CV_32F, basis[v], basis[u],
                                           borderType=cv2.BORDER_REFLECT))
    return np.stack(feats, -1)


def _residual(g: np.ndarray) -> np.ndarray:
    """High-pass noise residual: the image minus its 3x3 Gaussian blur."""
    g = g.astype(np.float32)
    return g - cv2.GaussianBlur(g, (3, 3), 0.8)


#: Random projections and neighbour steps in sorted order of the candidate search.
N_PROJ = 2
STEPS = (1, 2, 3)


def _candidate_offsets(g: np.ndarray, *, block: int, min_off: float, max_peaks: int,
                       min_votes: int, seed: int) -> list[tuple[int, int, int]]:
    """Offsets ``(dy, dx, votes)`` shared by many pairs of near-identical blocks.

    Every block is paired with its neighbours in the order of random 1-D projections of its DCT
    feature (the lexicographic-sort search of Fridrich et al. 2003, randomised); pairs whose
    features agree vote for their offset, and the strongest peaks of the offset histogram are
    the candidate copy-move shifts (a rigid copy makes thousands of pairs share one offset).
    """
    h, w = g.shape
    feat = _dct_features(g, block)
    n = h * w
    flat = feat.reshape(n, -1)
    d = flat.shape[1]
    var = np.maximum(cv2.blur(g * g, (block, block)) - cv2.blur(g, (block, block)) ** 2, 0)
    textured = (var.reshape(n) > 1.0)
    idx = np.nonzero(textured)[0]
    if len(idx) < min_votes:
        return []
    # np.take rather than fancy indexing: the same rows, gathered several times faster
    fs = np.take(flat, idx, axis=0)
    yy, xx = np.divmod(idx, w)
    # one integer code per position such that code(b) - code(a) identifies the offset b - a
    stride = 2 * w + 1
    pos = (yy * stride + xx).astype(np.int64)
    rng = np.random.default_rng(seed)
    codes: list[np.ndarray] = []
    # tolerance: features of an exact copy agree to rounding; allow interpolation/noise
    tol = 0.02 * (np.sqrt((fs[:, 1:] ** 2).sum(1)) + 1.0) + 0.3
    for _ in range(N_PROJ):
        proj = fs @ rng.standard_normal(d).astype(np.float32)
        lo, hi = float(proj.min()), float(proj.max())
        # 16-bit keys: numpy sorts them with a linear-time radix sort
        key = ((proj - lo) * (65535.0 / max(hi - lo, 1e-6))).astype(np.uint16)
        order = np.argsort(key, kind="stable")
        fo = np.take(fs, order, axis=0)
        po = np.take(pos, order)
        to = np.take(tol, order)
        for step in STEPS:
            diff = fo[step:] - fo[:-step]
            dist2 = np.einsum("ij,ij->i", diff, diff)
            ok = dist2 < np.minimum(to[step:], to[:-step]) ** 2
            code = np.abs(po[step:][ok] - po[:-step][ok])  # offset with dy >= 0
            codes.append(code + w)
    size = (h + 1) * stride
    counts = np.bincount(np.concatenate(codes), minlength=size)[:size]  # one pass, not six
    hist = np.zeros((2 * h + 1, stride), np.float32)
    hist[h:] = counts.reshape(h + 1, stride)
    # offsets shorter than min_off are near-self matches
    r = int(np.ceil(min_off))
    oy = np.arange(-r, r + 1)[:, None]
    ox = np.arange(-r, r + 1)[None, :]
    y0, x0 = h - r, w - r
    sub = hist[max(0, y0):h + r + 1, max(0, x0):w + r + 1]
    near = (oy * oy + ox * ox <= min_off ** 2)[max(0, -y0):, max(0, -x0):]
    sub[near[:sub.shape[0], :sub.shape[1]]] = 0
    hs = cv2.boxFilter(hist, -1, (3, 3), normalize=False)
    peaks: list[tuple[int, int, int]] = []
    for _ in range(max_peaks):
        k = int(np.argmax(hs))
        py, px = divmod(k, hs.shape[1])
        votes = int(hs[py, px])
        if votes < min_votes:
            break
        # the exact shift is the raw-histogram maximum inside the smoothed peak
        win = hist[max(0, py - 1):py + 2, max(0, px - 1):px + 2]
        wy, wx = divmod(int(np.argmax(win)), win.shape[1])
        peaks.append((max(0, py - 1) + wy - h, max(0, px - 1) + wx - w, votes))
        hs[max(0, py - 3):py + 4, max(0, px - 3):px + 4] = 0
    return peaks


def _shift(a: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``out[y, x] = a[y + dy, x + dx]`` (zero outside)."""
    h, w = a.shape
    out = np.zeros_like(a)
    ys0, ys1 = max(0, -dy), min(h, h - dy)
    xs0, xs1 = max(0, -dx), min(w, w - dx)
    if ys1 > ys0 and xs1 > xs0:
        out[ys0:ys1, xs0:xs1] = a[ys0 + dy:ys1 + dy, xs0 + dx:xs1 + dx]
    return out


def _verify_shift(r: np.ndarray, dy: int, dx: int, *, win: int, thr: float,
                  min_area: int) -> tuple[np.ndarray, float] | None:
    """Region A where the noise residual at ``x`` equals that at ``x + (dy, dx)``, at that
    offset and not at the offsets next to it (:data:`DENSE_MIN_SHARPNESS`)."""
    res = large_pass.verified_region(
        r, lambda oy, ox: _shift(r, dy + oy, dx + ox), win=win, thr=thr, min_area=min_area,
        min_sharpness=DENSE_MIN_SHARPNESS, ring=SHARPNESS_RING,
        valid=_shift(np.ones_like(r), dy, dx) > 0)
    return None if res is None else (res[0], res[1])


def _dense_pass(gray: np.ndarray, *, max_side: int, block: int, min_offset: float,
                min_area: int, seed: int = 0) -> list[ClonePair]:
    work, s = _resize_to(gray, max_side)
    g = work.astype(np.float32)
    h, w = g.shape
    if min(h, w) < 4 * block:
        return []
    min_off = max(min_offset * s, 2.0 * block)
    area_w = max(20, int(min_area * s * s))
    peaks = _candidate_offsets(g, block=block, min_off=min_off, max_peaks=8,
                               min_votes=max(12, area_w // 4), seed=seed)
    r = _residual(g)
    out: list[ClonePair] = []
    for pdy, pdx, votes in peaks:
        dy, dx = pdy, pdx
        res = _verify_shift(r, dy, dx, win=9, thr=VERIFY_CORR, min_area=area_w)
        if res is None:
            continue
        ra, cval = res
        rb = _shift(ra.astype(np.uint8), -dy, -dx) > 0
        area = float(ra.sum()) / (s * s)
        if s < 1.0:
            ra = cv2.resize(ra.astype(np.uint8), gray.shape[::-1],
                            interpolation=cv2.INTER_NEAREST) > 0
            rb = cv2.resize(rb.astype(np.uint8), gray.shape[::-1],
                            interpolation=cv2.INTER_NEAREST) > 0
        out.append(ClonePair(ra, rb, votes, cval, float(np.log2(max(area, 1.0))), "dense_block"))
    return out


# --------------------------------------------------------------------------- detector


def _merge(pairs: list[ClonePair]) -> list[ClonePair]:
    """Drop pairs that repeat an earlier, stronger pair (same two regions).

    Stronger is by :func:`_pair_strength`, not by area: a JPEG-pass pair may be smaller than a
    weakly verified residual pair over the same clone, and is the better evidence."""
    kept: list[ClonePair] = []
    for p in sorted(pairs, key=lambda q: (-_pair_strength(q), -q.evidence)):
        dup = False
        for k in kept:
            u = (p.mask_a | p.mask_b)
            v = (k.mask_a | k.mask_b)
            inter = (u & v).sum()
            if inter > 0.5 * min(u.sum(), v.sum()):
                dup = True
                k.pairs = max(k.pairs, p.pairs)
                k.mask_a |= p.mask_a if (p.mask_a & k.mask_a).any() else p.mask_b
                k.mask_b |= p.mask_b if (p.mask_b & k.mask_b).any() else p.mask_a
                break
        if not dup:
            kept.append(p)
    return kept


def _jpeg_pass(rgb: np.ndarray, quant: np.ndarray) -> list[ClonePair]:
    y = rgb.astype(np.float32) if rgb.ndim == 2 else C.luma(rgb)
    clones = jpeg_pass.jpeg_clones(y, np.asarray(quant, float).reshape(8, 8),
                                   max_side=PARAMS["dense_max_side"],
                                   min_offset=PARAMS["min_offset_px"],
                                   min_blocks=JPEG_MIN_BLOCKS)
    return [ClonePair(c.mask_a, c.mask_b, c.blocks, c.mean_steps,
                      float(np.log2(c.blocks * 64)), "jpeg_requant") for c in clones]


def _full_resolution_pass(gray: np.ndarray) -> list[ClonePair]:
    """Clones of an image larger than the working scale, verified at full resolution."""
    work, s = _resize_to(gray, PARAMS["dense_max_side"])
    if s >= 1.0 or gray.size > FULL_RES_MAX_PIXELS:
        return []
    peaks = jpeg_pass.candidate_offsets(work.astype(np.float32),
                                        min_offset=max(PARAMS["min_offset_px"] * s, 16.0))
    clones = large_pass.full_resolution_clones(
        _residual(gray), peaks, s, verify_corr=VERIFY_CORR, min_area=PARAMS["dense_min_area"],
        min_sharpness=DENSE_MIN_SHARPNESS, ring=SHARPNESS_RING)
    return [ClonePair(c.mask_a, c.mask_b, c.votes, c.correlation,
                      float(np.log2(max(float(c.mask_a.sum()), 1.0))), "dense_full_resolution")
            for c in clones]


def copy_move_map(rgb: np.ndarray, *, seed: int = 0, quant: np.ndarray | None = None
                  ) -> tuple[np.ndarray, list[ClonePair]]:
    """Heatmap (float32 0..1, image size) of cloned regions and the verified clone pairs.

    Parameters
    ----------
    rgb : (H, W, 3) or (H, W) uint8 array
        The image.
    seed : int, keyword-only
        Seed of the randomised nearest-neighbour search (results are reproducible).
    quant : (8, 8) or (64,) array, optional
        Luminance quantization table (natural order) when ``rgb`` is a decoded JPEG file on
        its own grid: runs the JPEG pass as well.

    Returns
    -------
    heatmap : (H, W) float32
        On both ends of every verified clone ``0.5 + 0.5 p`` with ``p`` the clone's
        probability (see :data:`E0`), else 0.
    pairs : list of ClonePair
    """
    if rgb.ndim not in (2, 3):
        raise ValueError(f"rgb: expected a 2-D or 3-D array, got shape {rgb.shape}")
    gray = _gray(rgb)
    pairs = _dense_pass(gray, max_side=PARAMS["dense_max_side"], block=PARAMS["block"],
                        min_offset=PARAMS["min_offset_px"], min_area=PARAMS["dense_min_area"],
                        seed=seed)
    known = np.zeros(gray.shape, bool)
    for p in pairs:
        known |= p.mask_a | p.mask_b
    pairs += _keypoint_pass(gray, max_side=PARAMS["sift_max_side"],
                            min_offset=PARAMS["min_offset_px"], ratio=PARAMS["g2nn_ratio"],
                            min_inliers=PARAMS["min_inliers"], known=known)
    if quant is not None:
        pairs += _jpeg_pass(rgb, quant)
    else:  # a JPEG's residual no longer matches at full resolution; its pass is the one above
        pairs += _full_resolution_pass(gray)
    pairs = _merge(pairs)
    heat = np.zeros(gray.shape, np.float32)
    for p in pairs:
        conf = _area_strength(p)
        val = 0.5 + 0.5 * conf
        heat[p.mask_a | p.mask_b] = np.maximum(heat[p.mask_a | p.mask_b], val)
    return heat, pairs


def _area_strength(p: ClonePair) -> float:
    e0 = E0_JPEG if p.method == "jpeg_requant" else E0
    return float(1.0 / (1.0 + np.exp(-(p.evidence - e0) / ES)))


def _pair_strength(p: ClonePair) -> float:
    """Evidence of one verified pair: enough area (E0, ES) and an exact enough copy (CORR0).

    A JPEG-pass pair was verified block by block in quantization steps; its area is all."""
    area = _area_strength(p)
    if p.method == "jpeg_requant":
        return area
    c0 = CORR0_SIFT if p.method == "sift_affine" else CORR0
    exact = 1.0 / (1.0 + np.exp(-(p.correlation - c0) / CORR_S))
    return float(area * exact)


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="SIFT g2NN matching with clustering and RANSAC affine verification, plus a dense "
           "block pass (DCT features, sorted-projection matching, offset-histogram voting); "
           "every clone verified by the correlation of its noise residual at both ends (at full "
           "resolution for a picture above the working scale); in a JPEG file also a dense "
           "nearest-neighbour field whose regular offsets are verified block by block in the "
           "file's quantization steps",
    reference="I. Amerini, L. Ballan, R. Caldelli, A. Del Bimbo, G. Serra (2011), A SIFT-based "
              "forensic method for copy-move attack detection and transformation recovery, "
              "IEEE TIFS 6(3), doi:10.1109/TIFS.2011.2129512; D. Cozzolino, G. Poggi, "
              "L. Verdoliva (2015), Efficient dense-field copy-move forgery detection, IEEE TIFS "
              "10(11), doi:10.1109/TIFS.2015.2455334; A. Novozamsky, M. Sorel (2018), "
              "Copy-move modification detection using JPEG compression model, Forensic "
              "Science International (the JPEG pass's verification principle)",
    limits="Finds clones inside one image only (not splices). Repetitive textures (tiles, "
           "windows, grass) can give rigid matches. The residual passes need the copy's noise "
           "to survive; after a JPEG save of the whole forgery the JPEG pass takes over, and "
           "finds only copies with textured parts: of the NoSo clones re-saved at q90, 10 of "
           "18 score above 0.5, at q75 7 (the residual passes alone: none), copies of smooth "
           "content (sky, walls, blur) are not verifiable once quantized. Not after a resize "
           "(halved and saved at q90: none found), nor for rotated or scaled copies in a JPEG. "
           "A copy of content that matches itself along one direction (streaks, sky bands) is "
           "not verifiable: no single offset stands out. Source and target cannot be told "
           "apart.",
    artifacts=("cloned_region",), params=PARAMS, localizes=True,
)
def copy_move(media) -> DetectorResult:
    """Detect copy-move forgery (cloned regions) in an image.

    Parameters
    ----------
    media : ImageMedia
        Image to analyse (``media.pixels``, RGB uint8).

    Returns
    -------
    DetectorResult
        ``score`` = ``1 / (1 + exp(-(e - 7) / 0.5))`` with ``e`` the evidence of the strongest
        verified clone: log2 of its area in pixels (one end); constants set on NoSo (see
        :data:`E0`). One ``cloned_region`` finding per clone pair: ``location`` is the mask of
        one end (called the target), the measurement is the noise-residual correlation between
        the two ends (reference: the verification threshold) with the source box and the
        matched-pair count in its name; the finding's heatmap covers both ends, and
        ``extras["pairs"]`` lists source and target boxes.

    Notes
    -----
    The images are analysed at a working scale of at most 640 px (SIFT, 2000 keypoints) and
    1024 px (dense pass and verification); results are mapped back to full size. A larger
    picture that is not a JPEG also gets a full-resolution pass
    (:mod:`detectors.image._copy_move_large`): candidates of a nearest-neighbour field at the
    working scale, verified on the full-resolution residual, where a clone's offset is an
    integer again (clones pasted into 37 ML72 photos of 1800-4024 px, saved as PNG: 9 found
    at the working scale alone, 37 with it); it is skipped above 60 megapixels
    (:data:`FULL_RES_MAX_PIXELS`). Image size is never evidence. A candidate clone counts only
    if the *noise residual* (image minus its 3x3 Gaussian or median) of one end is reproduced
    at the other end (windowed correlation >= 0.75), at that offset and clearly less 2-3 px
    away (:data:`DENSE_MIN_SHARPNESS`):
    repeated real objects share their shape but not their sensor noise, and a streaked sky
    matches itself along its streaks at every offset.

    References
    ----------
    .. [1] I. Amerini et al., "A SIFT-based forensic method for copy-move attack detection and
       transformation recovery", IEEE TIFS 6(3):1099-1110, 2011.
    .. [2] D. Cozzolino, G. Poggi, L. Verdoliva, "Efficient dense-field copy-move forgery
       detection", IEEE TIFS 10(11):2284-2297, 2015.
    """
    t0 = time.perf_counter()
    rgb = media.pixels
    if rgb is None or rgb.size == 0 or min(rgb.shape[:2]) < 32:
        return DetectorResult.not_applicable(NAME, VERSION, "image smaller than 32 px",
                                             params=PARAMS)
    drawn = C.drawn_picture_reason(rgb, media, "its repeated letters, icons and shapes are "
                                   "identical by construction, so a copied part cannot be "
                                   "told from a repeated one")
    if drawn:
        return DetectorResult.not_applicable(NAME, VERSION, drawn, params=PARAMS)
    quant = luma_table(media)
    heat, pairs = copy_move_map(rgb, quant=quant)
    findings: list[Finding] = []
    strengths = [_pair_strength(p) for p in pairs]
    score = max(strengths, default=float(1.0 / (1.0 + np.exp(E0 / ES))))
    if pairs:
        # the map shows each clone as strongly as its evidence, not every verified pair at 1
        heat = np.zeros(rgb.shape[:2], np.float32)
        for p, st in zip(pairs, strengths):
            np.maximum(heat, st * (p.mask_a | p.mask_b), out=heat)
    extras_pairs = []
    for p, strength in zip(pairs, strengths):
        # call the end further down/right the target (no way to tell them apart in general)
        ba, bb = _bbox(p.mask_a), _bbox(p.mask_b)
        if (ba.y, ba.x) > (bb.y, bb.x):
            src_box, tgt_mask, tgt_box = bb, p.mask_a, ba
        else:
            src_box, tgt_mask, tgt_box = ba, p.mask_b, bb
        cov = float(tgt_mask.sum() / max(tgt_box.area, 1))
        where = f"source at x={src_box.x},y={src_box.y},w={src_box.w},h={src_box.h}"
        if p.method == "jpeg_requant":
            measurement = Measurement(
                name=(f"median DCT difference from the {where}, in the file's quantization "
                      f"steps ({p.pairs} sharp matching 8x8 blocks)"),
                value=round(float(p.correlation), 4), reference=jpeg_pass.MATCH_STEPS)
        else:
            what = {"sift_affine": "matched keypoints",
                    "dense_full_resolution": "nearest-neighbour field points"}.get(
                        p.method, "voting block pairs")
            thr = SIFT_VERIFY_CORR if p.method == "sift_affine" else VERIFY_CORR
            measurement = Measurement(
                name=f"noise-residual correlation with {where} ({p.pairs} {what})",
                value=round(float(p.correlation), 4), reference=thr)
        findings.append(Finding(
            artifact="cloned_region",
            location=Mask(box=tgt_box, coverage=round(cov, 4)),
            strength=strength,
            measurement=measurement,
            detector=NAME,
            heatmap=(p.mask_a | p.mask_b).astype(np.float32),
        ))
        extras_pairs.append({
            "method": p.method, "source_box": vars(src_box), "target_box": vars(tgt_box),
            "matched_pairs": p.pairs, "residual_correlation": round(p.correlation, 4),
            "area_px": int(tgt_mask.sum()), "evidence_log2": round(p.evidence, 3)})
    extras = {"pairs": extras_pairs}
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0,
                          params=PARAMS, heatmap=heat, extras=extras)
