"""One shared, streamed decoding pass per video for the video detectors.

The five video detectors (``face_frames``, ``temporal``, ``blink_head``, ``av_sync``,
``container``) all read :func:`video_pass`, which decodes a clip **once** (memoized on the media
object), frame by frame at reduced resolution, never holding the clip in memory. It keeps:

- per-frame scalar series: time, mean luma, mean absolute frame difference of a thumbnail,
  global (camera) motion by phase correlation, key-frame flags;
- per-frame block statistics of the thumbnail (8x8-pixel blocks): mean luma, and the
  normalised cross-correlation of each block's pattern with the previous frame's (for
  ``region_flicker``: a block whose level changes while its pattern stays is flickering, one
  whose pattern changes is moving);
- shot changes (frame-difference and histogram jumps);
- one tracked face (the largest): Haar detections on a *budgeted* subset of frames (full-frame
  search, once a second, when no face is tracked and at shot changes; a cheap
  region-of-interest search around the track every 0.5 s, sooner after fast motion), per-frame
  sub-pixel tracking by phase correlation between detections, IoU association of detections
  with the track (a detection pulls the track gently, spread over the next frames), and linear
  interpolation of the detected boxes between detections (``face_box_interp``);
- per-frame face statistics on a 96x96 grey crop of 1.5x the face box, taken from the decoded
  luma plane at source resolution (no colour conversion): face luma and noise level against
  the background, eye-band and mouth-band openness proxies, mouth-band motion, boundary-ring vs
  interior/exterior temporal change, face motion against camera motion;
- for a few "deep" frames, a grey crop of the face at source resolution (for the image
  measurements of ``face_frames``);
- the speech envelope (RMS per video frame) of the audio track, if any.

The analysis budget is joint audio-visual: shot changes, motion and face loss decide where the
face detector runs; the face track and the audio speech envelope decide which frames get deep
(source-resolution) analysis: frames with a confirmed face, denser while speech is heard, capped
per clip. ``VideoPass.budget`` records how many frames got which analysis and why; every video
detector reports it in its ``extras``.

The Haar cascade face detector is P. Viola and M. Jones, "Rapid object detection using a
boosted cascade of simple features", CVPR 2001 (OpenCV's ``haarcascade_frontalface_default``).
"""

from __future__ import annotations

import math
import threading
import time as _time
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import numpy as np

#: Longest side of the grey analysis frame (per-frame statistics, tracking, ROI detection).
ANALYSIS_SIDE = 360
#: Longest side for the full-frame face search.
DETECT_SIDE = 320
#: Side of the thumbnail used for frame differences, shot changes and camera motion.
THUMB_SIDE = 128
#: Side (thumbnail pixels) of the blocks of the per-frame block statistics.
BLOCK = 8
#: A block whose pattern varies less than this (std, 8-bit levels) has no pattern to correlate.
FLAT_STD = 1.0
#: ``block_ncc`` code for "not measured" (stored as int8 hundredths: a 4 h clip's blocks take
#: 0.6 KB a frame, not 1 KB).
NCC_NONE = -128
#: Side of the normalised face-context crop (1.5x the face box); the face is its central 64x64.
CROP = 96
FACE = 64
CONTEXT = CROP / FACE  # 1.5
#: Seconds between region-of-interest re-detections while a face is tracked.
ROI_EVERY_S = 0.5
#: Seconds between full-frame searches while no face is tracked.
FULL_EVERY_S = 1.0
#: Deep (source-resolution) analysis: at most one frame per DEEP_EVERY_S (half that during
#: speech), and at most DEEP_MAX per clip.
DEEP_EVERY_S = 0.5
DEEP_MAX = 40
#: Source-resolution face crops are downscaled so that the face is at most this wide.
DEEP_FACE_SIDE = 128
#: Audio decoded for the speech envelope (seconds); longer tracks are cut.
AUDIO_MAX_S = 4 * 3600.0
#: A face smaller than this (pixels of the source frame) is not measured.
MIN_FACE_PX = 40

_lock = threading.Lock()
_CACHE_ATTR = "_triage_video_pass"


@dataclass
class DeepCrop:
    """A grey crop around the face at (close to) source resolution, for image measurements.

    ``gray`` covers ``2 x`` the face box (float32, 0..255); ``face`` is the face box inside the
    crop (x, y, w, h); ``scale`` is crop pixels per source pixel (<= 1).
    """

    index: int
    time: float
    gray: np.ndarray
    face: tuple[int, int, int, int]
    box: tuple[float, float, float, float]  # face box in source-frame pixels
    scale: float
    reason: str


@dataclass
class VideoPass:
    """Everything the video detectors need from one decoding pass (see module docstring).

    Per-frame arrays have one entry per decoded frame; face statistics are NaN where no face
    is tracked. Boxes are (x, y, w, h) in source-frame pixels.
    """

    width: int
    height: int
    fps: float
    n: int
    time: np.ndarray
    luma: np.ndarray
    diff: np.ndarray
    key_frame: np.ndarray
    cam_shift: np.ndarray          # (n, 2) camera (thumbnail) shift px/frame, source pixels
    shot_changes: list[int]
    face_box: np.ndarray           # (n, 4) tracked box (NaN without face)
    face_box_interp: np.ndarray    # (n, 4) detections interpolated within a track
    detected: np.ndarray           # bool: a detection confirmed the box at this frame
    track_id: np.ndarray           # int, -1 without face
    face_shift: np.ndarray         # (n, 2) face content shift px/frame, source pixels
    stats: dict[str, np.ndarray]   # per-frame face statistics (NaN without face)
    deep: list[DeepCrop]
    block_luma: np.ndarray         # (n, by, bx) float16: thumbnail block means, 8-bit levels
    block_ncc: np.ndarray          # (n, by, bx) int8: block pattern NCC with the previous
                                   # frame x 100 (NCC_NONE: first frame, shot change, flat)
    block_px: float                # side of a block in source pixels
    audio_rms: np.ndarray | None   # RMS of the audio around each frame time (None: no audio)
    speech: np.ndarray | None      # bool: speech-level audio at this frame
    audio_info: dict[str, Any]
    budget: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    decode_seconds: float = 0.0

    @property
    def duration(self) -> float:
        return float(self.time[-1] - self.time[0] + 1.0 / self.fps) if self.n else 0.0

    @property
    def has_face(self) -> np.ndarray:
        return self.track_id >= 0

    def face_seconds(self) -> float:
        return float(np.count_nonzero(self.has_face)) / self.fps

    def median_face_width(self) -> float:
        w = self.face_box[self.has_face, 2]
        return float(np.median(w)) if w.size else 0.0

    def span_box(self, i0: int, i1: int):
        """Median detected/tracked face box over frames i0..i1 as a model ``Box`` (or None)."""
        from triage_app.model import Box

        b = self.face_box_interp[i0:i1 + 1]
        b = b[np.all(np.isfinite(b), axis=1)]
        if not len(b):
            b = self.face_box[i0:i1 + 1]
            b = b[np.all(np.isfinite(b), axis=1)]
        if not len(b):
            return None
        x, y, w, h = np.median(b, axis=0)
        return Box(int(round(x)), int(round(y)), int(round(w)), int(round(h))).clip(
            self.width, self.height)

    def face_applicability(self, *, min_seconds: float = 2.0, min_deep: int = 0) -> str | None:
        """None when a face is seen well enough, else the reason (for not_applicable);
        ``min_deep``: the face crops at source resolution a detector of them needs."""
        if self.n == 0:
            return "no frame could be decoded"
        secs = self.face_seconds()
        if secs < min_seconds:
            return (f"no face seen well enough: a frontal face was tracked for {secs:.1f} s, "
                    f"fewer than the {min_seconds:g} s needed")
        if self.median_face_width() < MIN_FACE_PX:
            return (f"the face is too small: {self.median_face_width():.0f} px wide, under "
                    f"{MIN_FACE_PX} px")
        if len(self.deep) < min_deep:
            return f"only {len(self.deep)} face frames could be measured at source resolution"
        return None

    def summary(self) -> dict[str, Any]:
        """The budget and a few counts, for a detector's ``extras``."""
        return {"budget": dict(self.budget), "frames": self.n,
                "face_seconds": round(self.face_seconds(), 2),
                "face_width_px": round(self.median_face_width(), 1),
                "shot_changes": len(self.shot_changes), "notes": list(self.notes)}


# --------------------------------------------------------------------------- helpers


def _cascade():
    import cv2

    c = getattr(_cascade, "c", None)
    if c is None:
        c = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
        if c.empty():
            raise RuntimeError("OpenCV Haar face cascade could not be loaded")
        _cascade.c = c
    return c


def _size(w: int, h: int, side: int) -> tuple[int, int]:
    s = min(1.0, side / float(max(w, h)))
    return max(2, int(round(w * s / 2)) * 2), max(2, int(round(h * s / 2)) * 2)


def _iou(a, b) -> float:
    ix = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    inter = ix * iy
    u = a[2] * a[3] + b[2] * b[3] - inter
    return inter / u if u > 0 else 0.0


def crop_box(gray: np.ndarray, box, context: float, out: int) -> np.ndarray:
    """A square-resampled crop of ``context`` x ``box`` (centred) as float32 (out, out).

    Pixels outside the frame repeat the border (``cv2.BORDER_REPLICATE``).
    """
    import cv2

    x, y, w, h = box
    cx, cy = x + w / 2.0, y + h / 2.0
    hw, hh = w * context / 2.0, h * context / 2.0
    sx, sy = out / (2 * hw), out / (2 * hh)
    m = np.array([[sx, 0, -(cx - hw) * sx], [0, sy, -(cy - hh) * sy]], np.float32)
    return cv2.warpAffine(gray, m, (out, out), flags=cv2.INTER_AREA if sx < 1 else
                          cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE).astype(np.float32)


def luma_plane(frame) -> np.ndarray | None:
    """The decoded frame's luma plane as a uint8 (H, W) view, without colour conversion, for
    8-bit YUV formats (plane 0 is Y); None for other pixel formats."""
    try:
        name = frame.format.name
        if not (name.startswith(("yuv", "yuvj", "nv12", "nv21")) and not any(
                t in name for t in ("p10", "p12", "p16", "p9", "p14"))) or "a" in name[3:4]:
            return None
        pl = frame.planes[0]
        arr = np.frombuffer(pl, np.uint8).reshape(pl.height, pl.line_size)
        return arr[:, :pl.width]
    except Exception:  # noqa: BLE001 -- exotic formats: fall back to reformat
        return None


def crop_rect(gray: np.ndarray, box, cx_: float, cy_: float, out_w: int, out_h: int
              ) -> np.ndarray:
    """Crop ``cx_ x cy_`` times ``box`` (centred; border replicated) resampled to
    (out_h, out_w) float32, by area averaging when shrinking."""
    import cv2

    x, y, w, h = box
    pw, ph = max(2, int(round(w * cx_))), max(2, int(round(h * cy_)))
    c = (float(x + w / 2.0), float(y + h / 2.0))
    g = gray if gray.dtype in (np.uint8, np.float32) else gray.astype(np.float32)
    patch = cv2.getRectSubPix(g, (pw, ph), c)
    inter = cv2.INTER_AREA if pw > out_w else cv2.INTER_LINEAR
    return cv2.resize(patch, (out_w, out_h), interpolation=inter).astype(np.float32)


def _sub(box, fx0: float, fy0: float, fx1: float, fy1: float):
    """The part (fx0..fx1, fy0..fy1, fractions) of a box."""
    x, y, w, h = box
    return (x + fx0 * w, y + fy0 * h, (fx1 - fx0) * w, (fy1 - fy0) * h)


def hh_rms(gray: np.ndarray) -> float:
    """RMS of the orthonormal Haar HH subband (grey levels): a noise-plus-fine-texture level
    that, unlike the median-based estimate, does not collapse to 0 on flat compressed areas."""
    g = np.asarray(gray, np.float32)
    h, w = (g.shape[0] // 2) * 2, (g.shape[1] // 2) * 2
    if h < 2 or w < 2:
        return math.nan
    g = g[:h, :w]
    hh = (g[0::2, 0::2] - g[0::2, 1::2] - g[1::2, 0::2] + g[1::2, 1::2]) * 0.5
    return float(np.sqrt(np.mean(hh * hh)))


def _band_openness(band: np.ndarray) -> float:
    """Openness proxy of an eye or mouth band: RMS vertical gradient over (mean luma + 16).

    Open eyes and an open mouth carry strong horizontal edges (lids, iris, lips, teeth); a
    closed eye is smooth skin. Dividing by the mean makes it insensitive to exposure.
    """
    import cv2

    # a slight blur first: the gradient energy of a sharp edge otherwise depends on its
    # sub-pixel position, which the tracked crop changes from frame to frame
    band = cv2.GaussianBlur(band, (0, 0), 1.2)
    gy = np.diff(band, axis=0)
    # rows weighted by a Hann window, so that edges (brows, glasses rims) sliding across the
    # band's borders as the box moves change the measure smoothly, not by jumps
    wr = np.hanning(gy.shape[0] + 2)[1:-1, None]
    e = float((wr * gy * gy).sum() / (wr.sum() * gy.shape[1]))
    return float(math.sqrt(e) / (float(band.mean()) + 16.0))


# Masks on the 96x96 context crop: elliptical radius in units of the face half-size.
_yy, _xx = np.mgrid[0:CROP, 0:CROP].astype(np.float32)
_R = np.sqrt(((_xx + 0.5 - CROP / 2) / (FACE / 2)) ** 2 + ((_yy + 0.5 - CROP / 2) / (FACE / 2)) ** 2)
RING = (_R > 0.85) & (_R < 1.15)
INNER = _R < 0.6
OUTER = (_R > 1.3) & (_R < 1.5)
F0 = (CROP - FACE) // 2
MOUTH_ROWS = (F0 + 44, F0 + 64)  # 0.69..1.0
MOUTH_COLS = (F0 + 16, F0 + 48)
#: Eye band: face-box fractions (x0, y0, x1, y1) and its crop size.
EYE_BOX = (0.12, 0.30, 0.88, 0.52)
EYE_W, EYE_H = 96, 28
_HANN64 = None


def _hann(n: int) -> np.ndarray:
    import cv2

    global _HANN64
    if _HANN64 is None or _HANN64.shape[0] != n:
        _HANN64 = cv2.createHanningWindow((n, n), cv2.CV_32F)
    return _HANN64


# --------------------------------------------------------------------------- audio


#: Audio envelope: mono at this rate, energy summed in bins of ENV_BIN_S seconds.
ENV_RATE = 16000
ENV_BIN_S = 0.01


def _audio_energy(media) -> tuple[np.ndarray | None, dict[str, Any]]:
    """Mean square of the first audio track (mono, 16 kHz) in 10-ms bins, streamed.

    Decodes packet by packet and keeps only the bins (100 values a second), never the
    samples, so that an hour of audio costs 1.4 MB. Returns (None, info) without audio.
    """
    import av

    from triage_app import _video_io

    info: dict[str, Any] = {"has_audio": bool(getattr(media, "has_audio", False))}
    if not info["has_audio"]:
        return None, info
    per_bin = int(round(ENV_RATE * ENV_BIN_S))
    bins: list[np.ndarray] = []
    carry = np.zeros(0, np.float64)
    total = 0
    try:
        with _video_io.av_container(media.path, media.format) as c:
            if not c.streams.audio:
                return None, info
            a = c.streams.audio[0]
            a.thread_type = "AUTO"
            start = float(a.start_time * a.time_base) if a.start_time is not None and \
                a.time_base else 0.0
            vs = _video_io.video_streams(c)
            v0 = float(vs[0].start_time * vs[0].time_base) if vs and vs[0].start_time is not None \
                and vs[0].time_base else 0.0
            info["offset_s"] = round(start - v0, 4)
            res = av.AudioResampler(format="flt", layout="mono", rate=ENV_RATE)

            def take(frames) -> None:
                nonlocal carry, total
                for f in frames:
                    x = f.to_ndarray().reshape(-1).astype(np.float64)
                    total += len(x)
                    x = np.concatenate([carry, x])
                    k = len(x) // per_bin
                    if k:
                        bins.append((x[:k * per_bin].reshape(k, per_bin) ** 2).mean(axis=1))
                    carry = x[k * per_bin:]

            for frame in c.decode(a):
                take(res.resample(frame))
                if total >= AUDIO_MAX_S * ENV_RATE:
                    info["note"] = f"audio analysed up to {AUDIO_MAX_S:g} s"
                    break
            else:
                take(res.resample(None))
    except Exception as exc:  # noqa: BLE001 -- a broken audio track is not fatal for video
        if not bins:
            info["error"] = f"{type(exc).__name__}: {exc}"
            return None, info
        info["note"] = f"audio decoding broke after {total / ENV_RATE:.2f} s"
    if not bins:
        return None, info
    e = np.concatenate(bins)
    # place bin 0 at the audio stream's start relative to the video stream's start
    shift = int(round(info.get("offset_s", 0.0) / ENV_BIN_S))
    if shift > 0:
        e = np.concatenate([np.zeros(shift), e])
    elif shift < 0:
        e = e[-shift:]
    info.update(sample_rate_analysed=ENV_RATE, duration=round(total / ENV_RATE, 3))
    return e, info


def rms_from_bins(energy: np.ndarray, times: np.ndarray, window: float) -> np.ndarray:
    """RMS over the 10-ms energy bins within ``window`` s centred on each time (0 outside)."""
    c = np.concatenate([[0.0], np.cumsum(energy)])
    half = max(1, int(round(window / ENV_BIN_S / 2)))
    idx = np.round(times / ENV_BIN_S).astype(np.int64)
    lo = np.clip(idx - half, 0, len(energy))
    hi = np.clip(idx + half, 0, len(energy))
    return np.sqrt(np.maximum(c[hi] - c[lo], 0.0) / np.maximum(hi - lo, 1))


def speech_mask(rms: np.ndarray) -> np.ndarray:
    """Frames whose audio RMS is 10 dB above the track's floor (10th percentile) and above
    -50 dBFS: a simple energy voice-activity decision."""
    floor = max(float(np.percentile(rms, 10)), 1e-5)
    return (rms > floor * 10 ** (10 / 20)) & (rms > 10 ** (-50 / 20))


# --------------------------------------------------------------------------- the pass


def video_pass(media) -> VideoPass:
    """The shared :class:`VideoPass` of ``media``, computed on first call and cached on it.

    Thread-safe: concurrent callers wait for the one decoding pass. A failure (a clip that
    cannot be decoded) is cached too and raised again to every caller, without decoding again.
    """
    vp = getattr(media, _CACHE_ATTR, None)
    if vp is None:
        with _lock:
            vp = getattr(media, _CACHE_ATTR, None)
            if vp is None:
                try:
                    vp = _compute(media)
                except Exception as exc:  # remembered: a broken clip is not decoded 5 times
                    vp = exc
                try:
                    setattr(media, _CACHE_ATTR, vp)
                except Exception:  # noqa: BLE001 -- a media object that refuses attributes
                    pass
    if isinstance(vp, BaseException):
        raise vp
    return vp


class _Track:
    def __init__(self, box, tid: int) -> None:
        self.box = np.array(box, np.float64)  # analysis-frame pixels
        self.id = tid
        self.misses = 0
        self.corr = np.zeros(4)
        self.corr_left = 0


#: Share of a detection's offset from the tracked box applied at each re-detection: Haar
#: boxes jitter by several pixels between frames, the phase-correlation track does not, so
#: detections only correct the track's slow drift (and its size).
DET_GAIN = 0.25


def _correct(track: "_Track", det, spread: int) -> None:
    """Pull the tracked box towards a detection (snap when they overlap poorly).

    The correction is spread over ``spread`` frames, so that the face crop slides rather than
    jumps (a jump of the eye band would look like a blink).
    """
    d = np.array(det, np.float64)
    if _iou(d, track.box) < 0.5:
        track.box = d
        track.corr_left = 0
        return
    b = track.box
    c_b = b[:2] + b[2:] / 2
    c_d = d[:2] + d[2:] / 2
    size = b[2:] + DET_GAIN * (d[2:] - b[2:])
    c = c_b + DET_GAIN * (c_d - c_b)
    target = np.concatenate([c - size / 2, size])
    n = max(1, spread)
    track.corr = (target - b) / n
    track.corr_left = n


def _compute(media) -> VideoPass:  # noqa: C901 -- one streaming loop, kept in one place
    import cv2

    from triage_app import _video_io
    from triage_app.media import CorruptFileError

    t_start = _time.perf_counter()
    fps = float(media.fps or 25.0)
    W, H = int(media.width), int(media.height)
    aw, ah = _size(W, H, ANALYSIS_SIDE)
    dw, dh = _size(W, H, DETECT_SIDE)
    tw, th = _size(W, H, THUMB_SIDE)
    a2s = W / float(aw)             # analysis px -> source px
    d2a = aw / float(dw)            # detect px -> analysis px
    t2s = W / float(tw)
    roi_every = max(1, int(round(ROI_EVERY_S * fps)))
    full_every = max(1, int(round(FULL_EVERY_S * fps)))
    deep_every = max(1, int(round(DEEP_EVERY_S * fps)))
    exp_frames = max(1, int(media.frame_count or round(media.duration * fps) or 1))
    deep_every = max(deep_every, int(math.ceil(exp_frames / DEEP_MAX)))

    energy, audio_info = _audio_energy(media)

    # speech on the 10-ms grid, decided once (the budget uses it while frames stream)
    speech_grid = None
    if energy is not None:
        grid = np.arange(len(energy)) * ENV_BIN_S
        speech_grid = rms_from_bins(energy, grid, 2.0 / fps) > 10 ** (-45 / 20)
    budget: dict[str, Any] = {
        "frames_decoded": 0, "analysis_side": ANALYSIS_SIDE,
        "face_detect_full": 0, "face_detect_roi": 0,
        "face_detect_reasons": {"start_or_no_track": 0, "shot_change": 0, "periodic_roi": 0,
                                "fast_motion": 0, "roi_lost": 0},
        "frames_tracked": 0, "deep_frames": 0,
        "deep_reasons": {"face_confirmed": 0, "speech": 0},
        "deep_every_frames": deep_every, "deep_max": DEEP_MAX,
        "speech_frames": 0,
    }
    cascade = _cascade()

    T: list[float] = []
    L: list[float] = []
    D: list[float] = []
    K: list[bool] = []
    CAM: list[tuple[float, float]] = []
    BOX: list[tuple[float, float, float, float]] = []
    DET: list[bool] = []
    TID: list[int] = []
    FSH: list[tuple[float, float]] = []
    BL: list[np.ndarray] = []
    BN: list[np.ndarray] = []
    S: dict[str, list[float]] = {k: [] for k in (
        "face_luma", "bg_luma", "face_noise", "bg_noise", "eye_open", "mouth_open",
        "mouth_motion", "ring_diff", "inner_diff", "outer_diff")}
    deep: list[DeepCrop] = []
    shots: list[int] = []
    notes: list[str] = []
    nan4 = (math.nan,) * 4

    prev_a = prev_t = None
    prev_hist = None
    prev_crop = None
    track: _Track | None = None
    next_tid = 0
    last_full = -10**9
    last_roi = -10**9
    last_deep = -10**9
    force_roi = False

    def detect_full(gray_d) -> list:
        budget["face_detect_full"] += 1
        r = cascade.detectMultiScale(gray_d, scaleFactor=1.2, minNeighbors=4,
                                     minSize=(max(16, int(MIN_FACE_PX / (W / dw) * 0.8)),) * 2)
        return [tuple(float(v) * d2a for v in b) for b in (r if len(r) else [])]

    def detect_roi(gray_a, box) -> list:
        budget["face_detect_roi"] += 1
        x, y, w, h = box
        m = 0.4
        x0, y0 = int(max(0, x - m * w)), int(max(0, y - m * h))
        x1, y1 = int(min(aw, x + w + m * w)), int(min(ah, y + h + m * h))
        if x1 - x0 < 16 or y1 - y0 < 16:
            return []
        roi = gray_a[y0:y1, x0:x1]
        s = min(1.0, 40.0 / max(w, 1.0))   # face ~40 px: cheap and still reliable for Haar
        if s < 1.0:
            roi = cv2.resize(roi, (max(16, int(roi.shape[1] * s)), max(16, int(roi.shape[0] * s))),
                             interpolation=cv2.INTER_AREA)
        fw = w * s
        r = cascade.detectMultiScale(roi, scaleFactor=1.1, minNeighbors=3,
                                     minSize=(max(16, int(fw * 0.7)),) * 2,
                                     maxSize=(int(fw * 1.45) + 2,) * 2)
        return [(x0 + b[0] / s, y0 + b[1] / s, b[2] / s, b[3] / s) for b in (r if len(r) else [])]

    i = -1
    retimed = 0
    if True:
        with _video_io.av_container(media.path, media.format) as c:
            streams = _video_io.video_streams(c)
            if not streams:
                raise CorruptFileError(f"{media.format} has no video stream")
            st = streams[0]
            st.thread_type = "AUTO"
            tb = st.time_base or Fraction(1, 90000)
            start_pts = st.start_time or 0
            try:
                for frame in c.decode(st):
                    i += 1
                    t, guessed = _video_io.frame_time(frame.pts, start_pts, tb,
                                                      T[-1] if T else None, fps)
                    retimed += guessed
                    turns = _video_io.quarter_turns(frame)
                    Y = luma_plane(frame)
                    if Y is not None and turns:
                        Y = _video_io.upright(Y, turns)
                    # swscale's scaler is much faster than cv2's INTER_AREA at odd factors;
                    # a turned picture is scaled in its stored orientation, then stood upright
                    sw, sh = (ah, aw) if turns % 2 else (aw, ah)
                    ga = _video_io.upright(
                        frame.reformat(width=sw, height=sh, format="gray").to_ndarray(), turns)
                    gaf = ga.astype(np.float32)
                    thumb = cv2.resize(ga, (tw, th), interpolation=cv2.INTER_AREA).astype(np.float32)
                    T.append(t)
                    L.append(float(thumb.mean()))
                    K.append(bool(frame.key_frame))
                    hist = np.histogram(thumb, bins=16, range=(0, 256))[0].astype(np.float32)
                    hist /= max(hist.sum(), 1.0)
                    shot = False
                    if prev_t is None:
                        D.append(0.0)
                        CAM.append((0.0, 0.0))
                    else:
                        d = float(np.mean(np.abs(thumb - prev_t)))
                        D.append(d)
                        hd = 0.5 * float(np.abs(hist - prev_hist).sum())
                        med = float(np.median(D[-int(2 * fps) - 1:-1])) if len(D) > 2 else d
                        if hd > 0.3 and d > max(12.0, 4.0 * med):
                            shot = True
                            shots.append(i)
                        if shot:
                            CAM.append((math.nan, math.nan))
                        else:
                            (sx, sy), _ = cv2.phaseCorrelate(prev_t, thumb)
                            CAM.append((sx * t2s, sy * t2s))
                    means, ncc = block_stats(thumb, None if (prev_t is None or shot) else prev_t)
                    BL.append(means)
                    BN.append(ncc)
                    speaking = False
                    if speech_grid is not None and len(speech_grid):
                        speaking = bool(speech_grid[min(len(speech_grid) - 1,
                                                        max(0, int(round(t / 0.01))))])

                    # ---- face detection (budgeted) and tracking
                    det_now = False
                    fs = (math.nan, math.nan)
                    if shot and track is not None:
                        track = None
                    if track is None:
                        if shot or i - last_full >= full_every:
                            reason = "shot_change" if shot else "start_or_no_track"
                            budget["face_detect_reasons"][reason] += 1
                            last_full = i
                            gd = cv2.resize(ga, (dw, dh), interpolation=cv2.INTER_AREA)
                            dets = detect_full(gd)
                            if dets:
                                best = max(dets, key=lambda b: b[2] * b[3])
                                track = _Track(best, next_tid)
                                next_tid += 1
                                det_now = True
                                last_roi = i
                    else:
                        # sub-pixel tracking of the face content between frames
                        assert prev_a is not None
                        b = track.box
                        p0 = crop_box(prev_a, b, 1.0, FACE)
                        p1 = crop_box(gaf, b, 1.0, FACE)
                        (sx, sy), resp = cv2.phaseCorrelate(p0, p1, _hann(FACE))
                        k = b[2] / FACE
                        if resp > 0.05 and abs(sx) < FACE / 4 and abs(sy) < FACE / 4:
                            track.box[0] += sx * k
                            track.box[1] += sy * k
                            fs = (sx * k * a2s, sy * k * a2s)
                        if track.corr_left > 0:
                            track.box += track.corr
                            track.corr_left -= 1
                        if abs(sx) > 0.08 * FACE or abs(sy) > 0.08 * FACE:
                            force_roi = True
                        if force_roi or i - last_roi >= roi_every:
                            reason = "fast_motion" if force_roi else "periodic_roi"
                            budget["face_detect_reasons"][reason] += 1
                            force_roi = False
                            last_roi = i
                            dets = detect_roi(ga, track.box)
                            best = max(dets, key=lambda d_: _iou(d_, track.box), default=None)
                            if best is not None and _iou(best, track.box) > 0.3:
                                _correct(track, best, roi_every)
                                track.misses = 0
                                det_now = True
                            else:
                                track.misses += 1
                                if track.misses >= 3:
                                    budget["face_detect_reasons"]["roi_lost"] += 1
                                    last_full = i
                                    gd = cv2.resize(ga, (dw, dh), interpolation=cv2.INTER_AREA)
                                    dets = detect_full(gd)
                                    best = max(dets, key=lambda d_: _iou(d_, track.box),
                                               default=None)
                                    if best is not None and _iou(best, track.box) > 0.2:
                                        track.box = np.array(best, np.float64)
                                        track.misses = 0
                                        det_now = True
                                    else:
                                        track = None
                        if track is not None:
                            x_, y_, w_, h_ = track.box
                            if (x_ + w_ < 0 or y_ + h_ < 0 or x_ > aw or y_ > ah):
                                track = None
                    # ---- per-frame face statistics
                    if track is not None:
                        budget["frames_tracked"] += 1
                        b = track.box
                        bs = (b[0] * a2s, b[1] * a2s, b[2] * a2s, b[3] * a2s)
                        src = Y if Y is not None else gaf
                        bsrc = bs if Y is not None else b
                        crop = crop_rect(src, bsrc, CONTEXT, CONTEXT, CROP, CROP)
                        eye = crop_rect(src, _sub(bsrc, *EYE_BOX), 1.0, 1.0, EYE_W, EYE_H)
                        face = crop[F0:F0 + FACE, F0:F0 + FACE]
                        fsum = float(face.sum())
                        x0, y0 = int(max(0, b[0])), int(max(0, b[1]))
                        x1, y1 = int(min(aw, b[0] + b[2])), int(min(ah, b[1] + b[3]))
                        tot = float(gaf.sum())
                        inside = float(gaf[y0:y1, x0:x1].sum()) if x1 > x0 and y1 > y0 else 0.0
                        nin = max(0, x1 - x0) * max(0, y1 - y0)
                        S["face_luma"].append(fsum / face.size)
                        S["bg_luma"].append((tot - inside) / max(1, aw * ah - nin))
                        S["face_noise"].append(hh_rms(gaf[y0:y1, x0:x1]) if nin > 64 else math.nan)
                        # background noise: the wider side strip beside the face
                        side = gaf[:, :x0] if x0 >= aw - x1 else gaf[:, x1:]
                        S["bg_noise"].append(hh_rms(side) if side.shape[1] >= 8 else math.nan)
                        S["eye_open"].append(_band_openness(eye))
                        S["mouth_open"].append(_band_openness(
                            crop[MOUTH_ROWS[0]:MOUTH_ROWS[1], MOUTH_COLS[0]:MOUTH_COLS[1]]))
                        if prev_crop is not None and not shot:
                            ad = np.abs(crop - prev_crop)
                            S["mouth_motion"].append(float(ad[MOUTH_ROWS[0]:MOUTH_ROWS[1],
                                                              MOUTH_COLS[0]:MOUTH_COLS[1]].mean()))
                            S["ring_diff"].append(float(ad[RING].mean()))
                            S["inner_diff"].append(float(ad[INNER].mean()))
                            S["outer_diff"].append(float(ad[OUTER].mean()))
                        else:
                            for k_ in ("mouth_motion", "ring_diff", "inner_diff", "outer_diff"):
                                S[k_].append(math.nan)
                        prev_crop = crop
                        BOX.append((b[0] * a2s, b[1] * a2s, b[2] * a2s, b[3] * a2s))
                        TID.append(track.id)
                        DET.append(det_now)
                        FSH.append(fs)
                        # ---- deep (source-resolution) crop, budgeted
                        gap = deep_every // 2 if speaking else deep_every
                        if (det_now or track.misses == 0) and i - last_deep >= max(1, gap) \
                                and len(deep) < DEEP_MAX and b[2] * a2s >= MIN_FACE_PX:
                            last_deep = i
                            reason = "speech" if speaking else "face_confirmed"
                            budget["deep_reasons"][reason] += 1
                            deep.append(_deep_crop(frame, Y, b, a2s, i, t, reason, turns))
                    else:
                        prev_crop = None
                        BOX.append(nan4)
                        TID.append(-1)
                        DET.append(False)
                        FSH.append((math.nan, math.nan))
                        for k_ in S:
                            S[k_].append(math.nan)
                    if speaking:
                        budget["speech_frames"] += 1
                    prev_a, prev_t, prev_hist = gaf, thumb, hist
            except Exception as exc:  # noqa: BLE001 -- keep what decoded, say where it broke
                if isinstance(exc, CorruptFileError):
                    raise
                if i <= 0:
                    raise CorruptFileError(f"video decoding failed: {type(exc).__name__}: {exc}"
                                           ) from None
                notes.append(f"decoding broke after frame {i} ({type(exc).__name__}: {exc}); "
                             "the frames before were analysed")
                # drop a half-appended frame
                n_ok = len(TID)
                for lst in (T, L, D, K, CAM, BOX, DET, FSH, BL, BN):
                    del lst[n_ok:]
                for v in S.values():
                    del v[n_ok:]

    n = len(T)
    budget["frames_decoded"] = n
    if retimed:
        notes.append(f"{retimed} of {n} frames had a missing or non-increasing timestamp: their "
                     "times were reconstructed from the frame rate")
    budget["deep_frames"] = len(deep)
    times = np.asarray(T, np.float64)
    box = np.asarray(BOX, np.float64).reshape(n, 4)
    tid = np.asarray(TID, np.int64)
    det = np.asarray(DET, bool)
    interp = _interpolate(box, det, tid)
    audio_rms = speech = None
    if energy is not None and n:
        # the sample that plays with each frame: the tracks may not start together
        audio_rms = rms_from_bins(energy, times - float(getattr(media, "audio_offset", 0.0)),
                                  2.0 / fps)
        speech = speech_mask(audio_rms)
        audio_info["speech_seconds"] = round(float(speech.sum()) / fps, 2)
    budget["face_detector"] = "OpenCV Haar cascade (Viola & Jones 2001), frontal"
    vp = VideoPass(
        width=W, height=H, fps=fps, n=n, time=times, luma=np.asarray(L),
        diff=np.asarray(D), key_frame=np.asarray(K, bool),
        cam_shift=np.asarray(CAM, np.float64).reshape(n, 2), shot_changes=shots,
        face_box=box, face_box_interp=interp, detected=det, track_id=tid,
        face_shift=np.asarray(FSH, np.float64).reshape(n, 2),
        stats={k: np.asarray(v, np.float64) for k, v in S.items()}, deep=deep,
        block_luma=_stack_blocks(BL, th, tw), block_ncc=_stack_blocks(BN, th, tw, np.int8),
        block_px=BLOCK * t2s, audio_rms=audio_rms, speech=speech, audio_info=audio_info, budget=budget, notes=notes)
    vp.decode_seconds = _time.perf_counter() - t_start
    budget["pass_seconds"] = round(vp.decode_seconds, 3)
    return vp


def block_stats(thumb: np.ndarray, prev: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per :data:`BLOCK` x :data:`BLOCK` block of ``thumb`` (grey, float32): its mean (float16),
    and the normalised cross-correlation of its zero-mean pattern with the same block of
    ``prev`` in hundredths (int8; :data:`NCC_NONE` without ``prev`` or where either block is
    flat, std < :data:`FLAT_STD`). :func:`ncc_of` decodes it."""
    by, bx = thumb.shape[0] // BLOCK, thumb.shape[1] // BLOCK

    def blocks(a: np.ndarray) -> np.ndarray:
        return (a[:by * BLOCK, :bx * BLOCK].reshape(by, BLOCK, bx, BLOCK)
                .transpose(0, 2, 1, 3).reshape(by, bx, BLOCK * BLOCK))

    cur = blocks(thumb)
    means = cur.mean(axis=2)
    ncc = np.full((by, bx), np.nan, np.float32)
    if prev is not None:
        a = cur - means[..., None]
        b = blocks(prev)
        b = b - b.mean(axis=2, keepdims=True)
        sa, sb = np.sqrt((a * a).sum(axis=2)), np.sqrt((b * b).sum(axis=2))
        ok = (sa > FLAT_STD * BLOCK) & (sb > FLAT_STD * BLOCK)   # sqrt(64) * std
        ncc[ok] = (a * b).sum(axis=2)[ok] / (sa * sb)[ok]
    code = np.where(np.isfinite(ncc), np.round(np.nan_to_num(ncc) * 100), NCC_NONE)
    return means.astype(np.float16), code.astype(np.int8)


def ncc_of(block_ncc: np.ndarray) -> np.ndarray:
    """``VideoPass.block_ncc`` as float32 NCC values, NaN where not measured."""
    c = np.asarray(block_ncc)
    out = c.astype(np.float32) / 100.0
    out[c == NCC_NONE] = np.nan
    return out


def _stack_blocks(rows: list[np.ndarray], th: int, tw: int, dtype=np.float16) -> np.ndarray:
    if rows:
        return np.stack(rows)
    return np.zeros((0, th // BLOCK, tw // BLOCK), dtype)


def _deep_crop(frame, Y: np.ndarray | None, box_a, a2s: float, index: int, t: float,
               reason: str, turns: int = 0) -> DeepCrop:
    """Source-resolution grey crop of 2x the face box (downscaled so the face <= 128 px).

    ``Y``: the frame's luma plane, already upright (the streaming loop's); None for pixel
    formats without one, when the grey frame is converted here and turned by ``turns``."""
    from triage_app import _video_io

    box = tuple(float(v) * a2s for v in box_a)
    full = Y if Y is not None else _video_io.upright(frame.to_ndarray(format="gray"), turns)
    g, face, s = deep_crop_geometry(full, box)
    return DeepCrop(index=index, time=t, gray=g, face=face, box=box, scale=s, reason=reason)


def deep_crop_geometry(full: np.ndarray, box) -> tuple[np.ndarray, tuple[int, int, int, int],
                                                       float]:
    """(crop, face box in the crop, scale) of a grey frame: 2x the face box ``(x, y, w, h)``
    (source pixels) around its centre, cut at the frame's edges, downscaled so that the face
    is at most ``DEEP_FACE_SIDE`` px. The deep crops, and the face model's training crops
    (``training/face_blend_data.py``), are cut so."""
    import cv2

    x, y, w, h = box
    H, W = full.shape[:2]
    cx, cy = x + w / 2, y + h / 2
    x0, y0 = int(max(0, cx - w)), int(max(0, cy - h))
    x1, y1 = int(min(W, cx + w)), int(min(H, cy + h))
    g = full[y0:y1, x0:x1].astype(np.float32)
    s = min(1.0, DEEP_FACE_SIDE / max(w, 1.0))
    if s < 1.0:
        g = cv2.resize(g, (max(8, int(round(g.shape[1] * s))), max(8, int(round(g.shape[0] * s)))),
                       interpolation=cv2.INTER_AREA)
    face = (int(round((x - x0) * s)), int(round((y - y0) * s)), int(round(w * s)),
            int(round(h * s)))
    return g, face, s


def _interpolate(box: np.ndarray, det: np.ndarray, tid: np.ndarray) -> np.ndarray:
    """Detected boxes linearly interpolated between detections of the same track.

    Frames of a track before its first or after its last detection keep the tracked box.
    """
    out = box.copy()
    for t in np.unique(tid[tid >= 0]):
        idx = np.flatnonzero(tid == t)
        d = idx[det[idx]]
        if len(d) < 2:
            continue
        inner = idx[(idx >= d[0]) & (idx <= d[-1])]
        for k in range(4):
            out[inner, k] = np.interp(inner, d, box[d, k])
    return out


def segments(mask: np.ndarray, *, min_len: int = 1, gap: int = 0) -> list[tuple[int, int]]:
    """Runs of True in ``mask`` as (first, last) index pairs; runs closer than ``gap`` frames
    are merged, runs shorter than ``min_len`` dropped."""
    idx = np.flatnonzero(mask)
    if not len(idx):
        return []
    runs: list[list[int]] = [[int(idx[0]), int(idx[0])]]
    for k in idx[1:]:
        if k - runs[-1][1] <= gap + 1:
            runs[-1][1] = int(k)
        else:
            runs.append([int(k), int(k)])
    return [(a, b) for a, b in runs if b - a + 1 >= min_len]


def logistic(x: float, x0: float, k: float) -> float:
    """p = 1 / (1 + exp(-k (x - x0))), safe for large arguments."""
    z = -k * (float(x) - x0)
    if z > 50:
        return 0.0
    if z < -50:
        return 1.0
    return 1.0 / (1.0 + math.exp(z))


#: Bounds of a single measure's probability: a measure in the natural range is weak evidence
#: of authenticity (a generator need not leave that artifact), so it lowers the probability
#: to 0.3 at most; a strong artifact raises it to 0.95 at most (handcrafted measures have
#: confounds, see each detector's limits).
P_FLOOR, P_CEIL = 0.3, 0.95


def bounded(p: float, lo: float = P_FLOOR, hi: float = P_CEIL) -> float:
    """Map a probability in 0..1 linearly into lo..hi."""
    return lo + (hi - lo) * float(p)


def logit(p: float) -> float:
    p = min(1 - 1e-6, max(1e-6, float(p)))
    return math.log(p / (1 - p))


def sigmoid(z: float) -> float:
    return logistic(z, 0.0, 1.0)
