"""The evidence vault: read-only, content-addressed copies of every item taken into a case.

Layout (DESIGN.md, "Case folder")::

    evidence/ab/<sha256>.<ext>     ab = the first two hex digits of the SHA-256

Intake reads the source once, in 1 MiB chunks, hashing (SHA-256 and MD5) while writing a
temporary file inside ``evidence/`` (same file system as the final copy). When the bytes are
all in, the temporary file is flushed, ``fsync``-ed, made read-only (0o444) and moved to its
final name with :func:`os.replace` (atomic); the directory is ``fsync``-ed too. A kill at any
moment leaves either no final file or a complete one whose name is its hash; a stale
``.part`` file is only ever a leftover, never evidence.

When the final file already exists it is re-hashed: with the right hash it is reused (this is
how a copy written just before a crash is picked up by the next intake of the same bytes).

Intake is two-phase so that the case store can decide what to do with a mismatching
existing copy while it holds its database lock: :meth:`Vault.stage` hashes and copies into a
temporary file, :meth:`Vault.commit` puts it in place (or reuses an identical copy),
:meth:`Vault.discard` drops it. :meth:`Vault.ingest` does all of it for callers with no
database.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat as stat_mod
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

CHUNK = 1 << 20  # 1 MiB
READ_ONLY = 0o444
_EXT_RE = re.compile(r"^[a-z0-9]{1,12}$")
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")
TEMP_PREFIX = ".incoming-"
TEMP_SUFFIX = ".part"


class VaultError(Exception):
    """The vault cannot do what was asked (an existing copy does not match its name...)."""


class SourceChangedError(OSError):
    """The source file changed while it was being read: its hash describes no single state."""


def utc_iso(ts: float | None = None) -> str:
    """UTC ISO-8601 with a ``Z``; microseconds kept when ``ts`` is a file time stamp."""
    if ts is None:
        return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def safe_ext(name: str) -> str:
    """The lower-case extension of ``name`` when it is plain ASCII letters/digits, else ``bin``.

    The extension is only a convenience for the person opening the folder; nothing reads
    meaning into it (media is opened by content).
    """
    suffix = Path(name).suffix.lower().lstrip(".")
    return suffix if _EXT_RE.match(suffix) else "bin"


def path_text(path: str) -> str:
    """``path`` as text any database, log or terminal can hold.

    A file name that is not valid UTF-8 (Latin-1 from an old camera card, say) reaches Python
    with its undecodable bytes as lone surrogates, which SQLite, JSON files and UTF-8 terminals
    refuse: such bytes are written as ``\\xNN`` escapes, an exact and readable record of
    the name ("caf\\xe9.jpg"). Valid names are returned unchanged.
    """
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        pass
    try:
        return path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate no decoder made (not a byte): keep it visible
        return path.encode("utf-8", "backslashreplace").decode("utf-8")


def hash_file(path: str | os.PathLike[str]) -> tuple[str, str, int]:
    """SHA-256 (hex), MD5 (hex) and size in bytes of a file, read in 1 MiB chunks."""
    sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
    with open(path, "rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            sha.update(block)
            md5.update(block)
            size += len(block)
    return sha.hexdigest(), md5.hexdigest(), size


def sha256_file(path: str | os.PathLike[str]) -> str:
    """SHA-256 (hex) of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(CHUNK)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def _fsync_dir(path: Path) -> None:
    """Make a rename or a new entry in ``path`` durable (POSIX; a no-op where unsupported)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # Windows cannot open a directory
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@dataclass
class SourceInfo:
    """What intake learnt about the source file (before reading it)."""

    path_given: str
    path_resolved: str
    name: str
    size: int
    mtime: str   # UTC ISO-8601
    ctime: str   # UTC ISO-8601 (inode change time on POSIX, creation time on Windows)


@dataclass
class Staged:
    """A source hashed and copied into a temporary file in the vault, not yet in place."""

    sha256: str
    md5: str
    size: int
    ext: str
    temp_path: Path
    source: SourceInfo


@dataclass
class VaultCopy:
    """A copy in place: where it is and whether an identical copy was already there."""

    sha256: str
    md5: str
    size: int
    path: Path       # absolute
    rel: str         # relative to the case folder, with forward slashes
    reused: bool     # True when an identical copy was already in the vault
    replaced: bool = False  # True when a mismatching copy (not in the database) was replaced
    source: SourceInfo | None = None


class Vault:
    """The ``evidence/`` folder of a case."""

    def __init__(self, root: str | os.PathLike[str], *, case_root: str | os.PathLike[str] | None = None):
        self.root = Path(root)
        self.case_root = Path(case_root) if case_root is not None else self.root.parent

    # ------------------------------------------------------------------ naming

    def path_for(self, sha256: str, ext: str) -> Path:
        if not _SHA_RE.match(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.root / sha256[:2] / f"{sha256}.{ext}"

    def rel(self, path: Path) -> str:
        return Path(os.path.relpath(path, self.case_root)).as_posix()

    def find(self, sha256: str) -> list[Path]:
        """Every file in the vault named by this hash (any extension)."""
        folder = self.root / sha256[:2]
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.iterdir() if p.name.split(".", 1)[0] == sha256)

    def iter_files(self) -> Iterator[tuple[str, Path]]:
        """(sha256 from the name, path) for every evidence copy in the vault."""
        if not self.root.is_dir():
            return
        for sub in sorted(self.root.iterdir()):
            if not sub.is_dir() or len(sub.name) != 2:
                continue
            for p in sorted(sub.iterdir()):
                stem = p.name.split(".", 1)[0]
                if p.is_file() and _SHA_RE.match(stem):
                    yield stem, p

    def stale_temp_files(self) -> list[Path]:
        """Leftover temporary files (an intake killed mid-copy, or one running right now)."""
        if not self.root.is_dir():
            return []
        return sorted(p for p in self.root.iterdir()
                      if p.name.startswith(TEMP_PREFIX) and p.name.endswith(TEMP_SUFFIX))

    def remove_stale_temp_files(self, *, min_age_s: float = 3600.0) -> list[Path]:
        """Delete leftover temporary files not written to for ``min_age_s`` seconds (an intake
        that is still running writes to its file at least every 1 MiB). They never were
        evidence: a copy becomes evidence only when it is renamed to its hash."""
        import time

        removed = []
        now = time.time()
        for p in self.stale_temp_files():
            try:
                if now - p.stat().st_mtime >= min_age_s:
                    self._unlink(p)
                    removed.append(p)
            except OSError:
                continue
        return removed

    # ------------------------------------------------------------------ intake

    @staticmethod
    def describe_source(source: str | os.PathLike[str]) -> tuple[SourceInfo, os.stat_result]:
        given = os.fspath(source)
        resolved = os.path.realpath(given)
        st = os.stat(resolved)
        if stat_mod.S_ISDIR(st.st_mode):
            raise IsADirectoryError(21, "is a folder, not a file", given)
        if not stat_mod.S_ISREG(st.st_mode):
            raise OSError(f"not a regular file: {given}")
        info = SourceInfo(path_given=given, path_resolved=resolved, name=Path(resolved).name,
                          size=st.st_size, mtime=utc_iso(st.st_mtime), ctime=utc_iso(st.st_ctime))
        return info, st

    def stage(self, source: str | os.PathLike[str]) -> Staged:
        """Hash (SHA-256 + MD5) while copying ``source`` into a temporary, fsync-ed,
        read-only file inside the vault. Raises ``OSError`` subclasses for unreadable
        sources and :class:`SourceChangedError` when the file changed while being read."""
        info, st = self.describe_source(source)
        self.root.mkdir(parents=True, exist_ok=True)
        sha, md5, size = hashlib.sha256(), hashlib.md5(), 0
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=self.root)
        tmp_path = Path(tmp)
        try:
            with open(info.path_resolved, "rb") as src, os.fdopen(fd, "wb") as dst:
                while True:
                    block = src.read(CHUNK)
                    if not block:
                        break
                    sha.update(block)
                    md5.update(block)
                    dst.write(block)
                    size += len(block)
                dst.flush()
                os.fsync(dst.fileno())
                after = os.fstat(src.fileno())
            if (after.st_size != st.st_size or after.st_mtime_ns != st.st_mtime_ns
                    or size != st.st_size):
                raise SourceChangedError(
                    f"{info.path_given} changed while it was being read "
                    f"(size {st.st_size} -> {size} bytes); take it in again when it is stable")
            os.chmod(tmp_path, READ_ONLY)
        except BaseException:
            self._unlink(tmp_path)
            raise
        return Staged(sha256=sha.hexdigest(), md5=md5.hexdigest(), size=size,
                      ext=safe_ext(info.name), temp_path=tmp_path, source=info)

    def existing_copy(self, sha256: str) -> Path | None:
        """An existing copy of these bytes whose content really hashes to its name, else None."""
        for p in self.find(sha256):
            try:
                if sha256_file(p) == sha256:
                    return p
            except OSError:
                continue
        return None

    def commit(self, staged: Staged, *, target_ext: str | None = None,
               replace_mismatch: bool = True) -> VaultCopy:
        """Put a staged copy in place, or reuse an identical existing copy.

        ``target_ext`` forces the name (the store passes the extension the item was first
        recorded with). An existing file under the target name whose content does not hash to
        its name is replaced when ``replace_mismatch`` is true, else :class:`VaultError`.
        """
        ext = target_ext or staged.ext
        final = self.path_for(staged.sha256, ext)
        new_dir = not final.parent.is_dir()
        final.parent.mkdir(parents=True, exist_ok=True)
        replaced = False
        if final.exists():
            try:
                ok = sha256_file(final) == staged.sha256
            except OSError:
                ok = False
            if ok:
                self.discard(staged)
                return VaultCopy(staged.sha256, staged.md5, staged.size, final.resolve(),
                                 self.rel(final), reused=True, source=staged.source)
            if not replace_mismatch:
                self.discard(staged)
                raise VaultError(f"{self.rel(final)} exists but its content does not match its "
                                 f"name (SHA-256 {staged.sha256}); run verify")
            replaced = True
        else:
            other = self.existing_copy(staged.sha256) if target_ext is None else None
            if other is not None:
                self.discard(staged)
                return VaultCopy(staged.sha256, staged.md5, staged.size, other.resolve(),
                                 self.rel(other), reused=True, source=staged.source)
        os.replace(staged.temp_path, final)
        _fsync_dir(final.parent)
        if new_dir:  # the new ab/ folder's own entry must be durable too
            _fsync_dir(self.root)
        return VaultCopy(staged.sha256, staged.md5, staged.size, final.resolve(), self.rel(final),
                         reused=False, replaced=replaced, source=staged.source)

    def discard(self, staged: Staged) -> None:
        self._unlink(staged.temp_path)

    def ingest(self, source: str | os.PathLike[str]) -> VaultCopy:
        """Stage and commit in one call (no database involved)."""
        return self.commit(self.stage(source))

    @staticmethod
    def _unlink(path: Path) -> None:
        try:
            os.chmod(path, 0o600)
        except OSError:
            pass
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
