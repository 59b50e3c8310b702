"""False alarms on long genuine recordings: how the per-segment maximum grows with length.

A recording longer than the audio budget is analysed in N segments and each detector's score is
its highest over them (``triage_app.segments``). On a genuine recording every segment is one
more chance for a false alarm. This script measures how much: it builds simulated long
recordings by drawing N bona fide items at random (with replacement) from ``triage eval --json``
output, takes each detector's highest score over the N draws as the pipeline does, fuses with
the shipped fusion (``resources/ensemble.json``) and counts the verdicts. It does the same
for recordings whose every segment, or one segment, is drawn from the manipulated items (a
cloned voice throughout, or a cloned passage), to show what each pooling rule costs. Two rules
are compared: "max" for every detector (the rule before 2026-12-07) and each detector's
declared ``segment_pooling`` (max for events, mean log-odds for the voice and channel).

Usage (from the repository root; the eval JSONs are made as in ``training/fit_ensemble.py``)::

    .venv/bin/python benchmarks/segment_false_alarms.py runs/eval_audio.json \
        runs/eval_speech.json --oof-spoof runs/spoof_report.json \
        --oof oversmoothing=runs/oversmoothing_report.json

``--oof-spoof`` replaces the corpus files' in-sample ``spoof_lfcc`` scores by out-of-fold ones
(as the fusion fit does): the shipped model has seen those files, so their in-sample scores
would understate its false alarms.

Independence between segments is the worst case: the segments of one genuine recording share
a speaker, a room and a microphone, so a detector that fires on one tends to fire on the
others, and the maximum grows more slowly than here. Each draw keeps one item's scores
together, so the correlation between detectors within a segment is kept.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def load_records(paths: list[str], oof_report: str = "",
                 oof_more: list[str] = ()) -> dict[str, list[dict[str, float]]]:
    """Each item's ``{detector: score}`` (status ok only), unique by path, by label."""
    items: list[dict] = []
    for p in paths:
        items.extend(json.loads(Path(p).read_text())["items"])
    if oof_report:
        from training.fit_ensemble import use_out_of_fold_spoof_scores

        use_out_of_fold_spoof_scores(items, json.loads(Path(oof_report).read_text()))
    for spec in oof_more:   # DETECTOR=REPORT.json, as fit_ensemble.py --oof
        from training.fit_ensemble import use_out_of_fold_spoof_scores

        name, _, path = spec.partition("=")
        use_out_of_fold_spoof_scores(items, json.loads(Path(path).read_text()), name)
    seen: set[str] = set()
    out: dict[str, list[dict[str, float]]] = {"authentic": [], "manipulated": []}
    for it in items:
        if it.get("label") not in out or it.get("error") or it["path"] in seen:
            continue
        seen.add(it["path"])
        status = it.get("status", {})
        out[it["label"]].append({k: float(v) for k, v in it.get("scores", {}).items()
                                 if v is not None and status.get(k, "ok") == "ok"})
    return out


def poolings(rule: str) -> dict[str, str]:
    """Each audio detector's segment pooling: as declared, or "max" for all (``rule``)."""
    from detectors.registry import detectors_for

    return {s.name: (s.segment_pooling if rule == "declared" else rule)
            for s in detectors_for("audio")}


def merged_scores(segments: list[dict[str, float]], pooling: dict[str, str]
                  ) -> dict[str, float]:
    """Each detector's score over the segments, merged by ``segments.merge_results``."""
    from triage_app.model import DetectorResult
    from triage_app.segments import merge_results

    merged = {}
    for name in sorted({k for seg in segments for k in seg}):
        parts = [(float(i), float(i + 1),
                  DetectorResult(name=name, version="sim", status="ok", score=seg[name])
                  if name in seg else
                  DetectorResult(name=name, version="sim", status="not_applicable",
                                 reason="did not apply to this draw"))
                 for i, seg in enumerate(segments)]
        r = merge_results(parts, pooling.get(name, "max"))
        if r.status == "ok":
            merged[name] = float(r.score)
    return merged


def verdict_of(scores: dict[str, float]) -> str:
    from detectors.ensemble import fuse
    from triage_app.model import DetectorResult

    return fuse([DetectorResult(name=k, version="sim", status="ok", score=v)
                 for k, v in scores.items()], "audio").label


def simulate(bona: list[dict[str, float]], spoof: list[dict[str, float]], n_segments: int,
             n_spoof: int, pooling: dict[str, str], trials: int,
             rng: np.random.Generator) -> dict[str, float]:
    """Share of each verdict over ``trials`` recordings of ``n_segments`` draws, ``n_spoof``
    of them from the manipulated items (placed at random), the rest bona fide."""
    labels = {"likely_manipulated": 0, "inconclusive": 0, "likely_authentic": 0}
    for _ in range(trials):
        segs = [bona[i] for i in rng.integers(0, len(bona), n_segments - n_spoof)]
        segs += [spoof[i] for i in rng.integers(0, len(spoof), n_spoof)]
        order = rng.permutation(len(segs))
        labels[verdict_of(merged_scores([segs[i] for i in order], pooling))] += 1
    return {k: v / trials for k, v in labels.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_json", nargs="+")
    ap.add_argument("--oof-spoof", default="", metavar="REPORT.json")
    ap.add_argument("--oof", action="append", default=[], metavar="DETECTOR=REPORT.json",
                    help="another trained detector's out-of-fold scores (fit_ensemble.py --oof)")
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--segments", default="1,2,3,5,7", help="recording lengths, in segments")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)
    records = load_records(args.eval_json, args.oof_spoof, args.oof)
    bona, spoof = records["authentic"], records["manipulated"]
    print(f"{len(bona)} bona fide and {len(spoof)} manipulated items; {args.trials} simulated "
          "recordings per row; shares of 'likely manipulated' (M) and 'likely authentic' (A)")
    print(f"{'segments':>8}  {'pooling':>8}  {'genuine: M':>10} {'A':>5}  "
          f"{'one fake segment: M':>19} {'A':>5}  {'all fake: M':>11} {'A':>5}")
    for n in (int(x) for x in args.segments.split(",")):
        for rule in ("max", "declared"):
            pool = poolings(rule)
            row = [simulate(bona, spoof, n, k, pool, args.trials,
                            np.random.default_rng(args.seed)) for k in (0, 1, n)]
            cells = "  ".join(f"{r['likely_manipulated']:>{w}.3f} {r['likely_authentic']:>5.3f}"
                              for r, w in zip(row, (10, 19, 11)))
            print(f"{n:>8}  {rule:>8}  {cells}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
