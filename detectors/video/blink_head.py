"""Eye blinking and head-motion smoothness of the tracked face.

**Blinks** (Li, Chang & Lyu 2018): people blink spontaneously about 17 times a minute at rest
and 26 in conversation (4.5 while reading), each blink lasting about 100-400 ms (Bentivoglio et
al. 1997; Stern et al. 1984). Face generators trained on open-eyed photos blink rarely or
oddly. Our openness proxy is the eye band's RMS vertical gradient over its mean luma (lids,
iris and lashes give strong horizontal edges when open; a closed lid is smooth skin), divided
by its 2-s running median. A blink is a dip of at least ``DIP`` below 1 lasting 80-500 ms,
with the eyes open on both sides (the level just before and just after it exceeds the dip's
bottom by 0.6 x ``DIP``).
The rate is judged by a Poisson likelihood ratio between a human rate of 15/min and a
generator rate of 3/min (Li et al. report far fewer blinks in deepfakes), tempered by 0.5
for missed and false dips, and bounded to 0.1..0.95.

**Head motion**: a real head is a massive body; its velocity changes smoothly (most energy
below 2-3 Hz). We take the face's content velocity relative to the camera (phase correlation of
the face crop minus the thumbnail's) and measure the share of velocity energy above 4 Hz; frame-
wise generated faces wobble independently of the head. Judged only when the face moves
clearly (low-frequency speed over 0.3 % of the face width per frame), since tracker noise
alone is white. Its probability is bounded to 0.3..0.95 (smooth motion is weak evidence).
"""

from __future__ import annotations

import math
import time

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, FrameSpan, Measurement

from . import _pass as P

NAME = "video_blink_head"
VERSION = "1.0"

#: Relative openness dip that counts as a blink (15 % below the running median): a closed lid
#: removes the iris and lash edges, which carry much of the band's gradient energy; at the
#: analysis resolution real blinks measure 15-30 % dips.
DIP = 0.15
BLINK_MIN_S, BLINK_MAX_S = 0.08, 0.5
RATE_HUMAN, RATE_FAKE = 15.0, 3.0     # blinks per minute (see module docstring)
TEMPER = 0.5                          # shrink of the log-likelihood ratio
#: Head motion: share of velocity energy above HF_HZ; logistic x0/k: white jitter gives
#: (fps/2 - 4)/(fps/2) = 0.68 at 25 fps, smooth head motion < 0.3.
HF_HZ = 4.0
HEAD_CAL = {"x0": 0.5, "k": 10.0}
MIN_MOTION = 0.003                    # face widths per frame (low-frequency speed)
WEIGHTS = {"blink": 0.6, "head": 0.4}


def openness_series(vp: "P.VideoPass") -> np.ndarray:
    """Relative eye openness per frame (1 = the running median), NaN without a face."""
    from scipy.ndimage import median_filter

    o = vp.stats["eye_open"]
    rel = np.full(vp.n, np.nan)
    win = max(5, int(round(2.0 * vp.fps)) | 1)
    for t in np.unique(vp.track_id[vp.track_id >= 0]):
        idx = np.flatnonzero((vp.track_id == t) & np.isfinite(o))
        if len(idx) < win // 2:
            continue
        base = median_filter(o[idx], size=min(win, len(idx) // 2 * 2 - 1 or 1), mode="nearest")
        rel[idx] = o[idx] / np.maximum(base, 1e-6)
    return rel


def find_blinks(rel: np.ndarray, fps: float) -> tuple[list[tuple[int, int, float]],
                                                       list[tuple[int, int, float]]]:
    """(blinks, atypical dips) as (first frame, last frame, depth); a blink lasts 80-500 ms."""
    low = np.nan_to_num(rel, nan=1.0) < 1.0 - DIP
    blinks, odd = [], []
    for a, b in P.segments(low, gap=0):
        # extend to the frames where the dip starts/ends (half the depth)
        depth = float(1.0 - np.nanmin(rel[a:b + 1]))
        lo, hi = a, b
        while lo > 0 and np.isfinite(rel[lo - 1]) and rel[lo - 1] < 1 - DIP / 2:
            lo -= 1
        while hi < len(rel) - 1 and np.isfinite(rel[hi + 1]) and rel[hi + 1] < 1 - DIP / 2:
            hi += 1
        if (blinks or odd) and lo <= max(x[1] for x in blinks + odd):
            continue  # the same dip, reached from a second sub-threshold run
        if lo == 0 or hi == len(rel) - 1 or not np.isfinite(rel[lo - 1]) or \
                not np.isfinite(rel[hi + 1]):
            continue  # touches the track's edge: not a complete dip
        # eyes open on both sides: each side's level exceeds the dip's bottom by 0.6 x DIP
        # (a slow drift followed by a jump is not a blink)
        k = max(2, int(round(0.12 * fps)))
        before = np.nanmedian(rel[max(0, lo - k):lo])
        after = np.nanmedian(rel[hi + 1:hi + 1 + k])
        bottom = float(np.nanmin(rel[lo:hi + 1]))
        if min(before, after) - bottom < 0.6 * DIP:
            continue
        dur = (hi - lo + 1) / fps
        (blinks if BLINK_MIN_S - 0.5 / fps <= dur <= BLINK_MAX_S else odd).append((lo, hi, depth))
    return blinks, odd


def head_motion(vp: "P.VideoPass") -> dict[str, float]:
    """High-frequency share of the face velocity relative to the camera, per clip.

    Returns ``hf_share`` (NaN when the face barely moves), ``lf_speed`` (face widths/frame)
    and ``jerk`` (RMS third difference of position, face widths/frame^3).
    """
    from scipy.signal import butter, sosfiltfilt

    hf_num = hf_den = 0.0
    lf_sq = n_lf = 0.0
    jerks = []
    sos = butter(2, min(0.99, 2.0 / (vp.fps / 2)), output="sos")
    for t in np.unique(vp.track_id[vp.track_id >= 0]):
        idx = np.flatnonzero(vp.track_id == t)
        v = (vp.face_shift[idx] - np.nan_to_num(vp.cam_shift[idx])) / vp.face_box[idx, 2:3]
        v = v[np.all(np.isfinite(v), axis=1)]
        if len(v) < int(2 * vp.fps) or len(v) < 16:
            continue
        v = v - v.mean(axis=0)
        f = np.fft.rfftfreq(len(v), 1.0 / vp.fps)
        pw = (np.abs(np.fft.rfft(v, axis=0)) ** 2).sum(axis=1)
        hf_num += float(pw[f > HF_HZ].sum())
        hf_den += float(pw[f > 0].sum())
        lf = sosfiltfilt(sos, v, axis=0)
        lf_sq += float((lf ** 2).sum())
        n_lf += len(v)
        pos = np.cumsum(v, axis=0)
        jerks.append(np.sqrt(np.mean(np.sum(np.diff(pos, 3, axis=0) ** 2, axis=1))))
    lf_speed = math.sqrt(lf_sq / n_lf) if n_lf else math.nan
    share = hf_num / hf_den if hf_den > 0 else math.nan
    if not (lf_speed >= MIN_MOTION):
        share = math.nan
    return {"hf_share": share, "lf_speed": lf_speed,
            "jerk": float(np.mean(jerks)) if jerks else math.nan}


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Eye-band openness proxy (RMS vertical gradient / mean luma) relative to its 2-s "
           "median; blinks = dips of >15 % lasting 80-500 ms; blink count judged by a tempered "
           "Poisson likelihood ratio (15/min human vs 3/min generated). Head motion: share of "
           "face velocity energy (relative to the camera) above 4 Hz, documented logistic.",
    reference="Y. Li, M.-C. Chang, S. Lyu, 'In Ictu Oculi: exposing AI created fake videos by "
              "detecting eye blinking', IEEE WIFS 2018; A. R. Bentivoglio et al., 'Analysis of "
              "blink rate patterns in normal subjects', Movement Disorders 12(6), 1997; X. Yang, "
              "Y. Li, S. Lyu, 'Exposing deep fakes using inconsistent head poses', ICASSP 2019",
    limits="Needs a frontal face of at least 40 px tracked for 3 s; the blink rate needs much "
           "longer (10 s gives about 3 expected blinks) to say much. Glasses, fringes, low "
           "resolution, head turns and reading (few blinks) mislead the proxy; modern "
           "generators blink normally. Head-motion smoothness is judged only when the face "
           "clearly moves.",
    artifacts=("unnatural_gaze_blinking", "unnatural_body_head_movement"),
    params={"dip": DIP, "blink_s": [BLINK_MIN_S, BLINK_MAX_S], "rates_per_min":
            [RATE_HUMAN, RATE_FAKE], "temper": TEMPER, "head_calibration": HEAD_CAL,
            "hf_hz": HF_HZ, "weights": WEIGHTS},
)
def video_blink_head(media) -> DetectorResult:
    """Blink rate and shape, and head-motion smoothness, of the tracked face."""
    t0 = time.perf_counter()
    vp = P.video_pass(media)
    why = vp.face_applicability(min_seconds=3.0)
    if why is not None:
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    rel = openness_series(vp)
    T = float(np.isfinite(rel).sum()) / vp.fps
    if T < 3.0:
        return DetectorResult.not_applicable(NAME, VERSION, "the eye band could not be measured "
                                             "for 3 s", extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    blinks, odd = find_blinks(rel, vp.fps)
    n = len(blinks)
    minutes = T / 60.0
    llr = n * math.log(RATE_FAKE / RATE_HUMAN) - (RATE_FAKE - RATE_HUMAN) * minutes
    p_blink = P.bounded(P.sigmoid(TEMPER * llr), 0.1, 0.95)
    head = head_motion(vp)
    probs = {"blink": p_blink}
    head_raw = P.logistic(head["hf_share"], **HEAD_CAL) if math.isfinite(head["hf_share"]) \
        else math.nan
    if math.isfinite(head_raw):
        probs["head"] = P.bounded(head_raw)
    wsum = sum(WEIGHTS[k] for k in probs)
    score = P.sigmoid(sum(WEIGHTS[k] * P.logit(p) for k, p in probs.items()) / wsum)

    findings: list[Finding] = []
    face_idx = np.flatnonzero(np.isfinite(rel))
    rate = n / minutes
    if p_blink > 0.5:
        a, b = int(face_idx[0]), int(face_idx[-1])
        findings.append(Finding(
            artifact="unnatural_gaze_blinking",
            location=FrameSpan(float(vp.time[a]), float(vp.time[b] + 1 / vp.fps),
                               vp.span_box(a, b)),
            strength=float(2 * p_blink - 1),
            measurement=Measurement("blink rate", round(rate, 2), RATE_HUMAN, "per minute"),
            detector=NAME, region="eyes_region"))
    for a, b, depth in odd[:5]:
        dur = (b - a + 1) / vp.fps
        if dur > BLINK_MAX_S and depth > 0.4:   # long closure: eyes shut oddly long
            findings.append(Finding(
                artifact="unnatural_gaze_blinking",
                location=FrameSpan(float(vp.time[a]), float(vp.time[b] + 1 / vp.fps),
                                   vp.span_box(a, b)),
                strength=0.3, measurement=Measurement("eye closure duration", round(dur, 3),
                                                      BLINK_MAX_S, "s"),
                detector=NAME, region="eyes_region"))
    if head_raw > 0.5:
        a, b = int(face_idx[0]), int(face_idx[-1])
        findings.append(Finding(
            artifact="unnatural_body_head_movement",
            location=FrameSpan(float(vp.time[a]), float(vp.time[b] + 1 / vp.fps),
                               vp.span_box(a, b)),
            strength=float(2 * head_raw - 1),
            measurement=Measurement("head velocity energy above 4 Hz", round(head["hf_share"], 4),
                                    HEAD_CAL["x0"], "share"),
            detector=NAME, region="upper_head"))
    extras = {**vp.summary(), "blinks": n, "blink_rate_per_min": round(rate, 2),
              "eye_seconds": round(T, 2),
              "blink_times": [round(float(vp.time[a]), 3) for a, _, _ in blinks][:50],
              "blink_durations_s": [round((b - a + 1) / vp.fps, 3) for a, b, _ in blinks][:50],
              "atypical_dips": len(odd),
              "head": {k: (round(v, 5) if math.isfinite(v) else None) for k, v in head.items()},
              "probabilities": {k: round(v, 4) for k, v in probs.items()}}
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0,
                          params={"dip": DIP, "temper": TEMPER, "head_calibration": HEAD_CAL},
                          extras=extras)
