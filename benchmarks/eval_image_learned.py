"""Quality and speed of the copy-move, generator-fingerprint and face-consistency detectors.

Run from the repository root (needs ../shared/corpus)::

    .venv/bin/python benchmarks/eval_image_learned.py [--corpus ../shared/corpus] [--quick]

Prints:

- copy-move: pixel F1 at the best threshold per image on the 18 NoSo forgeries (masks mark
  source and target), its mean, and the scores of the 13 NoSo originals;
- generator fingerprint: the leave-one-category-out AUC on 256x256 crops and per image (runs
  ``training/train_spectral.py`` into a temporary file; the shipped weights are not touched);
- seconds per megapixel of each detector over a few images of each kind.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "training"))

from detectors.image.copy_move import copy_move, copy_move_map  # noqa: E402
from detectors.image.face_consistency import face_consistency  # noqa: E402
from detectors.image.generator_fingerprint import generator_fingerprint  # noqa: E402
from triage_app.media import ImageMedia  # noqa: E402


def read_rgb(path: Path) -> np.ndarray:
    return cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)


def media(path: Path) -> ImageMedia:
    return ImageMedia(path=str(path), format=path.suffix.lstrip(".").upper(),
                      pixels=read_rgb(path))


def best_f1(heat: np.ndarray, truth: np.ndarray) -> float:
    best = 0.0
    for t in np.unique(heat):
        if t <= 0:
            continue
        p = heat >= t
        best = max(best, 2.0 * (p & truth).sum() / (p.sum() + truth.sum()))
    return float(best)


def eval_noso(corpus: Path) -> None:
    noso = corpus / "noso_copymove"
    f1s = []
    print("== copy_move on NoSo (pixel F1 at best threshold, masks = source + target)")
    for p in sorted((noso / "manipulated").glob("*.png")):
        truth = cv2.imread(str(noso / "mask" / f"{p.stem}_gt.png"), 0) > 127
        heat, pairs = copy_move_map(read_rgb(p))
        f1s.append(best_f1(heat, truth))
        print(f"  {p.stem:10s} F1 {f1s[-1]:.3f}  clones {len(pairs)}")
    print(f"  mean F1 over {len(f1s)} forgeries: {np.mean(f1s):.3f}")
    scores = [copy_move(media(p)).score for p in sorted((noso / "authentic").glob("*.png"))]
    print(f"  originals: max score {max(scores):.3f}, mean {np.mean(scores):.3f} "
          f"({len(scores)} images)")


def eval_spectral(corpus: Path) -> None:
    import train_spectral

    print("== generator_fingerprint: leave-one-category-out CV (training/train_spectral.py)")
    with tempfile.TemporaryDirectory() as tmp:
        train_spectral.main(["--corpus", str(corpus), "--out", str(Path(tmp) / "m.safetensors")])


def eval_speed(corpus: Path, quick: bool) -> None:
    print("== speed (s per megapixel; wall time on this machine, shared CPU)")
    imgs = sorted((corpus / "noso_copymove" / "manipulated").glob("*.png"))[:3]
    imgs += [corpus / "ml72_ai_vs_real" / "authentic" / "people_1.jpg",
             corpus / "ml72_ai_vs_real" / "manipulated" / "gan_1.jpg",
             corpus / "pkg" / "pypi_matplotlib" / "grace_hopper.jpg",
             corpus / "pkg" / "pypi_scikit-image" / "astronaut.png"]
    if quick:
        imgs = imgs[:1] + imgs[-2:]
    loaded = [(p, media(p)) for p in imgs if p.exists()]
    for name, fn in (("copy_move", copy_move), ("generator_fingerprint", generator_fingerprint),
                     ("face_consistency", face_consistency)):
        fn(loaded[-1][1])  # warm-up (model load, cascades)
        tot_t = tot_mp = 0.0
        per = []
        for p, m in loaded:
            t0 = time.perf_counter()
            fn(m)
            dt = time.perf_counter() - t0
            mp = m.width * m.height / 1e6
            tot_t += dt
            tot_mp += mp
            per.append(f"{p.stem} {dt / mp:.2f}")
        print(f"  {name:22s} {tot_t / tot_mp:.3f} s/MP overall  ({'; '.join(per)})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--quick", action="store_true", help="speed only, on 3 images")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 1
    if not args.quick:
        eval_noso(args.corpus)
        eval_spectral(args.corpus)
    eval_speed(args.corpus, args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
