"""Build a demo case from media generated on the spot, then analyse it.

``python -m triage_app.demo CASE_DIR`` (what ``make run`` does first). The product ships no
third-party media, so the demo makes its own: procedural "camera" photos (Bayer mosaic,
sensor noise, demosaicing, JPEG with camera EXIF), a splice, a copy-move, a PNG carrying an
image generator's parameters, a short video with a flickering region, and a voice made by a formant synthesizer (so a
spoof detector rightly calls it synthetic), also with a splice, digital silence, clipping and
mains hum. Every manipulation is made here, so what the
tool should find is known; the file names say what was done.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np


def _octave_noise(rng: np.random.Generator, h: int, w: int, octaves: int = 5) -> np.ndarray:
    from scipy.ndimage import zoom

    out = np.zeros((h, w), np.float32)
    for o in range(octaves):
        cells = 4 * 2 ** o
        coarse = rng.standard_normal((cells, cells)).astype(np.float32)
        out += zoom(coarse, (h / cells, w / cells), order=3)[:h, :w] / (1.6 ** o)
    return out / np.abs(out).max()


def make_scene(seed: int, h: int = 480, w: int = 640) -> np.ndarray:
    """A procedural outdoor scene in linear RGB float 0..1 (sky, hills, textured ground, objects)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    sky = np.stack([0.35 + 0.2 * yy / h, 0.55 + 0.2 * yy / h, 0.9 - 0.1 * yy / h], -1)
    horizon = h * 0.45 + 30 * _octave_noise(rng, 1, w, 4)[0]
    ground_tex = _octave_noise(rng, h, w, 6)
    ground = np.stack([0.30 + 0.12 * ground_tex, 0.42 + 0.15 * ground_tex,
                       0.18 + 0.08 * ground_tex], -1)
    mask = (yy > horizon[None, :])[..., None]
    img = np.where(mask, ground * (0.7 + 0.5 * yy[..., None] / h), sky)
    for _ in range(5):  # shaded objects (rocks, a house-like block)
        cx, cy = rng.uniform(0.1, 0.9) * w, rng.uniform(0.55, 0.9) * h
        rx, ry = rng.uniform(20, 70), rng.uniform(15, 45)
        inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 < 1
        shade = 0.6 + 0.4 * np.clip((cx - xx) / rx, -1, 1)
        colour = rng.uniform(0.2, 0.8, 3)
        img[inside] = (colour[None, :] * shade[inside][:, None]
                       * (0.9 + 0.1 * ground_tex[inside][:, None]))
    return np.clip(img, 0, 1)


def camera_pipeline(linear: np.ndarray, seed: int, noise: float = 0.012) -> np.ndarray:
    """Bayer RGGB sampling (OpenCV names this layout BayerBG), signal-dependent sensor noise, bilinear demosaicing, gamma -> uint8."""
    import cv2

    rng = np.random.default_rng(seed)
    h, w, _ = linear.shape
    bayer = np.zeros((h, w), np.float32)
    bayer[0::2, 0::2] = linear[0::2, 0::2, 0]
    bayer[0::2, 1::2] = linear[0::2, 1::2, 1]
    bayer[1::2, 0::2] = linear[1::2, 0::2, 1]
    bayer[1::2, 1::2] = linear[1::2, 1::2, 2]
    bayer += rng.normal(0, 1, bayer.shape).astype(np.float32) * np.sqrt(noise ** 2 + 0.01 * noise * bayer)
    raw16 = np.clip(bayer * 65535, 0, 65535).astype(np.uint16)
    rgb = cv2.cvtColor(raw16, cv2.COLOR_BayerBG2RGB).astype(np.float32) / 65535
    return (np.clip(rgb, 0, 1) ** (1 / 2.2) * 255 + 0.5).astype(np.uint8)


def _camera_exif() -> "object":
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "DemoCam"           # Make
    exif[0x0110] = "DC-100"            # Model
    exif[0x0132] = "2026:11:02 10:15:00"  # DateTime
    return exif


def _save_jpeg(rgb: np.ndarray, path: Path, quality: int, exif: object | None = None) -> None:
    from PIL import Image

    kw = {"quality": quality}
    if exif is not None:
        kw["exif"] = exif
    Image.fromarray(rgb).save(path, "JPEG", **kw)


def make_images(out: Path) -> list[Path]:
    from PIL import Image, PngImagePlugin

    out.mkdir(parents=True, exist_ok=True)
    photo = camera_pipeline(make_scene(1), 1)
    p1 = out / "field_photo.jpg"
    _save_jpeg(photo, p1, 92, _camera_exif())

    # Splice: a block of another scene, enlarged 1.4x and noisier, pasted in, saved again.
    other = camera_pipeline(make_scene(7), 7, noise=0.035)
    from PIL import Image as _I
    patch = np.asarray(_I.fromarray(other[200:320, 300:430]).resize((182, 168), _I.BICUBIC))
    spliced = photo.copy()
    spliced[260:428, 80:262] = patch
    tmp = out / ".tmp_first.jpg"
    _save_jpeg(spliced, tmp, 70)
    first = np.asarray(Image.open(tmp).convert("RGB"))
    tmp.unlink()
    p2 = out / "field_photo_spliced.jpg"
    _save_jpeg(first, p2, 92, _camera_exif())

    # Copy-move inside one photo, kept lossless.
    cm = camera_pipeline(make_scene(3), 3)
    cm = cm.copy()
    cm[300:380, 420:520] = cm[330:410, 90:190]
    p3 = out / "rocks_copy_move.png"
    Image.fromarray(cm).save(p3)

    # A PNG whose text chunk carries an image generator's parameters.
    gen = camera_pipeline(make_scene(5), 5)
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a quiet valley at dawn\nSteps: 30, Sampler: Euler a, "
                                "CFG scale: 7, Seed: 1234, Size: 640x480, Model: sd_xl_base_1.0")
    p4 = out / "valley_generator_metadata.png"
    Image.fromarray(gen).save(p4, pnginfo=info)
    return [p1, p2, p3, p4]


def _voice(rng: np.random.Generator, seconds: float, sr: int, f0: float = 120.0) -> np.ndarray:
    """A vowel-like voiced signal with natural pitch drift and syllable envelope."""
    from scipy.signal import lfilter

    n = int(seconds * sr)
    t = np.arange(n) / sr
    drift = np.cumsum(rng.normal(0, 0.4, n)) / np.sqrt(sr)
    f = f0 * (1 + 0.08 * np.sin(2 * np.pi * 0.7 * t) + 0.02 * drift)
    phase = 2 * np.pi * np.cumsum(f) / sr
    src = sum(np.sin(k * phase) / k for k in range(1, 30))
    y = np.zeros(n)
    for formant, bw in ((700, 110), (1220, 120), (2600, 160)):
        r = np.exp(-np.pi * bw / sr)
        a = [1, -2 * r * np.cos(2 * np.pi * formant / sr), r * r]
        y += lfilter([1 - r], a, src)
    env = np.clip(np.sin(2 * np.pi * 2.5 * t), 0, None) ** 0.6
    return (y * env / (np.abs(y).max() + 1e-9)).astype(np.float32)


def make_audio(out: Path) -> list[Path]:
    import soundfile as sf

    sr = 16000
    rng = np.random.default_rng(11)
    room = lambda n, lvl: (rng.normal(0, lvl, n)).astype(np.float32)  # noqa: E731
    clean = 0.5 * _voice(rng, 6.0, sr) + room(6 * sr, 0.004)
    p1 = out / "voice_formant_synth.wav"
    sf.write(p1, clean, sr, subtype="PCM_16")

    # Splice: a second take with a different room (noise floor 12 dB higher) and a gap of
    # digital silence between them.
    second = 0.5 * _voice(rng, 3.0, sr, f0=135) + room(3 * sr, 0.016)
    spliced = np.concatenate([clean[: 3 * sr], np.zeros(int(0.4 * sr), np.float32), second])
    p2 = out / "voice_synth_spliced_silence.wav"
    sf.write(p2, spliced, sr, subtype="PCM_16")

    # Clipping and 50 Hz hum: the voice (peaks ~0.5) driven 2.6x into a limiter at 0.9, so
    # its loud syllables are flat-topped.
    t = np.arange(6 * sr) / sr
    hum = 0.05 * sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3))
    loud = np.clip(2.6 * clean + hum, -0.9, 0.9).astype(np.float32)
    p3 = out / "voice_synth_clipped_hum.wav"
    sf.write(p3, loud, sr, subtype="PCM_16")
    return [p1, p2, p3]


def make_video(out: Path, *, seconds: float = 3.0, fps: int = 25) -> Path:
    import av

    scene = camera_pipeline(make_scene(9, 360, 640), 9)
    path = out / "street_flicker_1s-2s.mp4"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        stream.options = {"crf": "20", "preset": "veryfast"}
        rng = np.random.default_rng(9)
        for i in range(int(seconds * fps)):
            shift = i * 2
            frame = np.roll(scene, -shift, axis=1).astype(np.int16)
            frame += rng.normal(0, 2, frame.shape).astype(np.int16)
            if fps <= i < 2 * fps:  # a region whose brightness flickers frame to frame
                frame[120:240, 260:380] += 25 if i % 2 else -25
            vf = av.VideoFrame.from_ndarray(np.clip(frame, 0, 255).astype(np.uint8), format="rgb24")
            for packet in stream.encode(vf):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def build_demo(case_dir: str | Path, *, media_dir: str | Path | None = None,
               examiner: str = "Demo Examiner", workers: int = 2) -> Path:
    """Generate the demo media and scan it into ``case_dir`` (kept if it already exists)."""
    from triage_app.scan import scan

    case_dir = Path(case_dir)
    media = Path(media_dir) if media_dir else case_dir.parent / "demo_media"
    if not media.exists() or not any(media.iterdir()):
        make_images(media)
        make_audio(media)
        make_video(media)
    for ev in scan([media], case_dir, recursive=True, workers=workers, examiner=examiner):
        if ev.kind in ("analyzed", "error", "skipped"):
            label = ev.verdict or ev.kind
            p = "" if ev.probability is None else f"{ev.probability:.2f}"
            print(f"  {Path(ev.path or '').name:<36} {label:<20} {p}  {ev.message or ''}")
        elif ev.kind == "done":
            print(ev.message)
    return case_dir


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", nargs="?", default="demo/Demo.triage")
    args = ap.parse_args(argv)
    print(f"building the demo case in {args.case} ...")
    build_demo(args.case)
    return 0


if __name__ == "__main__":
    sys.exit(main())
