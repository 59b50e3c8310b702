"""The analysis pipeline: detectors side by side give the same analysis as one by one."""

from __future__ import annotations

import json

import numpy as np

from media_factory import make_jpeg, make_video, make_wav, photo
from triage_app.media import open_media
from triage_app.pipeline import analyze
from triage_app.settings import Settings


def _without_runtimes(obj):
    if isinstance(obj, dict):
        return {k: _without_runtimes(v) for k, v in obj.items() if k != "runtime"}
    if isinstance(obj, list):
        return [_without_runtimes(v) for v in obj]
    return obj


def _analysis_json(path, threads: int) -> str:
    s = Settings()
    s.detector_threads = threads
    a = analyze(open_media(path), settings=s)
    return json.dumps(_without_runtimes(a.to_dict()), sort_keys=True, default=str), a


def test_threaded_detectors_give_the_same_analysis(tmp_path):
    rgb = photo(240, 320, seed=3)
    rgb[40:90, 60:120] = rgb[140:190, 180:240]  # a copy-move, so that findings exist
    p = make_jpeg(tmp_path / "a.jpg", rgb, quality=85, exif={"Software": "GIMP 2.10"})
    one, a1 = _analysis_json(p, 1)
    four, a4 = _analysis_json(p, 4)
    assert one == four
    assert [d.name for d in a1.detectors] == [d.name for d in a4.detectors]
    assert a1.fused_map is not None and np.array_equal(a1.fused_map, a4.fused_map)


def test_audio_detectors_run_in_order_with_threads_asked(tmp_path):
    t = np.arange(16000) / 16000
    p = make_wav(tmp_path / "a.wav", 0.3 * np.sin(2 * np.pi * 220 * t), 16000)
    one, _ = _analysis_json(p, 1)
    two, _ = _analysis_json(p, 2)
    assert one == two


def test_scan_worker_runs_one_detector_at_a_time(monkeypatch):
    from triage_app.threads import detector_threads

    assert detector_threads(3) == 3
    monkeypatch.setenv("TRIAGE_SCAN_WORKER", "1")
    assert detector_threads(3) == 1 and detector_threads(0) == 1


def test_observations_are_kept_only_when_their_probe_confirms_them(monkeypatch):
    """A recording condition said as an observation is dropped when the validator does not
    ground it (the pops detector over-reports in speech); the verdict's reasons are kept
    whatever their status."""
    from explainers import rationale
    from triage_app.model import Claim, Verdict

    said = [Claim(text="Likely Manipulated.", artifact=None),
            Claim(text="Cloned region at (1, 2, 3, 4): ...", artifact="cloned_region"),
            Claim(text=rationale.OBSERVATION_PREFIX + "pops from 0:01.0 to 0:01.1: ...",
                  artifact="pops"),
            Claim(text=rationale.OBSERVATION_PREFIX + "clipping from 0:02.0 to 0:03.0: ...",
                  artifact="clipping")]
    status = {None: "grounded", "cloned_region": "hallucinated", "pops": "hallucinated",
              "clipping": "grounded"}
    out = _explain_with(monkeypatch, said, status, Verdict("likely_manipulated", 0.9), "audio")
    assert [c.artifact for c in out] == [None, "cloned_region", "clipping"]


def _explain_with(monkeypatch, said, status, verdict, kind):
    """``pipeline.explain_and_validate`` with the writer returning ``said`` and the validator
    giving each claim ``status[claim.artifact]``."""
    from explainers import rationale, validator
    from triage_app import pipeline
    from triage_app.model import Analysis

    def fake_validate(claims, media, verdict=None):
        for c in claims:
            c.status = status[c.artifact]
        return claims

    monkeypatch.setattr(rationale, "write_rationale", lambda a, m=None: list(said))
    monkeypatch.setattr(validator, "validate", fake_validate)
    return pipeline.explain_and_validate(Analysis(media={"kind": kind}, verdict=verdict,
                                                  detectors=[]), media=None)


def test_outweighed_findings_refuted_by_their_probe_are_not_said(monkeypatch):
    """Under a 'Likely Authentic.' verdict, a finding said as outweighed that its probe refutes
    is a detector false alarm, not an explanation: dropped (unverifiable ones are kept, shown
    as such)."""
    from explainers import rationale
    from triage_app.model import Claim, Verdict

    said = [Claim(text="Likely Authentic.", artifact=None),
            Claim(text=rationale.OUTWEIGHED_PREFIX + "Noise in the center: ...", artifact="noise"),
            Claim(text=rationale.OUTWEIGHED_PREFIX + "Double JPEG Compression: ...",
                  artifact="double_compression"),
            Claim(text=rationale.OUTWEIGHED_PREFIX + "Banding in the sky: ...", artifact="banding")]
    status = {None: "grounded", "noise": "hallucinated", "double_compression": "grounded",
              "banding": "unverifiable"}
    out = _explain_with(monkeypatch, said, status, Verdict("likely_authentic", 0.1), "image")
    assert [c.artifact for c in out] == [None, "double_compression", "banding"]


def test_an_image_too_small_to_judge_is_not_applicable_not_an_error(tmp_path):
    # A 1x1 PNG made five detectors fail with a ValueError traceback ("detector failed: ...")
    # instead of saying they cannot judge it.
    from PIL import Image

    p = tmp_path / "tiny.png"
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(p)
    a = analyze(open_media(p), settings=Settings())
    assert a.detectors and all(d.status == "not_applicable" for d in a.detectors)
    assert any("too small to judge (1x1 px" in d.reason for d in a.detectors)
    assert a.verdict.label == "inconclusive"


def test_a_detector_raising_not_applicable_is_recorded_with_its_reason():
    from types import SimpleNamespace

    from detectors.registry import NotApplicable
    from triage_app.pipeline import run_detector

    def judge(media):
        raise NotApplicable("no speech in this file")

    spec = SimpleNamespace(name="x", version="1", function=judge, params={})
    r = run_detector(spec, media=None)
    assert (r.status, r.reason, r.score) == ("not_applicable", "no speech in this file", None)


def test_a_recording_longer_than_the_audio_budget_is_analysed_in_segments(tmp_path, monkeypatch):
    """An hour-long recording was judged on its first 10 minutes; now every segment is
    examined, and a trace in a later segment is found at its place on the recording's clock."""
    from detectors.audio import _common as C

    rng = np.random.default_rng(0)
    t = np.arange(16000 * 12) / 16000
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) \
        + rng.normal(0, 0.003, t.size)
    x[int(9.0 * 16000):int(9.5 * 16000)] = 0.0  # digital silence in the third segment
    p = make_wav(tmp_path / "long.wav", x, 16000)
    monkeypatch.setattr(C, "ANALYSIS_BUDGET_S", 5.0)
    a = analyze(open_media(p), settings=Settings())
    assert a.media["audio_segments"] == [[0.0, 4.833], [3.583, 8.417], [7.167, 12.0]]
    assert "audio_examined_s" not in a.media  # nothing left unexamined
    assert any("analysed in 3 overlapping segments of 0:05" in n for n in a.media["notes"])
    assert a.verdict.method.endswith("3 segments: an event detector's score is its highest "
                                     "segment's, a voice or channel detector's the mean of its "
                                     "segments' log-odds")
    silence = next(r for r in a.detectors if r.name == "digital_silence")
    scores = [s["score"] for s in silence.extras["segments"]]
    assert scores[0] == scores[1] == 0.0 < scores[2] == round(silence.score, 4)
    spans = [(f.location.start, f.location.end) for f in silence.findings]
    assert spans and all(8.9 <= s0 <= 9.1 and 9.4 <= s1 <= 9.6 for s0, s1 in spans)
    assert silence.extras["highest_segment"] == [7.167, 12.0]
    # the file-level metadata check ran once, on the whole file
    meta = next(r for r in a.detectors if r.name == "metadata")
    assert "segments" not in meta.extras
    # every finding lies on the recording's clock, inside the recording
    assert all(0.0 <= f.location.start <= f.location.end <= 12.001 for f in a.findings), \
        [(f.detector, f.location) for f in a.findings]


def test_a_soundtrack_longer_than_the_budget_is_analysed_in_segments(tmp_path, monkeypatch):
    """A long video's soundtrack was examined for its first 10 minutes only; now each segment
    is decoded on its own and analysed, and the video detectors still run once."""
    from detectors.audio import _common as C

    rng = np.random.default_rng(0)
    fs = 16000
    t = np.arange(fs * 12) / fs
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) \
        + rng.normal(0, 0.003, t.size)
    x[int(9.0 * fs):int(9.5 * fs)] = 0.0
    frames = [np.full((48, 64, 3), (i * 7) % 255, np.uint8) for i in range(120)]
    p = make_video(tmp_path / "long.mp4", frames, 10, audio=x, audio_sr=fs)
    monkeypatch.setattr(C, "VIDEO_AUDIO_BUDGET_S", 5.0)
    a = analyze(open_media(p), settings=Settings())
    assert len(a.media["audio_segments"]) == 3 and "audio_examined_s" not in a.media
    assert any("0:12 soundtrack was analysed in 3 overlapping segments" in n
               for n in a.media["notes"])
    by_name = {r.name: r for r in a.detectors}
    assert "segments" in by_name["digital_silence"].extras
    assert all("segments" not in by_name[n].extras for n in ("video_container", "metadata"))
    spans = [(f.location.start, f.location.end) for f in by_name["digital_silence"].findings]
    assert spans and all(8.9 <= s0 <= 9.1 and 9.4 <= s1 <= 9.6 for s0, s1 in spans)


def test_a_videos_map_is_its_findings_boxes_the_size_of_the_frame():
    import pytest

    from triage_app.model import Box, DetectorResult, Finding, FrameSpan, Measurement
    from triage_app.pipeline import box_map

    m = Measurement("flicker", 5.0)
    res = [DetectorResult("a", "1", "ok", score=0.9, findings=[
               Finding("flicker", FrameSpan(1.0, 2.0, box=Box(10, 10, 20, 10)), 0.8, m, "a"),
               Finding("flicker", FrameSpan(3.0, 4.0), 0.9, m, "a")]),     # no box: not on the map
           DetectorResult("b", "1", "ok", score=0.5, findings=[
               Finding("noise", FrameSpan(0.0, 1.0, box=Box(20, 12, 50, 50)), 0.3, m, "b")]),
           DetectorResult("c", "1", "not_applicable", reason="no face")]
    hm = box_map(res, (40, 60))
    assert hm.shape == (40, 60)
    assert hm[15, 15] == pytest.approx(0.8) and hm[15, 25] == pytest.approx(0.8)  # strongest wins
    assert hm[30, 40] == pytest.approx(0.3) and hm[0, 0] == 0.0
    assert box_map(res[2:], (40, 60)) is None
