"""Evaluate the classical image-forensics detectors on the development corpus.

Runs ``ela``, ``noise_inconsistency``, ``jpeg_traces``, ``cfa_traces`` and
``resampling_traces`` over

- the image rows of ``../shared/corpus/manifest.csv`` (NoSo copy-move at full size, ML72
  real vs AI at a common 512x512 centre crop so that image size cannot separate the classes,
  package images as extra authentic files),
- a generated splice set: a region of one authentic corpus photo (the 13 NoSo originals and 6
  ML72 real photos, centre-cropped to at most 768x576) pasted into another, 3 per host, cycling
  through 5 variants (plain, feathered edge, extra noise of sigma 4, JPEG re-save at quality
  85 after pasting, donor rescaled by 1.3 before pasting), each with its unspliced host crop
  (saved the same way) as the paired authentic,

and prints per-detector image-level ROC AUC per source (over the items where the detector was
applicable), pixel F1 on the NoSo masks and on the splices (best threshold per image), and
seconds per megapixel. Synthetic CFA splices (halved NoSo originals, Bayer-sampled and
bilinearly demosaiced, with a pasted region that never was) are added for ``cfa_traces``,
which is not applicable to any corpus file. ``--fit`` also fits each detector's logistic score
constants (one feature: the detector's ``extras["statistic"]``) on the sets in
:data:`FIT_SETS` and reports their leave-one-scene-out cross-validated AUC and log-loss.

Usage::

    .venv/bin/python benchmarks/eval_image_classical.py [--corpus ../shared/corpus] [--fit]
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.image.cfa import cfa_traces  # noqa: E402
from detectors.image.ela import error_level_analysis  # noqa: E402
from detectors.image.jpeg_traces import jpeg_traces  # noqa: E402
from detectors.image.noise import noise_inconsistency  # noqa: E402
from detectors.image.resampling import resampling_traces  # noqa: E402
from triage_app.media import ImageMedia  # noqa: E402

DETECTORS = {
    "ela": error_level_analysis,
    "noise_inconsistency": noise_inconsistency,
    "jpeg_traces": jpeg_traces,
    "cfa_traces": cfa_traces,
    "resampling_traces": resampling_traces,
}


# --------------------------------------------------------------------------- loading


def media_from_bytes(raw: bytes, path: str) -> ImageMedia:
    """Decode with the app's opener when it exists, else with Pillow (same fields we use)."""
    try:
        from triage_app.media import open_media

        m = open_media(path)
        if isinstance(m, ImageMedia):
            return m
    except Exception:
        pass
    from PIL import Image

    im = Image.open(io.BytesIO(raw))
    q = getattr(im, "quantization", None)
    return ImageMedia(path=path, format=im.format or "", pixels=np.asarray(im.convert("RGB")),
                      raw=raw, quantization={int(k): list(v) for k, v in q.items()} if q else None)


def media_from_array(pixels: np.ndarray, *, jpeg_quality: int | None = None,
                     path: str = "generated") -> ImageMedia:
    from PIL import Image

    buf = io.BytesIO()
    if jpeg_quality:
        Image.fromarray(pixels).save(buf, format="JPEG", quality=jpeg_quality)
        return _decode(buf)
    Image.fromarray(pixels).save(buf, format="PNG")
    return ImageMedia(path=path + ".png", format="PNG", pixels=pixels, raw=buf.getvalue())


def _decode(buf: io.BytesIO) -> ImageMedia:
    from PIL import Image

    raw = buf.getvalue()
    im = Image.open(io.BytesIO(raw))
    q = getattr(im, "quantization", None)
    return ImageMedia(path="generated.jpg", format="JPEG", pixels=np.asarray(im.convert("RGB")),
                      raw=raw, quantization={int(k): list(v) for k, v in q.items()} if q else None)


def centre_crop(pixels: np.ndarray, h: int, w: int) -> np.ndarray:
    H, W = pixels.shape[:2]
    h, w = min(h, H), min(w, W)
    y0, x0 = (H - h) // 2 // 8 * 8, (W - w) // 2 // 8 * 8  # keep the JPEG grid
    return np.ascontiguousarray(pixels[y0:y0 + h, x0:x0 + w])


# --------------------------------------------------------------------------- metrics


def auc(scores: list[float], labels: list[int]) -> float:
    s = np.asarray(scores, float)
    y = np.asarray(labels, int)
    pos, neg = s[y == 1], s[y == 0]
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    gt = (pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()
    return float(gt / (len(pos) * len(neg)))


def best_f1(heat: np.ndarray | None, mask: np.ndarray) -> float:
    if heat is None or mask.sum() == 0:
        return 0.0
    best = 0.0
    for t in np.linspace(0.02, 0.98, 25):
        pred = heat >= t
        tp = float((pred & mask).sum())
        if tp == 0:
            continue
        p, r = tp / pred.sum(), tp / mask.sum()
        best = max(best, 2 * p * r / (p + r))
    return best


# --------------------------------------------------------------------------- items


def corpus_items(corpus: Path):
    """(source, scene, label, media, mask) for the manifest's image rows."""
    from PIL import Image

    with open(corpus / "manifest.csv", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["modality"] == "image"]
    for r in rows:
        path = corpus / r["path"]
        raw = path.read_bytes()
        top = r["path"].split("/")[0]
        label = int(r["label"] == "manipulated")
        if top == "ml72_ai_vs_real":
            m = media_from_bytes(raw, str(path))
            px = centre_crop(m.pixels, 512, 512)
            # the crop keeps the file's JPEG bytes meaningless for the crop: re-wrap the pixels
            # with the original file bytes only for the quantization tables (same grid)
            m = ImageMedia(path=str(path), format=m.format, pixels=px, raw=raw,
                           quantization=m.quantization)
            yield "ml72_512crop", path.stem, label, m, None
            continue
        m = media_from_bytes(raw, str(path))
        mask = None
        if r["mask"]:
            mask = np.asarray(Image.open(corpus / r["mask"]).convert("L")) > 127
        if top == "noso_copymove":
            yield "noso", path.stem[:2], label, m, mask
        else:
            yield "pkg", path.stem, label, m, mask


def splice_items(corpus: Path, *, per_host: int = 3, seed: int = 0):
    """Generated splices from authentic corpus photos, each paired with its clean host."""
    import cv2
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = sorted((corpus / "noso_copymove" / "authentic").glob("*.png"))
    photos += sorted((corpus / "ml72_ai_vs_real" / "authentic").glob("*.jpg"))[:6]
    arrays = []
    for p in photos:
        a = np.asarray(Image.open(p).convert("RGB"))
        if min(a.shape[:2]) >= 384:
            arrays.append((p.stem, centre_crop(a, 576, 768)))
    variants = ("plain", "feather", "noise4", "jpeg85", "rescale1.3")
    for i in range(len(arrays) * per_host):
        name, host = arrays[i % len(arrays)]
        dname, donor = arrays[(i * 7 + 5) % len(arrays)]
        if dname == name:
            dname, donor = arrays[(i * 7 + 6) % len(arrays)]
        variant = variants[i % len(variants)]
        H, W = host.shape[:2]
        bw, bh = int(rng.integers(W // 6, W // 3)), int(rng.integers(H // 6, H // 3))
        x, y = int(rng.integers(0, W - bw)), int(rng.integers(0, H - bh))
        src = donor
        if variant == "rescale1.3":
            src = cv2.resize(donor, None, fx=1.3, fy=1.3, interpolation=cv2.INTER_LINEAR)
        sx = int(rng.integers(0, src.shape[1] - bw))
        sy = int(rng.integers(0, src.shape[0] - bh))
        patch = src[sy:sy + bh, sx:sx + bw].astype(np.float32)
        if variant == "noise4":
            patch = patch + rng.normal(0, 4.0, patch.shape)
        alpha = np.zeros((H, W), np.float32)
        alpha[y:y + bh, x:x + bw] = 1
        if variant == "feather":
            alpha = cv2.GaussianBlur(alpha, (0, 0), 3.0)
        full = host.astype(np.float32).copy()
        full[y:y + bh, x:x + bw] = patch
        img = np.clip(np.round(host * (1 - alpha[..., None]) + full * alpha[..., None]), 0, 255
                      ).astype(np.uint8)
        mask = np.zeros((H, W), bool)
        mask[y:y + bh, x:x + bw] = True
        q = 85 if variant == "jpeg85" else None
        yield f"splice_{variant}", name, 1, media_from_array(img, jpeg_quality=q), mask
        yield f"splice_{variant}", name, 0, media_from_array(host, jpeg_quality=q), None


def _bayer_demosaic(rgb: np.ndarray) -> np.ndarray:
    """RGGB sampling then bilinear demosaicing (float32 in, uint8 out)."""
    import cv2

    h, w = rgb.shape[:2]
    planes = np.zeros((h, w, 3), np.float32)
    planes[0::2, 0::2, 0] = rgb[0::2, 0::2, 0]
    planes[0::2, 1::2, 1] = rgb[0::2, 1::2, 1]
    planes[1::2, 0::2, 1] = rgb[1::2, 0::2, 1]
    planes[1::2, 1::2, 2] = rgb[1::2, 1::2, 2]
    k_g = np.array([[0, 1, 0], [1, 4, 1], [0, 1, 0]], np.float32) / 4
    k_rb = np.array([[1, 2, 1], [2, 4, 2], [1, 2, 1]], np.float32) / 4
    out = np.stack([cv2.filter2D(planes[..., c], -1, k_g if c == 1 else k_rb,
                                 borderType=cv2.BORDER_REFLECT_101) for c in range(3)], axis=2)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def cfa_items(corpus: Path, *, seed: int = 1):
    """Synthetic CFA splices: corpus photos halved (area) then Bayer-sampled and bilinearly
    demosaiced (hosts with a CFA pattern), a region pasted from a halved photo without one."""
    import cv2
    from PIL import Image

    rng = np.random.default_rng(seed)
    photos = sorted((corpus / "noso_copymove" / "authentic").glob("*.png"))
    arrays = []
    for p in photos:
        a = np.asarray(Image.open(p).convert("RGB"))
        if min(a.shape[:2]) >= 448:
            arrays.append((p.stem, cv2.resize(a, (a.shape[1] // 2, a.shape[0] // 2),
                                              interpolation=cv2.INTER_AREA)))
    for i, (name, small) in enumerate(arrays):
        host = _bayer_demosaic(small.astype(np.float32))
        donor = arrays[(i + 3) % len(arrays)][1]
        H, W = host.shape[:2]
        bw, bh = int(rng.integers(W // 6, W // 3)), int(rng.integers(H // 6, H // 3))
        x, y = int(rng.integers(0, W - bw)), int(rng.integers(0, H - bh))
        sx, sy = int(rng.integers(0, donor.shape[1] - bw)), int(rng.integers(0, donor.shape[0] - bh))
        img = host.copy()
        img[y:y + bh, x:x + bw] = donor[sy:sy + bh, sx:sx + bw]
        mask = np.zeros((H, W), bool)
        mask[y:y + bh, x:x + bw] = True
        yield "cfa_synth", name, 1, media_from_array(img), mask
        yield "cfa_synth", name, 0, media_from_array(host), None


#: Items each detector's logistic is fitted on: NoSo plus the generated manipulations that
#: the detector's method addresses (all splices for the generic ones).
FIT_SETS = {
    "ela": ("noso", "splice_"),
    "noise_inconsistency": ("noso", "splice_"),
    "jpeg_traces": ("noso", "splice_"),
    "resampling_traces": ("splice_rescale",),
    "cfa_traces": ("cfa_synth",),
}


# --------------------------------------------------------------------------- fitting


def fit_logistic(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(x0, k) of p = 1/(1+exp(-k(x-x0))) by maximum likelihood (L2 0.01 on k)."""
    from scipy.optimize import minimize

    def nll(th):
        x0, k = th
        t = np.clip(k * (x - x0), -50, 50)
        return float(np.sum(np.log1p(np.exp(-t)) * y + np.log1p(np.exp(t)) * (1 - y))
                     + 0.01 * k * k)

    res = minimize(nll, x0=[float(np.median(x)), 1.0], method="Nelder-Mead")
    return float(res.x[0]), float(res.x[1])


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--fit", action="store_true", help="fit logistic constants (x0, k)")
    ap.add_argument("--no-splices", action="store_true")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    if not (corpus / "manifest.csv").is_file():
        print(f"no manifest at {corpus}", file=sys.stderr)
        return 2
    # warm-up (imports, FFT plans) so that the first item's time is not counted
    warm = ImageMedia(path="w", format="PNG",
                      pixels=np.random.default_rng(0).integers(0, 255, (256, 256, 3), np.uint8))
    for fn in DETECTORS.values():
        fn(warm)

    records = []  # (detector, source, scene, label, status, score, stat, f1, seconds, mp)
    items = list(corpus_items(corpus))
    if not args.no_splices:
        items += list(splice_items(corpus))
        items += list(cfa_items(corpus))
    for source, scene, label, media, mask in items:
        mp = media.pixels.shape[0] * media.pixels.shape[1] / 1e6
        for name, fn in DETECTORS.items():
            t0 = time.perf_counter()
            c0 = time.process_time()
            r = fn(media)
            dt = time.perf_counter() - t0
            cpu = time.process_time() - c0
            f1 = best_f1(r.heatmap, mask) if (mask is not None and r.status == "ok") else None
            if mask is not None and r.status != "ok":
                f1 = 0.0
            records.append((name, source, scene, label, r.status, r.score,
                            r.extras.get("statistic"), f1, dt, mp, cpu))

    print(f"{len(items)} items; AUC over applicable items (n applicable / n items)\n")
    sources = sorted({r[1] for r in records})
    for name in DETECTORS:
        rows = [r for r in records if r[0] == name]
        print(f"== {name}")
        for src in sources + ["splice_all"]:
            sel = [r for r in rows if (r[1] == src or (src == "splice_all"
                                                        and r[1].startswith("splice_")))]
            if not sel:
                continue
            ok = [r for r in sel if r[4] == "ok"]
            a = auc([r[5] for r in ok], [r[3] for r in ok])
            f1s = [r[7] for r in sel if r[7] is not None]
            f1txt = f"  pixel F1 mean {np.mean(f1s):.3f} (n={len(f1s)})" if f1s else ""
            print(f"  {src:22s} AUC {a:.3f}  ({len(ok)}/{len(sel)}){f1txt}")
        secs = sum(r[8] for r in rows)
        cpus = sum(r[10] for r in rows)
        mps = sum(r[9] for r in rows)
        print(f"  speed {secs / mps:.3f} s/MP wall, {cpus / mps:.3f} s/MP CPU, "
              f"over {mps:.1f} MP\n")
    mp_all = sum(r[9] for r in records) / len(DETECTORS)
    print(f"ensemble of {len(DETECTORS)}: {sum(r[8] for r in records) / mp_all:.3f} s/MP wall, "
          f"{sum(r[10] for r in records) / mp_all:.3f} s/MP CPU")

    if args.fit:
        print("\n== logistic fit (feature: extras['statistic']; sets: FIT_SETS)")
        for name in DETECTORS:
            rows = [r for r in records if r[0] == name and r[4] == "ok" and r[6] is not None
                    and r[1].startswith(FIT_SETS[name])]
            if len(rows) < 6:
                print(f"  {name}: too few applicable items ({len(rows)})")
                continue
            x = np.array([r[6] for r in rows], float)
            y = np.array([r[3] for r in rows], int)
            scenes = np.array([f"{r[1][:6]}:{r[2]}" for r in rows])
            x0, k = fit_logistic(x, y)
            cv_p = np.zeros(len(rows))
            for s in np.unique(scenes):
                tr = scenes != s
                if len(set(y[tr])) < 2:
                    cv_p[~tr] = 0.5
                    continue
                a0, ak = fit_logistic(x[tr], y[tr])
                cv_p[~tr] = 1 / (1 + np.exp(-np.clip(ak * (x[~tr] - a0), -50, 50)))
            ll = -np.mean(y * np.log(np.clip(cv_p, 1e-6, 1)) +
                          (1 - y) * np.log(np.clip(1 - cv_p, 1e-6, 1)))
            print(f"  {name:20s} x0={x0:.2f} k={k:.2f}  n={len(rows)}  "
                  f"LOSO AUC {auc(list(cv_p), list(y)):.3f}  LOSO log-loss {ll:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
