"""Self-blended face model for video: cross-validation only (tried, not shipped).

A small CNN on the video pass's grey face crops (2x the Haar face box, face <= 128 px),
trained on real faces only with Self-Blended Images (Shiohara & Yamasaki, CVPR 2022): each
training fake is a real crop blended with an altered copy of itself (brightness, contrast,
gamma; blur, sharpening, resampling, denoising or extra noise; a little scale, rotation and
shift) through a soft, deformed ellipse over the face; both classes then go through the same
delivery chain (sensor-like noise, rescaling, JPEG q55-95). Data: ``training/face_blend_data.py``
(every 2nd frame of the three FF++ c23 originals; the faces of five corpus photos). A fold holds
one FF++ identity out, with the manipulated clip made on it; Face2Face_750_743 has no original
and is scored in every fold. Clip statistic: mean crop logit.

    .venv/bin/python -m training.try_face_blend --corpus ../shared/corpus [--residual-only]

Measured 2026-12-07 (30 epochs, seed 0, about 3 min per fold on the 2-core machine):

| input | held out | manipulated vs its original, frame AUC | clip mean logits (fake / real) |
|---|---|---|---|
| grey + SRM residual | 004 | 0.28 (NeuralTextures) | +1.04 / +1.85 |
| grey + SRM residual | 519 | 0.92 (Deepfakes) | +0.84 / -1.63 |
| grey + SRM residual | 634 | 0.96 (FaceSwap) | -2.09 / -4.44 |
| + noise augmentation, 2 more photos | 004 | 0.18 | +0.17 / +1.19 |
| + noise augmentation, 2 more photos | 519 | 0.98 | -0.04 / -3.51 |
| residual only | 519 | 0.96 | -0.36 / -2.83 |

Within a person, the two face swaps stand out from their originals; the mouth-only
reenactment does not (as in the SBI paper, NeuralTextures is the hardest). Across people it
fails: pooled over folds, clip AUC 0.58, because the level moves with the person and camera
(the news anchor of youtube_004, a sharp face before a defocused studio, looks blended to
every fold). On a face no fold saw (matplotlib's grace_hopper.jpg, animated, its face blended
with a recoloured, less detailed copy of itself as in ``training/eval_generated_video.py``),
the models disagree: the first model trained on all three identities scored the untouched
clip +3.98 and the blended one +1.45 (the wrong way), the noise-augmented 519 fold -0.36 and
+1.26, the residual-only one -1.92 and -2.42. Six people are far too few to fix what a
camera face looks like; with a few hundred identities of real video this is the recipe to
retry. Nothing here ships, and no detector uses it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from detectors.learned import _torch  # noqa: E402
from training import face_blend_data as D  # noqa: E402

#: Times each photo's face is used per epoch (one crop against hundreds of frames per clip).
PHOTO_REPEAT = 10

# --------------------------------------------------------------------------- network

DEFAULT_CONFIG: dict[str, Any] = {
    "side": 112,          # patch side, px
    "context": 1.4,       # patch covers this many face boxes (face ~80 px)
    "clip": 8.0,          # SRM truncation, grey levels
    "grey_channel": True,  # also give the network the grey level (else the residual only)
    "channels": [16, 32, 32, 64, 64, 128],
    "strides": [1, 2, 1, 2, 2, 2],
    "calibration": {"a": 1.0, "b": 0.0},
}


def face_patch(gray: np.ndarray, face, *, side: int = DEFAULT_CONFIG["side"],
               context: float = DEFAULT_CONFIG["context"]) -> np.ndarray:
    """``side`` x ``side`` float32 patch of ``context`` x the face box ``(x, y, w, h)``,
    centred on the box (borders replicated), grey levels 0..255."""
    from detectors.video._pass import crop_box

    return crop_box(np.asarray(gray, np.float32), face, context, side)


def build_network(config: dict[str, Any] | None = None):
    """The CNN as a ``torch.nn.Module`` (imports torch). Input (N, 1, side, side) grey
    levels; output (N,) logits."""
    torch = _torch.torch()
    nn = torch.nn
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    kb = np.array([[-1, 2, -1], [2, -4, 2], [-1, 2, -1]], np.float32)[None, None] / 4.0

    class FaceBlendCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.register_buffer("highpass", torch.from_numpy(kb))
            self.clip = float(cfg["clip"])
            layers: list[Any] = []
            self.grey = bool(cfg["grey_channel"])
            cin = 2 if self.grey else 1
            for cout, stride in zip(cfg["channels"], cfg["strides"]):
                layers += [nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False),
                           nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
                cin = cout
            self.features = nn.Sequential(*layers)
            self.head = nn.Linear(cin, 1)

        def forward(self, x):
            r = torch.nn.functional.conv2d(x, self.highpass, padding=1)
            r = torch.clamp(r, -self.clip, self.clip) / self.clip
            h = self.features(torch.cat([(x - 128.0) / 64.0, r], dim=1) if self.grey else r)
            return self.head(h.mean(dim=(2, 3))).squeeze(1)

    return FaceBlendCNN()


def patch_logits(net: Any, patches: np.ndarray, *, batch: int = 64) -> np.ndarray:
    """Logits of the network on patches (N, side, side), float64 (N,)."""
    torch = _torch.torch()
    out = []
    with torch.inference_mode():
        for i in range(0, len(patches), batch):
            x = torch.from_numpy(np.ascontiguousarray(patches[i:i + batch], np.float32))[:, None]
            out.append(net(x).double().numpy())
    return np.concatenate(out) if out else np.zeros(0)



# --------------------------------------------------------------------------- self-blending


def _jitter_source(img: np.ndarray, face, rng: np.random.Generator) -> np.ndarray:
    """The "source" of a self-blend: the same crop, photometrically and slightly
    geometrically altered (SBI's source-target generator, in grey)."""
    import cv2

    src = img.astype(np.float32)
    # photometric: brightness, contrast about the face mean, gamma
    x, y, w, h = face
    m = float(src[y:y + h, x:x + w].mean()) if w > 0 and h > 0 else float(src.mean())
    src = (src - m) * rng.uniform(0.85, 1.15) + m + rng.uniform(-12, 12)
    src = np.clip(src, 0, 255)
    if rng.random() < 0.3:
        src = 255.0 * (src / 255.0) ** rng.uniform(0.8, 1.25)
    # frequency: blur, sharpen or resample (a generated face is rendered at another scale)
    k = rng.integers(0, 6)
    if k == 4:   # denoised: the face loses the sensor noise its surroundings keep
        src = cv2.bilateralFilter(src, 5, rng.uniform(10, 30), 3)
    elif k == 5:  # noisier than its surroundings
        src = src + rng.normal(0, rng.uniform(1.5, 4), src.shape).astype(np.float32)
    elif k == 0:
        src = cv2.GaussianBlur(src, (0, 0), rng.uniform(0.5, 1.5))
    elif k == 1:
        b = cv2.GaussianBlur(src, (0, 0), rng.uniform(0.8, 1.5))
        src = np.clip(src + rng.uniform(0.3, 1.0) * (src - b), 0, 255)
    elif k == 2:
        f = rng.uniform(0.35, 0.8)
        H, W = src.shape
        small = cv2.resize(src, (max(8, int(W * f)), max(8, int(H * f))),
                           interpolation=cv2.INTER_AREA)
        src = cv2.resize(small, (W, H), interpolation=cv2.INTER_LINEAR)
    # geometric: a little scale, rotation and shift about the face centre
    cx, cy = x + w / 2.0, y + h / 2.0
    M = cv2.getRotationMatrix2D((cx, cy), rng.uniform(-2, 2), rng.uniform(0.96, 1.04))
    M[:, 2] += rng.uniform(-0.03, 0.03, 2) * max(w, 1)
    src = cv2.warpAffine(src, M, (src.shape[1], src.shape[0]), flags=cv2.INTER_LINEAR,
                         borderMode=cv2.BORDER_REFLECT)
    return src.astype(np.float32)


def blend_mask(shape, face, rng: np.random.Generator) -> np.ndarray:
    """A soft, randomly deformed ellipse over the inner face (0..1, float32)."""
    import cv2

    H, W = shape
    x, y, w, h = face
    cx = x + w / 2.0 + rng.uniform(-0.04, 0.04) * w
    cy = y + h * rng.uniform(0.52, 0.62)
    ax = 0.5 * w * rng.uniform(0.65, 0.95)
    ay = 0.5 * h * rng.uniform(0.75, 1.05)
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    # low-frequency radial deformation of the ellipse
    theta = np.arctan2((yy - cy) / max(ay, 1), (xx - cx) / max(ax, 1))
    r = np.sqrt(((xx - cx) / max(ax, 1)) ** 2 + ((yy - cy) / max(ay, 1)) ** 2)
    wob = 1.0
    for n in (2, 3, 4):
        wob = wob + rng.uniform(-0.06, 0.06) * np.cos(n * theta + rng.uniform(0, 2 * np.pi))
    m = (r < wob).astype(np.float32)
    sigma = rng.uniform(0.02, 0.12) * max(w, 8)
    m = cv2.GaussianBlur(m, (0, 0), sigma)
    m = m / max(float(m.max()), 1e-6)
    return (m * rng.choice([0.5, 0.75, 1.0, 1.0, 1.0])).astype(np.float32)


def self_blend(img: np.ndarray, face, rng: np.random.Generator) -> np.ndarray:
    """A self-blended image (SBI) of a real crop: source blended into target by a soft mask."""
    src = _jitter_source(img, face, rng)
    m = blend_mask(img.shape, face, rng)
    return np.clip(src * m + img.astype(np.float32) * (1 - m), 0, 255)


def post_process(img: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The same random delivery chain for both classes: rescale and JPEG re-encode."""
    import cv2

    out = img
    if rng.random() < 0.5:   # sensor-like noise over the whole crop
        out = out + rng.normal(0, rng.uniform(0.5, 3.0), out.shape).astype(np.float32)
    if rng.random() < 0.3:
        f = rng.uniform(0.6, 0.95)
        H, W = out.shape
        out = cv2.resize(cv2.resize(out, (max(8, int(W * f)), max(8, int(H * f))),
                                    interpolation=cv2.INTER_AREA), (W, H),
                         interpolation=cv2.INTER_LINEAR)
    if rng.random() < 0.8:
        ok, buf = cv2.imencode(".jpg", np.clip(out, 0, 255).astype(np.uint8),
                               [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(55, 96))])
        out = cv2.imdecode(buf, cv2.IMREAD_GRAYSCALE).astype(np.float32)
    return out.astype(np.float32)


def training_pairs(crops: list[D.FaceCrop], rng: np.random.Generator):
    """One real and one self-blended input per crop: (X (2N, side, side), y (2N,))."""
    xs, ys = [], []
    for c in crops:
        face = c.face
        if rng.random() < 0.5:  # horizontal flip, both classes
            g = c.gray[:, ::-1].copy()
            face = (g.shape[1] - face[0] - face[2], face[1], face[2], face[3])
        else:
            g = c.gray
        real = post_process(g, rng)
        fake = post_process(self_blend(g, face, rng), rng)
        # the face box jitters as a detector's does
        jit = rng.uniform(-0.05, 0.05, 3)
        f2 = (face[0] + jit[0] * face[2], face[1] + jit[1] * face[3],
              face[2] * (1 + jit[2]), face[3] * (1 + jit[2]))
        xs += [face_patch(real, f2), face_patch(fake, f2)]
        ys += [0, 1]
    return np.stack(xs).astype(np.float32), np.array(ys, np.float32)


# --------------------------------------------------------------------------- training


def train(crops: list[D.FaceCrop], *, epochs: int, seed: int, config: dict, log=print):
    torch = _torch.torch()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network(config)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=1e-4)
    steps = epochs * int(np.ceil(2 * len(crops) / 64))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-3, total_steps=steps)
    lossf = torch.nn.BCEWithLogitsLoss()
    for ep in range(epochs):
        t = time.time()
        X, y = training_pairs(crops, rng)
        order = rng.permutation(len(X))
        net.train()
        tot = 0.0
        for i in range(0, len(X), 64):
            idx = order[i:i + 64]
            xb = torch.from_numpy(X[idx])[:, None]
            yb = torch.from_numpy(y[idx])
            opt.zero_grad()
            loss = lossf(net(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
            tot += float(loss.detach()) * len(idx)
        log(f"  epoch {ep + 1}/{epochs}: loss {tot / len(X):.3f} ({time.time() - t:.0f} s)",
            flush=True)
    net.eval()
    return net


def crop_logits(net, crops: list[D.FaceCrop]) -> np.ndarray:
    X = np.stack([face_patch(c.gray, c.face) for c in crops]).astype(np.float32)
    return patch_logits(net, X)


def auc(pos: np.ndarray, neg: np.ndarray) -> float:
    pos, neg = np.asarray(pos, float), np.asarray(neg, float)
    if len(pos) == 0 or len(neg) == 0:
        return float("nan")
    gt = (pos[:, None] > neg[None, :]).mean()
    eq = (pos[:, None] == neg[None, :]).mean()
    return float(gt + 0.5 * eq)


def sbi_auc(net, crops, seed: int) -> float:
    rng = np.random.default_rng(seed + 99)
    X, y = training_pairs(crops, rng)
    z = patch_logits(net, X)
    return auc(z[y == 1], z[y == 0])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=2, help="take every n-th video frame")
    ap.add_argument("--folds", default="", help="comma-separated identities to hold out "
                    "(default: every FF++ identity)")
    ap.add_argument("--residual-only", action="store_true",
                    help="the network sees the SRM residual only, not the grey level")
    args = ap.parse_args(argv)
    torch = _torch.torch()
    torch.set_num_threads(2)
    t0 = time.time()
    crops = D.collect(args.corpus, every=args.every)
    print(f"{len(crops)} face crops in {time.time() - t0:.0f} s", flush=True)
    config = dict(DEFAULT_CONFIG, grey_channel=not args.residual_only)
    real = [c for c in crops if c.label == 0]
    real += [c for c in real if c.group == "photos"] * (PHOTO_REPEAT - 1)
    ff_groups = sorted({c.group for c in real if c.group != "photos"})
    clips: dict[str, list[tuple[int, float]]] = {}
    for g in (args.folds.split(",") if args.folds else ff_groups):
        train_set = [c for c in real if c.group != g]
        test = [c for c in crops if c.group == g or (c.label == 1 and c.group not in ff_groups)]
        print(f"fold: hold out identity {g} ({len(train_set)} training crops)", flush=True)
        net = train(train_set, epochs=args.epochs, seed=args.seed, config=config)
        print(f"  self-blend AUC on held-out real crops: "
              f"{sbi_auc(net, [c for c in test if c.label == 0], args.seed):.3f}")
        z = crop_logits(net, test)
        lab = np.array([c.label for c in test])
        for src in sorted({c.source for c in test}):
            zz = z[[c.source == src for c in test]]
            y = next(c.label for c in test if c.source == src)
            clips.setdefault(src, []).append((y, float(zz.mean())))
            print(f"  {src}: label {y}, {len(zz)} crops, mean logit {zz.mean():+.2f}")
        print(f"  frame AUC (fold): {auc(z[lab == 1], z[lab == 0]):.3f}", flush=True)
    # a clip scored in several folds (Face2Face) counts once, with its mean over folds
    pos = [np.mean([v for _, v in r]) for r in clips.values() if r[0][0] == 1]
    neg = [np.mean([v for _, v in r]) for r in clips.values() if r[0][0] == 0]
    print(f"clip AUC pooled over folds: {auc(np.array(pos), np.array(neg)):.3f} "
          f"({len(pos)} manipulated, {len(neg)} real clips); {time.time() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
