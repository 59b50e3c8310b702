"""JPEG compression traces: quality estimate, double compression, JPEG ghosts, grid breaks.

Four classical measurements over the compression history of an image:

1. the quantization table of a JPEG file and its IJG quality (a property, not evidence);
2. aligned double JPEG compression (after Bianchi & Piva 2012): the histograms of quantized
   DCT coefficients of a twice-compressed image carry periodic gaps/peaks when the first
   quantization step differs from the current one; blocks that lack this periodicity inside a
   doubly compressed image were pasted (or otherwise not compressed twice on the same grid);
3. JPEG ghosts (Farid 2009): re-saving at the quality a region was once saved at leaves it
   almost unchanged, so that region shows a dip of the re-compression difference that the rest
   of the image does not have (or vice versa);
4. for images that are no longer JPEG (PNG...), the residual 8x8 blocking grid of an earlier
   JPEG compression: regions where the image-wide grid is absent or shifted were moved or
   pasted (the signal used by Novozamsky & Sorel for copy-move).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, Whole

from . import _common as C

NAME = "jpeg_traces"
VERSION = "1.2"  # 1.2: a computer-drawn PNG holds no JPEG history to read

#: Logistic mapping of the strongest localized anomaly (mean z of the strongest region over
#: the double-quantization, ghost and grid maps) to a probability; fitted on the development
#: corpus by benchmarks/eval_image_classical.py --fit (NoSo + generated JPEG splices).
#: Fitted 2026-11-25: applicable NoSo + generated splices, n=111, leave-one-scene-out AUC
#: 0.69, log-loss 0.612. No anomalous region gives 0.27, a region at mean z 8 gives 0.89.
CALIBRATION = {"x0": 2.62, "k": 0.38}
#: Weight of an image-wide double compression (re-saving is not tampering by itself).
GLOBAL_DQ_WEIGHT = 0.3
Z_SEED = 3.5
#: Nats per 8x8 block (5x5-block mean log-likelihood ratio) counted as one "z" unit.
DQ_NATS = 0.2
#: Global grid ratio (clipped gradient across 8x8 boundaries / elsewhere, geometric mean of
#: both directions) above which a non-JPEG image is taken to carry an earlier JPEG grid.
#: Never-compressed synthetic photos: 1.01-1.025; the same saved at JPEG q75-90: 1.25-1.47;
#: NoSo originals: 1.04-1.20, except 05, 07, 12, 13 (1.00-1.01).
GRID_PRESENT = 1.03
GHOST_QUALITIES = (50, 60, 70, 80, 90)
#: Depth (log units, second difference of the median curve) of the image-wide dip below
#: which a non-JPEG image counts as once saved at that quality (ghost map used).
GHOST_DIP = -0.03
#: Quality of the reference re-save that every ghost curve is compared with.
GHOST_REFERENCE = 96

# IJG standard luminance table (ITU-T T.81 Annex K), natural order.
_STD_LUMA = np.array([
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99], float).reshape(8, 8)
_ZIGZAG = np.array([
    0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27,
    20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58,
    59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63])
#: AC coefficients (zig-zag indices 1..9) used for the double-quantization analysis.
DQ_COEFFS = tuple(int(i) for i in _ZIGZAG[1:10])


# --------------------------------------------------------------------------- quantization


def parse_dqt(raw: bytes) -> dict[int, np.ndarray]:
    """Quantization tables of a JPEG file (DQT segments), natural order, shape (8, 8) each."""
    tables: dict[int, np.ndarray] = {}
    i, n = 2, len(raw)
    while i + 4 <= n:
        if raw[i] != 0xFF:
            break
        marker = raw[i + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        seg_len = int.from_bytes(raw[i + 2:i + 4], "big")
        if marker == 0xDA:  # start of scan: tables come before
            break
        if marker == 0xDB:
            j, end = i + 4, i + 2 + seg_len
            while j < end and j < n:
                pq, tq = raw[j] >> 4, raw[j] & 15
                size = 128 if pq else 64
                vals = raw[j + 1:j + 1 + size]
                if len(vals) < size:
                    break
                arr = (np.frombuffer(vals, ">u2") if pq else np.frombuffer(vals, np.uint8))
                nat = np.zeros(64, float)
                nat[_ZIGZAG] = arr.astype(float)
                tables[int(tq)] = nat.reshape(8, 8)
                j += 1 + size
        i += 2 + seg_len
    return tables


def luma_table(image: Any) -> np.ndarray | None:
    """The luminance quantization table (8x8, natural order) of a JPEG image, else None.

    Read from the file's DQT segments (``image.raw``), else from the loader's
    ``image.quantization``; the table of the lowest id is the luminance one."""
    raw = getattr(image, "raw", b"") or b""
    if raw[:3] != b"\xff\xd8\xff":
        return None
    tables = parse_dqt(raw)
    if not tables and getattr(image, "quantization", None):
        tables = {k: np.asarray(v, float).reshape(8, 8) for k, v in image.quantization.items()}
    return tables[min(tables)] if tables else None


def ijg_table(quality: int) -> np.ndarray:
    """IJG (libjpeg) luminance table for ``quality`` 1..100, baseline (clipped to 1..255)."""
    q = min(max(int(quality), 1), 100)
    scale = 5000 // q if q < 50 else 200 - 2 * q  # integer arithmetic, as jcparam.c
    return np.clip((_STD_LUMA.astype(np.int64) * scale + 50) // 100, 1, 255).astype(float)


def estimate_quality(luma_table: np.ndarray) -> tuple[int, float]:
    """IJG quality whose luminance table is closest to ``luma_table`` and the mean |error|.

    Examples
    --------
    >>> estimate_quality(ijg_table(87))
    (87, 0.0)
    """
    errs = [float(np.abs(ijg_table(q) - luma_table).mean()) for q in range(1, 101)]
    best = int(np.argmin(errs))
    return best + 1, round(errs[best], 3)


def _dct_matrix() -> np.ndarray:
    k = np.arange(8)
    d = np.cos((2 * k[None, :] + 1) * k[:, None] * np.pi / 16) * np.sqrt(2 / 8)
    d[0] /= np.sqrt(2)
    return d


_D = _dct_matrix()


def block_dct(y: np.ndarray) -> np.ndarray:
    """Orthonormal 8x8 DCT of every block of ``y - 128`` on the grid at the origin.

    Returns shape (H // 8, W // 8, 64), coefficients in natural (row-major) order.
    """
    v = C.block_view(y.astype(np.float32) - 128.0, 8)
    d = _D.astype(np.float32)
    c = np.matmul(np.matmul(d, v), d.T)
    return c.reshape(c.shape[0], c.shape[1], 64)


# --------------------------------------------------------------------------- double quantization


def _hist(values: np.ndarray, lim: int) -> np.ndarray:
    v = (np.clip(values, -lim, lim) + lim).astype(np.intp)
    return np.bincount(v.ravel(), minlength=2 * lim + 1).astype(np.float64)


def double_quantization(y: np.ndarray, q2: np.ndarray, *, coeffs=DQ_COEFFS, lim: int = 40,
                        ) -> dict[str, object]:
    """Estimate first quantization steps and per-block double-compression log-likelihoods.

    For each selected coefficient with current step ``q2 >= 2``, the single-compression
    distribution is predicted from the calibrated image (cropped by 4 pixels, so that its DCT
    grid is not the JPEG grid: Lukas & Fridrich 2003), and the double-compression histogram for
    a candidate first step q1 is obtained by pushing those calibrated coefficients through
    ``round(round(u / q1) * q1 / q2)``. The q1 that best explains the observed histogram is
    kept; if it differs from q2 and explains it clearly better, the coefficient carries
    double-compression evidence. Each block then gets
    ``sum log P_single(x) - log P_double(x)`` over those coefficients (Bianchi & Piva's
    likelihood map, with the model histograms taken from the calibrated image).
    """
    obs = block_dct(y)
    cal = block_dct(y[4:, 4:])
    nb = obs.shape[:2]
    llr = np.zeros(nb)
    details = []
    evidence = 0.0
    for c in coeffs:
        step = float(q2.ravel()[c])
        if step < 2:
            continue
        x = np.round(obs[..., c] / step)
        h_obs = _hist(x, lim)
        u = cal[..., c].ravel()[::max(1, cal[..., c].size // 20000)]
        h_sq = _hist(np.round(u / step), lim)
        tot_obs = h_obs.sum()

        def dist(h: np.ndarray) -> float:
            p = (h + 0.5) / (h.sum() + 0.5 * h.size)
            o = h_obs / tot_obs
            return float(np.abs(o - p).sum())

        d_sq = dist(h_sq)
        best_q1, best_d, best_h = int(step), d_sq, h_sq
        for q1 in range(1, int(min(3 * step + 8, 48)) + 1):
            if q1 == int(step):
                continue
            h = _hist(np.round(np.round(u / q1) * q1 / step), lim)
            d = dist(h)
            if d < best_d:
                best_q1, best_d, best_h = q1, d, h
        gain = (d_sq - best_d) / max(d_sq, 1e-9)
        details.append({"coefficient": int(c), "q2": int(step), "q1": best_q1,
                        "fit_gain": round(gain, 3)})
        if best_q1 == int(step) or gain < 0.25:
            continue
        evidence += gain
        p_sq = (h_sq + 0.5) / (h_sq.sum() + 0.5 * h_sq.size)
        p_dq = (best_h + 0.5) / (best_h.sum() + 0.5 * best_h.size)
        # decoding rounds pixels, which moves a few coefficients into "empty" bins: mix in the
        # single-compression model so that one such coefficient cannot dominate a block
        p_dq = 0.8 * p_dq + 0.2 * p_sq
        idx = np.clip(x, -lim, lim).astype(np.int64) + lim
        contrib = np.log(p_sq[idx]) - np.log(p_dq[idx])
        contrib[x == 0] = 0.0  # the zero bin says little and dominates flat areas
        llr += contrib
    n_ev = sum(1 for d in details if d["q1"] != d["q2"] and d["fit_gain"] >= 0.25)
    return {"llr": llr, "details": details, "n_coeffs_dq": n_ev,
            "evidence": evidence / max(len(details), 1)}


# --------------------------------------------------------------------------- ghosts and grid


def ghost_curves(grey: np.ndarray, qualities, *, block: int = 16) -> np.ndarray:
    """Per-block mean squared difference between ``grey`` and its JPEG re-save at each quality.

    Returns shape (len(qualities), H // block, W // block).
    """
    g8 = np.clip(np.round(grey), 0, 255).astype(np.uint8)
    g = g8.astype(np.float32)
    out = []
    for q in qualities:
        r = C.jpeg_roundtrip(g8, q).astype(np.float32)
        out.append(C.block_mean((g - r) ** 2, block))
    return np.stack(out)


def ghost_anomaly(curves: np.ndarray, *, missing_dip: bool
                  ) -> tuple[np.ndarray, int, float]:
    """Anomaly z per block, the quality index used and the image's dip depth (log units).

    ``curves[-1]`` is the reference re-save (high quality); each other curve is taken relative
    to it in log (removing the block's texture, as Farid's per-pixel normalization does) and
    turned into a robust z over blocks.

    - ``missing_dip=False`` (a JPEG file: look for ghosts) the anomaly is ``max_q -z_q``: the
      block's difference dips at some quality where the image's does not.
    - ``missing_dip=True`` (an image with a residual grid: the image as a whole dips at the
      quality q* it was once saved at) the anomaly is ``+z`` at q*: the block lacks the dip
      (it was moved off the grid or pasted from elsewhere).
    """
    lc = np.log(curves + 0.1)
    rel = lc[:-1] - lc[-1:]
    zs = np.stack([C.robust_z(r, floor=0.1) for r in rel])
    if missing_dip:
        med = np.array([np.median(r) for r in rel])
        # a dip is a local minimum against the trend: second difference of the median curve
        # (the qualities must be equally spaced)
        dip = med[1:-1] - 0.5 * (med[:-2] + med[2:])
        k = int(np.argmin(dip))
        return zs[k + 1], k + 1, float(dip[k])
    return (-zs).max(axis=0), -1, 0.0


def grid_profile(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean |gradient| across column/row boundaries by boundary position mod 8 (8 each)."""
    dx = np.abs(np.diff(y, axis=1))
    dy = np.abs(np.diff(y, axis=0))
    # blocking steps are small: clip the gradient so that a few strong edges, which fall at
    # arbitrary positions, cannot make a column class look like a grid
    cap = 2.0 * float(np.median(dx)) + 2.0
    cx = np.minimum(dx, cap).mean(axis=0)
    cy = np.minimum(dy, cap).mean(axis=1)
    px = np.array([cx[(np.arange(cx.size) + 1) % 8 == k].mean() for k in range(8)])
    py = np.array([cy[(np.arange(cy.size) + 1) % 8 == k].mean() for k in range(8)])
    return px, py


def grid_estimate(y: np.ndarray) -> tuple[tuple[int, int], float]:
    """Offset (oy, ox) of the strongest 8x8 grid and its strength (boundary/others ratio)."""
    px, py = grid_profile(y)
    ox, oy = int(np.argmax(px)), int(np.argmax(py))
    rx = px[ox] / np.mean(np.delete(px, ox))
    ry = py[oy] / np.mean(np.delete(py, oy))
    return (oy, ox), float(np.sqrt(rx * ry))


def local_grid_strength(y: np.ndarray, offset: tuple[int, int], *, block: int = 32
                        ) -> np.ndarray:
    """Per-block strength and alignment of the 8x8 grid at ``offset``, shape (H//block, W//block).

    In each block the mean |horizontal| and |vertical| gradient is summed by boundary position
    mod 8 (8 classes each way). With r_k the class-k sum over the mean of the 8, the feature is
    ``log r_g + log(r_g / max_{k != g} r_k)`` summed over both directions, g the image-wide
    grid class: high where the image's grid is present and aligned, about 0 in texture (no
    grid visible), negative where a grid at another offset dominates (a block moved off the
    grid, as in copy-move).
    """
    oy, ox = offset
    h, w = (y.shape[0] // block) * block, (y.shape[1] // block) * block
    dx = np.zeros((h, w), np.float32)
    dy = np.zeros((h, w), np.float32)
    dx[:, :-1] = np.abs(np.diff(y[:h, :w], axis=1))  # column j: boundary between j and j+1
    dy[:-1, :] = np.abs(np.diff(y[:h, :w], axis=0))
    nby, nbx = h // block, w // block
    sx = dx.reshape(nby, block, nbx, block // 8, 8).sum(axis=(1, 3))
    sy = dy.reshape(nby, block // 8, 8, nbx, block).sum(axis=(1, 4)).transpose(0, 2, 1)
    feat = np.zeros((nby, nbx))
    for sv, k in ((sx, (ox - 1) % 8), (sy, (oy - 1) % 8)):
        r = (sv + 0.5) / (sv.mean(axis=2, keepdims=True) + 0.5)
        rg = r[..., k]
        ro = np.delete(r, k, axis=2).max(axis=2)
        feat += np.log(rg) + np.log(rg / ro)
    return feat


# --------------------------------------------------------------------------- the detector


@detector(
    name=NAME, version=VERSION, modalities=("image",),
    method="JPEG quantization table and IJG quality; aligned double JPEG compression from "
           "DCT coefficient histograms (calibrated first-quantization estimate, per-block "
           "likelihood map); JPEG ghosts over re-save qualities 50-90; residual 8x8 grid "
           "strength for images that are no longer JPEG.",
    reference="T. Bianchi and A. Piva, 'Image forgery localization via block-grained analysis "
              "of JPEG artifacts', IEEE TIFS 7(3), 2012, doi:10.1109/TIFS.2012.2187516; "
              "H. Farid, 'Exposing digital forgeries from JPEG ghosts', IEEE TIFS 4(1), 2009, "
              "doi:10.1109/TIFS.2008.2012215; A. Novozamsky and M. Sorel, 'Copy-move "
              "modification detection using JPEG compression model', Forensic Science "
              "International",
    limits="Needs a compression history: a never-compressed image, or a PNG without a residual "
           "8x8 grid, is not applicable. Double quantization is only measurable where the "
           "current step is >= 2 (quality below about 95) and the first step differs from "
           "it; resizing or cropping off the 8x8 grid erases it. A region pasted with the same "
           "compression history as the host, or moved by a multiple of 8 pixels, is invisible. "
           "Lossy WebP, HEIF/HEIC and AVIF files are not judged: their own block coding "
           "would be read as JPEG history (an earlier JPEG inside them is not seen either).",
    artifacts=("double_compression", "blockiness"),
    params={"ghost_qualities": list(GHOST_QUALITIES), "z_seed": Z_SEED,
            "grid_present": GRID_PRESENT, "calibration": CALIBRATION,
            "global_dq_weight": GLOBAL_DQ_WEIGHT},
    localizes=True,
)
def jpeg_traces(image, *, block: int = 16) -> DetectorResult:
    """Analyse the JPEG compression history of ``image`` and localize inconsistencies.

    Parameters
    ----------
    image : ImageMedia
        The image; ``raw`` (the file bytes) gives the quantization tables of a JPEG. A bare
        array is treated as a non-JPEG image.
    block : int, optional
        Block side (multiple of 8) of the ghost map; the double-quantization map is per 8x8
        JPEG block, the grid map per 32x32 block.

    Returns
    -------
    DetectorResult
        ``not_applicable`` when the image shows no compression history, or is a lossy
        WebP, HEIF or AVIF file (:func:`detectors.image._common.block_codec`). Otherwise findings
        ``double_compression`` (image-wide aligned double compression: Whole location;
        localized single-compressed or ghost regions: Mask locations) and ``blockiness``
        (regions where the residual grid is absent or shifted), the heatmap (max of the
        component maps), ``score = 1 - (1 - logistic(local))(1 - 0.3 dq)`` where ``local`` is
        the strongest region's mean z and ``dq`` 1 when the image as a whole was compressed
        twice; ``extras`` carries the quality estimate, the estimated first steps and the grid.

    References
    ----------
    .. [1] T. Bianchi and A. Piva, "Image forgery localization via block-grained analysis of
       JPEG artifacts", IEEE Trans. Inf. Forensics Security 7(3):1003-1017, 2012.
       doi:10.1109/TIFS.2012.2187516
    .. [2] H. Farid, "Exposing digital forgeries from JPEG ghosts", IEEE Trans. Inf. Forensics
       Security 4(1):154-160, 2009. doi:10.1109/TIFS.2008.2012215
    .. [3] J. Lukas and J. Fridrich, "Estimation of primary quantization matrix in double
       compressed JPEG images", DFRWS 2003.
    .. [4] A. Novozamsky and M. Sorel, "Copy-move modification detection using JPEG compression
       model", Forensic Science International.
    """
    if block < 8 or block % 8:
        raise ValueError(f"block must be a positive multiple of 8, got {block}")
    with C.Timer() as t:
        pixels = C.check_image(image)
        h, w = pixels.shape[:2]
        if h < 64 or w < 64:
            return DetectorResult.not_applicable(NAME, VERSION, "image smaller than 64x64")
        raw = getattr(image, "raw", b"") or b""
        is_jpeg = raw[:3] == b"\xff\xd8\xff"
        # a drawn screen's layout sits on its own pixel grid (8 px spacing is common): read
        # as a residual JPEG grid, and its flat areas as ghosts
        drawn = None if is_jpeg else C.drawn_picture_reason(
            pixels, image, "its layout and flat areas would be read as a residual JPEG grid "
                           "and ghosts; it holds no JPEG history to read")
        if drawn:
            return DetectorResult.not_applicable(NAME, VERSION, drawn)
        codec = None if is_jpeg else C.block_codec(image)
        if codec:
            return DetectorResult.not_applicable(
                NAME, VERSION,
                f"{codec} file: its own block coding (transforms of 4x4 and up on the same "
                "multiples of 4 and 8, quantizers that change by block, deblocking) is what the "
                "8x8-grid and ghost tests would measure, not an earlier JPEG",
                extras={"is_jpeg": False, "codec": codec})
        y = C.luma(pixels)
        extras: dict = {"is_jpeg": bool(is_jpeg)}
        findings: list[Finding] = []
        heat = np.zeros((h, w), np.float32)
        stats: list[float] = [0.0]
        dq_global = 0.0
        if is_jpeg:
            qt = luma_table(image)
            if qt is None:
                return DetectorResult.not_applicable(
                    NAME, VERSION, "JPEG file without readable quantization tables")
            quality, q_err = estimate_quality(qt)
            extras.update({"quality_estimate": quality, "quality_table_error": q_err,
                           "luma_table": qt.astype(int).ravel().tolist()})
            # 1. aligned double quantization
            dq = double_quantization(y, qt)
            # decoded pixels clipped to 0/255 no longer sit on the quantization lattice
            clip8 = C.block_sum(((pixels == 0) | (pixels == 255)).any(axis=2)
                                .astype(np.float32), 8) > 0
            dq["llr"] = np.where(clip8, 0.0, dq["llr"])
            extras["dq_coefficients"] = dq["details"]
            extras["dq_evidence"] = round(float(dq["evidence"]), 3)
            if dq["n_coeffs_dq"] >= 2:
                dq_global = float(min(1.0, dq["evidence"] / 0.3))
                q1s = {d["coefficient"]: d["q1"] for d in dq["details"] if d["q1"] != d["q2"]}
                findings.append(Finding(
                    artifact="double_compression", location=Whole(),
                    strength=round(dq_global, 3),
                    measurement=Measurement(
                        name="coefficients with a first quantization step different from the "
                             "current one", value=int(dq["n_coeffs_dq"]),
                        reference=f"of {len(dq['details'])} (estimated first steps {q1s})"),
                    detector=NAME))
                # mean single-vs-double log-likelihood ratio over 5x5 JPEG blocks, in units
                # of DQ_NATS: flat blocks (all-zero coefficients) carry no evidence either way
                llr = C.box_smooth(np.clip(dq["llr"], -3.0, 3.0), 5)
                zdq = llr / DQ_NATS
                regions = C.anomalous_regions(zdq, 8, (h, w), threshold=Z_SEED, min_blocks=16)
                findings += C.region_findings(
                    regions, artifact="double_compression", detector=NAME,
                    measure=lambda r: Measurement(
                        name="single-compression log-likelihood ratio",
                        value=round(float(np.median(llr[r.blocks])), 3),
                        reference=round(float(np.median(llr)), 3), unit="nats per block"))
                heat = np.maximum(heat, C.upsample_blockmap(C.heat_from_z(zdq), (h, w), 8))
                if regions:
                    stats.append(regions[0].score)
            offset = (0, 0)
            ghost_qs = [q for q in GHOST_QUALITIES if q <= quality - 8] or [GHOST_QUALITIES[0]]
        else:
            offset, strength = grid_estimate(y)
            extras.update({"grid_offset": list(offset), "grid_strength": round(strength, 4)})
            if strength < GRID_PRESENT:
                return DetectorResult.not_applicable(
                    NAME, VERSION,
                    f"no JPEG compression history: not a JPEG file and no residual 8x8 grid "
                    f"(boundary/elsewhere gradient ratio {strength:.3f} < {GRID_PRESENT})",
                    extras=extras)
            # 4. grid breaks: blocks where the image-wide grid is weaker
            gs = C.box_smooth(local_grid_strength(y, offset, block=32), 3)
            gz = -C.robust_z(gs, floor=0.02)
            regions = C.anomalous_regions(gz, 32, (h, w), threshold=Z_SEED, min_blocks=2)
            findings += C.region_findings(
                regions, artifact="blockiness", detector=NAME,
                measure=lambda r: Measurement(
                    name="8x8 grid strength and alignment (log ratio)",
                    value=round(float(np.median(gs[r.blocks])), 4),
                    reference=round(float(np.median(gs)), 4)))
            heat = np.maximum(heat, C.upsample_blockmap(C.heat_from_z(gz), (h, w), 32))
            if regions:
                stats.append(regions[0].score)
            ghost_qs = list(GHOST_QUALITIES)
        # 3. JPEG ghosts on the (detected) grid
        oy, ox = offset
        curves = ghost_curves(y[oy:, ox:], ghost_qs + [GHOST_REFERENCE], block=block)
        ganom, gk, depth = ghost_anomaly(curves, missing_dip=not is_jpeg)
        gz = C.box_smooth(ganom, 3)
        if gk >= 0:
            extras.update({"ghost_dip_quality": ghost_qs[gk], "ghost_dip_depth": round(depth, 4)})
            if depth > GHOST_DIP:  # no image-wide ghost: nothing for a region to lack
                gz = np.zeros_like(gz)
        regions = C.anomalous_regions(gz, block, (h, w), threshold=Z_SEED, min_blocks=4,
                                      offset=offset)
        findings += C.region_findings(
            regions, artifact="double_compression", detector=NAME,
            measure=lambda r: Measurement(
                name="JPEG ghost: re-save difference curve departure",
                value=round(float(r.mean_z), 3), reference=Z_SEED, unit="robust z"))
        heat = np.maximum(heat, C.upsample_blockmap(C.heat_from_z(gz), (h, w), block,
                                                    offset=offset))
        if regions:
            stats.append(regions[0].score)
        stat = float(max(stats))
        p_local = C.logistic(stat, CALIBRATION["x0"], CALIBRATION["k"])
        score = 1.0 - (1.0 - p_local) * (1.0 - GLOBAL_DQ_WEIGHT * dq_global)
        extras.update({"statistic": round(stat, 3), "ghost_qualities": ghost_qs,
                       "double_compressed": bool(dq_global > 0)})
    return C.ok_result(
        NAME, VERSION, score=score, findings=findings, heatmap=heat,
        params={"block": block, "ghost_qualities": list(GHOST_QUALITIES), "z_seed": Z_SEED,
                "grid_present": GRID_PRESENT, "calibration": CALIBRATION,
                "global_dq_weight": GLOBAL_DQ_WEIGHT},
        extras=extras, runtime=t.elapsed)
