"""Synthetic media for the explainer tests (deterministic, generated in the test)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
from scipy import ndimage

from triage_app.media import AudioMedia, ImageMedia

SR = 16000


def scene(h: int = 240, w: int = 320, seed: int = 0, sigma: float = 2.0) -> np.ndarray:
    """A textured 'landscape' (smoothed random field + gradient + sensor noise), float RGB."""
    rng = np.random.default_rng(seed)
    field = ndimage.gaussian_filter(rng.normal(0, 1, (h, w)), 3) * 400
    yy, xx = np.mgrid[:h, :w]
    base = 110 + field + 30 * (yy / h)
    rgb = np.stack([base * 1.05, base, base * 0.9], axis=2)
    rgb += rng.normal(0, sigma, rgb.shape)
    return rgb


def image_media(rgb: np.ndarray, **kw) -> ImageMedia:
    px = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    return ImageMedia(path="synthetic.png", format="PNG", pixels=px, **kw)


def speech_like(seconds: float = 3.0, seed: int = 0) -> np.ndarray:
    """Voiced-speech-like signal: harmonics of a wandering f0, syllable envelope, faint noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 140 + 20 * np.sin(2 * np.pi * 0.7 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 30) if k * 160 < SR / 2)
    env = 0.5 * (1 + np.sin(2 * np.pi * 3 * t)) ** 2 / 4
    return (0.25 * x * env + rng.normal(0, 1e-3, t.size)).astype(np.float64)


def audio_media(x: np.ndarray, sr: int = SR) -> AudioMedia:
    return AudioMedia(path="synthetic.wav", format="WAV", samples=x.astype(np.float32)[:, None],
                      sample_rate=sr)


def write_wav(path: Path, x: np.ndarray, sr: int = SR) -> Path:
    import soundfile as sf

    sf.write(str(path), x.astype(np.float32), sr, subtype="FLOAT")
    return path


def write_flicker_mp4(path: Path, *, seconds: float = 3.0, fps: int = 10,
                      flicker: tuple[float, float] = (1.0, 2.0), amp: float = 30.0) -> Path:
    """A small H.264 clip of a slowly panning texture; mean luma jumps +-amp every frame
    inside ``flicker`` (seconds)."""
    import av

    rng = np.random.default_rng(1)
    tex = ndimage.gaussian_filter(rng.normal(0, 1, (96, 160)), 2) * 300 + 120
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 96, 64, "yuv420p"
        s.options = {"crf": "12"}
        for i in range(int(seconds * fps)):
            t = i / fps
            g = tex[16:80, i % 60:i % 60 + 96].copy()
            if flicker[0] <= t < flicker[1]:
                g += amp if i % 2 else -amp
            rgb = np.clip(np.repeat(g[..., None], 3, axis=2), 0, 255).astype(np.uint8)
            fr = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            fr.pts = i
            fr.time_base = Fraction(1, fps)
            for p in s.encode(fr):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path
