"""Evidence reports: PDF (reportlab) with a JSON sidecar and a CASE/UCO export, optionally
signed (PAdES); :func:`export_report` is what the CLI and the GUI call."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable


@dataclass
class ReportResult:
    report_id: str
    pdf: Path
    sidecar: Path
    uco: Path
    pdf_sha256: str
    sidecar_sha256: str
    signed: bool


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def sidecar_path(pdf: str | Path) -> Path:
    return Path(pdf).with_suffix(".json")


def uco_path(pdf: str | Path) -> Path:
    return Path(pdf).with_suffix(".uco.jsonld")


def export_report(case: Any, out_pdf: str | Path, *, evidence: Iterable[str] | None = None,
                  sign_key: str | Path | None = None, passphrase: str | None = None,
                  organization: str | None = None) -> ReportResult:
    """Write ``out_pdf`` with its sidecar (``.json``) and CASE/UCO export (``.uco.jsonld``),
    sign it when ``sign_key`` (PKCS#12) is given, keep a copy in the case's ``reports/``, and
    record the report's hashes in the custody log."""
    from triage_app.report.content import build_report_data
    from triage_app.report.figures import figures_for_item
    from triage_app.report.pdf import render_pdf
    from triage_app.report.signing import load_signer, sign_pdf
    from triage_app.report.uco import to_case_uco

    out = Path(out_pdf)
    # a bad key fails before anything is written
    signer = load_signer(sign_key, passphrase) if sign_key else None
    data = build_report_data(case, evidence, organization=organization)
    out.parent.mkdir(parents=True, exist_ok=True)
    side = sidecar_path(out)
    side.write_text(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False, default=str),
                    encoding="utf-8")
    side_sha = _sha256(side)
    uco = uco_path(out)
    uco.write_text(json.dumps(to_case_uco(data), indent=2, ensure_ascii=False), encoding="utf-8")
    figures = {it["sha256"]: figures_for_item(case, it) for it in data["items"]}
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        draft = Path(tmp) / "draft.pdf"
        render_pdf(data, draft, sidecar_sha256=side_sha, figures=figures)
        if sign_key:
            sign_pdf(draft, Path(tmp) / "signed.pdf", signer=signer,
                     location=data["case"].get("organization") or None)
            os.replace(Path(tmp) / "signed.pdf", out)
        else:
            os.replace(draft, out)
    pdf_sha = _sha256(out)
    kept = Path(case.path) / "reports"
    kept.mkdir(exist_ok=True)
    if kept.resolve() != out.parent.resolve():
        for src in (out, side, uco):
            shutil.copyfile(src, kept / f"{data['report_id']}{''.join(src.suffixes[-2:]) if src == uco else src.suffix}")
    case.record_report(out, pdf_sha, details={
        "report_id": data["report_id"], "pdf_sha256": pdf_sha, "sidecar_sha256": side_sha,
        "uco_sha256": _sha256(uco), "signed": bool(sign_key),
        "items": [it["sha256"] for it in data["items"]]})
    return ReportResult(data["report_id"], out, side, uco, pdf_sha, side_sha, bool(sign_key))
