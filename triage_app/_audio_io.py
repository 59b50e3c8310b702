"""Audio for :func:`triage_app.media.open_media`: soundfile (libsndfile) and PyAV (FFmpeg).

WAV, FLAC, AIFF and Ogg Vorbis/Opus go through soundfile; MP3, M4A/AAC, Opus-in-other-
containers and anything soundfile refuses go through PyAV. Samples are float32 in -1..1 with
shape (n_samples, channels).

Before reading, the duration the header claims is checked against ``limits.max_duration_s``,
and a WAV file's chunk list is checked against the file size: a ``data`` chunk that claims
more bytes than the file holds is a cut (or forged) file, and libsndfile would silently read
less. An Ogg file that carries a video stream (Theora) opens as video.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import numpy as np

from triage_app.media import (
    AudioMedia,
    CorruptFileError,
    LimitExceededError,
    Limits,
    MediaError,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedFormatError,
    VideoMedia,
)

#: Formats libsndfile reads well; everything else goes to PyAV.
SOUNDFILE_FORMATS = ("WAV", "FLAC", "AIFF", "OGG")

_BIT_DEPTH = {
    "PCM_S8": "8-bit", "PCM_U8": "8-bit", "PCM_16": "16-bit", "PCM_24": "24-bit",
    "PCM_32": "32-bit", "FLOAT": "32-bit float", "DOUBLE": "64-bit float",
    "ULAW": "8-bit mu-law", "ALAW": "8-bit A-law",
}
_AV_BIT_DEPTH = {"u8": "8-bit", "s16": "16-bit", "s32": "32-bit", "flt": "32-bit float",
                 "dbl": "64-bit float", "s64": "64-bit"}


def _lib(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


# --------------------------------------------------------------------------- entry point


def open_audio(path: Path, fmt: str, limits: Limits) -> AudioMedia | VideoMedia:
    """Open ``path`` (sniffed as ``fmt``) as :class:`AudioMedia`.

    Returns :class:`VideoMedia` instead when PyAV finds a video stream (Ogg Theora).

    Raises
    ------
    TruncatedFileError
        A WAV data chunk (or another chunk) runs past the end of the file.
    CorruptFileError
        Damaged header or undecodable stream.
    LimitExceededError
        The header's duration is over ``limits.max_duration_s`` (nothing is decoded).
    """
    path = Path(path)
    notes: list[str] = []
    if fmt == "WAV":
        notes.extend(check_wav_chunks(path))
    if fmt == "OGG":
        from triage_app import _video_io

        notes.extend(check_ogg_pages(path))
        has_video = False
        try:
            with _video_io.av_container(path, fmt) as c:
                has_video = bool(_video_io.video_streams(c))
        except MediaError:
            pass  # libsndfile below gets its chance, then FFmpeg's error is reported
        if has_video:
            return _video_io.open_video(path, "OGG", limits)
    if fmt in SOUNDFILE_FORMATS:
        try:
            media = _open_soundfile(path, fmt, limits)
        except MediaError:
            raise
        except Exception as exc:  # noqa: BLE001 -- libsndfile refused: try FFmpeg
            try:
                media = open_audio_av(path, fmt, limits)
            except MediaError as av_err:
                if isinstance(av_err, (TruncatedFileError, LimitExceededError)):
                    raise
                raise CorruptFileError(
                    f"damaged {fmt} audio: neither libsndfile nor FFmpeg can decode it "
                    f"(libsndfile: {_lib(exc)}; FFmpeg: {av_err.message})") from None
            media.notes.insert(0, f"libsndfile could not read it ({_lib(exc)}); decoded with "
                                  "FFmpeg instead")
    else:
        media = open_audio_av(path, fmt, limits)
    if fmt == "FLAC" and isinstance(media, AudioMedia):
        _check_flac_length(path, media)
    media.notes[:0] = notes
    return media


def _check_flac_length(path: Path, media: AudioMedia) -> None:
    """Raise :class:`TruncatedFileError` when fewer samples decode than STREAMINFO states."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(42)
    except OSError:
        return
    # "fLaC", metadata block header (4 bytes), STREAMINFO: total samples are the low 36 bits
    # of the 8 bytes at offset 18 of the block (after rate, channels, bits per sample).
    if len(head) < 42 or head[:4] != b"fLaC" or head[4] & 0x7F != 0:
        return
    total = int.from_bytes(head[21:26], "big") & ((1 << 36) - 1)
    n = media.samples.shape[0]
    if total and n < total:
        sr = media.sample_rate
        raise TruncatedFileError(
            f"truncated FLAC: the header states {total:,} samples ({total / sr:.3f} s), but "
            f"the {media.size:,}-byte file holds only {n:,} ({n / sr:.3f} s)")


def check_ogg_pages(path: Path) -> list[str]:
    """Walk the Ogg pages; raise :class:`TruncatedFileError` if the last one is cut.

    Returns notes: an Ogg file whose pages are whole but which has no end-of-stream page
    was probably cut at a page boundary.
    """
    notes: list[str] = []
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            n = fh.tell()
            pos = 0
            eos = False
            pages = 0
            while pos < n:
                fh.seek(pos)
                hdr = fh.read(27)
                if len(hdr) < 27:
                    raise TruncatedFileError(
                        f"truncated OGG: the page header at byte {pos:,} is cut off by the end "
                        f"of the file at byte {n:,}")
                if hdr[:4] != b"OggS":
                    notes.append(f"{n - pos:,} bytes that are not Ogg pages from byte {pos:,}")
                    return notes
                nseg = hdr[26]
                table = fh.read(nseg)
                if len(table) < nseg:
                    raise TruncatedFileError(
                        f"truncated OGG: the page at byte {pos:,} is cut off by the end of "
                        f"the file at byte {n:,}")
                size = 27 + nseg + sum(table)
                if pos + size > n:
                    raise TruncatedFileError(
                        f"truncated OGG: the page at byte {pos:,} declares {size:,} bytes but "
                        f"the file ends at byte {n:,} of the {pos + size:,} it needs"
                        + (f" (after {pages:,} whole pages)" if pages else ""))
                eos = bool(hdr[5] & 0x04)
                pages += 1
                pos += size
            if pages and not eos:
                notes.append("the last Ogg page is not marked end-of-stream: the file may have "
                             "been cut at a page boundary")
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    return notes


# --------------------------------------------------------------------------- soundfile


#: A recording longer than this is not decoded whole when it is opened: its samples are read
#: from the file a stretch at a time (:class:`triage_app.media.StreamedSamples`), so that a
#: four-hour recording costs one analysis segment's memory, not gigabytes. Shorter ones are
#: decoded whole (15 min of 48 kHz stereo is 350 MB of float32).
STREAM_ABOVE_S = 15 * 60.0
#: Seconds per block of the pass that validates a streamed file.
BLOCK_S = 30.0


class _SoundFileAt:
    """``sf.SoundFile`` on ``path``, through a file handle when the path is not UTF-8
    (libsndfile takes byte paths only in UTF-8)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fh: Any = None

    def __enter__(self) -> Any:
        import soundfile as sf

        try:
            self.path.encode("utf-8")
            target: Any = self.path
        except UnicodeEncodeError:
            self._fh = open(self.path, "rb")  # noqa: SIM115 -- closed in __exit__
            target = self._fh
        try:
            self._sf = sf.SoundFile(target)
        except BaseException:
            self.__exit__()
            raise
        return self._sf

    def __exit__(self, *exc: Any) -> None:
        sf_ = getattr(self, "_sf", None)
        if sf_ is not None:
            sf_.close()
        if self._fh is not None:
            self._fh.close()


def _clean(data: np.ndarray, clip: bool) -> np.ndarray:
    """What the whole decode does to its samples: non-finite to 0, float clipped to -1..1."""
    if not np.all(np.isfinite(data)):
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    if clip:
        np.clip(data, -1.0, 1.0, out=data)
    return data


def _scan(f: Any, rate: int) -> tuple[int, bool, float]:
    """Read an open SoundFile to its end a block at a time: (frames read, any non-finite
    sample, peak |x|); nothing is kept."""
    n, nonfinite, peak = 0, False, 0.0
    block = max(1, int(BLOCK_S * rate))
    while True:
        data = f.read(block, dtype="float32", always_2d=True)
        if data.shape[0] == 0:
            break
        n += data.shape[0]
        finite = np.isfinite(data)
        if not finite.all():
            nonfinite = True
            data = np.where(finite, data, 0.0)
        peak = max(peak, float(np.max(np.abs(data))))
    return n, nonfinite, peak


def _streamed_reader(path: str, clip: bool) -> Any:
    """``read(start, stop)`` for :class:`StreamedSamples`: those frames from the file,
    cleaned as the whole decode would be."""

    def read(start: int, stop: int) -> np.ndarray:
        with _SoundFileAt(path) as f:
            f.seek(start)
            data = f.read(stop - start, dtype="float32", always_2d=True)
        if data.shape[0] < stop - start:  # the file changed or a block would not decode
            raise CorruptFileError(
                f"only {data.shape[0]:,} of the {stop - start:,} sample frames from frame "
                f"{start:,} could be read from {Path(path).name}")
        return _clean(data, clip)

    return read


def _open_soundfile(path: Path, fmt: str, limits: Limits) -> AudioMedia:
    from triage_app.media import StreamedSamples

    notes: list[str] = []
    data: np.ndarray | None = None
    with _SoundFileAt(str(path)) as f:
        rate = int(f.samplerate)
        frames = int(f.frames)
        channels = int(f.channels)
        if rate <= 0:
            raise CorruptFileError(f"{fmt} header states a sample rate of {rate} Hz")
        if channels <= 0:
            raise CorruptFileError(f"{fmt} header states {channels} channels")
        claimed = frames / rate
        if claimed > limits.max_duration_s:
            raise LimitExceededError(
                f"{fmt} header claims {claimed:,.1f} s of audio, over the limit of "
                f"{limits.max_duration_s:,.0f} s; not decoded")
        subtype = str(f.subtype)
        try:
            tags = {k: str(v) for k, v in f.copy_metadata().items() if v}
        except Exception:  # noqa: BLE001
            tags = {}
        if claimed > STREAM_ABOVE_S and f.seekable():
            # long: validated to the end a block at a time, then read a stretch at a time
            n_read, nonfinite, peak = _scan(f, rate)
        else:
            data = f.read(dtype="float32", always_2d=True)
            n_read = data.shape[0]
            nonfinite = not np.all(np.isfinite(data))
            peak = float(np.max(np.abs(np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)))) \
                if data.size and subtype in ("FLOAT", "DOUBLE") else 0.0
    if n_read < frames:
        notes.append(f"the header states {frames:,} sample frames but only {n_read:,} "
                     "could be read")
    if n_read == 0:
        raise CorruptFileError(f"{fmt} file holds no audio samples")
    if nonfinite:
        notes.append("non-finite samples (NaN/inf) were set to 0")
    clip = subtype in ("FLOAT", "DOUBLE") and peak > 1.0
    if clip:
        notes.append(f"floating-point samples reach {peak:.3g}, beyond full scale; "
                     "clipped to -1..1")
    if data is None:
        samples: Any = StreamedSamples(n_read, channels, _streamed_reader(str(path), clip))
        notes.append(f"{n_read / rate / 60:.0f} minutes long: read from the file a stretch "
                     "at a time, not held in memory whole")
    else:
        samples = np.ascontiguousarray(_clean(data, clip))
    return AudioMedia(path=str(path), format=fmt, samples=samples,
                      sample_rate=rate, codec=subtype, bit_depth=_BIT_DEPTH.get(subtype, ""),
                      size=path.stat().st_size, tags=tags, notes=notes)


def check_wav_chunks(path: Path) -> list[str]:
    """Walk a RIFF/WAVE file's chunks against the file size; return notes or raise.

    Raises :class:`TruncatedFileError` when a chunk (typically ``data``) declares more bytes
    than the file holds, and :class:`CorruptFileError` when ``fmt``/``data`` is missing. A
    ``data`` size of 0 or 0xFFFFFFFF (left by tools that stream WAV to a pipe) is a note.
    """
    try:
        with open(path, "rb") as fh:
            fh.seek(0, 2)
            n = fh.tell()
            fh.seek(0)
            head = fh.read(12)
            if len(head) < 12:
                raise TruncatedFileError(f"truncated WAV: the file is only {n} bytes, shorter "
                                         "than a WAV header (12 bytes)")
            riff, riff_size, wave = struct.unpack("<4sI4s", head)
            if riff != b"RIFF" or wave != b"WAVE":
                return []  # RF64 and friends: libsndfile checks those
            notes: list[str] = []
            pos = 12
            seen: list[str] = []
            while pos + 8 <= n:
                fh.seek(pos)
                cid, csize = struct.unpack("<4sI", fh.read(8))
                name = cid.decode("latin-1")
                if not (cid.isascii() and all(32 <= b < 127 for b in cid)):
                    if "data" in seen:
                        notes.append(f"{n - pos:,} bytes of unrecognised data after the WAV "
                                     f"chunks, from byte {pos:,}")
                        break
                    raise CorruptFileError(
                        f"corrupt WAV: unreadable chunk id {cid!r} at byte {pos:,} (after "
                        f"{', '.join(seen) or 'the RIFF header'})")
                end = pos + 8 + csize
                if end > n:
                    if name == "data" and csize in (0xFFFFFFFF, 0xFFFFFFFE):
                        notes.append("the WAV header does not state the data size (left "
                                     "unset by a streaming writer); samples to the end of the "
                                     "file were read")
                    elif name == "data":
                        raise TruncatedFileError(
                            f"truncated WAV: the data chunk at byte {pos:,} declares "
                            f"{csize:,} bytes of samples, but the file ends at byte {n:,}, so "
                            f"only {n - pos - 8:,} bytes of samples are present "
                            f"({end - n:,} missing)")
                    else:
                        raise TruncatedFileError(
                            f"truncated WAV: the {name!r} chunk at byte {pos:,} declares "
                            f"{csize:,} bytes, but the file ends at byte {n:,}")
                    seen.append(name)
                    break
                if name == "data" and csize == 0 and pos + 8 < n and "data" not in seen:
                    notes.append("the WAV data chunk states a size of 0 (a streaming "
                                 "writer's placeholder)")
                seen.append(name)
                pos = end + (csize & 1)
            if "fmt " not in seen:
                raise CorruptFileError("corrupt WAV: no 'fmt ' chunk (sample format) "
                                       f"in the {n:,}-byte file")
            if "data" not in seen:
                raise CorruptFileError(f"corrupt WAV: no 'data' chunk (samples) in the "
                                       f"{n:,}-byte file; chunks found: {', '.join(seen)}")
            if riff_size + 8 != n and riff_size not in (0, 0xFFFFFFFF):
                notes.append(f"the RIFF header states {riff_size + 8:,} bytes but the file "
                             f"has {n:,}")
            return notes
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except struct.error:
        raise TruncatedFileError(f"truncated WAV: a chunk header is cut off") from None


# --------------------------------------------------------------------------- PyAV

#: A stretch of a streamed compressed recording may come back this much shorter than asked at
#: the very end of the stream (a seek's timestamps against the measuring pass's count); the
#: missing frames repeat the last one. Anything shorter is an error.
AV_END_TOLERANCE_S = 0.05


def _streamed_av(path: Path, fmt: str, c: Any, a: Any, limits: Limits,
                 notes: list[str]) -> tuple[Any, int]:
    """StreamedSamples over a compressed recording decoded by PyAV: the measuring pass
    counts its frames, each read decodes only its stretch (the container sought to it, as
    for a video's soundtrack: :func:`triage_app._video_io.decode_audio_from`)."""
    from triage_app import _video_io
    from triage_app.media import StreamedSamples

    count = {"frames": 0, "channels": 0}

    def measure(chunk: np.ndarray) -> None:
        count["frames"] += chunk.shape[0]
        count["channels"] = chunk.shape[1]

    _, rate = _video_io.decode_audio_stream(c, a, max_seconds=limits.max_duration_s,
                                            notes=notes, sink=measure)
    frames, channels = count["frames"], count["channels"]

    def read(start: int, stop: int) -> np.ndarray:
        want = stop - start
        with _video_io.av_container(path, fmt) as c2:
            data, _ = _video_io.decode_audio_from(c2, path, fmt, start=start / rate,
                                                  max_seconds=want / rate, notes=[])
        data = data[:want]
        short = want - data.shape[0]
        if short and (stop < frames or short > AV_END_TOLERANCE_S * rate or not data.size):
            raise CorruptFileError(
                f"only {data.shape[0]:,} of the {want:,} sample frames from "
                f"{start / rate:.3f} s could be decoded from {path.name}")
        if short:
            data = np.pad(data, ((0, short), (0, 0)), mode="edge")
        return np.ascontiguousarray(data)

    notes.append(f"{frames / rate / 60:.0f} minutes long: read from the file a stretch at a "
                 "time, not held in memory whole")
    return StreamedSamples(frames, channels, read), rate



def open_audio_av(path: Path, fmt: str, limits: Limits, *,
                  container: Any = None) -> AudioMedia | VideoMedia:
    """Decode the first audio stream with PyAV (FFmpeg).

    With ``container`` (an open PyAV input) the caller already knows there is no video;
    without it, a file in which FFmpeg finds a video stream opens as :class:`VideoMedia`.
    """
    from triage_app import _video_io

    path = Path(path)
    if container is None:
        with _video_io.av_container(path, fmt) as c:
            if _video_io.video_streams(c):
                has_video = True
            else:
                return _decode_av(path, fmt, limits, c)
        if has_video:
            return _video_io.open_video(path, fmt, limits)
    return _decode_av(path, fmt, limits, container)


def _decode_av(path: Path, fmt: str, limits: Limits, c: Any) -> AudioMedia:
    from triage_app import _video_io

    if not c.streams.audio:
        raise UnsupportedFormatError(f"{fmt} file holds no audio stream")
    a = c.streams.audio[0]
    notes: list[str] = []
    if len(c.streams.audio) > 1:
        notes.append(f"{len(c.streams.audio)} audio streams: only the first is analysed")
    duration = _video_io.container_duration(c, a)
    if duration > limits.max_duration_s:
        raise LimitExceededError(
            f"{fmt} audio lasts {duration:,.1f} s, over the limit of "
            f"{limits.max_duration_s:,.0f} s; not decoded")
    codec = _video_io.codec_name(a)
    try:
        sample_fmt = a.codec_context.format.name if a.codec_context.format else ""
    except Exception:  # noqa: BLE001
        sample_fmt = ""
    if duration > STREAM_ABOVE_S:
        # long: decoded once to its end to measure it (nothing kept), then a stretch at a time
        samples, rate = _streamed_av(path, fmt, c, a, limits, notes)
    else:
        samples, rate = _video_io.decode_audio_stream(c, a, max_seconds=limits.max_duration_s,
                                                      notes=notes)
    bit_depth = ""
    if codec.startswith("pcm_") or codec in ("flac", "alac", "wavpack"):
        bit_depth = _AV_BIT_DEPTH.get(sample_fmt.rstrip("p"), "")
        raw_bits = getattr(a.codec_context, "bits_per_raw_sample", 0)
        if codec.startswith("pcm_s24") or (codec == "flac" and raw_bits == 24):
            bit_depth = "24-bit"
    tags = {str(k): str(v) for k, v in dict(c.metadata or {}).items()}
    tags.update({str(k): str(v) for k, v in dict(a.metadata or {}).items()})
    return AudioMedia(path=str(path), format=fmt, samples=samples, sample_rate=rate,
                      codec=codec, bit_depth=bit_depth, size=path.stat().st_size, tags=tags,
                      notes=notes)
