"""How the image verdict holds up when the same picture arrives through another channel.

Evidence rarely reaches an analyst as the camera wrote it: platforms re-encode uploads as
WebP or JPEG, shrink them, and memes travel as palette GIFs. A detector that reads such a
conversion as manipulation turns every re-shared authentic photo into a false alarm. This
script takes image rows of the development corpus (a fixed, evenly spaced subset per source
and label), writes each once per channel below into a temporary folder, opens it with the
product's own loader (so the container is what the detectors see) and runs the full image
analysis (all detectors and the fusion, no explanation).

Channels: ``original`` (the file as it is), ``png`` (lossless re-save), ``jpeg75`` (JPEG
quality 75), ``webp80`` (lossy WebP quality 80), ``heic80`` (HEIF/HEVC quality 80, the
iPhone's photo format), ``avif70`` (AVIF quality 70), ``gif`` (256-colour palette, Pillow's default
Floyd-Steinberg dithering), ``half_jpeg90`` (halved with Lanczos, then JPEG quality 90).

Printed per channel: fused ROC AUC (manipulated vs authentic), the mean fused probability of
the authentic and of the manipulated items, the share of authentic items called
``likely_manipulated`` (false alarms at the verdict) and the share of manipulated items called
so (hits), and per detector the mean score on the authentic items (where applicable) and how
often it was applicable. ``--json`` writes every item's scores.

Usage::

    .venv/bin/python benchmarks/eval_image_channels.py [--corpus ../shared/corpus]
        [--per-class 12] [--jobs 2] [--channels original,webp80] [--json out.json]
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHANNELS = ("original", "png", "jpeg75", "webp80", "heic80", "avif70", "gif", "half_jpeg90")


def convert(src: Path, channel: str, out_dir: Path) -> Path:
    """``src`` re-written through ``channel`` into ``out_dir`` (``original``: ``src`` itself)."""
    from PIL import Image

    if channel == "original":
        return src
    im = Image.open(src)
    im = im.convert("RGB")
    stem = out_dir / f"{src.parent.parent.name}_{src.parent.name}_{src.stem}"
    if channel == "png":
        path = stem.with_suffix(".png")
        im.save(path)
    elif channel == "jpeg75":
        path = stem.with_suffix(".jpg")
        im.save(path, "JPEG", quality=75)
    elif channel == "webp80":
        path = stem.with_suffix(".webp")
        im.save(path, "WEBP", quality=80)
    elif channel in ("heic80", "avif70"):
        import pillow_heif  # the product's loader registers it too

        pillow_heif.register_heif_opener()
        fmt, suffix, q = ("HEIF", ".heic", 80) if channel == "heic80" else ("AVIF", ".avif", 70)
        path = stem.with_suffix(suffix)
        im.save(path, fmt, quality=q)
    elif channel == "gif":
        path = stem.with_suffix(".gif")
        im.convert("P", palette=Image.Palette.ADAPTIVE, colors=256,
                   dither=Image.Dither.FLOYDSTEINBERG).save(path)
    elif channel == "half_jpeg90":
        path = stem.with_suffix(".jpg")
        im.resize((max(1, im.width // 2), max(1, im.height // 2)),
                  Image.Resampling.LANCZOS).save(path, "JPEG", quality=90)
    else:
        raise ValueError(f"unknown channel {channel!r}; known: {', '.join(CHANNELS)}")
    return path


def analyse_one(job: tuple[str, int, str, str]) -> dict:
    """Analyse one (path, label, channel, temp dir) job; a failure is returned, not raised."""
    from triage_app.media import MediaError, open_media
    from triage_app.pipeline import analyze

    src, label, channel, tmp = job
    row = {"path": src, "label": label, "channel": channel}
    try:
        path = convert(Path(src), channel, Path(tmp))
        media = open_media(path)
        a = analyze(media, explain=False)
    except (MediaError, OSError, ValueError) as exc:
        row["error"] = str(exc)
        return row
    row["probability"] = a.verdict.probability
    row["verdict"] = a.verdict.label
    row["scores"] = {r.name: r.score for r in a.detectors if r.status == "ok"}
    row["applicable"] = [r.name for r in a.detectors if r.status == "ok"]
    return row


def pick_rows(corpus: Path, per_class: int) -> list[tuple[str, int]]:
    """Evenly spaced ``per_class`` image rows per (source, label), in manifest order."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for r in csv.DictReader(open(corpus / "manifest.csv")):
        if r["modality"] == "image":
            groups[(r["path"].split("/")[0], r["label"])].append(r["path"])
    rows = []
    for (_, label), paths in sorted(groups.items()):
        idx = np.linspace(0, len(paths) - 1, min(per_class, len(paths))).round().astype(int)
        rows += [(str(corpus / paths[i]), int(label == "manipulated")) for i in sorted(set(idx))]
    return rows


def summarise(results: list[dict], channels: list[str]) -> str:
    from explainers.metrics import roc_auc

    lines = [f"{'channel':<12} {'n':>4} {'AUC':>6} {'p auth':>7} {'p manip':>8} "
             f"{'FA auth':>8} {'hit manip':>9} {'errors':>6}"]
    per_detector: dict[str, dict[str, tuple[float, float]]] = {}
    for ch in channels:
        rs = [r for r in results if r["channel"] == ch]
        ok = [r for r in rs if "error" not in r and r.get("probability") is not None]
        y = np.array([r["label"] for r in ok])
        p = np.array([r["probability"] for r in ok], float)
        auc = roc_auc(y, p) if 0 < y.sum() < len(y) else float("nan")
        auth, man = [r for r in ok if r["label"] == 0], [r for r in ok if r["label"] == 1]
        fa = np.mean([r["verdict"] == "likely_manipulated" for r in auth]) if auth else np.nan
        hit = np.mean([r["verdict"] == "likely_manipulated" for r in man]) if man else np.nan
        lines.append(f"{ch:<12} {len(rs):>4} {auc:>6.3f} {p[y == 0].mean():>7.3f} "
                     f"{p[y == 1].mean():>8.3f} {fa:>8.3f} {hit:>9.3f} "
                     f"{len(rs) - len(ok):>6}")
        names = sorted({n for r in ok for n in r["scores"]})
        for n in names:
            s = [r["scores"][n] for r in auth if n in r["scores"]]
            per_detector.setdefault(n, {})[ch] = (float(np.mean(s)) if s else np.nan,
                                                  len(s) / max(1, len(auth)))
    lines.append("")
    lines.append("mean score on authentic items (share applicable) per detector:")
    lines.append(f"{'detector':<24}" + "".join(f"{ch:>17}" for ch in channels))
    for n, by in sorted(per_detector.items()):
        cells = "".join(f"{by[ch][0]:>9.3f} ({by[ch][1]:.2f})" if ch in by else f"{'-':>17}"
                        for ch in channels)
        lines.append(f"{n:<24}{cells}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--per-class", type=int, default=12,
                    help="images per (source, label) (default 12)")
    ap.add_argument("--channels", default=",".join(CHANNELS))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path, help="write every item's scores here")
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        print(f"no manifest.csv under {args.corpus}", file=sys.stderr)
        return 2
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    rows = pick_rows(args.corpus, args.per_class)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(p, y, ch, tmp) for ch in channels for p, y in rows]
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(analyse_one, jobs, chunksize=2))
    print(f"{len(rows)} images x {len(channels)} channels, "
          f"{time.perf_counter() - start:.0f} s wall")
    print(summarise(results, channels))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
