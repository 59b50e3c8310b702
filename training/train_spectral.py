"""Train the generator-fingerprint model (detectors/image/generator_fingerprint.py).

Command (from the repository root; about a minute on one core)::

    .venv/bin/python training/train_spectral.py [--corpus ../shared/corpus] [--out
        resources/models/spectral_fingerprint.safetensors] [--seed 0]

Data manifest (all from ../shared/corpus/manifest.csv, see SOURCES.md there):

- ``ml72_ai_vs_real/authentic/*.jpg`` -- 50 real photos, categories animals, city, food,
  nature, people (10 each), label 0;
- ``ml72_ai_vs_real/manipulated/*.jpg`` -- 50 AI images, groups gan, diffusion1..4 (10 each),
  label 1;
- ``pkg/pypi_scikit-image/*`` and ``pkg/pypi_matplotlib/grace_hopper.jpg`` -- package photos,
  label 0 (extra authentic; assigned round-robin to the folds).

Size control: every real photo larger than 623 px is also used once downscaled (INTER_AREA) to
559 px, the fakes' size, as extra authentic crops in the same fold; AUC is reported on the
original images, and separately on downscaled reals against fakes.

Every image contributes up to 5 crops of 256x256 at native resolution (never resized, so the
ML72 size shortcut, 559 px fakes vs larger reals, cannot be read from a crop's scale of
resampling). Features: ``generator_fingerprint.crop_features``.

Validation: 5-fold leave-one-group-out, fold k holding out real category k (animals, city,
food, nature, people) *and* AI group k (gan, diffusion1..4), so that neither the content nor
the generator of a test image was seen in training. The script prints the crop-level and
image-level (mean crop logit) AUC, and, as a size-leak check, the Spearman correlation between
the real images' held-out scores and their pixel count (near 0 is what we want).

The final model is fitted on all data and written as safetensors (mean, std, coef, intercept,
and the metrics as metadata); the script prints the file's SHA-256.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.image.generator_fingerprint import FEATURE_NAMES, image_features  # noqa: E402

AUG_SIDE = 559
REAL_CATS = ["animals", "city", "food", "nature", "people"]
AI_GROUPS = ["gan", "diffusion1", "diffusion2", "diffusion3", "diffusion4"]


def load_items(corpus: Path) -> list[tuple[Path, int, int, str]]:
    """(path, label, fold, group) for every training image, in manifest order."""
    items = []
    extra = 0
    with open(corpus / "manifest.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            p = row["path"]
            if row["modality"] != "image":
                continue
            stem = Path(p).stem
            if p.startswith("ml72_ai_vs_real/authentic/"):
                cat = stem.rsplit("_", 1)[0]
                items.append((corpus / p, 0, REAL_CATS.index(cat), cat))
            elif p.startswith("ml72_ai_vs_real/manipulated/"):
                grp = stem.rsplit("_", 1)[0]
                items.append((corpus / p, 1, AI_GROUPS.index(grp), grp))
            elif p.startswith(("pkg/pypi_scikit-image/", "pkg/pypi_matplotlib/")):
                items.append((corpus / p, 0, extra % 5, "pkg"))
                extra += 1
    return items


def read_rgb(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise OSError(f"cannot read {path}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def resave(rgb: np.ndarray, code: int) -> np.ndarray:
    """``rgb`` after an in-memory round trip through channel ``code`` (:func:`channel_code`):
    JPEG (OpenCV, 4:2:0) or lossy WebP (OpenCV's libwebp) at the code's quality."""
    ext, flag = (".jpg", cv2.IMWRITE_JPEG_QUALITY) if code < 300 else \
        (".webp", cv2.IMWRITE_WEBP_QUALITY)
    ok, buf = cv2.imencode(ext, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [flag, code % 100 or 100])
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def channel_code(token: str) -> int:
    """``"75"`` (JPEG quality 75) -> 175, ``"webp80"`` -> 380: the variant's code in the
    trainer's bookkeeping (0 original, 1 downscaled real)."""
    t = token.strip().lower()
    if t.startswith("webp"):
        return 300 + int(t[4:])
    return 100 + int(t)


def channel_name(code: int) -> str:
    return f"JPEG q{code - 100}" if code < 300 else f"WebP q{code - 300}"


def auc(y: np.ndarray, s: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, s))


def fit(x: np.ndarray, y: np.ndarray, seed: int, c: float):
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(0)
    std = x.std(0) + 1e-6
    clf = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    clf.fit((x - mean) / std, y)
    return mean, std, clf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path,
                    default=ROOT / "resources" / "models" / "spectral_fingerprint.safetensors")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--C", type=float, default=0.3, help="inverse L2 regularisation")
    ap.add_argument("--resave", default="90,75,webp80",
                    help="comma-separated re-saves, a JPEG quality (75) or webpQ (webp80): "
                         "every image (both classes) also enters training through each, in "
                         "its own fold (default 90,75,webp80, as shipped; \"\" for none)")
    ap.add_argument("--eval-resave", default="90,75,webp80",
                    help="re-saves through which the held-out images are also scored, for "
                         "the report only (default 90,75,webp80)")
    ap.add_argument("--no-save", action="store_true", help="cross-validate only")
    args = ap.parse_args(argv)
    train_q = [channel_code(q) for q in args.resave.split(",") if q.strip()]
    eval_q = sorted(set(train_q) | {channel_code(q) for q in args.eval_resave.split(",")
                                    if q.strip()})
    np.random.seed(args.seed)

    items = load_items(args.corpus)
    rows, labels, folds, img_id, pixels, aug = [], [], [], [], [], []
    for i, (path, label, fold, _grp) in enumerate(items):
        rgb = read_rgb(path)
        variants = [(rgb, 0)]
        if label == 0 and max(rgb.shape[:2]) > AUG_SIDE + 64:
            # size control: the same real photo brought to the fakes' size (INTER_AREA),
            # labelled authentic, so that "content scale" cannot separate the classes
            s = AUG_SIDE / max(rgb.shape[:2])
            variants.append((cv2.resize(rgb, None, fx=s, fy=s, interpolation=cv2.INTER_AREA), 1))
        for q in eval_q:  # a re-save (trained on only when it is in --resave)
            variants.append((resave(rgb, q), q))
        for img, is_aug in variants:
            f, _ = image_features(img)
            rows.append(f)
            labels += [label] * len(f)
            folds += [fold] * len(f)
            img_id += [i if not is_aug else 10_000 * is_aug + i] * len(f)
            aug += [is_aug] * len(f)
        pixels.append(rgb.shape[0] * rgb.shape[1])
    x = np.concatenate(rows).astype(np.float64)
    y = np.array(labels)
    fo = np.array(folds)
    ids = np.array(img_id)
    au = np.array(aug)
    print(f"{len(items)} images, {len(x)} crops ({int((au == 1).sum())} from downscaled reals, "
          f"{int((au >= 100).sum())} from re-saves), {x.shape[1]} features")

    # resaves at a quality not asked for by --resave are scored, never trained on
    use = (au < 100) | np.isin(au, train_q)
    oof = np.zeros(len(x))
    for k in range(5):
        tr, te = (fo != k) & use, fo == k
        mean, std, clf = fit(x[tr], y[tr], args.seed, args.C)
        oof[te] = clf.decision_function((x[te] - mean) / std)
    # size control: held-out downscaled reals against held-out fakes (both ~559 px)
    aug_ids = np.unique(ids[au == 1])
    for q in eval_q:
        qi = [10_000 * q + i for i in range(len(items))]
        qs = np.array([oof[ids == i].mean() if (ids == i).any() else np.nan for i in qi])
        ok = ~np.isnan(qs)
        yq = np.array([it[1] for it in items])[ok]
        pk = np.array([it[3] == "pkg" for it in items])[ok]
        prob = 1 / (1 + np.exp(-qs[ok]))
        report = {"image_auc": round(auc(yq, qs[ok]), 3),
                  "real_mean_p": round(float(prob[yq == 0].mean()), 3),
                  "package_real_mean_p": round(float(prob[pk].mean()), 3),
                  "real_over_half": round(float((prob[yq == 0] > 0.5).mean()), 3),
                  "fake_mean_p": round(float(prob[yq == 1].mean()), 3)}
        print(f"held-out, every image re-saved as {channel_name(q)}"
              f"{' (trained on)' if q in train_q else ''}: " + json.dumps(report))
    ctl_y = np.array([0] * len(aug_ids) + [1] * int((np.array([it[1] for it in items]) == 1).sum()))
    ctl_s = np.array([oof[ids == i].mean() for i in aug_ids]
                     + [oof[ids == i].mean() for i, it in enumerate(items) if it[1] == 1])
    ctl_auc = auc(ctl_y, ctl_s)
    oof_orig = oof[au == 0]
    y_orig = y[au == 0]
    crop_auc = auc(y_orig, oof_orig)
    img_y = np.array([it[1] for it in items])
    img_s = np.array([oof[ids == i].mean() for i in range(len(items))])
    img_auc = auc(img_y, img_s)
    ml72 = np.array([it[3] != "pkg" for it in items])
    ml72_auc = auc(img_y[ml72], img_s[ml72])
    per_fold = {}
    for k in range(5):
        sel = np.array([it[2] == k for it in items])
        per_fold[f"{REAL_CATS[k]}+{AI_GROUPS[k]}"] = round(auc(img_y[sel], img_s[sel]), 3)
    from scipy.stats import spearmanr

    real = img_y == 0
    rho = float(spearmanr(img_s[real], np.log(np.array(pixels)[real])).statistic)
    acc = float(((img_s > 0) == img_y).mean())
    print(f"LOCO crop AUC {crop_auc:.3f}; image AUC {img_auc:.3f} (ML72 only {ml72_auc:.3f}); "
          f"image accuracy at 0.5 {acc:.3f}")
    print("per held-out fold AUC:", json.dumps(per_fold))
    print(f"size-leak check: Spearman(score, log pixels) over real images = {rho:.3f}; "
          f"AUC of reals downscaled to {AUG_SIDE} px vs fakes = {ctl_auc:.3f}")

    oof_orig_real = 1 / (1 + np.exp(-img_s[img_y == 0]))
    pk_orig = np.array([it[3] == "pkg" for it in items])
    print(f"held-out, originals: real mean p {oof_orig_real.mean():.3f}, package photos "
          f"{(1 / (1 + np.exp(-img_s[pk_orig]))).mean():.3f}")
    if args.no_save:
        return 0
    mean, std, clf = fit(x[use], y[use], args.seed, args.C)
    from safetensors.numpy import save_file

    args.out.parent.mkdir(parents=True, exist_ok=True)
    # one metadata key: safetensors writes a metadata map in arbitrary order, so several keys
    # would make the file's bytes (and SHA-256) differ from run to run
    meta = {"card": json.dumps({
        "features": list(FEATURE_NAMES),
        "model": "logistic regression (sklearn, L2, C=%g), standardised features" % args.C,
        "loco_crop_auc": round(crop_auc, 4), "loco_image_auc": round(img_auc, 4),
        "loco_image_auc_ml72": round(ml72_auc, 4), "seed": args.seed,
        "size_leak_spearman": round(rho, 4), "size_control_auc": round(ctl_auc, 4),
    }, sort_keys=True)}
    save_file({"mean": mean.astype(np.float32), "std": std.astype(np.float32),
               "coef": clf.coef_.ravel().astype(np.float32),
               "intercept": clf.intercept_.astype(np.float32)}, str(args.out), metadata=meta)
    sha = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} sha256 {sha}")
    top = np.argsort(-np.abs(clf.coef_.ravel()))[:8]
    print("largest coefficients:",
          ", ".join(f"{FEATURE_NAMES[i]} {clf.coef_.ravel()[i]:+.2f}" for i in top))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
