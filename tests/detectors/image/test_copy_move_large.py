"""Tests for detectors/image/_copy_move_large.py: clones in images above the working scale."""

from __future__ import annotations

import cv2
import numpy as np

from detectors.image import _copy_move_large as large
from detectors.image.copy_move import copy_move_map


def _texture(h: int, w: int, seed: int) -> np.ndarray:
    """A busy grey texture (fine, medium and coarse grain) with sensor noise."""
    rng = np.random.default_rng(seed)
    img = np.zeros((h, w), np.float32)
    for s in (1.5, 4, 10):
        img += cv2.GaussianBlur(rng.normal(0, 60, (h, w)).astype(np.float32), (0, 0), s)
    return np.clip(128 + img + rng.normal(0, 2, (h, w)), 0, 255).astype(np.uint8)


def test_clone_in_an_image_above_the_working_scale_is_found_at_full_resolution():
    # 1400 px wide: the working scale is 0.73, so the clone's offset (599, 799) is fractional
    # there and the working-scale passes miss it; verified at full resolution, it is exact
    g = _texture(1050, 1400, seed=4)
    forged = g.copy()
    forged[700:880, 900:1140] = g[101:281, 101:341]
    truth = np.zeros(g.shape, bool)
    truth[700:880, 900:1140] = truth[101:281, 101:341] = True
    heat, pairs = copy_move_map(forged)
    found = [p for p in pairs if p.method == "dense_full_resolution"]
    assert found, [p.method for p in pairs]
    hit = (found[0].mask_a | found[0].mask_b)
    assert (hit & truth).sum() > 0.5 * truth.sum()
    assert (hit & ~truth).sum() < 0.1 * hit.sum()
    # nothing of the kind in the untouched texture
    _, clean = copy_move_map(g)
    assert not [p for p in clean if p.method == "dense_full_resolution"]


def test_refine_finds_the_exact_offset_within_the_radius():
    rng = np.random.default_rng(0)
    r = rng.normal(0, 1, (300, 300)).astype(np.float32)
    r[150:250, 160:260] = r[40:140, 30:130]   # a copy at (110, 130)
    ys, xs = np.mgrid[40:140:3, 30:130:3]
    assert large._refine(r, ys.ravel(), xs.ravel(), 108, 133, 4) == (110, 130)


def test_window_corr_is_one_for_a_copy_and_zero_where_flat():
    rng = np.random.default_rng(1)
    a = rng.normal(0, 1, (50, 50)).astype(np.float32)
    assert np.allclose(large.window_corr(a, a, 9)[10:40, 10:40], 1.0, atol=1e-4)
    flat = np.zeros_like(a)
    assert not large.window_corr(a, flat, 9).any()


def test_the_pass_is_skipped_above_its_pixel_limit(monkeypatch):
    import detectors.image.copy_move as cm
    g = _texture(1050, 1400, seed=4)
    forged = g.copy()
    forged[700:880, 900:1140] = g[101:281, 101:341]
    monkeypatch.setattr(cm, "FULL_RES_MAX_PIXELS", forged.size - 1)
    assert cm._full_resolution_pass(forged) == []
