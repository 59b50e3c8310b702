"""The main window driven as a user would: cases, queue, keys, decisions, viewers, claims,
rationales, verification, report export, settings."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy

from _gui_support import click_list_row, wait_idle

ROOT = Path(__file__).resolve().parents[2]


def open_case(qtbot, w, path) -> None:
    w.open_case(path)
    qtbot.waitUntil(lambda: w.case_info is not None and w.model.rowCount() > 0, timeout=15000)
    wait_idle(qtbot, w)


def case_reader(path):
    from triage_app.case.store import Case

    return Case.open(path)


# --------------------------------------------------------------------------- start-up


def test_window_opens_fast_without_torch(tmp_path):
    """A fresh interpreter: import the app, show the window; < 2 s and torch not imported."""
    script = textwrap.dedent(f"""
        import os, sys, time
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        sys.path.insert(0, {str(ROOT)!r})
        t0 = time.perf_counter()
        from PySide6.QtCore import QSettings
        from triage_app.gui.app import create_app
        from triage_app.gui.main_window import MainWindow
        app = create_app()
        w = MainWindow(qsettings=QSettings({str(tmp_path / 'gui.ini')!r},
                                           QSettings.Format.IniFormat))
        w.show()
        app.processEvents()
        shown = time.perf_counter() - t0
        print("RESULT", shown, "torch" in sys.modules,
              any(m.startswith("detectors.") for m in sys.modules))
        w.close()
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=60, env={**__import__("os").environ,
                                          "TRIAGE_SETTINGS": str(tmp_path / "s.json")})
    line = next(l for l in out.stdout.splitlines() if l.startswith("RESULT"))
    _, seconds, torch_loaded, detectors_loaded = line.split()
    assert torch_loaded == "False"
    assert detectors_loaded == "False"
    assert float(seconds) < 2.0, f"window took {seconds} s to open"


def test_every_visible_string_is_translatable():
    """No widget text is set from a bare string literal: every call goes through tr()."""
    import re

    bare = re.compile(r"""(setText|setWindowTitle|setPlaceholderText|setToolTip|addTab|"""
                      r"""QLabel|QPushButton|QCheckBox|QGroupBox|QAction|addMenu|"""
                      r"""setStatusTip)\(\s*["'][A-Za-z]""")
    offenders = []
    for f in sorted((ROOT / "triage_app" / "gui").glob("*.py")):
        for n, line in enumerate(f.read_text().splitlines(), 1):
            if bare.search(line):
                offenders.append(f"{f.name}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# --------------------------------------------------------------------------- cases


def test_create_case_asks_examiner_once_and_titles_window(qtbot, window, tmp_path, monkeypatch):
    asked = []
    target = tmp_path / "New.triage"
    monkeypatch.setattr(window, "_ask_new_case_path", lambda: str(target))
    monkeypatch.setattr(window, "_ask_examiner", lambda: asked.append(1) or "Grace Analyst")
    window.act_new.trigger()
    qtbot.waitUntil(lambda: window.case_info is not None, timeout=15000)
    assert asked == [1]
    assert "New" in window.windowTitle() and str(target) in window.windowTitle()
    with case_reader(target) as case:
        assert case.examiner == "Grace Analyst"
        assert case.custody_entries()[0]["action"] == "case_created"
    assert window.recent_cases()[0] == str(target)
    window.act_close.trigger()
    wait_idle(qtbot, window)
    assert window.case_info is None and window.model.rowCount() == 0
    assert window.windowTitle() == "Deepfake Triage"


def test_recent_cases_and_window_state_persist(qtbot, make_window, analysed_case, gui_ini):
    w = make_window()
    open_case(qtbot, w, analysed_case["path"])
    w.resize(700, 500)  # fits the offscreen screen, which clamps restored geometry
    qtbot.wait(10)
    w.splitter.setSizes([200, 300, 200])
    size, sizes = (w.width(), w.height()), w.splitter.sizes()
    w.close()
    w2 = make_window()
    assert w2.recent_cases()[0] == str(analysed_case["path"])
    assert [a.text() for a in w2.recent_menu.actions()][0] == str(analysed_case["path"])
    # the offscreen platform may adjust a restored geometry by a frame's width
    assert abs(w2.width() - size[0]) <= 40 and abs(w2.height() - size[1]) <= 40
    assert abs(w2.splitter.sizes()[0] - sizes[0]) <= 40
    w2.recent_menu.actions()[0].trigger()
    qtbot.waitUntil(lambda: w2.model.rowCount() == 4, timeout=15000)
    wait_idle(qtbot, w2)


# --------------------------------------------------------------------------- queue and keys


def test_queue_sorted_by_suspicion_and_filtered(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    names = [window.proxy.index(r, 1).data() for r in range(window.proxy.rowCount())]
    assert names == ["street.png", "clip.mp4", "call.wav", "broken.jpg"]  # 0.91, 0.52, 0.12, error
    window.filter_mode.setCurrentIndex(window.filter_mode.findData("errors"))
    assert [window.proxy.index(r, 1).data() for r in range(window.proxy.rowCount())] == \
        ["broken.jpg"]
    window.filter_mode.setCurrentIndex(window.filter_mode.findData("manipulated"))
    assert window.proxy.rowCount() == 1
    window.filter_mode.setCurrentIndex(window.filter_mode.findData("all"))
    window.filter_kind.setCurrentIndex(window.filter_kind.findData("audio"))
    assert [window.proxy.index(r, 1).data() for r in range(window.proxy.rowCount())] == \
        ["call.wav"]
    window.filter_kind.setCurrentIndex(0)
    qtbot.keyClicks(window.search, "clip")
    assert window.proxy.rowCount() == 1
    window.search.clear()
    assert window.proxy.rowCount() == 4
    qtbot.waitUntil(lambda: window.model.has_thumbnail(analysed_case["image"]), timeout=10000)


def test_keys_navigate_and_decide_with_custody(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    assert window.current_sha == analysed_case["image"]  # the most suspicious first
    window.queue_view.setFocus()
    qtbot.keyClick(window.queue_view, Qt.Key.Key_J)
    assert window.current_sha == analysed_case["video"]
    qtbot.keyClick(window.queue_view, Qt.Key.Key_Down)
    assert window.current_sha == analysed_case["audio"]
    qtbot.keyClick(window.queue_view, Qt.Key.Key_K)
    qtbot.keyClick(window.queue_view, Qt.Key.Key_K)
    assert window.current_sha == analysed_case["image"]
    wait_idle(qtbot, window)

    qtbot.keyClick(window.queue_view, Qt.Key.Key_2)  # Manipulated
    wait_idle(qtbot, window)
    row = window.model.row_for(analysed_case["image"])
    assert row["decision"]["label"] == "manipulated"
    assert window.proxy.index(0, 6).data() == "Manipulated"
    with case_reader(analysed_case["path"]) as case:
        assert case.item(analysed_case["image"])["decision"]["label"] == "manipulated"
        actions = [e["action"] for e in case.custody_entries(analysed_case["image"])]
        assert actions[-1] == "decision_recorded"
        assert case.custody_entries(analysed_case["image"])[-1]["details"]["label"] == \
            "manipulated"

    qtbot.keyClick(window.queue_view, Qt.Key.Key_J)
    qtbot.keyClick(window.queue_view, Qt.Key.Key_1)  # Authentic, on the video
    wait_idle(qtbot, window)
    with case_reader(analysed_case["path"]) as case:
        assert case.item(analysed_case["video"])["decision"]["label"] == "authentic"
    # the undecided filter now hides both
    window.filter_mode.setCurrentIndex(window.filter_mode.findData("undecided"))
    assert window.proxy.rowCount() == 2


def test_typing_in_the_rationale_box_records_nothing(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    window.explanation.rationale_edit.setFocus()
    qtbot.keyClicks(window.explanation.rationale_edit, "123 jkn")
    wait_idle(qtbot, window)
    assert window.explanation.rationale_edit.toPlainText() == "123 jkn"
    assert window.current_sha == analysed_case["image"]
    with case_reader(analysed_case["path"]) as case:
        assert case.item(analysed_case["image"])["decision"] is None


def test_note_with_n(qtbot, window, analysed_case, monkeypatch):
    open_case(qtbot, window, analysed_case["path"])
    monkeypatch.setattr(window, "_ask_note", lambda: "Checked the EXIF by hand.")
    window.queue_view.setFocus()
    qtbot.keyClick(window.queue_view, Qt.Key.Key_N)
    wait_idle(qtbot, window)
    with case_reader(analysed_case["path"]) as case:
        entries = case.custody_entries(analysed_case["image"])
        assert entries[-1]["action"] == "note_added"
        assert entries[-1]["details"]["text"] == "Checked the EXIF by hand."


# --------------------------------------------------------------------------- viewers


def test_image_overlay_layers_boxes_and_opacity(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    v = window.image_viewer
    assert window.viewer_stack.currentWidget() is v
    assert v.image_size == (128, 96)
    assert sorted(v.layer_names()) == ["ela", "fused"]
    assert v.layer_item("fused").isVisible() and not v.layer_item("ela").isVisible()
    # the half-size ela map is scaled onto the image
    assert v.layer_item("ela").sceneBoundingRect().width() == pytest.approx(128)
    assert v.box_count() == 2

    v.set_layer_visible("ela", True)
    assert v.layer_item("ela").isVisible()
    qtbot.mouseClick(v.overlay_check, Qt.MouseButton.LeftButton)  # heatmap off
    assert not v.layer_item("fused").isVisible() and not v.layer_item("ela").isVisible()
    assert not window.act_overlay.isChecked()  # the View menu follows
    window.act_overlay.trigger()  # View > Show heatmap overlay: back on
    assert v.overlay_check.isChecked()
    assert v.layer_item("fused").isVisible() and v.layer_item("ela").isVisible()
    window.queue_view.setFocus()
    qtbot.keyClick(window.queue_view, Qt.Key.Key_H)  # and its shortcut: off
    assert not v.layer_item("fused").isVisible()
    v.overlay_check.setChecked(True)
    v.opacity.setValue(25)
    assert v.layer_item("fused").opacity() == pytest.approx(0.25)

    # synchronized side-by-side: zooming one view zooms the other
    v.right.zoom_by(2.0)
    assert v.left.transform().m11() == pytest.approx(v.right.transform().m11())
    v.side_by_side.setChecked(False)
    assert not v.left.isVisible()


def test_click_claim_highlights_region_and_metadata(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    panel = window.explanation
    assert panel.claims.count() == 3
    assert panel.claims.item(0).text().startswith("[grounded]")
    assert "noise ratio" in panel.claims.item(0).toolTip()
    assert panel.claims.item(2).text().startswith("[hallucinated]")
    click_list_row(qtbot, panel.claims, 0)
    rect = window.image_viewer.highlighted_rect()
    assert rect is not None and (rect.x(), rect.y(), rect.width(), rect.height()) == \
        (60, 20, 40, 30)
    click_list_row(qtbot, panel.claims, 1)  # a metadata field: the details tab
    assert window.side_tabs.currentWidget() is window.details
    assert "EXIF:Software" in window.last_message
    click_list_row(qtbot, panel.claims, 2)  # nowhere to point at
    assert window.image_viewer.highlighted_rect() is None


def test_video_timeline_span_click_seeks_and_shows_frame(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    window.select_sha(analysed_case["video"])
    wait_idle(qtbot, window)
    vv = window.video_viewer
    assert window.viewer_stack.currentWidget() is vv
    assert vv.media is not None and vv.media.duration > 1.0
    tl = vv.timeline
    assert tl.lanes == ["flicker", "temporal"]
    span = next(s for s in tl.spans if s.lane == "temporal")
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=tl.span_rect(span).center().toPoint())
    wait_idle(qtbot, window)
    assert vv.current_time == pytest.approx(0.6, abs=0.101)
    assert tl.highlight == (0.6, 0.9)
    rect = vv.image.highlighted_rect()
    assert rect is not None and rect.width() == 20
    # the frame shown is the decoded frame at that time (the square has moved right)
    assert vv.image._base_right.pixmap().width() == 64
    # clicking the claim seeks too
    window.video_viewer.seek(0.0)
    wait_idle(qtbot, window)
    click_list_row(qtbot, window.explanation.claims, 0)
    wait_idle(qtbot, window)
    assert vv.current_time == pytest.approx(0.6, abs=0.101)


def test_audio_waveform_spectrogram_spans(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    window.select_sha(analysed_case["audio"])
    wait_idle(qtbot, window)
    view = window.audio_viewer.view
    assert view.duration == pytest.approx(1.5, abs=0.01)
    assert view.nyquist == 8000
    assert view.spectrogram is not None and view.spectrogram.width() > 100
    # the 440 Hz tone is the brightest row of the spectrogram
    img = view.spectrogram
    col = img.width() // 4
    rows = [img.pixelColor(col, y).lightness() for y in range(img.height())]
    peak_hz = (1 - rows.index(max(rows)) / (img.height() - 1)) * view.nyquist
    assert abs(peak_hz - 440) < 40
    assert len(view.spans) == 2
    click_list_row(qtbot, window.explanation.claims, 0)
    assert view.highlight is not None and view.highlight.start == pytest.approx(0.69)
    assert view.cursor == pytest.approx(0.69)
    splice = next(s for s in view.spans if s.label == "Audio Splice Discontinuity")
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton,
                     pos=view.span_rect(splice).center().toPoint())
    assert view.highlight is splice
    # Play: a player when QtMultimedia loads here, else a disabled button that says why
    av = window.audio_viewer
    qtbot.mouseClick(av.play_button, Qt.MouseButton.LeftButton)
    if av._player is None:
        assert not av.play_button.isEnabled() and "QtMultimedia" in av.play_button.toolTip()
    else:
        av.stop()


def test_audio_beyond_the_analysis_budget_is_shaded(qtbot, window, analysed_case, monkeypatch):
    """An hour-long recording had its first ten minutes analysed and the rest looked like
    clean audio with no marks; what no detector examined is shaded and labelled."""
    open_case(qtbot, window, analysed_case["path"])
    window.select_sha(analysed_case["audio"])
    wait_idle(qtbot, window)
    av = window.audio_viewer
    assert av.view.examined_until is None  # the whole 1.5 s was examined
    av.load(av.path, [], examined_until=0.5)
    qtbot.waitUntil(lambda: not av.loading, timeout=15000)
    assert av.view.examined_until == 0.5
    img = av.view.grab().toImage()
    wave, _ = av.view._areas()
    y = int(wave.top()) + 3  # above the waveform: background, darker and hatched once shaded
    before = img.pixelColor(int(av.view._x(0.25)), y)
    after = [img.pixelColor(int(av.view._x(t)), y) for t in (0.8, 1.0, 1.2)]
    assert any(c != before for c in after)


def test_a_streamed_recordings_views_are_the_whole_signals(qtbot, monkeypatch):
    """The viewer decoded a long recording whole (5 GB for four hours of CD-rate stereo);
    a streamed one is read a block at a time and shows the same waveform and spectrogram."""
    import numpy as np

    from triage_app import audio_overview
    from triage_app.gui.audio_viewer import compute_audio_views, compute_streamed_audio_views
    from triage_app.media import StreamedSamples

    monkeypatch.setattr(audio_overview, "BLOCK_FRAMES", 1 << 20)
    x = np.random.default_rng(0).normal(0, 0.2, (3_000_001, 2)).astype(np.float32)
    reads = []

    def read(a, b):
        reads.append(b - a)
        return x[a:b].copy()

    held = compute_audio_views(x.mean(axis=1).astype(np.float32), 44100)
    streamed = compute_streamed_audio_views(StreamedSamples(x.shape[0], 2, read), 44100)
    assert np.array_equal(streamed["envelope"], held["envelope"])
    assert streamed["spectrogram"] == held["spectrogram"]
    assert streamed["duration"] == held["duration"] and max(reads) < x.shape[0] // 2


def test_the_segments_of_a_long_recording_are_bracketed(qtbot, window, analysed_case):
    """A long recording is analysed in overlapping segments; the viewer showed none of it, so
    an analyst could not tell which stretch a detector's per-segment score belongs to."""
    open_case(qtbot, window, analysed_case["path"])
    window.select_sha(analysed_case["audio"])
    wait_idle(qtbot, window)
    av = window.audio_viewer
    assert av.view.segments == []  # 1.5 s: analysed whole, nothing drawn
    before = av.view.grab().toImage()
    av.load(av.path, [], segments=[[0.0, 0.8], [0.7, 1.5]])
    qtbot.waitUntil(lambda: not av.loading, timeout=15000)
    view = av.view
    assert view.segments == [(0.0, 0.8), (0.7, 1.5)]
    first, second = view.segment_rect(0), view.segment_rect(1)
    assert first.top() != second.top() and first.right() > second.left()  # the overlap shows
    assert view.segment_at(second.center()) == 1 and view.segment_at(first.center()) == 0
    assert view.segment_tooltip(1).startswith("Segment 2 of 2: 0:00.700-0:01.500. Each audio")
    after = view.grab().toImage()
    x, y = int(first.left()) + 1, int(first.bottom())
    assert after.pixelColor(x + 5, y) != before.pixelColor(x + 5, y)


# ------------------------------------------------------------------ rationale, verify, report


def _fake_check(path, text, verdict):
    """Stands in for pipeline.check_rationale only when the pipeline is absent."""
    from triage_app.model import Claim

    return [Claim(s.strip(), None, source="imported", status="unverifiable",
                  reason="no probe (test stand-in)") for s in text.split(".") if s.strip()]


def test_paste_and_check_rationale_is_stored(qtbot, window, analysed_case, monkeypatch):
    import importlib.util

    if importlib.util.find_spec("triage_app.pipeline") is None:
        from triage_app.gui.explanation_panel import ExplanationPanel

        monkeypatch.setattr(ExplanationPanel, "check_function", staticmethod(_fake_check))
    open_case(qtbot, window, analysed_case["path"])
    panel = window.explanation
    text = ("The noise level in the upper right region is inconsistent. "
            "The person's eyes show unnatural blinking.")
    panel.rationale_edit.setPlainText(text)
    qtbot.mouseClick(panel.check_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not panel.checking, timeout=30000)
    wait_idle(qtbot, window)
    assert panel.rationale_claims.count() >= 1, panel.rationale_status.text()
    statuses = {panel.rationale_claims.item(i).data(Qt.ItemDataRole.UserRole + 10).status
                for i in range(panel.rationale_claims.count())}
    assert statuses <= {"grounded", "hallucinated", "unverifiable"}
    assert "sentences" in panel.rationale_status.text()
    with case_reader(analysed_case["path"]) as case:
        stored = case.rationales(analysed_case["image"])
        assert stored and stored[-1]["text"] == text
        assert case.custody_entries(analysed_case["image"])[-1]["action"] == "rationale_checked"


def test_verify_case_shows_result_plainly(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    qtbot.mouseClick(window.details.verify_button, Qt.MouseButton.LeftButton)
    wait_idle(qtbot, window)
    assert "holds" in window.details.verify_result.text()
    # tamper with an evidence copy: the check names it
    with case_reader(analysed_case["path"]) as case:
        vault = case.evidence_path(analysed_case["audio"])
    vault.chmod(0o644)
    data = bytearray(vault.read_bytes())
    data[-1] ^= 0xFF
    vault.write_bytes(bytes(data))
    window.act_verify.trigger()
    wait_idle(qtbot, window)
    text = window.details.verify_result.text()
    assert "DOES NOT VERIFY" in text and analysed_case["audio"][:8] in text


def test_details_show_hashes_sources_custody(qtbot, window, analysed_case):
    open_case(qtbot, window, analysed_case["path"])
    d = window.details
    assert "Fixture case" in d.case_label.text() and "Ada Examiner" in d.case_label.text()
    assert d.fields["sha256"].text() == analysed_case["image"]
    assert len(d.fields["md5"].text()) == 32
    assert d.sources.rowCount() == 1 and d.sources.item(0, 0).text().endswith("street.png")
    actions = [d.custody.item(r, 2).text() for r in range(d.custody.rowCount())]
    assert "evidence_added" in actions and "analysis_run" in actions


def test_export_report(qtbot, window, analysed_case, monkeypatch, tmp_path):
    """Export report... calls report.export_report with the chosen items, or says plainly
    that report export is not available."""
    import triage_app.report as report

    open_case(qtbot, window, analysed_case["path"])
    out = tmp_path / "out" / "report.pdf"
    chosen, calls = {}, []

    def ask(rows, selected):
        chosen["rows"], chosen["selected"] = rows, selected
        return [analysed_case["image"]], str(out)

    monkeypatch.setattr(window, "_ask_report_target", ask)
    real = getattr(report, "export_report", None)
    if callable(real):
        def spy(case, out_pdf, *, evidence=None, sign_key=None, **kw):
            calls.append((case.path, str(out_pdf), list(evidence), sign_key))
            return real(case, out_pdf, evidence=evidence, sign_key=sign_key, **kw)

        monkeypatch.setattr(report, "export_report", spy)
    window.act_report.trigger()
    from triage_app.gui.workers import tasks_running

    if not callable(real):
        qtbot.waitUntil(lambda: tasks_running() == 0, timeout=30000)
        assert "not available yet" in window.last_message
        return
    qtbot.waitUntil(lambda: "Report written" in window.last_message
                    or "could not be written" in window.last_message, timeout=60000)
    wait_idle(qtbot, window)
    assert chosen["selected"] == {analysed_case["image"]}
    assert len(chosen["rows"]) == 4
    assert calls == [(Path(analysed_case["path"]), str(out), [analysed_case["image"]], None)]
    print("export:", window.last_message)
    if "Report written" in window.last_message:
        assert out.is_file() and out.read_bytes()[:4] == b"%PDF"


# --------------------------------------------------------------------------- settings


def test_settings_dialog_round_trip(qtbot, settings_file):
    from triage_app.gui.settings_dialog import SettingsDialog
    from triage_app.settings import Settings, load_settings, save_settings

    dlg = SettingsDialog(Settings(disabled_detectors=["ela"]))
    qtbot.addWidget(dlg)
    qtbot.waitUntil(lambda: dlg.detectors_loaded or "Could not" in dlg.detector_status.text(),
                    timeout=60000)
    assert dlg.detectors_loaded, dlg.detector_status.text()
    names = {dlg.detector_list.item(i).data(Qt.ItemDataRole.UserRole): dlg.detector_list.item(i)
             for i in range(dlg.detector_list.count())}
    from detectors.registry import all_detectors

    assert set(names) == {s.name for s in all_detectors()}
    if "ela" in names:
        assert names["ela"].checkState() == Qt.CheckState.Unchecked
    first = dlg.detector_list.item(0)
    first.setCheckState(Qt.CheckState.Unchecked)
    dlg.workers.setValue(3)
    dlg.max_mpix.setValue(50)
    dlg.add_checkpoint("/models/vit-df", "image", {"FAKE": "manipulated"})
    s = dlg.collect()
    assert s.workers == 3 and s.limits.max_pixels == 50_000_000
    assert first.data(Qt.ItemDataRole.UserRole) in s.disabled_detectors
    assert s.checkpoints == [{"path": "/models/vit-df", "modality": "image",
                              "label_map": {"FAKE": "manipulated"}}]
    save_settings(s, settings_file)
    assert load_settings(settings_file).workers == 3
    dlg.checkpoints.item(0, 2).setText("{not json")
    with pytest.raises(ValueError):
        dlg.collect()


def test_verdict_names_drivers_or_says_the_base_rate_decided(qtbot):
    """Regression: 'Driven by: video_blink_head' was shown for a -0.003 contribution; with no
    detector moving the log-odds by 0.1 towards the verdict's side, the panel says so."""
    from triage_app.gui.explanation_panel import ExplanationPanel
    from triage_app.model import Analysis, DetectorResult, Verdict

    panel = ExplanationPanel()
    qtbot.addWidget(panel)
    dets = [DetectorResult("video_region_flicker", "1", "ok", score=0.95)]
    weak = Analysis(media={"kind": "video"}, detectors=dets,
                    verdict=Verdict("inconclusive", 0.24, drivers=[],
                                    contributions={"video_region_flicker": 0.55}))
    panel.set_item("ab" * 32, "/x.mp4", weak)
    text = panel.verdict_detail.text()
    assert "Driven by: the fitted base rate" in text and "towards authentic" in text
    strong = Analysis(media={"kind": "video"}, detectors=dets,
                      verdict=Verdict("likely_manipulated", 0.9,
                                      drivers=["video_region_flicker"],
                                      contributions={"video_region_flicker": 2.0}))
    panel.set_item("ab" * 32, "/x.mp4", strong)
    assert "Driven by: video_region_flicker" in panel.verdict_detail.text()
    assert "Log-odds" not in panel.verdict_detail.text()  # stored before the baseline was kept
    strong.verdict.baseline = 0.2
    panel.set_item("ab" * 32, "/x.mp4", strong)
    assert "Log-odds: baseline +0.20 + contributions +2.00 = +2.20" in panel.verdict_detail.text()


def test_media_notes_reach_the_analyst(qtbot):
    """What opening the file revealed (a name that lies about the format, a display rotation)
    was in the analysis but on no screen: the explanation's verdict block and the Details tab
    now show it."""
    from triage_app.gui.details_panel import DetailsPanel
    from triage_app.gui.explanation_panel import ExplanationPanel
    from triage_app.model import Analysis, DetectorResult, Verdict

    note = "extension .wav names WAV, but the content is MP3 audio"
    a = Analysis(media={"kind": "audio", "notes": [note]},
                 detectors=[DetectorResult("spoof_lfcc", "1", "ok", score=0.2)],
                 verdict=Verdict("inconclusive", 0.47, drivers=[], contributions={}))
    panel = ExplanationPanel()
    qtbot.addWidget(panel)
    panel.set_item("cd" * 32, "/x.wav", a)
    assert f"Media note: {note}" in panel.verdict_detail.text()
    details = DetailsPanel()
    qtbot.addWidget(details)
    details.set_item({"name": "x.wav", "sha256": "cd" * 32}, media_notes=[note])
    assert note in details.fields["media_notes"].text()
    details.set_item({"name": "y.wav", "sha256": "ef" * 32}, media_notes=[])
    assert details.fields["media_notes"].text() == "none"


def test_details_rationale_audio_and_messages_follow_the_item(qtbot, window, analysed_case,
                                                              monkeypatch):
    """From a GUI QA pass: the Details tab went stale after a decision; a typed rationale
    carried over to the next item; audio played on under another item; a long error widened
    the window for good."""
    open_case(qtbot, window, analysed_case["path"])
    wait_idle(qtbot, window)
    before = window.details.custody.rowCount()
    window.queue_view.setFocus()
    qtbot.keyClick(window.queue_view, Qt.Key.Key_2)
    wait_idle(qtbot, window)
    assert window.details.fields["decision"].text() == "Manipulated"
    assert window.details.custody.rowCount() == before + 1
    window.explanation.rationale_edit.setPlainText("The sky is cloned.")
    stops = []
    monkeypatch.setattr(window.audio_viewer, "stop", lambda: stops.append(1))
    qtbot.keyClick(window.queue_view, Qt.Key.Key_J)
    wait_idle(qtbot, window)
    assert window.explanation.rationale_edit.toPlainText() == ""
    assert stops, "leaving an item stops its audio"
    assert window.placeholder.wordWrap()
    assert window.placeholder.sizePolicy().horizontalPolicy() == QSizePolicy.Policy.Ignored


def test_a_click_inside_a_whole_clip_span_seeks_where_clicked(qtbot):
    """A whole-clip finding's span sent every click on its lane to 0:00."""
    from PySide6.QtCore import QPoint

    from triage_app.gui.video_viewer import Span, TimelineWidget

    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(600, 80)
    spans = [Span("blink", 0.0, 20.0, "unnatural_gaze_blinking", 0.7),
             Span("flicker", 5.0, 5.4, "flicker", 0.9)]
    tl.set_data(20.0, spans)
    tl.show()
    seen = []
    tl.seek_requested.connect(seen.append)
    r = tl.span_rect(spans[0])
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton,
                     pos=QPoint(int(r.left() + 0.75 * r.width()), int(r.center().y())))
    assert seen[-1] == pytest.approx(15.0, abs=0.5)
    qtbot.mouseClick(tl, Qt.MouseButton.LeftButton, pos=tl.span_rect(spans[1]).center().toPoint())
    assert seen[-1] == pytest.approx(5.0)   # a short span: its start


def test_deciding_under_the_undecided_filter_goes_on_to_the_next_item(qtbot, window,
                                                                      analysed_case):
    """The decided item left the list and the selection jumped back to the row above; the
    confirmation was replaced at once by the next item's 'loaded' line."""
    open_case(qtbot, window, analysed_case["path"])
    window.filter_mode.setCurrentIndex(window.filter_mode.findData("undecided"))
    wait_idle(qtbot, window)
    from triage_app.gui.queue_model import SHA_ROLE

    order = [window.proxy.index(r, 1).data(SHA_ROLE) for r in range(window.proxy.rowCount())]
    window.select_sha(order[1])
    wait_idle(qtbot, window)
    window.queue_view.setFocus()
    qtbot.keyClick(window.queue_view, Qt.Key.Key_1)
    wait_idle(qtbot, window)
    assert window.current_sha == order[2]
    assert "Recorded decision" in window.last_message and "loaded in" in window.last_message


def test_a_seek_past_the_last_frame_shows_the_last_frame(qtbot, window, analysed_case):
    """The timeline cursor went to the end while the frame, slider and time stayed behind."""
    open_case(qtbot, window, analysed_case["path"])
    window.select_sha(analysed_case["video"])
    wait_idle(qtbot, window)
    vv = window.video_viewer
    vv.seek(vv.media.duration + 5)
    wait_idle(qtbot, window)
    assert vv.current_time >= vv.media.duration - 0.5
    assert abs(vv.timeline.cursor - vv.current_time) < 0.3
