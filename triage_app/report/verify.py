"""``triage verify REPORT.pdf``: is this report what the tool wrote, and is its evidence intact?

Checks, each named in the result:

1. the JSON sidecar next to the PDF hashes to the SHA-256 printed in the PDF;
2. a signed report: every signature is intact and covers the whole file, and, when a trust
   root is given, chains to it; an unsigned report: its SHA-256 appears in the case's custody
   log (``report_exported``), so the case folder is needed;
3. when the case folder is at hand (``--case``, or the path recorded in the sidecar), each
   evidence copy still hashes to the SHA-256 in the report.

``ok`` only when every check that applies holds.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class Check:
    name: str
    ok: bool
    message: str


@dataclass
class ReportVerification:
    pdf: str
    checks: list[Check] = field(default_factory=list)
    #: what the checks do not establish (printed as "note"; not failures)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    def add(self, name: str, ok: bool, message: str) -> None:
        self.checks.append(Check(name, ok, message))

    def lines(self) -> list[str]:
        out = [f"{'OK  ' if c.ok else 'FAIL'}  {c.name}: {c.message}" for c in self.checks]
        out += [f"note  {n}" for n in self.notes]
        out.append(("OK    report verified" if self.ok else "FAILED report verification")
                   + f" ({self.pdf})")
        return out

    def to_json(self) -> dict[str, Any]:
        return {"pdf": self.pdf, "ok": self.ok,
                "checks": [c.__dict__ for c in self.checks], "notes": self.notes}


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _printed_sidecar_hash(pdf_bytes: bytes) -> tuple[str | None, str | None]:
    """The sidecar hash and report id the PDF carries in its document information."""
    import io

    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(pdf_bytes), strict=False)
        meta = reader.metadata or {}
    except Exception as exc:  # pypdf raises many types on damaged files
        raise ValueError(f"the PDF cannot be read ({type(exc).__name__}: {exc})") from None
    subject = str(meta.get("/Subject") or "")
    keywords = str(meta.get("/Keywords") or "")
    sha = subject.split("sidecar-sha256:", 1)[1].strip() if "sidecar-sha256:" in subject else None
    rid = keywords.split("report-id:", 1)[1].strip() if "report-id:" in keywords else None
    return sha, rid


def _check_signatures(pdf_bytes: bytes, result: ReportVerification,
                      trust_root: str | None) -> bool:
    """Validate embedded signatures; returns True when the report is signed."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    try:
        reader = PdfFileReader(io.BytesIO(pdf_bytes), strict=False)
        sigs = list(reader.embedded_signatures)
    except Exception as exc:
        result.add("signature", False, f"the PDF structure cannot be read: {exc}")
        return True
    if not sigs:
        return False
    vc = None
    if trust_root:
        from asn1crypto import pem, x509

        raw = Path(trust_root).read_bytes()
        if pem.detect(raw):
            _, _, raw = pem.unarmor(raw)
        vc = ValidationContext(trust_roots=[x509.Certificate.load(raw)])
    import logging
    import warnings

    log = logging.getLogger("pyhanko")
    level, log.level = log.level, logging.CRITICAL  # its tracebacks; the lines below say it
    for sig in sigs:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # cryptography's DSA deprecation, every run
                status = validate_pdf_signature(sig, vc)
        except Exception as exc:
            result.add("signature", False, f"signature {sig.field_name!r} cannot be validated: {exc}")
            continue
        finally:
            log.setLevel(level)
        coverage = getattr(status.coverage, "name", str(status.coverage))
        signer = status.signing_cert.subject.human_friendly if status.signing_cert else "unknown"
        if not (status.intact and status.valid):
            result.add("signature", False, f"signature {sig.field_name!r} by {signer} does not "
                       "match the document: the PDF was changed after it was signed")
        elif coverage != "ENTIRE_FILE":
            result.add("signature", False, f"signature {sig.field_name!r} does not cover the whole "
                       f"file ({coverage}): content was added after signing")
        else:
            result.add("signature", True, f"signature {sig.field_name!r} by {signer} is intact and "
                       "covers the whole file")
        if not (status.intact and status.valid):
            continue  # a broken signature: whom it chains to says nothing
        if trust_root:
            result.add("trust", bool(status.trusted),
                       "the signer chains to the given trust root" if status.trusted else
                       "the signer does not chain to the given trust root")
        else:
            result.notes.append(f"the signer's identity ({signer}) was not checked: the "
                                f"signature proves the file is unchanged since it was signed "
                                f"by that key, not who holds the key; give --trust-root "
                                f"CERT.pem (your lab's certificate) to check it")
    return True


def verify_report(pdf: str | Path, *, case: str | Path | None = None,
                  trust_root: str | None = None) -> ReportVerification:
    pdf = Path(pdf)
    result = ReportVerification(str(pdf))
    pdf_bytes = pdf.read_bytes()
    pdf_sha = _sha256_bytes(pdf_bytes)
    try:
        printed, report_id = _printed_sidecar_hash(pdf_bytes)
    except ValueError as exc:
        result.add("pdf", False, str(exc))
        return result

    from triage_app.report import sidecar_path

    side = sidecar_path(pdf)
    data: dict[str, Any] | None = None
    if printed is None:
        result.add("sidecar", False, "the PDF carries no sidecar hash (not a Deepfake Triage "
                   "report, or its document information was altered)")
    elif not side.is_file():
        result.add("sidecar", False, f"sidecar {side.name} not found next to the report")
    else:
        side_bytes = side.read_bytes()
        actual = _sha256_bytes(side_bytes)
        if actual != printed:
            result.add("sidecar", False, f"sidecar {side.name} hashes to {actual}, but the report "
                       f"prints {printed}: the sidecar was changed")
        else:
            result.add("sidecar", True, f"sidecar {side.name} matches the SHA-256 in the report")
            data = json.loads(side_bytes)

    signed = _check_signatures(pdf_bytes, result, trust_root)

    case_dir = Path(case) if case else None
    if case_dir is None and data and data.get("case", {}).get("path"):
        guess = Path(data["case"]["path"])
        if (guess / "case.db").is_file():
            case_dir = guess
    if case_dir is None and (pdf.parent.parent / "case.db").is_file():
        case_dir = pdf.parent.parent

    if case_dir is None:
        if not signed:
            result.add("integrity", False, "the report is unsigned and no case folder is at hand "
                       "to check its SHA-256 against the custody log (use --case)")
        return result

    from triage_app.case.store import Case

    c = Case.open(case_dir)
    try:
        exported = [e for e in c.custody_entries() if e["action"] == "report_exported"]
        details = [e.get("details") for e in exported]
        details = [json.loads(d) if isinstance(d, str) else (d or {}) for d in details]
        recorded = {d.get("pdf_sha256") for d in details}
        if pdf_sha in recorded:
            result.add("custody", True, f"the report's SHA-256 {pdf_sha[:16]}... is recorded in the "
                       "case's custody log")
        elif not signed:
            result.add("integrity", False, f"the report hashes to {pdf_sha}, which the case's "
                       "custody log does not record: the PDF was changed or is not from this case")
        else:
            result.add("custody", True, "signed report; its hash is not in this case's custody "
                       "log (exported elsewhere or re-signed)")
        if data:
            for it in data.get("items", []):
                try:
                    path = c.evidence_path(it["sha256"])
                    h = hashlib.sha256()
                    with open(path, "rb") as fh:
                        while block := fh.read(1 << 20):
                            h.update(block)
                    ok = h.hexdigest() == it["sha256"]
                    msg = (f"{it.get('name')} still hashes to {it['sha256'][:16]}..." if ok else
                           f"{it.get('name')} ({path.name}) now hashes to {h.hexdigest()}, not "
                           f"{it['sha256']}: the evidence copy was altered")
                except (OSError, KeyError) as exc:
                    ok, msg = False, f"{it.get('name')}: evidence copy missing ({exc})"
                result.add("evidence", ok, msg)
    finally:
        c.close()
    return result
