"""Batch scan: files per second with 1 and 2 workers, peak memory of the process tree, and a
kill-and-resume in the middle of a run.

Usage::

    .venv/bin/python benchmarks/bench_batch.py                 # 1,000 files
    .venv/bin/python benchmarks/bench_batch.py --files 120     # smaller
    .venv/bin/python benchmarks/bench_batch.py --files 200 --skip-scaling   # resume check only
    .venv/bin/python benchmarks/bench_batch.py --files 300 --threads 1      # 1 BLAS/OMP thread

The folder is generated once per run: small camera JPEGs (320x240, ~85 %), short WAVs
(1-2 s, ~13 %) and short H.264 clips (1 s 320x240, ~2 %). Copies differ in their bytes (a
JPEG comment, one sample's least significant bit, a different noise seed for videos) so
every file has its own SHA-256 and is a separate item in the case, while costing the
detectors the same work.

Each run is the real command line, ``python -m triage_app.cli scan DIR --case CASE --workers N
--json`` (``--triage PATH`` runs another executable, e.g. the PyInstaller bundle), in a fresh
case. Measured: wall time, files per second, CPU seconds of the whole process tree
(``RUSAGE_CHILDREN``), and peak memory of the tree: the sum of VmRSS over the scan process and
all its descendants, sampled from /proc every 50 ms.

Kill and resume: a third case is scanned with 2 workers, the scan process is sent SIGKILL once
~30 % of the files are reported, and the same command is run again. Checked: every file is an
item of the case exactly once, every item has exactly one analysis (nothing analysed twice,
nothing lost), the second run reports every file as analysed or skipped, and ``triage verify``
exits 0.

Goals: 2 workers >= 1.8x the files per second of 1 worker; peak memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_SCALING = 1.8
GOAL_PEAK_MB = 2048


# --------------------------------------------------------------------------- the folder


def make_folder(out: Path, n: int, seed: int = 0) -> list[Path]:
    """``n`` media files in ``out`` (images ~85 %, WAV ~13 %, video ~2 %), all distinct."""
    import soundfile as sf
    from PIL import Image

    from triage_app.demo import _camera_exif, _voice, camera_pipeline, make_scene

    out.mkdir(parents=True, exist_ok=True)
    n_video = max(1, round(n * 0.02))
    n_audio = max(1, round(n * 0.13))
    n_image = max(1, n - n_video - n_audio)
    bases = [camera_pipeline(make_scene(s, 240, 320), s) for s in range(8)]
    paths: list[Path] = []
    exif = _camera_exif()
    for i in range(n_image):
        p = out / f"img_{i:05d}.jpg"
        Image.fromarray(bases[i % len(bases)]).save(p, "JPEG", quality=90, exif=exif,
                                                     comment=f"copy {i}".encode())
        paths.append(p)
    rng = np.random.default_rng(seed)
    voices = [0.5 * _voice(rng, 1.0 + 0.5 * k, 16000, f0=110 + 40 * k) for k in range(3)]
    for i in range(n_audio):
        y = (voices[i % 3] * 32767).astype(np.int16)
        y[i % len(y)] ^= 1  # one LSB: different bytes, same sound
        p = out / f"rec_{i:05d}.wav"
        sf.write(p, y, 16000, subtype="PCM_16")
        paths.append(p)
    for i in range(n_video):
        paths.append(_make_video(out / f"clip_{i:03d}.mp4", seed=i))
    return paths


def _make_video(path: Path, seed: int, seconds: float = 1.0, fps: int = 25) -> Path:
    import av

    from triage_app.demo import camera_pipeline, make_scene

    scene = camera_pipeline(make_scene(40 + seed % 4, 240, 400), seed)
    rng = np.random.default_rng(seed)
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=fps)
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        s.options = {"crf": "23", "preset": "veryfast"}
        for i in range(int(seconds * fps)):
            f = scene[:, i * 2: i * 2 + 320].astype(np.int16) + rng.normal(0, 2, (240, 320, 3)).astype(np.int16)
            for pkt in s.encode(av.VideoFrame.from_ndarray(np.clip(f, 0, 255).astype(np.uint8), "rgb24")):
                c.mux(pkt)
        for pkt in s.encode():
            c.mux(pkt)
    return path


# --------------------------------------------------------------------------- measuring


def _children_map() -> dict[int, list[int]]:
    kids: dict[int, list[int]] = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat", "rb") as fh:
                stat = fh.read().decode(errors="replace")
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        kids.setdefault(ppid, []).append(int(d))
    return kids


def tree_rss_mb(pid: int, seen: set[int] | None = None) -> float:
    """Sum of VmRSS (MB) of ``pid`` and all its descendants (their pids are added to ``seen``)."""
    kids = _children_map()
    stack, total = [pid], 0
    while stack:
        p = stack.pop()
        stack.extend(kids.get(p, []))
        if seen is not None:
            seen.add(p)
        try:
            with open(f"/proc/{p}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
    return total / 1024


class Sampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak = pid, interval, 0.0
        self.pids: set[int] = set()
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_mb(self.pid, self.pids))
            self._halt.wait(self.interval)

    def stop(self) -> float:
        self._halt.set()
        self.join()
        return self.peak


def triage_cmd(triage: str | None) -> list[str]:
    return [triage] if triage else [sys.executable, "-m", "triage_app.cli"]


THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def run_scan(cmd: list[str], folder: Path, case: Path, workers: int, *,
             kill_after: int | None = None, threads: int | None = None) -> dict:
    """Run one scan; optionally SIGKILL it after ``kill_after`` analysed/error events.
    ``threads`` sets OMP/OpenBLAS/MKL thread counts in the scan (and so its workers)."""
    env = dict(os.environ, PYTHONUNBUFFERED="1", QT_QPA_PLATFORM="offscreen")
    if threads:
        env.update({v: str(threads) for v in THREAD_VARS})
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd + ["scan", str(folder), "--case", str(case), "--workers",
                                   str(workers), "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=str(ROOT))
    sampler = Sampler(proc.pid)
    sampler.start()
    events: dict[str, int] = {}
    err_lines: list[str] = []
    t_err = threading.Thread(target=lambda: err_lines.extend(proc.stderr), daemon=True)
    t_err.start()
    killed = False
    assert proc.stdout is not None
    for line in proc.stdout:
        try:
            ev = json.loads(line).get("event")
        except json.JSONDecodeError:
            continue
        events[ev] = events.get(ev, 0) + 1
        if kill_after and not killed and events.get("analyzed", 0) + events.get("error", 0) >= kill_after:
            os.kill(proc.pid, signal.SIGKILL)
            killed = True
    rc = proc.wait()
    wall = time.perf_counter() - t0
    peak = sampler.stop()
    t_err.join(2)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"rc": rc, "wall": wall, "cpu": cpu, "peak_mb": peak, "events": events,
            "pids": sorted(sampler.pids - {proc.pid}),
            "killed": killed, "stderr": "".join(err_lines[-20:])}


def check_case(case: Path, files: list[Path]) -> dict:
    """Items, analyses per item and the SHA-256 set, straight from the case database."""
    want = {hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    con = sqlite3.connect(f"file:{case / 'case.db'}?mode=ro", uri=True)
    try:
        ev = [r[0] for r in con.execute("SELECT sha256 FROM evidence")]
        per = dict(con.execute("SELECT sha256, COUNT(*) FROM analyses GROUP BY sha256"))
    finally:
        con.close()
    return {"items": len(ev), "unique_items": len(set(ev)), "expected": len(want),
            "same_hashes": set(ev) == want,
            "without_analysis": len(want - set(per)),
            "analysed_twice": sum(1 for v in per.values() if v > 1)}


def still_running(pids: list[int]) -> list[int]:
    """Those of ``pids`` (the killed scan's worker processes) still alive, zombies aside."""
    alive = []
    for p in pids:
        try:
            stat = Path(f"/proc/{p}/stat").read_text(errors="replace")
        except OSError:
            continue
        if stat.rsplit(")", 1)[1].split()[0] != "Z":
            alive.append(p)
    return alive


def run(files: int = 1000, triage: str | None = None, skip_scaling: bool = False,
        verbose: bool = True, threads: int | None = None) -> list[dict]:
    cmd = triage_cmd(triage)
    out: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as td:
        tmp = Path(td)
        t = time.perf_counter()
        paths = make_folder(tmp / "media", files)
        if verbose:
            kinds = {s: sum(1 for p in paths if p.suffix == s) for s in (".jpg", ".wav", ".mp4")}
            print(f"generated {len(paths)} files {kinds} in {time.perf_counter() - t:.0f} s",
                  flush=True)
        fps = {}
        if not skip_scaling:
            for workers in (1, 2):
                r = run_scan(cmd, tmp / "media", tmp / f"w{workers}.triage", workers,
                             threads=threads)
                fps[workers] = len(paths) / r["wall"]
                if verbose:
                    print(f"workers={workers}: rc {r['rc']}, {r['wall']:.1f} s wall, "
                          f"{len(paths) / r['wall']:.2f} files/s, CPU {r['cpu']:.1f} s "
                          f"({r['cpu'] / len(paths):.3f} CPU-s/file), peak tree RSS "
                          f"{r['peak_mb']:.0f} MB, events {r['events']}", flush=True)
                out.append({"benchmark": "batch", "metric": f"files/s, {workers} worker(s)",
                            "value": round(fps[workers], 2),
                            "cpu": round(r["cpu"] / len(paths), 3), "goal": "", "ok": None,
                            "note": "cpu = CPU-s per file"})
                out.append({"benchmark": "batch", "metric": f"peak RSS MB, {workers} worker(s)",
                            "value": round(r["peak_mb"]), "goal": f"<= {GOAL_PEAK_MB}",
                            "ok": r["peak_mb"] <= GOAL_PEAK_MB})
            scaling = fps[2] / fps[1]
            out.append({"benchmark": "batch", "metric": "scaling 2 vs 1 worker (wall)",
                        "value": round(scaling, 2), "goal": f">= {GOAL_SCALING}",
                        "ok": scaling >= GOAL_SCALING})
        # kill and resume
        case = tmp / "resume.triage"
        kill_at = max(1, int(0.3 * len(paths)))
        r1 = run_scan(cmd, tmp / "media", case, 2, kill_after=kill_at, threads=threads)
        time.sleep(1.0)
        orphans = still_running(r1["pids"])
        mid = check_case(case, paths)
        r2 = run_scan(cmd, tmp / "media", case, 2, threads=threads)
        final = check_case(case, paths)
        v = subprocess.run(cmd + ["verify", str(case)], capture_output=True, text=True,
                           cwd=str(ROOT))
        second = r2["events"]
        ok = (r1["killed"] and final["items"] == final["unique_items"] == len(paths)
              and final["same_hashes"] and final["without_analysis"] == 0
              and final["analysed_twice"] == 0 and v.returncode == 0
              and second.get("analyzed", 0) + second.get("skipped", 0) + second.get("error", 0)
              == len(paths) and not orphans)
        if verbose:
            print(f"kill-and-resume: killed after {r1['events']} (rc {r1['rc']}); in the case "
                  f"then: {mid}; orphan workers after 1 s: {orphans}")
            print(f"  re-run: rc {r2['rc']}, {r2['wall']:.1f} s, events {second}; case: {final}")
            print(f"  triage verify: exit {v.returncode}: {v.stdout.strip().splitlines()[-1:]}")
        out.append({"benchmark": "batch", "metric": "kill -9 at 30 % + resume: complete, no dups",
                    "value": "yes" if ok else "NO", "goal": "yes", "ok": ok,
                    "note": f"first run committed {mid['expected'] - mid['without_analysis']}"
                            f"/{len(paths)}; re-run {second}; verify rc {v.returncode}"})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--files", type=int, default=1000)
    ap.add_argument("--triage", help="run this triage executable (default: this Python's "
                                     "triage_app.cli), e.g. dist/triage/triage")
    ap.add_argument("--skip-scaling", action="store_true", help="only the kill-and-resume check")
    ap.add_argument("--threads", type=int, help="OMP/OpenBLAS/MKL threads per process (e.g. 1)")
    args = ap.parse_args(argv)
    rows = run(args.files, args.triage, args.skip_scaling, threads=args.threads)
    print()
    for r in rows:
        cpu = f"  ({r['cpu']} CPU-s/file)" if r.get("cpu") is not None else ""
        print(f"{r['metric']:<46} {r['value']!s:>8}{cpu}  goal {r['goal']}  "
              f"{'' if r['ok'] is None else ('OK' if r['ok'] else 'MISSED')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
