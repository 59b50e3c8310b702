"""Fusion of detector scores into one verdict.

Method: a weighted mean of the detectors' log-odds (logarithmic opinion pooling, Genest &
Zidek 1986, "Combining probability distributions: a critique and an annotated bibliography"),
with ``not_applicable`` and ``error`` results treated as missing, never as 0.5. A weighted
*mean* rather than a sum keeps a dozen correlated detectors from multiplying one weak cue into
certainty. High-precision signals (a content credential that declares AI generation, a
generator's parameters in metadata) carry a large weight once they are confident, so that one
such finding decides the verdict as it should.

Weights come from ``resources/ensemble.json`` when it exists (fitted on labelled media, with
how they were obtained recorded in that file); otherwise every detector weighs 1 and
high-precision detectors weigh :data:`HIGH_PRECISION_WEIGHT` when confident.

Verdict bands: probability >= ``manipulated_at`` -> ``likely_manipulated``; <= ``authentic_at``
-> ``likely_authentic``; between, or with no applicable detector, or (fitted models) when the
detectors that ran hold less than ``MIN_COVERAGE`` of the fitted weight, ``inconclusive``.
An authentic verdict also needs one of the modality's :data:`AUTHENTIC_NEEDS` to have judged
the item (for audio, a detector of synthetic speech).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources as ir
from typing import Any, Iterable

from triage_app.model import DetectorResult, Verdict

#: Detectors whose confident answers are near-certain (exact metadata fields, signed claims).
HIGH_PRECISION = frozenset({"metadata", "content_credentials"})
HIGH_PRECISION_WEIGHT = 8.0
CONFIDENT = 0.9  # a high-precision detector counts as confident beyond 0.9 or below 0.1

_EPS = 1e-4
#: Ordinary detectors' scores are clipped to [ABSENCE, 1 - FLOOR] before pooling. The top
#: clip keeps one measurement at 1.0 from outweighing everything else by its log-odds alone.
#: The bottom clip is wider on purpose: a forensic trace that is absent (no clone, no generator
#: fingerprint, no double compression) is weak evidence of authenticity, because each detector
#: looks for one kind of manipulation only; without it, "not AI-generated" would vouch for a
#: spliced photo. High-precision detectors (a signed credential, declared metadata) are exempt.
FLOOR = 0.02
ABSENCE = 0.25
#: A fitted fusion gives a verdict only when the detectors that ran hold at least this share of
#: its weight (high-precision detectors aside). Below it, the probability is mostly the fitted
#: bias, a prior learned from the fit's mix of items, and the verdict is "inconclusive": a video
#: without a face, where only the container check applies, is not "likely authentic" because
#: the face-less clips of the development corpus happened to be authentic.
MIN_COVERAGE = 0.25
#: A detector is named as a driver of the verdict only when it moves the pooled log-odds by at
#: least this much towards it (0.1 moves p = 0.5 by 2.5 points). Below it, a detector that
#: found next to nothing was listed as "driving" an authentic verdict that rested on the
#: fitted bias alone.
MIN_DRIVER_LOGODDS = 0.1
#: A "likely authentic" verdict says that what a modality is mostly exposed to was looked for
#: and not found. For speech that is synthesis (cloned voices, text-to-speech, vocoders), which
#: only a learned spoof detector sees (``spoof_lfcc``, or a plugged-in audio checkpoint,
#: ``hf:``); the other audio detectors look for edits and recording faults. When none of them
#: could judge the file (telephone-band audio, under half a second of speech), a low
#: probability is a verdict on edits alone, and the label is "inconclusive": a cloned voice on
#: a phone line must not come out "likely authentic" because nothing that could see the clone
#: ran. Entries ending in ":" match a name prefix.
#: A picture is exposed to edits (copies, splices, re-compression) as much as to generators:
#: when no edit detector could judge it (a computer-drawn screen or chart, where copy-move,
#: noise and JPEG analyses do not apply), "no generator trace" alone is not "authentic".
AUTHENTIC_NEEDS: dict[str, tuple[str, ...]] = {
    "audio": ("spoof_lfcc", "hf:"),
    "image": ("copy_move", "ela", "noise_inconsistency", "jpeg_traces"),
}
_NEEDS_WHAT = {"audio": "no detector of synthetic speech could judge this file",
               "image": "no detector of edits (copies, splices, re-compression) could judge "
                        "this picture"}


def logit(p: float, eps: float = _EPS) -> float:
    p = min(1 - eps, max(eps, p))
    return math.log(p / (1 - p))


def evidence_of(name: str, score: float) -> float:
    """The log-odds a detector's score brings to the pool (see ABSENCE and FLOOR)."""
    if name in HIGH_PRECISION:
        return logit(score, _EPS)
    return logit(min(1 - FLOOR, max(ABSENCE, score)))


def evidence(result: DetectorResult) -> float:
    return evidence_of(result.name, 0.5 if result.score is None else result.score)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


@dataclass
class FusionModel:
    """Parameters of the fusion for one modality."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    scale: float = 1.0  # temperature applied to the pooled log-odds (calibration)
    manipulated_at: float = 0.65
    authentic_at: float = 0.35
    # "mean": weighted mean of log-odds (unfitted default); "sum": fitted logistic regression
    # on the detectors' log-odds, where a missing detector adds nothing.
    pooling: str = "mean"
    # Fitted pooling subtracts each detector's centre from its log-odds: a detector that did
    # not apply adds nothing (neither a vote for authentic nor 0.5), and the bias is the
    # verdict with every detector at its centre. training/fit_ensemble.py puts an ordinary
    # detector's centre at the absence floor logit(ABSENCE), so that finding no trace of its
    # one kind of manipulation adds nothing (one-sided); high-precision detectors are centred
    # on their mean (a camera's own record may vouch for a file).
    centers: dict[str, float] = field(default_factory=dict)
    method: str = "weighted log-odds mean, unit weights (not fitted)"

    def weight(self, result: DetectorResult) -> float:
        w = self.weights.get(result.name, 1.0)
        if result.name in HIGH_PRECISION and result.score is not None and \
                (result.score >= CONFIDENT or result.score <= 1 - CONFIDENT):
            w = max(w, HIGH_PRECISION_WEIGHT)
        return w


@lru_cache(maxsize=1)
def _fitted() -> dict[str, Any]:
    try:
        text = ir.files("resources").joinpath("ensemble.json").read_text(encoding="utf-8")
    except (FileNotFoundError, ModuleNotFoundError, OSError):
        return {}
    return json.loads(text)


def fitted_parameters() -> dict[str, Any]:
    """The shipped fusion parameters per modality (``resources/ensemble.json``), with the
    held-out figures of their fit; {} when the file is absent."""
    return _fitted()


def model_for(modality: str) -> FusionModel:
    data = _fitted().get(modality)
    if not data:
        return FusionModel()
    return FusionModel(**{k: v for k, v in data.items() if k in FusionModel.__dataclass_fields__})


def fuse(results: Iterable[DetectorResult], modality: str, *,
         model: FusionModel | None = None, unexamined: str | None = None,
         absent: Iterable[str] = ()) -> Verdict:
    """Fuse detector results into a :class:`Verdict` with each detector's contribution.

    ``unexamined``: what part of the item no detector looked at, if any, for a caller that
    analysed only part of it; an audio item so described is not called likely authentic.
    (The pipeline examines long recordings whole, in segments, and passes none.)

    ``absent``: detectors that cannot apply to this item by its nature (the soundtrack
    detectors of a video without sound): their weight is left out of the coverage rule
    (:func:`weight_coverage`), since there is no soundtrack to vouch for or to fake.

    A contribution is the detector's share of the pooled log-odds (positive pushes towards
    manipulated), so that the GUI and the report can show who drove the verdict.
    """
    model = model or model_for(modality)
    results = list(results)
    usable = [r for r in results if r.status == "ok" and r.score is not None]
    if not usable:
        return Verdict(label="inconclusive", probability=None, drivers=[], contributions={},
                       method=model.method + "; no applicable detector")
    if model.pooling == "sum":
        # Detectors the fit never saw (plug-ins, new modules) get no weight rather than a guess.
        contributions = {r.name: model.weight(r) * (evidence(r) - model.centers.get(r.name, 0.0))
                         for r in usable if r.name in model.weights or r.name in HIGH_PRECISION}
    else:
        total_w = sum(model.weight(r) for r in usable)
        contributions = {r.name: model.weight(r) * evidence(r) / total_w for r in usable}
    pooled = model.scale * sum(contributions.values()) + model.bias
    probability = sigmoid(pooled)
    method = model.method
    coverage = weight_coverage(usable, model, absent=absent)
    confident = any(model.weight(r) >= HIGH_PRECISION_WEIGHT for r in usable
                    if r.name in HIGH_PRECISION)
    if coverage is not None and coverage < MIN_COVERAGE and not confident:
        label = "inconclusive"
        method += (f"; the detectors that ran hold {coverage:.0%} of the fitted weight, under "
                   f"{MIN_COVERAGE:.0%}: too little evidence for a verdict")
        if coverage == 0.0:
            # nothing the fusion was fitted on measured the item (a 1x1 JPEG: its metadata
            # only): the number would be the fitted bias, read as "99 % authentic"
            probability = None
    elif probability >= model.manipulated_at:
        label = "likely_manipulated"
    elif probability <= model.authentic_at:
        label = "likely_authentic"
        missing = _unjudged_needs(results, usable, modality)
        if not missing and unexamined and modality == "audio":
            missing = unexamined
        if missing:
            label = "inconclusive"
            method += f"; not called likely authentic: {missing}"
    else:
        label = "inconclusive"
    sign = 1 if probability is not None and probability >= 0.5 else -1
    drivers = [] if probability is None else [
        name for name, c in sorted(contributions.items(), key=lambda kv: -sign * kv[1])
        if sign * c >= MIN_DRIVER_LOGODDS][:3]
    return Verdict(label=label, probability=probability, drivers=drivers,
                   contributions=contributions, method=method, baseline=model.bias,
                   scale=model.scale)


def _matches(name: str, entry: str) -> bool:
    return name.startswith(entry) if entry.endswith(":") else name == entry


def _unjudged_needs(results: list[DetectorResult], usable: list[DetectorResult],
                    modality: str) -> str:
    """Why an authentic verdict is not warranted (see :data:`AUTHENTIC_NEEDS`), or ""."""
    needs = AUTHENTIC_NEEDS.get(modality, ())
    if not needs or any(_matches(r.name, e) for r in usable for e in needs):
        return ""
    why = [f"{r.name}: {r.reason or r.status}" for r in results
           if any(_matches(r.name, e) for e in needs)]
    return (_NEEDS_WHAT.get(modality, "the detectors this kind of item needs could not judge it")
            + (f" ({'; '.join(why)})" if why else ""))


def weight_coverage(usable: Iterable[DetectorResult], model: FusionModel, *,
                    absent: Iterable[str] = ()) -> float | None:
    """Share of a fitted (``sum``) model's weight held by the detectors in ``usable``,
    high-precision detectors left out of both sides, and ``absent`` ones (that cannot apply
    to the item) out of the total; None for an unfitted model or one whose weights are all
    zero."""
    if model.pooling != "sum":
        return None
    skip = set(absent)
    total = sum(w for d, w in model.weights.items()
                if d not in HIGH_PRECISION and d not in skip and w > 0)
    if total <= 0:
        return None
    ran = {r.name for r in usable}
    return sum(w for d, w in model.weights.items()
               if d in ran and d not in HIGH_PRECISION and w > 0) / total
