"""The shipped spoof model on Piper speech of sentences and settings it was not trained on.

Piper's one voice is in the shipped model's TTS family, so its held-out figure (the trainer's
``tts_piper`` fold) is for an unseen neural voice. This measures the other case: the same voice
reading 20 sentences that are not in ``training/tts_speech.SENTENCES``, at phoneme lengths,
noise scales and floors drawn from another seed, scored by the shipped detector against the
bona fide files' out-of-fold scores (``--report`` of the trainer); the same for the
oversmoothing detector when ``runs/oversmoothing_report.json`` exists. Needs the train extra.

Usage (repository root)::

    .venv/bin/python training/eval_piper_new_text.py   # reads runs/spoof_report.json
"""

from __future__ import annotations

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

#: Sentences that are not in training/tts_speech.SENTENCES (written for this check).
NEW_SENTENCES = [
    "The bakery on the corner closes early on Sundays, so we bought bread on Saturday.",
    "He told the committee that the figures had been checked twice by an outside firm.",
    "Our flight was delayed by fog, and we spent four hours drinking coffee at the gate.",
    "Could you send me the signed copy before the end of the week, please?",
    "The river flooded the lower fields last spring and the farmers lost most of the crop.",
    "I have never seen that man before, and I do not know how he got my number.",
    "The new library will open in March with a reading room on every floor.",
    "She kept the letters in a tin box under the stairs for almost thirty years.",
    "Transfer the money to the usual account and do not tell anyone about it.",
    "The referee stopped the match when the lights went out in the north stand.",
    "We are sorry for the inconvenience; the service will resume at half past six.",
    "My grandfather repaired clocks in a small shop near the railway station.",
    "The police have asked anyone who saw the accident to come forward.",
    "It rained all week, but on Friday the sun finally came out over the harbour.",
    "Please confirm that you received the parcel and that nothing was broken.",
    "The mayor denied that the contract had been awarded without a proper tender.",
    "Turn the oven down after twenty minutes and leave the door closed.",
    "They moved to the coast when the children were still very young.",
    "The results surprised everyone, including the people who ran the survey.",
    "I will call you again tomorrow morning at nine to go over the details.",
]


def main() -> int:
    from detectors.audio import oversmoothing, spoof_lfcc
    from training import train_audio_spoof as T
    from training.tts_speech import PIPER_VOICE, TTSJob, piper_available, synthesize_tts
    from triage_app.media import AudioMedia

    if not piper_available():
        print("needs Piper: .venv/bin/pip install -e '.[train]'", file=sys.stderr)
        return 2
    S = T.S
    corpus = ROOT.parent / "shared" / "corpus"
    rep = json.load(open(ROOT / "runs" / "spoof_report.json"))
    a, b = rep["calibration"]["a"], rep["calibration"]["b"]
    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv"))
            if r["modality"] == "audio" and r["label"] == "authentic"]
    bona_x16 = []
    for r in rows:
        data, fs = T.read_audio_file(str(corpus / r["path"]), max_duration=15.0)
        bona_x16.append(S.preprocess(data.mean(axis=1).astype(np.float64), fs))
    bank = T.tts_noise_bank(bona_x16)   # the trainer's room tones
    bona_scores = [1 / (1 + math.exp(-(a * rep["oof"][r["path"]] + b))) for r in rows]
    over = None
    over_path = ROOT / "runs" / "oversmoothing_report.json"   # its trainer's --report, if made
    if over_path.is_file():
        over = json.load(open(over_path))
        oa, ob = over["calibration"]["a"], over["calibration"]["b"]
        over_bona = [1 / (1 + math.exp(-(oa * over["oof"][r["path"]] + ob))) for r in rows]
    over_scores = []
    rng = np.random.default_rng(12345)  # not the trainer's seed: other settings and floors
    scores = []
    for i in range(40):
        job = TTSJob("piper", PIPER_VOICE, int(rng.integers(140, 201)), int(rng.integers(45, 86)),
                     NEW_SENTENCES[i % len(NEW_SENTENCES)], float(rng.uniform(25, 45)),
                     int(rng.integers(2**31)))
        x, fs = synthesize_tts(job, noise_bank=bank, bank_fs=S.TARGET_FS)
        m = AudioMedia(path="piper.wav", format="WAV", samples=x.astype(np.float32)[:, None],
                       sample_rate=fs)
        scores.append(spoof_lfcc.spoof_lfcc(m).score)
        if over is not None:
            over_scores.append(oversmoothing.oversmoothing(m).score)
    y = np.array([0] * len(bona_scores) + [1] * len(scores))
    e, auc = T.eer_auc(y, np.array(bona_scores + scores))
    print(f"Piper, new sentences: EER {e:.3f} AUC {auc:.3f}; median p {np.median(scores):.2f}, "
          f"share >= 0.5 {np.mean(np.array(scores) >= 0.5):.2f}; bona fide share >= 0.5 "
          f"{np.mean(np.array(bona_scores) >= 0.5):.2f}")
    if over is not None:
        e, auc = T.eer_auc(y, np.array(over_bona + over_scores))
        print(f"oversmoothing, same files: EER {e:.3f} AUC {auc:.3f}; share >= 0.5 "
              f"{np.mean(np.array(over_scores) >= 0.5):.2f}; bona fide (corpus, out of fold) "
              f"{np.mean(np.array(over_bona) >= 0.5):.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
