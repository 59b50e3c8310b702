"""Known-answer tests for detectors/provenance/quant_tables.py.

Pillow encodes with libjpeg(-turbo), whose ``quality`` is IJG's: a file saved at quality Q must
be recognised as exactly Q. The Photoshop-equivalent presets are Pillow's ``JpegPresets``.
"""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from PIL import Image

from detectors.provenance import quant_tables as qt
from triage_app.media import ImageMedia, open_media
from triage_app.model import MetadataField


def _img(h: int = 16, w: int = 16) -> Image.Image:
    return Image.fromarray((np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8))


def _jpeg(**save) -> bytes:
    buf = io.BytesIO()
    _img().save(buf, "JPEG", **save)
    return buf.getvalue()


def _media(raw: bytes, exif: dict | None = None, fmt: str = "JPEG") -> ImageMedia:
    return ImageMedia(path="x", format=fmt, pixels=np.zeros((16, 16, 3), np.uint8), raw=raw,
                      exif=exif or {})


def test_ijg_quality_75_is_recognised_exactly(tmp_path):
    path = tmp_path / "q75.jpg"
    path.write_bytes(_jpeg(quality=75))
    result = qt.jpeg_quant_tables(open_media(path))
    assert result.status == "ok"
    assert result.extras["ijg_quality"] == 75
    assert result.findings == []
    assert result.score == pytest.approx(qt.SCORE_NEUTRAL)


def test_every_ijg_quality_round_trips_through_libjpeg():
    for q in range(1, 101):
        raw = _jpeg(quality=q)
        tables = qt.parse_dqt(raw)
        # our DQT parser (zigzag -> natural) agrees with Pillow's reading of the same file
        assert tables == {k: list(v) for k, v in Image.open(io.BytesIO(raw)).quantization.items()}
        assert qt.match_ijg(tables) == q


def test_known_table_values():
    lum = qt.known_tables()["ijg"]["luminance"]
    assert qt.ijg_table(lum, 50) == lum              # quality 50 is Annex K itself
    assert qt.ijg_table(lum, 75)[:8] == [8, 6, 5, 8, 12, 20, 26, 31]  # (16*50+50)//100 = 8 ...
    assert qt.ijg_table(lum, 1)[0] == 255            # 16 * 5000 clamps at the baseline 255
    assert qt.ijg_table(lum, 1, force_baseline=False)[0] == 800
    with pytest.raises(ValueError, match="quality"):
        qt.ijg_table(lum, 0)


def test_ijg_tables_under_a_camera_make_are_a_reencoding():
    result = qt.jpeg_quant_tables(_media(_jpeg(quality=75), exif={"Make": "NIKON CORPORATION"}))
    assert result.score == pytest.approx(qt.SCORE_IJG_AFTER_CAMERA)
    (f,) = result.findings
    assert f.artifact == "double_compression"
    assert f.location == MetadataField("JPEG:DQT", "IJG quality 75")
    assert f.measurement.value == 75


@pytest.mark.parametrize("preset", ["web_high", "maximum"])
def test_photoshop_equivalent_preset_is_named(preset):
    result = qt.jpeg_quant_tables(_media(_jpeg(quality=preset)))
    assert result.extras["ijg_quality"] is None
    (f,) = result.findings
    assert f.artifact == "software_metadata"
    assert f.location == MetadataField("JPEG:DQT", f"Photoshop-equivalent preset '{preset}'")
    assert "Adobe Photoshop" in f.measurement.value
    assert result.score == pytest.approx(qt.SCORE_EDITOR_TABLES)


def test_presets_never_coincide_with_ijg_tables():
    for preset in qt.known_tables()["presets"]:
        assert qt.match_ijg(dict(enumerate(preset["tables"]))) is None, preset["name"]


def test_custom_tables_with_camera_make_lean_authentic():
    lum = qt.ijg_table(qt.known_tables()["ijg"]["luminance"], 90)
    chroma = qt.ijg_table(qt.known_tables()["ijg"]["chrominance"], 90)
    lum[63] += 1  # one step off IJG: a table no IJG quality produces
    raw = _jpeg(qtables=[lum, chroma])
    with_make = qt.jpeg_quant_tables(_media(raw, exif={"Make": "Canon"}))
    assert with_make.extras["ijg_quality"] is None and with_make.findings == []
    assert with_make.score == pytest.approx(qt.SCORE_CAMERA_CUSTOM)
    assert qt.jpeg_quant_tables(_media(raw)).score == pytest.approx(qt.SCORE_NEUTRAL)


def test_greyscale_and_16_bit_tables():
    buf = io.BytesIO()
    _img().convert("L").save(buf, "JPEG", quality=60)
    assert qt.jpeg_quant_tables(_media(buf.getvalue())).extras["ijg_quality"] == 60
    # a hand-made 16-bit DQT segment (Pq = 1) holding IJG quality 5 without the baseline clamp
    lum = qt.ijg_table(qt.known_tables()["ijg"]["luminance"], 5, force_baseline=False)
    natural_to_zigzag = {n: k for k, n in enumerate(qt.ZIGZAG_TO_NATURAL)}
    zz = [lum[qt.ZIGZAG_TO_NATURAL[k]] for k in range(64)]
    assert natural_to_zigzag[1] == 1 and natural_to_zigzag[8] == 2
    body = bytes([0x10]) + struct.pack(">64H", *zz)
    raw = b"\xff\xd8\xff\xdb" + struct.pack(">H", len(body) + 2) + body + b"\xff\xd9"
    assert qt.parse_dqt(raw) == {0: lum}
    assert qt.match_ijg({0: lum}) == 5


def test_not_a_jpeg_is_not_applicable():
    buf = io.BytesIO()
    _img().save(buf, "PNG")
    result = qt.jpeg_quant_tables(_media(buf.getvalue(), fmt="PNG"))
    assert result.status == "not_applicable"
    assert "not a JPEG" in result.reason


def test_registered_and_json_serialisable():
    import json as _json

    from detectors.registry import get

    spec = get("jpeg_quant_tables")
    assert spec.function is qt.jpeg_quant_tables
    assert spec.modalities[0] == "image" and spec.reference
    result = qt.jpeg_quant_tables(_media(_jpeg(quality=75), exif={"Make": "Canon"}))
    assert result.status == "ok" and result.findings
    _json.dumps(result.to_dict())
