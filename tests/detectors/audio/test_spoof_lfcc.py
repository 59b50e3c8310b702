"""Tests for detectors/audio/spoof_lfcc.py (features, GMM scoring, shipped model)."""

from __future__ import annotations

import json
import struct

import numpy as np
import pytest

from detectors.audio import spoof_lfcc as S
from triage_app.media import VideoMedia

FS = 16000


def test_lfcc_shape_and_mean_normalisation(speechlike):
    x = speechlike(3.0, FS, seed=30)
    f, t = S.features(x, FS)
    assert f.ndim == 2 and f.shape[1] == 3 * 19 and len(f) == len(t) > 50
    assert np.allclose(f[:, :19].mean(axis=0), 0.0, atol=1e-9)   # CMN on the statics
    assert np.all(np.diff(t) > 0) and t[-1] <= 3.0


def test_features_ignore_gain(speechlike):
    x = speechlike(3.0, FS, seed=31, noise_db=-50)
    f1, _ = S.features(x, FS)
    f2, _ = S.features(0.5 * x, FS)
    assert f1.shape == f2.shape
    # c0 dropped + CMN: a gain change leaves only 16-bit quantisation differences
    assert np.max(np.abs(f1 - f2)) < 0.1


def test_diag_gmm_matches_sklearn():
    from sklearn.mixture import GaussianMixture

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (300, 5)), rng.normal(3, 0.5, (300, 5))])
    g = GaussianMixture(4, covariance_type="diag", random_state=0).fit(x)
    ours = S.DiagGMM(g.weights_, g.means_, g.covariances_).loglik(x)
    assert np.allclose(ours, g.score_samples(x), atol=1e-8)


def test_shipped_model_is_safetensors_with_calibration():
    assert S.MODEL_PATH.is_file()
    raw = S.MODEL_PATH.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    assert {"bona_means", "spoof_means", "calibration", "config"} <= set(header)
    m = S.load_model(str(S.MODEL_PATH))
    assert m.calib_a > 0                     # higher LLR -> more likely spoof
    assert m.bona.means.shape == m.spoof.means.shape
    assert m.bona.means.shape[1] == 3 * (m.n_ceps - 1)


def test_scores_speech_and_locates_windows(speechlike):
    x = speechlike(5.0, FS, seed=32)
    r = S.spoof_lfcc((x, FS))
    assert r.status == "ok" and 0.0 <= r.score <= 1.0
    assert r.extras["speech_frames"] > 100
    for f in r.findings:
        assert 0.0 <= f.location.start < f.location.end <= 5.0  # not past the end (was 5.5)
        assert f.location.high_hz == S.load_model(str(S.MODEL_PATH)).fmax


def test_silence_and_missing_audio_not_applicable():
    r = S.spoof_lfcc((np.zeros(FS * 2), FS))
    assert r.status == "not_applicable"
    v = VideoMedia(path="x.mp4", format="MP4", width=2, height=2, fps=1.0, duration=1.0,
                   frame_count=1, codec="h264", has_audio=False)
    assert S.spoof_lfcc(v).reason == "no audio track"


def test_telephone_band_audio_is_not_judged(speechlike):
    """8 kHz audio holds nothing above 4 kHz, where the 0-8 kHz model reads half its
    evidence: it says not_applicable with the reason instead of a score (an 8 kHz mu-law
    recording of authentic speech scored 0.32, its spoofs as low)."""
    from detectors.audio._common import resample_to

    x = speechlike(4.0, FS, seed=33)
    x8 = resample_to(x, FS, 8000)
    r = S.spoof_lfcc((x8, 8000))
    assert r.status == "not_applicable" and "sampled at 8,000 Hz" in r.reason
    # the same band limit inside a 16 kHz file (telephone speech resampled up)
    up = resample_to(x8, 8000, FS) + 1e-6 * np.random.default_rng(0).standard_normal(4 * FS)
    assert S.upper_band_db(up) < S.NARROWBAND_DB
    r = S.spoof_lfcc((up, FS))
    assert r.status == "not_applicable" and "narrowband" in r.reason
    # wide-band speech is scored
    assert S.upper_band_db(x) > S.NARROWBAND_DB
    assert S.spoof_lfcc((x, FS)).status == "ok"
    assert S.spoof_lfcc((resample_to(x, FS, 22050), 22050)).status == "ok"


def test_narrowband_rule_only_for_a_wide_band_model():
    x = np.random.default_rng(1).standard_normal(FS)
    assert S.narrowband_reason(8000, x, 4000.0) is None       # a 0-4 kHz model reads it all
    assert S.narrowband_reason(8000, x, 8000.0) is not None
    assert S.narrowband_reason(16000, x, 8000.0) is None      # white noise: wide band


@pytest.mark.corpus
def test_world_resynthesis_scores_higher_than_its_source(corpus_dir):
    from detectors.audio._common import read_audio_file
    from training.synth_speech import world_resynth

    # NB: these files are in the model's training set (with their own WORLD re-syntheses);
    # the held-out version of this check is the training script's cross-validation.
    names = ["pkg/debian_pocketsphinx-testdata/sense_and_sensibility_01_austen_64kb-0870.wav",
             "resemblyzer/authentic/librispeech_1998-15444-0000.flac",
             "ganpolice_vocoders/authentic/real__LJ008-0217.wav"]
    diffs = []
    for name in names:
        p = corpus_dir / name
        if not p.is_file():
            continue
        data, fs = read_audio_file(str(p), max_duration=6.0)
        x16 = S.preprocess(data.mean(axis=1), fs)
        y = world_resynth(x16, S.TARGET_FS)
        real = S.spoof_lfcc((x16, S.TARGET_FS)).extras["mean_llr"]
        fake = S.spoof_lfcc((y, S.TARGET_FS)).extras["mean_llr"]
        diffs.append(fake - real)
    if not diffs:
        pytest.skip("corpus files missing")
    assert np.mean(diffs) > 0, diffs


# --------------------------------------------------------------------------- phase features


def _harmonic_tone(phases: np.ndarray, seconds: float = 2.0, f0: float = 150.0) -> np.ndarray:
    """Harmonics 1..len(phases) of f0 (1/h amplitudes) with the given starting phases."""
    t = np.arange(int(seconds * FS)) / FS
    h = np.arange(1, len(phases) + 1)
    return 0.05 * np.sum(np.cos(2 * np.pi * f0 * h[:, None] * t[None, :] + phases[:, None])
                         / h[:, None], axis=0)


def test_excitation_peakiness_sees_phase_that_lfcc_cannot():
    # zero phase: the harmonics add up to a pulse per period; random phase: same magnitude
    # spectrum (same LFCC), no pulses
    rng = np.random.default_rng(5)
    aligned = S.preprocess(_harmonic_tone(np.zeros(25)), FS)
    scrambled = S.preprocess(_harmonic_tone(rng.uniform(0, 2 * np.pi, 25)), FS)
    pa = S.excitation_peakiness(aligned)[10:-10]
    ps = S.excitation_peakiness(scrambled)[10:-10]
    assert pa.shape[1] == 20
    # whole-band log kurtosis and log crest factor: clearly higher for the pulse train
    assert pa[:, 0].mean() > ps[:, 0].mean() + 0.5
    assert pa[:, 1].mean() > ps[:, 1].mean() + 0.2
    la = S.lfcc(aligned, n_filters=40, n_ceps=30)[10:-10, :29].mean(axis=0)
    ls = S.lfcc(scrambled, n_filters=40, n_ceps=30)[10:-10, :29].mean(axis=0)
    assert np.max(np.abs(la - ls)) < 0.05 * np.max(np.abs(la))


def test_phase_features_ignore_gain(speechlike):
    # unquantised, so that only the features' own arithmetic is tested (16-bit rounding of a
    # quieter copy adds relatively more noise, which is a real, small difference)
    x = speechlike(2.0, FS, seed=34, noise_db=-50)
    for fn in (S.excitation_peakiness, S.phase_coherence):
        a, b = fn(x), fn(0.25 * x)
        assert np.max(np.abs(a - b)) < 1e-3, fn.__name__


def test_phase_coherence_low_for_running_oscillators_high_for_frame_random_phase():
    rng = np.random.default_rng(6)
    steady = S.preprocess(_harmonic_tone(rng.uniform(0, 2 * np.pi, 20)), FS)
    # the same harmonics, every 10 ms restarted with new random phases (overlap-added with a
    # short crossfade): same magnitude spectrum per frame, no phase continuity
    seg, n = 160, len(steady)
    t = np.arange(n) / FS
    jumbled = np.zeros(n)
    fade = np.hanning(2 * seg)
    for s0 in range(0, n - 2 * seg, seg):
        ph = rng.uniform(0, 2 * np.pi, 20)
        h = np.arange(1, 21)
        piece = np.sum(np.cos(2 * np.pi * 150.0 * h[:, None] * t[None, s0:s0 + 2 * seg]
                              + ph[:, None]) / h[:, None], axis=0)
        jumbled[s0:s0 + 2 * seg] += 0.05 * piece * fade
    jumbled = S.preprocess(jumbled, FS)
    a = S.phase_coherence(steady)[10:-10, :16]     # bands 0 - 3.2 kHz hold the harmonics
    b = S.phase_coherence(jumbled)[10:-10, :16]
    assert a.shape[1] == 16 and S.phase_coherence(steady).shape[1] == 40
    assert a.mean() < -3.0                          # error ~ e^-3 = 0.05 or less
    assert b.mean() > a.mean() + 1.5


def test_all_features_match_separate_functions(speechlike):
    x = speechlike(3.0, FS, seed=33)
    f, ph, t = S.all_features(x, FS, n_filters=40, n_ceps=30)
    f2, t2 = S.features(x, FS, n_filters=40, n_ceps=30)
    assert np.allclose(f, f2) and np.allclose(t, t2)
    assert ph.shape == (len(f), S.PHASE_DIM)
    assert np.all(np.isfinite(ph))


def test_detector_runs_a_phase_model(speechlike, tmp_path):
    # a v2 model (LFCC pair + phase pair + fusion scales), here with arbitrary GMMs: checks the
    # loading and the fused scoring path that ``train_audio_spoof.py --phase`` produces
    from safetensors.numpy import save_file

    rng = np.random.default_rng(7)
    d, k = 3 * 29, 4
    t = {"config": np.array([4000.0, 40.0, 30.0]), "calibration": np.array([1.0, 0.0]),
         "fusion_scale": np.array([2.0, 4.0])}
    for pre, dim in (("", d), ("phase_", S.PHASE_DIM)):
        for cls in ("bona", "spoof"):
            t[f"{pre}{cls}_weights"] = np.full(k, 1.0 / k)
            t[f"{pre}{cls}_means"] = rng.normal(0, 1, (k, dim))
            t[f"{pre}{cls}_variances"] = np.full((k, dim), 4.0)
    path = tmp_path / "v2.safetensors"
    save_file(t, str(path), metadata={"format": "triage.spoof_lfcc.v2"})
    m = S.load_model(str(path))
    assert m.has_phase and m.sd_phase == 4.0
    x = speechlike(3.0, FS, seed=35)
    r = S.spoof_lfcc((x, FS), model_path=str(path))
    assert r.status == "ok" and 0.0 <= r.score <= 1.0
    f, ph, _ = S.all_features(x, FS, n_filters=40, n_ceps=30)
    want = np.mean(m.frame_llr(f, ph))
    parts = ((m.spoof.loglik(f) - m.bona.loglik(f)) / 2.0
             + (m.phase_spoof.loglik(ph) - m.phase_bona.loglik(ph)) / 4.0)
    assert np.isclose(r.extras["mean_llr"], want) and np.isclose(want, parts.mean())


def _tts_model(tmp_path, feats: np.ndarray, *, tts_near: bool, with_tts: bool = True):
    """A model file with arbitrary bona fide and spoof GMMs and a text-to-speech GMM that sits
    on ``feats`` (``tts_near``) or far away from them."""
    from safetensors.numpy import save_file

    rng = np.random.default_rng(11)
    d, k = feats.shape[1], 4
    t = {"config": np.array([4000.0, 40.0, 30.0]), "calibration": np.array([1.0, 0.0])}
    for cls in ("bona", "spoof"):
        t[f"{cls}_weights"] = np.full(k, 1.0 / k)
        t[f"{cls}_means"] = rng.normal(0, 1, (k, d))
        t[f"{cls}_variances"] = np.full((k, d), 4.0)
    if with_tts:
        centre = feats.mean(axis=0) if tts_near else feats.mean(axis=0) + 50.0
        t["tts_weights"] = np.ones(1)
        t["tts_means"] = centre[None, :]
        t["tts_variances"] = feats.var(axis=0)[None, :] + 1e-3
    path = tmp_path / f"tts_{tts_near}_{with_tts}.safetensors"
    save_file(t, str(path), metadata={"format": "triage.spoof_lfcc.v1"})
    return path


def test_a_text_to_speech_family_judges_the_file_when_its_llr_is_larger(speechlike, tmp_path):
    """train_audio_spoof.py --tts: a file is scored by the family (spoof, tts) whose mean LLR
    against the bona fide GMM is larger; with the TTS GMM far away the score is the spoof
    family's, exactly as a model without one."""
    x = speechlike(3.0, FS, seed=41)
    f, _, _ = S.speech_frames(x, FS, fmax=4000.0, n_filters=40, n_ceps=30, phase=False)
    near = S.spoof_lfcc((x, FS), model_path=str(_tts_model(tmp_path, f, tts_near=True)))
    far = S.spoof_lfcc((x, FS), model_path=str(_tts_model(tmp_path, f, tts_near=False)))
    plain = S.spoof_lfcc((x, FS), model_path=str(_tts_model(tmp_path, f, tts_near=False,
                                                              with_tts=False)))
    assert near.extras["family"] == "tts"
    fam = near.extras["family_mean_llr"]
    assert fam["tts"] > fam["spoof"] and np.isclose(near.extras["mean_llr"], fam["tts"], atol=1e-3)
    assert near.score > plain.score
    assert far.extras["family"] == "spoof" and plain.extras["family"] == "spoof"
    assert np.isclose(far.score, plain.score) and np.isclose(far.extras["mean_llr"],
                                                             plain.extras["mean_llr"])
    assert near.findings and all("text-to-speech" in fd.measurement.name for fd in near.findings)


def test_noise_floor_subtraction_restores_the_valleys_and_keeps_the_peaks():
    """A 1 kHz tone burst in white noise at 30 dB: after subtraction (no over-subtraction)
    the noise bins fall by what theory says for exponentially distributed bin powers
    (E[max(P - N, 0.05 P)] = 0.38 N, 4.2 dB), the tone bin keeps its power within 0.5 dB."""
    rng = np.random.default_rng(0)
    t = np.arange(2 * FS) / FS
    tone = 0.3 * np.sin(2 * np.pi * 1000 * t) * (t > 0.5)      # a pause, then the tone
    x = tone + rng.normal(0, 0.3 / np.sqrt(2) * 10 ** (-30 / 20), t.size)
    spec = np.abs(S._stft(x)) ** 2
    clean = S.subtract_noise_floor(spec)
    late = slice(80, None)                                       # frames of the tone
    k_tone = int(round(1000 / (FS / S.NFFT)))
    noise_bins = np.r_[100:200]
    drop = 10 * np.log10(spec[late][:, noise_bins].mean() / clean[late][:, noise_bins].mean())
    assert 3.5 < drop < 4.7
    keep = 10 * np.log10(spec[late, k_tone].mean() / clean[late, k_tone].mean())
    assert abs(keep) < 0.5
    assert (clean >= S.SUBTRACTION_FLOOR * spec - 1e-18).all() and (clean <= spec).all()
    assert S.subtract_noise_floor(spec[:0]).shape == (0, spec.shape[1])


def test_cmvn_gives_unit_variance_and_is_off_by_default():
    rng = np.random.default_rng(2)
    t = np.arange(2 * FS) / FS
    x = 0.3 * np.sin(2 * np.pi * 180 * t) * (1 + np.sin(2 * np.pi * 3 * t)) \
        + rng.normal(0, 0.01, t.size)
    plain, _, _ = S.speech_frames(x, FS, fmax=8000.0, n_filters=60, n_ceps=40, phase=False)
    norm, _, _ = S.speech_frames(x, FS, fmax=8000.0, n_filters=60, n_ceps=40, phase=False,
                                 cmvn=True)
    assert np.allclose(norm.std(axis=0), 1.0, atol=1e-3)
    assert not np.allclose(plain.std(axis=0), 1.0, atol=0.1)
    assert np.allclose(norm * (plain.std(axis=0) + 1e-6), plain, atol=1e-6)
    assert not S.load_model().cmvn and not S.load_model().denoise   # the shipped model


def test_telephone_channel_keeps_the_voice_band_and_removes_the_rest():
    from detectors.audio.spoof_lfcc import telephone_channel, upper_band_db

    rng = np.random.default_rng(0)
    x = 0.1 * rng.standard_normal(16000)
    y = telephone_channel(x)
    assert y.shape == x.shape and np.all(np.abs(y) <= 1.0)
    assert upper_band_db(x) > -3 and upper_band_db(y) < -40  # nothing left above 4.5 kHz
    # a tone in the voice band passes (8-bit mu-law noise only)
    t = np.arange(16000) / 16000
    assert np.corrcoef(telephone_channel(0.3 * np.sin(2 * np.pi * 440 * t)),
                       0.3 * np.sin(2 * np.pi * 440 * t))[0, 1] > 0.99


def test_white_noise_has_no_voice_to_judge():
    """From a QA pass: ten seconds of white noise scored 0.003 (confidently bona fide) and the
    file came out 'likely authentic'."""
    from detectors.audio._common import voiced_seconds
    from detectors.audio.oversmoothing import oversmoothing
    from triage_app.media import AudioMedia

    sr = 16000
    noise = np.random.default_rng(0).normal(0, 0.1, 10 * sr).astype(np.float32)
    m = AudioMedia(path="noise.wav", format="WAV", samples=noise[:, None], sample_rate=sr)
    assert voiced_seconds(noise, sr) == 0.0
    for fn in (S.spoof_lfcc, oversmoothing):
        r = fn(m)
        assert r.status == "not_applicable" and "no voiced speech" in r.reason
    t = np.arange(2 * sr) / sr
    vowel = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 10))
    assert voiced_seconds(vowel, sr) > 1.5
