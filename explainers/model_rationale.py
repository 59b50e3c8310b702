"""Optional: a rationale written by a local language model, parsed and validated like any other.

A lab that keeps a causal language-model checkpoint on disk can have it write the explanation.
The checkpoint is loaded with ``transformers`` from a LOCAL DIRECTORY ONLY
(``local_files_only=True``; anything that is not an existing directory is refused) and from
safetensors weights only (``use_safetensors=True``; a folder with only pickle weights is
refused). Nothing is ever downloaded. The model is prompted with the findings (the same facts the
template writer uses); its text is parsed with :func:`explainers.claims.parse_rationale`
(``source="model"``) and, when media is given, checked with :func:`explainers.validator.validate`
so that what it made up is flagged.

``torch`` and ``transformers`` are imported only when :func:`load_local_model` runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from explainers import taxonomy
from explainers.claims import parse_rationale
from explainers.rationale import describe_location, describe_measurement
from triage_app.model import Analysis, Claim

__all__ = ["LocalModel", "load_local_model", "build_prompt", "generate_rationale",
           "model_rationale"]


@dataclass
class LocalModel:
    """A loaded local checkpoint: tokenizer, model, and where it came from."""

    path: str
    tokenizer: Any = field(repr=False)
    model: Any = field(repr=False)
    weight_files: list[str] = field(default_factory=list)


def load_local_model(path: str | Path) -> LocalModel:
    """Load a causal LM and its tokenizer from a local directory, safetensors only.

    Raises
    ------
    ValueError
        ``path`` is not an existing directory, or holds no ``*.safetensors`` weights.
    """
    p = Path(path)
    if not p.is_dir():
        raise ValueError(f"model path must be an existing local directory, got {str(path)!r}")
    weights = sorted(str(w.name) for w in p.glob("*.safetensors"))
    if not weights:
        raise ValueError(f"{p} holds no .safetensors weights; other weight formats are refused")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(p), local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(p), local_files_only=True,
                                                 use_safetensors=True)
    model.eval()
    return LocalModel(path=str(p.resolve()), tokenizer=tok, model=model, weight_files=weights)


def build_prompt(analysis: Analysis, *, min_strength: float = 0.5, top_n: int = 8) -> str:
    """The findings summary the model is asked to explain (facts only, strongest first)."""
    media = analysis.media or {}
    kind = media.get("kind", "item")
    lines = [f"Media: {kind}" + (f", {media.get('width')}x{media.get('height')}"
                                  if media.get("width") else "")
             + (f", {media.get('duration')} s" if media.get("duration") else "") + ".",
             f"Verdict: {analysis.verdict.label.replace('_', ' ')}"
             + (f" (probability {analysis.verdict.probability:.2f})"
                if analysis.verdict.probability is not None else "") + ".",
             "Findings:"]
    fs = sorted((f for f in analysis.findings if f.strength >= min_strength),
                key=lambda f: -f.strength)[:top_n]
    for f in fs:
        where = describe_location(f.location, f.region, width=media.get("width"),
                                  height=media.get("height"))
        lines.append(f"- {taxonomy.artifact_name(f.artifact, media.get('kind'))} {where}: "
                     f"{describe_measurement(f.measurement)} (strength {f.strength:.2f}).")
    if not fs:
        lines.append("- none above the reporting threshold.")
    lines.append("Explain the verdict in a few sentences, naming only the findings above.")
    lines.append("Explanation:")
    return "\n".join(lines)


def generate_rationale(model: LocalModel, prompt: str, *, max_new_tokens: int = 120,
                       seed: int = 0) -> str:
    """Greedy generation (deterministic): the text the model adds after the prompt."""
    import torch

    torch.manual_seed(seed)
    tok = model.tokenizer
    enc = tok(prompt, return_tensors="pt")
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    with torch.no_grad():
        out = model.model.generate(**enc, max_new_tokens=max_new_tokens, do_sample=False,
                                   pad_token_id=pad)
    new = out[0, enc["input_ids"].shape[1]:]
    return tok.decode(new, skip_special_tokens=True).strip()


def model_rationale(analysis: Analysis, model: LocalModel | str | Path, media: Any = None, *,
                    max_new_tokens: int = 120) -> tuple[str, list[Claim]]:
    """Prompt a local model with the findings, parse its text (``source="model"``), and validate
    the claims against ``media`` when given (else they stay ``unchecked``).

    Returns the generated text and its claims.
    """
    lm = model if isinstance(model, LocalModel) else load_local_model(model)
    text = generate_rationale(lm, build_prompt(analysis), max_new_tokens=max_new_tokens)
    kind = (analysis.media or {}).get("kind")
    claims = parse_rationale(text, kind if kind in taxonomy.MODALITIES else None, source="model")
    if media is not None:
        from explainers.validator import validate

        claims = validate(claims, media, verdict=analysis.verdict)
    return text, claims
