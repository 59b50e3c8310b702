"""Tests for training/try_face_blend.py (self-blended images from real face crops)."""

from __future__ import annotations

import numpy as np
import pytest

from training import face_blend_data as D
from training import try_face_blend as T

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
    side = T.DEFAULT_CONFIG["side"]
    assert X.shape == (6, side, side) and list(y) == [0, 1] * 3
    assert np.isfinite(X).all() and X.min() >= 0 and X.max() <= 255


def test_ffpp_identity_group_is_the_target_clip():
    assert D.ffpp_group("Deepfakes_519_515.mp4") == "519"
    assert D.ffpp_group("youtube_004.mp4") == "004"


def test_auc_counts_ties_as_half():
    assert T.auc(np.array([1.0, 2.0]), np.array([0.0, 2.0])) == pytest.approx(0.625)


def test_face_patch_is_centred_on_the_face_box():
    g = np.zeros((200, 240), np.float32)
    g[90:110, 110:130] = 255.0                  # a bright square at the box centre (120, 100)
    p = T.face_patch(g, (70, 50, 100, 100), side=112, context=1.4)
    assert p.shape == (112, 112)
    ys, xs = np.nonzero(p > 128)
    assert abs(ys.mean() - 55.5) < 1.5 and abs(xs.mean() - 55.5) < 1.5
    assert 14 <= xs.max() - xs.min() + 1 <= 18   # 20 px of a 140 px view on 112 px: 16 px


@pytest.mark.parametrize("grey", [True, False])
def test_network_gives_one_logit_per_patch(grey):
    torch = T._torch.torch()
    torch.manual_seed(0)
    net = T.build_network({**T.DEFAULT_CONFIG, "channels": [8] * 6, "grey_channel": grey}).eval()
    z = T.patch_logits(net, np.random.default_rng(0).uniform(0, 255, (5, 112, 112)))
    assert z.shape == (5,) and np.isfinite(z).all()
