"""Pluggable local Hugging Face checkpoints: a lab's own image or audio classifier as a detector.

A lab points the application at a **local** folder holding a transformers image-classification
or audio-classification checkpoint (``config.json``, ``*.safetensors`` weights, the processor's
or feature extractor's JSON). Each entry of ``Settings.checkpoints``::

    {"path": "/models/vit-deepfake", "modality": "image",
     "label_map": {"FAKE": "manipulated", "REAL": "authentic"}, "name": "vit-df"}

becomes one detector, ``hf:<name or folder name>``, through :func:`register_checkpoints`.

Contract
--------
- Only existing local directories: a hub name (``"org/model"``) or a missing path is refused;
  ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` are set before transformers is imported
  and every ``from_pretrained`` gets ``local_files_only=True``.
- Only safetensors weights (``use_safetensors=True``): a folder with only
  ``pytorch_model.bin`` (or other pickle files) is refused with a clear error, at
  registration.
- The model loads lazily, on the detector's first run, once per process and folder.
- Score: softmax over the model's labels; the probability of manipulation is the sum of the
  probabilities of the labels that ``label_map`` maps to ``"manipulated"``. Labels missing from
  the map are ignored: they count neither way (so the score is a probability only when the
  map covers every label with mass; ``extras`` shows every label's probability). A
  ``label_map`` that maps no label of the model to ``"manipulated"`` is a configuration error
  at registration.
- Audio is mixed to mono and resampled to the feature extractor's ``sampling_rate``
  (``scipy.signal.resample_poly``), then scored in windows of at most
  :data:`AUDIO_WINDOW_S` seconds whose probabilities are averaged.
- The version is the first 12 hex digits of a SHA-256 over the weight files' SHA-256 (so
  retrained weights are a new version); every weight file's hash is in ``params`` and in the
  spec's ``weight_files`` (``triage models`` lists them). The files are re-hashed before the
  model loads; a file changed since registration is an error, not a silent new model.

The calibration of a third-party checkpoint is whatever its training gave it; we do not
re-calibrate it (say so in a report).

Reference: T. Wolf et al., "Transformers: State-of-the-Art Natural Language Processing",
EMNLP 2020 (System Demonstrations), doi:10.18653/v1/2020.emnlp-demos.6; the method is the
checkpoint's own (its model card).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from detectors import registry
from detectors.registry import DetectorSpec
from triage_app.model import DetectorResult

from . import _torch

log = logging.getLogger(__name__)

PREFIX = "hf:"
MODALITIES = ("image", "audio")
TARGETS = ("manipulated", "authentic")
ENTRY_KEYS = {"path", "modality", "label_map", "name"}
#: Pickle-based weight files we refuse to load.
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
#: Longest audio window given to the model at once, seconds.
AUDIO_WINDOW_S = 10.0
#: Audio shorter than this (seconds) is not judged.
MIN_AUDIO_S = 0.1


class CheckpointError(ValueError):
    """A checkpoint entry that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Checkpoint:
    """A validated checkpoint entry."""

    name: str
    path: Path
    modality: str
    label_map: dict[str, str]
    labels: dict[int, str]                 # the model's id2label
    manipulated: tuple[str, ...]           # model labels counted as manipulation
    authentic: tuple[str, ...]
    weights: dict[str, str] = field(default_factory=dict)   # file name -> sha256
    name_or_path: str = ""
    model_type: str = ""

    @property
    def version(self) -> str:
        h = hashlib.sha256()
        for fname in sorted(self.weights):
            h.update(f"{fname}:{self.weights[fname]}\n".encode())
        return h.hexdigest()[:12]

    def params(self) -> dict[str, Any]:
        return {"path": str(self.path), "modality": self.modality,
                "label_map": dict(self.label_map), "manipulated_labels": list(self.manipulated),
                "authentic_labels": list(self.authentic),
                "labels": {str(k): v for k, v in sorted(self.labels.items())},
                "weights_sha256": dict(self.weights), "name_or_path": self.name_or_path,
                "model_type": self.model_type}


# --------------------------------------------------------------------------- validation


def _model_labels(config: dict[str, Any]) -> dict[int, str]:
    raw = config.get("id2label") or {}
    try:
        return {int(k): str(v) for k, v in raw.items()}
    except (TypeError, ValueError):
        raise CheckpointError("config.json has a malformed id2label") from None


def _match_label(key: str, labels: Iterable[str]) -> str | None:
    """The model label that ``key`` names: exact, else case-insensitive."""
    labels = list(labels)
    if key in labels:
        return key
    low = [lab for lab in labels if lab.lower() == key.lower()]
    return low[0] if len(low) == 1 else None


def validate_entry(entry: dict[str, Any]) -> Checkpoint:
    """Check one ``Settings.checkpoints`` entry and hash its weights.

    Raises
    ------
    CheckpointError
        When the entry is malformed, the path is not an existing local folder, the folder
        has no ``config.json`` or no ``*.safetensors`` weights (pickle-only folders are refused
        by name), or the label map maps no model label to ``"manipulated"``.
    """
    if not isinstance(entry, dict):
        raise CheckpointError(f"a checkpoint entry must be an object, got {type(entry).__name__}")
    unknown = set(entry) - ENTRY_KEYS
    if unknown:
        raise CheckpointError(f"checkpoint entry has unknown keys: {', '.join(sorted(unknown))} "
                              f"(allowed: {', '.join(sorted(ENTRY_KEYS))})")
    raw_path = entry.get("path")
    if not isinstance(raw_path, str) or not raw_path.strip():
        raise CheckpointError("checkpoint entry needs a 'path' to a local folder")
    path = Path(raw_path).expanduser()
    if not path.exists():
        raise CheckpointError(
            f"checkpoint path {raw_path!r} does not exist; it must be a local folder "
            "(Hugging Face hub names are never downloaded: download the checkpoint yourself "
            "and give its folder)")
    if not path.is_dir():
        raise CheckpointError(f"checkpoint path {raw_path!r} is not a folder")
    path = path.resolve()
    modality = entry.get("modality")
    if modality not in MODALITIES:
        raise CheckpointError(f"checkpoint {raw_path!r}: modality must be one of "
                              f"{', '.join(MODALITIES)}, got {modality!r}")
    cfg_file = path / "config.json"
    if not cfg_file.is_file():
        raise CheckpointError(f"checkpoint {raw_path!r} has no config.json: not a transformers "
                              "checkpoint folder")
    try:
        config = json.loads(cfg_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {raw_path!r}: cannot read config.json: {exc}") from None
    weights = sorted(p for p in path.glob("*.safetensors") if p.is_file())
    if not weights:
        pickles = sorted(p.name for p in path.iterdir()
                         if p.is_file() and p.suffix.lower() in PICKLE_SUFFIXES)
        if pickles:
            raise CheckpointError(
                f"checkpoint {raw_path!r} holds only pickle weights ({', '.join(pickles)}); "
                "loading pickle can run arbitrary code, so only *.safetensors weights are "
                "accepted. Convert it (e.g. model.save_pretrained(folder, "
                "safe_serialization=True) on a trusted machine) and point at the result.")
        raise CheckpointError(f"checkpoint {raw_path!r} has no *.safetensors weight file")
    labels = _model_labels(config)
    if not labels:
        raise CheckpointError(f"checkpoint {raw_path!r}: config.json has no id2label")
    label_map = entry.get("label_map")
    if not isinstance(label_map, dict) or not label_map:
        raise CheckpointError(f"checkpoint {raw_path!r}: label_map must map model labels to "
                              "'manipulated' or 'authentic'")
    bad = {k: v for k, v in label_map.items() if v not in TARGETS}
    if bad:
        raise CheckpointError(f"checkpoint {raw_path!r}: label_map values must be "
                              f"'manipulated' or 'authentic', got {bad}")
    manip, auth = [], []
    for key, target in label_map.items():
        lab = _match_label(str(key), labels.values())
        if lab is not None:
            (manip if target == "manipulated" else auth).append(lab)
    if not manip:
        raise CheckpointError(
            f"checkpoint {raw_path!r}: label_map maps none of the model's labels "
            f"({', '.join(labels.values())}) to 'manipulated'; the detector would have no "
            "score")
    name = entry.get("name") or path.name
    if not isinstance(name, str) or not name.strip():
        raise CheckpointError(f"checkpoint {raw_path!r}: name must be a non-empty string")
    return Checkpoint(
        name=PREFIX + name.strip(), path=path, modality=modality,
        label_map={str(k): str(v) for k, v in label_map.items()}, labels=labels,
        manipulated=tuple(manip), authentic=tuple(auth),
        weights={p.name: _torch.sha256_file(p) for p in weights},
        name_or_path=str(config.get("_name_or_path") or ""),
        model_type=str(config.get("model_type") or ""))


# --------------------------------------------------------------------------- loading


_LOAD_LOCK = threading.Lock()
_LOADED: dict[tuple[str, str], tuple[Any, Any]] = {}


def load(cp: Checkpoint) -> tuple[Any, Any]:
    """(model in eval mode, processor or feature extractor), loaded once per folder+weights.

    Re-hashes the weight files first: a file changed since registration is an error.
    """
    key = (str(cp.path), cp.version)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        now = {p.name: _torch.sha256_file(p) for p in sorted(cp.path.glob("*.safetensors"))}
        if now != cp.weights:
            raise _torch.LearnedModelError(
                f"{cp.name}: the weight files in {cp.path} changed since registration; "
                "re-register (restart or reload settings) to use the new weights")
        tr = _torch.transformers()
        _torch.torch()
        common = {"local_files_only": True}
        if cp.modality == "image":
            model = tr.AutoModelForImageClassification.from_pretrained(
                str(cp.path), use_safetensors=True, **common)
            proc = tr.AutoImageProcessor.from_pretrained(str(cp.path), **common)
        else:
            model = tr.AutoModelForAudioClassification.from_pretrained(
                str(cp.path), use_safetensors=True, **common)
            proc = tr.AutoFeatureExtractor.from_pretrained(str(cp.path), **common)
        model.eval()
        _LOADED[key] = (model, proc)
        return model, proc


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def _label_probs(cp: Checkpoint, model: Any, probs: np.ndarray) -> dict[str, float]:
    id2label = {int(k): str(v) for k, v in getattr(model.config, "id2label", {}).items()}
    id2label = id2label or cp.labels
    return {id2label.get(i, str(i)): float(p) for i, p in enumerate(probs)}


def _score(cp: Checkpoint, by_label: dict[str, float]) -> float:
    return float(sum(by_label.get(lab, 0.0) for lab in cp.manipulated))


def _run_image(cp: Checkpoint, media: Any) -> tuple[float, dict[str, Any]]:
    torch = _torch.torch()
    model, proc = load(cp)
    pixels = getattr(media, "pixels", None)
    if not isinstance(pixels, np.ndarray) or pixels.ndim != 3:
        raise ValueError("expected an ImageMedia with RGB pixels")
    inputs = proc(images=pixels, return_tensors="pt")
    with torch.inference_mode():
        logits = model(**inputs).logits[0].double().numpy()
    by_label = _label_probs(cp, model, _softmax(logits))
    return _score(cp, by_label), {"label_probabilities": {k: round(v, 4)
                                                          for k, v in by_label.items()}}


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Polyphase resampling (scipy.signal.resample_poly) from ``sr_in`` to ``sr_out`` Hz."""
    if sr_in == sr_out:
        return x.astype(np.float32, copy=False)
    from scipy.signal import resample_poly

    g = math.gcd(int(sr_in), int(sr_out))
    return resample_poly(x, int(sr_out) // g, int(sr_in) // g).astype(np.float32)


def _run_audio(cp: Checkpoint, media: Any) -> tuple[float, dict[str, Any]] | str:
    torch = _torch.torch()
    model, fe = load(cp)
    sr = int(getattr(fe, "sampling_rate", 0) or 16000)
    mono = media.mono() if hasattr(media, "mono") else np.asarray(media.samples).mean(axis=1)
    if len(mono) < MIN_AUDIO_S * media.sample_rate:
        return f"audio shorter than {MIN_AUDIO_S} s"
    x = resample(np.asarray(mono, np.float32), int(media.sample_rate), sr)
    win = int(AUDIO_WINDOW_S * sr)
    n_win = max(1, int(math.ceil(len(x) / win)))
    rows = []
    for k in range(n_win):
        seg = x[k * win:(k + 1) * win]
        if k and len(seg) < MIN_AUDIO_S * sr:       # a tiny tail: judged with the previous
            break
        inputs = fe(seg, sampling_rate=sr, return_tensors="pt")
        with torch.inference_mode():
            logits = model(**inputs).logits[0].double().numpy()
        rows.append(_label_probs(cp, model, _softmax(logits)))
    scores = [_score(cp, r) for r in rows]
    mean_by_label = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    return float(np.mean(scores)), {
        "label_probabilities": {k: round(v, 4) for k, v in mean_by_label.items()},
        "window_s": AUDIO_WINDOW_S, "window_scores": [round(s, 4) for s in scores],
        "model_sample_rate": sr}


def make_detector(cp: Checkpoint):
    """The detector function of a validated checkpoint (loads the model on first call)."""

    def run(media: Any) -> DetectorResult:
        t0 = time.perf_counter()
        params = cp.params()
        kind = getattr(media, "kind", None)
        if kind != cp.modality:
            return DetectorResult.not_applicable(
                cp.name, cp.version, f"this checkpoint judges {cp.modality}, not {kind}",
                params=params)
        out = _run_image(cp, media) if cp.modality == "image" else _run_audio(cp, media)
        if isinstance(out, str):
            return DetectorResult.not_applicable(cp.name, cp.version, out, params=params)
        score, extras = out
        return DetectorResult(name=cp.name, version=cp.version, status="ok", score=score,
                              runtime=time.perf_counter() - t0, params=params, extras=extras)

    run.__name__ = run.__qualname__ = "hf_checkpoint_" + cp.name[len(PREFIX):]
    run.__module__ = __name__
    return run


def checkpoint_spec(entry: dict[str, Any]) -> DetectorSpec:
    """A :class:`DetectorSpec` for one settings entry (validates; does not register)."""
    cp = validate_entry(entry)
    return DetectorSpec(
        name=cp.name, version=cp.version, modalities=(cp.modality,),
        function=make_detector(cp),
        method=f"Local transformers {cp.modality}-classification checkpoint "
               f"({cp.model_type or 'unknown type'}); probability of manipulation = sum of "
               f"the softmax probabilities of {', '.join(cp.manipulated)}",
        reference="The checkpoint's own model card (" + (cp.name_or_path or str(cp.path)) +
                  "); run with Hugging Face transformers (Wolf et al., EMNLP 2020)",
        limits="Third-party model: its training data, calibration and limits are its "
               "author's; scores are not re-calibrated by this application. Labels outside "
               "the label map are ignored.",
        artifacts=(), params=cp.params(), localizes=False, map_weight=0.0,
        weight_files=tuple(str(cp.path / f) for f in sorted(cp.weights)),
        origin=f"checkpoint:{cp.path}",
        # a classifier of the whole voice (its windows are averaged too), not of an event
        segment_pooling="mean")


# --------------------------------------------------------------------------- registration

_REG_LOCK = threading.Lock()
_REGISTERED: set[str] = set()
ERROR_PREFIX = "checkpoint:"


def register_checkpoints(settings: Any, *, strict: bool = False) -> list[DetectorSpec]:
    """Register one detector per entry of ``settings.checkpoints``; idempotent.

    Every call replaces what the previous call registered: detectors of entries that are gone
    are unregistered, the others re-registered (a loaded model is reused when its folder and
    weights are unchanged). An entry that cannot be used is skipped and its error recorded in
    :data:`detectors.registry.LOAD_ERRORS` under ``"checkpoint:<path>"`` (``triage models``
    shows it), or raised as :class:`CheckpointError` when ``strict``.

    Parameters
    ----------
    settings : Settings or any object with a ``checkpoints`` list, or the list itself.

    Returns
    -------
    list of DetectorSpec
        The registered specs, in settings order.
    """
    entries = settings if isinstance(settings, list) else getattr(settings, "checkpoints", [])
    specs: list[DetectorSpec] = []
    errors: dict[str, str] = {}
    for i, entry in enumerate(entries or []):
        where = f"{ERROR_PREFIX}{entry.get('path') if isinstance(entry, dict) else i}"
        try:
            spec = checkpoint_spec(entry)
            if any(s.name == spec.name for s in specs):
                raise CheckpointError(f"two checkpoints are named {spec.name!r}; give one a "
                                      "different 'name'")
        except CheckpointError as exc:
            if strict:
                raise
            errors[where] = f"CheckpointError: {exc}"
            log.error("checkpoint %s refused: %s", where, exc)
            continue
        specs.append(spec)
    with _REG_LOCK:
        for name in _REGISTERED - {s.name for s in specs}:
            registry.unregister(name)
        for key in [k for k in registry.LOAD_ERRORS if k.startswith(ERROR_PREFIX)]:
            del registry.LOAD_ERRORS[key]
        registry.LOAD_ERRORS.update(errors)
        for spec in specs:
            registry.register(spec)
        _REGISTERED.clear()
        _REGISTERED.update(s.name for s in specs)
    return specs


__all__ = ["Checkpoint", "CheckpointError", "checkpoint_spec", "load", "make_detector",
           "register_checkpoints", "resample", "validate_entry"]
