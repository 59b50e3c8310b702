"""The triage queue: a table model over ``case.items()`` and the proxy that sorts and filters it.

Rows are plain dicts as :meth:`Case.items` returns them; the model never reads the case itself
(the window fetches rows on the case thread and hands them in), so sorting, filtering and
keyboard navigation never wait on the disk.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (QAbstractTableModel, QCoreApplication, QModelIndex,
                            QPersistentModelIndex, QSortFilterProxyModel, Qt)
from PySide6.QtGui import QBrush, QColor, QPixmap

SHA_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
ROW_ROLE = Qt.ItemDataRole.UserRole + 3

COLUMNS = ("thumbnail", "name", "modality", "verdict", "probability", "status", "decision")

DECISIONS = ("authentic", "manipulated", "inconclusive")


def _t(text: str) -> str:
    return QCoreApplication.translate("QueueModel", text)


def verdict_of(row: dict[str, Any]) -> tuple[str | None, float | None]:
    """(label, probability) of a row, whatever shape the store gave them."""
    v = row.get("verdict")
    if isinstance(v, dict):
        label, prob = v.get("label"), v.get("probability")
    else:
        label = v or row.get("verdict_label") or row.get("label")
        prob = row.get("probability", row.get("verdict_probability"))
    try:
        prob = None if prob is None else float(prob)
    except (TypeError, ValueError):
        prob = None
    return label, prob


def status_of(row: dict[str, Any]) -> str:
    """``error`` / ``analyzed`` / ``pending``."""
    if row.get("error"):
        return "error"
    label, _ = verdict_of(row)
    return "analyzed" if label else "pending"


def decision_of(row: dict[str, Any]) -> str | None:
    d = row.get("decision")
    if isinstance(d, dict):
        d = d.get("label")
    return d or None


def verdict_text(label: str | None) -> str:
    return {
        "likely_manipulated": _t("Likely manipulated"),
        "likely_authentic": _t("Likely authentic"),
        "inconclusive": _t("Inconclusive"),
        None: "",
    }.get(label, label or "")


def decision_text(label: str | None) -> str:
    return {"authentic": _t("Authentic"), "manipulated": _t("Manipulated"),
            "inconclusive": _t("Inconclusive"), None: ""}.get(label, label or "")


VERDICT_COLORS = {
    "likely_manipulated": QColor(200, 40, 40),
    "likely_authentic": QColor(30, 130, 60),
    "inconclusive": QColor(190, 130, 0),
}


class QueueModel(QAbstractTableModel):
    """One row per evidence item; ``set_rows`` / ``update_row`` keep it in step with the case."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._thumbs: dict[str, QPixmap] = {}

    # -- feeding
    def set_rows(self, rows: list[dict[str, Any]]) -> None:
        self.beginResetModel()
        self._rows = [dict(r) for r in rows]
        self._index = {r["sha256"]: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def update_row(self, row: dict[str, Any]) -> None:
        """Insert the row, or replace the one with the same sha256."""
        sha = row["sha256"]
        i = self._index.get(sha)
        if i is None:
            n = len(self._rows)
            self.beginInsertRows(QModelIndex(), n, n)
            self._rows.append(dict(row))
            self._index[sha] = n
            self.endInsertRows()
        else:
            self._rows[i] = dict(row)
            self.dataChanged.emit(self.index(i, 0), self.index(i, len(COLUMNS) - 1))

    def set_thumbnail(self, sha: str, pixmap: QPixmap) -> None:
        self._thumbs[sha] = pixmap
        i = self._index.get(sha)
        if i is not None:
            idx = self.index(i, 0)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    def has_thumbnail(self, sha: str) -> bool:
        return sha in self._thumbs

    def clear(self) -> None:
        self.beginResetModel()
        self._rows, self._index, self._thumbs = [], {}, {}
        self.endResetModel()

    def row_for(self, sha: str) -> dict[str, Any] | None:
        i = self._index.get(sha)
        return None if i is None else self._rows[i]

    def source_row(self, sha: str) -> int | None:
        return self._index.get(sha)

    def rows(self) -> list[dict[str, Any]]:
        return list(self._rows)

    # -- Qt model API
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return [self.tr(""), self.tr("Name"), self.tr("Modality"), self.tr("Verdict"),
                    self.tr("P(manip)"), self.tr("Status"), self.tr("Decision")][section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex,
             role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self._rows[index.row()]
        col = COLUMNS[index.column()]
        label, prob = verdict_of(row)
        if role == SHA_ROLE:
            return row["sha256"]
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return self._sort_key(row, col, label, prob)
        if role == Qt.ItemDataRole.DecorationRole and col == "thumbnail":
            return self._thumbs.get(row["sha256"])
        if role == Qt.ItemDataRole.DisplayRole:
            if col == "name":
                return row.get("name", "")
            if col == "modality":
                kind = row.get("kind")
                return {"image": self.tr("image"), "video": self.tr("video"),
                        "audio": self.tr("audio")}.get(kind, kind or "")
            if col == "verdict":
                return verdict_text(label)
            if col == "probability":
                return "" if prob is None else f"{prob:.2f}"
            if col == "status":
                return {"error": self.tr("error"), "analyzed": self.tr("analyzed"),
                        "pending": self.tr("pending")}[status_of(row)]
            if col == "decision":
                return decision_text(decision_of(row))
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == "status" and row.get("error"):
                return str(row["error"])
            if col == "name":
                return self.tr("SHA-256 {0}").format(row["sha256"])
            return None
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == "verdict" and label in VERDICT_COLORS:
                return QBrush(VERDICT_COLORS[label])
            if col == "status" and row.get("error"):
                return QBrush(QColor(200, 40, 40))
        if role == Qt.ItemDataRole.TextAlignmentRole and col == "probability":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    @staticmethod
    def _sort_key(row: dict[str, Any], col: str, label: str | None,
                  prob: float | None) -> Any:
        if col in ("thumbnail", "probability", "verdict"):
            # Suspicion: probability, then errors (an analyst must look at them), then pending.
            if prob is not None:
                return prob
            return -0.5 if row.get("error") else -1.0
        if col == "status":
            return status_of(row)
        if col == "decision":
            return decision_of(row) or ""
        if col == "modality":
            return row.get("kind") or ""
        return (row.get("name") or "").lower()


class QueueFilterProxy(QSortFilterProxyModel):
    """Sorted by suspicion (most likely manipulated first) unless the user sorts otherwise.

    Filters: ``mode`` in {"all", "undecided", "manipulated", "errors"}, ``modality`` in
    {"", "image", "video", "audio"}, and a free-text search over name and sha256.
    """

    MODES = ("all", "undecided", "manipulated", "errors")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.mode = "all"
        self.modality = ""
        self.search = ""
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)
        self.sort(COLUMNS.index("probability"), Qt.SortOrder.DescendingOrder)

    def set_mode(self, mode: str) -> None:
        if mode not in self.MODES:
            raise ValueError(f"mode must be one of {self.MODES}, not {mode!r}")
        self.mode = mode
        self.invalidateFilter()

    def set_modality(self, modality: str) -> None:
        self.modality = modality
        self.invalidateFilter()

    def set_search(self, text: str) -> None:
        self.search = text.strip().lower()
        self.invalidateFilter()

    def filterAcceptsRow(self, source_row: int,
                         source_parent: QModelIndex | QPersistentModelIndex) -> bool:
        model = self.sourceModel()
        row = model.data(model.index(source_row, 0, source_parent), ROW_ROLE)
        if row is None:
            return False
        if self.modality and row.get("kind") != self.modality:
            return False
        if self.mode == "undecided" and decision_of(row):
            return False
        if self.mode == "manipulated":
            label, _ = verdict_of(row)
            if not (label == "likely_manipulated" or decision_of(row) == "manipulated"):
                return False
        if self.mode == "errors" and not row.get("error"):
            return False
        if self.search:
            hay = f"{row.get('name', '')} {row.get('sha256', '')}".lower()
            if self.search not in hay:
                return False
        return True

    def lessThan(self, left: QModelIndex | QPersistentModelIndex,
                 right: QModelIndex | QPersistentModelIndex) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        try:
            if a == b:  # stable tie-break by name
                return str(left.siblingAtColumn(1).data()) > str(right.siblingAtColumn(1).data())
            return a < b
        except TypeError:
            return str(a) < str(b)
