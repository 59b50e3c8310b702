"""Container and bitstream traces of the software that wrote a video, and of re-encoding.

Read without decoding a frame (demuxing only; cheap): the container's and streams' tags
(encoder/muxer, handler names, creation times, camera make/model), the encoder settings string
that x264/x265 leave in the first key frame (an SEI message), the video packets' timestamps
(variable frame rate) and sizes, and the streams' start times.

- **software_metadata**: a named editor, generator or face-swap tool in a tag (strong); a
  software muxer or encoder (FFmpeg's ``Lavf``, x264/x265 settings: weak, since every upload
  platform and converter re-muxes and re-encodes); creation times of the container and its
  streams that disagree (a stream written later); audio and video streams that start at
  different times; variable frame rate (phones and screen recorders do it too; noted only).
- **double_compression**: a periodic size pattern of the predicted (P/B) frames whose period
  is not the current key-frame interval: the I-frames of an earlier encoding leave their rhythm
  in the prediction error of the new one (Vázquez-Padín et al. 2012, "variation of prediction
  footprint").

Scores are deliberately low-weight: log-odds contributions set by hand (below), because tags are
trivial to strip or forge and re-encoding is what every platform does to every video.
"""

from __future__ import annotations

import math
import re
import time
from datetime import datetime
from typing import Any

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, FrameSpan, Measurement, MetadataField

from . import _pass as P

NAME = "video_container"
VERSION = "1.0"

#: Name patterns (case-insensitive, in any tag or the encoder SEI) by kind.
GENERATORS = ("sora", "runway", "pika", "kling", "veo", "synthesia", "heygen", "d-id", "luma ai",
              "stable video", "gen-2", "gen-3", "hailuo", "invideo ai", "deepbrain")
FACE_TOOLS = ("deepfacelab", "faceswap", "facefusion", "roop", "deepfacelive", "simswap",
              "wav2lip", "reface", "faceapp", "deep-live-cam", "avatarify")
EDITORS = ("adobe", "premiere", "after effects", "final cut", "imovie", "davinci", "resolve",
           "capcut", "handbrake", "shotcut", "openshot", "kdenlive", "vsdc", "filmora",
           "camtasia", "vegas", "avidemux", "lightworks", "clipchamp", "inshot", "kinemaster",
           "movavi", "blender", "nuke")
CAMERA_KEYS = ("com.apple.quicktime.make", "com.apple.quicktime.model", "make", "model",
               "com.android.version", "com.android.manufacturer", "com.android.model")
#: Log-odds contributions (hand-set; 0 = no evidence): a generator or face-swap tool name is
#: nearly a confession (+3.0, p 0.95 alone); an editor means the clip was edited, not that
#: faces were (+0.8); a software muxer/encoder is what any platform leaves (+0.1 each);
#: creation-time disagreement between streams (+0.5) and a stream start offset (+0.3) suggest
#: a stream added or replaced later; a periodic earlier-GOP trace +0.4 (re-encoding is
#: normal); camera make/model tags (-0.5: a device wrote the container and nothing re-muxed it).
LOGODDS = {"generator": 3.0, "face_tool": 3.0, "editor": 0.8, "muxer": 0.1, "encoder_sei": 0.1,
           "creation_mismatch": 0.5, "start_offset": 0.3, "double_compression": 0.4,
           "vfr": 0.0, "timestamps": 0.0, "camera": -0.5}
#: Frame intervals shorter than this (ms, above 1000 frames per second) are not a camera's:
#: the timestamps were written wrong (a broken muxer or a tool that did not set them), and
#: every time the analysis reports is then unreliable.
MIN_FRAME_INTERVAL_MS = 1.0
START_OFFSET_S = 0.2
CREATION_MISMATCH_S = 2.0
#: Double compression: periods (in frames) searched, and the z of the phase mean needed
#: (Bonferroni-minded: thousands of (period, phase) pairs are tested). Periods under 12 frames
#: are left out: B-frame pyramids and x264's adaptive B-frame decisions make short-period size
#: patterns in any single encode; first-encode GOPs are 12 (MPEG-2) to 300 frames.
GOP_RANGE = (12, 300)
GOP_Z = 6.0
MAX_PACKETS = 200_000


def probe(path: str, fmt: str = "") -> dict[str, Any]:
    """Tags, stream facts, video packet timestamps/sizes/key flags and the encoder SEI text."""
    from triage_app import _video_io

    out: dict[str, Any] = {"streams": []}
    with _video_io.av_container(path, fmt) as c:
        out["container_tags"] = {str(k): str(v) for k, v in dict(c.metadata or {}).items()}
        out["format"] = getattr(c.format, "name", "")
        vs = _video_io.video_streams(c)
        for s in c.streams:
            tb = s.time_base
            out["streams"].append({
                "index": s.index, "type": s.type,
                "codec": _video_io.codec_name(s) if s.codec_context else "",
                "tags": {str(k): str(v) for k, v in dict(s.metadata or {}).items()},
                "start_s": float(s.start_time * tb) if s.start_time is not None and tb else None,
                "duration_s": float(s.duration * tb) if s.duration and tb else None,
            })
        if not vs:
            return out
        v = vs[0]
        out["video_index"] = v.index
        pts, size, key = [], [], []
        sei = None
        for pkt in c.demux(v):
            if pkt.size == 0 and pkt.pts is None:
                continue
            if sei is None and len(pts) < 5:
                b = bytes(pkt)
                m = re.search(rb"(x264 - core [^\x00]{0,400}|x265 \(build[^\x00]{0,400}|"
                              rb"HM software[^\x00]{0,100}|Lavc[0-9.]+ [a-z0-9_]+)", b)
                if m:
                    sei = m.group(0).decode("latin-1", "replace")
            pts.append(pkt.pts if pkt.pts is not None else -1)
            size.append(pkt.size)
            key.append(bool(pkt.is_keyframe))
            if len(pts) >= MAX_PACKETS:
                out["truncated"] = True
                break
        out["pts"] = np.asarray(pts, np.int64)
        out["size"] = np.asarray(size, np.int64)
        out["key"] = np.asarray(key, bool)
        out["time_base"] = float(v.time_base) if v.time_base else None
        out["encoder_sei"] = sei
    return out


def _parse_time(s: str) -> datetime | None:
    s = s.strip().replace("Z", "+00:00")
    for f in (None, "%Y-%m-%d %H:%M:%S"):
        try:
            return datetime.fromisoformat(s) if f is None else datetime.strptime(s, f)
        except ValueError:
            continue
    return None


def frame_rate_variability(pts: np.ndarray, time_base: float | None) -> dict[str, float]:
    """Frame intervals from sorted presentation times: median, min, max (ms), and the share
    of intervals more than 25 % off the median, and the share of frames whose timestamp does not
    advance past the previous one (``repeated_share``; only that key when fewer than 5
    intervals advance and most repeat)."""
    p = np.sort(pts[pts >= 0])
    if time_base is None or len(p) < 10:
        return {}
    d = np.diff(p).astype(np.float64) * time_base * 1000.0
    repeated = float(np.mean(d <= 0))  # frames that share a timestamp with the one before
    d = d[d > 0]
    if len(d) < 5:
        return {"repeated_share": repeated} if repeated > 0.5 else {}
    med = float(np.median(d))
    off = float(np.mean(np.abs(d - med) > 0.25 * med))
    return {"median_ms": med, "min_ms": float(d.min()), "max_ms": float(d.max()),
            "share_off": off, "repeated_share": repeated}


def gop_periodicity(size: np.ndarray, key: np.ndarray) -> dict[str, float]:
    """Strongest periodic excess in the predicted frames' sizes (decode order).

    Sizes are normalised by a running median (9 frames) and log-transformed; for each period
    G in ``GOP_RANGE`` the mean at the best phase is turned into a z-score. Periods that are a
    multiple or divisor of the current key-frame interval are skipped.
    """
    from scipy.ndimage import median_filter

    n = len(size)
    if n < 3 * GOP_RANGE[0]:
        return {}
    r = np.log(size.astype(np.float64) + 16.0)
    r = r - median_filter(r, size=9, mode="nearest")
    r[key] = np.nan
    ok = np.isfinite(r)
    if ok.sum() < 20:  # all-intra codecs (MJPEG, ProRes) have no predicted frames at all
        return {}
    sd = float(np.nanstd(r))
    if sd <= 0:
        return {}
    kidx = np.flatnonzero(key)
    cur = int(np.median(np.diff(kidx))) if len(kidx) >= 2 else 0
    best = {"z": 0.0, "period": 0.0, "current_gop": float(cur)}
    for G in range(GOP_RANGE[0], min(GOP_RANGE[1], n // 3) + 1):
        if cur and (G % cur == 0 or cur % G == 0):
            continue
        for ph in range(G):
            v = r[ph::G]
            v = v[np.isfinite(v)]
            if len(v) < 5:
                continue
            z = float(v.mean() / (sd / math.sqrt(len(v))))
            if z > best["z"]:
                best = {"z": z, "period": float(G), "phase": float(ph), "current_gop": float(cur),
                        "count": float(len(v))}
    return best


@detector(
    name=NAME, version=VERSION, modalities=("video",),
    method="Demux-only reading of container and stream tags (encoder, muxer, handler, "
           "creation times, camera make/model), the x264/x265 settings SEI, stream start "
           "offsets, frame-interval variability, and a periodic size excess of predicted "
           "frames at a period other than the current GOP (earlier encoding); hand-set "
           "log-odds contributions.",
    reference="D. Vázquez-Padín, M. Fontani, T. Bianchi, P. Comesaña, A. Piva, M. Barni, "
              "'Detection of video double encoding with GOP size estimation', IEEE WIFS 2012; "
              "S. Milani et al., 'An overview on video forensics', APSIPA Trans. Signal and "
              "Information Processing 1, 2012",
    limits="Re-encoding and re-muxing are normal: every upload platform, messenger and "
           "converter does it, so software tags and double-compression traces say how a file "
           "travelled, not that faces were altered. Tags are trivial to strip or forge; their "
           "absence means nothing. The double-encoding test needs fixed-GOP first encodes and "
           "a few hundred frames; scene cuts and adaptive key frames confuse it.",
    artifacts=("software_metadata", "double_compression"),
    params={"logodds": LOGODDS, "gop_range": GOP_RANGE, "gop_z": GOP_Z,
            "start_offset_s": START_OFFSET_S, "creation_mismatch_s": CREATION_MISMATCH_S},
)
def video_container(media) -> DetectorResult:
    """Software, timing and re-encoding traces in the container and bitstream."""
    t0 = time.perf_counter()
    info = probe(media.path, media.format)
    findings: list[Finding] = []
    contrib: dict[str, float] = {}

    def add(kind: str, finding: Finding) -> None:
        findings.append(finding)
        contrib[kind] = LOGODDS[kind] if kind not in contrib else contrib[kind]

    tags: list[tuple[str, str]] = [(f"container:{k}", v) for k, v in info["container_tags"].items()]
    for s in info["streams"]:
        tags += [(f"stream{s['index']}({s['type']}):{k}", v) for k, v in s["tags"].items()]
    if info.get("encoder_sei"):
        tags.append(("video bitstream:encoder settings (SEI)", info["encoder_sei"]))
    for name, value in tags:
        low = value.lower()
        key = name.split(":")[-1].lower()
        for kind, words, strength in (("generator", GENERATORS, 0.9), ("face_tool", FACE_TOOLS, 0.9),
                                      ("editor", EDITORS, 0.5)):
            hit = next((w for w in words if re.search(r"(?<![a-z])" + re.escape(w) + r"(?![a-z])",
                                                      low)), None)
            if hit:
                add(kind, Finding(
                    artifact="software_metadata", location=MetadataField(name, value[:200]),
                    strength=strength,
                    measurement=Measurement(f"{kind.replace('_', ' ')} named in metadata", hit),
                    detector=NAME))
                break
        else:
            if key == "encoder" and re.match(r"lavf", low):
                add("muxer", Finding(
                    artifact="software_metadata", location=MetadataField(name, value),
                    strength=0.15, measurement=Measurement("software muxer (FFmpeg libavformat)",
                                                           value), detector=NAME))
            elif "SEI" in name:
                add("encoder_sei", Finding(
                    artifact="software_metadata", location=MetadataField(name, value[:200]),
                    strength=0.15, measurement=Measurement("software video encoder",
                                                           value.split(" - ")[0][:40]),
                    detector=NAME))
        if key in CAMERA_KEYS:
            contrib["camera"] = LOGODDS["camera"]
    # creation times
    ctimes = [(n, _parse_time(v)) for n, v in tags if n.split(":")[-1] == "creation_time"]
    ctimes = [(n, t) for n, t in ctimes if t is not None]
    if len(ctimes) >= 2:
        ts = sorted(ctimes, key=lambda x: x[1])
        spread = (ts[-1][1] - ts[0][1]).total_seconds()
        if spread > CREATION_MISMATCH_S:
            add("creation_mismatch", Finding(
                artifact="software_metadata",
                location=MetadataField(ts[-1][0], ts[-1][1].isoformat()),
                strength=0.4, measurement=Measurement("creation time after the earliest stream's",
                                                      round(spread, 1), CREATION_MISMATCH_S, "s"),
                detector=NAME))
    # stream start offsets
    starts = [(s, s["start_s"]) for s in info["streams"] if s["type"] in ("video", "audio")
              and s["start_s"] is not None]
    if len({s["type"] for s, _ in starts}) == 2:
        v0 = min(t for s, t in starts if s["type"] == "video")
        a0 = min(t for s, t in starts if s["type"] == "audio")
        if abs(a0 - v0) > START_OFFSET_S:
            add("start_offset", Finding(
                artifact="software_metadata",
                location=MetadataField("audio stream start_time", f"{a0:.3f} s (video {v0:.3f} s)"),
                strength=0.3, measurement=Measurement("audio start minus video start",
                                                      round(a0 - v0, 3), START_OFFSET_S, "s"),
                detector=NAME))
    # frame timing
    vfr: dict[str, float] = {}
    gop: dict[str, float] = {}
    if "pts" in info:
        vfr = frame_rate_variability(info["pts"], info["time_base"])
        repeated, med = vfr.get("repeated_share", 0.0), vfr.get("median_ms")
        if repeated > 0.05 or (med is not None and med < MIN_FRAME_INTERVAL_MS):
            # noted, not evidence: but every time this analysis reports rests on these stamps
            measurement = (
                Measurement("share of frames whose timestamp does not advance",
                            round(repeated, 4), 0.05) if repeated > 0.05 else
                Measurement("median frame interval", round(med, 4), MIN_FRAME_INTERVAL_MS,
                            "ms"))
            add("timestamps", Finding(
                artifact="software_metadata",
                location=MetadataField("video packet timestamps",
                                       "implausible: the times in this analysis are unreliable"),
                strength=0.1, measurement=measurement, detector=NAME))
        if vfr.get("share_off", 0.0) > 0.05:
            add("vfr", Finding(
                artifact="software_metadata",
                location=MetadataField("video packet timestamps",
                                       f"intervals {vfr['min_ms']:.1f}-{vfr['max_ms']:.1f} ms"),
                strength=0.1, measurement=Measurement("share of frame intervals off the median",
                                                      round(vfr["share_off"], 4), 0.05),
                detector=NAME))
        gop = gop_periodicity(info["size"], info["key"])
        if gop and gop["z"] >= GOP_Z:
            G = int(gop["period"])
            period_s = G / (media.fps or 25.0)
            add("double_compression", Finding(
                artifact="double_compression",
                location=FrameSpan(0.0, float(media.duration)),
                strength=float(min(1.0, 0.3 + 0.05 * (gop["z"] - GOP_Z))),
                measurement=Measurement(f"predicted-frame size excess every {G} frames "
                                        f"({period_s:.2f} s; current GOP "
                                        f"{int(gop['current_gop'])}), z", round(gop["z"], 2),
                                        GOP_Z),
                detector=NAME))
    score = P.sigmoid(sum(contrib.values()))
    extras = {"container_tags": info["container_tags"],
              "streams": [{k: s[k] for k in ("index", "type", "codec", "tags", "start_s")}
                          for s in info["streams"]],
              "encoder_sei": info.get("encoder_sei"), "frame_timing": vfr,
              "gop_periodicity": gop, "contributions": contrib,
              "budget": {"frames_decoded": 0, "packets_read": int(len(info.get("pts", [])))}}
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0,
                          params={"logodds": LOGODDS}, extras=extras)
