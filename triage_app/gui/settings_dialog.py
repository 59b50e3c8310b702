"""Settings dialog: limits, workers, detectors on and off, local model checkpoints, examiner.

The detector list comes from ``detectors.registry.all_detectors()``, which imports every
detector module (some pull heavy libraries), so it is loaded in a worker when the dialog opens.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDialog, QDialogButtonBox,
                               QDoubleSpinBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QHeaderView, QLabel, QLineEdit, QListWidget, QListWidgetItem,
                               QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from triage_app.gui.workers import run_task


def _list_detectors() -> list[dict[str, Any]]:
    from detectors.registry import all_detectors

    return [{"name": s.name, "version": s.version, "modalities": list(s.modalities),
             "method": s.method, "reference": s.reference} for s in all_detectors()]


class SettingsDialog(QDialog):
    #: lists the registered detectors (worker thread); replaceable for tests
    list_detectors = staticmethod(_list_detectors)

    def __init__(self, settings: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Settings"))
        self.original = settings
        self.detectors_loaded = False
        tabs = QTabWidget()

        # limits and workers
        general = QWidget()
        form = QFormLayout(general)
        lim = settings.limits
        self.max_mpix = QDoubleSpinBox()
        self.max_mpix.setRange(0.1, 10000)
        self.max_mpix.setSuffix(self.tr(" megapixels"))
        self.max_mpix.setValue(lim.max_pixels / 1e6)
        self.max_duration = QDoubleSpinBox()
        self.max_duration.setRange(1, 48 * 60)
        self.max_duration.setSuffix(self.tr(" min"))
        self.max_duration.setValue(lim.max_duration_s / 60)
        self.max_file = QDoubleSpinBox()
        self.max_file.setRange(0.001, 1024)
        self.max_file.setDecimals(3)
        self.max_file.setSuffix(self.tr(" GiB"))
        self.max_file.setValue(lim.max_file_bytes / 1024**3)
        self.max_video = QDoubleSpinBox()
        self.max_video.setRange(0.1, 1000)
        self.max_video.setSuffix(self.tr(" megapixels per frame"))
        self.max_video.setValue(lim.max_video_pixels / 1e6)
        self.workers = QSpinBox()
        self.workers.setRange(1, 64)
        self.workers.setValue(int(settings.workers))
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 24 * 3600)
        self.timeout.setSuffix(self.tr(" s"))
        self.timeout.setValue(float(settings.per_file_timeout))
        self.examiner = QLineEdit(settings.examiner or "")
        form.addRow(self.tr("Largest image:"), self.max_mpix)
        form.addRow(self.tr("Longest video or audio:"), self.max_duration)
        form.addRow(self.tr("Largest file:"), self.max_file)
        form.addRow(self.tr("Largest video frame:"), self.max_video)
        form.addRow(self.tr("Worker processes:"), self.workers)
        form.addRow(self.tr("Time limit per file:"), self.timeout)
        form.addRow(self.tr("Default examiner name:"), self.examiner)
        tabs.addTab(general, self.tr("General"))

        # detectors
        det = QWidget()
        dl = QVBoxLayout(det)
        self.detector_status = QLabel(self.tr("Loading the detector list…"))
        self.detector_list = QListWidget()
        dl.addWidget(QLabel(self.tr("Unticked detectors do not run in scans and analyses.")))
        dl.addWidget(self.detector_list, 1)
        dl.addWidget(self.detector_status)
        tabs.addTab(det, self.tr("Detectors"))

        # checkpoints
        ck = QWidget()
        cl = QVBoxLayout(ck)
        self.checkpoints = QTableWidget(0, 3)
        self.checkpoints.setHorizontalHeaderLabels(
            [self.tr("Local checkpoint folder"), self.tr("Modality"),
             self.tr("Label map (JSON)")])
        self.checkpoints.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.checkpoints.horizontalHeader().setStretchLastSection(True)
        self.checkpoints.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for cp in settings.checkpoints:
            self.add_checkpoint(cp.get("path", ""), cp.get("modality", "image"),
                                cp.get("label_map", {}))
        row = QHBoxLayout()
        add = QPushButton(self.tr("Add checkpoint…"))
        add.clicked.connect(self._browse_checkpoint)
        rem = QPushButton(self.tr("Remove"))
        rem.clicked.connect(lambda: self.checkpoints.removeRow(self.checkpoints.currentRow()))
        row.addWidget(add)
        row.addWidget(rem)
        row.addStretch(1)
        cl.addWidget(QLabel(self.tr("Weights are loaded from local disk only, with safetensors; "
                                    "nothing is downloaded.")))
        cl.addWidget(self.checkpoints, 1)
        cl.addLayout(row)
        tabs.addTab(ck, self.tr("Model checkpoints"))

        self.error = QLabel("")
        self.error.setStyleSheet("color: #c82828;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        lay = QVBoxLayout(self)
        lay.addWidget(tabs, 1)
        lay.addWidget(self.error)
        lay.addWidget(buttons)
        self.resize(620, 460)
        self.result_settings: Any = None

        run_task(type(self).list_detectors, on_result=self._fill_detectors,
                 on_error=lambda m: self.detector_status.setText(
                     self.tr("Could not list detectors: {0}").format(m)))

    def _fill_detectors(self, specs: list[dict[str, Any]]) -> None:
        disabled = set(self.original.disabled_detectors)
        self.detector_list.clear()
        for s in sorted(specs, key=lambda s: (s["modalities"], s["name"])):
            item = QListWidgetItem(f"{s['name']}  ({', '.join(s['modalities'])}) — {s['method']}")
            item.setData(Qt.ItemDataRole.UserRole, s["name"])
            item.setToolTip(f"{s['name']} {s['version']}\n{s['reference']}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked if s["name"] in disabled
                               else Qt.CheckState.Checked)
            self.detector_list.addItem(item)
        self.detectors_loaded = True
        self.detector_status.setText(self.tr("{0} detectors registered.").format(len(specs)))

    def add_checkpoint(self, path: str, modality: str = "image",
                       label_map: dict[str, str] | None = None) -> None:
        r = self.checkpoints.rowCount()
        self.checkpoints.insertRow(r)
        self.checkpoints.setItem(r, 0, QTableWidgetItem(path))
        combo = QComboBox()
        combo.addItems(["image", "video", "audio"])
        combo.setCurrentText(modality)
        self.checkpoints.setCellWidget(r, 1, combo)
        self.checkpoints.setItem(r, 2, QTableWidgetItem(json.dumps(label_map or {})))

    def _browse_checkpoint(self) -> None:
        d = QFileDialog.getExistingDirectory(self, self.tr("Checkpoint folder"))
        if d:
            self.add_checkpoint(d, "image", {"FAKE": "manipulated", "REAL": "authentic"})

    def collect(self) -> Any:
        """The settings as edited (raises ValueError with a message on bad input)."""
        limits = replace(self.original.limits,
                         max_pixels=int(self.max_mpix.value() * 1e6),
                         max_duration_s=float(self.max_duration.value() * 60),
                         max_file_bytes=int(self.max_file.value() * 1024**3),
                         max_video_pixels=int(self.max_video.value() * 1e6))
        if self.detectors_loaded:
            disabled = [self.detector_list.item(i).data(Qt.ItemDataRole.UserRole)
                        for i in range(self.detector_list.count())
                        if self.detector_list.item(i).checkState() != Qt.CheckState.Checked]
        else:
            disabled = list(self.original.disabled_detectors)
        checkpoints = []
        for r in range(self.checkpoints.rowCount()):
            path = (self.checkpoints.item(r, 0).text() if self.checkpoints.item(r, 0) else "")
            if not path.strip():
                continue
            text = self.checkpoints.item(r, 2).text() if self.checkpoints.item(r, 2) else "{}"
            try:
                label_map = json.loads(text or "{}")
            except ValueError:
                raise ValueError(self.tr("Row {0}: the label map is not valid JSON").format(r + 1))
            if not isinstance(label_map, dict):
                raise ValueError(self.tr("Row {0}: the label map must be a JSON object")
                                 .format(r + 1))
            checkpoints.append({"path": path.strip(),
                                "modality": self.checkpoints.cellWidget(r, 1).currentText(),
                                "label_map": label_map})
        return replace(self.original, limits=limits, workers=self.workers.value(),
                       per_file_timeout=self.timeout.value(), disabled_detectors=disabled,
                       checkpoints=checkpoints, examiner=self.examiner.text().strip())

    def _accept(self) -> None:
        try:
            self.result_settings = self.collect()
        except ValueError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
