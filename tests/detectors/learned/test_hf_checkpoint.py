"""Tests for detectors/learned/hf_checkpoint.py: local transformers checkpoints as detectors.

Tiny random models are built and saved in tmp_path (safetensors), never downloaded.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detectors import registry
from detectors.learned import hf_checkpoint as H
from triage_app.media import AudioMedia, ImageMedia
from triage_app.settings import Settings

LABEL_MAP = {"FAKE": "manipulated", "REAL": "authentic"}


@pytest.fixture(scope="module")
def vit_dir(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch")
    tr = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = tr.ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1,
                       num_attention_heads=2, intermediate_size=37, num_labels=2,
                       id2label={0: "REAL", 1: "FAKE"}, label2id={"REAL": 0, "FAKE": 1})
    model = tr.ViTForImageClassification(cfg)
    d = tmp_path_factory.mktemp("ckpt") / "tiny-vit"
    model.save_pretrained(d, safe_serialization=True)
    tr.ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(d)
    return d


@pytest.fixture(scope="module")
def w2v_dir(tmp_path_factory) -> Path:
    torch = pytest.importorskip("torch")
    tr = pytest.importorskip("transformers")
    torch.manual_seed(0)
    cfg = tr.Wav2Vec2Config(
        hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
        conv_dim=(8, 8), conv_kernel=(10, 3), conv_stride=(5, 2), num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2, classifier_proj_size=8, mask_time_prob=0.0,
        num_labels=2, id2label={0: "bonafide", 1: "spoof"},
        label2id={"bonafide": 0, "spoof": 1})
    model = tr.Wav2Vec2ForSequenceClassification(cfg)
    d = tmp_path_factory.mktemp("ckpt") / "tiny-w2v"
    model.save_pretrained(d, safe_serialization=True)
    tr.Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=16000, padding_value=0.0,
                                do_normalize=True, return_attention_mask=False).save_pretrained(d)
    return d


@pytest.fixture(autouse=True)
def _clean_registry():
    yield
    H.register_checkpoints([])  # unregister whatever a test registered


def _image(seed: int = 0, size: int = 48) -> ImageMedia:
    rng = np.random.default_rng(seed)
    px = rng.integers(0, 256, (size, size + 8, 3), dtype=np.uint8)
    return ImageMedia(path="synthetic.png", format="PNG", pixels=px)


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def test_image_checkpoint_scores_and_records_provenance(vit_dir):
    settings = Settings(checkpoints=[{"path": str(vit_dir), "modality": "image",
                                      "label_map": LABEL_MAP, "name": "tiny-vit"}])
    specs = H.register_checkpoints(settings)
    assert [s.name for s in specs] == ["hf:tiny-vit"]
    spec = registry.get("hf:tiny-vit")
    assert spec.modalities == ("image",)
    assert spec.origin == f"checkpoint:{vit_dir.resolve()}"
    wfile = vit_dir / "model.safetensors"
    assert spec.weight_files == (str(wfile.resolve()),)
    assert spec.params["weights_sha256"] == {"model.safetensors": _sha(wfile)}
    assert len(spec.version) == 12 and int(spec.version, 16) >= 0

    res = spec.function(_image())
    assert res.status == "ok", res.reason
    assert res.name == "hf:tiny-vit" and res.version == spec.version
    assert 0.0 <= res.score <= 1.0
    probs = res.extras["label_probabilities"]
    assert set(probs) == {"REAL", "FAKE"}
    assert abs(sum(probs.values()) - 1.0) < 1e-3
    assert res.score == pytest.approx(probs["FAKE"], abs=1e-4)
    assert res.params["weights_sha256"]["model.safetensors"] == _sha(wfile)
    assert os.environ.get("HF_HUB_OFFLINE") == "1"
    assert os.environ.get("TRANSFORMERS_OFFLINE") == "1"


def test_image_score_matches_model_softmax(vit_dir):
    """Known answer: the score is the softmax mass of FAKE computed directly with the model."""
    import torch
    import transformers as tr

    spec = H.checkpoint_spec({"path": str(vit_dir), "modality": "image", "label_map": LABEL_MAP})
    assert spec.name == "hf:tiny-vit"  # the folder name when no name is given
    img = _image(3)
    model = tr.ViTForImageClassification.from_pretrained(str(vit_dir), local_files_only=True,
                                                         use_safetensors=True).eval()
    proc = tr.ViTImageProcessor.from_pretrained(str(vit_dir), local_files_only=True)
    with torch.no_grad():
        p = torch.softmax(model(**proc(images=img.pixels, return_tensors="pt")).logits[0], -1)
    assert spec.function(img).score == pytest.approx(float(p[1]), abs=1e-5)


def test_unmapped_labels_are_ignored(vit_dir):
    """Only FAKE is mapped: REAL's mass counts neither way; the score is P(FAKE)."""
    spec = H.checkpoint_spec({"path": str(vit_dir), "modality": "image",
                              "label_map": {"fake": "manipulated"}})  # case-insensitive match
    res = spec.function(_image(1))
    assert res.params["manipulated_labels"] == ["FAKE"]
    assert res.params["authentic_labels"] == []
    assert res.score == pytest.approx(res.extras["label_probabilities"]["FAKE"], abs=1e-4)


def test_audio_checkpoint_resamples_and_scores(w2v_dir):
    specs = H.register_checkpoints(Settings(checkpoints=[
        {"path": str(w2v_dir), "modality": "audio",
         "label_map": {"spoof": "manipulated", "bonafide": "authentic"}}]))
    assert [s.name for s in specs] == ["hf:tiny-w2v"]
    # a whole-voice classifier: a long recording's segments are averaged, not maxed
    assert specs[0].segment_pooling == "mean"
    sr = 22050
    t = np.arange(int(1.5 * sr)) / sr
    x = (0.3 * np.sin(2 * np.pi * 220 * t)
         + 0.01 * np.random.default_rng(0).standard_normal(t.size)).astype(np.float32)
    media = AudioMedia(path="tone.wav", format="WAV", samples=np.stack([x, x], axis=1),
                       sample_rate=sr)
    res = specs[0].function(media)
    assert res.status == "ok", res.reason
    assert 0.0 <= res.score <= 1.0
    assert res.extras["model_sample_rate"] == 16000
    assert res.score == pytest.approx(res.extras["label_probabilities"]["spoof"], abs=1e-4)
    # the wrong modality is not judged
    na = specs[0].function(_image())
    assert na.status == "not_applicable" and "audio" in na.reason


def test_resample_changes_length_by_rate_ratio():
    x = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)
    y = H.resample(x, 22050, 16000)
    assert len(y) == 16000
    # a 440 Hz tone stays at 440 Hz: the spectrum peak of one second at 16 kHz is bin 440
    assert int(np.argmax(np.abs(np.fft.rfft(y)))) == 440


def test_bin_only_folder_is_refused(tmp_path, vit_dir):
    d = tmp_path / "pickled"
    d.mkdir()
    (d / "config.json").write_text((vit_dir / "config.json").read_text())
    (d / "pytorch_model.bin").write_bytes(b"\x80\x04not loaded")
    entry = {"path": str(d), "modality": "image", "label_map": LABEL_MAP}
    with pytest.raises(H.CheckpointError, match=r"only pickle weights \(pytorch_model.bin\)"):
        H.validate_entry(entry)
    # non-strict registration skips it and says why in the registry's load errors
    assert H.register_checkpoints([entry]) == []
    err = registry.LOAD_ERRORS[f"checkpoint:{d}"]
    assert "safetensors" in err and "pickle" in err


@pytest.mark.parametrize("path", ["google/vit-base-patch16-224", "/no/such/checkpoint/folder"])
def test_missing_path_or_hub_name_is_refused(path):
    entry = {"path": path, "modality": "image", "label_map": LABEL_MAP}
    with pytest.raises(H.CheckpointError, match="does not exist; it must be a local folder"):
        H.validate_entry(entry)
    with pytest.raises(H.CheckpointError):
        H.register_checkpoints([entry], strict=True)


def test_file_instead_of_folder_is_refused(tmp_path):
    f = tmp_path / "model.safetensors"
    f.write_bytes(b"x")
    with pytest.raises(H.CheckpointError, match="is not a folder"):
        H.validate_entry({"path": str(f), "modality": "image", "label_map": LABEL_MAP})


@pytest.mark.parametrize("label_map", [{"REAL": "authentic"}, {"SPOOF": "manipulated"}])
def test_label_map_that_maps_nothing_is_a_configuration_error(vit_dir, label_map):
    with pytest.raises(H.CheckpointError, match="maps none of the model's labels"):
        H.validate_entry({"path": str(vit_dir), "modality": "image", "label_map": label_map})


def test_bad_entries_are_refused(vit_dir):
    with pytest.raises(H.CheckpointError, match="modality"):
        H.validate_entry({"path": str(vit_dir), "modality": "video", "label_map": LABEL_MAP})
    with pytest.raises(H.CheckpointError, match="'manipulated' or 'authentic'"):
        H.validate_entry({"path": str(vit_dir), "modality": "image",
                          "label_map": {"FAKE": "fake"}})
    with pytest.raises(H.CheckpointError, match="unknown keys"):
        H.validate_entry({"path": str(vit_dir), "modality": "image", "label_map": LABEL_MAP,
                          "url": "https://example.org"})


def test_register_is_idempotent_and_follows_settings(vit_dir, w2v_dir):
    both = Settings(checkpoints=[
        {"path": str(vit_dir), "modality": "image", "label_map": LABEL_MAP},
        {"path": str(w2v_dir), "modality": "audio", "label_map": {"spoof": "manipulated"}}])
    first = H.register_checkpoints(both)
    second = H.register_checkpoints(both)
    assert [s.name for s in first] == [s.name for s in second] == ["hf:tiny-vit", "hf:tiny-w2v"]
    assert [s.version for s in first] == [s.version for s in second]
    names = [s.name for s in registry._REGISTRY.values() if s.name.startswith("hf:")]
    assert sorted(names) == ["hf:tiny-vit", "hf:tiny-w2v"]
    H.register_checkpoints(Settings(checkpoints=both.checkpoints[:1]))
    assert "hf:tiny-w2v" not in registry._REGISTRY
    assert "hf:tiny-vit" in registry._REGISTRY
    with pytest.raises(H.CheckpointError, match="two checkpoints are named"):
        H.register_checkpoints([both.checkpoints[0], dict(both.checkpoints[0])], strict=True)


def test_changed_weights_after_registration_is_an_error(tmp_path, vit_dir):
    import shutil

    d = tmp_path / "copy"
    shutil.copytree(vit_dir, d)
    spec = H.checkpoint_spec({"path": str(d), "modality": "image", "label_map": LABEL_MAP})
    with open(d / "model.safetensors", "ab") as fh:
        fh.write(b" ")
    with pytest.raises(Exception, match="changed since registration"):
        spec.function(_image())


def test_listed_by_triage_models_with_hashes(vit_dir):
    from triage_app.models_registry import list_models

    H.register_checkpoints([{"path": str(vit_dir), "modality": "image",
                             "label_map": LABEL_MAP, "name": "vit-lab"}])
    rows = {r["name"]: r for r in list_models()}
    row = rows["hf:vit-lab"]
    assert row["weight_files"][0]["sha256"] == _sha(vit_dir / "model.safetensors")
    assert row["origin"].startswith("checkpoint:")


def test_importing_learned_modules_does_not_import_torch():
    code = ("import sys; import detectors.learned.hf_checkpoint, detectors.learned.residual_cnn;"
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules];"
            "sys.exit(1 if bad else 0)")
    root = Path(__file__).resolve().parents[3]
    r = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def test_checkpoint_from_the_settings_file_joins_analyses_and_models(vit_dir, tmp_path,
                                                                      monkeypatch, capsys):
    """The whole plug-in path a lab uses: a settings file names a local checkpoint; `triage
    analyze` runs it as a detector and `triage models` lists it with its weight hashes."""
    import json

    from triage_app.cli import main

    settings = tmp_path / "settings.json"
    settings.write_text(json.dumps({"checkpoints": [
        {"path": str(vit_dir), "modality": "image", "name": "tiny-vit",
         "label_map": {"FAKE": "manipulated", "REAL": "authentic"}}]}))
    monkeypatch.setenv("TRIAGE_SETTINGS", str(settings))
    img = tmp_path / "x.png"
    from PIL import Image

    Image.fromarray(_image().pixels).save(img)
    assert main(["analyze", str(img), "--json"]) == 0
    out = json.loads(capsys.readouterr().out.splitlines()[0])
    hf = [d for d in out["detectors"] if d["name"] == "hf:tiny-vit"]
    assert hf and hf[0]["status"] == "ok" and 0 <= hf[0]["score"] <= 1
    assert main(["models", "--json"]) == 0
    entries = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    (entry,) = [e for e in entries if e["name"] == "hf:tiny-vit"]
    assert entry["weight_files"] and all(len(w["sha256"]) == 64 for w in entry["weight_files"])
