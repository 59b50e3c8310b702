"""TriDF scores (DESIGN.md, "Taxonomy (TriDF-aligned)") and calibration helpers.

Pure functions over lists and arrays; ``triage eval`` wires them to a labelled corpus.

- Detection: :func:`detection_accuracy`, :func:`roc_auc` (Mann-Whitney, ties count one half).
- Perception: :func:`presence_accuracy` (per artifact), :func:`localization_scores` (pixel F1 at
  the best and at a fixed threshold, IoU, pixel AUC), :func:`claim_location_miss_rate`.
- Hallucination (TriDF, over items with at least one true artifact): :func:`hallucination_item`
  (Cover, CHAIR, Prec, F0.5 of one item) and :func:`hallucination_scores` (means and Hal).
- Validator: :func:`validator_scores` on (truth, flagged) pairs of a claims CSV.
- Calibration: :func:`brier_score`, :func:`expected_calibration_error`,
  :func:`reliability_diagram`.

Reference: Jiang et al., "TriDF: Evaluating Perception, Detection, and Hallucination for
Interpretable DeepFake Detection", CVPR 2026, arXiv 2512.10652.
"""

from __future__ import annotations

from typing import Any, Iterable, Sequence

import numpy as np

from triage_app.model import Box, Claim, FrameSpan, Mask, Region

__all__ = ["detection_accuracy", "roc_auc", "presence_accuracy", "localization_scores",
           "pixel_f1", "mask_iou", "pixel_auc", "hallucination_item", "hallucination_scores",
           "claim_location_miss_rate", "validator_scores", "brier_score",
           "expected_calibration_error", "reliability_diagram"]

_MANIP = {"manipulated", "likely_manipulated", "fake", "1", 1, True}
_AUTH = {"authentic", "likely_authentic", "real", "0", 0, False}


def _is_fake(label: Any) -> bool | None:
    if label in _MANIP:
        return True
    if label in _AUTH:
        return False
    return None


# --------------------------------------------------------------------------- detection


def detection_accuracy(truth: Sequence[Any], predicted: Sequence[Any], *,
                       inconclusive: str = "wrong") -> float:
    """Share of items whose verdict matches the label.

    ``truth``: ``authentic``/``manipulated`` (or booleans); ``predicted``: verdict labels
    (``likely_manipulated``...). ``inconclusive`` says how an inconclusive verdict counts:
    ``"wrong"`` (default; TriDF scores a binary answer) or ``"skip"`` (left out).
    """
    if inconclusive not in ("wrong", "skip"):
        raise ValueError(f"inconclusive must be 'wrong' or 'skip', got {inconclusive!r}")
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    n = ok = 0
    for t, p in zip(truth, predicted):
        tf, pf = _is_fake(t), _is_fake(p)
        if tf is None:
            raise ValueError(f"unknown truth label {t!r}")
        if pf is None:
            if inconclusive == "skip":
                continue
            n += 1
            continue
        n += 1
        ok += int(tf == pf)
    return ok / n if n else float("nan")


def roc_auc(truth: Sequence[Any], scores: Sequence[float],
            weights: Sequence[float] | None = None) -> float:
    """ROC AUC of ``scores`` (higher = more likely manipulated): the probability that a random
    manipulated item outscores a random authentic one, ties counting one half (Mann-Whitney U
    with mid-ranks). NaN when a class is missing. With ``weights``, items are drawn with
    probability proportional to their weight (each pair counts ``w_i * w_j``).

    >>> roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
    """
    y = np.array([bool(_is_fake(t)) for t in truth])
    s = np.asarray(scores, dtype=np.float64)
    if y.size != s.size:
        raise ValueError("truth and scores differ in length")
    n1, n0 = int(y.sum()), int((~y).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    if weights is not None:
        w = _weights(weights, y.size)
        s1, s0, w1, w0 = s[y], s[~y], w[y], w[~y]
        wins = (s1[:, None] > s0[None, :]) + 0.5 * (s1[:, None] == s0[None, :])
        return float((w1[:, None] * w0[None, :] * wins).sum() / (w1.sum() * w0.sum()))
    from scipy.stats import rankdata

    r = rankdata(s)  # average ranks for ties
    u = r[y].sum() - n1 * (n1 + 1) / 2
    return float(u / (n1 * n0))


# --------------------------------------------------------------------------- perception


def presence_accuracy(truth: Sequence[Iterable[str]], predicted: Sequence[Iterable[str]],
                      artifacts: Iterable[str] | None = None) -> dict[str, float]:
    """Per-artifact presence accuracy: for each artifact, the share of items where "named or
    not" agrees with "truly present or not". ``artifacts`` defaults to those in either list.
    Also ``"_mean"``, the mean over artifacts."""
    if len(truth) != len(predicted):
        raise ValueError("truth and predicted differ in length")
    T = [set(t) for t in truth]
    P = [set(p) for p in predicted]
    arts = sorted(set(artifacts) if artifacts is not None else set().union(*T, *P) if T else set())
    out: dict[str, float] = {}
    for a in arts:
        out[a] = sum((a in t) == (a in p) for t, p in zip(T, P)) / len(T) if T else float("nan")
    out["_mean"] = float(np.mean([out[a] for a in arts])) if arts else float("nan")
    return out


def _binary(mask: np.ndarray) -> np.ndarray:
    m = np.asarray(mask)
    if m.dtype == bool:
        return m
    return m > (127 if m.max() > 1 else 0.5)


def pixel_f1(truth_mask: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> float:
    """Pixel F1 of ``pred >= threshold`` (pred in 0..1) against a binary mask. 1.0 when both
    are empty."""
    t = _binary(truth_mask).ravel()
    p = (np.asarray(pred, dtype=np.float64).ravel() >= threshold)
    tp = int((t & p).sum())
    fp = int((~t & p).sum())
    fn = int((t & ~p).sum())
    if tp + fp + fn == 0:
        return 1.0
    return 2 * tp / (2 * tp + fp + fn)


def mask_iou(truth_mask: np.ndarray, pred: np.ndarray, threshold: float = 0.5) -> float:
    t = _binary(truth_mask).ravel()
    p = (np.asarray(pred, dtype=np.float64).ravel() >= threshold)
    union = int((t | p).sum())
    return int((t & p).sum()) / union if union else 1.0


def pixel_auc(truth_mask: np.ndarray, pred: np.ndarray) -> float:
    """ROC AUC of the pixel scores against the mask (NaN when the mask is all 0 or all 1)."""
    t = _binary(truth_mask).ravel()
    return roc_auc(t.tolist(), np.asarray(pred, dtype=np.float64).ravel())


def localization_scores(truth_mask: np.ndarray, pred: np.ndarray, *,
                        threshold: float = 0.5) -> dict[str, float]:
    """Localization of one item: ``pred`` a float map in 0..1 (or a uint8 map 0..255) the size
    of ``truth_mask``.

    Returns ``f1_best`` (pixel F1 at the best threshold over the map's distinct values, an
    oracle upper bound), ``threshold_best``, ``f1_fixed`` and ``iou_fixed`` at ``threshold``,
    and ``auc`` (pixel ROC AUC).
    """
    p = np.asarray(pred, dtype=np.float64)
    if p.max(initial=0) > 1.0:
        p = p / 255.0
    t = _binary(truth_mask)
    if t.shape != p.shape:
        raise ValueError(f"mask shape {t.shape} differs from map shape {p.shape}")
    tv = t.ravel()
    pv = p.ravel()
    # best F1 over all thresholds in one pass (sort by score descending)
    order = np.argsort(-pv, kind="stable")
    ps = pv[order]
    ts = tv[order].astype(np.int64)
    tp = np.cumsum(ts)
    fp = np.cumsum(1 - ts)
    last = np.r_[ps[1:] != ps[:-1], True]  # cut only between distinct values
    P = int(tv.sum())
    f1 = np.where(last, 2 * tp / np.maximum(1, 2 * tp + fp + (P - tp)), -1.0)
    i = int(np.argmax(f1)) if f1.size else 0
    best = float(f1[i]) if f1.size else float("nan")
    if P == 0:
        best = 1.0 if (pv <= 0).all() else 0.0
    return {"f1_best": round(best, 6), "threshold_best": float(ps[i]) if f1.size else float("nan"),
            "f1_fixed": pixel_f1(t, p, threshold), "iou_fixed": mask_iou(t, p, threshold),
            "auc": pixel_auc(t, p)}


def _claim_box(claim: Claim) -> Box | None:
    loc = claim.location
    if isinstance(loc, Box):
        return loc
    if isinstance(loc, Mask):
        return loc.box
    if isinstance(loc, (Region, FrameSpan)):
        return loc.box
    return None


def claim_location_miss_rate(claims: Sequence[Claim], truth_mask: np.ndarray, *,
                             min_overlap: float = 0.1) -> float:
    """Share of claims with a pixel place whose box covers less than ``min_overlap`` of its
    own area with the manipulation mask (a claim pointing where nothing was done). Claims with
    no box are left out; NaN when none has one."""
    t = _binary(truth_mask)
    H, W = t.shape
    n = miss = 0
    for c in claims:
        b = _claim_box(c)
        if b is None:
            continue
        b = b.clip(W, H)
        n += 1
        if b.area == 0 or t[b.y:b.y + b.h, b.x:b.x + b.w].mean() < min_overlap:
            miss += 1
    return miss / n if n else float("nan")


# --------------------------------------------------------------------------- hallucination


def hallucination_item(named: Iterable[str], true_artifacts: Iterable[str], *,
                       called_authentic: bool = False) -> dict[str, float]:
    """TriDF scores of one item, P = the artifacts an explanation names, G = the true ones.

    Cover = |P∩G|/|G|; CHAIR = 1 - |P∩G|/|P| (1 when P is empty or a fake is called authentic);
    Prec = 1 - CHAIR; F0.5 = 1.25·Prec·Cover/(0.25·Prec + Cover) (0 when both are 0).

    >>> hallucination_item({"noise", "blurriness"}, {"noise", "blending_artifacts", "flicker"})
    {'cover': 0.3333333333333333, 'chair': 0.5, 'prec': 0.5, 'f05': 0.45454545454545453}
    """
    P, G = set(named), set(true_artifacts)
    if not G:
        raise ValueError("TriDF hallucination scores are defined over items with >= 1 true artifact")
    inter = len(P & G)
    cover = inter / len(G)
    chair = 1.0 if (not P or called_authentic) else 1.0 - inter / len(P)
    prec = 1.0 - chair
    den = 0.25 * prec + cover
    f05 = 1.25 * prec * cover / den if den > 0 else 0.0
    return {"cover": cover, "chair": chair, "prec": prec, "f05": f05}


def hallucination_scores(named: Sequence[Iterable[str]], true_artifacts: Sequence[Iterable[str]],
                         called_authentic: Sequence[bool] | None = None) -> dict[str, float]:
    """Means over the items with at least one true artifact (others are skipped): ``cover``,
    ``chair``, ``prec``, ``f05``; ``hal`` = share of those items with CHAIR > 0; ``n``."""
    if len(named) != len(true_artifacts):
        raise ValueError("named and true_artifacts differ in length")
    ca = list(called_authentic) if called_authentic is not None else [False] * len(named)
    rows = [hallucination_item(p, g, called_authentic=a)
            for p, g, a in zip(named, true_artifacts, ca) if set(g)]
    if not rows:
        return {"cover": float("nan"), "chair": float("nan"), "prec": float("nan"),
                "f05": float("nan"), "hal": float("nan"), "n": 0}
    out = {k: float(np.mean([r[k] for r in rows])) for k in ("cover", "chair", "prec", "f05")}
    out["hal"] = float(np.mean([r["chair"] > 0 for r in rows]))
    out["n"] = len(rows)
    return out


# --------------------------------------------------------------------------- validator


def validator_scores(truth: Sequence[Any], flagged: Sequence[bool]) -> dict[str, float]:
    """How well the validator flags false rationales.

    ``truth``: per rationale, True/"true" when what it says is there; ``flagged``: whether the
    validator called (any claim of) it hallucinated. Returns ``false_flagged`` (share of false
    rationales flagged; target >= 0.95), ``true_flagged`` (share of true ones wrongly flagged;
    target <= 0.10), and the counts.
    """
    if len(truth) != len(flagged):
        raise ValueError("truth and flagged differ in length")
    tv = [str(t).strip().lower() in ("true", "1", "yes") if not isinstance(t, bool) else t
          for t in truth]
    nf = sum(not t for t in tv)
    nt = sum(tv)
    ff = sum(f for t, f in zip(tv, flagged) if not t)
    tf = sum(f for t, f in zip(tv, flagged) if t)
    return {"false_flagged": ff / nf if nf else float("nan"),
            "true_flagged": tf / nt if nt else float("nan"),
            "n_false": nf, "n_true": nt, "false_flagged_count": ff, "true_flagged_count": tf}


# --------------------------------------------------------------------------- calibration


def _yp(truth: Sequence[Any], probs: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    y = np.array([float(bool(_is_fake(t))) for t in truth])
    p = np.asarray(probs, dtype=np.float64)
    if y.size != p.size:
        raise ValueError("truth and probabilities differ in length")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in 0..1")
    return y, p


def _weights(weights: Sequence[float], n: int) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (n,) or (w < 0).any() or not w.sum() > 0:
        raise ValueError("weights must be n non-negative numbers, not all zero")
    return w


def brier_score(truth: Sequence[Any], probs: Sequence[float],
                weights: Sequence[float] | None = None) -> float:
    """Mean squared difference between the probability of manipulation and the 0/1 label
    (weighted mean with ``weights``)."""
    y, p = _yp(truth, probs)
    if not y.size:
        return float("nan")
    w = np.ones(y.size) if weights is None else _weights(weights, y.size)
    return float(np.sum(w * (p - y) ** 2) / w.sum())


def reliability_diagram(truth: Sequence[Any], probs: Sequence[float], *,
                        bins: int = 10, weights: Sequence[float] | None = None
                        ) -> list[dict[str, float]]:
    """Per equal-width bin of the probability: ``lo``, ``hi``, ``count``, ``mean_prob``,
    ``frac_positive`` (NaN for empty bins); with ``weights``, weighted means and ``weight``
    (the bin's total weight)."""
    if bins < 1:
        raise ValueError(f"bins must be >= 1, got {bins}")
    y, p = _yp(truth, probs)
    w = np.ones(y.size) if weights is None else _weights(weights, y.size)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    out = []
    for b in range(bins):
        sel = idx == b
        n = int(sel.sum())
        ws = float(w[sel].sum())
        row = {"lo": b / bins, "hi": (b + 1) / bins, "count": n,
               "mean_prob": float(np.sum(w[sel] * p[sel]) / ws) if n and ws else float("nan"),
               "frac_positive": float(np.sum(w[sel] * y[sel]) / ws) if n and ws else float("nan")}
        if weights is not None:
            row["weight"] = ws
        out.append(row)
    return out


def expected_calibration_error(truth: Sequence[Any], probs: Sequence[float], *,
                               bins: int = 10, weights: Sequence[float] | None = None) -> float:
    """ECE: sum over bins of (count/N)·|frac_positive - mean_prob| (Naeini et al. 2015); with
    ``weights``, each bin's share is its share of the total weight."""
    rows = reliability_diagram(truth, probs, bins=bins, weights=weights)
    key = "count" if weights is None else "weight"
    n = sum(r[key] for r in rows)
    if n == 0:
        return float("nan")
    return float(sum(r[key] / n * abs(r["frac_positive"] - r["mean_prob"])
                     for r in rows if r["count"] and r[key]))


def calibrated_ece_floor(probs: Sequence[float], *, bins: int = 10,
                         weights: Sequence[float] | None = None, draws: int = 200,
                         seed: int = 0) -> float:
    """The ECE a perfectly calibrated model would still show on these predictions: labels drawn
    as Bernoulli(p) for each prediction ``p``, ECE averaged over ``draws`` draws.

    ECE is biased upwards on small samples (each bin's observed frequency is noisy), so a
    measured ECE means something only next to this floor: on a few hundred items, or fewer
    with unequal weights, the floor alone can be 0.03-0.05.
    """
    p = np.asarray(probs, dtype=float)
    if p.size == 0:
        return float("nan")
    rng = np.random.default_rng(seed)
    vals = []
    for _ in range(draws):
        y = rng.random(p.size) < p
        vals.append(expected_calibration_error(["manipulated" if v else "authentic" for v in y],
                                               p.tolist(), bins=bins, weights=weights))
    return float(np.mean(vals))
