"""Named schema migrations for ``case.db``.

Each migration is a name and a function of the database; :func:`apply` runs those not yet
recorded in the ``migrations`` table, each inside its own ``BEGIN IMMEDIATE`` transaction
together with the row that records it (the sqlite-utils ``migrations.py`` pattern). A kill
mid-migration leaves the schema as it was; two processes opening the same case at once do not
both run a migration (the second one finds it recorded once it holds the lock).

Add a migration by appending to :data:`MIGRATIONS`; never edit or reorder a released one.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Callable

from sqlite_utils import Database

from triage_app.case import custody
from triage_app.case.vault import utc_iso


@dataclass(frozen=True)
class Migration:
    name: str
    apply: Callable[[Database], None]


def run_script(conn: sqlite3.Connection, sql: str) -> None:
    """Run a multi-statement script inside the open transaction (unlike
    ``sqlite3.Connection.executescript``, which COMMITs first)."""
    buf = ""
    for line in sql.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            if buf.strip():
                conn.execute(buf)
            buf = ""
    if buf.strip():
        conn.execute(buf)


EVIDENCE_IMMUTABLE = ("sha256", "md5", "size", "name", "ext", "vault_rel", "added_at")


def _m0001_initial(db: Database) -> None:
    immutable = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in EVIDENCE_IMMUTABLE)
    run_script(db.conn, f"""
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT
);
CREATE TABLE evidence (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    md5 TEXT NOT NULL CHECK (length(md5) = 32),
    size INTEGER NOT NULL,
    name TEXT NOT NULL,
    ext TEXT NOT NULL,
    vault_rel TEXT NOT NULL,
    added_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    tool_version TEXT NOT NULL
);
CREATE TRIGGER evidence_no_update BEFORE UPDATE ON evidence
WHEN {immutable}
BEGIN
    SELECT RAISE(ABORT, 'evidence identity is immutable');
END;
CREATE TRIGGER evidence_no_delete BEFORE DELETE ON evidence
BEGIN
    SELECT RAISE(ABORT, 'evidence cannot be removed from a case');
END;
CREATE TABLE sources (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    path TEXT NOT NULL,
    path_given TEXT NOT NULL,
    name TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime TEXT,
    ctime TEXT,
    added_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    tool_version TEXT NOT NULL,
    UNIQUE (sha256, path)
);
CREATE TABLE probes (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    time TEXT NOT NULL,
    kind TEXT,
    format TEXT,
    summary TEXT,
    error TEXT,
    tool_version TEXT NOT NULL
);
CREATE INDEX probes_sha ON probes(sha256);
CREATE TABLE analyses (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    error TEXT,
    tool_version TEXT NOT NULL,
    verdict_label TEXT,
    probability REAL,
    runtime REAL,
    analysis_json TEXT
);
CREATE INDEX analyses_sha ON analyses(sha256);
CREATE TABLE detector_results (
    id INTEGER PRIMARY KEY,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL,
    reason TEXT,
    runtime REAL,
    params TEXT,
    extras TEXT
);
CREATE INDEX detector_results_analysis ON detector_results(analysis_id);
CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    detector_result_id INTEGER REFERENCES detector_results(id),
    artifact TEXT NOT NULL,
    location TEXT,
    region TEXT,
    strength REAL,
    measurement TEXT,
    detector TEXT
);
CREATE INDEX findings_analysis ON findings(analysis_id);
CREATE TABLE rationales (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL,
    claims_json TEXT NOT NULL
);
CREATE INDEX rationales_sha ON rationales(sha256);
CREATE TABLE claims (
    id INTEGER PRIMARY KEY,
    analysis_id INTEGER REFERENCES analyses(id),
    rationale_id INTEGER REFERENCES rationales(id),
    position INTEGER NOT NULL,
    text TEXT NOT NULL,
    artifact TEXT,
    modality TEXT,
    location TEXT,
    region TEXT,
    polarity TEXT,
    source TEXT,
    status TEXT,
    reason TEXT,
    measurement TEXT,
    CHECK ((analysis_id IS NULL) != (rationale_id IS NULL))
);
CREATE INDEX claims_analysis ON claims(analysis_id);
CREATE INDEX claims_rationale ON claims(rationale_id);
CREATE TABLE maps (
    id INTEGER PRIMARY KEY,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    name TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    png BLOB NOT NULL,
    png_sha256 TEXT NOT NULL,
    UNIQUE (analysis_id, name)
);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    label TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX decisions_sha ON decisions(sha256);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL REFERENCES evidence(sha256),
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX notes_sha ON notes(sha256);
CREATE TABLE intake_errors (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    path TEXT NOT NULL,
    path_given TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE reports (
    id INTEGER PRIMARY KEY,
    time TEXT NOT NULL,
    actor TEXT NOT NULL,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    details TEXT NOT NULL
);
""")
    run_script(db.conn, custody.SCHEMA_SQL)


MIGRATIONS: list[Migration] = [
    Migration("0001_initial", _m0001_initial),
]


def _ensure_table(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE IF NOT EXISTS migrations ("
                 " name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")


def applied(db: Database) -> list[str]:
    if "migrations" not in db.table_names():
        return []
    return [r["name"] for r in db.query("SELECT name FROM migrations ORDER BY rowid")]


def apply(db: Database, migrations: list[Migration] | None = None) -> list[str]:
    """Apply every pending migration, each in one transaction with its record.

    Returns the names applied now. The connection must not be in a transaction.
    """
    conn = db.conn
    if conn.in_transaction:
        raise RuntimeError("migrations.apply needs a connection outside any transaction")
    done_now: list[str] = []
    for mig in migrations if migrations is not None else MIGRATIONS:
        if mig.name in applied(db):
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            _ensure_table(conn)
            if conn.execute("SELECT 1 FROM migrations WHERE name = ?", (mig.name,)).fetchone():
                conn.execute("COMMIT")
                continue
            mig.apply(db)
            conn.execute("INSERT INTO migrations (name, applied_at) VALUES (?, ?)",
                         (mig.name, utc_iso()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        done_now.append(mig.name)
    return done_now


def pending(db: Database) -> list[str]:
    have = set(applied(db))
    return [m.name for m in MIGRATIONS if m.name not in have]
