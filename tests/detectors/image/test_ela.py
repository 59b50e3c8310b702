"""Tests for detectors/image/ela.py: a region with another compression history is found."""

from __future__ import annotations

import numpy as np
import pytest

from _image_synth import jpeg_bytes, media_from_array, media_from_bytes, pixel_f1, splice, \
    synthetic_photo
from detectors.image.ela import error_level_analysis, error_levels
from detectors.registry import get


def _compressed_paste():
    # host never compressed; the pasted region comes from a photo saved at JPEG quality 60,
    # so it barely changes when re-saved at 75: its error level is far below the host's
    host = synthetic_photo(11, 320, 448, noise_sigma=2.0)
    donor = media_from_bytes(jpeg_bytes(synthetic_photo(12, 320, 448), 60)).pixels
    return host, *splice(host, donor, (160, 96, 128, 128))


def test_error_levels_shape_and_order():
    host = synthetic_photo(11, 128, 160)
    lv = error_levels(host, qualities=(75, 95), block=16)
    assert lv.shape == (2, 8, 10)
    assert np.median(lv[0]) > np.median(lv[1])  # lower quality, larger error


def test_localizes_previously_compressed_paste():
    host, img, mask = _compressed_paste()
    res = error_level_analysis(media_from_array(img))
    assert res.status == "ok" and res.heatmap.shape == img.shape[:2]
    assert pixel_f1(res.heatmap, mask) > 0.6
    top = res.findings[0]
    assert top.artifact == "blending_artifacts"
    assert top.measurement.name == "error level ratio" and top.measurement.value < 0.8


def test_clean_scores_lower_than_splice():
    # ELA is content-dependent (flat noisy areas re-compress differently from texture), so the
    # clean synthetic photo has weak regions of its own; the paste must still stand out more
    host, img, mask = _compressed_paste()
    clean = error_level_analysis(media_from_array(host))
    spliced = error_level_analysis(media_from_array(img))
    # (the flat noisy discs of the synthetic photo re-compress with a higher error than their
    # structure predicts, so the clean image is not at the floor: measured 0.60 vs 0.69)
    assert clean.score < 0.65
    assert spliced.score > clean.score
    assert spliced.extras["statistic"] > clean.extras["statistic"] + 2.0
    assert pixel_f1(spliced.heatmap, mask) > 2 * pixel_f1(clean.heatmap, mask)


def test_registered_and_validates_arguments():
    spec = get("ela")
    assert spec.localizes and "Krawetz" in spec.reference
    with pytest.raises(ValueError):
        error_level_analysis(media_from_array(synthetic_photo(0, 128, 128)), block=12)
    with pytest.raises(ValueError):
        error_level_analysis(media_from_array(synthetic_photo(0, 128, 128)), qualities=(0,))


def test_fast_error_levels_equal_the_reference_computation():
    """The speed-up (one colour conversion, OpenCV round trip in BGR) must not change a value:
    compare with the plain formula |pixels - jpeg_roundtrip(pixels, q)| averaged per block."""
    import numpy as np

    from detectors.image import _common as C
    from detectors.image.ela import error_levels

    rng = np.random.default_rng(3)
    pixels = np.clip(rng.normal(128, 40, (96, 136, 3)), 0, 255).astype(np.uint8)
    pixels[:20, :30] = 255  # clipped area
    fast = error_levels(pixels, qualities=(75, 90), block=8)
    ref = np.stack([C.block_mean(np.abs(pixels.astype(np.int16) - C.jpeg_roundtrip(pixels, q)
                                        .astype(np.int16)).astype(np.uint8), 8).mean(axis=2)
                    for q in (75, 90)])
    assert np.array_equal(fast, ref)


def test_resave_quality_equal_to_the_files_own_is_left_out():
    """A photo saved at quality 75 (Pillow's default) and re-saved at 75 leaves most blocks
    bit-identical; the few that change made 'regions' of an untouched picture (statistic 44
    on corpus photos). That quality is skipped, and the image is judged as clean."""
    photo = media_from_bytes(jpeg_bytes(synthetic_photo(21, 320, 448), 75))
    res = error_level_analysis(photo)
    assert res.status == "ok"
    assert res.extras["qualities_skipped"] == [75]
    assert res.extras["qualities_used"] == [85, 95]
    assert res.extras["median_error_level"][0] <= 0.02
    only_75 = error_level_analysis(photo, qualities=(75,))
    assert only_75.status == "not_applicable" and "unchanged" in only_75.reason
    # a never-compressed photo keeps every quality
    assert error_level_analysis(media_from_array(synthetic_photo(21, 320, 448))) \
        .extras["qualities_skipped"] == []


def test_palette_image_is_not_judged():
    """Dithering to 256 colours is the residual ELA would measure."""
    from PIL import Image

    rgb = synthetic_photo(22, 256, 320)
    pal = np.asarray(Image.fromarray(rgb).convert("P", palette=Image.Palette.ADAPTIVE,
                                                 colors=200).convert("RGB"))
    res = error_level_analysis(media_from_array(pal))
    assert res.status == "not_applicable" and "palette image" in res.reason
    assert res.extras["palette_colours"] <= 200


def test_lossy_webp_is_not_judged():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(synthetic_photo(23, 256, 320)).save(buf, "WEBP", quality=80)
    res = error_level_analysis(media_from_bytes(buf.getvalue()))
    assert res.status == "not_applicable" and res.extras["codec"] == "lossy WebP (VP8)"
