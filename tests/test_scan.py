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


def _outcomes(events) -> dict[str, list]:
    """Per file given, the events that ended it (analyzed / error)."""
    ended: dict[str, list] = {}
    for e in events:
        if e.kind in ("analyzed", "error") and e.path:
            ended.setdefault(Path(e.path).name, []).append(e)
    return ended


def test_a_worker_killed_mid_file_fails_that_file_alone(tmp_path: Path) -> None:
    """SIGKILL of the worker after the first result: the file it was running fails with a
    clear message, the file queued behind it is analysed by a fresh worker, nothing twice."""
    import multiprocessing as mp

    d = tmp_path / "in"
    d.mkdir()
    for i in range(5):
        _image(d / f"{i}.png", i, size=160)
    events = []
    killed = False
    for ev in scan([d], tmp_path / "c.triage", workers=1):
        events.append(ev)
        if ev.kind == "analyzed" and not killed:
            for child in mp.active_children():
                os.kill(child.pid, signal.SIGKILL)
            killed = True
    ended = _outcomes(events)
    assert sorted(ended) == [f"{i}.png" for i in range(5)]
    assert all(len(v) == 1 for v in ended.values()), "a file ended twice"
    errors = [v[0] for v in ended.values() if v[0].kind == "error"]
    assert len(errors) <= 1  # the file it was running (none if it had just finished it)
    assert all("crashed" in e.message for e in errors)
    assert events[-1].kind == "done" and events[-1].done == 5


def test_a_file_over_the_time_limit_fails_alone_and_queued_files_are_not_lost(
        tmp_path: Path) -> None:
    from triage_app.settings import Settings

    d = tmp_path / "in"
    d.mkdir()
    for i in range(3):
        _image(d / f"{i}.png", i)
    settings = Settings()
    settings.per_file_timeout = 0.001  # no worker even starts in time: every file times out
    events = _events([d], tmp_path / "c.triage", workers=1, settings=settings)
    ended = _outcomes(events)
    assert sorted(ended) == ["0.png", "1.png", "2.png"]
    assert all(len(v) == 1 and v[0].kind == "error" for v in ended.values())
    assert all("longer than the limit" in v[0].message for v in ended.values())


def test_limit_numeric_threads_reaches_libraries_already_loaded() -> None:
    """A spawned worker has imported numpy (and its OpenBLAS) before its main function runs,
    so setting OMP_NUM_THREADS there is too late; limit_numeric_threads must still work."""
    code = ("import numpy, cv2\n"
            "from threadpoolctl import threadpool_info\n"
            "from triage_app.threads import limit_numeric_threads\n"
            "limit_numeric_threads(1)\n"
            "print(sorted({p['num_threads'] for p in threadpool_info()}), cv2.getNumThreads())\n")
    env = {k: v for k, v in os.environ.items() if not k.endswith("_NUM_THREADS")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["[1]", "1"]


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


def test_a_file_name_that_is_not_utf8_is_taken_in_and_recorded_escaped(tmp_path: Path) -> None:
    """A Latin-1 name ('caf\\xe9.png') stopped the whole scan with a UnicodeEncodeError from
    SQLite ("internal error"): the batch must go on, the name be recorded readably."""
    from triage_app.case.store import Case

    d = tmp_path / "in"
    d.mkdir()
    try:
        raw = os.fsdecode(os.fsencode(str(d)) + b"/caf\xe9.png")
        _image(Path(raw), 1)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    _image(d / "plain.png", 2)
    case_dir = tmp_path / "c.triage"
    events = _events([d], case_dir)
    assert events[-1].kind == "done"
    assert sorted(e.kind for e in events if e.kind in ("analyzed", "error")) == \
        ["analyzed", "analyzed"]
    case = Case.open(case_dir)
    try:
        names = sorted(s["name"] for it in case.items() for s in case.item(it["sha256"])["sources"])
        assert names == ["caf\\xe9.png", "plain.png"]
        assert case.verify().ok
    finally:
        case.close()
