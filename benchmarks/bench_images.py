"""Image ensemble speed: seconds per megapixel, per detector and in total, next to decode time.

Usage::

    .venv/bin/python benchmarks/bench_images.py            # 1 and 4 MP, 4 corpus images
    .venv/bin/python benchmarks/bench_images.py --full     # 1, 4 and 12 MP, 20 corpus images
    .venv/bin/python benchmarks/bench_images.py --sizes 1 4 12 --corpus 10

Photos are generated on the spot (``triage_app.demo.make_scene`` + ``camera_pipeline``, saved
as JPEG quality 92 with camera EXIF), so the figures do not depend on any file that is not in
the repository; when ``../shared/corpus`` exists, a deterministic sample of its images is
measured too. Each file: ``open_media`` (decode) is timed, then ``pipeline.analyze`` (all
image detectors, fusion, explanation and validation). Wall time and process CPU time are both
reported: on a shared, loaded machine wall time is inflated by waiting for a core, CPU time is
not (but CPU time counts every thread, so a multithreaded step can show CPU > wall).

The image detectors of one analysis run side by side on threads (``triage_app/threads.py``),
so the per-detector wall times overlap and add up to more than the total; per-detector CPU is
each detector's own thread's CPU time.

Goal: total analysis <= 0.5 s per megapixel.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"
GOAL_S_PER_MP = 0.5


def clock() -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    return time.perf_counter(), time.process_time()


def make_photo(megapixels: float, seed: int, out_dir: Path) -> Path:
    """A generated camera JPEG of about ``megapixels`` (4:3)."""
    from triage_app.demo import _camera_exif, _save_jpeg, camera_pipeline, make_scene

    w = int(round((megapixels * 1e6 * 4 / 3) ** 0.5 / 16) * 16)
    h = int(round(w * 3 / 4 / 16) * 16)
    rgb = camera_pipeline(make_scene(seed, h, w), seed)
    path = out_dir / f"photo_{megapixels:g}mp_{w}x{h}.jpg"
    _save_jpeg(rgb, path, 92, _camera_exif())
    return path


def corpus_images(n: int) -> list[Path]:
    """Every k-th image of the corpus manifest (sorted by path), ``n`` of them at most."""
    manifest = CORPUS / "manifest.csv"
    if n <= 0 or not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = sorted((r for r in csv.DictReader(fh) if r.get("modality") == "image"),
                      key=lambda r: r["path"])
    if not rows:
        return []
    step = max(1, len(rows) // n)
    return [CORPUS / r["path"] for r in rows[::step][:n]]


def measure(path: Path) -> dict:
    """Decode and analyse one file; wall and CPU seconds per step and per detector."""
    from triage_app import pipeline
    from triage_app.media import open_media

    det_cpu: dict[str, float] = {}
    explain: dict[str, float] = {}
    original = pipeline.run_detector
    original_explain = pipeline.explain_and_validate

    def timed(spec, media):  # the pipeline's own guard, with a CPU stopwatch around it
        # thread_time: the detectors of one analysis run side by side on threads
        # (triage_app/threads.py), so the process's CPU clock would count the others too
        c = time.thread_time()
        try:
            return original(spec, media)
        finally:
            det_cpu[spec.name] = time.thread_time() - c

    def timed_explain(analysis, media):
        w, c = time.perf_counter(), time.thread_time()
        try:
            return original_explain(analysis, media)
        finally:
            explain["wall"] = time.perf_counter() - w
            explain["cpu"] = time.thread_time() - c

    w0, c0 = clock()
    media = open_media(path)
    w1, c1 = clock()
    pipeline.run_detector = timed
    pipeline.explain_and_validate = timed_explain
    try:
        analysis = pipeline.analyze(media)
    finally:
        pipeline.run_detector = original
        pipeline.explain_and_validate = original_explain
    w2, c2 = clock()
    mp = media.width * media.height / 1e6
    det_wall = {d.name: float(d.runtime or 0.0) for d in analysis.detectors}
    return {"path": str(path), "mp": mp, "decode_wall": w1 - w0, "decode_cpu": c1 - c0,
            "analyze_wall": w2 - w1, "analyze_cpu": c2 - c1, "detectors": det_wall,
            "detectors_cpu": det_cpu,
            "explain_wall": explain.get("wall", 0.0), "explain_cpu": explain.get("cpu", 0.0),
            "statuses": {d.name: d.status for d in analysis.detectors}}


def warm_up(tmp: Path) -> None:
    """Import every detector and its heavy modules (torch...) once, outside the timing."""
    from triage_app.media import open_media
    from triage_app.pipeline import analyze

    analyze(open_media(make_photo(0.3, 99, tmp)))


def summarize(results: list[dict], label: str) -> list[dict]:
    """Rows of the summary table for a group of measured files."""
    if not results:
        return []
    mp = sum(r["mp"] for r in results)
    per_det: dict[str, float] = defaultdict(float)
    per_det_cpu: dict[str, float] = defaultdict(float)
    for r in results:
        for name, sec in r["detectors"].items():
            per_det[name] += sec
        for name, sec in r["detectors_cpu"].items():
            per_det_cpu[name] += sec
    decode = sum(r["decode_wall"] for r in results)
    total = sum(r["analyze_wall"] for r in results)
    total_cpu = sum(r["analyze_cpu"] for r in results)
    rows = [{"group": label, "what": f"detector {n}", "s_per_mp": s / mp,
             "cpu_s_per_mp": per_det_cpu[n] / mp,
             "x_decode": s / decode if decode else float("nan")}
            for n, s in sorted(per_det.items(), key=lambda kv: -per_det_cpu[kv[0]])]
    rows.append({"group": label, "what": "fusion+explain+validate",
                 "s_per_mp": sum(r["explain_wall"] for r in results) / mp,
                 "cpu_s_per_mp": sum(r["explain_cpu"] for r in results) / mp,
                 "x_decode": sum(r["explain_wall"] for r in results) / decode})
    rows.append({"group": label, "what": "decode (open_media)", "s_per_mp": decode / mp,
                 "x_decode": 1.0, "cpu_s_per_mp": sum(r["decode_cpu"] for r in results) / mp})
    rows.append({"group": label, "what": "TOTAL analyze", "s_per_mp": total / mp,
                 "x_decode": total / decode if decode else float("nan"),
                 "cpu_s_per_mp": total_cpu / mp})
    return rows


def print_rows(rows: list[dict]) -> None:
    print(f"{'group':<16} {'step':<36} {'wall s/MP':>10} {'CPU s/MP':>9} {'x decode':>9}")
    print("(x decode: wall time of the step / wall time of open_media on the same files)")
    for r in rows:
        cpu = r.get("cpu_s_per_mp")
        print(f"{r['group']:<16} {r['what']:<36} {r['s_per_mp']:>10.3f} "
              f"{'' if cpu is None else f'{cpu:.3f}':>9} {r['x_decode']:>9.1f}")


def run(full: bool = False, sizes: list[float] | None = None, corpus: int | None = None,
        verbose: bool = True) -> list[dict]:
    """Measure; return summary rows for run_all (``metric``, ``value``, ``goal``, ``ok``)."""
    sizes = sizes or ([1, 4, 12] if full else [1, 4])
    corpus_n = corpus if corpus is not None else (20 if full else 4)
    with tempfile.TemporaryDirectory(prefix="bench_images_") as td:
        tmp = Path(td)
        warm_up(tmp)
        generated = []
        for i, mp in enumerate(sizes):
            path = make_photo(mp, 1 + i, tmp)
            res = measure(path)
            generated.append(res)
            if verbose:
                print(f"  {path.name}: {res['mp']:.2f} MP decode {res['decode_wall']:.2f} s, "
                      f"analyze {res['analyze_wall']:.2f} s wall / {res['analyze_cpu']:.2f} s CPU",
                      flush=True)
        from_corpus = []
        for path in corpus_images(corpus_n):
            try:
                res = measure(path)
            except Exception as exc:  # noqa: BLE001 -- a bad corpus file is reported, not fatal
                print(f"  {path}: skipped ({type(exc).__name__}: {exc})")
                continue
            from_corpus.append(res)
            if verbose:
                print(f"  {path.relative_to(CORPUS)}: {res['mp']:.2f} MP analyze "
                      f"{res['analyze_wall']:.2f} s wall / {res['analyze_cpu']:.2f} s CPU",
                      flush=True)
    rows = summarize(generated, "generated") + summarize(from_corpus, "corpus")
    if verbose:
        print()
        print_rows(rows)
    out = []
    for per_size in generated:
        spm = per_size["analyze_wall"] / per_size["mp"]
        out.append({"benchmark": "images", "metric": f"s/MP, {per_size['mp']:.1f} MP JPEG (wall)",
                    "value": round(spm, 3), "cpu": round(per_size["analyze_cpu"] / per_size["mp"], 3),
                    "goal": f"<= {GOAL_S_PER_MP}", "ok": spm <= GOAL_S_PER_MP})
    for r in rows:
        if r["what"] == "TOTAL analyze":
            out.append({"benchmark": "images", "metric": f"s/MP, {r['group']} (wall)",
                        "value": round(r["s_per_mp"], 3), "cpu": round(r["cpu_s_per_mp"], 3),
                        "goal": f"<= {GOAL_S_PER_MP}", "ok": r["s_per_mp"] <= GOAL_S_PER_MP,
                        "note": f"{r['x_decode']:.0f}x decode time"})
    slowest = [r for r in rows if r["group"] == "generated" and r["what"].startswith("detector")]
    if slowest:
        out.append({"benchmark": "images", "metric": f"slowest: {slowest[0]['what']} s/MP",
                    "value": round(slowest[0]["s_per_mp"], 3),
                    "cpu": round(slowest[0]["cpu_s_per_mp"], 3), "goal": "", "ok": None})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="1, 4 and 12 MP; 20 corpus images")
    ap.add_argument("--sizes", type=float, nargs="+", help="megapixels of generated photos")
    ap.add_argument("--corpus", type=int, help="corpus images to sample (0: none)")
    args = ap.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    rows = run(args.full, args.sizes, args.corpus)
    print()
    for r in rows:
        cpu = f"CPU {r['cpu']}" if r.get("cpu") is not None else ""
        print(f"{r['metric']:<44} {r['value']!s:>8} {cpu:>11}  goal {r['goal']}  "
              f"{'' if r['ok'] is None else ('OK' if r['ok'] else 'MISSED')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
