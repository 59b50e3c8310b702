"""Screenshots for docs/screenshots/ (opt-in: TRIAGE_SCREENSHOTS=1, so that a test run never
writes into the repository). Media are scanned by the real pipeline: items of the development
corpus when it is present (a copy-move image, a face-swap video, a vocoder clip), else small
generated media."""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest

from _gui_support import wait_idle

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(os.environ.get("TRIAGE_SCREENSHOT_DIR") or ROOT / "docs" / "screenshots")
CORPUS = Path(os.environ.get("TRIAGE_CORPUS") or ROOT.parent / "shared" / "corpus")

pytestmark = [pytest.mark.skipif(not os.environ.get("TRIAGE_SCREENSHOTS"),
                                 reason="set TRIAGE_SCREENSHOTS=1 to write docs/screenshots"),
              pytest.mark.slow]


def _corpus_media(dest: Path) -> dict[str, str] | None:
    manifest = CORPUS / "manifest.csv"
    if not manifest.is_file():
        return None
    rows = list(csv.DictReader(manifest.open()))
    want = {"image": "copy-move", "video": "face-swap", "audio": "vocoder"}
    picked = {}
    for kind, manip in want.items():
        row = next((r for r in rows if r["modality"] == kind and r["manipulation"] == manip), None)
        if row is None:
            return None
        src = CORPUS / row["path"]
        shutil.copy(src, dest / src.name)
        picked[kind] = src.name
    return picked


def test_screenshots(qtbot, make_window, media_dir, tmp_path):
    OUT.mkdir(parents=True, exist_ok=True)
    src = tmp_path / "evidence"
    src.mkdir()
    names = _corpus_media(src)
    if names is None:
        for n in ("street.png", "clip.mp4", "call.wav"):
            shutil.copy(media_dir / n, src / n)
        names = {"image": "street.png", "video": "clip.mp4", "audio": "call.wav"}
    shutil.copy(media_dir / "broken.jpg", src / "broken.jpg")
    (src / "readme.txt").write_text("not media")

    w = make_window()
    w.resize(1500, 880)
    w._open(str(tmp_path / "Case-2026-0142.triage"), create_examiner="A. Examiner",
            title="Case-2026-0142")
    qtbot.waitUntil(lambda: w.case_info is not None, timeout=15000)
    dlg = w.show_scan_dialog([str(src)])
    dlg.workers.setValue(2)

    def midway(ev):  # the dialog while the scan runs: counts, ETA, current file, errors
        if ev.kind in ("analyzed", "error") and ev.done == ev.total - 1:
            dlg.grab().save(str(OUT / "scan_dialog.png"))

    dlg.event_received.connect(midway)
    with qtbot.waitSignal(dlg.scan_finished, timeout=600_000):
        dlg.start()
    wait_idle(qtbot, w)
    dlg.close()
    rows = {r["name"]: r for r in w.model.rows()}

    w.select_sha(rows[names["image"]]["sha256"])
    wait_idle(qtbot, w)
    qtbot.wait(200)
    w.grab().save(str(OUT / "main_window_image_heatmap.png"))

    w.select_sha(rows[names["video"]]["sha256"])
    wait_idle(qtbot, w)
    tl = w.video_viewer.timeline
    if tl.spans:
        from PySide6.QtCore import Qt

        qtbot.mouseClick(tl, Qt.MouseButton.LeftButton,
                         pos=tl.span_rect(tl.spans[0]).center().toPoint())
    else:
        w.video_viewer.seek(w.video_viewer.media.duration / 2)
    wait_idle(qtbot, w)
    qtbot.wait(200)
    w.grab().save(str(OUT / "video_timeline.png"))

    w.select_sha(rows[names["audio"]]["sha256"])
    wait_idle(qtbot, w)
    qtbot.wait(200)
    w.grab().save(str(OUT / "audio_spectrogram.png"))
