"""Tests for training/eval_generated_speech.py (the audio fusion's generated edits) and how the
fusion fit groups and scores its records."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import eval_generated_speech as G  # noqa: E402
import fit_ensemble as F  # noqa: E402


def test_splices_cut_join_and_insert_digital_silence():
    fs = 16000
    x = np.full(fs * 4, 0.1)
    other = np.full(fs * 2, -0.2)
    (n1, joined), (n2, silent) = G.splices(x, other, np.random.default_rng(0), fs)
    assert (n1, n2) == ("splice_other", "splice_silence")
    cut = int(np.argmax(joined < 0))                      # where the other recording starts
    assert 0.35 * len(x) <= cut <= 0.65 * len(x)
    assert set(np.unique(joined)) == {0.1, -0.2}
    zeros = int((silent == 0).sum())
    assert 0.25 * fs <= zeros <= 0.6 * fs and len(silent) == len(x) + zeros
    assert silent[0] == silent[-1] == 0.1


def test_as_16bit_and_media():
    y = G.as_16bit(np.array([0.0, 0.5, 1.5, -2.0, 1e-6]))
    assert y.dtype == np.float32
    assert np.allclose(y * 32767, np.round(y * 32767), atol=1e-3)
    assert y[2] == 1.0 and y[3] == -1.0 and y[4] == 0.0
    m = G.media_of(np.zeros(1600), "generated/x.wav")
    assert m.sample_rate == 16000 and m.samples.shape == (1600, 1) and m.duration == 0.1
    assert G.eval_source("pkg/debian_alsa-utils/a.wav") == "pkg/debian_alsa-utils"
    assert G.eval_source("resemblyzer/b.wav") == "resemblyzer"


def test_fusion_fit_groups_a_record_with_its_origin_and_skips_oof_for_edits():
    corpus = {"path": "resemblyzer/librispeech_84-121123-0001.flac", "source": "resemblyzer"}
    synth = {"path": "generated/world/" + corpus["path"], "source": "generated_speech",
             "origin": corpus["path"], "origin_source": "resemblyzer"}
    assert F.group_of(synth) == F.group_of(corpus)
    items = [dict(synth, oof_key=corpus["path"] + "#world", scores={"spoof_lfcc": 0.9}),
             dict(synth, oof_key=None, scores={"spoof_lfcc": 0.9})]
    report = {"oof": {corpus["path"] + "#world": 0.0}, "calibration": {"a": 1.0, "b": 0.0}}
    assert F.use_out_of_fold_spoof_scores(items, report) == 1
    assert items[0]["scores"]["spoof_lfcc"] == 0.5         # sigmoid(1 * 0 + 0)
    assert items[1]["scores"]["spoof_lfcc"] == 0.9         # an edit keeps the pipeline's score
