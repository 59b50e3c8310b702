"""A frame MLP on the spoof GMM's LFCC frames: cross-validation only (tried, not shipped).

The discriminative counterpart of ``training/train_audio_spoof.py``: the same utterances,
groups, codec copies and frame caps (400 per bona fide, 200 per spoof utterance), the same
LFCC front end (0-8 kHz, 60 filters, 40 cepstra, CMN, speech frames), optionally with
``--context`` frames on each side stacked; a two-layer ReLU network (dropout 0.2, AdamW,
class-balanced weights, 8 epochs); file score = mean frame logit. Leave-one-group-out.
Measured 2026-12-07 (resources/models/audio_spoof_lfcc.md, "Tried and not shipped:
discriminative models"): worse than the GMM pair on every subset, so not shipped.

    .venv/bin/python -m training.try_spoof_mlp --context 3 --hidden 256 \\
        --gmm-report runs/spoof_report.json
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from training.train_audio_spoof import (shipped_lfcc_utterances, subset_figures,  # noqa: E402
                                        with_gmm_figures)


def stack_context(f: np.ndarray, ctx: int) -> np.ndarray:
    """Each frame with its ``ctx`` neighbours on each side (edge frames repeated)."""
    if ctx == 0:
        return f
    p = np.pad(f, ((ctx, ctx), (0, 0)), mode="edge")
    return np.hstack([p[i:i + len(f)] for i in range(2 * ctx + 1)])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache")
    ap.add_argument("--context", type=int, default=0)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gmm-report", default="")
    args = ap.parse_args(argv)
    from detectors.learned import _torch

    torch = _torch.torch()
    t0 = time.perf_counter()

    utts = shipped_lfcc_utterances(Path(args.corpus), Path(args.cache) if args.cache else None,
                                   codec_augment=True)
    utts = [u for u in utts if u.feats is not None and len(u.feats) >= 20]
    frames = {u.key: stack_context(u.feats, args.context).astype(np.float32) for u in utts}
    rng = np.random.default_rng(args.seed)

    def capped(us, cap):
        out = []
        for u in us:
            f = frames[u.key]
            out.append(f[rng.choice(len(f), cap, replace=False)] if len(f) > cap else f)
        return np.concatenate(out)

    oof: dict[str, float] = {}
    for k, g in enumerate(sorted({u.group for u in utts})):
        tr = [u for u in utts if u.group != g]
        xb, xs = capped([u for u in tr if u.label == 0], 400), capped([u for u in tr if u.label], 200)
        x = np.vstack([xb, xs])
        y = np.r_[np.zeros(len(xb)), np.ones(len(xs))].astype(np.float32)
        mu, sd = x.mean(0), x.std(0) + 1e-6
        w = np.where(y == 0, len(y) / (2 * len(xb)), len(y) / (2 * len(xs))).astype(np.float32)
        torch.manual_seed(args.seed * 100 + k)
        nn = torch.nn
        net = nn.Sequential(nn.Linear(x.shape[1], args.hidden), nn.ReLU(), nn.Dropout(0.2),
                            nn.Linear(args.hidden, args.hidden), nn.ReLU(), nn.Dropout(0.2),
                            nn.Linear(args.hidden, 1))
        opt = torch.optim.AdamW(net.parameters(), 1e-3, weight_decay=1e-3)
        xt, yt, wt = (torch.from_numpy((x - mu) / sd), torch.from_numpy(y), torch.from_numpy(w))
        for _ in range(args.epochs):
            perm = torch.randperm(len(xt))
            for i in range(0, len(xt), 256):
                b = perm[i:i + 256]
                opt.zero_grad()
                torch.nn.functional.binary_cross_entropy_with_logits(
                    net(xt[b])[:, 0], yt[b], weight=wt[b]).backward()
                opt.step()
        net.eval()
        with torch.no_grad():
            for u in utts:
                if u.group == g and not u.augmented:
                    oof[u.key] = float(net(torch.from_numpy((frames[u.key] - mu) / sd))[:, 0].mean())
        print(f"fold {g}: {time.perf_counter() - t0:.0f} s", flush=True)
    orig = [u for u in utts if not u.augmented]
    sc = np.array([oof[u.key] for u in orig])
    res = (with_gmm_figures(orig, sc, args.gmm_report) if args.gmm_report
           else subset_figures(orig, sc))
    for name, (e, a) in res.items():
        print(f"{name:28s} EER={e:6.3f} AUC={a:6.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
