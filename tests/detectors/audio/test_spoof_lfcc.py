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
        assert 0.0 <= f.location.start < f.location.end <= 5.5
        assert f.location.high_hz == S.load_model(str(S.MODEL_PATH)).fmax


def test_silence_and_missing_audio_not_applicable():
    r = S.spoof_lfcc((np.zeros(FS * 2), FS))
    assert r.status == "not_applicable"
    v = VideoMedia(path="x.mp4", format="MP4", width=2, height=2, fps=1.0, duration=1.0,
                   frame_count=1, codec="h264", has_audio=False)
    assert S.spoof_lfcc(v).reason == "no audio track"


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
