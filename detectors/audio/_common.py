"""Shared helpers for the audio detectors: input checks, resampling, STFT, speech activity,
span merging, logistic maps, and a WORLD (pyworld) loader.

Every audio detector works on a mono float64 signal. :func:`get_audio` turns whatever the
pipeline hands over (``AudioMedia``, ``VideoMedia`` with a soundtrack, or a bare array with a
sample rate, for tests) into ``(x, fs, reason)``; when ``reason`` is not None the detector
returns ``not_applicable`` with it.

Nothing here imports Qt or torch; scipy and numpy only.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Iterable, Sequence

import numpy as np

from triage_app.model import Finding, Measurement, TimeSpan

#: Rate every analysis runs at after :func:`resample_to`.
TARGET_FS = 16000

#: Longest stretch of a soundtrack decoded from a video, in seconds (a stated budget).
VIDEO_AUDIO_BUDGET_S = 600.0

#: Shortest signal any audio detector looks at, in seconds.
MIN_DURATION_S = 0.25


# --------------------------------------------------------------------------- input


def get_audio(media: Any, *, max_duration: float | None = None,
              channels: str = "mono") -> tuple[np.ndarray | None, int, str | None]:
    """Return ``(samples, sample_rate, reason)`` from an audio or video media.

    Parameters
    ----------
    media : AudioMedia, VideoMedia, or tuple (ndarray, int)
        The item. A ``(array, fs)`` tuple is accepted for tests and training scripts.
    max_duration : float, optional
        Analyse at most this many seconds (from the start).
    channels : {"mono", "all"}
        ``"mono"`` averages channels (shape (n,)); ``"all"`` keeps shape (n, c).

    Returns
    -------
    samples : ndarray of float64 or None
    sample_rate : int
    reason : str or None
        Why the item cannot be analysed (``samples`` is None then).
    """
    if channels not in ("mono", "all"):
        raise ValueError(f"channels must be 'mono' or 'all', got {channels!r}")
    kind = getattr(media, "kind", None)
    if isinstance(media, tuple) and len(media) == 2:
        arr, fs = media
        arr = np.asarray(arr, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr[:, None]
    elif kind == "video":
        budget = VIDEO_AUDIO_BUDGET_S if max_duration is None else min(max_duration,
                                                                       VIDEO_AUDIO_BUDGET_S)
        audio = media.audio(max_duration=budget)
        if audio is None:
            return None, 0, "no audio track"
        arr, fs = np.asarray(audio.samples), int(audio.sample_rate)
    elif kind == "audio":
        arr, fs = np.asarray(media.samples), int(media.sample_rate)
    else:
        return None, 0, f"not audio or video media ({kind or type(media).__name__})"
    if arr.ndim == 1:
        arr = arr[:, None]
    fs = int(fs)
    if fs <= 0 or arr.size == 0:
        return None, fs, "no audio samples"
    # cut to the budget before any copy: converting a whole hour to float64 first cost
    # seconds and a gigabyte
    if max_duration is not None:
        arr = arr[: int(round(max_duration * fs))]
    if arr.shape[0] < MIN_DURATION_S * fs:
        return None, fs, f"audio too short ({arr.shape[0] / fs:.2f} s < {MIN_DURATION_S} s)"
    if channels == "mono":
        # the channel mean accumulated in float64 directly (no (n, channels) float64 copy)
        out = arr[:, 0].astype(np.float64) if arr.shape[1] == 1 else \
            arr.mean(axis=1, dtype=np.float64)
    else:
        out = arr.astype(np.float64)
    if not np.all(np.isfinite(out)):
        out = np.nan_to_num(out, nan=0.0, posinf=1.0, neginf=-1.0)
    return out, fs, None


#: Every detector analyses at most this much of a file (from the start), the stated budget.
ANALYSIS_BUDGET_S = 600.0

_CACHE_ATTR = "_triage_audio_cache"


def analysis_audio(media: Any, rate: int | None = None
                   ) -> tuple[np.ndarray | None, int, str | None]:
    """Mono float64 audio of the first :data:`ANALYSIS_BUDGET_S` s, at ``rate`` (None = native).

    Decoding a soundtrack, averaging channels and resampling are shared by all the audio
    detectors, so the results are memoised on the media object itself (attribute
    ``_triage_audio_cache``; the media's own data are never modified). ``(array, fs)`` tuples
    are computed afresh. Returns ``(samples, sample_rate, reason)`` like :func:`get_audio`.
    """
    cache = None
    if not isinstance(media, tuple):
        cache = getattr(media, _CACHE_ATTR, None)
        if cache is None:
            cache = {}
            try:
                object.__setattr__(media, _CACHE_ATTR, cache)
            except (AttributeError, TypeError):
                cache = None
    key = ("native",)
    if cache is not None and key in cache:
        x, fs, reason = cache[key]
    else:
        x, fs, reason = get_audio(media, max_duration=ANALYSIS_BUDGET_S)
        if cache is not None:
            cache[key] = (x, fs, reason)
    if reason or rate is None or rate == fs:
        return x, fs, reason
    key = ("rate", int(rate))
    if cache is not None and key in cache:
        return cache[key], int(rate), None
    # derive low rates from the cached 16 kHz version when there is one (cheaper)
    if cache is not None and rate < TARGET_FS and ("rate", TARGET_FS) in cache \
            and TARGET_FS % rate == 0:
        y = resample_to(cache[("rate", TARGET_FS)], TARGET_FS, rate)
    else:
        y = resample_to(x, fs, rate)
    if cache is not None:
        cache[key] = y
    return y, int(rate), None


def resample_to(x: np.ndarray, fs: int, target: int = TARGET_FS) -> np.ndarray:
    """Resample ``x`` (axis 0) from ``fs`` to ``target`` Hz with a polyphase filter.

    Uses :func:`scipy.signal.resample_poly` (Kaiser-windowed FIR, the anti-alias low-pass is
    applied for downsampling).
    """
    from scipy.signal import resample_poly

    if fs == target:
        return np.asarray(x, dtype=np.float64)
    frac = Fraction(target, fs).limit_denominator(1000)
    return resample_poly(np.asarray(x, dtype=np.float64), frac.numerator, frac.denominator,
                         axis=0)


def read_audio_file(path: str, *, max_duration: float | None = None) -> tuple[np.ndarray, int]:
    """Decode a file to ``(samples (n, c) float32, fs)`` for scripts (training, benchmarks).

    soundfile for WAV/FLAC/OGG, PyAV for anything else (MP3, AAC). The application itself
    goes through ``triage_app.media.open_media``.
    """
    import soundfile as sf

    try:
        info = sf.info(path)
        frames = -1 if max_duration is None else int(max_duration * info.samplerate)
        data, fs = sf.read(path, frames=frames, dtype="float32", always_2d=True)
        return data, int(fs)
    except Exception:
        pass
    import av

    chunks: list[np.ndarray] = []
    fs = 0
    total = 0
    with av.open(path) as container:
        stream = container.streams.audio[0]
        fs = int(stream.rate or stream.codec_context.sample_rate)
        resampler = av.AudioResampler(format="fltp", layout=None, rate=fs)
        for frame in container.decode(stream):
            for f in resampler.resample(frame):
                a = f.to_ndarray().astype(np.float32)  # (channels, n)
                chunks.append(a.T)
                total += a.shape[1]
            if max_duration is not None and total >= max_duration * fs:
                break
    if not chunks:
        raise ValueError(f"no audio decoded from {path}")
    nch = min(c.shape[1] for c in chunks)
    data = np.concatenate([c[:, :nch] for c in chunks], axis=0)
    if max_duration is not None:
        data = data[: int(max_duration * fs)]
    return data, fs


# --------------------------------------------------------------------------- spectra


def frame_signal(x: np.ndarray, frame: int, hop: int) -> np.ndarray:
    """Frames of ``x`` as a read-only (n_frames, frame) strided view (no copy); the tail
    shorter than a frame is dropped."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    if len(x) < frame:
        return np.zeros((0, frame), dtype=np.float64)
    return np.lib.stride_tricks.sliding_window_view(x, frame)[::hop]


def long_term_spectrum(x: np.ndarray, fs: int, nperseg: int, *, max_segments: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Welch's averaged periodogram (Hann, 50% overlap, one-sided density), batched in numpy.

    Same estimate as :func:`scipy.signal.welch` with ``detrend=False`` after removing the
    signal's mean, several times faster (one FFT call over all segments). With
    ``max_segments``, at most that many segments, evenly spaced over the signal, are averaged
    (a speed budget for long files).
    """
    from scipy.signal import get_window

    x = np.asarray(x, dtype=np.float64)
    x = x - x.mean()
    if len(x) < nperseg:
        x = np.pad(x, (0, nperseg - len(x)))
    frames = frame_signal(x, nperseg, nperseg // 2)
    if max_segments is not None and len(frames) > max_segments:
        frames = frames[np.linspace(0, len(frames) - 1, max_segments).astype(int)]
    win = get_window("hann", nperseg)
    spec = np.fft.rfft(frames * win, axis=1)
    psd = np.mean(spec.real ** 2 + spec.imag ** 2, axis=0) / (fs * np.sum(win ** 2))
    psd[1:-1 if nperseg % 2 == 0 else None] *= 2.0
    return np.fft.rfftfreq(nperseg, 1.0 / fs), psd


def stft_power(x: np.ndarray, fs: int, *, frame: int = 512, hop: int = 256,
               window: str = "hann") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Power spectrogram |STFT|^2.

    Returns
    -------
    power : ndarray, shape (n_frames, frame // 2 + 1)
    freqs : ndarray of Hz
    times : ndarray of frame-centre times in s
    """
    from scipy.signal import get_window

    frames = frame_signal(x, frame, hop)
    win = get_window(window, frame, fftbins=True)
    spec = np.fft.rfft(frames * win, axis=1)
    power = spec.real ** 2 + spec.imag ** 2
    freqs = np.fft.rfftfreq(frame, 1.0 / fs)
    times = (np.arange(frames.shape[0]) * hop + frame / 2) / fs
    return power, freqs, times


def frame_energy_db(x: np.ndarray, fs: int, *, frame_s: float = 0.025,
                    hop_s: float = 0.010) -> tuple[np.ndarray, np.ndarray]:
    """Frame RMS level in dBFS (floor -200 dB) and frame-centre times."""
    frame = max(1, int(round(frame_s * fs)))
    hop = max(1, int(round(hop_s * fs)))
    frames = frame_signal(x, frame, hop)
    rms = np.sqrt(np.mean(frames ** 2, axis=1)) if frames.size else np.zeros(0)
    db = 20 * np.log10(np.maximum(rms, 1e-10))
    times = (np.arange(len(db)) * hop + frame / 2) / fs
    return db, times


@dataclass
class Activity:
    """Frame-level speech activity by energy (see :func:`speech_activity`)."""

    active: np.ndarray      # bool per frame
    level_db: np.ndarray    # frame level dBFS
    times: np.ndarray       # frame centres, s
    hop_s: float
    frame_s: float
    noise_db: float         # estimated noise floor (10th percentile of frame levels)
    speech_db: float        # estimated speech level (95th percentile)
    threshold_db: float


def speech_activity(x: np.ndarray, fs: int, *, frame_s: float = 0.025, hop_s: float = 0.010,
                    margin_db: float = 12.0, hangover: int = 8) -> Activity:
    """Energy-based speech activity detection.

    A frame is active when its level exceeds the noise floor (10th percentile of frame
    levels) by ``margin_db`` and lies within 40 dB of the loud speech level (95th
    percentile); a ``hangover`` of frames bridges short gaps (the classic energy VAD, e.g.
    ITU-T G.729 Annex B keeps a hangover for the same reason).
    """
    from scipy.ndimage import binary_closing

    db, times = frame_energy_db(x, fs, frame_s=frame_s, hop_s=hop_s)
    if db.size == 0:
        return Activity(np.zeros(0, bool), db, times, hop_s, frame_s, -200.0, -200.0, -200.0)
    noise = float(np.percentile(db, 10))
    loud = float(np.percentile(db, 95))
    thr = max(noise + margin_db, loud - 40.0)
    if loud - noise < margin_db:  # no contrast: either all speech or all noise
        thr = loud + 1.0 if loud < -60 else noise - 1.0
    active = db > thr
    if hangover > 0 and active.any():
        active = binary_closing(active, structure=np.ones(hangover, bool))
    return Activity(active, db, times, hop_s, frame_s, noise, loud, thr)


# --------------------------------------------------------------------------- spans


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """Half-open index runs ``[(start, end), ...]`` where ``mask`` is True."""
    m = np.asarray(mask, dtype=bool)
    if m.size == 0:
        return []
    d = np.diff(np.concatenate([[0], m.view(np.int8), [0]]))
    starts = np.flatnonzero(d == 1)
    ends = np.flatnonzero(d == -1)
    return list(zip(starts.tolist(), ends.tolist()))


def merge_spans(spans: Iterable[tuple[float, float, float]], *, gap: float = 0.0
                ) -> list[tuple[float, float, float]]:
    """Merge (start, end, value) spans closer than ``gap`` s; keep the max value."""
    out: list[list[float]] = []
    for s, e, v in sorted(spans):
        if out and s <= out[-1][1] + gap:
            out[-1][1] = max(out[-1][1], e)
            out[-1][2] = max(out[-1][2], v)
        else:
            out.append([s, e, v])
    return [(a, b, c) for a, b, c in out]


#: At most this many findings per detector (and per segment of a long recording), the
#: strongest: 20 left 219 of 479 identical butt joins of a two-hour recording unlisted.
MAX_SPAN_FINDINGS = 100


def span_findings(spans: Sequence[tuple[float, float, float]], *, artifact: str, detector: str,
                  measurement: str, unit: str, reference: float | None,
                  strength_fn, low_hz: float | None = None, high_hz: float | None = None,
                  max_findings: int = MAX_SPAN_FINDINGS) -> list[Finding]:
    """Turn (start, end, value) spans into TimeSpan findings, the strongest
    ``max_findings``, in time order."""
    items = sorted(spans, key=lambda s: -float(strength_fn(s[2])))[:max_findings]
    return [
        Finding(artifact=artifact,
                location=TimeSpan(round(float(s), 4), round(float(e), 4), low_hz, high_hz),
                strength=float(np.clip(strength_fn(v), 0.0, 1.0)),
                measurement=Measurement(measurement, round(float(v), 4), reference, unit),
                detector=detector)
        for s, e, v in sorted(items)
    ]


# --------------------------------------------------------------------------- scores


def logistic(value: float, center: float, width: float) -> float:
    """1 / (1 + exp(-(value - center) / width)), overflow-safe."""
    z = (float(value) - center) / width
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-min(z, 700.0)))
    e = math.exp(max(z, -700.0))
    return e / (1.0 + e)


# --------------------------------------------------------------------------- WORLD


_PYWORLD = None


def load_pyworld():
    """The WORLD vocoder binding (Morise et al. 2016).

    ``import pyworld`` fails when setuptools no longer ships ``pkg_resources`` (pyworld's
    ``__init__`` reads its version through it); the compiled extension itself is fine, so we
    then load it directly.
    """
    global _PYWORLD
    if _PYWORLD is not None:
        return _PYWORLD
    try:
        import pyworld as pw  # type: ignore[import-not-found]
        _PYWORLD = pw
    except ImportError:
        import glob
        import importlib.util
        import os

        spec = importlib.util.find_spec("pyworld")
        if spec is None or spec.origin is None:
            raise
        so = glob.glob(os.path.join(os.path.dirname(spec.origin), "pyworld*.so")) + \
            glob.glob(os.path.join(os.path.dirname(spec.origin), "pyworld*.pyd"))
        if not so:
            raise
        ext = importlib.util.spec_from_file_location("_triage_pyworld.pyworld", so[0])
        mod = importlib.util.module_from_spec(ext)  # type: ignore[arg-type]
        ext.loader.exec_module(mod)  # type: ignore[union-attr]
        _PYWORLD = mod
    return _PYWORLD


# --------------------------------------------------------------------------- voicing

#: Voicing for :func:`unvoiced_reason`: 40 ms frames every 20 ms; a frame is voiced when
#: its normalised autocorrelation peaks at >= VOICED_R for a period of 2.5-16.7 ms
#: (60-400 Hz), as a vowel does and white noise or hiss never does.
VOICED_R = 0.5
MIN_VOICED_S = 0.2
VOICING_MAX_S = 60.0


def voiced_seconds(x: np.ndarray, fs: int) -> float:
    """Seconds of periodic (voiced) sound in the first :data:`VOICING_MAX_S` s of ``x``,
    frames within 40 dB of the loudest (the autocorrelation method of pitch detection,
    Rabiner 1977, "On the use of autocorrelation analysis for pitch detection", IEEE TASSP
    25(1))."""
    x = np.asarray(x[: int(VOICING_MAX_S * fs)], np.float64)
    n, hop = int(0.04 * fs), int(0.02 * fs)
    lo, hi = int(fs / 400), int(fs / 60)
    if x.size < n:
        return 0.0
    k = 1 + (x.size - n) // hop
    frames = x[np.arange(k)[:, None] * hop + np.arange(n)[None, :]]
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = (frames ** 2).sum(axis=1)
    nfft = 1 << int(np.ceil(np.log2(2 * n)))
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames, nfft)) ** 2, nfft)[:, : hi + 1]
    r = ac[:, lo:hi + 1].max(axis=1) / np.maximum(ac[:, 0], 1e-20)
    loud = energy >= energy.max() * 1e-4 if energy.size and energy.max() > 0 else energy > 0
    return float(((r >= VOICED_R) & loud).sum()) * hop / fs


def unvoiced_reason(x: np.ndarray, fs: int) -> str | None:
    """Why a detector of synthetic speech cannot judge ``x`` when it holds no voiced sound
    (white noise, hiss, a room): None when it does."""
    v = voiced_seconds(x, fs)
    if v >= MIN_VOICED_S:
        return None
    return (f"no voiced speech: only {v:.2f} s of periodic sound (needs {MIN_VOICED_S:g} s): "
            "noise, hiss or a silent room has no voice to judge")
