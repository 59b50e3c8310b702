"""Synthetic speech made FROM real speech, for training the spoof model on synthesis traces.

Every generator here takes a real utterance and re-synthesises it, so a spoof example and its
bona fide source share speaker, words, microphone, room and codec: the only thing that differs
is the synthesis. Training on such pairs (and keeping a source and its re-syntheses in the same
cross-validation fold) stops a model from learning speakers or channels instead of synthesis.

Generators (all at 16 kHz, numpy/scipy plus the WORLD binding; nothing is downloaded):

- ``world``: WORLD analysis/synthesis (DIO + StoneMask F0, CheapTrick envelope, D4C
  aperiodicity) with the analysed parameters unchanged (Morise, Yokomori & Ozawa 2016).
- ``world_mod``: WORLD with F0 scaled by 1.12 and its contour smoothed (a prosody change, as
  voice conversion does) and aperiodicity pushed towards periodic (a "buzzier" source).
- ``griffin_lim``: Griffin-Lim phase reconstruction from the magnitude STFT (Griffin & Lim
  1984), 32 iterations from random phase, the phase problem of every mel-to-wave TTS.
- ``lpc``: an LPC-10-style source-filter vocoder (Atal & Hanauer 1971): 18th-order LPC per
  25 ms frame, excited by a pulse train at the WORLD F0 in voiced frames and white noise in
  unvoiced ones, gain matched to the prediction residual.

No text-to-speech engine is used here; `training/tts_speech.py` makes espeak-ng speech
(tried in the spoof model, not shipped).

References
----------
Morise M., Yokomori F., Ozawa K. (2016). WORLD: a vocoder-based high-quality speech synthesis
system for real-time applications. IEICE Trans. Inf. Syst. E99-D(7), 1877-1884.
Griffin D., Lim J. (1984). Signal estimation from modified short-time Fourier transform. IEEE
Trans. ASSP 32(2), 236-243.
Atal B. S., Hanauer S. L. (1971). Speech analysis and synthesis by linear prediction of the
speech wave. J. Acoust. Soc. Am. 50(2B), 637-655.
"""

from __future__ import annotations

import numpy as np

from detectors.audio._common import load_pyworld

FS = 16000
METHODS = ("world", "world_mod", "griffin_lim", "lpc")


def _world_analyse(x: np.ndarray, fs: int):
    pw = load_pyworld()
    x = np.ascontiguousarray(x, dtype=np.float64)
    f0, t = pw.dio(x, fs, frame_period=5.0)
    f0 = pw.stonemask(x, f0, t, fs)
    sp = pw.cheaptrick(x, f0, t, fs)
    ap = pw.d4c(x, f0, t, fs)
    return f0, sp, ap


def world_resynth(x: np.ndarray, fs: int = FS, *, f0_scale: float = 1.0,
                  smooth_f0: bool = False, ap_scale: float = 1.0) -> np.ndarray:
    """WORLD analysis + synthesis, optionally with F0 scaled/smoothed and aperiodicity scaled."""
    from scipy.ndimage import uniform_filter1d

    pw = load_pyworld()
    f0, sp, ap = _world_analyse(x, fs)
    if smooth_f0:
        voiced = f0 > 0
        sm = uniform_filter1d(np.where(voiced, f0, 0.0), 15)
        cnt = uniform_filter1d(voiced.astype(float), 15)
        f0 = np.where(voiced, sm / np.maximum(cnt, 1e-6), 0.0)
    f0 = f0 * f0_scale
    ap = np.clip(ap * ap_scale, 0.0, 1.0)
    y = pw.synthesize(np.ascontiguousarray(f0), np.ascontiguousarray(sp),
                      np.ascontiguousarray(ap), fs, 5.0)
    return _match(y, x)


def griffin_lim(x: np.ndarray, fs: int = FS, *, n_iter: int = 32, n_fft: int = 512,
                hop: int = 128, seed: int = 0) -> np.ndarray:
    """Griffin-Lim reconstruction of ``x`` from its STFT magnitude alone."""
    from scipy.signal import istft, stft

    rng = np.random.default_rng(seed)
    _, _, z = stft(x, fs, nperseg=n_fft, noverlap=n_fft - hop)
    mag = np.abs(z)
    phase = np.exp(2j * np.pi * rng.random(mag.shape))
    y = x
    for _ in range(n_iter):
        _, y = istft(mag * phase, fs, nperseg=n_fft, noverlap=n_fft - hop)
        _, _, z2 = stft(y, fs, nperseg=n_fft, noverlap=n_fft - hop)
        z2 = z2[:, :mag.shape[1]]
        if z2.shape[1] < mag.shape[1]:
            z2 = np.pad(z2, ((0, 0), (0, mag.shape[1] - z2.shape[1])))
        phase = np.exp(1j * np.angle(z2))
    _, y = istft(mag * phase, fs, nperseg=n_fft, noverlap=n_fft - hop)
    return _match(y[: len(x)], x)


def lpc_vocoder(x: np.ndarray, fs: int = FS, *, order: int = 18, frame_s: float = 0.025,
                hop_s: float = 0.0125, seed: int = 0) -> np.ndarray:
    """LPC-10-style source-filter re-synthesis (pulse train / noise through the LPC filter)."""
    from scipy.linalg import solve_toeplitz
    from scipy.signal import get_window, lfilter

    pw = load_pyworld()
    rng = np.random.default_rng(seed)
    x = np.asarray(x, dtype=np.float64)
    f0, t = pw.dio(np.ascontiguousarray(x), fs, frame_period=hop_s * 1000)
    f0 = pw.stonemask(np.ascontiguousarray(x), f0, t, fs)
    n = int(frame_s * fs)
    h = int(hop_s * fs)
    win = get_window("hann", n)
    pre = lfilter([1, -0.9], [1], x)
    y = np.zeros(len(x) + n)
    phase = 0.0
    for k, start in enumerate(range(0, len(x) - n, h)):
        seg = pre[start:start + n] * win
        r = np.correlate(seg, seg, "full")[n - 1: n + order]
        if r[0] < 1e-10:
            continue
        r[0] *= 1.0 + 1e-6
        try:
            a = solve_toeplitz(r[:order], r[1:order + 1])
        except np.linalg.LinAlgError:
            continue
        lpc = np.concatenate([[1.0], -a])
        resid = lfilter(lpc, [1], seg)
        g = np.sqrt(np.mean(resid ** 2))
        fk = f0[min(k, len(f0) - 1)]
        if fk > 0:
            exc = np.zeros(n)
            period = fs / fk
            pos = phase
            while pos < n:
                exc[int(pos)] = 1.0
                pos += period
            phase = pos - h  # continue the pulse train into the next frame
            exc *= np.sqrt(period)
        else:
            exc = rng.normal(0, 1, n)
            phase = 0.0
        y[start:start + n] += lfilter([1], lpc, exc * g) * win
    y = lfilter([1], [1, -0.9], y[: len(x)])
    return _match(y, x)


def _match(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Same length and RMS as the source (gain is not what we want the model to learn)."""
    y = np.asarray(y, dtype=np.float64)
    if len(y) < len(x):
        y = np.pad(y, (0, len(x) - len(y)))
    y = y[: len(x)]
    rx = np.sqrt(np.mean(x ** 2)) + 1e-12
    ry = np.sqrt(np.mean(y ** 2)) + 1e-12
    y = y * (rx / ry)
    peak = np.max(np.abs(y))
    if peak > 0.99:
        y *= 0.99 / peak
    return y


def synthesize(x: np.ndarray, method: str, fs: int = FS, *, seed: int = 0) -> np.ndarray:
    """Re-synthesise real speech ``x`` (mono, ``fs`` = 16 kHz) with one of :data:`METHODS`."""
    if method == "world":
        return world_resynth(x, fs)
    if method == "world_mod":
        return world_resynth(x, fs, f0_scale=1.12, smooth_f0=True, ap_scale=0.6)
    if method == "griffin_lim":
        return griffin_lim(x, fs, seed=seed)
    if method == "lpc":
        return lpc_vocoder(x, fs, seed=seed)
    raise ValueError(f"method must be one of {METHODS}, got {method!r}")
