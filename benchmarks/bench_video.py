"""Video ensemble speed: real-time factor on a 720p H.264 clip, next to decode-only time.

Usage::

    .venv/bin/python benchmarks/bench_video.py            # 4 s 1280x720 30 fps clip
    .venv/bin/python benchmarks/bench_video.py --full     # 10 s clip
    .venv/bin/python benchmarks/bench_video.py --seconds 10 --no-audio
    .venv/bin/python benchmarks/bench_video.py --file ../shared/corpus/ffpp_c23/authentic/youtube_634.mp4

The clip is generated with PyAV (libx264, crf 20, preset veryfast, yuv420p): a procedural
camera scene panning, with sensor noise, and (unless ``--no-audio``) an AAC track of
speech-like audio, so the audio-visual detectors have something to judge. Timed: decoding
every frame through ``open_media(...).frames()`` (decode only), then ``pipeline.analyze``
(every video detector, fusion, explanation, validation). Real-time factor = clip duration /
analysis time (2 means twice as fast as real time). Wall and process CPU time are both
reported (the machine is shared; CPU time counts every thread of this process).

Goal: analysis >= 2x faster than real time.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

GOAL_RTF = 2.0


def make_clip(path: Path, *, seconds: float, fps: int = 30, width: int = 1280,
              height: int = 720, audio: bool = True) -> Path:
    """Write a generated H.264 (+ AAC) clip to ``path``."""
    import av

    from triage_app.demo import _voice, camera_pipeline, make_scene

    scene = camera_pipeline(make_scene(21, height, width + 2 * int(seconds * fps) + 8), 21)
    rng = np.random.default_rng(21)
    sr = 48000
    speech = None
    if audio:
        speech = 0.4 * _voice(rng, seconds + 0.5, sr, f0=130.0)
        speech += rng.normal(0, 0.003, speech.shape).astype(np.float32)
    with av.open(str(path), "w") as container:
        vs = container.add_stream("libx264", rate=fps)
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.options = {"crf": "20", "preset": "veryfast"}
        aus = None
        if audio:
            aus = container.add_stream("aac", rate=sr)
            aus.layout = "mono"
        for i in range(int(seconds * fps)):
            frame = scene[:, 2 * i: 2 * i + width].astype(np.int16)
            frame += rng.normal(0, 2, frame.shape).astype(np.int16)
            vf = av.VideoFrame.from_ndarray(np.clip(frame, 0, 255).astype(np.uint8), "rgb24")
            for packet in vs.encode(vf):
                container.mux(packet)
        for packet in vs.encode():
            container.mux(packet)
        if aus is not None and speech is not None:
            n = int(seconds * sr)
            hop = 1024
            for k, start in enumerate(range(0, n, hop)):
                chunk = speech[start:start + hop]
                af = av.AudioFrame.from_ndarray(chunk[None, :].astype(np.float32), format="fltp",
                                                layout="mono")
                af.sample_rate = sr
                af.pts = start
                for packet in aus.encode(af):
                    container.mux(packet)
            for packet in aus.encode():
                container.mux(packet)
    return path


def run(full: bool = False, seconds: float | None = None, audio: bool = True,
        verbose: bool = True, file: str | None = None) -> list[dict]:
    """Time decode-only and the whole analysis of one clip: a generated 720p one (no face:
    the face detectors say not_applicable), or ``file`` (a real clip with a face, so that the
    face track, the deep crops and the learned face model are timed too)."""
    from triage_app import pipeline
    from triage_app.media import open_media

    seconds = seconds or (10.0 if full else 4.0)
    with tempfile.TemporaryDirectory(prefix="bench_video_") as td:
        path = Path(file) if file else make_clip(Path(td) / "clip_720p.mp4", seconds=seconds,
                                                 audio=audio)
        # warm-up: import every video detector outside the timing
        warm = make_clip(Path(td) / "warm.mp4", seconds=0.5, width=320, height=180, audio=audio)
        pipeline.analyze(open_media(warm))

        w0, c0 = time.perf_counter(), time.process_time()
        media = open_media(path)
        n = sum(1 for _ in media.frames())
        w1, c1 = time.perf_counter(), time.process_time()
        media = open_media(path)
        det_cpu: dict[str, float] = {}
        original = pipeline.run_detector

        def timed(spec, m):
            c = time.process_time()
            try:
                return original(spec, m)
            finally:
                det_cpu[spec.name] = time.process_time() - c

        pipeline.run_detector = timed
        try:
            analysis = pipeline.analyze(media)
        finally:
            pipeline.run_detector = original
        w2, c2 = time.perf_counter(), time.process_time()
    duration = float(media.duration or seconds)
    decode_wall, decode_cpu = w1 - w0, c1 - c0
    an_wall, an_cpu = w2 - w1, c2 - c1
    if verbose:
        size = f"{getattr(media, 'width', 1280)}x{getattr(media, 'height', 720)}"
        print(f"clip: {Path(file).name + ', ' if file else ''}{duration:.1f} s {size}, {n} "
              f"frames decoded{' + AAC audio' if audio and not file else ''}")
        print(f"{'step':<30} {'wall s':>8} {'CPU s':>8} {'x real time (wall)':>19} "
              f"{'x real time (CPU)':>18}")
        print(f"{'decode only':<30} {decode_wall:8.2f} {decode_cpu:8.2f} "
              f"{duration / decode_wall:19.1f} {duration / max(decode_cpu, 1e-9):18.1f}")
        for d in sorted(analysis.detectors, key=lambda d: -det_cpu.get(d.name, 0)):
            print(f"  {d.name:<28} {d.runtime or 0:8.2f} {det_cpu.get(d.name, 0):8.2f}   "
                  f"{d.status}")
        print(f"{'analyze (all detectors)':<30} {an_wall:8.2f} {an_cpu:8.2f} "
              f"{duration / an_wall:19.2f} {duration / max(an_cpu, 1e-9):18.2f}")
    rtf = duration / an_wall
    return [
        {"benchmark": "video", "metric": f"x real time, {duration:.0f} s "
                                         f"{Path(file).name if file else '720p30'} (wall)",
         "value": round(rtf, 2), "cpu": round(duration / max(an_cpu, 1e-9), 2),
         "goal": f">= {GOAL_RTF}", "ok": rtf >= GOAL_RTF},
        {"benchmark": "video", "metric": "x real time, decode only (wall)",
         "value": round(duration / decode_wall, 2),
         "cpu": round(duration / max(decode_cpu, 1e-9), 2), "goal": "", "ok": None},
    ]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--full", action="store_true", help="a 10 s clip")
    ap.add_argument("--seconds", type=float)
    ap.add_argument("--no-audio", action="store_true")
    ap.add_argument("--file", help="time this clip instead of a generated one (e.g. "
                    "../shared/corpus/ffpp_c23/authentic/youtube_634.mp4, 720p with a face)")
    args = ap.parse_args(argv)
    rows = run(args.full, args.seconds, audio=not args.no_audio, file=args.file)
    print()
    for r in rows:
        print(f"{r['metric']:<44} {r['value']!s:>8}  CPU-based {r['cpu']}  goal {r['goal']}  "
              f"{'' if r['ok'] is None else ('OK' if r['ok'] else 'MISSED')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
