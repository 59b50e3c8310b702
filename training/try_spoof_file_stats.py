"""File-level spoof classifier on per-file cepstral spreads: cross-validation only (tried, not
shipped).

The model card notes that the per-file variance of the cepstra is what tells the corpus's
neural vocoders and voice clones from real speech (their spectra are smoother; normalising it
away, ``--cmvn``, ruined the model). This script asks whether that spread, used directly as a
file-level feature, does better than the GMM pair's mean frame LLR: for each utterance of the
spoof trainer (same utterances, groups and front end: 0-8 kHz LFCC, 60 filters, 40 cepstra,
CMN, speech frames), the log standard deviation of each static cepstrum (39) and optionally
of the deltas and double deltas (78 more), with or without the GMM's out-of-fold LLR (from the
trainer's ``--report``: the stacking stays out-of-fold), into an L2 logistic regression with
balanced class weights, leave-one-group-out. Measured 2026-12-07 in
``resources/models/audio_spoof_lfcc.md`` ("Tried and not shipped: file-level cepstral
spreads").

    .venv/bin/python -m training.try_spoof_file_stats --gmm-report runs/spoof_report.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from training.train_audio_spoof import eer_auc, shipped_lfcc_utterances  # noqa: E402


def cepstral_spread(frames: np.ndarray, dims: int) -> np.ndarray:
    """log standard deviation of each of the first ``dims`` feature columns over a file."""
    return np.log(frames[:, :dims].std(axis=0) + 1e-6)


def leave_one_group_out(x: np.ndarray, y: np.ndarray, groups: np.ndarray, c: float) -> np.ndarray:
    from sklearn.linear_model import LogisticRegression

    out = np.zeros(len(y))
    for g in np.unique(groups):
        test = groups == g
        mu, sd = x[~test].mean(0), x[~test].std(0) + 1e-9
        m = LogisticRegression(C=c, class_weight="balanced", max_iter=2000)
        m.fit((x[~test] - mu) / sd, y[~test])
        out[test] = m.decision_function((x[test] - mu) / sd)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache")
    ap.add_argument("--gmm-report", required=True, help="train_audio_spoof.py --report output")
    args = ap.parse_args(argv)

    utts = shipped_lfcc_utterances(Path(args.corpus), Path(args.cache) if args.cache else None,
                                   codec_augment=False)
    oof = json.loads(Path(args.gmm_report).read_text())["oof"]
    utts = [u for u in utts if u.key in oof and u.feats is not None]
    y = np.array([u.label for u in utts])
    groups = np.array([u.group for u in utts])
    corpus = np.array([u.kind == "corpus" for u in utts])
    clones = corpus & (groups == "trump")
    llr = np.array([oof[u.key] for u in utts])

    def show(name: str, s: np.ndarray) -> None:
        figs = [eer_auc(y[m], s[m]) for m in (np.ones(len(y), bool), corpus, clones)]
        print(f"{name:40s} " + "  ".join(f"{t} {e:.3f} / {a:.3f}" for t, (e, a) in
                                          zip(("pooled", "corpus", "clones"), figs)))

    print(f"{len(utts)} utterances")
    show("GMM pair, mean frame LLR (shipped)", llr)
    for c in (0.01, 0.1, 1.0):
        static = np.array([cepstral_spread(u.feats, 39) for u in utts])
        every = np.array([cepstral_spread(u.feats, u.feats.shape[1]) for u in utts])
        show(f"spread of static cepstra, C={c}", leave_one_group_out(static, y, groups, c))
        show(f"LLR + spread of static, C={c}",
             leave_one_group_out(np.c_[llr, static], y, groups, c))
        show(f"LLR + spread of all 117, C={c}",
             leave_one_group_out(np.c_[llr, every], y, groups, c))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
