"""Copy-move detection when the forgery was saved as JPEG after the copy was made.

Real forgeries reach an analyst as JPEGs: the forger saves one, or a platform re-encodes it.
This script writes every NoSo image of the development corpus (18 clones with masks, 13
originals) and the ML72 real photos once per channel (the ML72 files are JPEGs already: the
``original`` channel is the file as it is), opens each with the product's loader and runs the
``copy_move`` detector alone.

Channels: ``original``, ``jpeg95``, ``jpeg90``, ``jpeg75`` (Pillow, 4:2:0).

Printed per channel: clones scoring above 0.5 (of 18), the mean pixel F1 of the clones'
heatmaps at the best threshold per image (NoSo masks mark both ends), the share of clones for
which the JPEG pass verified a pair, and the authentic images (NoSo originals, ML72 reals)
above 0.5 and their largest score, with the median and maximum seconds per image.

Usage::

    .venv/bin/python benchmarks/eval_copy_move_channels.py [--corpus ../shared/corpus]
        [--channels original,jpeg75] [--jobs 2]
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

CHANNELS = ("original", "jpeg95", "jpeg90", "jpeg75")


def _best_f1(heat: np.ndarray, truth: np.ndarray) -> float:
    best = 0.0
    for t in np.unique(heat):
        if t > 0:
            p = heat >= t
            best = max(best, 2 * float((p & truth).sum()) / float(p.sum() + truth.sum()))
    return best


def _one(job: tuple[str, str | None, str, str]) -> dict:
    from PIL import Image

    from detectors.image.copy_move import copy_move
    from triage_app.media import open_media

    src, mask, channel, tmp = job
    path = Path(src)
    if channel != "original":
        path = Path(tmp) / f"{path.parent.name}_{path.stem}_{channel}.jpg"
        Image.open(src).convert("RGB").save(path, "JPEG", quality=int(channel[4:]))
    t0 = time.perf_counter()
    res = copy_move(open_media(path))
    row = {"src": src, "channel": channel, "score": float(res.score or 0.0),
           "seconds": time.perf_counter() - t0, "clone": mask is not None,
           "jpeg_pass": any(p["method"] == "jpeg_requant" for p in res.extras.get("pairs", []))}
    if mask is not None:
        truth = np.asarray(Image.open(mask).convert("L")) > 127
        heat = res.heatmap if res.heatmap is not None else np.zeros(truth.shape, np.float32)
        row["f1"] = _best_f1(heat, truth)
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--channels", default=",".join(CHANNELS))
    ap.add_argument("--jobs", type=int, default=2)
    args = ap.parse_args(argv)
    noso = args.corpus / "noso_copymove"
    if not noso.is_dir():
        print(f"no NoSo folder under {args.corpus}", file=sys.stderr)
        return 2
    items: list[tuple[str, str | None]] = [
        (str(p), str(noso / "mask" / f"{p.stem}_gt.png"))
        for p in sorted((noso / "manipulated").glob("*.png"))]
    items += [(str(p), None) for p in sorted((noso / "authentic").glob("*.png"))]
    items += [(str(p), None)
              for p in sorted((args.corpus / "ml72_ai_vs_real" / "authentic").glob("*.jpg"))]
    channels = [c for c in args.channels.split(",") if c]
    unknown = set(channels) - set(CHANNELS)
    if unknown:
        print(f"unknown channel(s) {sorted(unknown)}; known: {', '.join(CHANNELS)}",
              file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp, ProcessPoolExecutor(args.jobs) as pool:
        rows = list(pool.map(_one, [(s, m, c, tmp) for c in channels for s, m in items]))
    print(f"{'channel':<10} {'clones>0.5':>10} {'F1':>6} {'JPEG pass':>9} "
          f"{'authentic>0.5':>13} {'max auth':>8} {'s median/max':>13}")
    for c in channels:
        rc = [r for r in rows if r["channel"] == c]
        cl = [r for r in rc if r["clone"]]
        au = [r for r in rc if not r["clone"]]
        secs = [r["seconds"] for r in rc]
        print(f"{c:<10} {sum(r['score'] > 0.5 for r in cl):>4} / {len(cl):<3} "
              f"{np.mean([r['f1'] for r in cl]):>6.3f} "
              f"{np.mean([r['jpeg_pass'] for r in cl]):>9.0%} "
              f"{sum(r['score'] > 0.5 for r in au):>6} / {len(au):<4} "
              f"{max(r['score'] for r in au):>8.3f} "
              f"{np.median(secs):>6.1f}/{max(secs):.1f}")
    alarms = [r for r in rows if not r["clone"] and r["score"] > 0.5]
    for r in alarms:
        print(f"authentic above 0.5: {Path(r['src']).name} ({r['channel']}): {r['score']:.3f}"
              f"{' (JPEG pass)' if r['jpeg_pass'] else ''}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
