"""The `triage` command: JSON schemas, exit codes, verify catching tampering, README coverage."""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage_app.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]
ANALYZE_FIELDS = {"path", "sha256", "media", "verdict", "detectors", "findings", "claims",
                  "map", "error"}


def _png(path: Path, seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    arr = np.clip(128 + rng.normal(0, 20, (64, 80, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path)
    return path


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_analyze_json_schema_and_maps(tmp_path: Path, capsys) -> None:
    img = _png(tmp_path / "a.png")
    code, out, _ = _run(capsys, "analyze", str(img), "--json", "--maps", str(tmp_path / "maps"))
    assert code == 0
    obj = json.loads(out.splitlines()[0])
    assert ANALYZE_FIELDS <= set(obj)
    assert obj["path"] == str(img) and len(obj["sha256"]) == 64 and obj["error"] is None
    assert obj["media"]["kind"] == "image" and obj["media"]["width"] == 80
    assert obj["verdict"]["label"] in ("likely_manipulated", "likely_authentic", "inconclusive")
    for d in obj["detectors"]:
        assert {"name", "version", "status", "score", "reason"} <= set(d)
    if obj["map"] is not None:
        m = np.asarray(Image.open(obj["map"]))
        assert m.shape == (64, 80) and m.dtype == np.uint8


def test_analyze_bad_file_exit_1_with_message(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "x.jpg"
    bad.write_text("not an image")
    good = _png(tmp_path / "g.png")
    code, out, _ = _run(capsys, "analyze", str(bad), str(good), "--json")
    assert code == 1
    lines = [json.loads(x) for x in out.splitlines()]
    assert len(lines) == 2  # the good file was still analysed
    assert "text" in lines[0]["error"] and lines[1]["error"] is None


def test_bad_usage_exits_2(capsys) -> None:
    assert main(["scan"]) == 2
    assert main(["no-such-command"]) == 2
    assert main(["validate", "x.png"]) == 2


def test_show_and_verify_on_a_case(tmp_path: Path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 1)
    _png(d / "b.png", 2)
    case = tmp_path / "c.triage"
    code, _, _ = _run(capsys, "scan", str(d), "--case", str(case), "--quiet")
    assert code == 0
    code, out, _ = _run(capsys, "show", str(case), "--json")
    assert code == 0
    shown = json.loads(out)
    assert len(shown["items"]) == 2 and all(len(i["sha256"]) == 64 for i in shown["items"])
    code, out, _ = _run(capsys, "verify", str(case))
    assert code == 0 and "OK" in out


def test_verify_names_a_flipped_evidence_byte(small_case: Path, capsys) -> None:
    case = small_case
    copy = next((case / "evidence").rglob("*.png"))
    os.chmod(copy, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    capsys.readouterr()
    code, out, _ = _run(capsys, "verify", str(case))
    assert code == 1
    assert copy.name[:12] in out or copy.stem[:12] in out


def test_verify_names_an_edited_custody_row(small_case: Path, capsys) -> None:
    case = small_case
    db = sqlite3.connect(case / "case.db")
    triggers = [r[0] for r in db.execute(
        "select name from sqlite_master where type='trigger' and tbl_name='custody'")]
    assert triggers, "custody must be protected by triggers"
    with pytest.raises(sqlite3.DatabaseError):
        db.execute("update custody set actor='mallory' where seq=2")
    for t in triggers:  # a deliberate outside edit: drop the guard, then edit
        db.execute(f"drop trigger {t}")
    db.execute("update custody set actor='mallory' where seq=2")
    db.commit()
    db.close()
    capsys.readouterr()
    code, out, _ = _run(capsys, "verify", str(case))
    assert code == 1
    assert "#2" in out


def test_every_command_is_documented_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert f"triage {name}" in readme, f"`triage {name}` is not in the README"


def test_models_lists_weight_hashes_from_any_directory(tmp_path: Path, monkeypatch, capsys) -> None:
    """Regression: weight files registered as relative paths had no hash outside the repo."""
    monkeypatch.chdir(tmp_path)
    assert main(["models", "--json"]) == 0
    entries = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    weights = [w for e in entries for w in e["weight_files"]]
    assert weights and all(w["sha256"] and len(w["sha256"]) == 64 for w in weights)
    assert not [e for e in entries if e.get("load_error")]


def test_printed_names_that_are_not_utf8_show_their_bytes_escaped(capsys):
    from triage_app.cli import _print

    _print("1/1 likely_authentic 0.03 /in/caf\udce9.jpg")
    assert capsys.readouterr().out.strip().endswith("/in/caf\\xe9.jpg")


def test_analyze_says_which_segment_gave_a_long_recordings_scores(tmp_path: Path, monkeypatch,
                                                                   capsys) -> None:
    import soundfile as sf

    from detectors.audio import _common as C

    monkeypatch.setattr(C, "ANALYSIS_BUDGET_S", 5.0)
    sr = 16000
    t = np.arange(12 * sr) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x[9 * sr:int(9.5 * sr)] = 0.0
    p = tmp_path / "long.wav"
    sf.write(p, x.astype(np.float32), sr, subtype="PCM_16")
    assert main(["analyze", str(p)]) == 0
    out = capsys.readouterr().out
    assert "analysed in 3 overlapping segments" in out
    line = next(ln for ln in out.splitlines() if ln.strip().startswith("digital_silence"))
    assert "highest in 0:07-0:12, segment 3 of 3" in line


# ----------------------------------------------------------------- from a QA pass (2026-12-08)


@pytest.fixture
def small_case(tmp_path: Path, capsys) -> Path:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 5)
    case = tmp_path / "c.triage"
    assert main(["scan", str(d), "--case", str(case), "--quiet"]) == 0
    capsys.readouterr()
    return case


def test_a_report_is_not_overwritten_unless_asked_and_verify_checks_the_latest(
        small_case: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "r" / "report.pdf"
    assert main(["report", str(small_case), "--out", str(out)]) == 0
    first = out.read_bytes()
    code, _, err = _run(capsys, "report", str(small_case), "--out", str(out))
    assert code == 2 and "exists" in err and out.read_bytes() == first
    assert main(["report", str(small_case), "--out", str(out), "--overwrite"]) == 0
    code, printed, _ = _run(capsys, "verify", str(small_case))
    assert code == 0, printed
    assert "replaced by a later export" in printed
    code, _, err = _run(capsys, "report", str(small_case), "--out", str(tmp_path / "r.txt"))
    assert code == 2 and "PDF" in err


def test_a_bad_signing_key_fails_before_anything_is_written(small_case: Path, tmp_path: Path,
                                                            capsys) -> None:
    out = tmp_path / "s" / "report.pdf"
    code, _, err = _run(capsys, "report", str(small_case), "--out", str(out),
                        "--sign", str(tmp_path / "missing.p12"))
    assert code == 2 and "no such key file" in err
    code, _, err = _run(capsys, "report", str(small_case), "--out", str(out),
                        "--evidence", "deadbeef")
    assert code == 2 and "matches 0 items" in err
    bad = tmp_path / "bad.p12"
    bad.write_bytes(b"not a key")
    code, _, err = _run(capsys, "report", str(small_case), "--out", str(out), "--sign", str(bad))
    assert code == 1 and "cannot load signing key" in err and "Traceback" not in err
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_show_and_verify_open_a_write_protected_case_read_only(small_case: Path, monkeypatch,
                                                                capsys) -> None:
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: False if mode == os.W_OK
                        else real_access(p, mode, **kw))
    assert main(["show", str(small_case)]) == 0
    code, printed, _ = _run(capsys, "verify", str(small_case))
    assert code == 0 and "opened read-only" in printed


def test_scan_refuses_a_folder_that_is_not_a_case_and_skips_the_case_inside_its_input(
        tmp_path: Path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 6)
    code, _, err = _run(capsys, "scan", str(d), "--case", str(d), "--quiet")
    assert code == 2 and "not scanned into itself" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["scan", str(empty), "--case", str(empty), "--quiet"]) == 2
    assert not any(empty.iterdir())
    assert sorted(p.name for p in d.iterdir()) == ["a.png"]
    inside = d / "c.triage"
    assert main(["scan", str(d), "--case", str(inside), "-r", "--quiet"]) == 0
    code, out, _ = _run(capsys, "scan", str(d), "--case", str(inside), "-r", "--json")
    assert code == 0
    assert [json.loads(x)["event"] for x in out.splitlines()] == ["skipped"]
    assert main(["scan", str(d), "--case", str(tmp_path / "x.triage"), "--workers", "0"]) == 2
    assert main(["scan", str(d), "--case", str(tmp_path / "x.triage"), "--timeout", "-1"]) == 2


def test_a_rescan_tries_failed_items_again_and_a_damaged_copy_fails_alone(tmp_path: Path,
                                                                          capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    _png(d / "b.png", 7)
    _png(d / "c.png", 8)
    case = tmp_path / "c.triage"
    assert main(["scan", str(d), "--case", str(case), "--quiet"]) == 1
    code, out, _ = _run(capsys, "scan", str(d), "--case", str(case), "--json")
    events = {Path(json.loads(x)["path"]).name: json.loads(x)["event"] for x in out.splitlines()}
    assert code == 1 and events["broken.jpg"] == "error" and events["b.png"] == "skipped"
    copy = next(p for p in (case / "evidence").rglob("*.png"))
    os.chmod(copy, stat.S_IRUSR | stat.S_IWUSR)
    copy.write_bytes(copy.read_bytes()[:-1] + b"\x00")
    code, out, _ = _run(capsys, "scan", str(d), "--case", str(case), "--json", "--reanalyze")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 1 and len(lines) == 3  # the damaged copy errs, the other files go on
    assert sum(1 for x in lines if x["event"] == "error" and "cannot take in" in (x["error"] or "")) == 1


def test_eval_json_is_strict_json_and_bad_rows_are_said(tmp_path: Path, capsys) -> None:
    _png(tmp_path / "a.png", 9)
    _png(tmp_path / "b.png", 10)
    man = tmp_path / "m.csv"
    man.write_text("path,label,modality\na.png,authentic,image\nb.png,authentic,image\n")
    code, out, _ = _run(capsys, "eval", str(man), "--json")
    assert code == 0
    json.loads(out, parse_constant=lambda c: pytest.fail(f"{c} is not JSON"))
    man.write_text("path,label,modality\na.png,authentic,imagez\n")
    code, _, err = _run(capsys, "eval", str(man))
    assert code == 2 and "line 2" in err and "modality" in err
    claims = tmp_path / "claims.csv"
    claims.write_text("path,rationale,truth\na.png,The image is blurry.,maybe\n")
    code, _, err = _run(capsys, "eval", "--claims", str(claims))
    assert code == 2 and "line 2" in err
    claims.write_text("path,rationale,truth\nmissing.png,The image is blurry.,true\n"
                      "a.png,There is a cloned region at x=1 y=1 10x10.,false\n")
    code, out, err = _run(capsys, "eval", "--claims", str(claims))
    assert code == 1 and "missing.png" in err and "(0/0)" in out


def test_validate_checks_a_verdict_sentence_and_its_options(tmp_path: Path, capsys) -> None:
    img = _png(tmp_path / "a.png", 11)
    code, out, _ = _run(capsys, "analyze", str(img), "--json")
    label = json.loads(out)["verdict"]["label"]
    wrong = "The image is fake." if label == "likely_authentic" else "The image is authentic."
    code, out, _ = _run(capsys, "validate", str(img), "--rationale", wrong, "--json")
    claim = json.loads(out)["claims"][0]
    if label != "inconclusive":
        assert claim["status"] == "hallucinated", claim
    else:
        assert claim["status"] in ("hallucinated", "unverifiable")
    assert "no verdict to compare" not in (claim["reason"] or "")
    (tmp_path / "r.txt").write_text("x")
    assert main(["validate", str(img), "--rationale", "x", "--rationale-file",
                 str(tmp_path / "r.txt")]) == 2
    assert main(["validate", str(img), "--rationale", "  "]) == 2
    batch = tmp_path / "b.csv"
    batch.write_bytes("\ufeffPath,Rationale\na.png,The image is blurry.\n".encode("utf-8"))
    capsys.readouterr()
    code, out, _ = _run(capsys, "validate", "--batch", str(batch), "--json")
    assert code == 0 and json.loads(out)["claims"]


def test_odd_paths_and_settings_get_clear_answers(tmp_path: Path, capsys) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    code, out, _ = _run(capsys, "analyze", str(fifo), "--json")  # must not block on the pipe
    assert code == 1 and "not a regular file" in json.loads(out)["error"]
    code, _, err = _run(capsys, "verify", str(tmp_path / "nothing.pdf"))
    assert code == 2 and "no such file" in err
    img = _png(tmp_path / "a.png", 12)
    code, _, err = _run(capsys, "analyze", str(img), "--maps", str(img))
    assert code == 2 and "is a file" in err
    code, _, err = _run(capsys, "--settings", str(tmp_path / "none.json"), "analyze", str(img))
    assert code == 1 and "not found" in err
