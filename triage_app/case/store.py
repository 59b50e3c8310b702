"""A case folder: ``case.db`` (SQLite, WAL), ``evidence/`` (read-only copies), ``reports/``.

INTERFACE SKETCH -- the helper who owns this module fills it in; the signatures and the
meaning of each method are the contract that scan.py, the CLI, the GUI and the report use.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from triage_app.model import Analysis, Claim


@dataclass
class EvidenceItem:
    sha256: str
    md5: str
    size: int
    name: str                 # file name at first intake
    vault_path: Path          # absolute path of the read-only copy
    added_at: str             # UTC ISO-8601
    kind: str | None = None   # image / video / audio once probed, else None
    format: str | None = None
    sources: list[dict[str, Any]] = field(default_factory=list)  # path, mtime, ctime, added_at, actor, host
    already_present: bool = False  # True when intake found the same bytes already in the case


@dataclass
class VerifyProblem:
    what: str      # "custody_entry" | "evidence_file" | "missing_file" | "report" ...
    where: str     # e.g. "custody entry #17" or "evidence/ab/<sha>.jpg"
    message: str   # a sentence a person understands


@dataclass
class VerifyReport:
    ok: bool
    entries_checked: int
    files_checked: int
    problems: list[VerifyProblem]
    warnings: list[str] = field(default_factory=list)


class Case:
    """An open case folder. One writer at a time per process; safe across processes (WAL)."""

    path: Path

    @classmethod
    def create(cls, path: str | Path, *, examiner: str, title: str | None = None,
               organization: str | None = None) -> "Case": ...

    @classmethod
    def open(cls, path: str | Path) -> "Case": ...

    @classmethod
    def open_or_create(cls, path: str | Path, *, examiner: str) -> "Case": ...

    def close(self) -> None: ...

    # -- properties stored in the case
    @property
    def examiner(self) -> str: ...
    def set_examiner(self, name: str) -> None: ...
    @property
    def case_id(self) -> str: ...
    @property
    def title(self) -> str: ...

    # -- intake
    def add_evidence(self, source: str | Path, *, actor: str | None = None) -> EvidenceItem:
        """Hash (SHA-256 + MD5) while copying into the vault (atomic rename, then chmod 0444),
        record the item and its source, and append ``evidence_added`` (or ``source_added`` when
        the bytes were already in the case) to the custody log, all in one transaction.
        Raises OSError subclasses for unreadable sources (the caller records them)."""
        ...

    def record_probe(self, sha256: str, *, kind: str | None, format: str | None,
                     summary: dict[str, Any] | None, error: str | None) -> None: ...

    def record_intake_error(self, path: str, message: str) -> None:
        """A file that could not even be read/hashed: kept in the case with its message."""
        ...

    # -- analyses
    def has_analysis(self, sha256: str, *, pipeline_version: str | None = None) -> bool: ...

    def record_analysis(self, sha256: str, analysis: Analysis | None, *,
                        error: str | None = None,
                        maps: dict[str, np.ndarray] | None = None) -> int:
        """Store one analysis (or the error that stopped it) with its detector results,
        findings, claims and maps (uint8 PNG blobs) and append ``analysis_run``, in one
        transaction. Returns the analysis id."""
        ...

    def latest_analysis(self, sha256: str) -> Analysis | None: ...
    def latest_map(self, sha256: str, name: str = "fused") -> np.ndarray | None: ...

    # -- examiner actions
    def record_decision(self, sha256: str, label: str, note: str = "",
                        *, actor: str | None = None) -> None: ...
    def add_note(self, sha256: str, text: str, *, actor: str | None = None) -> None: ...
    def record_rationale(self, sha256: str, text: str, claims: list[Claim],
                         *, actor: str | None = None) -> int: ...
    def record_report(self, path: str | Path, sha256: str, *, details: dict[str, Any]) -> None: ...

    # -- reading
    def items(self) -> list[dict[str, Any]]:
        """One dict per evidence item: sha256, md5, name, size, kind, format, added_at,
        sources, verdict label/probability (latest analysis), error, decision, note."""
        ...

    def item(self, sha256: str) -> dict[str, Any]: ...
    def evidence_path(self, sha256: str) -> Path: ...
    def custody_entries(self, sha256: str | None = None) -> list[dict[str, Any]]: ...
    def intake_errors(self) -> list[dict[str, Any]]: ...
    def rationales(self, sha256: str) -> list[dict[str, Any]]: ...

    # -- integrity
    def verify(self) -> VerifyReport:
        """Recompute the custody chain and re-hash every evidence copy; name the first broken
        entry and every altered or missing file. Appends ``case_verified`` when it holds."""
        ...
