"""Batch scan: walking, bad input that fails alone, resume after SIGKILL, custody intact."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage_app.scan import scan, walk

ROOT = Path(__file__).resolve().parents[1]


def _image(path: Path, seed: int, size: int = 96, fmt: str | None = None) -> Path:
    rng = np.random.default_rng(seed)
    base = np.linspace(0, 200, size, dtype=np.float32)[None, :, None]
    arr = np.clip(base + rng.normal(0, 8, (size, size, 3)), 0, 255).astype(np.uint8)
    Image.fromarray(arr).save(path, format=fmt)
    return path


def _wav(path: Path, seconds: float = 0.5, sr: int = 16000) -> Path:
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    sf.write(path, (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), sr, subtype="PCM_16")
    return path


@pytest.fixture
def media_folder(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    for i in range(4):
        _image(d / f"img{i}.png", i)
    _image(d / "sub" / "deep.jpg", 10, fmt="JPEG")
    _wav(d / "voice.wav")
    (d / "notes.txt").write_text("case notes, not media")
    (d / "fake.jpg").write_text("this is text pretending to be a JPEG")
    (d / "empty.png").write_bytes(b"")
    jpeg_as_wav = d / "photo.wav"
    _image(jpeg_as_wav, 11, fmt="JPEG")
    return d


def _events(*args, **kw):
    return list(scan(*args, **kw))


def test_walk_counts_non_media_and_ignores_link_loops(media_folder: Path) -> None:
    os.symlink(media_folder, media_folder / "sub" / "loop")
    res = walk([media_folder], recursive=True)
    names = sorted(Path(p).name for p in res.candidates)
    assert "notes.txt" not in names
    assert [Path(p).name for p in res.skipped_non_media] == ["notes.txt"]
    assert names.count("deep.jpg") == 1  # the loop was not followed
    assert "fake.jpg" in names and "empty.png" in names  # claimed media: reported, not skipped
    flat = walk([media_folder], recursive=False)
    assert "deep.jpg" not in [Path(p).name for p in flat.candidates]


def test_scan_takes_in_everything_and_bad_files_fail_alone(media_folder: Path,
                                                           tmp_path: Path) -> None:
    from triage_app.case.store import Case

    case_dir = tmp_path / "c.triage"
    events = _events([media_folder], case_dir, recursive=True, workers=2)
    assert events[0].kind == "start" and events[-1].kind == "done"
    assert events[-1].skipped_non_media == 1
    by_name = {Path(e.path).name: e for e in events if e.kind in ("analyzed", "error")}
    assert set(by_name) == {"img0.png", "img1.png", "img2.png", "img3.png", "deep.jpg",
                            "voice.wav", "fake.jpg", "empty.png", "photo.wav"}
    assert by_name["fake.jpg"].kind == "error" and "text" in by_name["fake.jpg"].message
    assert by_name["empty.png"].kind == "error" and "empty" in by_name["empty.png"].message
    assert by_name["photo.wav"].kind == "analyzed"  # the content decides, not the name
    assert by_name["img0.png"].kind == "analyzed"
    case = Case.open(case_dir)
    try:
        items = case.items()
        assert len(items) == 9
        assert all(len(it["sha256"]) == 64 for it in items)
        assert case.verify().ok
    finally:
        case.close()


def test_rescan_skips_what_is_done(media_folder: Path, tmp_path: Path) -> None:
    case_dir = tmp_path / "c.triage"
    _events([media_folder / "img0.png", media_folder / "img1.png"], case_dir)
    again = _events([media_folder / "img0.png", media_folder / "img1.png"], case_dir)
    kinds = [e.kind for e in again if e.path]
    assert kinds.count("skipped") == 2 and "analyzed" not in kinds
    skipped = [e for e in again if e.kind == "skipped"]
    assert skipped[0].outcome.analysis is not None  # stored result comes back


def test_cancel_stops_taking_files_and_keeps_what_is_done(tmp_path: Path) -> None:
    import threading

    from triage_app.case.store import Case

    d = tmp_path / "many"
    d.mkdir()
    for i in range(12):
        _image(d / f"{i:02d}.png", i)
    cancel = threading.Event()
    case_dir = tmp_path / "c.triage"
    seen = []
    for ev in scan([d], case_dir, workers=1, cancel=cancel):
        seen.append(ev)
        if ev.kind == "analyzed" and len([e for e in seen if e.kind == "analyzed"]) == 2:
            cancel.set()
    assert seen[-1].kind == "done" and seen[-1].cancelled
    analysed = [e for e in seen if e.kind == "analyzed"]
    assert 2 <= len(analysed) < 12
    case = Case.open(case_dir)
    try:
        done = [it for it in case.items() if it.get("verdict") or it.get("error")]
        assert len(done) == len(analysed)
        assert case.verify().ok
    finally:
        case.close()
    rest = _events([d], case_dir, workers=1)
    assert len([e for e in rest if e.kind == "analyzed"]) == 12 - len(analysed)


def _triage(*args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "triage_app.cli", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, **kw)


@pytest.mark.parametrize("kill_after", [0, 1, 3])
def test_sigkill_mid_scan_then_resume_loses_nothing(tmp_path: Path, kill_after: int) -> None:
    d = tmp_path / "batch"
    d.mkdir()
    for i in range(8):
        _image(d / f"{i:02d}.png", 100 + i)
    case_dir = tmp_path / "k.triage"
    proc = _triage("scan", str(d), "--case", str(case_dir), "--json", "--workers", "1")
    seen = 0
    if kill_after == 0:
        # Killed while starting up / taking the first files in.
        deadline = time.time() + 30
        while not (case_dir / "case.db").exists() and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.3)
    else:
        assert proc.stdout is not None
        for line in proc.stdout:
            if json.loads(line).get("event") == "analyzed":
                seen += 1
                if seen >= kill_after:
                    break
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    rerun = _triage("scan", str(d), "--case", str(case_dir), "--json", "--workers", "1")
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err
    lines = [json.loads(x) for x in out.splitlines()]
    assert {Path(x["path"]).name for x in lines} == {f"{i:02d}.png" for i in range(8)}
    db = sqlite3.connect(case_dir / "case.db")
    try:
        n_items = db.execute("select count(*) from evidence").fetchone()[0]
        per_item = db.execute("select sha256, count(*) from analyses group by sha256").fetchall()
    finally:
        db.close()
    assert n_items == 8
    assert len(per_item) == 8 and all(n == 1 for _, n in per_item)  # none lost, none twice
    verify = _triage("verify", str(case_dir))
    vout, verr = verify.communicate(timeout=120)
    assert verify.returncode == 0, vout + verr
