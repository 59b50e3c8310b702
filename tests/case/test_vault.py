"""The evidence vault: content-addressed, read-only, atomic copies (triage_app/case/vault.py)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from triage_app.case.vault import (
    CHUNK,
    READ_ONLY,
    SourceChangedError,
    Vault,
    VaultError,
    hash_file,
    safe_ext,
)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _no_temp_left(vault: Vault) -> bool:
    return vault.stale_temp_files() == []


def test_ingest_copy_is_read_only_byte_identical_and_named_by_hash(tmp_path):
    data = os.urandom(10_000)
    src = _write(tmp_path / "Photo.JPG", data)
    vault = Vault(tmp_path / "case" / "evidence")
    copy = vault.ingest(src)
    sha = hashlib.sha256(data).hexdigest()
    assert copy.sha256 == sha
    assert copy.md5 == hashlib.md5(data).hexdigest()
    assert copy.size == len(data)
    assert copy.path == (tmp_path / "case" / "evidence" / sha[:2] / f"{sha}.jpg").resolve()
    assert copy.rel == f"evidence/{sha[:2]}/{sha}.jpg"
    assert copy.path.read_bytes() == data
    assert copy.path.stat().st_mode & 0o777 == READ_ONLY
    assert not copy.reused
    assert _no_temp_left(vault)
    assert src.read_bytes() == data  # the original is untouched


def test_hashes_files_larger_than_one_chunk(tmp_path):
    data = os.urandom(3 * CHUNK + 12345)
    src = _write(tmp_path / "big.bin", data)
    copy = Vault(tmp_path / "ev").ingest(src)
    assert copy.sha256 == hashlib.sha256(data).hexdigest()
    assert copy.md5 == hashlib.md5(data).hexdigest()
    assert hash_file(copy.path) == (copy.sha256, copy.md5, len(data))


def test_existing_identical_copy_is_reused(tmp_path):
    data = b"same bytes" * 100
    vault = Vault(tmp_path / "ev")
    first = vault.ingest(_write(tmp_path / "a.png", data))
    second = vault.ingest(_write(tmp_path / "b.png", data))
    assert second.reused and not first.reused
    assert second.path == first.path
    # the same bytes under another extension still land on the one existing copy
    third = vault.ingest(_write(tmp_path / "c.tiff", data))
    assert third.reused and third.path == first.path
    assert len(list(vault.iter_files())) == 1
    assert _no_temp_left(vault)


def test_mismatching_existing_copy_is_refused_or_replaced(tmp_path):
    data = b"genuine content"
    sha = hashlib.sha256(data).hexdigest()
    vault = Vault(tmp_path / "ev")
    final = vault.path_for(sha, "bin")
    final.parent.mkdir(parents=True)
    final.write_bytes(b"something else")  # a file whose content does not match its name
    staged = vault.stage(_write(tmp_path / "x", data))
    with pytest.raises(VaultError, match="does not match"):
        vault.commit(staged, replace_mismatch=False)
    assert final.read_bytes() == b"something else"
    assert _no_temp_left(vault)
    copy = vault.commit(vault.stage(tmp_path / "x"), replace_mismatch=True)
    assert copy.replaced and not copy.reused
    assert final.read_bytes() == data


def test_discard_leaves_nothing(tmp_path):
    vault = Vault(tmp_path / "ev")
    staged = vault.stage(_write(tmp_path / "f.wav", b"abc"))
    assert staged.temp_path.exists() and staged.temp_path.parent == vault.root
    vault.discard(staged)
    assert not staged.temp_path.exists()
    assert list(vault.iter_files()) == []


def test_source_changing_while_read_is_refused(tmp_path):
    src = _write(tmp_path / "growing.mp4", b"x" * 1000)

    class RacyVault(Vault):
        @staticmethod
        def describe_source(source):
            info, st = Vault.describe_source(source)
            with open(source, "ab") as fh:  # someone writes to it after we looked
                fh.write(b"more")
            return info, st

    vault = RacyVault(tmp_path / "ev")
    with pytest.raises(SourceChangedError, match="changed while it was being read"):
        vault.stage(src)
    assert _no_temp_left(vault)
    assert list(vault.iter_files()) == []


def test_unreadable_sources_raise_oserror(tmp_path):
    vault = Vault(tmp_path / "ev")
    with pytest.raises(FileNotFoundError):
        vault.stage(tmp_path / "nope.jpg")
    (tmp_path / "folder").mkdir()
    with pytest.raises(IsADirectoryError):
        vault.stage(tmp_path / "folder")


def test_safe_ext():
    assert safe_ext("a.JPEG") == "jpeg"
    assert safe_ext("noext") == "bin"
    assert safe_ext("weird.j p g") == "bin"
    assert safe_ext("clip.tar.gz") == "gz"


def test_stale_temp_files_are_listed_and_old_ones_removed(tmp_path):
    vault = Vault(tmp_path / "ev")
    staged = vault.stage(_write(tmp_path / "f.wav", b"abc"))  # as if killed mid-intake
    assert vault.stale_temp_files() == [staged.temp_path]
    assert vault.remove_stale_temp_files(min_age_s=3600) == []  # could be a running intake
    old = staged.temp_path.stat().st_mtime - 7200
    os.utime(staged.temp_path, (old, old))
    assert vault.remove_stale_temp_files(min_age_s=3600) == [staged.temp_path]
    assert vault.stale_temp_files() == []
