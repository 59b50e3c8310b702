"""TriDF metrics on small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from explainers import metrics as M
from triage_app.model import Box, Claim


def test_detection_accuracy_and_auc():
    assert M.detection_accuracy(["manipulated", "authentic", "manipulated", "authentic"],
                                ["likely_manipulated", "likely_manipulated", "inconclusive",
                                 "likely_authentic"]) == 0.5
    assert M.detection_accuracy(["manipulated", "authentic"], ["inconclusive", "likely_authentic"],
                                inconclusive="skip") == 1.0
    # pairs (fake, real): (0.35 vs 0.1) win, (0.35 vs 0.4) lose, (0.8 vs both) win -> 3/4
    assert M.roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    # a tie counts one half: (0.5 vs 0.5) = 0.5, (0.5 vs 0.2) = 1 -> 0.75
    assert M.roc_auc(["authentic", "authentic", "manipulated"], [0.5, 0.2, 0.5]) == 0.75
    assert math.isnan(M.roc_auc([1, 1], [0.2, 0.3]))


def test_hallucination_item_formulas():
    # P = {noise, blurriness}, G = {noise, blending, flicker}: |P∩G| = 1
    r = M.hallucination_item({"noise", "blurriness"}, {"noise", "blending_artifacts", "flicker"})
    assert r["cover"] == pytest.approx(1 / 3)
    assert r["chair"] == pytest.approx(1 - 1 / 2)
    prec, cover = 0.5, 1 / 3
    assert r["f05"] == pytest.approx(1.25 * prec * cover / (0.25 * prec + cover))  # 0.4545...
    # empty P -> CHAIR 1, F0.5 0
    e = M.hallucination_item(set(), {"noise"})
    assert (e["chair"], e["cover"], e["f05"]) == (1.0, 0.0, 0.0)
    # a fake called authentic -> CHAIR 1 even with a right artifact
    assert M.hallucination_item({"noise"}, {"noise"}, called_authentic=True)["chair"] == 1.0
    # perfect
    assert M.hallucination_item({"noise"}, {"noise"}) == {"cover": 1.0, "chair": 0.0,
                                                          "prec": 1.0, "f05": 1.0}
    with pytest.raises(ValueError):
        M.hallucination_item({"noise"}, set())


def test_hallucination_scores_skip_items_without_truth():
    named = [{"noise"}, {"noise", "hiss"}, {"blockiness"}, set()]
    truth = [{"noise"}, {"noise"}, set(), {"flicker"}]
    s = M.hallucination_scores(named, truth)
    # items 1, 2, 4: CHAIR 0, 0.5, 1 ; Cover 1, 1, 0
    assert s["n"] == 3
    assert s["chair"] == pytest.approx(0.5)
    assert s["cover"] == pytest.approx(2 / 3)
    assert s["hal"] == pytest.approx(2 / 3)
    f05_2 = 1.25 * 0.5 * 1 / (0.25 * 0.5 + 1)
    assert s["f05"] == pytest.approx((1 + f05_2 + 0) / 3)


def test_presence_accuracy():
    r = M.presence_accuracy([{"noise"}, {"noise", "hiss"}, set()], [{"noise"}, {"hiss"}, {"noise"}])
    assert r["noise"] == pytest.approx(1 / 3)  # item 1 right, 2 missed, 3 false alarm
    assert r["hiss"] == 1.0
    assert r["_mean"] == pytest.approx((1 / 3 + 1) / 2)


def test_localization():
    mask = np.zeros((4, 4), np.uint8)
    mask[:2, :2] = 255  # 4 true pixels
    pred = np.zeros((4, 4))
    pred[:2, :2] = 0.9
    pred[2, 2] = 0.6  # one false positive at 0.5, gone at 0.7
    r = M.localization_scores(mask, pred, threshold=0.5)
    assert r["f1_fixed"] == pytest.approx(2 * 4 / (2 * 4 + 1))
    assert r["iou_fixed"] == pytest.approx(4 / 5)
    assert r["f1_best"] == pytest.approx(1.0) and r["threshold_best"] == pytest.approx(0.9)
    assert r["auc"] == pytest.approx(1.0)
    claims = [Claim("a", "noise", location=Box(0, 0, 2, 2)), Claim("b", "noise", location=Box(2, 2, 2, 2)),
              Claim("c", "hiss")]
    assert M.claim_location_miss_rate(claims, mask) == 0.5


def test_validator_scores():
    s = M.validator_scores(["true", "true", "false", "false", "false"],
                           [False, True, True, True, False])
    assert s["false_flagged"] == pytest.approx(2 / 3)
    assert s["true_flagged"] == pytest.approx(1 / 2)


def test_calibration():
    y = [0, 0, 1, 1]
    p = [0.1, 0.3, 0.6, 0.9]
    assert M.brier_score(y, p) == pytest.approx((0.01 + 0.09 + 0.16 + 0.01) / 4)
    rows = M.reliability_diagram(y, p, bins=2)
    assert [r["count"] for r in rows] == [2, 2]
    assert rows[0]["mean_prob"] == pytest.approx(0.2) and rows[1]["frac_positive"] == 1.0
    # ECE = 0.5*|0-0.2| + 0.5*|1-0.75| = 0.225
    assert M.expected_calibration_error(y, p, bins=2) == pytest.approx(0.225)
    assert M.expected_calibration_error([1, 0], [1.0, 0.0]) == 0.0
    with pytest.raises(ValueError):
        M.brier_score([1], [1.5])


def test_weighted_auc_brier_ece_match_repeating_items():
    """Known answer: weight 2 on an item is the same as listing it twice."""
    from explainers.metrics import brier_score, expected_calibration_error, roc_auc

    truth = [0, 0, 1, 1, 1]
    p = [0.1, 0.45, 0.4, 0.8, 0.95]
    w = [2, 1, 1, 3, 1]
    rep_t = [t for t, k in zip(truth, w) for _ in range(k)]
    rep_p = [q for q, k in zip(p, w) for _ in range(k)]
    assert roc_auc(truth, p, weights=w) == pytest.approx(roc_auc(rep_t, rep_p))
    assert brier_score(truth, p, weights=w) == pytest.approx(brier_score(rep_t, rep_p))
    assert expected_calibration_error(truth, p, weights=w) == pytest.approx(
        expected_calibration_error(rep_t, rep_p))
    assert roc_auc(truth, p, weights=[1] * 5) == pytest.approx(roc_auc(truth, p))
    with pytest.raises(ValueError):
        brier_score(truth, p, weights=[0] * 5)


def test_calibrated_ece_floor_is_what_sampling_alone_gives():
    """A perfectly calibrated model still shows an ECE on a small sample; the floor estimates
    it, and shrinks as the sample grows."""
    import numpy as np

    from explainers.metrics import calibrated_ece_floor, expected_calibration_error

    rng = np.random.default_rng(3)
    small = rng.uniform(0, 1, 100)
    large = rng.uniform(0, 1, 5000)
    f_small, f_large = calibrated_ece_floor(small.tolist()), calibrated_ece_floor(large.tolist())
    assert 0.02 < f_small < 0.12 and f_large < f_small / 3
    # labels drawn from the probabilities themselves land near the floor, on average
    draws = [expected_calibration_error(
        ["manipulated" if v else "authentic" for v in rng.random(100) < small], small.tolist())
        for _ in range(100)]
    assert abs(np.mean(draws) - f_small) < 0.01
    # unequal weights mean fewer effective items: a higher floor
    w = np.where(np.arange(100) % 7 == 0, 6.0, 1.0 / 6)
    assert calibrated_ece_floor(small.tolist(), weights=w.tolist()) > f_small
