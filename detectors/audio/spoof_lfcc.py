"""Spoofed-speech detector: LFCC features scored by two GMMs (bona fide vs spoof).

The ASVspoof 2019/2021 baseline countermeasure (Todisco et al. 2019; LFCC from Sahidullah,
Kinnunen & Hanilci 2015): linear-frequency cepstral coefficients with deltas and double deltas,
one Gaussian mixture per class, the log-likelihood ratio as the score. Ours differs in three
ways, all to stop the model from learning a channel instead of synthesis (see
``resources/models/audio_spoof_lfcc.md``):

- everything is resampled to 16 kHz mono and quantised to 16 bits, and the filterbank spans
  0 - ``fmax`` Hz (8 kHz in the shipped model, with 60 filters and 40 cepstra; the model
  file's ``config`` says), and the model was trained on lossy-codec copies of every utterance
  too, so that the codec of a file is not what it learns;
- c0 (level) is dropped and the cepstra are mean-normalised per file (CMN), so gain and a
  fixed channel colouring do not count;
- only speech frames (energy VAD) are scored.

The GMMs are trained by ``training/train_audio_spoof.py``; the per-file mean LLR is mapped to a
probability by a logistic calibration fitted on held-out (group k-fold) scores.

Text-to-speech family (``tts_*`` tensors, in the shipped model): a third GMM, trained on
espeak-ng and Festival speech only (``training/tts_speech.py``), scored against the same bona
fide GMM. A file is judged by the family (``spoof`` or ``tts``) whose mean LLR is larger, as
the trainer scores it: a separate family leaves the spoof GMM as it is, where pooling formant
synthesis into it lost the neural vocoders (model card).

Optional phase pair (a model file with ``phase_*`` tensors, ``train_audio_spoof.py --phase``;
the shipped model has none): a second GMM pair on :func:`phase_coherence` and
:func:`excitation_peakiness`, which see the phase that LFCC discard (Griffin-Lim keeps the
STFT magnitude), fused as a sum of standardised LLRs. It lowers the cross-validated pooled EER
but not on the corpus's neural-vocoder and voice-clone files, so it is not shipped (see the
trainer's docstring for the numbers).
"""

from __future__ import annotations

import functools
import hashlib
import time
from pathlib import Path

import numpy as np

from detectors.audio._common import (TARGET_FS, analysis_audio, frame_signal, merge_spans,
                                     resample_to, span_findings, speech_activity,
                                     unvoiced_reason)
from detectors.registry import detector
from triage_app.model import DetectorResult

VERSION = "1.1"  # 1.1: no voice, no judgement; windows end with the audio
MODEL_PATH = Path(__file__).resolve().parents[2] / "resources" / "models" / \
    "audio_spoof_lfcc.safetensors"

#: Speed budget: analyse at most this much audio; longer files are read as 3 evenly spaced
#: 10 s chunks (of the first ``ANALYSIS_BUDGET_S`` = 600 s every audio detector is limited to).
BUDGET_S = 30.0
CHUNK_S = 10.0

FRAME = 320   # 20 ms at 16 kHz
HOP = 160     # 10 ms
NFFT = 512


# --------------------------------------------------------------------------- features


def preprocess(x: np.ndarray, fs: int) -> np.ndarray:
    """Mono signal at any rate -> 16 kHz, 16-bit quantised float64 (same for train and test)."""
    y = resample_to(np.asarray(x, dtype=np.float64), fs, TARGET_FS)
    return np.round(np.clip(y, -1.0, 1.0) * 32767.0) / 32767.0


@functools.lru_cache(maxsize=8)
def _linear_filterbank(n_filters: int, fmax: float, nfft: int = NFFT, fs: int = TARGET_FS
                       ) -> np.ndarray:
    """Triangular filters equally spaced on a linear scale between 0 and ``fmax``."""
    freqs = np.fft.rfftfreq(nfft, 1.0 / fs)
    edges = np.linspace(0.0, fmax, n_filters + 2)
    fb = np.zeros((n_filters, len(freqs)))
    for i in range(n_filters):
        lo, c, hi = edges[i], edges[i + 1], edges[i + 2]
        up = (freqs - lo) / (c - lo)
        down = (hi - freqs) / (hi - c)
        fb[i] = np.clip(np.minimum(up, down), 0.0, None)
    return fb


def _deltas(c: np.ndarray, width: int = 2) -> np.ndarray:
    """Regression deltas over +-``width`` frames (HTK formula)."""
    n = len(c)
    pad = np.pad(c, ((width, width), (0, 0)), mode="edge")
    num = sum(k * (pad[width + k: width + k + n] - pad[width - k: width - k + n])
              for k in range(1, width + 1))
    return num / (2 * sum(k * k for k in range(1, width + 1)))


def _stft(x16: np.ndarray, window: str = "hann") -> np.ndarray:
    """Spectra of the 20 ms frames (10 ms hop, 512-point FFT), shape (n_frames, 257).

    numpy's FFT, as in v1.0, so that the shipped LFCC model is reproduced bit for bit."""
    from scipy.signal import get_window

    frames = frame_signal(x16, FRAME, HOP)
    if frames.shape[0] == 0:
        return np.zeros((0, NFFT // 2 + 1), dtype=complex)
    w = get_window(window, FRAME) if isinstance(window, str) else window
    return np.fft.rfft(frames * w, n=NFFT, axis=1)


#: Noise-floor subtraction (``denoise``): the noise power spectrum is the mean of the quietest
#: tenth of the file's frames, and each frame keeps at least this share of its own power.
NOISE_QUANTILE = 0.10
SUBTRACTION_FLOOR = 0.05


def subtract_noise_floor(spec: np.ndarray) -> np.ndarray:
    """Power spectra (n_frames, n_bins) less the file's stationary noise floor.

    Power spectral subtraction (Boll 1979) with the noise spectrum averaged over the quietest
    :data:`NOISE_QUANTILE` of frames (the pauses, as a speech-pause noise estimate does), and
    a spectral floor of :data:`SUBTRACTION_FLOOR` times the frame's own power, so that no bin
    goes to zero (no log of 0, little musical noise).

    References
    ----------
    .. [1] Boll S. F. (1979). Suppression of acoustic noise in speech using spectral
       subtraction. IEEE Trans. ASSP 27(2), 113-120. doi:10.1109/TASSP.1979.1163209
    """
    if spec.shape[0] == 0:
        return spec
    energy = spec.sum(axis=1)
    k = max(5, int(round(NOISE_QUANTILE * spec.shape[0])))
    quiet = np.argsort(energy, kind="stable")[:k]
    noise = spec[quiet].mean(axis=0)
    return np.maximum(spec - noise, SUBTRACTION_FLOOR * spec)


def lfcc(x16: np.ndarray, *, n_filters: int = 20, n_ceps: int = 20, fmax: float = 4000.0,
         X: np.ndarray | None = None, denoise: bool = False) -> np.ndarray:
    """LFCC + deltas + double deltas without c0, shape (n_frames, 3 * (n_ceps - 1)).

    Frames: 20 ms Hann, 10 ms hop, 512-point FFT at 16 kHz (Sahidullah et al. 2015).
    ``X``: the frames' spectra (:func:`_stft`), when already computed. ``denoise``: the
    power spectra pass through :func:`subtract_noise_floor` first.
    """
    from scipy.fft import dct

    X = _stft(x16) if X is None else X
    if X.shape[0] == 0:
        return np.zeros((0, 3 * (n_ceps - 1)))
    spec = np.abs(X) ** 2
    if denoise:
        spec = subtract_noise_floor(spec)
    fb = _linear_filterbank(n_filters, float(fmax))
    logfb = np.log(spec @ fb.T + 1e-10)
    c = dct(logfb, type=2, norm="ortho", axis=1)[:, 1:n_ceps]
    return np.hstack([c, _deltas(c), _deltas(_deltas(c))])


def phase_coherence(x16: np.ndarray, *, n_bands: int = 20, fmax: float = 4000.0,
                    X: np.ndarray | None = None) -> np.ndarray:
    """Frame-to-frame phase prediction error in linear bands + deltas, (n_frames, 2 n_bands).

    For every bin the instantaneous frequency w_k(t) is estimated by reassignment (the
    spectrum with the time-derivative of the window, Auger & Flandrin 1995), and the phase
    advance to the next frame (10 ms hop) is predicted as H (w_k(t) + w_k(t+1)) / 2. For a
    sinusoid, or a harmonic whose frequency changes linearly, the prediction is exact; a
    reconstruction whose phases are not those of a running oscillator (Griffin-Lim from random
    phase, frame-wise vocoder phase) misses it. Per band: log of the power-weighted mean of
    (1 - cos(error)), in [0, 2]; independent of level and of a fixed channel filter.
    """
    X = _stft(x16) if X is None else X
    if X.shape[0] < 2:
        return np.zeros((0, 2 * n_bands))
    dwin = (np.pi / FRAME) * np.sin(2 * np.pi * np.arange(FRAME) / FRAME)  # d(hann)/dn
    kmax = int(fmax / TARGET_FS * NFFT) + 1
    X = X[:, :kmax]
    Xd = _stft(x16, dwin)[:, :kmax]
    p = X.real ** 2 + X.imag ** 2 + 1e-12
    omega = 2 * np.pi * np.arange(kmax) / NFFT - np.imag(Xd * np.conj(X)) / p  # rad/sample
    # z = X(t+1) conj(X(t)) = w exp(j dphi), w = |X(t+1)||X(t)|; the weighted error
    # w (1 - cos(dphi - pred)) = |z| - Re(z exp(-j pred)), no phase unwrapping needed
    z = X[1:] * np.conj(X[:-1])
    pred = HOP * 0.5 * (omega[1:] + omega[:-1])
    w = np.abs(z)
    edges = np.linspace(0, kmax, n_bands + 1).astype(int)
    num = np.add.reduceat(w - (z.real * np.cos(pred) + z.imag * np.sin(pred)), edges[:-1],
                          axis=1)
    den = np.add.reduceat(w, edges[:-1], axis=1) + 1e-30
    f = np.log(num / den + 1e-4)
    f = np.vstack([f, f[-1:]])
    return np.hstack([f, _deltas(f)])


def excitation_peakiness(x16: np.ndarray, *, fmax: float = 4000.0, lifter: int = 30,
                         n_sub: int = 4, X: np.ndarray | None = None) -> np.ndarray:
    """How impulsive the spectrally flattened frame is: (n_frames, 4 (1 + n_sub)).

    The frame spectrum is divided by its cepstrally smoothed magnitude (``lifter``
    low-quefrency coefficients of the 512-point real cepstrum, i.e. below 1.9 ms), which keeps
    the phase and removes the vocal-tract envelope; the 0 - ``fmax`` Hz part is brought back
    to the time domain (16 kHz grid, the 20 ms frame): what is left is the excitation seen
    through the window. Voiced speech has a pulse at each glottal closure (its harmonics are
    phase aligned), so it is peaky; magnitude-only reconstruction (Griffin-Lim), which does
    not align the harmonics, is not; pulse-train vocoders are more peaky than speech. Per
    frame, for the whole band and ``n_sub`` equal sub-bands: log kurtosis and log crest factor
    (peak / RMS), then deltas. Level does not change it, and a channel's smooth magnitude
    colouring is divided out; a channel's phase response (all-pass dispersion: rooms, some
    codecs and filters) does change it. The magnitude spectrum alone does not determine it.
    """
    from scipy.fft import irfft, rfft

    X = _stft(x16) if X is None else X
    n_out = 2 * (1 + n_sub)
    if X.shape[0] == 0:
        return np.zeros((0, 2 * n_out))
    cep = irfft(np.log(np.abs(X) + 1e-9), n=NFFT, axis=1)
    cep[:, lifter:NFFT - lifter + 1] = 0.0
    kmax = int(fmax / TARGET_FS * NFFT) + 1          # 129 bins: 0 - 4 kHz
    env = np.exp(rfft(cep, n=NFFT, axis=1).real[:, :kmax])
    W = X[:, :kmax] / env
    sub = np.linspace(0, kmax, n_sub + 1).astype(int)
    masks = np.zeros((1 + n_sub, kmax))
    masks[0, 1:] = 1.0
    for i in range(n_sub):
        masks[1 + i, max(1, sub[i]):sub[i + 1]] = 1.0
    e = np.ascontiguousarray(irfft(W[None, :, :] * masks[:, None, :], n=NFFT, axis=2)
                             [:, :, :FRAME])
    e2 = e * e
    m2 = np.mean(e2, axis=2) + 1e-20
    kurt = np.log(np.mean(e2 * e2, axis=2) / m2 ** 2 + 1e-6)
    crest = 0.5 * np.log(np.max(e2, axis=2) / m2 + 1e-12)
    f = np.stack([kurt, crest], axis=2).transpose(1, 0, 2).reshape(X.shape[0], n_out)
    return np.hstack([f, _deltas(f)])


def mu_law_8bit(x: np.ndarray) -> np.ndarray:
    """G.711-style mu-law companding to 8 bits and back (mu = 255, 256 levels)."""
    mu = 255.0
    x = np.asarray(x, np.float64)
    c = np.sign(x) * np.log1p(mu * np.minimum(np.abs(x), 1.0)) / np.log1p(mu)
    c = np.round(c * 127.0) / 127.0
    return np.sign(c) * np.expm1(np.abs(c) * np.log1p(mu)) / mu


def telephone_channel(x16: np.ndarray) -> np.ndarray:
    """16 kHz audio through a narrowband telephone channel: 8 kHz sampling (anti-aliased),
    G.711 mu-law (ITU-T G.711, 1972), back at 16 kHz.

    The front end of the telephone model, for training and scoring alike: speech that already
    came over a phone line loses next to nothing more (it is band-limited and mu-law coded
    already), and wide-band training speech is brought to what a phone line leaves of it.
    """
    from scipy.signal import resample_poly

    y = resample_poly(np.asarray(x16, np.float64), 1, 2)
    y = mu_law_8bit(np.clip(y, -1.0, 1.0))
    return np.clip(resample_poly(y, 2, 1), -1.0, 1.0)


def speech_frames(x: np.ndarray, fs: int, *, fmax: float, n_filters: int, n_ceps: int,
                  phase: bool, denoise: bool = False, cmvn: bool = False,
                  telephone: bool = False
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(LFCC feats, phase feats or None, times) of the speech frames; one front end for both.

    Cepstral mean normalisation of the LFCC statics over the speech frames of the file; the
    phase features are level- and channel-invariant by construction and are not normalised
    (their per-file level is the cue). ``cmvn``: every LFCC dimension (statics and deltas) is
    also divided by its standard deviation over the file's speech frames (cepstral mean and
    variance normalisation, Viikki & Laurila 1998: additive noise shrinks the cepstral
    variance, and this undoes the scale). ``telephone``: the signal first goes through
    :func:`telephone_channel` (the telephone model's front end).
    """
    x16 = preprocess(x, fs)
    if telephone:
        x16 = telephone_channel(x16)
    X = _stft(x16)
    f = lfcc(x16, n_filters=n_filters, n_ceps=n_ceps, fmax=fmax, X=X, denoise=denoise)
    ph = _phase_frames(x16, X) if phase else None
    act = speech_activity(x16, TARGET_FS, frame_s=FRAME / TARGET_FS, hop_s=HOP / TARGET_FS)
    n = min(len(f), len(act.active), len(ph) if ph is not None else len(f))
    keep = act.active[:n]
    times = (np.arange(n) * HOP + FRAME / 2) / TARGET_FS
    f, times = f[:n][keep], times[keep]
    if ph is not None:
        ph = ph[:n][keep]
    if len(f):
        nc = n_ceps - 1
        f[:, :nc] -= f[:, :nc].mean(axis=0)
        if cmvn and len(f) > 1:
            f /= f.std(axis=0) + 1e-6
    return f, ph, times


def features(x: np.ndarray, fs: int, *, fmax: float = 4000.0, n_filters: int = 20,
             n_ceps: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Speech-frame features of a mono signal: (feats (n, d), frame times (n,) in s).

    Cepstral mean normalisation over the speech frames of the file.
    """
    f, _, times = speech_frames(x, fs, fmax=fmax, n_filters=n_filters, n_ceps=n_ceps,
                                 phase=False)
    return f, times


#: Phase feature dimension in :func:`all_features`: phase coherence 2 x 20 + excitation
#: peakiness 2 x 10.
PHASE_DIM = 60


def _phase_frames(x16: np.ndarray, X: np.ndarray | None = None) -> np.ndarray:
    """Per-frame phase features of a 16 kHz signal, (n_frames, PHASE_DIM), not normalised."""
    X = _stft(x16) if X is None else X
    a = phase_coherence(x16, X=X)
    b = excitation_peakiness(x16, X=X)
    n = min(len(a), len(b))
    return np.hstack([a[:n], b[:n]])


def all_features(x: np.ndarray, fs: int, *, fmax: float = 4000.0, n_filters: int = 20,
                 n_ceps: int = 20) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(LFCC feats, phase feats, times) of the same speech frames (see :func:`speech_frames`):
    LFCC as :func:`features`, phase features :func:`phase_coherence` and
    :func:`excitation_peakiness` (0 - 4 kHz)."""
    return speech_frames(x, fs, fmax=fmax, n_filters=n_filters, n_ceps=n_ceps, phase=True)


# --------------------------------------------------------------------------- model


class DiagGMM:
    """A diagonal-covariance Gaussian mixture, scored in numpy (no sklearn at run time)."""

    def __init__(self, weights: np.ndarray, means: np.ndarray, variances: np.ndarray) -> None:
        self.logw = np.log(np.maximum(weights, 1e-300))
        self.means = means
        self.prec = 1.0 / variances
        d = means.shape[1]
        self.const = (-0.5 * (d * np.log(2 * np.pi) + np.log(variances).sum(axis=1))
                      - 0.5 * (means ** 2 * self.prec).sum(axis=1) + self.logw)
        self.mp = means * self.prec

    def loglik(self, x: np.ndarray) -> np.ndarray:
        """Per-frame log-likelihood, shape (n,)."""
        ll = self.const[None, :] - 0.5 * (x ** 2) @ self.prec.T + x @ self.mp.T
        m = ll.max(axis=1, keepdims=True)
        return (m + np.log(np.exp(ll - m).sum(axis=1, keepdims=True)))[:, 0]


class SpoofModel:
    """Two GMMs and the calibration, loaded from safetensors."""

    def __init__(self, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
        self.bona = DiagGMM(tensors["bona_weights"], tensors["bona_means"],
                            tensors["bona_variances"])
        self.spoof = DiagGMM(tensors["spoof_weights"], tensors["spoof_means"],
                             tensors["spoof_variances"])
        cfg = tensors["config"]  # fmax, n_filters, n_ceps[, denoise[, cmvn[, telephone]]]
        self.fmax, self.n_filters, self.n_ceps = float(cfg[0]), int(cfg[1]), int(cfg[2])
        self.denoise = bool(cfg[3]) if len(cfg) > 3 else False
        self.cmvn = bool(cfg[4]) if len(cfg) > 4 else False
        self.telephone = bool(cfg[5]) if len(cfg) > 5 else False
        self.calib_a, self.calib_b = (float(v) for v in tensors["calibration"])
        self.metadata = metadata
        # v1.1: a second GMM pair on phase features, fused as a sum of standardised LLRs
        self.has_phase = "phase_bona_means" in tensors
        if self.has_phase:
            self.phase_bona = DiagGMM(tensors["phase_bona_weights"], tensors["phase_bona_means"],
                                      tensors["phase_bona_variances"])
            self.phase_spoof = DiagGMM(tensors["phase_spoof_weights"],
                                       tensors["phase_spoof_means"],
                                       tensors["phase_spoof_variances"])
            self.sd_lfcc, self.sd_phase = (float(v) for v in tensors["fusion_scale"])
        # a text-to-speech family (train_audio_spoof.py --tts): a third GMM, scored against
        # the same bona fide GMM; a file is judged by the family whose mean LLR is larger
        self.has_tts = "tts_means" in tensors
        if self.has_tts:
            self.tts = DiagGMM(tensors["tts_weights"], tensors["tts_means"],
                               tensors["tts_variances"])

    @property
    def families(self) -> tuple[str, ...]:
        """Names of the columns of :meth:`frame_llrs`."""
        return ("spoof", "tts") if self.has_tts else ("spoof",)

    def frame_llrs(self, feats: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
        """Per-frame scores, one column per family (:attr:`families`): the spoof family is
        :meth:`frame_llr`; the TTS family, LLR of the TTS GMM against the bona fide one."""
        cols = [self.frame_llr(feats, phase)]
        if self.has_tts:
            cols.append(self.tts.loglik(feats) - self.bona.loglik(feats))
        return np.stack(cols, axis=1)

    def frame_llr(self, feats: np.ndarray, phase: np.ndarray | None = None) -> np.ndarray:
        """Per-frame score: the LFCC LLR, or (phase model) LLR_lfcc / sd_lfcc +
        LLR_phase / sd_phase, sd = standard deviation of the out-of-fold file scores."""
        llr = self.spoof.loglik(feats) - self.bona.loglik(feats)
        if not self.has_phase:
            return llr
        lp = self.phase_spoof.loglik(phase) - self.phase_bona.loglik(phase)
        return llr / self.sd_lfcc + lp / self.sd_phase

    def probability(self, llr: float) -> float:
        z = self.calib_a * llr + self.calib_b
        return float(1.0 / (1.0 + np.exp(-np.clip(z, -50, 50))))


@functools.lru_cache(maxsize=2)
def load_model(path: str = str(MODEL_PATH)) -> SpoofModel:
    """Load the model (safetensors only, never pickle); cached per path."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(path)
    with safe_open(path, framework="numpy") as fh:
        meta = dict(fh.metadata() or {})
    return SpoofModel(tensors, meta)


def model_sha256(path: Path = MODEL_PATH) -> str:
    """SHA-256 of the weight file (cached per path and modification time)."""
    p = Path(path)
    return _sha256_cached(str(p), p.stat().st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _sha256_cached(path: str, mtime_ns: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


#: Narrowband input: when the 4.5-7.5 kHz band is this far below the 0.3-3.4 kHz band
#: (telephone speech resampled to 16 kHz reads -64 to -67 dB, wide-band speech -2 to -34 dB in
#: the development corpus), half of what an 8 kHz model reads is missing, and it says so
#: instead of scoring (a cut-off below 8 kHz itself is ``vocoder_band_limit``'s evidence).
NARROWBAND_DB = -55.0


def upper_band_db(x16: np.ndarray) -> float:
    """Mean power of 4.5-7.5 kHz relative to 0.3-3.4 kHz (dB) of 16 kHz audio (Welch)."""
    from scipy.signal import welch

    if len(x16) < NFFT:
        return float("nan")
    f, p = welch(np.asarray(x16, np.float64), TARGET_FS, nperseg=NFFT)
    low = float(p[(f > 300) & (f < 3400)].mean())
    high = float(p[(f > 4500) & (f < 7500)].mean())
    if low <= 0:
        return float("nan")
    return 10.0 * float(np.log10(max(high, 1e-30) / low))


def narrowband_reason(native_fs: int, x16: np.ndarray, fmax: float, *,
                      reader: str = "the spoof model") -> str | None:
    """Why a model (``reader``, as the reason names it) reading 0-``fmax`` Hz cannot judge
    this audio, or None when it can."""
    if fmax <= 4000.0:
        return None
    if native_fs < 2 * fmax * 0.95:
        return (f"sampled at {native_fs:,} Hz, so it holds nothing above {native_fs // 2:,} Hz; "
                f"{reader} reads 0-{fmax:,.0f} Hz and was trained on wide-band speech")
    db = upper_band_db(x16[: int(BUDGET_S * TARGET_FS)])
    if np.isfinite(db) and db < NARROWBAND_DB:
        return (f"narrowband (telephone-band) audio: the 4.5-7.5 kHz band is {-db:.0f} dB below "
                f"the 0.3-3.4 kHz band (limit {-NARROWBAND_DB:.0f} dB); {reader} reads "
                f"0-{fmax:,.0f} Hz and was trained on wide-band speech")
    return None


def _budgeted(x: np.ndarray, fs: int) -> list[tuple[float, np.ndarray]]:
    """(offset s, chunk) pieces: the whole file, or ``BUDGET_S / CHUNK_S`` evenly spaced
    10 s chunks."""
    dur = len(x) / fs
    if dur <= BUDGET_S:
        return [(0.0, x)]
    n = int(BUDGET_S // CHUNK_S)
    starts = np.linspace(0, dur - CHUNK_S, n)
    return [(float(s), x[int(s * fs): int((s + CHUNK_S) * fs)]) for s in starts]


@detector(name="spoof_lfcc", version=VERSION, modalities=("audio", "video"),
          segment_pooling="mean",  # a property of the voice or channel
          method="LFCC (0-8 kHz in the shipped model, deltas, CMN) scored by bona fide and "
                 "spoof GMMs (and a text-to-speech GMM where the model has one); calibrated "
                 "log-likelihood ratio, per-second windows located in time",
          reference="Sahidullah, Kinnunen & Hanilci (2015), 'A comparison of features for "
                    "synthetic speech detection', Interspeech 2015; Todisco et al. (2019), "
                    "'ASVspoof 2019: future horizons in spoofed and fake audio detection', "
                    "Interspeech 2019",
          limits="Trained on a small set: a few dozen real speakers, re-syntheses made by WORLD, "
                 "Griffin-Lim and an LPC vocoder, espeak-ng and Festival text-to-speech, one "
                 "neural (Piper/VITS) voice, 16 GAN-vocoder clips of one LJSpeech speaker and 6 "
                 "YouTube voice clones. A neural voice it has not heard is barely seen (held "
                 "out, the Piper voice scored EER 0.42); noisy or music-laden audio and "
                 "non-speech are outside what it has seen; see the model card. Telephone-band "
                 "audio (sampled below 16 kHz, or nothing "
                 "above 4 kHz) is not judged; lossy codecs at low bit rates and added noise "
                 "shift its scores (model card, channel table).",
          artifacts=("generator_fingerprint",), params={"budget_s": BUDGET_S},
          localizes=True, weight_files=("resources/models/audio_spoof_lfcc.safetensors",))
def spoof_lfcc(media, *, model_path: str | None = None) -> DetectorResult:
    """Synthetic-speech score from LFCC features and two Gaussian mixtures.

    Parameters
    ----------
    media : AudioMedia or VideoMedia
    model_path : str, optional
        A safetensors model other than the shipped one.

    Returns
    -------
    DetectorResult
        ``score`` = calibrated probability (logistic of the file's mean frame LLR, constants
        fitted on held-out folds by the training script). Findings: TimeSpans (0 - fmax Hz)
        of 1 s windows (0.5 s hop, >= 0.3 s of speech) whose calibrated probability exceeds
        0.5, merged.

    References
    ----------
    .. [1] Sahidullah M., Kinnunen T., Hanilci C. (2015). A comparison of features for
       synthetic speech detection. Proc. Interspeech 2015, 2087-2091.
    .. [2] Todisco M. et al. (2019). ASVspoof 2019: Future horizons in spoofed and fake audio
       detection. Proc. Interspeech 2019, 1008-1012. doi:10.21437/Interspeech.2019-2249
    """
    t0 = time.perf_counter()
    path = model_path or str(MODEL_PATH)
    if not Path(path).is_file():
        return DetectorResult.error("spoof_lfcc", VERSION, f"model file missing: {path}")
    x, fs, reason = analysis_audio(media, TARGET_FS)
    if reason:
        return DetectorResult.not_applicable("spoof_lfcc", VERSION, reason)
    model = load_model(path)
    _, native_fs, _ = analysis_audio(media)
    why = narrowband_reason(int(native_fs), x, model.fmax)
    if why:
        return DetectorResult.not_applicable("spoof_lfcc", VERSION, why)
    why = unvoiced_reason(x, fs)  # white noise passes the energy VAD, and has no voice
    if why:
        return DetectorResult.not_applicable("spoof_lfcc", VERSION, why)
    all_llr, all_t = [], []
    for off, chunk in _budgeted(x, fs):
        if len(chunk) < 0.3 * fs:
            continue
        f, ph, t = speech_frames(chunk, fs, fmax=model.fmax, n_filters=model.n_filters,
                                  n_ceps=model.n_ceps, phase=model.has_phase,
                                  denoise=model.denoise, cmvn=model.cmvn,
                                  telephone=model.telephone)
        if len(f):
            all_llr.append(model.frame_llrs(f, ph))
            all_t.append(t + off)
    llrs = np.concatenate(all_llr) if all_llr else np.zeros((0, len(model.families)))
    times = np.concatenate(all_t) if all_t else np.zeros(0)
    if len(llrs) < 50:
        return DetectorResult.not_applicable("spoof_lfcc", VERSION,
                                             "less than 0.5 s of speech-like audio")
    family_means = llrs.mean(axis=0)
    best = int(np.argmax(family_means))   # the training script scores files the same way
    llr = llrs[:, best]
    mean_llr = float(family_means[best])
    score = model.probability(mean_llr)
    spans = []
    end = float(times[-1])
    for s in np.arange(0.0, max(end - 0.5, 0.0) + 1e-9, 0.5):
        sel = (times >= s) & (times < s + 1.0)
        if sel.sum() >= 30:
            w = float(np.mean(llr[sel]))
            if model.probability(w) > 0.5:
                # the last window stops where the audio does, not past the recording's end
                spans.append((float(s), min(float(s + 1.0), len(x) / fs), w))
    spans = merge_spans(spans)
    findings = span_findings(spans, artifact="generator_fingerprint", detector="spoof_lfcc",
                             measurement=("LFCC-GMM log-likelihood ratio (text-to-speech - "
                                          "bona fide)" if model.families[best] == "tts" else
                                          "LFCC + phase GMM fused log-likelihood ratio "
                                          "(spoof - bona fide, standardised)"
                                          if model.has_phase else
                                          "LFCC-GMM log-likelihood ratio (spoof - bona fide)"),
                             unit=("sd/frame" if model.has_phase and model.families[best] ==
                                   "spoof" else "nats/frame"),
                             reference=float(-model.calib_b / model.calib_a),
                             strength_fn=model.probability, low_hz=0.0, high_hz=model.fmax)
    return DetectorResult(
        name="spoof_lfcc", version=VERSION, status="ok", score=score, findings=findings,
        runtime=time.perf_counter() - t0,
        params={"fmax": model.fmax, "n_ceps": model.n_ceps, "budget_s": BUDGET_S},
        extras={"mean_llr": mean_llr, "speech_frames": int(len(llr)),
                "family": model.families[best],
                "family_mean_llr": {k: round(float(v), 4)
                                    for k, v in zip(model.families, family_means)},
                "model_sha256": model_sha256(Path(path))})
