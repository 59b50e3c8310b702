"""Tests for detectors/image/generator_fingerprint.py and its weight file."""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import pytest

from detectors.image.generator_fingerprint import (
    CROP, FEATURE_NAMES, WEIGHTS, crop_boxes, crop_features, generator_fingerprint, load_model,
)
from triage_app.media import ImageMedia


def _noise(shape, seed):
    rng = np.random.default_rng(seed)
    return np.clip(128 + rng.normal(0, 20, shape), 0, 255).astype(np.uint8)


def test_nearest_neighbour_upsampling_peak_detected():
    # known answer: 2x nearest-neighbour up-sampling makes first differences vanish at every
    # other pixel, so their local energy has period 2 -> a peak at half the sampling rate
    i_h = FEATURE_NAMES.index("energy peak 1/2 h")
    i_v = FEATURE_NAMES.index("energy peak 1/2 v")
    for seed in range(3):
        plain = crop_features(_noise((256, 256, 3), seed))
        small = _noise((128, 128, 3), 100 + seed)
        up = crop_features(np.repeat(np.repeat(small, 2, 0), 2, 1))
        assert up[i_h] > 3.0 and up[i_v] > 3.0  # > 20x the neighbourhood power
        assert abs(plain[i_h]) < 1.0 and abs(plain[i_v]) < 1.0


def test_upsampling_steepens_high_frequency_decay():
    i = FEATURE_NAMES.index("hf_slope")
    small = cv2.resize(_noise((128, 128, 3), 4), (256, 256), interpolation=cv2.INTER_LINEAR)
    assert crop_features(small)[i] < crop_features(_noise((256, 256, 3), 4))[i] - 2.0


@pytest.mark.parametrize("hw", [(256, 256), (559, 559), (723, 1000), (4000, 3000)])
def test_crops_fixed_size_and_bounded_count(hw):
    boxes = crop_boxes(*hw)
    assert 1 <= len(boxes) <= 5
    for b in boxes:
        assert (b.w, b.h) == (CROP, CROP)
        assert 0 <= b.x <= hw[1] - CROP and 0 <= b.y <= hw[0] - CROP
        assert b.x % 8 == 0 and b.y % 8 == 0


def test_small_image_not_applicable():
    res = generator_fingerprint(ImageMedia(path="s.png", format="PNG",
                                           pixels=_noise((200, 300, 3), 0)))
    assert res.status == "not_applicable"
    assert "256" in res.reason


def test_detector_output_and_weight_hash():
    res = generator_fingerprint(ImageMedia(path="n.png", format="PNG",
                                           pixels=_noise((600, 700, 3), 1)))
    assert res.status == "ok" and 0.0 <= res.score <= 1.0
    assert res.params["weights_sha256"] == hashlib.sha256(WEIGHTS.read_bytes()).hexdigest()
    assert res.findings[0].artifact == "generator_fingerprint"
    assert res.findings[0].location.kind == "whole"
    assert "peak-to-background" in res.findings[0].measurement.name
    assert len(res.extras["crop_probabilities"]) == res.params["crops"]


def test_weights_match_features():
    model = load_model()
    assert model["coef"].shape == (len(FEATURE_NAMES),)
    assert model["mean"].shape == model["std"].shape == (len(FEATURE_NAMES),)


def test_features_depend_only_on_the_crop_not_the_canvas():
    # the same 256x256 content, centred in canvases of two sizes (crop = the content)
    content = _noise((256, 256, 3), 9)

    def feats_in(h, w):
        canvas = np.full((h, w, 3), 128, np.uint8)
        y, x = crop_boxes(h, w)[0].y, crop_boxes(h, w)[0].x
        canvas[y:y + 256, x:x + 256] = content
        feats = crop_features(canvas[y:y + 256, x:x + 256])
        return feats

    np.testing.assert_allclose(feats_in(300, 300), feats_in(2000, 1500), rtol=1e-5)


@pytest.mark.corpus
def test_ml72_fakes_score_higher_than_reals(corpus_dir):
    # a regression check on (training) data: 5 per class, one per category / generator
    d = corpus_dir / "ml72_ai_vs_real"
    reals = ["animals_1", "city_2", "food_3", "nature_4", "people_5"]
    fakes = ["gan_1", "diffusion1_2", "diffusion2_3", "diffusion3_4", "diffusion4_5"]

    def score(path):
        rgb = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
        return generator_fingerprint(ImageMedia(path=path.name, format="JPEG", pixels=rgb)).score

    r = [score(d / "authentic" / f"{n}.jpg") for n in reals]
    f = [score(d / "manipulated" / f"{n}.jpg") for n in fakes]
    assert np.mean(f) > np.mean(r) + 0.3
