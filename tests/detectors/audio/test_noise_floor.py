"""Known-answer tests for detectors/audio/noise_floor.py."""

from __future__ import annotations

import numpy as np

from detectors.audio import noise_floor

FS = 16000


def test_inserted_zeros_are_found_where_they_are(speechlike):
    x = speechlike(4.0, FS, seed=10, noise_db=-55)
    s, e = int(2.00 * FS), int(2.08 * FS)
    x[s:e] = 0.0
    r = noise_floor.digital_silence((x, FS))
    assert r.status == "ok"
    runs = [f for f in r.findings if f.measurement.name == "digital silence run"]
    assert len(runs) == 1
    loc = runs[0].location
    assert abs(loc.start - 2.0) < 0.002 and abs(loc.end - 2.08) < 0.002
    assert abs(runs[0].measurement.value - 80.0) < 1.0
    assert r.score > 0.5


def test_no_digital_silence_in_a_noisy_recording(speechlike):
    r = noise_floor.digital_silence((speechlike(4.0, FS, seed=11, noise_db=-55), FS))
    assert r.status == "ok" and r.findings == [] and r.score < 0.05


def test_splice_of_two_noise_floors_found_at_the_cut(speechlike):
    a = speechlike(5.0, FS, seed=12, noise_db=-65)
    b = speechlike(5.0, FS, seed=13, noise_db=-38)
    x = np.concatenate([a, b])
    r = noise_floor.audio_splice((x, FS))
    assert r.status == "ok" and r.findings
    best = max(r.findings, key=lambda f: f.strength)
    assert best.location.start <= 5.0 <= best.location.end
    assert best.measurement.value > 15
    assert r.score > 0.6


def test_no_splice_with_a_constant_floor(speechlike):
    x = np.concatenate([speechlike(5.0, FS, seed=14, noise_db=-50),
                        speechlike(5.0, FS, seed=15, noise_db=-50)])
    r = noise_floor.audio_splice((x, FS))
    assert r.status == "ok" and r.findings == [] and r.score < 0.05


def test_speech_from_the_first_sample_is_no_splice(speechlike):
    # A recording (or a segment of a long one) that opens mid-sentence has no room tone in its
    # first second; the floor medians were taken over a stub there and gave a 30 dB "cut".
    y = speechlike(8.0, FS, seed=1, noise_db=-50)
    t = np.arange(int(0.9 * FS)) / FS
    lead = 0.2 * np.sin(2 * np.pi * 150 * t) * (1 + 0.3 * np.sin(2 * np.pi * 4 * t))
    r = noise_floor.audio_splice((np.concatenate([lead, y]), FS))
    assert r.status == "ok" and r.score < 0.1 and not r.findings
