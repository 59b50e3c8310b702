"""Run every speed benchmark and print one table (``make bench``).

Usage::

    .venv/bin/python benchmarks/run_all.py            # small sizes (~10 min on 2 busy cores)
    .venv/bin/python benchmarks/run_all.py --full     # full sizes (~1 h: 1,000-file batch...)
    .venv/bin/python benchmarks/run_all.py --only images video
    .venv/bin/python benchmarks/run_all.py --markdown results.md

Small: images 1 and 4 MP + 4 corpus images; video 4 s 720p; audio 60 s + 4 corpus clips;
batch 100 files; GUI 3 cold starts + a 24-file scan. Full: images 1, 4, 12 MP + 20 corpus
images; video 10 s; audio 180 s + 20 clips; batch 1,000 files; GUI 5 starts + 60 files.

Each benchmark runs in this process, one after the other (never in parallel: the machine is
shared). Every row gives the wall-clock figure and, where the load of a shared machine
distorts wall time, the same figure computed from CPU time. These scripts are not tests and
never run in the test suite.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
for _p in (ROOT, HERE):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

BENCHES = ("images", "video", "audio", "batch", "gui")


def _run_one(name: str, full: bool) -> list[dict]:
    if name == "images":
        import bench_images

        return bench_images.run(full)
    if name == "video":
        import bench_video

        return bench_video.run(full)
    if name == "audio":
        import bench_audio

        return bench_audio.run(full)
    if name == "batch":
        import bench_batch

        return bench_batch.run(1000 if full else 100)
    if name == "gui":
        import bench_gui

        return bench_gui.run(full)
    raise ValueError(name)


def _fmt(v: object) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    return "" if v is None else str(v)


def table(rows: list[dict], *, markdown: bool = False) -> str:
    cols = ("benchmark", "metric", "value", "cpu", "goal", "ok", "note")
    head = ("bench", "metric", "wall", "from CPU time", "goal", "met", "note")
    cells = [[_fmt(r.get(c)) if c != "ok" else
              ("" if r.get("ok") is None else ("yes" if r["ok"] else "NO")) for c in cols]
             for r in rows]
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c) + " |" for c in cells]
        return "\n".join(lines)
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h)
              for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head), fmt.format(*("-" * w for w in widths))]
                     + [fmt.format(*c) for c in cells])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="full sizes (slow)")
    ap.add_argument("--only", nargs="+", choices=BENCHES, help="run only these")
    ap.add_argument("--markdown", metavar="FILE", help="also write the table as Markdown")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows: list[dict] = []
    t_all = time.perf_counter()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{platform.node()}: {os.cpu_count()} CPU(s), load average {load:.1f} at start; "
          f"{'full' if args.full else 'small'} sizes", flush=True)
    for name in args.only or BENCHES:
        print(f"\n=== {name} ===", flush=True)
        t = time.perf_counter()
        try:
            rows += _run_one(name, args.full)
        except Exception as exc:  # noqa: BLE001 -- one failing benchmark must not hide the rest
            traceback.print_exc()
            rows.append({"benchmark": name, "metric": "FAILED", "value": type(exc).__name__,
                         "goal": "", "ok": False, "note": str(exc)[:80]})
        print(f"({name}: {time.perf_counter() - t:.0f} s)", flush=True)
    load_end = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nall benchmarks: {time.perf_counter() - t_all:.0f} s; load average {load:.1f} at "
          f"start, {load_end:.1f} at end\n")
    print(table(rows))
    if args.markdown:
        Path(args.markdown).write_text(table(rows, markdown=True) + "\n", encoding="utf-8")
        print(f"\nwrote {args.markdown}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
