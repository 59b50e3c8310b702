"""Batch scanning: walk folders, take files in, analyse them in worker processes, store.

:func:`scan` is a generator of :class:`ScanEvent`; the CLI prints the events with a progress
bar, the GUI runs the same generator in a worker thread. Per file:

1. intake in this process (hash while copying into the case's vault, custody entry), so that
   what is analysed is the read-only copy, byte for byte what was handed in;
2. analysis of the vault copy in a worker *process* with a time limit: a file that hangs or
   crashes a decoder kills only its worker, which is replaced, and fails alone;
3. the result is committed to the case at once, in one transaction.

Killed at any moment, a re-run of the same command skips what was committed and finishes the
rest (items with an analysis are not analysed again unless ``reanalyze``).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

import numpy as np

from triage_app.case.vault import VaultError
from triage_app.media import MEDIA_EXTENSIONS, sniff
from triage_app.settings import Settings
from triage_app.threads import limit_numeric_threads

EventKind = Literal["start", "skipped", "taken_in", "analyzed", "error", "done"]

#: Per-detector maps are stored at most this size on their longest side (the fused map is kept
#: at full size): they are overlays for the viewer, and full-size copies of a dozen maps of a
#: 24-megapixel photo would make the case huge.
DETECTOR_MAP_MAX_SIDE = 1024


@dataclass
class ScanEvent:
    kind: EventKind
    path: str | None = None
    sha256: str | None = None
    done: int = 0
    total: int = 0
    skipped_non_media: int = 0
    errors: int = 0
    elapsed: float = 0.0
    eta: float | None = None
    message: str | None = None
    verdict: str | None = None
    probability: float | None = None
    cancelled: bool = False
    outcome: Any = field(default=None, repr=False)  # AnalyzeOutcome on "analyzed"/"error"

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in (
            "kind", "path", "sha256", "done", "total", "skipped_non_media", "errors",
            "elapsed", "eta", "message", "verdict", "probability", "cancelled")}


# --------------------------------------------------------------------------- walking


@dataclass
class WalkResult:
    candidates: list[str]
    skipped_non_media: list[str]
    problems: list[tuple[str, str]]  # (path, message) for paths that cannot be walked


def _login_name() -> str:
    """Who runs the scan, when no examiner is set: the login name (USER is often unset under
    sudo or in a service), never a made-up placeholder."""
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001  (no passwd entry, no environment)
        return "unknown-examiner"


def looks_like_media(path: str) -> bool:
    """True when the content sniffs as media, or the name claims a media extension (then a
    content that is not media becomes a clear per-file error rather than a silent skip)."""
    if Path(path).suffix.lower() in MEDIA_EXTENSIONS:
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
    except OSError:
        return True  # unreadable: report it rather than skip it silently
    return sniff(head) is not None


def walk(paths: Iterable[str | os.PathLike[str]], *, recursive: bool,
         exclude: Iterable[str | os.PathLike[str]] = ()) -> WalkResult:
    """Expand files and folders into candidate media files, in a stable order.

    Symbolic links to folders are not followed (so a link loop cannot trap the walk); links to
    files are taken. Unreadable folders are reported, not fatal. Folders in ``exclude`` (the
    case being scanned into, when it lies inside a scanned folder) are not entered: a case
    would otherwise take its own evidence copies in again.
    """
    excluded = {os.path.realpath(os.fspath(e)) for e in exclude}
    candidates: list[str] = []
    skipped: list[str] = []
    problems: list[tuple[str, str]] = []
    seen: set[str] = set()

    def consider(fp: str) -> None:
        if fp in seen:
            return
        seen.add(fp)
        if looks_like_media(fp):
            candidates.append(fp)
        else:
            skipped.append(fp)

    for raw in paths:
        p = os.fspath(raw)
        if os.path.isdir(p):
            def onerror(err: OSError) -> None:
                problems.append((err.filename or p, f"cannot list folder: {err.strerror}"))

            if os.path.realpath(p) in excluded:
                continue
            for root, dirs, files in os.walk(p, onerror=onerror, followlinks=False):
                dirs[:] = sorted(d for d in dirs
                                 if os.path.realpath(os.path.join(root, d)) not in excluded)
                for name in sorted(files):
                    fp = os.path.join(root, name)
                    if os.path.islink(fp) and os.path.isdir(fp):
                        continue
                    consider(fp)
                if not recursive:
                    dirs.clear()
        elif os.path.lexists(p):
            consider(p)
        else:
            problems.append((p, "no such file or folder"))
    return WalkResult(candidates, skipped, problems)


# --------------------------------------------------------------------------- workers


def _shrink(map_u8: np.ndarray, max_side: int) -> np.ndarray:
    h, w = map_u8.shape[:2]
    if max(h, w) <= max_side:
        return map_u8
    from PIL import Image

    scale = max_side / max(h, w)
    img = Image.fromarray(map_u8).resize((max(1, round(w * scale)), max(1, round(h * scale))),
                                         Image.BILINEAR)
    return np.asarray(img)


def _worker_main(conn: Connection, settings: Settings) -> None:
    """Worker process: receive (task_id, path, sha256) and send back (task_id, outcome)."""
    os.environ["TRIAGE_SCAN_WORKER"] = "1"  # one detector at a time: see triage_app.threads
    limit_numeric_threads(1)
    from triage_app.case.store import encode_map
    from triage_app.pipeline import analyze_path

    # Detectors are imported once per worker, not per file.
    from detectors.registry import all_detectors
    all_detectors()
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        task_id, path, sha256 = msg
        outcome = analyze_path(path, settings=settings, sha256=sha256)
        if outcome.analysis is not None:
            outcome.analysis.fused_map = None
            for r in outcome.analysis.detectors:
                r.heatmap = None
                for f in r.findings:
                    f.heatmap = None
        # PNG-encoded here, in parallel, rather than in the one scanning process.
        outcome.encoded_maps = {
            k: encode_map(v if k == "fused" else _shrink(v, DETECTOR_MAP_MAX_SIDE))
            for k, v in outcome.maps.items()}
        outcome.maps = {}
        conn.send((task_id, outcome))


#: Tasks handed to one worker at a time: the one it runs and one waiting in its pipe, so that
#: the worker starts the next file while this process stores the last result and takes the next
#: file in (with one task per worker, the worker sat idle during both).
TASKS_PER_WORKER = 2

Task = tuple[int, str, str, str]  # id, sha256, vault path, path as given


class _Worker:
    def __init__(self, ctx: Any, settings: Settings) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child, settings), daemon=True)
        self.proc.start()
        child.close()
        self.tasks: deque[Task] = deque()  # in the order the worker runs them
        self.started = 0.0                 # when the worker began tasks[0]

    @property
    def task(self) -> Task | None:
        """The task the worker is running now (the head of its queue)."""
        return self.tasks[0] if self.tasks else None

    def submit(self, task: Task) -> bool:
        """Queue ``task`` on this worker; False (and nothing queued) when it has died."""
        if not self.proc.is_alive():
            return False
        try:
            self.conn.send((task[0], task[2], task[1]))  # id, vault path, sha256 from intake
        except OSError:  # died just now
            return False
        if not self.tasks:
            self.started = time.monotonic()
        self.tasks.append(task)
        return True

    def done(self) -> Task:
        """The running task finished: the next one queued starts now."""
        task = self.tasks.popleft()
        self.started = time.monotonic()
        return task

    def kill(self) -> None:
        try:
            self.proc.kill()
        finally:
            self.proc.join(5)
            self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except OSError:
            pass
        self.proc.join(5)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join(5)
        self.conn.close()


# --------------------------------------------------------------------------- scanning


def _stored_outcome(case: Any, sha256: str, path: str) -> Any:
    """The outcome of an earlier run, as stored in the case (for ``skipped`` events)."""
    from triage_app.pipeline import AnalyzeOutcome

    analysis = case.latest_analysis(sha256)
    if analysis is None:
        item = case.item(sha256)
        return AnalyzeOutcome(path, sha256, None, None, error=item.get("error"))
    return AnalyzeOutcome(path, sha256, analysis.media, analysis)


def scan(paths: Iterable[str | os.PathLike[str]], case_path: str | os.PathLike[str], *,
         recursive: bool = False, workers: int = 1, settings: Settings | None = None,
         cancel: threading.Event | None = None, reanalyze: bool = False,
         examiner: str | None = None) -> Iterator[ScanEvent]:
    """Take in and analyse ``paths`` into the case at ``case_path`` (created if absent).

    Yields a ``start`` event with the totals, then per file ``taken_in`` and ``analyzed`` (or
    ``error``, or ``skipped`` when it was analysed in an earlier run), and a final ``done``.
    Setting ``cancel`` stops taking new files; items in flight finish and are stored.
    """
    from triage_app.case.store import Case

    settings = settings or Settings()
    workers = max(1, int(workers))
    t0 = time.monotonic()
    case = Case.open_or_create(case_path, examiner=examiner or settings.examiner
                               or _login_name())
    walked = walk(paths, recursive=recursive, exclude=[case.path])
    total = len(walked.candidates)
    state = {"done": 0, "errors": 0}

    def event(kind: EventKind, **kw: Any) -> ScanEvent:
        done = state["done"]
        elapsed = time.monotonic() - t0
        eta = (elapsed / done * (total - done)) if done else None
        return ScanEvent(kind=kind, done=done, total=total,
                         skipped_non_media=len(walked.skipped_non_media), errors=state["errors"],
                         elapsed=round(elapsed, 3), eta=None if eta is None else round(eta, 1),
                         **kw)

    yield event("start", message=f"{total} media file(s) to take in; "
                                 f"{len(walked.skipped_non_media)} not media, skipped")
    for path, message in walked.problems:
        state["errors"] += 1
        case.record_intake_error(path, message)
        yield event("error", path=path, message=message)

    ctx = mp.get_context("spawn")
    pool: list[_Worker] = []
    pending: deque[Task] = deque()
    next_id = 0
    cancelled = False
    candidates = iter(walked.candidates)
    exhausted = False

    def finish(task: Task, outcome: Any) -> ScanEvent:
        _, sha, _, given = task
        outcome.path = given
        state["done"] += 1
        media = outcome.media or {}
        case.record_probe(sha, kind=media.get("kind"), format=media.get("format"),
                          summary=outcome.media, error=None if outcome.media else outcome.error)
        if outcome.error:
            state["errors"] += 1
            case.record_analysis(sha, None, error=outcome.error)
            return event("error", path=given, sha256=sha, message=outcome.error, outcome=outcome)
        case.record_analysis(sha, outcome.analysis, maps=outcome.maps,
                             encoded_maps=outcome.encoded_maps)
        v = outcome.analysis.verdict
        return event("analyzed", path=given, sha256=sha, verdict=v.label,
                     probability=v.probability, outcome=outcome)

    def fail(task: Task, message: str) -> ScanEvent:
        from triage_app.pipeline import AnalyzeOutcome

        _, sha, _, given = task
        return finish(task, AnalyzeOutcome(given, sha, None, None, error=message))

    try:
        while True:
            if cancel is not None and cancel.is_set() and not cancelled:
                cancelled = True
            # Take files in until every worker has work queued behind it.
            capacity = workers * TASKS_PER_WORKER
            in_flight = sum(len(w.tasks) for w in pool)
            while (not cancelled and not exhausted
                   and len(pending) + in_flight < capacity and len(pending) < workers):
                path = next(candidates, None)
                if path is None:
                    exhausted = True
                    break
                try:
                    item = case.add_evidence(path, actor=None)
                except (OSError, VaultError) as exc:
                    # an unreadable file, or a case copy that no longer matches its name (a
                    # damaged vault: verify says more): that file fails, the batch goes on
                    state["done"] += 1
                    state["errors"] += 1
                    msg = (f"cannot read file: {exc.strerror or exc}" if isinstance(exc, OSError)
                           else f"cannot take in: {exc}")
                    case.record_intake_error(path, msg)
                    yield event("error", path=path, message=msg)
                    continue
                yield event("taken_in", path=path, sha256=item.sha256,
                            message="already in the case" if item.already_present else None)
                # an item whose earlier analysis failed (a timeout, a crash) is tried again
                if not reanalyze and case.has_analysis(item.sha256, ok_only=True):
                    state["done"] += 1
                    yield event("skipped", path=path, sha256=item.sha256,
                                message="already analysed in this case",
                                outcome=_stored_outcome(case, item.sha256, path))
                    continue
                pending.append((next_id, item.sha256, str(item.vault_path), path))
                next_id += 1
                if cancel is not None and cancel.is_set():
                    cancelled = True
            if cancelled:
                pending.clear()  # taken in but not started: a re-run analyses them
            # Hand pending tasks to workers with room in their queue (the emptiest first),
            # starting workers as needed.
            while pending:
                if len(pool) < workers and all(w.tasks for w in pool):
                    pool.append(_Worker(ctx, settings))
                room = [w for w in pool if len(w.tasks) < TASKS_PER_WORKER]
                if not room:
                    break
                target = min(room, key=lambda w: len(w.tasks))
                task = pending.popleft()
                if not target.submit(task):
                    pending.appendleft(task)
                    if not target.tasks:  # died between files (its last result was read)
                        target.kill()
                        pool.remove(target)
                    else:  # its sentinel fires below and fails the file it was running
                        break
            busy = [w for w in pool if w.tasks]
            if not busy:
                if pending:
                    continue
                if exhausted or cancelled:
                    break
                continue
            timeout = min(max(0.0, w.started + settings.per_file_timeout - time.monotonic())
                          for w in busy)
            ready = wait([w.conn for w in busy] + [w.proc.sentinel for w in busy],
                         timeout=min(timeout, 0.25))
            for w in list(busy):
                task = w.task
                assert task is not None
                if w.conn in ready:
                    try:
                        _, outcome = w.conn.recv()
                    except (EOFError, OSError):
                        outcome = None
                    if outcome is not None:
                        w.done()
                        if cancelled and w.tasks:
                            # The worker has started a file queued behind this one; on cancel
                            # that file is dropped (it stays taken in, without an analysis),
                            # so that cancelling waits for one file per worker, not two.
                            w.kill()
                            pool.remove(w)
                        yield finish(task, outcome)
                        continue
                if w.conn in ready or w.proc.sentinel in ready:
                    code = w.proc.exitcode
                    w.kill()
                    pool.remove(w)
                    pending.extendleft(reversed(list(w.tasks)[1:]))  # queued, never started
                    yield fail(task, f"the decoder or a detector crashed while analysing this "
                                     f"file (worker exit code {code}); nothing else was affected")
                elif time.monotonic() - w.started > settings.per_file_timeout:
                    w.kill()
                    pool.remove(w)
                    pending.extendleft(reversed(list(w.tasks)[1:]))
                    yield fail(task, f"analysis took longer than the limit of "
                                     f"{settings.per_file_timeout:g} s and was stopped")
    finally:
        for w in pool:
            if w.task is None:
                w.stop()
            else:
                w.kill()
        case.close()
    yield event("done", cancelled=cancelled,
                message=("cancelled: " if cancelled else "") +
                        f"{state['done']} of {total} file(s) done, {state['errors']} error(s), "
                        f"{len(walked.skipped_non_media)} not media")
