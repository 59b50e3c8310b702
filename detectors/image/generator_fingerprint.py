"""Generator spectral fingerprint: periodic up-sampling peaks and spectrum shape of the noise
residual, measured on fixed-size crops at native resolution, scored by a small trained model.

Generative networks synthesise images through up-sampling layers (transposed convolution,
nearest/bilinear up-sampling) that leave periodic correlations in the pixels; in the Fourier
spectrum of the noise residual they show as peaks at fractions N/2, N/4, N/8 of the sampling
frequency, and as an abnormal decay of the azimuthally averaged spectrum at high frequencies
(Durall et al., 2020). Diffusion models leave the same kind of periodic traces in the residual
(Corvi et al., 2023).

Every measurement is taken on ``CROP`` x ``CROP`` crops at the image's native resolution (never
resized) and normalised by the crop's own residual energy, so that the image's size, its file
size and its overall noise level are not features.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from detectors.image._common import palette_reason, palette_size
from detectors.registry import detector
from triage_app.model import Box, DetectorResult, Finding, Measurement, Whole

NAME = "generator_fingerprint"
VERSION = "1.1.0"

CROP = 256
#: At most this many crops per image (a fixed grid of positions relative to the image), so
#: that a large image is not judged on more evidence than a small one.
MAX_CROPS = 5
N_RADIAL = 16

WEIGHTS = Path(__file__).resolve().parents[2] / "resources" / "models" / \
    "spectral_fingerprint.safetensors"

#: Peaks are measured on a Welch estimate: the mean power spectrum of TILE x TILE Hann-windowed
#: tiles (step TILE/2) of the crop, which is far steadier than one periodogram.
TILE = 64
#: (fy, fx) frequencies, in cycles per tile, where up-sampling by 2, 4 and 8 puts peaks.
PEAK_FREQS: tuple[tuple[str, int, int], ...] = (
    ("1/2 h", 0, TILE // 2), ("1/2 v", TILE // 2, 0), ("1/2 d", TILE // 2, TILE // 2),
    ("1/4 h", 0, TILE // 4), ("1/4 v", TILE // 4, 0), ("1/4 d", TILE // 4, TILE // 4),
    ("1/8 h", 0, TILE // 8), ("1/8 v", TILE // 8, 0), ("1/8 d", TILE // 8, TILE // 8),
    ("3/8 h", 0, 3 * TILE // 8), ("3/8 v", 3 * TILE // 8, 0),
)
#: Up-sampling also makes the local energy of first differences periodic (Popescu & Farid,
#: 2005): peaks of its spectrum at these frequencies.
ENERGY_PEAKS = PEAK_FREQS[:6]

SPAM_T = 2  # residual differences are truncated to -T..T
_SPAM_CHANNELS = ("Y", "R-G", "B-G")

FEATURE_NAMES: tuple[str, ...] = tuple(
    [f"radial_{i}" for i in range(N_RADIAL)]
    + [f"peak {name}" for name, _, _ in PEAK_FREQS]
    + [f"energy peak {name}" for name, _, _ in ENERGY_PEAKS]
    + ["hf_slope", "cross_channel_corr", "residual_kurtosis"]
    + [f"chroma_{c}_radial_{i}" for c in ("Cr", "Cb") for i in range(N_RADIAL)]
    + [f"spam_{ch}_{a}{b}" for ch in _SPAM_CHANNELS
       for a in range(-SPAM_T, SPAM_T + 1) for b in range(-SPAM_T, SPAM_T + 1)]
)


# --------------------------------------------------------------------------- features


def _residual(gray: np.ndarray) -> np.ndarray:
    """Noise residual: image minus its 3x3 median (a simple denoiser)."""
    g8 = np.clip(gray, 0, 255).astype(np.uint8)
    return gray.astype(np.float32) - cv2.medianBlur(g8, 3).astype(np.float32)


def crop_boxes(height: int, width: int, *, crop: int = CROP, max_crops: int = MAX_CROPS
               ) -> list[Box]:
    """Fixed-size crop positions: the centre, then the centres of the four quadrants.

    Positions are relative to the image, aligned to the 8x8 JPEG grid, and at most
    ``max_crops`` whatever the image size. An image smaller than ``crop`` gives no crop.
    """
    if height < crop or width < crop:
        return []
    centres = [(0.5, 0.5), (0.25, 0.25), (0.25, 0.75), (0.75, 0.25), (0.75, 0.75)]
    boxes: list[Box] = []
    seen = set()
    for fy, fx in centres[:max_crops]:
        y = int(round(fy * height - crop / 2)) // 8 * 8
        x = int(round(fx * width - crop / 2)) // 8 * 8
        y = min(max(0, y), (height - crop) // 8 * 8)
        x = min(max(0, x), (width - crop) // 8 * 8)
        if (y, x) in seen:
            continue
        seen.add((y, x))
        boxes.append(Box(x, y, crop, crop))
    return boxes


@lru_cache(maxsize=2)
def _radial_index(n: int, bins: int) -> tuple[np.ndarray, np.ndarray]:
    fy = np.fft.fftfreq(n)[:, None]
    fx = np.fft.fftfreq(n)[None, :]
    r = np.sqrt(fx * fx + fy * fy) / 0.5  # 0 at DC, 1 at the Nyquist frequency on the axes
    idx = np.minimum((r * bins).astype(int), bins)  # bin ``bins`` = corners beyond Nyquist
    win = np.outer(np.hanning(n), np.hanning(n)).astype(np.float32)
    return idx, win


def crop_features(rgb_crop: np.ndarray) -> np.ndarray:
    """Spectral features of one ``CROP`` x ``CROP`` RGB (or grey) crop.

    Returns a vector in the order of :data:`FEATURE_NAMES`:

    - ``radial_i``: azimuthally averaged log power of the residual spectrum in 16 rings from DC
      to Nyquist, minus its mean over the rings (the shape of the decay, not the level);
    - ``peak f``: log ratio of the power at an up-sampling frequency (1/2, 1/4, 1/8, 3/8 of the
      sampling rate; horizontal, vertical, diagonal) to the median power of its 5x5
      neighbourhood, in the Welch spectrum (64 x 64 tiles) of the residual;
    - ``energy peak f``: the same for the spectrum of the local energy ``|dI/dx| + |dI/dy|``
      of first differences (periodic after interpolation; Popescu & Farid, 2005);
    - ``hf_slope``: slope of log power against log frequency over the upper half of the band;
    - ``cross_channel_corr``: mean correlation of the R, G and B residuals (demosaicing and
      generators couple the channels differently);
    - ``residual_kurtosis``: kurtosis of the grey residual (clipped to 0..50);
    - ``chroma_*_radial_i``: the same azimuthal profile for the Cr and Cb residuals;
    - ``spam_*``: log co-occurrence of adjacent pixel differences (truncated to -2..2) of Y,
      R-G and B-G, a local residual statistic after Pevny, Bas & Fridrich (2010) that is
      sensitive to the generator's (and the camera's) interpolation and noise.
    """
    crop = np.asarray(rgb_crop, dtype=np.float32)
    if crop.ndim == 2:
        crop = crop[..., None].repeat(3, axis=2)
    n = crop.shape[0]
    gray = crop @ np.float32([0.299, 0.587, 0.114])
    r = _residual(gray)
    r = r - r.mean()
    idx, win = _radial_index(n, N_RADIAL)
    spec = np.abs(np.fft.fft2(r * win)) ** 2
    total = spec.sum() + 1e-9
    logp = np.log(spec / total * spec.size + 1e-6)
    sums = np.bincount(idx.ravel(), weights=logp.ravel(), minlength=N_RADIAL + 1)
    cnts = np.bincount(idx.ravel(), minlength=N_RADIAL + 1)
    radial = (sums / np.maximum(cnts, 1))[:N_RADIAL]
    radial = radial - radial.mean()
    welch = _welch(r)
    peaks = [_peak_ratio(welch, py, px) for _, py, px in PEAK_FREQS]
    # local energy of first differences: zero between replicated pixels, so periodic after
    # up-sampling
    e = np.zeros_like(gray)
    e[:, :-1] += np.abs(np.diff(gray, axis=1))
    e[:-1, :] += np.abs(np.diff(gray, axis=0))
    welch_e = _welch(e - e.mean())
    peaks += [_peak_ratio(welch_e, py, px) for _, py, px in ENERGY_PEAKS]
    half = np.arange(N_RADIAL // 2, N_RADIAL)
    freqs = (half + 0.5) / N_RADIAL
    slope = float(np.polyfit(np.log(freqs), radial[half], 1)[0])
    res_c = [_residual(crop[..., c]) for c in range(3)]
    cc = []
    for a, b in ((0, 1), (1, 2), (0, 2)):
        ra, rb = res_c[a].ravel(), res_c[b].ravel()
        den = np.sqrt((ra * ra).sum() * (rb * rb).sum())
        cc.append(float((ra * rb).sum() / den) if den > 0 else 1.0)
    z = r.ravel() / (r.std() + 1e-6)
    kurt = float(np.clip((z ** 4).mean(), 0, 50))
    # chroma residual spectra (YCrCb), same azimuthal profile
    ycc = cv2.cvtColor(np.clip(crop, 0, 255).astype(np.uint8), cv2.COLOR_RGB2YCrCb)
    chroma = []
    for k in (1, 2):
        rc = _residual(ycc[..., k].astype(np.float32))
        rc = rc - rc.mean()
        sp = np.abs(np.fft.fft2(rc * win)) ** 2
        lp = np.log(sp / (sp.sum() + 1e-9) * sp.size + 1e-6)
        rad = (np.bincount(idx.ravel(), weights=lp.ravel(), minlength=N_RADIAL + 1)
               / np.maximum(cnts, 1))[:N_RADIAL]
        chroma.append(rad - rad.mean())
    spam = [_spam(ch) for ch in (gray, crop[..., 0] - crop[..., 1], crop[..., 2] - crop[..., 1])]
    return np.concatenate([radial, peaks, [slope, float(np.mean(cc)), kurt], *chroma,
                           *spam]).astype(np.float32)


@lru_cache(maxsize=1)
def _tile_window() -> np.ndarray:
    return np.outer(np.hanning(TILE), np.hanning(TILE)).astype(np.float32)


def _welch(r: np.ndarray) -> np.ndarray:
    """Mean power spectrum of Hann-windowed TILE x TILE tiles, step TILE/2."""
    n = r.shape[0]
    win = _tile_window()
    tiles = [r[y:y + TILE, x:x + TILE] for y in range(0, n - TILE + 1, TILE // 2)
             for x in range(0, n - TILE + 1, TILE // 2)]
    t = np.stack(tiles) * win
    return (np.abs(np.fft.fft2(t, axes=(1, 2))) ** 2).mean(0)


def _peak_ratio(spec: np.ndarray, py: int, px: int) -> float:
    """log(power at (py, px) / median power of its 5x5 neighbourhood without the centre)."""
    n = spec.shape[0]
    ys = np.arange(py - 2, py + 3) % n
    xs = np.arange(px - 2, px + 3) % n
    nb = spec[np.ix_(ys, xs)].ravel()
    centre = nb[12]
    rest = np.delete(nb, 12)
    return float(np.log((centre + 1e-9) / (np.median(rest) + 1e-9)))


def _spam(ch: np.ndarray) -> np.ndarray:
    """Log co-occurrence of adjacent first-order pixel differences, truncated to -2..2
    (second-order SPAM without the Markov normalisation; Pevny, Bas, Fridrich 2010),
    averaged over the horizontal and vertical directions: 25 values."""
    t = SPAM_T
    m = 2 * t + 1
    hist = np.zeros(m * m)
    for ax in (0, 1):
        q = np.clip(np.round(np.diff(ch, axis=ax)), -t, t).astype(np.int64) + t
        a = q[:-1] if ax == 0 else q[:, :-1]
        b = q[1:] if ax == 0 else q[:, 1:]
        hh = np.bincount((a * m + b).ravel(), minlength=m * m).astype(np.float64)
        hist += hh / hh.sum()
    return np.log(hist / 2 + 1e-4)


def image_features(rgb: np.ndarray) -> tuple[np.ndarray, list[Box]]:
    """Features of every crop of ``rgb`` (rows) and the crop boxes."""
    boxes = crop_boxes(rgb.shape[0], rgb.shape[1])
    if not boxes:
        return np.zeros((0, len(FEATURE_NAMES)), np.float32), []
    feats = [crop_features(rgb[b.y:b.y + b.h, b.x:b.x + b.w]) for b in boxes]
    return np.stack(feats), boxes


# --------------------------------------------------------------------------- model


@lru_cache(maxsize=1)
def load_model(path: str | None = None) -> dict[str, np.ndarray | str]:
    """Load the logistic model (safetensors, numpy) and the file's SHA-256."""
    from safetensors.numpy import load_file

    p = Path(path) if path else WEIGHTS
    data = p.read_bytes()
    tensors = load_file(str(p))
    out: dict[str, np.ndarray | str] = dict(tensors)
    out["sha256"] = hashlib.sha256(data).hexdigest()
    return out


def crop_logits(feats: np.ndarray, model: dict) -> np.ndarray:
    """Logit of 'generated' for each crop: standardised features, then a small MLP or a
    logistic regression (whichever the weight file holds)."""
    x = (feats - model["mean"]) / model["std"]
    if "w1" in model:
        hdn = np.maximum(x @ model["w1"] + model["b1"], 0.0)
        return (hdn @ model["w2"] + model["b2"]).ravel()
    return (x @ model["coef"] + model["intercept"]).ravel()


def _peak_summary(feats: np.ndarray) -> tuple[str, float]:
    """The strongest up-sampling peak (mean over crops): its name and power ratio."""
    names = [f"peak {n}" for n, _, _ in PEAK_FREQS] + \
        [f"energy peak {n}" for n, _, _ in ENERGY_PEAKS]
    cols = [FEATURE_NAMES.index(n) for n in names]
    mean_peaks = feats[:, cols].mean(0)
    k = int(np.argmax(mean_peaks))
    label = names[k].replace("energy peak", "residual-energy").replace("peak ", "")
    return label, float(np.exp(mean_peaks[k]))


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="noise-residual power spectrum on fixed 256x256 native-resolution crops "
           "(azimuthal decay, up-sampling peaks at N/2, N/4, N/8, chroma spectra) plus "
           "residual co-occurrence (SPAM) statistics, logistic model",
    reference="R. Durall, M. Keuper, J. Keuper (2020), Watch your up-convolution: CNN based "
              "generative deep neural networks are failing to reproduce spectral "
              "distributions, CVPR, doi:10.1109/CVPR42600.2020.00791; R. Corvi, D. Cozzolino, "
              "G. Zingarini, G. Poggi, K. Nagano, L. Verdoliva (2023), On the detection of "
              "synthetic images generated by diffusion models, ICASSP, "
              "doi:10.1109/ICASSP49357.2023.10095167; T. Pevny, P. Bas, J. Fridrich (2010), "
              "Steganalysis by subtractive pixel adjacency matrix, IEEE TIFS 5(2)",
    limits="Trained on 100 JPEG (q75) web images and 10 package photos (see the model card "
           "resources/models/spectral_fingerprint.md); generators and post-processing it "
           "never saw, heavy compression, or resizing after generation weaken it. Not for "
           "video frames: real H.264 frames (FF++ c23) score 0.5-0.94. Needs at least one "
           "256x256 crop. Not applicable to palette images (GIF, PNG-8: dithering). Trained "
           "with JPEG q90/q75 and WebP q80 re-saves of both classes: held-out real photos "
           "re-saved as WebP score above 0.5 in 12 % of cases (42 % before WebP joined "
           "training), as JPEG q75 in 10 %; see the model card.",
    artifacts=("generator_fingerprint",),
    params={"crop": CROP, "max_crops": MAX_CROPS},
    weight_files=("resources/models/spectral_fingerprint.safetensors",),
)
def generator_fingerprint(media) -> DetectorResult:
    """Probability that an image was synthesised by a generative model, from its residual
    spectrum.

    Parameters
    ----------
    media : ImageMedia
        Image (``media.pixels``, RGB uint8).

    Returns
    -------
    DetectorResult
        ``score`` = sigmoid of the mean crop logit of the trained model (logistic regression on
        standardised :data:`FEATURE_NAMES`; trained by ``training/train_spectral.py``, whose
        leave-one-category-out AUC is in the model card). One ``generator_fingerprint`` finding
        (location :class:`Whole`) with the strongest up-sampling peak's peak-to-background
        power ratio as the measurement, and one per crop whose own probability exceeds 0.5
        (location: the crop box). ``params`` records the weight file's SHA-256.
        ``not_applicable`` when the image is smaller than 256 x 256, or is a palette image
        (:func:`detectors.image._common.palette_size`).

    References
    ----------
    .. [1] R. Durall, M. Keuper, J. Keuper, "Watch your up-convolution: CNN based generative
       deep neural networks are failing to reproduce spectral distributions", CVPR 2020.
    .. [2] R. Corvi et al., "On the detection of synthetic images generated by diffusion
       models", ICASSP 2023.
    """
    t0 = time.perf_counter()
    rgb = media.pixels
    n_colours = palette_size(rgb)
    if n_colours is not None:  # dithering puts its own peaks and slope into the spectrum
        return DetectorResult.not_applicable(NAME, VERSION, palette_reason(n_colours),
                                             extras={"palette_colours": n_colours})
    feats, boxes = image_features(rgb)
    if not boxes:
        return DetectorResult.not_applicable(
            NAME, VERSION, f"image smaller than the {CROP}x{CROP} analysis crop",
            params={"crop": CROP})
    if not WEIGHTS.is_file():
        return DetectorResult.error(NAME, VERSION, f"weight file missing: {WEIGHTS.name}")
    model = load_model()
    logits = crop_logits(feats, model)
    prob = float(1.0 / (1.0 + np.exp(-logits.mean())))
    params = {"crop": CROP, "max_crops": MAX_CROPS, "crops": len(boxes),
              "weights": WEIGHTS.name, "weights_sha256": model["sha256"]}
    which, ratio = _peak_summary(feats)
    findings = [Finding(
        artifact="generator_fingerprint", location=Whole(), strength=prob,
        measurement=Measurement(name=f"residual spectrum peak-to-background ratio at {which} "
                                     f"frequency (mean of {len(boxes)} crops)",
                                value=round(ratio, 4), reference=1.0, unit="x"),
        detector=NAME)]
    for b, lg, f in zip(boxes, logits, feats):
        p = float(1.0 / (1.0 + np.exp(-lg)))
        if p > 0.5:
            w_, r_ = _peak_summary(f[None])
            findings.append(Finding(
                artifact="generator_fingerprint", location=b, strength=p,
                measurement=Measurement(name=f"crop model probability (peak at {w_}: "
                                             f"{r_:.3g}x background)",
                                        value=round(p, 4), reference=0.5),
                detector=NAME))
    return DetectorResult(
        name=NAME, version=VERSION, status="ok", score=prob, findings=findings,
        runtime=time.perf_counter() - t0, params=params,
        extras={"crop_probabilities": [round(float(1 / (1 + np.exp(-x))), 4) for x in logits]})
