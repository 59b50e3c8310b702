"""Vocoder band limit: where the long-term spectrum stops, how sharply, and what explains it.

Neural TTS and voice conversion usually run at 16, 22.05 or 24 kHz and their mel features
often stop at 7.6-8 kHz, so a clip delivered at 44.1/48 kHz often has no energy above 8-12 kHz,
cut with the steep roll-off of the generator's resampler. Lossy codecs also low-pass
(MP3 at 11-20 kHz depending on bit rate), and any recording from a lower-rate source is
band-limited at that rate's Nyquist, so this trace alone is weak: the detector measures the
cutoff and its steepness, names the ordinary explanation when there is one, and keeps its score
conservative. It also measures narrow periodic peaks at fs/8, fs/4, 3fs/8 of the content rate,
the "checkerboard" tones of transposed-convolution upsampling (Odena et al. 2016).
"""

from __future__ import annotations

import time

import numpy as np

from detectors.audio._common import analysis_audio, logistic, long_term_spectrum
from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, TimeSpan

VERSION = "1.1"  # 1.1: names a telephone channel's band
BUDGET_S = 120.0
#: Speed budget: the long-term spectrum averages at most this many 46 ms segments (~18 s of
#: audio), evenly spaced over the first ``BUDGET_S`` s.
MAX_SEGMENTS = 400

#: Nyquist frequencies of common sample rates (a recording made or resampled at that rate).
RATE_NYQUISTS = (4000.0, 5512.5, 8000.0, 11025.0, 12000.0, 16000.0, 22050.0, 24000.0)
#: Nyquist frequencies of the rates TTS/voice-conversion models usually generate at.
TTS_NYQUISTS = (8000.0, 11025.0, 12000.0)
#: Where a telephone channel's band ends (ITU-T G.712: 300-3400 Hz; codecs and handsets cut
#: a little below or above).
TELEPHONE_BAND = (3200.0, 3650.0)
#: Range of encoder low-pass frequencies of MP3/AAC/Opus at common bit rates (LAME: 11 kHz
#: at 48 kbit/s up to 19.5-20 kHz at 256 kbit/s).
CODEC_LOWPASS = (10500.0, 20500.0)


def _cutoff(level: np.ndarray, freqs: np.ndarray, nyq: float, min_drop: float = 30.0
            ) -> tuple[float | None, float, float]:
    """Highest frequency above which the level stays low: (fc, drop_dB, transition_Hz).

    ``level`` is the smoothed long-term spectrum in dB. A scan (100 Hz grid) finds the
    frequency that maximises (median of the 1 kHz below) - (95th percentile of everything
    above); it must reach ``min_drop`` dB. The cutoff is then where the level leaves the pass
    band (6 dB under the median of the 3..1 kHz below that point). "Stops dead" = the 95th
    percentile above fc + 500 Hz lies at least 20 dB under that pass-band level; the
    transition width is the band over which 90% of that drop happens.
    """
    df = freqs[1] - freqs[0]
    best = (None, 0.0, 0.0)
    # scan candidate cutoffs from 2 kHz to 0.95 Nyquist on a ~100 Hz grid (decimated level)
    step = max(1, int(round(100.0 / df)))
    lev = level[::step]
    fdec = freqs[::step]
    cand = np.flatnonzero((fdec >= 2000) & (fdec <= 0.95 * nyq))
    if cand.size == 0:
        return best
    w = max(2, int(round(1000.0 / df)))
    wd = max(1, w // step)
    for j in cand:
        if j + 1 >= len(lev):
            break
        drop = float(np.median(lev[max(0, j - wd): j]) - np.percentile(lev[j + 1:], 95))
        if drop > best[1]:
            best = (float(fdec[j]), drop, 0.0)
    fc, drop, _ = best
    if fc is None or drop < min_drop:
        return None, drop, 0.0
    # refine: the scan's optimum sits inside the roll-off; the cutoff is where the level
    # leaves the pass band (6 dB under the median level of the 3..1 kHz below the optimum).
    i_star = int(round(fc / df))
    lo = max(int(round(200.0 / df)), i_star - 3 * w)
    ref_band = level[lo: max(lo + 3, i_star - w)]
    ref = float(np.median(ref_band))
    in_pass = np.flatnonzero(level[lo: i_star + 1] >= ref - 6.0)
    i_c = lo + (int(in_pass[-1]) if in_pass.size else 0)
    margin = max(1, int(round(500.0 / df)))
    above = level[i_c + margin:]
    if above.size < 2:
        return None, 0.0, 0.0
    floor = float(np.percentile(above, 95))
    drop = ref - floor
    if drop < 20.0:  # the scan already required 30 dB; the pass-band reference is stricter
        return None, drop, 0.0
    reach = np.flatnonzero(level[i_c:] <= ref - 0.9 * drop)
    width = float(reach[0] * df) if reach.size else float(freqs[-1] - freqs[i_c])
    return float(freqs[i_c]), float(drop), max(float(df), width)


def _peak_prominence(psd_db: np.ndarray, freqs: np.ndarray, f: float) -> float:
    df = freqs[1] - freqs[0]
    i = int(round(f / df))
    if i < 5 or i > len(psd_db) - 6:
        return 0.0
    peak = psd_db[max(0, i - 1): i + 2].max()
    nb = np.concatenate([psd_db[max(0, i - int(300 / df)): max(0, i - int(60 / df))],
                         psd_db[i + int(60 / df): i + int(300 / df)]])
    return float(peak - np.median(nb)) if nb.size else 0.0


@detector(name="vocoder_band_limit", version=VERSION, modalities=("audio", "video"),
          segment_pooling="mean",  # a property of the voice or channel
          method="long-term spectrum cutoff frequency, drop and transition width, against "
                 "sample-rate and codec low-pass explanations; upsampling tone peaks",
          reference="Odena, Dumoulin & Olah (2016), 'Deconvolution and checkerboard artifacts', "
                    "Distill, doi:10.23915/distill.00003; Frank & Schoenherr (2021), 'WaveFake: "
                    "A data set to facilitate audio deepfake detection', NeurIPS Datasets",
          limits="Cannot tell a TTS clip upsampled from 22.05 kHz from an authentic recording "
                 "resampled from 22.05 kHz, nor a generator's low-pass from a low-bit-rate MP3 "
                 "encoder's; generators that run at 44.1/48 kHz leave no band limit. The score "
                 "therefore never exceeds 0.6.",
          artifacts=("vocoder_band_limit",), params={"min_drop_db": 30.0}, localizes=True)
def vocoder_band_limit(media, *, min_drop_db: float = 30.0) -> DetectorResult:
    """Vocoder band limit: a sharp spectral cutoff below the file's Nyquist.

    Welch's long-term spectrum (46 ms Hann windows; at most ``MAX_SEGMENTS`` of them, evenly
    spread over the first ``BUDGET_S`` s), smoothed over
    ~200 Hz, gives the cutoff fc where the level leaves its pass band and never comes back
    (everything above lies ``min_drop_db`` under the kilohertz below, see :func:`_cutoff`), the
    drop in dB and the transition width over which it happens (steepness = drop / width,
    dB/kHz; codec and resampler low-passes are steep too, so this is reported, not trusted).
    A cutoff is then classified as explained by a common sample rate's Nyquist (+-3%),
    inside the range of codec low-pass frequencies, or unexplained. Also measured: the
    prominence of narrow peaks at fs'/8, fs'/4 and 3fs'/8 (fs' = 2 fc or the file's rate),
    upsampling tones of transposed-convolution vocoders.

    Returns
    -------
    DetectorResult
        Score (hand-set, deliberately conservative): 0.2 with no cutoff; with a cutoff,
        0.3 + 0.2 * logistic(steepness, 60 dB/kHz, 15) where a cutoff at a TTS rate's
        Nyquist (8, 11.025, 12 kHz) adds 0.05 and one explained by a codec range or another
        sample rate subtracts 0.05; + up to 0.1 for upsampling tones above 10 dB.
        The finding is a TimeSpan over the whole file in the band (fc, Nyquist).

    References
    ----------
    .. [1] Odena A., Dumoulin V., Olah C. (2016). Deconvolution and checkerboard artifacts.
       Distill. doi:10.23915/distill.00003
    .. [2] Frank J., Schoenherr L. (2021). WaveFake: A Data Set to Facilitate Audio Deepfake
       Detection. NeurIPS Datasets and Benchmarks. arXiv:2111.02813
    """
    from scipy.ndimage import uniform_filter1d

    t0 = time.perf_counter()
    x, fs, reason = analysis_audio(media)
    if reason:
        return DetectorResult.not_applicable("vocoder_band_limit", VERSION, reason)
    x = x[: int(BUDGET_S * fs)]
    if np.max(np.abs(x)) < 1e-4:
        return DetectorResult.not_applicable("vocoder_band_limit", VERSION, "silent audio")
    nyq = fs / 2.0
    nper = int(2 ** np.ceil(np.log2(0.046 * fs)))
    freqs, psd = long_term_spectrum(x, fs, nper, max_segments=MAX_SEGMENTS)
    level = 10 * np.log10(psd + 1e-20)
    df = freqs[1] - freqs[0]
    smooth = uniform_filter1d(level, size=max(1, int(round(200.0 / df))), mode="nearest")
    fc, drop, width = _cutoff(smooth, freqs, nyq, min_drop_db)
    findings: list[Finding] = []
    extras: dict = {"nyquist_hz": nyq, "cutoff_hz": fc, "drop_db": drop,
                    "transition_hz": width}
    content_fs = 2 * fc if fc else fs
    tones = {f"{k}/8": _peak_prominence(level, freqs, k * content_fs / 8) for k in (1, 2, 3)}
    tone = max(tones.values())
    extras["upsampling_tone_db"] = {k: round(v, 2) for k, v in tones.items()}
    if fc is None:
        score = 0.2
        extras["explanation"] = "no cutoff below Nyquist"
    else:
        steep = drop / max(width / 1000.0, df / 1000.0)  # dB per kHz
        near = lambda f0: abs(fc - f0) <= 0.03 * f0  # noqa: E731
        if any(near(f) for f in TTS_NYQUISTS):
            expl, adj = "Nyquist of a common TTS / low sample rate", 0.05
            if CODEC_LOWPASS[0] <= fc <= CODEC_LOWPASS[1]:
                expl += " (also in the codec low-pass range)"
                adj = 0.0
        elif any(near(f) for f in RATE_NYQUISTS):
            expl, adj = "Nyquist of a lower sample rate", -0.05
        elif CODEC_LOWPASS[0] <= fc <= CODEC_LOWPASS[1]:
            expl, adj = "within the MP3/AAC encoder low-pass range", -0.05
        elif TELEPHONE_BAND[0] <= fc <= TELEPHONE_BAND[1]:
            expl, adj = "the 300-3400 Hz band of a telephone channel", -0.05
        else:
            expl, adj = "unexplained", 0.0
        score = 0.3 + 0.2 * logistic(steep, 60.0, 15.0) + adj
        extras.update({"steepness_db_per_khz": steep, "explanation": expl})
        dur = round(len(x) / fs, 4)
        findings.append(Finding(
            "vocoder_band_limit", TimeSpan(0.0, dur, round(fc, 1), nyq),
            logistic(steep, 60.0, 15.0),
            Measurement(f"spectral cutoff at {fc:.0f} Hz ({expl}); drop", round(drop, 2),
                        min_drop_db, "dB"),
            "vocoder_band_limit"))
    if tone > 10.0:
        score += 0.1 * logistic(tone, 15.0, 2.5)
        k = max(tones, key=tones.get)
        f_tone = int(k[0]) * content_fs / 8
        findings.append(Finding(
            "vocoder_band_limit",
            TimeSpan(0.0, round(len(x) / fs, 4), round(f_tone - 60, 1), round(f_tone + 60, 1)),
            logistic(tone, 15.0, 2.5),
            Measurement(f"narrow spectral peak at {k} of {content_fs:.0f} Hz", round(tone, 2),
                        10.0, "dB"), "vocoder_band_limit"))
    return DetectorResult(name="vocoder_band_limit", version=VERSION, status="ok",
                          score=float(min(score, 0.6)), findings=findings,
                          runtime=time.perf_counter() - t0,
                          params={"min_drop_db": min_drop_db}, extras=extras)
