"""Find faces with OpenCV's Haar cascades, and split a face box into TriDF regions.

Small and dependency-free (the cascades ship with opencv-python in ``cv2.data.haarcascades``):
frontal faces with ``haarcascade_frontalface_default.xml`` (Viola & Jones, 2001; Lienhart &
Maydt, 2002), eyes inside each face with ``haarcascade_eye.xml``. Used by the image detectors
and reusable for video frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from triage_app.model import Box

#: Faces are searched on a copy whose longer side is at most this (speed); boxes are mapped
#: back to full resolution.
MAX_SIDE = 640

REGION_IDS = ("upper_head", "eyes_region", "midface", "nasal_oral_region", "cervical_region",
              "ear")


@dataclass(frozen=True)
class Face:
    """A detected face: its box, the detector's confidence weight, and eye boxes found inside.

    ``score`` is the Haar cascade's final-stage level weight (larger is more face-like; about
    0 at the acceptance threshold, typically 2-8 for clear frontal faces); it is not a
    probability.
    """

    box: Box
    score: float
    eyes: tuple[Box, ...] = field(default_factory=tuple)


@lru_cache(maxsize=4)
def _cascade(name: str) -> cv2.CascadeClassifier:
    path = Path(cv2.data.haarcascades) / name
    cc = cv2.CascadeClassifier(str(path))
    if cc.empty():
        raise RuntimeError(f"OpenCV Haar cascade not found or unreadable: {path}")
    return cc


def _gray(rgb: np.ndarray) -> np.ndarray:
    if rgb.ndim == 2:
        g = rgb
    else:
        g = cv2.cvtColor(np.ascontiguousarray(rgb[..., :3]), cv2.COLOR_RGB2GRAY)
    return cv2.equalizeHist(g.astype(np.uint8))


def find_faces(rgb: np.ndarray, *, min_face: int = 48, max_faces: int = 10,
               min_score: float = 3.5, eye_rescue_score: float = 2.0,
               with_eyes: bool = True) -> list[Face]:
    """Frontal faces in an image, largest first.

    Parameters
    ----------
    rgb : (H, W, 3) or (H, W) uint8 array
    min_face : int, keyword-only
        Smallest face side to report, in full-resolution pixels.
    max_faces : int, keyword-only
    min_score : float, keyword-only
        Minimum cascade level weight (drops weak detections on texture). Measured on the
        development corpus: real faces weigh 4-11, detections on wood, carpet, food and fur
        0.9-3.1.
    eye_rescue_score : float, keyword-only
        A weaker detection (down to this weight) still counts when an eye is found inside it.
    with_eyes : bool, keyword-only
        Also look for eyes in the upper part of each face.

    Returns
    -------
    list of Face
        Boxes in full-resolution pixel coordinates; empty when there is no face.

    References
    ----------
    .. [1] P. Viola, M. Jones, "Rapid object detection using a boosted cascade of simple
       features", CVPR 2001.
    .. [2] R. Lienhart, J. Maydt, "An extended set of Haar-like features for rapid object
       detection", ICIP 2002.
    """
    if rgb.ndim not in (2, 3) or min(rgb.shape[:2]) < 24:
        return []
    gray = _gray(rgb)
    h, w = gray.shape
    s = min(1.0, MAX_SIDE / max(h, w))
    small = cv2.resize(gray, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA) \
        if s < 1.0 else gray
    min_px = max(24, int(min_face * s), int(0.06 * min(small.shape)))
    rects, _levels, weights = _cascade("haarcascade_frontalface_default.xml").detectMultiScale3(
        small, scaleFactor=1.15, minNeighbors=5, minSize=(min_px, min_px),
        outputRejectLevels=True)
    faces: list[Face] = []
    for (x, y, fw, fh), wt in zip(np.asarray(rects).reshape(-1, 4),
                                  np.asarray(weights).reshape(-1)):
        if float(wt) < min(min_score, eye_rescue_score if with_eyes else min_score):
            continue
        box = Box(int(round(x / s)), int(round(y / s)), int(round(fw / s)), int(round(fh / s)))
        eyes: tuple[Box, ...] = ()
        if with_eyes:
            eyes = tuple(_find_eyes(gray, box))
        if float(wt) < min_score and not eyes:
            continue
        faces.append(Face(box=box, score=float(wt), eyes=eyes))
    faces.sort(key=lambda f: -f.box.area)
    return faces[:max_faces]


def _find_eyes(gray: np.ndarray, box: Box) -> list[Box]:
    """Eyes in the upper 60% of a face box (full-resolution coordinates), at most two."""
    x0, y0 = box.x, box.y
    roi = gray[y0:y0 + int(box.h * 0.6), x0:x0 + box.w]
    if roi.size == 0:
        return []
    s = min(1.0, 200.0 / max(roi.shape))
    small = cv2.resize(roi, None, fx=s, fy=s, interpolation=cv2.INTER_AREA) if s < 1 else roi
    m = max(8, int(box.w * s * 0.12))
    rects = _cascade("haarcascade_eye.xml").detectMultiScale(
        small, scaleFactor=1.1, minNeighbors=5, minSize=(m, m))
    eyes = [Box(x0 + int(ex / s), y0 + int(ey / s), int(ew / s), int(eh / s))
            for ex, ey, ew, eh in np.asarray(rects).reshape(-1, 4)]
    eyes.sort(key=lambda b: -b.area)
    return sorted(eyes[:2], key=lambda b: b.x)


def tridf_regions(face_box: Box, image_shape: tuple[int, ...] | None = None) -> dict[str, Box]:
    """TriDF face regions as boxes, from the geometry of a frontal face box.

    The Haar face box spans roughly from the eyebrows to the chin and between the cheeks.
    Proportions (fractions of the box width ``w`` and height ``h``):

    - ``upper_head``: forehead and hair, from 0.5 h above the box to 0.2 h inside it;
    - ``eyes_region``: 0.1-0.9 w, 0.15-0.5 h;
    - ``midface``: cheeks and nose, 0.05-0.95 w, 0.4-0.75 h;
    - ``nasal_oral_region``: nose and mouth, 0.25-0.75 w, 0.45-1.0 h;
    - ``cervical_region``: jaw line and neck, 0.1-0.9 w, 0.85-1.5 h;
    - ``ear``: the band at ear height on both sides, -0.2-1.2 w, 0.3-0.75 h (includes the
      cheeks; :func:`ear_boxes` gives the two sides alone).

    Parameters
    ----------
    face_box : Box
    image_shape : tuple, optional
        ``(H, W, ...)``: clip the boxes to the image.

    Returns
    -------
    dict
        Region id -> Box, for the ids in :data:`REGION_IDS`.
    """
    x, y, w, h = face_box.x, face_box.y, face_box.w, face_box.h

    def b(fx0: float, fy0: float, fx1: float, fy1: float) -> Box:
        return Box(int(round(x + fx0 * w)), int(round(y + fy0 * h)),
                   int(round((fx1 - fx0) * w)), int(round((fy1 - fy0) * h)))

    regions = {
        "upper_head": b(0.0, -0.5, 1.0, 0.2),
        "eyes_region": b(0.1, 0.15, 0.9, 0.5),
        "midface": b(0.05, 0.4, 0.95, 0.75),
        "nasal_oral_region": b(0.25, 0.45, 0.75, 1.0),
        "cervical_region": b(0.1, 0.85, 0.9, 1.5),
        "ear": b(-0.2, 0.3, 1.2, 0.75),
    }
    if image_shape is not None:
        hh, ww = image_shape[0], image_shape[1]
        regions = {k: v.clip(ww, hh) for k, v in regions.items()}
    return regions


def ear_boxes(face_box: Box) -> tuple[Box, Box]:
    """The left and right ear boxes (image left first): 0.2 w wide beside the face box."""
    x, y, w, h = face_box.x, face_box.y, face_box.w, face_box.h
    top = int(round(y + 0.3 * h))
    height = int(round(0.45 * h))
    ew = int(round(0.2 * w))
    return Box(x - ew, top, ew, height), Box(x + w, top, ew, height)
