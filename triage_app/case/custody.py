"""The chain of custody: an append-only, hash-chained log in the case database.

Each entry holds::

    seq              1, 2, 3 ... with no gaps
    time             UTC, ISO-8601 with a Z (e.g. 2026-11-25T20:31:02Z)
    actor            "<examiner>@<host>"
    action           case_created, evidence_added, source_added, evidence_probed, analysis_run,
                     intake_error, decision_recorded, note_added, rationale_checked,
                     report_exported, case_verified, examiner_set, vault_copy_restored,
                     evidence_verified
    evidence_sha256  the item the action concerns, or null
    details          a JSON object, stored as canonical JSON text
    prev_hash        the previous entry's hash; 64 zeros for the first entry
    hash             SHA-256 (hex) of the canonical JSON of the seven fields above

Canonical JSON is ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` encoded as UTF-8; in the hashed object ``details`` is the JSON object
itself (not its text), so anyone can recompute a hash from an exported entry with a few lines
of any language. Non-finite floats have no JSON form and are written as strings.

Records that an entry is about (an evidence row, an analysis, a decision...) are listed in
``details["records"]`` as ``{"table", "key", "digest"}``: ``digest`` is the SHA-256 of the
canonical JSON of the record's content (see ``store.RECORD_FIELDS``), so that a change made
to the case database behind the tool's back is caught by :func:`verify` even when the log
itself was left alone.

The table is protected by triggers (UPDATE and DELETE abort with "custody log is
append-only"; an INSERT that does not extend the chain aborts too). Triggers only stop
honest mistakes: anyone with the file can drop them, which is why :func:`verify_chain`
recomputes everything from the data.

Appends must run inside a write transaction opened with ``BEGIN IMMEDIATE`` (the store does
this): the database write lock then serializes appends across processes, so a GUI and a
command-line scan on the same case never fork the chain.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
from dataclasses import dataclass
from typing import Any, Iterable

from triage_app.case.vault import utc_iso

GENESIS = "0" * 64
ENTRY_FIELDS = ("seq", "time", "actor", "action", "evidence_sha256", "details", "prev_hash")
APPEND_ONLY_MESSAGE = "custody log is append-only"

ACTIONS = frozenset({
    "case_created", "evidence_added", "source_added", "evidence_probed", "analysis_run",
    "intake_error", "decision_recorded", "note_added", "rationale_checked", "report_exported",
    "case_verified", "examiner_set", "vault_copy_restored", "evidence_verified",
})

SCHEMA_SQL = f"""
CREATE TABLE custody (
    seq INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    evidence_sha256 TEXT,
    details TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE
);
CREATE INDEX custody_evidence ON custody(evidence_sha256);
CREATE TRIGGER custody_no_update BEFORE UPDATE ON custody
BEGIN
    SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
END;
CREATE TRIGGER custody_no_delete BEFORE DELETE ON custody
BEGIN
    SELECT RAISE(ABORT, '{APPEND_ONLY_MESSAGE}');
END;
CREATE TRIGGER custody_extends_chain BEFORE INSERT ON custody
WHEN NEW.seq IS NOT (SELECT COALESCE(MAX(seq), 0) + 1 FROM custody)
  OR NEW.prev_hash IS NOT COALESCE((SELECT hash FROM custody ORDER BY seq DESC LIMIT 1),
                                   '{GENESIS}')
BEGIN
    SELECT RAISE(ABORT, 'custody entry does not extend the chain');
END;
"""
TRIGGERS = ("custody_no_update", "custody_no_delete", "custody_extends_chain")


def json_safe(obj: Any) -> Any:
    """Plain JSON types only: numpy scalars and arrays become Python numbers and lists,
    tuples become lists, non-finite floats become the strings "nan", "inf", "-inf"."""
    if isinstance(obj, bool) or obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else str(obj)
    if isinstance(obj, dict):
        return {str(k): json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    if hasattr(obj, "tolist") and callable(obj.tolist):  # numpy arrays and scalars
        return json_safe(obj.tolist())
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    return obj


def canonical_json(obj: Any) -> str:
    """Canonical JSON text: sorted keys, no spaces, UTF-8 characters kept, no NaN."""
    return json.dumps(json_safe(obj), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False, allow_nan=False)


def digest(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()


def entry_hash(entry: dict[str, Any]) -> str:
    """The hash of an entry: SHA-256 over the canonical JSON of every field but ``hash``.

    ``entry["details"]`` may be the JSON object or its stored text; both hash the same.
    """
    details = entry["details"]
    if isinstance(details, str):
        details = json.loads(details)
    body = {k: entry[k] for k in ENTRY_FIELDS}
    body["details"] = details
    return digest(body)


def head(conn: sqlite3.Connection) -> tuple[int, str]:
    """(seq, hash) of the last entry, or (0, GENESIS) for an empty log."""
    row = conn.execute("SELECT seq, hash FROM custody ORDER BY seq DESC LIMIT 1").fetchone()
    return (0, GENESIS) if row is None else (int(row[0]), str(row[1]))


def append(conn: sqlite3.Connection, *, actor: str, action: str,
           evidence_sha256: str | None = None, details: dict[str, Any] | None = None,
           time: str | None = None) -> dict[str, Any]:
    """Append one entry. The caller holds a write transaction (``BEGIN IMMEDIATE``)."""
    if not conn.in_transaction:
        raise RuntimeError("custody.append needs an open write transaction (BEGIN IMMEDIATE)")
    if action not in ACTIONS:
        raise ValueError(f"unknown custody action {action!r}")
    if not actor:
        raise ValueError("custody entries need an actor")
    seq, prev = head(conn)
    details_text = canonical_json(details or {})
    entry = {
        "seq": seq + 1,
        "time": time or utc_iso(),
        "actor": actor,
        "action": action,
        "evidence_sha256": evidence_sha256,
        "details": json.loads(details_text),
        "prev_hash": prev,
    }
    entry["hash"] = entry_hash(entry)
    conn.execute(
        "INSERT INTO custody (seq, time, actor, action, evidence_sha256, details, prev_hash, hash)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (entry["seq"], entry["time"], actor, action, evidence_sha256, details_text, prev,
         entry["hash"]),
    )
    return entry


def read_entries(conn: sqlite3.Connection, evidence_sha256: str | None = None
                 ) -> list[dict[str, Any]]:
    """Entries in order, ``details`` parsed (an unparsable text is kept as a string)."""
    sql = "SELECT seq, time, actor, action, evidence_sha256, details, prev_hash, hash FROM custody"
    args: tuple = ()
    if evidence_sha256 is not None:
        sql += " WHERE evidence_sha256 = ?"
        args = (evidence_sha256,)
    out = []
    for row in conn.execute(sql + " ORDER BY seq", args):
        entry = dict(zip(("seq", "time", "actor", "action", "evidence_sha256", "details",
                          "prev_hash", "hash"), row))
        try:
            entry["details"] = json.loads(entry["details"])
        except (TypeError, ValueError):
            pass
        out.append(entry)
    return out


@dataclass
class ChainBreak:
    seq: int | None
    where: str
    message: str


def describe(entry: dict[str, Any]) -> str:
    return f"custody entry #{entry['seq']} ({entry['action']}, {entry['time']})"


def verify_chain(entries: Iterable[dict[str, Any]]) -> tuple[int, ChainBreak | None]:
    """Recompute every hash and every link. Returns (entries checked, first break or None).

    The first break is the earliest entry that is not what was written: its stored hash does
    not match its content (it was edited), or its ``prev_hash`` does not match the entry
    before it (that entry was edited and re-hashed, or entries were removed), or its sequence
    number skips (entries were deleted).
    """
    expected_prev, expected_seq, n = GENESIS, 1, 0
    for entry in entries:
        n += 1
        where = f"custody entry #{entry['seq']}"
        if entry["seq"] != expected_seq:
            if expected_seq == 1:
                msg = (f"{describe(entry)} is the first entry left, but the log must start at "
                       f"#1: entries #1 to #{entry['seq'] - 1} were removed")
            else:
                msg = (f"{describe(entry)} follows #{expected_seq - 1}: entries "
                       f"#{expected_seq} to #{entry['seq'] - 1} were removed")
            return n, ChainBreak(entry["seq"], where, msg)
        if not isinstance(entry["details"], dict):
            return n, ChainBreak(entry["seq"], where,
                                 f"{describe(entry)} has details that are not a JSON object: "
                                 f"it was changed after it was written")
        try:
            recomputed = entry_hash(entry)
        except (TypeError, ValueError):
            recomputed = None
        if recomputed != entry["hash"]:
            return n, ChainBreak(entry["seq"], where,
                                 f"{describe(entry)} does not match its hash: it was changed "
                                 f"after it was written")
        if entry["prev_hash"] != expected_prev:
            return n, ChainBreak(entry["seq"], where,
                                 f"{describe(entry)} does not link to the entry before it "
                                 f"(#{entry['seq'] - 1}): that entry was changed or replaced "
                                 f"after #{entry['seq']} was written")
        expected_prev, expected_seq = entry["hash"], expected_seq + 1
    return n, None


def missing_triggers(conn: sqlite3.Connection) -> list[str]:
    have = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'custody'")}
    return [t for t in TRIGGERS if t not in have]
