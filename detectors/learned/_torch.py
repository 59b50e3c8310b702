"""Lazy imports of the heavy learned-model stack (torch, transformers, safetensors).

The application must start fast and run its classical detectors without ever importing torch
(DESIGN.md, "napari: heavy modules are imported inside functions"). Every learned detector
therefore calls :func:`torch` or :func:`transformers` the first time it *runs*, never at module
import; importing ``detectors.learned.*`` costs only numpy.

Threads
-------
We keep torch's default intra-op thread count. The batch scanner runs one process per worker
(``Settings.workers``), and each process runs one item at a time, so on an N-core machine with
N workers torch would oversubscribe; set ``OMP_NUM_THREADS=1`` (or call
``torch.set_num_threads(1)`` in the worker's start-up) when running several workers. The
residual CNN is small (a few MFLOP per patch), so one thread costs it little. Results do not
depend on the thread count beyond float rounding in the last digits.

Offline
-------
:func:`transformers` sets ``HF_HUB_OFFLINE=1`` and ``TRANSFORMERS_OFFLINE=1`` in the process
*before* importing transformers, so that nothing can reach the Hugging Face hub, whatever a
checkpoint's configuration says.
"""

from __future__ import annotations

import hashlib
import os
import threading
from functools import lru_cache
from pathlib import Path
from types import ModuleType
from typing import Any, Callable

_LOCK = threading.Lock()


class LearnedModelError(RuntimeError):
    """A learned model cannot be loaded or used; the message says why, for a person."""


def torch() -> ModuleType:
    """Import torch on first use (and only then)."""
    with _LOCK:
        try:
            import torch as _t
        except ImportError as exc:  # pragma: no cover - torch is a dependency
            raise LearnedModelError(f"PyTorch is not installed: {exc}") from None
        return _t


def set_offline_env() -> None:
    """Forbid any network access by the Hugging Face libraries in this process."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


def transformers() -> ModuleType:
    """Import transformers on first use, offline (see module docstring)."""
    set_offline_env()
    with _LOCK:
        try:
            import transformers as _tr
        except ImportError as exc:  # pragma: no cover - transformers is a dependency
            raise LearnedModelError(f"transformers is not installed: {exc}") from None
        return _tr


def load_safetensors(path: str | Path) -> tuple[dict[str, Any], dict[str, str]]:
    """Tensors and metadata of a ``.safetensors`` file (never pickle).

    Returns
    -------
    tensors : dict of str to torch.Tensor
    metadata : dict of str to str
        The file's ``__metadata__`` header (empty when absent).
    """
    p = Path(path)
    if not p.is_file():
        raise LearnedModelError(f"weight file not found: {p}")
    from safetensors import safe_open
    from safetensors.torch import load_file

    torch()
    tensors = load_file(str(p), device="cpu")
    with safe_open(str(p), framework="pt") as fh:
        meta = dict(fh.metadata() or {})
    return tensors, meta


def save_safetensors(state: dict[str, Any], path: str | Path, metadata: dict[str, str]) -> None:
    """Write tensors and string metadata as safetensors, the header with sorted keys.

    ``save_file`` serializes the header (tensor entries and ``__metadata__``) from a hash map,
    so its byte order, and the file's SHA-256, change from run to run even for identical
    tensors and metadata. Sorting makes the same training give the same file; the tensor
    data and their offsets are unchanged.
    """
    import json
    import struct

    from safetensors.torch import save_file

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    save_file(state, str(p), metadata=metadata)
    raw = p.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    text = json.dumps(json.loads(raw[8:8 + n]), sort_keys=True, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)          # keep the data 8-byte aligned, as safetensors does
    p.write_bytes(struct.pack("<Q", len(text)) + text + raw[8 + n:])


_NET_LOCK = threading.Lock()
_NETS: dict[tuple[str, str], tuple[Any, dict[str, Any], str]] = {}


def load_network(path: str | Path, defaults: dict[str, Any],
                 build: Callable[[dict[str, Any]], Any], *,
                 buffers: tuple[str, ...] = ()) -> tuple[Any, dict[str, Any], str]:
    """(network in eval mode, config, SHA-256 of the file), loaded once per process.

    The config is ``defaults`` updated by the JSON in the file's ``config`` metadata, and
    ``build(config)`` makes the network; ``buffers`` are fixed tensors the network makes
    itself (a weight file need not hold them). Never pickle (:func:`load_safetensors`).

    Raises
    ------
    LearnedModelError
        The file's tensors do not fit the architecture (names or shapes).
    """
    import json

    key = (str(Path(path).resolve()), f"{build.__module__}.{build.__qualname__}")
    with _NET_LOCK:
        if key in _NETS:
            return _NETS[key]
        tensors, meta = load_safetensors(path)
        config = {**defaults, **json.loads(meta.get("config", "{}"))}
        net = build(config)
        try:
            missing, unexpected = net.load_state_dict(tensors, strict=False)
        except RuntimeError as exc:          # same names, other shapes
            raise LearnedModelError(
                f"{path}: weights do not match the architecture ({exc})") from None
        missing = [m for m in missing if m not in buffers]
        if missing or unexpected:
            raise LearnedModelError(
                f"{path}: weights do not match the architecture (missing {missing}, "
                f"unexpected {unexpected})")
        net.eval()
        _NETS[key] = (net, config, sha256_file(path))
        return _NETS[key]


def sha256_file(path: str | Path) -> str:
    """SHA-256 of a file, hex; cached on (path, mtime, size)."""
    st = Path(path).stat()
    return _sha256(str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=128)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


__all__ = ["LearnedModelError", "load_network", "load_safetensors", "save_safetensors",
           "set_offline_env", "sha256_file", "torch", "transformers"]
