"""Local flicker anywhere in the frame: a region whose brightness alternates frame to frame
while its pattern stays put and the rest of the frame does not follow.

``video_temporal`` watches the tracked face only. Frame-by-frame processing of any region
(a face swapped without a face detector's help, an object removed or inserted by per-frame
inpainting, a patch re-rendered every frame) leaves the same trace there: the region's level
jumps up and down between consecutive frames, because each frame was made on its own. From
the shared pass's 8x8-pixel block statistics of the thumbnail, per block ``j`` and frame ``t``:

- ``h[t, j] = B[t, j] - (B[t-1, j] + B[t+1, j]) / 2``, the block mean's departure from the
  straight line through its neighbours (zero for fades and steady motion), less the median of
  ``h`` over the frame's blocks (an exposure change or mains-lit room moves every block);
- a block-frame is a candidate when ``|h| >= AMP`` levels and the block's pattern correlates
  with the previous and the next frame's (NCC >= ``NCC_KEEP``; flat blocks have no pattern
  and pass): a moving edge changes the block's mean by changing its pattern, flicker does not;
- flicker is a candidate followed by a candidate of the opposite sign, for at least
  ``MIN_SHARE`` of the frames of a ``WINDOW_S`` window (at least ``MIN_WINDOW_FRAMES``), in
  a 4-connected group of at least ``MIN_BLOCKS`` blocks.

Spans of flickering frames are ``FrameSpan`` findings (``flicker``) with the bounding box of
the blocks that flickered. The measurement is the RMS of ``h`` over those blocks and frames.

References: the temporal-coherence argument of Y. Zheng et al., "Exploring temporal coherence
for more general video face forgery detection" (FTCN), ICCV 2021, applied to image blocks
instead of faces; and the video-inpainting flicker that temporal-consistency metrics measure
(W.-S. Lai et al., "Learning blind video temporal consistency", ECCV 2018).
"""

from __future__ import annotations

import time

import numpy as np

from detectors.registry import detector
from triage_app.model import Box, DetectorResult, Finding, FrameSpan, Measurement

from . import _pass as P

NAME = "video_region_flicker"
VERSION = "1.0"

#: Thresholds (physical reasoning). AMP: a block mean 2 levels (8-bit) off the line through its
#: neighbours, against the frame's median block; sensor noise averages out over a block of the
#: thumbnail (hundreds of source pixels) to well under 0.5 level, and H.264 at usual rates
#: moves a static block's mean by less than 1. NCC_KEEP: the pattern of a block that does not
#: move correlates > 0.8 with the next frame's even under compression noise (a walking leg
#: or a turning head does not). WINDOW_S and
#: MIN_SHARE: the alternation must hold for most of 0.4 s (a single jump is a cut, a flash or
#: an object entering, not flicker).
AMP = 2.0
NCC_KEEP = 0.8
WINDOW_S = 0.4
MIN_WINDOW_FRAMES = 6
MIN_SHARE = 0.6
MIN_SPAN_S = 0.2
MIN_BLOCKS = 2
#: Score: logistic on the longest flickering span (x0 0.3 s, k 12 per s), bounded to 0.3..0.95
#: (``_pass.bounded``: no flicker is weak evidence of authenticity).
CALIBRATION = {"x0": 0.3, "k": 12.0}
PARAMS = {"amp_levels": AMP, "ncc_keep": NCC_KEEP, "window_s": WINDOW_S,
          "min_window_frames": MIN_WINDOW_FRAMES, "min_share": MIN_SHARE,
          "min_span_s": MIN_SPAN_S, "min_blocks": MIN_BLOCKS, "calibration": CALIBRATION,
          "block_thumb_px": P.BLOCK}


def flicker_map(block_luma: np.ndarray, block_ncc: np.ndarray, fps: float,
                shot_changes: list[int] | tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    """(flicker, h): boolean (n, by, bx) of flickering block-frames, and the frame-relative
    second difference ``h`` (NaN where not measured), from the pass's block means and block
    NCC as floats (NaN where not measured: ``_pass.ncc_of(vp.block_ncc)``).

    Computed within runs between shot changes; the first and last frame of a run are not
    measured.
    """
    from scipy.ndimage import uniform_filter1d

    B = np.asarray(block_luma, np.float32)
    C = np.asarray(block_ncc, np.float32)
    n = B.shape[0]
    flick = np.zeros(B.shape, bool)
    h_all = np.full(B.shape, np.nan, np.float32)
    win = window_frames(fps)
    bounds = [0, *sorted(s for s in shot_changes if 0 < s < n), n]
    for a, b in zip(bounds[:-1], bounds[1:]):
        if b - a < win + 3:
            continue
        Bs, Cs = B[a:b], C[a:b]
        h = np.full(Bs.shape, np.nan, np.float32)
        h[1:-1] = Bs[1:-1] - 0.5 * (Bs[:-2] + Bs[2:])
        h[1:-1] -= np.median(h[1:-1].reshape(len(h) - 2, -1), axis=1)[:, None, None]
        kept = np.ones(Bs.shape, bool)
        # pattern held from t-1 to t (C[t]) and from t to t+1 (C[t+1]); NaN = flat block
        kept[1:-1] = ((~(Cs[1:-1] < NCC_KEEP)) & (~(Cs[2:] < NCC_KEEP)))
        cand = (np.abs(np.nan_to_num(h)) >= AMP) & kept
        cand[0] = cand[-1] = False
        alt = np.zeros(Bs.shape, bool)
        alt[:-1] = cand[:-1] & cand[1:] & (np.sign(h[:-1]) != np.sign(h[1:]))
        share = uniform_filter1d(alt.astype(np.float32), win, axis=0, mode="constant")
        flick[a:b] = (share >= MIN_SHARE) & (cand | alt)
        h_all[a:b] = h
    return _connected(flick), h_all


def window_frames(fps: float) -> int:
    """Frames of the alternation window: WINDOW_S, but never fewer than MIN_WINDOW_FRAMES
    (at 10 fps, 0.4 s is 4 frames, and a walking leg alternates that long)."""
    return max(MIN_WINDOW_FRAMES, int(round(WINDOW_S * fps)))


def _connected(flick: np.ndarray) -> np.ndarray:
    """Keep, per frame, the flickering blocks that belong to a 4-connected group of at least
    MIN_BLOCKS: a region that flickers, not one block where an edge crossed."""
    from scipy.ndimage import label

    out = np.zeros_like(flick)
    for t in np.flatnonzero(flick.reshape(len(flick), -1).sum(axis=1) >= MIN_BLOCKS):
        lab, k = label(flick[t])
        if k:
            sizes = np.bincount(lab.ravel())
            big = np.flatnonzero(sizes >= MIN_BLOCKS)
            big = big[big > 0]
            out[t] = np.isin(lab, big)
    return out


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Per 8x8 thumbnail block: the block mean's second difference in time relative to "
           "the frame's median block, counted where the block's pattern correlates with the "
           "neighbouring frames (NCC); flicker = sign-alternating departures of >= 2 levels "
           "for most of 0.4 s; spans with the flickering blocks' box; documented logistic "
           "on the longest span.",
    reference="Y. Zheng, J. Bao, D. Chen, M. Zeng, F. Wen, 'Exploring temporal coherence for "
              "more general video face forgery detection', ICCV 2021; W.-S. Lai, J.-B. Huang, "
              "O. Wang, E. Shechtman, E. Yumer, M.-H. Yang, 'Learning blind video temporal "
              "consistency', ECCV 2018",
    limits="Real light sources flicker too: a screen or monitor in the shot, a lamp on mains "
           "power that lights part of the scene, a strobe, sparkling water. Flicker slower "
           "than every other frame (a patch that drifts in level over several frames) and "
           "regions smaller than a block (1/16 of the picture's width) are not seen. Hand-set "
           "thresholds, not fitted.",
    artifacts=("flicker",),
    params=PARAMS,
)
def video_region_flicker(media) -> DetectorResult:
    """Regions of the frame that flicker while the rest does not."""
    t0 = time.perf_counter()
    vp = P.video_pass(media)
    win = window_frames(vp.fps)
    why = None
    if vp.n < win + 3:
        why = f"too few frames ({vp.n}) to measure flicker: {win + 3} are needed"
    elif vp.block_luma.ndim != 3 or vp.block_luma.shape[1] * vp.block_luma.shape[2] < 4:
        why = (f"the picture ({vp.width}x{vp.height}) is too small for a grid of blocks to "
               "compare")
    if why:
        return DetectorResult.not_applicable(NAME, VERSION, why, extras=vp.summary(),
                                             runtime=time.perf_counter() - t0)
    flick, h = flicker_map(vp.block_luma, P.ncc_of(vp.block_ncc), vp.fps, vp.shot_changes)
    per_frame = flick.any(axis=(1, 2))
    spans = P.segments(per_frame, gap=int(round(0.2 * vp.fps)),
                       min_len=max(1, int(round(MIN_SPAN_S * vp.fps))))
    findings: list[Finding] = []
    longest = 0.0
    flicker_s = 0.0
    for a, b in spans:
        blocks = flick[a:b + 1].any(axis=0)
        ys, xs = np.nonzero(blocks)
        bp = vp.block_px
        box = Box(int(round(xs.min() * bp)), int(round(ys.min() * bp)),
                  int(round((xs.max() - xs.min() + 1) * bp)),
                  int(round((ys.max() - ys.min() + 1) * bp))).clip(vp.width, vp.height)
        sel = flick[a:b + 1]
        val = float(np.sqrt(np.nanmean(h[a:b + 1][sel] ** 2)))
        t_start, t_end = float(vp.time[a]), float(vp.time[b] + 1.0 / vp.fps)
        longest = max(longest, t_end - t_start)
        flicker_s += t_end - t_start
        findings.append(Finding(
            artifact="flicker", location=FrameSpan(t_start, t_end, box),
            strength=float(min(1.0, 0.5 * val / AMP)),
            measurement=Measurement("local flicker (RMS second difference of block luma)",
                                    round(val, 3), AMP, "levels"),
            detector=NAME))
    score = P.bounded(P.logistic(longest, **CALIBRATION))
    findings.sort(key=lambda f: -f.strength)
    return DetectorResult(
        name=NAME, version=VERSION, status="ok", score=score, findings=findings[:10],
        runtime=time.perf_counter() - t0, params=PARAMS,
        extras={**vp.summary(), "flicker_seconds": round(flicker_s, 3),
                "longest_span_s": round(longest, 3), "spans": len(spans),
                "block_grid": list(vp.block_luma.shape[1:]),
                "block_px": round(vp.block_px, 2)})
