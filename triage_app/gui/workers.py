"""Run work off the GUI thread and hand results back through Qt signals.

Three tools, all of which deliver their results on the GUI thread:

- :func:`run_task` -- run one function in a thread pool (decode an image, compute a
  spectrogram, check a rationale); ``on_result(value)`` or ``on_error(message)`` is called on the
  GUI thread when it ends.
- :class:`GeneratorWorker` -- iterate a generator in its own ``QThread`` (a scan, a stream of
  video frames) and emit every item it yields; ``cancel()`` sets a ``threading.Event`` that
  the generator is given (the scan stops cleanly after its in-flight items), and stops
  iterating generators that take no event.
- :class:`CaseService` -- one thread that owns the open :class:`~triage_app.case.store.Case`
  (SQLite connections belong to the thread that made them) and runs case reads and writes
  one after another, so that a slow disk or a busy database never stalls the window.

Nothing here knows what the work is; the analysis code knows nothing of Qt (napari's
``_qt/qthreading.py`` is the model).
"""

from __future__ import annotations

import logging
import queue
import threading
import traceback
from pathlib import Path
from typing import Any, Callable, Iterator

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot

log = logging.getLogger(__name__)

Callback = Callable[[Any], None] | None


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if isinstance(exc, (OSError, ValueError)) else f"{type(exc).__name__}: {text}"


# --------------------------------------------------------------------------- one function


class _TaskSignals(QObject):
    finished = Signal(object)
    failed = Signal(str)


_ACTIVE: set["FunctionTask"] = set()
_POOLS: dict[str, QThreadPool] = {}
#: threads per pool: "view" decodes what the analyst is looking at, "background" makes
#: thumbnails, so that a thousand thumbnails never queue ahead of the item on screen
POOL_THREADS = {"view": 2, "background": 1}


def pool(name: str = "view") -> QThreadPool:
    if name not in _POOLS:
        p = QThreadPool()
        p.setMaxThreadCount(POOL_THREADS[name])
        _POOLS[name] = p
    return _POOLS[name]


class FunctionTask(QRunnable):
    """Call ``fn(*args, **kwargs)`` in a pool thread; emit ``finished(value)`` or
    ``failed(message)``."""

    def __init__(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.fn, self.args, self.kwargs = fn, args, kwargs
        self.signals = _TaskSignals()  # made on the GUI thread: its slots run there

    def run(self) -> None:  # pool thread
        try:
            value = self.fn(*self.args, **self.kwargs)
        except BaseException as exc:  # noqa: BLE001 -- every failure reaches the user
            log.debug("task %s failed:\n%s", getattr(self.fn, "__name__", self.fn),
                      traceback.format_exc())
            self.signals.failed.emit(_describe(exc))
        else:
            self.signals.finished.emit(value)


def run_task(fn: Callable[..., Any], *args: Any, on_result: Callback = None,
             on_error: Callback = None, background: bool = False,
             **kwargs: Any) -> FunctionTask:
    """Run ``fn`` off the GUI thread; the callbacks run on the GUI thread. ``background``
    tasks (thumbnails) use their own pool and never delay the item on screen."""
    task = FunctionTask(fn, *args, **kwargs)
    _ACTIVE.add(task)

    def done(value: Any) -> None:
        _ACTIVE.discard(task)
        if on_result is not None:
            on_result(value)

    def failed(message: str) -> None:
        _ACTIVE.discard(task)
        if on_error is not None:
            on_error(message)
        elif on_error is None:
            log.warning("background task failed: %s", message)

    task.signals.finished.connect(done)
    task.signals.failed.connect(failed)
    pool("background" if background else "view").start(task)
    return task


def tasks_running() -> int:
    """How many :func:`run_task` tasks have not delivered their result yet."""
    return len(_ACTIVE)


# --------------------------------------------------------------------------- a generator


class GeneratorWorker(QThread):
    """Iterate ``factory(cancel_event)`` in a thread and emit what it yields.

    ``factory`` receives the :class:`threading.Event` that :meth:`cancel` sets, so a generator
    that supports clean cancellation (``scan(..., cancel=event)``) keeps going until it has
    finished its in-flight items. With ``hard_cancel=True`` iteration stops at the next item.
    """

    yielded = Signal(object)
    failed = Signal(str)
    completed = Signal(bool)  # True when it ran to its end, False when cancelled or failed

    def __init__(self, factory: Callable[[threading.Event], Iterator[Any]], *,
                 hard_cancel: bool = False, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.factory = factory
        self.cancel_event = threading.Event()
        self.hard_cancel = hard_cancel

    def cancel(self) -> None:
        self.cancel_event.set()

    def run(self) -> None:  # worker thread
        ok = True
        gen = None
        try:
            gen = self.factory(self.cancel_event)
            for item in gen:
                self.yielded.emit(item)
                if self.hard_cancel and self.cancel_event.is_set():
                    ok = False
                    break
        except BaseException as exc:  # noqa: BLE001
            log.debug("generator failed:\n%s", traceback.format_exc())
            self.failed.emit(_describe(exc))
            ok = False
        finally:
            if gen is not None and hasattr(gen, "close"):
                try:
                    gen.close()
                except Exception:  # noqa: BLE001
                    pass
        self.completed.emit(ok and not self.cancel_event.is_set())


# --------------------------------------------------------------------------- the case


class _Bridge(QObject):
    delivered = Signal(object)


class CaseService(QObject):
    """Owns one open case in its own thread; :meth:`submit` runs ``fn(case)`` there.

    Jobs run in the order they were submitted. Results come back on the GUI thread through
    ``on_result(value)`` / ``on_error(message)``. ``busy_changed(bool)`` tells the window when
    work is pending.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._queue: "queue.Queue[Any]" = queue.Queue()
        self._bridge = _Bridge()
        self._bridge.delivered.connect(self._deliver)
        self._pending = 0
        self._case: Any = None
        self.path: Path | None = None
        self._thread = threading.Thread(target=self._loop, name="case-service", daemon=True)
        self._thread.start()

    # -- thread side
    def _loop(self) -> None:
        while True:
            job = self._queue.get()
            if job is None:
                break
            fn, on_result, on_error = job
            try:
                value = fn(self._case)
            except BaseException as exc:  # noqa: BLE001
                log.debug("case job failed:\n%s", traceback.format_exc())
                self._bridge.delivered.emit((on_error, _describe(exc), True))
            else:
                self._bridge.delivered.emit((on_result, value, False))
        if self._case is not None:
            try:
                self._case.close()
            except Exception:  # noqa: BLE001
                pass
            self._case = None

    # -- GUI side
    @Slot(object)
    def _deliver(self, packet: tuple[Callback, Any, bool]) -> None:
        callback, value, is_error = packet
        self._pending -= 1
        try:
            if callback is not None:
                callback(value)
            elif is_error:
                log.warning("case operation failed: %s", value)
        finally:
            if self._pending == 0:
                self.busy_changed.emit(False)

    @property
    def idle(self) -> bool:
        return self._pending == 0

    @property
    def is_open(self) -> bool:
        return self.path is not None

    def submit(self, fn: Callable[[Any], Any], on_result: Callback = None,
               on_error: Callback = None) -> None:
        """Run ``fn(case)`` on the case thread (``case`` is None when no case is open)."""
        if self._pending == 0:
            self.busy_changed.emit(True)
        self._pending += 1
        self._queue.put((fn, on_result, on_error))

    def open(self, path: str | Path, *, create_examiner: str | None = None,
             title: str | None = None, on_result: Callback = None,
             on_error: Callback = None) -> None:
        """Open (or, with ``create_examiner``, create) the case at ``path`` on the case thread.

        ``on_result`` receives a dict with ``path``, ``title``, ``examiner``, ``case_id``.
        """
        target = Path(path)

        def job(_: Any) -> dict[str, Any]:
            from triage_app.case.store import Case

            if self._case is not None:
                self._case.close()
                self._case = None
            if create_examiner is not None:
                case = Case.create(target, examiner=create_examiner, title=title)
            else:
                case = Case.open(target)
            self._case = case
            return {"path": str(case.path), "title": case.title,
                    "examiner": case.examiner, "case_id": case.case_id}

        def opened(info: dict[str, Any]) -> None:
            self.path = Path(info["path"])
            if on_result is not None:
                on_result(info)

        self.submit(job, opened, on_error)

    def close_case(self, on_result: Callback = None) -> None:
        self.path = None

        def job(_: Any) -> None:
            if self._case is not None:
                self._case.close()
                self._case = None

        self.submit(job, on_result)

    def shutdown(self, timeout: float = 5.0) -> None:
        """Close the case and stop the thread (waits at most ``timeout`` seconds)."""
        self.path = None
        self._queue.put(None)
        self._thread.join(timeout)


# --------------------------------------------------------------------------- garbage collection


class GarbageCollector(QObject):
    """Run Python's cyclic garbage collector on the GUI thread only.

    Automatic collection can start in any thread; when it frees a cycle that holds a Qt object
    (a widget captured by a lambda...) in a worker thread, Qt destroys that object off its
    thread and may crash. This disables automatic collection and collects from a timer on the
    GUI thread instead, by the same thresholds (pyqtgraph's GarbageCollector does the same).
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = 500) -> None:
        import gc

        from PySide6.QtCore import QTimer

        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self.threshold = gc.get_threshold()
        gc.disable()
        gc.collect()
        gc.freeze()  # what exists at start-up (modules, classes) is never scanned again
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        import gc

        l0, l1, l2 = gc.get_count()
        if l0 > self.threshold[0]:
            gen = 0
            if l1 > self.threshold[1]:
                gen = 1
                if l2 > self.threshold[2]:
                    gen = 2
            gc.collect(gen)

    def stop(self) -> None:
        import gc

        self.timer.stop()
        gc.unfreeze()
        if self._was_enabled:
            gc.enable()
