"""triage_app.media: opening images, video and audio, and every way a file can be bad.

All media is generated in tmp_path by tests/media_factory.py; the corpus test reads
../shared/corpus when present.
"""

from __future__ import annotations

import csv
import os
import struct
import time
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

from media_factory import (
    make_bmp, make_flac, make_gif, make_jpeg, make_m4a, make_mp3, make_ogg, make_png,
    make_tiff, make_video, make_wav, make_webp, moving_square, photo, tone,
)
from triage_app.media import (
    AudioMedia, CorruptFileError, EmptyFileError, ImageMedia, LimitExceededError, Limits,
    MediaError, TruncatedFileError, UnreadableFileError, UnsupportedFormatError, VideoMedia,
    open_media,
)

# The standard JPEG luminance table (ITU-T T.81 Annex K, table K.1), first row in natural
# order; libjpeg uses it unscaled at quality 50.
ANNEX_K_LUMA_ROW0 = [16, 11, 10, 16, 24, 40, 51, 61]
ANNEX_K_LUMA_COL0 = [16, 12, 14, 14, 18, 24, 49, 72]


def dominant_hz(x: np.ndarray, sr: int) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.argmax(spec) * sr / len(x))


def assert_clear(err: MediaError) -> None:
    """A message for a person: a sentence, no traceback, not only a library's words."""
    msg = str(err)
    assert msg and len(msg) > 15
    assert "Traceback" not in msg and "File \"" not in msg


# --------------------------------------------------------------------------- images


def test_jpeg_quantization_exif_xmp_read_back(tmp_path):
    p = make_jpeg(tmp_path / "a.jpg", photo(64, 96), quality=50,
                  exif={"Software": "GIMP 2.10.34", "Make": "Canon",
                        "DateTimeOriginal": "2024:05:06 07:08:09"},
                  xmp='<x:xmpmeta xmlns:x="adobe:ns:meta/">t</x:xmpmeta>')
    m = open_media(p)
    assert isinstance(m, ImageMedia)
    assert m.format == "JPEG" and m.pixels.shape == (64, 96, 3) and m.pixels.dtype == np.uint8
    assert m.exif["Software"] == "GIMP 2.10.34"
    assert m.exif["Make"] == "Canon"
    assert m.exif["DateTimeOriginal"] == "2024:05:06 07:08:09"  # from the Exif sub-IFD
    assert m.xmp is not None and "xmpmeta" in m.xmp
    assert set(m.quantization) == {0, 1}
    assert all(len(t) == 64 for t in m.quantization.values())
    # natural (row-major) order: row 0 and column 0 of Annex K at quality 50
    assert m.quantization[0][:8] == ANNEX_K_LUMA_ROW0
    assert m.quantization[0][::8] == ANNEX_K_LUMA_COL0
    assert m.jpeg_subsampling == "4:2:0"
    assert m.progressive is False
    assert m.raw == p.read_bytes()
    assert m.summary()["jpeg_quality_tables"] == 2


def test_jpeg_subsampling_progressive_icc(tmp_path):
    from PIL import ImageCms

    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    p = make_jpeg(tmp_path / "p.jpg", photo(32, 48), quality=92, subsampling="4:4:4",
                  progressive=True, icc=icc)
    m = open_media(p)
    assert m.jpeg_subsampling == "4:4:4"
    assert m.progressive is True
    assert m.icc == icc
    g = make_jpeg(tmp_path / "g.jpg", photo(32, 48)[:, :, 0])
    mg = open_media(g)
    assert mg.mode == "L" and mg.jpeg_subsampling == "4:0:0" and mg.pixels.shape == (32, 48, 3)
    assert list(mg.quantization) == [0]


def _exif_with_thumbnail(thumb: bytes) -> bytes:
    """Little-endian TIFF/EXIF: IFD0 {Software}, IFD1 {JPEGInterchangeFormat, ...Length}."""
    software = b"ThumbTest\x00"
    ifd0_off = 8
    ifd0_size = 2 + 12 * 1 + 4
    sw_off = ifd0_off + ifd0_size
    ifd1_off = sw_off + len(software)
    ifd1_size = 2 + 12 * 2 + 4
    thumb_off = ifd1_off + ifd1_size
    out = b"II*\x00" + struct.pack("<I", ifd0_off)
    out += struct.pack("<H", 1) + struct.pack("<HHII", 0x0131, 2, len(software), sw_off)
    out += struct.pack("<I", ifd1_off) + software
    out += struct.pack("<H", 2)
    out += struct.pack("<HHII", 0x0201, 4, 1, thumb_off)
    out += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))
    out += struct.pack("<I", 0) + thumb
    return b"Exif\x00\x00" + out


def test_jpeg_exif_thumbnail_and_gps(tmp_path):
    from PIL import ExifTags, Image

    make_jpeg(tmp_path / "t.jpg", photo(16, 16, seed=3), quality=70)
    thumb = (tmp_path / "t.jpg").read_bytes()
    p = tmp_path / "withthumb.jpg"
    Image.fromarray(photo(64, 64)).save(p, "JPEG", exif=_exif_with_thumbnail(thumb))
    m = open_media(p)
    assert m.exif["Software"] == "ThumbTest"
    assert m.thumbnail == thumb

    e = Image.Exif()
    e[0x010F] = "Nikon"
    gps = e.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1] = "N"
    gps[2] = (48.0, 51.0, 30.0)
    q = tmp_path / "gps.jpg"
    Image.fromarray(photo(16, 16)).save(q, "JPEG", exif=e.tobytes())
    mg = open_media(q)
    assert mg.exif["Make"] == "Nikon"
    assert mg.exif["GPSLatitudeRef"] == "N"
    assert mg.exif["GPSLatitude"] == [48.0, 51.0, 30.0]
    assert mg.thumbnail is None


def test_jpeg_iptc_from_photoshop_app13(tmp_path):
    def dataset(rec: int, num: int, val: bytes) -> bytes:
        return bytes([0x1C, rec, num]) + struct.pack(">H", len(val)) + val

    iptc = (dataset(2, 0, b"\x00\x04") + dataset(2, 120, b"A caption") + dataset(2, 25, b"kw1")
            + dataset(2, 25, b"kw2") + dataset(2, 80, b"Jane Doe"))
    res = (b"8BIM" + struct.pack(">H", 0x0404) + b"\x00\x00" + struct.pack(">I", len(iptc))
           + iptc + b"\x00" * (len(iptc) % 2))
    app13 = b"Photoshop 3.0\x00" + res
    raw = make_jpeg(tmp_path / "base.jpg", photo(16, 16)).read_bytes()
    p = tmp_path / "iptc.jpg"
    p.write_bytes(raw[:2] + b"\xff\xed" + struct.pack(">H", len(app13) + 2) + app13 + raw[2:])
    m = open_media(p)
    assert m.iptc == {"RecordVersion": 4, "Caption-Abstract": "A caption",
                      "Keywords": ["kw1", "kw2"], "By-line": "Jane Doe"}


def test_cmyk_jpeg_and_exif_user_comment(tmp_path):
    from PIL import ExifTags, Image

    e = Image.Exif()
    e.get_ifd(ExifTags.IFD.Exif)[0x9286] = b"ASCII\x00\x00\x00made with a tool"
    p = tmp_path / "cmyk.jpg"
    Image.fromarray(photo(16, 16)).convert("CMYK").save(p, exif=e.tobytes())
    m = open_media(p)
    assert m.mode == "CMYK" and m.pixels.shape == (16, 16, 3)
    assert np.abs(m.pixels.astype(int) - photo(16, 16).astype(int)).mean() < 8
    assert m.exif["UserComment"] == "made with a tool"


def test_png_text_chunks_alpha_and_16bit(tmp_path):
    params = "a photo of a cat\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 1"
    p = make_png(tmp_path / "sd.png", photo(40, 50), text={"parameters": params, "Software": "x"},
                 xmp="<x:xmpmeta>png</x:xmpmeta>")
    m = open_media(p)
    assert m.text_chunks["parameters"] == params
    assert m.text_chunks["Software"] == "x"
    assert m.xmp == "<x:xmpmeta>png</x:xmpmeta>"
    assert np.array_equal(m.pixels, photo(40, 50))  # lossless
    z = open_media(make_png(tmp_path / "z.png", photo(8, 8), text={"prompt": "zipped"},
                            compressed=True))
    assert z.text_chunks == {"prompt": "zipped"}

    rgba = np.dstack([photo(20, 30), np.full((20, 30), 128, np.uint8)])
    a = open_media(make_png(tmp_path / "rgba.png", rgba))
    assert a.has_alpha and a.mode == "RGBA" and a.pixels.shape == (20, 30, 3)
    assert np.array_equal(a.pixels, rgba[:, :, :3])

    g16 = (np.arange(20 * 30, dtype=np.uint16).reshape(20, 30) % 256) * 257
    s = open_media(make_png(tmp_path / "g16.png", g16))
    assert s.mode.startswith("I")
    assert np.array_equal(s.pixels[:, :, 0], (g16 // 257).astype(np.uint8))
    assert any("16 bits per sample: analysed at 8 bits" in n for n in s.notes)
    assert not any("16 bits" in n for n in m.notes)


def test_palette_png_with_transparency(tmp_path):
    from PIL import Image

    im = Image.fromarray(photo(16, 16)).convert("P", palette=Image.ADAPTIVE, colors=16)
    im.info["transparency"] = 0
    p = tmp_path / "pal.png"
    im.save(p, transparency=0)
    m = open_media(p)
    assert m.mode == "P" and m.has_alpha and m.pixels.shape == (16, 16, 3)


@pytest.mark.parametrize("maker,fmt,lossless", [
    (make_tiff, "TIFF", True), (lambda p, a: make_webp(p, a, lossless=True), "WEBP", True),
    (make_webp, "WEBP", False), (make_bmp, "BMP", True),
])
def test_other_image_formats(tmp_path, maker, fmt, lossless):
    rgb = photo(30, 44)
    p = maker(tmp_path / f"x.{fmt.lower()}", rgb)
    m = open_media(p)
    assert m.format == fmt and m.pixels.shape == (30, 44, 3)
    err = np.abs(m.pixels.astype(int) - rgb.astype(int)).mean()
    assert err == 0 if lossless else err < 8


def test_tiff_xmp_tag_700(tmp_path):
    m = open_media(make_tiff(tmp_path / "x.tif", photo(8, 8), xmp="<x:xmpmeta>tiff</x:xmpmeta>"))
    assert m.xmp == "<x:xmpmeta>tiff</x:xmpmeta>"


def test_multiframe_gif_first_frame_with_note(tmp_path):
    m = open_media(make_gif(tmp_path / "a.gif", moving_square(3, 24, 32)))
    assert m.format == "GIF" and m.pixels.shape == (24, 32, 3)
    assert any("3 frames" in n for n in m.notes)


def test_heif_and_avif(tmp_path):
    from PIL import Image

    pillow_heif = pytest.importorskip("pillow_heif")
    im = Image.fromarray(photo(32, 48))
    try:
        pillow_heif.from_pillow(im).save(tmp_path / "a.heic", quality=80)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"no HEIF encoder here: {exc}")
    m = open_media(tmp_path / "a.heic")
    assert m.format == "HEIF" and m.pixels.shape == (32, 48, 3)
    try:
        im.save(tmp_path / "a.avif", "AVIF", quality=80)
    except Exception:  # noqa: BLE001
        return
    a = open_media(tmp_path / "a.avif")
    assert a.format == "AVIF" and a.pixels.shape == (32, 48, 3) and not a.notes


def test_image_pixel_limit_checked_before_decoding(tmp_path):
    p = make_png(tmp_path / "x.png", photo(100, 100))
    with pytest.raises(LimitExceededError, match="10,000 pixels"):
        open_media(p, limits=Limits(max_pixels=9_999))


# --------------------------------------------------------------------------- video


@pytest.fixture(scope="module")
def av_clip(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("video")
    return make_video(d / "clip.mp4", moving_square(20, 48, 64), fps=10,
                      audio=tone(440.0, 2.0, 16000), audio_sr=16000, gop=5,
                      metadata={"title": "test clip"})


def test_video_probe(av_clip):
    v = open_media(av_clip)
    assert isinstance(v, VideoMedia)
    assert (v.format, v.width, v.height, v.codec) == ("MP4", 64, 48, "h264")
    assert v.fps == pytest.approx(10.0)
    assert v.duration == pytest.approx(2.0, abs=0.15)
    assert v.frame_count == 20
    assert v.pix_fmt == "yuv420p"
    assert v.has_audio and v.audio_codec == "aac"
    assert v.container_metadata["major_brand"] == "isom"
    assert "encoder" in v.container_metadata and v.container_metadata["title"] == "test clip"
    assert v.stream_metadata.get("handler_name")
    assert v.size == av_clip.stat().st_size


def test_video_frames_stream_with_increasing_times(av_clip):
    v = open_media(av_clip)
    frames = list(v.frames())
    assert len(frames) == 20
    times = [f.time for f in frames]
    assert times[0] == pytest.approx(0.0) and np.all(np.diff(times) > 0)
    assert [f.index for f in frames] == list(range(20))
    assert frames[0].key_frame and frames[5].key_frame and not frames[1].key_frame
    assert frames[3].rgb.shape == (48, 64, 3) and frames[3].rgb.dtype == np.uint8
    # the white square moves right by 3 px per frame
    col = lambda f: int(np.argmax(f.rgb[24, :, :].min(axis=1) > 200))  # noqa: E731
    assert col(frames[4]) - col(frames[2]) == pytest.approx(6, abs=1)

    every = [f.index for f in v.frames(every=3)]
    assert every == [0, 3, 6, 9, 12, 15, 18]
    part = list(v.frames(start=1.0, end=1.45))
    assert [f.index for f in part] == [10, 11, 12, 13, 14]
    assert part[0].time == pytest.approx(1.0)
    small = next(v.frames(max_side=32))
    assert small.rgb.shape == (24, 32, 3)


@pytest.mark.corpus
def test_a_seek_past_the_first_keyframe_decodes_real_pixels(corpus_dir):
    """FF++ FaceSwap_634_660.mp4 carries its H.264 parameter sets with the first keyframe
    only: a seek to its second keyframe (10 s) decoded green frames (RGB ~ 32, 224, 32), which
    the report's key frames, the viewer and the probes then showed or measured."""
    v = open_media(corpus_dir / "ffpp_c23" / "manipulated" / "FaceSwap_634_660.mp4")
    sequential = {round(f.time, 2): f.rgb for f in v.frames(start=0.0) if f.time >= 12.9}
    sought = next(iter(v.frames(start=13.0)))
    assert sought.time == pytest.approx(13.0)
    diff = np.abs(sought.rgb.astype(int) - sequential[round(sought.time, 2)].astype(int))
    assert diff.mean() < 2.0


def test_video_display_matrix_frames_come_out_upright(tmp_path):
    """A phone's portrait clip: stored landscape with a display matrix of -90 degrees. The
    media reports the upright size and frames come out turned as a player shows them."""
    stored = np.zeros((48, 64, 3), np.uint8)
    stored[:8, :16] = 255                       # a white block at the stored top-left
    v = open_media(make_video(tmp_path / "portrait.mp4", [stored] * 5, fps=10,
                              display_rotation=-90))
    assert (v.width, v.height, v.rotation) == (48, 64, 90)
    assert any("90 degrees clockwise" in n for n in v.notes)
    assert v.summary()["rotation"] == 90
    f = next(v.frames())
    assert f.rgb.shape == (64, 48, 3)
    # turned 90 degrees clockwise, the stored top-left corner is the top-right one
    assert f.rgb[:8, -8:].mean() > 200 and f.rgb[:8, :8].mean() < 50
    assert next(v.frames(max_side=32)).rgb.shape == (32, 24, 3)
    plain = open_media(make_video(tmp_path / "plain.mp4", [stored] * 5, fps=10))
    assert (plain.width, plain.height, plain.rotation) == (64, 48, 0)


def test_video_broken_timestamps_are_retimed_in_order(tmp_path):
    """A muxer that stamps every frame 0: frames still get increasing times, one period
    apart, instead of all landing at 0 s."""
    from media_factory import with_zero_timestamps

    src = make_video(tmp_path / "src.mp4", moving_square(20, 48, 64), fps=10)
    zero = with_zero_timestamps(src, tmp_path / "zero.mkv")
    times = [f.time for f in open_media(zero).frames()]
    assert len(times) == 20
    assert np.allclose(np.diff(times), 0.1)


def test_frame_time_known_answers():
    from fractions import Fraction

    from triage_app._video_io import frame_time

    tb = Fraction(1, 1000)
    assert frame_time(1040, 1000, tb, None, 25.0) == (pytest.approx(0.04), False)
    assert frame_time(None, 0, tb, None, 25.0) == (0.0, True)
    assert frame_time(None, 0, tb, 0.5, 25.0) == (pytest.approx(0.54), True)
    assert frame_time(1000, 1000, tb, 0.5, 25.0) == (pytest.approx(0.54), True)  # repeated
    assert frame_time(2000, 1000, tb, 0.5, 25.0) == (pytest.approx(1.0), False)


def test_video_audio_track_decodes(av_clip):
    a = open_media(av_clip).audio()
    assert isinstance(a, AudioMedia)
    assert a.sample_rate == 16000 and a.channels == 1 and a.codec == "aac"
    assert a.duration == pytest.approx(2.0, abs=0.1)
    assert a.samples.dtype == np.float32
    assert dominant_hz(a.mono()[2000:18000], 16000) == pytest.approx(440, abs=5)
    short = open_media(av_clip).audio(max_duration=0.5)
    assert short.duration == pytest.approx(0.5, abs=0.01)


def test_video_without_audio(tmp_path):
    v = open_media(make_video(tmp_path / "v.mp4", moving_square(4, 32, 32), fps=25))
    assert not v.has_audio and v.audio() is None and v.fps == pytest.approx(25)


def test_mp4_with_only_audio_opens_as_audio(tmp_path):
    import av

    p = tmp_path / "speech.mp4"
    with av.open(str(p), "w", format="mp4") as out:
        s = out.add_stream("aac", rate=16000)
        s.layout = "mono"
        from media_factory import _encode_audio

        _encode_audio(out, s, tone(300, 1.0)[:, None], 16000)
    m = open_media(p)
    assert isinstance(m, AudioMedia) and m.format == "MP4" and m.codec == "aac"
    assert any("without a video stream" in n for n in m.notes)


def test_matroska_with_only_audio_opens_as_audio(tmp_path):
    import av

    from media_factory import _encode_audio

    p = tmp_path / "voice.mkv"
    with av.open(str(p), "w", format="matroska") as out:
        s = out.add_stream("flac", rate=16000)
        s.layout = "mono"
        _encode_audio(out, s, tone(500, 0.5, 16000)[:, None], 16000, 1024)
    m = open_media(p)
    assert isinstance(m, AudioMedia) and m.format == "MKV" and m.codec == "flac"
    assert m.samples.shape == (8000, 1)
    assert np.abs(m.samples[:, 0] - tone(500, 0.5, 16000)).max() < 1e-3  # lossless


def test_video_limits(av_clip):
    with pytest.raises(LimitExceededError, match="over the limit"):
        open_media(av_clip, limits=Limits(max_duration_s=1.0))
    with pytest.raises(LimitExceededError, match="64 x 48"):
        open_media(av_clip, limits=Limits(max_video_pixels=1000))


# --------------------------------------------------------------------------- audio


@pytest.mark.parametrize("subtype,depth", [("PCM_16", "16-bit"), ("PCM_24", "24-bit"),
                                           ("FLOAT", "32-bit float")])
def test_wav(tmp_path, subtype, depth):
    x = tone(1000, 0.5, 22050, channels=2)
    a = open_media(make_wav(tmp_path / "a.wav", x, 22050, subtype=subtype))
    assert isinstance(a, AudioMedia)
    assert (a.format, a.codec, a.bit_depth, a.sample_rate, a.channels) == (
        "WAV", subtype, depth, 22050, 2)
    assert a.samples.shape == (11025, 2) and a.samples.dtype == np.float32
    assert np.abs(a.samples - x).max() < 1e-4
    assert a.size == (tmp_path / "a.wav").stat().st_size


def test_aiff(tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "a.aiff", tone(440, 0.5, 22050), 22050, format="AIFF")
    a = open_media(tmp_path / "a.aiff")
    assert (a.format, a.codec, a.sample_rate, a.samples.shape) == ("AIFF", "PCM_16", 22050,
                                                                   (11025, 1))


@pytest.mark.parametrize("maker,fmt,codec,sr", [
    (make_flac, "FLAC", "PCM_16", 16000), (make_ogg, "OGG", "VORBIS", 16000),
    (make_mp3, "MP3", "mp3", 44100), (make_m4a, "M4A", "aac", 16000),
])
def test_compressed_audio(tmp_path, maker, fmt, codec, sr):
    x = tone(440, 1.0, sr)
    a = open_media(maker(tmp_path / f"a.{fmt.lower()}", x, sr))
    assert (a.format, a.codec, a.sample_rate, a.channels) == (fmt, codec, sr, 1)
    assert a.duration == pytest.approx(1.0, abs=0.08)  # codec priming/padding
    assert np.abs(a.samples).max() <= 1.0
    assert dominant_hz(a.mono()[: sr // 2], sr) == pytest.approx(440, abs=6)


def test_mp3_tags(tmp_path):
    a = open_media(make_mp3(tmp_path / "t.mp3", tone(440, 0.3, 44100), 44100,
                            tags={"title": "Statement", "artist": "Someone"}))
    assert a.tags["title"] == "Statement" and a.tags["artist"] == "Someone"


def test_audio_duration_limit_before_reading(tmp_path):
    p = make_wav(tmp_path / "a.wav", tone(440, 2.0, 8000), 8000)
    with pytest.raises(LimitExceededError, match="2.0 s"):
        open_media(p, limits=Limits(max_duration_s=1.0))
    with pytest.raises(LimitExceededError):
        open_media(make_mp3(tmp_path / "a.mp3", tone(440, 2.0, 8000), 8000),
                   limits=Limits(max_duration_s=1.0))


# --------------------------------------------------------------------------- failures


@pytest.mark.parametrize("name", ["empty.jpg", "empty.wav", "empty.mp4", "empty"])
def test_zero_byte_file(tmp_path, name):
    p = tmp_path / name
    p.write_bytes(b"")
    with pytest.raises(EmptyFileError) as ei:
        open_media(p)
    assert "0 bytes" in str(ei.value)


def test_truncated_jpeg(tmp_path):
    raw = make_jpeg(tmp_path / "full.jpg", photo(128, 128), quality=90).read_bytes()
    p = tmp_path / "cut.jpg"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    msg = str(ei.value)
    assert_clear(ei.value)
    assert msg.startswith("truncated JPEG") and f"byte {len(raw) // 2:,}" in msg and "FFD9" in msg
    p.write_bytes(raw[:200])  # cut inside the headers
    with pytest.raises(TruncatedFileError, match="truncated JPEG"):
        open_media(p)


def test_truncated_png(tmp_path):
    raw = make_png(tmp_path / "full.png", photo(64, 64)).read_bytes()
    p = tmp_path / "cut.png"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    msg = str(ei.value)
    assert "truncated PNG: chunk IDAT" in msg and f"ends at byte {len(raw) // 2:,}" in msg
    # only IEND missing: the picture is whole, so it opens with a note
    p.write_bytes(raw[:-12])
    m = open_media(p)
    assert any("no IEND" in n for n in m.notes)


def test_corrupt_headers(tmp_path):
    raw = bytearray(make_png(tmp_path / "ok.png", photo(16, 16)).read_bytes())
    raw[20] ^= 0xFF  # inside IHDR: its CRC no longer matches
    p = tmp_path / "crc.png"
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError, match="IHDR .*CRC"):
        open_media(p)
    j = bytearray(make_jpeg(tmp_path / "ok.jpg", photo(16, 16)).read_bytes())
    j[4:6] = b"\x00\x07"  # APP0 length now points into the middle of the JFIF header
    q = tmp_path / "bad.jpg"
    q.write_bytes(bytes(j))
    with pytest.raises(CorruptFileError) as ei:
        open_media(q)
    assert "corrupt JPEG: expected a marker at byte 11" in str(ei.value)


def test_text_named_jpg(tmp_path):
    p = tmp_path / "photo.jpg"
    p.write_text("Dear analyst,\nthis is not a photo.\n" * 5)
    with pytest.raises(UnsupportedFormatError) as ei:
        open_media(p)
    assert "plain text" in str(ei.value) and ".jpg" in str(ei.value)


def test_jpeg_named_wav_opens_as_image_with_note(tmp_path):
    raw = make_jpeg(tmp_path / "x.jpg", photo(20, 20)).read_bytes()
    p = tmp_path / "recording.wav"
    p.write_bytes(raw)
    m = open_media(p)
    assert isinstance(m, ImageMedia) and m.format == "JPEG"
    assert any(".wav" in n and "claims audio" in n for n in m.notes)


def test_mp3_named_wav_and_png_named_jpg_get_a_note(tmp_path):
    """Same kind, other format: a recording saved as .wav that is really MP3 opened silently
    as 'MP3' before; the analyst is now told the name and the content disagree."""
    mp3 = make_mp3(tmp_path / "a.mp3", tone(seconds=1.0, sr=44100), 44100).read_bytes()
    p = tmp_path / "interview.wav"
    p.write_bytes(mp3)
    a = open_media(p)
    assert a.format == "MP3"
    assert any("extension .wav names WAV, but the content is MP3 audio" in n for n in a.notes)
    png = make_png(tmp_path / "x.png", photo(12, 12)).read_bytes()
    q = tmp_path / "IMG_0001.JPG"
    q.write_bytes(png)
    assert any("names JPEG, but the content is PNG" in n for n in open_media(q).notes)
    # no note where the name fits: an M4A (ISO BMFF) named .mp4, a PNG named .png
    m4a = make_m4a(tmp_path / "b.m4a", tone(seconds=1.0, sr=44100), 44100).read_bytes()
    r = tmp_path / "voice.mp4"
    r.write_bytes(m4a)
    assert not any("names" in n for n in open_media(r).notes)
    assert not open_media(tmp_path / "x.png").notes


def _png_chunk(ctype: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + ctype + data
            + struct.pack(">I", zlib.crc32(ctype + data) & 0xFFFFFFFF))


@pytest.mark.parametrize("side", [100_000, 15_000])  # past Pillow's 2x back-stop, and under it
def test_png_bomb_fails_fast_without_allocating(tmp_path, side):
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    p = tmp_path / "bomb.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr)
                  + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 4096)) + _png_chunk(b"IEND", b""))
    tracemalloc.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(LimitExceededError) as ei:
            open_media(p)
        elapsed = time.perf_counter() - t0
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 1.0 and peak < 5_000_000
    assert f"{side * side:,} pixels" in str(ei.value) and "not decoded" in str(ei.value)


def test_truncated_mp4(av_clip, tmp_path):
    raw = av_clip.read_bytes()
    p = tmp_path / "cut.mp4"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    msg = str(ei.value)
    assert msg.startswith("truncated MP4: the mdat box") and f"{len(raw) // 2:,}" in msg
    assert "moov" in msg


def test_truncated_faststart_mp4(tmp_path):
    """moov first (faststart), then the mdat is cut: the index is whole, the data is not."""
    import av

    src = make_video(tmp_path / "src.mp4", moving_square(10, 32, 32), fps=10)
    fast = tmp_path / "fast.mp4"
    with av.open(str(src)) as i, av.open(str(fast), "w",
                                          options={"movflags": "faststart"}) as o:
        s = o.add_stream_from_template(i.streams.video[0])
        for pkt in i.demux(i.streams.video[0]):
            if pkt.dts is None:
                continue
            pkt.stream = s
            o.mux(pkt)
    raw = fast.read_bytes()
    assert raw.find(b"moov") < raw.find(b"mdat")
    cut = tmp_path / "fastcut.mp4"
    cut.write_bytes(raw[:-200])
    with pytest.raises(TruncatedFileError, match="truncated MP4: the mdat box"):
        open_media(cut)


@pytest.mark.parametrize("suffix,container", [(".mkv", "matroska"), (".avi", "avi")])
def test_truncated_mkv_and_avi(tmp_path, suffix, container):
    src = make_video(tmp_path / f"full{suffix}", moving_square(20, 32, 32), fps=10,
                     codec="mpeg4", container_format=container)
    raw = src.read_bytes()
    p = tmp_path / f"cut{suffix}"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    assert f"ends at byte {len(raw) // 2:,}" in str(ei.value)


def test_mid_stream_decoding_error_keeps_earlier_frames(tmp_path):
    src = make_video(tmp_path / "long.mp4", moving_square(60, 48, 64), fps=10, gop=100)
    raw = bytearray(src.read_bytes())
    i, j = raw.find(b"mdat"), raw.find(b"moov")
    mid = (i + j) // 2
    raw[mid:mid + 1500] = np.random.default_rng(0).integers(0, 256, 1500, np.uint8).tobytes()
    p = tmp_path / "damaged.mp4"
    p.write_bytes(bytes(raw))
    v = open_media(p)  # the index is whole: it opens
    got = []
    with pytest.raises(CorruptFileError) as ei:
        for f in v.frames():
            got.append(f.time)
    assert 5 <= len(got) < 60
    assert f"broke after {got[-1]:.3f} s" in str(ei.value)


def test_video_stream_that_stops_early(tmp_path):
    """AVI whose middle is overwritten: the demuxer stops quietly; we do not."""
    src = make_video(tmp_path / "v.avi", moving_square(30, 48, 64), fps=10, codec="mpeg4",
                     container_format="avi")
    raw = bytearray(src.read_bytes())
    n = len(raw)
    raw[n // 2:n // 2 + 3000] = np.random.default_rng(0).integers(0, 256, 3000, np.uint8).tobytes()
    p = tmp_path / "stops.avi"
    p.write_bytes(bytes(raw))
    v = open_media(p)
    got = []
    with pytest.raises(CorruptFileError, match="stops after .* of the 30 frames"):
        for f in v.frames():
            got.append(f)
    assert 0 < len(got) < 30


def test_truncated_flac_and_ogg(tmp_path):
    for maker, fmt in ((make_flac, "FLAC"), (make_ogg, "OGG")):
        raw = maker(tmp_path / f"a.{fmt.lower()}", tone(440, 20.0, 16000), 16000).read_bytes()
        p = tmp_path / f"cut.{fmt.lower()}"
        p.write_bytes(raw[: len(raw) // 2])
        with pytest.raises(TruncatedFileError) as ei:
            open_media(p)
        assert str(ei.value).startswith(f"truncated {fmt}")


def test_truncated_mp3_opens_with_what_is_there(tmp_path):
    """MP3 has no length header: a cut MP3 is just a shorter MP3."""
    raw = make_mp3(tmp_path / "a.mp3", tone(440, 2.0, 16000), 16000).read_bytes()
    p = tmp_path / "cut.mp3"
    p.write_bytes(raw[: len(raw) // 2])
    assert open_media(p).duration == pytest.approx(1.0, abs=0.15)


def test_corrupt_moov(av_clip, tmp_path):
    raw = bytearray(av_clip.read_bytes())
    i = raw.find(b"moov")
    j = raw.find(b"trak", i)
    raw[j - 4:j + 4] = b"\xff\xff\xff\xf0junk"  # first track box: absurd size, bad type
    p = tmp_path / "badmoov.mp4"
    p.write_bytes(bytes(raw))
    with pytest.raises(CorruptFileError) as ei:
        open_media(p)
    assert "corrupt MP4: the moov box" in str(ei.value) and "damaged" in str(ei.value)
    assert_clear(ei.value)
    raw2 = bytearray(av_clip.read_bytes())
    raw2[i + 4:i + 400] = bytes(range(256)) + bytes(140)  # moov contents overwritten
    p.write_bytes(bytes(raw2))
    with pytest.raises(CorruptFileError, match="moov"):
        open_media(p)


def test_truncated_wav(tmp_path):
    raw = make_wav(tmp_path / "a.wav", tone(440, 1.0, 8000), 8000).read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(raw[:5000])
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    msg = str(ei.value)
    assert "data chunk at byte 36 declares 16,000 bytes" in msg and "ends at byte 5,000" in msg


def test_wav_header_claims_huge_data_chunk(tmp_path):
    raw = bytearray(make_wav(tmp_path / "a.wav", tone(440, 0.2, 8000), 8000).read_bytes())
    i = raw.find(b"data")
    raw[i + 4:i + 8] = struct.pack("<I", 4_000_000_000)
    p = tmp_path / "huge.wav"
    p.write_bytes(bytes(raw))
    t0 = time.perf_counter()
    with pytest.raises(TruncatedFileError) as ei:
        open_media(p)
    assert time.perf_counter() - t0 < 1.0
    assert "declares 4,000,000,000 bytes" in str(ei.value)
    assert f"ends at byte {len(raw):,}" in str(ei.value)


def test_streaming_wav_without_data_size_opens_with_note(tmp_path):
    raw = bytearray(make_wav(tmp_path / "a.wav", tone(440, 0.2, 8000), 8000).read_bytes())
    i = raw.find(b"data")
    raw[i + 4:i + 8] = b"\xff\xff\xff\xff"
    raw[4:8] = b"\xff\xff\xff\xff"
    p = tmp_path / "stream.wav"
    p.write_bytes(bytes(raw))
    a = open_media(p)
    assert a.samples.shape[0] == 1600
    assert any("does not state the data size" in n for n in a.notes)


def test_directory_and_dangling_symlink(tmp_path):
    d = tmp_path / "folder.jpg"
    d.mkdir()
    with pytest.raises(UnreadableFileError, match="not a regular file"):
        open_media(d)
    link = tmp_path / "gone.jpg"
    link.symlink_to(tmp_path / "deleted.jpg")
    with pytest.raises(UnreadableFileError, match="No such file"):
        open_media(link)
    with pytest.raises(UnreadableFileError):
        open_media(tmp_path / "never" / "existed.wav")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root reads files whatever their permissions")
def test_permission_denied(tmp_path):
    p = make_jpeg(tmp_path / "locked.jpg", photo(8, 8))
    p.chmod(0)
    try:
        with pytest.raises(UnreadableFileError, match="ermission"):
            open_media(p)
    finally:
        p.chmod(0o644)


@pytest.mark.parametrize("kind", ["jpg", "wav", "mp4", "mp3"])
def test_non_utf8_file_name(tmp_path, kind):
    makers = {
        "jpg": lambda p: make_jpeg(p, photo(8, 8)),
        "wav": lambda p: make_wav(p, tone(440, 0.1, 8000), 8000),
        "mp4": lambda p: make_video(p, moving_square(3, 16, 16), fps=5),
        "mp3": lambda p: make_mp3(p, tone(440, 0.2, 8000), 8000),
    }
    src = makers[kind](tmp_path / f"src.{kind}")
    name = os.path.join(os.fsencode(tmp_path), b"caf\xe9-\xff." + kind.encode())
    with open(name, "wb") as fh:
        fh.write(src.read_bytes())
    path = os.fsdecode(name)  # holds surrogate escapes: not valid UTF-8
    m = open_media(path)
    assert m.kind == {"jpg": "image", "wav": "audio", "mp4": "video", "mp3": "audio"}[kind]
    if kind == "mp4":
        assert len(list(m.frames())) == 3


def test_very_long_file_name(tmp_path):
    name = "x" * 246 + ".jpg"
    assert len(name.encode()) == 250
    p = make_jpeg(tmp_path / name, photo(8, 8))
    assert open_media(p).pixels.shape == (8, 8, 3)
    w = make_wav(tmp_path / ("y" * 246 + ".wav"), tone(440, 0.1, 8000), 8000)
    assert open_media(w).sample_rate == 8000


def test_binary_junk_and_unknown_content(tmp_path):
    p = tmp_path / "blob.mp4"
    p.write_bytes(bytes([0x00, 0x13, 0x37, 0x99]) * 64)
    with pytest.raises(UnsupportedFormatError, match="unrecognised binary data"):
        open_media(p)


def test_garbage_after_valid_magic(tmp_path):
    """Right magic number, nothing else: every decoder path gives a MediaError."""
    for name, magic in [("a.jpg", b"\xff\xd8\xff\xe0"), ("a.png", b"\x89PNG\r\n\x1a\n"),
                        ("a.wav", b"RIFF\x10\x00\x00\x00WAVE"),
                        ("a.mp4", b"\x00\x00\x00\x18ftypisom"),
                        ("a.flac", b"fLaC"), ("a.ogg", b"OggS"), ("a.mp3", b"ID3\x03\x00"),
                        ("a.gif", b"GIF89a"), ("a.mkv", b"\x1a\x45\xdf\xa3")]:
        p = tmp_path / name
        p.write_bytes(magic + bytes(range(200)) * 3)
        with pytest.raises(MediaError) as ei:
            open_media(p)
        assert_clear(ei.value)


# --------------------------------------------------------------------------- corpus


@pytest.mark.corpus
def test_every_corpus_file_opens(corpus_dir):
    rows = list(csv.DictReader(open(corpus_dir / "manifest.csv", newline="")))
    failures = []
    for row in rows:
        path = corpus_dir / row["path"]
        try:
            m = open_media(path)
            assert m.kind == row["modality"], f"opened as {m.kind}"
            if isinstance(m, VideoMedia):
                got = []
                for f in m.frames():
                    got.append(f)
                    if len(got) == 3:
                        break
                assert len(got) == 3 and got[0].rgb.shape == (m.height, m.width, 3)
                assert m.fps > 0 and m.duration > 0
            elif isinstance(m, AudioMedia):
                assert m.samples.shape[0] > 0 and m.sample_rate > 0
            else:
                assert m.pixels.ndim == 3
        except (MediaError, AssertionError) as exc:
            failures.append(f"{row['path']}: {exc}")
    assert not failures, "\n".join(failures)


def test_quarter_turns_of_odd_display_matrices():
    """A degenerate display matrix reads NaN (FFmpeg's av_display_rotation_get): the frame is
    shown as stored instead of the decode failing; other angles round to a quarter turn."""
    from types import SimpleNamespace

    from triage_app._video_io import quarter_turns

    def turns(r):
        return quarter_turns(SimpleNamespace(rotation=r))

    assert [turns(r) for r in (0, -90, 90, 180, -180, 270, 44, 46)] == [0, 3, 1, 2, 2, 3, 0, 1]
    assert turns(float("nan")) == turns(float("inf")) == turns(None) == turns("x") == 0
    assert quarter_turns(object()) == 0          # no rotation attribute (older PyAV)


def test_decoder_messages_do_not_quote_the_path(tmp_path):
    """libsndfile's and FFmpeg's errors quoted the full path twice; in a case that is the
    vault copy (evidence/ab/<sha256>.flac), which tells the analyst nothing."""
    rng = np.random.default_rng(0)
    p = tmp_path / "deep" / "folder" / "bad.flac"
    p.parent.mkdir(parents=True)
    p.write_bytes(b"fLaC" + rng.integers(0, 256, 3000, dtype=np.uint8).tobytes())
    with pytest.raises(MediaError) as ei:
        open_media(p)
    msg = str(ei.value)
    assert "damaged FLAC" in msg and str(tmp_path) not in msg
    assert ei.value.path == str(p)


def test_a_soundtrack_is_read_from_an_offset_exactly_as_the_whole_decode(tmp_path):
    """Long soundtracks are analysed piece by piece: a piece read from ``start`` must be the
    same samples as that stretch of the whole decode (the seek goes a second early, so the
    codec's first frame after it, which lacks its overlap, is not in the piece)."""
    fs = 16000
    t = np.arange(fs * 12) / fs
    chirp = 0.3 * np.sin(2 * np.pi * (200 + 50 * t) * t)
    frames = [np.full((48, 64, 3), i % 255, np.uint8) for i in range(120)]
    # MPEG-TS: its AAC priming wraps the 33-bit timestamps, so the seek cannot be trusted and
    # the piece is decoded from the beginning (a piece of it came back empty)
    for name, fmt in (("v.mp4", None), ("v.ts", "mpegts")):
        media = open_media(make_video(tmp_path / name, frames, 10, audio=chirp, audio_sr=fs,
                                      container_format=fmt))
        whole = media.audio().samples[:, 0]
        for start in (0.0, 3.3, 7.1667):
            piece = media.audio(start=start, max_duration=2.0).samples[:, 0]
            i = int(round(start * fs))
            assert piece.size == 2 * fs, name
            assert np.abs(piece - whole[i:i + piece.size]).max() < 1e-6, name
        tail = media.audio(start=11.0, max_duration=5.0).samples[:, 0]  # to the end
        assert np.abs(tail - whole[11 * fs:]).max() < 1e-6, name


# --------------------------------------------------------------------------- long audio, streamed


@pytest.fixture
def stream_above(monkeypatch):
    """Recordings over 2 s are streamed (the threshold is 15 min in use)."""
    from triage_app import _audio_io

    monkeypatch.setattr(_audio_io, "STREAM_ABOVE_S", 2.0)


@pytest.mark.parametrize("maker,subtype", [(make_wav, "PCM_16"), (make_wav, "FLOAT"),
                                           (make_flac, None)])
def test_a_long_recording_is_read_a_stretch_at_a_time(tmp_path, stream_above, monkeypatch,
                                                      maker, subtype):
    """An hour of CD-rate stereo was decoded whole at opening (635 MB of float32, 5 GB for
    four hours); a long recording's samples are now read from the file when a stretch is
    asked for, and are the same samples."""
    from triage_app import _audio_io
    from triage_app.media import StreamedSamples

    x = tone(440, 5.0, 16000, channels=2)
    kw = {"subtype": subtype} if subtype else {}
    p = maker(tmp_path / f"a.{'wav' if maker is make_wav else 'flac'}", x, 16000, **kw)
    a = open_media(p)
    assert a.streamed and isinstance(a.samples, StreamedSamples)
    assert a.samples.shape == (80000, 2) and a.duration == pytest.approx(5.0)
    assert any("read from the file a stretch at a time" in n for n in a.notes)
    monkeypatch.setattr(_audio_io, "STREAM_ABOVE_S", 1e9)
    whole = open_media(p)
    assert not whole.streamed
    for a0, b0 in ((0, 10), (12345, 54321), (79990, 80000), (79990, 90000)):
        assert np.array_equal(a.samples[a0:b0], whole.samples[a0:b0])
    assert np.array_equal(np.asarray(a.samples), whole.samples)
    assert np.array_equal(a.mono(), whole.mono())
    assert a.samples[10:10].shape == (0, 2) and a.samples[100:200, 1].shape == (100,)
    with pytest.raises(TypeError, match="contiguous time slices"):
        a.samples[::2]


@pytest.mark.parametrize("maker", [make_mp3, make_m4a])
def test_a_long_compressed_recording_is_decoded_a_stretch_at_a_time(tmp_path, stream_above,
                                                                     monkeypatch, maker):
    """MP3 and M4A (phones, dictaphones, podcasts) were decoded whole; a long one is measured
    by one decoding pass that keeps nothing, then each stretch is decoded on its own (the
    container sought to it) and gives the whole decode's samples."""
    from triage_app import _audio_io

    x = tone(440, 12.0, 16000)
    p = maker(tmp_path / f"a.{'mp3' if maker is make_mp3 else 'm4a'}", x, 16000)
    a = open_media(p)
    monkeypatch.setattr(_audio_io, "STREAM_ABOVE_S", 1e9)
    whole = open_media(p)
    assert a.streamed and not whole.streamed and a.samples.shape == whole.samples.shape
    n = whole.samples.shape[0]
    for a0, b0 in ((0, 1000), (48000, 80000), (112123, 144000), (n - 500, n)):
        assert np.array_equal(a.samples[a0:b0], whole.samples[a0:b0]), (a0, b0)


def test_a_streamed_recording_is_validated_to_its_end(tmp_path, stream_above):
    """The whole decode saw every sample; streaming must not let a bad tail through unsaid:
    non-finite and over-range float samples are found by the opening pass and cleaned in
    every stretch read, and a truncated FLAC is still refused."""
    x = tone(440, 5.0, 16000)
    x[70000] = np.nan
    x[75000] = 3.0
    a = open_media(make_wav(tmp_path / "f.wav", x, 16000, subtype="FLOAT"))
    assert a.streamed
    assert "non-finite samples (NaN/inf) were set to 0" in a.notes
    assert any("beyond full scale; clipped to -1..1" in n for n in a.notes)
    piece = a.samples[69990:75010]
    assert np.all(np.isfinite(piece)) and piece.max() <= 1.0 and piece[10, 0] == 0.0
    raw = make_flac(tmp_path / "a.flac", tone(440, 20.0, 16000), 16000).read_bytes()
    p = tmp_path / "cut.flac"
    p.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(TruncatedFileError, match="truncated FLAC"):
        open_media(p)


def test_a_streamed_recording_analyses_as_the_whole_one(tmp_path, stream_above, monkeypatch):
    """Same scores, findings and claims whether a long recording is held or streamed."""
    from detectors.audio import _common as C
    from triage_app import _audio_io
    from triage_app.pipeline import analyze
    from triage_app.settings import Settings

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 12) / 16000
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) \
        + rng.normal(0, 0.003, t.size)
    x[int(9.0 * 16000):int(9.5 * 16000)] = 0.0
    p = make_wav(tmp_path / "long.wav", x, 16000)
    monkeypatch.setattr(C, "ANALYSIS_BUDGET_S", 5.0)
    streamed = analyze(open_media(p), settings=Settings())
    monkeypatch.setattr(_audio_io, "STREAM_ABOVE_S", 1e9)
    whole = analyze(open_media(p), settings=Settings())

    def gist(a):
        return ([(d.name, d.status, d.score, len(d.findings)) for d in a.detectors],
                a.verdict.probability, [(c.text, c.status) for c in a.claims])

    assert gist(streamed) == gist(whole)
    assert any(f.detector == "digital_silence" for f in streamed.findings)


def test_exif_orientation_is_noted_and_pixels_stay_as_stored(tmp_path):
    """A phone photo stored sideways: the note says how a viewer turns it; the pixels are
    the stored ones (the JPEG grid and the sensor pattern are measured there)."""
    import numpy as np
    from PIL import Image

    from triage_app.media import open_media

    pixels = np.random.default_rng(0).integers(0, 255, (40, 64, 3), np.uint8)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[274] = 6
    path = tmp_path / "portrait.png"
    im.save(path, exif=exif.tobytes())
    media = open_media(path)
    assert media.pixels.shape == (40, 64, 3) and np.array_equal(media.pixels, pixels)
    assert any("EXIF orientation 6" in n and "90 degrees clockwise" in n for n in media.notes)
    plain = tmp_path / "plain.png"
    im.save(plain)
    assert not any("orientation" in n for n in open_media(plain).notes)


def test_track_offsets_and_overhangs_are_noted():
    """From a QA pass: a video whose frames start 1 s after its audio, and one whose audio runs
    9 s past its last frame, were analysed with no word about it."""
    from fractions import Fraction
    from types import SimpleNamespace

    from triage_app._video_io import _stream_timing

    tb = Fraction(1, 1000)
    video = SimpleNamespace(start_time=1000, time_base=tb)
    audio = SimpleNamespace(start_time=0, time_base=tb, duration=5000)
    offset, notes = _stream_timing(video, audio, 4.0)
    assert offset == -1.0 and "starts 1.00 s before the first video frame" in notes[0]
    long_audio = SimpleNamespace(start_time=0, time_base=tb, duration=12000)
    offset, notes = _stream_timing(SimpleNamespace(start_time=0, time_base=tb), long_audio, 3.0)
    assert offset == 0.0 and len(notes) == 1 and "runs 9.0 s past the end" in notes[0]
    aac_priming = SimpleNamespace(start_time=21, time_base=tb, duration=3000)
    assert _stream_timing(SimpleNamespace(start_time=0, time_base=tb), aac_priming, 3.0) == \
        (0.021, [])
