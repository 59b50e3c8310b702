"""Audio-visual synchronisation of the mouth with the speech envelope.

In natural speech the mouth's movement and the loudness of the voice go together: the area of
the mouth opening follows the acoustic envelope at 2-7 Hz, with the mouth leading the voice by
0-300 ms (Chandrasekaran et al. 2009). Lip-sync forgeries and dubbed or re-timed tracks break
this: the coupling is weak, or strong at the wrong lag, or its lag drifts.

Following the correlation approach of SyncNet (Chung & Zisserman 2016) with hand-made features
instead of learned ones, we correlate, over lags of +-0.5 s:

- video: the mouth band's openness proxy per frame (RMS vertical gradient over mean luma of
  the mouth band of the tracked face crop, from the shared pass: an open mouth shows the dark
  cavity, teeth and both lips' edges), a stand-in for the mouth area of Chandrasekaran et al.;
- audio: the log RMS envelope (floor -60 dBFS) in a two-frame window around each frame,

both band-passed to 1-8 Hz and z-scored, on the frames where the face is tracked (pauses
included: a closed mouth during silence is part of the coupling); over the whole clip and in
sliding 4-s windows (hop 1 s) for drift and local desync. At least 3 s of speech are needed.
The mouth band's motion energy is kept in the extras as a second view.
A lag is positive when the audio comes after the mouth.
"""

from __future__ import annotations

import math
import time

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, FrameSpan, Measurement

from . import _pass as P

NAME = "video_av_sync"
VERSION = "1.0"

MAX_LAG_S = 0.5
WINDOW_S, HOP_S = 4.0, 1.0
#: Natural lag range (audio after mouth): centre 0.1 s, half-width 0.2 s (mouth leads the
#: voice by 0-300 ms; Chandrasekaran et al. 2009), so -0.1..+0.3 s is in sync.
LAG_CENTRE, LAG_TOL = 0.1, 0.2
#: Coupling strength z = peak correlation x sqrt(effective samples); z >= 3 means a coupling
#: well above chance (one-sided 0.1 %); logistic x0 = 3, k = 1.5.
COUPLING_CAL = {"x0": 3.0, "k": 1.5}
#: Lag beyond the natural range: logistic on |lag - centre| with x0 = 0.25 s (just past the
#: tolerance), k = 20 per second; bounded to 0.3..0.95, because a face swap keeps the
#: original, synchronous mouth: being in sync is weak evidence of authenticity.
LAG_CAL = {"x0": 0.25, "k": 20.0}
#: Probability when no coupling is found during speech: weak evidence only (off-screen
#: voices, narration and poor mouth visibility also give it).
P_UNCOUPLED = 0.6
#: Drift of the lag across windows (s per s): a recording's audio and video clocks agree to
#: ~1e-4 (crystal tolerance), so a lag that moves by 0.2 s over 10 s (0.02 s/s) means a
#: re-timed track. Slope by Theil-Sen over the windows' lags; judged over >= 5 well-coupled windows spanning >= 8 s (lag steps are
#: 1/fps, so shorter spans cannot resolve it); logistic x0 = 0.02, k = 150; max-pooled with
#: the lag evidence.
DRIFT_CAL = {"x0": 0.02, "k": 150.0}
DRIFT_MIN_WINDOWS, DRIFT_MIN_S = 5, 8.0
MIN_SPEECH_S = 3.0


def _bandpass(x: np.ndarray, fps: float) -> np.ndarray:
    from scipy.signal import butter, sosfiltfilt

    hi = min(8.0, 0.45 * fps)
    sos = butter(2, [1.0 / (fps / 2), hi / (fps / 2)], btype="band", output="sos")
    return sosfiltfilt(sos, x)


def av_features(vp: "P.VideoPass") -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mouth openness, log envelope, valid mask) per frame, band-passed and z-scored; NaN
    gaps filled by the median before filtering, valid = face tracked."""
    mm = vp.stats["mouth_open"]
    aa = np.log(vp.audio_rms + 1e-3)
    valid = np.isfinite(mm)
    v = np.where(np.isfinite(mm), mm, np.nanmedian(mm) if np.isfinite(mm).any() else 0.0)
    out = []
    for x in (v, aa):
        y = _bandpass(x - x.mean(), vp.fps) if vp.n > 30 else x - x.mean()
        s = y[valid].std() if valid.any() else 1.0
        out.append(np.where(valid, y / (s + 1e-12), 0.0))
    return out[0], out[1], valid


def xcorr(v: np.ndarray, a: np.ndarray, m: np.ndarray, max_lag: int) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """Normalised cross-correlation corr(v[t], a[t + L]) for L in -max_lag..max_lag over the
    frames valid in both; returns (lags, correlations)."""
    lags = np.arange(-max_lag, max_lag + 1)
    cs = np.full(len(lags), np.nan)
    n = len(v)
    for k, L in enumerate(lags):
        i0, i1 = max(0, -L), min(n, n - L)
        if i1 - i0 < 10:
            continue
        vv, aa = v[i0:i1], a[i0 + L:i1 + L]
        mm = m[i0:i1] & m[i0 + L:i1 + L]
        if mm.sum() < 10:
            continue
        x, y = vv[mm] - vv[mm].mean(), aa[mm] - aa[mm].mean()
        d = math.sqrt(float((x * x).sum() * (y * y).sum()))
        cs[k] = float((x * y).sum() / d) if d > 0 else np.nan
    return lags, cs


def _peak(lags, cs, n_valid: int, fps: float) -> tuple[float, float, float]:
    """(lag s, peak correlation, coupling z) of the positive correlation peak."""
    if not np.isfinite(cs).any():
        return math.nan, math.nan, 0.0
    k = int(np.nanargmax(cs))
    # band-limited to 8 Hz at fps: about fps / 16 samples per independent one
    n_eff = max(1.0, n_valid * min(1.0, 16.0 / fps))
    c = float(cs[k])
    return float(lags[k] / fps), c, c * math.sqrt(n_eff)


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Cross-correlation (lags +-0.5 s) of the mouth band's openness proxy with the log "
           "RMS envelope of the audio, band-passed 1-8 Hz, on frames with a tracked face; over the clip and in 4-s windows. Coupling z and lag against the natural "
           "range -0.1..+0.3 s, documented logistics.",
    reference="J. S. Chung and A. Zisserman, 'Out of time: automated lip sync in the wild', "
              "ACCV workshops 2016; C. Chandrasekaran et al., 'The natural statistics of "
              "audiovisual speech', PLoS Computational Biology 5(7), 2009; A. Haliassos et al., "
              "'Lips don't lie', CVPR 2021",
    limits="Needs an audio track with at least 3 s of speech while a frontal face of 40 px or "
           "more is tracked. Off-screen speakers, several speakers, music, narration and "
           "masks break the coupling without any forgery; hand-made features see coarse "
           "mouth motion only (a skilled lip-sync forgery with the right timing passes). "
           "Container offsets (edit lists) are honoured by the decoder, not re-checked here.",
    artifacts=("av_desynchronization",),
    params={"max_lag_s": MAX_LAG_S, "window_s": WINDOW_S, "hop_s": HOP_S,
            "lag_range_s": [LAG_CENTRE - LAG_TOL, LAG_CENTRE + LAG_TOL],
            "coupling_calibration": COUPLING_CAL, "lag_calibration": LAG_CAL,
            "drift_calibration": DRIFT_CAL, "p_uncoupled": P_UNCOUPLED},
)
def video_av_sync(media) -> DetectorResult:
    """Lip-audio coupling and lag of a talking face."""
    t0 = time.perf_counter()
    vp = P.video_pass(media)
    ex = {**vp.summary(), "audio": vp.audio_info}
    if vp.audio_rms is None:
        why = "no audio track" if not vp.audio_info.get("has_audio") else \
            f"the audio track could not be decoded ({vp.audio_info.get('error', 'unknown')})"
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=ex,
                                             runtime=time.perf_counter() - t0)
    why = vp.face_applicability()
    if why is not None:
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=ex,
                                             runtime=time.perf_counter() - t0)
    v, a, m = av_features(vp)
    speech_face_s = float((m & vp.speech).sum()) / vp.fps
    if speech_face_s < MIN_SPEECH_S:
        return DetectorResult.not_applicable(
            NAME, VERSION, f"only {speech_face_s:.1f} s of speech while the face is visible "
            f"(needs {MIN_SPEECH_S:g} s)", extras=ex, runtime=time.perf_counter() - t0)
    L = int(round(MAX_LAG_S * vp.fps))
    lags, cs = xcorr(v, a, m, L)
    lag, c, z = _peak(lags, cs, int(m.sum()), vp.fps)
    p_c = P.logistic(z, **COUPLING_CAL)
    p_lag = P.bounded(P.logistic(abs(lag - LAG_CENTRE), **LAG_CAL)) if math.isfinite(lag) \
        else 0.5
    score = p_c * p_lag + (1 - p_c) * P_UNCOUPLED

    # sliding windows: local lag and strength
    W, H = int(round(WINDOW_S * vp.fps)), max(1, int(round(HOP_S * vp.fps)))
    windows = []
    for s in range(0, max(1, vp.n - W + 1), H):
        mw = m.copy()
        mw[:s] = False
        mw[s + W:] = False
        if mw.sum() < 0.5 * W:
            continue
        lw, cw = xcorr(v, a, mw, L)
        wl, wc, wz = _peak(lw, cw, int(mw.sum()), vp.fps)
        windows.append({"start": round(float(vp.time[s]), 3),
                        "end": round(float(vp.time[min(vp.n - 1, s + W - 1)]), 3),
                        "lag_s": round(wl, 3) if math.isfinite(wl) else None,
                        "corr": round(wc, 3) if math.isfinite(wc) else None,
                        "z": round(wz, 2), "i0": s, "i1": min(vp.n - 1, s + W - 1)})
    strong = [w for w in windows if w["z"] >= COUPLING_CAL["x0"] and w["lag_s"] is not None]
    drift = None
    p_drift = None
    if len(strong) >= 3:
        tt = np.array([w["start"] for w in strong])
        ll = np.array([w["lag_s"] for w in strong])
        if np.ptp(tt) > 0:   # Theil-Sen: robust to a window that locked onto a wrong peak
            from scipy.stats import theilslopes

            drift = float(theilslopes(ll, tt)[0])
        if drift is not None and len(strong) >= DRIFT_MIN_WINDOWS and np.ptp(tt) >= DRIFT_MIN_S:
            p_drift = P.bounded(P.logistic(abs(drift), **DRIFT_CAL))
            score = max(score, p_drift)

    findings: list[Finding] = []
    bad = [w for w in strong if abs(w["lag_s"] - LAG_CENTRE) > LAG_TOL]
    if bad and score > 0.5:
        mask = np.zeros(vp.n, bool)
        for w in bad:
            mask[w["i0"]:w["i1"] + 1] = True
        for a_, b_ in P.segments(mask):
            ws = [w for w in bad if a_ <= w["i0"] <= b_]
            med_lag = float(np.median([w["lag_s"] for w in ws]))
            findings.append(Finding(
                artifact="av_desynchronization",
                location=FrameSpan(float(vp.time[a_]), float(vp.time[b_] + 1 / vp.fps),
                                   vp.span_box(a_, b_)),
                strength=float(min(1.0, abs(med_lag - LAG_CENTRE) / MAX_LAG_S)),
                measurement=Measurement("audio lag behind mouth motion", round(med_lag, 3),
                                        LAG_CENTRE, "s"),
                detector=NAME, region="nasal_oral_region"))
    if p_drift is not None and p_drift > 0.5 and drift is not None:
        a_, b_ = strong[0]["i0"], strong[-1]["i1"]
        findings.append(Finding(
            artifact="av_desynchronization",
            location=FrameSpan(float(vp.time[a_]), float(vp.time[b_] + 1 / vp.fps),
                               vp.span_box(a_, b_)),
            strength=float(2 * p_drift - 1),
            measurement=Measurement("drift of the audio lag", round(drift, 4),
                                    DRIFT_CAL["x0"], "s/s"),
            detector=NAME, region="nasal_oral_region"))
    if not findings and score > 0.5 and p_c < 0.5:
        idx = np.flatnonzero(m)
        findings.append(Finding(
            artifact="av_desynchronization",
            location=FrameSpan(float(vp.time[idx[0]]), float(vp.time[idx[-1]] + 1 / vp.fps),
                               vp.span_box(int(idx[0]), int(idx[-1]))),
            strength=float(score - 0.5),
            measurement=Measurement("mouth-speech coupling z", round(z, 2),
                                    COUPLING_CAL["x0"]),
            detector=NAME, region="nasal_oral_region"))
    ex.update({"lag_s": round(lag, 3) if math.isfinite(lag) else None,
               "peak_corr": round(c, 4) if math.isfinite(c) else None,
               "coupling_z": round(z, 2), "p_coupled": round(p_c, 4),
               "speech_face_seconds": round(speech_face_s, 2),
               "drift_s_per_s": None if drift is None else round(drift, 4),
               "windows": [{k: w_[k] for k in ("start", "end", "lag_s", "corr", "z")}
                           for w_ in windows][:120]})
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0,
                          params={"max_lag_s": MAX_LAG_S, "lag_range_s":
                                  [LAG_CENTRE - LAG_TOL, LAG_CENTRE + LAG_TOL]},
                          extras=ex)
