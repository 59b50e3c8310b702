"""Workers: results come back on the GUI thread; cancellation; the case thread."""

from __future__ import annotations

import threading
import time

from triage_app.gui.workers import CaseService, GeneratorWorker, run_task, tasks_running


def test_run_task_delivers_on_gui_thread(qtbot):
    gui = threading.get_ident()
    got = {}

    def work(x):
        got["thread"] = threading.get_ident()
        return x * 2

    run_task(work, 21, on_result=lambda v: got.update(value=v, cb=threading.get_ident()))
    qtbot.waitUntil(lambda: "value" in got, timeout=5000)
    assert got["value"] == 42 and got["cb"] == gui and got["thread"] != gui
    errors = []
    run_task(lambda: 1 / 0, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert "ZeroDivisionError" in errors[0]
    qtbot.waitUntil(lambda: tasks_running() == 0, timeout=5000)


def test_generator_worker_cancels_cleanly(qtbot):
    def slow_gen(cancel):
        for i in range(1000):
            if cancel.is_set():  # a generator that finishes its item, then stops
                yield ("stopped", i)
                return
            time.sleep(0.005)
            yield ("item", i)

    w = GeneratorWorker(slow_gen)
    seen = []
    w.yielded.connect(lambda v: (seen.append(v), len(seen) == 5 and w.cancel()))
    with qtbot.waitSignal(w.completed, timeout=10000) as done:
        w.start()
    w.wait(2000)
    assert done.args == [False]
    assert seen[-1][0] == "stopped" and len(seen) < 100


def test_generator_worker_reports_failure(qtbot):
    def bad(cancel):
        yield 1
        raise OSError("disk gone")

    w = GeneratorWorker(bad)
    failures = []
    w.failed.connect(failures.append)
    with qtbot.waitSignal(w.completed, timeout=5000) as done:
        w.start()
    w.wait(2000)
    assert done.args == [False] and failures == ["disk gone"]


def test_case_service_runs_jobs_in_order_on_its_thread(qtbot, tmp_path):
    svc = CaseService()
    gui = threading.get_ident()
    out = []
    info = {}
    svc.open(tmp_path / "C.triage", create_examiner="Ann", on_result=info.update)
    for i in range(5):
        svc.submit(lambda case, i=i: (i, threading.get_ident(), case.examiner),
                   lambda v: out.append(v))
    errors = []
    svc.submit(lambda case: case.item("0" * 64), on_error=errors.append)
    qtbot.waitUntil(lambda: svc.idle, timeout=10000)
    assert info["examiner"] == "Ann" and svc.is_open
    assert [v[0] for v in out] == [0, 1, 2, 3, 4]
    assert all(v[1] != gui and v[2] == "Ann" for v in out)
    assert len({v[1] for v in out}) == 1  # one thread owns the case
    assert errors and errors[0]
    svc.shutdown()
    assert not svc._thread.is_alive()
