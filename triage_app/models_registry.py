"""The model registry behind ``triage models``: every detector and model, with weight hashes.

Reports cite it, so that an analysis can be re-run with exactly the same weights.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from triage_app.settings import Settings


@lru_cache(maxsize=64)
def _sha256(path: str, mtime: float, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def file_sha256(path: str | Path) -> str:
    st = Path(path).stat()
    return _sha256(str(path), st.st_mtime, st.st_size)


def list_models(settings: Settings | None = None) -> list[dict[str, Any]]:
    """One dict per registered detector: name, version, modalities, method, reference, limits,
    parameters, weight files with SHA-256, origin; and a line per module that failed to load."""
    from detectors.registry import LOAD_ERRORS, all_detectors

    if settings is not None and settings.checkpoints:
        from detectors.learned.hf_checkpoint import register_checkpoints

        register_checkpoints(settings)
    out: list[dict[str, Any]] = []
    for spec in sorted(all_detectors(), key=lambda s: (s.modalities, s.name)):
        weights = []
        for wf in spec.weight_files:
            p = Path(wf)
            weights.append({"path": str(p), "sha256": file_sha256(p) if p.is_file() else None})
        out.append({
            "name": spec.name, "version": spec.version, "modalities": list(spec.modalities),
            "method": spec.method, "reference": spec.reference, "limits": spec.limits,
            "artifacts": list(spec.artifacts), "params": spec.params,
            "weight_files": weights, "origin": spec.origin,
        })
    for module, error in sorted(LOAD_ERRORS.items()):
        out.append({"name": module, "version": "-", "modalities": [], "method": "",
                    "reference": "", "limits": "", "artifacts": [], "params": {},
                    "weight_files": [], "origin": module, "load_error": error})
    return out
