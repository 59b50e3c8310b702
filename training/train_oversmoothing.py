"""Train the over-smoothing detector (``resources/models/oversmoothing.safetensors``).

Command (repository root; needs what the spoof trainer needs, Piper included: espeak-ng,
Festival and ``pip install -e ".[train]"``, because it reads the same utterances through the
same cache; and Debian's studio voice prompts, ``apt-get install
asterisk-core-sounds-en-g722 asterisk-core-sounds-es-g722 asterisk-core-sounds-fr-g722
asterisk-core-sounds-it-g722 asterisk-core-sounds-ru-g722``, or ``--asterisk 0``)::

    .venv/bin/python -m training.train_oversmoothing --corpus ../shared/corpus \
        --out resources/models/oversmoothing.safetensors --report runs/oversmoothing_report.json

Data: the spoof trainer's utterances (``train_audio_spoof.collect_utterances``, seed 0, first
15 s, with the lossy-codec copies), and (``--asterisk 12``) 60 studio voice prompts of four
professional speakers (G.722): the 114 bona fide files against the neural speech among
them, the corpus's 16 gan-police vocoder clips (group ``ljspeech``), its 6 Resemblyzer voice
clones (group ``trump``) and the 40 Piper utterances (group ``tts_piper``). The re-syntheses
(WORLD, Griffin-Lim, LPC) and the formant, diphone and HMM text-to-speech are not trained on;
their scores by the final model are reported as out-of-sample checks. The studio prompts are
there because without them the model took produced read speech for synthesis: the model
trained on the corpus alone put 47% of them at p > 0.5 (Allison's 75%).

Features (``detectors.audio.oversmoothing.cepstral_spread``): log standard deviation of each
static LFCC c1..c39 over a file's speech frames (the global-variance profile). Model: standardised features, L2 logistic
regression (C = ``--c``) with balanced class weights; its decision value calibrated by a
balanced logistic fit on the out-of-fold decision values.

Evaluation, both leave-one-group-out:

- by CV group (speaker, source, engine), as the spoof trainer: the pooled out-of-fold EER/AUC
  and each engine against all bona fide files;
- by **engine**: each of the three neural engines left out of the neural class, the model
  fitted on the other two (and on the bona fide files of the other groups), the left-out
  engine scored against every bona fide file's out-of-fold score. This is the figure for an
  engine never seen.

Deterministic given the cache (LogisticRegression with lbfgs has no randomness).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from detectors.audio.oversmoothing import (FMAX, N_CEPS, N_FILTERS, cepstral_spread,  # noqa: E402
                                           fine_to_envelope)
from training.train_audio_spoof import Utt, eer_auc, shipped_lfcc_utterances  # noqa: E402
from training.tts_speech import piper_available  # noqa: E402

#: The neural engines (CV group, and the name used in the report).
ENGINES = {"ljspeech": "gan-police vocoders", "trump": "Resemblyzer clones",
           "tts_piper": "Piper (VITS)"}


def engine_of(u: Utt) -> str | None:
    """The neural engine an utterance comes from, or None (bona fide, or not neural)."""
    if u.label != 1:
        return None
    if u.group == "tts_piper":
        return "tts_piper"
    if u.kind == "corpus" and u.group in ("ljspeech", "trump"):
        return u.group
    return None


def fit(x: np.ndarray, y: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    mu, sd = x.mean(axis=0), x.std(axis=0) + 1e-9
    lr = LogisticRegression(C=c, class_weight="balanced", max_iter=5000)
    lr.fit((x - mu) / sd, y)
    return mu, sd, lr


def decision(model, x: np.ndarray) -> np.ndarray:
    mu, sd, lr = model
    return lr.decision_function((np.atleast_2d(x) - mu) / sd)


def main(argv: list[str] | None = None) -> int:
    from detectors.audio import spoof_lfcc as S

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--out", default="resources/models/oversmoothing.safetensors")
    ap.add_argument("--report", default="")
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache")
    ap.add_argument("--c", type=float, default=0.1, help="inverse L2 strength")
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--asterisk", type=int, default=12, metavar="N",
                    help="add N studio voice prompts per voice of Debian's Asterisk prompts "
                         "(asterisk-core-sounds-{en,es,fr,it,ru}-g722) as bona fide speech, "
                         "each speaker a CV group, with a codec copy each (no re-syntheses); "
                         "default 12 (shipped); 0: none")
    ap.add_argument("--channel-eval", action="store_true",
                    help="also score every held-out file after each of the spoof trainer's "
                         "EVAL_CHANNELS (codecs, 8-bit PCM, white noise) with its fold's model")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()

    if not piper_available():
        ap.error("needs Piper for the spoof trainer's Piper utterances: "
                 ".venv/bin/pip install -e '.[train]'")

    def featurize(x: np.ndarray, fs: int):   # the asterisk prompts' (the shipped front end)
        return S.speech_frames(x, fs, fmax=FMAX, n_filters=N_FILTERS, n_ceps=N_CEPS,
                               phase=False)[:2]

    utts = shipped_lfcc_utterances(Path(args.corpus), Path(args.cache) if args.cache else None,
                                   codec_augment=True, channel_eval=args.channel_eval)
    if args.asterisk:
        from training.train_audio_spoof import asterisk_prompts, codec_roundtrip, read_g722

        prompts = asterisk_prompts(per_voice=args.asterisk)
        if not prompts:
            ap.error("--asterisk needs Debian's asterisk-core-sounds-{en,es,fr,it,ru}-g722")
        for path, group in prompts:
            x, fs = read_g722(path)
            x = x[:int(15.0 * fs)]
            key = "asterisk:" + "/".join(Path(path).parts[-2:])
            f, _ = featurize(x, fs)
            utts.append(Utt(key, path, 0, group, "package", "pkg_asterisk", f, None))
            fc, _ = featurize(codec_roundtrip(S.preprocess(x, fs), key), S.TARGET_FS)
            utts.append(Utt(key + "~codec", path, 0, group, "package", "pkg_asterisk", fc, None,
                            augmented=True))
    utts = [u for u in utts if u.feats is not None and len(u.feats) >= 20]
    orig = [u for u in utts if not u.augmented]
    copies: dict[str, list[Utt]] = {}
    for u in utts:
        if u.augmented:
            copies.setdefault(u.key.split("~")[0], []).append(u)
    spread = {u.key: cepstral_spread(u.feats) for u in utts}
    bona = [u for u in orig if u.label == 0]
    neural = [u for u in orig if engine_of(u)]
    print(f"{len(bona)} bona fide, {len(neural)} neural utterances "
          f"({', '.join(f'{ENGINES[e]} {sum(engine_of(u) == e for u in neural)}' for e in ENGINES)}); "
          f"features in {time.perf_counter() - t0:.0f} s")

    def train(b: list[Utt], n: list[Utt]):
        """Fitted on ``b`` (bona fide) and ``n`` (neural) and their codec copies."""
        b = b + [c for u in b for c in copies.get(u.key, [])]
        n = n + [c for u in n for c in copies.get(u.key, [])]
        x = np.array([spread[u.key] for u in b + n])
        return fit(x, np.r_[np.zeros(len(b)), np.ones(len(n))], args.c)

    def scores(model, us: list[Utt]) -> np.ndarray:
        return decision(model, np.array([spread[u.key] for u in us]))

    # 1. by CV group
    groups = sorted({u.group for u in bona + neural})
    oof: dict[str, float] = {}
    for g in groups:
        m = train([u for u in bona if u.group != g], [u for u in neural if u.group != g])
        te = [u for u in bona + neural if u.group == g]
        oof.update(zip((u.key for u in te), scores(m, te).tolist()))
    y = np.array([u.label for u in bona + neural])
    s = np.array([oof[u.key] for u in bona + neural])
    channels: dict[str, dict] = {}
    if args.channel_eval:
        from training.train_audio_spoof import EVAL_CHANNELS

        per: dict[str, dict[str, float]] = {name: {} for name in EVAL_CHANNELS}
        for g in groups:
            m = train([u for u in bona if u.group != g], [u for u in neural if u.group != g])
            for u in (u for u in bona + neural if u.group == g):
                for name, f in (u.channel_feats or {}).items():
                    per[name][u.key] = float(decision(m, cepstral_spread(
                        f.astype(np.float64)))[0])
        label = {u.key: u.label for u in bona + neural}
        for name, d in per.items():
            yy = np.array([label[k] for k in d])
            ss = np.array(list(d.values()))
            r = eer_auc(yy, ss)
            channels[name] = {"eer": r[0], "auc": r[1],
                              "bona_above_0": float(np.mean(ss[yy == 0] > 0)),
                              "neural_above_0": float(np.mean(ss[yy == 1] > 0))}
            print(f"channel {name:18s} EER {r[0]:.3f} AUC {r[1]:.3f}; decision > 0: bona fide "
                  f"{channels[name]['bona_above_0']:.2f}, neural "
                  f"{channels[name]['neural_above_0']:.2f}")
    pooled = eer_auc(y, s)
    print(f"by group, out-of-fold: EER {pooled[0]:.3f} AUC {pooled[1]:.3f}")
    bona_oof = np.array([oof[u.key] for u in bona])
    leaning = {}
    for src in sorted({u.source for u in bona}):
        v = np.array([oof[u.key] for u in bona if u.source == src])
        leaning[src] = {"n": int(len(v)), "share_above_0": float(np.mean(v > 0))}
    print("bona fide leaning synthetic out of fold (decision > 0): " + ", ".join(
        f"{k} {v['share_above_0']:.2f} of {v['n']}" for k, v in leaning.items()))
    by_engine_group = {}
    for e, name in ENGINES.items():
        se = np.array([oof[u.key] for u in neural if engine_of(u) == e])
        r = eer_auc(np.r_[np.zeros(len(bona_oof)), np.ones(len(se))], np.r_[bona_oof, se])
        by_engine_group[e] = {"eer": r[0], "auc": r[1], "n": int(len(se))}
        print(f"  {name:22s} vs all bona fide: EER {r[0]:.3f} AUC {r[1]:.3f} (n={len(se)})")
    # 2. by engine: the engine left out of the neural class
    held_out = {}
    for e, name in ENGINES.items():
        tgt = [u for u in neural if engine_of(u) == e]
        others = [u for u in neural if engine_of(u) != e]
        sb = []
        for g in sorted({u.group for u in bona}):
            m = train([u for u in bona if u.group != g and u.group != e], others)
            sb.extend(scores(m, [u for u in bona if u.group == g]).tolist())
        m = train([u for u in bona if u.group != e], others)
        st = scores(m, tgt)
        r = eer_auc(np.r_[np.zeros(len(sb)), np.ones(len(st))], np.r_[sb, st])
        held_out[e] = {"eer": r[0], "auc": r[1], "n": int(len(st))}
        print(f"engine held out: {name:22s} EER {r[0]:.3f} AUC {r[1]:.3f}")
    # calibration on the out-of-fold decision values (balanced)
    from sklearn.linear_model import LogisticRegression

    cal = LogisticRegression(C=10.0, class_weight="balanced").fit(s[:, None], y)
    a, b = float(cal.coef_[0, 0]), float(cal.intercept_[0])
    print(f"calibration: p = sigmoid({a:.4f} * z + {b:.4f})")
    final = train(bona, neural)
    # 3. what it makes of the synthetic speech it was not trained on
    others_kind: dict[str, dict] = {}
    for kind in sorted({u.kind if u.kind != "tts" else u.group for u in orig
                        if u.label == 1 and not engine_of(u)}):
        us = [u for u in orig if u.label == 1 and not engine_of(u)
              and (u.kind if u.kind != "tts" else u.group) == kind]
        st = scores(final, us)
        r = eer_auc(np.r_[np.zeros(len(bona_oof)), np.ones(len(st))], np.r_[bona_oof, st])
        others_kind[kind] = {"eer": r[0], "auc": r[1], "n": len(us)}
        print(f"  not trained on: {kind:22s} EER {r[0]:.3f} AUC {r[1]:.3f} (n={len(us)})")
    bona_median = float(np.median([fine_to_envelope(spread[u.key]) for u in bona]))
    for e, name in ENGINES.items():
        tilt = np.median([fine_to_envelope(spread[u.key]) for u in neural if engine_of(u) == e])
        print(f"  GV tilt (c25-39 minus c1-8), median: {name} {tilt:.3f}; bona fide "
              f"{bona_median:.3f}")
    mu, sd, lr = final
    if not args.no_save:
        from safetensors.numpy import save_file

        out = Path(args.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        save_file({"mean": mu.astype(np.float64), "scale": sd.astype(np.float64),
                   "coef": lr.coef_[0].astype(np.float64),
                   "intercept": lr.intercept_.astype(np.float64),
                   "calibration": np.array([a, b]), "bona_median": np.array([bona_median])},
                  str(out), metadata={"format": "triage.oversmoothing.v1", "c": str(args.c),
                                      "n_bona": str(len(bona)), "n_neural": str(len(neural)),
                                      "pooled_eer": f"{pooled[0]:.4f}",
                                      "pooled_auc": f"{pooled[1]:.4f}"})
        import hashlib

        print(f"saved {out} sha256 {hashlib.sha256(out.read_bytes()).hexdigest()}")
    if args.report:
        Path(args.report).write_text(json.dumps({
            "pooled": {"eer": pooled[0], "auc": pooled[1]}, "by_engine_group": by_engine_group,
            "engine_held_out": held_out, "not_trained_on": others_kind,
            "bona_fide_leaning": leaning,
            "calibration": {"a": a, "b": b}, "bona_median": bona_median, "channels": channels,
            # out-of-fold decision values by utterance key, for fit_ensemble.py --oof
            "oof": oof, "seconds": time.perf_counter() - t0}, indent=1))
    print(f"total {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
