"""Shared helpers for the classical image-forensics detectors.

Everything here is plain numpy/scipy/OpenCV over arrays: luma, per-block statistics, robust
z-scores, turning a per-block anomaly map into a full-size heatmap, extracting connected
anomalous regions as findings, and the logistic mapping from a measurement to a probability.

Score mapping
-------------
Each detector reduces its evidence to one scalar ``s`` (documented in its module; typically the
robust z-score of the strongest anomalous region) and maps it with

    p = 1 / (1 + exp(-k (s - s0)))

The constants ``(s0, k)`` (``x0``, ``k`` in the code) of each detector were fitted by
one-feature logistic regression (``benchmarks/eval_image_classical.py --fit``) on the
development corpus (NoSo authentic vs copy-move) plus the generated splices of that script (for
``cfa_traces`` its synthetic CFA splices only, for ``resampling_traces`` its rescaled pastes
only), checked with leave-one-scene-out cross-validation; they are stated in each module and in
each detector's ``params`` so that a report cites them. ``s`` is 0 when no anomalous region is
found. No image size, file size or format enters ``s``.
"""

from __future__ import annotations

import math
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import numpy as np

from detectors.registry import NotApplicable
from triage_app.model import Box, DetectorResult, Finding, Mask, Measurement

#: Robust scale factor: MAD * 1.4826 estimates the standard deviation of a Gaussian.
MAD_TO_SIGMA = 1.4826


# --------------------------------------------------------------------------- input checks


class ImageTooSmall(NotApplicable, ValueError):
    """The image is smaller than any image detector can judge (a ValueError too, for callers
    of the functions outside the pipeline)."""


def check_image(image: Any) -> np.ndarray:
    """Return ``image.pixels`` (or ``image`` itself) as a uint8 (H, W, 3) array, or raise.

    Raises
    ------
    TypeError
        When ``image`` is neither an ``ImageMedia`` nor an array.
    ValueError
        When the array is not (H, W, 3) uint8.
    ImageTooSmall
        When it is smaller than 16x16 (the pipeline reports ``not_applicable``).
    """
    pixels = getattr(image, "pixels", image)
    if not isinstance(pixels, np.ndarray):
        raise TypeError(f"image must be an ImageMedia or an array, got {type(image).__name__}")
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise ValueError(f"image pixels must have shape (H, W, 3), got {pixels.shape}")
    if pixels.dtype != np.uint8:
        raise ValueError(f"image pixels must be uint8, got {pixels.dtype}")
    if min(pixels.shape[:2]) < 16:
        raise ImageTooSmall(f"image is too small to judge ({pixels.shape[1]}x{pixels.shape[0]} px, "
                            "needs at least 16x16)")
    return pixels


def luma(pixels: np.ndarray) -> np.ndarray:
    """ITU-R BT.601 luma (the Y of JPEG's YCbCr) as float32, shape (H, W)."""
    p = pixels.astype(np.float32)
    return 0.299 * p[..., 0] + 0.587 * p[..., 1] + 0.114 * p[..., 2]


def is_grey(pixels: np.ndarray) -> bool:
    """True when the three channels are identical (a greyscale image expanded to RGB)."""
    return bool(np.array_equal(pixels[..., 0], pixels[..., 1])
                and np.array_equal(pixels[..., 1], pixels[..., 2]))


#: At most this many distinct colours: a palette image (GIF, PNG-8), see :func:`palette_size`.
PALETTE_MAX = 256
#: A colour image of at least this many pixels with so few colours was quantized to a palette;
#: a smaller one (an icon, a flat graphic) may simply have few colours.
PALETTE_MIN_PIXELS = 64 * 64


def palette_size(pixels: np.ndarray) -> int | None:
    """Number of distinct colours of a colour image quantized to a palette, else None.

    A GIF or PNG-8 stores at most 256 colours; turning a photograph into one replaces its
    fine detail by the quantization error and, with dithering, by a fine pseudo-random
    pattern of its own. Detectors that read the pixel-level residual (sensor noise, generator
    up-sampling peaks, re-compression error) then measure the quantizer. Greyscale images
    (three equal channels) have at most 256 levels anyway and are not palette images here.
    A sample of pixels is counted first, so a photograph costs one small ``np.unique``.
    """
    if pixels.ndim != 3 or pixels.shape[2] < 3 or pixels.shape[0] * pixels.shape[1] < \
            PALETTE_MIN_PIXELS:
        return None
    rgb = pixels[..., :3]

    def colours(px: np.ndarray) -> int:
        c = px.reshape(-1, 3).astype(np.uint32)
        return int(np.unique((c[:, 0] << 16) | (c[:, 1] << 8) | c[:, 2]).size)

    step = max(1, int(np.sqrt(rgb.shape[0] * rgb.shape[1] / 65536)))
    if colours(rgb[::step, ::step]) > PALETTE_MAX or is_grey(rgb):
        return None
    n = colours(rgb)
    return n if n <= PALETTE_MAX else None


def palette_reason(n_colours: int) -> str:
    """The ``not_applicable`` reason of a residual-based detector on a palette image."""
    return (f"palette image ({n_colours} colours, as in a GIF or PNG-8): the colour "
            "quantization and its dithering replace the fine detail this detector reads")


#: A picture with at least this share of its pixels in exactly flat areas was drawn by a
#: computer (a screenshot, a chart, a slide, a scanned form rendered flat), not taken by a
#: camera: sensor noise leaves no two neighbouring pixels equal. Across the development
#: corpus's 143 images (camera photos, JPEGs down to q70, AI pictures) the largest share is
#: 0.44 (a JPEG's flat clipped background); drawn screens and charts measure 0.96-0.99.
GRAPHIC_MIN_FLAT = 0.7
#: The same for a JPEG file: quantization flattens smooth areas of photographs too (a
#: noiseless synthetic sky saved at q90 measures 0.73), while drawn screens saved as JPEG keep
#: 0.86-0.89 (q50-q95).
GRAPHIC_MIN_FLAT_JPEG = 0.8


def flat_share(pixels: np.ndarray, *, samples: int = 250_000) -> float:
    """Share of pixels whose right and lower neighbours have exactly their colour, over an
    even grid of at most ``samples`` pixels (a photograph costs a few milliseconds)."""
    h, w = pixels.shape[:2]
    if h < 2 or w < 2:
        return 0.0
    step = max(1, int(np.sqrt((h - 1) * (w - 1) / samples)))
    ys = np.arange(0, h - 1, step)
    xs = np.arange(0, w - 1, step)
    p = pixels[np.ix_(ys, xs)]
    down = pixels[np.ix_(ys + 1, xs)]
    right = pixels[np.ix_(ys, xs + 1)]
    same = (p == down) & (p == right)
    if same.ndim == 3:
        same = same.all(axis=-1)
    return float(same.mean())


#: (weak reference to the pixels, their flat share): the detectors of one picture ask in turn
_last_flat: tuple[Any, float] | None = None


def _flat_share_once(pixels: np.ndarray) -> float:
    global _last_flat
    if _last_flat is not None and _last_flat[0]() is pixels:
        return _last_flat[1]
    share = flat_share(pixels)
    try:
        _last_flat = (weakref.ref(pixels), share)
    except TypeError:  # an array view that cannot be weakly referenced: not cached
        pass
    return share


def computer_graphic(pixels: np.ndarray, *, jpeg: bool = False) -> float | None:
    """The flat share of a computer-drawn picture (:data:`GRAPHIC_MIN_FLAT`, or
    :data:`GRAPHIC_MIN_FLAT_JPEG` for a JPEG file), else None."""
    share = _flat_share_once(pixels)
    return share if share >= (GRAPHIC_MIN_FLAT_JPEG if jpeg else GRAPHIC_MIN_FLAT) else None


def is_jpeg_file(image: Any) -> bool:
    """True when the item's bytes are a JPEG file."""
    return (getattr(image, "raw", b"") or b"")[:3] == b"\xff\xd8\xff"


def drawn_picture_reason(pixels: np.ndarray, image: Any, what: str) -> str | None:
    """The ``not_applicable`` reason of a detector on a computer-drawn picture
    (:func:`computer_graphic`; ``what``: why that detector cannot judge one), else None."""
    share = computer_graphic(pixels, jpeg=is_jpeg_file(image))
    if share is None:
        return None
    return (f"a computer-drawn picture (screenshot, chart or graphic: {share:.0%} of its pixels "
            f"lie in exactly flat areas, which no camera produces): {what}")


#: :func:`block_codec`'s name for a lossy WebP file.
LOSSY_WEBP = "lossy WebP (VP8)"
#: ISO base-media (HEIF) brands of still images coded by a video codec's intra frames.
_HEIF_BRANDS = {b"heic": "HEIF (HEVC)", b"heix": "HEIF (HEVC)", b"heim": "HEIF (HEVC)",
                b"heis": "HEIF (HEVC)", b"hevc": "HEIF (HEVC)", b"hevx": "HEIF (HEVC)",
                b"avif": "AVIF (AV1)", b"avis": "AVIF (AV1)"}


def block_codec(image: Any) -> str | None:
    """Name of the lossy non-JPEG block codec the image file was written with, else None.

    Lossy WebP (VP8 intra: 4x4 transforms in 16x16 macroblocks, up to four quantizers chosen
    per segment, a loop filter), HEIF/HEIC (HEVC intra, the iPhone's photo format: 4x4 to
    32x32 transforms, deblocking) and AVIF (AV1 intra) code a photo the way a video encoder
    codes a key frame. Their block edges fall on the same multiples of 4 and 8 as JPEG's, and
    their quantizers change from block to block by design, so detectors built on JPEG's single
    8x8 grid and single table, or on periodic peaks of the residual spectrum, would read the
    codec as manipulation. Read from the file's bytes (``image.raw``); a bare array is None.
    """
    raw = bytes(getattr(image, "raw", b"") or b"")[:4096]
    if raw[:4] == b"RIFF" and raw[8:12] == b"WEBP":
        pos = 12
        while pos + 8 <= len(raw):
            tag, size = raw[pos:pos + 4], int.from_bytes(raw[pos + 4:pos + 8], "little")
            if tag == b"VP8 ":
                return LOSSY_WEBP
            if tag == b"VP8L":
                return None
            pos += 8 + size + (size & 1)
        return None
    if raw[4:8] == b"ftyp":
        size = int.from_bytes(raw[:4], "big")
        brands = [raw[8:12]] + [raw[i:i + 4] for i in range(16, min(size, len(raw)) - 3, 4)]
        for b in brands:
            if b in _HEIF_BRANDS:
                return _HEIF_BRANDS[b]
    return None


# --------------------------------------------------------------------------- orientation


def orientation_of(image: Any) -> int:
    """The EXIF Orientation (1-8) of an image file's pixels; 1 (as stored) when absent."""
    value = (getattr(image, "exif", None) or {}).get("Orientation", 1)
    try:
        o = int(value)
    except (TypeError, ValueError):
        return 1
    return o if 1 <= o <= 8 else 1


def upright(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """The picture as a viewer shows it: ``pixels`` (as stored) turned by EXIF ``orientation``.

    Phones store a portrait photo sideways and say how to turn it (EXIF 274); forensic
    measurements stay on the stored pixels (JPEG grid, sensor pattern), but a face detector
    and the regions it names (forehead above the eyes) need the face upright.
    """
    o = orientation
    if o == 2:
        return pixels[:, ::-1]
    if o == 3:
        return pixels[::-1, ::-1]
    if o == 4:
        return pixels[::-1]
    if o == 5:
        return pixels.swapaxes(0, 1)
    if o == 6:
        return np.rot90(pixels, k=-1)
    if o == 7:
        return pixels[::-1, ::-1].swapaxes(0, 1)
    if o == 8:
        return np.rot90(pixels, k=1)
    return pixels


def stored_map(view: np.ndarray, orientation: int) -> np.ndarray:
    """Inverse of :func:`upright`: a map computed on the upright view, in stored layout."""
    o = orientation
    if o in (2, 3, 4):
        return upright(view, o)  # a flip or a half turn is its own inverse
    if o == 5:
        return view.swapaxes(0, 1)
    if o == 6:
        return np.rot90(view, k=1)
    if o == 7:
        return view.swapaxes(0, 1)[::-1, ::-1]
    if o == 8:
        return np.rot90(view, k=-1)
    return view


def stored_point(xv: int, yv: int, orientation: int, stored_shape: tuple[int, ...]
                 ) -> tuple[int, int]:
    """Stored (x, y) of the pixel at (xv, yv) of the upright view."""
    h, w = stored_shape[:2]
    return {1: (xv, yv), 2: (w - 1 - xv, yv), 3: (w - 1 - xv, h - 1 - yv),
            4: (xv, h - 1 - yv), 5: (yv, xv), 6: (yv, h - 1 - xv),
            7: (w - 1 - yv, h - 1 - xv), 8: (w - 1 - yv, xv)}[orientation]


def stored_box(box: Box, orientation: int, stored_shape: tuple[int, ...]) -> Box:
    """A box of the upright view, in stored pixel coordinates."""
    a = stored_point(box.x, box.y, orientation, stored_shape)
    b = stored_point(box.x + box.w - 1, box.y + box.h - 1, orientation, stored_shape)
    x0, x1 = sorted((a[0], b[0]))
    y0, y1 = sorted((a[1], b[1]))
    return Box(int(x0), int(y0), int(x1 - x0 + 1), int(y1 - y0 + 1))


def upright_box(box: Box, orientation: int, stored_shape: tuple[int, ...]) -> Box:
    """Inverse of :func:`stored_box`: a box of the stored image, in the upright view."""
    h, w = stored_shape[:2]
    view_shape = (w, h) if orientation in (5, 6, 7, 8) else (h, w)
    # the stored picture is the upright view turned by the inverse orientation
    return stored_box(box, {6: 8, 8: 6}.get(orientation, orientation), view_shape)


# --------------------------------------------------------------------------- blocks


def block_view(arr: np.ndarray, block: int) -> np.ndarray:
    """View ``arr`` (H, W) cropped to whole blocks as (H//block, W//block, block, block)."""
    nby, nbx = arr.shape[0] // block, arr.shape[1] // block
    a = arr[: nby * block, : nbx * block]
    return a.reshape(nby, block, nbx, block).swapaxes(1, 2)


def block_mean(arr: np.ndarray, block: int) -> np.ndarray:
    """Mean of ``arr`` (H, W) or (H, W, C) over non-overlapping ``block`` x ``block`` tiles.

    Uses OpenCV's area interpolation, which for an integer factor is the exact tile mean
    (float32 accumulation); returns float64 of shape (H // block, W // block[, C]).
    """
    import cv2

    nby, nbx = arr.shape[0] // block, arr.shape[1] // block
    a = arr[: nby * block, : nbx * block]
    if a.dtype != np.float32:
        a = a.astype(np.float32)
    out = cv2.resize(np.ascontiguousarray(a), (nbx, nby), interpolation=cv2.INTER_AREA)
    out = out.reshape((nby, nbx) + arr.shape[2:])
    return out.astype(np.float64)


def block_sum(arr: np.ndarray, block: int) -> np.ndarray:
    """Sum of ``arr`` over non-overlapping ``block`` x ``block`` tiles (see :func:`block_mean`)."""
    return block_mean(arr, block) * float(block * block)


def block_median(arr: np.ndarray, block: int) -> np.ndarray:
    """Median of ``arr`` (H, W) over non-overlapping tiles."""
    v = block_view(arr, block)
    return np.median(v.reshape(v.shape[0], v.shape[1], -1), axis=2)


def box_smooth(blockmap: np.ndarray, size: int = 3) -> np.ndarray:
    """Mean over a ``size`` x ``size`` neighbourhood of blocks (edges reflected)."""
    if size <= 1:
        return blockmap.astype(np.float64)
    from scipy.ndimage import uniform_filter

    return uniform_filter(blockmap.astype(np.float64), size=size, mode="reflect")


# --------------------------------------------------------------------------- robust statistics


def robust_center_scale(values: np.ndarray, *, floor: float = 1e-6) -> tuple[float, float]:
    """Median and MAD-based standard deviation of the finite entries of ``values``."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return 0.0, floor
    med = float(np.median(v))
    mad = float(np.median(np.abs(v - med))) * MAD_TO_SIGMA
    return med, max(mad, floor)


def robust_z(values: np.ndarray, *, floor: float = 1e-6,
             valid: np.ndarray | None = None) -> np.ndarray:
    """(values - median) / (1.4826 MAD), statistics taken over ``valid`` entries (default all).

    The median and MAD describe "the rest of the image": a region covering less than half the
    image does not move them much, which is why they are used instead of mean and std.
    """
    v = np.asarray(values, dtype=np.float64)
    ref = v if valid is None else v[valid]
    med, scale = robust_center_scale(ref, floor=floor)
    return (v - med) / scale


# --------------------------------------------------------------------------- maps and regions


def heat_from_z(z: np.ndarray, *, z0: float = 2.0, z1: float = 6.0) -> np.ndarray:
    """Map an anomaly z (one-sided) to 0..1: 0 below ``z0``, 1 above ``z1``, linear between."""
    return np.clip((np.asarray(z, dtype=np.float64) - z0) / (z1 - z0), 0.0, 1.0)


def upsample_blockmap(blockmap: np.ndarray, shape: tuple[int, int], block: int,
                      *, offset: tuple[int, int] = (0, 0), smooth: bool = True) -> np.ndarray:
    """Full-size float32 heatmap (H, W) in 0..1 from a per-block map in 0..1.

    Block (i, j) covers pixels ``offset + (i*block .. (i+1)*block)``; pixels past the last
    whole block take the nearest block's value. ``smooth`` uses bilinear interpolation between
    block centres (nicer to look at; the regions are extracted from the block map itself).
    """
    import cv2

    h, w = shape
    bm = np.clip(np.nan_to_num(blockmap.astype(np.float32), nan=0.0), 0.0, 1.0)
    nby, nbx = bm.shape
    oy, ox = offset
    out = np.zeros((h, w), dtype=np.float32)
    if nby == 0 or nbx == 0:
        return out
    ch, cw = nby * block, nbx * block
    interp = cv2.INTER_LINEAR if smooth else cv2.INTER_NEAREST
    big = cv2.resize(bm, (cw, ch), interpolation=interp)
    out[oy:oy + ch, ox:ox + cw] = big[: h - oy, : w - ox]
    # extend to the borders not covered by whole blocks
    if oy > 0:
        out[:oy, ox:ox + cw] = out[oy:oy + 1, ox:ox + cw]
    if oy + ch < h:
        out[oy + ch:, ox:ox + cw] = out[oy + ch - 1:oy + ch, ox:ox + cw]
    if ox > 0:
        out[:, :ox] = out[:, ox:ox + 1]
    if ox + cw < w:
        out[:, ox + cw:] = out[:, ox + cw - 1:ox + cw]
    return np.clip(out, 0.0, 1.0)


@dataclass
class Region:
    """A connected set of anomalous blocks."""

    box: Box                 # in pixels
    coverage: float          # share of the box covered by the region's blocks
    n_blocks: int
    mean_z: float            # mean anomaly z over the region's blocks
    peak_z: float
    blocks: np.ndarray       # boolean block mask (nby, nbx)

    @property
    def score(self) -> float:
        """Region statistic used for the image-level score: mean z of the region."""
        return self.mean_z


def anomalous_regions(z: np.ndarray, block: int, shape: tuple[int, int], *,
                      threshold: float = 3.0, min_blocks: int = 2, max_share: float = 0.5,
                      offset: tuple[int, int] = (0, 0), grow: float | None = None,
                      ) -> list[Region]:
    """Connected regions of blocks whose anomaly ``z`` exceeds ``threshold``.

    Regions are seeded at ``threshold`` and grown (hysteresis) to neighbours above ``grow``
    (default ``0.6 * threshold``). Regions with fewer than ``min_blocks`` blocks, or covering
    more than ``max_share`` of the image (then it is "the image", not "a region"), are dropped.
    Returned strongest first.
    """
    from scipy import ndimage

    z = np.nan_to_num(np.asarray(z, dtype=np.float64), nan=0.0)
    if z.size == 0:
        return []
    low = 0.6 * threshold if grow is None else grow
    strong = z >= threshold
    weak = z >= low
    labels, n = ndimage.label(weak, structure=np.ones((3, 3), bool))
    if n == 0:
        return []
    keep = np.unique(labels[strong & (labels > 0)])
    h, w = shape
    oy, ox = offset
    total = z.size
    regions: list[Region] = []
    for lab in keep:
        blocks = labels == lab
        nb = int(blocks.sum())
        if nb < min_blocks or nb > max_share * total:
            continue
        ys, xs = np.nonzero(blocks)
        y0, y1 = int(ys.min()), int(ys.max()) + 1
        x0, x1 = int(xs.min()), int(xs.max()) + 1
        box = Box(ox + x0 * block, oy + y0 * block, (x1 - x0) * block, (y1 - y0) * block).clip(w, h)
        cov = nb / float((y1 - y0) * (x1 - x0))
        vals = z[blocks]
        regions.append(Region(box=box, coverage=round(cov, 4), n_blocks=nb,
                              mean_z=float(vals.mean()), peak_z=float(vals.max()), blocks=blocks))
    regions.sort(key=lambda r: r.score, reverse=True)
    return regions


def region_ratio(values: np.ndarray, blocks: np.ndarray) -> tuple[float, float]:
    """(median inside the region, median of the rest) of a per-block quantity."""
    inside = values[blocks]
    rest = values[~blocks]
    inside = inside[np.isfinite(inside)]
    rest = rest[np.isfinite(rest)]
    return (float(np.median(inside)) if inside.size else float("nan"),
            float(np.median(rest)) if rest.size else float("nan"))


# --------------------------------------------------------------------------- scores


def logistic(x: float, x0: float, k: float) -> float:
    """p = 1 / (1 + exp(-k (x - x0))), safe for large arguments."""
    t = -k * (float(x) - x0)
    if t > 50:
        return 0.0
    if t < -50:
        return 1.0
    return 1.0 / (1.0 + math.exp(t))


def strength_from_z(z: float, *, z0: float = 2.0, z1: float = 8.0) -> float:
    """A finding's strength in 0..1 from its region's anomaly z (linear between z0 and z1)."""
    return float(np.clip((z - z0) / (z1 - z0), 0.0, 1.0))


def region_findings(regions: Iterable[Region], *, artifact: str, detector: str,
                    measure: Callable[[Region], Measurement], max_findings: int = 5,
                    ) -> list[Finding]:
    """One :class:`Finding` (with a :class:`Mask` location) per region, strongest first."""
    out: list[Finding] = []
    for r in list(regions)[:max_findings]:
        out.append(Finding(artifact=artifact, location=Mask(box=r.box, coverage=r.coverage),
                           strength=strength_from_z(r.mean_z), measurement=measure(r),
                           detector=detector))
    return out


# --------------------------------------------------------------------------- JPEG helpers


def jpeg_roundtrip(arr: np.ndarray, quality: int) -> np.ndarray:
    """Encode ``arr`` (uint8 grey (H, W) or RGB (H, W, 3)) as JPEG at ``quality``, decode it."""
    import cv2

    if arr.ndim == 3:
        ok, buf = cv2.imencode(".jpg", arr[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
        return cv2.imdecode(buf, cv2.IMREAD_COLOR)[..., ::-1]
    ok, buf = cv2.imencode(".jpg", arr, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE)


def downsample_factor(h: int, w: int, max_pixels: int) -> int:
    """Smallest integer factor f so that (h/f) * (w/f) <= max_pixels."""
    f = 1
    while (h // f) * (w // f) > max_pixels:
        f += 1
    return f


class Timer:
    """Context manager measuring wall time in seconds (``.elapsed``)."""

    def __enter__(self) -> "Timer":
        self.t0 = time.perf_counter()
        self.elapsed = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.elapsed = time.perf_counter() - self.t0


def ok_result(name: str, version: str, *, score: float, findings: list[Finding],
              heatmap: np.ndarray | None, params: dict[str, Any], extras: dict[str, Any],
              runtime: float) -> DetectorResult:
    """A ``status='ok'`` result with a float32 0..1 heatmap."""
    hm = None if heatmap is None else np.clip(heatmap.astype(np.float32), 0.0, 1.0)
    return DetectorResult(name=name, version=version, status="ok", score=float(score),
                          findings=findings, runtime=runtime, params=params, heatmap=hm,
                          extras=extras)


__all__ = [
    "MAD_TO_SIGMA", "Region", "Timer", "anomalous_regions", "block_mean", "block_median",
    "block_sum", "block_view", "box_smooth", "check_image", "downsample_factor", "heat_from_z",
    "is_grey", "jpeg_roundtrip", "logistic", "luma", "ok_result", "region_findings",
    "region_ratio", "robust_center_scale", "robust_z", "strength_from_z", "upsample_blockmap",
]
