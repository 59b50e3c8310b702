"""Profile the image ensemble on a 4 MP photo and show the slowest detector's hot spots.

Usage::

    .venv/bin/python benchmarks/profile_slowest.py                # 4 MP, pyinstrument
    .venv/bin/python benchmarks/profile_slowest.py --mp 12 --detector copy_move
    .venv/bin/python benchmarks/profile_slowest.py --html out.html

Needs ``pyinstrument`` (``.venv/bin/pip install pyinstrument``; not a dependency of the app).
The photo is generated (``triage_app.demo.make_scene`` + ``camera_pipeline``, JPEG q92 with
camera EXIF). Every image detector is run once through the pipeline's guard with a CPU
stopwatch; the slowest by CPU time (or ``--detector``) is then run again under pyinstrument,
and its call tree is printed (frames under 2 % hidden).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for _p in (ROOT, ROOT / "benchmarks"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))


# --------------------------------------------------------------------------- proposed speed-up
#: The proposed change to detectors/image/ela.py, as exact (old, new) text replacements; the
#: lead applies it (detector files belong to their authors). ``--check-ela-patch`` applies it
#: to a copy of the module, runs original and patched on fixed inputs, checks that every
#: output (score, findings, heatmap, extras, params) is bit-identical, and times both.
#: 1. The saturation mask: ``((p <= 2) | (p >= 253)).any(axis=2)`` builds two (H, W, 3) bool
#:    arrays and reduces a length-3 axis (slow in numpy); ``cv2.inRange(p, 3, 252) == 0`` is
#:    the same predicate (a pixel is in range only when all three channels are in 3..252) in
#:    one pass.
#: 2. The re-compressions: ``jpeg_roundtrip`` reverses the channels of the input (a copy) and
#:    of the output (absdiff then copies the strided view) at each of the 3 qualities;
#:    converting to BGR once and reversing only the error gives the same values.
_OLD_LEVELS = """    out = []
    for q in qualities:
        err = cv2.absdiff(pixels, C.jpeg_roundtrip(pixels, q))
        out.append(C.block_mean(err, block).mean(axis=2))
    return np.stack(out)"""
_NEW_LEVELS = """    out = []
    # Encode and decode in OpenCV's BGR order, converted once (jpeg_roundtrip would reverse the
    # channels of the input and of the output at every quality); the error is put back in RGB
    # order, so every value is that of absdiff(pixels, jpeg_roundtrip(pixels, q)).
    bgr = cv2.cvtColor(np.ascontiguousarray(pixels), cv2.COLOR_RGB2BGR)
    for q in qualities:
        ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, int(q)])
        err = cv2.absdiff(bgr, cv2.imdecode(buf, cv2.IMREAD_COLOR))[..., ::-1]
        out.append(C.block_mean(err, block).mean(axis=2))
    return np.stack(out)"""
_OLD_SAT = "        sat = ((pixels <= 2) | (pixels >= 253)).any(axis=2)\n"
_NEW_SAT = ("        # one pass: a pixel is in range only when all three channels are in 3..252\n"
            "        sat = cv2.inRange(pixels, (3, 3, 3), (252, 252, 252)) == 0\n")
_OLD_HEAD = "    if block < 8 or block % 8:\n"
_NEW_HEAD = "    import cv2\n\n    if block < 8 or block % 8:\n"
ELA_PATCH = [(_OLD_LEVELS, _NEW_LEVELS), (_OLD_SAT, _NEW_SAT), (_OLD_HEAD, _NEW_HEAD)]


def _load_patched_ela():
    """detectors.image.ela with ELA_PATCH applied, as a separate module (registry untouched)."""
    import importlib.util

    import detectors.image.ela as ela
    from detectors import registry

    src = Path(ela.__file__).read_text(encoding="utf-8")
    for old, new in ELA_PATCH:
        if src.count(old) != 1:
            raise RuntimeError("ELA_PATCH no longer applies to detectors/image/ela.py: "
                               f"{old[:60]!r}...")
        src = src.replace(old, new)
    saved = dict(registry._REGISTRY)
    try:
        spec = importlib.util.spec_from_loader("detectors.image._ela_patched", loader=None)
        mod = importlib.util.module_from_spec(spec)
        mod.__package__ = "detectors.image"
        mod.__file__ = ela.__file__
        exec(compile(src, "ela_patched.py", "exec"), mod.__dict__)
    finally:
        registry._REGISTRY.clear()
        registry._REGISTRY.update(saved)
    return ela, mod


def patched_ela_source() -> str:
    """The unified diff of the proposed change (for the report)."""
    import difflib

    import detectors.image.ela as ela

    src = Path(ela.__file__).read_text(encoding="utf-8")
    new = src
    for old, rep in ELA_PATCH:
        new = new.replace(old, rep)
    return "".join(difflib.unified_diff(src.splitlines(True), new.splitlines(True),
                                        "a/detectors/image/ela.py", "b/detectors/image/ela.py"))


def _diff_paths(a, b, path="result") -> list[str]:
    """Paths at which two results differ (exact comparison; arrays bit for bit)."""
    import dataclasses

    import numpy as np

    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        ok = (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
              and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=True))
        return [] if ok else [path]
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        if type(a) is not type(b):
            return [path]
        out = []
        for f in dataclasses.fields(a):
            if f.name != "runtime":
                out += _diff_paths(getattr(a, f.name), getattr(b, f.name), f"{path}.{f.name}")
        return out
    if isinstance(a, dict):
        if not isinstance(b, dict) or set(a) != set(b):
            return [path]
        return [d for k in a for d in _diff_paths(a[k], b[k], f"{path}[{k!r}]")]
    if isinstance(a, (list, tuple)):
        if not isinstance(b, (list, tuple)) or len(a) != len(b):
            return [path]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in _diff_paths(x, y, f"{path}[{i}]")]
    return [] if (a == b or (a != a and b != b)) else [path]


def check_ela_patch(mp: float = 4.0) -> int:
    """Original vs patched ELA on fixed inputs: identical outputs, and the time of each."""
    import numpy as np
    from PIL import Image

    from bench_images import make_photo
    from triage_app.demo import camera_pipeline, make_scene
    from triage_app.media import open_media

    ela, patched = _load_patched_ela()
    inputs = []
    with tempfile.TemporaryDirectory(prefix="ela_patch_") as td:
        tmp = Path(td)
        inputs.append((f"{mp:g} MP camera JPEG", open_media(make_photo(mp, 4, tmp))))
        inputs.append(("1 MP camera JPEG", open_media(make_photo(1.0, 5, tmp))))
        # a splice, with clipped areas (white, black, one channel at 0), re-saved at q70
        base = camera_pipeline(make_scene(7, 600, 800), 7).copy()
        base[40:160, 50:300] = 255
        base[400:520, 600:780] = 0
        base[200:260, :, 2] = 0
        base[300:420, 300:460] = camera_pipeline(make_scene(8, 120, 160), 8, noise=0.04)
        p = tmp / "splice.jpg"
        Image.fromarray(base).save(p, quality=70)
        inputs.append(("spliced JPEG q70 with clipped areas",
                       np.asarray(Image.open(p).convert("RGB"))))
        inputs.append(("the same splice, never compressed", base))
        rng = np.random.default_rng(0)
        inputs.append(("uniform noise 517x389 (odd size)",
                       rng.integers(0, 256, (389, 517, 3), dtype=np.uint8)))
        inputs.append(("grey image expanded to RGB", np.repeat(base[..., :1], 3, axis=2)))
    failures = 0
    print(f"{'input':<38} {'identical':>9} {'orig CPU s':>10} {'patched CPU s':>13}")
    for label, item in inputs:
        c = time.process_time()
        r0 = ela.error_level_analysis(item)
        t0 = time.process_time() - c
        c = time.process_time()
        r1 = patched.error_level_analysis(item)
        t1 = time.process_time() - c
        diff = _diff_paths(r0, r1)
        failures += bool(diff)
        print(f"{label:<38} {'yes' if not diff else 'NO':>9} {t0:10.3f} {t1:13.3f}  "
              f"score {r0.score}" + (f"  differs at {diff[:3]}" if diff else ""))
    item = inputs[0][1]
    best = []
    for fn in (ela.error_level_analysis, patched.error_level_analysis):
        ts = []
        for _ in range(5):
            c = time.process_time()
            fn(item)
            ts.append(time.process_time() - c)
        best.append(min(ts))
    print(f"best of 5 on the {inputs[0][0]}: original {best[0]:.3f} s CPU, patched "
          f"{best[1]:.3f} s CPU ({best[0] / best[1]:.2f}x)")
    print("\nproposed patch:\n" + patched_ela_source())
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mp", type=float, default=4.0, help="megapixels of the generated photo")
    ap.add_argument("--detector", help="profile this detector instead of the slowest")
    ap.add_argument("--html", help="also write pyinstrument's HTML report here")
    ap.add_argument("--check-ela-patch", action="store_true",
                    help="check the proposed ELA speed-up: identical outputs, and timings")
    args = ap.parse_args(argv)
    if args.check_ela_patch:
        return check_ela_patch(args.mp)
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("pyinstrument is not installed: .venv/bin/pip install pyinstrument")
        return 2

    from bench_images import make_photo
    from detectors.registry import detectors_for
    from triage_app.media import open_media
    from triage_app.pipeline import analyze, run_detector

    with tempfile.TemporaryDirectory(prefix="profile_") as td:
        analyze(open_media(make_photo(0.3, 99, Path(td))))  # imports outside the timing
        path = make_photo(args.mp, 4, Path(td))
        media = open_media(path)
        print(f"{path.name}: {media.width}x{media.height} "
              f"({media.width * media.height / 1e6:.2f} MP)")
        times = []
        for spec in detectors_for("image"):
            w, c = time.perf_counter(), time.process_time()
            r = run_detector(spec, media)
            times.append((time.process_time() - c, time.perf_counter() - w, spec, r.status))
        times.sort(key=lambda t: -t[0])
        total_cpu = sum(t[0] for t in times)
        print(f"{'detector':<26} {'CPU s':>7} {'wall s':>7} {'share':>6}  status")
        for cpu, wall, spec, status in times:
            print(f"{spec.name:<26} {cpu:7.2f} {wall:7.2f} {cpu / total_cpu:6.1%}  {status}")
        target = next((t[2] for t in times if t[2].name == args.detector), None) \
            if args.detector else times[0][2]
        if target is None:
            print(f"no image detector named {args.detector!r}")
            return 2
        print(f"\nslowest: {target.name} ({target.method})\n")
        prof = Profiler(interval=0.001)
        prof.start()
        target.function(media)
        prof.stop()
        print(prof.output_text(unicode=False, color=False, show_all=False,
                               timeline=False, flat=False))
        print(prof.output_text(unicode=False, color=False, flat=True)[:3000])
        if args.html:
            Path(args.html).write_text(prof.output_html(), encoding="utf-8")
            print(f"wrote {args.html}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
