"""Small synthetic test media, written into a test's tmp_path (no binaries in the repo).

Images take an RGB uint8 array (H, W, 3) (or (H, W) grey, (H, W, 4) RGBA, uint16 for 16-bit);
audio takes float samples in -1..1, shape (n,) or (n, channels); video takes an iterable of RGB
frames. Every function returns the path it wrote, as a ``pathlib.Path``.

    from media_factory import make_jpeg, make_video, make_wav, photo, tone, moving_square
    p = make_jpeg(tmp_path / "a.jpg", photo(64, 96), quality=75, exif={"Software": "GIMP"})
    v = make_video(tmp_path / "v.mp4", moving_square(10, 48, 64), fps=10, audio=tone(440, 1.0))
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterable

import numpy as np

__all__ = [
    "photo", "moving_square", "tone",
    "make_jpeg", "make_png", "make_tiff", "make_webp", "make_bmp", "make_gif",
    "make_video", "make_wav", "make_flac", "make_ogg", "make_mp3", "make_m4a",
]


# --------------------------------------------------------------------------- content


def photo(h: int = 64, w: int = 96, seed: int = 0) -> np.ndarray:
    """A smooth colour gradient with mild noise: RGB uint8 (h, w, 3), deterministic."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 255 * x / max(w - 1, 1)
    g = 255 * y / max(h - 1, 1)
    b = 128 + 100 * np.sin(x / 7.0) * np.cos(y / 5.0)
    img = np.stack([r, g, b], axis=2) + rng.normal(0, 4, (h, w, 3))
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def moving_square(n: int = 10, h: int = 48, w: int = 64, side: int = 12) -> list[np.ndarray]:
    """``n`` RGB frames (h, w, 3) of a white square moving right over a dark gradient."""
    base = (photo(h, w, seed=1) // 3).astype(np.uint8)
    frames = []
    for i in range(n):
        f = base.copy()
        x0 = (i * 3) % max(w - side, 1)
        y0 = (h - side) // 2
        f[y0:y0 + side, x0:x0 + side] = 255
        frames.append(f)
    return frames


def tone(freq: float = 440.0, seconds: float = 1.0, sr: int = 16000, *, amp: float = 0.5,
         channels: int = 1) -> np.ndarray:
    """A sine tone, float32; shape (n,) for mono, (n, channels) otherwise."""
    t = np.arange(int(round(seconds * sr))) / sr
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    if channels == 1:
        return x
    return np.stack([x * (0.5 + 0.5 * c / max(channels - 1, 1)) for c in range(channels)],
                    axis=1).astype(np.float32)


# --------------------------------------------------------------------------- images


def _pil(rgb: np.ndarray):
    from PIL import Image

    a = np.asarray(rgb)
    if a.dtype == np.uint16:
        if a.ndim != 2:
            raise ValueError("16-bit images: only greyscale (H, W) is supported here")
        return Image.fromarray(a)  # mode I;16
    a = a.astype(np.uint8)
    if a.ndim == 2:
        return Image.fromarray(a, "L")
    if a.shape[2] == 4:
        return Image.fromarray(a, "RGBA")
    return Image.fromarray(a[:, :, :3], "RGB")


def _exif(exif: dict | None):
    """A Pillow Exif from {tag name: value}; Exif-IFD tags (DateTimeOriginal...) go there."""
    from PIL import ExifTags, Image

    e = Image.Exif()
    if not exif:
        return e
    names = {v: k for k, v in ExifTags.TAGS.items()}
    sub_ifd_tags = {"DateTimeOriginal", "DateTimeDigitized", "ExposureTime", "FNumber",
                    "ISOSpeedRatings", "LensModel", "LensMake", "UserComment", "FocalLength",
                    "ExifVersion", "OffsetTimeOriginal", "BodySerialNumber"}
    for name, value in exif.items():
        tag = names[name] if isinstance(name, str) else int(name)
        if name in sub_ifd_tags:
            e.get_ifd(ExifTags.IFD.Exif)[tag] = value
        else:
            e[tag] = value
    return e


def make_jpeg(path, rgb, quality: int = 90, exif: dict | None = None, *,
              subsampling: str | int | None = None, progressive: bool = False,
              icc: bytes | None = None, xmp: str | bytes | None = None) -> Path:
    """JPEG via Pillow. ``exif``: {"Software": "GIMP", "Make": "Canon", "DateTimeOriginal": ...}.

    ``subsampling``: "4:4:4", "4:2:2", "4:2:0" (Pillow's default at quality < 95 is 4:2:0).
    """
    kw: dict = {"quality": quality, "progressive": progressive}
    if subsampling is not None:
        kw["subsampling"] = subsampling
    if exif:
        kw["exif"] = _exif(exif).tobytes()
    if icc:
        kw["icc_profile"] = icc
    if xmp is not None:
        kw["xmp"] = xmp.encode() if isinstance(xmp, str) else xmp
    path = Path(path)
    _pil(rgb).convert("RGB" if np.asarray(rgb).ndim == 3 else "L").save(path, "JPEG", **kw)
    return path


def make_png(path, rgb, text: dict[str, str] | None = None, *, compressed: bool = False,
             xmp: str | None = None, exif: dict | None = None) -> Path:
    """PNG via Pillow; ``text`` becomes tEXt chunks (zTXt with ``compressed=True``)."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    for k, v in (text or {}).items():
        if compressed:
            info.add_text(k, v, zip=True)
        else:
            info.add_text(k, v)
    if xmp is not None:
        info.add_itxt("XML:com.adobe.xmp", xmp)
    kw: dict = {"pnginfo": info}
    if exif:
        kw["exif"] = _exif(exif).tobytes()
    path = Path(path)
    _pil(rgb).save(path, "PNG", **kw)
    return path


def make_tiff(path, rgb, compression: str | None = None, *, xmp: str | None = None,
              exif: dict | None = None) -> Path:
    """TIFF via Pillow (``compression``: None, "tiff_lzw", "tiff_deflate", "jpeg"...)."""
    kw: dict = {}
    if compression:
        kw["compression"] = compression
    info = _exif(exif) if exif else {}
    if xmp is not None:
        info[700] = xmp.encode()  # XMP tag
    if info:
        kw["tiffinfo"] = info
    path = Path(path)
    _pil(rgb).save(path, "TIFF", **kw)
    return path


def make_webp(path, rgb, quality: int = 90, lossless: bool = False) -> Path:
    path = Path(path)
    _pil(rgb).save(path, "WEBP", quality=quality, lossless=lossless)
    return path


def make_bmp(path, rgb) -> Path:
    path = Path(path)
    _pil(rgb).save(path, "BMP")
    return path


def make_gif(path, frames: Iterable[np.ndarray], duration_ms: int = 100) -> Path:
    """Animated GIF from RGB frames (palette-quantised by Pillow)."""
    from PIL import Image

    ims = [Image.fromarray(np.asarray(f, dtype=np.uint8)).convert("P", palette=Image.ADAPTIVE)
           for f in frames]
    path = Path(path)
    ims[0].save(path, "GIF", save_all=True, append_images=ims[1:], duration=duration_ms,
                loop=0)
    return path


# --------------------------------------------------------------------------- video


def _as_2d(samples) -> np.ndarray:
    a = np.asarray(samples, dtype=np.float32)
    return a[:, None] if a.ndim == 1 else a


def make_video(path, frames_rgb: Iterable[np.ndarray], fps: float, audio=None, *,
               audio_sr: int = 16000, codec: str = "libx264", crf: int = 23,
               gop: int | None = None, container_format: str | None = None,
               metadata: dict[str, str] | None = None,
               display_rotation: float | None = None) -> Path:
    """H.264 (yuv420p) video with an optional AAC track; MP4 by default (by the suffix).

    ``audio``: float samples (n,) or (n, channels) at ``audio_sr``. Frame sides must be even.
    ``gop``: key-frame interval in frames (default: FFmpeg's).
    ``display_rotation``: a display matrix turning the picture by this many degrees
    counter-clockwise (FFmpeg's sign: a phone's portrait clip is -90).
    """
    import av

    path = Path(path)
    frames = [np.asarray(f, dtype=np.uint8) for f in frames_rgb]
    h, w = frames[0].shape[:2]
    rate = Fraction(fps).limit_denominator(1001)
    with av.open(str(path), "w", format=container_format) as out:
        if metadata:
            out.metadata.update(metadata)
        vs = out.add_stream(codec, rate=rate)
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        if display_rotation is not None:
            vs.set_display_rotation(display_rotation)
        opts = {"crf": str(crf), "preset": "ultrafast"} if codec == "libx264" else {}
        if gop:
            vs.codec_context.gop_size = gop
        vs.options = opts
        aus = None
        if audio is not None:
            a = _as_2d(audio)
            aus = out.add_stream("aac", rate=audio_sr)
            aus.layout = "mono" if a.shape[1] == 1 else "stereo"
        for f in frames:
            vf = av.VideoFrame.from_ndarray(f, format="rgb24")
            for pkt in vs.encode(vf):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
        if aus is not None:
            _encode_audio(out, aus, a, audio_sr)
    return path


def with_zero_timestamps(src, dst) -> Path:
    """``src``'s video packets remuxed into ``dst`` (MKV) with every pts and dts set to 0, as
    a broken muxer writes them."""
    import av

    dst = Path(dst)
    with av.open(str(src)) as i, av.open(str(dst), "w") as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for pkt in i.demux(i.streams.video[0]):
            if pkt.dts is None:
                continue
            pkt.stream, pkt.pts, pkt.dts = s, 0, 0
            o.mux(pkt)
    return dst


def _encode_audio(out, stream, a: np.ndarray, sr: int, frame_size: int = 1024) -> None:
    import av

    layout = "mono" if a.shape[1] == 1 else "stereo"
    planar = np.ascontiguousarray(a.T.astype(np.float32))
    for i in range(0, planar.shape[1], frame_size):
        chunk = np.ascontiguousarray(planar[:, i:i + frame_size])
        fr = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        fr.sample_rate = sr
        fr.pts = i
        fr.time_base = Fraction(1, sr)
        for pkt in stream.encode(fr):
            out.mux(pkt)
    for pkt in stream.encode():
        out.mux(pkt)


# --------------------------------------------------------------------------- audio


def make_wav(path, samples, sr: int, subtype: str = "PCM_16") -> Path:
    """WAV via soundfile (``subtype``: PCM_16, PCM_24, FLOAT...)."""
    import soundfile as sf

    path = Path(path)
    sf.write(str(path), _as_2d(samples), sr, subtype=subtype, format="WAV")
    return path


def make_flac(path, samples, sr: int, subtype: str = "PCM_16") -> Path:
    import soundfile as sf

    path = Path(path)
    sf.write(str(path), _as_2d(samples), sr, subtype=subtype, format="FLAC")
    return path


def make_ogg(path, samples, sr: int) -> Path:
    """Ogg Vorbis via soundfile."""
    import soundfile as sf

    path = Path(path)
    sf.write(str(path), _as_2d(samples), sr, format="OGG", subtype="VORBIS")
    return path


def _av_audio(path, samples, sr: int, codec: str, fmt: str, bit_rate: int | None,
              tags: dict[str, str] | None) -> Path:
    import av

    path = Path(path)
    a = _as_2d(samples)
    with av.open(str(path), "w", format=fmt) as out:
        if tags:
            out.metadata.update(tags)
        s = out.add_stream(codec, rate=sr)
        s.layout = "mono" if a.shape[1] == 1 else "stereo"
        if bit_rate:
            s.bit_rate = bit_rate
        _encode_audio(out, s, a, sr, frame_size=1152 if codec == "libmp3lame" else 1024)
    return path


def make_mp3(path, samples, sr: int, bit_rate: int = 128000,
             tags: dict[str, str] | None = None) -> Path:
    """MP3 (LAME) via PyAV."""
    return _av_audio(path, samples, sr, "libmp3lame", "mp3", bit_rate, tags)


def make_m4a(path, samples, sr: int, bit_rate: int = 96000,
             tags: dict[str, str] | None = None) -> Path:
    """AAC in an MP4 audio container (.m4a, brand M4A) via PyAV."""
    return _av_audio(path, samples, sr, "aac", "ipod", bit_rate, tags)
