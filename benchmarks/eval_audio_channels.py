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

import argparse
import csv
import json
import sys
import tempfile
import time
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.eval_image_channels import summarise  # noqa: E402

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


def write_channel(src: Path, channel: str, out_dir: Path, seconds: float) -> Path:
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
    import av

    codec, fmt, suffix, rate, bit_rate = _LOSSY[channel]
    path = stem.with_suffix(suffix)
    pcm = np.clip(resample_to(x, fs, rate), -1, 1).astype(np.float32)
    with av.open(str(path), "w", format=fmt) as out:
        st = out.add_stream(codec, rate=rate)
        st.bit_rate = bit_rate
        st.layout = "mono"
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="flt", layout="mono")
        frame.sample_rate = rate
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    return path


def analyse_one(job: tuple[str, int, str, str, float]) -> dict:
    from triage_app.media import MediaError, open_media
    from triage_app.pipeline import analyze

    src, label, channel, tmp, seconds = job
    row = {"path": src, "label": label, "channel": channel}
    try:
        media = open_media(write_channel(Path(src), channel, Path(tmp), seconds))
        a = analyze(media, explain=False)
    except (MediaError, OSError, ValueError) as exc:
        row["error"] = str(exc)
        return row
    row["probability"] = a.verdict.probability
    row["verdict"] = a.verdict.label
    row["scores"] = {r.name: r.score for r in a.detectors if r.status == "ok"}
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--channels", default=",".join(CHANNELS))
    ap.add_argument("--seconds", type=float, default=15.0)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    if not (args.corpus / "manifest.csv").is_file():
        print(f"no manifest.csv under {args.corpus}", file=sys.stderr)
        return 2
    channels = [c.strip() for c in args.channels.split(",") if c.strip()]
    rows = [(str(args.corpus / r["path"]), int(r["label"] == "manipulated"))
            for r in csv.DictReader(open(args.corpus / "manifest.csv"))
            if r["modality"] == "audio"]
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        jobs = [(p, y, ch, tmp, args.seconds) for ch in channels for p, y in rows]
        with ProcessPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            results = list(pool.map(analyse_one, jobs, chunksize=2))
    print(f"{len(rows)} recordings x {len(channels)} channels, "
          f"{time.perf_counter() - start:.0f} s wall")
    print(summarise(results, channels))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
