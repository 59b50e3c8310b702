"""How the video verdict holds up when the same clip is re-encoded, as platforms do.

Every video row of the development corpus is decoded with PyAV and written again through
each channel below into a temporary folder (picture only: the corpus clips carry no sound
that the channels should keep), then analysed by the product's pipeline (all video
detectors and the fusion, no explanation).

Channels: ``original`` (the whole file as it is), ``h264_crf18`` (its first ``--seconds``
re-encoded almost transparently: the reference for the channels after it, which keep as
many seconds), ``h264_crf28`` (H.264, CRF 28: a heavier
compression than FF++ c23), ``h264_480p`` (scaled to 480 lines, CRF 23, the size most
platforms serve), ``vp9`` (VP9 in WebM, CRF 35).

Printed per channel: fused ROC AUC, mean fused probability of authentic and manipulated
clips, the share of authentic clips called ``likely_manipulated`` (false alarms) and of
manipulated ones (hits), and per detector the mean score on authentic clips with the share
where it was applicable.

Usage::

    .venv/bin/python benchmarks/eval_video_channels.py [--corpus ../shared/corpus]
        [--channels original,h264_480p] [--seconds 10] [--json out.json]
"""

from __future__ import annotations

import sys
from fractions import Fraction
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _channels  # noqa: E402

CHANNELS = ("original", "h264_crf18", "h264_crf28", "h264_480p", "vp9")
_SETTINGS = {
    "h264_crf18": ("libx264", ".mp4", {"crf": "18", "preset": "veryfast"}, None),
    "h264_crf28": ("libx264", ".mp4", {"crf": "28", "preset": "veryfast"}, None),
    "h264_480p": ("libx264", ".mp4", {"crf": "23", "preset": "veryfast"}, 480),
    "vp9": ("libvpx-vp9", ".webm", {"crf": "35", "b": "0", "deadline": "realtime",
                                    "cpu-used": "8"}, None),
}


def reencode(src: Path, channel: str, out_dir: Path, *, seconds: float) -> Path:
    """The first ``seconds`` of ``src``'s picture, written through ``channel``."""
    import av

    if channel == "original":
        return src
    codec, suffix, options, lines = _SETTINGS[channel]
    dst = out_dir / f"{src.stem}_{channel}{suffix}"
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        rate = vin.average_rate or 25
        stream = out.add_stream(codec, rate=rate, options=options)
        w, h = vin.codec_context.width, vin.codec_context.height
        if lines and h > lines:
            w, h = int(round(w * lines / h / 2)) * 2, lines
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        stream.codec_context.time_base = Fraction(1, int(round(float(rate))))
        for i, frame in enumerate(inp.decode(vin)):
            if frame.time is not None and frame.time >= seconds:
                break
            img = frame.reformat(width=w, height=h, format="yuv420p")
            img.pts, img.time_base = i, stream.codec_context.time_base  # constant frame rate
            for pkt in stream.encode(img):
                out.mux(pkt)
        for pkt in stream.encode():
            out.mux(pkt)
    return dst


def main(argv: list[str] | None = None) -> int:
    # one clip at a time: the encoders and the video pass use both cores already
    ap = _channels.parser(__doc__, CHANNELS, jobs=1)
    ap.add_argument("--seconds", type=float, default=10.0,
                    help="re-encode at most this many seconds of each clip (default 10)")
    args = ap.parse_args(argv)
    rows = _channels.corpus_rows(args.corpus, "video") \
        if (args.corpus / "manifest.csv").is_file() else []
    return _channels.run(args, rows, partial(reencode, seconds=args.seconds), "clips")


if __name__ == "__main__":
    raise SystemExit(main())
