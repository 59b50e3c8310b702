"""Demosaicing (CFA) traces (Ferrara, Bianchi, De Rosa & Piva 2012).

Most cameras sample one colour per pixel through a Bayer colour filter array and interpolate
the rest. Interpolated green samples are (close to) a linear combination of their acquired
neighbours, so the prediction error of a bilinear predictor is much smaller on the interpolated
lattice than on the acquired one. A region pasted from elsewhere (resized, rotated, generated,
or from a camera whose lattice is shifted) lacks this pattern while the rest of the image has
it. An image without the pattern anywhere (JPEG-compressed or resized, usually) cannot be
judged by this detector: it says so instead of guessing.
"""

from __future__ import annotations

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Measurement

from . import _common as C

NAME = "cfa_traces"
VERSION = "1.0"
#: Logistic mapping of the strongest region's mean z to a probability; fitted on the
#: generated splices of benchmarks/eval_image_classical.py --fit (the corpus photos carry no
#: CFA pattern: they are JPEG-compressed or resized, and the detector is not applicable).
#: Fitted 2026-11-25 on the 24 synthetic CFA splices/hosts of the benchmark (halved NoSo
#: originals, Bayer-sampled and bilinearly demosaiced): leave-one-scene-out AUC 0.79,
#: log-loss 0.518. No anomalous region gives 0.14, a region at mean z 5 gives 0.97.
CALIBRATION = {"x0": 1.65, "k": 1.09}
Z_SEED = 3.5
#: |median log(var acquired / var interpolated)| over blocks below which the image shows no
#: CFA pattern (a ratio of about 1.35).
CFA_PRESENT = 0.3

_KERNEL = np.array([[0, 1, 0], [1, 0, 1], [0, 1, 0]], np.float32) / 4.0


def cfa_feature(pixels: np.ndarray, *, block: int = 16) -> tuple[np.ndarray, np.ndarray]:
    """Per-block log ratio of green prediction-error energy on the two quincunx lattices.

    Parameters
    ----------
    pixels : ndarray, shape (H, W, 3), uint8
    block : int
        Block side in pixels (even).

    Returns
    -------
    L : ndarray, shape (H // block, W // block)
        ``log(mean e^2 on lattice (x + y) odd / mean e^2 on lattice (x + y) even)`` where e is
        the green channel minus the mean of its four neighbours. Positive when the odd lattice
        was acquired (RGGB, BGGR), negative when the even one was (GRBG, GBRG).
    energy : ndarray, same shape
        ``mean e^2`` over the block (to tell flat blocks, which carry no evidence).
    """
    import cv2

    g = pixels[..., 1].astype(np.float32)
    e = g - cv2.filter2D(g, -1, _KERNEL, borderType=cv2.BORDER_REFLECT_101)
    e2 = e * e
    h, w = g.shape
    odd = ((np.arange(h)[:, None] + np.arange(w)[None, :]) & 1).astype(np.float32)
    s_odd = C.block_sum(e2 * odd, block)
    s_all = C.block_sum(e2, block)
    half = block * block / 2.0
    v_odd = s_odd / half
    v_even = (s_all - s_odd) / half
    return np.log((v_odd + 0.05) / (v_even + 0.05)), s_all / (2 * half)


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="Green-channel bilinear prediction error energy on the acquired vs interpolated "
           "Bayer lattice, per 16x16 block; blocks where the image-wide demosaicing pattern "
           "is missing are flagged.",
    reference="P. Ferrara, T. Bianchi, A. De Rosa and A. Piva, 'Image forgery localization via "
              "fine-grained analysis of CFA artifacts', IEEE TIFS 7(5), 2012, "
              "doi:10.1109/TIFS.2012.2202227",
    limits="Needs a CFA pattern in the image: JPEG compression below about quality 95, "
           "resizing, or strong denoising erase it, and then the detector is not applicable. "
           "Flat or clipped blocks carry no evidence. Runs at full resolution (the pattern "
           "lives at the pixel scale; it cannot be downsampled).",
    artifacts=("missing_cfa",),
    params={"block": 16, "z_seed": Z_SEED, "cfa_present": CFA_PRESENT,
            "calibration": CALIBRATION},
    localizes=True,
)
def cfa_traces(image, *, block: int = 16) -> DetectorResult:
    """Localize regions without the demosaicing pattern the rest of the image carries.

    Parameters
    ----------
    image : ImageMedia or ndarray, shape (H, W, 3), uint8
    block : int, optional
        Block side in pixels (even, >= 8).

    Returns
    -------
    DetectorResult
        ``not_applicable`` when the image as a whole shows no CFA pattern (or is greyscale).
        Otherwise findings ``missing_cfa`` (Mask locations) with the measurement "CFA pattern
        strength" (region median of the log energy ratio against the image's), the heatmap,
        and ``score = logistic(max region mean z)`` with :data:`CALIBRATION`.

    Notes
    -----
    Ferrara et al. [1]_ model the prediction-error variance ratio of the acquired and the
    interpolated lattice per 2x2 cell and fit a two-component Gaussian mixture. This is a
    simplification on larger blocks: the acquired lattice is taken as the one with the larger
    error over the image, and a block's anomaly is the robust z-score of how much of the
    image's (signed) log ratio it lost; the robust scale is floored at 15% of the image's log
    ratio so that an image with a very regular pattern does not turn small variations into
    large z.

    References
    ----------
    .. [1] P. Ferrara, T. Bianchi, A. De Rosa and A. Piva, "Image forgery localization via
       fine-grained analysis of CFA artifacts", IEEE Trans. Inf. Forensics Security
       7(5):1566-1577, 2012. doi:10.1109/TIFS.2012.2202227
    """
    if block < 8 or block % 2:
        raise ValueError(f"block must be an even number >= 8, got {block}")
    with C.Timer() as t:
        pixels = C.check_image(image)
        h, w = pixels.shape[:2]
        if h < 4 * block or w < 4 * block:
            return DetectorResult.not_applicable(
                NAME, VERSION, f"image smaller than 4x4 blocks of {block} px")
        if C.is_grey(pixels):
            return DetectorResult.not_applicable(
                NAME, VERSION, "greyscale image: no colour filter array pattern to analyse")
        L, energy = cfa_feature(pixels, block=block)
        clipped = C.block_mean(((pixels[..., 1] == 0) | (pixels[..., 1] == 255))
                               .astype(np.float32), block) > 0.2
        valid = (~clipped) & (energy > 0.5)
        if valid.sum() < 16:
            return DetectorResult.not_applicable(
                NAME, VERSION, "too few textured, unclipped blocks to measure a CFA pattern")
        med = float(np.median(L[valid]))
        extras = {"cfa_log_ratio": round(med, 4),
                  "acquired_lattice": "odd (RGGB/BGGR)" if med > 0 else "even (GRBG/GBRG)"}
        if abs(med) < CFA_PRESENT:
            return DetectorResult.not_applicable(
                NAME, VERSION,
                f"no demosaicing (CFA) pattern in the image as a whole (median log energy "
                f"ratio {med:.2f}, below {CFA_PRESENT}): typical of JPEG-compressed or "
                f"resized images; the absence cannot be localized", extras=extras)
        signed = np.sign(med) * L
        _, scale = C.robust_center_scale(signed[valid])
        scale = max(scale, 0.15 * abs(med))
        z = (abs(med) - signed) / scale
        z = np.where(valid, z, 0.0)
        zs = C.box_smooth(z, 3) * 0.5 + z * 0.5
        regions = C.anomalous_regions(zs, block, (h, w), threshold=Z_SEED, min_blocks=3)

        def measure(r: C.Region) -> Measurement:
            inside = float(np.median(signed[r.blocks & valid])) if (r.blocks & valid).any() \
                else 0.0
            return Measurement(name="CFA pattern strength (log error-energy ratio)",
                               value=round(inside, 3), reference=round(abs(med), 3))

        findings = C.region_findings(regions, artifact="missing_cfa", detector=NAME,
                                     measure=measure)
        stat = regions[0].score if regions else 0.0  # no anomalous region: no evidence
        score = C.logistic(stat, CALIBRATION["x0"], CALIBRATION["k"])
        heat = C.upsample_blockmap(C.heat_from_z(zs), (h, w), block)
        extras.update({"statistic": round(float(stat), 3), "n_regions": len(regions)})
    return C.ok_result(
        NAME, VERSION, score=score, findings=findings, heatmap=heat,
        params={"block": block, "z_seed": Z_SEED, "cfa_present": CFA_PRESENT,
                "calibration": CALIBRATION},
        extras=extras, runtime=t.elapsed)
