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


def test_verify_names_a_flipped_evidence_byte(tmp_path: Path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 3)
    case = tmp_path / "c.triage"
    assert main(["scan", str(d), "--case", str(case), "--quiet"]) == 0
    copy = next((case / "evidence").rglob("*.png"))
    os.chmod(copy, stat.S_IRUSR | stat.S_IWUSR)
    data = bytearray(copy.read_bytes())
    data[len(data) // 2] ^= 0x01
    copy.write_bytes(bytes(data))
    capsys.readouterr()
    code, out, _ = _run(capsys, "verify", str(case))
    assert code == 1
    assert copy.name[:12] in out or copy.stem[:12] in out


def test_verify_names_an_edited_custody_row(tmp_path: Path, capsys) -> None:
    d = tmp_path / "in"
    d.mkdir()
    _png(d / "a.png", 4)
    case = tmp_path / "c.triage"
    assert main(["scan", str(d), "--case", str(case), "--quiet"]) == 0
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
