"""Train the residual CNN (detectors/learned/residual_cnn.py) on the development corpus.

Exact command (from the repository root; one torch thread: about 6 minutes of CPU time, 9-10
minutes wall clock on the shared, busy 2-core development machine)::

    .venv/bin/python training/train_residual_cnn.py --corpus ../shared/corpus

It writes ``resources/models/residual_cnn.safetensors`` (weights; hyper-parameters, calibration
and cross-validation summary as JSON in the file's metadata) and
``resources/models/residual_cnn.md`` (the model card, with the data manifest and the SHA-256 of
the weights), and prints per-fold AUC and the pooled AUC.

Data
----
- ``ml72_ai_vs_real``: 50 real photos (10 each of animals/city/food/nature/people, by file
  name) and 50 AI images. The AI images carry no category; :data:`AI_CATEGORY` gives the one
  we assigned by looking at each (written to the card).
- Extra real photos from ``pkg/`` (scikit-image, matplotlib): re-encoded once as baseline JPEG
  quality 75 with 4:2:0 chroma (PIL, IJG tables), like every ML72 image, so that "not a q75
  JPEG" cannot mean "real". They are training-only (never in a test fold): they are not ML72
  scenes.

Shortcuts we block (SOURCES.md: ML72 AI images are all 559x559, reals 723-4024 px)
-------------------------------------------------------------------------------
- Image size: the network sees 64x64 patches only; nothing about the image's size reaches it.
- Resizing traces: nothing is resized, neither class (no down-scaled reals).
- JPEG grid: all sources are q75 JPEGs with the same tables; patches are taken at random
  offsets (any phase of the 8x8 grid) in both classes.
- Content scale: at native resolution a 64x64 patch of a 4000-px photo holds much less scene
  structure (smooth surfaces) than one of a 559-px image. We measure each candidate patch's
  *structure activity* (mean gradient magnitude of the Gaussian-blurred luma, sigma 1.5 px, a
  low-pass measure largely blind to the residual) and sample training patches so that both
  classes have the same activity histogram (equal counts per activity bin). The model card
  reports how well activity alone separates the test crops (the shortcut's own AUC).
- Colour/greyscale: luma only.

Evaluation
----------
Leave-one-category-out over the five content categories: the held-out category's real and AI
images are never seen in training. Each test image is scored on its central 516x516 crop
(equal size for both classes, 8x8 = 64 patches, native resolution), as the mean patch logit.
A Platt (logistic) fit on the pooled out-of-fold statistics gives the calibration constants
shipped with the final model, which is trained on all folds with the same recipe.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from detectors.learned import residual_cnn as R  # noqa: E402

SEED = 20261125
CATEGORIES = ("animals", "city", "food", "nature", "people")

#: Content category of each ML72 AI image, assigned by eye from a contact sheet (the
#: repository does not give one). Interiors count as "city" (built environment), hikers and
#: faces as "people", flowers and landscapes as "nature".
AI_CATEGORY: dict[str, str] = {
    "diffusion1_1": "nature", "diffusion1_2": "animals", "diffusion1_3": "food",
    "diffusion1_4": "city", "diffusion1_5": "food", "diffusion1_6": "city",
    "diffusion1_7": "food", "diffusion1_8": "people", "diffusion1_9": "nature",
    "diffusion1_10": "city",
    "diffusion2_1": "people", "diffusion2_2": "city", "diffusion2_3": "animals",
    "diffusion2_4": "food", "diffusion2_5": "city", "diffusion2_6": "people",
    "diffusion2_7": "animals", "diffusion2_8": "people", "diffusion2_9": "food",
    "diffusion2_10": "nature",
    "diffusion3_1": "nature", "diffusion3_2": "animals", "diffusion3_3": "food",
    "diffusion3_4": "nature", "diffusion3_5": "animals", "diffusion3_6": "food",
    "diffusion3_7": "animals", "diffusion3_8": "people", "diffusion3_9": "food",
    "diffusion3_10": "animals",
    "diffusion4_1": "nature", "diffusion4_2": "animals", "diffusion4_3": "people",
    "diffusion4_4": "food", "diffusion4_5": "city", "diffusion4_6": "nature",
    "diffusion4_7": "animals", "diffusion4_8": "people", "diffusion4_9": "food",
    "diffusion4_10": "city",
    "gan_1": "people", "gan_2": "nature", "gan_3": "animals", "gan_4": "city",
    "gan_5": "nature", "gan_6": "animals", "gan_7": "city", "gan_8": "animals",
    "gan_9": "city", "gan_10": "people",
}

PKG_REALS = (
    "pkg/pypi_scikit-image/astronaut.png", "pkg/pypi_scikit-image/brick.png",
    "pkg/pypi_scikit-image/camera.png", "pkg/pypi_scikit-image/chelsea.png",
    "pkg/pypi_scikit-image/coffee.png", "pkg/pypi_scikit-image/grass.png",
    "pkg/pypi_scikit-image/motorcycle_left.png", "pkg/pypi_scikit-image/retina.jpg",
    "pkg/pypi_scikit-image/rocket.jpg", "pkg/pypi_matplotlib/grace_hopper.jpg",
)

HP = {
    "seed": SEED,
    "patch": 64,
    "margin": 2,
    "candidates_per_image": 160,
    "activity_bins": 12,
    "activity_sigma": 1.5,
    "min_activity": 0.0,
    "epochs": 16,
    "max_train_patches": 6000,
    "batch": 64,
    "lr": 5e-3,
    "weight_decay": 1e-4,
    "eval_crop": 516,
    "threads": 1,
}


# --------------------------------------------------------------------------- data


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_luma(path: Path, *, reencode: bool) -> np.ndarray:
    from PIL import Image

    im = Image.open(path)
    im = im.convert("RGB")
    if reencode:
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=75, subsampling=2)  # 4:2:0, IJG q75 tables
        buf.seek(0)
        im = Image.open(buf).convert("RGB")
    return R.luma(np.asarray(im))


def activity(windows: np.ndarray, sigma: float) -> np.ndarray:
    return R.structure_activity(windows, sigma=sigma)


def build_items(corpus: Path) -> list[dict]:
    items = []
    for label, sub in ((0, "authentic"), (1, "manipulated")):
        for p in sorted((corpus / "ml72_ai_vs_real" / sub).glob("*.jpg")):
            stem = p.stem
            cat = stem.rsplit("_", 1)[0] if label == 0 else AI_CATEGORY[stem]
            items.append({"path": p, "rel": str(p.relative_to(corpus)), "label": label,
                          "category": cat, "source": "ml72", "reencode": False})
    for rel in PKG_REALS:
        p = corpus / rel
        if p.is_file():
            items.append({"path": p, "rel": rel, "label": 0, "category": "pkg",
                          "source": "pkg", "reencode": True})
    return items


def prepare(items: list[dict], hp: dict) -> None:
    """Per item: random candidate windows (+ activity) and the central eval-crop windows."""
    rng = np.random.default_rng(hp["seed"])
    side = hp["patch"] + 2 * hp["margin"]
    for it in items:
        y = load_luma(it["path"], reencode=it["reencode"])
        h, w = y.shape
        it["size"] = (w, h)
        it["sha256"] = sha256(it["path"])
        n = hp["candidates_per_image"]
        pos = list(zip(rng.integers(0, h - side + 1, n), rng.integers(0, w - side + 1, n)))
        win = R.extract_patches(y, pos, side)
        act = activity(win, hp["activity_sigma"])
        keep = (R.saturated_share(win) <= R.MAX_SATURATED) & (act >= hp["min_activity"])
        it["windows"] = win[keep]
        it["activity"] = act[keep]
        c = hp["eval_crop"]
        if h >= c and w >= c:
            y0, x0 = (h - c) // 2, (w - c) // 2
            crop = y[y0:y0 + c, x0:x0 + c]
            gp = R.grid_positions(c, c, patch=hp["patch"], margin=hp["margin"], max_patches=64)
            ew = R.extract_patches(crop, gp, side)
            ea = activity(ew, hp["activity_sigma"])
            valid = (R.saturated_share(ew) <= R.MAX_SATURATED) & (ea >= hp["min_activity"])
            if not valid.any():   # the detector would say "not applicable"; keep all instead
                valid = R.saturated_share(ew) <= R.MAX_SATURATED
            it["eval_windows"] = ew
            it["eval_valid"] = valid
            it["eval_n_valid"] = int(valid.sum())
            it["eval_activity"] = float(ea.mean())
            it["eval_residual_energy"] = float(np.abs(np.diff(crop, 2, axis=1)).mean())
        else:
            it["eval_windows"] = None


def balanced_patches(items: list[dict], hp: dict, rng: np.random.Generator):
    """Training windows with equal per-activity-bin counts in the two classes."""
    win = np.concatenate([it["windows"] for it in items])
    act = np.log(np.concatenate([it["activity"] for it in items]) + 1e-3)
    lab = np.concatenate([np.full(len(it["windows"]), it["label"]) for it in items])
    edges = np.quantile(act, np.linspace(0, 1, hp["activity_bins"] + 1))
    b = np.clip(np.searchsorted(edges, act, side="right") - 1, 0, hp["activity_bins"] - 1)
    chosen = []
    for k in range(hp["activity_bins"]):
        i0 = np.flatnonzero((b == k) & (lab == 0))
        i1 = np.flatnonzero((b == k) & (lab == 1))
        n = min(len(i0), len(i1))
        if n:
            chosen += list(rng.choice(i0, n, replace=False)) + list(rng.choice(i1, n, replace=False))
    chosen = np.array(chosen)
    if len(chosen) > hp["max_train_patches"]:  # keeps the balance in expectation
        chosen = rng.choice(chosen, hp["max_train_patches"], replace=False)
    chosen = np.sort(chosen)
    return win[chosen], lab[chosen].astype(np.float32)


# --------------------------------------------------------------------------- training


def train(items: list[dict], hp: dict, *, log_prefix: str = ""):
    import torch

    torch.manual_seed(hp["seed"])
    rng = np.random.default_rng(hp["seed"])
    x, y = balanced_patches(items, hp, rng)
    net = R.build_network({"patch": hp["patch"], "margin": hp["margin"]})
    opt = torch.optim.AdamW(net.parameters(), lr=hp["lr"], weight_decay=hp["weight_decay"])
    steps = hp["epochs"] * int(np.ceil(len(x) / hp["batch"]))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=hp["lr"], total_steps=steps)
    lossf = torch.nn.BCEWithLogitsLoss()
    xt = torch.from_numpy(x)[:, None]
    yt = torch.from_numpy(y)
    net.train()
    for ep in range(hp["epochs"]):
        perm = torch.from_numpy(rng.permutation(len(x)))
        tot = 0.0
        for i in range(0, len(x), hp["batch"]):
            idx = perm[i:i + hp["batch"]]
            xb = xt[idx]
            # dihedral augmentation (flips, transposes): residual statistics are isotropic
            k = int(rng.integers(0, 8))
            if k & 1:
                xb = xb.flip(3)
            if k & 2:
                xb = xb.flip(2)
            if k & 4:
                xb = xb.transpose(2, 3)
            opt.zero_grad()
            loss = lossf(net(xb), yt[idx])
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        print(f"{log_prefix}epoch {ep + 1}/{hp['epochs']} loss {tot / len(x):.4f} "
              f"({len(x)} patches, {int(y.sum())} AI)", flush=True)
    net.eval()
    return net, len(x)


def image_stat(net, it: dict) -> float:
    w = it["eval_windows"][it["eval_valid"]]
    return float(R.patch_logits(net, w).mean())


def auc(labels, scores) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(labels, scores))


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    ap.add_argument("--epochs", type=int, default=HP["epochs"])
    ap.add_argument("--cv-only", action="store_true", help="cross-validate, save nothing")
    args = ap.parse_args(argv)
    hp = dict(HP, epochs=args.epochs)

    import torch
    from sklearn.linear_model import LogisticRegression

    torch.set_num_threads(hp["threads"])
    torch.use_deterministic_algorithms(True)
    t_start = time.perf_counter()
    items = build_items(args.corpus)
    prepare(items, hp)
    t_prep = time.perf_counter() - t_start
    print(f"prepared {len(items)} images in {t_prep:.1f} s", flush=True)

    ml72 = [it for it in items if it["source"] == "ml72"]
    pkg = [it for it in items if it["source"] == "pkg"]
    folds = []
    oof_lab, oof_stat, oof_act, oof_res, oof_names = [], [], [], [], []
    for cat in CATEGORIES:
        tr = [it for it in ml72 if it["category"] != cat] + pkg
        te = [it for it in ml72 if it["category"] == cat and it["eval_windows"] is not None]
        net, n_train = train(tr, hp, log_prefix=f"[{cat}] ")
        stats = [image_stat(net, it) for it in te]
        labs = [it["label"] for it in te]
        acts = [it["eval_activity"] for it in te]
        fa = auc(labs, stats)
        folds.append({"held_out": cat, "n_real": labs.count(0), "n_ai": labs.count(1),
                      "train_patches": n_train, "auc": round(fa, 4),
                      "activity_auc": round(auc(labs, acts), 4)})
        print(f"fold {cat}: AUC {fa:.4f} (real {labs.count(0)}, AI {labs.count(1)}; "
              f"activity-only AUC {folds[-1]['activity_auc']:.4f})", flush=True)
        oof_lab += labs
        oof_stat += stats
        oof_act += acts
        oof_res += [it["eval_residual_energy"] for it in te]
        oof_names += [it["rel"] for it in te]
    pooled = auc(oof_lab, oof_stat)
    lr = LogisticRegression(C=1e6).fit(np.array(oof_stat)[:, None], np.array(oof_lab))
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    p = 1 / (1 + np.exp(-(a * np.array(oof_stat) + b)))
    lab = np.array(oof_lab)
    acc = float(((p > 0.5) == (lab == 1)).mean())
    brier = float(((p - lab) ** 2).mean())
    tpr_real_fp = float((p[lab == 0] > 0.5).mean())
    tpr_ai = float((p[lab == 1] > 0.5).mean())
    cv = {"pooled_auc": round(pooled, 4), "folds": folds,
          "activity_only_pooled_auc": round(auc(oof_lab, oof_act), 4),
          "residual_energy_only_pooled_auc": round(auc(oof_lab, oof_res), 4),
          "platt": {"a": round(a, 6), "b": round(b, 6)},
          "accuracy_at_0.5": round(acc, 4), "brier": round(brier, 4),
          "false_positive_rate_real": round(tpr_real_fp, 4),
          "true_positive_rate_ai": round(tpr_ai, 4)}
    print(f"pooled out-of-fold AUC {pooled:.4f}; activity-only AUC "
          f"{cv['activity_only_pooled_auc']:.4f}; residual-energy-only AUC "
          f"{cv['residual_energy_only_pooled_auc']:.4f}; Platt a={a:.4f} b={b:.4f}; "
          f"accuracy {acc:.3f}, Brier {brier:.4f}", flush=True)
    for n, l, st, q in sorted(zip(oof_names, oof_lab, oof_stat, p), key=lambda r: r[2]):
        print(f"  {n:50s} {'AI' if l else 'real'} {st:+.3f} p={q:.3f}")
    if args.cv_only:
        print(f"total {time.perf_counter() - t_start:.1f} s")
        return 0

    net, n_train = train(ml72 + pkg, hp, log_prefix="[final] ")
    t_total = time.perf_counter() - t_start
    config = {**{k: R.DEFAULT_CONFIG[k] for k in ("clip", "unshuffle", "channels", "kernels",
                                                  "strides")},
              "patch": hp["patch"], "margin": hp["margin"],
              "min_activity": hp["min_activity"], "activity_sigma": hp["activity_sigma"],
              "calibration": {"a": round(a, 6), "b": round(b, 6)}}
    args.out.mkdir(parents=True, exist_ok=True)
    wpath = args.out / "residual_cnn.safetensors"
    state = {k: v.detach().contiguous().clone() for k, v in net.state_dict().items()}
    meta = {"config": json.dumps(config, sort_keys=True),
            "hyperparameters": json.dumps(hp, sort_keys=True),
            "cross_validation": json.dumps(cv, sort_keys=True),
            "training_command": "training/train_residual_cnn.py --corpus ../shared/corpus",
            "detector": f"{R.NAME} {R.VERSION}"}
    R._torch.save_safetensors(state, wpath, meta)
    digest = sha256(wpath)
    oof = list(zip(oof_names, oof_lab, [round(s, 4) for s in oof_stat], [round(float(q), 4) for q in p]))
    write_card(args.out / "residual_cnn.md", items=items, hp=hp, cv=cv, digest=digest,
               n_train=n_train, t_total=t_total, oof=oof, ood=ood_check(args.corpus, wpath))
    print(f"wrote {wpath} (sha256 {digest}); total {t_total:.1f} s "
          f"(torch {torch.__version__}, {platform.machine()})")
    return 0


def ood_check(corpus: Path, weights: Path) -> str:
    """Markdown: the final model on real photos it never saw, from another pipeline (NoSo
    originals: lossless PNG camera photos, 449-1024 px), as a false-positive check."""
    from PIL import Image

    files = sorted((corpus / "noso_copymove" / "authentic").glob("*.png"))
    if not files:
        return "NoSo originals not present: no out-of-distribution check was run.\n"
    rows, scores = [], []
    for f in files:
        res = R.residual_cnn(np.asarray(Image.open(f).convert("RGB")), weights=weights)
        if res.status == "ok":
            scores.append(res.score)
        rows.append(f"| {f.relative_to(corpus)} | {res.status} | "
                    f"{'' if res.score is None else f'{res.score:.3f}'} |")
    fp = float(np.mean(np.array(scores) > 0.5)) if scores else float("nan")
    return (f"The final model on the {len(files)} NoSo original photos (real, lossless PNG, "
            f"never used in training): **{fp:.0%} are called AI (p > 0.5)**, mean p = "
            f"{np.mean(scores):.3f}."
            + (" Real photos from a pipeline unlike ML72's real class (smaller, re-processed) "
               "are often mistaken for generated images: treat a high score from this "
               "detector alone as weak evidence." if fp > 0.2 else "") + "\n\n"
            "| image | status | p |\n|---|---|---|\n" + "\n".join(rows) + "\n")


def write_card(path: Path, *, items, hp, cv, digest, n_train, t_total, oof, ood) -> None:
    rows = "\n".join(
        f"| {it['rel']} | {'AI' if it['label'] else 'real'} | {it['category']} | "
        f"{it['size'][0]}x{it['size'][1]} | {'yes' if it['reencode'] else 'no'} | "
        f"`{it['sha256']}` |" for it in items)
    folds = "\n".join(
        f"| {f['held_out']} | {f['n_real']} | {f['n_ai']} | {f['train_patches']} | "
        f"{f['auc']:.3f} | {f['activity_auc']:.3f} |" for f in cv["folds"])
    oof_rows = "\n".join(f"| {n} | {'AI' if l else 'real'} | {s:+.3f} | {q:.3f} |"
                         for n, l, s, q in oof)
    text = CARD.format(
        digest=digest, hp=json.dumps(hp, indent=2, sort_keys=True), folds=folds,
        pooled=cv["pooled_auc"], act=cv["activity_only_pooled_auc"],
        res=cv["residual_energy_only_pooled_auc"], a=cv["platt"]["a"], b=cv["platt"]["b"],
        acc=cv["accuracy_at_0.5"], brier=cv["brier"], fpr=cv["false_positive_rate_real"],
        tpr=cv["true_positive_rate_ai"], n_train=n_train, t_total=t_total, rows=rows,
        t_cpu=time.process_time(), ood=ood,
        fold_min=f"{min(f['auc'] for f in cv['folds']):.3f} ({min(cv['folds'], key=lambda f: f['auc'])['held_out']})",
        fold_max=f"{max(f['auc'] for f in cv['folds']):.3f} ({max(cv['folds'], key=lambda f: f['auc'])['held_out']})",
        oof_rows=oof_rows)
    path.write_text(text, encoding="utf-8")


CARD = """# Model card: residual_cnn 1.0

Written by `training/train_residual_cnn.py` (do not edit by hand; re-run the script).

- **File**: `resources/models/residual_cnn.safetensors`
- **SHA-256**: `{digest}`
- **Detector**: `detectors/learned/residual_cnn.py` (`residual_cnn`, image)
- **Command**: `.venv/bin/python training/train_residual_cnn.py --corpus ../shared/corpus`
  (deterministic: fixed seed, `torch.use_deterministic_algorithms(True)`, 1 torch thread;
  took {t_total:.0f} s wall clock, {t_cpu:.0f} s CPU, on this shared 2-core machine, including
  the five cross-validation trainings and the final one)
- **Task**: probability that a still image is generated (GAN/diffusion) rather than a camera
  photograph, from the high-pass residual of its luma on 64x64 patches at native resolution.

## Method

Fixed high-pass filters (2nd-order horizontal/vertical, SRM KB 3x3, SRM KV 5x5) on the luma,
truncated at +-8 grey levels (4 x 64 x 64 per patch), rearranged losslessly by a 4x4
space-to-depth (pixel unshuffle: 64 x 16 x 16, every pixel phase kept), then three conv
layers (1x1 to 32, 3x3 32, 3x3 stride 2 to 64 channels; batch norm, ReLU), global average
pooling and one linear unit: a logit per patch (about 30 k parameters). The image
statistic is the mean logit over an evenly spaced grid of at most 64 patches (patches more
than half saturated, or with structure activity below `min_activity` (see the
hyper-parameters; 0 = none skipped), are left out); the probability
is `sigmoid(a * mean_logit + b)` with Platt constants a = {a}, b = {b}, fitted on the pooled
out-of-fold statistics of the cross-validation below. References: Wang et al. (CVPR 2020),
Corvi et al. (ICASSP 2023), Cozzolino et al. (IH&MMSec 2017), Fridrich & Kodovsky (TIFS 2012).

At inference (detector `residual_cnn` 1.1) a picture that is not a JPEG is analysed through
an in-memory baseline JPEG q75 4:2:0 copy, the pipeline of every training image (unseen
lossless NoSo photos scored > 0.5: 6 of 13 as they are, 2 of 13 through the copy), and patch
findings are reported only when the image's probability is >= 0.5.

## Data

- ML72 (`ml72_ai_vs_real`, MIT repository, photo licences unknown): 50 real photos, 10 per
  category by file name; 50 AI images (`gan`, `diffusion1..4`: five unnamed generators), each
  given a category **by eye** (the repository has none; table in the script, `AI_CATEGORY`).
- 10 extra real photos from `pkg/` (scikit-image, matplotlib), **re-encoded once as baseline
  JPEG q75 4:2:0** (PIL) so that they share the ML72 container pipeline. Training only.

## What leaks, and what we did about it

| shortcut | status |
|---|---|
| image size (AI all 559x559, reals 723-4024 px) | blocked: the network sees 64x64 patches only |
| resizing / downscaling traces | blocked for our pipeline: no image is resized; but the *sources'* own resizing (AI to 559 px, reals by their publishers) is in the pixels and cannot be removed |
| JPEG container, tables, 8x8 grid | same for all sources (q75, same tables; pkg re-encoded); patches at random grid phase |
| content scale (a 64-px patch of a 4000-px photo is smooth, of a 559-px image busy) | reduced: training patches are sampled with equal per-bin counts of *structure activity* (gradient of the blurred luma) in both classes; see the activity-only AUC below for how much remains available |
| colour / greyscale | luma only |

Not blocked: each class still comes from one pipeline per generator, and the real photos
were down-scaled by their publishers (anti-aliased, smoother residual per pixel) while the AI
images were (probably) up-scaled to 559 px. A network can learn "down-scaled camera photo vs
up-scaled render" rather than "camera vs generator". We could not separate these with this
data.

## Cross-validation (leave one content category out)

Test items: every ML72 image of the held-out category, scored on its **central 516x516 crop**
(the same size for both classes: 8x8 patches, native resolution). Training: the other four
categories plus the pkg reals, {n_train} activity-balanced patches in the final model.

| held out | real | AI | training patches | AUC | activity-only AUC |
|---|---|---|---|---|---|
{folds}

- **Pooled out-of-fold AUC: {pooled}**
- Shortcut baselines on the same crops (no learning, one number per crop; AUC of the raw
  value, so < 0.5 means the class relation is inverted): structure activity {act};
  mean |2nd difference| (residual energy) {res}.
- Calibrated (Platt, in-sample on the out-of-fold statistics): accuracy at 0.5 = {acc},
  Brier = {brier}, real called AI = {fpr}, AI called AI = {tpr}.

Out-of-fold statistics:

| image | class | mean logit | calibrated p |
|---|---|---|---|
{oof_rows}

## Out-of-distribution check (false positives on unseen real photos)

{ood}
## Limits

- 100 + 10 images, five generators, one JPEG pipeline: a development model. It has seen no
  other generator, no other JPEG quality, no PNG output straight from a generator, no
  social-network re-compression; expect it to miss or misjudge those.
- The Platt constants were fitted on the same out-of-fold predictions that give the AUC;
  there is no untouched test set here.
- Per-fold AUC ranges from {fold_min} to {fold_max}; with 19-22 test images per fold, each
  fold's AUC has a standard error of roughly 0.05-0.1. Errors concentrate
  where the central crop of a large photo is smooth (shallow depth of field, skin, facades):
  several such real photos score high (see the table above).
- Large images are sampled (at most 64 patches, evenly spaced); the heatmap is a coarse
  per-patch map, good for partly generated images with large generated areas, not for small
  splices.
- Down-scaling a generated image (or up-scaling a photo) changes its residual; so does heavy
  denoising or sharpening.

## Hyper-parameters

```json
{hp}
```

## Data manifest (paths relative to ../shared/corpus)

| file | class | category | size | re-encoded q75 | sha256 of the file |
|---|---|---|---|---|---|
{rows}
"""


if __name__ == "__main__":
    raise SystemExit(main())
