"""Explanation panel: the verdict, each detector's score and contribution, the explanation's
sentences with their validation status, and a box to check a rationale written elsewhere.

Clicking a sentence emits :attr:`ExplanationPanel.claim_activated` with the :class:`Claim`;
the window points the viewer at its region or span. A pasted rationale is checked by
``pipeline.check_rationale`` in a worker; :attr:`rationale_checked` carries the result so the
window can store it in the case.
"""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPaintEvent, QPixmap
from PySide6.QtWidgets import (QAbstractItemView, QGroupBox, QHBoxLayout, QHeaderView, QLabel,
                               QListWidget, QListWidgetItem, QPlainTextEdit, QPushButton,
                               QSplitter, QTableWidget, QTableWidgetItem, QVBoxLayout, QWidget)

from triage_app.gui.queue_model import VERDICT_COLORS, verdict_text
from triage_app.gui.workers import run_task
from triage_app.model import Analysis, Claim
from triage_app.segments import describe as describe_segments

STATUS_COLORS = {
    "grounded": QColor(30, 150, 70),
    "hallucinated": QColor(210, 40, 40),
    "unverifiable": QColor(150, 150, 150),
    "unchecked": QColor(110, 110, 190),
}

CLAIM_ROLE = Qt.ItemDataRole.UserRole + 10


def _badge(status: str) -> QIcon:
    pm = QPixmap(14, 14)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(STATUS_COLORS.get(status, QColor(128, 128, 128)))
    p.setPen(Qt.PenStyle.NoPen)
    p.drawEllipse(1, 1, 12, 12)
    p.end()
    return QIcon(pm)


def claim_tooltip(claim: Claim) -> str:
    lines = [f"{claim.status}"]
    if claim.reason:
        lines.append(claim.reason)
    if claim.measurement:
        m = claim.measurement
        if isinstance(m, dict):
            lines += [f"{k}: {v}" for k, v in m.items()]
        else:
            lines.append(json.dumps(m))
    if claim.artifact:
        lines.append(f"artifact: {claim.artifact}")
    return "\n".join(lines)


class BarWidget(QWidget):
    """A horizontal bar for a value in 0..1 (or a signed contribution in -1..1)."""

    def __init__(self, value: float | None, *, signed: bool = False, text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.value = value
        self.signed = signed
        self.text = text
        self.setMinimumWidth(70)

    def sizeHint(self) -> QSize:
        return QSize(100, 18)

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        r = QRectF(self.rect()).adjusted(2, 3, -2, -3)
        p.fillRect(r, QColor(60, 60, 66))
        if self.value is not None:
            v = max(-1.0, min(1.0, float(self.value)))
            if self.signed:
                mid = r.center().x()
                w = abs(v) * r.width() / 2
                bar = QRectF(mid if v >= 0 else mid - w, r.top(), w, r.height())
                p.fillRect(bar, QColor(210, 70, 60) if v >= 0 else QColor(60, 150, 210))
                p.setPen(QColor(200, 200, 200))
                p.drawLine(int(mid), int(r.top()), int(mid), int(r.bottom()))
            else:
                bar = QRectF(r.left(), r.top(), max(0.0, v) * r.width(), r.height())
                p.fillRect(bar, QColor.fromHsv(int(120 - 120 * max(0.0, v)), 200, 210))
        p.setPen(QColor(255, 255, 255))
        align = Qt.AlignmentFlag.AlignCenter
        if self.signed and self.value is not None:  # the text away from the bar
            align = (Qt.AlignmentFlag.AlignLeft if self.value >= 0
                     else Qt.AlignmentFlag.AlignRight) | Qt.AlignmentFlag.AlignVCenter
        p.drawText(r.adjusted(3, 0, -3, 0), int(align), self.text)
        p.end()


def _default_check(path: str, text: str, verdict: Any) -> list[Claim]:
    from triage_app.pipeline import check_rationale

    return check_rationale(path, text, verdict=verdict)


class ExplanationPanel(QWidget):
    claim_activated = Signal(object)        # Claim
    rationale_checked = Signal(str, str, list)  # sha256, text, [Claim]

    #: the function that checks a rationale (worker thread); replaceable for tests
    check_function = staticmethod(_default_check)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sha: str | None = None
        self.path: str | None = None
        self.analysis: Analysis | None = None
        self._token = 0
        self.checking = False

        self.verdict_label = QLabel(self.tr("No item selected"))
        font = self.verdict_label.font()
        font.setPointSize(font.pointSize() + 4)
        font.setBold(True)
        self.verdict_label.setFont(font)
        self.verdict_detail = QLabel("")
        self.verdict_detail.setWordWrap(True)

        self.detectors = QTableWidget(0, 3)
        self.detectors.setHorizontalHeaderLabels(
            [self.tr("Detector"), self.tr("Score"), self.tr("Contribution")])
        self.detectors.verticalHeader().hide()
        self.detectors.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.detectors.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        hh = self.detectors.horizontalHeader()
        hh.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        hh.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        hh.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)

        self.claims = QListWidget()
        self.claims.setWordWrap(True)
        self.claims.itemClicked.connect(self._claim_clicked)
        self.claims.itemActivated.connect(self._claim_clicked)

        self.rationale_edit = QPlainTextEdit()
        self.rationale_edit.setPlaceholderText(
            self.tr("Paste a rationale written elsewhere (a colleague, a model) to check it "
                    "against this item…"))
        self.rationale_edit.setMaximumHeight(90)
        self.check_button = QPushButton(self.tr("Check rationale"))
        self.check_button.clicked.connect(self.check_rationale)
        self.rationale_status = QLabel("")
        self.rationale_status.setWordWrap(True)
        self.rationale_claims = QListWidget()
        self.rationale_claims.setWordWrap(True)
        self.rationale_claims.itemClicked.connect(self._claim_clicked)

        top = QWidget()
        tl = QVBoxLayout(top)
        tl.setContentsMargins(0, 0, 0, 0)
        tl.addWidget(self.verdict_label)
        tl.addWidget(self.verdict_detail)
        tl.addWidget(self.detectors, 1)
        claims_box = QGroupBox(self.tr("Explanation"))
        cl = QVBoxLayout(claims_box)
        cl.addWidget(self.claims)
        rat_box = QGroupBox(self.tr("Check a rationale"))
        rl = QVBoxLayout(rat_box)
        rl.addWidget(self.rationale_edit)
        row = QHBoxLayout()
        row.addWidget(self.check_button)
        row.addWidget(self.rationale_status, 1)
        rl.addLayout(row)
        rl.addWidget(self.rationale_claims)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(top)
        split.addWidget(claims_box)
        split.addWidget(rat_box)
        split.setSizes([220, 200, 220])
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addWidget(split)
        self.set_item(None, None, None)

    # -- content
    def set_item(self, sha: str | None, path: str | None, analysis: Analysis | None,
                 *, error: str | None = None, rationales: list[dict[str, Any]] | None = None
                 ) -> None:
        self._token += 1
        self.checking = False
        if sha != self.sha:
            # a rationale typed for one item must not be checked against the next
            self.rationale_edit.clear()
        self.sha, self.path, self.analysis = sha, path, analysis
        self.detectors.clearSpans()
        self.detectors.setRowCount(0)
        self.claims.clear()
        self.rationale_claims.clear()
        self.rationale_status.setText("")
        self.check_button.setEnabled(sha is not None and path is not None)
        if sha is None:
            self.verdict_label.setText(self.tr("No item selected"))
            self.verdict_label.setStyleSheet("")
            self.verdict_detail.setText("")
            return
        if analysis is None:
            self.verdict_label.setText(self.tr("Not analysed") if not error
                                       else self.tr("Analysis failed"))
            self.verdict_label.setStyleSheet("color: #c82828;" if error else "")
            self.verdict_detail.setText(error or self.tr("This item has no analysis yet."))
            return
        v = analysis.verdict
        color = VERDICT_COLORS.get(v.label, QColor(128, 128, 128))
        self.verdict_label.setText(verdict_text(v.label))
        self.verdict_label.setStyleSheet(f"color: {color.name()};")
        prob = "—" if v.probability is None else f"{v.probability:.2f}"
        detail = self.tr("Probability of manipulation: {0}").format(prob)
        if v.drivers:
            detail += "\n" + self.tr("Driven by: {0}").format(", ".join(v.drivers))
        elif v.probability is not None:
            side = (self.tr("manipulated") if v.probability >= 0.5 else self.tr("authentic"))
            detail += "\n" + self.tr("Driven by: the fitted base rate (no detector moved the "
                                      "log-odds by 0.1 or more towards {0})").format(side)
        from explainers.rationale import refuted_detectors

        refuted = [d for d in refuted_detectors(analysis)
                   if (v.contributions or {}).get(d, 0.0) > 0.005]
        if refuted:
            detail += "\n" + self.tr("Caution: the independent probe did not confirm a finding "
                                       "of {0}, which raised this verdict; weigh it without "
                                       "them.").format(", ".join(
                                           f"{d} ({v.contributions[d]:+.2f})" for d in refuted))
        if v.baseline is not None and v.probability is not None:
            total = v.scale * sum((v.contributions or {}).values())
            detail += "\n" + self.tr("Log-odds: baseline {0:+.2f} + contributions {1:+.2f} = "
                                       "{2:+.2f}").format(v.baseline, total, v.baseline + total)
        if v.method:
            detail += "\n" + self.tr("Fusion: {0}").format(v.method)
        for note in (analysis.media or {}).get("notes") or []:
            detail += "\n" + self.tr("Media note: {0}").format(note)
        self.verdict_detail.setText(detail)
        contribs = v.contributions or {}
        scale = max([abs(c) for c in contribs.values()] + [1e-9])
        order = {"ok": 0, "error": 1, "not_applicable": 2}
        ranked = sorted(analysis.detectors, key=lambda d: (
            order.get(d.status, 3), -abs(contribs.get(d.name, 0.0)), d.name))
        for d in ranked:
            r = self.detectors.rowCount()
            self.detectors.insertRow(r)
            name = QTableWidgetItem(d.name)
            tip = f"{d.name} {d.version}"
            if d.status == "ok":
                parts = describe_segments(d.extras)
                if parts:  # a long recording: which segment gave the score
                    tip += "\n" + parts
                if d.reason:  # e.g. a segment that failed while the others were judged
                    tip += "\n" + d.reason
                self.detectors.setItem(r, 0, name)
                self.detectors.setCellWidget(r, 1, BarWidget(d.score, text=f"{d.score:.2f}"))
                c = contribs.get(d.name)
                self.detectors.setCellWidget(r, 2, BarWidget(
                    None if c is None else c / scale if scale > 1 else c, signed=True,
                    text="" if c is None else "0.00" if abs(c) < 0.005 else f"{c:+.2f}"))
            else:
                # did not judge: say so in words, greyed (not applicable) or red (error)
                status = (self.tr("not applicable") if d.status == "not_applicable"
                          else self.tr("error"))
                color = (QColor(150, 150, 150) if d.status == "not_applicable"
                         else QColor(200, 40, 40))
                name.setForeground(color)
                self.detectors.setItem(r, 0, name)
                st = QTableWidgetItem(status)
                st.setForeground(color)
                st.setToolTip(d.reason or "")
                self.detectors.setItem(r, 1, st)
                self.detectors.setSpan(r, 1, 1, 2)
                tip += f"\n{status}: {d.reason or ''}"
            name.setToolTip(tip)
        self.detectors.resizeRowsToContents()
        self._fill_claims(self.claims, analysis.claims)
        if not analysis.claims:
            item = QListWidgetItem(self.tr("No explanation sentences: no finding was strong "
                                           "enough to be worth a sentence."))
            item.setFlags(Qt.ItemFlag.NoItemFlags)
            self.claims.addItem(item)
        if rationales:
            last = rationales[-1]
            claims = [c if isinstance(c, Claim) else Claim.from_dict(c)
                      for c in last.get("claims", [])]
            self.rationale_status.setText(self.tr("Last checked rationale ({0} sentences)")
                                          .format(len(claims)))
            self._fill_claims(self.rationale_claims, claims)

    def _fill_claims(self, widget: QListWidget, claims: list[Claim]) -> None:
        widget.clear()
        for claim in claims:
            status = {"grounded": self.tr("grounded"), "hallucinated": self.tr("hallucinated"),
                      "unverifiable": self.tr("unverifiable"),
                      "unchecked": self.tr("unchecked")}.get(claim.status, claim.status)
            item = QListWidgetItem(_badge(claim.status), f"[{status}] {claim.text}")
            item.setToolTip(claim_tooltip(claim))
            item.setData(CLAIM_ROLE, claim)
            if claim.status == "hallucinated":
                item.setForeground(STATUS_COLORS["hallucinated"])
            widget.addItem(item)

    def _claim_clicked(self, item: QListWidgetItem) -> None:
        claim = item.data(CLAIM_ROLE)
        if claim is not None:
            self.claim_activated.emit(claim)

    # -- rationale
    def check_rationale(self) -> None:
        text = self.rationale_edit.toPlainText().strip()
        if not text or self.sha is None or self.path is None:
            self.rationale_status.setText(self.tr("Paste a rationale first."))
            return
        self._token += 1
        token, sha = self._token, self.sha
        verdict = self.analysis.verdict if self.analysis else None
        self.checking = True
        self.check_button.setEnabled(False)
        self.rationale_status.setText(self.tr("Checking…"))

        def done(claims: list[Claim]) -> None:
            if token != self._token:
                return
            self.checking = False
            self.check_button.setEnabled(True)
            counts = {s: sum(c.status == s for c in claims)
                      for s in ("grounded", "hallucinated", "unverifiable")}
            self.rationale_status.setText(
                self.tr("{0} sentences: {1} grounded, {2} hallucinated, {3} unverifiable")
                .format(len(claims), counts["grounded"], counts["hallucinated"],
                        counts["unverifiable"]))
            self._fill_claims(self.rationale_claims, claims)
            self.rationale_checked.emit(sha, text, claims)

        def failed(msg: str) -> None:
            if token != self._token:
                return
            self.checking = False
            self.check_button.setEnabled(True)
            self.rationale_status.setText(self.tr("Could not check the rationale: {0}")
                                          .format(msg))

        run_task(type(self).check_function, self.path, text, verdict,
                 on_result=done, on_error=failed)
