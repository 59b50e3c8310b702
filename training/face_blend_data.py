"""Face crops for the self-blended face experiment (training/try_face_blend.py).

Crops are taken exactly as the video pass takes its deep crops (``detectors.video._pass``):
grey (luma), 2x the Haar face box around its centre, downscaled so that the face is at most
128 px. The detector sees those crops at run time, so the training data must be the same.

Sources (real faces only; manipulated clips are used for evaluation, never for training):

- FF++ c23 originals ``youtube_004/519/634`` (three identities, 25 fps; every 2nd frame);
- the faces of real corpus photos (ML72 ``people_*``, :data:`EXTRA_PHOTOS`) that the image
  detectors' face finder accepts.

The manipulated FF++ clips are aligned frame for frame with their target original
(``Deepfakes_519_515`` with ``youtube_519`` ...), and their crops carry the target identity as
their group, so that a cross-validation fold that holds an identity out holds out both its
real and its manipulated clip.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


#: Other real photos of the corpus with a face that find_faces accepts. matplotlib's
#: grace_hopper.jpg is left out on purpose: it is the unseen face the experiment was checked on.
EXTRA_PHOTOS = ("pkg/pypi_scikit-image/astronaut.png", "noso_copymove/authentic/13.png")


@dataclass
class FaceCrop:
    source: str          # file name
    group: str           # identity group (cross-validation unit)
    label: int           # 0 real, 1 manipulated
    frame: int
    gray: np.ndarray     # float32 crop, 2x face box
    face: tuple[int, int, int, int]


def _largest_face(gray_small: np.ndarray):
    from detectors.video import _pass as P

    r = P._cascade().detectMultiScale(gray_small.astype(np.uint8), scaleFactor=1.2,
                                      minNeighbors=4, minSize=(24, 24))
    if len(r) == 0:
        return None
    return max((tuple(map(float, b)) for b in r), key=lambda b: b[2] * b[3])


def crop_face(full: np.ndarray, box) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """The video pass's deep crop of a grey frame (``_pass.deep_crop_geometry``)."""
    from detectors.video import _pass as P

    g, face, _ = P.deep_crop_geometry(full, box)
    return g, face


def _faces_in_gray(full: np.ndarray):
    import cv2

    from detectors.video import _pass as P

    H, W = full.shape
    s = min(1.0, P.DETECT_SIDE / float(max(H, W)))
    small = cv2.resize(full, (int(W * s), int(H * s)), interpolation=cv2.INTER_AREA) if s < 1 \
        else full
    b = _largest_face(small)
    if b is None:
        return None
    box = tuple(v / s for v in b)
    if box[2] < P.MIN_FACE_PX:
        return None
    return box


def video_crops(path: Path, group: str, label: int, *, every: int = 2,
                max_frames: int | None = None) -> list[FaceCrop]:
    import av

    out: list[FaceCrop] = []
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i % every:
                continue
            if max_frames is not None and i >= max_frames:
                break
            full = frame.to_ndarray(format="gray").astype(np.float32)
            box = _faces_in_gray(full)
            if box is None:
                continue
            g, face = crop_face(full, box)
            out.append(FaceCrop(path.name, group, label, i, g, face))
    return out


def photo_crops(path: Path, group: str) -> list[FaceCrop]:
    """Every face of a photo that the image detectors' face finder accepts (cascade weight
    and eye check: ``detectors.image.faces.find_faces``), at least MIN_FACE_PX wide."""
    from PIL import Image

    from detectors.image.faces import find_faces
    from detectors.video import _pass as P

    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    full = (0.299 * rgb[..., 0] + 0.587 * rgb[..., 1] + 0.114 * rgb[..., 2]).astype(np.float32)
    out = []
    for k, f in enumerate(find_faces(rgb)):
        box = (float(f.box.x), float(f.box.y), float(f.box.w), float(f.box.h))
        if box[2] < P.MIN_FACE_PX:
            continue
        g, face = crop_face(full, box)
        out.append(FaceCrop(path.name, group, 0, k, g, face))
    return out


def ffpp_group(name: str) -> str:
    """Identity group of an FF++ clip: the target video's id (``Deepfakes_519_515`` -> 519)."""
    stem = Path(name).stem
    parts = stem.split("_")
    return parts[1]


def collect(corpus: Path, *, every: int = 2, generated_faces: bool = False) -> list[FaceCrop]:
    """Face crops of the FF++ clips (both classes) and of the real photos; with
    ``generated_faces``, also the faces of the ML72 AI images, as sources to self-blend (a
    generated portrait carries no blend of its own, so it can serve as "pristine" for SBI;
    label 0, group ``photos``)."""
    crops: list[FaceCrop] = []
    ff = corpus / "ffpp_c23"
    for p in sorted((ff / "authentic").glob("*.mp4")):
        crops += video_crops(p, ffpp_group(p.name), 0, every=every)
    for p in sorted((ff / "manipulated").glob("*.mp4")):
        crops += video_crops(p, ffpp_group(p.name), 1, every=every)
    for p in sorted((corpus / "ml72_ai_vs_real" / "authentic").glob("people_*.jpg")):
        crops += photo_crops(p, "photos")
    for rel in EXTRA_PHOTOS:
        if (corpus / rel).is_file():
            crops += photo_crops(corpus / rel, "photos")
    if generated_faces:
        for p in sorted((corpus / "ml72_ai_vs_real" / "manipulated").glob("*.jpg")):
            crops += photo_crops(p, "photos")
    return crops


if __name__ == "__main__":
    import collections
    import time

    t = time.time()
    cs = collect(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT.parent / "shared" / "corpus"))
    print(f"{len(cs)} crops in {time.time() - t:.0f} s")
    print(collections.Counter((c.source, c.label) for c in cs))
    print("face sizes", np.percentile([c.face[2] for c in cs], [5, 50, 95]))
