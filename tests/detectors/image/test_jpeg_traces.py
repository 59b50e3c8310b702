"""Tests for detectors/image/jpeg_traces.py: quality, double compression, ghosts, grids."""

from __future__ import annotations

import numpy as np
import pytest

from _image_synth import jpeg_bytes, media_from_array, media_from_bytes, pixel_f1, splice, \
    synthetic_photo
from detectors.image.jpeg_traces import estimate_quality, ijg_table, jpeg_traces, parse_dqt
from detectors.registry import get


def _decoded(pixels, q):
    return media_from_bytes(jpeg_bytes(pixels, q)).pixels


@pytest.mark.parametrize("q", [35, 60, 75, 90, 97])
def test_quality_estimate_and_tables_match_pillow(q):
    raw = jpeg_bytes(synthetic_photo(0, 64, 64), q)
    tables = parse_dqt(raw)
    pil = media_from_bytes(raw).quantization  # Pillow gives natural order
    assert np.array_equal(tables[0].ravel(), np.asarray(pil[0], float))
    assert estimate_quality(tables[0]) == (q, 0.0)
    assert np.array_equal(ijg_table(q), tables[0])


def test_double_compression_flagged_single_not():
    host = synthetic_photo(41, 320, 448)
    single = jpeg_traces(media_from_bytes(jpeg_bytes(host, 90)))
    double = jpeg_traces(media_from_bytes(jpeg_bytes(_decoded(host, 60), 90)))
    assert single.status == double.status == "ok"
    assert single.extras["quality_estimate"] == 90 and not single.extras["double_compressed"]
    assert not any(f.location.kind == "whole" for f in single.findings)
    assert double.extras["double_compressed"]
    whole = [f for f in double.findings if f.location.kind == "whole"]
    assert whole and whole[0].artifact == "double_compression"
    # estimated first steps match the IJG quality-60 table
    q60 = ijg_table(60).ravel()
    steps = {d["coefficient"]: d["q1"] for d in double.extras["dq_coefficients"]}
    assert sum(abs(steps[c] - q60[c]) <= 1 for c in steps) >= len(steps) - 1
    assert double.score > single.score


def test_single_compressed_paste_in_double_compressed_image_is_localized():
    host = _decoded(synthetic_photo(41, 320, 448), 60)
    donor = synthetic_photo(42, 320, 448)
    img, mask = splice(host, donor, (160, 96, 128, 128))
    res = jpeg_traces(media_from_bytes(jpeg_bytes(img, 90)))
    assert pixel_f1(res.heatmap, mask) > 0.6
    local = [f for f in res.findings if f.location.kind == "mask"]
    assert local and local[0].artifact == "double_compression"


def test_jpeg_ghost_is_localized():
    host = synthetic_photo(43, 320, 448)
    donor = _decoded(synthetic_photo(44, 320, 448), 60)
    img, mask = splice(host, donor, (160, 96, 128, 128))
    res = jpeg_traces(media_from_bytes(jpeg_bytes(img, 85)))
    assert pixel_f1(res.heatmap, mask) > 0.6


def test_png_grid_break_from_copy_move():
    # a PNG that carries an (offset) 8x8 grid from an earlier JPEG save; a region copied by a
    # non-multiple of 8 breaks the grid locally (NoSo-like)
    base = _decoded(synthetic_photo(45, 360, 480), 75)[3:, 5:]
    img, mask = splice(base, base, (300, 200, 120, 100), src=(50, 43))
    res = jpeg_traces(media_from_array(np.ascontiguousarray(img)))
    assert res.status == "ok" and res.extras["grid_strength"] > 1.2
    assert pixel_f1(res.heatmap, mask) > 0.4
    assert any(f.artifact == "blockiness" for f in res.findings)


def test_not_applicable_without_compression_history():
    res = jpeg_traces(media_from_array(synthetic_photo(46, 256, 320)))
    assert res.status == "not_applicable" and "grid" in res.reason
    spec = get("jpeg_traces")
    assert spec.localizes and "Bianchi" in spec.reference and "Farid" in spec.reference


@pytest.mark.corpus
def test_noso_grid_presence_matches_the_corpus_notes(corpus_dir):
    # SOURCES.md: most NoSo originals carry an offset 8x8 grid; 05, 07 and 12 have (almost) none
    from PIL import Image

    from triage_app.media import ImageMedia

    def run(stem):
        path = corpus_dir / "noso_copymove" / "authentic" / f"{stem}.png"
        px = np.asarray(Image.open(path).convert("RGB"))
        return jpeg_traces(ImageMedia(path=str(path), format="PNG", pixels=px,
                                      raw=path.read_bytes()))

    for stem in ("01", "03", "04"):
        res = run(stem)
        assert res.status == "ok" and res.extras["grid_strength"] > 1.1
    for stem in ("05", "07", "12"):
        assert run(stem).status == "not_applicable"
