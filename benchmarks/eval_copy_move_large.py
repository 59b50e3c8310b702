"""Copy-move in large photos: clones pasted into the development corpus's real photos.

The NoSo forgeries are 1024 px at most, the copy-move detector's working scale, so they never
show what happens to a clone made on a camera-sized picture. This script takes every ML72 real
photo of at least ``--min-side`` px (1800 by default: 37 photos of 1800-4024 px), copies its
most textured of 40 random windows (an eighth of the side) to a random place at least a window
away, and writes the forgery as PNG and as JPEG q90 and q75 (Pillow); the untouched photo is
written as PNG too (a JPEG decoded and saved losslessly: its own JPEG traces, no clone). Each
file is opened with the product's loader and given to the ``copy_move`` detector alone.

Printed per kind of file: clones scoring above 0.5, the mean pixel F1 of the heatmap at the best
threshold (both ends of the clone are the truth), the authentic photos above 0.5, and the
median and maximum seconds per image.

Usage::

    .venv/bin/python benchmarks/eval_copy_move_large.py [--corpus ../shared/corpus]
        [--min-side 1800] [--limit N] [--jobs 2]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.eval_copy_move_channels import _best_f1  # noqa: E402


def _forge(src: Path, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(photo, forgery, truth mask of both ends)."""
    import cv2
    from PIL import Image
    a = np.asarray(Image.open(src).convert("RGB"))
    h, w = a.shape[:2]
    ph, pw = h // 8, w // 8
    g = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float32)
    rng = np.random.default_rng(seed)
    tries = [(int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))) for _ in range(40)]
    y0, x0 = max(tries, key=lambda t: float(
        cv2.Laplacian(g[t[0]:t[0] + ph, t[1]:t[1] + pw], cv2.CV_32F).var()))
    while True:
        y1, x1 = int(rng.integers(0, h - ph)), int(rng.integers(0, w - pw))
        if abs(y1 - y0) > ph or abs(x1 - x0) > pw:
            break
    forged = a.copy()
    forged[y1:y1 + ph, x1:x1 + pw] = a[y0:y0 + ph, x0:x0 + pw]
    truth = np.zeros((h, w), bool)
    truth[y0:y0 + ph, x0:x0 + pw] = truth[y1:y1 + ph, x1:x1 + pw] = True
    return a, forged, truth


def _one(job: tuple[str, int, str]) -> list[dict]:
    from PIL import Image

    from detectors.image.copy_move import copy_move
    from triage_app.media import open_media
    src, seed, tmp = job
    photo, forged, truth = _forge(Path(src), seed)
    stem = Path(tmp) / Path(src).stem
    files = [("authentic png", photo, f"{stem}_authentic.png", None),
             ("clone png", forged, f"{stem}_clone.png", None),
             ("clone jpeg90", forged, f"{stem}_clone90.jpg", 90),
             ("clone jpeg75", forged, f"{stem}_clone75.jpg", 75)]
    out = []
    for kind, pixels, path, quality in files:
        if quality is None:
            Image.fromarray(pixels).save(path, compress_level=1)
        else:
            Image.fromarray(pixels).save(path, "JPEG", quality=quality)
        media = open_media(path)
        t0 = time.perf_counter()
        res = copy_move(media)
        dt = time.perf_counter() - t0
        heat = res.heatmap if res.heatmap is not None else np.zeros(truth.shape, np.float32)
        out.append({"kind": kind, "src": src, "score": float(res.score or 0.0), "seconds": dt,
                    "f1": _best_f1(heat, truth) if kind.startswith("clone") else None,
                    "side": int(max(photo.shape[:2]))})
        Path(path).unlink()
    return out


def main(argv: list[str] | None = None) -> int:
    from PIL import Image
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--min-side", type=int, default=1800)
    ap.add_argument("--limit", type=int, default=0, help="at most this many photos (0: all)")
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    folder = Path(args.corpus) / "ml72_ai_vs_real" / "authentic"
    if not folder.is_dir():
        print(f"no ML72 real photos under {args.corpus}", file=sys.stderr)
        return 2
    photos = [p for p in sorted(folder.iterdir())
              if p.suffix.lower() in (".jpg", ".jpeg", ".png")
              and min(Image.open(p).size) >= args.min_side]
    if args.limit:
        photos = photos[:args.limit]
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs) as pool:
        rows = [r for rs in pool.map(_one, [(str(p), i, tmp) for i, p in enumerate(photos)])
                for r in rs]
    sides = [r["side"] for r in rows]
    print(f"{len(photos)} photos of {min(sides)}-{max(sides)} px")
    print(f"{'file':<14} {'above 0.5':>10} {'F1':>6} {'s median/max':>13}")
    for kind in ("clone png", "clone jpeg90", "clone jpeg75", "authentic png"):
        rs = [r for r in rows if r["kind"] == kind]
        f1 = [r["f1"] for r in rs if r["f1"] is not None]
        secs = [r["seconds"] for r in rs]
        print(f"{kind:<14} {sum(r['score'] > 0.5 for r in rs):>4} / {len(rs):<4} "
              f"{(f'{np.mean(f1):.3f}' if f1 else '-'):>6} "
              f"{np.median(secs):>6.1f}/{max(secs):.1f}")
    for r in rows:
        if r["kind"] == "authentic png" and r["score"] > 0.5:
            print(f"authentic above 0.5: {Path(r['src']).name}: {r['score']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
