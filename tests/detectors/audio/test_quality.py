"""Known-answer tests for detectors/audio/quality.py (clipping, hiss, buzz, pops)."""

from __future__ import annotations

import numpy as np

from detectors.audio import quality
from triage_app.model import TimeSpan

FS = 16000


def test_clipping_located_in_the_clipped_span(speechlike):
    x = speechlike(4.0, FS, seed=1)
    s, e = int(1.0 * FS), int(1.6 * FS)
    x[s:e] *= 8.0                       # overdriven between 1.0 and 1.6 s ...
    x = np.clip(x, -0.5, 0.5)           # ... and clipped at 0.5 (the new max |x|)
    r = quality.clipping((x, FS))
    assert r.status == "ok"
    spans = [f.location for f in r.findings
             if isinstance(f.location, TimeSpan) and f.measurement.name == "longest flat run"]
    assert spans, "no clipping span found"
    for loc in spans:
        assert 1.0 - 0.01 <= loc.start and loc.end <= 1.6 + 0.01
    assert r.extras["clipped_samples"] > 100
    assert r.score > quality.clipping((speechlike(4.0, FS, seed=1), FS)).score
    assert r.score <= quality.QUALITY_WEIGHT


def test_clipping_clean_signal_has_no_findings(speechlike):
    r = quality.clipping((speechlike(3.0, FS, seed=2), FS))
    assert r.status == "ok" and r.findings == [] and r.score < 0.05


def test_buzz_finds_60_hz_hum(speechlike):
    rng = np.random.default_rng(0)
    t = np.arange(6 * FS) / FS
    hum = sum(0.02 / k * np.sin(2 * np.pi * 60 * k * t + k) for k in (1, 2, 3, 5))
    x = speechlike(6.0, FS, seed=3) + hum + 0.001 * rng.standard_normal(len(t))
    r = quality.buzz((x, FS))
    assert r.status == "ok"
    assert r.extras["mains_hz"] == 60.0
    assert r.extras["prominence_db"] > 15
    assert r.findings and r.findings[0].location.low_hz <= 60 <= r.findings[0].location.high_hz
    assert r.score > 0.4


def test_buzz_absent_without_hum(speechlike):
    r = quality.buzz((speechlike(6.0, FS, seed=4), FS))
    assert r.status == "ok" and r.findings == [] and r.score < 0.2


def test_pops_located_at_the_clicks(speechlike):
    x = speechlike(4.0, FS, seed=5)
    times = (0.9, 2.3, 3.1)
    for tc in times:
        i = int(tc * FS)
        x[i] += 0.6
        x[i + 1] -= 0.4
    r = quality.pops((x, FS))
    assert r.status == "ok" and r.extras["pops"] >= 3
    found = [f.location for f in r.findings]
    for tc in times:
        assert any(loc.start - 0.01 <= tc <= loc.end + 0.01 for loc in found), tc
    assert quality.pops((speechlike(4.0, FS, seed=5), FS)).extras["pops"] == 0


def test_hiss_in_pauses(speechlike):
    rng = np.random.default_rng(6)
    clean = speechlike(5.0, FS, seed=6, noise_db=-90)
    hissy = clean + 10 ** (-35 / 20) * rng.standard_normal(len(clean))
    r_h = quality.hiss((hissy, FS))
    r_c = quality.hiss((clean, FS))
    assert r_h.status == r_c.status == "ok"
    assert r_h.extras["pause_band_level_db"] > r_c.extras["pause_band_level_db"] + 30
    assert r_h.findings and r_h.findings[0].location.low_hz == 4000.0
    assert r_h.score > 0.4 and r_c.score < 0.05


def test_short_audio_not_applicable():
    r = quality.clipping((np.zeros(100), FS))
    assert r.status == "not_applicable" and "short" in r.reason


def test_a_plosive_after_silence_is_not_a_pop():
    """Regression: a word starting out of a pause (quiet room tone, then a sharp onset) was
    counted as a pop: its jump is huge against the pause's differences, but the waveform goes
    on moving after it, as a click's does not."""
    rng = np.random.default_rng(9)
    pause = 0.0005 * rng.standard_normal(FS)
    # a plosive: the release step, then 40 ms of aspiration noise, then the pause again
    burst = 0.004 * rng.standard_normal(int(0.04 * FS))
    burst[0] += 0.06
    x = np.concatenate([pause, burst, pause]).astype(np.float32)
    r = quality.pops((x, FS))
    assert r.extras["pops"] == 0, [(f.location, f.measurement.value) for f in r.findings]
    i = int(0.5 * FS)
    x[i] += 0.5                                  # a real click in the pause is still found
    assert quality.pops((x, FS)).extras["pops"] == 1


def test_breaths_over_a_clean_floor_are_not_hiss(speechlike):
    """Regression: single noisy pauses (breaths, fricative tails) over a clean noise floor
    were reported as hiss spans; hiss is a floor, so they are not."""
    rng = np.random.default_rng(8)
    floor = lambda s: 10 ** (-65 / 20) * rng.standard_normal(int(s * FS))  # noqa: E731
    parts = []
    for k in range(4):
        parts += [speechlike(1.5, FS, seed=k, noise_db=-65), floor(0.8)]
    x = np.concatenate(parts)
    assert quality.hiss((x, FS)).extras["pause_band_level_db"] < -60
    breath = 10 ** (-55 / 20) * rng.standard_normal(int(0.25 * FS))
    for k in (0, 2):                                   # a breath in two of the four pauses
        start = int((k * 2.3 + 1.5 + 0.2) * FS)
        x[start:start + breath.size] += breath
    r = quality.hiss((x, FS))
    assert r.extras["pause_band_level_db"] < -60
    assert r.findings == [], [(f.location, f.measurement.value) for f in r.findings]
    hissy = x + 10 ** (-40 / 20) * rng.standard_normal(x.size)
    assert quality.hiss((hissy, FS)).findings                 # a hissy floor still is


def test_a_recording_that_starts_mid_waveform_has_no_pop_at_its_edge():
    """From a QA pass: an Opus file's decoder start-up jump at 4 ms was a 'pop', grounded."""
    from detectors.audio.quality import pops

    sr = 16000
    t = np.arange(3 * sr) / sr
    x = (0.5 * np.cos(2 * np.pi * 220 * t)).astype(np.float32)  # starts and ends at full swing
    x[0] = 0.0      # and a jump from silence in its first sample
    r = pops((x, sr))
    assert r.status == "ok" and r.findings == []
