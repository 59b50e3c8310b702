"""Open a file as image, video or audio media, by its content, never by its name.

``open_media(path)`` sniffs the first bytes (magic numbers, container probe), decodes with
Pillow (images), PyAV (video, and audio that libsndfile cannot read) or soundfile (audio), and
returns an :class:`ImageMedia`, :class:`VideoMedia` or :class:`AudioMedia`. Every failure is a
:class:`MediaError` subclass with a message a person understands; nothing else escapes.

Video is streamed: :meth:`VideoMedia.frames` decodes frame by frame and never holds the clip.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np


# --------------------------------------------------------------------------- errors


class MediaError(Exception):
    """A file that cannot be opened as media; ``str(err)`` is the message for a person."""

    def __init__(self, message: str, *, path: str | os.PathLike[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.path = None if path is None else str(path)

    def __str__(self) -> str:
        return self.message


class EmptyFileError(MediaError):
    """The file has no bytes."""


class UnreadableFileError(MediaError):
    """The file cannot be read (permissions, a folder, a broken link...)."""


class UnsupportedFormatError(MediaError):
    """The content is not an image, video or audio format we decode."""


class TruncatedFileError(MediaError):
    """The content stops before its own headers say it should."""


class CorruptFileError(MediaError):
    """The content is damaged or inconsistent (bad header, broken atom, bad stream)."""


class LimitExceededError(MediaError):
    """The file exceeds a configured limit (pixel count, duration, file size)."""


# --------------------------------------------------------------------------- limits


@dataclass(frozen=True)
class Limits:
    """Refuse media past these sizes, before decoding them.

    Defaults suit a workstation: 200 megapixels (a decompression bomb claims far more), four
    hours of video or audio, 8 GiB per file. Change them in the settings file or per call.
    """

    max_pixels: int = 200_000_000
    max_duration_s: float = 4 * 3600.0
    max_file_bytes: int = 8 * 1024**3
    max_video_pixels: int = 8192 * 8192


DEFAULT_LIMITS = Limits()


# --------------------------------------------------------------------------- media types


@dataclass
class ImageMedia:
    """A decoded still image.

    ``pixels`` is RGB uint8, shape (H, W, 3); greyscale and palette images are expanded to
    RGB, alpha is dropped (``has_alpha`` says there was one). ``raw`` is the file's bytes,
    which the JPEG and metadata detectors read.
    """

    path: str
    format: str
    pixels: np.ndarray
    raw: bytes = field(repr=False, default=b"")
    mode: str = "RGB"
    has_alpha: bool = False
    exif: dict[str, Any] = field(default_factory=dict)
    xmp: str | None = None
    icc: bytes | None = field(default=None, repr=False)
    iptc: dict[str, Any] = field(default_factory=dict)
    text_chunks: dict[str, str] = field(default_factory=dict)
    quantization: dict[int, list[int]] | None = None
    jpeg_subsampling: str | None = None
    progressive: bool = False
    thumbnail: bytes | None = field(default=None, repr=False)
    notes: list[str] = field(default_factory=list)

    kind = "image"

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def summary(self) -> dict[str, Any]:
        return {
            "kind": "image", "format": self.format, "width": self.width,
            "height": self.height, "mode": self.mode, "size": len(self.raw),
            "has_exif": bool(self.exif), "has_xmp": self.xmp is not None,
            "has_icc": self.icc is not None,
            "jpeg_quality_tables": len(self.quantization or {}), "notes": self.notes,
        }


class StreamedSamples:
    """The samples of a long recording, read from its file when a stretch is asked for.

    Behaves as the (n_samples, channels) float32 array it stands for where the analysis uses
    one: ``shape``, ``len()`` and slicing along time (``x[a:b]`` reads those frames and gives
    an ndarray). ``np.asarray(x)`` reads everything (the whole-array path, for small callers);
    the pipeline reads a long recording a segment at a time (``triage_app.segments``), so
    that an hour of sound is never held at once.

    ``read(start, stop)`` returns float32 frames ``start..stop`` with the same cleaning the
    whole decode applies (non-finite samples to 0, float samples clipped to -1..1).
    """

    dtype = np.dtype(np.float32)
    ndim = 2

    def __init__(self, frames: int, channels: int,
                 read: Callable[[int, int], np.ndarray]) -> None:
        self.shape = (int(frames), int(channels))
        self._read = read

    def __len__(self) -> int:
        return self.shape[0]

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    def __getitem__(self, key: Any) -> np.ndarray:
        if isinstance(key, tuple):  # x[a:b, c]: the time slice read, then the rest applied
            return self[key[0]][(slice(None), *key[1:])]
        if not isinstance(key, slice) or key.step not in (None, 1):
            raise TypeError("streamed samples are read by contiguous time slices (x[a:b])")
        start, stop, _ = key.indices(self.shape[0])
        if stop <= start:
            return np.zeros((0, self.shape[1]), np.float32)
        return self._read(start, stop)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        data = self._read(0, self.shape[0])
        return data if dtype is None else data.astype(dtype, copy=False)

    def mean(self, axis: int | None = None, dtype: Any = None) -> Any:
        return np.asarray(self).mean(axis=axis, dtype=dtype)

    def __repr__(self) -> str:
        return f"StreamedSamples(frames={self.shape[0]}, channels={self.shape[1]})"


@dataclass
class AudioMedia:
    """Decoded audio: float32 samples in -1..1, shape (n_samples, channels).

    ``samples`` is an ndarray, or for a long recording a :class:`StreamedSamples` that reads a
    stretch from the file when it is sliced (``streamed`` is True).
    """

    path: str
    format: str
    samples: np.ndarray
    sample_rate: int
    codec: str = ""
    bit_depth: str = ""
    size: int = 0
    tags: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    kind = "audio"

    @property
    def channels(self) -> int:
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        return self.samples.shape[0] / float(self.sample_rate)

    @property
    def streamed(self) -> bool:
        return isinstance(self.samples, StreamedSamples)

    def mono(self) -> np.ndarray:
        """Mean of the channels, float32, shape (n_samples,) (reads a streamed file whole)."""
        return self.samples.mean(axis=1).astype(np.float32, copy=False)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": "audio", "format": self.format, "codec": self.codec,
            "sample_rate": self.sample_rate, "channels": self.channels,
            "duration": round(self.duration, 3), "bit_depth": self.bit_depth,
            "size": self.size, "notes": self.notes,
        }


@dataclass
class VideoFrame:
    index: int
    time: float
    rgb: np.ndarray  # uint8 (H, W, 3)
    key_frame: bool = False


@dataclass
class VideoMedia:
    """A video, probed but not decoded: call :meth:`frames` to stream it."""

    path: str
    format: str
    width: int
    height: int
    fps: float
    duration: float
    frame_count: int
    codec: str
    bit_rate: int | None = None
    size: int = 0
    container_metadata: dict[str, str] = field(default_factory=dict)
    stream_metadata: dict[str, str] = field(default_factory=dict)
    has_audio: bool = False
    audio_codec: str | None = None
    pix_fmt: str | None = None
    rotation: int = 0   # degrees clockwise the display matrix turns the stored picture
    notes: list[str] = field(default_factory=list)
    #: Seconds by which the audio track's first sample comes after the first video frame on
    #: the file's clock (negative: before). Picture times run from the first frame and
    #: soundtrack times from the first sample; audio-visual checks line them up with it.
    audio_offset: float = 0.0

    kind = "video"

    def frames(self, *, every: int = 1, start: float = 0.0, end: float | None = None,
               max_side: int | None = None) -> Iterator[VideoFrame]:
        """Decode frames one at a time (every ``every``-th, between ``start`` and ``end`` s)."""
        from triage_app import _video_io

        yield from _video_io.iter_frames(self, every=every, start=start, end=end,
                                         max_side=max_side)

    def audio(self, *, max_duration: float | None = None,
              start: float = 0.0) -> AudioMedia | None:
        """The first audio track decoded as :class:`AudioMedia` (from ``start`` s, at most
        ``max_duration`` s of it), or None if there is none."""
        if not self.has_audio:
            return None
        from triage_app import _video_io

        return _video_io.decode_audio_track(self, max_duration=max_duration, start=start)

    def summary(self) -> dict[str, Any]:
        return {
            "kind": "video", "format": self.format, "codec": self.codec,
            "width": self.width, "height": self.height, "fps": round(self.fps, 3),
            "duration": round(self.duration, 3), "frame_count": self.frame_count,
            "bit_rate": self.bit_rate, "size": self.size, "has_audio": self.has_audio,
            "audio_codec": self.audio_codec, "rotation": self.rotation, "notes": self.notes,
        }


Media = ImageMedia | VideoMedia | AudioMedia


# --------------------------------------------------------------------------- sniffing

#: Extensions we treat as media when walking folders, by the kind they claim.
MEDIA_EXTENSIONS: dict[str, str] = {
    **{e: "image" for e in (".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff",
                            ".webp", ".bmp", ".heic", ".heif", ".avif", ".gif")},
    **{e: "video" for e in (".mp4", ".m4v", ".mov", ".mkv", ".avi", ".webm", ".3gp",
                            ".mpg", ".mpeg", ".ts", ".wmv", ".flv")},
    **{e: "audio" for e in (".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a",
                            ".aac", ".aif", ".aiff", ".wma")},
}


_ISO_BMFF = frozenset({"MP4", "MOV", "M4A", "HEIF", "AVIF"})   # one box format, many brands
#: The content format(s) each extension names, where it names one family; a file whose content
#: is another format of the same kind gets a note (renamed, or saved under the wrong name).
EXTENSION_FORMATS: dict[str, frozenset[str]] = {
    **{e: frozenset({"JPEG"}) for e in (".jpg", ".jpeg", ".jpe", ".jfif")},
    ".png": frozenset({"PNG"}), ".tif": frozenset({"TIFF"}), ".tiff": frozenset({"TIFF"}),
    ".webp": frozenset({"WEBP"}), ".bmp": frozenset({"BMP"}), ".gif": frozenset({"GIF"}),
    **{e: _ISO_BMFF for e in (".heic", ".heif", ".avif", ".mp4", ".m4v", ".mov", ".3gp",
                              ".m4a")},
    ".wav": frozenset({"WAV"}), ".flac": frozenset({"FLAC"}), ".mp3": frozenset({"MP3"}),
    **{e: frozenset({"OGG"}) for e in (".ogg", ".oga", ".opus")},
    ".aif": frozenset({"AIFF"}), ".aiff": frozenset({"AIFF"}), ".aac": frozenset({"AAC"}),
    ".mkv": frozenset({"MKV", "WEBM"}), ".webm": frozenset({"WEBM", "MKV"}),
    ".avi": frozenset({"AVI"}), ".flv": frozenset({"FLV"}),
    ".ts": frozenset({"TS"}), ".mpg": frozenset({"MPEG-PS", "TS"}),
    ".mpeg": frozenset({"MPEG-PS", "TS"}),
}


def sniff(head: bytes) -> tuple[str, str] | None:
    """Guess (kind, format) from the first bytes of a file, or None if unknown.

    ``head`` should be at least 64 bytes when the file has them.
    """
    if head.startswith(b"\xff\xd8\xff"):
        return "image", "JPEG"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image", "PNG"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "image", "TIFF"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image", "WEBP"
    if head[:2] == b"BM" and len(head) >= 26:
        return "image", "BMP"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image", "GIF"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio", "WAV"
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return "video", "AVI"
    if head[:4] == b"fLaC":
        return "audio", "FLAC"
    if head[:4] == b"OggS":
        return "audio", "OGG"  # Ogg may carry Theora video; the probe decides
    if head[:3] == b"ID3" or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
                              and head[1] & 0x06 != 0):
        return "audio", "MP3"
    if head[:4] in (b"FORM",) and head[8:12] in (b"AIFF", b"AIFC"):
        return "audio", "AIFF"
    if head[:4] == b"\x1a\x45\xdf\xa3":
        return "video", "MKV" if b"webm" not in head[:64] else "WEBM"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"avif"):
            return "image", "HEIF" if brand != b"avif" else "AVIF"
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return "audio", "M4A"
        if brand == b"qt  ":
            return "video", "MOV"
        return "video", "MP4"
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip"):
        return "video", "MOV"
    if len(head) >= 1 and head[0] == 0x47 and len(head) > 188 and head[188] == 0x47:
        return "video", "TS"
    if head[:4] == b"\x00\x00\x01\xba":
        return "video", "MPEG-PS"
    if head[:2] == b"\xff\xf1" or head[:2] == b"\xff\xf9":
        return "audio", "AAC"
    if head[:3] == b"FLV":
        return "video", "FLV"
    return None


def describe_content(head: bytes) -> str:
    """A short phrase for content that is not media, for error messages."""
    if not head:
        return "no bytes"
    sample = head[:512]
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP archive"
    try:
        sample.decode("utf-8")
        return "plain text"
    except UnicodeDecodeError:
        pass
    return f"unrecognised binary data (starts {head[:8].hex(' ')})"


# --------------------------------------------------------------------------- opening


def open_media(path: str | os.PathLike[str], *, limits: Limits = DEFAULT_LIMITS) -> Media:
    """Open ``path`` as image, video or audio by its content.

    Raises
    ------
    MediaError
        (a subclass) with a message a person understands; never anything else.
    """
    from triage_app import _image_io, _video_io, _audio_io

    p = Path(path)
    try:
        st = p.stat()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {p.name}: {exc.strerror or exc}", path=p) from None
    if not p.is_file():
        raise UnreadableFileError(f"{p.name} is not a regular file", path=p)
    if st.st_size == 0:
        raise EmptyFileError("empty file (0 bytes)", path=p)
    if st.st_size > limits.max_file_bytes:
        raise LimitExceededError(
            f"file is {st.st_size:,} bytes, over the limit of {limits.max_file_bytes:,}", path=p)
    try:
        with open(p, "rb") as fh:
            head = fh.read(4096)
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {p.name}: {exc.strerror or exc}", path=p) from None

    sniffed = sniff(head)
    claimed = MEDIA_EXTENSIONS.get(p.suffix.lower())
    if sniffed is None:
        what = describe_content(head)
        if claimed:
            raise UnsupportedFormatError(
                f"file is named {p.suffix} but its content is {what}, not {claimed} media", path=p)
        raise UnsupportedFormatError(f"not a media file: its content is {what}", path=p)
    kind, fmt = sniffed
    notes: list[str] = []
    if claimed and claimed != kind:
        notes.append(f"extension {p.suffix} claims {claimed}, but the content is {fmt} {kind}")
    elif claimed and fmt not in EXTENSION_FORMATS.get(p.suffix.lower(), frozenset({fmt})):
        names = "/".join(sorted(EXTENSION_FORMATS[p.suffix.lower()]))
        notes.append(f"extension {p.suffix} names {names}, but the content is {fmt} {kind}: "
                     "the file was renamed or saved under the wrong name")
    elif p.suffix and claimed is None:
        notes.append(f"extension {p.suffix} is not a media extension; the content is {fmt} {kind}")

    try:
        if kind == "image":
            media: Media = _image_io.open_image(p, fmt, limits)
        elif kind == "audio":
            media = _audio_io.open_audio(p, fmt, limits)
            if isinstance(media, VideoMedia):  # an Ogg/Matroska that carried video
                pass
        else:
            media = _video_io.open_video(p, fmt, limits)
    except MediaError as exc:
        exc.path = str(p)
        # libsndfile and FFmpeg quote the path they were given; in a case that is the vault
        # copy's hash name, which tells the analyst nothing: the message is about "the file"
        for quoted in (f"'{p}'", f'"{p}"', str(p)):
            exc.message = exc.message.replace(quoted, "the file")
        raise
    except MemoryError:
        raise LimitExceededError("not enough memory to decode this file", path=p) from None
    except Exception as exc:  # a decoder bug or an unforeseen failure: still a clear message
        raise CorruptFileError(f"{fmt} decoder failed: {type(exc).__name__}: {exc}", path=p) from None
    media.notes[:0] = notes
    return media
