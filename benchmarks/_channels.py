"""What the delivery-channel benchmarks (``eval_{image,video,audio}_channels.py``) share.

Each benchmark only says how to write one corpus file through one channel (``convert(src,
channel, out_dir) -> path``, a module-level function or a ``functools.partial`` of one, so
that worker processes can receive it); this module runs every (file, channel) pair through
the product's loader and pipeline, and prints the same table for all three.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]

Convert = Callable[[Path, str, Path], Path]


def analyse(job: tuple[Convert, str, int, str, str]) -> dict:
    """Write ``src`` through ``channel`` and analyse it; a failure is returned, not raised."""
    from triage_app.media import MediaError, open_media
    from triage_app.pipeline import analyze

    convert, src, label, channel, tmp = job
    row = {"path": src, "label": label, "channel": channel}
    try:
        a = analyze(open_media(convert(Path(src), channel, Path(tmp))), explain=False)
    except (MediaError, OSError, ValueError) as exc:
        row["error"] = str(exc)
        return row
    row["probability"] = a.verdict.probability
    row["verdict"] = a.verdict.label
    row["scores"] = {r.name: r.score for r in a.detectors if r.status == "ok"}
    return row


def corpus_rows(corpus: Path, modality: str) -> list[tuple[str, int]]:
    """(path, 1 if manipulated) of every manifest row of ``modality``."""
    return [(str(corpus / r["path"]), int(r["label"] == "manipulated"))
            for r in csv.DictReader(open(corpus / "manifest.csv"))
            if r["modality"] == modality]


def parser(doc: str, channels: tuple[str, ...], *, jobs: int = 2) -> argparse.ArgumentParser:
    """The options every channel benchmark has: --corpus, --channels, --jobs, --json."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--channels", default=",".join(channels))
    ap.add_argument("--jobs", type=int, default=jobs, help=f"worker processes (default {jobs})")
    ap.add_argument("--json", type=Path, help="write every item's scores here")
    return ap


def run(args: argparse.Namespace, rows: list[tuple[str, int]], convert: Convert,
        what: str) -> int:
    """Analyse ``rows`` through ``args.channels``, print the table (and write ``args.json``)."""
    if not (args.corpus / "manifest.csv").is_file():
        print(f"no manifest.csv under {args.corpus}", file=sys.stderr)
        return 2
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(convert, p, y, ch, tmp) for ch in channels for p, y in rows]
        if args.jobs > 1:
            with ProcessPoolExecutor(max_workers=args.jobs) as pool:
                results = list(pool.map(analyse, jobs, chunksize=2))
        else:
            results = [analyse(j) for j in jobs]
    print(f"{len(rows)} {what} x {len(channels)} channels, "
          f"{time.perf_counter() - start:.0f} s wall")
    print(summarise(results, channels))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


def summarise(results: list[dict], channels: list[str]) -> str:
    """Per channel: AUC, mean probability per class, false alarms, hits, errors; and each
    detector's mean score on the authentic items with the share where it applied."""
    from explainers.metrics import roc_auc

    lines = [f"{'channel':<12} {'n':>4} {'AUC':>6} {'p auth':>7} {'p manip':>8} "
             f"{'FA auth':>8} {'hit manip':>9} {'errors':>6}"]
    per_detector: dict[str, dict[str, tuple[float, float]]] = {}
    for ch in channels:
        rs = [r for r in results if r["channel"] == ch]
        ok = [r for r in rs if "error" not in r and r.get("probability") is not None]
        y = np.array([r["label"] for r in ok])
        p = np.array([r["probability"] for r in ok], float)
        auc = roc_auc(y, p) if 0 < y.sum() < len(y) else float("nan")
        auth, man = [r for r in ok if r["label"] == 0], [r for r in ok if r["label"] == 1]
        fa = np.mean([r["verdict"] == "likely_manipulated" for r in auth]) if auth else np.nan
        hit = np.mean([r["verdict"] == "likely_manipulated" for r in man]) if man else np.nan
        lines.append(f"{ch:<12} {len(rs):>4} {auc:>6.3f} {p[y == 0].mean():>7.3f} "
                     f"{p[y == 1].mean():>8.3f} {fa:>8.3f} {hit:>9.3f} "
                     f"{len(rs) - len(ok):>6}")
        for n in sorted({n for r in ok for n in r["scores"]}):
            s = [r["scores"][n] for r in auth if n in r["scores"]]
            per_detector.setdefault(n, {})[ch] = (float(np.mean(s)) if s else np.nan,
                                                  len(s) / max(1, len(auth)))
    lines.append("")
    lines.append("mean score on authentic items (share applicable) per detector:")
    lines.append(f"{'detector':<24}" + "".join(f"{ch:>17}" for ch in channels))
    for n, by in sorted(per_detector.items()):
        cells = "".join(f"{by[ch][0]:>9.3f} ({by[ch][1]:.2f})" if ch in by else f"{'-':>17}"
                        for ch in channels)
        lines.append(f"{n:<24}{cells}")
    return "\n".join(lines)
