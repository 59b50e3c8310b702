"""Tests for detectors/learned/residual_cnn.py (the shipped weights) and its training helpers."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

from detectors.learned import residual_cnn as R
from triage_app.media import ImageMedia

pytestmark = pytest.mark.skipif(not R.WEIGHTS.is_file(),
                                reason="resources/models/residual_cnn.safetensors not built")

CARD = R.WEIGHTS.with_suffix(".md")


def _photo_like(h: int, w: int, seed: int = 0) -> np.ndarray:
    """Smooth random field plus sensor-like noise, uint8 RGB."""
    import cv2

    rng = np.random.default_rng(seed)
    base = cv2.GaussianBlur(rng.uniform(40, 215, (h, w)).astype(np.float32), (0, 0), 6)
    base = (base - base.mean()) * 4 + 128
    img = np.stack([base, base * 0.9 + 10, base * 0.8 + 20], axis=2)
    img += rng.normal(0, 3, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def test_highpass_filters_cancel_constant_and_linear_images():
    """Known answer: every fixed filter sums to zero and is symmetric, so a linear ramp has
    zero residual (only texture/noise reaches the network)."""
    torch = pytest.importorskip("torch")
    f = R.highpass_filters()
    assert np.allclose(f.sum(axis=(1, 2, 3)), 0, atol=1e-6)
    yy, xx = np.mgrid[0:68, 0:68].astype(np.float32)
    ramp = torch.from_numpy(3.0 * xx + 1.5 * yy + 7.0)[None, None]
    r = torch.nn.functional.conv2d(ramp, torch.from_numpy(f))
    assert r.shape == (1, 4, 64, 64)
    assert float(r.abs().max()) < 1e-3


def test_grid_positions_cap_and_spacing():
    assert R.grid_positions(50, 500) == []                      # smaller than one window
    pos = R.grid_positions(4000, 3000, max_patches=64)
    assert len(pos) == 64
    ys = sorted({p[0] for p in pos})
    assert ys[0] == 0 and ys[-1] == 4000 - 68                   # edge to edge, native scale
    assert len(R.grid_positions(200, 200, max_patches=64)) == 9  # 3x3 whole patches fit


def test_weights_load_with_safetensors_and_hash_is_recorded():
    net, config, sha = R.load_model()
    assert sha == hashlib.sha256(R.WEIGHTS.read_bytes()).hexdigest()
    from safetensors import safe_open

    with safe_open(str(R.WEIGHTS), framework="pt") as fh:
        meta = fh.metadata()
    hp = json.loads(meta["hyperparameters"])
    cv = json.loads(meta["cross_validation"])
    assert hp["seed"] and hp["patch"] == config["patch"] == 64
    assert set(config["calibration"]) == {"a", "b"}
    assert config["calibration"] == cv["platt"]
    # the model card states the same hash and the same pooled AUC
    card = CARD.read_text(encoding="utf-8")
    assert sha in card
    assert re.search(rf"Pooled out-of-fold AUC: {cv['pooled_auc']}", card)
    from detectors import registry

    spec = registry.get("residual_cnn")
    assert spec.weight_files == (str(R.WEIGHTS),)


def test_detector_result_heatmap_and_params():
    img = ImageMedia(path="x.png", format="PNG", pixels=_photo_like(300, 420))
    res = R.residual_cnn(img)
    assert res.status == "ok", res.reason
    assert 0.0 <= res.score <= 1.0
    assert res.heatmap.shape == (300, 420) and res.heatmap.dtype == np.float32
    assert 0.0 <= res.heatmap.min() <= res.heatmap.max() <= 1.0
    assert res.params["weights_sha256"] == hashlib.sha256(R.WEIGHTS.read_bytes()).hexdigest()
    assert res.extras["n_patches"] == 4 * 6                     # (300-4)//64=4, (420-4)//64=6
    for f in res.findings:
        assert f.artifact == "generator_fingerprint"
        assert f.measurement.value >= R.FINDING_THRESHOLD
        assert f.location.w == f.location.h == 64
    # deterministic
    assert R.residual_cnn(img).score == res.score


def test_lossless_pictures_go_through_the_training_jpeg_pipeline():
    """A PNG is judged on its in-memory JPEG q75 copy (the training pipeline: known answer, the
    same score as analysing that copy directly); a JPEG and a bare array as they are; the
    evidence pixels are untouched."""
    px = _photo_like(200, 264, seed=3)
    before = px.copy()
    png = R.residual_cnn(ImageMedia(path="x.png", format="PNG", pixels=px))
    assert png.params["reencoded_jpeg_q75"] is True
    assert np.array_equal(px, before)
    assert png.score == pytest.approx(R.residual_cnn(R.as_training_jpeg(px)).score, abs=1e-9)
    jpg = R.residual_cnn(ImageMedia(path="x.jpg", format="JPEG", pixels=px,
                                    quantization={0: [8] * 64}))
    assert jpg.params["reencoded_jpeg_q75"] is False
    bare = R.residual_cnn(px)
    assert bare.params["reencoded_jpeg_q75"] is False
    assert jpg.score == pytest.approx(bare.score, abs=1e-9)
    assert R.residual_cnn(ImageMedia(path="x.png", format="PNG", pixels=px),
                          reencode=False).score == pytest.approx(bare.score, abs=1e-9)


@pytest.mark.parametrize("logits, n_findings", [
    ([-4.0] * 23 + [3.0], 0),   # one hot patch in an image that leans authentic: patch noise
    ([3.0] * 24, 3),            # the image leans generated: its top patches are findings
])
def test_patch_findings_only_when_the_image_leans_generated(monkeypatch, logits, n_findings):
    monkeypatch.setattr(R, "patch_logits", lambda net, windows: np.asarray(logits[:len(windows)]))
    res = R.residual_cnn(_photo_like(300, 420))
    assert res.extras["n_patches"] == 24
    assert (res.score >= R.FINDING_THRESHOLD) == (n_findings > 0)
    assert len(res.findings) == n_findings


def test_image_size_alone_does_not_change_the_score():
    """Known answer: an image tiled from one 68x68 window gives the same score at 136 px and at
    272 px (every grid patch is that window), so size carries no evidence by itself."""
    tile = _photo_like(68, 68, seed=5)
    small = np.tile(tile, (2, 2, 1))
    large = np.tile(tile, (4, 4, 1))
    assert len(R.grid_positions(136, 136)) == 4 and len(R.grid_positions(272, 272)) == 16
    s1 = R.residual_cnn(small).score
    s2 = R.residual_cnn(large).score
    assert s1 == pytest.approx(s2, abs=1e-6)


def test_not_applicable_when_too_small_or_saturated():
    tiny = R.residual_cnn(np.zeros((40, 40, 3), np.uint8))
    assert tiny.status == "not_applicable" and "smaller" in tiny.reason
    white = R.residual_cnn(np.full((200, 200, 3), 255, np.uint8))
    assert white.status == "not_applicable" and "saturated" in white.reason


@pytest.mark.corpus
def test_heatmap_localizes_a_pasted_generated_region(corpus_dir):
    """A generated image pasted into a real photo (8x8-grid aligned, no re-encoding): the
    heatmap is higher inside the pasted square than outside.

    Both images are in the training set of the shipped model (ML72): this checks the
    localization mechanism, not generalization (see the model card for cross-validation).
    """
    from PIL import Image

    real = np.asarray(Image.open(corpus_dir / "ml72_ai_vs_real/authentic/nature_2.jpg")
                      .convert("RGB"))
    ai = np.asarray(Image.open(corpus_dir / "ml72_ai_vs_real/manipulated/diffusion3_10.jpg")
                    .convert("RGB"))
    o = (real.shape[0] - 1104) // 2 // 8 * 8
    canvas = real[o:o + 1104, o:o + 1104].copy()
    canvas[:552, :552] = ai[:552, :552]
    res = R.residual_cnn(canvas)
    assert res.status == "ok"
    inside = float(res.heatmap[:552, :552].mean())
    outside = float(res.heatmap[600:, 600:].mean())
    assert inside > outside + 0.1, (inside, outside)
    if res.findings:
        b = res.findings[0].location
        assert b.x < 552 and b.y < 552  # the most suspicious patch is in the pasted square
