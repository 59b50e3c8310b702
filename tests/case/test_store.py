"""The case folder: store, chain of custody and integrity checks (triage_app/case/store.py)."""

from __future__ import annotations

import hashlib
import json
import multiprocessing as mp
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import triage_app
from triage_app.case import custody
from triage_app.case.store import Case, CaseError, UnknownEvidenceError, verify_case
from triage_app.case.vault import READ_ONLY, Vault
from triage_app.model import (
    Analysis,
    Box,
    Claim,
    DetectorResult,
    Finding,
    Measurement,
    TimeSpan,
    Verdict,
    Whole,
)

HOST = socket.gethostname()


@pytest.fixture
def case(tmp_path):
    c = Case.create(tmp_path / "Case-2026-0001.triage", examiner="Ana Silva", title="Test case",
                    organization="Lab")
    yield c
    c.close()


def _file(folder: Path, name: str, data: bytes | None = None, n: int = 4096) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    p = folder / name
    p.write_bytes(os.urandom(n) if data is None else data)
    return p


def _analysis() -> Analysis:
    f1 = Finding("cloned_region", Box(10, 20, 30, 40), 0.8,
                 Measurement("block correlation", 0.93, 0.5, ""), "copy_move", region="background")
    f2 = Finding("double_compression", Whole(), 0.6,
                 Measurement("quantization ratio", 1.8, 1.0, "x"), "jpeg_ghost")
    f3 = Finding("vocoder_band_limit", TimeSpan(0.5, 1.5, 4000.0, 8000.0), 0.4,
                 Measurement("band energy", "low"), "band_limit")
    detectors = [
        DetectorResult("copy_move", "1.2.0", "ok", score=0.81, findings=[f1], runtime=0.5,
                       params={"block": 16}, extras={"matches": 12}),
        DetectorResult("jpeg_ghost", "0.3.1", "ok", score=0.6, findings=[f2, f3]),
        DetectorResult.not_applicable("face_swap", "1.0.0", "no face found"),
    ]
    verdict = Verdict("likely_manipulated", 0.87, drivers=["copy_move"],
                      contributions={"copy_move": 0.5, "jpeg_ghost": 0.2}, method="logistic")
    claims = [
        Claim("A region in the background is cloned.", "cloned_region", "image", Box(10, 20, 30, 40),
              region="background", status="grounded", reason="probe re-measured it",
              measurement={"correlation": 0.91}),
        Claim("The eyes blink unnaturally.", "unnatural_gaze_blinking", "video", None,
              status="hallucinated", reason="a still image has no blinking"),
    ]
    return Analysis(media={"kind": "image", "format": "JPEG", "width": 64, "height": 48},
                    verdict=verdict, detectors=detectors, claims=claims,
                    tool_version=triage_app.__version__, runtime=1.25)


# --------------------------------------------------------------------------- create / open


def test_create_and_open(tmp_path, case):
    assert case.examiner == "Ana Silva"
    assert case.title == "Test case" and case.organization == "Lab"
    assert len(case.case_id) == 32
    for sub in ("evidence", "reports"):
        assert (case.path / sub).is_dir()
    assert case.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert case.conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    assert case.conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert [r[0] for r in case.conn.execute("SELECT name FROM migrations")] == ["0001_initial"]
    (entry,) = case.custody_entries()
    assert entry["action"] == "case_created" and entry["seq"] == 1
    assert entry["actor"] == f"Ana Silva@{HOST}"
    assert entry["details"]["case_id"] == case.case_id
    case_id = case.case_id
    case.close()
    with Case.open(tmp_path / "Case-2026-0001.triage") as again:
        assert again.case_id == case_id and again.examiner == "Ana Silva"
    with pytest.raises(FileExistsError):
        Case.create(tmp_path / "Case-2026-0001.triage", examiner="Bo")
    with pytest.raises(FileNotFoundError):
        Case.open(tmp_path / "nothing-here")
    with Case.open_or_create(tmp_path / "other.triage", examiner="Bo") as c2:
        assert c2.examiner == "Bo"
    with Case.open_or_create(tmp_path / "other.triage", examiner="Cy") as c3:
        assert c3.examiner == "Bo"  # opened, not recreated


def test_set_examiner_changes_the_actor(case, tmp_path):
    case.set_examiner("Bo Chen")
    item = case.add_evidence(_file(tmp_path / "in", "a.png"))
    entries = case.custody_entries()
    assert [e["action"] for e in entries] == ["case_created", "examiner_set", "evidence_added"]
    assert entries[1]["details"] == {"examiner": "Bo Chen", "previous": "Ana Silva"}
    assert entries[2]["actor"] == f"Bo Chen@{HOST}"
    case.add_note(item.sha256, "by hand", actor="Dee")
    assert case.custody_entries()[-1]["actor"] == f"Dee@{HOST}"
    assert case.verify().ok


# --------------------------------------------------------------------------- intake


def test_same_file_twice_is_one_item_with_its_sources(case, tmp_path):
    data = os.urandom(20_000)
    a = _file(tmp_path / "in", "photo.jpg", data)
    b = _file(tmp_path / "elsewhere", "copy of photo.jpg", data)
    first = case.add_evidence(a)
    again = case.add_evidence(a)
    other = case.add_evidence(b)
    assert not first.already_present and first.new_source
    assert again.already_present and not again.new_source
    assert other.already_present and other.new_source
    assert first.sha256 == again.sha256 == other.sha256 == hashlib.sha256(data).hexdigest()
    items = case.items()
    assert len(items) == 1
    assert [s["path"] for s in items[0]["sources"]] == [str(a.resolve()), str(b.resolve())]
    assert items[0]["name"] == "photo.jpg"  # name at first intake
    actions = [e["action"] for e in case.custody_entries()]
    assert actions == ["case_created", "evidence_added", "source_added"]  # the repeat adds nothing
    assert len(list(case.vault.iter_files())) == 1
    (src,) = case.find_source(b)
    assert src["sha256"] == first.sha256 and src["size"] == 20_000
    assert case.find_source(tmp_path / "never-seen.jpg") == []


def test_intake_records_hashes_times_examiner_and_tool_version(case, tmp_path):
    data = os.urandom(5000)
    src = _file(tmp_path / "in", "clip.mp4", data)
    os.utime(src, (1_700_000_000, 1_700_000_000))
    item = case.add_evidence(os.path.relpath(src))
    assert item.md5 == hashlib.md5(data).hexdigest() and item.size == 5000
    (s,) = item.sources
    assert s["path"] == str(src.resolve()) and s["path_given"] == os.path.relpath(src)
    assert s["mtime"] == "2023-11-14T22:13:20Z"
    assert s["ctime"].endswith("Z") and s["actor"] == f"Ana Silva@{HOST}" and s["host"] == HOST
    assert s["tool_version"] == triage_app.__version__
    assert item.added_at.endswith("Z")
    entry = case.custody_entries(item.sha256)[0]
    assert entry["action"] == "evidence_added" and entry["evidence_sha256"] == item.sha256
    d = entry["details"]
    assert d["md5"] == item.md5 and d["size"] == 5000 and d["tool_version"] == triage_app.__version__
    assert d["source"]["mtime"] == "2023-11-14T22:13:20Z" and d["vault_copy"] == "new"


def test_vault_copy_is_read_only_and_byte_identical(case, tmp_path):
    data = os.urandom(3 * (1 << 20) + 7)
    item = case.add_evidence(_file(tmp_path / "in", "big.wav", data))
    p = case.evidence_path(item.sha256)
    assert p == item.vault_path
    assert p.relative_to(case.path).as_posix() == f"evidence/{item.sha256[:2]}/{item.sha256}.wav"
    assert p.read_bytes() == data
    assert p.stat().st_mode & 0o777 == READ_ONLY
    assert case.evidence_path(item.sha256[:10]) == p  # unique prefixes resolve
    with pytest.raises(UnknownEvidenceError):
        case.evidence_path("0" * 64)


def test_unreadable_source_raises_and_intake_error_is_recorded(case, tmp_path):
    with pytest.raises(FileNotFoundError):
        case.add_evidence(tmp_path / "missing.jpg")
    case.record_intake_error(str(tmp_path / "missing.jpg"), "No such file")
    (err,) = case.intake_errors()
    assert err["message"] == "No such file" and err["path"] == str(tmp_path / "missing.jpg")
    assert case.custody_entries()[-1]["action"] == "intake_error"
    assert case.verify().ok


def test_evidence_rows_refuse_update_and_delete(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    for sql in ("UPDATE evidence SET sha256 = '" + "0" * 64 + "'",
                "UPDATE evidence SET md5 = '" + "0" * 32 + "'",
                "UPDATE evidence SET size = 1"):
        with pytest.raises(sqlite3.IntegrityError, match="evidence identity is immutable"):
            case.conn.execute(sql)
    with pytest.raises(sqlite3.IntegrityError, match="cannot be removed"):
        case.conn.execute("DELETE FROM evidence")
    with pytest.raises(sqlite3.IntegrityError, match="custody log is append-only"):
        case.conn.execute("UPDATE custody SET actor = 'Mallory' WHERE seq = 2")
    with pytest.raises(sqlite3.IntegrityError, match="custody log is append-only"):
        case.conn.execute("DELETE FROM custody WHERE seq = 2")
    assert case.item(item.sha256)["size"] == 4096
    assert case.verify().ok


# --------------------------------------------------------------------------- analyses


def test_record_analysis_stores_maps_encoded_elsewhere(case, tmp_path):
    """A scan worker encodes the maps; the store keeps those bytes as they are."""
    from triage_app.case.store import encode_map

    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    m = np.random.default_rng(1).integers(0, 256, (30, 40), dtype=np.uint8)
    png, w, h = encode_map(m)
    aid = case.record_analysis(item.sha256, _analysis(), encoded_maps={"ela": (png, w, h)})
    assert np.array_equal(case.latest_map(item.sha256, "ela"), m)
    stored = case.conn.execute("SELECT png, width, height FROM maps WHERE analysis_id = ?",
                               (aid,)).fetchone()
    assert stored == (png, 40, 30)
    assert case.verify().ok


def test_record_analysis_round_trips_with_maps(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    case.record_probe(item.sha256, kind="image", format="JPEG",
                      summary={"width": 64, "height": 48}, error=None)
    assert not case.has_analysis(item.sha256)
    analysis = _analysis()
    rng = np.random.default_rng(0)
    fused = rng.random((48, 64)).astype(np.float32)
    analysis.fused_map = fused
    detector_map = rng.integers(0, 256, (48, 64), dtype=np.uint8)
    aid = case.record_analysis(item.sha256, analysis, maps={"copy_move": detector_map})
    assert case.has_analysis(item.sha256)
    assert case.has_analysis(item.sha256, pipeline_version=triage_app.__version__, ok_only=True)
    assert not case.has_analysis(item.sha256, pipeline_version="9.9")
    back = case.latest_analysis(item.sha256)
    assert back is not None and back.to_dict() == analysis.to_dict()
    assert back.verdict.label == "likely_manipulated" and len(back.findings) == 3
    assert back.claims[1].status == "hallucinated"
    assert np.array_equal(case.latest_map(item.sha256, "copy_move"), detector_map)
    fused_back = case.latest_map(item.sha256)
    assert fused_back.dtype == np.uint8 and fused_back.shape == (48, 64)
    assert np.array_equal(fused_back, np.round(fused * 255).astype(np.uint8))
    assert case.latest_map(item.sha256, "nope") is None
    assert case.map_names(item.sha256) == ["copy_move", "fused"]
    # spread out for queries too
    q = case.conn.execute
    assert q("SELECT COUNT(*) FROM detector_results WHERE analysis_id = ?", (aid,)).fetchone()[0] == 3
    assert q("SELECT COUNT(*) FROM findings WHERE analysis_id = ?", (aid,)).fetchone()[0] == 3
    assert q("SELECT COUNT(*) FROM claims WHERE analysis_id = ?", (aid,)).fetchone()[0] == 2
    entry = case.custody_entries(item.sha256)[-1]
    assert entry["action"] == "analysis_run"
    d = entry["details"]
    assert d["analysis_id"] == aid and d["tool_version"] == triage_app.__version__
    assert d["verdict"] == {"label": "likely_manipulated", "probability": 0.87}
    assert {x["name"]: x["version"] for x in d["detectors"]} == \
        {"copy_move": "1.2.0", "jpeg_ghost": "0.3.1", "face_swap": "1.0.0"}
    listed = case.items()[0]
    assert listed["verdict"] == {"label": "likely_manipulated", "probability": 0.87}
    assert listed["kind"] == "image" and listed["format"] == "JPEG" and listed["error"] is None
    assert case.verify().ok


def test_record_analysis_with_numpy_values_and_nan(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    analysis = _analysis()
    analysis.detectors[0].params = {"threshold": np.float32(0.25), "sizes": np.array([8, 16])}
    analysis.detectors[0].findings[0].measurement.value = float("nan")
    analysis.verdict.probability = np.float32(0.5)
    case.record_analysis(item.sha256, analysis)
    back = case.latest_analysis(item.sha256)
    assert back.detectors[0].params == {"threshold": 0.25, "sizes": [8, 16]}
    assert back.detectors[0].findings[0].measurement.value == "nan"  # no JSON NaN on disk
    assert back.verdict.probability == 0.5
    assert case.verify().ok


def test_record_analysis_error(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "broken.mp4"))
    case.record_probe(item.sha256, kind=None, format=None, summary=None,
                      error="not a video: no moov atom")
    aid = case.record_analysis(item.sha256, None, error="decoder failed at frame 12")
    assert case.has_analysis(item.sha256) and not case.has_analysis(item.sha256, ok_only=True)
    assert case.latest_analysis(item.sha256) is None and case.latest_map(item.sha256) is None
    info = case.item(item.sha256)
    assert info["error"] == "decoder failed at frame 12" and info["verdict"] is None
    assert info["analyses"][0]["id"] == aid and info["analyses"][0]["status"] == "error"
    with pytest.raises(ValueError):
        case.record_analysis(item.sha256, None)
    assert case.verify().ok


def test_items_and_item_for_show_json(case, tmp_path):
    a = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    b = case.add_evidence(_file(tmp_path / "in", "b.wav"))
    case.record_analysis(a.sha256, _analysis())
    case.record_decision(a.sha256, "manipulated", "clone confirmed by eye")
    case.record_decision(a.sha256, "manipulated_confirmed", "second look")
    case.add_note(a.sha256, "first")
    case.add_note(a.sha256, "second")
    rid = case.record_rationale(a.sha256, "The background is cloned. The eyes blink.",
                                _analysis().claims)
    items = {i["sha256"]: i for i in case.items()}
    json.dumps(list(items.values()))  # plain JSON-able dicts
    ia, ib = items[a.sha256], items[b.sha256]
    assert ia["decision"]["label"] == "manipulated_confirmed" and ia["note_count"] == 2
    assert ia["verdict"]["label"] == "likely_manipulated"
    assert ib["verdict"] is None and ib["decision"] is None and ib["note_count"] == 0
    full = case.item(a.sha256[:12])
    json.dumps(full)
    assert [n["text"] for n in full["notes"]] == ["first", "second"]
    assert len(full["decisions"]) == 2 and full["rationale_count"] == 1
    (rat,) = case.rationales(a.sha256)
    assert rat["id"] == rid and [c["status"] for c in rat["claims"]] == ["grounded", "hallucinated"]
    entry = case.custody_entries(a.sha256)[-1]
    assert entry["action"] == "rationale_checked"
    assert entry["details"]["status"] == {"grounded": 1, "hallucinated": 1}
    with pytest.raises(UnknownEvidenceError):
        case.record_decision("f" * 64, "authentic")
    with pytest.raises(ValueError):
        case.record_decision(a.sha256, "  ")
    assert case.verify().ok


def test_report_is_recorded_and_rehashed(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    pdf = case.path / "reports" / "report.pdf"
    pdf.write_bytes(b"%PDF-1.7 fake report body")
    sha = hashlib.sha256(pdf.read_bytes()).hexdigest()
    with pytest.raises(ValueError):
        case.record_report(pdf, "0" * 64, details={"evidence": [item.sha256]})
    case.record_report(pdf, sha, details={"evidence": [item.sha256], "signed": False,
                                           "custody_head": case.custody_head()})
    entry = case.custody_entries()[-1]
    assert entry["action"] == "report_exported" and entry["evidence_sha256"] == item.sha256
    assert entry["details"]["path"] == "reports/report.pdf" and entry["details"]["sha256"] == sha
    assert case.reports()[0]["sha256"] == sha
    assert case.verify().ok
    pdf.write_bytes(b"%PDF-1.7 edited")
    report = case.verify()
    assert not report.ok
    assert report.problems[0].what == "report" and "reports/report.pdf" in report.problems[0].message


# --------------------------------------------------------------------------- verify


def test_custody_chain_verifies_and_appends_case_verified(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    case.add_note(item.sha256, "looked at it")
    report = case.verify()
    assert report.ok and report.problems == [] and report.warnings == []
    assert report.entries_checked == 3 and report.files_checked == 1
    last = case.custody_entries()[-1]
    assert last["action"] == "case_verified" and last["details"]["head"]["seq"] == 3
    case.close()
    r2 = verify_case(case.path, record=False)
    assert r2.ok and r2.entries_checked == 4
    with Case.open(case.path) as again:
        assert len(again.custody_entries()) == 4  # record=False appended nothing


def test_flipped_byte_in_evidence_copy_is_named(case, tmp_path):
    data = os.urandom(8192)
    item = case.add_evidence(_file(tmp_path / "in", "a.png", data))
    case.add_evidence(_file(tmp_path / "in", "b.png"))
    p = case.evidence_path(item.sha256)
    os.chmod(p, 0o644)
    with open(p, "r+b") as fh:
        fh.seek(1000)
        fh.write(bytes([data[1000] ^ 0x01]))
    os.chmod(p, 0o444)
    n_before = len(case.custody_entries())
    report = case.verify()
    assert not report.ok and report.files_checked == 2
    (prob,) = report.problems
    rel = f"evidence/{item.sha256[:2]}/{item.sha256}.png"
    assert prob.what == "evidence_file" and prob.where == rel
    actual = hashlib.sha256(p.read_bytes()).hexdigest()
    assert rel in prob.message and item.sha256 in prob.message and actual in prob.message
    assert len(case.custody_entries()) == n_before  # no case_verified when it fails


def test_verify_evidence_rehashes_one_item(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.png"))
    assert case.verify_evidence(item.sha256) == []
    assert case.custody_entries()[-1]["action"] == "evidence_verified"
    p = case.evidence_path(item.sha256)
    os.chmod(p, 0o644)
    p.write_bytes(b"replaced")
    (prob,) = case.verify_evidence(item.sha256)
    assert prob.what == "evidence_file" and "was altered" in prob.message
    assert case.custody_entries()[-1]["action"] == "evidence_verified"  # nothing new appended


def test_migrations_apply_each_with_its_record(tmp_path):
    from sqlite_utils import Database

    from triage_app.case import migrations

    conn = sqlite3.connect(tmp_path / "m.db", isolation_level=None)
    db = Database(conn)

    def good(d):
        d.conn.execute("CREATE TABLE extra (x INTEGER)")

    def bad(d):
        d.conn.execute("CREATE TABLE half_done (x INTEGER)")
        raise RuntimeError("boom")

    assert migrations.apply(db, [migrations.Migration("0001_good", good)]) == ["0001_good"]
    assert migrations.apply(db, [migrations.Migration("0001_good", good)]) == []  # once only
    with pytest.raises(RuntimeError):
        migrations.apply(db, [migrations.Migration("0002_bad", bad)])
    assert "half_done" not in db.table_names()  # rolled back with its record
    assert migrations.applied(db) == ["0001_good"]
    conn.close()


def test_missing_evidence_copy_is_named(case, tmp_path):
    item = case.add_evidence(_file(tmp_path / "in", "a.png"))
    os.remove(case.evidence_path(item.sha256))
    report = case.verify()
    (prob,) = report.problems
    assert prob.what == "missing_file" and item.sha256 in prob.where
    # taking the same bytes in again restores the copy, and the log says so
    case.add_evidence(tmp_path / "in" / "a.png")
    assert case.custody_entries()[-1]["action"] == "vault_copy_restored"
    assert case.verify().ok


def test_tampered_copy_is_not_overwritten_by_a_new_intake(case, tmp_path):
    from triage_app.case.vault import VaultError

    src = _file(tmp_path / "in", "a.png")
    item = case.add_evidence(src)
    p = case.evidence_path(item.sha256)
    os.chmod(p, 0o644)
    p.write_bytes(b"tampered")
    n = len(case.custody_entries())
    with pytest.raises(VaultError, match="does not match"):
        case.add_evidence(src)
    assert p.read_bytes() == b"tampered" and len(case.custody_entries()) == n
    assert case.vault.stale_temp_files() == []
    assert case.verify().problems[0].what == "evidence_file"


def _edit_in_outside_tool(db: Path, sql: str) -> None:
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(db), sql], check=True, capture_output=True)
    else:
        conn = sqlite3.connect(db)
        conn.executescript(sql)
        conn.close()


def _case_with_history(tmp_path) -> tuple[Path, str]:
    with Case.create(tmp_path / "c.triage", examiner="Ana") as case:
        item = case.add_evidence(_file(tmp_path / "in", "a.jpg"))
        case.record_probe(item.sha256, kind="image", format="JPEG", summary={}, error=None)
        case.record_analysis(item.sha256, _analysis())
        case.record_decision(item.sha256, "manipulated")
        case.add_note(item.sha256, "note")
    return tmp_path / "c.triage", item.sha256


def test_custody_row_edited_with_sqlite3_shell_is_named(tmp_path):
    path, _ = _case_with_history(tmp_path)
    _edit_in_outside_tool(path / "case.db",
                          "DROP TRIGGER custody_no_update; "
                          "UPDATE custody SET details = replace(details, '0.87', '0.12') "
                          "WHERE action = 'analysis_run';")
    report = verify_case(path)
    assert not report.ok
    first = report.problems[0]
    assert first.what == "custody_entry" and first.where == "custody entry #4"
    assert first.message.startswith("custody entry #4 (analysis_run, 20")
    assert "does not match its hash: it was changed after it was written" in first.message
    assert any(p.what == "custody_trigger" for p in report.problems)


def test_custody_row_edited_with_python_and_rehashed_is_caught(tmp_path):
    path, _ = _case_with_history(tmp_path)
    conn = sqlite3.connect(path / "case.db")
    conn.execute("DROP TRIGGER custody_no_update")
    row = conn.execute("SELECT seq, time, actor, action, evidence_sha256, details, prev_hash"
                       " FROM custody WHERE seq = 5").fetchone()
    entry = dict(zip(custody.ENTRY_FIELDS, row))
    entry["details"] = json.loads(entry["details"])
    entry["details"]["label"] = "authentic"  # a forger who knows the hash function
    conn.execute("UPDATE custody SET details = ?, hash = ? WHERE seq = 5",
                 (custody.canonical_json(entry["details"]), custody.entry_hash(entry)))
    conn.commit()
    conn.close()
    report = verify_case(path)
    assert report.problems[0].where == "custody entry #6"
    assert "does not link to the entry before it (#5)" in report.problems[0].message


def test_case_rows_changed_added_or_removed_outside_the_tool_are_named(tmp_path):
    path, sha = _case_with_history(tmp_path)
    conn = sqlite3.connect(path / "case.db")
    conn.execute("UPDATE decisions SET label = 'authentic'")
    conn.execute("UPDATE findings SET strength = 0.01 WHERE artifact = 'cloned_region'")
    conn.execute("INSERT INTO notes (sha256, time, actor, text) VALUES (?, 't', 'x@y', 'forged')",
                 (sha,))
    conn.execute("DELETE FROM probes")
    conn.commit()
    conn.close()
    report = verify_case(path)
    got = {(p.what, p.where) for p in report.problems}
    assert ("record_changed", "decision #1") in got
    assert ("record_changed", "analysis #1") in got
    assert ("record_unlogged", "note #2") in got
    assert ("record_missing", "probe #1") in got
    assert not any(p.what == "custody_entry" for p in report.problems)  # the log itself is intact


# --------------------------------------------------------------------------- crashes, concurrency


def test_simulated_kill_mid_intake_recovers(case, tmp_path):
    src = _file(tmp_path / "in", "a.jpg")
    copy = Vault(case.path / "evidence").ingest(src)  # the copy landed, the commit never did
    report = case.verify()
    assert report.ok and len(report.warnings) == 1 and copy.rel in report.warnings[0]
    item = case.add_evidence(src)
    assert item.vault_reused and not item.already_present
    assert item.vault_path == copy.path
    (added,) = [e for e in case.custody_entries() if e["action"] == "evidence_added"]
    assert added["details"]["vault_copy"] == "reused"
    report = case.verify()
    assert report.ok and report.warnings == []


_INTAKE_SCRIPT = textwrap.dedent("""
    import sys
    from triage_app.case.store import Case
    case = Case.open(sys.argv[1])
    for p in sys.argv[2:]:
        case.add_evidence(p)
        case.add_note(case.items()[-1]["sha256"], "seen")
        print("added", p, flush=True)
""")


def test_kill_9_during_intake_loses_nothing_committed(case, tmp_path):
    files = [_file(tmp_path / "in", f"f{i:02d}.bin", n=2 << 20) for i in range(12)]
    case.close()
    proc = subprocess.Popen([sys.executable, "-c", _INTAKE_SCRIPT, str(case.path),
                             *map(str, files)], stdout=subprocess.PIPE, text=True,
                            cwd=Path(triage_app.__file__).parents[1])
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("added")  # one is in; kill during the next ones
    time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with Case.open(case.path) as again:
        report = again.verify()
        assert report.ok, report.problems
        n_items = len(again.items())
        assert 1 <= n_items < len(files)
        for f in files:  # resume: take everything in again
            again.add_evidence(f)
        assert len(again.items()) == len(files)
        final = again.verify()
        assert final.ok
        assert not any("not in the case database" in w for w in final.warnings)


def _append_notes(path: str, who: str, n: int, barrier=None) -> None:
    with Case.open(path) as case:
        sha = case.items()[0]["sha256"]
        if barrier is not None:
            barrier.wait(30)  # both processes start appending at the same moment
        for i in range(n):
            case.add_note(sha, f"{who} {i}", actor=who)
            time.sleep(0.002)  # a scan or a GUI does some work between two appends


def test_two_processes_appending_keep_one_valid_chain(case, tmp_path):
    case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    case.close()
    ctx = mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_append_notes, args=(str(case.path), who, 40, barrier))
             for who in ("gui", "cli")]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    with Case.open(case.path) as again:
        entries = again.custody_entries()
        assert len(entries) == 2 + 80
        assert [e["seq"] for e in entries] == list(range(1, 83))
        actors = [e["actor"] for e in entries[2:]]
        switches = sum(a != b for a, b in zip(actors, actors[1:]))
        assert switches >= 2  # they really did take turns (about 70 in practice)
        assert sorted(set(actors)) == [f"cli@{HOST}", f"gui@{HOST}"]
        assert actors.count(f"gui@{HOST}") == actors.count(f"cli@{HOST}") == 40
        # each process's notes are in its own order, wherever the other's fell between them
        for who in ("gui", "cli"):
            texts = [e["details"]["text"] for e in entries[2:] if e["actor"].startswith(who)]
            assert texts == [f"{who} {i}" for i in range(40)]
        assert again.verify().ok


def test_read_only_open_refuses_writes(case, tmp_path):
    case.add_evidence(_file(tmp_path / "in", "a.jpg"))
    case.close()
    with Case.open(case.path, read_only=True) as ro:
        assert len(ro.items()) == 1
        with pytest.raises(CaseError):
            ro.add_note(ro.items()[0]["sha256"], "x")
