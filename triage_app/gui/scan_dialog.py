"""Scan dialog: choose files and folders, scan them into the open case with progress, ETA and
the current file; cancel; errors listed with their messages.

The scan is :func:`triage_app.scan.scan`, the same generator ``triage scan`` prints, run in a
:class:`GeneratorWorker`. Every item it finishes is already committed to the case, so the queue
shows it at once (:attr:`ScanDialog.item_changed`), and a cancel loses nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDialog, QFileDialog, QGridLayout,
                               QGroupBox, QHBoxLayout, QHeaderView, QLabel, QListWidget,
                               QProgressBar, QPushButton, QSpinBox, QTableWidget,
                               QTableWidgetItem, QVBoxLayout, QWidget)

from triage_app.gui.workers import GeneratorWorker


def _default_scan(*args: Any, **kwargs: Any) -> Any:
    from triage_app.scan import scan

    return scan(*args, **kwargs)


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h:d}:{m:02d}:{s:02d}" if h else f"{m:d}:{s:02d}"


class ScanDialog(QDialog):
    item_changed = Signal(str)      # sha256 of an item taken in, analysed or failed
    event_received = Signal(object)  # every ScanEvent
    scan_finished = Signal(bool)     # True: ran to the end; False: cancelled or failed

    #: the scan generator (worker thread); replaceable for tests
    scan_function: Callable[..., Any] = staticmethod(_default_scan)

    def __init__(self, case_path: str | Path, *, settings: Any = None, workers: int = 2,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Scan into case"))
        self.case_path = str(case_path)
        self.settings = settings
        self.worker: GeneratorWorker | None = None
        self.events: list[Any] = []
        self.last_event: Any = None
        self._started_at = 0.0
        self._finished_ok: bool | None = None

        self.paths = QListWidget()
        self.paths.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.paths.setMaximumHeight(110)
        add_folder = QPushButton(self.tr("Add folder…"))
        add_folder.clicked.connect(self._add_folder)
        add_files = QPushButton(self.tr("Add files…"))
        add_files.clicked.connect(self._add_files)
        remove = QPushButton(self.tr("Remove"))
        remove.clicked.connect(lambda: [self.paths.takeItem(self.paths.row(i))
                                        for i in self.paths.selectedItems()])
        self.recursive = QCheckBox(self.tr("Include subfolders"))
        self.recursive.setChecked(True)
        self.reanalyze = QCheckBox(self.tr("Re-analyse items already analysed"))
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(max(1, int(workers)))
        src_box = QGroupBox(self.tr("What to scan"))
        sl = QGridLayout(src_box)
        sl.addWidget(self.paths, 0, 0, 4, 1)
        sl.addWidget(add_folder, 0, 1)
        sl.addWidget(add_files, 1, 1)
        sl.addWidget(remove, 2, 1)
        opts = QHBoxLayout()
        opts.addWidget(self.recursive)
        opts.addWidget(self.reanalyze)
        opts.addStretch(1)
        opts.addWidget(QLabel(self.tr("Worker processes:")))
        opts.addWidget(self.workers)
        sl.addLayout(opts, 4, 0, 1, 2)

        self.progress = QProgressBar()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.counts = QLabel(self.tr("Not started."))
        self.eta = QLabel("")
        self.current = QLabel("")
        self.current.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.current.setWordWrap(True)
        prog_box = QGroupBox(self.tr("Progress"))
        pl = QVBoxLayout(prog_box)
        pl.addWidget(self.progress)
        row = QHBoxLayout()
        row.addWidget(self.counts, 1)
        row.addWidget(self.eta)
        pl.addLayout(row)
        pl.addWidget(self.current)

        self.errors = QTableWidget(0, 2)
        self.errors.setHorizontalHeaderLabels([self.tr("File"), self.tr("Problem")])
        self.errors.verticalHeader().hide()
        self.errors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.errors.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.errors.horizontalHeader().setStretchLastSection(True)
        self.errors.setColumnWidth(0, 260)
        self.errors.setWordWrap(False)
        self.errors.setTextElideMode(Qt.TextElideMode.ElideLeft)  # keep the file name visible
        err_box = QGroupBox(self.tr("Files that could not be analysed"))
        QVBoxLayout(err_box).addWidget(self.errors)

        self.start_button = QPushButton(self.tr("Start scan"))
        self.start_button.setDefault(True)
        self.start_button.clicked.connect(lambda: self.start())
        self.cancel_button = QPushButton(self.tr("Cancel scan"))
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.close_button)

        lay = QVBoxLayout(self)
        lay.addWidget(src_box)
        lay.addWidget(prog_box)
        lay.addWidget(err_box, 1)
        lay.addLayout(buttons)
        self.resize(680, 560)

    # -- inputs
    def add_paths(self, paths: list[str]) -> None:
        present = {self.paths.item(i).text() for i in range(self.paths.count())}
        for p in paths:
            if p not in present:
                self.paths.addItem(p)
                present.add(p)

    def chosen_paths(self) -> list[str]:
        return [self.paths.item(i).text() for i in range(self.paths.count())]

    def _add_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, self.tr("Folder to scan"))
        if d:
            self.add_paths([d])

    def _add_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, self.tr("Files to scan"))
        self.add_paths(files)

    # -- running
    @property
    def running(self) -> bool:
        return self.worker is not None

    def start(self, paths: list[str] | None = None) -> bool:
        if self.running:
            return False
        if paths:
            self.add_paths(paths)
        chosen = self.chosen_paths()
        if not chosen:
            self.counts.setText(self.tr("Add a folder or files to scan first."))
            return False
        self.events.clear()
        self.errors.setRowCount(0)
        self._finished_ok = None
        self.progress.setRange(0, 0)  # busy until the total is known
        self.counts.setText(self.tr("Looking for media…"))
        self.eta.setText("")
        self.current.setText("")
        recursive, workers = self.recursive.isChecked(), self.workers.value()
        reanalyze, settings, case_path = self.reanalyze.isChecked(), self.settings, self.case_path
        fn = type(self).scan_function

        def factory(cancel: Any) -> Any:
            return fn(chosen, case_path, recursive=recursive, workers=workers,
                      settings=settings, cancel=cancel, reanalyze=reanalyze)

        self.worker = GeneratorWorker(factory, parent=self)
        self.worker.yielded.connect(self._on_event)
        self.worker.failed.connect(self._on_failed)
        self.worker.completed.connect(self._on_completed)
        self._started_at = time.monotonic()
        self.start_button.setEnabled(False)
        self.cancel_button.setEnabled(True)
        self.worker.start()
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)
            self.current.setText(self.tr("Cancelling: finishing the files in progress "
                                         "(nothing is lost)…"))

    def _on_event(self, ev: Any) -> None:
        self.events.append(ev)
        self.last_event = ev
        total = int(getattr(ev, "total", 0) or 0)
        done = int(getattr(ev, "done", 0) or 0)
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(min(done, total))
        self.counts.setText(self.tr("{0} of {1} done · not media, skipped: {2} · errors: {3}")
                            .format(done, total, getattr(ev, "skipped_non_media", 0),
                                    getattr(ev, "errors", 0)))
        eta = getattr(ev, "eta", None)
        elapsed = getattr(ev, "elapsed", None)
        self.eta.setText(self.tr("elapsed {0}, remaining {1}").format(
            fmt_duration(elapsed if elapsed is not None
                         else time.monotonic() - self._started_at), fmt_duration(eta)))
        kind = getattr(ev, "kind", "")
        path = str(getattr(ev, "path", "") or "")
        if kind in ("start", "taken_in", "analyzed") and path:
            what = {"start": self.tr("Starting"), "taken_in": self.tr("Taken in"),
                    "analyzed": self.tr("Analysed")}[kind]
            extra = ""
            if kind == "analyzed" and getattr(ev, "verdict", None):
                prob = getattr(ev, "probability", None)
                extra = f" → {ev.verdict}" + (f" ({prob:.2f})" if prob is not None else "")
            self.current.setText(f"{what}: {path}{extra}")
        if kind == "error":
            r = self.errors.rowCount()
            self.errors.insertRow(r)
            where = QTableWidgetItem(path)
            where.setToolTip(path)
            self.errors.setItem(r, 0, where)
            msg = QTableWidgetItem(str(getattr(ev, "message", "") or ""))
            msg.setToolTip(msg.text())
            self.errors.setItem(r, 1, msg)
        if kind == "done":
            self.current.setText(str(getattr(ev, "message", "") or self.tr("Scan finished.")))
        sha = getattr(ev, "sha256", None)
        if sha and kind in ("taken_in", "skipped", "analyzed", "error"):
            self.item_changed.emit(sha)
        self.event_received.emit(ev)

    def _on_failed(self, message: str) -> None:
        r = self.errors.rowCount()
        self.errors.insertRow(r)
        self.errors.setItem(r, 0, QTableWidgetItem(self.tr("(the scan itself)")))
        self.errors.setItem(r, 1, QTableWidgetItem(message))

    def _on_completed(self, ok: bool) -> None:
        if self.worker is None and self._finished_ok is not None:
            return  # already handled (the window waited for the scan to stop)
        worker = self.worker
        self.worker = None
        if worker is not None:
            worker.wait(2000)
            worker.deleteLater()
        self._finished_ok = ok
        self.start_button.setEnabled(True)
        self.cancel_button.setEnabled(False)
        if self.progress.maximum() == 0:
            self.progress.setRange(0, 1)
            self.progress.setValue(1 if ok else 0)
        ev = self.last_event
        if not ok and worker is not None and worker.cancel_event.is_set():
            done = getattr(ev, "done", 0) if ev else 0
            self.current.setText(self.tr("Cancelled. {0} items finished and saved in the case; "
                                         "scan again to resume.").format(done))
            elapsed = getattr(ev, "elapsed", None) if ev else None
            self.eta.setText(self.tr("stopped after {0}").format(fmt_duration(elapsed))
                             if elapsed is not None else "")
        self.scan_finished.emit(ok)

    @property
    def finished_ok(self) -> bool | None:
        return self._finished_ok

    def closeEvent(self, event: Any) -> None:
        # Closing the window does not stop a scan: it keeps feeding the queue. Cancel does.
        super().closeEvent(event)
