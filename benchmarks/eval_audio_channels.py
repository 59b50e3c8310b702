"""How the audio verdict holds up when the same recording arrives through another channel.

A voice message or a clip taken off a platform has been through a lossy codec, often at a
low bit rate; a phone call through an 8 kHz band. Every audio row of the development corpus
(the first ``--seconds`` of it, mono) is written once per channel below into a temporary
folder as a real file of that format, opened by the product's loader and analysed by the
product's pipeline (all audio detectors and the fusion, no explanation).

Channels: ``original`` (the file as it is), ``wav16`` (16 kHz 16-bit WAV: the reference for
the channels after it, which keep as many seconds), ``mp3_128k`` (44.1 kHz), ``mp3_64k``
(22.05 kHz), ``opus_24k`` (48 kHz Ogg Opus, a voice-message setting), ``aac_64k`` (44.1 kHz
M4A), ``phone_8k`` (8 kHz mu-law WAV), ``noise_30db`` (white noise at 30 dB SNR, 16 kHz WAV).

Printed per channel, as for images (``eval_image_channels.py``): fused ROC AUC, mean fused
probability per class, the share of bona fide recordings called ``likely_manipulated``
(false alarms) and of spoofed ones (hits), and each detector's mean score on the bona fide
recordings with the share where it was applicable. The spoof models were trained on these
corpus files (out-of-fold figures are in their model cards): read the differences between
channels, not the levels.

Usage::

    .venv/bin/python benchmarks/eval_audio_channels.py [--corpus ../shared/corpus]
        [--channels original,opus_24k] [--seconds 15] [--jobs 2] [--json out.json]
"""

from __future__ import annotations

import sys
import zlib
from functools import partial
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks import _channels  # noqa: E402

CHANNELS = ("original", "wav16", "mp3_128k", "mp3_64k", "opus_24k", "aac_64k", "phone_8k",
            "noise_30db")
#: channel -> (FFmpeg codec, container format, suffix, sample rate, bit rate)
_LOSSY = {
    "mp3_128k": ("libmp3lame", "mp3", ".mp3", 44100, 128_000),
    "mp3_64k": ("libmp3lame", "mp3", ".mp3", 22050, 64_000),
    "opus_24k": ("libopus", "ogg", ".ogg", 48000, 24_000),
    "aac_64k": ("aac", "ipod", ".m4a", 44100, 64_000),
}


def _mono(path: Path, seconds: float) -> tuple[np.ndarray, int]:
    from detectors.audio._common import read_audio_file

    data, fs = read_audio_file(str(path), max_duration=seconds)
    return data.mean(axis=1).astype(np.float64), int(fs)


def write_channel(src: Path, channel: str, out_dir: Path, *, seconds: float) -> Path:
    """The first ``seconds`` of ``src`` (mono) written through ``channel``."""
    import soundfile as sf

    from detectors.audio._common import resample_to

    if channel == "original":
        return src
    x, fs = _mono(src, seconds)
    stem = out_dir / f"{src.parent.parent.name}_{src.stem}_{channel}"
    if channel in ("wav16", "noise_30db"):
        y = resample_to(x, fs, 16000)
        if channel == "noise_30db":
            rng = np.random.default_rng(zlib.crc32(src.name.encode()))
            power = float(np.mean(y ** 2)) or 1e-12
            y = y + rng.normal(0.0, np.sqrt(power / 1000.0), y.shape)
        path = stem.with_suffix(".wav")
        sf.write(path, np.clip(y, -1, 1), 16000, subtype="PCM_16")
        return path
    if channel == "phone_8k":
        path = stem.with_suffix(".wav")
        sf.write(path, np.clip(resample_to(x, fs, 8000), -1, 1), 8000, subtype="ULAW")
        return path
    from training.train_audio_spoof import encode_mono

    codec, fmt, suffix, rate, bit_rate = _LOSSY[channel]
    path = stem.with_suffix(suffix)
    encode_mono(path, np.clip(resample_to(x, fs, rate), -1, 1), codec=codec, rate=rate,
                bit_rate=bit_rate, fmt=fmt)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = _channels.parser(__doc__, CHANNELS)
    ap.add_argument("--seconds", type=float, default=15.0,
                    help="write at most this many seconds of each recording (default 15)")
    args = ap.parse_args(argv)
    rows = _channels.corpus_rows(args.corpus, "audio") \
        if (args.corpus / "manifest.csv").is_file() else []
    return _channels.run(args, rows, partial(write_channel, seconds=args.seconds),
                         "recordings")


if __name__ == "__main__":
    raise SystemExit(main())
