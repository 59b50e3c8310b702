"""Resampling traces (Popescu & Farid 2005; fast spectral variant of Kirchner 2008).

Scaling or rotating an image by interpolation makes some pixels exact linear combinations of
their neighbours, in a pattern that repeats with the resampling period. The residual of a fixed
linear predictor, turned into a "p-map" (how well each pixel is predicted), is then periodic,
and its Fourier spectrum has sharp peaks. A region resized or rotated before being pasted shows
such peaks while the rest of the image does not. Periodic peaks over the whole image mean the
image as a whole was resized: a property of the image (reported in ``extras``), not evidence of
local tampering.
"""

from __future__ import annotations

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Measurement

from . import _common as C

NAME = "resampling_traces"
VERSION = "1.1"  # 1.1: computer-drawn pictures are not judged
#: Logistic mapping of the strongest region's mean z (block spectral peak, robust z) to a
#: probability; fitted by benchmarks/eval_image_classical.py --fit on the development corpus
#: and the generated splices (rescaled pastes).
#: Fitted 2026-11-25 on the 20 generated splices with a 1.3x-rescaled paste and their hosts
#: (the only corpus items with local resampling): leave-one-scene-out AUC 0.63, log-loss 0.73,
#: i.e. weakly informative. No anomalous region gives 0.30, a region at mean z 6 gives 0.96.
CALIBRATION = {"x0": 1.23, "k": 0.69}
Z_SEED = 3.5
#: Weight of whole-image resampling in the score (resizing is not tampering by itself).
GLOBAL_WEIGHT = 0.15
#: Peak-to-median ratio of the block-averaged p-map spectrum above which the image as a whole
#: counts as resampled.
GLOBAL_PEAK = 4.0

#: Kirchner's fixed predictor (weights of the 8 neighbours).
_ALPHA = np.array([[-0.25, 0.5, -0.25], [0.5, 0.0, 0.5], [-0.25, 0.5, -0.25]], np.float32)


def p_map(grey: np.ndarray, *, sigma: float = 1.0) -> np.ndarray:
    """Kirchner's p-map ``exp(-e^2 / sigma)`` of the fixed linear predictor residual ``e``."""
    import cv2

    g = np.asarray(grey, dtype=np.float32)
    e = g - cv2.filter2D(g, -1, _ALPHA, borderType=cv2.BORDER_REFLECT_101)
    return np.exp(-(e * e) / sigma)


def _frequency_mask(n: int) -> np.ndarray:
    """rfft2 bins (n, n//2+1) that may hold resampling peaks.

    Drops the neighbourhood of DC (image content) and the lattice of multiples of 1/16
    cycle/pixel (the JPEG 8x8 grid, and the 16x16 macroblocks of 4:2:0 chroma, make their own
    peaks there).
    """
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.rfftfreq(n)[None, :]
    r = np.sqrt(fx * fx + fy * fy)
    keep = r > 0.06
    grid_x = np.abs((fx * 16) - np.round(fx * 16)) < 1.5 / n * 16
    grid_y = np.abs((fy * 16) - np.round(fy * 16)) < 1.5 / n * 16
    keep &= ~(grid_x & grid_y)
    return np.broadcast_to(keep, (n, n // 2 + 1))


def block_spectra(pm: np.ndarray, *, block: int = 64) -> np.ndarray:
    """Normalized magnitude spectra of the p-map per block, shape (nby, nbx, block, block//2+1).

    Each block is mean-removed and Hann-windowed; each spectrum is divided by its median over
    the peak-eligible bins.
    """
    v = C.block_view(pm, block)
    v = v - v.mean(axis=(2, 3), keepdims=True)
    win = np.hanning(block).astype(np.float32)
    v = v * (win[:, None] * win[None, :])
    spec = np.abs(np.fft.rfft2(v, axes=(2, 3))).astype(np.float32)
    keep = _frequency_mask(block)
    med = np.median(spec[..., keep], axis=-1)
    return spec / (med[..., None, None] + 1e-6)


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="Kirchner's fixed linear predictor residual -> p-map -> windowed DFT per 64x64 "
           "block; blocks with periodic spectral peaks that the image as a whole lacks are "
           "flagged; whole-image peaks mean the whole image was resized (reported in extras).",
    reference="M. Kirchner, 'Fast and reliable resampling detection by spectral analysis of "
              "fixed linear predictor residue', ACM MM&Sec 2008, doi:10.1145/1411328.1411333; "
              "A. C. Popescu and H. Farid, 'Exposing digital forgeries by detecting traces of "
              "resampling', IEEE TSP 53(2), 2005, doi:10.1109/TSP.2004.839932",
    limits="Downscaling by more than about 2x, and JPEG compression below quality ~80, weaken "
           "the periodic pattern; peaks at multiples of 1/16 cycle/pixel are ignored (the JPEG "
           "grid makes them), so scale factors whose period divides 16 (2x, 4x) are missed. Runs at full resolution (downsampling would itself resample).",
    artifacts=("resampling",),
    params={"block": 64, "z_seed": Z_SEED, "global_peak": GLOBAL_PEAK,
            "calibration": CALIBRATION, "global_weight": GLOBAL_WEIGHT},
    localizes=True,
)
def resampling_traces(image, *, block: int = 64) -> DetectorResult:
    """Localize regions carrying periodic interpolation traces that the image lacks.

    Parameters
    ----------
    image : ImageMedia or ndarray, shape (H, W, 3), uint8
    block : int, optional
        Block side in pixels (power of two, 32..256).

    Returns
    -------
    DetectorResult
        Findings ``resampling`` (Mask locations) with the measurement "periodic p-map peak"
        (the region's median peak-to-median spectral ratio, against the image's), the heatmap,
        ``score = 1 - (1 - logistic(local))(1 - 0.15 g)`` where ``local`` is the strongest
        region's mean z and g is 1 when the whole image is resampled; ``extras`` holds the
        global peak, its frequency and an estimate of the period.

    References
    ----------
    .. [1] M. Kirchner, "Fast and reliable resampling detection by spectral analysis of fixed
       linear predictor residue", Proc. 10th ACM Workshop on Multimedia and Security, 2008.
       doi:10.1145/1411328.1411333
    .. [2] A. C. Popescu and H. Farid, "Exposing digital forgeries by detecting traces of
       resampling", IEEE Trans. Signal Processing 53(2):758-767, 2005.
       doi:10.1109/TSP.2004.839932
    """
    if block not in (32, 64, 128, 256):
        raise ValueError(f"block must be one of 32, 64, 128, 256, got {block}")
    with C.Timer() as t:
        pixels = C.check_image(image)
        h, w = pixels.shape[:2]
        if h < 3 * block or w < 3 * block:
            return DetectorResult.not_applicable(
                NAME, VERSION, f"image smaller than 3x3 blocks of {block} px")
        drawn = C.drawn_picture_reason(pixels, image, "its regular layout, text lines and "
                                       "flat steps are periodic the way interpolation is")
        if drawn:
            return DetectorResult.not_applicable(NAME, VERSION, drawn)
        y = C.luma(pixels)
        spec = block_spectra(p_map(y), block=block)
        keep = _frequency_mask(block)
        flat = ((y <= 1) | (y >= 254)).astype(np.float32)
        valid = C.block_mean(flat, block) < 0.5
        peaks = np.where(keep, spec, 0).reshape(spec.shape[0], spec.shape[1], -1).max(axis=-1)
        # global: average spectrum over blocks (periodic peaks at one frequency add up)
        mean_spec = spec[valid].mean(axis=0) if valid.any() else spec.mean(axis=(0, 1))
        mean_spec = mean_spec / (np.median(mean_spec[keep]) + 1e-6)
        g_idx = np.unravel_index(np.argmax(np.where(keep, mean_spec, 0)), mean_spec.shape)
        g_peak = float(mean_spec[g_idx])
        fy = float(np.fft.fftfreq(block)[g_idx[0]])
        fx = float(np.fft.rfftfreq(block)[g_idx[1]])
        resampled = g_peak >= GLOBAL_PEAK
        if resampled:
            # the whole image is resampled: look for blocks whose peaks lie elsewhere (a region
            # resampled differently), ignoring the bands of the image-wide period
            fg = max(abs(fx), abs(fy))
            fyy = np.abs(np.fft.fftfreq(block))[:, None]
            fxx = np.abs(np.fft.rfftfreq(block))[None, :]
            band = (np.abs(fxx - fg) < 1.5 / block) | (np.abs(fyy - fg) < 1.5 / block)
            keep_local = keep & ~band
            peaks = np.where(keep_local, spec, 0).reshape(
                spec.shape[0], spec.shape[1], -1).max(axis=-1)
        lp = np.log(np.maximum(peaks, 1e-3))
        z = np.where(valid, C.robust_z(lp, valid=valid, floor=0.05), 0.0)
        zs = C.box_smooth(z, 3) * 0.5 + z * 0.5
        regions = C.anomalous_regions(zs, block, (h, w), threshold=Z_SEED, min_blocks=2)
        med_peak = float(np.median(peaks[valid])) if valid.any() else float(np.median(peaks))

        def measure(r: C.Region) -> Measurement:
            return Measurement(name="periodic p-map spectral peak",
                               value=round(float(np.median(peaks[r.blocks])), 3),
                               reference=round(med_peak, 3), unit="x median spectrum")

        findings = C.region_findings(regions, artifact="resampling", detector=NAME,
                                     measure=measure)
        stat = regions[0].score if regions else 0.0  # no anomalous region: no evidence
        p_local = C.logistic(stat, CALIBRATION["x0"], CALIBRATION["k"])
        score = 1.0 - (1.0 - p_local) * (1.0 - GLOBAL_WEIGHT * float(resampled))
        heat = C.upsample_blockmap(C.heat_from_z(zs), (h, w), block)
        extras = {"global_peak": round(g_peak, 3), "global_peak_frequency": [round(fy, 4),
                                                                             round(fx, 4)],
                  "globally_resampled": bool(resampled), "statistic": round(float(stat), 3),
                  "n_regions": len(regions)}
    return C.ok_result(
        NAME, VERSION, score=score, findings=findings, heatmap=heat,
        params={"block": block, "z_seed": Z_SEED, "global_peak": GLOBAL_PEAK,
                "calibration": CALIBRATION, "global_weight": GLOBAL_WEIGHT},
        extras=extras, runtime=t.elapsed)
