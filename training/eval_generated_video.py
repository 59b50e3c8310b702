"""Self-blended face videos, scored by the whole pipeline: the video fusion's generated set.

Reproduce (about 4 minutes on the 2-core machine)::

    .venv/bin/python training/eval_generated_video.py --corpus ../shared/corpus \\
        --out runs/eval_video_generated.json

A face swap pastes a generated face into a camera frame through a soft mask; what every swap
leaves, whatever made the face, is the blend: a boundary where colour, sharpness and noise
change. Self-blended images (Shiohara & Yamasaki 2022) make that trace from real faces alone:
the face is blended with a slightly transformed copy of itself, so identity, expression,
lighting and camera stay the same and only the blend differs. Here, for each authentic corpus
video in which a face is tracked, cut into pieces of ``--segment`` seconds:

- ``reencoded`` (authentic): the piece decoded and encoded again by libx264 (CRF 23), the
  encoder of the two fakes, so container and re-encoding traces cannot tell them apart;
- ``self_blend`` (manipulated): in every frame, the face is replaced by a copy of itself with
  another colour balance (per-channel gain 0.90-1.10, offset up to 8 levels), less detail
  (scaled down by 0.5-0.8 and up again) and a small scale and shift (up to 3 % of the face),
  blended through a feathered ellipse inside the face box at a ratio of 0.6-1.0; the
  parameters are drawn once per piece (seeded), so the blend is steady, as in a good swap;
- ``self_blend_flicker`` (manipulated): the same, with the blend ratio and the colour gain
  drawn anew for every frame (a swap that is unstable in time).

The face box is Haar-detected every 5th frame (``detectors.image.faces``), the largest face,
interpolated between detections and median-smoothed over 9 detections; pieces with no face
are skipped. Output: ``triage eval --json``-style records (``source`` = ``generated_video``,
``origin`` = the corpus clip, so that ``fit_ensemble.py`` keeps a clip's pieces and all their
versions in one fold; ``fit_weight`` 1 for the authentic piece and 1/2 for each fake).

References
----------
Shiohara K., Yamasaki T. (2022). Detecting deepfakes with self-blended images. CVPR 2022,
18720-18729.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DETECT_EVERY = 5
VARIANTS = ("reencoded", "self_blend", "self_blend_flicker")


def face_track(path: Path) -> tuple[np.ndarray, float, int]:
    """Per-frame face box (x, y, w, h; NaN without face), frame rate, frame count."""
    import av
    from scipy.ndimage import median_filter

    from detectors.image.faces import find_faces

    idx, boxes = [], []
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        fps = float(st.average_rate or 25)
        n = 0
        for fr in c.decode(st):
            if n % DETECT_EVERY == 0:
                faces = find_faces(fr.to_ndarray(format="rgb24"))
                if faces:
                    b = max(faces, key=lambda f: f.box.w * f.box.h).box
                    idx.append(n)
                    boxes.append((b.x, b.y, b.w, b.h))
            n += 1
    out = np.full((n, 4), np.nan)
    if len(idx) >= 2:
        b = median_filter(np.array(boxes, float), size=(min(9, len(idx)), 1), mode="nearest")
        for k in range(4):
            out[:, k] = np.interp(np.arange(n), idx, b[:, k], left=np.nan, right=np.nan)
    return out, fps, n


def _ellipse_mask(h: int, w: int, box, axes: tuple[float, float], feather: float) -> np.ndarray:
    import cv2

    x, y, bw, bh = box
    yy, xx = np.mgrid[0:h, 0:w]
    cx, cy = x + bw / 2, y + bh * 0.55   # a Haar box holds the forehead: centre a little low
    r = ((xx - cx) / (axes[0] * bw)) ** 2 + ((yy - cy) / (axes[1] * bh)) ** 2
    m = (r <= 1.0).astype(np.float32)
    k = max(3, int(feather * bw) | 1)
    return cv2.GaussianBlur(m, (k, k), 0)


def self_blend(frame: np.ndarray, box, p: dict, rng: np.random.Generator | None = None
               ) -> np.ndarray:
    """``frame`` (RGB uint8) with its face blended with a transformed copy of itself.

    ``p``: gains (3,), offsets (3,), detail (down-scale factor), scale, shift (dx, dy as
    fractions of the face width), axes, feather, ratio. With ``rng``, ratio and gains are
    drawn anew around ``p``'s (the flicker variant)."""
    import cv2

    h, w = frame.shape[:2]
    x, y, bw, bh = box
    gains, ratio = np.asarray(p["gains"], float), float(p["ratio"])
    if rng is not None:
        gains = gains * rng.uniform(0.94, 1.06, 3)
        ratio = float(np.clip(ratio * rng.uniform(0.6, 1.2), 0.2, 1.0))
    src = frame.astype(np.float32) * gains + np.asarray(p["offsets"], np.float32)
    d = float(p["detail"])
    small = cv2.resize(src, (max(8, int(w * d)), max(8, int(h * d))), interpolation=cv2.INTER_AREA)
    src = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
    cx, cy = x + bw / 2, y + bh / 2
    m_aff = cv2.getRotationMatrix2D((cx, cy), 0.0, float(p["scale"]))
    m_aff[:, 2] += (p["shift"][0] * bw, p["shift"][1] * bw)
    src = cv2.warpAffine(src, m_aff, (w, h), borderMode=cv2.BORDER_REFLECT)
    mask = _ellipse_mask(h, w, box, p["axes"], p["feather"])[..., None] * ratio
    out = mask * src + (1 - mask) * frame.astype(np.float32)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def draw_params(rng: np.random.Generator) -> dict:
    return {"gains": rng.uniform(0.90, 1.10, 3).tolist(), "offsets": rng.uniform(-8, 8, 3).tolist(),
            "detail": float(rng.uniform(0.5, 0.8)), "scale": float(rng.uniform(0.97, 1.03)),
            "shift": rng.uniform(-0.03, 0.03, 2).tolist(),
            "axes": (float(rng.uniform(0.38, 0.46)), float(rng.uniform(0.48, 0.56))),
            "feather": float(rng.uniform(0.08, 0.16)), "ratio": float(rng.uniform(0.6, 1.0))}


def write_pieces(path: Path, boxes: np.ndarray, fps: float, segment_s: float, variant: str,
                 out_dir: Path, seed: int) -> list[tuple[int, Path]]:
    """Encode ``variant`` of every piece with a face; (piece index, file) pairs."""
    import av

    per = max(1, int(round(segment_s * fps)))
    n = len(boxes)
    pieces = []
    rng = np.random.default_rng(seed)
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        out = None
        params = None
        k = -1
        for i, fr in enumerate(c.decode(st)):
            piece = i // per
            if piece != k:
                if out is not None:
                    for pkt in ost.encode(None):
                        out.mux(pkt)
                    out.close()
                    out = None
                k = piece
                sel = boxes[piece * per: min(n, (piece + 1) * per)]
                full = (piece + 1) * per <= n
                if not full or not np.all(np.isfinite(sel)):
                    continue   # a short tail, or a piece where the face is lost
                fname = out_dir / f"{path.stem}_{variant}_{piece}.mp4"
                out = av.open(str(fname), "w")
                ost = out.add_stream("libx264", rate=int(round(fps)))
                ost.width, ost.height = fr.width - fr.width % 2, fr.height - fr.height % 2
                ost.pix_fmt = "yuv420p"
                ost.options = {"crf": "23", "preset": "veryfast"}
                params = draw_params(rng)
                pieces.append((piece, fname))
            if out is None:
                continue
            rgb = fr.to_ndarray(format="rgb24")[: ost.height, : ost.width]
            if variant != "reencoded":
                rgb = self_blend(rgb, boxes[i], params,
                                 rng if variant == "self_blend_flicker" else None)
            for pkt in ost.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                out.mux(pkt)
        if out is not None:
            for pkt in ost.encode(None):
                out.mux(pkt)
            out.close()
    return pieces


def out_of_fold_face_blend(record: dict, media, origin: str, report: dict) -> None:
    """Replace ``record``'s video_face_blend score by that of the trainer's fold model that
    held out the piece's person (the FF++ identity of ``origin``), mapped by the report's
    calibration; the shipped model's score stays under ``video_face_blend_in_sample``.

    The shipped model was trained on these originals' frames, so its scores of their pieces
    are in-sample; a fitted fusion weight must come from scores of people the model never
    saw."""
    import math

    from detectors.learned.face_blend import video_face_blend
    from training.face_blend_data import ffpp_group

    name = "video_face_blend"
    if name not in record["scores"] or not origin.startswith("ffpp_c23/"):
        return
    weights = Path(report["folds_dir"]) / f"{ffpp_group(origin)}.safetensors"
    if not weights.is_file():
        return
    res = video_face_blend(media, weights=weights)
    if res.status != "ok":
        return
    a, b = report["calibration"]["a"], report["calibration"]["b"]
    record["video_face_blend_in_sample"] = record["scores"][name]
    record["scores"][name] = 1.0 / (1.0 + math.exp(-(a * res.extras["mean_logit"] + b)))


def main(argv: list[str] | None = None) -> int:
    from training.eval_records import eval_record, write_records
    from triage_app.media import open_media
    from triage_app.pipeline import analyze

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--out", default="runs/eval_video_generated.json")
    ap.add_argument("--segment", type=float, default=4.0, help="piece length, seconds")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--face-blend-oof", default="", metavar="REPORT.json",
                    help="report of training/train_face_blend.py --report --save-folds: score "
                         "each piece's video_face_blend with the fold model that never saw "
                         "its person (the shipped model was trained on these very faces)")
    args = ap.parse_args(argv)
    oof = json.loads(Path(args.face_blend_oof).read_text()) if args.face_blend_oof else None
    corpus = Path(args.corpus)
    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv", newline="", encoding="utf-8"))
            if r["modality"] == "video" and r["label"] == "authentic"]
    items = []
    with tempfile.TemporaryDirectory(prefix="triage_genvideo_") as tmp:
        for ci, r in enumerate(rows):
            path = corpus / r["path"]
            boxes, fps, n = face_track(path)
            if not np.isfinite(boxes).any():
                print(f"no face tracked in {r['path']}; skipped", flush=True)
                continue
            for vi, variant in enumerate(VARIANTS):
                pieces = write_pieces(path, boxes, fps, args.segment, variant, Path(tmp),
                                      seed=args.seed * 1000 + ci * 10 + vi)
                for piece, fname in pieces:
                    media = open_media(fname)
                    a = analyze(media)
                    label = variant != "reencoded"
                    items.append(eval_record(
                        a, path=f"generated/{variant}/{r['path']}#{piece}", manipulated=label,
                        modality="video", source="generated_video", manipulation=variant,
                        origin=r["path"], origin_source=r["path"].split("/")[0],
                        fit_weight=0.5 if label else 1.0))
                    if oof is not None:
                        out_of_fold_face_blend(items[-1], media, r["path"], oof)
                    fname.unlink()
                    print(f"{len(items):3d} {variant:<18} p={a.verdict.probability:.2f} "
                          f"{r['path']}#{piece}", flush=True)
    write_records(items, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
