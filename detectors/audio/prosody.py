"""Unnatural prosody: a voice too regular to be human.

Human speech is never perfectly steady: intonation moves the pitch by several semitones within
a sentence, the vocal folds add cycle-to-cycle perturbation (jitter), and syllables come at an
irregular rate. Older and cheaper TTS and voice conversion are monotone, too smooth at the
frame level, or metronomic. This detector measures the three against documented human ranges.
"""

from __future__ import annotations

import time

import numpy as np

from detectors.audio._common import (TARGET_FS, analysis_audio, load_pyworld, logistic,
                                     merge_spans, runs, span_findings)
from detectors.registry import detector
from triage_app.model import DetectorResult

VERSION = "1.0"
BUDGET_S = 30.0
FRAME_MS = 10.0
#: Pitch is tracked at 8 kHz (F0 <= 500 Hz needs no more; 2x faster than 16 kHz).
PITCH_FS = 8000

#: Human reference ranges used by the score (see the docstring for sources).
F0_SD_ST_MIN = 1.5        # semitones; read speech is usually 2-5 st (Traunmueller & Eriksson)
MICRO_PCT_MIN = 0.3       # % frame-to-frame F0 perturbation after detrending (jitter proxy)
RHYTHM_AC_MAX = 0.7       # energy-envelope autocorrelation at the syllable lag


@detector(name="unnatural_prosody", version=VERSION, modalities=("audio", "video"),
          segment_pooling="mean",  # a property of the voice or channel
          method="F0 range (semitone SD), frame-level F0 micro-perturbation and energy-rhythm "
                 "periodicity over voiced speech, against human ranges",
          reference="Traunmueller & Eriksson (1995), 'The frequency range of the voice "
                    "fundamental in the speech of male and female adults' (Stockholm Univ.); "
                    "Baken & Orlikoff (2000), 'Clinical Measurement of Speech and Voice', 2nd "
                    "ed. (jitter norms); Morise et al. (2016) WORLD/DIO F0 estimation",
          limits="Needs at least 1.5 s of voiced speech. Expressive modern TTS has human-like "
                 "prosody; monotone humans (reading lists, some speaking styles, singing a "
                 "held note) look regular. Frame-level perturbation is a proxy for cycle "
                 "jitter and is reduced by heavy lossy coding.",
          artifacts=("unnatural_prosody",), params={"budget_s": BUDGET_S}, localizes=True)
def unnatural_prosody(media) -> DetectorResult:
    """Unnatural prosody: pitch and energy contours too regular for a human voice.

    At 8 kHz (first ``BUDGET_S`` = 30 s, the stated speed budget), WORLD's DIO + StoneMask
    gives F0 every 10 ms (Morise et al. 2016). Over voiced frames (runs >= 50 ms):

    - F0 spread: standard deviation of F0 in semitones. Human read speech spans about 2-5
      semitones SD (Traunmueller & Eriksson 1995); below ``F0_SD_ST_MIN`` = 1.5 st is flat.
    - micro-perturbation: mean |diff| of log-F0 after removing a 50 ms median trend, in %.
      Cycle jitter of normal voices is 0.5-1% (Baken & Orlikoff 2000); the frame-level
      residual of natural speech sits above ``MICRO_PCT_MIN`` = 0.3%, a perfectly smooth
      synthetic contour below.
    - rhythm: peak autocorrelation of the 100 Hz energy envelope at lags 0.12-0.5 s (syllable
      rates 2-8 Hz); natural speech stays below ``RHYTHM_AC_MAX`` = 0.7.

    Returns
    -------
    DetectorResult
        ``score = 0.1 + 0.5 * max(flat, smooth, periodic)``, each a logistic of its distance
        past the human bound (widths 0.3 st, 0.08 %, 0.05). Hand-set, conservative (at most
        0.6): a regular voice is a hint, not proof. Findings: 2 s windows (1 s hop, >= 0.5 s
        voiced) whose F0 SD is below 1 semitone, with the F0 band.

    References
    ----------
    .. [1] Traunmueller H., Eriksson A. (1995). The frequency range of the voice fundamental
       in the speech of male and female adults. Manuscript, Stockholm University.
    .. [2] Baken R. J., Orlikoff R. F. (2000). Clinical Measurement of Speech and Voice, 2nd
       ed. Singular/Thomson Learning.
    .. [3] Morise M., Yokomori F., Ozawa K. (2016). WORLD: a vocoder-based high-quality speech
       synthesis system for real-time applications. IEICE Trans. Inf. Syst. E99-D(7).
    """
    from scipy.ndimage import median_filter

    t0 = time.perf_counter()
    analysis_audio(media, TARGET_FS)  # the 8 kHz version derives from the shared 16 kHz one
    x8, _, reason = analysis_audio(media, PITCH_FS)
    if reason:
        return DetectorResult.not_applicable("unnatural_prosody", VERSION, reason)
    x16 = np.ascontiguousarray(x8[: int(BUDGET_S * PITCH_FS)])
    pw = load_pyworld()
    f0, t = pw.dio(x16, PITCH_FS, f0_floor=60.0, f0_ceil=500.0, frame_period=FRAME_MS,
                   speed=2)
    f0 = pw.stonemask(x16, f0, t, PITCH_FS)
    voiced = f0 > 0
    min_run = int(50 / FRAME_MS)
    keep = np.zeros_like(voiced)
    for s, e in runs(voiced):
        if e - s >= min_run:
            keep[s:e] = True
    n_voiced = int(keep.sum())
    if n_voiced * FRAME_MS / 1000 < 1.5:
        return DetectorResult.not_applicable(
            "unnatural_prosody", VERSION,
            f"only {n_voiced * FRAME_MS / 1000:.2f} s of voiced speech (needs 1.5 s)")
    st = 12 * np.log2(np.where(keep, f0, 1.0) / 100.0)
    f0_sd = float(np.std(st[keep]))
    # micro-perturbation within voiced runs
    resid = []
    for s, e in runs(keep):
        seg = np.log(f0[s:e])
        trend = median_filter(seg, size=5, mode="nearest")
        resid.append(np.abs(np.diff(seg - trend)))
    micro = float(np.mean(np.concatenate(resid)) * 100) if resid else 0.0
    # energy rhythm
    hop = int(PITCH_FS * 0.01)
    nfr = len(x16) // hop
    env = np.sqrt(np.mean(x16[: nfr * hop].reshape(nfr, hop) ** 2, axis=1))
    env = np.log(env + 1e-6)
    env = env - env.mean()
    ac_peak = 0.0
    if nfr > 100 and np.any(env):
        ac = np.correlate(env, env, "full")[nfr - 1:]
        ac = ac / ac[0]
        ac_peak = float(np.max(ac[12:50]))
    flat = logistic(F0_SD_ST_MIN - f0_sd, 0.0, 0.3)
    smooth = logistic(MICRO_PCT_MIN - micro, 0.0, 0.08)
    periodic = logistic(ac_peak - RHYTHM_AC_MAX, 0.0, 0.05)
    score = 0.1 + 0.5 * max(flat, smooth, periodic)
    # windows with a flat contour
    spans = []
    step = int(1000 / FRAME_MS)
    for s in range(0, len(f0), step):
        sel = keep[s: s + 2 * step]
        if sel.sum() * FRAME_MS / 1000 >= 0.5:
            sd = float(np.std(st[s: s + 2 * step][sel]))
            if sd < 1.0:
                lo = float(np.min(f0[s: s + 2 * step][sel]))
                hi = float(np.max(f0[s: s + 2 * step][sel]))
                # the last window stops where the signal does, not past the recording's end
                end = min((s + 2 * step) * FRAME_MS / 1000, x16.size / PITCH_FS)
                spans.append((s * FRAME_MS / 1000, end, sd, lo, hi))
    merged = merge_spans([(a, b, -sd) for a, b, sd, *_ in spans])
    fvals = f0[keep]
    findings = span_findings([(a, b, -v) for a, b, v in merged], artifact="unnatural_prosody",
                             detector="unnatural_prosody", measurement="F0 standard deviation",
                             unit="semitones", reference=1.0,
                             strength_fn=lambda v: logistic(1.0 - v, 0.0, 0.2),
                             low_hz=round(float(np.percentile(fvals, 5)), 1),
                             high_hz=round(float(np.percentile(fvals, 95)), 1))
    return DetectorResult(
        name="unnatural_prosody", version=VERSION, status="ok", score=score,
        findings=findings, runtime=time.perf_counter() - t0, params={"budget_s": BUDGET_S},
        extras={"f0_sd_semitones": f0_sd, "f0_micro_perturbation_pct": micro,
                "energy_rhythm_autocorr": ac_peak, "voiced_s": n_voiced * FRAME_MS / 1000,
                "f0_median_hz": float(np.median(fvals)),
                "human_bounds": {"f0_sd_st_min": F0_SD_ST_MIN,
                                 "micro_pct_min": MICRO_PCT_MIN,
                                 "rhythm_ac_max": RHYTHM_AC_MAX}})
