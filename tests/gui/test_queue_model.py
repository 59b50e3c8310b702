"""The queue model and its sort/filter proxy, on plain row dicts as Case.items() returns them."""

from __future__ import annotations

from PySide6.QtCore import Qt

from triage_app.gui.queue_model import COLUMNS, QueueFilterProxy, QueueModel


def row(sha, name, kind="image", label=None, prob=None, error=None, decision=None):
    return {"sha256": sha, "name": name, "kind": kind,
            "verdict": None if label is None else {"label": label, "probability": prob},
            "error": error, "decision": None if decision is None else {"label": decision}}


def names(proxy):
    return [proxy.index(r, 1).data() for r in range(proxy.rowCount())]


def test_suspicion_order_then_errors_then_pending(qtbot):
    model = QueueModel()
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    model.set_rows([row("a", "low", label="likely_authentic", prob=0.1),
                    row("b", "pending"),
                    row("c", "high", label="likely_manipulated", prob=0.95),
                    row("d", "broken", error="truncated"),
                    row("e", "mid", label="inconclusive", prob=0.5)])
    assert names(proxy) == ["high", "mid", "low", "broken", "pending"]
    # a row that changes moves: the pending item is analysed as highly suspicious
    model.update_row(row("b", "pending", label="likely_manipulated", prob=0.99))
    assert names(proxy)[0] == "pending"
    # a new row is inserted in its place
    model.update_row(row("f", "new", label="inconclusive", prob=0.6))
    assert names(proxy)[:3] == ["pending", "high", "new"]
    assert proxy.index(0, COLUMNS.index("probability")).data() == "0.99"
    assert proxy.index(0, COLUMNS.index("verdict")).data() == "Likely manipulated"
    status = [proxy.index(r, COLUMNS.index("status")).data() for r in range(proxy.rowCount())]
    assert status.count("error") == 1


def test_filters_and_search(qtbot):
    model = QueueModel()
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    model.set_rows([row("a1", "cat.jpg", label="likely_manipulated", prob=0.9),
                    row("b2", "voice.wav", kind="audio", label="likely_authentic", prob=0.1,
                        decision="manipulated"),
                    row("c3", "clip.mp4", kind="video", error="no frames"),
                    row("d4", "dog.png", label="inconclusive", prob=0.5, decision="authentic")])
    proxy.set_mode("undecided")
    assert sorted(names(proxy)) == ["cat.jpg", "clip.mp4"]
    proxy.set_mode("manipulated")  # by the verdict or by the examiner's decision
    assert sorted(names(proxy)) == ["cat.jpg", "voice.wav"]
    proxy.set_mode("errors")
    assert names(proxy) == ["clip.mp4"]
    proxy.set_mode("all")
    proxy.set_modality("audio")
    assert names(proxy) == ["voice.wav"]
    proxy.set_modality("")
    proxy.set_search("C3")  # by hash, case-insensitive
    assert names(proxy) == ["clip.mp4"]
    proxy.set_search("")
    assert proxy.rowCount() == 4
    import pytest

    with pytest.raises(ValueError, match="mode"):
        proxy.set_mode("everything")


def test_user_sort_by_name(qtbot):
    model = QueueModel()
    proxy = QueueFilterProxy()
    proxy.setSourceModel(model)
    model.set_rows([row("a", "b.png", label="likely_authentic", prob=0.2),
                    row("b", "A.png", label="likely_authentic", prob=0.3)])
    proxy.sort(COLUMNS.index("name"), Qt.SortOrder.AscendingOrder)
    assert names(proxy) == ["A.png", "b.png"]
