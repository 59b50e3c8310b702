"""Build a labelled claims set (CSV: path, rationale, truth, category) from the development corpus.

Paths are written relative to the CSV's own folder (as ``triage eval`` reads them). Every row is
one rationale about one corpus item, with ``truth`` ``true`` (what it says is
there) or ``false`` (it names something that is not there). The truth comes from the corpus'
ground truth and from what the items are, never from the validator:

- true: "cloned region" at the bounding box of each connected component of a NoSo copy-move
  mask (the masks mark both the source and the pasted copy, so each component has a twin);
- false, untouched regions: the same claim at a box of the same size in an area of the forgery
  the mask does not touch, and at the mask components' boxes in the authentic original (where
  the content exists only once);
- false, local inconsistencies on authentic photos: noise, blur, seam, colour, blocking,
  resampling and banding claims at random boxes (1/8..1/4 of each side) of unedited photos
  (NoSo originals, scikit-image samples, ML72 nature photos);
- false, absent content: eyes, lips, jaw and face-only artifacts on face-free NoSo photos;
  audio artifacts on still images; times past the end of audio and video items; frequency bands
  above the Nyquist frequency; flicker or A/V desynchronisation claims on face-free or silent
  clips; an EXIF Software tag on PNGs that carry no EXIF;
- false, synthesis on a human voice: "monotone", "flat intonation", "metronomic" claims on the
  authentic speech recordings of at least 3 s (a person's own voice has no synthesis
  prosody, even when it is a level one).

Usage: ``python training/build_claims_set.py --out claims.csv [--corpus ../shared/corpus]``
(the CSV names corpus files, whose licences forbid redistribution: keep it out of the repo).
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# NoSo originals that show no person (12 and 13 show people): safe "no face" items.
NOSO_NO_FACE = [f"{i:02d}" for i in range(1, 12)]

_CLONE_TEMPLATES = [
    "A cloned region is visible at x={x}, y={y}, {w}x{h}.",
    "The area at ({x}, {y}, {w}, {h}) is copy-pasted from elsewhere in the image.",
    "There is a duplicated region at x={x}, y={y}, {w}x{h}.",
    "The region ({x}, {y}, {w}, {h}) appears twice: it was copy-moved.",
]
_FACE_FALSE = [
    "The eyes blink unnaturally.",
    "There is a halo around the jaw.",
    "The lips show blending artifacts around the mouth.",
    "The facial expression looks frozen and unnatural.",
    "Color inconsistency on the cheeks.",
]
_LOCAL_TEMPLATES = [
    "The noise pattern differs at ({x}, {y}, {w}, {h}).",
    "The area at x={x}, y={y}, {w}x{h} is blurry.",
    "There is a visible seam around ({x}, {y}, {w}, {h}).",
    "Color inconsistency at x={x}, y={y}, {w}x{h}.",
    "The area ({x}, {y}, {w}, {h}) is blocky.",
    "The region at x={x}, y={y}, {w}x{h} was resampled.",
    "Banding is visible at ({x}, {y}, {w}, {h}).",
]
_AUTHENTIC_PHOTOS = ([f"noso_copymove/authentic/{i:02d}.png" for i in range(1, 14)]
                     + [f"pkg/pypi_scikit-image/{n}" for n in ("brick.png", "coffee.png",
                                                                "camera.png", "grass.png",
                                                                "rocket.jpg")]
                     + [f"ml72_ai_vs_real/authentic/nature_{i}.jpg" for i in range(1, 6)])
_AUDIO_ON_IMAGE = [
    "The voice sounds robotic and monotone.",
    "There is audible hiss above 4 kHz.",
    "Clipping between 0:01 and 0:02.",
    "A mains hum at 50 Hz runs through the recording.",
]

#: Unnatural-prosody claims, false on a person's own recorded voice.
_PROSODY_FALSE = [
    "The voice sounds robotic and monotone.",
    "The intonation is flat, as synthetic speech is.",
    "The speech rhythm is metronomic and the pitch never moves.",
]


def _read_manifest(corpus: Path) -> list[dict[str, str]]:
    with open(corpus / "manifest.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _components(mask_path: Path, min_area: int = 400) -> list[tuple[int, int, int, int]]:
    from PIL import Image
    from scipy import ndimage

    m = np.asarray(Image.open(mask_path).convert("L")) > 127
    lab, n = ndimage.label(m)
    out = []
    for i, sl in enumerate(ndimage.find_objects(lab), start=1):
        if sl is None:
            continue
        area = int((lab[sl] == i).sum())
        if area < min_area:
            continue
        y0, y1, x0, x1 = sl[0].start, sl[0].stop, sl[1].start, sl[1].stop
        out.append((x0, y0, x1 - x0, y1 - y0))
    return out


def _free_box(mask_path: Path, w: int, h: int, rng: random.Random) -> tuple[int, int, int, int] | None:
    from PIL import Image
    from scipy import ndimage

    m = np.asarray(Image.open(mask_path).convert("L")) > 127
    m = ndimage.binary_dilation(m, iterations=16)
    H, W = m.shape
    for _ in range(400):
        x = rng.randrange(0, max(1, W - w))
        y = rng.randrange(0, max(1, H - h))
        if not m[y:y + h, x:x + w].any():
            return (x, y, w, h)
    return None


def _duration(path: Path) -> tuple[float, int | None]:
    if path.suffix.lower() in (".wav", ".flac"):
        import soundfile as sf

        info = sf.info(str(path))
        return float(info.duration), int(info.samplerate)
    import av

    with av.open(str(path)) as c:
        return float(c.duration / 1e6), None


def build(corpus: Path, *, seed: int = 0) -> list[dict[str, str]]:
    """The rows of the claims set (see the module docstring)."""
    rng = random.Random(seed)
    rows: list[dict[str, str]] = []

    def add(path: str, text: str, truth: bool, category: str) -> None:
        rows.append({"path": path, "rationale": text, "truth": "true" if truth else "false",
                     "category": category})

    items = _read_manifest(corpus)
    k = 0
    for it in items:
        if it["manipulation"] != "copy-move" or not it["mask"]:
            continue
        mask = corpus / it["mask"]
        stem = Path(it["path"]).name.split("_")[0]
        original = f"noso_copymove/authentic/{stem}.png"
        for (x, y, w, h) in _components(mask):
            t = _CLONE_TEMPLATES[k % len(_CLONE_TEMPLATES)]
            k += 1
            add(it["path"], t.format(x=x, y=y, w=w, h=h), True, "clone_true")
            free = _free_box(mask, w, h, rng)
            if free:
                add(it["path"], _CLONE_TEMPLATES[k % len(_CLONE_TEMPLATES)].format(
                    x=free[0], y=free[1], w=free[2], h=free[3]), False, "clone_untouched")
            if (corpus / original).is_file():
                add(original, t.format(x=x, y=y, w=w, h=h), False, "clone_on_authentic")
    for i, stem in enumerate(NOSO_NO_FACE):
        p = f"noso_copymove/authentic/{stem}.png"
        if (corpus / p).is_file():
            add(p, _FACE_FALSE[i % len(_FACE_FALSE)], False, "face_absent")
            add(p, _AUDIO_ON_IMAGE[i % len(_AUDIO_ON_IMAGE)], False, "audio_on_image")
            if i % 3 == 0:
                add(p, "The EXIF Software tag reads 'Adobe Photoshop'.", False, "metadata_absent")
    from PIL import Image

    for p in _AUTHENTIC_PHOTOS:
        if not (corpus / p).is_file():
            continue
        with Image.open(corpus / p) as im:
            W, H = im.size
        for t in _LOCAL_TEMPLATES:
            w = rng.randint(W // 8, W // 4)
            h = rng.randint(H // 8, H // 4)
            x = rng.randint(0, W - w)
            y = rng.randint(0, H - h)
            add(p, t.format(x=x, y=y, w=w, h=h), False, "local_on_authentic")
    for it in items:
        if it["modality"] == "audio":
            p = corpus / it["path"]
            dur, sr = _duration(p)
            t0 = dur + 5 + rng.random() * 20
            add(it["path"], f"There is an audio splice at {int(t0 // 60)}:{t0 % 60:04.1f}.", False,
                "time_past_end")
            if sr and sr < 60000:
                add(it["path"], "The voice is metallic and band-limited above 30 kHz.", False,
                    "band_above_nyquist")
            if it["label"] == "authentic" and dur >= 3.0:
                add(it["path"], _PROSODY_FALSE[len(rows) % len(_PROSODY_FALSE)], False,
                    "prosody_on_human")
        elif it["modality"] == "video":
            p = corpus / it["path"]
            dur, _ = _duration(p)
            t0 = dur + 10
            add(it["path"], f"The face flickers between {int(t0 // 60)}:{t0 % 60:04.1f} and "
                f"{int((t0 + 2) // 60)}:{(t0 + 2) % 60:04.1f}.", False, "time_past_end")
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        print(f"no manifest.csv under {args.corpus}", file=sys.stderr)
        return 1
    rows = build(args.corpus, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    import os

    for r in rows:  # corpus-relative -> relative to the CSV's folder
        r["path"] = os.path.relpath((args.corpus / r["path"]).resolve(), args.out.parent.resolve())
    with open(args.out, "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["path", "rationale", "truth", "category"])
        w.writeheader()
        w.writerows(rows)
    n_true = sum(r["truth"] == "true" for r in rows)
    print(f"wrote {len(rows)} rationales ({n_true} true, {len(rows) - n_true} false) to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
