"""Tests for detectors/image/face_consistency.py: pasted, blurred and noised faces."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from detectors.image.face_consistency import face_consistency
from detectors.image.faces import find_faces
from triage_app.media import ImageMedia


def _media(rgb):
    return ImageMedia(path="x.png", format="PNG", pixels=rgb)


def test_no_face_not_applicable():
    rng = np.random.default_rng(0)
    img = cv2.GaussianBlur(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8), (0, 0), 2)
    res = face_consistency(_media(img))
    assert res.status == "not_applicable"
    assert res.reason == "no face found"


@pytest.fixture(scope="module")
def astronaut(corpus_dir):
    rgb = cv2.cvtColor(cv2.imread(str(corpus_dir / "pkg" / "pypi_scikit-image" /
                                       "astronaut.png")), cv2.COLOR_BGR2RGB)
    return rgb, find_faces(rgb)[0].box


def _face_alpha(shape, box):
    m = np.zeros(shape[:2], np.float32)
    cv2.ellipse(m, (box.x + box.w // 2, int(box.y + box.h * 0.55)),
                (int(box.w * 0.4), int(box.h * 0.5)), 0, 0, 360, 1, -1)
    return cv2.GaussianBlur(m, (0, 0), box.w * 0.03)[..., None]


@pytest.mark.corpus
def test_authentic_face_consistent(astronaut):
    rgb, _ = astronaut
    res = face_consistency(_media(rgb))
    assert res.status == "ok"
    assert res.score < 0.5
    assert not [f for f in res.findings if f.artifact in ("noise", "blurriness")]
    # real faces measure 1.3-1.8 (skin texture vs smoother surroundings): below one octave
    assert 0.5 < res.extras["faces"][0]["noise_ratio"] < 2.0


@pytest.mark.corpus
def test_blurred_pasted_face(astronaut):
    rgb, box = astronaut
    a = _face_alpha(rgb.shape, box)
    blurred = cv2.GaussianBlur(rgb, (0, 0), 2.5).astype(np.float32)
    forged = (rgb * (1 - a) + blurred * a).astype(np.uint8)
    res = face_consistency(_media(forged))
    assert res.score > 0.9
    arts = {f.artifact: f for f in res.findings}
    assert "blurriness" in arts and arts["blurriness"].region == "midface"
    assert arts["blurriness"].measurement.value < 0.1  # Laplacian variance ratio
    assert "blending_artifacts" in arts  # the blur stops at the blend boundary


@pytest.mark.corpus
def test_noised_pasted_face(astronaut):
    rgb, box = astronaut
    a = _face_alpha(rgb.shape, box)
    noisy = rgb + np.random.default_rng(1).normal(0, 8, rgb.shape)
    forged = np.clip(rgb * (1 - a) + noisy * a, 0, 255).astype(np.uint8)
    res = face_consistency(_media(forged))
    noise = [f for f in res.findings if f.artifact == "noise"]
    assert noise and noise[0].measurement.value > 2.0
    assert res.score > 0.8


@pytest.mark.corpus
def test_recoloured_face(astronaut):
    rgb, box = astronaut
    a = _face_alpha(rgb.shape, box)
    tint = rgb.astype(np.float32) * np.float32([1.15, 0.95, 0.85])
    forged = np.clip(rgb * (1 - a) + tint * a, 0, 255).astype(np.uint8)
    res = face_consistency(_media(forged))
    col = [f for f in res.findings if f.artifact == "color_inconsistency"]
    assert col and col[0].region == "cervical_region"


@pytest.mark.corpus
def test_sideways_phone_photo_is_judged_upright(astronaut):
    """A portrait photo stored sideways with EXIF orientation 6 (turn 90 degrees clockwise to
    view): the face is found on the picture as shown, and reported in stored pixels, on the
    same pixels as in the upright copy."""
    rgb, _ = astronaut
    stored = np.ascontiguousarray(np.rot90(rgb, k=1))  # what the viewer turns back clockwise
    plain = face_consistency(_media(stored))
    assert plain.status == "not_applicable"  # the cascade finds no sideways face
    res = face_consistency(ImageMedia(path="x.jpg", format="JPEG", pixels=stored,
                                      exif={"Orientation": 6}))
    ref = face_consistency(_media(rgb))
    assert res.status == "ok" and res.extras["exif_orientation"] == 6
    assert res.heatmap.shape == stored.shape[:2]
    assert res.score == pytest.approx(ref.score)
    b, r = res.extras["faces"][0]["box"], ref.extras["faces"][0]["box"]
    face_stored = stored[b["y"]:b["y"] + b["h"], b["x"]:b["x"] + b["w"]]
    face_upright = rgb[r["y"]:r["y"] + r["h"], r["x"]:r["x"] + r["w"]]
    assert np.array_equal(np.rot90(face_stored, k=-1), face_upright)
