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

import csv
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _channels  # noqa: E402

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


def main(argv: list[str] | None = None) -> int:
    ap = _channels.parser(__doc__, CHANNELS)
    ap.add_argument("--per-class", type=int, default=12,
                    help="images per (source, label) (default 12)")
    args = ap.parse_args(argv)
    rows = pick_rows(args.corpus, args.per_class) if (args.corpus / "manifest.csv").is_file() \
        else []
    return _channels.run(args, rows, convert, "images")


if __name__ == "__main__":
    raise SystemExit(main())
