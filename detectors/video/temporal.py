"""Temporal instability of the face region that a real camera does not produce.

Frame-by-frame face synthesis (face swap, reenactment) renders every frame independently and
blends it into the footage, so the face region shows changes that the rest of the frame does
not share. From the per-frame series of the shared pass we measure, always *relative* to the
background or the camera so that global exposure changes and camera motion cancel:

- **luminance flicker**: the high-passed log ratio of face to background mean luma (an
  exposure change scales both and leaves the ratio unchanged);
- **noise flicker**: the high-passed log ratio of face to background noise level;
- **jitter**: frame-to-frame acceleration of the face content (sub-pixel phase-correlation
  shift of the face crop minus the camera's shift), normalised by the face width;
- **boundary shimmer**: the temporal change on the face-border band against the face interior
  and exterior (the blending seam changes from frame to frame).

References: Y. Zheng et al., "Exploring temporal coherence for more general video face forgery
detection" (FTCN), ICCV 2021; A. Haliassos et al., "Lips don't lie", CVPR 2021 (the temporal
irregularities that generalise across manipulations).
"""

from __future__ import annotations

import time

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, FrameSpan, Measurement

from . import _pass as P

NAME = "video_temporal"
VERSION = "1.0"

#: Per-frame thresholds (physical reasoning): a face-only brightness step of 3 % between two
#: frames (1/25 s) is far beyond what head motion under steady light does (shading changes
#: develop over many frames; the 5-frame median removes them); a face-only noise-level step of
#: 25 %; a face acceleration of 1.5 % of the face width per frame^2 relative to the camera
#: (a head that turns 10 degrees in half a second accelerates < 0.5 %/frame^2); a border band
#: changing 1.8x more than face and exterior.
THRESHOLDS = {"luma_flicker": 0.03, "noise_flicker": 0.25, "jitter": 0.015,
              "boundary_shimmer": 1.8}
#: Scores: logistic on the share of face frames above the threshold (x0: 8 % of the frames,
#: more than compression pumping and detector slips give; k: 40 per unit share), bounded to
#: 0.3..0.95 (``_pass.bounded``: steady faces are weak evidence of authenticity), pooled as a
#: weighted mean of log-odds.
CALIBRATION = {"x0": 0.08, "k": 40.0}
WEIGHTS = {"luma_flicker": 0.35, "noise_flicker": 0.15, "jitter": 0.3, "boundary_shimmer": 0.2}
ARTIFACT = {"luma_flicker": "flicker", "noise_flicker": "flicker", "jitter": "temporal_artifacts",
            "boundary_shimmer": "temporal_artifacts"}
UNIT = {"luma_flicker": "log ratio", "noise_flicker": "log ratio", "jitter": "face widths/frame^2",
        "boundary_shimmer": "ratio"}


def _highpass(x: np.ndarray, width: int = 5) -> np.ndarray:
    """x minus its running median (NaN-aware, edges reflected)."""
    from scipy.ndimage import median_filter

    out = np.full_like(x, np.nan)
    ok = np.isfinite(x)
    if ok.sum() < width:
        return out
    out[ok] = x[ok] - median_filter(x[ok], size=width, mode="reflect")
    return out


def temporal_series(vp: "P.VideoPass") -> dict[str, np.ndarray]:
    """Per-frame instability series (NaN where not measurable), one value per frame.

    Each is computed within runs of one face track between shot changes.
    """
    n = vp.n
    st = vp.stats
    out = {k: np.full(n, np.nan) for k in THRESHOLDS}
    seg_id = vp.track_id.copy()
    for s in vp.shot_changes:
        seg_id[s:] = np.where(seg_id[s:] >= 0, seg_id[s:] + 10_000, seg_id[s:])
    for t in np.unique(seg_id[seg_id >= 0]):
        idx = np.flatnonzero(seg_id == t)
        if len(idx) < 7:
            continue
        lr = np.log((st["face_luma"][idx] + 1.0) / (st["bg_luma"][idx] + 1.0))
        out["luma_flicker"][idx] = np.abs(_highpass(lr))
        nr = np.log((st["face_noise"][idx] + 0.3) / (st["bg_noise"][idx] + 0.3))
        out["noise_flicker"][idx] = np.abs(_highpass(nr))
        w = vp.face_box[idx, 2]
        rel = (vp.face_shift[idx] - np.nan_to_num(vp.cam_shift[idx])) / w[:, None]
        acc = np.full(len(idx), np.nan)
        acc[1:] = np.hypot(*(np.diff(rel, axis=0).T))
        out["jitter"][idx] = acc
        out["boundary_shimmer"][idx] = st["ring_diff"][idx] / (
            0.5 * (st["inner_diff"][idx] + st["outer_diff"][idx]) + 0.5)
    return out


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Per-frame face-vs-background luminance and noise ratios (high-passed), face "
           "content acceleration relative to the camera (phase correlation), and border-band "
           "temporal change vs face interior/exterior, from the shared pass; share of face "
           "frames over physical thresholds, documented logistic, weighted log-odds pooling.",
    reference="Y. Zheng, J. Bao, D. Chen, M. Zeng, F. Wen, 'Exploring temporal coherence for "
              "more general video face forgery detection', ICCV 2021; A. Haliassos, "
              "K. Vougioukas, S. Petridis, M. Pantic, 'Lips don't lie: a generalisable and "
              "robust approach to face forgery detection', CVPR 2021",
    limits="Needs a frontal face of at least 40 px tracked for 2 s. Flashes and moving shadows "
           "that fall on the face only, fast head turns, occlusions (hands, microphones) and "
           "face-tracker slips also cause face-only changes. Strong temporal smoothing by the "
           "forger hides flicker. Hand-set thresholds, not fitted.",
    artifacts=("temporal_artifacts", "flicker"),
    params={"thresholds": THRESHOLDS, "calibration": CALIBRATION, "weights": WEIGHTS},
)
def video_temporal(media) -> DetectorResult:
    """Flicker, jitter and boundary shimmer of the tracked face."""
    t0 = time.perf_counter()
    vp = P.video_pass(media)
    why = vp.face_applicability()
    if why is not None:
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    series = temporal_series(vp)
    shares, probs, medians = {}, {}, {}
    findings: list[Finding] = []
    for k, thr in THRESHOLDS.items():
        v = series[k]
        ok = np.isfinite(v)
        if ok.sum() < 10:
            continue
        hit = ok & (np.nan_to_num(v) > thr)
        share = float(hit.sum()) / float(ok.sum())
        shares[k] = round(share, 4)
        medians[k] = round(float(np.nanmedian(v)), 5)
        raw = P.logistic(share, **CALIBRATION)
        probs[k] = P.bounded(raw)
        if raw < 0.5:
            continue
        for a, b in P.segments(hit, gap=int(round(vp.fps * 0.2)), min_len=1):
            val = float(np.nanmax(v[a:b + 1]))
            findings.append(Finding(
                artifact=ARTIFACT[k],
                location=FrameSpan(float(vp.time[a]), float(vp.time[b] + 1.0 / vp.fps),
                                   vp.span_box(a, b)),
                strength=float(min(1.0, 0.5 * val / thr)),
                measurement=Measurement(f"face {k.replace('_', ' ')} (peak)", round(val, 5), thr,
                                        UNIT[k]),
                detector=NAME, region="midface"))
    if not probs:
        return DetectorResult.not_applicable(NAME, VERSION, "too few face frames to measure "
                                             "temporal stability", extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    wsum = sum(WEIGHTS[k] for k in probs)
    score = P.sigmoid(sum(WEIGHTS[k] * P.logit(p) for k, p in probs.items()) / wsum)
    findings.sort(key=lambda f: -f.strength)
    return DetectorResult(
        name=NAME, version=VERSION, status="ok", score=score, findings=findings[:10],
        runtime=time.perf_counter() - t0,
        params={"thresholds": THRESHOLDS, "calibration": CALIBRATION, "weights": WEIGHTS},
        extras={**vp.summary(), "share_over_threshold": shares, "median": medians,
                "probabilities": {k: round(v, 4) for k, v in probs.items()}})
