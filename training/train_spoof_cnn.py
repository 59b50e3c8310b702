"""A spoof CNN on log spectrograms of speech: cross-validation only (tried, not shipped).

The ASVspoof 2019 systems that beat the LFCC-GMM baseline were mostly small CNNs over
spectro-temporal inputs (Lavrentyeva et al. 2019, a light CNN on log power spectra; Wang &
Yamagishi 2021 compare such front ends). The GMM of :mod:`detectors.audio.spoof_lfcc` sees
60 linear filters over 0-8 kHz (133 Hz each), which do not resolve the harmonics of a voice,
where WORLD and Griffin-Lim re-synthesis leave their traces. This network sees 0-4 kHz at the
FFT's full resolution (31 Hz) and 4-8 kHz in 125 Hz bands.

**Not shipped** (measured 2026-12-07, resources/models/audio_spoof_lfcc.md, "Tried and not
shipped: a spectrogram CNN"): held out by speaker it detects our own re-syntheses of that
speaker well, fold by fold, but it scores every one of the corpus's 16 GAN-vocoder clips as
bona fide when their speaker is held out (corpus-only AUC 0.22 against the GMM's 0.89): it
learns the re-synthesis methods of this folder, not neural vocoders, as the phase pair did.
No detector loads it.

Front end (:func:`spectrogram_frames`): mono, 16 kHz, 16-bit quantised
(:func:`detectors.audio.spoof_lfcc.preprocess`); 20 ms Hann frames, 10 ms hop, 512-point FFT,
log power; bins 1-128 as they are, bins 129-256 averaged in fours (160 features); only the
VAD's speech frames, each feature's mean over them removed. Network (:func:`build_network`):
four 3x3 conv layers (batch norm, ReLU; max-pooling by 2 after the first three) over
(160 features x ``PATCH`` frames), the mean over time, one linear unit over the remaining
frequency positions; a file's statistic is the mean logit of its patches (:func:`file_logit`).

Same utterances, groups and codec copies as the LFCC-GMM trainer
(:func:`training.train_audio_spoof.collect_utterances`): a speaker (and every re-synthesis of
them) or a TTS engine is never in both train and test; leave-one-group-out; metrics on the
original utterances only. Command (repository root; 27 min on the shared 2-core machine with
one thread per run)::

    .venv/bin/python -m training.train_spoof_cnn --corpus ../shared/corpus --threads 1 \
        --channels 4,8,16,32 --gmm-report runs/spoof_report.json --report r.json

``--gmm-report`` (the GMM trainer's ``--report``) adds the GMM's and the fused score's figures
on the same items (each standardised by the spread of its pooled out-of-fold scores, summed).

References
----------
.. [1] G. Lavrentyeva, S. Novoselov, A. Tseren, M. Volkova, A. Gorlanov and A. Kozlov,
   "STC antispoofing systems for the ASVspoof2019 challenge", Interspeech 2019.
   doi:10.21437/Interspeech.2019-1768
.. [2] X. Wang and J. Yamagishi, "A comparative study on recent neural spoofing
   countermeasures for synthetic speech detection", Interspeech 2021. arXiv:2103.11326
.. [3] D. S. Park et al., "SpecAugment: a simple data augmentation method for automatic
   speech recognition", Interspeech 2019 (``--freq-mask``).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from training.train_audio_spoof import (Utt, collect_utterances, eer_auc,  # noqa: E402
                                        subset_figures, with_gmm_figures)

#: Frames per network input (0.96 s at a 10 ms hop).
PATCH = 96
#: Hop between the patches of a file at analysis time.
PATCH_HOP = 48
#: Feature dimension of :func:`spectrogram_frames`.
N_FEATURES = 160

DEFAULT_CONFIG: dict[str, Any] = {"channels": [8, 16, 32, 32], "patch": PATCH,
                                  "calibration": {"a": 1.0, "b": 0.0}}


def spectrogram_frames(x: np.ndarray, fs: int) -> tuple[np.ndarray, np.ndarray]:
    """(features (n, 160) float32, frame times (n,) s) of the speech frames of a mono signal.

    See the module docstring for the front end.
    """
    from detectors.audio import spoof_lfcc as S
    from detectors.audio._common import TARGET_FS, speech_activity

    x16 = S.preprocess(np.asarray(x, dtype=np.float64), fs)
    X = S._stft(x16)
    if X.shape[0] == 0:
        return np.zeros((0, N_FEATURES), np.float32), np.zeros(0)
    logp = np.log(np.abs(X) ** 2 + 1e-10)
    low = logp[:, 1:129]
    high = logp[:, 129:257].reshape(len(logp), 32, 4).mean(axis=2)
    f = np.hstack([low, high])
    act = speech_activity(x16, TARGET_FS, frame_s=S.FRAME / TARGET_FS, hop_s=S.HOP / TARGET_FS)
    n = min(len(f), len(act.active))
    keep = act.active[:n]
    times = ((np.arange(n) * S.HOP + S.FRAME / 2) / TARGET_FS)[keep]
    f = f[:n][keep]
    if len(f):
        f = f - f.mean(axis=0)
    return f.astype(np.float32), times


def patches(feats: np.ndarray, *, patch: int = PATCH, hop: int = PATCH_HOP) -> np.ndarray:
    """Overlapping (patch, 160) windows of a file's frames, shape (N, patch, 160); a file
    shorter than one patch is repeated to fill one (N = 1); no frames give N = 0."""
    n = len(feats)
    if n == 0:
        return np.zeros((0, patch, feats.shape[1] if feats.ndim == 2 else N_FEATURES),
                        np.float32)
    if n < patch:
        feats = np.tile(feats, (int(np.ceil(patch / n)), 1))[:patch]
        n = patch
    starts = list(range(0, n - patch + 1, hop))
    if starts[-1] != n - patch:
        starts.append(n - patch)
    return np.stack([feats[s:s + patch] for s in starts]).astype(np.float32)


def build_network(config: dict[str, Any] | None = None):
    """The spoof CNN as a ``torch.nn.Module`` (imports torch).

    Input (N, patch, 160) frames; output one logit per patch, shape (N,).
    """
    from detectors.learned import _torch

    torch = _torch.torch()
    nn = torch.nn
    cfg = {**DEFAULT_CONFIG, **(config or {})}
    ch = list(cfg["channels"])

    class SpoofCNN(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            layers: list[Any] = []
            cin = 1
            for i, cout in enumerate(ch):
                layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                           nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
                if i < len(ch) - 1:
                    layers.append(nn.MaxPool2d(2))
                cin = cout
            self.features = nn.Sequential(*layers)
            n_freq = N_FEATURES // 2 ** (len(ch) - 1)
            self.dropout = nn.Dropout(0.3)
            self.head = nn.Linear(cin * n_freq, 1)

        def forward(self, x):
            # (N, T, F) -> (N, 1, F, T): frequency on the first spatial axis
            h = self.features(x.transpose(1, 2)[:, None])
            h = h.mean(dim=3).flatten(1)          # mean over time, keep frequency position
            return self.head(self.dropout(h)).squeeze(1)

    return SpoofCNN()


def file_logit(net: Any, feats: np.ndarray, *, batch: int = 64) -> tuple[float, np.ndarray]:
    """(mean patch logit, patch logits) of a file's frames (:func:`spectrogram_frames`)."""
    from detectors.learned import _torch

    torch = _torch.torch()
    p = patches(feats)
    if len(p) == 0:
        return float("nan"), np.zeros(0)
    out = []
    with torch.inference_mode():
        for i in range(0, len(p), batch):
            out.append(net(torch.from_numpy(p[i:i + batch])).double().numpy())
    lg = np.concatenate(out)
    return float(lg.mean()), lg


def load_or_collect(args) -> list[Utt]:
    """The featurised utterances, from ``--feature-cache`` when it holds them."""
    cache_file = Path(args.feature_cache) if args.feature_cache else None
    if cache_file and cache_file.is_file():
        z = np.load(cache_file, allow_pickle=False)
        meta = json.loads(str(z["meta"]))
        return [Utt(m["key"], m["path"], m["label"], m["group"], m["kind"], m["source"],
                    z[f"f{i}"], None, m["augmented"]) for i, m in enumerate(meta)]

    def featurize(x, fs):
        return spectrogram_frames(x, fs)[0], None

    utts, _ = collect_utterances(
        Path(args.corpus), featurize=featurize,
        cache=Path(args.cache) if args.cache else None, seed=0, max_seconds=args.max_seconds,
        tts_utterances=args.tts_utterances, festival_utterances=args.festival_utterances,
        codec_augment=True)
    utts = [u for u in utts if u.feats is not None and len(u.feats) >= 20]
    if cache_file:
        meta = [{"key": u.key, "path": u.path, "label": u.label, "group": u.group,
                 "kind": u.kind, "source": u.source, "augmented": u.augmented} for u in utts]
        np.savez(cache_file, meta=np.array(json.dumps(meta)),
                 **{f"f{i}": u.feats for i, u in enumerate(utts)})
    return utts


def train(train_utts: list[Utt], *, seed: int, epochs: int, steps: int, batch: int,
          channels: list[int], lr: float = 1e-3, freq_mask: int = 0,
          balance_kinds: bool = False):
    """A network fitted on ``train_utts``: each step draws half its patches from bona fide
    utterances, half from spoof ones (utterance uniformly, or with ``balance_kinds`` first a
    spoof kind uniformly, then one of its utterances; then a random patch start).
    ``freq_mask``: zero a random band of up to this many features in each patch (SpecAugment,
    Park et al. 2019)."""
    from detectors.learned import _torch

    torch = _torch.torch()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = build_network({"channels": channels})
    opt = torch.optim.AdamW(net.parameters(), lr=lr, weight_decay=1e-3)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps)
    by_class = [[u for u in train_utts if u.label == c] for c in (0, 1)]
    kinds = sorted({u.kind for u in by_class[1]})
    by_kind = {k: [u for u in by_class[1] if u.kind == k] for k in kinds}
    lossf = torch.nn.BCEWithLogitsLoss()
    P = PATCH
    net.train()
    for _ in range(epochs):
        for _ in range(steps):
            xs, ys = [], []
            for c in (0, 1):
                for j in rng.integers(0, len(by_class[c]), batch // 2):
                    if c == 1 and balance_kinds:
                        pool = by_kind[kinds[int(rng.integers(0, len(kinds)))]]
                        f = pool[int(rng.integers(0, len(pool)))].feats
                    else:
                        f = by_class[c][j].feats
                    if len(f) < P:
                        f = np.tile(f, (int(np.ceil(P / len(f))), 1))
                    s = int(rng.integers(0, len(f) - P + 1))
                    p = f[s:s + P].copy()
                    if freq_mask:
                        w = int(rng.integers(0, freq_mask + 1))
                        f0 = int(rng.integers(0, N_FEATURES - w + 1))
                        p[:, f0:f0 + w] = 0.0
                    xs.append(p)
                    ys.append(c)
            x = torch.from_numpy(np.stack(xs))
            y = torch.tensor(ys, dtype=torch.float32)
            opt.zero_grad()
            loss = lossf(net(x), y)
            loss.backward()
            opt.step()
            sched.step()
    net.eval()
    return net


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache")
    ap.add_argument("--feature-cache", default="",
                    help="store / reuse the featurised utterances in this .npz")
    ap.add_argument("--max-seconds", type=float, default=15.0)
    ap.add_argument("--tts-utterances", type=int, default=60)
    ap.add_argument("--festival-utterances", type=int, default=40)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--steps", type=int, default=60)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--channels", default="8,16,32,32")
    ap.add_argument("--freq-mask", type=int, default=0)
    ap.add_argument("--balance-kinds", action="store_true")
    ap.add_argument("--groups", default="", help="only hold out these groups (comma list)")
    ap.add_argument("--gmm-report", default="")
    ap.add_argument("--report", default="")
    ap.add_argument("--threads", type=int, default=0)
    args = ap.parse_args(argv)
    from detectors.learned import _torch

    torch = _torch.torch()
    if args.threads:
        torch.set_num_threads(args.threads)
    t0 = time.perf_counter()
    utts = load_or_collect(args)
    print(f"{len(utts)} utterances in {time.perf_counter() - t0:.0f} s")
    channels = [int(c) for c in args.channels.split(",")]
    groups = sorted({u.group for u in utts})
    held = [g for g in groups if not args.groups or g in args.groups.split(",")]
    oof = {}
    for k, g in enumerate(held):
        t1 = time.perf_counter()
        tr = [u for u in utts if u.group != g]
        net = train(tr, seed=args.seed * 1000 + k, epochs=args.epochs, steps=args.steps,
                    batch=args.batch, channels=channels, freq_mask=args.freq_mask,
                    balance_kinds=args.balance_kinds)
        te = [u for u in utts if u.group == g and not u.augmented]
        for u in te:
            oof[u.key] = file_logit(net, u.feats)[0]
        lab = np.array([u.label for u in te])
        sc = np.array([oof[u.key] for u in te])
        e, a = eer_auc(lab, sc)
        print(f"fold {g:24s} n={len(te):3d} EER={e:6.3f} AUC={a:6.3f}  "
              f"{time.perf_counter() - t1:.0f} s", flush=True)
    orig = [u for u in utts if not u.augmented and u.key in oof]
    lab = np.array([u.label for u in orig])
    sc = np.array([oof[u.key] for u in orig])
    res = (with_gmm_figures(orig, sc, args.gmm_report) if args.gmm_report
           else subset_figures(orig, sc))
    for k_, (e, a) in res.items():
        print(f"{k_:28s} EER={e:6.3f} AUC={a:6.3f}")
    if args.report:
        Path(args.report).write_text(json.dumps(
            {"metrics": res, "oof": oof, "args": vars(args), "n_bona": int((lab == 0).sum()),
             "n_spoof": int(lab.sum()), "seconds": time.perf_counter() - t0}, indent=1))
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
