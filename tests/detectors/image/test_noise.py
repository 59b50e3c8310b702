"""Tests for detectors/image/noise.py on synthetic images whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from _image_synth import media_from_array, pixel_f1, splice, synthetic_photo
from detectors.image.noise import block_noise_sigma, noise_inconsistency
from detectors.registry import get


@pytest.mark.parametrize("sigma", [2.0, 5.0, 10.0])
def test_block_sigma_returns_added_noise_within_15_percent(sigma):
    # flat grey plus Gaussian noise of known sigma: Donoho's estimator on the HH subband
    # must give sigma back (the orthonormal Haar HH of i.i.d. noise has the same std)
    rng = np.random.default_rng(1)
    img = np.clip(np.round(128 + rng.normal(0, sigma, (256, 256))), 0, 255)
    est = float(np.median(block_noise_sigma(img, block=32)))
    assert abs(est - sigma) / sigma < 0.15


def test_localizes_region_with_extra_noise():
    host = synthetic_photo(3, 320, 448, noise_sigma=1.5)
    donor = synthetic_photo(4, 320, 448, noise_sigma=1.5)
    img, mask = splice(host, donor, (160, 96, 128, 128), add_noise=6.0)
    res = noise_inconsistency(media_from_array(img))
    assert res.status == "ok"
    assert res.heatmap.shape == img.shape[:2] and res.heatmap.dtype == np.float32
    assert 0.0 <= res.heatmap.min() and res.heatmap.max() <= 1.0
    assert pixel_f1(res.heatmap, mask) > 0.6
    top = res.findings[0]
    assert top.artifact == "noise"
    assert top.measurement.name == "noise level ratio" and top.measurement.value > 2.0
    b = top.location.box
    assert b.x < 288 and b.x + b.w > 160 and b.y < 224 and b.y + b.h > 96  # overlaps the paste


def test_clean_image_scores_lower_than_splice():
    host = synthetic_photo(3, 320, 448, noise_sigma=1.5)
    donor = synthetic_photo(4, 320, 448, noise_sigma=1.5)
    img, _ = splice(host, donor, (160, 96, 128, 128), add_noise=6.0)
    clean = noise_inconsistency(media_from_array(host)).score
    spliced = noise_inconsistency(media_from_array(img)).score
    assert clean < 0.5
    assert spliced > clean + 0.3


def test_registered_and_validates_arguments():
    spec = get("noise_inconsistency")
    assert spec.localizes and spec.version == "1.1" and "noise" in spec.artifacts
    assert "Mahdian" in spec.reference
    with pytest.raises(ValueError):
        noise_inconsistency(media_from_array(synthetic_photo(0, 128, 128)), block=7)
    small = noise_inconsistency(media_from_array(synthetic_photo(0, 64, 64)))
    assert small.status == "not_applicable" and small.reason
