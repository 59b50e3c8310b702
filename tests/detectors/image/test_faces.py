"""Tests for detectors/image/faces.py (Haar face finding and TriDF region boxes)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.image.faces import REGION_IDS, Face, ear_boxes, find_faces, tridf_regions
from triage_app.model import Box


def _read(path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def test_no_face_in_texture():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (0, 0), 3)
    assert find_faces(img) == []


def test_tiny_or_empty_image():
    assert find_faces(np.zeros((10, 10, 3), np.uint8)) == []


def test_tridf_regions_geometry():
    box = Box(100, 100, 200, 200)
    r = tridf_regions(box)
    assert set(r) == set(REGION_IDS)
    assert r["upper_head"].y < r["eyes_region"].y < r["nasal_oral_region"].y
    assert r["cervical_region"].y + r["cervical_region"].h > box.y + box.h  # below the chin
    assert r["ear"].x < box.x and r["ear"].x + r["ear"].w > box.x + box.w
    left, right = ear_boxes(box)
    assert left.x + left.w == box.x and right.x == box.x + box.w
    clipped = tridf_regions(Box(0, 0, 100, 100), image_shape=(120, 120, 3))
    for b in clipped.values():
        assert b.x >= 0 and b.y >= 0 and b.x + b.w <= 120 and b.y + b.h <= 120


@pytest.mark.corpus
def test_grace_hopper_face(corpus_dir):
    rgb = _read(corpus_dir / "pkg" / "pypi_matplotlib" / "grace_hopper.jpg")
    faces = find_faces(rgb)
    assert len(faces) == 1
    f = faces[0]
    assert isinstance(f, Face) and f.score > 0
    # the face is in the upper middle of the portrait and about 40% of its width
    cx, cy = f.box.x + f.box.w / 2, f.box.y + f.box.h / 2
    assert 0.3 * rgb.shape[1] < cx < 0.7 * rgb.shape[1]
    assert 0.15 * rgb.shape[0] < cy < 0.55 * rgb.shape[0]
    assert 0.25 < f.box.w / rgb.shape[1] < 0.6


@pytest.mark.corpus
def test_astronaut_face_and_eyes(corpus_dir):
    rgb = _read(corpus_dir / "pkg" / "pypi_scikit-image" / "astronaut.png")
    faces = find_faces(rgb)
    assert faces
    f = faces[0]
    assert len(f.eyes) == 2
    assert all(e.y < f.box.y + f.box.h * 0.6 for e in f.eyes)
    r = tridf_regions(f.box)
    ey = r["eyes_region"]
    for e in f.eyes:  # the detected eyes fall in the eyes_region box
        cx, cy = e.x + e.w / 2, e.y + e.h / 2
        assert ey.x <= cx <= ey.x + ey.w and ey.y <= cy <= ey.y + ey.h


@pytest.mark.corpus
def test_textures_are_not_faces(corpus_dir):
    """Regression: wood wedges and pin cards (NoSo 01, 02) once counted as faces, which made
    face-consistency findings and face claims on images with no face."""
    from triage_app.media import open_media

    for name in ("01.png", "02.png"):
        media = open_media(corpus_dir / "noso_copymove" / "authentic" / name)
        assert find_faces(media.pixels) == []
