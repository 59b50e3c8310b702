"""Error level analysis, made quantitative (Krawetz 2007).

Re-saving an image as JPEG changes each region by an amount that depends on its content and
on its compression history: a region that was already compressed at (or below) the re-save
quality barely changes, a region that never was changes more. ELA as usually shown is a
picture for a person to read. Here the per-block error level is compared with what the
block's texture predicts, and connected regions whose level departs from the image's robust
distribution are reported with their "error level ratio".
"""

from __future__ import annotations

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Measurement

from . import _common as C

NAME = "ela"
VERSION = "1.2"  # 1.2: computer-drawn pictures are not judged
QUALITIES = (75, 85, 95)
#: Logistic mapping of the strongest region's mean |z| to a probability; fitted on the
#: development corpus by benchmarks/eval_image_classical.py --fit (see the module docstring).
#: Fitted 2026-11-25 by benchmarks/eval_image_classical.py --fit: NoSo (31) + generated splices
#: (108), n=139, leave-one-scene-out AUC 0.63, log-loss 0.649. A weak, honest mapping: no
#: anomalous region gives 0.34, a region at mean |z| 8 gives 0.79.
CALIBRATION = {"x0": 2.73, "k": 0.25}
Z_SEED = 3.5
#: A re-save quality whose median block error is at most this (grey levels) leaves most blocks
#: bit-identical: the picture was last compressed with that very quantization (a JPEG saved
#: at quality 75, libjpeg's and Pillow's default, re-saved at 75). Its error levels then
#: measure the decoder's rounding in the few blocks that change, not compression history,
#: and on authentic photos they made the strongest "regions" of all (mean statistic 44 at
#: quality 75 against 1-4 at the others): such a quality is left out.
IDEMPOTENT_ERROR = 0.02


def error_levels(pixels: np.ndarray, *, qualities=QUALITIES, block: int = 16) -> np.ndarray:
    """Per-block mean absolute re-compression error for each quality.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, 3), uint8
    qualities : sequence of int
        JPEG qualities (IJG scale) at which the image is re-saved.
    block : int
        Block side in pixels (a multiple of 8 keeps blocks on the JPEG grid).

    Returns
    -------
    levels : ndarray, shape (len(qualities), H // block, W // block)
        Mean over the block and the three channels of ``|I - JPEG_q(I)|``, grey levels.
    """
    import cv2

    out = []
    # Encode and decode in OpenCV's BGR order, converted once (jpeg_roundtrip would reverse the
    # channels of the input and of the output at every quality); the error is put back in RGB
    # order, so every value is that of absdiff(pixels, jpeg_roundtrip(pixels, q)).
    bgr = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2BGR)
    for q in qualities:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
        err = cv2.absdiff(bgr, cv2.imdecode(buf, cv2.IMREAD_COLOR))[..., ::-1]
        out.append(C.block_mean(err, block).mean(axis=2))
    return np.stack(out)


def _texture(y: np.ndarray, block: int) -> np.ndarray:
    """Per-block structure: mean gradient magnitude of the luma blurred with sigma 1.5.

    The blur keeps edges and texture (what JPEG must spend bits on) but not pixel noise or
    earlier compression, which are what ELA measures and must not be explained away.
    """
    import cv2

    s = cv2.GaussianBlur(y, (0, 0), 1.5)
    gx = cv2.Sobel(s, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(s, cv2.CV_32F, 0, 1, ksize=3)
    return C.block_mean(np.abs(gx) + np.abs(gy), block)


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="Error level analysis: re-save at JPEG qualities 75/85/95, per-block error level "
           "relative to what the block's texture predicts (robust log-linear fit), robust "
           "z-score against the image; connected departing regions are flagged.",
    reference="N. Krawetz, 'A Picture's Worth... Digital Image Analysis and Forensics', "
              "Black Hat Briefings, 2007",
    limits="Content-dependent even after the texture correction (edges, text and saturated "
           "areas stand out); an image re-saved as a whole at low quality equalizes error "
           "levels and hides splices; a pasted region with the same compression history as "
           "the host is invisible. Runs at full resolution (the JPEG grid must be kept). A "
           "re-save quality at which the picture was last compressed is left out (it "
           "changes almost nothing); palette images and lossy WebP, HEIF/HEIC or AVIF files "
           "are not judged.",
    artifacts=("blending_artifacts",),
    params={"qualities": list(QUALITIES), "block": 16, "z_seed": Z_SEED,
            "calibration": CALIBRATION},
    localizes=True,
)
def error_level_analysis(image, *, block: int = 16, qualities=QUALITIES) -> DetectorResult:
    """Localize regions whose JPEG re-compression error departs from the rest of the image.

    Parameters
    ----------
    image : ImageMedia or ndarray, shape (H, W, 3), uint8
    block : int, optional
        Block side in pixels, a multiple of 8.
    qualities : sequence of int, optional
        Re-save qualities, each in 1..100.

    Returns
    -------
    DetectorResult
        Findings ``blending_artifacts`` (Mask location) with the measurement "error level
        ratio" (region median error / rest of the image, at the middle quality); ``heatmap``
        from |z|; ``score = logistic(max region mean |z|)`` with :data:`CALIBRATION`.

    Notes
    -----
    For each quality q the block error level e_q is regressed on the block texture t
    (``log e_q = a + b log t``, least squares on the blocks) and the residuals are turned into
    robust z-scores (median, 1.4826 MAD); these z are averaged over the qualities and
    re-standardized (robust z of the average), averaged with their 3x3-block mean, and taken in
    absolute value (a pasted region can be above or below the host's level). A quality at
    which the median block error is at most :data:`IDEMPOTENT_ERROR` is left out (listed in
    ``extras["qualities_skipped"]``): the image was last compressed with those tables, and
    re-saving it there changes only a few blocks, by rounding; ``not_applicable`` when every
    quality is left out. ``not_applicable`` on a palette image
    (:func:`detectors.image._common.palette_size`): the re-save error of a dithered picture
    is the dither's; nor on a lossy WebP, HEIF or AVIF file
    (:func:`detectors.image._common.block_codec`).

    References
    ----------
    .. [1] N. Krawetz, "A Picture's Worth... Digital Image Analysis and Forensics", Black Hat
       Briefings USA, 2007.
    """
    import cv2

    if block < 8 or block % 8:
        raise ValueError(f"block must be a positive multiple of 8, got {block}")
    if not qualities or any(not 1 <= int(q) <= 100 for q in qualities):
        raise ValueError(f"qualities must be in 1..100, got {qualities}")
    with C.Timer() as t:
        pixels = C.check_image(image)
        h, w = pixels.shape[:2]
        if h < 4 * block or w < 4 * block:
            return DetectorResult.not_applicable(
                NAME, VERSION, f"image smaller than 4x4 blocks of {block} px")
        n_colours = C.palette_size(pixels)
        if n_colours is not None:
            return DetectorResult.not_applicable(NAME, VERSION, C.palette_reason(n_colours),
                                                 extras={"palette_colours": n_colours})
        drawn = C.drawn_picture_reason(pixels, image, "re-saving it leaves its flat areas "
                                       "unchanged and its sharp text and edges with a large "
                                       "error, which reads as a region of its own")
        if drawn:
            return DetectorResult.not_applicable(NAME, VERSION, drawn)
        codec = C.block_codec(image)
        if codec:
            return DetectorResult.not_applicable(
                NAME, VERSION,
                f"{codec} file: its quantizers change from block to block by design, so JPEG "
                "re-save error levels differ between regions of an untouched picture",
                extras={"codec": codec})
        y = C.luma(pixels)
        levels = error_levels(pixels, qualities=qualities, block=block)
        medians = [float(np.median(lv)) for lv in levels]
        kept = [i for i, m in enumerate(medians) if m > IDEMPOTENT_ERROR]
        skipped = [int(qualities[i]) for i in range(len(qualities)) if i not in kept]
        if not kept:
            return DetectorResult.not_applicable(
                NAME, VERSION,
                "re-saving at every quality tried ("
                + ", ".join(str(int(q)) for q in qualities)
                + ") leaves most blocks unchanged (flat, or last compressed with these "
                  "quantization tables): there are no error levels to compare",
                extras={"median_error_level": [round(m, 3) for m in medians]})
        levels = levels[kept]
        tex = np.log(_texture(y, block) + 0.5)
        # clipped pixels re-compress with little error whatever their history: skip such blocks
        # one pass: a pixel is in range only when all three channels are in 3..252
        sat = cv2.inRange(pixels, (3, 3, 3), (252, 252, 252)) == 0
        clipped = C.block_mean(sat.astype(np.float32), block) > 0.05
        valid = ~clipped
        if valid.sum() < 8:
            return DetectorResult.not_applicable(NAME, VERSION, "almost the whole image is clipped")
        zs = []
        for lv in levels:
            le = np.log(lv + 0.05)
            X = np.stack([np.ones(valid.sum()), tex[valid]], axis=1)
            coef, *_ = np.linalg.lstsq(X, le[valid], rcond=None)
            resid = le - (coef[0] + coef[1] * tex)
            zs.append(C.robust_z(resid, valid=valid, floor=0.05))
        # average the per-quality z and re-standardize: the pasted region departs at every
        # quality while the block-to-block scatter is partly independent across qualities
        z = np.where(valid, C.robust_z(np.mean(zs, axis=0), valid=valid, floor=0.05), 0.0)
        za = np.abs(C.box_smooth(z, 3) * 0.5 + z * 0.5)
        regions = C.anomalous_regions(za, block, (h, w), threshold=Z_SEED, min_blocks=2)
        mid = levels[len(levels) // 2]
        used = [int(qualities[i]) for i in kept]

        def measure(r: C.Region) -> Measurement:
            inside, rest = C.region_ratio(mid, r.blocks & valid)
            ratio = inside / rest if rest > 0 else float("inf")
            return Measurement(name="error level ratio", value=round(float(ratio), 3),
                               reference=1.0, unit="x that of the rest of the image")

        findings = C.region_findings(regions, artifact="blending_artifacts", detector=NAME,
                                     measure=measure)
        stat = regions[0].score if regions else 0.0  # no anomalous region: no evidence
        score = C.logistic(stat, CALIBRATION["x0"], CALIBRATION["k"])
        heat = C.upsample_blockmap(C.heat_from_z(za), (h, w), block)
    return C.ok_result(
        NAME, VERSION, score=score, findings=findings, heatmap=heat,
        params={"qualities": [int(q) for q in qualities], "block": block, "z_seed": Z_SEED,
                "calibration": CALIBRATION},
        extras={"median_error_level": [round(m, 3) for m in medians],
                "qualities_used": used, "qualities_skipped": skipped,
                "statistic": round(float(stat), 3), "n_regions": len(regions)},
        runtime=t.elapsed)
