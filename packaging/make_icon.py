"""Draw the application icon: ``packaging/icon.png`` (256x256) from the same geometry as
``packaging/icon.svg``.

Usage: ``.venv/bin/python packaging/make_icon.py [--size 256] [--out packaging/icon.png]``

The icon is a magnifying glass over a photo frame split in two halves (one "authentic",
one with a blocky, tampered texture): triage of media for manipulation. The SVG is the
master; this script repeats its shapes with Pillow so that no SVG renderer is needed.
Drawing happens at 4x and is downsampled for anti-aliasing.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent

# Colours and geometry, in the SVG's 256-unit viewBox (keep in sync with icon.svg).
BACKGROUND = (23, 37, 58, 255)       # #17253a rounded square
FRAME = (232, 238, 245, 255)         # #e8eef5 photo frame
SKY = (96, 150, 214, 255)            # #6096d6
GROUND = (86, 140, 82, 255)          # #568c52
TAMPER_A = (214, 72, 72, 255)        # #d64848 tampered blocks
TAMPER_B = (240, 160, 60, 255)       # #f0a03c
LENS_RING = (250, 250, 250, 255)     # #fafafa
HANDLE = (250, 200, 70, 255)         # #fac846


def draw_icon(size: int = 256) -> Image.Image:
    """The icon as an RGBA image of ``size`` x ``size`` pixels."""
    ss = 4
    s = size * ss / 256.0  # user units -> pixels at supersampled scale

    def sc(*v: float) -> list[float]:
        return [x * s for x in v]

    img = Image.new("RGBA", (size * ss, size * ss), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    d.rounded_rectangle(sc(8, 8, 248, 248), radius=40 * s, fill=BACKGROUND)
    # photo frame
    d.rounded_rectangle(sc(36, 52, 200, 176), radius=8 * s, fill=FRAME)
    d.rectangle(sc(46, 62, 190, 124), fill=SKY)
    d.polygon(sc(46, 124, 90, 100, 130, 116, 190, 96, 190, 166, 46, 166), fill=GROUND)
    # tampered half: a checker of blocks on the right side of the picture
    block = 12
    for i, x in enumerate(range(130, 190, block)):
        for j, y in enumerate(range(62, 166, block)):
            colour = TAMPER_A if (i + j) % 2 == 0 else TAMPER_B
            d.rectangle(sc(x, y, min(x + block, 190), min(y + block, 166)), fill=colour)
    # magnifying glass
    d.line(sc(182, 182, 226, 226), fill=HANDLE, width=int(20 * s))
    d.ellipse(sc(112, 112, 196, 196), outline=LENS_RING, width=int(12 * s))
    return img.resize((size, size), Image.LANCZOS)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--out", default=str(HERE / "icon.png"))
    args = ap.parse_args(argv)
    draw_icon(args.size).save(args.out, "PNG", optimize=True)
    print(f"wrote {args.out} ({args.size}x{args.size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
