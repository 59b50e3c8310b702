"""Face vs surroundings consistency: noise, sharpness, colour and a blending-boundary response.

A face swapped or pasted into a photo comes from another camera, another compression and
another light, and it is blended in along a boundary around the face. Four measurements compare
the face with its own surroundings:

- **noise**: wavelet noise level (median absolute deviation of the finest diagonal Haar
  sub-band; Donoho & Johnstone, 1994, here the mean absolute value over the flatter half of
  each region) inside the face ellipse vs in a ring around it;
- **blurriness**: variance of the Laplacian (Pech-Pacheco et al., 2000) inside vs around;
- **colour**: chroma (Cb, Cr of YCbCr) of the face skin vs the neck (cervical region), as a
  distance in pooled standard deviations;
- **blending boundary** (after Face X-ray, Li et al., 2020): the noise residual's
  gradient energy on an elliptical ring at the face boundary vs just inside and just outside
  it; a blending mask leaves a discontinuity there. Measured per sector of the ring (upper ->
  ``upper_head``, sides -> ``ear``, lower -> ``cervical_region``).
"""

from __future__ import annotations

import time
from dataclasses import replace

import cv2
import numpy as np
import pywt

from detectors.image._common import orientation_of, stored_box, stored_map, upright
from detectors.image.faces import find_faces, tridf_regions
from detectors.registry import detector
from triage_app.model import Box, DetectorResult, Finding, Measurement, Region

NAME = "face_consistency"
VERSION = "1.1.0"

#: Per-measurement evidence z (0 = consistent) -> probability: p = 1/(1+exp(-(z - Z0)/ZS)).
#: z is ``|log2(ratio)|`` for noise and sharpness (one octave = 1), the chroma distance in
#: pooled standard deviations divided by 3 for colour, and ``log2(ring / sides)`` for the
#: blending ring. The constants were set by hand on the dev reals (grace_hopper, astronaut:
#: FF++ real frames: z <= 1.0) and on synthetic
#: blurred/noised/tinted faces (z >= 1.0-6); they are provisional and
#: not fitted on a labelled face-forgery set.
Z0 = 1.1
ZS = 0.25
#: A finding is reported when its z exceeds this.
Z_FINDING = 1.0

PARAMS = {"ellipse_scale": (0.45, 0.58), "ring_in": 0.85, "ring_out": 1.15,
          "surround": (1.25, 1.7), "z_midpoint": Z0, "z_scale": ZS, "z_finding": Z_FINDING,
          "max_faces": 3}


def _ellipse_mask(shape: tuple[int, int], box: Box, scale: float) -> np.ndarray:
    """Filled ellipse inscribed in the face box, scaled by ``scale``."""
    m = np.zeros(shape, np.uint8)
    cx = box.x + box.w / 2.0
    cy = box.y + box.h * 0.55
    ax = box.w * PARAMS["ellipse_scale"][0] * scale
    ay = box.h * PARAMS["ellipse_scale"][1] * scale
    cv2.ellipse(m, (int(round(cx)), int(round(cy))), (max(1, int(round(ax))),
                max(1, int(round(ay)))), 0, 0, 360, 1, -1)
    return m > 0


def _mad_sigma_map(gray: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """|HH| and the structure energy |LH| + |HL| of a one-level Haar DWT, upsampled to image
    size (for per-region medians)."""
    _, (lh, hl, hh) = pywt.dwt2(gray.astype(np.float32), "haar")
    size = (gray.shape[1], gray.shape[0])
    a = cv2.resize(np.abs(hh).astype(np.float32), size, interpolation=cv2.INTER_NEAREST)
    st = cv2.resize((np.abs(lh) + np.abs(hl)).astype(np.float32), size,
                    interpolation=cv2.INTER_NEAREST)
    return a, st


def _flat_mad(hh: np.ndarray, st: np.ndarray, region: np.ndarray) -> float:
    """Noise sigma from HH over the flatter half of a region (edges and texture leak into HH
    too; the flatter half is mostly noise). The mean absolute deviation (sigma = MAD_mean *
    sqrt(pi/2) for Gaussian noise) is used rather than the median because HH of 8-bit data is
    quantised in steps of 0.5, which makes medians of low-noise regions jump between 0 and
    0.5."""
    s = st[region]
    sel = s <= np.median(s)
    return float(np.mean(hh[region][sel])) * 1.2533


def _sigmoid(z: float) -> float:
    return float(1.0 / (1.0 + np.exp(-(z - Z0) / ZS)))


def face_measurements(rgb: np.ndarray, box: Box) -> dict[str, float]:
    """The face-vs-surroundings measurements for one face box (see the module docstring).

    Returns a dict with ``noise_ratio``, ``sharpness_ratio``, ``chroma_distance``,
    ``ring_ratio_upper_head``, ``ring_ratio_ear``, ``ring_ratio_cervical_region`` (NaN where a
    region falls outside the image or has too few pixels). Only a window around the face
    (large enough for the outer ring and the neck) is read, so the cost does not grow with
    the image size.
    """
    s1 = PARAMS["surround"][1]
    cx, cy = box.x + box.w / 2.0, box.y + box.h * 0.55
    rx = box.w * PARAMS["ellipse_scale"][0] * s1 + 4
    ry = box.h * PARAMS["ellipse_scale"][1] * s1 + 4
    x0 = max(0, int(cx - rx))
    x1 = min(rgb.shape[1], int(np.ceil(cx + rx)))
    y0 = max(0, int(cy - ry))
    y1 = min(rgb.shape[0], int(np.ceil(max(cy + ry, box.y + 1.5 * box.h))) + 1)
    sub = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    return _measure(sub, Box(box.x - x0, box.y - y0, box.w, box.h))


def _measure(rgb: np.ndarray, box: Box) -> dict[str, float]:
    h, w = rgb.shape[:2]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
    inner = _ellipse_mask((h, w), box, 0.8)
    face = _ellipse_mask((h, w), box, 1.0)
    s0, s1 = PARAMS["surround"]
    surround = _ellipse_mask((h, w), box, s1) & ~_ellipse_mask((h, w), box, s0)
    out: dict[str, float] = {}
    # noise: wavelet MAD
    hh, st = _mad_sigma_map(gray)
    if inner.sum() > 50 and surround.sum() > 50:
        si = _flat_mad(hh, st, inner)
        so = _flat_mad(hh, st, surround)
        # heavy compression wipes the finest sub-band out (MAD 0): no noise to compare then;
        # otherwise a floor of 0.5 grey levels keeps near-zero estimates from exploding
        out["noise_ratio"] = (si + 0.5) / (so + 0.5) if max(si, so) >= 0.3 else float("nan")
        lap = cv2.Laplacian(gray, cv2.CV_32F, ksize=3)
        out["sharpness_ratio"] = float((lap[inner].var() + 1.0) / (lap[surround].var() + 1.0))
    else:
        out["noise_ratio"] = out["sharpness_ratio"] = float("nan")
    # colour: face skin vs neck
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb).astype(np.float32)
    neck_box = tridf_regions(box, rgb.shape)["cervical_region"]
    neck = np.zeros((h, w), bool)
    neck[neck_box.y:neck_box.y + neck_box.h, neck_box.x:neck_box.x + neck_box.w] = True
    neck &= ~face
    if inner.sum() > 50 and neck.sum() > 50:
        d = []
        for k in (1, 2):
            a, b = ycc[..., k][inner], ycc[..., k][neck]
            pooled = np.sqrt((a.var() + b.var()) / 2.0) + 2.0
            d.append((a.mean() - b.mean()) / pooled)
        out["chroma_distance"] = float(np.hypot(*d))
    else:
        out["chroma_distance"] = float("nan")
    # blending boundary: residual gradient energy on the ring vs bands either side
    r = gray - cv2.GaussianBlur(gray, (0, 0), 1.5)
    gx = cv2.Sobel(r, cv2.CV_32F, 1, 0, ksize=3)
    gy = cv2.Sobel(r, cv2.CV_32F, 0, 1, ksize=3)
    g = np.sqrt(gx * gx + gy * gy)
    ring = _ellipse_mask((h, w), box, PARAMS["ring_out"]) & ~_ellipse_mask((h, w), box,
                                                                            PARAMS["ring_in"])
    band_in = _ellipse_mask((h, w), box, PARAMS["ring_in"]) & ~_ellipse_mask((h, w), box, 0.65)
    band_out = _ellipse_mask((h, w), box, 1.4) & ~_ellipse_mask((h, w), box, PARAMS["ring_out"])
    yy, xx = np.mgrid[0:h, 0:w]
    ang = np.degrees(np.arctan2(yy - (box.y + box.h * 0.55), xx - (box.x + box.w / 2.0)))
    sectors = {"upper_head": (ang < -45) & (ang > -135),
               "cervical_region": (ang > 45) & (ang < 135),
               "ear": (np.abs(ang) <= 45) | (np.abs(ang) >= 135)}
    for rid, sec in sectors.items():
        rs, ins, outs = ring & sec, band_in & sec, band_out & sec
        if min(rs.sum(), ins.sum(), outs.sum()) < 30:
            out[f"ring_ratio_{rid}"] = float("nan")
            continue
        # median: robust to one strong real edge (a collar, hair line) crossing the ring
        out[f"ring_ratio_{rid}"] = float((np.median(g[rs]) + 0.1)
                                         / (0.5 * (np.median(g[ins]) + np.median(g[outs])) + 0.1))
    return out


def _evidence(meas: dict[str, float]) -> dict[str, tuple[float, str, str, float, float]]:
    """artifact -> (z, region, measurement name, value, reference)."""
    ev = {}
    if np.isfinite(meas["noise_ratio"]):
        ev["noise"] = (abs(np.log2(meas["noise_ratio"])), "midface",
                       "wavelet noise sigma, face / surroundings", meas["noise_ratio"], 1.0)
    if np.isfinite(meas["sharpness_ratio"]):
        # a Laplacian variance ratio: square root brings it to an amplitude ratio
        ev["blurriness"] = (abs(np.log2(meas["sharpness_ratio"])) / 2.0, "midface",
                            "Laplacian variance, face / surroundings", meas["sharpness_ratio"],
                            1.0)
    if np.isfinite(meas["chroma_distance"]):
        ev["color_inconsistency"] = (meas["chroma_distance"] / 3.0, "cervical_region",
                                     "chroma (Cb, Cr) distance face vs neck, pooled std",
                                     meas["chroma_distance"], 0.0)
    best = None
    for rid in ("upper_head", "ear", "cervical_region"):
        v = meas.get(f"ring_ratio_{rid}", float("nan"))
        if np.isfinite(v) and (best is None or v > best[1]):
            best = (rid, v)
    if best is not None:
        ev["blending_artifacts"] = (max(0.0, float(np.log2(best[1]))), best[0],
                                    "residual gradient on the face-boundary ring / either side",
                                    best[1], 1.0)
    return ev


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="face (Haar) vs surroundings: wavelet-MAD noise, Laplacian sharpness, YCbCr chroma "
           "vs neck, residual-gradient discontinuity on an elliptical boundary ring",
    reference="L. Li, J. Bao, T. Zhang, H. Yang, D. Chen, F. Wen, B. Guo (2020), Face X-ray for "
              "more general face forgery detection, CVPR, doi:10.1109/CVPR42600.2020.00505; "
              "D. Donoho, I. Johnstone (1994), Ideal spatial adaptation by wavelet shrinkage, "
              "Biometrika 81(3); J. Pech-Pacheco et al. (2000), Diatom autofocusing in "
              "brightfield microscopy: a comparative study, ICPR",
    limits="Frontal faces only (Haar cascade). Natural depth of field (sharp face, blurred "
           "background), make-up, scarves and strong shadows also make a face differ from "
           "its surroundings; the constants are provisional (not fitted on a labelled "
           "face-forgery image set).",
    artifacts=("blending_artifacts", "noise", "color_inconsistency", "blurriness"),
    params=PARAMS, localizes=True, map_weight=0.5,
)
def face_consistency(media) -> DetectorResult:
    """Check whether each face is consistent with its surroundings.

    Parameters
    ----------
    media : ImageMedia
        Image (``media.pixels``, RGB uint8).

    Returns
    -------
    DetectorResult
        ``not_applicable`` ("no face found") without a frontal face, looked for on the
        picture as it is shown (EXIF orientation applied; boxes, regions and the heatmap
        are then turned back to stored pixels). Otherwise, per face (at
        most 3), evidence values ``z``: ``|log2(noise ratio)|``, ``|log2(Laplacian variance
        ratio)| / 2``, ``chroma distance / 3`` and ``log2(ring ratio)``; each maps to
        ``p = 1 / (1 + exp(-(z - 1.1) / 0.25))`` (constants in :data:`Z0`, set on the
        development reals and synthetic pastes). The score is the largest ``p`` over faces
        and measurements. A finding (artifact ``noise``, ``blurriness``,
        ``color_inconsistency`` or ``blending_artifacts``, with its TriDF region) is reported
        for every ``z > 1``; its location is the face box or the region's box.

    References
    ----------
    .. [1] L. Li et al., "Face X-ray for more general face forgery detection", CVPR 2020.
    .. [2] D. L. Donoho, I. M. Johnstone, "Ideal spatial adaptation by wavelet shrinkage",
       Biometrika 81(3):425-455, 1994.
    """
    t0 = time.perf_counter()
    rgb = media.pixels
    if rgb.ndim == 2:
        rgb = np.dstack([rgb] * 3)
    orientation = orientation_of(media)
    if orientation == 1:
        return _judge_faces(np.ascontiguousarray(rgb[..., :3]), t0)
    # a phone's portrait photo is stored sideways: faces are found and their regions named
    # on the picture as it is shown, and everything is reported in stored pixels
    res = _judge_faces(np.ascontiguousarray(upright(rgb[..., :3], orientation)), t0)
    if res.status != "ok":
        return res
    shape = rgb.shape

    def back(loc):
        if isinstance(loc, Box):
            return stored_box(loc, orientation, shape)
        if isinstance(loc, Region) and loc.box is not None:
            return replace(loc, box=stored_box(loc.box, orientation, shape))
        return loc

    res.findings = [replace(f, location=back(f.location)) for f in res.findings]
    res.heatmap = np.ascontiguousarray(stored_map(res.heatmap, orientation))
    for face in res.extras["faces"]:
        face["box"] = vars(stored_box(Box(**face["box"]), orientation, shape))
    res.extras["exif_orientation"] = orientation
    return res


def _judge_faces(rgb: np.ndarray, t0: float) -> DetectorResult:
    """:func:`face_consistency` on upright RGB pixels."""
    faces = find_faces(rgb)[:PARAMS["max_faces"]]
    if not faces:
        return DetectorResult.not_applicable(NAME, VERSION, "no face found", params=PARAMS,
                                             runtime=time.perf_counter() - t0)
    findings: list[Finding] = []
    best = 0.0
    per_face = []
    heat = np.zeros(rgb.shape[:2], np.float32)
    for face in faces:
        meas = face_measurements(rgb, face.box)
        ev = _evidence(meas)
        regions = tridf_regions(face.box, rgb.shape)
        per_face.append({"box": vars(face.box), "haar_weight": round(face.score, 3),
                         **{k: (round(v, 4) if np.isfinite(v) else None)
                            for k, v in meas.items()}})
        for artifact, (z, region, mname, value, ref) in ev.items():
            p = _sigmoid(z)
            best = max(best, p)
            if z <= Z_FINDING:
                continue
            loc = Region(name=region, box=regions[region]) if artifact in (
                "blending_artifacts", "color_inconsistency") else face.box
            findings.append(Finding(
                artifact=artifact, location=loc, strength=p, region=region,
                measurement=Measurement(name=mname, value=round(float(value), 4),
                                        reference=ref, unit="ratio" if ref == 1.0 else "sd"),
                detector=NAME))
            fm = _ellipse_mask(rgb.shape[:2], face.box, 1.0)
            heat[fm] = np.maximum(heat[fm], p)
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=best,
                          findings=findings, runtime=time.perf_counter() - t0, params=PARAMS,
                          heatmap=heat, extras={"faces": per_face})
