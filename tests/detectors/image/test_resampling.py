"""Tests for detectors/image/resampling.py: periodic p-map peaks of interpolated images."""

from __future__ import annotations

import cv2
import numpy as np

from _image_synth import media_from_array, pixel_f1, splice, synthetic_photo
from detectors.image.resampling import p_map, resampling_traces
from detectors.registry import get


def test_upscaled_image_shows_peak_at_one_third():
    # 1.5x linear upscaling: 2 source pixels -> 3, the p-map repeats every 3 pixels, so its
    # spectrum peaks at 1/3 cycle/pixel
    img = synthetic_photo(31, 256, 320)
    up = cv2.resize(img, None, fx=1.5, fy=1.5, interpolation=cv2.INTER_LINEAR)
    res = resampling_traces(media_from_array(up))
    assert res.status == "ok" and res.extras["globally_resampled"]
    f = max(abs(v) for v in res.extras["global_peak_frequency"])
    assert abs(f - 1 / 3) < 1.5 / 64
    clean = resampling_traces(media_from_array(img))
    assert not clean.extras["globally_resampled"]
    assert clean.extras["global_peak"] < res.extras["global_peak"] / 2


def test_localizes_rescaled_paste():
    host = synthetic_photo(31, 448, 576)
    donor = cv2.resize(synthetic_photo(32, 448, 576), None, fx=1.3, fy=1.3,
                       interpolation=cv2.INTER_LINEAR)
    img, mask = splice(host, donor, (192, 128, 192, 192))
    res = resampling_traces(media_from_array(img))
    assert res.status == "ok" and not res.extras["globally_resampled"]
    assert pixel_f1(res.heatmap, mask) > 0.6
    assert res.findings and res.findings[0].artifact == "resampling"
    assert res.score > resampling_traces(media_from_array(host)).score


def test_p_map_range_and_registration():
    pm = p_map(synthetic_photo(1, 64, 64)[..., 1])
    assert pm.shape == (64, 64) and pm.min() >= 0 and pm.max() <= 1
    spec = get("resampling_traces")
    assert spec.localizes and "Kirchner" in spec.reference
