"""Fit the per-modality fusion weights (``resources/ensemble.json``) from ``triage eval`` output.

Reproduce, image fusion::

    .venv/bin/triage eval ../shared/corpus/manifest.csv --modality image --json --workers 2 \
        > runs/eval_image.json
    .venv/bin/python training/eval_generated_splices.py --corpus ../shared/corpus \
        --out runs/eval_splices.json
    .venv/bin/python training/fit_ensemble.py runs/eval_image.json runs/eval_splices.json \
        --modality image --fixed exif_thumbnail=0.5 --fixed jpeg_quant_tables=0.3 \
        --fixed metadata=0.5 --out resources/ensemble.json

and audio fusion (the spoof trainer's ``--report`` gives the out-of-fold scores)::

    .venv/bin/python -m training.train_audio_spoof --corpus ../shared/corpus \
        --report runs/spoof_report.json
    .venv/bin/triage eval ../shared/corpus/manifest.csv --modality audio --json --workers 2 \
        > runs/eval_audio.json
    .venv/bin/python training/eval_generated_speech.py --corpus ../shared/corpus \
        --out runs/eval_speech.json
    .venv/bin/python -m training.train_oversmoothing --corpus ../shared/corpus \
        --report runs/oversmoothing_report.json
    .venv/bin/python training/fit_ensemble.py runs/eval_audio.json runs/eval_speech.json \
        --modality audio --fixed metadata=0.5 --fixed pops=0.3 --oof-spoof runs/spoof_report.json \
        --oof oversmoothing=runs/oversmoothing_report.json --out resources/ensemble.json

and video fusion (self-blended faces made from the corpus's authentic face clips; the face
model's trainer gives out-of-identity scores for the corpus clips and the fold models that
score the generated pieces of each person)::

    .venv/bin/python -m training.train_face_blend --corpus ../shared/corpus \
        --save-folds runs/face_blend_folds --report runs/face_blend_report.json
    .venv/bin/triage eval ../shared/corpus/manifest.csv --modality video --json --workers 2 \
        > runs/eval_video.json
    .venv/bin/python training/eval_generated_video.py --corpus ../shared/corpus \
        --face-blend-oof runs/face_blend_report.json --out runs/eval_video_generated.json
    .venv/bin/python training/fit_ensemble.py runs/eval_video.json \
        runs/eval_video_generated.json --modality video --fixed metadata=0.5 \
        --fixed video_av_sync=0.5 --fixed video_face_blend=0 --inherit audio \
        --oof video_face_blend=runs/face_blend_report.json --out resources/ensemble.json

video_face_blend (the self-blended face model) is in the video fusion at weight 0, shown
but not fused. Scored out of identity, it separates the generated self-blends from their
re-encoded originals (AUC 0.846 over the 49 items), but those are the very kind of edit it was
trained to see; on the 7 FF++ clips, the only real deepfakes here, its out-of-identity clip
AUC is 0.667. Fitted on real media only (``--real-only video_face_blend``: its scores on the
generated records left out), it gets weight 0.31 and the held-out AUC moves from 0.666 to
0.642 (0.675 to 0.651 over 5 assignments; Brier 0.2224 and 0.2225): no gain the corpus can
show. The video fit rests on 49 items (10 corpus clips, 39 four-second pieces of the 3 authentic
FF++ clips: re-encoded, self-blended, self-blended with flicker): held-out AUC 0.666 against
0.644 for the best single detector (video_temporal), ECE 0.140 against a calibrated floor of
0.151 (too few items to tell). Its container weight is learnt from the 10 corpus clips alone
(the generated pieces share one encoder), and face_frames gets no weight: it scores the
self-blends lower than their re-encoded originals (AUC 0.33). video_region_flicker (w 0.14)
fires on 1 of the 49 (a self-blend whose blend flickers), on none of the authentic ones. ``detectors.ensemble`` gives no
verdict where the detectors that ran hold under ``MIN_COVERAGE`` of the weight (a face-less
video), so the fitted bias alone cannot call such a clip authentic. No corpus clip has sound,
so the soundtrack detectors take the audio fusion's weights (``--inherit audio``: a cloned
voice over a real face counts as it does in a recording), and ``video_av_sync`` keeps a
judgement weight of 0.5 (``--fixed``), like the metadata checks the corpus cannot fit either.

The L2 penalty is the value of :data:`L2_GRID` with the lowest held-out Brier score (chosen on
the same folds that report the held-out figures, so those are slightly optimistic; the grid's
Brier scores are written next to the weights). The held-out figures are also given over
``--cv-repeats`` random fold assignments (``cross_validation_repeated``: mean, min, max),
because one split's ECE on a few hundred items moves by several points: image ECE 0.037 on
the first split, 0.050 on average over five (0.037-0.059). Next to it, ``ece_floor`` is the ECE
a perfectly calibrated model would show on the same predictions and weights
(:func:`explainers.metrics.calibrated_ece_floor`): 0.053 for image, so the image fusion is as
calibrated as this data can show; audio (with the espeak-ng, Festival and Piper TTS
records, the spoof model of 2026-12-07 and the oversmoothing detector, both with out-of-fold
scores: ``--oof-spoof runs/spoof_report.json --oof oversmoothing=runs/oversmoothing_report.json``,
the second from ``training/train_oversmoothing.py --report``) 0.074 on the first split, 0.074
on average (0.050-0.093), against a floor of 0.052. Held-out AUC 0.769 (0.762 on average,
0.720-0.783) against 0.733 for oversmoothing alone and 0.732 for spoof_lfcc alone (L2 0.03;
oversmoothing 0.44, spoof_lfcc 0.38, digital_silence 0.30, unnatural_prosody 0.13).

``pops`` keeps a judgement weight of 0.3 (``--fixed pops=0.3``), as a weak trace: a click can
mark a cut, but clicks and pops are common in authentic recordings from the wild (a handled
microphone, vinyl, a bad cable), and none of this data's authentic recordings has one (pops
never above 0.5 on any of its 594 items). Fitted, it got the largest weight of all (1.43 at
L2 0.001): what it had learnt was the frame-boundary clicks of the generated LPC
re-synthesis (mean pops score 0.48 there, 0.00 on every authentic source), a trace of this
generator and not of synthesis. Fixed at 0.3 the fit leans on the synthesis detectors
instead, and the held-out figures improve (AUC 0.760 -> 0.762, ECE 0.088 -> 0.074 over 5
assignments; fixed at 0: 0.759, 0.078). Before (pops fitted): held-out AUC 0.773 on the first
split, 0.760 on average (0.718-0.782), ECE 0.096, 0.088 on average (0.080-0.099), L2 0.001
with unnatural_prosody at 0.99. Without oversmoothing it was 0.732, no better
than spoof_lfcc: the 40 Piper items, a neural voice spoof_lfcc does not recognise when its
family is held out, pulled it down. (Before Piper: 0.758, ECE 0.097; and 0.782 before
``audio_splice`` stopped finding "cuts" within 2 s of either end of a file, most
of what it had found in the generated splices.)

Model: logistic regression on the detectors' centred log-odds,
``p = sigmoid(b + sum_i w_i * (logit(s_i) - c_i))``. A detector that did not apply contributes
nothing, neither a vote for authentic nor 0.5. ``c_i`` is the absence floor
``logit(ABSENCE)`` for ordinary detectors, so that a detector that finds no trace of its one
kind of manipulation adds nothing either (a spliced photo has no generator fingerprint, and
that must not vouch for it): they can only add suspicion. High-precision detectors are
centred on their mean log-odds (see :func:`centers_of`). Measured on the development corpus
(image, held-out): one-sided AUC 0.916, Brier 0.112, ECE 0.021; mean-centred (two-sided)
0.921, 0.105, 0.028, but there a photo spliced without AI traces was pushed towards
authentic by "no generator fingerprint" (-1.2 log-odds in the demo case). L2-regularised, weights constrained to be >= 0 (a detector's evidence may be
discounted, never reversed), fitted per modality. Cross-validation is grouped (all items of
one scene, speaker or source utterance stay in one fold), and the held-out predictions give
the AUC, Brier score and expected calibration error written next to the weights.

Detectors whose confident answers are near-certain (``HIGH_PRECISION`` in
``detectors/ensemble.py``) keep their floor weight at run time whatever the fit says, because
the development corpus holds no item with a content credential or generator metadata to fit
them on.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from datetime import date
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

from detectors.ensemble import ABSENCE, HIGH_PRECISION, logit
from detectors.ensemble import evidence_of as evidence  # the same transform as at run time


#: L2 penalties tried by default; the one with the lowest held-out Brier score is used.
L2_GRID = (0.001, 0.003, 0.01, 0.03, 0.1)


def group_of(item: dict) -> str:
    """Items that must stay together in one fold (same scene, speaker or source utterance)."""
    path = item["path"]
    name = Path(path).stem
    src = item["source"]
    if src == "noso_copymove":
        return "noso:" + name.split("_")[0]           # original and its forgeries
    if src == "ml72_ai_vs_real":
        m = re.match(r"([a-z]+)_", name)
        return "ml72:" + (m.group(1) if m else name)   # content category / generation
    if src == "ganpolice_vocoders":
        m = re.search(r"(LJ\d{3}-\d{4})", path)
        return "lj:" + (m.group(1) if m else name)     # same utterance, every vocoder
    if src == "resemblyzer":
        return "resemblyzer:" + ("trump" if "trump" in path.lower() else name.split("-")[0])
    if src == "generated_splice":
        return "noso:" + path.split("/")[2] if path.split("/")[2][:2].isdigit() else \
            "ml72:" + re.sub(r"_\d+$", "", path.split("/")[2])   # same host photo = same scene
    if src in ("generated_speech", "generated_video"):   # an edit stays with its original
        return group_of({"path": item["origin"], "source": item["origin_source"]})
    if src == "ffpp_c23":
        return "ffpp:" + re.sub(r"[^0-9]", " ", name).split()[0]
    return src + ":" + name


def centers_of(items: list[dict], detectors: list[str]) -> dict[str, float]:
    """The log-odds at which each detector adds nothing to the pool.

    An ordinary detector looks for one kind of trace, so finding none is no evidence that the
    item is authentic (a spliced photo has no generator fingerprint): its centre is the
    absence floor ``logit(ABSENCE)``, and it can only add suspicion (one-sided evidence). A
    high-precision detector (``HIGH_PRECISION``: declared metadata, content credentials) also
    vouches when it reads a camera's own record, so its centre is its mean log-odds over the
    items it judged (two-sided). A detector that did not run adds nothing either way.
    """
    out = {}
    for d in detectors:
        if d not in HIGH_PRECISION:
            out[d] = round(logit(ABSENCE), 6)
            continue
        vals = [evidence(d, it["scores"][d]) for it in items if d in it["scores"]]
        out[d] = float(np.mean(vals)) if vals else 0.0
    return out


def design(items: list[dict], detectors: list[str],
           centers: dict[str, float] | None = None) -> np.ndarray:
    c = centers if centers is not None else centers_of(items, detectors)
    return np.array([[evidence(d, it["scores"][d]) - c[d] if d in it["scores"] else 0.0
                      for d in detectors] for it in items])


def fit(x: np.ndarray, y: np.ndarray, *, l2: float,
        offset: np.ndarray | None = None,
        sample_weight: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    n, k = x.shape
    off = np.zeros(n) if offset is None else offset
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    sw = sw * (n / sw.sum())  # mean weight 1: the penalty keeps its meaning

    def loss(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:k], theta[k]
        z = x @ w + b + off
        p = 1 / (1 + np.exp(-z))
        ll = -np.mean(sw * (y * np.log(p + 1e-12) + (1 - y) * np.log(1 - p + 1e-12)))
        g = sw * (p - y)
        return ll + l2 * np.sum(w * w), np.r_[x.T @ g / n + 2 * l2 * w, g.mean()]

    theta0 = np.r_[np.full(k, 0.1), 0.0]
    bounds = [(0, None)] * k + [(None, None)]
    res = minimize(loss, theta0, jac=True, method="L-BFGS-B", bounds=bounds)
    return res.x[:k], float(res.x[k])


def offsets(items: list[dict], fixed: dict[str, float],
            centers: dict[str, float]) -> np.ndarray:
    """The pooled log-odds of the detectors whose weight is fixed, not fitted."""
    return np.array([sum(w * (evidence(d, it["scores"][d]) - centers.get(d, 0.0))
                         for d, w in fixed.items() if d in it["scores"]) for it in items])


def fit_weights(items: list[dict]) -> np.ndarray:
    """Each record's weight in the fit (``fit_weight``, default 1): a generated set that makes
    several manipulated versions of one original weighs them so that the original's versions
    count as much as the original, and the fitted bias does not learn the generator's ratio of
    fakes to originals as a prior."""
    return np.array([float(it.get("fit_weight", 1.0)) for it in items])


def cross_validate(items: list[dict], detectors: list[str], *, l2: float,
                   fixed: dict[str, float] | None = None,
                   folds: int = 5, seed: int = 0) -> np.ndarray:
    groups = sorted({group_of(it) for it in items})
    rng = np.random.default_rng(seed)
    rng.shuffle(groups)
    fold_of = {g: i % folds for i, g in enumerate(groups)}
    y = np.array([it["label"] == "manipulated" for it in items], float)
    sw = fit_weights(items)
    fixed = fixed or {}
    pred = np.full(len(items), np.nan)
    for f in range(folds):
        test = np.array([fold_of[group_of(it)] == f for it in items])
        if test.all() or not test.any() or len(set(y[~test])) < 2:
            continue
        train_items = [it for it, t in zip(items, test) if not t]
        c = centers_of(train_items, detectors + list(fixed))  # centres from training folds only
        x = design(items, detectors, c)
        off = offsets(items, fixed, c)
        w, b = fit(x[~test], y[~test], l2=l2, offset=off[~test], sample_weight=sw[~test])
        pred[test] = 1 / (1 + np.exp(-(x[test] @ w + b + off[test])))
    return pred


def use_out_of_fold_spoof_scores(items: list[dict], report: dict,
                                 detector: str = "spoof_lfcc") -> int:
    """Replace ``detector``'s score of each item whose corpus path (or trainer key) is in the
    training report's out-of-fold values by ``sigmoid(a * value + b)`` with the report's
    calibration; the count replaced. Out-of-fold: the item's group was held out when that
    value was computed. Items the trainer never saw keep the shipped model's score, which is
    out of sample for them already."""
    oof = report["oof"]
    a, b = report["calibration"]["a"], report["calibration"]["b"]
    n = 0
    for it in items:
        if detector not in it.get("scores", {}):
            continue
        path = it.get("oof_key", it["path"])
        if path is None:
            continue  # an edit of a training file: there is no out-of-fold score for it
        key = next((k for k in oof if path == k or path.endswith("/" + k)), None)
        if key is None:
            continue
        it["scores"][detector] = 1.0 / (1.0 + math.exp(-(a * oof[key] + b)))
        n += 1
    return n


def drop_generated_scores(items: list[dict], detectors: list[str]) -> int:
    """Remove ``detectors``' scores from the generated records (``source`` ``generated_*``);
    the count removed. Such a detector then counts as not applicable there, so its weight is
    learnt from the real media alone."""
    n = 0
    for it in items:
        if str(it.get("source", "")).startswith("generated"):
            for d in detectors:
                n += it.get("scores", {}).pop(d, None) is not None
    return n


def main(argv: list[str] | None = None) -> int:
    from explainers.metrics import (brier_score, calibrated_ece_floor,
                                    expected_calibration_error, roc_auc)

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("eval_json", nargs="+",
                    help="output of `triage eval MANIFEST --json` (or of "
                         "training/eval_generated_splices.py); the items of all are pooled")
    ap.add_argument("--out", default="resources/ensemble.json")
    ap.add_argument("--l2", type=float, default=None,
                    help="L2 penalty on the weights; default: the value of L2_GRID with the "
                         "lowest held-out Brier score (chosen on the same folds, so the "
                         "reported held-out figures are slightly optimistic)")
    ap.add_argument("--fixed", action="append", default=[], metavar="NAME=W",
                    help="keep this detector's weight at W instead of fitting it")
    ap.add_argument("--inherit", default="", metavar="MODALITY",
                    help="give the detectors this fit has no records for the weights and "
                         "centres they have in MODALITY's fusion (in --out): the soundtrack "
                         "detectors of a video, from the audio fusion")
    ap.add_argument("--cv-repeats", type=int, default=5,
                    help="also report the held-out figures over this many random fold "
                         "assignments (seeds 0..N-1): mean, min and max; one assignment's "
                         "ECE on a few hundred items moves by several points")
    ap.add_argument("--modality", action="append", choices=("image", "video", "audio"),
                    help="fit only this modality (repeatable); the others are kept as they are "
                         "in --out")
    ap.add_argument("--oof-spoof", default="", metavar="REPORT.json",
                    help="report of training/train_audio_spoof.py --report: spoof_lfcc's "
                         "scores on the corpus files are replaced by its out-of-fold "
                         "(speaker group held out) scores, because the shipped model was "
                         "trained on those very files")
    ap.add_argument("--oof", action="append", default=[], metavar="DETECTOR=REPORT.json",
                    help="the same for another trained detector whose trainer writes out-of-"
                         "fold values and a calibration (training/train_oversmoothing.py "
                         "--report); repeatable")
    ap.add_argument("--real-only", action="append", default=[], metavar="DETECTOR",
                    help="fit this detector's weight on real media only: its scores on the "
                         "generated records are left out (a detector trained on the very "
                         "kind of edit a generated set makes would be weighed by it); "
                         "repeatable")
    args = ap.parse_args(argv)
    fixed = {k: float(v) for k, v in (f.split("=", 1) for f in args.fixed)}
    items = [it for path in args.eval_json for it in json.loads(Path(path).read_text())["items"]
             if not it.get("error")]
    sources = " + ".join(Path(p).name for p in args.eval_json)
    if args.oof_spoof:
        replaced = use_out_of_fold_spoof_scores(items, json.loads(Path(args.oof_spoof).read_text()))
        print(f"spoof_lfcc: {replaced} corpus scores replaced by out-of-fold ones", file=sys.stderr)
    dropped = drop_generated_scores(items, args.real_only)
    if dropped:
        print(f"{', '.join(args.real_only)}: {dropped} scores on generated records left out",
              file=sys.stderr)
    for spec in args.oof:
        name, _, report_path = spec.partition("=")
        replaced = use_out_of_fold_spoof_scores(items, json.loads(Path(report_path).read_text()),
                                                name)
        print(f"{name}: {replaced} scores replaced by out-of-fold ones", file=sys.stderr)
    out_path = Path(args.out)
    fitted = json.loads(out_path.read_text()) if args.modality and out_path.is_file() else {}
    for mod in (args.modality or ("image", "video", "audio")):
        rs = [it for it in items if it["modality"] == mod]
        if len({it["label"] for it in rs}) < 2:
            print(f"{mod}: one class only; not fitted", file=sys.stderr)
            continue
        present = sorted({d for it in rs for d in it["scores"]})
        detectors = [d for d in present if d not in fixed]
        fixed_here = {d: w for d, w in fixed.items() if d in present}
        wts = fit_weights(rs)
        grid = {}
        for l2 in ([args.l2] if args.l2 is not None else L2_GRID):
            p = cross_validate(rs, detectors, l2=l2, fixed=fixed_here)
            keep = ~np.isnan(p)
            grid[l2] = (brier_score([rs[i]["label"] for i in range(len(rs)) if keep[i]],
                                    p[keep].tolist(), weights=wts[keep]), p)
        # lowest held-out Brier; on a tie (to 3 decimals) the stronger penalty
        l2 = min(grid, key=lambda v: (round(grid[v][0], 3), -v))
        pred = grid[l2][1]
        ok = ~np.isnan(pred)
        truth = [rs[i]["label"] for i in range(len(rs)) if ok[i]]
        # held-out figures weighted as the fit is (fit_weight), so that a generated set's
        # ratio of fakes to originals does not count as the population's
        cv = {"auc": roc_auc(truth, pred[ok].tolist(), weights=wts[ok]),
              "brier": brier_score(truth, pred[ok].tolist(), weights=wts[ok]),
              "ece": expected_calibration_error(truth, pred[ok].tolist(), weights=wts[ok]),
              # what a perfectly calibrated model would show on these predictions and weights
              "ece_floor": calibrated_ece_floor(pred[ok].tolist(), weights=wts[ok]),
              "n": int(ok.sum())}
        # the same fit on other random fold assignments: how much the held-out figures owe to
        # one particular split
        repeats = {"auc": [], "brier": [], "ece": []}
        for seed in range(max(1, args.cv_repeats)):
            p_r = pred if seed == 0 else cross_validate(rs, detectors, l2=l2, fixed=fixed_here,
                                                        seed=seed)
            ok_r = ~np.isnan(p_r)
            t_r = [rs[i]["label"] for i in range(len(rs)) if ok_r[i]]
            for k, fn in (("auc", roc_auc), ("brier", brier_score),
                          ("ece", expected_calibration_error)):
                repeats[k].append(fn(t_r, p_r[ok_r].tolist(), weights=wts[ok_r]))
        cv_repeated = {k: {"mean": round(float(np.mean(v)), 4), "min": round(float(min(v)), 4),
                           "max": round(float(max(v)), 4)} for k, v in repeats.items()}
        cv_repeated["assignments"] = max(1, args.cv_repeats)
        single = {}
        for d in present:
            sel = [it for it in rs if d in it["scores"]]
            # only detectors that judged most items: a 2-item AUC of 1.0 says nothing
            if len(sel) >= 0.5 * len(rs) and len({it["label"] for it in sel}) == 2:
                single[d] = roc_auc([it["label"] for it in sel], [it["scores"][d] for it in sel],
                                    weights=fit_weights(sel))
        centers = centers_of(rs, present)
        x = design(rs, detectors, centers)
        y = np.array([it["label"] == "manipulated" for it in rs], float)
        w, b = fit(x, y, l2=l2, offset=offsets(rs, fixed_here, centers),
                   sample_weight=fit_weights(rs))
        print(f"{mod}: over {cv_repeated['assignments']} fold assignments: "
              + "; ".join(f"{k} {v['mean']:.3f} ({v['min']:.3f}-{v['max']:.3f})"
                          for k, v in cv_repeated.items() if isinstance(v, dict)))
        if len(grid) > 1:
            print(f"{mod}: held-out Brier by L2 penalty: "
                  + ", ".join(f"{v:g}: {grid[v][0]:.4f}" for v in sorted(grid)), file=sys.stderr)
        print(f"{mod}: l2={l2:g} n={len(rs)} held-out AUC {cv['auc']:.3f} Brier {cv['brier']:.3f} "
              f"ECE {cv['ece']:.3f} (a calibrated model's floor here {cv['ece_floor']:.3f}); "
              f"best single detector "
              f"{max(single.items(), key=lambda kv: kv[1]) if single else None}")
        for d, wi in sorted(zip(detectors, w), key=lambda kv: -kv[1]):
            print(f"    {d:<28} w={wi:.3f}")
        weights = {d: round(float(wi), 5) for d, wi in zip(detectors, w)}
        weights.update(fixed_here)
        # fixed detectors this data has no records of still get their weight (and the centre
        # of their kind): a detector the corpus cannot show working is not thereby worthless
        fixed_absent = {d: wi for d, wi in fixed.items() if d not in present}
        weights.update(fixed_absent)
        centers.update({d: (0.0 if d in HIGH_PRECISION else round(logit(ABSENCE), 6))
                        for d in fixed_absent})
        inherited = {}
        if args.inherit and args.inherit != mod:
            src = fitted.get(args.inherit) or {}
            for d, wi in src.get("weights", {}).items():
                if d not in weights and d not in HIGH_PRECISION:
                    inherited[d] = wi
                    centers[d] = src.get("centers", {}).get(d, round(logit(ABSENCE), 6))
            weights.update(inherited)
        fitted[mod] = {
            "weights": weights, "fixed_weights": {**fixed_here, **fixed_absent},
            "inherited_weights": inherited,
            "centers": {d: round(v, 5) for d, v in centers.items()},
            "bias": round(b, 5), "pooling": "sum",
            "method": f"logistic regression on detector log-odds (L2 {l2:g}"
                      + (", the grid value with the lowest held-out Brier score" if len(grid) > 1
                         else "") + f"), fitted {date.today()} on "
                      f"{len(rs)} {mod} items of {sources} (grouped 5-fold CV)"
                      + (f"; fixed, not fitted: {', '.join(sorted({**fixed_here, **fixed_absent}))}"
                         if fixed_here or fixed_absent else "")
                      + (f"; from the {args.inherit} fusion, not fitted here: "
                         f"{', '.join(sorted(inherited))}" if inherited else "")
                      + (f"; spoof_lfcc's scores out-of-fold ({Path(args.oof_spoof).name})"
                         if args.oof_spoof and mod == "audio" else "")
                      + "".join(f"; {d}'s weight from real media only (not its scores on "
                                f"generated records)" for d in args.real_only if d in present)
                      + "".join(f"; {spec.partition('=')[0]}'s scores out-of-fold "
                                f"({Path(spec.partition('=')[2]).name})"
                                for spec in args.oof if spec.partition("=")[0] in present),
            "cross_validation": {k: (round(v, 4) if isinstance(v, float) else v)
                                 for k, v in cv.items()},
            "cross_validation_repeated": cv_repeated,
            "single_detector_auc": {k: round(v, 4) for k, v in single.items()},
            "l2": l2,
            "held_out_brier_by_l2": {f"{v:g}": round(grid[v][0], 4) for v in sorted(grid)},
        }
    Path(args.out).write_text(json.dumps(fitted, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
