"""Score re-synthesised speech with the whole pipeline, for the audio fusion fit.

Reproduce (after ``training/train_audio_spoof.py --report runs/spoof_report.json``, which fills
the re-synthesis cache and writes the spoof model's out-of-fold scores)::

    .venv/bin/python training/eval_generated_speech.py --corpus ../shared/corpus \\
        --out runs/eval_speech.json

For every bona fide audio row of the corpus manifest (its first 15 s, as the spoof trainer
reads it), the records are: the utterance itself after the spoof model's front end (mono,
16 kHz, 16-bit: ``spoof_lfcc.preprocess``), labelled authentic, and its four re-syntheses by
``training/synth_speech.py`` (WORLD, modified WORLD, Griffin-Lim, LPC vocoder), quantised to
16 bits the same way, labelled manipulated. Bona fide and synthetic copies thus share rate,
bit depth, speaker, words and channel: no detector can tell them apart by the container, only
by the synthesis.

Edited speech, so that the fusion also learns from the detectors of edits (the corpus has no
edited recording): two splices of each bona fide utterance, labelled manipulated,
``splice_other``: its first part (cut between 35% and 65% of it) joined to the second part of
the next bona fide utterance of another source (another room, microphone and noise floor),
and ``splice_silence``: 0.25 to 0.6 s of digital zero inserted at such a cut. Seeded
(``--seed``). Output: ``triage eval --json``-style item records (``source`` =
``generated_speech``), each with ``origin`` (the corpus file; the fusion fit keeps an origin's
records in one cross-validation fold) and ``oof_key`` (its key in the spoof trainer's
out-of-fold report, for ``fit_ensemble.py --oof-spoof``) and ``fit_weight`` (1 for the bona
fide version, 1/6 for each of its six manipulated versions: one original and its edits weigh
the same in the fusion fit, so the fitted prior is not the generator's 6:1).

Text-to-speech (``--tts``, default on; needs espeak-ng and Festival): the spoof trainer's TTS
jobs (``training/tts_speech.py``), each labelled manipulated (``tts_espeak``, ``tts_klatt``,
``tts_festival_diphone``, ``tts_festival_hts``, ``tts_piper``), with ``origin`` its
synthesiser (one fold per synthesiser, as in the trainer), its trainer key as ``oof_key`` and
``fit_weight`` 1/6 (the 140 together weigh as about 23 originals).
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

MAX_SECONDS = 15.0  # the spoof trainer's --max-seconds default


def as_16bit(x: np.ndarray) -> np.ndarray:
    """Quantised to 16-bit PCM levels, float32 (what a 16-bit WAV of ``x`` would decode to)."""
    return (np.round(np.clip(x, -1.0, 1.0) * 32767.0) / 32767.0).astype(np.float32)


def eval_source(path: str) -> str:
    """The ``source`` that ``triage eval`` gives a manifest path (its first folder; two for
    ``pkg/``)."""
    parts = path.split("/")
    return "/".join(parts[:2]) if parts[0] == "pkg" and len(parts) > 2 else parts[0]


def media_of(x: np.ndarray, name: str):
    from detectors.audio import spoof_lfcc as S
    from triage_app.media import AudioMedia

    y = as_16bit(x)
    return AudioMedia(path=name, format="WAV", samples=y[:, None], sample_rate=S.TARGET_FS,
                      codec="pcm_s16le", bit_depth="16", size=2 * len(y))


def splices(x: np.ndarray, other: np.ndarray, rng: np.random.Generator, fs: int
             ) -> list[tuple[str, np.ndarray]]:
    """The two edited versions of ``x`` (see the module docstring); ``other`` is a bona fide
    utterance of another source."""
    cut = int(len(x) * rng.uniform(0.35, 0.65))
    oc = int(len(other) * rng.uniform(0.35, 0.65))
    joined = np.concatenate([x[:cut], other[oc:]])
    gap = np.zeros(int(fs * rng.uniform(0.25, 0.6)))
    silent = np.concatenate([x[:cut], gap, x[cut:]])
    return [("splice_other", joined), ("splice_silence", silent)]


def main(argv: list[str] | None = None) -> int:
    from detectors.audio import spoof_lfcc as S
    from detectors.audio._common import read_audio_file
    from training.synth_speech import METHODS
    from training.eval_records import eval_record, write_records
    from training.train_audio_spoof import _cached_synth
    from triage_app.pipeline import analyze

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--out", default="runs/eval_speech.json")
    ap.add_argument("--seed", type=int, default=0, help="the spoof trainer's --seed")
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache",
                    help="the spoof trainer's re-synthesis cache ('' = none)")
    ap.add_argument("--tts", action=argparse.BooleanOptionalAction, default=True,
                    help="also score the spoof trainer's espeak-ng utterances")
    ap.add_argument("--tts-utterances", type=int, default=60,
                    help="the spoof trainer's --tts-utterances")
    ap.add_argument("--festival-utterances", type=int, default=40,
                    help="the spoof trainer's --festival-utterances")
    ap.add_argument("--piper-utterances", type=int, default=40,
                    help="the spoof trainer's --piper-utterances (needs the train extra)")
    args = ap.parse_args(argv)
    corpus = Path(args.corpus)
    cache = Path(args.cache) if args.cache else None
    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv", newline="", encoding="utf-8"))
            if r["modality"] == "audio" and r["label"] == "authentic"]
    items = []
    rng = np.random.default_rng(args.seed)
    bona = []
    for r in rows:
        data, fs = read_audio_file(str(corpus / r["path"]), max_duration=MAX_SECONDS)
        bona.append(S.preprocess(data.mean(axis=1).astype(np.float64), fs))
    for i, (r, x16) in enumerate(zip(rows, bona)):
        versions = [("bona_fide_16k", x16, 0, r["path"])]
        versions += [(m, _cached_synth(x16, m, args.seed, cache), 1, f"{r['path']}#{m}")
                     for m in METHODS]
        j = next((k % len(rows) for k in range(i + 1, i + len(rows))
                  if eval_source(rows[k % len(rows)]["path"]) != eval_source(r["path"])), None)
        if j is not None:
            # no out-of-fold spoof score exists for an edit (oof_key None): the pipeline's own
            # score stays
            versions += [(name, y, 1, None)
                         for name, y in splices(x16, bona[j], rng, S.TARGET_FS)]
        n_fake = sum(v[2] for v in versions)
        for method, x, label, key in versions:
            name = f"generated/{method}/{r['path']}"
            a = analyze(media_of(x, name))
            items.append(eval_record(
                a, path=name, manipulated=bool(label), modality="audio",
                source="generated_speech", manipulation=method, origin=r["path"],
                origin_source=eval_source(r["path"]), oof_key=key,
                fit_weight=1.0 if not label else round(1.0 / n_fake, 6)))
            print(f"{len(items):4d} {method:<14} p={a.verdict.probability:.2f} {r['path']}",
                  flush=True)
    if args.tts:
        from training.train_audio_spoof import _cached_tts, tts_noise_bank
        from training.tts_speech import espeak_available, piper_available, standard_jobs

        if not espeak_available():
            ap.error("--tts needs the espeak-ng program (Debian: apt-get install espeak-ng); "
                     "or pass --no-tts")
        if args.piper_utterances and not piper_available():
            ap.error("--piper-utterances needs Piper (pip install -e '.[train]'); or pass 0")
        bank = tts_noise_bank(bona)   # the trainer's: the same bona fide files, in order
        for job in standard_jobs(args.tts_utterances, args.festival_utterances,
                                 args.piper_utterances):
            x, fs = _cached_tts(job, cache, bank)
            method = f"tts_{job.synthesiser}"
            name = f"generated/{method}/{job.key}"
            a = analyze(media_of(S.preprocess(x.astype(np.float64), fs), name))
            items.append(eval_record(
                a, path=name, manipulated=True, modality="audio", source="generated_speech",
                manipulation=method, origin=method, origin_source="tts", oof_key=job.key,
                fit_weight=round(1.0 / 6, 6)))
            print(f"{len(items):4d} {method:<14} p={a.verdict.probability:.2f} {job.key}",
                  flush=True)
    write_records(items, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
