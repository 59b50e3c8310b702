"""Details panel: an item's hashes, where it came from, its custody events; and the case-level
"Verify case" check with its result said plainly."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (QAbstractItemView, QFormLayout, QGroupBox, QHeaderView, QLabel,
                               QLineEdit,
                               QPushButton, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)


def _fmt_size(n: Any) -> str:
    try:
        n = int(n)
    except (TypeError, ValueError):
        return ""
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


class DetailsPanel(QWidget):
    verify_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fields: dict[str, QLabel | QLineEdit] = {}
        # the shown item's vault path and media notes (kept for refresh_record)
        self._shown: tuple[str | None, list[str] | None] = (None, None)
        form_box = QGroupBox(self.tr("Evidence"))
        form = QFormLayout(form_box)
        for key, title in (("name", self.tr("Name")), ("sha256", self.tr("SHA-256")),
                           ("md5", self.tr("MD5")), ("size", self.tr("Size")),
                           ("kind", self.tr("Kind")), ("format", self.tr("Format")),
                           ("added_at", self.tr("Added (UTC)")),
                           ("vault", self.tr("Vault copy")),
                           ("media_notes", self.tr("Media notes")),
                           ("decision", self.tr("Decision")), ("note", self.tr("Note"))):
            if key in ("sha256", "md5", "vault", "name"):
                # long unbreakable text: a read-only line scrolls and copies exactly
                label = QLineEdit("")
                label.setReadOnly(True)
                label.setFrame(False)
                label.setStyleSheet("background: transparent;")
                label.setMinimumWidth(40)
            else:
                label = QLabel("")
                label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                label.setWordWrap(True)
            self.fields[key] = label
            form.addRow(title + ":", label)

        self.sources = QTableWidget(0, 3)
        self.sources.setHorizontalHeaderLabels(
            [self.tr("Source path"), self.tr("Modified"), self.tr("Taken in by")])
        self._table_defaults(self.sources)
        self.custody = QTableWidget(0, 4)
        self.custody.setHorizontalHeaderLabels(
            [self.tr("#"), self.tr("Time (UTC)"), self.tr("Action"), self.tr("Actor")])
        self._table_defaults(self.custody)

        src_box = QGroupBox(self.tr("Sources"))
        QVBoxLayout(src_box).addWidget(self.sources)
        cus_box = QGroupBox(self.tr("Custody events for this item"))
        QVBoxLayout(cus_box).addWidget(self.custody)

        verify_box = QGroupBox(self.tr("Case"))
        vl = QVBoxLayout(verify_box)
        self.case_label = QLabel("")
        self.case_label.setWordWrap(True)
        self.case_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.intake_label = QLabel("")
        self.intake_label.setWordWrap(True)
        vl.addWidget(self.case_label)
        vl.addWidget(self.intake_label)
        self.verify_button = QPushButton(self.tr("Verify case"))
        self.verify_button.setToolTip(self.tr(
            "Recompute the custody hash chain and re-hash every evidence copy"))
        self.verify_button.clicked.connect(self.verify_requested)
        self.verify_result = QLabel(self.tr("Not verified in this session."))
        self.verify_result.setWordWrap(True)
        self.verify_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        vl.addWidget(self.verify_button)
        vl.addWidget(self.verify_result)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(form_box)
        lay.addWidget(src_box, 1)
        lay.addWidget(cus_box, 2)
        lay.addWidget(verify_box)

    @staticmethod
    def _table_defaults(t: QTableWidget) -> None:
        t.verticalHeader().hide()
        t.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        t.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        t.horizontalHeader().setStretchLastSection(True)
        t.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        t.setWordWrap(False)

    def refresh_record(self, row: dict[str, Any], custody: list[dict[str, Any]]) -> None:
        """The shown item's record again after a decision or a note (its decision, note and
        custody entries), keeping what :meth:`set_item` was given about its file."""
        vault, notes = self._shown
        self.set_item(row, vault=vault, custody=custody, media_notes=notes)

    def set_item(self, row: dict[str, Any] | None, *, vault: str | None = None,
                 custody: list[dict[str, Any]] | None = None,
                 media_notes: list[str] | None = None) -> None:
        """``media_notes``: what opening the file revealed (the analysis's media notes)."""
        self._shown = (vault, media_notes)
        for label in self.fields.values():
            label.setText("")
        self.sources.setRowCount(0)
        self.custody.setRowCount(0)
        if row is None:
            return
        from triage_app.gui.queue_model import decision_of, decision_text

        for key in ("name", "sha256", "md5", "kind", "format", "added_at"):
            self.fields[key].setText(str(row.get(key) or ""))
            if isinstance(self.fields[key], QLineEdit):
                self.fields[key].setCursorPosition(0)
        self.fields["size"].setText(_fmt_size(row.get("size")))
        self.fields["vault"].setText(vault or "")
        self.fields["vault"].setCursorPosition(0)
        self.fields["media_notes"].setText("\n".join(f"• {n}" for n in media_notes or [])
                                           or self.tr("none"))
        self.fields["decision"].setText(decision_text(decision_of(row)))
        notes = row.get("notes")
        if isinstance(notes, list) and notes:
            last = notes[-1]
            text = last.get("text", "") if isinstance(last, dict) else str(last)
            if len(notes) > 1:
                text += self.tr(" (and {0} earlier notes)").format(len(notes) - 1)
        else:
            text = str(row.get("note") or "")
        self.fields["note"].setText(text)
        for src in row.get("sources") or []:
            r = self.sources.rowCount()
            self.sources.insertRow(r)
            vals = (src.get("path", ""), src.get("mtime", ""),
                    " @ ".join(str(x) for x in (src.get("actor"), src.get("host")) if x))
            for c, v in enumerate(vals):
                item = QTableWidgetItem(str(v))
                item.setToolTip(json.dumps(src, default=str, indent=1))
                self.sources.setItem(r, c, item)
        for e in custody or []:
            r = self.custody.rowCount()
            self.custody.insertRow(r)
            vals = (e.get("seq", e.get("id", "")), e.get("time", e.get("timestamp", "")),
                    e.get("action", ""), e.get("actor", ""))
            for c, v in enumerate(vals):
                item = QTableWidgetItem(str(v))
                details = e.get("details")
                tip = {k: e.get(k) for k in ("hash", "prev_hash") if e.get(k)}
                if details:
                    tip["details"] = details
                item.setToolTip(json.dumps(tip, default=str, indent=1))
                self.custody.setItem(r, c, item)
        self.sources.resizeColumnsToContents()
        self.custody.resizeColumnsToContents()

    def set_case(self, info: dict[str, Any] | None,
                 intake_errors: list[dict[str, Any]] | None = None) -> None:
        """The open case (title, id, examiner) and the files it could not take in."""
        if info is None:
            self.case_label.setText(self.tr("No case open."))
            self.intake_label.setText("")
            self.verify_result.setStyleSheet("")
            self.verify_result.setText(self.tr("Not verified in this session."))
            return
        self.case_label.setText(self.tr("{0} (id {1}), examiner {2}").format(
            info.get("title") or "", info.get("case_id") or "", info.get("examiner") or ""))
        errs = intake_errors or []
        if errs:
            self.intake_label.setStyleSheet("color: #c82828;")
            self.intake_label.setText(self.tr("{0} file(s) could not be taken in "
                                              "(hover for the list).").format(len(errs)))
            self.intake_label.setToolTip("\n".join(
                f"{e.get('path', '')}: {e.get('message', '')}" for e in errs[-50:]))
        else:
            self.intake_label.setStyleSheet("")
            self.intake_label.setText(self.tr("Every file handed in was taken in."))
            self.intake_label.setToolTip("")

    def set_verifying(self) -> None:
        self.verify_button.setEnabled(False)
        self.verify_result.setStyleSheet("")
        self.verify_result.setText(self.tr("Verifying the custody chain and every evidence "
                                           "file…"))

    def set_verify_result(self, report: Any = None, *, error: str | None = None) -> None:
        self.verify_button.setEnabled(True)
        if error is not None:
            self.verify_result.setStyleSheet("color: #c82828; font-weight: bold;")
            self.verify_result.setText(self.tr("Verification could not run: {0}").format(error))
            return
        if report.ok:
            self.verify_result.setStyleSheet("color: #1e8c3c; font-weight: bold;")
            text = self.tr("The case holds: {0} custody entries and {1} evidence files "
                           "checked, nothing altered or missing.").format(
                report.entries_checked, report.files_checked)
        else:
            self.verify_result.setStyleSheet("color: #c82828; font-weight: bold;")
            lines = [self.tr("THE CASE DOES NOT VERIFY ({0} problems):").format(
                len(report.problems))]
            lines += [f"• {p.where}: {p.message}" for p in report.problems]
            text = "\n".join(lines)
        if getattr(report, "warnings", None):
            text += "\n" + "\n".join(self.tr("Warning: {0}").format(w) for w in report.warnings)
        self.verify_result.setText(text)
