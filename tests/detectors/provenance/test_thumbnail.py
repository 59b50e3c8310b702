"""Known-answer tests for detectors/provenance/thumbnail.py.

We write the EXIF block (IFD0 + IFD1 with JPEGInterchangeFormat) ourselves, so we know exactly
which picture the thumbnail shows and where the image was changed afterwards.
"""

from __future__ import annotations

import io
import struct
from functools import lru_cache

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage

from detectors.provenance import thumbnail as tn
from triage_app.media import ImageMedia, open_media
from triage_app.model import Box, Whole


@lru_cache(maxsize=8)
def _scene(h: int = 360, w: int = 480, seed: int = 0) -> np.ndarray:
    """A photo-like test picture: multi-scale smooth noise plus a few hard-edged shapes
    (cached and read-only: copy before editing)."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w, 3))
    for sigma, amp in ((40, 60), (12, 35), (3, 15)):
        img += amp * ndimage.gaussian_filter(rng.standard_normal((h, w, 3)), (sigma, sigma, 0)) \
            * sigma
    img = (img - img.mean()) / img.std() * 45 + 120
    yy, xx = np.mgrid[:h, :w]
    for _ in range(6):
        cy, cx, r = rng.integers(0, h), rng.integers(0, w), rng.integers(15, 60)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.integers(0, 255, 3)
    out = np.clip(img, 0, 255).astype(np.uint8)
    out.setflags(write=False)
    return out


def _thumb_jpeg(arr: np.ndarray, size=(160, 120)) -> bytes:
    """A camera-like thumbnail: bilinear reduction, letterboxed if the aspect differs."""
    im = Image.fromarray(arr)
    tw, th = size
    W, H = im.size
    if abs(W / H - tw / th) < 0.01:
        t = im.resize(size, Image.Resampling.BILINEAR)
    else:
        cw, ch = (tw, round(tw * H / W)) if W / H > tw / th else (round(th * W / H), th)
        t = Image.new("RGB", size)
        t.paste(im.resize((cw, ch), Image.Resampling.BILINEAR), ((tw - cw) // 2, (th - ch) // 2))
    buf = io.BytesIO()
    t.save(buf, "JPEG", quality=75)
    return buf.getvalue()


def _exif_with_thumbnail(thumb: bytes, make: bytes = b"Canon\x00") -> bytes:
    """APP1 payload: 'Exif\\0\\0' + little-endian TIFF with IFD0 (Make) and IFD1 (thumbnail)."""
    ifd0_off = 8
    make_off = ifd0_off + 2 + 12 + 4          # value stored right after IFD0
    ifd1_off = make_off + len(make)
    thumb_off = ifd1_off + 2 + 3 * 12 + 4
    tiff = b"II*\x00" + struct.pack("<I", ifd0_off)
    tiff += struct.pack("<H", 1) + struct.pack("<HHII", 0x010F, 2, len(make), make_off)
    tiff += struct.pack("<I", ifd1_off) + make
    tiff += struct.pack("<H", 3)
    tiff += struct.pack("<HHII", 0x0103, 3, 1, 6)                 # Compression = JPEG
    tiff += struct.pack("<HHII", 0x0201, 4, 1, thumb_off)         # JPEGInterchangeFormat
    tiff += struct.pack("<HHII", 0x0202, 4, 1, len(thumb))        # ...Length
    tiff += struct.pack("<I", 0) + thumb
    return b"Exif\x00\x00" + tiff


def _jpeg_with_thumbnail(image: np.ndarray, thumb: bytes) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, "JPEG", quality=92)
    main = buf.getvalue()
    app1 = _exif_with_thumbnail(thumb)
    return main[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + main[2:]


def _media(raw: bytes, thumb: bytes | None) -> ImageMedia:
    pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
    return ImageMedia(path="x.jpg", format="JPEG", pixels=pixels, raw=raw, thumbnail=thumb)


def test_our_exif_builder_is_read_back():
    thumb = _thumb_jpeg(_scene())
    raw = _jpeg_with_thumbnail(_scene(), thumb)
    assert tn.exif_thumbnail_from_jpeg(raw) == thumb


def test_consistent_thumbnail_is_weak_evidence_of_authenticity(tmp_path):
    img = _scene()
    raw = _jpeg_with_thumbnail(img, _thumb_jpeg(img))
    path = tmp_path / "camera.jpg"
    path.write_bytes(raw)
    media = open_media(path)
    assert media.thumbnail, "the loader should hand over the EXIF thumbnail"
    result = tn.thumbnail_mismatch(media)
    assert result.status == "ok"
    assert result.findings == []
    assert result.extras["correlation"] > 0.99
    assert result.score == pytest.approx(tn.SCORE_MATCH, abs=0.02)


def test_thumbnail_of_another_picture_is_a_global_mismatch():
    img, other = _scene(seed=0), _scene(seed=7)
    raw = _jpeg_with_thumbnail(img, _thumb_jpeg(other))
    result = tn.thumbnail_mismatch(_media(raw, None))  # thumbnail parsed from the bytes
    assert result.score == pytest.approx(tn.SCORE_MISMATCH, abs=0.01)
    (f,) = result.findings
    assert f.artifact == "thumbnail_mismatch"
    assert isinstance(f.location, Whole)
    assert f.measurement.value < 0.5  # correlation of two unrelated pictures


def test_local_edit_after_thumbnail_is_found_where_it_was_made():
    img = _scene()
    thumb = _thumb_jpeg(img)                       # thumbnail written at "capture"
    edited = img.copy()
    edited[200:280, 300:400] = img[20:100, 20:120]  # then a patch pasted (4.6 % of the area)
    result = tn.thumbnail_mismatch(_media(_jpeg_with_thumbnail(edited, thumb), thumb))
    assert result.score > 0.85
    (f,) = result.findings
    assert isinstance(f.location, Box)
    assert f.location.iou(Box(300, 200, 100, 80)) > 0.5
    assert f.measurement.value > tn.F_MID
    assert result.heatmap is not None and result.heatmap.shape == img.shape[:2]
    assert result.heatmap[240, 350] > result.heatmap[50, 400]


def test_letterboxed_thumbnail_of_a_wide_image_matches():
    img = _scene(h=320, w=480)                     # 3:2 image in a 4:3 thumbnail
    result = tn.thumbnail_mismatch(_media(_jpeg_with_thumbnail(img, _thumb_jpeg(img)), None))
    assert result.extras["geometry"].startswith("letterbox")
    assert result.findings == []
    assert result.score < 0.45


def test_no_thumbnail_or_a_broken_one_is_not_applicable():
    img = _scene(h=96, w=128)
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG")
    assert tn.thumbnail_mismatch(_media(buf.getvalue(), None)).status == "not_applicable"
    broken = tn.thumbnail_mismatch(_media(buf.getvalue(), b"\xff\xd8\xff\xdb garbage"))
    assert broken.status == "not_applicable" and "decoded" in broken.reason
    blank = io.BytesIO()
    Image.new("RGB", (160, 120)).save(blank, "JPEG")
    assert tn.thumbnail_mismatch(_media(buf.getvalue(),
                                        blank.getvalue())).reason == "EXIF thumbnail is blank"


@pytest.mark.slow
@pytest.mark.corpus
def test_calibration_on_corpus(corpus_dir):
    """Re-measure the populations behind R_MID and F_MID (module docstring) on corpus photos."""
    paths = (sorted((corpus_dir / "noso_copymove" / "authentic").glob("*.png"))[:8]
             + sorted((corpus_dir / "ml72_ai_vs_real" / "authentic").glob("*.jpg"))[:16])
    if len(paths) < 8:
        pytest.skip("corpus photographs not found")
    rng = np.random.default_rng(1)
    consistent, edited = [], []
    for p in paths:
        im = Image.open(p).convert("RGB")
        im.thumbnail((1600, 1600))
        a = np.asarray(im)
        for filt in (Image.Resampling.BOX, Image.Resampling.BILINEAR,
                     Image.Resampling.BICUBIC, Image.Resampling.LANCZOS):
            t = Image.fromarray(a).resize((160, round(160 * a.shape[0] / a.shape[1])), filt)
            buf = io.BytesIO()
            t.save(buf, "JPEG", quality=75)
            c = tn.compare(a, np.asarray(Image.open(buf).convert("RGB")))
            consistent.append((c["r"], c["share"]))
        thumb = np.asarray(Image.open(io.BytesIO(_thumb_jpeg(a))).convert("RGB"))
        H, W = a.shape[:2]
        s = int(np.sqrt(0.02 * H * W))
        y0, x0 = rng.integers(0, H - s), rng.integers(0, W - s)
        e = a.copy()
        e[y0:y0 + s, x0:x0 + s] = 255 - e[y0:y0 + s, x0:x0 + s][..., ::-1] // 2
        edited.append(tn.compare(e, thumb)["share"])
    consistent = np.array(consistent)
    assert consistent[:, 0].min() > tn.R_MID + 0.03
    assert consistent[:, 1].max() < tn.F_MID / 2
    assert np.median(edited) > 2 * tn.F_MID


def test_registered_and_json_serialisable():
    import json as _json

    from detectors.registry import get

    spec = get("exif_thumbnail")
    assert spec.function is tn.thumbnail_mismatch
    assert spec.modalities[0] == "image" and spec.reference
    raw = _jpeg_with_thumbnail(_scene(), _thumb_jpeg(_scene(seed=7)))
    result = tn.thumbnail_mismatch(_media(raw, None))
    assert result.status == "ok" and result.findings
    _json.dumps(result.to_dict())


def test_pixels_handed_over_upright_are_compared_in_stored_orientation():
    stored = _scene()
    raw = _jpeg_with_thumbnail(stored, _thumb_jpeg(stored))
    upright = np.ascontiguousarray(np.rot90(stored, -1))  # EXIF orientation 6, as displayed
    media = ImageMedia(path="x.jpg", format="JPEG", pixels=upright, raw=raw,
                       exif={"Orientation": 6})
    result = tn.thumbnail_mismatch(media)
    assert result.extras["pixels"].startswith("upright")
    assert result.findings == []
    assert result.score < 0.45
