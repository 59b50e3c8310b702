"""Run the claim validator on a labelled claims CSV and print how well it flags false rationales.

The CSV (``training/build_claims_set.py`` writes one) has ``path, rationale, truth`` and an
optional ``category``; paths are relative to the CSV's folder (as for ``triage eval``). A rationale is *flagged* when the
validator calls any of its claims hallucinated. Prints:

- false rationales flagged (target >= 95%)
- true rationales wrongly flagged (target <= 10%)
- the same per category, and the rows that went wrong.

Usage::

    python benchmarks/eval_validator.py [--claims CLAIMS.csv [--build]]
        [--corpus ../shared/corpus] [--json]

Without ``--claims`` the set is built afresh (``training/build_claims_set.py``) in a temporary
folder; with ``--claims`` and ``--build`` it is (re)built at that path.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(claims_csv: Path) -> dict:
    from explainers.metrics import validator_scores
    from explainers.validator import load_media, validate_text

    with open(claims_csv, newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    cache: dict[str, object] = {}
    truth, flagged, cats, details = [], [], [], []
    t0 = time.time()
    for r in rows:
        path = r["path"]
        if path not in cache:
            cache.clear()  # one item at a time: keep memory small
            cache[path] = load_media(claims_csv.parent / path)
        claims = validate_text(r["rationale"], cache[path])
        is_flag = any(c.status == "hallucinated" for c in claims)
        truth.append(r["truth"])
        flagged.append(is_flag)
        cats.append(r.get("category", ""))
        details.append({"path": path, "rationale": r["rationale"], "truth": r["truth"],
                        "flagged": is_flag,
                        "statuses": [c.status for c in claims],
                        "reasons": [c.reason for c in claims]})
    scores = validator_scores(truth, flagged)
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c, f in zip(cats, flagged):
        per_cat[c][0] += int(f)
        per_cat[c][1] += 1
    scores["per_category_flagged"] = {k: f"{v[0]}/{v[1]}" for k, v in sorted(per_cat.items())}
    scores["seconds"] = round(time.time() - t0, 1)
    scores["wrong"] = [d for d in details
                       if (d["truth"] == "true") == d["flagged"]]
    return scores


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="validator benchmark on a claims CSV")
    ap.add_argument("--claims", type=Path, default=None)
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--build", action="store_true", help="(re)build the claims CSV first")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        claims = args.claims or Path(tmp) / "claims_set.csv"
        if args.build or not claims.is_file():
            from training.build_claims_set import main as build_main

            rc = build_main(["--corpus", str(args.corpus), "--out", str(claims)])
            if rc:
                return rc
        s = run(claims)
    if args.json:
        print(json.dumps(s, indent=1, default=str))
        return 0
    print(f"false rationales flagged hallucinated: {s['false_flagged']:.1%} "
          f"({s['false_flagged_count']}/{s['n_false']})  target >= 95%")
    print(f"true rationales wrongly flagged:       {s['true_flagged']:.1%} "
          f"({s['true_flagged_count']}/{s['n_true']})  target <= 10%")
    print("flagged per category:", ", ".join(f"{k} {v}" for k, v in s["per_category_flagged"].items()))
    print(f"time: {s['seconds']} s")
    for d in s["wrong"]:
        print(f"  WRONG truth={d['truth']} flagged={d['flagged']} {d['path']}: {d['rationale']}")
        for st, rs in zip(d["statuses"], d["reasons"]):
            print(f"      {st}: {rs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
