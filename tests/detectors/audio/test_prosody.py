"""Known-answer tests for detectors/audio/prosody.py."""

from __future__ import annotations

import numpy as np

from detectors.audio import prosody

FS = 16000


def test_monotone_voice_scores_higher_than_intonated(speechlike):
    natural = speechlike(6.0, FS, seed=20, intonation_st=4.0, jitter=0.02)
    robot = speechlike(6.0, FS, seed=20, intonation_st=0.0, jitter=0.0)
    rn = prosody.unnatural_prosody((natural, FS))
    rr = prosody.unnatural_prosody((robot, FS))
    assert rn.status == rr.status == "ok"
    assert rr.extras["f0_sd_semitones"] < 0.5 < 1.5 < rn.extras["f0_sd_semitones"]
    assert rr.score > rn.score + 0.2
    assert rr.findings and all(f.measurement.value < 1.0 for f in rr.findings)
    assert rr.findings[0].location.low_hz < 140 < rr.findings[0].location.high_hz


def test_unvoiced_noise_is_not_applicable():
    rng = np.random.default_rng(0)
    r = prosody.unnatural_prosody((0.1 * rng.standard_normal(3 * FS), FS))
    assert r.status == "not_applicable" and "voiced" in r.reason


def test_flat_contour_windows_end_with_the_recording(speechlike):
    # 2 s windows on a 1 s hop: the last one reached past the end (a 4 s segment of a long
    # recording got a finding "from 0:08.0 to 0:13.0" on its 12 s clock)
    robot = speechlike(4.5, FS, seed=3, intonation_st=0.0, jitter=0.0)
    r = prosody.unnatural_prosody((robot, FS))
    assert r.findings
    assert max(f.location.end for f in r.findings) <= robot.size / FS + 1e-9
