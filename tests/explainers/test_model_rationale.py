"""Local language-model rationale: a tiny GPT-2 and a character tokenizer built here, saved as
safetensors into tmp_path; nothing is downloaded."""

from __future__ import annotations

import string

import pytest

pytest.importorskip("transformers")
pytest.importorskip("tokenizers")

from explainers.model_rationale import (build_prompt, generate_rationale, load_local_model,  # noqa: E402
                                        model_rationale)
from triage_app.model import (Analysis, Box, DetectorResult, Finding, Measurement,  # noqa: E402
                              Verdict)

from _explainer_synth import image_media, scene  # noqa: E402


def tiny_checkpoint(path):
    from tokenizers import Tokenizer, decoders, models
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    chars = ["<pad>", "<unk>", "<eos>"] + list(string.ascii_letters + string.digits
                                               + string.punctuation + " \n")
    vocab = {c: i for i, c in enumerate(dict.fromkeys(chars))}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token="<unk>"))
    tk.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=tk, unk_token="<unk>", pad_token="<pad>",
                                  eos_token="<eos>")
    import torch

    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=len(vocab), n_positions=2048, n_embd=32, n_layer=1, n_head=2,
                     bos_token_id=vocab["<eos>"], eos_token_id=vocab["<eos>"])
    model = GPT2LMHeadModel(cfg)
    model.save_pretrained(path, safe_serialization=True)
    tok.save_pretrained(path)
    return path


@pytest.fixture(scope="module")
def ckpt(tmp_path_factory):
    return tiny_checkpoint(tmp_path_factory.mktemp("lm"))


def analysis():
    f = Finding("noise", Box(180, 60, 100, 80), 0.9, Measurement("noise level", 6.5, 1.0), "noise")
    det = DetectorResult("noise", "1", "ok", score=0.9, findings=[f])
    return Analysis(media={"kind": "image", "width": 320, "height": 240},
                    verdict=Verdict("likely_manipulated", 0.9), detectors=[det])


def test_prompt_holds_the_findings():
    p = build_prompt(analysis())
    assert "Verdict: likely manipulated (probability 0.90)" in p
    assert "Noise in the right side (x=180, y=60, 100x80)" in p
    assert p.endswith("Explanation:")


def test_refuses_non_local_and_non_safetensors(tmp_path):
    with pytest.raises(ValueError, match="existing local directory"):
        load_local_model("gpt2")  # a hub id is not a directory: never downloaded
    with pytest.raises(ValueError, match="existing local directory"):
        load_local_model(tmp_path / "missing")
    (tmp_path / "pickled").mkdir()
    (tmp_path / "pickled" / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ValueError, match="safetensors"):
        load_local_model(tmp_path / "pickled")


def test_tiny_model_generates_and_is_validated(ckpt, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    lm = load_local_model(ckpt)
    assert lm.weight_files == ["model.safetensors"]
    text = generate_rationale(lm, "Noise:", max_new_tokens=20)
    assert isinstance(text, str) and len(text) > 0
    assert text == generate_rationale(lm, "Noise:", max_new_tokens=20)  # greedy: deterministic
    media = image_media(scene())
    text2, claims = model_rationale(analysis(), lm, media, max_new_tokens=24)
    assert claims and all(c.source == "model" for c in claims)
    assert all(c.status in ("grounded", "hallucinated", "unverifiable") for c in claims)
    _, unchecked = model_rationale(analysis(), ckpt, None, max_new_tokens=4)
    assert all(c.status == "unchecked" and c.source == "model" for c in unchecked)
