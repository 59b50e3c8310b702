"""Speed and smoke-quality benchmark of the video detectors.

Speed: for each clip, the decode-only time (PyAV, every frame decoded with thread_type AUTO,
no colour conversion: the floor any analysis pays) against the full analysis (the shared pass
plus the five video detectors), both as real-time factors (clip duration / wall time; > 1 is
faster than real time). The clips: a generated 720p talking-face clip (the public-domain Grace
Hopper photo from the corpus, animated, with a speech-like audio track), the FF++ c23 clips and
the package videos of ../shared/corpus.

Quality: ROC AUC of each detector's score on FF++ c23 (3 authentic, 4 manipulated). Seven
clips: a smoke check only, never a basis for tuning (see ../shared/corpus/SOURCES.md).

Usage::

    .venv/bin/python benchmarks/eval_video.py [--corpus DIR] [--no-corpus] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

DETECTORS = ("face_frames", "temporal", "blink_head", "av_sync", "container")


def detector_functions():
    import importlib

    out = {}
    for m in DETECTORS:
        mod = importlib.import_module(f"detectors.video.{m}")
        out[f"video_{m}"] = getattr(mod, f"video_{m}")
    return out


def decode_only(path: str) -> tuple[float, float, int]:
    """(wall s, CPU s of this process, frames) to decode every frame, nothing else."""
    import av

    t, c0 = time.perf_counter(), time.process_time()
    n = 0
    with av.open(path) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            n += 1
    return time.perf_counter() - t, time.process_time() - c0, n


def analyse(path: str) -> tuple[float, float, dict, object]:
    """(wall s, CPU s, results, media) of open + shared pass + the five detectors."""
    from triage_app.media import open_media

    t, c0 = time.perf_counter(), time.process_time()
    media = open_media(path)
    results = {name: fn(media) for name, fn in detector_functions().items()}
    return time.perf_counter() - t, time.process_time() - c0, results, media


def warm_up() -> None:
    """Imports and the face cascade, so that the first clip does not pay for them."""
    import scipy.ndimage  # noqa: F401
    import scipy.signal  # noqa: F401
    import sklearn.metrics  # noqa: F401

    from detectors.video import _pass

    detector_functions()
    _pass._cascade()


def make_720p(corpus: Path, out: Path, seconds: float = 10.0) -> Path | None:
    """The animated face photo on a 1280x720 textured background, with speech-like audio."""
    import cv2

    from media_factory import make_video

    photo_p = corpus / "pkg" / "pypi_matplotlib" / "grace_hopper.jpg"
    if not photo_p.is_file():
        return None
    sys.path.insert(0, str(ROOT / "tests" / "detectors" / "video"))
    from conftest import FPS, animate, speech_audio, syllable_envelope  # noqa: E402

    im = cv2.imread(str(photo_p))[..., ::-1]
    photo = np.ascontiguousarray(cv2.resize(im, (256, 300), interpolation=cv2.INTER_AREA))
    n = int(seconds * FPS)
    env = syllable_envelope(n)
    small = animate(photo, n, mouth_env=env)
    rng = np.random.default_rng(0)
    bg = cv2.GaussianBlur((rng.random((720, 1280, 3)) * 255).astype(np.float32), (0, 0), 3)
    bg = np.clip((bg - bg.mean()) * 4 + 128, 0, 255).astype(np.uint8)
    frames = []
    for i, f in enumerate(small):
        big = cv2.resize(f, (512, 600), interpolation=cv2.INTER_LINEAR)
        canvas = np.roll(bg, i * 2, axis=1).copy()
        canvas[60:660, 384:896] = big
        frames.append(canvas)
    return make_video(out, frames, FPS, speech_audio(env))


def auc(labels: list[int], scores: list[float]) -> float | None:
    from sklearn.metrics import roc_auc_score

    if len(set(labels)) < 2:
        return None
    return float(roc_auc_score(labels, scores))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--no-corpus", action="store_true", help="only the generated clip")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)

    clips: list[tuple[str, str, int | None]] = []   # (path, group, label 1=manipulated)
    tmp = Path(tempfile.mkdtemp(prefix="eval_video_"))
    gen = make_720p(corpus, tmp / "face720p.mp4")
    if gen is not None:
        clips.append((str(gen), "generated-720p", None))
    if not args.no_corpus and (corpus / "manifest.csv").is_file():
        import csv

        with open(corpus / "manifest.csv", newline="") as fh:
            for row in csv.DictReader(fh):
                if row["modality"] != "video":
                    continue
                group = row["path"].split("/")[0]
                if group == "pkg":
                    group = "/".join(row["path"].split("/")[:2])
                clips.append((str(corpus / row["path"]), group,
                              1 if row["label"] == "manipulated" else 0))

    warm_up()
    rows = []
    print("x RT = clip duration / wall time (CPU: / this process's CPU time); the machine is "
          "shared, so wall times vary with its load")
    print(f"{'clip':30s} {'dur s':>6s} {'decode s':>8s} {'x RT':>6s} {'(CPU)':>6s} "
          f"{'analysis s':>10s} {'x RT':>6s} {'(CPU)':>6s}  scores (n/a = not applicable)")
    for path, group, label in clips:
        d_t, d_c, n = decode_only(path)
        a_t, a_c, res, media = analyse(path)
        dur = float(media.duration) or n / (media.fps or 25)
        sc = {k: (None if r.status != "ok" else round(r.score, 3)) for k, r in res.items()}
        rows.append({"clip": Path(path).name, "group": group, "label": label,
                     "width": media.width, "height": media.height, "duration": dur,
                     "decode_s": d_t, "analysis_s": a_t, "decode_cpu_s": d_c,
                     "analysis_cpu_s": a_c, "rt_decode": dur / d_t,
                     "rt_analysis": dur / a_t, "scores": sc,
                     "reasons": {k: r.reason for k, r in res.items() if r.status != "ok"},
                     "budget": res["video_temporal"].extras.get("budget")})
        s = " ".join(f"{k[6:]}={'n/a' if v is None else f'{v:.2f}'}" for k, v in sc.items())
        print(f"{Path(path).name[:30]:30s} {dur:6.1f} {d_t:8.2f} {dur / d_t:6.1f} "
              f"{dur / max(d_c, 1e-3):6.1f} {a_t:10.2f} {dur / a_t:6.1f} "
              f"{dur / max(a_c, 1e-3):6.1f}  {s}")

    ff = [r for r in rows if r["group"] == "ffpp_c23"]
    aucs = {}
    if ff:
        print("\nFF++ c23 smoke check (3 authentic, 4 manipulated; not a basis for tuning)")
        for name in detector_functions():
            pairs = [(r["label"], r["scores"][name]) for r in ff if r["scores"][name] is not None]
            a = auc([p[0] for p in pairs], [p[1] for p in pairs]) if pairs else None
            aucs[name] = a
            print(f"  {name:22s} AUC {'n/a' if a is None else f'{a:.3f}'} "
                  f"({len(pairs)}/{len(ff)} clips scored)")
    tot_dur = sum(r["duration"] for r in rows)
    if rows:
        print(f"\nall clips: {tot_dur:.1f} s of video; decode-only "
              f"{tot_dur / sum(r['decode_s'] for r in rows):.2f}x real time, full analysis "
              f"{tot_dur / sum(r['analysis_s'] for r in rows):.2f}x real time")
        hd = [r for r in rows if r["height"] == 720]
        if hd:
            d = sum(r["duration"] for r in hd)
            print(f"720p clips: decode-only {d / sum(r['decode_s'] for r in hd):.2f}x, full "
                  f"analysis {d / sum(r['analysis_s'] for r in hd):.2f}x real time (wall); "
                  f"CPU: decode {d / sum(r['decode_cpu_s'] for r in hd):.2f}x, analysis "
                  f"{d / sum(r['analysis_cpu_s'] for r in hd):.2f}x")
    if args.json:
        Path(args.json).write_text(json.dumps({"clips": rows, "auc_ffpp": aucs}, indent=1,
                                              default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
