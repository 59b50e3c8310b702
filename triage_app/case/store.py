"""A case folder: ``case.db`` (SQLite, WAL), ``evidence/`` (read-only copies), ``reports/``.

The contract that scan.py, the CLI, the GUI and the report use (see the docstrings of
:class:`Case`). Evidence handling beats speed:

- ``case.db`` is opened through sqlite-utils over one ``sqlite3`` connection with
  ``journal_mode=WAL``, ``synchronous=FULL`` and foreign keys on. The schema is built by the
  named migrations in :mod:`triage_app.case.migrations`.
- Every public method that changes the case is ONE transaction, opened with
  ``BEGIN IMMEDIATE``, that holds the change and its custody entry
  (:mod:`triage_app.case.custody`). A kill at any moment leaves all of an action or none of it;
  the write lock serializes appends across processes, so the chain never forks.
- Each custody entry lists the records it is about with a digest of their content
  (``details["records"]``), so :meth:`Case.verify` catches a row changed, added or removed
  behind the tool's back, not only an edited log entry.
- Evidence copies live in the :class:`~triage_app.case.vault.Vault`: named by SHA-256,
  written atomically, read-only. A copy written just before a crash (file in the vault, no
  row) is picked up by the next intake of the same bytes; :meth:`Case.verify` lists such
  files as warnings.

``analyses.analysis_json`` is the authoritative stored form of an analysis (what
:meth:`Case.latest_analysis` rebuilds); the ``detector_results``, ``findings`` and ``claims``
rows are the same data spread out for queries, and are covered by the analysis digest.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import io
import json
import os
import random
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import numpy as np
from sqlite_utils import Database

import triage_app
from triage_app.case import custody, migrations
from triage_app.case.vault import (  # noqa: F401  (VaultError: raised by add_evidence)
    Vault,
    VaultError,
    hash_file,
    path_text,
    sha256_file,
    utc_iso,
)
from triage_app.model import Analysis, Claim

DB_NAME = "case.db"
EVIDENCE_DIR = "evidence"
REPORTS_DIR = "reports"
BUSY_TIMEOUT_S = 60.0


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
    new_source: bool = False       # True when this intake recorded a new source path
    vault_reused: bool = False     # True when an identical copy was already in the vault


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
    records_checked: int = 0
    head: dict[str, Any] | None = None   # {"seq", "hash"} of the chain's last entry checked

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries_checked": self.entries_checked,
            "files_checked": self.files_checked,
            "records_checked": self.records_checked,
            "head": self.head,
            "problems": [{"what": p.what, "where": p.where, "message": p.message}
                         for p in self.problems],
            "warnings": list(self.warnings),
        }


class UnknownEvidenceError(KeyError):
    """No evidence item with this SHA-256 (or prefix) in the case."""

    def __str__(self) -> str:  # KeyError quotes its argument; we want a sentence
        return str(self.args[0]) if self.args else "unknown evidence"


class CaseError(Exception):
    """The folder is not a usable case (missing, unfinished, or newer than this tool)."""


class NotACaseFolderError(CaseError):
    """The folder given for a case holds other files (or is a file)."""


# --------------------------------------------------------------------------- record digests

#: Content fields of every record a custody entry points at. The digest of a record is
#: ``custody.digest({field: value})`` (plus its child rows for analyses and rationales).
RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "evidence": ("sha256", "md5", "size", "name", "ext", "vault_rel", "added_at", "actor",
                 "tool_version"),
    "sources": ("sha256", "path", "path_given", "name", "size", "mtime", "ctime", "added_at",
                "actor", "tool_version"),
    "probes": ("sha256", "time", "kind", "format", "summary", "error", "tool_version"),
    "analyses": ("sha256", "time", "actor", "status", "error", "tool_version", "verdict_label",
                 "probability", "runtime", "analysis_json"),
    "rationales": ("sha256", "time", "actor", "text", "claims_json"),
    "decisions": ("sha256", "time", "actor", "label", "note"),
    "notes": ("sha256", "time", "actor", "text"),
    "intake_errors": ("time", "actor", "path", "path_given", "message"),
    "reports": ("time", "actor", "path", "sha256", "details"),
}
RECORD_KEY = {t: ("sha256" if t == "evidence" else "id") for t in RECORD_FIELDS}
#: Child rows folded into their parent's digest: parent table -> [(child table, parent column)].
RECORD_CHILDREN: dict[str, list[tuple[str, str]]] = {
    "analyses": [("detector_results", "analysis_id"), ("findings", "analysis_id"),
                 ("claims", "analysis_id"), ("maps", "analysis_id")],
    "rationales": [("claims", "rationale_id")],
}


def _row_dicts(conn: sqlite3.Connection, sql: str, args: Iterable[Any] = ()) -> list[dict]:
    cur = conn.execute(sql, tuple(args))
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


def record_digest(conn: sqlite3.Connection, table: str, key: Any) -> str | None:
    """Digest of one record's content (and its child rows), or None when it is gone."""
    fields = RECORD_FIELDS[table]
    rows = _row_dicts(conn, f"SELECT {', '.join(fields)} FROM {table} "
                            f"WHERE {RECORD_KEY[table]} = ?", (key,))
    if not rows:
        return None
    body: dict[str, Any] = {"table": table, "fields": rows[0]}
    for child, column in RECORD_CHILDREN.get(table, []):
        kids = _row_dicts(conn, f"SELECT * FROM {child} WHERE {column} = ? ORDER BY id", (key,))
        for kid in kids:
            if "png" in kid:  # a blob: its hash, recomputed from the bytes
                blob = kid.pop("png")
                kid["png_sha256_actual"] = hashlib.sha256(blob or b"").hexdigest()
        body[child] = kids
    return custody.digest(body)


# --------------------------------------------------------------------------- maps


def encode_map(arr: np.ndarray) -> tuple[bytes, int, int]:
    """PNG bytes (grayscale, or RGB/RGBA for 3-channel/4-channel) of a map, and its size.

    uint8 arrays are stored as they are; bool arrays become 0/255; float arrays must lie in
    0..1 and are scaled to 0..255 (DESIGN.md: 0 = no evidence, 255 = strongest).
    """
    from PIL import Image

    a = np.asarray(arr)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)):
            raise ValueError("map has non-finite values")
        if a.size and (a.min() < -1e-6 or a.max() > 1 + 1e-6):
            raise ValueError("float map must lie in 0..1")
        a = np.round(np.clip(a, 0.0, 1.0) * 255.0).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise ValueError(f"map must be uint8, bool or float in 0..1, not {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or (a.ndim == 3 and a.shape[2] in (3, 4))):
        raise ValueError(f"map must be HxW, HxWx3 or HxWx4, not {a.shape}")
    img = Image.fromarray(np.ascontiguousarray(a))
    buf = io.BytesIO()
    img.save(buf, format="PNG", compress_level=6)
    return buf.getvalue(), int(a.shape[1]), int(a.shape[0])


def decode_map(png: bytes) -> np.ndarray:
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        img.load()
        return np.array(img)


# --------------------------------------------------------------------------- helpers


def _host() -> str:
    try:
        return socket.gethostname() or "unknown-host"
    except OSError:
        return "unknown-host"


def _jdump(obj: Any) -> str:
    return custody.canonical_json(obj)


def _insert_rows(conn: sqlite3.Connection, table: str, rows: list[dict[str, Any]]) -> int | None:
    """Insert dict rows (all with the same keys) into ``table``; the new row's id when one
    row was given (None for several: no caller needs their ids).

    Plain SQL rather than sqlite-utils' ``insert``, which looks the table up again for every
    call: a scan stores a hundred rows per file, and the scanning process is the one part of a
    scan that does not run in parallel."""
    if not rows:
        return None
    cols = list(rows[0])
    sql = (f"INSERT INTO {table} ({', '.join(cols)}) "
           f"VALUES ({', '.join('?' for _ in cols)})")
    if len(rows) == 1:
        return conn.execute(sql, [rows[0][c] for c in cols]).lastrowid
    conn.executemany(sql, ([r[c] for c in cols] for r in rows))
    return None


def _jload(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _connect(db_path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = _connect_read_only(db_path)
    else:
        conn = sqlite3.connect(str(db_path), isolation_level=None, timeout=BUSY_TIMEOUT_S,
                               check_same_thread=False)
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            conn.close()
            raise CaseError(f"cannot put {db_path} in WAL mode (got {mode!r})")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _connect_read_only(db_path: Path) -> sqlite3.Connection:
    """A read-only connection. On write-protected media (a write blocker, a read-only mount,
    an archive) SQLite cannot create the WAL index it needs for ``mode=ro``; a database with
    no write-ahead log left beside it is then opened ``immutable`` (nothing can change it)."""
    uri = db_path.resolve().as_uri()
    try:
        conn = sqlite3.connect(f"{uri}?mode=ro", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_S, check_same_thread=False)
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return conn
    except sqlite3.OperationalError:
        if os.access(db_path.parent, os.W_OK):
            raise
    wal = db_path.with_name(db_path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        raise CaseError(f"{db_path.parent} is on read-only storage and its database has "
                        f"changes still in {wal.name}, which SQLite can only read from "
                        f"writable storage: copy the case folder to a writable disk (the copy "
                        f"verifies the same) and open the copy")
    return sqlite3.connect(f"{uri}?mode=ro&immutable=1", uri=True, isolation_level=None,
                           timeout=BUSY_TIMEOUT_S, check_same_thread=False)


# --------------------------------------------------------------------------- the case


class Case:
    """An open case folder. One writer at a time per process; safe across processes (WAL).

    Methods may be called from several threads of one process (a lock serializes them).
    Use as a context manager, or call :meth:`close`.
    """

    path: Path

    def __init__(self, path: Path, conn: sqlite3.Connection, *, read_only: bool = False):
        self.path = path
        self.conn = conn
        self.db = Database(conn)
        self.read_only = read_only
        self.vault = Vault(path / EVIDENCE_DIR, case_root=path)
        self.host = _host()
        self._lock = threading.RLock()

    # ------------------------------------------------------------------ open / create

    @classmethod
    def create(cls, path: str | Path, *, examiner: str, title: str | None = None,
               organization: str | None = None) -> "Case":
        """Create a case folder. It may exist if it is empty (or holds a case whose creation
        was interrupted); a folder with other files in it is refused (``CaseError``): making it
        a case would mix its files with the case's, and scanning a folder into itself would
        take its own evidence copies in."""
        examiner = _check_name(examiner)
        path = Path(path).absolute()
        db_path = path / DB_NAME
        if path.exists() and not path.is_dir():
            raise NotACaseFolderError(f"{path} is a file, not a case folder")
        if path.is_dir():
            own = {DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME + "-journal",
                   EVIDENCE_DIR, "reports"}
            others = sorted(p.name for p in path.iterdir() if p.name not in own)
            if others:
                raise NotACaseFolderError(f"{path} is a folder with other files in it ({others[0]}"
                                f"{', ...' if len(others) > 1 else ''}), not a case folder: give "
                                f"a new or empty folder for the case")
        if db_path.exists():
            probe = _connect(db_path)
            try:
                done = _case_created(probe)
            finally:
                probe.close()
            if done:
                raise FileExistsError(f"{path} already holds a case")
        path.mkdir(parents=True, exist_ok=True)
        (path / EVIDENCE_DIR).mkdir(exist_ok=True)
        (path / REPORTS_DIR).mkdir(exist_ok=True)
        case = cls(path, _connect(db_path))
        try:
            migrations.apply(case.db)
            with case._tx() as conn:
                if _case_created(conn):  # another process finished it meanwhile
                    raise FileExistsError(f"{path} already holds a case")
                meta = {
                    "case_id": uuid.uuid4().hex,
                    "title": title if title is not None else path.name,
                    "organization": organization or "",
                    "examiner": examiner,
                    "created_at": utc_iso(),
                    "created_host": case.host,
                    "created_tool_version": triage_app.__version__,
                }
                for k, v in meta.items():
                    conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (k, v))
                custody.append(conn, actor=f"{examiner}@{case.host}", action="case_created",
                               details={**meta, "schema": migrations.applied(case.db)})
        except BaseException:
            case.close()
            raise
        return case

    @classmethod
    def open(cls, path: str | Path, *, read_only: bool = False) -> "Case":
        """Open an existing case. ``read_only`` opens the database read-only (nothing is
        appended, not even ``case_verified``; for cases on write-protected media)."""
        path = Path(path).absolute()
        db_path = path / DB_NAME
        if not db_path.is_file():
            raise FileNotFoundError(f"{path} is not a case folder (no {DB_NAME})")
        case = cls(path, _connect(db_path, read_only=read_only), read_only=read_only)
        try:
            if not read_only and migrations.pending(case.db):
                migrations.apply(case.db)
            if not read_only:
                case.vault.remove_stale_temp_files()
            if not _case_created(case.conn):
                raise CaseError(f"{path}: the case was never finished being created "
                                f"(no case_created entry); create it again")
        except BaseException:
            case.close()
            raise
        return case

    @classmethod
    def open_or_create(cls, path: str | Path, *, examiner: str) -> "Case":
        """Open the case at ``path``, or create it there when the folder is absent or empty.
        A folder that holds other files is refused: making it a case would mix its files with
        the case's (and scanning a folder into itself would take its own copies in)."""
        path = Path(path)
        if (path / DB_NAME).is_file():
            try:
                return cls.open(path)
            except CaseError:
                pass
        return cls.create(path, examiner=examiner)

    def close(self) -> None:
        with self._lock:
            if self.conn is not None:
                self.conn.close()
                self.conn = None  # type: ignore[assignment]

    def __enter__(self) -> "Case":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Case({str(self.path)!r})"

    # ------------------------------------------------------------------ transactions

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): all of it commits, or none of it."""
        if self.read_only:
            raise CaseError("the case was opened read-only")
        with self._lock:
            conn = self.conn
            self._begin_immediate(conn)
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            else:
                try:
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise

    @staticmethod
    def _begin_immediate(conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, retried while another process holds the write lock, for up
        to ``BUSY_TIMEOUT_S``. SQLite's own busy handler backs off to 100 ms sleeps and so
        misses the short gaps between another writer's transactions; polling every 10 ms or
        less lets a GUI click get its turn between a scan's writes."""
        deadline = time.monotonic() + BUSY_TIMEOUT_S
        delay = 0.0005
        conn.execute("PRAGMA busy_timeout=0")
        try:
            while True:
                try:
                    conn.execute("BEGIN IMMEDIATE")
                    return
                except sqlite3.OperationalError as exc:
                    msg = str(exc).lower()
                    if "locked" not in msg and "busy" not in msg:
                        raise
                    if time.monotonic() >= deadline:
                        raise
                time.sleep(random.uniform(0, delay))
                delay = min(delay * 1.5, 0.01)
        finally:
            conn.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: one consistent snapshot for several queries."""
        with self._lock:
            conn = self.conn
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _actor(self, actor: str | None, conn: sqlite3.Connection | None = None) -> str:
        if actor is None:
            return f"{self._meta('examiner', conn)}@{self.host}"
        actor = actor.strip()
        if not actor:
            raise ValueError("actor must not be empty")
        return actor if "@" in actor else f"{actor}@{self.host}"

    def _meta(self, key: str, conn: sqlite3.Connection | None = None) -> str:
        c = conn or self.conn
        with self._lock:
            row = c.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return "" if row is None or row[0] is None else str(row[0])

    def _log(self, conn: sqlite3.Connection, action: str, *, actor: str,
             evidence_sha256: str | None = None, details: dict[str, Any] | None = None,
             records: list[tuple[str, Any]] = ()) -> dict[str, Any]:
        details = dict(details or {})
        if records:
            details["records"] = [{"table": t, "key": k, "digest": record_digest(conn, t, k)}
                                  for t, k in records]
        return custody.append(conn, actor=actor, action=action,
                              evidence_sha256=evidence_sha256, details=details)

    def _resolve(self, sha256: str, conn: sqlite3.Connection | None = None) -> str:
        """Full SHA-256 from a full hash or a unique prefix (6+ hex digits)."""
        key = (sha256 or "").strip().lower()
        c = conn or self.conn
        with self._lock:
            if len(key) == 64:
                if c.execute("SELECT 1 FROM evidence WHERE sha256 = ?", (key,)).fetchone():
                    return key
            elif len(key) >= 6:
                rows = c.execute("SELECT sha256 FROM evidence WHERE sha256 LIKE ? LIMIT 2",
                                 (key + "%",)).fetchall()
                if len(rows) == 1:
                    return rows[0][0]
                if len(rows) > 1:
                    raise UnknownEvidenceError(f"{sha256} matches more than one evidence item")
        raise UnknownEvidenceError(f"no evidence item {sha256} in {self.path.name}")

    # ------------------------------------------------------------------ properties

    @property
    def examiner(self) -> str:
        return self._meta("examiner")

    def set_examiner(self, name: str) -> None:
        name = _check_name(name)
        with self._tx() as conn:
            before = self._meta("examiner", conn)
            if before == name:
                return
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES ('examiner', ?)", (name,))
            custody.append(conn, actor=f"{name}@{self.host}", action="examiner_set",
                           details={"examiner": name, "previous": before})

    @property
    def case_id(self) -> str:
        return self._meta("case_id")

    @property
    def title(self) -> str:
        return self._meta("title")

    @property
    def organization(self) -> str:
        return self._meta("organization")

    def meta(self) -> dict[str, str]:
        with self._read() as conn:
            return {k: v for k, v in conn.execute("SELECT key, value FROM meta")}

    # ------------------------------------------------------------------ intake

    def add_evidence(self, source: str | Path, *, actor: str | None = None) -> EvidenceItem:
        """Hash (SHA-256 + MD5) while copying into the vault (atomic rename, then chmod 0444),
        record the item and its source, and append ``evidence_added`` (or ``source_added`` when
        the bytes were already in the case) to the custody log, all in one transaction.
        Raises OSError subclasses for unreadable sources (the caller records them).

        Adding the same bytes from the same (resolved) path again records nothing and returns
        the item with ``already_present=True``. A vault copy with no database row (a kill
        between the copy and the commit) is re-hashed and reused. When the item is in the case
        but its copy no longer matches its hash, :class:`VaultError` is raised and nothing is
        recorded: a tampered copy is left for :meth:`verify` to report, never overwritten.
        """
        staged = self.vault.stage(source)  # long I/O, outside the write lock
        src = dataclasses.replace(staged.source, path_given=path_text(staged.source.path_given),
                                  path_resolved=path_text(staged.source.path_resolved),
                                  name=path_text(staged.source.name))
        try:
            with self._tx() as conn:
                who = self._actor(actor, conn)
                now = utc_iso()
                version = triage_app.__version__
                row = conn.execute("SELECT ext, vault_rel FROM evidence WHERE sha256 = ?",
                                   (staged.sha256,)).fetchone()
                known = row is not None
                expected_path = self.path / row[1] if known else None
                had_copy = bool(known and expected_path.exists())
                copy = self.vault.commit(staged, target_ext=row[0] if known else None,
                                         replace_mismatch=not known)
                if not known:
                    conn.execute(
                        "INSERT INTO evidence (sha256, md5, size, name, ext, vault_rel, added_at,"
                        " actor, tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (staged.sha256, staged.md5, staged.size, src.name,
                         copy.path.name.split(".", 1)[1] if "." in copy.path.name else "bin",
                         copy.rel, now, who, version))
                elif not had_copy:
                    self._log(conn, "vault_copy_restored", actor=who,
                              evidence_sha256=staged.sha256,
                              details={"vault": copy.rel, "from": src.path_resolved})
                exists = conn.execute("SELECT id FROM sources WHERE sha256 = ? AND path = ?",
                                      (staged.sha256, src.path_resolved)).fetchone()
                new_source = exists is None
                if new_source:
                    sid = conn.execute(
                        "INSERT INTO sources (sha256, path, path_given, name, size, mtime, ctime,"
                        " added_at, actor, tool_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (staged.sha256, src.path_resolved, src.path_given, src.name, src.size,
                         src.mtime, src.ctime, now, who, version)).lastrowid
                    details = {
                        "name": src.name, "size": staged.size, "md5": staged.md5,
                        "source": {"path_given": src.path_given, "path": src.path_resolved,
                                   "mtime": src.mtime, "ctime": src.ctime},
                        "vault": copy.rel,
                        "vault_copy": ("reused" if copy.reused else
                                       "replaced" if copy.replaced else "new"),
                        "tool_version": version,
                    }
                    if known:
                        self._log(conn, "source_added", actor=who, evidence_sha256=staged.sha256,
                                  details=details, records=[("sources", sid)])
                    else:
                        self._log(conn, "evidence_added", actor=who,
                                  evidence_sha256=staged.sha256, details=details,
                                  records=[("evidence", staged.sha256), ("sources", sid)])
        finally:
            self.vault.discard(staged)  # no-op once moved into place
        item = self._evidence_item(staged.sha256)
        item.already_present = known
        item.new_source = new_source
        item.vault_reused = copy.reused
        return item

    def _evidence_item(self, sha256: str) -> EvidenceItem:
        with self._read() as conn:
            row = _row_dicts(conn, "SELECT * FROM evidence WHERE sha256 = ?", (sha256,))
            if not row:
                raise UnknownEvidenceError(f"no evidence item {sha256}")
            r = row[0]
            probe = conn.execute("SELECT kind, format FROM probes WHERE sha256 = ?"
                                 " ORDER BY id DESC LIMIT 1", (sha256,)).fetchone()
            sources = self._sources(conn, sha256)
        return EvidenceItem(sha256=r["sha256"], md5=r["md5"], size=r["size"], name=r["name"],
                            vault_path=self.path / r["vault_rel"], added_at=r["added_at"],
                            kind=probe[0] if probe else None, format=probe[1] if probe else None,
                            sources=sources)

    @staticmethod
    def _sources(conn: sqlite3.Connection, sha256: str) -> list[dict[str, Any]]:
        out = []
        for s in _row_dicts(conn, "SELECT * FROM sources WHERE sha256 = ? ORDER BY id", (sha256,)):
            actor = s["actor"]
            out.append({"path": s["path"], "path_given": s["path_given"], "name": s["name"],
                        "size": s["size"], "mtime": s["mtime"], "ctime": s["ctime"],
                        "added_at": s["added_at"], "actor": actor,
                        "host": actor.rsplit("@", 1)[1] if "@" in actor else "",
                        "tool_version": s["tool_version"]})
        return out

    def find_source(self, path: str | Path) -> list[dict[str, Any]]:
        """Sources already recorded for this (resolved) path: ``sha256``, ``size``, ``mtime``,
        ``added_at``. Lets a resumed scan see that a path was taken in before; only
        :meth:`add_evidence` (which hashes) says whether the bytes are still the same."""
        resolved = os.path.realpath(os.fspath(path))
        with self._read() as conn:
            return _row_dicts(conn, "SELECT sha256, size, mtime, added_at FROM sources"
                                    " WHERE path = ? ORDER BY id", (resolved,))

    def record_probe(self, sha256: str, *, kind: str | None, format: str | None,
                     summary: dict[str, Any] | None, error: str | None,
                     actor: str | None = None) -> None:
        """Record what opening the item as media found (kind, format, a summary such as size
        and duration) or the error that stopped it; appends ``evidence_probed``."""
        with self._tx() as conn:
            sha = self._resolve(sha256, conn)
            who = self._actor(actor, conn)
            pid = conn.execute(
                "INSERT INTO probes (sha256, time, kind, format, summary, error, tool_version)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (sha, utc_iso(), kind, format, None if summary is None else _jdump(summary),
                 error, triage_app.__version__)).lastrowid
            self._log(conn, "evidence_probed", actor=who, evidence_sha256=sha,
                      details={"kind": kind, "format": format, "error": error},
                      records=[("probes", pid)])

    def record_intake_error(self, path: str, message: str, *, actor: str | None = None) -> None:
        """A file that could not even be read/hashed: kept in the case with its message."""
        given = os.fspath(path)
        try:
            resolved = os.path.realpath(given)
        except (OSError, ValueError):
            resolved = given
        given, resolved, message = path_text(given), path_text(resolved), path_text(str(message))
        with self._tx() as conn:
            who = self._actor(actor, conn)
            eid = conn.execute(
                "INSERT INTO intake_errors (time, actor, path, path_given, message)"
                " VALUES (?, ?, ?, ?, ?)", (utc_iso(), who, resolved, given, str(message))).lastrowid
            self._log(conn, "intake_error", actor=who,
                      details={"path": resolved, "path_given": given, "message": str(message)},
                      records=[("intake_errors", eid)])

    # ------------------------------------------------------------------ analyses

    def has_analysis(self, sha256: str, *, pipeline_version: str | None = None,
                     ok_only: bool = False) -> bool:
        """True when the item has a recorded analysis (an error counts, unless ``ok_only``);
        with ``pipeline_version``, only one made by that tool version counts."""
        sql = "SELECT 1 FROM analyses WHERE sha256 = ?"
        args: list[Any] = [sha256]
        if pipeline_version is not None:
            sql += " AND tool_version = ?"
            args.append(pipeline_version)
        if ok_only:
            sql += " AND status = 'ok'"
        with self._read() as conn:
            return conn.execute(sql + " LIMIT 1", args).fetchone() is not None

    def record_analysis(self, sha256: str, analysis: Analysis | None, *,
                        error: str | None = None,
                        maps: dict[str, np.ndarray] | None = None,
                        encoded_maps: dict[str, tuple[bytes, int, int]] | None = None,
                        actor: str | None = None) -> int:
        """Store one analysis (or the error that stopped it) with its detector results,
        findings, claims and maps (uint8 PNG blobs) and append ``analysis_run``, in one
        transaction. Returns the analysis id.

        ``analysis.fused_map``, when set and not in ``maps``, is stored as map ``"fused"``.
        ``encoded_maps``: maps already encoded by :func:`encode_map` (a scan worker encodes
        them, so that the scanning process does not).
        """
        if analysis is None and error is None:
            raise ValueError("record_analysis needs an analysis or an error")
        all_maps = dict(maps or {})
        if analysis is not None and analysis.fused_map is not None and "fused" not in all_maps:
            all_maps["fused"] = analysis.fused_map
        encoded = {name: encode_map(arr) for name, arr in all_maps.items()}  # before the lock
        for name, (png, w, h) in (encoded_maps or {}).items():
            encoded.setdefault(name, (png, int(w), int(h)))
        # plain JSON types only (a detector may leave numpy scalars in params or measurements)
        data = custody.json_safe(analysis.to_dict()) if analysis is not None else None
        status = "ok" if error is None else "error"
        version = (analysis.tool_version if analysis is not None and analysis.tool_version
                   else triage_app.__version__)
        verdict = data["verdict"] if data else None
        with self._tx() as conn:
            sha = self._resolve(sha256, conn)
            who = self._actor(actor, conn)
            aid = conn.execute(
                "INSERT INTO analyses (sha256, time, actor, status, error, tool_version,"
                " verdict_label, probability, runtime, analysis_json)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (sha, utc_iso(), who, status, error, version,
                 verdict["label"] if verdict else None, verdict["probability"] if verdict else None,
                 data["runtime"] if data else None,
                 json.dumps(data, sort_keys=True, ensure_ascii=False) if data else None)).lastrowid
            if data is not None:
                for det in data["detectors"]:
                    did = _insert_rows(conn, "detector_results", [{
                        "analysis_id": aid, "name": det["name"], "version": det["version"],
                        "status": det["status"], "score": det["score"], "reason": det["reason"],
                        "runtime": det["runtime"], "params": _jdump(det["params"]),
                        "extras": _jdump(det["extras"]),
                    }])
                    _insert_rows(conn, "findings", [{
                        "analysis_id": aid, "detector_result_id": did,
                        "artifact": f["artifact"], "location": _jdump(f["location"]),
                        "region": f["region"], "strength": f["strength"],
                        "measurement": _jdump(f["measurement"]), "detector": f["detector"],
                    } for f in det["findings"]])
                self._insert_claims(data["claims"], analysis_id=aid)
            _insert_rows(conn, "maps", [{"analysis_id": aid, "name": name, "width": w,
                                         "height": h, "png": png,
                                         "png_sha256": hashlib.sha256(png).hexdigest()}
                                        for name, (png, w, h) in encoded.items()])
            details = {
                "analysis_id": aid, "tool_version": version, "status": status, "error": error,
                "verdict": None if verdict is None else {"label": verdict["label"],
                                                         "probability": verdict["probability"]},
                "detectors": [] if data is None else [
                    {"name": d["name"], "version": d["version"], "status": d["status"]}
                    for d in data["detectors"]],
                "maps": sorted(encoded),
            }
            self._log(conn, "analysis_run", actor=who, evidence_sha256=sha, details=details,
                      records=[("analyses", aid)])
        return int(aid)

    def _insert_claims(self, claims: list[dict[str, Any]], *, analysis_id: int | None = None,
                       rationale_id: int | None = None) -> None:
        _insert_rows(self.conn, "claims", [{
            "analysis_id": analysis_id, "rationale_id": rationale_id, "position": i,
            "text": c["text"], "artifact": c["artifact"], "modality": c["modality"],
            "location": _jdump(c["location"]), "region": c["region"],
            "polarity": c["polarity"], "source": c["source"], "status": c["status"],
            "reason": c["reason"], "measurement": _jdump(c["measurement"]),
        } for i, c in enumerate(claims)])

    def _latest_analysis_row(self, conn: sqlite3.Connection, sha: str) -> dict[str, Any] | None:
        rows = _row_dicts(conn, "SELECT * FROM analyses WHERE sha256 = ? ORDER BY id DESC LIMIT 1",
                          (sha,))
        return rows[0] if rows else None

    def latest_analysis(self, sha256: str) -> Analysis | None:
        """The most recent analysis of the item; None when there is none or when the most
        recent attempt ended in an error (see :meth:`item` for the error)."""
        with self._read() as conn:
            row = self._latest_analysis_row(conn, self._resolve(sha256, conn))
        if row is None or row["analysis_json"] is None or row["status"] != "ok":
            return None
        return Analysis.from_dict(json.loads(row["analysis_json"]))

    def analysis(self, analysis_id: int) -> Analysis | None:
        """One stored analysis by id (None for an error record)."""
        with self._read() as conn:
            row = conn.execute("SELECT analysis_json FROM analyses WHERE id = ?",
                               (analysis_id,)).fetchone()
        if row is None:
            raise KeyError(f"no analysis #{analysis_id}")
        return None if row[0] is None else Analysis.from_dict(json.loads(row[0]))

    def latest_map(self, sha256: str, name: str = "fused") -> np.ndarray | None:
        """Map ``name`` of the most recent analysis, decoded (uint8), or None."""
        with self._read() as conn:
            row = self._latest_analysis_row(conn, self._resolve(sha256, conn))
            if row is None:
                return None
            blob = conn.execute("SELECT png FROM maps WHERE analysis_id = ? AND name = ?",
                                (row["id"], name)).fetchone()
        return None if blob is None else decode_map(blob[0])

    def map_names(self, sha256: str) -> list[str]:
        with self._read() as conn:
            row = self._latest_analysis_row(conn, self._resolve(sha256, conn))
            if row is None:
                return []
            return [r[0] for r in conn.execute(
                "SELECT name FROM maps WHERE analysis_id = ? ORDER BY name", (row["id"],))]

    # ------------------------------------------------------------------ examiner actions

    def record_decision(self, sha256: str, label: str, note: str = "",
                        *, actor: str | None = None) -> None:
        label = (label or "").strip()
        if not label:
            raise ValueError("a decision needs a label")
        with self._tx() as conn:
            sha = self._resolve(sha256, conn)
            who = self._actor(actor, conn)
            did = conn.execute("INSERT INTO decisions (sha256, time, actor, label, note)"
                               " VALUES (?, ?, ?, ?, ?)",
                               (sha, utc_iso(), who, label, note or "")).lastrowid
            self._log(conn, "decision_recorded", actor=who, evidence_sha256=sha,
                      details={"decision_id": did, "label": label, "note": note or ""},
                      records=[("decisions", did)])

    def add_note(self, sha256: str, text: str, *, actor: str | None = None) -> None:
        if not (text or "").strip():
            raise ValueError("a note needs text")
        with self._tx() as conn:
            sha = self._resolve(sha256, conn)
            who = self._actor(actor, conn)
            nid = conn.execute("INSERT INTO notes (sha256, time, actor, text) VALUES (?, ?, ?, ?)",
                               (sha, utc_iso(), who, text)).lastrowid
            self._log(conn, "note_added", actor=who, evidence_sha256=sha,
                      details={"note_id": nid, "text": text}, records=[("notes", nid)])

    def record_rationale(self, sha256: str, text: str, claims: list[Claim],
                         *, actor: str | None = None) -> int:
        """Store a free-text rationale and its checked claims; appends ``rationale_checked``
        with the count of claims per status. Returns the rationale id."""
        cdicts = [c.to_dict() for c in claims]
        counts: dict[str, int] = {}
        for c in cdicts:
            counts[c["status"]] = counts.get(c["status"], 0) + 1
        with self._tx() as conn:
            sha = self._resolve(sha256, conn)
            who = self._actor(actor, conn)
            rid = conn.execute("INSERT INTO rationales (sha256, time, actor, text, claims_json)"
                               " VALUES (?, ?, ?, ?, ?)",
                               (sha, utc_iso(), who, text, _jdump(cdicts))).lastrowid
            self._insert_claims(cdicts, rationale_id=rid)
            self._log(conn, "rationale_checked", actor=who, evidence_sha256=sha,
                      details={"rationale_id": rid, "claims": len(cdicts), "status": counts},
                      records=[("rationales", rid)])
        return int(rid)

    def record_report(self, path: str | Path, sha256: str, *, details: dict[str, Any],
                      actor: str | None = None) -> None:
        """Record an exported report: ``sha256`` is the SHA-256 of the report file (checked
        against the file when it is readable; ``ValueError`` on a mismatch). ``details`` (e.g.
        ``evidence``: the items covered, ``signed``, ``sidecar``) goes into the custody entry.
        A report inside the case folder is recorded by its path relative to the folder."""
        p = Path(path).absolute()
        if p.is_file():
            actual = sha256_file(p)
            if actual != sha256.lower():
                raise ValueError(f"{p} has SHA-256 {actual}, not {sha256}")
        try:
            stored = p.relative_to(self.path).as_posix()
        except ValueError:
            stored = str(p)
        ev = details.get("evidence") if isinstance(details, dict) else None
        one = ev[0] if isinstance(ev, list) and len(ev) == 1 else None
        with self._tx() as conn:
            who = self._actor(actor, conn)
            rid = conn.execute("INSERT INTO reports (time, actor, path, sha256, details)"
                               " VALUES (?, ?, ?, ?, ?)",
                               (utc_iso(), who, stored, sha256.lower(), _jdump(details))).lastrowid
            self._log(conn, "report_exported", actor=who, evidence_sha256=one,
                      details={"report_id": rid, "path": stored, "sha256": sha256.lower(),
                               **{k: v for k, v in details.items() if k != "records"}},
                      records=[("reports", rid)])

    # ------------------------------------------------------------------ reading

    def items(self) -> list[dict[str, Any]]:
        """One dict per evidence item: sha256, md5, name, size, kind, format, added_at,
        sources, verdict label/probability (latest analysis), error, decision, note."""
        with self._read() as conn:
            ev = _row_dicts(conn, "SELECT * FROM evidence ORDER BY rowid")  # intake order
            probes = {r["sha256"]: r for r in _row_dicts(conn,
                      "SELECT p.* FROM probes p JOIN (SELECT sha256, MAX(id) AS id FROM probes"
                      " GROUP BY sha256) m ON p.id = m.id")}
            analyses = {r["sha256"]: r for r in _row_dicts(conn,
                        "SELECT a.id, a.sha256, a.time, a.status, a.error, a.tool_version,"
                        " a.verdict_label, a.probability FROM analyses a JOIN (SELECT sha256,"
                        " MAX(id) AS id FROM analyses GROUP BY sha256) m ON a.id = m.id")}
            decisions = {r["sha256"]: r for r in _row_dicts(conn,
                         "SELECT d.* FROM decisions d JOIN (SELECT sha256, MAX(id) AS id FROM"
                         " decisions GROUP BY sha256) m ON d.id = m.id")}
            notes = dict(conn.execute("SELECT sha256, COUNT(*) FROM notes GROUP BY sha256"))
            sources: dict[str, list[dict[str, Any]]] = {}
            for e in ev:
                sources[e["sha256"]] = self._sources(conn, e["sha256"])
        return [self._item_dict(e, probes.get(e["sha256"]), analyses.get(e["sha256"]),
                                decisions.get(e["sha256"]), notes.get(e["sha256"], 0),
                                sources[e["sha256"]]) for e in ev]

    def _item_dict(self, e: dict, probe: dict | None, analysis: dict | None,
                   decision: dict | None, n_notes: int, sources: list) -> dict[str, Any]:
        verdict = None
        if analysis is not None and analysis["status"] == "ok":
            verdict = {"label": analysis["verdict_label"], "probability": analysis["probability"]}
        error = None
        if analysis is not None and analysis["status"] == "error":
            error = analysis["error"]
        elif probe is not None and probe["error"]:
            error = probe["error"]
        return {
            "sha256": e["sha256"], "md5": e["md5"], "name": e["name"], "size": e["size"],
            "kind": probe["kind"] if probe else None,
            "format": probe["format"] if probe else None,
            "media": _jload(probe["summary"]) if probe else None,
            "added_at": e["added_at"], "added_by": e["actor"], "tool_version": e["tool_version"],
            "vault_path": str(self.path / e["vault_rel"]),
            "sources": sources,
            "verdict": verdict,
            "analysis": None if analysis is None else {
                "id": analysis["id"], "time": analysis["time"], "status": analysis["status"],
                "tool_version": analysis["tool_version"]},
            "error": error,
            "decision": None if decision is None else {
                "label": decision["label"], "note": decision["note"], "time": decision["time"],
                "actor": decision["actor"]},
            "note_count": n_notes,
        }

    def item(self, sha256: str) -> dict[str, Any]:
        """The :meth:`items` dict of one item (full hash or a unique prefix of 6+ digits),
        plus ``notes``, ``decisions``, ``analyses`` (history) and ``rationales`` (count)."""
        with self._read() as conn:
            sha = self._resolve(sha256, conn)
            e = _row_dicts(conn, "SELECT * FROM evidence WHERE sha256 = ?", (sha,))[0]
            probe = (_row_dicts(conn, "SELECT * FROM probes WHERE sha256 = ? ORDER BY id DESC"
                                      " LIMIT 1", (sha,)) or [None])[0]
            hist = _row_dicts(conn, "SELECT id, time, actor, status, error, tool_version,"
                                    " verdict_label, probability FROM analyses WHERE sha256 = ?"
                                    " ORDER BY id", (sha,))
            decisions = _row_dicts(conn, "SELECT id, time, actor, label, note FROM decisions"
                                         " WHERE sha256 = ? ORDER BY id", (sha,))
            notes = _row_dicts(conn, "SELECT id, time, actor, text FROM notes WHERE sha256 = ?"
                                     " ORDER BY id", (sha,))
            n_rat = conn.execute("SELECT COUNT(*) FROM rationales WHERE sha256 = ?",
                                 (sha,)).fetchone()[0]
            sources = self._sources(conn, sha)
        out = self._item_dict(e, probe, hist[-1] if hist else None,
                              decisions[-1] if decisions else None, len(notes), sources)
        out.update(analyses=hist, decisions=decisions, notes=notes, rationale_count=n_rat)
        return out

    def evidence_path(self, sha256: str) -> Path:
        """Absolute path of the read-only copy (open it for reading only)."""
        with self._read() as conn:
            sha = self._resolve(sha256, conn)
            rel = conn.execute("SELECT vault_rel FROM evidence WHERE sha256 = ?",
                               (sha,)).fetchone()[0]
        return self.path / rel

    def custody_entries(self, sha256: str | None = None) -> list[dict[str, Any]]:
        """Custody log entries in order (all, or those about one item), details parsed."""
        with self._read() as conn:
            sha = None if sha256 is None else self._resolve(sha256, conn)
            return custody.read_entries(conn, sha)

    def custody_head(self) -> dict[str, Any]:
        """``{"seq", "hash"}`` of the last custody entry: a report that quotes it lets a later
        reader prove the log was not cut short after the report was made."""
        with self._read() as conn:
            seq, h = custody.head(conn)
        return {"seq": seq, "hash": h}

    def intake_errors(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            return _row_dicts(conn, "SELECT id, time, actor, path, path_given, message"
                                    " FROM intake_errors ORDER BY id")

    def rationales(self, sha256: str) -> list[dict[str, Any]]:
        """Recorded rationales of one item: id, time, actor, text, claims (dicts)."""
        with self._read() as conn:
            sha = self._resolve(sha256, conn)
            rows = _row_dicts(conn, "SELECT id, time, actor, text, claims_json FROM rationales"
                                    " WHERE sha256 = ? ORDER BY id", (sha,))
        for r in rows:
            r["claims"] = json.loads(r.pop("claims_json"))
        return rows

    def reports(self) -> list[dict[str, Any]]:
        with self._read() as conn:
            rows = _row_dicts(conn, "SELECT id, time, actor, path, sha256, details FROM reports"
                                    " ORDER BY id")
        for r in rows:
            r["details"] = _jload(r["details"])
        return rows

    # ------------------------------------------------------------------ integrity

    def verify_evidence(self, sha256: str, *, record: bool = True,
                        actor: str | None = None) -> list[VerifyProblem]:
        """Re-hash one item's vault copy against its intake hashes (before analysing it or
        putting it in a report). Returns the problems (empty when the copy is intact); when
        intact and ``record`` is true, appends ``evidence_verified``."""
        with self._read() as conn:
            sha = self._resolve(sha256, conn)
            md5, size, rel = conn.execute("SELECT md5, size, vault_rel FROM evidence"
                                          " WHERE sha256 = ?", (sha,)).fetchone()
        problems = _check_copy(self.path / rel, rel, sha, md5, size)
        if not problems and record and not self.read_only:
            with self._tx() as conn:
                custody.append(conn, actor=self._actor(actor, conn), action="evidence_verified",
                               evidence_sha256=sha, details={"vault": rel, "md5": md5,
                                                             "size": size})
        return problems

    def verify(self, *, record: bool = True) -> VerifyReport:
        """Recompute the custody chain and re-hash every evidence copy; name the first broken
        entry and every altered or missing file. Appends ``case_verified`` when it holds
        (and ``record`` is true and the case is writable).

        Also checks that every record (evidence, sources, probes, analyses with their
        detector results, findings, claims and maps, decisions, notes, rationales, intake
        errors, reports) is the one its custody entry describes, that no record lacks an
        entry, that the case's meta data matches the log, that the append-only triggers are
        in place, and re-hashes exported reports that are still where they were written.
        Vault files with no database row and leftover temporary files are warnings.
        """
        problems: list[VerifyProblem] = []
        warnings: list[str] = []
        with self._read() as conn:
            entries = custody.read_entries(conn)
            n_entries, brk = custody.verify_chain(entries)
            if brk is not None:
                problems.append(VerifyProblem("custody_entry", brk.where, brk.message))
            for trig in custody.missing_triggers(conn):
                problems.append(VerifyProblem(
                    "custody_trigger", f"trigger {trig}",
                    f"the custody log's protective trigger {trig} was removed from case.db: "
                    f"the database was edited outside the tool"))
            n_records = self._verify_records(conn, entries, problems)
            self._verify_meta(conn, entries, problems)
            evidence = _row_dicts(conn, "SELECT sha256, md5, size, vault_rel FROM evidence"
                                        " ORDER BY sha256")
            reports = _row_dicts(conn, "SELECT id, path, sha256 FROM reports ORDER BY id")
        # files: outside the read transaction (slow I/O)
        files_checked = 0
        known = set()
        for e in evidence:
            rel = e["vault_rel"]
            p = self.path / rel
            known.add(p.resolve())
            found = _check_copy(p, rel, e["sha256"], e["md5"], e["size"])
            problems.extend(found)
            if p.is_file():
                files_checked += 1
                if not found and os.stat(p).st_mode & 0o222:
                    warnings.append(f"{rel} is writable (it should be read-only, 0444); "
                                    f"its content still matches")
        for sha, p in self.vault.iter_files():
            if p.resolve() not in known:
                warnings.append(f"{self.vault.rel(p)} is in the vault but not in the case database"
                                f" (an intake interrupted before it was recorded); adding the same"
                                f" file again records it")
        for p in self.vault.stale_temp_files():
            warnings.append(f"{self.vault.rel(p)} is a partial copy left by an interrupted intake "
                            f"(or one running now); it is not evidence")
        latest: dict[Path, int] = {}
        for r in reports:
            p = Path(r["path"])
            latest[(p if p.is_absolute() else self.path / p).resolve()] = r["id"]
        for r in reports:
            p = Path(r["path"])
            p = p if p.is_absolute() else self.path / p
            newer = latest.get(p.resolve(), r["id"])
            if newer != r["id"]:
                if p.is_file() and sha256_file(p) != r["sha256"]:
                    warnings.append(f"report #{r['id']} ({r['path']}) was replaced by a later "
                                    f"export to the same path (report #{newer}), which is "
                                    f"checked instead")
                continue
            if not p.is_file():
                warnings.append(f"report #{r['id']} ({r['path']}) is no longer where it was "
                                f"written; it was not re-hashed")
                continue
            actual = sha256_file(p)
            if actual != r["sha256"]:
                problems.append(VerifyProblem(
                    "report", r["path"],
                    f"the report {r['path']} was changed after export: expected SHA-256 "
                    f"{r['sha256']}, found {actual}"))
        head = ({"seq": entries[-1]["seq"], "hash": entries[-1]["hash"]} if entries else
                {"seq": 0, "hash": custody.GENESIS})
        report = VerifyReport(ok=not problems, entries_checked=n_entries,
                              files_checked=files_checked, problems=problems, warnings=warnings,
                              records_checked=n_records, head=head)
        if report.ok and record:
            if self.read_only:
                report.warnings.append("opened read-only: case_verified was not appended")
            else:
                with self._tx() as conn:
                    custody.append(conn, actor=self._actor(None, conn), action="case_verified",
                                   details={"entries_checked": n_entries,
                                            "files_checked": files_checked,
                                            "records_checked": n_records,
                                            "head": head, "warnings": len(warnings)})
        return report

    def _verify_records(self, conn: sqlite3.Connection, entries: list[dict[str, Any]],
                        problems: list[VerifyProblem]) -> int:
        logged: dict[tuple[str, Any], dict[str, Any]] = {}
        for entry in entries:
            details = entry["details"] if isinstance(entry["details"], dict) else {}
            for rec in details.get("records", []) or []:
                if not isinstance(rec, dict) or rec.get("table") not in RECORD_FIELDS:
                    continue
                logged.setdefault((rec["table"], rec.get("key")), {**rec, "entry": entry})
        n = 0
        for table in RECORD_FIELDS:
            key = RECORD_KEY[table]
            for (k,) in conn.execute(f"SELECT {key} FROM {table} ORDER BY {key}").fetchall():
                n += 1
                rec = logged.pop((table, k), None)
                label = _record_label(table, k)
                if rec is None:
                    if table == "evidence":
                        msg = (f"evidence {k} has no evidence_added entry in the custody log: "
                               f"it was put in the case database outside the tool")
                    else:
                        msg = (f"{label} has no custody entry: it was put in the case database "
                               f"outside the tool")
                    problems.append(VerifyProblem("record_unlogged", label, msg))
                    continue
                entry = rec["entry"]
                if table == "evidence" and (entry["action"] != "evidence_added"
                                            or entry["evidence_sha256"] != k):
                    problems.append(VerifyProblem(
                        "record_unlogged", label,
                        f"evidence {k} is not the item of its evidence_added entry "
                        f"({custody.describe(entry)})"))
                    continue
                if record_digest(conn, table, k) != rec.get("digest"):
                    problems.append(VerifyProblem(
                        "record_changed", label,
                        f"{label} was changed after it was recorded: it no longer matches "
                        f"{custody.describe(entry)}"))
        for (table, k), rec in logged.items():
            problems.append(VerifyProblem(
                "record_missing", _record_label(table, k),
                f"{custody.describe(rec['entry'])} records {_record_label(table, k)}, which is "
                f"no longer in the case database"))
        return n

    def _verify_meta(self, conn: sqlite3.Connection, entries: list[dict[str, Any]],
                     problems: list[VerifyProblem]) -> None:
        meta = {k: v for k, v in conn.execute("SELECT key, value FROM meta")}
        created = next((e for e in entries if e["action"] == "case_created"), None)
        if created is None or not isinstance(created["details"], dict):
            problems.append(VerifyProblem("custody_entry", "custody entry #1",
                                          "the custody log has no case_created entry"))
            return
        d = created["details"]
        for key in ("case_id", "title", "organization", "created_at"):
            if key in d and meta.get(key) != d[key]:
                problems.append(VerifyProblem(
                    "meta", f"meta {key}",
                    f"the case's {key} is {meta.get(key)!r} but {custody.describe(created)} "
                    f"recorded {d[key]!r}: it was changed outside the tool"))
        examiner = d.get("examiner")
        for e in entries:
            if e["action"] == "examiner_set" and isinstance(e["details"], dict):
                examiner = e["details"].get("examiner")
        if meta.get("examiner") != examiner:
            problems.append(VerifyProblem(
                "meta", "meta examiner",
                f"the case's examiner is {meta.get('examiner')!r} but the custody log last "
                f"recorded {examiner!r}: it was changed outside the tool"))


def _check_copy(p: Path, rel: str, sha256: str, md5: str, size: int) -> list[VerifyProblem]:
    if not p.is_file():
        return [VerifyProblem("missing_file", rel,
                              f"the evidence copy {rel} is missing (SHA-256 {sha256})")]
    try:
        a_sha, a_md5, a_size = hash_file(p)
    except OSError as exc:
        return [VerifyProblem("evidence_file", rel,
                              f"the evidence copy {rel} cannot be read: {exc}")]
    if (a_sha, a_md5, a_size) != (sha256, md5, size):
        return [VerifyProblem(
            "evidence_file", rel,
            f"the evidence copy {rel} was altered: expected SHA-256 {sha256}, found {a_sha} "
            f"({a_size} bytes, {size} recorded)")]
    return []


def _record_label(table: str, key: Any) -> str:
    singular = {"evidence": "evidence", "sources": "source", "probes": "probe",
                "analyses": "analysis", "rationales": "rationale", "decisions": "decision",
                "notes": "note", "intake_errors": "intake error", "reports": "report"}[table]
    return f"{singular} {key}" if table == "evidence" else f"{singular} #{key}"


def _check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValueError("the examiner's name must not be empty")
    if "@" in name:
        raise ValueError("the examiner's name must not contain '@' (the host is added to it)")
    return name


def _case_created(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM custody WHERE action = 'case_created' LIMIT 1"
                            ).fetchone() is not None
    except sqlite3.OperationalError:  # no custody table yet
        return False


def verify_case(path: str | Path, *, record: bool = True) -> VerifyReport:
    """Open the case at ``path``, verify it (see :meth:`Case.verify`) and close it.

    With ``record=False`` the case is opened read-only and nothing is appended.
    """
    with Case.open(path, read_only=not record) as case:
        return case.verify(record=record)
