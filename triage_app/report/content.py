"""What a report says, as plain data: the JSON sidecar (schema ``deepfake-triage/report/1``).

The PDF is rendered from exactly this dictionary, so that the sidecar and the PDF never
disagree. The schema is documented in ``docs/report_schema.md``.
"""

from __future__ import annotations

import getpass
import json
import socket
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable

from triage_app import __version__
from triage_app.segments import describe as describe_segments

SCHEMA = "deepfake-triage/report/1"


def utc_now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def canonical_json(obj: Any) -> bytes:
    """The bytes we hash: sorted keys, no insignificant whitespace, UTF-8."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def _contributions(analysis: dict[str, Any]) -> dict[str, float]:
    return dict((analysis.get("verdict") or {}).get("contributions") or {})


def item_record(case: Any, sha256: str) -> dict[str, Any]:
    """Everything the report says about one evidence item."""
    item = case.item(sha256)
    analysis = case.latest_analysis(sha256)
    a = analysis.to_dict() if analysis is not None else None
    if analysis is not None:
        from explainers.rationale import said_statuses

        # n: each finding's number in the findings table and on the figures;
        # explanation_status: the status of the sentence that says it (None: not said)
        for i, (f, status) in enumerate(zip(a["findings"], said_statuses(analysis)), 1):
            f.update(n=i, explanation_status=status)
    contributions = _contributions(a) if a else {}
    detectors = []
    if a:
        for d in a["detectors"]:
            detectors.append({
                "name": d["name"], "version": d["version"], "status": d["status"],
                "score": d["score"], "reason": d["reason"], "params": d.get("params", {}),
                "runtime": d.get("runtime"), "contribution": contributions.get(d["name"]),
                "segments": describe_segments(d.get("extras")),
            })
    return {
        "sha256": sha256,
        "md5": item.get("md5"),
        "size": item.get("size"),
        "name": item.get("name"),
        "kind": item.get("kind"),
        "format": item.get("format"),
        "added_at": item.get("added_at"),
        "sources": item.get("sources", []),
        "media": a["media"] if a else None,
        "error": item.get("error"),
        "verdict": a["verdict"] if a else None,
        "detectors": detectors,
        "findings": a["findings"] if a else [],
        "explanation": a["claims"] if a else [],
        "rationales": case.rationales(sha256),
        "decision": item.get("decision"),
        "decisions": item.get("decisions", []),
        "notes": item.get("notes", []),
        "custody": case.custody_entries(sha256),
    }


def fusion_validation() -> dict[str, Any]:
    """How well each modality's fusion did on held-out items when it was fitted
    (``resources/ensemble.json``: grouped cross-validation), so a report states the error of
    the number it prints."""
    from detectors.ensemble import fitted_parameters

    out = {}
    for modality, fit in fitted_parameters().items():
        if not isinstance(fit, dict) or "cross_validation" not in fit:
            continue
        cv = fit["cross_validation"]
        rep = fit.get("cross_validation_repeated") or {}
        out[modality] = {"auc": cv.get("auc"), "ece": cv.get("ece"), "brier": cv.get("brier"),
                         "n": cv.get("n"), "method": fit.get("method", ""),
                         # the same over other random fold assignments: one split's ECE on
                         # a few hundred items moves by several points
                         "ece_mean": (rep.get("ece") or {}).get("mean"),
                         "assignments": rep.get("assignments")}
    return out


def methods_appendix() -> list[dict[str, Any]]:
    """Each detector's method, reference, limits, parameters and weight hashes."""
    from triage_app.models_registry import list_models

    return list_models()


class EvidenceSelectionError(ValueError):
    """An ``--evidence`` hash (or prefix) that names no item of the case, or several."""


def build_report_data(case: Any, evidence: Iterable[str] | None = None, *,
                      organization: str | None = None,
                      report_id: str | None = None) -> dict[str, Any]:
    """The sidecar dictionary for ``case`` (all items, or those whose SHA-256 is given)."""
    all_items = case.items()
    wanted = list(evidence) if evidence else [it["sha256"] for it in all_items]
    known = {it["sha256"] for it in all_items}
    resolved = []
    for sha in wanted:
        matches = [k for k in known if k.startswith(sha.lower())]
        if len(matches) != 1:
            raise EvidenceSelectionError(f"evidence {sha!r} matches {len(matches)} items in "
                                         f"the case")
        resolved.append(matches[0])
    entries = case.custody_entries()
    head = entries[-1] if entries else None
    return {
        "schema": SCHEMA,
        "report_id": report_id or f"R-{datetime.now(timezone.utc):%Y%m%d}-{uuid.uuid4().hex[:8]}",
        "created_utc": utc_now(),
        "tool": {"name": "Deepfake Triage", "version": __version__},
        "case": {
            "id": case.case_id, "title": case.title, "path": str(case.path),
            "examiner": case.examiner, "organization": organization or "",
            "prepared_by": f"{case.examiner or getpass.getuser()}@{socket.gethostname()}",
        },
        "custody_head": None if head is None else {"seq": head["seq"], "hash": head["hash"]},
        "items": [item_record(case, sha) for sha in resolved],
        "fusion_validation": fusion_validation(),
        "methods": methods_appendix(),
    }
