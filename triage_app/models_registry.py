"""The model registry behind ``triage models``: every detector and model, with weight hashes.

Reports cite it, so that an analysis can be re-run with exactly the same weights.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from triage_app.settings import Settings


def file_sha256(path: str | Path) -> str:
    """SHA-256 of a weight file, cached while its size and modification time stay the same."""
    from detectors.learned._torch import sha256_file

    return sha256_file(path)


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
