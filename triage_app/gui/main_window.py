"""The main window: the triage queue (left), the viewer for the current item (centre), its
explanation and details (right); menus for cases, scans, decisions, reports and settings.

Everything that touches the disk runs off the GUI thread: case reads and writes through
:class:`CaseService` (its own thread), decoding and drawing through :func:`run_task`, scans
through :class:`GeneratorWorker`. Heavy modules (the pipeline, detectors, torch) are imported
only by the workers that need them, so the window opens fast.
"""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QItemSelectionModel, QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import (QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QImage,
                           QKeySequence, QPixmap)
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog,
                               QDialogButtonBox, QFileDialog, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QMainWindow, QMessageBox, QPushButton, QSizePolicy, QSplitter,
                               QStackedWidget, QTableView, QTabWidget, QVBoxLayout, QWidget)

from triage_app.gui.audio_viewer import AudioViewer
from triage_app.gui.details_panel import DetailsPanel
from triage_app.gui.explanation_panel import ExplanationPanel
from triage_app.gui.image_viewer import ImageViewer, colorize_map, location_box, rgb_to_qimage
from triage_app.gui.queue_model import (COLUMNS, SHA_ROLE, QueueFilterProxy, QueueModel,
                                        decision_text, verdict_of, verdict_text)
from triage_app.gui.scan_dialog import ScanDialog
from triage_app.gui.video_viewer import VideoViewer
from triage_app.gui.workers import CaseService, run_task
from triage_app.model import FrameSpan, MetadataField, TimeSpan

log = logging.getLogger(__name__)

ORGANIZATION = "DeepfakeTriage"
APPLICATION = "Deepfake Triage"
MAX_RECENT = 8
THUMB = 48
IMAGE_DISPLAY_MAX_SIDE = 4096


# --------------------------------------------------------------------------- worker-side helpers


def _row_with_vault(case: Any, row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    try:
        row["_vault"] = str(case.evidence_path(row["sha256"]))
    except Exception:  # noqa: BLE001 -- a missing copy shows as no thumbnail
        row["_vault"] = None
    return row


def _fetch_item_bundle(case: Any, sha: str) -> dict[str, Any]:
    """Everything the views need for one item (case thread)."""
    t0 = time.perf_counter()
    row = case.item(sha)
    vault = str(case.evidence_path(sha))
    analysis = case.latest_analysis(sha)
    maps: dict[str, QImage] = {}
    if hasattr(case, "map_names"):
        names = list(case.map_names(sha)) if analysis is not None else []
    else:
        names = ["fused"] + ([d.name for d in analysis.detectors if d.status == "ok"]
                             if analysis is not None else [])
    for name in names:
        try:
            m = case.latest_map(sha, name)
        except Exception:  # noqa: BLE001
            m = None
        if m is not None and getattr(m, "size", 0):
            maps[name] = colorize_map(m)
    custody = case.custody_entries(sha)
    try:
        rationales = case.rationales(sha)
    except Exception:  # noqa: BLE001
        rationales = []
    return {"sha": sha, "row": _row_with_vault(case, row), "vault": vault,
            "analysis": analysis, "maps": maps, "custody": custody,
            "rationales": rationales, "elapsed": time.perf_counter() - t0}


def _decode_image(path: str) -> dict[str, Any]:
    """Decode an image for display (worker thread); large ones are subsampled for the screen."""
    from triage_app.media import open_media

    media = open_media(path)
    if getattr(media, "kind", None) != "image":
        raise ValueError("not an image")
    px = media.pixels
    h, w = px.shape[:2]
    step = max(1, -(-max(h, w) // IMAGE_DISPLAY_MAX_SIDE))
    if step > 1:
        px = px[::step, ::step]
    from detectors.image._common import orientation_of

    return {"image": rgb_to_qimage(px), "size": (w, h), "orientation": orientation_of(media)}


def _make_thumbnail(path: str, kind: str | None) -> QImage | None:
    """A small picture for the queue (worker thread)."""
    if not path:
        return None
    if kind == "image":
        from PIL import Image, ImageOps

        with Image.open(path) as im:
            im.draft("RGB", (THUMB * 2, THUMB * 2))
            try:  # upright, as the viewer shows it by default
                im = ImageOps.exif_transpose(im)
            except Exception:  # noqa: BLE001  (damaged EXIF: the stored picture will do)
                pass
            im = im.convert("RGB")
            im.thumbnail((THUMB, THUMB))
            import numpy as np

            return rgb_to_qimage(np.asarray(im))
    if kind == "video":
        from triage_app.media import open_media

        media = open_media(path)
        for frame in media.frames(max_side=THUMB):
            return rgb_to_qimage(frame.rgb)
    if kind == "audio":
        import numpy as np
        import soundfile as sf

        try:
            data, _ = sf.read(path, frames=48000 * 10, dtype="float32", always_2d=True)
        except Exception:  # noqa: BLE001 -- formats libsndfile does not read: no thumbnail
            return None
        x = data.mean(axis=1)
        img = np.full((THUMB, THUMB, 3), 34, np.uint8)
        if x.size:
            edges = np.linspace(0, x.size, THUMB + 1).astype(int)
            peak = max(1e-6, float(np.abs(x).max()))
            for c in range(THUMB):
                seg = x[edges[c]:max(edges[c] + 1, edges[c + 1])]
                a = int(abs(seg).max() / peak * (THUMB / 2 - 2))
                img[THUMB // 2 - a:THUMB // 2 + a + 1, c] = (90, 200, 140)
        return rgb_to_qimage(img)
    return None


def _export_report_available() -> bool:
    try:
        mod = importlib.import_module("triage_app.report")
    except Exception:  # noqa: BLE001
        return False
    return callable(getattr(mod, "export_report", None))


# --------------------------------------------------------------------------- small dialogs


class ReportDialog(QDialog):
    """Choose the items that go into a report and where the PDF goes."""

    def __init__(self, rows: list[dict[str, Any]], selected: set[str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export report"))
        self.items = QListWidget()
        for r in rows:
            label, prob = verdict_of(r)
            text = r.get("name", r["sha256"][:12])
            if label:
                text += f"  ({verdict_text(label)}{'' if prob is None else f', {prob:.2f}'})"
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, r["sha256"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if (not selected or r["sha256"] in selected)
                               else Qt.CheckState.Unchecked)
            self.items.addItem(item)
        self.out = QLineEdit()
        browse = QPushButton(self.tr("Browse…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.out, 1)
        row.addWidget(browse)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(self.tr("Evidence to include:")))
        lay.addWidget(self.items, 1)
        lay.addWidget(QLabel(self.tr("Report file (PDF):")))
        lay.addLayout(row)
        lay.addWidget(buttons)
        self.resize(560, 420)  # room for the names and verdicts of the items

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Report file"), self.out.text(),
                                              self.tr("PDF (*.pdf)"))
        if path:
            self.out.setText(path if path.lower().endswith(".pdf") else path + ".pdf")

    def chosen(self) -> tuple[list[str], str]:
        shas = [self.items.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.items.count())
                if self.items.item(i).checkState() == Qt.CheckState.Checked]
        return shas, self.out.text().strip()


# --------------------------------------------------------------------------- the window


class MainWindow(QMainWindow):
    def __init__(self, *, qsettings: QSettings | None = None,
                 settings_path: str | Path | None = None) -> None:
        super().__init__()
        self.qsettings = qsettings or QSettings(ORGANIZATION, APPLICATION)
        self.settings_path = settings_path
        self.case_service = CaseService(self)
        self.case_info: dict[str, Any] | None = None
        self.current_sha: str | None = None
        self.current_kind: str | None = None
        self.last_message = ""
        self.scan_dialog: ScanDialog | None = None
        self._after_scan: Any = None
        self._case_gen = 0  # bumped on open and close: late results of an old case are dropped
        self._item_token = 0
        self._shown_state: tuple[Any, ...] | None = None
        self._loading_item = False
        self._pending_refresh: set[str] = set()
        self._thumbs_requested: set[str] = set()
        self._t_select = 0.0
        self._after_load_message = ""  # said again with the next item's "loaded" line
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(150)
        self._refresh_timer.timeout.connect(self._flush_refresh)

        self.setAcceptDrops(True)
        self._build_queue()
        self._build_views()
        self._build_actions()
        self.status = QLabel("")
        self.busy_label = QLabel("")
        self.statusBar().addWidget(self.status, 1)
        self.statusBar().addPermanentWidget(self.busy_label)
        self.case_service.busy_changed.connect(
            lambda busy: self.busy_label.setText(self.tr("working…") if busy else ""))
        self._update_title()
        self._update_enabled()
        self._restore_state()
        self.notify(self.tr("Open or create a case to begin (Case menu), or drop files here "
                            "after opening one."))

    # ------------------------------------------------------------------ layout
    def _build_queue(self) -> None:
        self.model = QueueModel(self)
        self.proxy = QueueFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.filter_mode = QComboBox()
        for mode, text in (("all", self.tr("All items")), ("undecided", self.tr("Undecided")),
                           ("manipulated", self.tr("Manipulated")),
                           ("errors", self.tr("Errors"))):
            self.filter_mode.addItem(text, mode)
        self.filter_mode.currentIndexChanged.connect(
            lambda: self.proxy.set_mode(self.filter_mode.currentData()))
        self.filter_kind = QComboBox()
        for kind, text in (("", self.tr("All kinds")), ("image", self.tr("Images")),
                           ("video", self.tr("Videos")), ("audio", self.tr("Audio"))):
            self.filter_kind.addItem(text, kind)
        self.filter_kind.currentIndexChanged.connect(
            lambda: self.proxy.set_modality(self.filter_kind.currentData()))
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search name or hash"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.proxy.set_search)

        self.queue_view = QTableView()
        self.queue_view.setModel(self.proxy)
        self.queue_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.queue_view.setSortingEnabled(True)
        self.queue_view.sortByColumn(COLUMNS.index("probability"), Qt.SortOrder.DescendingOrder)
        self.queue_view.verticalHeader().hide()
        self.queue_view.verticalHeader().setDefaultSectionSize(THUMB + 4)
        self.queue_view.setIconSize(QPixmap(THUMB, THUMB).size())
        self.queue_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.queue_view.setAlternatingRowColors(True)
        hh = self.queue_view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        self.queue_view.setColumnWidth(0, THUMB + 8)
        self.queue_view.setColumnWidth(1, 120)
        fm = hh.fontMetrics()
        for col, w in (("modality", 52), ("verdict", 118), ("probability", 74),
                       ("status", 62)):
            i = COLUMNS.index(col)
            # room for the header's own text and its sort arrow ("Modalit", "Decisio")
            title = str(self.proxy.headerData(i, Qt.Orientation.Horizontal) or "")
            self.queue_view.setColumnWidth(i, max(w, fm.horizontalAdvance(title) + 24))
        self.queue_view.selectionModel().currentRowChanged.connect(self._current_changed)

        self.queue_widget = QWidget()
        ql = QVBoxLayout(self.queue_widget)
        ql.setContentsMargins(4, 4, 0, 4)
        fl = QHBoxLayout()
        fl.addWidget(self.filter_mode)
        fl.addWidget(self.filter_kind)
        ql.addLayout(fl)
        ql.addWidget(self.search)
        ql.addWidget(self.queue_view, 1)
        self.queue_count = QLabel("")
        ql.addWidget(self.queue_count)
        for sig in (self.proxy.rowsInserted, self.proxy.rowsRemoved, self.proxy.modelReset,
                    self.proxy.layoutChanged):
            sig.connect(self._update_count)

    def _build_views(self) -> None:
        self.placeholder = QLabel(self.tr("No item selected"))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setStyleSheet("color: #888; font-size: 14pt;")
        # a long error message wraps inside the pane: unwrapped, its one line widened the
        # window for the rest of the session
        self.placeholder.setWordWrap(True)
        self.placeholder.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.image_viewer = ImageViewer()
        self.video_viewer = VideoViewer()
        self.audio_viewer = AudioViewer()
        self.viewer_stack = QStackedWidget()
        for w in (self.placeholder, self.image_viewer, self.video_viewer, self.audio_viewer):
            self.viewer_stack.addWidget(w)
        self.explanation = ExplanationPanel()
        self.explanation.claim_activated.connect(self.show_claim)
        self.explanation.rationale_checked.connect(self._store_rationale)
        self.details = DetailsPanel()
        self.details.verify_requested.connect(self.verify_case)
        self.side_tabs = QTabWidget()
        self.side_tabs.addTab(self.explanation, self.tr("Explanation"))
        self.side_tabs.addTab(self.details, self.tr("Details"))
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.queue_widget)
        self.splitter.addWidget(self.viewer_stack)
        self.splitter.addWidget(self.side_tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([560, 600, 400])
        self.setCentralWidget(self.splitter)

    def _action(self, text: str, slot: Any, shortcut: str | QKeySequence | None = None,
                tip: str | None = None) -> QAction:
        act = QAction(text, self)
        act.triggered.connect(lambda checked=False: slot())
        if shortcut is not None:
            act.setShortcut(QKeySequence(shortcut))
        if tip:
            act.setStatusTip(tip)
        self.addAction(act)  # shortcuts work even when the menu bar is hidden
        return act

    def _build_actions(self) -> None:
        mb = self.menuBar()
        case_menu = mb.addMenu(self.tr("&Case"))
        self.act_new = self._action(self.tr("&New case…"), self.new_case,
                                    QKeySequence.StandardKey.New)
        self.act_open = self._action(self.tr("&Open case…"), self.open_case_dialog,
                                     QKeySequence.StandardKey.Open)
        self.recent_menu = case_menu.addMenu(self.tr("Open &recent"))
        self.act_close = self._action(self.tr("&Close case"), self.close_case)
        self.act_verify = self._action(self.tr("&Verify case"), self.verify_case)
        self.act_report = self._action(self.tr("&Export report…"), self.export_report)
        self.act_settings = self._action(self.tr("&Settings…"), self.open_settings)
        self.act_quit = self._action(self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)
        case_menu.insertAction(self.recent_menu.menuAction(), self.act_new)
        case_menu.insertAction(self.recent_menu.menuAction(), self.act_open)
        for a in (self.act_close, None, self.act_verify, self.act_report, None,
                  self.act_settings, None, self.act_quit):
            case_menu.addSeparator() if a is None else case_menu.addAction(a)

        scan_menu = mb.addMenu(self.tr("&Scan"))
        self.act_scan = self._action(self.tr("Scan folders or files…"), self.show_scan_dialog,
                                     "Ctrl+I")
        scan_menu.addAction(self.act_scan)

        item_menu = mb.addMenu(self.tr("&Item"))
        self.act_next = self._action(self.tr("Next item"), lambda: self.move_selection(1), "J")
        self.act_prev = self._action(self.tr("Previous item"), lambda: self.move_selection(-1),
                                     "K")
        self.act_authentic = self._action(self.tr("Decide: Authentic"),
                                          lambda: self.record_decision("authentic"), "1")
        self.act_manip = self._action(self.tr("Decide: Manipulated"),
                                      lambda: self.record_decision("manipulated"), "2")
        self.act_inconc = self._action(self.tr("Decide: Inconclusive"),
                                       lambda: self.record_decision("inconclusive"), "3")
        self.act_note = self._action(self.tr("Add note…"), self.add_note, "N")
        for a in (self.act_next, self.act_prev, None, self.act_authentic, self.act_manip,
                  self.act_inconc, None, self.act_note):
            item_menu.addSeparator() if a is None else item_menu.addAction(a)

        view_menu = mb.addMenu(self.tr("&View"))
        self.act_overlay = self._action(self.tr("Show heatmap overlay"),
                                        lambda: None, "H")
        self.act_overlay.setCheckable(True)
        self.act_overlay.setChecked(True)
        self.act_overlay.toggled.connect(self.set_overlay_visible)
        view_menu.addAction(self.act_overlay)
        for viewer in (self.image_viewer, self.video_viewer.image):  # keep menu and boxes in step
            viewer.overlay_check.toggled.connect(self._overlay_box_toggled)
        self._rebuild_recent_menu()

    def _update_enabled(self) -> None:
        has_case = self.case_info is not None
        for a in (self.act_close, self.act_verify, self.act_report, self.act_scan):
            a.setEnabled(has_case)
        self.details.verify_button.setEnabled(has_case)

    def _update_title(self) -> None:
        if self.case_info is None:
            self.setWindowTitle(self.tr("Deepfake Triage"))
        else:
            self.setWindowTitle(self.tr("{0} — {1} — Deepfake Triage").format(
                self.case_info.get("title") or Path(self.case_info["path"]).name,
                self.case_info["path"]))

    def _update_count(self, *_: Any) -> None:
        self.queue_count.setText(self.tr("{0} of {1} items shown").format(
            self.proxy.rowCount(), self.model.rowCount()))

    def notify(self, text: str, *, error: bool = False) -> None:
        self.last_message = text
        self.status.setText(text)
        self.status.setStyleSheet("color: #c82828;" if error else "")

    def _error_box(self, title: str, text: str) -> None:
        self.notify(text, error=True)
        box = QMessageBox(QMessageBox.Icon.Warning, title, text, QMessageBox.StandardButton.Ok,
                          self)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # not exec(): never a nested event loop

    # ------------------------------------------------------------------ persistence
    def _restore_state(self) -> None:
        s = self.qsettings
        geom = s.value("window/geometry")
        if isinstance(geom, QByteArray) and not geom.isEmpty():
            self.restoreGeometry(geom)
        else:
            self.resize(1500, 900)
        state = s.value("window/state")
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.restoreState(state)
        split = s.value("window/splitter")
        if isinstance(split, QByteArray) and not split.isEmpty():
            self.splitter.restoreState(split)

    def _save_state(self) -> None:
        s = self.qsettings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/splitter", self.splitter.saveState())
        s.sync()

    def recent_cases(self) -> list[str]:
        value = self.qsettings.value("recent_cases", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def _remember_case(self, path: str) -> None:
        recent = [p for p in self.recent_cases() if p != path]
        recent.insert(0, path)
        self.qsettings.setValue("recent_cases", recent[:MAX_RECENT])
        self.qsettings.sync()
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_cases()
        for p in recent:
            act = self.recent_menu.addAction(p)
            act.triggered.connect(lambda checked=False, p=p: self.open_case(p))
        self.recent_menu.setEnabled(bool(recent))

    # ------------------------------------------------------------------ questions (tests replace)
    def _ask_new_case_path(self) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("New case folder"), "",
                                              self.tr("Triage case (*.triage)"))
        if not path:
            return None
        return path if path.endswith(".triage") else path + ".triage"

    def _ask_open_case_path(self) -> str | None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Open case folder"))
        return path or None

    def _ask_examiner(self) -> str | None:
        default = ""
        try:
            from triage_app.settings import load_settings

            default = load_settings(self.settings_path).examiner
        except Exception:  # noqa: BLE001
            pass
        name, ok = QInputDialog.getText(self, self.tr("Examiner"),
                                        self.tr("Your name, as it will appear in the custody "
                                                "log and reports:"), text=default)
        return name.strip() if ok and name.strip() else None

    def _ask_note(self) -> str | None:
        text, ok = QInputDialog.getMultiLineText(self, self.tr("Add note"),
                                                 self.tr("Note for this item:"))
        return text.strip() if ok and text.strip() else None

    def _ask_report_target(self, rows: list[dict[str, Any]],
                           selected: set[str]) -> tuple[list[str], str] | None:
        dlg = ReportDialog(rows, selected, self)
        if self.case_info:
            # a new name each time: an exported report is a record, not a scratch file
            stamp = time.strftime("%Y%m%d-%H%M%S")
            dlg.out.setText(str(Path(self.case_info["path"]) / "reports" / f"report-{stamp}.pdf"))
        if dlg.exec() != QDialog.DialogCode.Accepted:
            return None
        shas, out = dlg.chosen()
        if out and Path(out).exists() and not self._confirm(
                self.tr("Export report"),
                self.tr("{0} exists. An exported report is a record of what was said and when; "
                        "replace it? (The case's custody log keeps both exports.)").format(out)):
            return None
        return shas, out

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes
                                      | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    # ------------------------------------------------------------------ cases
    def new_case(self) -> None:
        path = self._ask_new_case_path()
        if not path:
            return
        if Path(path).exists():
            self._error_box(self.tr("New case"),
                            self.tr("{0} already exists; open it instead.").format(path))
            return
        examiner = self._ask_examiner()
        if not examiner:
            self.notify(self.tr("A case needs an examiner name; no case created."), error=True)
            return
        self._open(path, create_examiner=examiner, title=Path(path).stem)

    def open_case_dialog(self) -> None:
        path = self._ask_open_case_path()
        if path:
            self.open_case(path)

    def open_case(self, path: str | Path) -> None:
        self._open(str(path))

    def _open(self, path: str, *, create_examiner: str | None = None,
              title: str | None = None) -> None:
        if self._defer_until_scan_stops(lambda: self._open(path, create_examiner=create_examiner,
                                                           title=title)):
            return
        if self.case_info is not None:
            self.close_case()
        self.notify(self.tr("Opening {0}…").format(path))

        def opened(info: dict[str, Any]) -> None:
            self._case_gen += 1
            self.case_info = info
            self._remember_case(info["path"])
            self._update_title()
            self._update_enabled()
            self.notify(self.tr("Case {0} open; examiner {1}.").format(
                info.get("title") or info["path"], info.get("examiner") or "?"))
            self.reload_items()

        def failed(msg: str) -> None:
            self._error_box(self.tr("Open case"),
                            self.tr("Cannot open the case {0}: {1}").format(path, msg))

        self.case_service.open(path, create_examiner=create_examiner, title=title,
                               on_result=opened, on_error=failed)

    def _defer_until_scan_stops(self, then: Any) -> bool:
        """If a scan runs: cancel it (its in-flight items finish and are stored), run ``then``
        when it has stopped, and return True. The window never waits for it."""
        if self.scan_dialog is None or not self.scan_dialog.running:
            return False
        self._after_scan = then
        self.scan_dialog.cancel()
        self.notify(self.tr("Stopping the scan: the files in progress finish and are saved "
                            "first…"))
        return True

    def _current_case_only(self, callback: Any) -> Any:
        """Wrap a result callback so that it is dropped if the case changed meanwhile."""
        gen = self._case_gen

        def guarded(value: Any) -> None:
            if gen == self._case_gen:
                callback(value)

        return guarded

    def close_case(self) -> None:
        if self._defer_until_scan_stops(self.close_case):
            return
        self._case_gen += 1
        if self.scan_dialog is not None:
            self.scan_dialog.close()
            self.scan_dialog.deleteLater()
            self.scan_dialog = None
        self.case_service.close_case()
        self.case_info = None
        self.model.clear()
        self._thumbs_requested.clear()
        self._show_nothing()
        self.details.set_case(None)
        self._update_title()
        self._update_enabled()
        self.notify(self.tr("Case closed."))

    def reload_items(self) -> None:
        """Fetch every row of the case (case thread) and refill the queue."""
        if self.case_info is None:
            return
        keep = self.current_sha

        def job(case: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
            return [_row_with_vault(case, r) for r in case.items()], case.intake_errors()

        def done(result: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
            rows, intake_errors = result
            self.details.set_case(self.case_info, intake_errors)
            self.model.set_rows(rows)
            self._request_thumbnails(rows)
            if keep and self.model.row_for(keep):
                self.select_sha(keep)
            elif self.proxy.rowCount():
                self.queue_view.setCurrentIndex(self.proxy.index(0, 1))
            self._update_count()

        self.case_service.submit(job, self._current_case_only(done), lambda m: self.notify(
            self.tr("Cannot read the case: {0}").format(m), error=True))

    def refresh_item(self, sha: str) -> None:
        """Re-read one row soon (coalesced: a scan reports many at once)."""
        self._pending_refresh.add(sha)
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def _flush_refresh(self) -> None:
        shas, self._pending_refresh = sorted(self._pending_refresh), set()
        if not shas or self.case_info is None:
            return

        def job(case: Any) -> list[dict[str, Any]]:
            out = []
            for sha in shas:
                try:
                    out.append(_row_with_vault(case, case.item(sha)))
                except KeyError:
                    continue
            return out

        def done(rows: list[dict[str, Any]]) -> None:
            for r in rows:
                self.model.update_row(r)
            self._request_thumbnails(rows)
            if self.current_sha is None and self.proxy.rowCount():
                self.queue_view.setCurrentIndex(self.proxy.index(0, 1))
            elif self.current_sha in shas:
                row = self.model.row_for(self.current_sha)
                # the item on screen changed (probed, analysed, failed): show the new state
                if row and self._state_of(row) != self._shown_state:
                    self._load_item(self.current_sha)

        self.case_service.submit(job, self._current_case_only(done))

    def _request_thumbnails(self, rows: list[dict[str, Any]]) -> None:
        for r in rows:
            sha = r["sha256"]
            if sha in self._thumbs_requested or not r.get("_vault") or not r.get("kind"):
                continue
            self._thumbs_requested.add(sha)
            run_task(_make_thumbnail, r["_vault"], r.get("kind"),
                     on_result=lambda img, sha=sha: img is not None
                     and self.model.row_for(sha) is not None
                     and self.model.set_thumbnail(sha, QPixmap.fromImage(img)),
                     on_error=lambda m: None, background=True)

    # ------------------------------------------------------------------ navigation
    def select_sha(self, sha: str) -> None:
        src = self.model.source_row(sha)
        if src is None:
            return
        idx = self.proxy.mapFromSource(self.model.index(src, 1))
        if idx.isValid():
            self.queue_view.setCurrentIndex(idx)
            self.queue_view.scrollTo(idx)

    def move_selection(self, step: int) -> None:
        n = self.proxy.rowCount()
        if not n:
            return
        cur = self.queue_view.currentIndex()
        row = 0 if not cur.isValid() else max(0, min(n - 1, cur.row() + step))
        idx = self.proxy.index(row, 1)
        self.queue_view.selectionModel().setCurrentIndex(
            idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.queue_view.scrollTo(idx)

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        sha = current.data(SHA_ROLE) if current.isValid() else None
        if sha == self.current_sha:
            return
        if sha is None:
            self._show_nothing()
            return
        self._load_item(sha)

    def _show_nothing(self) -> None:
        self._item_token += 1
        self._shown_state = None
        self.current_sha = None
        self.current_kind = None
        self.audio_viewer.stop()
        self.placeholder.setText(self.tr("No item selected"))
        self.viewer_stack.setCurrentWidget(self.placeholder)
        self.explanation.set_item(None, None, None)
        self.details.set_item(None)

    def _load_item(self, sha: str) -> None:
        self._item_token += 1
        token = self._item_token
        self.audio_viewer.stop()  # the last item's recording must not play on under this one
        self.current_sha = sha
        row = self.model.row_for(sha) or {}
        self.current_kind = row.get("kind")
        self._loading_item = True
        self._t_select = time.perf_counter()
        self.notify(self.tr("Loading {0}…").format(row.get("name", sha[:12])))

        def done(bundle: dict[str, Any]) -> None:
            if token != self._item_token:
                return
            self._show_bundle(bundle, token)

        def failed(msg: str) -> None:
            if token == self._item_token:
                self._loading_item = False
                self.notify(self.tr("Cannot load the item: {0}").format(msg), error=True)

        self.case_service.submit(lambda case: _fetch_item_bundle(case, sha), done, failed)

    @staticmethod
    def _state_of(row: dict[str, Any]) -> tuple[Any, ...]:
        analysis = row.get("analysis") or {}
        return (row.get("sha256"), row.get("kind"), verdict_of(row)[0], bool(row.get("error")),
                analysis.get("id") if isinstance(analysis, dict) else None)

    def _show_bundle(self, b: dict[str, Any], token: int) -> None:
        row, analysis, vault = b["row"], b["analysis"], b["vault"]
        self._shown_state = self._state_of(row)
        self.model.update_row(row)
        kind = row.get("kind")
        self.current_kind = kind
        self.explanation.set_item(b["sha"], vault, analysis, error=row.get("error"),
                                  rationales=b["rationales"])
        media_info = (analysis.media or {}) if analysis is not None else {}
        self.details.set_item(row, vault=vault, custody=b["custody"],
                              media_notes=list(media_info.get("notes") or [])
                              if analysis is not None else None)
        findings = analysis.findings if analysis is not None else []
        if kind == "image":
            self.viewer_stack.setCurrentWidget(self.image_viewer)
            self.image_viewer.clear(self.tr("Decoding…"))

            def shown(res: dict[str, Any]) -> None:
                if token != self._item_token:
                    return
                self.image_viewer.set_image(res["image"], logical_size=res["size"],
                                            orientation=res.get("orientation", 1))
                self.image_viewer.set_maps(b["maps"])
                self.image_viewer.set_findings(findings)
                self.image_viewer.overlay_check.setChecked(self.act_overlay.isChecked())
                self._loaded(row)

            def failed(msg: str) -> None:
                if token == self._item_token:
                    self.image_viewer.clear(self.tr("Cannot display this image: {0}")
                                            .format(msg))
                    self._loaded(row)

            run_task(_decode_image, vault, on_result=shown, on_error=failed)
        elif kind == "video":
            self.viewer_stack.setCurrentWidget(self.video_viewer)
            self.video_viewer.load(vault, findings, b["maps"],
                                   segments=media_info.get("audio_segments"))
            self._loaded(row)
        elif kind == "audio":
            self.viewer_stack.setCurrentWidget(self.audio_viewer)
            # analyses stored before long recordings were analysed in segments (2026-12-07)
            # say how far the audio detectors got; the rest is hatched
            self.audio_viewer.load(vault, findings,
                                   examined_until=media_info.get("audio_examined_s"),
                                   segments=media_info.get("audio_segments"))
            self._loaded(row)
        else:
            self.viewer_stack.setCurrentWidget(self.placeholder)
            self.placeholder.setText(row.get("error") or self.tr("This item is not media the "
                                                                 "viewer can show."))
            self._loaded(row)

    def _loaded(self, row: dict[str, Any]) -> None:
        self._loading_item = False
        ms = (time.perf_counter() - self._t_select) * 1000
        loaded = self.tr("{0} — loaded in {1:.0f} ms").format(row.get("name", ""), ms)
        before, self._after_load_message = self._after_load_message, ""
        self.notify(f"{before} {loaded}" if before else loaded)

    @property
    def item_loading(self) -> bool:
        return self._loading_item

    # ------------------------------------------------------------------ viewer links
    def _overlay_box_toggled(self, on: bool) -> None:
        if self.act_overlay.isChecked() != on:
            self.act_overlay.setChecked(on)

    def set_overlay_visible(self, on: bool) -> None:
        self.image_viewer.overlay_check.setChecked(on)
        self.video_viewer.image.overlay_check.setChecked(on)

    def show_claim(self, claim: Any) -> None:
        """Point the viewer at what a sentence talks about."""
        loc = claim.location
        if isinstance(loc, FrameSpan) and self.current_kind == "video":
            self.video_viewer.timeline.set_highlight(loc.start, loc.end)
            self.video_viewer.seek(loc.start, box=loc.box)
            self.notify(self.tr("{0}: {1:.2f}–{2:.2f} s").format(
                claim.artifact or "", loc.start, loc.end))
        elif isinstance(loc, TimeSpan) and self.current_kind == "audio":
            self.audio_viewer.highlight(loc.start, loc.end, loc.low_hz, loc.high_hz)
            self.notify(self.tr("{0}: {1:.2f}–{2:.2f} s").format(
                claim.artifact or "", loc.start, loc.end))
        elif isinstance(loc, MetadataField):
            self.side_tabs.setCurrentWidget(self.details)
            self.notify(self.tr("Metadata field {0} = {1}").format(loc.name, loc.value))
        else:
            box = location_box(loc)
            viewer = (self.video_viewer.image if self.current_kind == "video"
                      else self.image_viewer)
            if box is not None:
                viewer.highlight(box)
                self.notify(self.tr("{0} at x={1} y={2} ({3}×{4} px)").format(
                    claim.artifact or "", box.x, box.y, box.w, box.h))
            else:
                viewer.highlight(None)
                self.notify(self.tr("This sentence is about the whole item or has no place "
                                    "to point at."))

    # ------------------------------------------------------------------ examiner actions
    def record_decision(self, label: str) -> None:
        sha = self.current_sha
        if sha is None or self.case_info is None:
            self.notify(self.tr("Select an item first."), error=True)
            return

        def job(case: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            case.record_decision(sha, label)
            return _row_with_vault(case, case.item(sha)), case.custody_entries(sha)

        cur = self.queue_view.currentIndex()
        at = cur.row() if cur.isValid() else 0

        def done(res: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
            row, custody = res
            self.model.update_row(row)
            message = self.tr("Recorded decision “{0}” for {1}.").format(
                decision_text(label), row.get("name", ""))
            self.notify(message)
            if sha == self.current_sha:
                self.details.refresh_record(row, custody)
            if self.proxy.rowCount() and not any(
                    self.proxy.index(r, 1).data(SHA_ROLE) == sha
                    for r in range(self.proxy.rowCount())):
                # the filter ("Undecided") hid the item just decided: go on to the one that
                # took its place, the next in the queue, and keep the confirmation in view
                self._after_load_message = message
                idx = self.proxy.index(min(at, self.proxy.rowCount() - 1), 1)
                self.queue_view.selectionModel().setCurrentIndex(
                    idx, QItemSelectionModel.SelectionFlag.ClearAndSelect
                    | QItemSelectionModel.SelectionFlag.Rows)

        self.case_service.submit(job, self._current_case_only(done), lambda m: self._error_box(
            self.tr("Decision"), self.tr("The decision was not recorded: {0}").format(m)))

    def add_note(self) -> None:
        sha = self.current_sha
        if sha is None or self.case_info is None:
            self.notify(self.tr("Select an item first."), error=True)
            return
        text = self._ask_note()
        if not text:
            return

        def job(case: Any) -> tuple[dict[str, Any], list[dict[str, Any]]]:
            case.add_note(sha, text)
            return _row_with_vault(case, case.item(sha)), case.custody_entries(sha)

        def done(res: tuple[dict[str, Any], list[dict[str, Any]]]) -> None:
            row, custody = res
            self.model.update_row(row)
            self.notify(self.tr("Note added to {0}.").format(row.get("name", "")))
            if sha == self.current_sha:
                self.details.refresh_record(row, custody)

        self.case_service.submit(job, self._current_case_only(done), lambda m: self._error_box(
            self.tr("Note"), self.tr("The note was not saved: {0}").format(m)))

    def _store_rationale(self, sha: str, text: str, claims: list[Any]) -> None:
        if self.case_info is None:
            return
        self.case_service.submit(
            lambda case: case.record_rationale(sha, text, claims),
            lambda _: self.notify(self.tr("Rationale check stored in the case.")),
            lambda m: self.notify(self.tr("The rationale check was not stored: {0}").format(m),
                                  error=True))

    def verify_case(self) -> None:
        if self.case_info is None:
            return
        self.side_tabs.setCurrentWidget(self.details)
        self.details.set_verifying()

        def done(report: Any) -> None:
            self.details.set_verify_result(report)
            self.notify(self.tr("Case verified: it holds.") if report.ok else
                        self.tr("Case verification FAILED: see Details."), error=not report.ok)

        self.case_service.submit(lambda case: case.verify(), done,
                                 lambda m: self.details.set_verify_result(error=m))

    # ------------------------------------------------------------------ scans
    def _load_settings(self) -> Any:
        try:
            from triage_app.settings import load_settings

            return load_settings(self.settings_path)
        except Exception as exc:  # noqa: BLE001 -- a broken settings file is said, not hidden
            self.notify(self.tr("Settings not usable ({0}); using defaults.").format(exc),
                        error=True)
            return None

    def show_scan_dialog(self, paths: list[str] | None = None, *, start: bool = False
                         ) -> ScanDialog | None:
        if self.case_info is None:
            self.notify(self.tr("Open or create a case before scanning."), error=True)
            return None
        settings = self._load_settings()
        if self.scan_dialog is None:
            self.scan_dialog = ScanDialog(self.case_info["path"], settings=settings,
                                          workers=getattr(settings, "workers", 2), parent=self)
            self.scan_dialog.item_changed.connect(self.refresh_item)
            self.scan_dialog.scan_finished.connect(self._scan_finished)
        elif not self.scan_dialog.running:
            self.scan_dialog.settings = settings
        if paths:
            self.scan_dialog.add_paths(paths)
        self.scan_dialog.show()
        self.scan_dialog.raise_()
        if start:
            self.scan_dialog.start()
        return self.scan_dialog

    def scan_paths(self, paths: list[str]) -> None:
        dlg = self.show_scan_dialog(paths, start=False)
        if dlg is None:
            return
        if dlg.running:
            self.notify(self.tr("A scan is running; the new paths will be scanned when you "
                                "start the next one."))
        else:
            dlg.start(paths)

    def _scan_finished(self, ok: bool) -> None:
        if self._after_scan is not None:
            then, self._after_scan = self._after_scan, None
            QTimer.singleShot(0, then)
            return
        self.notify(self.tr("Scan finished.") if ok else self.tr("Scan stopped; everything "
                                                                 "finished so far is saved."))
        self.reload_items()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [u.toLocalFile() for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        if self.case_info is None:
            self.notify(self.tr("Open or create a case first, then drop files to scan them."),
                        error=True)
            return
        self.scan_paths(paths)

    # ------------------------------------------------------------------ report, settings
    def export_report(self) -> None:
        if self.case_info is None:
            return
        self.notify(self.tr("Checking the report module…"))
        run_task(_export_report_available, on_result=self._export_report_step2,
                 on_error=lambda m: self._export_report_step2(False))

    def _export_report_step2(self, available: bool) -> None:
        if not available:
            self._error_box(self.tr("Export report"),
                            self.tr("Report export is not available yet."))
            return
        selected = {i.data(SHA_ROLE) for i in self.queue_view.selectionModel().selectedRows(1)}
        target = self._ask_report_target(self.model.rows(), selected)
        if not target:
            return
        shas, out = target
        if not shas or not out:
            self.notify(self.tr("Choose at least one item and a file name."), error=True)
            return

        def job(case: Any) -> Any:
            from triage_app.report import export_report

            return export_report(case, out, evidence=shas, sign_key=None)

        self.notify(self.tr("Exporting the report…"))
        self.case_service.submit(
            job, lambda _: self.notify(self.tr("Report written to {0}").format(out)),
            lambda m: self._error_box(self.tr("Export report"),
                                      self.tr("The report could not be written: {0}").format(m)))

    def open_settings(self) -> None:
        from triage_app.gui.settings_dialog import SettingsDialog
        from triage_app.settings import Settings, save_settings

        current = self._load_settings() or Settings()
        dlg = SettingsDialog(current, self)
        if dlg.exec() == QDialog.DialogCode.Accepted and dlg.result_settings is not None:
            try:
                path = save_settings(dlg.result_settings, self.settings_path)
            except OSError as exc:
                self._error_box(self.tr("Settings"),
                                self.tr("Settings not saved: {0}").format(exc))
                return
            self.notify(self.tr("Settings saved to {0}").format(path))

    # ------------------------------------------------------------------ shutdown
    def closeEvent(self, event: QCloseEvent) -> None:
        if self._defer_until_scan_stops(self.close):
            event.ignore()
            return
        self._save_state()
        self.audio_viewer.stop()
        self.case_service.shutdown()
        super().closeEvent(event)
