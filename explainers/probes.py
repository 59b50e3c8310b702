"""Independent re-measurement of a claimed artifact at the claimed place.

A probe answers one question about one claim: is the artifact there, where the claim says? It
measures with its own estimator, deliberately different from the detectors' (which are never
imported here), so that a claim grounded by a probe is grounded by a second, independent look:

=====================  ==========================================================================
artifact               probe (estimator; reference)
=====================  ==========================================================================
noise                  3x3 median-filter residual, robust std (1.4826 MAD), box vs brightness-
                       matched control boxes of the same size (Donoho & Johnstone 1994 MAD scale)
blurriness             variance of the Laplacian, box vs controls (Pech-Pacheco et al. 2000)
blockiness             8x8 grid-boundary vs in-block luminance differences (Wang, Bovik &
                       Evans 2000, "Blind measurement of blocking artifacts in images")
double_compression     local: 8x8 grid phase of the box vs controls; whole image: periodic
                       artefacts in DCT histograms (Popescu & Farid 2004; Lin et al. 2009)
color_inconsistency    mean Cr/Cb of the box vs controls, robust z-distance
blending_artifacts     median step across the box border over the steps on parallel lines
                       5 px either side, vs control borders
banding                share of empty luminance levels inside the occupied range, vs controls
cloned_region          normalised cross-correlation of the box's patches against the rest of
                       the image, coarse (downsampled) then refined at full resolution
                       (Fridrich, Soukal & Lukas 2003, exact match by correlation); in a
                       JPEG, also the share of quantized DCT coefficients on the file's grid
                       that the copy reproduces (after Novozamsky & Sorel 2018)
resampling             periodicity of second-derivative magnitude along rows and columns
                       (Gallagher 2005, "Detection of linear and cubic interpolation in JPEG
                       compressed images")
missing_cfa            green-channel residual variance on the two quincunx lattices
                       (Popescu & Farid 2005; Dirik & Memon 2009)
generator_fingerprint  peaks in the mean power spectrum of a high-pass residual at the periodic
                       positions N/2, N/4, N/8 (Zhang, Karaman & Chang 2019)
software_metadata,     read the named field (EXIF/XMP/PNG text/IPTC/container tags) and compare
content_credentials,   its value; look for the C2PA JUMBF store in the file; decode the EXIF
thumbnail_mismatch     thumbnail and correlate it with the downscaled picture
clipping               runs of >= 3 samples stuck at the span's full-scale value
digital_silence        runs of exact (|x| < 1e-6) zeros of >= 10 ms
hiss                   high-band (>= 4 kHz) RMS of the quietest frames, in dBFS and
                       relative to the loudest frames
buzz                   spectral peaks at 50/60 Hz and harmonics vs the neighbouring bins (Welch)
pops                   one-sample jumps of the first difference against a 20 ms leave-one-out RMS
vocoder_band_limit     energy above the cutoff vs the octave below it (Welch PSD)
audio_splice           jump in the noise floor (10th-percentile frame RMS) across the claimed
                       time, vs the same measure at other times of the recording
flicker                frame-to-frame luma fluctuation (second difference) of the box over the
                       claimed span, vs the rest of the frame
temporal_artifacts     spikes of frame-to-frame change of the box over the span, vs the rest of
                       the frame
unnatural_prosody      pitch spread (semitone SD) by YIN (de Cheveigne & Kawahara 2002), not the
                       detector's DIO/StoneMask, against human ranges (Traunmueller & Eriksson
                       1995), and energy-envelope periodicity at syllable lags
=====================  ==========================================================================

Semantic artifacts (anatomy, shadows, reflections, expressions, gaze, A/V sync...) have
no probe here: :func:`get_probe` returns None and the validator calls the claim unverifiable.

Each probe returns a :class:`ProbeResult` with ``found`` (True/False, or None when it could not
measure), the numbers, and a sentence. Thresholds are stated next to each probe; they are set
from the physics of the measure (e.g. a z-score of 3 against the controls) and checked on
synthetic known-answer cases in ``tests/explainers/test_probes.py``.
"""

from __future__ import annotations

import io
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import numpy as np
from scipy import ndimage, signal

from triage_app.model import Box

__all__ = ["ProbeResult", "Target", "get_probe", "PROBES", "has_probe", "iter_frames",
           "metadata_lookup", "to_gray", "compare_with_controls", "control_boxes"]


@dataclass
class ProbeResult:
    """What a probe measured: ``found`` True/False (None: could not measure), numbers, reason."""

    found: bool | None
    measurement: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def __post_init__(self) -> None:
        if self.found is not None:
            self.found = bool(self.found)


@dataclass
class Target:
    """Where a probe looks, resolved by the validator against the media.

    ``box`` in pixels (None: the whole picture); ``start``/``end`` in seconds (None: the whole
    duration); ``low_hz``/``high_hz`` a band; ``field``/``value`` a metadata field;
    ``polarity`` is informational (probes measure presence either way).
    """

    box: Box | None = None
    start: float | None = None
    end: float | None = None
    low_hz: float | None = None
    high_hz: float | None = None
    field: str | None = None
    value: str | None = None
    area: str | None = None


# --------------------------------------------------------------------------- helpers


def to_gray(rgb: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma, float32, shape (H, W)."""
    a = np.asarray(rgb, dtype=np.float32)
    if a.ndim == 2:
        return a
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def _robust_std(x: np.ndarray) -> float:
    x = np.asarray(x, dtype=np.float64).ravel()
    if x.size == 0:
        return 0.0
    return float(1.4826 * np.median(np.abs(x - np.median(x))))


def _crop(a: np.ndarray, b: Box) -> np.ndarray:
    return a[b.y:b.y + b.h, b.x:b.x + b.w]


def control_boxes(shape: tuple[int, int], box: Box, *, n: int = 12,
                  gray: np.ndarray | None = None) -> list[Box]:
    """Boxes of the same size on a regular grid, not overlapping ``box`` (dilated by a quarter of
    its size), the ``n`` closest to the box's mean brightness when ``gray`` is given."""
    h, w = shape
    bw, bh = box.w, box.h
    if bw < 1 or bh < 1 or bw > w or bh > h:
        return []
    mx, my = max(2, bw // 4), max(2, bh // 4)
    ex = Box(box.x - mx, box.y - my, box.w + 2 * mx, box.h + 2 * my)
    stepx = max(1, bw // 2)
    stepy = max(1, bh // 2)
    cands = []
    for y in range(0, h - bh + 1, stepy):
        for x in range(0, w - bw + 1, stepx):
            c = Box(x, y, bw, bh)
            if c.x + c.w <= ex.x or c.x >= ex.x + ex.w or c.y + c.h <= ex.y or c.y >= ex.y + ex.h:
                cands.append(c)
    if not cands:
        return []
    if gray is not None and len(cands) > n:
        ref = float(_crop(gray, box).mean())
        cands.sort(key=lambda c: abs(float(_crop(gray, c).mean()) - ref))
        # keep them spread: at most n out of the best 3n, by position order
        cands = cands[: 3 * n]
        cands = cands[:: max(1, len(cands) // n)][:n]
    return cands[:n] if gray is None else cands


def compare_with_controls(stat: Callable[[Box], float], shape: tuple[int, int], box: Box, *,
                          gray: np.ndarray | None = None, n: int = 12) -> dict[str, Any] | None:
    """``stat`` at the box and at control boxes: value, control median, ratio and robust z."""
    ctrls = control_boxes(shape, box, n=n, gray=gray)
    if len(ctrls) < 3:
        return None
    v = float(stat(box))
    cv = np.array([stat(c) for c in ctrls], dtype=np.float64)
    cv = cv[np.isfinite(cv)]
    if cv.size < 3 or not math.isfinite(v):
        return None
    med = float(np.median(cv))
    spread = max(_robust_std(cv), 0.05 * abs(med), 1e-9)
    return {"value": round(v, 5), "control_median": round(med, 5),
            "control_spread": round(spread, 5),
            "ratio": round(v / med, 4) if med > 1e-12 else float("inf") if v > 0 else 1.0,
            "z": round((v - med) / spread, 3), "n_controls": int(cv.size)}


def _scan_blocks(stat: Callable[[Box], float], box: Box, *, min_side: int = 32) -> dict[str, Any] | None:
    """For a box too large for controls: tile it, and measure how far the most extreme tile
    stands out from the other tiles (robust z of max and min)."""
    side = max(min_side, min(box.w, box.h) // 4)
    tiles = [Box(x, y, side, side)
             for y in range(box.y, box.y + box.h - side + 1, side)
             for x in range(box.x, box.x + box.w - side + 1, side)]
    if len(tiles) < 6:
        return None
    vals = np.array([stat(t) for t in tiles], dtype=np.float64)
    med = float(np.median(vals))
    spread = max(_robust_std(vals), 0.05 * abs(med), 1e-9)
    zs = (vals - med) / spread
    i_hi, i_lo = int(np.argmax(zs)), int(np.argmin(zs))
    return {"tiles": len(tiles), "tile_side": side, "median": round(med, 5),
            "max_value": round(float(vals[i_hi]), 5), "min_value": round(float(vals[i_lo]), 5),
            "z_max": round(float(zs[i_hi]), 3), "z_min": round(float(zs[i_lo]), 3),
            "ratio_max": round(float(vals[i_hi] / med), 4) if med > 1e-12 else None,
            "ratio_min": round(float(vals[i_lo] / med), 4) if med > 1e-12 else None,
            "max_tile": [tiles[i_hi].x, tiles[i_hi].y, side, side],
            "min_tile": [tiles[i_lo].x, tiles[i_lo].y, side, side]}


def _image_of(media: Any, target: Target) -> np.ndarray | None:
    """The RGB picture to probe: an image's pixels, or the middle frame of a video span."""
    if getattr(media, "kind", None) == "image":
        return media.pixels
    if getattr(media, "kind", None) == "video":
        start = target.start if target.start is not None else 0.0
        end = target.end if target.end is not None else min(media.duration, start + 1.0)
        mid = (start + end) / 2
        for fr in iter_frames(media, start=max(0.0, mid - 0.25), end=mid + 0.5):
            return fr.rgb
    return None


def _full_box(img: np.ndarray) -> Box:
    return Box(0, 0, int(img.shape[1]), int(img.shape[0]))


def _local_probe(media: Any, target: Target, stat_factory: Callable[[np.ndarray], Callable[[Box], float]],
                 *, name: str, unit: str, decide: Callable[[dict[str, Any], bool], bool],
                 what: str, min_side: int = 16) -> ProbeResult:
    """Common frame for box-vs-controls probes (or tile scan when the box is most of the picture)."""
    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    box = target.box or _full_box(img)
    if box.w < min_side or box.h < min_side:
        return ProbeResult(None, {"box": [box.x, box.y, box.w, box.h]},
                           f"the box is smaller than {min_side} px; too small to measure {what}")
    gray = to_gray(img)
    stat = stat_factory(img)
    H, W = gray.shape
    big = box.area > 0.35 * H * W
    res = None if big else compare_with_controls(stat, (H, W), box, gray=gray)
    if res is None:
        scan = _scan_blocks(stat, box)
        if scan is None:
            return ProbeResult(None, {"box": [box.x, box.y, box.w, box.h]},
                               f"the region is too small to compare {what} across it")
        scan.update(measure=name, unit=unit, mode="scan", box=[box.x, box.y, box.w, box.h])
        found = decide(scan, True)
        return ProbeResult(found, scan,
                           f"{what}: most extreme tile z={scan['z_max']:+.1f} / {scan['z_min']:+.1f} "
                           f"against the other {scan['tiles'] - 1} tiles of the region"
                           + ("" if found else " (no tile stands out)"))
    res.update(measure=name, unit=unit, mode="controls", box=[box.x, box.y, box.w, box.h])
    found = decide(res, False)
    return ProbeResult(found, res,
                       f"{what} {res['value']:.3g}{unit} in the box vs {res['control_median']:.3g}"
                       f"{unit} in {res['n_controls']} control boxes (ratio {res['ratio']:.2f}, "
                       f"z={res['z']:+.1f})")


def _two_sided(ratio_thr: float, z_thr: float = 3.0):
    def decide(r: dict[str, Any], scan: bool) -> bool:
        if scan:
            hi = (r.get("ratio_max") or 1.0) >= ratio_thr and r["z_max"] >= z_thr
            lo = (r.get("ratio_min") or 1.0) <= 1.0 / ratio_thr and r["z_min"] <= -z_thr
            return bool(hi or lo)
        ratio = r["ratio"]
        return bool((ratio >= ratio_thr or ratio <= 1.0 / ratio_thr) and abs(r["z"]) >= z_thr)
    return decide


def _one_sided(ratio_thr: float, z_thr: float = 3.0, *, higher: bool = True):
    def decide(r: dict[str, Any], scan: bool) -> bool:
        if scan:
            if higher:
                return bool((r.get("ratio_max") or 1.0) >= ratio_thr and r["z_max"] >= z_thr)
            return bool((r.get("ratio_min") or 1.0) <= 1.0 / ratio_thr and r["z_min"] <= -z_thr)
        if higher:
            return bool(r["ratio"] >= ratio_thr and r["z"] >= z_thr)
        return bool(r["ratio"] <= 1.0 / ratio_thr and r["z"] <= -z_thr)
    return decide


# --------------------------------------------------------------------------- image probes


def _noise_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = to_gray(img)
    resid = g - ndimage.median_filter(g, size=3, mode="reflect")
    return lambda b: _robust_std(_crop(resid, b)) + 1e-3


def probe_noise(media: Any, target: Target) -> ProbeResult:
    """Noise level (3x3 median residual, MAD) differs by >= 1.5x and |z| >= 3 from controls."""
    return _local_probe(media, target, _noise_stat, name="median-residual noise sigma", unit="",
                        decide=_two_sided(1.5), what="noise sigma")


def _blur_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = to_gray(img)
    lap = ndimage.laplace(g)
    return lambda b: float(_crop(lap, b).var()) + 1e-3


def probe_blurriness(media: Any, target: Target) -> ProbeResult:
    """Laplacian variance at most 1/2 of the controls' (z <= -3): the box is blurrier."""
    return _local_probe(media, target, _blur_stat, name="Laplacian variance", unit="",
                        decide=_one_sided(2.0, higher=False), what="Laplacian variance")


def _blocking(g: np.ndarray, ox: int = 0, oy: int = 0) -> float:
    """Ratio of mean |difference| across 8x8 grid boundaries (phase ox, oy) to inside blocks."""
    if g.shape[0] < 16 or g.shape[1] < 16:
        return float("nan")
    dx = np.abs(np.diff(g, axis=1)).mean(axis=0)  # column k: between pixel k and k+1
    dy = np.abs(np.diff(g, axis=0)).mean(axis=1)
    cols = np.arange(dx.size)
    rows = np.arange(dy.size)
    bx = (cols % 8) == ((7 + ox) % 8)
    by = (rows % 8) == ((7 + oy) % 8)
    inner = (dx[~bx].mean() + dy[~by].mean()) / 2 + 1e-6
    edge = (dx[bx].mean() + dy[by].mean()) / 2
    return float(edge / inner)


def _block_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = to_gray(img)

    def stat(b: Box) -> float:
        # align the crop on the image's 8x8 grid so the phase is the file's
        x0 = b.x - (b.x % 8)
        y0 = b.y - (b.y % 8)
        return _blocking(g[y0:b.y + b.h, x0:b.x + b.w])
    return stat


def probe_blockiness(media: Any, target: Target) -> ProbeResult:
    """8x8 boundary/inner difference ratio >= 1.25x the controls' and z >= 3, or >= 1.5
    absolute in a box with no usable controls."""
    res = _local_probe(media, target, _block_stat, name="8x8 blocking ratio", unit="",
                       decide=_one_sided(1.25), what="8x8 blocking ratio")
    return res


def _grid_phase(g: np.ndarray) -> tuple[int, int, float]:
    best = (0, 0, -1.0)
    for oy in range(8):
        for ox in range(8):
            v = _blocking(g, ox, oy)
            if v > best[2]:
                best = (ox, oy, v)
    return best


def probe_double_compression(media: Any, target: Target) -> ProbeResult:
    """Local: the box's 8x8 grid phase differs from the image's, with blocking >= 1.1 (a region
    from another JPEG). Whole image: periodic DCT-histogram artefacts in a JPEG: the median over
    7 low-frequency coefficients of std(histogram / its Gaussian-smoothed envelope) >= 0.4.
    Single compressions measure 0.1..0.25 on synthetic scenes; a first compression coarser than
    the last (q70 then q90) gives ~1.2; the reverse order leaves little trace (~0.2) and is
    missed, as the literature expects."""
    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    g = to_gray(img)
    H, W = g.shape
    box = target.box
    if box is not None and box.area < 0.35 * H * W:
        if box.w < 32 or box.h < 32:
            return ProbeResult(None, {}, "box smaller than 32 px: too small for a grid phase")
        x0, y0 = box.x - box.x % 8, box.y - box.y % 8
        bx, by, bv = _grid_phase(g[y0:box.y + box.h, x0:box.x + box.w])
        gx, gy, gv = _grid_phase(g)
        meas = {"box_phase": [bx, by], "box_blocking": round(bv, 4), "image_phase": [gx, gy],
                "image_blocking": round(gv, 4)}
        if bv < 1.1 or gv < 1.1:
            return ProbeResult(False, meas, f"no clear 8x8 grid in the box (blocking {bv:.2f}) or "
                               f"the image ({gv:.2f}): no misaligned JPEG grid to see")
        found = (bx, by) != (gx, gy)
        return ProbeResult(found, meas,
                           f"8x8 grid phase in the box {bx, by} vs {gx, gy} in the image"
                           + (" (misaligned: a second compression history)" if found else " (same)"))
    q = getattr(media, "quantization", None)
    if not q:
        return ProbeResult(None, {}, "not a JPEG (no quantization tables): the DCT-histogram "
                                     "probe does not apply")
    qt = np.array(q.get(0) or next(iter(q.values())), dtype=np.float64)
    if qt.size != 64:
        return ProbeResult(None, {}, "unreadable quantization table")
    qt = qt.reshape(8, 8)
    gg = g[: H - H % 8, : W - W % 8] - 128.0
    blocks = gg.reshape(H // 8, 8, W // 8, 8).transpose(0, 2, 1, 3).reshape(-1, 8, 8)
    from scipy.fft import dctn
    coefs = dctn(blocks, axes=(1, 2), norm="ortho")
    osc = []
    for (u, v) in ((0, 1), (1, 0), (1, 1), (0, 2), (2, 0), (1, 2), (2, 1)):
        k = np.rint(coefs[:, u, v] / qt[u, v]).astype(int)
        k = k[(np.abs(k) >= 1) & (np.abs(k) <= 30)]
        if k.size < 500:
            continue
        h = np.bincount(np.abs(k), minlength=31)[1:31].astype(float)
        env = ndimage.gaussian_filter1d(h, 2.0) + 1e-9
        ok = env > 5
        if ok.sum() < 6:
            continue
        osc.append(float(np.std(h[ok] / env[ok])))
    if not osc:
        return ProbeResult(None, {}, "too few DCT coefficients to read a histogram")
    m = float(np.median(osc))
    found = m >= 0.4
    return ProbeResult(found, {"dct_histogram_oscillation": round(m, 4), "threshold": 0.4,
                               "coefficients": len(osc)},
                       f"DCT-histogram oscillation {m:.2f} (threshold 0.4): "
                       + ("periodic gaps typical of double quantisation" if found
                          else "smooth histograms, as after a single compression"))


def _chroma_stats(img: np.ndarray):
    a = np.asarray(img, dtype=np.float32)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cr = 0.713 * (r - y)
    cb = 0.564 * (b - y)
    return cr, cb


def probe_color_inconsistency(media: Any, target: Target) -> ProbeResult:
    """Mean chroma (Cr, Cb) of the box vs brightness-matched controls: robust z-distance >= 4 and
    a shift of >= 4 levels."""
    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    box = target.box or _full_box(img)
    cr, cb = _chroma_stats(img)
    gray = to_gray(img)
    H, W = gray.shape
    if box.area > 0.35 * H * W or box.w < 8 or box.h < 8:
        # whole picture: the spread of tile chroma is what can be said
        return ProbeResult(None, {"box": [box.x, box.y, box.w, box.h]},
                           "colour consistency needs a local region to compare with the rest")
    ctrls = control_boxes((H, W), box, n=12, gray=gray)
    if len(ctrls) < 3:
        return ProbeResult(None, {}, "no room for control regions")
    v = np.array([_crop(cr, box).mean(), _crop(cb, box).mean()])
    cv = np.array([[_crop(cr, c).mean(), _crop(cb, c).mean()] for c in ctrls])
    med = np.median(cv, axis=0)
    spread = np.maximum(1.4826 * np.median(np.abs(cv - med), axis=0), 1.0)
    z = float(np.linalg.norm((v - med) / spread))
    shift = float(np.linalg.norm(v - med))
    found = z >= 4.0 and shift >= 4.0
    return ProbeResult(found, {"box_chroma": [round(float(x), 2) for x in v],
                               "control_chroma": [round(float(x), 2) for x in med],
                               "chroma_shift": round(shift, 3), "z": round(z, 3),
                               "n_controls": len(ctrls), "box": [box.x, box.y, box.w, box.h]},
                       f"chroma shift {shift:.1f} levels (z={z:.1f}) against {len(ctrls)} controls")


def _border_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = to_gray(img).astype(np.float64)
    H, W = g.shape
    dy = np.abs(np.diff(g, axis=0))  # dy[r] = |g[r+1] - g[r]|
    dx = np.abs(np.diff(g, axis=1))

    def side_values(b: Box, shift: int) -> tuple[np.ndarray, np.ndarray]:
        """Step across the border line moved by ``shift`` px, and steps 5 px either side."""
        edge, ref = [], []
        x0, x1 = max(0, b.x), min(W, b.x + b.w)
        y0, y1 = max(0, b.y), min(H, b.y + b.h)
        for row in (b.y + shift - 1, b.y + b.h + shift - 1):  # top and bottom border lines
            if 6 <= row < H - 7 and x1 > x0:
                edge.append(dy[row, x0:x1])
                ref.append(dy[row - 5, x0:x1])
                ref.append(dy[row + 5, x0:x1])
        for col in (b.x + shift - 1, b.x + b.w + shift - 1):
            if 6 <= col < W - 7 and y1 > y0:
                edge.append(dx[y0:y1, col])
                ref.append(dx[y0:y1, col - 5])
                ref.append(dx[y0:y1, col + 5])
        if not edge:
            return np.zeros(0), np.zeros(0)
        return np.concatenate(edge), np.concatenate(ref)

    def stat(b: Box) -> float:
        # median step across the border (best of +-2 px, the claim may be off a little) over the
        # median step on parallel lines 5 px inside and outside: ~1 on untouched content
        best = float("nan")
        for shift in (-2, -1, 0, 1, 2):
            e, r = side_values(b, shift)
            if e.size < 16:
                continue
            v = float(np.median(e)) / (float(np.median(r)) + 0.5)
            best = v if not math.isfinite(best) else max(best, v)
        return best
    return stat


def probe_blending_artifacts(media: Any, target: Target) -> ProbeResult:
    """Border step (median |difference| across the box's border over that on lines 5 px either
    side) >= 1.8x that of control borders and z >= 3: a seam where a region was pasted.

    When the box and its controls all measure 0 (the median step is 0 on every border: a flat
    picture, such as the flat grey frames a seek used to decode in some H.264 files before
    ``_video_io.seek_primed``), there is nothing to compare: undecided, not absent."""
    r = _local_probe(media, target, _border_stat, name="border step ratio", unit="",
                     decide=_one_sided(1.8), what="border step ratio")
    m = r.measurement
    if r.found is False and m.get("mode") == "controls" and m.get("value") == 0 and \
            m.get("control_median") == 0:
        return ProbeResult(None, m, "no step across or beside the box's border, nor those of "
                           "its control boxes (median 0), so a "
                           "seam cannot be told from its absence")
    return r


def _banding_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = np.rint(to_gray(img)).astype(int)

    def stat(b: Box) -> float:
        v = _crop(g, b).ravel()
        lo, hi = np.percentile(v, [2, 98])
        if hi - lo < 8:
            return 0.0
        h = np.bincount(np.clip(v - int(lo), 0, None), minlength=int(hi - lo) + 1)[: int(hi - lo) + 1]
        return float((h == 0).mean())
    return stat


def probe_banding(media: Any, target: Target) -> ProbeResult:
    """Share of empty luminance levels within the box's occupied range >= 0.3 and 1.5x the
    controls' (posterised gradients skip levels)."""
    def decide(r: dict[str, Any], scan: bool) -> bool:
        if scan:
            return bool(r["max_value"] >= 0.3 and r["z_max"] >= 3)
        return bool(r["value"] >= 0.3 and r["value"] >= 1.5 * r["control_median"] + 0.05)
    return _local_probe(media, target, _banding_stat, name="empty-level share", unit="",
                        decide=decide, what="share of empty luminance levels")


#: A flat patch (std < 3 levels) is matched only when it carries at least this much noise
#: (grey levels, 3x3 median residual): its noise is then the texture an exact copy repeats,
#: while two flat places differ by about 1.4x that noise. Below it (a saturated sky, a JPEG's
#: flattened blocks) two different plain areas can agree exactly.
MIN_COPY_NOISE = 0.8


def _noise_sigma(patch: np.ndarray) -> float:
    return _robust_std(patch - ndimage.median_filter(patch, size=3))


def _match_residual(patch: np.ndarray, cand: np.ndarray) -> float:
    """Robust std of ``patch - (a*cand + b)`` (least-squares gain and offset) over the patch's
    own noise sigma (3x3 median residual, MAD): about 0 for an exact copy, <= 1 for a copy that
    was re-brightened or recompressed, >= 1.5 for a different surface with the same look."""
    A = np.c_[cand.ravel().astype(np.float64), np.ones(cand.size)]
    coef, *_ = np.linalg.lstsq(A, patch.ravel().astype(np.float64), rcond=None)
    resid = patch.ravel() - A @ coef
    sigma = _noise_sigma(patch)
    return float(_robust_std(resid) / max(sigma, 0.3))


#: The JPEG test of probe_cloned_region: share of non-zero quantized DCT coefficients (file
#: grid, luminance table) of the patch's blocks that the copy reproduces exactly, and how
#: much more than the copy moved by one pixel reproduces. NoSo clones re-saved at q75: 0.59-0.67
#: and margins 0.40-0.43; 152 claimed boxes on authentic JPEGs (ML72, NoSo originals at q75):
#: at most 0.50 with a margin of 0.21.
REQUANT_AGREE = 0.55
REQUANT_MARGIN = 0.3


def _luma_quantization(media: Any) -> np.ndarray | None:
    """The luminance quantization steps (8x8, natural order) of a JPEG image, else None."""
    tables = getattr(media, "quantization", None)
    if getattr(media, "kind", None) != "image" or not tables:
        return None
    return np.maximum(np.asarray(tables[min(tables)], float).reshape(8, 8), 1.0)


def _requant_agreement(g: np.ndarray, q: np.ndarray, px: int, py: int, side: int, dx: int,
                       dy: int) -> dict[str, Any]:
    """Do the 8x8 grid blocks inside the patch quantize (with ``q``) to the same indices as
    the content at ``+(dx, dy)`` brought onto them? (Novozamsky & Sorel 2018: a copy in a
    JPEG is consistent with the compression of its new place.) The best of the shifts within
    1 px is taken, since template matching finds the copy to about a pixel; the control is
    the best of the shifts one pixel further."""
    from scipy.fft import dctn

    H, W = g.shape
    y0, x0 = -(-py // 8) * 8, -(-px // 8) * 8
    ys = np.arange(y0, py + side - 7, 8)
    xs = np.arange(x0, px + side - 7, 8)
    if len(ys) == 0 or len(xs) == 0:
        return {"agreement": 0.0, "agreement_1px_off": 0.0, "offset": [dx, dy], "blocks": 0}

    def indices(oy: int, ox: int) -> np.ndarray | None:
        if ys[0] + oy < 0 or ys[-1] + oy + 8 > H or xs[0] + ox < 0 or xs[-1] + ox + 8 > W:
            return None
        blocks = np.stack([g[a + oy:a + oy + 8, b + ox:b + ox + 8] for a in ys for b in xs])
        return np.round(dctn(blocks - 128.0, axes=(1, 2), norm="ortho") / q)

    own = indices(0, 0)

    def agreement(oy: int, ox: int) -> float:
        moved = indices(oy, ox)
        if moved is None:
            return 0.0
        used = (own != 0) | (moved != 0)
        return float((own == moved)[used].mean()) if used.any() else 0.0

    at = {(ey, ex): agreement(dy + ey, dx + ex) for ey in (-1, 0, 1) for ex in (-1, 0, 1)}
    (ey, ex), a = max(at.items(), key=lambda kv: kv[1])
    off = max(agreement(dy + ey + sy, dx + ex + sx) for sy, sx in ((0, 1), (0, -1), (1, 0), (-1, 0)))
    return {"agreement": round(a, 3), "agreement_1px_off": round(off, 3),
            "offset": [dx + ex, dy + ey], "blocks": int(len(ys) * len(xs))}


def probe_cloned_region(media: Any, target: Target) -> ProbeResult:
    """Does a patch of the claimed region appear elsewhere in the picture, to within its noise?

    Up to ten patches (the centre, and a grid over the claimed box; then, if none is a copy, up
    to 17 patches of half that size) are
    matched by normalised cross-correlation (OpenCV ``TM_CCOEFF_NORMED``) against the image
    (downsampled first when it is larger than ~700 px, then refined at full resolution), their
    own neighbourhood excluded. For the eight best candidates with NCC >= 0.5 of each patch the residual after a
    least-squares gain/offset fit is compared with the patch's own noise level. Found when that
    ratio is <= 1.0: the region is a copy to within the noise (Fridrich, Soukal & Lukas 2003,
    "Detection of copy-move forgery in digital images": exact-match principle). Similar-looking
    but distinct surfaces (two clothes-pegs, a periodic rope) leave a residual of 1.1x the noise
    or more (independent noise alone gives 1.13..1.6); 1.0..1.1 is reported as undecided.
    Flat patches (std < 3 levels) are matched on their noise, and skipped only when that noise
    is below :data:`MIN_COPY_NOISE`: a copy there cannot be told from a plain area. Rotated or
    rescaled copies are not searched: their interpolation smooths the very noise this test
    compares, so they would stay undecided at best.

    In a JPEG file the noise test fails for a copy that was saved after it was made (both
    ends re-quantized at different grid phases); there, each candidate is also checked on the
    file's grid (:func:`_requant_agreement`): found when the copy reproduces at least
    :data:`REQUANT_AGREE` of the blocks' non-zero quantized coefficients and at least
    :data:`REQUANT_MARGIN` more than one pixel off.
    """
    import cv2

    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    g = to_gray(img).astype(np.float32)
    H, W = g.shape
    box = target.box or _full_box(img)
    if box.area > 0.6 * H * W:
        return ProbeResult(None, {"box": [box.x, box.y, box.w, box.h]},
                           "the claimed region is most of the picture: no room for a copy")
    if min(box.w, box.h) < 16:
        return ProbeResult(None, {}, "the claimed region is too small (< 16 px) to match")
    # patches half the box's short side (16..64 px), then a quarter: small enough to sit inside
    # an irregular pasted object, large enough for the noise test
    side = int(np.clip(min(box.w, box.h) // 2, 16, 64))
    scale = max(1, int(round(max(H, W) / 700)))
    small = cv2.resize(g, (W // scale, H // scale), interpolation=cv2.INTER_AREA) if scale > 1 else g

    def centres_for(side: int, per_axis: int) -> list[tuple[int, int]]:
        # the box's centre, then a grid (longer along a thin strip)
        nx = int(np.clip(box.w // side, 1, per_axis + 2 if box.h < 3 * side else per_axis))
        ny = int(np.clip(box.h // side, 1, per_axis + 2 if box.w < 3 * side else per_axis))
        grid = [(int(x), int(y))
                for y in np.linspace(box.y + side / 2, box.y + box.h - side / 2, ny)
                for x in np.linspace(box.x + side / 2, box.x + box.w - side / 2, nx)]
        return [(box.x + box.w // 2, box.y + box.h // 2)] + grid[:per_axis * per_axis]

    def search(side: int, centres: list[tuple[int, int]], best: dict[str, Any]) -> int:
        tried = 0
        for (pcx, pcy) in centres:
            px, py = int(np.clip(pcx - side // 2, 0, W - side)), int(np.clip(pcy - side // 2, 0, H - side))
            patch = g[py:py + side, px:px + side]
            if float(patch.std()) < 3.0 and _noise_sigma(patch) < MIN_COPY_NOISE:
                continue  # flat and noiseless: nothing to match
            ps = side // scale
            if ps < 6:
                continue
            sp = small[py // scale:py // scale + ps, px // scale:px // scale + ps]
            if sp.shape != (ps, ps) or float(sp.std()) < 1e-3:
                continue
            tried += 1
            res = cv2.matchTemplate(small, sp, cv2.TM_CCOEFF_NORMED)
            # exclude the patch itself and tiny shifts (a copy may overlap its source, so only
            # shifts under a quarter of the patch are ruled out; the noise test keeps shifted
            # views of a smooth surface from passing as copies)
            min_shift = max(6, side // 4)
            ms = max(1, min_shift // scale)
            res[max(0, py // scale - ms + 1):py // scale + ms, max(0, px // scale - ms + 1):px // scale + ms] = -1.0
            sup = max(2, ps // 6)
            for _ in range(8):  # the 8 best candidates (a periodic texture has many)
                _, cval, _, (mx, my) = cv2.minMaxLoc(res)
                if cval <= 0.2:
                    break
                res[max(0, my - sup):my + sup + 1, max(0, mx - sup):mx + sup + 1] = -1.0
                fx, fy = mx * scale, my * scale
                if scale > 1:
                    x0, y0 = max(0, fx - 2 * scale), max(0, fy - 2 * scale)
                    x1, y1 = min(W, fx + side + 2 * scale), min(H, fy + side + 2 * scale)
                    win = g[y0:y1, x0:x1]
                    if win.shape[0] < side or win.shape[1] < side:
                        continue
                    r2 = cv2.matchTemplate(win, patch, cv2.TM_CCOEFF_NORMED)
                    _, fval, _, (rx, ry) = cv2.minMaxLoc(r2)
                    fx, fy = x0 + rx, y0 + ry
                else:
                    fval = cval
                if abs(fx - px) < min_shift and abs(fy - py) < min_shift:
                    continue
                cand = g[fy:fy + side, fx:fx + side]
                if cand.shape != patch.shape or fval < 0.5:
                    # below NCC 0.5 the content itself differs; a residual at the noise level
                    # there only means the patch is mostly noise
                    continue
                ratio = _match_residual(patch, cand)
                offsets.append((px, py, side, fx - px, fy - py))
                if ratio < best["residual_ratio"]:
                    best.clear()
                    best.update(residual_ratio=ratio, ncc=float(fval),
                                patch=[px, py, side, side], match=[fx, fy, side, side],
                                offset=[fx - px, fy - py])
        return tried

    best: dict[str, Any] = {"residual_ratio": float("inf")}
    offsets: list[tuple[int, int, int, int, int]] = []   # patch x, y, side; shift dx, dy
    tried = search(side, centres_for(side, 3), best)
    if best["residual_ratio"] > 1.0 and side // 2 >= 16:
        # second pass, smaller patches: they fit inside an irregular pasted object whose box
        # also holds untouched surroundings
        side = side // 2
        tried += search(side, centres_for(side, 4), best)
    if tried == 0:
        return ProbeResult(None, {"box": [box.x, box.y, box.w, box.h]},
                           f"the claimed region is flat and noiseless (std < 3 levels, noise "
                           f"< {MIN_COPY_NOISE} level): a copy cannot be told from a plain area")
    if "ncc" not in best:
        return ProbeResult(False, {"patches": tried, "ncc": None, "threshold": 1.0},
                           "no part of the picture resembles the claimed region")
    best["residual_ratio"] = round(best["residual_ratio"], 3)
    best["ncc"] = round(best["ncc"], 4)
    best.update(threshold=1.0, patches=tried, downsample=scale)
    r = best["residual_ratio"]
    luma_q = _luma_quantization(media) if r > 1.0 else None
    if luma_q is not None:
        # a JPEG save after the copy re-quantized both ends on different grid phases, so their
        # noise no longer agrees (the test below); the content, on the file's grid, still does
        agree = max((_requant_agreement(g, luma_q, *o) for o in offsets),
                    key=lambda a: a["agreement"] - a["agreement_1px_off"], default=None)
        if agree is not None and agree["agreement"] >= REQUANT_AGREE and (
                agree["agreement"] - agree["agreement_1px_off"] >= REQUANT_MARGIN):
            best.update(agree, requant_threshold=REQUANT_AGREE)
            return ProbeResult(True, best,
                               f"a part of the claimed region recurs at shift {agree['offset'][0]:+d}, "
                               f"{agree['offset'][1]:+d}: on the file's 8x8 grid, "
                               f"{agree['agreement']:.0%} of its quantized DCT coefficients "
                               f"equal those of the copy brought there "
                               f"({agree['agreement_1px_off']:.0%} one pixel off; threshold "
                               f"{REQUANT_AGREE:.0%}): a copy saved as JPEG afterwards")
        if agree is not None:
            best.update(agree)
    # <= 1.0: the two places share their noise (a copy). Independent noise on the same content
    # gives 1.13..1.6 with this estimator (1st-99th percentile, simulated for sigma 0.5..4), so
    # 1.0..1.1 is left undecided rather than guessed.
    found: bool | None = True if r <= 1.0 else (None if r < 1.1 else False)
    if found is None:
        return ProbeResult(None, best,
                           f"closest match elsewhere (NCC {best['ncc']:.3f}) differs by {r:.2f}x the "
                           "region's own noise: at the noise level, a re-noised copy cannot be told "
                           "from a different surface")
    return ProbeResult(found, best,
                       # the patch's own place and its match's: a sub-patch of the claimed
                       # box, so the match is not the box's source corner
                       f"its {best['patch'][2]} px patch at x={best['patch'][0]}, "
                       f"y={best['patch'][1]} best matches x={best['match'][0]}, "
                       f"y={best['match'][1]} (shift {best['offset'][0]:+d}, "
                       f"{best['offset'][1]:+d}; NCC {best['ncc']:.3f}) "
                       f"differs by {best['residual_ratio']:.2f}x the region's own noise "
                       f"({'a copy' if found else 'not a copy'}; threshold 1.0)")


def _resampling_stat(img: np.ndarray) -> Callable[[Box], float]:
    g = to_gray(img).astype(np.float64)

    def periodicity(a: np.ndarray) -> float:
        if a.shape[0] < 32 or a.shape[1] < 32:
            return float("nan")
        out = []
        for axis in (0, 1):
            d2 = np.abs(np.diff(a, n=2, axis=axis)).mean(axis=1 - axis)
            d2 = d2 - ndimage.uniform_filter1d(d2, 9)
            spec = np.abs(np.fft.rfft(d2 * np.hanning(d2.size)))
            spec = spec[3:]  # drop DC and the slowest trends
            # exclude the 8-pixel JPEG grid harmonics
            n = d2.size
            freqs = np.arange(3, 3 + spec.size) / n
            keep = np.abs((freqs * 8) - np.round(freqs * 8)) > 2.0 / n * 8
            s = spec[keep] if keep.sum() > 8 else spec
            out.append(float(s.max() / (np.median(s) + 1e-9)))
        return max(out)
    return lambda b: periodicity(_crop(g, b))


def probe_resampling(media: Any, target: Target) -> ProbeResult:
    """Peak/median of the second-derivative spectrum (8-px grid harmonics excluded) >= 1.5x
    the controls' and z >= 3; in a tile scan, a tile >= 1.5x the others."""
    return _local_probe(media, target, _resampling_stat, name="second-derivative periodicity",
                        unit="", decide=_one_sided(1.5), what="interpolation periodicity",
                        min_side=32)


def _cfa_ratio(img: np.ndarray) -> Callable[[Box], float]:
    gch = np.asarray(img, dtype=np.float64)[..., 1]
    k = np.array([[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]])
    resid = gch - ndimage.convolve(gch, k, mode="reflect")
    yy, xx = np.mgrid[: gch.shape[0], : gch.shape[1]]
    lattice = ((yy + xx) % 2) == 0

    def stat(b: Box) -> float:
        r = _crop(resid, b)
        lat = _crop(lattice, b)
        va = float(np.mean(r[lat] ** 2)) + 1e-6
        vb = float(np.mean(r[~lat] ** 2)) + 1e-6
        return max(va, vb) / min(va, vb)
    return stat


def probe_missing_cfa(media: Any, target: Target) -> ProbeResult:
    """Green-lattice residual variance ratio (max/min of the two quincunx lattices): a camera
    demosaiced image shows >= 1.3; found (CFA missing) when the region's ratio is < 1.1 and, with
    controls, below half-way to the controls' ratio."""
    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    stat = _cfa_ratio(img)
    box = target.box or _full_box(img)
    g = to_gray(img)
    H, W = g.shape
    v = stat(box)
    meas: dict[str, Any] = {"lattice_ratio": round(v, 4), "box": [box.x, box.y, box.w, box.h]}
    if box.area < 0.35 * H * W:
        r = compare_with_controls(stat, (H, W), box, gray=g)
        if r:
            meas.update(control_median=r["control_median"], z=r["z"])
            found = v < 1.1 and r["control_median"] >= 1.2
            return ProbeResult(found, meas, f"CFA lattice ratio {v:.2f} in the box vs "
                               f"{r['control_median']:.2f} in controls")
    found = v < 1.1
    return ProbeResult(found, meas, f"CFA lattice ratio {v:.2f} over the region "
                       + ("(no demosaicing periodicity)" if found else "(demosaicing periodicity present)"))


def probe_generator_fingerprint(media: Any, target: Target) -> ProbeResult:
    """Peak-to-neighbourhood ratio of the mean residual power spectrum at N/2, N/4 and 3N/4-type
    positions (2x/4x upsampling), on 128x128 tiles; found when >= 8. Not used on JPEGs, whose
    8x8 grid puts peaks at the same places.

    A fingerprint of synthetic speech (an audio item, or a claim on a frequency band of a
    video's soundtrack) is the output of a learned model (spoof_lfcc, oversmoothing) with no
    independent measurement here: the probe says so instead of measuring a picture."""
    if getattr(media, "kind", None) == "audio" or target.low_hz is not None or \
            target.high_hz is not None:
        return ProbeResult(None, {"audio": True},
                           "a synthetic-speech fingerprint is a learned model's reading; no "
                           "independent probe re-measures it, so the claim rests on its "
                           "detector alone")
    img = _image_of(media, target)
    if img is None:
        return ProbeResult(None, {}, "no picture to measure")
    if getattr(media, "quantization", None):
        return ProbeResult(None, {"jpeg": True}, "the JPEG 8x8 block grid puts spectral peaks "
                           "exactly where upsampling peaks fall: this probe cannot tell them apart")
    g = to_gray(img).astype(np.float64)
    box = target.box or _full_box(img)
    g = _crop(g, box)
    resid = g - ndimage.gaussian_filter(g, 1.0)
    N = 128
    tiles = [resid[y:y + N, x:x + N] for y in range(0, g.shape[0] - N + 1, N)
             for x in range(0, g.shape[1] - N + 1, N)]
    if len(tiles) < 2:
        return ProbeResult(None, {}, "region smaller than two 128x128 tiles")
    win = np.outer(np.hanning(N), np.hanning(N))
    P = np.mean([np.abs(np.fft.fft2((t - t.mean()) * win)) ** 2 for t in tiles[:64]], axis=0)
    logP = np.log(P + 1e-12)
    peaks = []
    for (u, v) in ((N // 2, 0), (0, N // 2), (N // 2, N // 2), (N // 4, 0), (0, N // 4),
                   (N // 4, N // 4), (N // 2, N // 4), (N // 4, N // 2)):
        nb = [logP[(u + du) % N, (v + dv) % N] for du in range(-3, 4) for dv in range(-3, 4)
              if max(abs(du), abs(dv)) >= 2]
        peaks.append(math.exp(logP[u, v] - float(np.median(nb))))
    top = float(max(peaks))
    found = top >= 8.0
    return ProbeResult(found, {"peak_ratio": round(top, 3), "threshold": 8.0, "tiles": len(tiles)},
                       f"strongest periodic spectral peak {top:.1f}x its neighbourhood (threshold 8)")


# --------------------------------------------------------------------------- metadata probes

_EXIF_TAGS = {"Software": 305, "DateTime": 306, "Artist": 315, "Make": 271, "Model": 272,
              "ImageDescription": 270, "Copyright": 33432, "DateTimeOriginal": 36867,
              "UserComment": 37510, "HostComputer": 316}
EDITORS = ("photoshop", "gimp", "lightroom", "affinity", "pixelmator", "paint.net", "snapseed",
           "facetune", "faceapp", "stable diffusion", "stable-diffusion", "midjourney", "dall-e",
           "dall·e", "firefly", "comfyui", "automatic1111", "novelai", "invokeai", "imagen",
           "flux", "sdxl", "canva", "picsart", "deepfacelab", "faceswap", "elevenlabs", "sora",
           "runway", "capcut", "premiere", "after effects", "final cut", "davinci")


def metadata_lookup(media: Any) -> dict[str, str]:
    """All textual metadata of a media object, flattened to ``{"NS:Field": value}``."""
    out: dict[str, str] = {}
    exif = getattr(media, "exif", None) or {}
    inv = {v: k for k, v in _EXIF_TAGS.items()}
    for k, v in exif.items():
        name = inv.get(k, k) if isinstance(k, int) else str(k).split(":")[-1]
        out[f"EXIF:{name}"] = v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
    xmp = getattr(media, "xmp", None)
    if xmp:
        xs = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else str(xmp)
        for m in re.finditer(r"(\w+):(\w+)\s*=\s*\"([^\"]*)\"", xs):
            out.setdefault(f"XMP:{m.group(2)}", m.group(3))
        for m in re.finditer(r"<(\w+):(\w+)>([^<]+)</\1:\2>", xs):
            out.setdefault(f"XMP:{m.group(2)}", m.group(3).strip())
        for m in re.finditer(r"<(\w+):(\w+)\s+rdf:resource\s*=\s*\"([^\"]*)\"", xs):
            out.setdefault(f"XMP:{m.group(2)}", m.group(3))
        out["XMP:_raw"] = xs
    dqt = _describe_quantization(getattr(media, "quantization", None))
    if dqt:
        out["JPEG:DQT"] = dqt
    for k, v in (getattr(media, "text_chunks", None) or {}).items():
        out[f"PNG:{k}"] = str(v)
    for k, v in (getattr(media, "iptc", None) or {}).items():
        out[f"IPTC:{k}"] = str(v)
    for attr in ("container_metadata", "stream_metadata", "tags"):
        for k, v in (getattr(media, attr, None) or {}).items():
            out[f"CONTAINER:{k}"] = str(v)
    return out


def _describe_quantization(tables: dict[int, list[int]] | None) -> str | None:
    """Read the JPEG quantization tables as a field value: ``IJG quality N`` when they equal the
    standard tables scaled by libjpeg's formula, the name of a known preset when they equal
    one (``resources/quant_tables.json``), else ``custom tables``."""
    if not tables:
        return None
    import json
    from importlib import resources as ir

    known = json.loads(ir.files("resources").joinpath("quant_tables.json").read_text("utf-8"))
    ijg = known["ijg"]
    std = [ijg["luminance"], ijg["chrominance"]]
    ids = sorted(tables)
    for q in range(1, 101):
        scale = 5000 // q if q < 50 else 200 - 2 * q
        ok = True
        for i, tid in enumerate(ids[:2]):
            ref = [min(max((v * scale + 50) // 100, 1), 255 if max(tables[tid]) <= 255 else 32767)
                   for v in std[min(i, 1)]]
            if list(tables[tid]) != ref:
                ok = False
                break
        if ok:
            return f"IJG quality {q}"
    for preset in known.get("presets", []):
        ref = preset["tables"]
        if len(ref) == len(ids) and all(list(tables[t]) == list(r) for t, r in zip(ids, ref)):
            return str(preset["name"])
    return "custom tables"


def _field_value(meta: dict[str, str], name: str) -> tuple[str | None, str | None]:
    ns, _, fld = name.partition(":")
    if not fld:
        ns, fld = "", name
    fl = fld.lower()
    for k, v in meta.items():
        kns, _, kf = k.partition(":")
        if kf.lower() == fl and (not ns or kns.upper() == ns.upper()
                                 or (ns.upper() in ("PNG", "ITXT") and kns == "PNG")):
            return k, v
    if ns:  # same field under another namespace (a Software tag in PNG text, XMP...)
        for k, v in meta.items():
            if k.partition(":")[2].lower() == fl:
                return k, v
    return None, None


def probe_software_metadata(media: Any, target: Target) -> ProbeResult:
    """Read the named field; found when it exists (and contains the claimed value, if any). With
    no field named: found when any metadata field names a known editor or generator."""
    meta = metadata_lookup(media)
    if target.field and not target.field.upper().startswith("C2PA"):
        key, val = _field_value(meta, target.field)
        if key is None:
            return ProbeResult(False, {"field": target.field, "present": False,
                                       "fields_present": sorted(k for k in meta if k != "XMP:_raw")[:40]},
                               f"the item has no {target.field} field")
        meas = {"field": key, "value": val[:200], "present": True}
        if target.value:
            ok = target.value.lower() in val.lower()
            meas["claimed_value"] = target.value
            return ProbeResult(ok, meas, f"{key} reads '{val[:80]}'"
                               + ("" if ok else f", not '{target.value}'"))
        return ProbeResult(True, meas, f"{key} reads '{val[:80]}'")
    hits = {k: v[:120] for k, v in meta.items() if k != "XMP:_raw"
            and any(e in v.lower() for e in EDITORS)}
    raw_xmp = meta.get("XMP:_raw", "")
    if not hits and any(e in raw_xmp.lower() for e in EDITORS):
        hits["XMP"] = next(e for e in EDITORS if e in raw_xmp.lower())
    found = bool(hits)
    return ProbeResult(found, {"matches": hits, "fields_read": len(meta)},
                       ("metadata names " + "; ".join(f"{k}='{v}'" for k, v in hits.items()))
                       if found else f"none of {len(meta)} metadata fields names an editor or generator")


def _file_bytes(media: Any, limit: int = 64 * 1024 * 1024) -> bytes:
    raw = getattr(media, "raw", b"") or b""
    if raw:
        return raw
    path = getattr(media, "path", None)
    if path:
        try:
            with open(path, "rb") as fh:
                return fh.read(limit)
        except OSError:
            return b""
    return b""


def probe_content_credentials(media: Any, target: Target) -> ProbeResult:
    """Look for a C2PA manifest store (JUMBF box labelled ``c2pa``) in the file's bytes. Found
    when present; its signature's validity is the provenance detector's business."""
    data = _file_bytes(media)
    if not data:
        return ProbeResult(None, {}, "the file's bytes are not available")
    has_jumbf = b"jumb" in data
    has_c2pa = b"c2pa" in data
    found = has_jumbf and has_c2pa
    return ProbeResult(found, {"jumbf_box": has_jumbf, "c2pa_label": has_c2pa},
                       "a C2PA manifest store (JUMBF 'c2pa') is in the file" if found
                       else "no C2PA manifest store in the file")


def probe_thumbnail_mismatch(media: Any, target: Target) -> ProbeResult:
    """Decode the EXIF thumbnail and correlate it with the picture scaled to its size; found when
    the correlation is < 0.90 (a different picture or an edit after the thumbnail was made)."""
    thumb = getattr(media, "thumbnail", None)
    if getattr(media, "kind", None) != "image":
        return ProbeResult(False, {"thumbnail": False}, "only still images carry an EXIF thumbnail")
    if not thumb:
        return ProbeResult(False, {"thumbnail": False}, "the image has no embedded thumbnail")
    from PIL import Image

    try:
        t = np.asarray(Image.open(io.BytesIO(thumb)).convert("L"), dtype=np.float64)
    except Exception as exc:  # a damaged thumbnail is itself worth saying
        return ProbeResult(None, {"thumbnail": True}, f"the thumbnail cannot be decoded: {exc}")
    main = Image.fromarray(np.asarray(media.pixels)).convert("L").resize((t.shape[1], t.shape[0]),
                                                                         Image.BILINEAR)
    m = np.asarray(main, dtype=np.float64)
    c = float(np.corrcoef(t.ravel(), m.ravel())[0, 1]) if t.std() > 0 and m.std() > 0 else 0.0
    meas = {"correlation": round(c, 4), "threshold": 0.90, "thumbnail_size": [t.shape[1], t.shape[0]]}
    if c < 0.90:
        return ProbeResult(True, meas, f"thumbnail vs picture correlation {c:.3f} (threshold 0.90)")
    box = target.box
    if box is not None and media.width and media.height:
        # A local edit: compare inside the claimed box, after matching the two globally
        # (gain and offset), against the thumbnail's own quantisation noise elsewhere.
        sx, sy = t.shape[1] / media.width, t.shape[0] / media.height
        x0, y0 = int(box.x * sx), int(box.y * sy)
        x1 = max(x0 + 1, int(np.ceil((box.x + box.w) * sx)))
        y1 = max(y0 + 1, int(np.ceil((box.y + box.h) * sy)))
        a, b = np.polyfit(m.ravel(), t.ravel(), 1)
        diff = np.abs(t - (a * m + b))
        inside = diff[y0:y1, x0:x1]
        outside = np.delete(diff.ravel(), (np.arange(y0, y1)[:, None] * t.shape[1]
                                           + np.arange(x0, x1)[None, :]).ravel())
        ref = float(np.percentile(outside, 95)) if outside.size else 0.0
        share = float((inside > max(ref, 6.0)).mean()) if inside.size else 0.0
        meas.update({"box_differing_share": round(share, 4), "reference_abs_diff_p95": round(ref, 2)})
        found = share >= 0.25
        return ProbeResult(found, meas, f"{share:.0%} of the thumbnail inside the box differs from "
                           f"the picture beyond the rest of the image's 95th percentile ({ref:.1f})")
    return ProbeResult(False, meas, f"thumbnail vs picture correlation {c:.3f} (threshold 0.90)")


# --------------------------------------------------------------------------- audio probes


def _audio_of(media: Any):
    if getattr(media, "kind", None) == "audio":
        return media
    if getattr(media, "kind", None) == "video" and getattr(media, "has_audio", False):
        return media.audio()
    return None


def _span(audio: Any, target: Target, pad: float = 0.0) -> tuple[np.ndarray, int, float, float]:
    sr = int(audio.sample_rate)
    dur = audio.samples.shape[0] / sr
    start = 0.0 if target.start is None else target.start
    end = dur if target.end is None else min(target.end, dur)
    if end - start < 0.2:  # a point in time: look half a second either side
        start, end = start - 0.5, end + 0.5
    start, end = max(0.0, start - pad), min(dur, end + pad)
    # the span's samples only: a whole hour in float64 was 1.3 GB per probe
    return _mono_between(audio, int(start * sr), int(end * sr)), sr, start, end


def probe_clipping(media: Any, target: Target) -> ProbeResult:
    """Runs of >= 3 consecutive samples within 0.1% of the span's peak, with the peak >= 0.5
    of full scale; found with >= 3 such runs (flat tops)."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    if x.size == 0:
        return ProbeResult(None, {}, "empty span")
    peak = float(np.max(np.abs(x)))
    at = np.abs(x) >= peak * 0.999 - 1e-9
    runs = _runs(at)
    long = [r for r in runs if r[1] - r[0] >= 3]
    found = peak >= 0.5 and len(long) >= 3
    return ProbeResult(found, {"peak": round(peak, 5), "flat_top_runs": len(long),
                               "clipped_samples": int(sum(b - a for a, b in long)),
                               "span": [round(s, 3), round(e, 3)]},
                       f"{len(long)} flat-topped runs at the peak level {peak:.3f} from "
                       f"{s:.2f} s to {e:.2f} s")


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    m = np.concatenate([[False], mask.astype(bool), [False]])
    d = np.diff(m.astype(np.int8))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist()))


#: Half a 16-bit step: a sample this close to zero is what a 16-bit file stores as exact zero.
#: Inserted silence in a lossy file (MP3, AAC) decodes to tiny non-zero floats, not to 0.0.
HALF_16BIT_STEP = 0.5 / 32768.0
#: Room tone for the dead-air probe: this percentile of the live 50 ms frame levels outside the
#: span. The 10th sat in soft speech on LJSpeech clips (few pauses) and put two ordinary pauses
#: 20.5 dB "below room tone"; at the 5th, 7 of the 842 pauses of the authentic corpus files are
#: found, all in the alsa-utils prompts, which do hold runs of digital zero.
ROOM_PCT = 5


def probe_digital_silence(media: Any, target: Target) -> ProbeResult:
    """Dead air in the span, measured two ways; found when either holds:

    - runs of samples within half a 16-bit step of zero, each >= 10 ms, totalling >= 20 ms;
    - the span's quietest 50 ms frame lies >= 20 dB below the recording's room tone, the
      :data:`ROOM_PCT` th percentile level of its live 50 ms frames outside the span (a pause
      that a microphone in that room cannot produce: silence inserted and then re-encoded,
      or gated).
    """
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    runs = [r for r in _runs(np.abs(x) <= HALF_16BIT_STEP) if (r[1] - r[0]) >= 0.010 * sr]
    total = sum(b - a for a, b in runs) / sr
    meas: dict[str, Any] = {"zero_runs": len(runs), "zero_seconds": round(total, 4),
                            "span": [round(s, 3), round(e, 3)]}
    text = f"{len(runs)} runs within half a 16-bit step of zero, {total * 1000:.0f} ms in all"
    if total >= 0.020:
        return ProbeResult(True, meas, text)
    n = int(0.050 * sr)
    levels = 20 * np.log10(_frames_rms_of(audio, n))
    centres = (np.arange(levels.size) + 0.5) * n / sr
    dead = 20 * np.log10(HALF_16BIT_STEP)
    outside = levels[((centres < s) | (centres > e)) & (levels > dead)]
    inside = levels[(centres >= s) & (centres <= e)]
    if outside.size < 10 or inside.size == 0:
        return ProbeResult(False, meas, text + "; too little audio outside the span for a "
                                               "room tone")
    room = float(np.percentile(outside, ROOM_PCT))
    drop = room - float(inside.min())
    meas.update({"room_tone_dbfs": round(room, 1), "quietest_dbfs": round(float(inside.min()), 1),
                 "drop_db": round(drop, 1)})
    return ProbeResult(drop >= 20.0, meas, text + f"; quietest 50 ms {drop:.1f} dB below the "
                                                  f"room tone ({room:.1f} dBFS)")


def _mono_between(audio: Any, a: int, b: int) -> np.ndarray:
    """The channel mean of samples ``a:b``, float64 (only those samples are converted)."""
    blk = np.asarray(audio.samples[max(0, a):max(0, b)])
    return blk.astype(np.float64) if blk.ndim == 1 else blk.mean(axis=1, dtype=np.float64)


def _frames_rms_of(audio: Any, n: int, block: int = 1 << 22) -> np.ndarray:
    """:func:`_frames_rms` of the whole mono mix, a block of about ``block`` samples at a time:
    an hour of CD-rate stereo was mixed down and squared whole (1.3 GB) to find a room tone."""
    total = audio.samples.shape[0] // n
    step = max(1, block // n)
    out = [_frames_rms(_mono_between(audio, i * n, min(total, i + step) * n), n)
           for i in range(0, total, step)]
    return np.concatenate(out) if out else np.zeros(0)


def _frames_rms(x: np.ndarray, n: int) -> np.ndarray:
    k = x.size // n
    if k == 0:
        return np.zeros(0)
    return np.sqrt(np.mean(x[: k * n].reshape(k, n) ** 2, axis=1, dtype=np.float64) + 1e-20)


def probe_hiss(media: Any, target: Target) -> ProbeResult:
    """RMS level (dBFS) of the high band (>= 4 kHz, or the claimed band; 8th-order Butterworth)
    in the quietest 20% of 32 ms frames: found when >= -55 dBFS (an audible floor) and within
    25 dB of the loudest frames' high band (a floor that does not drop between words)."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    lo = target.low_hz or 4000.0
    hi = target.high_hz if target.high_hz and target.high_hz < sr / 2 else None
    if lo >= sr / 2:
        return ProbeResult(False, {}, f"{lo:.0f} Hz is above the Nyquist frequency {sr / 2:.0f} Hz")
    n = int(0.032 * sr)
    if x.size < 4 * n:
        return ProbeResult(None, {}, "span shorter than 128 ms")
    if hi:
        sos = signal.butter(8, [lo, hi], btype="bandpass", fs=sr, output="sos")
    else:
        sos = signal.butter(8, lo, btype="highpass", fs=sr, output="sos")
    hb = _frames_rms(signal.sosfiltfilt(sos, x), n)
    tot = _frames_rms(x, n)
    order = np.argsort(tot)
    q = max(1, len(order) // 5)
    quiet = float(20 * np.log10(np.median(hb[order[:q]]) + 1e-10))
    loud = float(20 * np.log10(np.median(hb[order[-q:]]) + 1e-10))
    found = quiet >= -55.0 and (loud - quiet) <= 25.0
    return ProbeResult(found, {"quiet_high_band_dbfs": round(quiet, 2),
                               "loud_high_band_dbfs": round(loud, 2), "band_low_hz": lo,
                               "threshold_dbfs": -55.0, "span": [round(s, 3), round(e, 3)]},
                       f"high-band level {quiet:.1f} dBFS in the quietest frames vs {loud:.1f} dBFS "
                       "in the loudest (audible hiss from -55 dBFS)")


def probe_buzz(media: Any, target: Target) -> ProbeResult:
    """Welch PSD (1 Hz resolution): peaks at f0 in {50, 60} Hz (those inside a claimed band;
    the band's centre too when it is narrow, <= 40 Hz) and its first 4 harmonics, each against
    the median of +-10 Hz; found when >= 2 of them stand >= 10 dB above."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    if x.size < sr // 2:
        return ProbeResult(None, {}, "span shorter than 0.5 s: too short for 1 Hz resolution")
    nper = min(x.size, sr)
    f, P = signal.welch(x, fs=sr, nperseg=nper)
    df = f[1] - f[0]
    f0s = [50.0, 60.0]
    if target.low_hz and target.high_hz and target.high_hz < 500:
        # a band around one frequency ("hum at 100 Hz") names it; a wide band (a detector's
        # 48-402 Hz harmonic range) names the mains frequencies it spans
        lo, hi = target.low_hz, target.high_hz
        f0s = [f for f in f0s if lo <= f <= hi]
        if hi - lo <= 40 or not f0s:
            f0s.append((lo + hi) / 2)
    best: tuple[float, int, list[float]] = (0.0, 0, [])
    for f0 in f0s:
        gains = []
        for k in range(1, 6):
            fk = f0 * k
            if fk >= sr / 2 - 20:
                break
            i = int(round(fk / df))
            pk = P[max(0, i - 1):i + 2].max()
            nb = np.r_[P[max(0, i - int(10 / df)):max(0, i - 2)], P[i + 3:i + int(10 / df) + 1]]
            gains.append(float(10 * np.log10(pk / (np.median(nb) + 1e-20))))
        hits = sum(g >= 10.0 for g in gains)
        if hits > best[1] or (hits == best[1] and sum(gains) > sum(best[2])):
            best = (f0, hits, gains)
    f0, hits, gains = best
    found = hits >= 2
    return ProbeResult(found, {"f0_hz": f0, "harmonic_gains_db": [round(g, 1) for g in gains],
                               "peaks_over_10db": hits, "span": [round(s, 3), round(e, 3)]},
                       f"{hits} of the {f0:.0f} Hz mains harmonics stand 10 dB or more above "
                       "their neighbourhood")


def probe_pops(media: Any, target: Target) -> ProbeResult:
    """Samples whose first difference is >= 15x the RMS of the difference over the surrounding
    20 ms (leave-one-out) and >= 0.05: found with at least one such isolated jump. Periodic
    glottal edges recur several times per 20 ms and stay near sqrt(n/k) ~ 10x."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    if x.size < 16:
        return ProbeResult(None, {}, "empty span")
    d = np.diff(x)
    w = max(5, int(0.020 * sr))
    tot = ndimage.uniform_filter1d(d ** 2, w) * w
    env = np.sqrt(np.maximum(tot - d ** 2, 0) / (w - 1) + 1e-12)
    z = np.abs(d) / env
    jumps = np.flatnonzero((z >= 15.0) & (np.abs(d) >= 0.05))
    # merge jumps closer than 2 ms (one pop has an up and a down edge)
    events = 0
    last = -10 ** 9
    for j in jumps:
        if j - last > 0.002 * sr:
            events += 1
        last = j
    found = events >= 1
    return ProbeResult(found, {"pops": events, "max_jump_ratio": round(float(z.max()), 2),
                               "threshold": 15.0, "span": [round(s, 3), round(e, 3)]},
                       f"{events} impulsive jumps (>= 15x the surrounding 20 ms level; largest "
                       f"{float(z.max()):.1f}x)")


def probe_vocoder_band_limit(media: Any, target: Target) -> ProbeResult:
    """Mean PSD above the cutoff vs the octave below it. With a claimed cutoff: found when the
    band above is >= 30 dB below the octave under it. With none: the cutoff is where the
    smoothed spectrum first falls 40 dB under its 1-4 kHz level; found when that is under 90%
    of Nyquist."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    x, sr, s, e = _span(audio, target)
    nyq = sr / 2
    if x.size < 1024:
        return ProbeResult(None, {}, "span too short for a spectrum")
    f, P = signal.welch(x, fs=sr, nperseg=1024)
    if target.low_hz is not None:
        fc = target.low_hz
        if fc >= nyq:
            return ProbeResult(False, {"nyquist_hz": nyq},
                               f"{fc:.0f} Hz is at or above the Nyquist frequency {nyq:.0f} Hz")
        above = P[(f >= fc) & (f < nyq * 0.98)]
        below = P[(f >= fc / 2) & (f < fc)]
        if above.size == 0 or below.size == 0:
            return ProbeResult(None, {}, "no spectrum bins either side of the cutoff")
        drop = float(10 * np.log10(below.mean() / (above.mean() + 1e-20)))
        found = drop >= 30.0
        return ProbeResult(found, {"cutoff_hz": fc, "drop_db": round(drop, 2), "threshold_db": 30.0,
                                   "nyquist_hz": nyq},
                           f"energy above {fc:.0f} Hz is {drop:.1f} dB below the octave under it")
    Pdb = 10 * np.log10(ndimage.uniform_filter1d(P, 5) + 1e-20)
    ref = float(np.median(Pdb[(f >= 1000) & (f <= min(4000, nyq * 0.5))])) if nyq > 2000 else float(Pdb.max())
    under = np.flatnonzero((Pdb < ref - 40.0) & (f > 1000))
    cutoff = float(f[under[0]]) if under.size else nyq
    found = cutoff < 0.9 * nyq
    return ProbeResult(found, {"cutoff_hz": round(cutoff, 1), "nyquist_hz": nyq},
                       f"the spectrum falls 40 dB below its speech-band level at {cutoff:.0f} Hz "
                       f"(Nyquist {nyq:.0f} Hz)")


def _noise_floor_db(x: np.ndarray, sr: int) -> float:
    r = _frames_rms(x, max(1, int(0.020 * sr)))
    if r.size == 0:
        return float("nan")
    return float(20 * np.log10(np.percentile(r, 10) + 1e-10))


def probe_audio_splice(media: Any, target: Target) -> ProbeResult:
    """Noise-floor jump (10th-percentile 20 ms RMS, 1 s either side) at the claimed time, vs the
    same jump at 8+ other times: found when |jump| >= 6 dB and its robust z >= 3."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    sr = int(audio.sample_rate)
    dur = audio.samples.shape[0] / sr
    times = [target.start] if target.start is not None else []
    if target.end is not None and target.start is not None and target.end - target.start > 0.2:
        times.append(target.end)
    if not times:
        return ProbeResult(None, {}, "a splice claim needs a time")

    def jump(t: float) -> float:
        a = _mono_between(audio, max(0, int((t - 1.0) * sr)), int(t * sr))
        b = _mono_between(audio, int(t * sr), int((t + 1.0) * sr))
        if a.size < sr // 4 or b.size < sr // 4:
            return float("nan")
        return _noise_floor_db(b, sr) - _noise_floor_db(a, sr)

    j = [jump(t) for t in times]
    j = [v for v in j if math.isfinite(v)]
    if not j:
        return ProbeResult(None, {}, "not enough audio either side of the claimed time")
    jv = max(j, key=abs)
    ctrl_t = [t for t in np.linspace(1.0, dur - 1.0, 12) if all(abs(t - c) > 1.0 for c in times)]
    cj = np.array([v for v in (jump(t) for t in ctrl_t) if math.isfinite(v)])
    if cj.size >= 4:
        spread = max(_robust_std(np.abs(cj)), 1.0)
        z = (abs(jv) - float(np.median(np.abs(cj)))) / spread
    else:
        z = abs(jv) / 2.0
    found = abs(jv) >= 6.0 and z >= 3.0
    return ProbeResult(found, {"floor_jump_db": round(jv, 2), "z": round(float(z), 2),
                               "control_times": int(cj.size), "times": times},
                       f"noise floor changes by {jv:+.1f} dB at the claimed time (z={z:.1f} "
                       f"against {cj.size} other times)")


#: Pitch tracking for the prosody probe: YIN at 8 kHz, 40 ms windows, 10 ms hop, 50-500 Hz.
YIN_FS = 8000
YIN_WINDOW = 320
YIN_HOP = 80
YIN_TAU = (16, 160)
YIN_CHUNK = 2000
#: YIN's absolute threshold on the cumulative-mean-normalised difference (de Cheveigne &
#: Kawahara 2002 use 0.1-0.15); a frame above it everywhere is unvoiced.
YIN_THRESHOLD = 0.25
#: Pitch spread of a voice, semitone SD over voiced frames. Human read speech spans 2-5 st
#: (Traunmueller & Eriksson 1995); under MONOTONE_ST the contour is flat (the claim holds),
#: from VARIED_ST on it moves as a human voice does (the claim is false); between, no call.
MONOTONE_ST = 1.5
VARIED_ST = 2.0
#: Energy-envelope autocorrelation at syllable lags (0.12-0.5 s) from which the rhythm is
#: metronomic; natural speech stays well under it.
METRONOMIC_AC = 0.7


def yin_f0(x: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """F0 (Hz, 0 where unvoiced) and frame RMS every 10 ms by YIN (de Cheveigne & Kawahara
    2002, "YIN, a fundamental frequency estimator for speech and music", JASA 111(4)): the
    difference function via FFT, cumulative-mean normalisation, the first dip under the
    absolute threshold, parabolic refinement. Resampled to 8 kHz first."""
    from math import gcd

    if sr != YIN_FS:
        g = gcd(int(sr), YIN_FS)
        x = signal.resample_poly(x, YIN_FS // g, int(sr) // g)
    lo, hi = YIN_TAU
    n_fr = (x.size - YIN_WINDOW - hi) // YIN_HOP + 1
    if n_fr <= 0:
        return np.zeros(0), np.zeros(0)
    if n_fr > YIN_CHUNK:  # a block of frames at a time: 10 minutes whole would take 1 GB
        parts = [yin_f0(x[i * YIN_HOP: (i + YIN_CHUNK - 1) * YIN_HOP + YIN_WINDOW + hi], YIN_FS)
                 for i in range(0, n_fr, YIN_CHUNK)]
        return (np.concatenate([p[0] for p in parts])[:n_fr],
                np.concatenate([p[1] for p in parts])[:n_fr])
    idx = np.arange(n_fr)[:, None] * YIN_HOP + np.arange(YIN_WINDOW + hi)[None, :]
    fr = x[idx]
    nfft = 1 << int(np.ceil(np.log2(2 * (YIN_WINDOW + hi))))
    spec = np.fft.rfft(fr, nfft)
    spec_w = np.fft.rfft(fr[:, :YIN_WINDOW], nfft)
    r = np.fft.irfft(spec * np.conj(spec_w), nfft)[:, :hi + 1]
    sq = np.concatenate([np.zeros((n_fr, 1)), np.cumsum(fr ** 2, axis=1)], axis=1)
    e0 = sq[:, YIN_WINDOW][:, None]
    taus = np.arange(hi + 1)
    e_tau = sq[:, taus + YIN_WINDOW] - sq[:, taus]
    d = np.maximum(e0 + e_tau - 2 * r, 0.0)
    cmnd = np.ones_like(d)
    csum = np.cumsum(d[:, 1:], axis=1)
    cmnd[:, 1:] = d[:, 1:] * taus[1:] / np.maximum(csum, 1e-12)
    f0 = np.zeros(n_fr)
    for i in range(n_fr):
        c = cmnd[i, lo:hi]
        below = np.flatnonzero(c < YIN_THRESHOLD)
        if below.size == 0:
            continue
        j = int(below[0])
        while j + 1 < c.size and c[j + 1] < c[j]:  # walk down to the dip's bottom
            j += 1
        t = float(j + lo)
        if 0 < j < c.size - 1:
            a, b, cc = c[j - 1], c[j], c[j + 1]
            den = a - 2 * b + cc
            if abs(den) > 1e-12:
                t += 0.5 * (a - cc) / den
        f0[i] = YIN_FS / t
    rms = np.sqrt(e0[:, 0] / YIN_WINDOW)
    return f0, rms


def probe_unnatural_prosody(media: Any, target: Target) -> ProbeResult:
    """A voice too regular to be human, measured with its own pitch tracker (YIN, not the
    detector's DIO/StoneMask) over the span (at least 2 s, centred on a shorter claim):

    - pitch spread: semitone SD of F0 over voiced frames (runs >= 50 ms, within 20 dB of the
      span's loudest frame, octave errors beyond 7 st of the median dropped). Found under
      ``MONOTONE_ST`` (1.5 st); the claim is false from ``VARIED_ST`` (2.0 st) on, where the
      contour moves as human speech does (2-5 st, Traunmueller & Eriksson 1995);
    - rhythm (spans of 3 s or more): peak autocorrelation of the log energy envelope at
      syllable lags 0.12-0.5 s; found from ``METRONOMIC_AC`` (0.7).

    Needs 0.5 s of voiced speech, else it cannot judge (None)."""
    audio = _audio_of(media)
    if audio is None:
        return ProbeResult(False, {}, "the item has no audio")
    dur = audio.samples.shape[0] / float(audio.sample_rate)
    s = 0.0 if target.start is None else max(0.0, target.start)
    e = dur if target.end is None else min(target.end, dur)
    if e - s < 2.0:
        mid = 0.5 * (s + e)
        s, e = max(0.0, mid - 1.0), min(dur, mid + 1.0)
    sr = int(audio.sample_rate)
    x = _mono_between(audio, int(s * sr), int(e * sr))
    f0, rms = yin_f0(x, sr)
    if f0.size < 10:
        return ProbeResult(None, {"span": [round(s, 3), round(e, 3)]}, "span too short for pitch")
    loud = rms >= 0.1 * rms.max() if rms.max() > 0 else np.zeros(rms.shape, bool)
    voiced = (f0 > 0) & loud
    keep = np.zeros_like(voiced)
    for a, b in _runs(voiced):
        if b - a >= 5:
            keep[a:b] = True
    meas: dict[str, Any] = {"span": [round(s, 3), round(e, 3)],
                            "voiced_s": round(float(keep.sum()) * YIN_HOP / YIN_FS, 2)}
    if keep.sum() * YIN_HOP / YIN_FS < 0.5:
        return ProbeResult(None, meas, f"only {meas['voiced_s']:.2f} s of voiced speech in the "
                                       "span (needs 0.5 s)")
    st = 12 * np.log2(f0[keep] / 100.0)
    st = st[np.abs(st - np.median(st)) <= 7.0]
    sd = float(np.std(st))
    meas.update({"f0_sd_semitones": round(sd, 3), "f0_median_hz": round(
        float(100.0 * 2 ** (np.median(st) / 12)), 1), "monotone_below_st": MONOTONE_ST,
        "human_from_st": VARIED_ST})
    ac_peak = None
    if e - s >= 3.0:
        env = np.log(rms + 1e-6)
        env = env - env.mean()
        if np.any(env):
            ac = np.correlate(env, env, "full")[env.size - 1:]
            ac = ac / ac[0]
            ac_peak = float(np.max(ac[12:51])) if ac.size > 51 else None
    if ac_peak is not None:
        meas["rhythm_autocorr"] = round(ac_peak, 3)
    metronomic = ac_peak is not None and ac_peak >= METRONOMIC_AC
    text = (f"pitch spread {sd:.2f} semitones SD over {meas['voiced_s']:.1f} s of voiced speech "
            f"(monotone under {MONOTONE_ST}; human utterances 2-5)"
            + (f", rhythm autocorrelation {ac_peak:.2f} (metronomic from {METRONOMIC_AC})"
               if ac_peak is not None else ""))
    if sd < MONOTONE_ST or metronomic:
        return ProbeResult(True, meas, text)
    if sd >= VARIED_ST:
        return ProbeResult(False, meas, text)
    return ProbeResult(None, meas, text + "; between the bounds, no call")


# --------------------------------------------------------------------------- video probes


def iter_frames(media: Any, *, start: float = 0.0, end: float | None = None,
                max_side: int | None = None) -> Iterator[Any]:
    """Frames of a video between ``start`` and ``end`` s: ``VideoMedia.frames`` when the media
    layer provides it, else a direct PyAV decode of that span only (seek to ``start``)."""
    try:
        yield from media.frames(start=start, end=end, max_side=max_side)
        return
    except (ImportError, AttributeError, NotImplementedError):
        pass
    import av

    from triage_app.media import VideoFrame

    with av.open(media.path) as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base) if stream.time_base else 1.0 / max(media.fps, 1.0)
        if start > 0:
            from triage_app._video_io import seek_primed

            seek_primed(container, stream, int(start / tb))
        for i, fr in enumerate(container.decode(stream)):
            t = float(fr.pts * tb) if fr.pts is not None else i / max(media.fps, 1.0)
            if t < start - 1e-6:
                continue
            if end is not None and t > end + 1e-6:
                break
            yield VideoFrame(index=int(round(t * media.fps)), time=t,
                             rgb=fr.to_ndarray(format="rgb24"), key_frame=bool(fr.key_frame))


def _luma_series(media: Any, target: Target) -> tuple[np.ndarray, np.ndarray, np.ndarray, Box | None]:
    start = target.start or 0.0
    end = target.end if target.end is not None else media.duration
    if end - start < 0.2:
        start, end = max(0.0, start - 0.5), end + 0.5
    inside, outside, times = [], [], []
    box = target.box
    for fr in iter_frames(media, start=start, end=end):
        g = to_gray(fr.rgb)
        if box is None:
            inside.append(float(g.mean()))
            outside.append(float("nan"))
        else:
            b = box.clip(g.shape[1], g.shape[0])
            m = np.ones(g.shape, bool)
            m[b.y:b.y + b.h, b.x:b.x + b.w] = False
            inside.append(float(_crop(g, b).mean()))
            outside.append(float(g[m].mean()) if m.any() else float("nan"))
        times.append(fr.time)
    return np.array(inside), np.array(outside), np.array(times), box


def probe_flicker(media: Any, target: Target) -> ProbeResult:
    """Frame-to-frame luma fluctuation: robust std of the second difference of the region's mean
    luma over the span / 2 (independent of smooth fades). Found when >= 2 levels (8-bit) and,
    with a box, >= 2x the same measure for the rest of the frame."""
    if getattr(media, "kind", None) != "video":
        return ProbeResult(False, {}, "flicker needs a video")
    inside, outside, times, box = _luma_series(media, target)
    if inside.size < 5:
        return ProbeResult(None, {"frames": int(inside.size)}, "fewer than 5 frames in the span")
    fl = float(np.std(np.diff(inside, n=2)) / 2)
    meas: dict[str, Any] = {"flicker_levels": round(fl, 3), "frames": int(inside.size),
                            "span": [round(float(times[0]), 3), round(float(times[-1]), 3)]}
    found = fl >= 2.0
    if box is not None and np.isfinite(outside).all():
        fo = float(np.std(np.diff(outside, n=2)) / 2)
        meas["rest_of_frame_levels"] = round(fo, 3)
        found = found and fl >= 2.0 * fo
    return ProbeResult(found, meas, f"luma fluctuation {fl:.2f} levels frame to frame over "
                       f"{inside.size} frames (threshold 2.0)")


def probe_temporal_artifacts(media: Any, target: Target) -> ProbeResult:
    """Mean absolute frame difference of the region; found when its largest spike is >= 4x the
    median and (with a box) the rest of the frame does not spike at the same frame."""
    if getattr(media, "kind", None) != "video":
        return ProbeResult(False, {}, "temporal artifacts need a video")
    start = target.start or 0.0
    end = target.end if target.end is not None else media.duration
    if end - start < 0.2:
        start, end = max(0.0, start - 0.5), end + 0.5
    prev = None
    d_in, d_out = [], []
    box = target.box
    for fr in iter_frames(media, start=start, end=end):
        g = to_gray(fr.rgb)
        if prev is not None:
            diff = np.abs(g - prev)
            if box is None:
                d_in.append(float(diff.mean()))
            else:
                b = box.clip(g.shape[1], g.shape[0])
                m = np.ones(g.shape, bool)
                m[b.y:b.y + b.h, b.x:b.x + b.w] = False
                d_in.append(float(_crop(diff, b).mean()))
                d_out.append(float(diff[m].mean()) if m.any() else 0.0)
        prev = g
    if len(d_in) < 4:
        return ProbeResult(None, {"frames": len(d_in) + 1}, "fewer than 5 frames in the span")
    a = np.array(d_in)
    med = float(np.median(a)) + 0.05
    i = int(np.argmax(a))
    spike = float(a[i] / med)
    found = spike >= 4.0
    meas = {"max_change_ratio": round(spike, 3), "median_change": round(med, 3), "frames": len(a) + 1}
    if d_out:
        o = np.array(d_out)
        so = float(o[i] / (np.median(o) + 0.05))
        meas["rest_of_frame_ratio"] = round(so, 3)
        found = found and so < 0.5 * spike
    return ProbeResult(found, meas, f"largest frame-to-frame change {spike:.1f}x the median")


# --------------------------------------------------------------------------- registry

PROBES: dict[str, Callable[[Any, Target], ProbeResult]] = {
    "noise": probe_noise,
    "blurriness": probe_blurriness,
    "blockiness": probe_blockiness,
    "double_compression": probe_double_compression,
    "color_inconsistency": probe_color_inconsistency,
    "blending_artifacts": probe_blending_artifacts,
    "banding": probe_banding,
    "cloned_region": probe_cloned_region,
    "resampling": probe_resampling,
    "missing_cfa": probe_missing_cfa,
    "generator_fingerprint": probe_generator_fingerprint,
    "software_metadata": probe_software_metadata,
    "content_credentials": probe_content_credentials,
    "thumbnail_mismatch": probe_thumbnail_mismatch,
    "clipping": probe_clipping,
    "digital_silence": probe_digital_silence,
    "hiss": probe_hiss,
    "buzz": probe_buzz,
    "pops": probe_pops,
    "vocoder_band_limit": probe_vocoder_band_limit,
    "audio_splice": probe_audio_splice,
    "flicker": probe_flicker,
    "temporal_artifacts": probe_temporal_artifacts,
    "unnatural_prosody": probe_unnatural_prosody,
}


def has_probe(artifact: str | None) -> bool:
    return artifact in PROBES


def get_probe(artifact: str | None) -> Callable[[Any, Target], ProbeResult] | None:
    """The probe for an artifact id, or None when the artifact cannot be re-measured here."""
    return PROBES.get(artifact) if artifact else None
