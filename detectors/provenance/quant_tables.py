"""Which encoder wrote this JPEG? Its quantization tables against known ones.

A JPEG carries the quantization tables its encoder chose (DQT segments). Encoders differ:
libjpeg and everything built on it (libjpeg-turbo, Pillow, OpenCV, ImageMagick, GIMP's
default...) scale the two example tables of ITU-T T.81 Annex K by a "quality" with the
Independent JPEG Group's formula; cameras mostly use their own tables; Photoshop uses its
own set of levels. Farid (2006) and Kee, Johnson & Farid (2011) showed that these tables
(with the rest of the header) tell camera output from software output, and that software
re-saving leaves the software's tables.

What this detector says, and how strongly (the evidence is weak by nature, so the scores stay
near 0.5 except for one inconsistency):

- tables equal to IJG's at quality Q (exactly, all tables) -> the last encoder was libjpeg
  based, at quality Q. On its own that says nothing about manipulation: status ``ok``, score
  :data:`SCORE_NEUTRAL` (0.5), the quality in ``extras``.
- the same, while EXIF names a camera maker -> the camera's own JPEG was re-encoded by software
  that kept the EXIF (cameras seldom write IJG tables; over 1.3 million images of 773
  cameras, Kee et al. 2011 found header signatures (quantization tables, Huffman codes,
  thumbnail, EXIF) 99 % specific to one manufacturer, and Photoshop's distinct from every
  camera's). A ``double_compression`` finding at
  score :data:`SCORE_IJG_AFTER_CAMERA` (0.62): re-encoding is not proof of manipulation, and
  a few phones do write IJG-scaled tables, hence "moderate".
- tables equal to a known editor preset (Photoshop-equivalent levels, see
  ``resources/quant_tables.json``) -> a ``software_metadata`` finding "quantization tables
  match <editor>", score :data:`SCORE_EDITOR_TABLES` (0.6), a little under the metadata
  detector's editing score because a table match cannot tell the editor from another program
  that copied its tables.
- other (custom) tables with a camera maker in EXIF -> consistent with in-camera encoding:
  score :data:`SCORE_CAMERA_CUSTOM` (0.42), mild evidence of authenticity.
- other tables and no camera claim -> nothing to say beyond ``extras``: score 0.5.
- not a JPEG, or no tables -> ``not_applicable``.

The constants are judgement on the strength of the evidence (they are not fitted: our corpus
has too few camera JPEGs to fit them); the fusion should give this detector a low weight.

References
----------
1. H. Farid, "Digital image ballistics from JPEG quantization", Dartmouth TR2006-583, 2006.
2. E. Kee, M. K. Johnson, H. Farid, "Digital image authentication from JPEG headers",
   IEEE Trans. Information Forensics and Security 6(3), 2011. doi:10.1109/TIFS.2011.2128309
3. ITU-T Rec. T.81 (1992), Annex K, Tables K.1 and K.2; IJG libjpeg ``jcparam.c``.
"""

from __future__ import annotations

import json
import struct
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, MetadataField

NAME = "jpeg_quant_tables"
VERSION = "1.0"

#: Score when the tables say who encoded last but nothing about manipulation.
SCORE_NEUTRAL = 0.5
#: EXIF names a camera maker but the tables are IJG's: re-encoded by software (see module doc).
SCORE_IJG_AFTER_CAMERA = 0.62
#: Tables equal to a known editor's preset (Photoshop-equivalent levels).
SCORE_EDITOR_TABLES = 0.6
#: Custom (non-IJG, non-editor) tables together with a camera maker in EXIF.
SCORE_CAMERA_CUSTOM = 0.42

_RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "quant_tables.json"

#: Zigzag position k -> natural (row-major) index, ITU-T T.81 Figure A.6.
ZIGZAG_TO_NATURAL: tuple[int, ...] = (
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5,
    12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28,
    35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51,
    58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
)


@lru_cache(maxsize=1)
def known_tables() -> dict[str, Any]:
    """The contents of ``resources/quant_tables.json``."""
    with open(_RESOURCE, encoding="utf-8") as fh:
        return json.load(fh)


def ijg_table(base: list[int] | tuple[int, ...], quality: int, *,
              force_baseline: bool = True) -> list[int]:
    """IJG's table for ``quality`` (1..100): libjpeg ``jpeg_quality_scaling`` + ``add_quant_table``.

    >>> ijg_table(known_tables()["ijg"]["luminance"], 50)[:4]
    [16, 11, 10, 16]
    >>> ijg_table(known_tables()["ijg"]["luminance"], 100)[:4]
    [1, 1, 1, 1]
    """
    if not 1 <= int(quality) <= 100:
        raise ValueError(f"quality must be in 1..100, got {quality!r}")
    q = int(quality)
    scale = 5000 // q if q < 50 else 200 - 2 * q
    top = 255 if force_baseline else 32767
    return [min(top, max(1, (int(b) * scale + 50) // 100)) for b in base]


def parse_dqt(raw: bytes) -> dict[int, list[int]]:
    """Quantization tables of a JPEG byte string, ``{table_id: 64 ints}`` in natural order.

    Reads DQT (FFDB) segments up to the first SOS; a later DQT (in a progressive or
    multi-scan file) would redefine a table and is read too until EOI. Damaged segments end
    the walk; what was read so far is returned.
    """
    tables: dict[int, list[int]] = {}
    if not raw.startswith(b"\xff\xd8"):
        return tables
    i, n = 2, len(raw)
    while i + 4 <= n:
        if raw[i] != 0xFF:
            i += 1  # inside entropy-coded data after an SOS: scan for the next marker
            continue
        marker = raw[i + 1]
        if marker == 0xFF:
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0x00:
            i += 2
            continue
        if marker == 0xD9:
            break
        (length,) = struct.unpack(">H", raw[i + 2:i + 4])
        seg = raw[i + 4:i + 2 + length]
        if marker == 0xDB:
            j = 0
            while j < len(seg):
                pq, tq = seg[j] >> 4, seg[j] & 0x0F
                size = 128 if pq else 64
                body = seg[j + 1:j + 1 + size]
                if len(body) < size:
                    break
                vals = (list(struct.unpack(">64H", body)) if pq else list(body))
                nat = [0] * 64
                for k, v in enumerate(vals):
                    nat[ZIGZAG_TO_NATURAL[k]] = v
                tables[tq] = nat
                j += 1 + size
        i += 2 + length
    return tables


def jpeg_tables(media: Any) -> dict[int, list[int]]:
    """The tables of an image: parsed from its bytes when it has them, else the loader's."""
    raw = getattr(media, "raw", b"") or b""
    tables = parse_dqt(raw) if raw.startswith(b"\xff\xd8") else {}
    if not tables and getattr(media, "quantization", None):
        tables = {int(k): [int(x) for x in v] for k, v in media.quantization.items()}
    return tables


def match_ijg(tables: dict[int, list[int]]) -> int | None:
    """The IJG quality whose tables equal ``tables`` exactly, or None.

    Table 0 is compared with the scaled luminance table, every other table with the scaled
    chrominance table (libjpeg's layout); a one-table (greyscale) JPEG compares table 0 only.
    Both the baseline (<= 255) and the 16-bit clamps are tried.
    """
    if not tables or 0 not in tables:
        return None
    ijg = known_tables()["ijg"]
    for baseline in (True, False):
        for q in range(100, 0, -1):
            if tables[0] != ijg_table(ijg["luminance"], q, force_baseline=baseline):
                continue
            chroma = ijg_table(ijg["chrominance"], q, force_baseline=baseline)
            if all(t == chroma for k, t in tables.items() if k != 0):
                return q
    return None


def match_preset(tables: dict[int, list[int]]) -> dict[str, Any] | None:
    """The known editor preset whose tables equal ``tables`` (in table-id order), or None."""
    ids = sorted(tables)
    for preset in known_tables().get("presets", []):
        ref = preset["tables"]
        if len(ids) > len(ref):
            continue
        if all(tables[k] == ref[n] for n, k in enumerate(ids)):
            return preset
    return None


def _camera_make(media: Any) -> str | None:
    exif = getattr(media, "exif", None) or {}
    make = exif.get("Make")
    if isinstance(make, str) and make.strip():
        return make.strip()
    return None


@detector(
    name=NAME,
    version=VERSION,
    modalities=("image",),
    method="JPEG quantization tables compared with IJG-scaled Annex K tables and known "
           "editor presets (Farid 2006; Kee, Johnson & Farid 2011)",
    reference="H. Farid, Digital image ballistics from JPEG quantization, TR2006-583, 2006; "
              "E. Kee, M. K. Johnson, H. Farid, Digital image authentication from JPEG headers, "
              "IEEE TIFS 6(3), 2011, doi:10.1109/TIFS.2011.2128309",
    limits="JPEG only. Says which encoder wrote the file last, not whether content was changed; "
           "weak evidence (scores 0.42..0.62).",
    artifacts=("software_metadata", "double_compression"),
    params={"score_ijg_after_camera": SCORE_IJG_AFTER_CAMERA,
            "score_editor_tables": SCORE_EDITOR_TABLES,
            "score_camera_custom": SCORE_CAMERA_CUSTOM},
)
def jpeg_quant_tables(media: Any) -> DetectorResult:
    """Compare a JPEG's quantization tables with IJG's and known editors' (see module doc)."""
    t0 = time.perf_counter()
    fmt = str(getattr(media, "format", "")).upper()
    raw = getattr(media, "raw", b"") or b""
    if fmt not in ("JPEG", "JPG", "MPO") and not raw.startswith(b"\xff\xd8"):
        return DetectorResult.not_applicable(NAME, VERSION, "not a JPEG: no quantization tables")
    tables = jpeg_tables(media)
    if not tables:
        return DetectorResult.not_applicable(NAME, VERSION,
                                             "no quantization tables found in the JPEG")

    make = _camera_make(media)
    quality = match_ijg(tables)
    preset = None if quality is not None else match_preset(tables)
    lum_sum = sum(tables.get(0, []))
    extras: dict[str, Any] = {
        "tables": {str(k): v for k, v in sorted(tables.items())},
        "ijg_quality": quality,
        "preset": preset["name"] if preset else None,
        "luminance_sum": lum_sum,
        "exif_make": make,
    }
    findings: list[Finding] = []
    if quality is not None:
        extras["encoder"] = f"IJG libjpeg-compatible, quality {quality}"
        if make:
            score = SCORE_IJG_AFTER_CAMERA
            findings.append(Finding(
                artifact="double_compression",
                location=MetadataField("JPEG:DQT", f"IJG quality {quality}"),
                strength=SCORE_IJG_AFTER_CAMERA,
                measurement=Measurement("quantization tables match IJG quality", quality,
                                        reference=f"camera tables expected (EXIF:Make={make})"),
                detector=NAME,
            ))
            extras["interpretation"] = (
                f"EXIF names the camera maker {make!r}, but the tables are libjpeg's at "
                f"quality {quality}: the camera's JPEG was re-encoded by software")
        else:
            score = SCORE_NEUTRAL
            extras["interpretation"] = (f"written by libjpeg-based software at quality "
                                        f"{quality}; says nothing about the content")
    elif preset is not None:
        score = SCORE_EDITOR_TABLES
        findings.append(Finding(
            artifact="software_metadata",
            location=MetadataField("JPEG:DQT", preset["name"]),
            strength=SCORE_EDITOR_TABLES,
            measurement=Measurement("quantization tables match", preset["software"],
                                    reference="camera or IJG tables"),
            detector=NAME,
        ))
        extras["interpretation"] = f"quantization tables match {preset['software']}"
    else:
        extras["encoder"] = "custom tables (not IJG, not a known editor preset)"
        if make:
            score = SCORE_CAMERA_CUSTOM
            extras["interpretation"] = (f"custom tables, consistent with in-camera encoding "
                                        f"by {make!r}")
        else:
            score = SCORE_NEUTRAL
            extras["interpretation"] = "custom tables from an unknown encoder"
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0,
                          extras=extras)
