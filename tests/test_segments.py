"""Tests for triage_app/segments.py: long recordings cut into segments, results merged."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from triage_app.media import AudioMedia
from triage_app.model import DetectorResult, Finding, Measurement, TimeSpan, Whole
from triage_app.segments import (OVERLAP_S, audio_segments, merge_results, run_segmented, segment_bounds,
                                 segment_media)


def _found(name, score, start, end):
    f = Finding(artifact="audio_splice", location=TimeSpan(start, end), strength=score,
                measurement=Measurement("jump", 10.0, 8.0, "dB"), detector=name)
    return DetectorResult(name=name, version="1", status="ok", score=score, findings=[f],
                          extras={"own": score})


def test_bounds_fit_the_budget_overlap_and_cover_the_recording():
    assert segment_bounds(600.3, 600.0) == [(0.0, 600.3)]  # within the slack: one pass
    for duration in (601.0, 3600.0, 12345.6):
        b = segment_bounds(duration, 600.0)
        assert b[0][0] == 0.0 and b[-1][1] == duration
        assert all(e - s <= 600.0 + 1e-9 for s, e in b)
        # each segment overlaps the next by OVERLAP_S, so a trace at a boundary is seen whole
        assert all(abs((e0 - s1) - OVERLAP_S) < 1e-9 for (_, e0), (s1, _) in zip(b, b[1:]))
    assert len(segment_bounds(3600.0, 600.0)) == 7
    assert segment_bounds(601.0, 600.0) == [(0.0, 305.5), (295.5, 601.0)]  # halves, no 1 s tail


def test_a_finding_in_the_overlap_is_kept_once():
    parts = [(0.0, 10.0, _found("x", 0.6, 8.0, 8.5)), (7.0, 17.0, _found("x", 0.8, 1.0, 1.5))]
    r = merge_results(parts)
    assert [(f.location.start, f.location.end, f.strength) for f in r.findings] == \
        [(8.0, 8.5, 0.8)]


def test_merge_keeps_the_highest_score_and_every_finding_on_the_recording_clock():
    parts = [(0.0, 10.0, _found("x", 0.2, 1.0, 2.0)), (10.0, 20.0, _found("x", 0.9, 3.0, 4.0)),
             (20.0, 30.0, DetectorResult.not_applicable("x", "1", "no speech"))]
    r = merge_results(parts)
    assert r.status == "ok" and r.score == 0.9 and r.reason is None
    assert [(f.location.start, f.location.end) for f in r.findings] == [(1.0, 2.0), (13.0, 14.0)]
    assert r.extras["own"] == 0.9 and r.extras["highest_segment"] == [10.0, 20.0]
    assert [s["status"] for s in r.extras["segments"]] == ["ok", "ok", "not_applicable"]
    assert r.extras["segments"][2]["reason"] == "no speech"


def test_a_failed_segment_is_named_even_when_others_were_judged():
    parts = [(0.0, 600.0, _found("x", 0.1, 1.0, 2.0)),
             (600.0, 1200.0, DetectorResult.error("x", "1", "detector failed: boom"))]
    r = merge_results(parts)
    assert r.status == "ok" and r.score == 0.1
    assert r.reason == "segment 10:00-20:00 failed: detector failed: boom"


def test_no_judged_segment_gives_not_applicable_or_error():
    na = merge_results([(0.0, 5.0, DetectorResult.not_applicable("x", "1", "no speech")),
                        (5.0, 9.0, DetectorResult.not_applicable("x", "1", "no speech"))])
    assert (na.status, na.reason) == ("not_applicable", "no speech")
    mixed = merge_results([(0.0, 5.0, DetectorResult.not_applicable("x", "1", "no speech")),
                           (5.0, 9.0, DetectorResult.error("x", "1", "boom"))])
    assert mixed.status == "error" and "0:05-0:09: boom" in mixed.reason


def test_segment_is_a_view_and_file_detectors_run_once_on_the_whole_file():
    samples = np.zeros((16000 * 10, 1), np.float32)
    media = AudioMedia(path="/x.wav", format="WAV", samples=samples, sample_rate=16000,
                       notes=["a note"])
    piece = segment_media(media, 2.0, 5.0)
    assert piece.duration == pytest.approx(3.0) and piece.notes == []
    assert np.shares_memory(piece.samples, samples)  # nothing copied
    seen = []

    def run_one(spec, m):
        seen.append((spec.name, round(m.duration, 3)))
        return DetectorResult(name=spec.name, version="1", status="ok", score=m.duration / 10)

    specs = [SimpleNamespace(name="metadata", modalities=("image", "video", "audio")),
             SimpleNamespace(name="pops", modalities=("audio", "video"))]
    out = run_segmented(specs, media, [(0.0, 5.0), (5.0, 10.0)], run_one)
    assert [r.name for r in out] == ["metadata", "pops"]
    assert seen.count(("metadata", 10.0)) == 1 and seen.count(("pops", 5.0)) == 2
    assert "segments" in out[1].extras and "segments" not in out[0].extras


def test_only_audio_files_longer_than_the_budget_are_segmented(monkeypatch):
    from detectors.audio import _common as C

    short = SimpleNamespace(kind="audio", duration=30.0)
    video = SimpleNamespace(kind="video", duration=4000.0)
    assert audio_segments(short) is None and audio_segments(video) is None
    monkeypatch.setattr(C, "ANALYSIS_BUDGET_S", 10.0)
    assert audio_segments(short) == segment_bounds(30.0, 10.0) and len(audio_segments(short)) == 4


def test_whole_locations_are_not_shifted():
    f = Finding(artifact="software_metadata", location=Whole(), strength=0.5,
                measurement=Measurement("tag", "x"), detector="x")
    r = merge_results([(0.0, 5.0, DetectorResult(name="x", version="1", status="ok", score=0.5,
                                                 findings=[f])),
                       (5.0, 9.0, DetectorResult(name="x", version="1", status="ok", score=0.6,
                                                 findings=[f]))])
    assert all(isinstance(g.location, Whole) for g in r.findings)


def test_clock():
    from triage_app.segments import clock

    assert clock(3600) == "1:00:00" and clock(599.6) == "10:00" and clock(65) == "1:05"


def test_describe_names_the_segment_that_gave_the_score():
    from triage_app.segments import describe

    parts = [(0.0, 600.0, _found("x", 0.1, 1.0, 2.0)), (590.0, 1200.0, _found("x", 0.8, 3.0, 4.0)),
             (1190.0, 1800.0, DetectorResult.not_applicable("x", "1", "no speech"))]
    text = describe(merge_results(parts).extras)
    assert text == "highest in 9:50-20:00, segment 2 of 3 (scores 0.10, 0.80, n/a)"
    assert describe({}) is None and describe(None) is None


def test_mean_pooling_averages_the_segments_log_odds():
    """A voice detector's false alarm in one segment of many used to become the file's score;
    with mean pooling the file scores what its segments say together."""
    parts = [(0.0, 600.0, _found("x", 0.9, 1.0, 2.0)), (590.0, 1200.0, _found("x", 0.1, 3.0, 4.0)),
             (1190.0, 1800.0, _found("x", 0.5, 5.0, 6.0)),
             (1790.0, 2400.0, DetectorResult.not_applicable("x", "1", "no speech"))]
    r = merge_results(parts, "mean")
    assert r.status == "ok" and r.score == pytest.approx(0.5)  # logit 0.9 and 0.1 cancel
    assert r.extras["segment_pooling"] == "mean" and r.extras["own"] == 0.9
    assert r.extras["highest_segment"] == [0.0, 600.0]
    assert len(r.findings) == 3  # every segment's findings are kept, wherever the mean lies
    assert merge_results(parts[1:3], "mean").score == pytest.approx(0.25)
    assert merge_results(parts, "max").score == 0.9
    with pytest.raises(ValueError, match="unknown segment pooling"):
        merge_results(parts, "median")


def test_describe_says_when_the_score_is_a_mean():
    from triage_app.segments import describe

    parts = [(0.0, 600.0, _found("x", 0.1, 1.0, 2.0)), (590.0, 1200.0, _found("x", 0.8, 3.0, 4.0))]
    assert describe(merge_results(parts, "mean").extras) == (
        "mean log-odds of 2 segments; highest in 9:50-20:00, segment 2 of 2 (scores 0.10, 0.80)")


def test_run_segmented_pools_each_detector_as_it_declares():
    media = AudioMedia(path="/x.wav", format="WAV", samples=np.zeros((16000 * 10, 1), np.float32),
                       sample_rate=16000)
    scores = iter([0.9, 0.9, 0.1, 0.1])

    def run_one(spec, m):
        return DetectorResult(name=spec.name, version="1", status="ok", score=next(scores))

    specs = [SimpleNamespace(name="voice", modalities=("audio",), segment_pooling="mean"),
             SimpleNamespace(name="event", modalities=("audio",))]  # no declaration: max
    voice, event = run_segmented(specs, media, [(0.0, 5.0), (5.0, 10.0)], run_one)
    assert voice.score == pytest.approx(0.5) and event.score == 0.9


def test_the_voice_detectors_pool_by_mean_and_the_event_detectors_by_max():
    from detectors.registry import detectors_for

    pooling = {s.name: s.segment_pooling for s in detectors_for("audio")}
    assert {pooling[n] for n in ("spoof_lfcc", "vocoder_band_limit", "unnatural_prosody")} == \
        {"mean"}
    assert {pooling[n] for n in ("digital_silence", "audio_splice", "clipping", "pops")} == {"max"}
