"""Audio ensemble speed: real-time factor on minutes of generated speech-like audio and on
corpus clips.

Usage::

    .venv/bin/python benchmarks/bench_audio.py             # 60 s generated + 4 corpus clips
    .venv/bin/python benchmarks/bench_audio.py --full      # 180 s generated + 20 corpus clips
    .venv/bin/python benchmarks/bench_audio.py --seconds 300 --corpus 0
    .venv/bin/python benchmarks/bench_audio.py --seconds 3600 --rate 44100 --channels 2 \
        --corpus 0   # an hour at CD rate: analysed in 7 overlapping segments

The recording is made by ``triage_app.demo._voice`` (a glottal source through three formant
resonators with pitch drift and a syllable envelope) plus a room noise floor, 16 kHz mono,
16-bit WAV. Timed: ``open_media`` (decode) and ``pipeline.analyze`` (every audio detector,
fusion, explanation, validation). Real-time factor = duration / analysis time. Wall and
process CPU time are both reported.

Goal: >= 100x faster than real time.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

CORPUS = ROOT.parent / "shared" / "corpus"
GOAL_RTF = 100.0


def make_speech(path: Path, seconds: float, sr: int = 16000, seed: int = 5, *,
                rate: int = 16000, channels: int = 1) -> Path:
    """Speech-like audio: voiced segments from two talkers, pauses, room noise; made at ``sr``
    and written at ``rate`` Hz (polyphase resampling) with ``channels`` identical channels."""
    import soundfile as sf

    from triage_app.demo import _voice

    rng = np.random.default_rng(seed)
    parts, total = [], 0.0
    while total < seconds:
        seg = float(rng.uniform(2.0, 6.0))
        f0 = float(rng.choice([110.0, 190.0]))
        parts.append(0.5 * _voice(rng, seg, sr, f0=f0))
        pause = float(rng.uniform(0.2, 0.8))
        parts.append(np.zeros(int(pause * sr), np.float32))
        total += seg + pause
    y = np.concatenate(parts)[: int(seconds * sr)]
    y = y + rng.normal(0, 0.004, y.shape).astype(np.float32)
    if rate != sr:
        from math import gcd

        from scipy.signal import resample_poly

        g = gcd(rate, sr)
        y = resample_poly(y, rate // g, sr // g).astype(np.float32)
    sf.write(path, np.repeat(y[:, None], channels, axis=1) if channels > 1 else y, rate,
             subtype="PCM_16")
    return path


def corpus_audio(n: int) -> list[Path]:
    manifest = CORPUS / "manifest.csv"
    if n <= 0 or not manifest.is_file():
        return []
    with open(manifest, newline="", encoding="utf-8") as fh:
        rows = sorted((r for r in csv.DictReader(fh) if r.get("modality") == "audio"),
                      key=lambda r: r["path"])
    step = max(1, len(rows) // n) if rows else 1
    return [CORPUS / r["path"] for r in rows[::step][:n]]


def measure(path: Path) -> dict:
    from triage_app import pipeline
    from triage_app.media import open_media

    det_cpu: dict[str, float] = {}
    original = pipeline.run_detector

    def timed(spec, m):
        c = time.process_time()
        try:
            return original(spec, m)
        finally:
            # accumulated: a long recording runs each detector once per segment
            det_cpu[spec.name] = det_cpu.get(spec.name, 0.0) + time.process_time() - c

    w0, c0 = time.perf_counter(), time.process_time()
    media = open_media(path)
    w1, c1 = time.perf_counter(), time.process_time()
    pipeline.run_detector = timed
    try:
        analysis = pipeline.analyze(media)
    finally:
        pipeline.run_detector = original
    w2, c2 = time.perf_counter(), time.process_time()
    return {"path": str(path), "duration": float(media.duration),
            "decode_wall": w1 - w0, "decode_cpu": c1 - c0,
            "analyze_wall": w2 - w1, "analyze_cpu": c2 - c1,
            "detectors": {d.name: float(d.runtime or 0) for d in analysis.detectors},
            "detectors_cpu": det_cpu, "statuses": {d.name: d.status for d in analysis.detectors}}


def run(full: bool = False, seconds: float | None = None, corpus: int | None = None,
        verbose: bool = True, rate: int = 16000, channels: int = 1) -> list[dict]:
    seconds = seconds or (180.0 if full else 60.0)
    corpus_n = corpus if corpus is not None else (20 if full else 4)
    with tempfile.TemporaryDirectory(prefix="bench_audio_") as td:
        measure(make_speech(Path(td) / "warm.wav", 3.0, seed=1))  # imports, outside the timing
        gen = measure(make_speech(Path(td) / "speech.wav", seconds, rate=rate,
                                  channels=channels))
    from_corpus = []
    for p in corpus_audio(corpus_n):
        try:
            from_corpus.append(measure(p))
        except Exception as exc:  # noqa: BLE001
            print(f"  {p}: skipped ({type(exc).__name__}: {exc})")
    out = []
    for label, group in (("generated", [gen]), ("corpus", from_corpus)):
        if not group:
            continue
        dur = sum(r["duration"] for r in group)
        wall = sum(r["analyze_wall"] for r in group)
        cpu = sum(r["analyze_cpu"] for r in group)
        dec = sum(r["decode_wall"] for r in group)
        if verbose:
            print(f"{label}: {len(group)} file(s), {dur:.1f} s of audio; decode {dec:.2f} s, "
                  f"analyze {wall:.2f} s wall / {cpu:.2f} s CPU")
            per_w: dict[str, float] = defaultdict(float)
            per_c: dict[str, float] = defaultdict(float)
            for r in group:
                for k, v in r["detectors"].items():
                    per_w[k] += v
                for k, v in r["detectors_cpu"].items():
                    per_c[k] += v
            print(f"  {'detector':<26} {'wall s':>8} {'CPU s':>8} {'x real time (CPU)':>18}")
            for k in sorted(per_w, key=lambda k: -per_c.get(k, 0)):
                c = per_c.get(k, 0)
                print(f"  {k:<26} {per_w[k]:8.2f} {c:8.2f} "
                      f"{(dur / c if c > 1e-6 else float('inf')):18.0f}")
        rtf = dur / wall
        out.append({"benchmark": "audio", "metric": f"x real time, {label} {dur:.0f} s (wall)",
                    "value": round(rtf, 1), "cpu": round(dur / max(cpu, 1e-9), 1),
                    "goal": f">= {GOAL_RTF:g}", "ok": rtf >= GOAL_RTF})
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--corpus", type=int)
    ap.add_argument("--rate", type=int, default=16000,
                    help="sample rate of the generated recording (44100: a CD-rate file)")
    ap.add_argument("--channels", type=int, default=1)
    args = ap.parse_args(argv)
    rows = run(args.full, args.seconds, args.corpus, rate=args.rate, channels=args.channels)
    print()
    for r in rows:
        print(f"{r['metric']:<44} {r['value']!s:>8}  CPU-based {r['cpu']}  goal {r['goal']}  "
              f"{'' if r['ok'] is None else ('OK' if r['ok'] else 'MISSED')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
