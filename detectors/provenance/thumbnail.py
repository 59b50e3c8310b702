"""Does the EXIF thumbnail still show the image?

A camera writes a small JPEG preview of the picture into EXIF IFD1 (JPEGInterchangeFormat)
at capture. Editing software that keeps the EXIF block but does not regenerate the preview
leaves a thumbnail of the *original*: a thumbnail that differs from the image says the image
was changed after the thumbnail was written (Kee & Farid 2010 use the thumbnail as a camera
signature; the mismatch test itself is the classic "thumbnail analysis" of forensic tools,
e.g. JPEGsnoop and Forensically).

Method
------
1. Decode the thumbnail; reduce the image to the thumbnail's size with an area (box) filter,
   trying the three ways cameras fit an aspect ratio: whole image (same aspect), letterboxed
   (the image inside bars) and centre-cropped; when EXIF ``Orientation`` is set, the pixels
   with that orientation undone are tried too (in case they were handed over upright).
   The best-correlating geometry is kept.
2. Convert both to YCbCr and blur them with a Gaussian (sigma :data:`BLUR_SIGMA` thumbnail
   pixels for Y, :data:`CHROMA_SIGMA` for Cb and Cr, since JPEG thumbnails store chroma at
   half resolution) to remove aliasing and JPEG differences between resamplers; fit each
   thumbnail channel as ``gain * image + offset`` (tone curves may differ slightly); the
   residual is the largest absolute per-channel difference, averaged over 3 x 3 thumbnail
   pixels. Area and nearest-neighbour reductions are both tried (some cameras decimate).
3. Two measurements: the global Pearson correlation ``r`` of the luminances, and the share
   ``f`` of thumbnail pixels whose residual exceeds ``max(ABS_THRESHOLD, K_NOISE * noise)``
   (``noise`` is the robust scale, 1.4826 x median, of the residual).
4. Mismatch evidence ``m = max(logistic((R_MID - r) / R_SCALE),
   logistic((f - F_MID) / F_SCALE))``; score ``= SCORE_MATCH + (SCORE_MISMATCH -
   SCORE_MATCH) * m``.

Constants come from a calibration on 24 photographs of the development corpus
(``noso_copymove/authentic`` and ``ml72_ai_vs_real/authentic``; re-run by
``test_calibration_on_corpus`` in ``tests/detectors/provenance/test_thumbnail.py`` with
``--runslow``): thumbnails of the unchanged image made with box, bilinear, bicubic,
Lanczos and nearest-neighbour reduction at JPEG quality 50, 75 and 95 (360 cases) gave
``r >= 0.995`` and ``f <= 0.17 %``; a patch pasted over 1 % of the image gave a median
``f`` of 1.2 % (0.5 %: 0.6 %), recolouring 1 % a median of 1.3 %, and a thumbnail of another
picture ``r <= 0.54``. ``R_MID = 0.93`` and ``F_MID = 0.5 %`` sit between these populations;
the scales put the worst unchanged case below 0.05 mismatch evidence. Real camera
thumbnails are processed differently from synthetic ones (sharpening, tone), hence the margin
above the synthetic worst case. A matching thumbnail is only weak evidence of authenticity
(:data:`SCORE_MATCH` 0.4), because editors that regenerate the thumbnail leave a match too;
a mismatch is strong but not certain (:data:`SCORE_MISMATCH` 0.9): some cameras crop or
process the preview differently from the main image. Edits covering less than ~0.5 % of the
image, or that copy similar content (sky over sky), are below what a 160 x 120 preview shows.

References
----------
1. E. Kee, H. Farid, "Digital image authentication from thumbnails", Proc. SPIE Symposium on
   Electronic Imaging, Media Forensics and Security II, 2010.
2. CIPA DC-008-2019 (Exif 2.32), section 4.5.4, IFD1 thumbnail (JPEGInterchangeFormat).
"""

from __future__ import annotations

import io
import math
import struct
import time
from typing import Any

import numpy as np

from detectors.registry import detector
from triage_app.model import Box, DetectorResult, Finding, Measurement, Whole
from triage_app._image_io import thumbnail_from_tiff  # one EXIF thumbnail parser, shared with intake

NAME = "exif_thumbnail"
VERSION = "1.0"

BLUR_SIGMA = 0.8
CHROMA_SIGMA = 1.6        # JPEG thumbnails are 4:2:0: chroma has half the resolution
ABS_THRESHOLD = 14.0      # grey levels (0..255) a thumbnail pixel may differ without counting
K_NOISE = 4.0             # ... or this many robust noise scales, whichever is larger
R_MID, R_SCALE = 0.93, 0.01
F_MID, F_SCALE = 0.005, 0.001
SCORE_MATCH = 0.4
SCORE_MISMATCH = 0.9
MIN_THUMB_SIDE = 16
ASPECT_TOLERANCE = 0.03


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


# --------------------------------------------------------------------------- reading


def exif_thumbnail_from_jpeg(raw: bytes) -> bytes | None:
    """The IFD1 JPEG thumbnail of a JPEG file's APP1 EXIF segment, or None."""
    if not raw.startswith(b"\xff\xd8"):
        return None
    i, n = 2, len(raw)
    while i + 4 <= n and raw[i] == 0xFF:
        marker = raw[i + 1]
        if marker in (0xD9, 0xDA):
            return None
        (length,) = struct.unpack(">H", raw[i + 2:i + 4])
        seg = raw[i + 4:i + 2 + length]
        if marker == 0xE1 and seg.startswith(b"Exif\x00\x00"):
            return thumbnail_from_tiff(seg[6:])
        i += 2 + length
    return None


def _resize(arr: np.ndarray, w: int, h: int, nearest: bool = False) -> np.ndarray:
    from PIL import Image

    img = Image.fromarray(np.ascontiguousarray(arr))
    method = Image.Resampling.NEAREST if nearest else Image.Resampling.BOX
    return np.asarray(img.resize((w, h), method), dtype=np.float64)


def _unorient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Undo EXIF orientation ``orientation`` (2..8): displayed pixels -> stored pixels.

    Used when a loader hands over pixels already turned upright, while the thumbnail, like
    the stored image, is not. Orientations 6 and 8 are each other's inverse; the others are
    their own.
    """
    return _orient(arr, {6: 8, 8: 6}.get(int(orientation), int(orientation)))


def _orient(arr: np.ndarray, orientation: int) -> np.ndarray:
    """Apply EXIF orientation ``orientation`` (2..8) to an array, as a viewer would."""
    ops = {2: lambda a: a[:, ::-1], 3: lambda a: a[::-1, ::-1], 4: lambda a: a[::-1],
           5: lambda a: a.transpose(1, 0, 2), 6: lambda a: np.rot90(a, -1),
           7: lambda a: np.rot90(a, -1)[:, ::-1], 8: lambda a: np.rot90(a, 1)}
    op = ops.get(int(orientation))
    return np.ascontiguousarray(op(arr)) if op else arr


def _candidates(img: np.ndarray, tw: int, th: int):
    """(name, image reduced to a thumbnail region, (x0, y0, w, h) in thumbnail, crop box in
    the image as (x0, y0, w, h)), for area (box) and nearest-neighbour reduction."""
    for nearest in (False, True):
        for name, small, region, crop in _geometries(img, tw, th, nearest):
            yield (name + (" nearest" if nearest else "")), small, region, crop


def _geometries(img: np.ndarray, tw: int, th: int, nearest: bool):
    H, W = img.shape[:2]
    ai, at = W / H, tw / th
    out = []
    if abs(ai / at - 1) <= ASPECT_TOLERANCE:
        out.append(("whole", _resize(img, tw, th, nearest), (0, 0, tw, th), (0, 0, W, H)))
        return out
    # letterbox: the whole image inside bars
    if ai > at:
        ch = max(1, round(tw / ai))
        y0 = (th - ch) // 2
        out.append(("letterbox", _resize(img, tw, ch, nearest), (0, y0, tw, ch), (0, 0, W, H)))
    else:
        cw = max(1, round(th * ai))
        x0 = (tw - cw) // 2
        out.append(("letterbox", _resize(img, cw, th, nearest), (x0, 0, cw, th), (0, 0, W, H)))
    # centre crop: the thumbnail shows the middle of the image
    if ai > at:
        cw = round(H * at)
        x0 = (W - cw) // 2
        out.append(("crop", _resize(img[:, x0:x0 + cw], tw, th, nearest), (0, 0, tw, th),
                    (x0, 0, cw, H)))
    else:
        ch = round(W / at)
        y0 = (H - ch) // 2
        out.append(("crop", _resize(img[y0:y0 + ch], tw, th, nearest), (0, 0, tw, th),
                    (0, y0, W, ch)))
    return out


def _luma(a: np.ndarray) -> np.ndarray:
    return a[..., 0] * 0.299 + a[..., 1] * 0.587 + a[..., 2] * 0.114


def _ycc(a: np.ndarray) -> np.ndarray:
    """JFIF (ITU-R BT.601 full-range) Y, Cb, Cr of an RGB float array."""
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    return np.stack([y, 0.5643 * (b - y), 0.7132 * (r - y)], axis=-1)


def compare(image: np.ndarray, thumb: np.ndarray) -> dict[str, Any]:
    """Compare an image (H, W, 3) with its thumbnail (h, w, 3), both uint8.

    Returns a dict: ``r`` (luminance correlation), ``share`` (fraction of thumbnail pixels
    whose residual is above ``threshold``), ``threshold``, ``noise``, ``geometry``,
    ``residual`` (thumbnail-sized map, grey levels), ``region`` (x0, y0, w, h of the
    compared part in the thumbnail), ``crop`` (the image part it shows).
    """
    from scipy import ndimage

    th, tw = thumb.shape[:2]
    best: dict[str, Any] | None = None
    t_all = thumb.astype(np.float64)
    for name, small, (x0, y0, w, h), crop in _candidates(image, tw, th):
        t = t_all[y0:y0 + h, x0:x0 + w]
        if min(h, w) < 4:
            continue
        a, b = _ycc(small), _ycc(t)
        for c, sigma in ((0, BLUR_SIGMA), (1, CHROMA_SIGMA), (2, CHROMA_SIGMA)):
            a[..., c] = ndimage.gaussian_filter(a[..., c], sigma)
            b[..., c] = ndimage.gaussian_filter(b[..., c], sigma)
        la, lb = a[..., 0].ravel(), b[..., 0].ravel()
        sa, sb = la.std(), lb.std()
        r = float(np.corrcoef(la, lb)[0, 1]) if sa > 1e-6 and sb > 1e-6 else 0.0
        res = np.zeros(a.shape[:2])
        for c in range(3):
            x, y = a[..., c].ravel(), b[..., c].ravel()
            var = float(x.var())
            cov = float(np.mean((x - x.mean()) * (y - y.mean())))
            gain = float(np.clip(cov / var, 0.5, 2.0)) if var > 1e-6 else 1.0
            off = float(np.mean(y - gain * x))
            res = np.maximum(res, np.abs(b[..., c] - (gain * a[..., c] + off)))
        res = ndimage.uniform_filter(res, size=3)
        noise = 1.4826 * float(np.median(res))
        thr = max(ABS_THRESHOLD, K_NOISE * noise)
        share = float(np.mean(res > thr))
        cand = {"r": r, "share": share, "threshold": thr, "noise": noise, "geometry": name,
                "residual": res, "region": (x0, y0, w, h), "crop": crop}
        if best is None or (r, -share) > (best["r"], -best["share"]):
            best = cand
    if best is None:
        raise ValueError("thumbnail too small to compare")
    return best


def _largest_region(mask: np.ndarray) -> tuple[int, int, int, int, float] | None:
    from scipy import ndimage

    lab, n = ndimage.label(mask)
    if n == 0:
        return None
    sizes = ndimage.sum(mask, lab, index=np.arange(1, n + 1))
    k = int(np.argmax(sizes)) + 1
    ys, xs = np.nonzero(lab == k)
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max() + 1, ys.max() + 1
    cover = float(sizes[k - 1]) / float((x1 - x0) * (y1 - y0))
    return int(x0), int(y0), int(x1 - x0), int(y1 - y0), cover


# --------------------------------------------------------------------------- detector


@detector(
    name=NAME,
    version=VERSION,
    modalities=("image",),
    method="EXIF IFD1 thumbnail compared with the reduced image (correlation and share of "
           "differing pixels after gain/offset fit) (Kee & Farid 2010)",
    reference="E. Kee, H. Farid, Digital image authentication from thumbnails, Proc. SPIE "
              "Media Forensics and Security II, 2010; CIPA DC-008 Exif 2.32 IFD1",
    limits="Needs an EXIF thumbnail. Editors that regenerate the thumbnail leave a match, so a "
           "match is weak evidence; thumbnails are ~160x120, so edits smaller than ~1% of the "
           "image may be missed.",
    artifacts=("thumbnail_mismatch",),
    params={"blur_sigma": BLUR_SIGMA, "abs_threshold": ABS_THRESHOLD, "k_noise": K_NOISE,
            "r_mid": R_MID, "r_scale": R_SCALE, "f_mid": F_MID, "f_scale": F_SCALE,
            "score_match": SCORE_MATCH, "score_mismatch": SCORE_MISMATCH},
    localizes=True,
    map_weight=0.5,
)
def thumbnail_mismatch(media: Any) -> DetectorResult:
    """Compare the EXIF thumbnail with the image (see the module docstring)."""
    from PIL import Image

    t0 = time.perf_counter()
    thumb_bytes = getattr(media, "thumbnail", None) or exif_thumbnail_from_jpeg(
        getattr(media, "raw", b"") or b"")
    if not thumb_bytes:
        return DetectorResult.not_applicable(NAME, VERSION, "no EXIF thumbnail")
    try:
        with Image.open(io.BytesIO(thumb_bytes)) as im:
            im.draft("RGB", im.size)
            thumb = np.asarray(im.convert("RGB"), dtype=np.uint8)
    except Exception as exc:  # noqa: BLE001 -- a broken thumbnail is reported, not raised
        return DetectorResult.not_applicable(
            NAME, VERSION, f"the EXIF thumbnail cannot be decoded ({type(exc).__name__})")
    th, tw = thumb.shape[:2]
    if min(th, tw) < MIN_THUMB_SIDE:
        return DetectorResult.not_applicable(
            NAME, VERSION, f"EXIF thumbnail too small to compare ({tw}x{th})")
    if float(_luma(thumb.astype(np.float64)).std()) < 2.0:
        return DetectorResult.not_applicable(NAME, VERSION, "EXIF thumbnail is blank")

    pixels = media.pixels
    try:
        results = [("stored", compare(pixels, thumb))]
        orientation = (getattr(media, "exif", None) or {}).get("Orientation")
        if isinstance(orientation, int) and 2 <= orientation <= 8:
            results.append((f"upright (orientation {orientation} undone)",
                            compare(_unorient(pixels, orientation), thumb)))
    except ValueError as exc:
        return DetectorResult.not_applicable(NAME, VERSION, f"cannot compare: {exc}")
    how, best = max(results, key=lambda kv: (kv[1]["r"], -kv[1]["share"]))
    img = pixels if how == "stored" else _unorient(pixels, int(orientation))

    r, share = best["r"], best["share"]
    m_global = _logistic((R_MID - r) / R_SCALE)
    m_local = _logistic((share - F_MID) / F_SCALE)
    mismatch = max(m_global, m_local)
    score = SCORE_MATCH + (SCORE_MISMATCH - SCORE_MATCH) * mismatch
    extras = {"thumbnail_size": [tw, th], "geometry": best["geometry"], "pixels": how,
              "correlation": round(r, 4), "differing_share": round(share, 5),
              "threshold": round(best["threshold"], 2), "noise": round(best["noise"], 2),
              "mismatch_evidence": round(mismatch, 4)}
    findings: list[Finding] = []
    heatmap = None
    if mismatch > 0.5:
        res = best["residual"]
        x0, y0, w, h = best["region"]
        cx, cy, cw, ch = best["crop"]
        sx, sy = cw / w, ch / h
        reg = _largest_region(res > best["threshold"]) if m_local >= m_global else None
        if reg is not None:
            rx, ry, rw, rh, _cover = reg
            # a box in stored-pixel coordinates; for a re-oriented comparison say "whole"
            loc: Box | Whole = (Box(int(cx + rx * sx), int(cy + ry * sy),
                                    max(1, round(rw * sx)), max(1, round(rh * sy)))
                                if how == "stored" else Whole())
            meas = Measurement("share of thumbnail differing from the image", round(share, 5),
                               reference=F_MID)
        else:
            loc = Whole()
            meas = Measurement("thumbnail correlation with the image", round(r, 4),
                               reference=R_MID)
        findings.append(Finding(artifact="thumbnail_mismatch", location=loc,
                                strength=float(mismatch), measurement=meas, detector=NAME))
        # heatmap: residual above threshold, in image pixels (only the part the thumbnail shows)
        from PIL import Image as _Image

        norm = np.clip(res / (2.0 * best["threshold"]), 0.0, 1.0).astype(np.float32)
        up = np.asarray(_Image.fromarray(norm).resize((cw, ch), _Image.Resampling.BILINEAR))
        heat = np.zeros(img.shape[:2], np.float32)
        heat[cy:cy + ch, cx:cx + cw] = up
        heatmap = heat if how == "stored" else None
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0, extras=extras,
                          heatmap=heatmap)
