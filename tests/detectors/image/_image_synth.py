"""Synthetic test media for the classical image detectors: photos, splices, JPEG round trips.

Everything is generated here with numpy, OpenCV and Pillow; nothing is read from disk.
"""

from __future__ import annotations

import io

import numpy as np

from triage_app.media import ImageMedia


def synthetic_photo(seed: int, h: int = 384, w: int = 512, *, noise_sigma: float = 2.0,
                    bayer: bool = False) -> np.ndarray:
    """A photo-like RGB uint8 image: multi-scale smooth texture, a few edges, sensor noise.

    With ``bayer`` the noisy scene is sampled on an RGGB Bayer mosaic and demosaiced
    bilinearly, so that it carries CFA interpolation traces.
    """
    import cv2

    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3), np.float32)
    for scale, amp in ((64, 60.0), (16, 25.0), (4, 10.0), (1.5, 5.0)):
        field = rng.normal(0, 1, (h, w, 3)).astype(np.float32)
        field = cv2.GaussianBlur(field, (0, 0), scale)
        field /= field.std() + 1e-6
        img += amp * field
    for _ in range(6):  # a few objects with sharp edges
        cx, cy, r = rng.integers(0, w), rng.integers(0, h), rng.integers(15, 70)
        color = rng.uniform(-60, 60, 3).tolist()
        cv2.circle(img, (int(cx), int(cy)), int(r), color, -1)
    img += 120.0
    img += rng.normal(0, noise_sigma, img.shape).astype(np.float32)
    img = np.clip(img, 0, 255)
    if bayer:
        img = demosaic_bilinear(bayer_sample(img))
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


def bayer_sample(rgb: np.ndarray) -> np.ndarray:
    """RGGB mosaic (H, W) from an RGB float image: R at (0,0), G at (0,1),(1,0), B at (1,1)."""
    h, w = rgb.shape[:2]
    m = np.zeros((h, w), np.float32)
    m[0::2, 0::2] = rgb[0::2, 0::2, 0]
    m[0::2, 1::2] = rgb[0::2, 1::2, 1]
    m[1::2, 0::2] = rgb[1::2, 0::2, 1]
    m[1::2, 1::2] = rgb[1::2, 1::2, 2]
    return m


def demosaic_bilinear(mosaic: np.ndarray) -> np.ndarray:
    """Bilinear demosaicing of an RGGB mosaic (float32 RGB out)."""
    import cv2

    h, w = mosaic.shape
    r = np.zeros((h, w), np.float32); g = np.zeros_like(r); b = np.zeros_like(r)
    r[0::2, 0::2] = mosaic[0::2, 0::2]
    g[0::2, 1::2] = mosaic[0::2, 1::2]; g[1::2, 0::2] = mosaic[1::2, 0::2]
    b[1::2, 1::2] = mosaic[1::2, 1::2]
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    f = lambda a, k: cv2.filter2D(a, -1, k, borderType=cv2.BORDER_REFLECT_101)  # noqa: E731
    return np.stack([f(r, k_rb), f(g, k_g), f(b, k_rb)], axis=2)


def splice(host: np.ndarray, donor: np.ndarray, box: tuple[int, int, int, int], *,
           src: tuple[int, int] | None = None, feather: float = 0.0,
           add_noise: float = 0.0, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Paste ``donor[src..]`` into ``host`` at ``box`` = (x, y, w, h); return (image, mask).

    ``feather`` blurs the paste's alpha edge (sigma in px); ``add_noise`` adds Gaussian noise
    of that sigma to the pasted region only. The mask marks the pasted box.
    """
    import cv2

    x, y, w, h = box
    sx, sy = src if src is not None else (x, y)
    patch = donor[sy:sy + h, sx:sx + w].astype(np.float32)
    if add_noise:
        patch = patch + np.random.default_rng(seed).normal(0, add_noise, patch.shape)
    alpha = np.zeros(host.shape[:2], np.float32)
    alpha[y:y + h, x:x + w] = 1.0
    if feather:
        alpha = cv2.GaussianBlur(alpha, (0, 0), feather)
    full = host.astype(np.float32).copy()
    full[y:y + h, x:x + w] = patch
    out = host.astype(np.float32) * (1 - alpha[..., None]) + full * alpha[..., None]
    mask = np.zeros(host.shape[:2], bool)
    mask[y:y + h, x:x + w] = True
    return np.clip(np.round(out), 0, 255).astype(np.uint8), mask


def jpeg_bytes(pixels: np.ndarray, quality: int) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG", quality=int(quality))
    return buf.getvalue()


def media_from_bytes(raw: bytes, path: str = "synthetic") -> ImageMedia:
    """ImageMedia decoded with Pillow (quantization tables from Pillow for JPEG)."""
    from PIL import Image

    im = Image.open(io.BytesIO(raw))
    fmt = im.format or "PNG"
    q = getattr(im, "quantization", None)
    pixels = np.asarray(im.convert("RGB"))
    return ImageMedia(path=path, format=fmt, pixels=pixels, raw=raw,
                      quantization={int(k): list(v) for k, v in q.items()} if q else None)


def media_from_array(pixels: np.ndarray, fmt: str = "PNG") -> ImageMedia:
    """Lossless ImageMedia (PNG bytes) from an RGB array."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="PNG")
    return ImageMedia(path="synthetic.png", format=fmt, pixels=pixels, raw=buf.getvalue())


def pixel_f1(heat: np.ndarray, mask: np.ndarray) -> float:
    """Best pixel F1 over thresholds of ``heat`` against ``mask``."""
    best = 0.0
    for t in np.linspace(0.05, 0.95, 19):
        pred = heat >= t
        tp = float((pred & mask).sum())
        if tp == 0:
            continue
        prec = tp / pred.sum(); rec = tp / mask.sum()
        best = max(best, 2 * prec * rec / (prec + rec))
    return best


def iou(heat: np.ndarray, mask: np.ndarray, threshold: float = 0.5) -> float:
    pred = heat >= threshold
    union = (pred | mask).sum()
    return float((pred & mask).sum() / union) if union else 0.0

