"""Video for :func:`triage_app.media.open_media`: PyAV (FFmpeg) probe and streamed decoding.

``open_video`` probes the container (header and stream index, plus one decoded frame to prove
the stream decodes) and never decodes the whole clip. ``iter_frames`` streams frames one at a
time; ``decode_audio_track`` decodes the first audio stream to float32 samples.

Frame times are in seconds from the start of the video stream: ``(pts - start_pts) *
time_base``, so the first frame of an ordinary file is at 0.0 even when the container offsets
its timestamps (MPEG-TS, edit lists). A frame whose timestamp is missing or does not move
forward (a broken muxer) is placed one frame period after the previous one, so that the
analysis still has a time axis; the analysis notes say how many frames were retimed.

A display matrix (how phones record portrait video) is honoured: ``VideoMedia.width`` and
``height`` are the upright picture's, and frames come out upright, so that faces are upright
for the face detector and boxes are in the coordinates an analyst sees.

ISO-BMFF files (MP4, MOV, M4A) are also checked box by box, so that a damaged or cut file
gets a message that says which box is broken and at which byte.
"""

from __future__ import annotations

import contextlib
import math
import struct
from fractions import Fraction
from pathlib import Path
from typing import Any, Callable, Iterator

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
    VideoFrame,
    VideoMedia,
)

ISO_BMFF = ("MP4", "MOV", "M4A", "3GP")


# --------------------------------------------------------------------------- opening helpers


def _lib(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@contextlib.contextmanager
def av_container(path: str | Path, fmt: str = "") -> Iterator[Any]:
    """``av.open`` for reading, with every failure turned into a :class:`MediaError`.

    A path that cannot be passed to FFmpeg as text (non-UTF-8 bytes in the name) is opened as
    a Python file object instead.
    """
    import av

    p = str(path)
    fh = None
    try:
        p.encode("utf-8")
        target: Any = p
    except UnicodeEncodeError:
        try:
            fh = open(p, "rb")  # noqa: SIM115 -- closed in finally
        except OSError as exc:
            raise UnreadableFileError(
                f"cannot read {Path(p).name}: {exc.strerror or exc}") from None
        target = fh
    try:
        try:
            container = av.open(target, metadata_errors="replace")
        except av.error.FFmpegError as exc:
            raise _open_failure(Path(p), fmt, exc) from None
        except (OSError, ValueError, UnicodeError) as exc:
            raise _open_failure(Path(p), fmt, exc) from None
        try:
            yield container
        finally:
            container.close()
    finally:
        if fh is not None:
            fh.close()


def _open_failure(path: Path, fmt: str, exc: BaseException) -> MediaError:
    """The clearest error for a container that FFmpeg cannot open."""
    if fmt:
        err = container_size_problem(path, fmt)
        if err is not None:
            err.message = f"{err.message}. FFmpeg said: {_lib(exc)}"
            err.args = (err.message,)
            return err
    import av

    if isinstance(exc, (PermissionError, IsADirectoryError, FileNotFoundError)):
        return UnreadableFileError(f"cannot read {path.name}: {exc}")
    if isinstance(exc, av.error.EOFError):
        try:
            n = path.stat().st_size
        except OSError:
            n = 0
        return TruncatedFileError(
            f"truncated {fmt or 'media'}: the file ends (at byte {n:,}) before FFmpeg could "
            f"read its stream headers ({_lib(exc)})")
    if isinstance(exc, av.error.FFmpegError) and "Invalid data" in str(exc):
        return CorruptFileError(
            f"{fmt or 'media'} container is damaged or not what its header says: FFmpeg found "
            f"invalid data while reading its header ({_lib(exc)})")
    return CorruptFileError(f"{fmt or 'media'} container could not be opened ({_lib(exc)})")


def _boxes(raw_read, start: int, end: int) -> Iterator[tuple[str, int, int, int]]:
    """(type, offset, header_size, box_size) of ISO-BMFF boxes between start and end.

    ``box_size`` may run past ``end``: the caller checks. Stops at a box too small to be one.
    """
    pos = start
    while pos + 8 <= end:
        head = raw_read(pos, 16)
        if len(head) < 8:
            return
        size, btype = struct.unpack(">I4s", head[:8])
        hdr = 8
        if size == 1:
            if len(head) < 16:
                yield btype.decode("latin-1"), pos, 16, 16 + (1 << 62)
                return
            size = struct.unpack(">Q", head[8:16])[0]
            hdr = 16
        elif size == 0:
            size = end - pos
        yield btype.decode("latin-1"), pos, hdr, size
        if size < hdr:
            return
        pos += size


def iso_bmff_problem(path: Path, fmt: str = "MP4") -> MediaError | None:
    """A :class:`TruncatedFileError`/:class:`CorruptFileError` for a broken MP4/MOV, or None.

    Checks the top-level boxes (a box that runs past the end of the file means the file was
    cut), that a ``moov`` box (the index of the streams) exists, and that the boxes inside
    ``moov`` fit inside it.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115
    except OSError:
        return None
    with fh:
        fh.seek(0, 2)
        n = fh.tell()

        def read(off: int, k: int) -> bytes:
            fh.seek(off)
            return fh.read(k)

        moov = None
        seen: list[str] = []
        for btype, off, hdr, size in _boxes(read, 0, n):
            if not (btype.isascii() and btype.isprintable()):
                return CorruptFileError(
                    f"corrupt {fmt}: unreadable box type {btype.encode('latin-1')!r} at byte "
                    f"{off:,} (after {', '.join(seen) or 'the start'})")
            if size < hdr:
                return CorruptFileError(
                    f"corrupt {fmt}: the {btype} box at byte {off:,} declares an impossible size "
                    f"of {size} bytes")
            if off + size > n:
                extra = ("" if moov is not None or btype == "moov" else
                         "; the moov box (the index of the streams) is missing")
                return TruncatedFileError(
                    f"truncated {fmt}: the {btype} box at byte {off:,} declares {size:,} bytes "
                    f"but the file ends at byte {n:,} of the {off + size:,} it needs{extra}")
            seen.append(btype)
            if btype == "moov":
                moov = (off, hdr, size)
        if moov is None:
            if "mdat" in seen:
                return CorruptFileError(
                    f"corrupt {fmt}: no moov box (the index of the streams) in the file's "
                    f"{n:,} bytes, only {', '.join(seen)}; the recording was probably not "
                    "finalised")
            return CorruptFileError(f"corrupt {fmt}: no moov box (the index of the streams)")
        off, hdr, size = moov
        inner = list(_boxes(read, off + hdr, off + size))
        if not inner:
            return CorruptFileError(f"corrupt {fmt}: the moov box at byte {off:,} is empty")
        for btype, boff, bhdr, bsize in inner:
            if (not (btype.isascii() and btype.isalnum() or btype in ("meta", "udta"))
                    or bsize < bhdr or boff + bsize > off + size):
                return CorruptFileError(
                    f"corrupt {fmt}: the moov box (the index of the streams) at byte {off:,} is "
                    f"damaged: its child box {btype.encode('latin-1')!r} at byte {boff:,} "
                    f"declares {bsize:,} bytes, beyond the end of moov at byte {off + size:,}"
                    if boff + bsize > off + size else
                    f"corrupt {fmt}: the moov box (the index of the streams) at byte {off:,} is "
                    f"damaged: invalid child box {btype.encode('latin-1')!r} at byte {boff:,}")
        if not any(b[0] == "trak" for b in inner):
            return CorruptFileError(
                f"corrupt {fmt}: the moov box at byte {off:,} lists no tracks (no trak box)")
    return None


def _read_vint(buf: bytes, pos: int) -> tuple[int | None, int]:
    """An EBML variable-length integer at ``pos``: (value or None if "unknown", length)."""
    first = buf[pos]
    length = 1
    mask = 0x80
    while length <= 8 and not first & mask:
        mask >>= 1
        length += 1
    if length > 8 or pos + length > len(buf):
        raise ValueError("bad EBML integer")
    value = first & (mask - 1)
    for b in buf[pos + 1:pos + length]:
        value = (value << 8) | b
    if value == (1 << (7 * length)) - 1:
        return None, length
    return value, length


def container_size_problem(path: Path, fmt: str) -> MediaError | None:
    """A :class:`TruncatedFileError` when the container's own size field runs past the file.

    ISO-BMFF: see :func:`iso_bmff_problem`. AVI: the RIFF header's size. Matroska/WebM: the
    Segment element's size (unless it is "unknown", as live recordings write).
    """
    if fmt in ISO_BMFF:
        return iso_bmff_problem(path, fmt)
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            fh.seek(0, 2)
            n = fh.tell()
    except OSError:
        return None
    if fmt == "AVI" and len(head) >= 12:
        declared = struct.unpack("<I", head[4:8])[0] + 8
        if declared > n:
            return TruncatedFileError(
                f"truncated AVI: the RIFF header declares {declared:,} bytes but the file ends "
                f"at byte {n:,} ({declared - n:,} bytes missing)")
    if fmt in ("MKV", "WEBM"):
        try:
            hsize, hl = _read_vint(head, 4)
            pos = 4 + hl + (hsize or 0)
            if head[pos:pos + 4] == b"\x18\x53\x80\x67":
                ssize, sl = _read_vint(head, pos + 4)
                if ssize is not None and pos + 4 + sl + ssize > n:
                    end = pos + 4 + sl + ssize
                    return TruncatedFileError(
                        f"truncated {fmt}: the Segment at byte {pos:,} declares {ssize:,} bytes "
                        f"but the file ends at byte {n:,} of the {end:,} it needs")
        except (ValueError, IndexError):
            return None
    return None


def _is_cover_art(stream: Any) -> bool:
    import av

    try:
        return bool(stream.disposition & av.stream.Disposition.attached_pic)
    except Exception:  # noqa: BLE001
        return False


def video_streams(container: Any) -> list[Any]:
    """Real video streams (cover art pictures in audio files are not video)."""
    return [s for s in container.streams.video if not _is_cover_art(s)]


def codec_name(stream: Any) -> str:
    """The codec's name ("h264", "mp3", "aac"), not the decoder's ("mp3float")."""
    cc = stream.codec_context
    try:
        return str(cc.codec.canonical_name or cc.name or "")
    except Exception:  # noqa: BLE001
        return str(cc.name or "")


def _tags(meta: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in dict(meta or {}).items()}


def _seconds(value: Any, time_base: Any) -> float | None:
    if value is None or time_base is None:
        return None
    return float(value * time_base)


def container_duration(container: Any, stream: Any) -> float:
    """Duration in seconds: the stream's own if known, else the container's, else 0."""
    d = _seconds(stream.duration, stream.time_base)
    if d is None or d <= 0:
        d = container.duration / 1_000_000.0 if container.duration else 0.0
    return float(d or 0.0)


# --------------------------------------------------------------------------- frames


def quarter_turns(frame: Any) -> int:
    """``k`` for ``np.rot90(pixels, k)`` that stands a decoded frame upright (0 to 3).

    FFmpeg's display-matrix angle (``frame.rotation``) is counter-clockwise, the way
    ``ffprobe`` prints it: a phone's portrait clip reads -90 and is shown turned 90 degrees
    clockwise, which is ``np.rot90(..., -1)``. Angles that are not multiples of 90 (never seen
    from cameras) are rounded to the nearest quarter turn.
    """
    try:
        angle = float(getattr(frame, "rotation", 0) or 0)
    except (TypeError, ValueError):
        return 0
    if not math.isfinite(angle):   # a degenerate (all-zero) matrix reads NaN: show as stored
        return 0
    return int(round(angle / 90.0)) % 4


def upright(pixels: np.ndarray, turns: int) -> np.ndarray:
    """``pixels`` (H, W[, C]) turned by ``turns`` quarter turns, contiguous (cv2 needs it)."""
    if not turns:
        return pixels
    return np.ascontiguousarray(np.rot90(pixels, turns))


def frame_time(pts: int | None, start_pts: int, time_base: Any, previous: float | None,
               fps: float) -> tuple[float, bool]:
    """Seconds from the stream start of a frame with timestamp ``pts``, and whether that time
    had to be reconstructed.

    A missing timestamp, or one that does not move past ``previous`` (a broken muxer writes
    zeros or repeats), gives ``previous + 1 / fps`` instead: frames come out of the decoder in
    presentation order, so their order is right even when their stamps are not.
    """
    period = 1.0 / fps if fps > 0 else 0.04
    if pts is None:
        return (0.0 if previous is None else previous + period), True
    t = float((pts - start_pts) * time_base)
    if previous is not None and t <= previous:
        return previous + period, True
    return t, False


# --------------------------------------------------------------------------- open


def open_video(path: Path, fmt: str, limits: Limits) -> VideoMedia | AudioMedia:
    """Probe ``path`` as a video; a container with audio only opens as :class:`AudioMedia`.

    Raises
    ------
    TruncatedFileError, CorruptFileError
        The container or its index is cut or damaged (message names the box and byte).
    LimitExceededError
        Frame size over ``limits.max_video_pixels`` or duration over ``limits.max_duration_s``.
    UnsupportedFormatError
        No video or audio stream, or no decoder for the video codec.
    """
    path = Path(path)
    size = path.stat().st_size
    notes: list[str] = []
    problem = container_size_problem(path, fmt)
    if isinstance(problem, TruncatedFileError):
        raise problem
    with av_container(path, fmt) as c:
        streams = video_streams(c)
        if not streams:
            if c.streams.audio:
                from triage_app import _audio_io

                media = _audio_io.open_audio_av(path, fmt, limits, container=c)
                media.notes.insert(0, f"{fmt} container without a video stream: opened as audio")
                return media
            if problem is not None:
                problem.message += "; FFmpeg found no video or audio stream in it"
                problem.args = (problem.message,)
                raise problem
            if not len(c.streams):
                raise CorruptFileError(
                    f"{fmt} container holds no stream that FFmpeg can find: its header is "
                    "probably damaged")
            raise UnsupportedFormatError(
                f"{fmt} container holds no video or audio stream, only "
                f"{len(c.streams)} other stream(s) (subtitles or data)")
        if problem is not None:
            notes.append(f"FFmpeg opened it, but {problem.message}")
        s = streams[0]
        if len(streams) > 1:
            notes.append(f"{len(streams)} video streams: only the first is analysed")
        cc = s.codec_context
        if cc is None:
            raise UnsupportedFormatError(
                f"{fmt} video stream uses a codec this build of FFmpeg cannot decode")
        width, height = int(cc.width or 0), int(cc.height or 0)
        if width <= 0 or height <= 0:
            raise CorruptFileError(f"{fmt} video stream does not state its frame size "
                                   "(damaged stream header)")
        if width * height > limits.max_video_pixels:
            raise LimitExceededError(
                f"video frames are {width:,} x {height:,} = {width * height:,} pixels, over the "
                f"limit of {limits.max_video_pixels:,}")
        rate = s.average_rate or s.guessed_rate or s.base_rate
        fps = float(rate) if rate else 0.0
        duration = container_duration(c, s)
        if duration > limits.max_duration_s:
            raise LimitExceededError(
                f"video lasts {duration:,.1f} s, over the limit of {limits.max_duration_s:,.0f} s")
        frames = int(s.frames or 0)
        if frames <= 0 and fps > 0 and duration > 0:
            frames = int(round(duration * fps))
            notes.append("frame count estimated from duration x frame rate")
        if fps <= 0 and frames > 0 and duration > 0:
            fps = frames / duration
        audio = [a for a in c.streams.audio]
        bit_rate = int(s.bit_rate or c.bit_rate or 0) or None
        pix_fmt = None
        try:
            pix_fmt = cc.pix_fmt or (s.format.name if s.format else None)
        except Exception:  # noqa: BLE001
            pix_fmt = None
        codec = codec_name(s)
        # Prove the stream decodes: one frame, no more.
        s.thread_type = "AUTO"
        first = None
        try:
            for frame in c.decode(s):
                first = frame
                break
        except Exception as exc:  # noqa: BLE001 -- FFmpeg errors of every kind
            raise CorruptFileError(
                f"{fmt} video stream ({codec}) is damaged: its first frame cannot be decoded "
                f"({_lib(exc)})") from None
        if first is None:
            raise CorruptFileError(f"{fmt} video stream ({codec}) holds no decodable frame")
        audio_offset = 0.0
        if audio:
            audio_offset, timing_notes = _stream_timing(s, audio[0], duration)
            notes.extend(timing_notes)
        turns = quarter_turns(first)
        if turns:
            notes.append(f"display matrix turns the picture {90 * (4 - turns)} degrees clockwise "
                         f"(stored {width} x {height}): frames are analysed upright")
            if turns % 2:
                width, height = height, width
        media = VideoMedia(
            path=str(path), format=fmt, width=width, height=height, fps=fps,
            duration=duration, frame_count=frames, codec=codec, bit_rate=bit_rate, size=size,
            container_metadata=_tags(c.metadata), stream_metadata=_tags(s.metadata),
            has_audio=bool(audio), audio_codec=(codec_name(audio[0]) if audio else None),
            pix_fmt=pix_fmt, rotation=(90 * (4 - turns)) % 360, notes=notes,
            audio_offset=audio_offset)
        return media


#: Start or end offsets between the tracks from which the analysis notes say so (an AAC
#: encoder's priming is a few tens of milliseconds).
TRACK_OFFSET_NOTE_S = 0.05
TRACK_END_NOTE_S = 1.0


def _stream_timing(video: Any, audio: Any, video_duration: float) -> tuple[float, list[str]]:
    """(audio start minus video start, in s; notes on how the two tracks line up)."""
    v0 = _seconds(video.start_time, video.time_base) or 0.0
    a0 = _seconds(audio.start_time, audio.time_base) or 0.0
    offset = float(a0 - v0)
    notes = []
    if abs(offset) >= TRACK_OFFSET_NOTE_S:
        notes.append(f"the audio track starts {abs(offset):.2f} s "
                     f"{'after' if offset > 0 else 'before'} the first video frame: picture "
                     f"times run from the first frame and soundtrack times from the first "
                     f"audio sample (a soundtrack time plus {offset:+.2f} s is on the "
                     f"picture's clock); the audio-visual check lines them up")
    a_dur = _seconds(audio.duration, audio.time_base)
    if a_dur and video_duration > 0:
        overhang = a0 + a_dur - (v0 + video_duration)
        if abs(overhang) >= TRACK_END_NOTE_S:
            notes.append(f"the audio track {'runs' if overhang > 0 else 'ends'} "
                         f"{abs(overhang):.1f} s {'past the end of' if overhang > 0 else 'before'}"
                         f" the video (audio {a_dur:.1f} s, video {video_duration:.1f} s); "
                         f"soundtrack findings can lie after the last frame")
    return offset, notes


# --------------------------------------------------------------------------- frames


def _target_size(w: int, h: int, max_side: int | None) -> tuple[int, int]:
    if not max_side or max(w, h) <= max_side:
        return w, h
    scale = max_side / float(max(w, h))
    return max(1, int(round(w * scale))), max(1, int(round(h * scale)))


def seek_primed(container: Any, stream: Any, pts: int) -> None:
    """Seek ``stream`` to the keyframe at or before ``pts``, with the decoder primed first.

    Some H.264 files carry their parameter sets (SPS/PPS) in band with the first keyframe
    only: a decoder that starts at a later keyframe has none and outputs green frames (FF++
    c23 ``FaceSwap_634_660.mp4`` from its second keyframe, 10 s, on). Decoding the stream's
    first frame before the seek leaves them in the decoder, which a seek does not reset."""
    for _ in container.decode(stream):
        break
    container.seek(pts, stream=stream, backward=True, any_frame=False)


def iter_frames(video: VideoMedia, *, every: int = 1, start: float = 0.0,
                end: float | None = None, max_side: int | None = None) -> Iterator[VideoFrame]:
    """Decode frames one at a time: every ``every``-th frame with ``start <= time <= end``.

    ``index`` counts decoded frames from the start of the stream (after a seek it is
    ``round(time * fps)``); ``time`` is seconds from the stream start; ``rgb`` is uint8
    (H, W, 3), downscaled so its longest side is at most ``max_side`` when given.

    Raises
    ------
    CorruptFileError
        Decoding broke mid-stream; the frames before that point have been yielded and the
        message says at which time it broke.
    """
    if every < 1:
        raise ValueError(f"every must be >= 1, got {every}")
    with av_container(video.path, video.format) as c:
        streams = video_streams(c)
        if not streams:
            raise CorruptFileError(f"{video.format} has no video stream any more")
        s = streams[0]
        s.thread_type = "AUTO"
        tb = s.time_base or Fraction(1, 90000)
        start_pts = s.start_time or 0
        fps = video.fps or 25.0
        seeking = start > 0
        if seeking:
            try:
                seek_primed(c, s, int(start_pts + start / tb))
            except Exception:  # noqa: BLE001 -- unseekable: decode from the start instead
                pass
        index = None if seeking else 0
        last_time = None
        decoded = 0
        complete = False
        try:
            for frame in c.decode(s):
                decoded += 1
                t, _ = frame_time(frame.pts, start_pts, tb, last_time, fps)
                if index is None:
                    index = int(round(t * fps))
                i = index
                index += 1
                last_time = t
                if t < start - 1e-6:
                    continue
                if end is not None and t > end + 1e-6:
                    break
                if (i % every) != 0:
                    continue
                w, h = _target_size(frame.width, frame.height, max_side)
                if (w, h) != (frame.width, frame.height):
                    rgb = frame.reformat(width=w, height=h, format="rgb24",
                                         interpolation="AREA").to_ndarray()
                else:
                    rgb = frame.to_ndarray(format="rgb24")
                rgb = upright(rgb, quarter_turns(frame))
                yield VideoFrame(index=i, time=t, rgb=np.ascontiguousarray(rgb),
                                 key_frame=bool(frame.key_frame))
            else:
                complete = not seeking and end is None
        except MediaError:
            raise
        except GeneratorExit:
            raise
        except Exception as exc:  # noqa: BLE001 -- FFmpeg errors of every kind
            where = f"{last_time:.3f} s" if last_time is not None else f"{start:.3f} s"
            raise CorruptFileError(
                f"{video.format} video decoding broke after {where} (frame {index or 0}); the "
                f"frames before that were decoded ({_lib(exc)})") from None
        if complete:
            _check_complete(video, decoded, last_time)


def _check_complete(video: VideoMedia, decoded: int, last_time: float | None) -> None:
    """After a full pass: fewer frames than the header lists means data is missing.

    With an exact frame count from the header, raise :class:`CorruptFileError`; with an
    estimated one (duration x rate), add a note to ``video.notes`` instead.
    """
    expected = video.frame_count
    if expected <= 0 or decoded >= expected - max(2, int(0.01 * expected)):
        return
    where = f"{last_time:.3f} s" if last_time is not None else "the start"
    text = (f"the video stream stops after {decoded:,} of the {expected:,} frames "
            f"{'expected' if 'estimated' in ' '.join(video.notes) else 'its header lists'} "
            f"(last frame at {where} of {video.duration:.3f} s)")
    if any("frame count estimated" in n for n in video.notes):
        if not any(n.startswith("the video stream stops") for n in video.notes):
            video.notes.append(text)
        return
    raise CorruptFileError(f"{video.format} video is damaged or cut: {text}; the frames before "
                           "that were decoded")


# --------------------------------------------------------------------------- audio


class SeekMissed(Exception):
    """A seek into an audio stream did not land where its timestamps said (or the container
    cannot seek): the piece is decoded from the beginning instead."""


def decode_audio_stream(container: Any, stream: Any, *, max_seconds: float | None,
                        notes: list[str], start: float = 0.0, seek: bool = True,
                        sink: Callable[[np.ndarray], None] | None = None
                        ) -> tuple[np.ndarray, int]:
    """Decode ``stream`` to float32 (n, channels) at its own rate; stop after ``max_seconds``.

    ``start``: begin this many seconds into the stream (after its first frame): the container
    is sought to the frame at or before it and the samples before it are dropped, so that a
    long soundtrack can be read piece by piece without decoding what comes before. The piece
    starts where the whole decode has that time to the precision of the container's
    timestamps (sample-exact in MP4 and MOV, 1 ms in Matroska/WebM); empty when the track
    ends before ``start``. Where the seek cannot be trusted it raises :class:`SeekMissed`,
    and ``seek=False`` decodes from the beginning and drops the first ``start`` s (slower,
    same samples as the whole decode).

    A decoding failure after some audio decoded adds a note and returns what decoded; a
    failure before any audio raises :class:`CorruptFileError`.

    ``sink``: each decoded chunk (float32 (n, channels), clipped to -1..1) is handed to it
    instead of being kept, and an empty (0, channels) array is returned: a pass that measures
    a long stream (its length) without holding it.
    """
    import av

    if sink is not None and start:
        raise ValueError("a sink takes the stream from its beginning")
    stream.thread_type = "AUTO"
    rate = int(stream.rate or stream.codec_context.sample_rate or 0)
    if rate <= 0:
        raise CorruptFileError("audio stream does not state its sample rate")
    resampler = av.AudioResampler(format="fltp", rate=rate)
    chunks: list[np.ndarray] = []
    total = 0
    limit = None if max_seconds is None else int(round(max_seconds * rate))
    channels = None

    def add(frames: Any) -> None:
        nonlocal total, channels
        for f in frames:
            arr = f.to_ndarray()  # (channels, n) float32, planar
            if arr.ndim == 1:
                arr = arr[None, :]
            if channels is None:
                channels = arr.shape[0]
            elif arr.shape[0] != channels:
                notes.append("the channel count changes mid-stream; extra channels dropped")
                arr = arr[:channels] if arr.shape[0] > channels else np.vstack(
                    [arr, np.zeros((channels - arr.shape[0], arr.shape[1]), np.float32)])
            if sink is None:
                chunks.append(arr.T.astype(np.float32, copy=False))
            else:
                sink(np.clip(arr.T, -1.0, 1.0))
            total += arr.shape[1]

    last_t = 0.0
    # samples decoded before ``start`` (dropped): known at once when decoding from the
    # beginning, from the first frame's time after a seek
    lead = int(round(start * rate)) if start > 0 and not seek else 0
    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None \
        and stream.time_base is not None else 0.0
    if start > 0 and seek:
        try:
            # a second early: a decoder's first frame after a seek lacks its overlap with
            # the frame before (AAC, MP3, Opus) and is dropped with the rest of the lead
            container.seek(int((origin + max(0.0, start - 1.0)) / stream.time_base),
                           stream=stream, backward=True)
        except Exception:  # noqa: BLE001 -- not seekable: decode from the beginning
            raise SeekMissed("the container cannot seek") from None
    first = True
    try:
        for frame in container.decode(stream):
            if frame.time is not None:
                last_t = float(frame.time)
            if first and start > 0 and seek:
                at = last_t - origin if frame.time is not None else None
                # landed where asked (a second early, or up to a few seconds before the
                # nearest sync point)? Timestamps that wrap (MPEG-TS priming) or lie do not
                if at is None or not start - 6.0 <= at <= start + 0.05:
                    raise SeekMissed(f"the seek landed at {at} s for {start:g} s")
                lead = max(0, int(round((start - at) * rate)))
            first = False
            add(resampler.resample(frame))
            if limit is not None and total >= limit + lead:
                if start <= 0:
                    notes.append(f"audio decoded up to {max_seconds:g} s only")
                break
        else:
            add(resampler.resample(None))
    except SeekMissed:
        raise
    except Exception as exc:  # noqa: BLE001 -- FFmpeg errors of every kind
        if total == 0:
            raise CorruptFileError(
                f"audio stream ({codec_name(stream)}) cannot be decoded: no audio "
                f"decoded before the error ({_lib(exc)})") from None
        notes.append(f"audio decoding broke at {total / rate:.3f} s (packet time {last_t:.3f} s); "
                     f"the audio before that is kept ({_lib(exc)})")
    if sink is not None:
        if total == 0:
            raise CorruptFileError(
                f"audio stream ({codec_name(stream)}) holds no decodable audio")
        return np.zeros((0, channels or 1), np.float32), rate
    if not chunks:
        raise CorruptFileError(
            f"audio stream ({codec_name(stream)}) holds no decodable audio")
    # empty when the soundtrack ends before ``start`` (it may be shorter than the video)
    samples = np.concatenate(chunks, axis=0)[lead:]
    if limit is not None and samples.shape[0] > limit:
        samples = samples[:limit]
    return np.clip(samples, -1.0, 1.0, out=samples), rate


def decode_audio_from(container: Any, path: str | Path, fmt: str, *, start: float,
                      max_seconds: float | None, notes: list[str]) -> tuple[np.ndarray, int]:
    """:func:`decode_audio_stream` of the first audio stream of ``container`` (``path``,
    opened as ``fmt``) from ``start`` s, sought to it; where the seek cannot be trusted
    (:class:`SeekMissed`), the file is opened again and decoded from its beginning."""
    try:
        return decode_audio_stream(container, container.streams.audio[0],
                                   max_seconds=max_seconds, notes=notes, start=start)
    except SeekMissed:
        with av_container(path, fmt) as c:
            return decode_audio_stream(c, c.streams.audio[0], max_seconds=max_seconds,
                                       notes=notes, start=start, seek=False)


def decode_audio_track(video: VideoMedia, *, max_duration: float | None = None,
                       start: float = 0.0) -> AudioMedia:
    """The first audio stream of ``video`` as :class:`AudioMedia` (float32, (n, channels)),
    from ``start`` s on (see :func:`decode_audio_stream`)."""
    with av_container(video.path, video.format) as c:
        if not c.streams.audio:
            raise UnsupportedFormatError(f"{video.format} has no audio track")
        a = c.streams.audio[0]
        notes = [f"audio track of the {video.format} video"]
        samples, rate = decode_audio_from(c, video.path, video.format, start=start,
                                          max_seconds=max_duration, notes=notes)
        return AudioMedia(path=video.path, format=video.format, samples=samples,
                          sample_rate=rate, codec=codec_name(a), bit_depth="",
                          size=video.size, tags={**_tags(c.metadata), **_tags(a.metadata)},
                          notes=notes)
