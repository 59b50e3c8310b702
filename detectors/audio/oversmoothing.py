"""Over-smoothed spectra: the lost global variance of neural and statistical speech.

Speech generated from a model of its spectrum, whether HMM synthesis or a neural vocoder
trained with spectral reconstruction losses, is over-smoothed: frame to frame, its fine
spectral detail varies less than a human voice's. Toda & Tokuda (2007) named this the loss of
*global variance* (GV) of the spectral parameters, larger for the higher-order cepstra (the
fine detail) than for the low-order ones (the envelope), and restored it in synthesis; here it
is measured. For each file, the log standard deviation of each static LFCC c1..c39 over its
speech frames (the spoof model's front end: 16 kHz, 0-8 kHz, 60 filters, cepstral mean
normalisation) is its GV profile. On this corpus all three neural engines show the same tilt
of that profile: c25-c39 vary 0.2-0.4 (log units) less, relative to c1-c8, than in the bona fide
files. The profile goes into a logistic regression trained on neural speech only:
the corpus's GAN vocoders (gan-police, LJSpeech), its Resemblyzer voice clones and the Piper
VITS voice, against the bona fide files and 60 studio voice prompts, with a lossy-codec copy of
each
(``training/train_oversmoothing.py``, model card ``resources/models/oversmoothing.md``).

Unlike the LFCC-GMM pair (``spoof_lfcc``), which learns what each engine's frames look like and
does not recognise a neural engine it has not heard, this one statistic carries from engine to
engine: each of the three neural engines held out from training (the model fitted on the other
two) is detected at AUC 0.79-0.84, and formant, diphone and HMM text-to-speech it was never
trained on at 0.92-0.99. Additive noise hides it (it raises the variance of every file), so a
noisy clone is missed rather than a noisy real recording flagged. What it does flag wrongly is
read speech that is itself smooth: a third of the studio prompts of a speaker held out, and
the corpus's LJSpeech audiobook clip (0.79 out of fold).
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import numpy as np

from detectors.audio._common import TARGET_FS, analysis_audio, unvoiced_reason
from detectors.audio.spoof_lfcc import _budgeted, narrowband_reason, speech_frames
from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, TimeSpan

VERSION = "1.1"  # 1.1: no voice, no judgement
MODEL_PATH = Path(__file__).resolve().parents[2] / "resources" / "models" / \
    "oversmoothing.safetensors"
#: The front end (the spoof model's): analysis band, filters, cepstra (c0 dropped).
FMAX, N_FILTERS, N_CEPS = 8000.0, 60, 40
#: Fewer speech frames than this (10 ms hop) and a file's spread is not measured: the spoof
#: model's floor, and the shortest training files' (the 1 s gan-police clips).
MIN_FRAMES = 50


def cepstral_spread(frames: np.ndarray) -> np.ndarray:
    """log standard deviation of each static cepstrum (the first ``N_CEPS - 1`` columns of the
    spoof front end's features) over a file's speech frames: the GV profile."""
    return np.log(frames[:, :N_CEPS - 1].std(axis=0) + 1e-6)


def fine_to_envelope(spread: np.ndarray) -> float:
    """The tilt of a GV profile that the findings report: mean log SD of c25-c39 (fine
    detail) minus that of c1-c8 (envelope); lower in over-smoothed speech."""
    return float(np.mean(spread[24:39]) - np.mean(spread[0:8]))


@functools.lru_cache(maxsize=2)
def load_model(path: str) -> dict[str, np.ndarray]:
    """The shipped logistic model (safetensors, no pickle)."""
    from safetensors.numpy import load_file

    m = load_file(path)
    for k in ("mean", "scale", "coef", "intercept", "calibration", "bona_median"):
        if k not in m:
            raise ValueError(f"{Path(path).name} lacks tensor {k!r}")
    return m


def probability(model: dict[str, np.ndarray], spread: np.ndarray) -> tuple[float, float]:
    """(calibrated probability, decision value) of one file's spread vector."""
    z = float(((spread - model["mean"]) / model["scale"]) @ model["coef"] + model["intercept"][0])
    a, b = (float(v) for v in model["calibration"])
    return 1.0 / (1.0 + np.exp(-(a * z + b))), z


@detector(name="oversmoothing", version=VERSION, modalities=("audio", "video"),
          segment_pooling="mean",  # a property of the voice
          method="log standard deviation of each static LFCC c1-c39 over the speech frames "
                 "(the global-variance profile), logistic regression trained on "
                 "neural speech (GAN vocoders, voice clones, a VITS voice) against bona fide "
                 "speech; calibrated",
          reference="Toda T., Tokuda K. (2007), 'A speech parameter generation algorithm "
                    "considering global variance for HMM-based speech synthesis', IEICE Trans. "
                    "Inf. & Syst. E90-D(5), 816-824; LFCC front end as in Sahidullah, Kinnunen "
                    "& Hanilci (2015), Interspeech 2015",
          limits="Trained on three neural engines (16 GAN-vocoder clips of one LJSpeech speaker, "
                 "6 YouTube voice clones, one Piper voice) against 54 bona fide files and 60 "
                 "studio prompts; each engine held out is detected at AUC 0.79-0.84, which is "
                 "all this data can say about an engine never seen. Out of fold, 11% of the "
                 "corpus's bona fide files and 32% of the studio prompts lean synthetic: "
                 "professionally produced read speech may look smooth. Additive noise raises every file's "
                 "variance and hides the trace (white noise at 30 dB SNR: most neural files "
                 "missed). Telephone-band audio is not judged; see the model card.",
          artifacts=("generator_fingerprint",), params={"fmax_hz": FMAX, "min_frames": MIN_FRAMES},
          localizes=False, weight_files=("resources/models/oversmoothing.safetensors",))
def oversmoothing(media, *, model_path: str | None = None) -> DetectorResult:
    """Neural-speech score from the global variance of the cepstral trajectory.

    Parameters
    ----------
    media : AudioMedia or VideoMedia
    model_path : str, optional
        Another safetensors model than the shipped one.

    Returns
    -------
    DetectorResult
        ``score``: calibrated probability that the speech comes from a neural (or other
        model-based) synthesiser. One finding over the analysed speech when the score exceeds
        0.5: the profile's tilt (:func:`fine_to_envelope`) against the bona fide files'
        median.
        At most 30 s is read (the spoof model's budget: the whole file, or three 10 s chunks);
        each chunk's spread is measured on its own and the spreads are averaged by frames.

    References
    ----------
    .. [1] Toda T., Tokuda K. (2007). A speech parameter generation algorithm considering
       global variance for HMM-based speech synthesis. IEICE Trans. Inf. & Syst. E90-D(5),
       816-824.
    .. [2] Sahidullah M., Kinnunen T., Hanilci C. (2015). A comparison of features for
       synthetic speech detection. Proc. Interspeech 2015, 2087-2091.
    """
    t0 = time.perf_counter()
    path = model_path or str(MODEL_PATH)
    if not Path(path).is_file():
        return DetectorResult.error("oversmoothing", VERSION, f"model file missing: {path}")
    x, fs, reason = analysis_audio(media, TARGET_FS)
    if reason:
        return DetectorResult.not_applicable("oversmoothing", VERSION, reason)
    _, native_fs, _ = analysis_audio(media)
    why = narrowband_reason(int(native_fs), x, FMAX, reader="this model")
    if why:
        return DetectorResult.not_applicable("oversmoothing", VERSION, why)
    why = unvoiced_reason(x, fs)  # white noise passes the energy VAD, and has no voice
    if why:
        return DetectorResult.not_applicable("oversmoothing", VERSION, why)
    model = load_model(path)
    spreads, weights, first, last = [], [], None, 0.0
    for off, chunk in _budgeted(x, fs):
        f, _, t = speech_frames(chunk, fs, fmax=FMAX, n_filters=N_FILTERS, n_ceps=N_CEPS,
                                phase=False)
        if len(f) >= MIN_FRAMES // 2:
            spreads.append(cepstral_spread(f))
            weights.append(len(f))
            first = off + float(t[0]) if first is None else first
            last = off + float(t[-1])
    if sum(weights) < MIN_FRAMES:
        return DetectorResult.not_applicable("oversmoothing", VERSION,
                                             f"under {MIN_FRAMES / 100:g} s of speech-like audio")
    spread = np.average(np.array(spreads), axis=0, weights=np.array(weights, float))
    score, z = probability(model, spread)
    tilt = fine_to_envelope(spread)
    reference = float(model["bona_median"][0])
    findings = []
    if score > 0.5:
        findings.append(Finding(
            artifact="generator_fingerprint",
            location=TimeSpan(float(first or 0.0), float(last), 0.0, FMAX),
            strength=float(score),
            measurement=Measurement("spread of the fine spectral detail against the envelope "
                                    "(log SD of cepstra c25-c39 minus c1-c8; real speech: "
                                    "the median given)", round(tilt, 3), round(reference, 3),
                                    "log units"),
            detector="oversmoothing"))
    return DetectorResult(
        name="oversmoothing", version=VERSION, status="ok", score=score, findings=findings,
        runtime=time.perf_counter() - t0,
        params={"fmax_hz": FMAX, "min_frames": MIN_FRAMES},
        extras={"decision": round(z, 4), "fine_to_envelope": round(tilt, 4),
                "bona_fide_median": round(reference, 4),
                "gv_profile": [round(float(v), 3) for v in spread],
                "speech_frames": int(sum(weights))})
