"""Tests for training/train_face_blend.py (self-blended images from face crops)."""

from __future__ import annotations

import numpy as np
import pytest

from training import face_blend_data as D
from detectors.learned import face_blend as FB
from training import train_face_blend as T

FACE = (64, 64, 128, 128)


def _crop(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:256, 0:256]
    g = 90 + 0.3 * xx + 0.2 * yy + 20 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    return np.clip(g + rng.normal(0, 3, g.shape), 0, 255).astype(np.float32)


def test_blend_mask_covers_the_inner_face_and_nothing_far_outside():
    for seed in range(5):
        m = T.blend_mask((256, 256), FACE, np.random.default_rng(seed))
        assert m.dtype == np.float32 and 0.0 <= m.min() and m.max() <= 1.0 + 1e-6
        assert m[128 + 8, 128] >= 0.45            # the face centre (ratio >= 0.5)
        assert m[:24].max() < 0.01 and m[:, :24].max() < 0.01   # far from the box


def test_self_blend_changes_the_face_and_leaves_the_surroundings():
    img = _crop()
    out = T.self_blend(img, FACE, np.random.default_rng(3))
    d = np.abs(out - img)
    assert d[112:160, 112:144].mean() > 1.0
    assert d[:24].mean() < 0.05 and d[:, :24].mean() < 0.05


def test_training_pairs_are_one_real_and_one_blend_per_crop():
    crops = [D.FaceCrop("a.mp4", "a", 0, i, _crop(i), FACE) for i in range(3)]
    X, y = T.training_pairs(crops, np.random.default_rng(0))
    side = FB.DEFAULT_CONFIG["side"]
    assert X.shape == (6, side, side) and list(y) == [0, 1] * 3
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 255


def test_ffpp_identity_group_is_the_target_clip():
    assert D.ffpp_group("Deepfakes_519_515.mp4") == "519"
    assert D.ffpp_group("youtube_004.mp4") == "004"


def test_auc_counts_ties_as_half():
    assert T.auc(np.array([1.0, 2.0]), np.array([0.0, 2.0])) == pytest.approx(0.625)


def test_platt_recovers_a_known_logistic():
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, 20000)
    y = (rng.random(z.size) < 1 / (1 + np.exp(-(1.5 * z - 0.7)))).astype(float)
    a, b = T.platt(z, y, l2=0.0)
    assert a == pytest.approx(1.5, abs=0.1) and b == pytest.approx(-0.7, abs=0.1)


def test_platt_slope_stays_bounded_on_separable_clips():
    """Seven clips that one threshold separates: an unpenalised fit would send the slope to
    infinity (the first version's Newton steps overflowed)."""
    a, b = T.platt([-3, -2, -1, 1, 2, 3, 4], [0, 0, 0, 1, 1, 1, 1])
    assert 0 < a < 5 and np.isfinite(b)


def test_a_clip_scored_in_several_folds_counts_once():
    rows = [{"fold": "1", "source": "f2f.mp4", "label": 1, "n": 3, "mean_logit": 1.0},
            {"fold": "2", "source": "f2f.mp4", "label": 1, "n": 3, "mean_logit": 3.0},
            {"fold": "2", "frame_auc": 0.5},
            {"fold": "2", "source": "real.mp4", "label": 0, "n": 3, "mean_logit": -1.0}]
    clips = T.clip_statistics(rows)
    assert [(c["source"], c["mean_logit"]) for c in clips] == [("f2f.mp4", 2.0),
                                                               ("real.mp4", -1.0)]
    assert T.corpus_key(clips[1]) == "ffpp_c23/authentic/real.mp4"
