"""The ``triage eval --json``-style item record that the generated-media scripts write, so that
``fit_ensemble.py`` can pool them with the corpus's own eval output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def eval_record(analysis: Any, *, path: str, manipulated: bool, modality: str, source: str,
                manipulation: str, **extra: Any) -> dict[str, Any]:
    """One item record from a pipeline ``Analysis``: its verdict, the score of every detector
    that ran and every detector's status, plus ``extra`` fields (origin, fit_weight...)."""
    return {
        "path": path, "label": "manipulated" if manipulated else "authentic",
        "modality": modality, "source": source, "manipulation": manipulation,
        "artifacts": [], "error": None, **extra,
        "probability": analysis.verdict.probability, "verdict": analysis.verdict.label,
        "scores": {d.name: d.score for d in analysis.detectors if d.status == "ok"},
        "status": {d.name: d.status for d in analysis.detectors}}


def write_records(items: list[dict[str, Any]], out: str | Path) -> None:
    """Write ``{"items": items}`` to ``out`` (folders made as needed) and say how many."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps({"items": items}, default=str))
    print(f"wrote {len(items)} records to {out}")
