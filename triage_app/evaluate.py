"""``triage eval``: TriDF-style metrics of the whole pipeline on a labelled manifest.

For each row of the manifest (DESIGN.md, "Labeled corpus manifest") the file is analysed by the
same pipeline as ``triage analyze``; then, per modality, and per source folder:

- Detection: ROC AUC of every detector's score and of the fused probability (over the items
  where the detector applied; ``n`` says how many), verdict accuracy (inconclusive counts as
  wrong) and the share of inconclusive verdicts;
- Calibration of the fused probability: Brier score, expected calibration error, reliability
  diagram data;
- Perception: for items with masks, pixel F1 at the best threshold per image (an oracle bound),
  at a fixed threshold (0.5), IoU and pixel AUC, per localizing detector and fused; the share of
  explanation claims whose box misses the mask;
- Hallucination (TriDF): Cover, CHAIR, Hal and F0.5 of our own explanations against the
  manifest's artifacts, over items with at least one true artifact;
- Speed: images, median seconds per megapixel (each detector and the whole analysis) and the
  ratio to decoding the same file; audio and video, the real-time factor (seconds of analysis
  per second of media) next to the decode-only real-time factor.

``--crop N`` evaluates images on a centred N x N crop (as decoded pixels, JPEG bytes dropped), so
that image size cannot separate classes (the ML72 caveat in the corpus's SOURCES.md).

``triage eval --claims CSV`` scores the validator instead: columns ``path,rationale,truth``;
a rationale counts as flagged when any of its claims is ``hallucinated``.
"""

from __future__ import annotations

import csv
import json
import math
import multiprocessing as mp
import statistics
import sys
import time
from collections import defaultdict
from dataclasses import replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np

REQUIRED = ("path", "label", "modality")
MODALITIES = ("image", "video", "audio")


class ManifestError(Exception):
    pass


def read_manifest(path: str | Path) -> list[dict[str, str]]:
    p = Path(path)
    try:
        with open(p, newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
            if missing:
                raise ManifestError(f"{p}: missing column(s) {', '.join(missing)}")
            rows = []
            for i, row in enumerate(reader, 2):
                if row["label"] not in ("authentic", "manipulated"):
                    raise ManifestError(f"{p} line {i}: label must be authentic or manipulated, "
                                        f"got {row['label']!r}")
                if row["modality"] not in MODALITIES:
                    raise ManifestError(f"{p} line {i}: modality must be image, video or audio, "
                                        f"got {row['modality']!r}")
                row = {k: (v or "") for k, v in row.items()}
                row["_abs"] = str((p.parent / row["path"]).resolve())
                row["_mask"] = str((p.parent / row["mask"]).resolve()) if row.get("mask") else ""
                row["_source"] = row["path"].split("/")[0] if "/" in row["path"] else "."
                if row["_source"] == "pkg" and row["path"].count("/") >= 2:
                    row["_source"] = "/".join(row["path"].split("/")[:2])
                rows.append(row)
    except OSError as exc:
        raise ManifestError(f"cannot read manifest {p}: {exc.strerror or exc}") from None
    return rows


def _crop_center(media: Any, size: int) -> Any:
    h, w = media.pixels.shape[:2]
    if h < size or w < size:
        return None
    y0, x0 = (h - size) // 2, (w - size) // 2
    return replace(media, pixels=np.ascontiguousarray(media.pixels[y0:y0 + size, x0:x0 + size]),
                   raw=b"", thumbnail=None)


def _decode_seconds(media: Any, open_seconds: float) -> float:
    """Time to decode the whole item: opening for images and audio, every frame for video."""
    if media.kind != "video":
        return open_seconds
    t = time.perf_counter()
    for _ in media.frames():
        pass
    return open_seconds + time.perf_counter() - t


def evaluate_row(row: dict[str, str], crop: int | None = None) -> dict[str, Any]:
    """Analyse one manifest row and measure it; runs in a worker process."""
    from explainers.metrics import claim_location_miss_rate, localization_scores
    from triage_app.media import MediaError, open_media
    from triage_app.pipeline import analyze

    out: dict[str, Any] = {"path": row["path"], "label": row["label"],
                           "modality": row["modality"], "source": row["_source"],
                           "manipulation": row.get("manipulation", ""),
                           "artifacts": [a for a in row.get("artifacts", "").split(";") if a]}
    t = time.perf_counter()
    try:
        media = open_media(row["_abs"])
    except MediaError as exc:
        out["error"] = str(exc)
        return out
    open_s = time.perf_counter() - t
    if media.kind != row["modality"]:
        out["error"] = (f"the manifest says {row['modality']}, but the file opens as "
                        f"{media.kind}")
        return out
    if crop and media.kind == "image":
        cropped = _crop_center(media, crop)
        if cropped is None:
            out["error"] = f"smaller than the {crop}x{crop} crop"
            return out
        media = cropped
    try:
        analysis = analyze(media)
    except MediaError as exc:
        out["error"] = str(exc)
        return out
    out["error"] = None
    out["probability"] = analysis.verdict.probability
    out["verdict"] = analysis.verdict.label
    out["scores"] = {d.name: d.score for d in analysis.detectors if d.status == "ok"}
    out["status"] = {d.name: d.status for d in analysis.detectors}
    out["runtime"] = {d.name: d.runtime for d in analysis.detectors}
    out["total_runtime"] = analysis.runtime
    claims = [c for c in analysis.claims if c.artifact]
    out["named"] = sorted({c.artifact for c in claims if c.status != "hallucinated"})
    out["claim_statuses"] = [c.status for c in analysis.claims]
    if media.kind == "image":
        out["megapixels"] = media.width * media.height / 1e6
        out["decode_seconds"] = open_s
    else:
        out["duration"] = media.duration
        out["decode_seconds"] = _decode_seconds(media, open_s)
    if row.get("_mask") and media.kind == "image" and not crop:
        from PIL import Image

        try:
            with Image.open(row["_mask"]) as im:
                mask = np.asarray(im.convert("L")) > 127
        except OSError as exc:  # this row's mask, not the whole evaluation
            out["error"] = f"cannot read its mask {row.get('mask')}: {exc}"
            return out
        loc: dict[str, Any] = {}
        maps = {d.name: d.heatmap for d in analysis.detectors
                if d.status == "ok" and d.heatmap is not None}
        if analysis.fused_map is not None:
            maps["fused"] = analysis.fused_map
        for name, hm in maps.items():
            if hm.shape == mask.shape:
                loc[name] = localization_scores(mask, hm)
        out["localization"] = loc
        out["claim_miss_rate"] = claim_location_miss_rate(claims, mask)
    return out


def _run(rows: list[dict[str, str]], *, workers: int, crop: int | None,
         progress: bool) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    args = [(r, crop) for r in rows]
    if workers <= 1:
        it: Iterable[dict[str, Any]] = (evaluate_row(*a) for a in args)
        pool = None
    else:
        pool = mp.get_context("spawn").Pool(workers)
        it = pool.imap_unordered(_star, args)
    try:
        for i, res in enumerate(it, 1):
            results.append(res)
            if progress:
                sys.stderr.write(f"\r{i}/{len(rows)} {res['path'][-50:]:<50}")
                sys.stderr.flush()
    finally:
        if pool is not None:
            pool.close()
            pool.join()
    if progress:
        sys.stderr.write("\n")
    order = {r["path"]: i for i, r in enumerate(rows)}
    return sorted(results, key=lambda r: order[r["path"]])


def _star(a: tuple[dict[str, str], int | None]) -> dict[str, Any]:
    return evaluate_row(*a)


def _nanmean(values: list[float]) -> float:
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    return float(np.mean(v)) if v else float("nan")


def _auc(truth: list[str], scores: list[float]) -> float:
    from explainers.metrics import roc_auc

    if len(set(truth)) < 2:
        return float("nan")
    return float(roc_auc(truth, scores))


def summarize(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Aggregate per modality (and per source) the metrics listed in the module docstring."""
    from explainers.metrics import (brier_score, detection_accuracy,
                                    expected_calibration_error, hallucination_scores,
                                    reliability_diagram)

    out: dict[str, Any] = {"n": len(results),
                           "errors": [{"path": r["path"], "error": r["error"]}
                                      for r in results if r.get("error")]}
    by_mod: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in results:
        if not r.get("error"):
            by_mod[r["modality"]].append(r)
    mods = {}
    for mod, rs in sorted(by_mod.items()):
        m: dict[str, Any] = {"n": len(rs)}
        detectors = sorted({d for r in rs for d in r["status"]})
        per_det = {}
        for d in detectors:
            sel = [r for r in rs if d in r["scores"]]
            per_det[d] = {"n": len(sel), "auc": _auc([r["label"] for r in sel],
                                                     [r["scores"][d] for r in sel])}
        withp = [r for r in rs if r["probability"] is not None]
        truth = [r["label"] for r in withp]
        probs = [r["probability"] for r in withp]
        m["detectors"] = per_det
        m["fused"] = {
            "n": len(withp), "auc": _auc(truth, probs),
            "accuracy": detection_accuracy([r["label"] for r in rs], [r["verdict"] for r in rs]),
            "inconclusive": float(np.mean([r["verdict"] == "inconclusive" for r in rs])),
            "brier": brier_score(truth, probs) if withp else float("nan"),
            "ece": expected_calibration_error(truth, probs) if withp else float("nan"),
            "reliability": reliability_diagram(truth, probs) if withp else [],
        }
        sources = {}
        for src in sorted({r["source"] for r in rs}):
            sr = [r for r in withp if r["source"] == src]
            sources[src] = {"n": len(sr), "n_manipulated": sum(r["label"] == "manipulated" for r in sr),
                            "fused_auc": _auc([r["label"] for r in sr], [r["probability"] for r in sr]),
                            "detector_auc": {d: _auc([r["label"] for r in sr if d in r["scores"]],
                                                     [r["scores"][d] for r in sr if d in r["scores"]])
                                             for d in detectors}}
        m["sources"] = sources
        loc_rows = [r for r in rs if r.get("localization")]
        if loc_rows:
            names = sorted({k for r in loc_rows for k in r["localization"]})
            m["localization"] = {
                k: {"n": sum(k in r["localization"] for r in loc_rows),
                    "f1_best": _nanmean([r["localization"][k]["f1_best"] for r in loc_rows
                                         if k in r["localization"]]),
                    "f1_fixed": _nanmean([r["localization"][k]["f1_fixed"] for r in loc_rows
                                          if k in r["localization"]]),
                    "iou_fixed": _nanmean([r["localization"][k]["iou_fixed"] for r in loc_rows
                                           if k in r["localization"]]),
                    "pixel_auc": _nanmean([r["localization"][k]["auc"] for r in loc_rows
                                           if k in r["localization"]])}
                for k in names}
            m["claim_miss_rate"] = _nanmean([r.get("claim_miss_rate") for r in loc_rows])
        m["hallucination"] = hallucination_scores(
            [r["named"] for r in rs], [r["artifacts"] for r in rs],
            [r["verdict"] == "likely_authentic" for r in rs])
        statuses = [s for r in rs for s in r["claim_statuses"]]
        m["own_claims"] = {s: statuses.count(s) for s in sorted(set(statuses))}
        if mod == "image":
            m["speed"] = {"median_s_per_mp": {d: statistics.median(
                [r["runtime"][d] / r["megapixels"] for r in rs if d in r["runtime"]])
                for d in detectors},
                "total_s_per_mp": statistics.median([r["total_runtime"] / r["megapixels"] for r in rs]),
                "decode_s_per_mp": statistics.median([r["decode_seconds"] / r["megapixels"] for r in rs])}
        else:
            dur = sum(r["duration"] for r in rs)
            m["speed"] = {"realtime_factor": {d: sum(r["runtime"].get(d, 0) for r in rs) / dur
                                              for d in detectors},
                          "total_realtime_factor": sum(r["total_runtime"] for r in rs) / dur,
                          "decode_realtime_factor": sum(r["decode_seconds"] for r in rs) / dur,
                          "seconds_of_media": dur}
        mods[mod] = m
    out["modalities"] = mods
    return out


def _f(x: Any, nd: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "  -  "
    return f"{x:.{nd}f}"


def print_summary(s: dict[str, Any]) -> None:
    print(f"items: {s['n']}  errors: {len(s['errors'])}")
    for e in s["errors"]:
        print(f"  error {e['path']}: {e['error']}")
    for mod, m in s["modalities"].items():
        f = m["fused"]
        print(f"\n== {mod} ({m['n']} items)")
        print(f"fused: AUC {_f(f['auc'])}  accuracy {_f(f['accuracy'])}  inconclusive "
              f"{_f(f['inconclusive'])}  Brier {_f(f['brier'])}  ECE {_f(f['ece'])}")
        speed = m["speed"]
        print(f"{'detector':<28} {'n':>4} {'AUC':>6}  {'speed':>10}")
        for d, v in m["detectors"].items():
            sp = speed.get("median_s_per_mp", speed.get("realtime_factor", {})).get(d)
            unit = "s/MP" if mod == "image" else "xRT"
            print(f"{d:<28} {v['n']:>4} {_f(v['auc']):>6}  {_f(sp, 4):>8} {unit}")
        if mod == "image":
            print(f"whole analysis {_f(speed['total_s_per_mp'])} s/MP; decoding "
                  f"{_f(speed['decode_s_per_mp'], 4)} s/MP")
        else:
            print(f"whole analysis {_f(speed['total_realtime_factor'], 4)} s per s of media; "
                  f"decoding {_f(speed['decode_realtime_factor'], 4)}")
        print("per source: " + "; ".join(
            f"{src} n={v['n']} ({v['n_manipulated']} manip.) AUC {_f(v['fused_auc'])}"
            for src, v in m["sources"].items()))
        if m.get("localization"):
            print(f"{'localization':<28} {'n':>4} {'F1best':>7} {'F1@.5':>7} {'IoU':>6} {'pxAUC':>6}")
            for k, v in m["localization"].items():
                print(f"{k:<28} {v['n']:>4} {_f(v['f1_best']):>7} {_f(v['f1_fixed']):>7} "
                      f"{_f(v['iou_fixed']):>6} {_f(v['pixel_auc']):>6}")
            print(f"claims whose box misses the mask: {_f(m.get('claim_miss_rate'))}")
        h = m["hallucination"]
        print(f"TriDF hallucination (n={h['n']}): Cover {_f(h['cover'])} CHAIR {_f(h['chair'])} "
              f"Hal {_f(h['hal'])} F0.5 {_f(h['f05'])}; own claims {m['own_claims']}")


def eval_claims(csv_path: str, *, as_json: bool) -> int:
    from explainers.metrics import validator_scores
    from triage_app.media import MediaError
    from triage_app.pipeline import check_rationale

    base = Path(csv_path).parent
    truth, flagged = [], []
    with open(csv_path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not {"path", "rationale", "truth"} <= set(reader.fieldnames or []):
            raise ManifestError(f"{csv_path}: needs columns path,rationale,truth")
        rows = list(enumerate(reader, 2))
    for i, row in rows:
        if (row.get("truth") or "").strip().lower() not in ("true", "false"):
            raise ManifestError(f"{csv_path} line {i}: truth must be true or false, got "
                                f"{row.get('truth')!r}")
    errors = 0
    for i, row in rows:
        path = row["path"] if Path(row["path"]).is_absolute() else str(base / row["path"])
        try:
            claims = check_rationale(path, row["rationale"])
        except MediaError as exc:
            # an unreadable item is an error of the set, not a rationale left unflagged
            errors += 1
            print(f"triage: line {i}: {row['path']}: {exc}", file=sys.stderr)
            if as_json:
                print(json.dumps({"path": row["path"], "rationale": row["rationale"],
                                  "truth": row["truth"], "flagged": None, "statuses": [],
                                  "error": str(exc)}))
            continue
        flag = any(c.status == "hallucinated" for c in claims)
        truth.append(row["truth"].strip().lower())
        flagged.append(flag)
        if as_json:
            print(json.dumps({"path": row["path"], "rationale": row["rationale"],
                              "truth": row["truth"], "flagged": flag,
                              "statuses": [c.status for c in claims], "error": None}))
    scores = validator_scores(truth, flagged)
    if as_json:
        print(json.dumps(_json_safe({"validator": scores, "errors": errors})))
    else:
        print(f"false rationales flagged hallucinated: {_f(scores['false_flagged'])} "
              f"({scores['false_flagged_count']}/{scores['n_false']})")
        print(f"true rationales wrongly flagged:       {_f(scores['true_flagged'])} "
              f"({scores['true_flagged_count']}/{scores['n_true']})")
        if errors:
            print(f"{errors} row(s) could not be read and are not counted")
    return 1 if errors else 0


def _json_safe(obj: Any) -> Any:
    """``obj`` with NaN and infinities as null: strict JSON readers reject ``NaN``."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return obj


def main(args: Any) -> int:
    """Entry point of ``triage eval`` (arguments parsed by ``triage_app.cli``)."""
    if args.claims:
        try:
            return eval_claims(args.claims, as_json=args.json)
        except ManifestError as exc:
            print(f"triage: {exc}", file=sys.stderr)
            return 2
    if not args.manifest:
        print("triage: eval needs MANIFEST.csv or --claims CSV", file=sys.stderr)
        return 2
    try:
        rows = read_manifest(args.manifest)
    except ManifestError as exc:
        print(f"triage: {exc}", file=sys.stderr)
        return 2
    if args.modality:
        rows = [r for r in rows if r["modality"] == args.modality]
    if getattr(args, "source", None):
        rows = [r for r in rows if r["_source"].startswith(args.source)]
    if args.limit:
        rows = rows[: args.limit]
    results = _run(rows, workers=args.workers, crop=getattr(args, "crop", None),
                   progress=not args.json and sys.stderr.isatty())
    summary = summarize(results)
    if args.json:
        print(json.dumps(_json_safe({"summary": summary, "items": results}), default=str,
                         allow_nan=False))
    else:
        print_summary(summary)
    return 1 if summary["errors"] else 0
