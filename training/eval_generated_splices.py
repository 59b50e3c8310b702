"""Score generated splices with the whole pipeline, for the fusion fit and for `triage eval`-style
localization numbers on splices.

Reproduce::

    .venv/bin/python training/eval_generated_splices.py --corpus ../shared/corpus \\
        --out runs/eval_splices.json

The splices are those of ``benchmarks/eval_image_classical.py`` (a block of one authentic corpus
photo pasted into another: plain, feathered, with added noise, recompressed at q85, or rescaled
1.3x; each paired with its unspliced host). Output: the same item records as
``triage eval --json`` (``source`` = ``generated_splice``), plus pixel F1 per detector and fused.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def main(argv: list[str] | None = None) -> int:
    from eval_image_classical import splice_items  # type: ignore[import-not-found]

    from explainers.metrics import localization_scores
    from training.eval_records import eval_record, write_records
    from triage_app.pipeline import analyze

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default="../shared/corpus")
    ap.add_argument("--out", default="runs/eval_splices.json")
    ap.add_argument("--per-host", type=int, default=2)
    args = ap.parse_args(argv)
    items = []
    for i, (variant, host, label, media, mask) in enumerate(
            splice_items(Path(args.corpus), per_host=args.per_host)):
        a = analyze(media)
        rec = eval_record(a, path=f"generated/{variant}/{host}/{i}", manipulated=bool(label),
                          modality="image", source="generated_splice", manipulation=variant)
        if mask is not None:
            maps = {d.name: d.heatmap for d in a.detectors if d.status == "ok" and d.heatmap is not None}
            if a.fused_map is not None:
                maps["fused"] = a.fused_map
            rec["localization"] = {k: localization_scores(mask, v) for k, v in maps.items()
                                   if v.shape == mask.shape}
        items.append(rec)
        print(f"{i:3d} {variant:<18} {rec['label']:<12} p={a.verdict.probability:.2f}", flush=True)
    write_records(items, args.out)
    loc = [r["localization"] for r in items if r.get("localization")]
    for k in sorted({k for l in loc for k in l}):
        vals = [l[k]["f1_best"] for l in loc if k in l]
        print(f"pixel F1 (best threshold) {k:<24} {sum(vals) / len(vals):.3f}  n={len(vals)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
