"""Tests for the file-format guards of detectors/image/_common.py: palette images and lossy
block codecs other than JPEG, which residual- and grid-based detectors must not judge."""

from __future__ import annotations

import io

import numpy as np
import pytest

from _image_synth import jpeg_bytes, media_from_array, media_from_bytes, synthetic_photo
from detectors.image import _common as C
from detectors.image.generator_fingerprint import generator_fingerprint
from detectors.image.jpeg_traces import jpeg_traces


def _saved(pixels: np.ndarray, fmt: str, **kw) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, fmt, **kw)
    return buf.getvalue()


def _heif(pixels: np.ndarray, fmt: str) -> bytes:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    return _saved(pixels, fmt, quality=80)


def test_palette_size_counts_quantized_colour_images_only():
    from PIL import Image

    photo = synthetic_photo(30, 256, 256)
    assert C.palette_size(photo) is None
    pal = np.asarray(Image.fromarray(photo).convert("P", palette=Image.Palette.ADAPTIVE,
                                                   colors=64).convert("RGB"))
    assert 2 <= C.palette_size(pal) <= 64
    grey = np.repeat(photo[..., :1], 3, axis=2)  # 256 grey levels at most: not a palette
    assert C.palette_size(grey) is None
    icon = pal[:32, :32]  # too small to tell a palette from a flat graphic
    assert C.palette_size(icon) is None


def test_block_codec_from_the_file_bytes():
    photo = synthetic_photo(31, 128, 160)
    assert C.block_codec(media_from_bytes(_saved(photo, "WEBP", quality=80))) == \
        "lossy WebP (VP8)"
    assert C.block_codec(media_from_bytes(_saved(photo, "WEBP", lossless=True))) is None
    assert C.block_codec(media_from_bytes(jpeg_bytes(photo, 90))) is None
    assert C.block_codec(media_from_array(photo)) is None
    assert C.block_codec(photo) is None  # a bare array has no file
    assert C.block_codec(media_from_bytes(_heif(photo, "HEIF"))) == "HEIF (HEVC)"
    assert C.block_codec(media_from_bytes(_heif(photo, "AVIF"))) == "AVIF (AV1)"


def test_webp_with_alpha_uses_the_extended_header():
    from PIL import Image

    rgba = np.dstack([synthetic_photo(32, 128, 160), np.full((128, 160), 200, np.uint8)])
    buf = io.BytesIO()
    Image.fromarray(rgba).save(buf, "WEBP", quality=80)
    assert buf.getvalue()[12:16] == b"VP8X"
    assert C.block_codec(media_from_bytes(buf.getvalue())) == "lossy WebP (VP8)"


def test_generator_fingerprint_skips_palette_images_only():
    from PIL import Image

    photo = synthetic_photo(33, 320, 320)
    pal = np.asarray(Image.fromarray(photo).convert("P").convert("RGB"))
    res = generator_fingerprint(media_from_array(pal))
    assert res.status == "not_applicable" and "palette image" in res.reason
    assert generator_fingerprint(media_from_array(photo)).status == "ok"
    # lossy WebP (in training since 2026-12-07), HEVC and AV1 stills are judged
    assert generator_fingerprint(media_from_bytes(_saved(photo, "WEBP", quality=80))).status \
        == "ok"
    assert generator_fingerprint(media_from_bytes(_heif(photo, "HEIF"))).status == "ok"


def test_jpeg_traces_skips_block_codec_files_but_not_jpeg():
    photo = synthetic_photo(34, 256, 320)
    res = jpeg_traces(media_from_bytes(_saved(photo, "WEBP", quality=80)))
    assert res.status == "not_applicable" and "WebP" in res.reason
    assert jpeg_traces(media_from_bytes(jpeg_bytes(photo, 80))).status == "ok"


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_matches_pillow_and_maps_back(orientation):
    """upright() turns pixels as Pillow's exif_transpose does; stored_map() undoes it, and
    stored_box() sends a box of the upright view onto the same pixels of the stored image."""
    from PIL import Image, ImageOps

    from triage_app.model import Box

    rng = np.random.default_rng(orientation)
    stored = rng.integers(0, 255, (30, 50, 3), np.uint8)
    im = Image.fromarray(stored)
    exif = im.getexif()
    exif[274] = orientation
    buf = io.BytesIO()
    im.save(buf, "PNG", exif=exif.tobytes())
    expected = np.asarray(ImageOps.exif_transpose(Image.open(io.BytesIO(buf.getvalue()))))
    view = C.upright(stored, orientation)
    assert np.array_equal(view, expected)
    assert np.array_equal(C.stored_map(view, orientation), stored)
    box = Box(3, 5, 7, 4)
    sb = C.stored_box(box, orientation, stored.shape)
    patch = view[box.y:box.y + box.h, box.x:box.x + box.w]
    back = stored[sb.y:sb.y + sb.h, sb.x:sb.x + sb.w]
    assert sorted(patch.reshape(-1, 3).tolist()) == sorted(back.reshape(-1, 3).tolist())


@pytest.mark.parametrize("orientation", range(1, 9))
def test_upright_box_turns_as_the_analysis_does(orientation):
    from triage_app.model import Box

    h, w = 5, 8
    stored = np.zeros((h, w), np.uint8)
    stored[1, 6] = 1                                  # the pixel box (6, 1), 1 x 1
    ys, xs = np.nonzero(C.upright(stored, orientation))
    b = C.upright_box(Box(6, 1, 1, 1), orientation, stored.shape)
    assert (b.x, b.y, b.x + b.w, b.y + b.h) == (xs[0], ys[0], xs[0] + 1, ys[0] + 1)


def test_orientation_of_reads_exif_and_defaults_to_as_stored():
    class _M:
        exif = {"Orientation": 6}

    assert C.orientation_of(_M()) == 6
    _M.exif = {"Orientation": "junk"}
    assert C.orientation_of(_M()) == 1
    assert C.orientation_of(np.zeros((4, 4, 3), np.uint8)) == 1
