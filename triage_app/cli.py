"""The ``triage`` command: a thin face over the library (DESIGN.md, "Command line").

Each command calls one library function; library errors become one clear line on stderr.
Exit status: 0 success; 1 the command ran but found a problem (verification failed, some
items could not be read); 2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Sequence

from triage_app import __version__

EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    pass


def _print(text: str = "", *, file: Any = None) -> None:
    """Print without dying on names that are not valid UTF-8 (surrogate-escaped bytes): their
    bytes are shown as ``\\xNN``, as the case records them."""
    from triage_app.case.vault import path_text

    out = file or sys.stdout
    text = path_text(text)
    try:
        print(text, file=out)
    except UnicodeEncodeError:
        enc = getattr(out, "encoding", None) or "utf-8"
        print(text.encode(enc, "backslashreplace").decode(enc), file=out)


def _json_line(obj: Any) -> None:
    # ensure_ascii keeps non-UTF-8 file names (surrogate escapes) printable as \udcXX.
    _print(json.dumps(obj, ensure_ascii=True, sort_keys=False, default=str))


def _settings(args: argparse.Namespace) -> Any:
    from triage_app.settings import load_settings

    named = getattr(args, "settings", None)
    s = load_settings(named, must_exist=bool(named))
    if getattr(args, "timeout", None):
        s.per_file_timeout = float(args.timeout)
    return s


def _fmt_prob(p: float | None) -> str:
    return "  -  " if p is None else f"{p:5.2f}"


# --------------------------------------------------------------------------- commands


def cmd_gui(args: argparse.Namespace) -> int:
    from triage_app.gui.app import main as gui_main

    return gui_main(args.case)


def cmd_analyze(args: argparse.Namespace) -> int:
    from triage_app.pipeline import analyze_path

    settings = _settings(args)
    maps_dir = Path(args.maps) if args.maps else None
    if maps_dir:
        if maps_dir.exists() and not maps_dir.is_dir():
            raise UsageError(f"--maps {args.maps}: is a file; give a folder for the maps")
        try:
            maps_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(f"--maps {args.maps}: cannot create the folder "
                             f"({exc.strerror or exc})") from None
    status = EXIT_OK
    for path in args.files:
        outcome = analyze_path(path, settings=settings)
        map_path = None
        if maps_dir and "fused" in outcome.maps and outcome.sha256:
            from PIL import Image

            map_path = str(maps_dir / f"{Path(path).stem}.{outcome.sha256[:12]}.map.png")
            Image.fromarray(outcome.maps["fused"]).save(map_path)
        if outcome.error:
            status = EXIT_PROBLEM
        if args.json:
            _json_line(outcome.to_json(map_path=map_path))
        else:
            _print_outcome(outcome, map_path)
    return status


def _print_outcome(outcome: Any, map_path: str | None) -> None:
    _print(f"{outcome.path}")
    if outcome.sha256:
        _print(f"  sha256   {outcome.sha256}")
    if outcome.error:
        _print(f"  ERROR    {outcome.error}")
        return
    a = outcome.analysis
    m = a.media
    _print(f"  media    {m.get('kind')} {m.get('format')} "
           + " ".join(f"{k}={m[k]}" for k in ("width", "height", "duration", "sample_rate")
                      if m.get(k) is not None))
    for note in m.get("notes") or []:
        _print(f"  note     {note}")
    _print(f"  verdict  {a.verdict.label}  p={_fmt_prob(a.verdict.probability)}")
    from triage_app.segments import describe as describe_segments

    for d in a.detectors:
        # a long recording: which segment gave the score
        extra = "; ".join(t for t in (d.reason, describe_segments(d.extras)) if t)
        _print(f"    {d.name:<28} {d.status:<15} {_fmt_prob(d.score)}  {extra}")
    for c in a.claims:
        _print(f"  [{c.status}] {c.text}")
    if map_path:
        _print(f"  map      {map_path}")


def cmd_scan(args: argparse.Namespace) -> int:
    from triage_app.scan import scan

    settings = _settings(args)
    cancel = threading.Event()
    problems = 0
    progress = _Progress(enabled=not args.json and not args.quiet)
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers {args.workers}: needs at least 1")
    if args.timeout is not None and args.timeout <= 0:
        raise UsageError(f"--timeout {args.timeout:g}: needs a positive number of seconds")
    case_dir = Path(args.case)
    if any(Path(p).resolve() == case_dir.resolve() for p in args.paths):
        raise UsageError(f"--case {args.case} is also a folder to scan: a case is not scanned "
                         f"into itself; give another folder for the case")
    from triage_app.case.store import NotACaseFolderError

    try:
        for ev in scan(args.paths, args.case, recursive=args.recursive,
                       workers=args.workers or settings.workers, settings=settings,
                       cancel=cancel, reanalyze=args.reanalyze, examiner=args.examiner):
            if ev.kind == "error":
                problems += 1
            if args.json and ev.kind in ("analyzed", "error", "skipped"):
                if ev.outcome is not None:
                    obj = ev.outcome.to_json()
                else:
                    obj = {"path": ev.path, "sha256": ev.sha256, "tool_version": __version__,
                           "media": None, "verdict": None,
                           "detectors": [], "findings": [], "claims": [], "map": None,
                           "error": ev.message if ev.kind == "error" else None}
                obj["event"] = ev.kind
                _json_line(obj)
            progress.update(ev)
    except NotACaseFolderError as exc:  # raised before anything is taken in
        raise UsageError(f"--case {args.case}: {exc}") from None
    except KeyboardInterrupt:
        cancel.set()
        _print("interrupted: committed items are kept; run the same command to resume",
               file=sys.stderr)
        return EXIT_PROBLEM
    return EXIT_PROBLEM if problems else EXIT_OK


class _Progress:
    """A one-line progress bar with ETA on stderr, and per-file lines for errors."""

    def __init__(self, *, enabled: bool) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()

    def update(self, ev: Any) -> None:
        if not self.enabled:
            return
        if ev.kind == "start":
            _print(ev.message or "", file=sys.stderr)
            return
        if ev.kind == "error":
            self._clear()
            _print(f"ERROR {ev.path}: {ev.message}", file=sys.stderr)
        elif ev.kind == "analyzed" and not self.tty:
            _print(f"{ev.done}/{ev.total} {ev.verdict:<18} {_fmt_prob(ev.probability)} {ev.path}",
                   file=sys.stderr)
        if ev.kind == "done":
            self._clear()
            _print(ev.message or "", file=sys.stderr)
            return
        if self.tty and ev.total:
            width = 30
            filled = int(width * ev.done / ev.total)
            eta = f" ETA {ev.eta:.0f}s" if ev.eta is not None else ""
            name = os.path.basename(ev.path or "")[-40:]
            sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {ev.done}/{ev.total}"
                             f" errors {ev.errors}{eta}  {name:<40}")
            sys.stderr.flush()

    def _clear(self) -> None:
        if self.tty:
            sys.stderr.write("\r" + " " * 100 + "\r")


def cmd_show(args: argparse.Namespace) -> int:
    case = _open_case(args.case, read_only_ok=True)
    try:
        items = case.items()
        if args.json:
            _json_line({"case": str(case.path), "case_id": case.case_id,
                        "examiner": case.examiner, "items": items,
                        "intake_errors": case.intake_errors()})
            return EXIT_OK
        _print(f"case {case.path}  ({len(items)} item(s), examiner {case.examiner})")
        for it in items:
            verdict = it.get("verdict") or {}
            decision = it.get("decision") or {}
            _print(f"  {it['sha256'][:16]}  {str(it.get('kind') or '?'):<6} "
                   f"{verdict.get('label') or ('error' if it.get('error') else '-'):<19} "
                   f"{_fmt_prob(verdict.get('probability'))}  "
                   f"{decision.get('label') or '':<12} {it.get('name')}")
            if it.get("error"):
                _print(f"      error: {it['error']}")
        for e in case.intake_errors():
            _print(f"  intake error  {e['path']}: {e['message']}")
        return EXIT_OK
    finally:
        case.close()


def _open_case(path: str, *, read_only_ok: bool = False) -> Any:
    """Open a case; with ``read_only_ok`` (show, verify), a case on write-protected storage
    is opened read-only instead of failing."""
    import sqlite3

    from triage_app.case.store import Case

    if not Path(path).exists():
        raise UsageError(f"{path}: no such case folder")
    if not (Path(path) / "case.db").is_file():
        raise UsageError(f"{path} is not a case folder (no case.db)")
    if read_only_ok and not (os.access(path, os.W_OK) and os.access(Path(path) / "case.db", os.W_OK)):
        return Case.open(path, read_only=True)
    try:
        return Case.open(path)
    except sqlite3.OperationalError:
        if not read_only_ok:
            raise
        return Case.open(path, read_only=True)


def cmd_verify(args: argparse.Namespace) -> int:
    target = Path(args.target)
    if not target.exists():
        raise UsageError(f"{args.target}: no such file or folder")
    if target.suffix.lower() == ".pdf" and target.is_file():
        try:
            from triage_app.report.verify import verify_report
        except ImportError:
            raise UsageError("report verification is not available in this build") from None
        result = verify_report(target, case=args.case, trust_root=args.trust_root)
        if args.json:
            _json_line(result.to_json())
        else:
            for line in result.lines():
                _print(line)
        return EXIT_OK if result.ok else EXIT_PROBLEM
    case = _open_case(str(target), read_only_ok=True)
    try:
        rep = case.verify()
    finally:
        case.close()
    if args.json:
        _json_line({"ok": rep.ok, "entries_checked": rep.entries_checked,
                    "files_checked": rep.files_checked,
                    "problems": [p.__dict__ for p in rep.problems], "warnings": rep.warnings})
    else:
        for p in rep.problems:
            _print(f"FAIL  {p.where}: {p.message}")
        for w in rep.warnings:
            _print(f"warn  {w}")
        _print(("OK    " if rep.ok else "FAILED ") +
               f"{rep.entries_checked} custody entries and {rep.files_checked} evidence files checked")
    return EXIT_OK if rep.ok else EXIT_PROBLEM


def cmd_validate(args: argparse.Namespace) -> int:
    from triage_app.media import MediaError
    from triage_app.pipeline import check_rationale

    settings = _settings(args)
    rows: list[tuple[str, str]] = []
    if args.batch:
        import csv

        # utf-8-sig: a spreadsheet's "CSV UTF-8" starts with a byte-order mark
        with open(args.batch, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            names = {(n or "").strip().lower(): n for n in (reader.fieldnames or [])}
            if not {"path", "rationale"} <= set(names):
                raise UsageError(f"{args.batch}: needs columns path,rationale")
            base = Path(args.batch).parent
            for row in reader:
                p = row[names["path"]]
                rows.append((str(base / p) if not os.path.isabs(p) else p,
                             row[names["rationale"]]))
    else:
        if not args.file:
            raise UsageError("validate needs FILE (or --batch CSV)")
        if args.rationale is None and args.rationale_file is None:
            raise UsageError("validate needs --rationale TEXT or --rationale-file F")
        if args.rationale is not None and args.rationale_file is not None:
            raise UsageError("validate takes --rationale TEXT or --rationale-file F, not both")
        if args.rationale is not None and not args.rationale.strip():
            raise UsageError("--rationale is empty")
        text = args.rationale if args.rationale is not None else \
            Path(args.rationale_file).read_text(encoding="utf-8")
        rows.append((args.file, text))
    status = EXIT_OK
    for path, text in rows:
        try:
            claims = check_rationale(path, text, settings=settings)
            error = None
        except MediaError as exc:
            claims, error = [], str(exc)
            status = EXIT_PROBLEM
        if args.json:
            _json_line({"path": path, "rationale": text, "error": error,
                        "claims": [{k: c.to_dict()[k] for k in (
                            "text", "artifact", "location", "region", "polarity", "status",
                            "reason", "measurement")} for c in claims]})
        else:
            _print(path)
            if error:
                _print(f"  ERROR {error}")
            for c in claims:
                _print(f"  [{c.status:<12}] {c.text}")
                if c.reason:
                    _print(f"                 {c.reason}")
    return status


def cmd_eval(args: argparse.Namespace) -> int:
    from triage_app import evaluate

    return evaluate.main(args)


def cmd_models(args: argparse.Namespace) -> int:
    from triage_app.models_registry import list_models

    entries = list_models(settings=_settings(args))
    if args.json:
        for e in entries:
            _json_line(e)
    else:
        for e in entries:
            _print(f"{e['name']:<28} {e['version']:<8} {','.join(e['modalities']):<18} "
                   f"{e.get('origin', '')}")
            if e.get("method"):
                _print(f"    method: {e['method']}")
            for wf in e.get("weight_files", []):
                _print(f"    {wf['path']}  sha256 {wf['sha256']}")
            if e.get("load_error"):
                _print(f"    LOAD ERROR: {e['load_error']}")
    return EXIT_OK


def cmd_report(args: argparse.Namespace) -> int:
    try:
        from triage_app.report import export_report
    except ImportError:
        raise UsageError("report export is not available in this build") from None
    from triage_app.report.signing import SigningError

    from triage_app.report import sidecar_path, uco_path
    from triage_app.report.content import EvidenceSelectionError

    out = Path(args.out)
    if out.suffix.lower() != ".pdf":
        raise UsageError(f"--out {args.out}: a report is a PDF; name it NAME.pdf")
    taken = [p for p in (out, sidecar_path(out), uco_path(out)) if p.exists()]
    if taken and not args.overwrite:
        raise UsageError(f"{taken[0]} exists: an exported report is a record of what was said "
                         f"and when; choose another name, or --overwrite to replace it (the "
                         f"case's custody log keeps both exports, and verify checks the latest)")
    if args.sign and not Path(args.sign).is_file():
        raise UsageError(f"--sign {args.sign}: no such key file")
    case = _open_case(args.case)
    if not case.items():
        _print(f"triage: warning: {args.case} holds no evidence; the report lists no item",
               file=sys.stderr)
    try:
        result = export_report(case, args.out, evidence=args.evidence or None,
                               sign_key=args.sign, passphrase=args.passphrase)
    except EvidenceSelectionError as exc:  # an --evidence hash that names no item
        _print(f"triage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (SigningError, ValueError) as exc:
        _print(f"triage: {exc}", file=sys.stderr)
        return EXIT_PROBLEM
    finally:
        case.close()
    _print(f"report   {result.pdf}")
    _print(f"sidecar  {result.sidecar}")
    return EXIT_OK


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="triage", description="Deepfake Triage: offline analysis "
                                "of images, video and audio for manipulation.")
    p.add_argument("--version", action="version", version=f"triage {__version__}")
    p.add_argument("--settings", help="settings JSON file (default: ~/.config/deepfake-triage)")
    sub = p.add_subparsers(dest="command")

    g = sub.add_parser("gui", help="open the desktop application")
    g.add_argument("case", nargs="?")
    g.set_defaults(func=cmd_gui)

    a = sub.add_parser("analyze", help="analyse files without a case")
    a.add_argument("files", nargs="+", metavar="FILE")
    a.add_argument("--json", action="store_true", help="one JSON object per line and file")
    a.add_argument("--maps", metavar="DIR", help="write localization maps (PNG) here")
    a.add_argument("--timeout", type=float, help=argparse.SUPPRESS)
    a.set_defaults(func=cmd_analyze)

    s = sub.add_parser("scan", help="take in files or folders into a case, analyse, store")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--case", required=True, help="case folder (created if absent)")
    s.add_argument("--recursive", "-r", action="store_true", help="walk sub-folders too")
    s.add_argument("--workers", type=int, default=None,
                   help="analysis processes (default: the settings file's, else 1)")
    s.add_argument("--timeout", type=float, help="per-file time limit in seconds")
    s.add_argument("--reanalyze", action="store_true",
                   help="analyse again items that an earlier run analysed (items whose "
                        "analysis failed are always tried again)")
    s.add_argument("--examiner", help="your name for the custody log of a new case "
                                      "(default: the settings file's, else the login name)")
    s.add_argument("--json", action="store_true", help="one JSON object per line and file")
    s.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    s.set_defaults(func=cmd_scan)

    sh = sub.add_parser("show", help="list a case's evidence, verdicts and decisions")
    sh.add_argument("case")
    sh.add_argument("--json", action="store_true")
    sh.set_defaults(func=cmd_show)

    v = sub.add_parser("validate", help="check a free-text rationale against the evidence")
    v.add_argument("file", nargs="?", help="the media file the rationale is about")
    v.add_argument("--rationale", metavar="TEXT", help="the rationale, in plain text")
    v.add_argument("--rationale-file", metavar="F", help="read the rationale from this file")
    v.add_argument("--batch", metavar="CSV", help="CSV with columns path,rationale")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_validate)

    r = sub.add_parser("report", help="export a PDF evidence report with a JSON sidecar")
    r.add_argument("case")
    r.add_argument("--evidence", nargs="*", metavar="SHA256",
                   help="only these items (full SHA-256 or a unique prefix); default: all")
    r.add_argument("--out", required=True, metavar="FILE.pdf",
                   help="the PDF; its sidecar FILE.json and CASE/UCO export FILE.uco.jsonld "
                        "are written beside it")
    r.add_argument("--overwrite", action="store_true",
                   help="replace an earlier report at --out")
    r.add_argument("--sign", metavar="KEY.p12", help="sign the PDF (PAdES) with this PKCS#12 key")
    r.add_argument("--passphrase", default=None, help="the key's passphrase")
    r.set_defaults(func=cmd_report)

    ve = sub.add_parser("verify", help="verify a case (custody, evidence) or a report")
    ve.add_argument("target", metavar="CASE|REPORT.pdf")
    ve.add_argument("--case", help="with a report: the case folder to check evidence against")
    ve.add_argument("--trust-root", help="with a report: a PEM certificate to trust")
    ve.add_argument("--json", action="store_true")
    ve.set_defaults(func=cmd_verify)

    e = sub.add_parser("eval", help="TriDF-style metrics on a labeled manifest")
    e.add_argument("manifest", nargs="?", help="labelled manifest CSV (DESIGN.md: path, label, "
                                               "modality, manipulation, mask, artifacts, source)")
    e.add_argument("--json", action="store_true")
    e.add_argument("--claims", metavar="CSV", help="score the validator on path,rationale,truth")
    e.add_argument("--modality", choices=["image", "video", "audio"])
    e.add_argument("--limit", type=int, help="at most N items (smoke runs)")
    e.add_argument("--workers", type=int, default=1)
    e.add_argument("--crop", type=int, metavar="N",
                   help="evaluate images on a centred N x N crop (removes size cues)")
    e.add_argument("--source", help="only rows whose source folder starts with this")
    e.set_defaults(func=cmd_eval)

    m = sub.add_parser("models", help="list detectors and models with weight hashes")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_models)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    import warnings

    # pyHanko imports cryptography's DSA at load time; the warning says nothing about the
    # report being checked and was printed on every verify
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help/--version
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        args = parser.parse_args(["gui"])
    try:
        return int(args.func(args))
    except UsageError as exc:
        _print(f"triage: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a library error: one clear line, not a traceback
        from triage_app.case.store import CaseError
        from triage_app.case.vault import VaultError
        from triage_app.settings import SettingsError

        if isinstance(exc, BrokenPipeError):  # `triage ... | head`: the reader has gone
            try:
                sys.stdout = open(os.devnull, "w")  # noqa: SIM115  (no flush error at exit)
            except OSError:
                pass
            return EXIT_OK
        if isinstance(exc, (SettingsError, OSError, CaseError, VaultError)):
            _print(f"triage: {exc}", file=sys.stderr)
            return EXIT_PROBLEM
        if os.environ.get("TRIAGE_DEBUG"):
            raise
        _print(f"triage: internal error: {type(exc).__name__}: {exc} "
               "(set TRIAGE_DEBUG=1 for details)", file=sys.stderr)
        return EXIT_PROBLEM


if __name__ == "__main__":
    sys.exit(main())
