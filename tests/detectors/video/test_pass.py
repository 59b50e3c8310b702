"""The shared decoding pass: one decode per clip, series, shot changes, face track, budget."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.video import _pass as P


def test_segments_known_answer():
    m = np.array([0, 1, 1, 0, 0, 1, 0, 1, 1, 1], bool)
    assert P.segments(m) == [(1, 2), (5, 5), (7, 9)]
    assert P.segments(m, gap=1) == [(1, 2), (5, 9)]
    assert P.segments(m, min_len=2) == [(1, 2), (7, 9)]


def test_rms_from_bins_known_answer():
    energy = np.concatenate([np.zeros(100), 0.25 * np.ones(100)])   # 10-ms bins: 0 then 0.5 RMS
    r = P.rms_from_bins(energy, np.array([0.5, 1.5, 5.0]), 0.2)
    assert r[0] == pytest.approx(0.0) and r[1] == pytest.approx(0.5) and r[2] == 0.0


def test_shot_change_and_series(video_dir):
    from media_factory import make_video

    from triage_app.media import open_media

    rng = np.random.default_rng(0)
    a = (rng.random((120, 160, 3)) * 80).astype(np.uint8)           # dark scene
    b = (120 + rng.random((120, 160, 3)) * 120).astype(np.uint8)    # bright scene
    frames = [np.roll(a, i, axis=1) for i in range(40)] + [np.roll(b, i, axis=1) for i in range(40)]
    m = open_media(make_video(video_dir / "cut.mp4", frames, 25))
    vp = P.video_pass(m)
    assert vp.n == 80
    assert np.all(np.diff(vp.time) > 0)
    assert vp.shot_changes == [40]
    assert vp.luma[45] > vp.luma[35] + 50
    # camera motion: the scene moves 1 px/frame to the right
    assert np.nanmedian(vp.cam_shift[1:40, 0]) == pytest.approx(1.0, abs=0.3)
    assert vp.budget["frames_decoded"] == 80
    assert vp.budget["face_detect_reasons"]["shot_change"] == 1
    assert not vp.has_face.any()


def test_one_decode_for_all_detectors(no_face, monkeypatch):
    from detectors.video import av_sync, blink_head, face_frames, temporal

    calls = []
    real = P._compute
    monkeypatch.setattr(P, "_compute", lambda media: calls.append(1) or real(media))
    if hasattr(no_face, P._CACHE_ATTR):
        delattr(no_face, P._CACHE_ATTR)
    for fn in (face_frames.video_face_frames, temporal.video_temporal,
               blink_head.video_blink_head, av_sync.video_av_sync):
        r = fn(no_face)
        assert r.status == "not_applicable"
        assert "budget" in r.extras
    assert len(calls) == 1


@pytest.mark.corpus
def test_face_track(plain_face):
    from _video_synth import FACE_BOX

    vp = P.video_pass(plain_face)
    assert vp.has_face.mean() > 0.95
    # the photo's Haar face box, moved by at most +-3 px and 1.5 % scale
    box = np.nanmedian(vp.face_box_interp, axis=0)
    from triage_app.model import Box

    assert Box(*map(int, box)).iou(Box(*FACE_BOX)) > 0.6
    # budgeted: far fewer detector runs than frames, and every frame tracked
    b = vp.budget
    assert b["face_detect_full"] + b["face_detect_roi"] < vp.n / 5
    assert b["frames_tracked"] == vp.n
    assert 3 <= b["deep_frames"] <= P.DEEP_MAX
    assert np.isfinite(vp.stats["eye_open"]).mean() > 0.95


@pytest.mark.corpus
def test_portrait_clip_is_analysed_upright(face_photo, video_dir):
    """A phone's portrait clip (stored sideways, display matrix -90 degrees): the face is
    found and its box is in the upright picture's coordinates, where the analyst sees it."""
    from _video_synth import FACE_BOX, _open, animate

    from triage_app.model import Box

    stored = [np.ascontiguousarray(np.rot90(f, 1)) for f in animate(face_photo, 75)]
    m = _open(video_dir / "portrait.mp4", stored, display_rotation=-90)
    assert (m.width, m.height) == (face_photo.shape[1], face_photo.shape[0])
    vp = P.video_pass(m)
    assert vp.has_face.mean() > 0.9
    box = np.nanmedian(vp.face_box_interp, axis=0)
    assert Box(*map(int, box)).iou(Box(*FACE_BOX)) > 0.6
    crop = vp.deep[0]
    assert crop.gray.shape[0] > crop.gray.shape[1] * 0.8   # cut from the upright picture


def test_zero_timestamps_still_give_a_time_axis(video_dir):
    """Every packet stamped 0: frame times are rebuilt from the frame rate and a note says so,
    instead of every frame landing at 0 s (which made every face 'tracked for 0.0 s')."""
    from media_factory import make_video, moving_square, with_zero_timestamps

    from triage_app.media import open_media

    src = make_video(video_dir / "zsrc.mp4", moving_square(30, 48, 64), fps=10)
    zero = with_zero_timestamps(src, video_dir / "zero.mkv")
    vp = P.video_pass(open_media(zero))
    assert vp.n == 30 and np.allclose(np.diff(vp.time), 0.1)
    assert vp.duration == pytest.approx(3.0)
    assert any("timestamp" in n and "reconstructed" in n for n in vp.notes)


def test_failure_cached_not_redecoded(no_face, monkeypatch):
    """A pass that fails is remembered: the next detector gets the same error, no new decode."""
    import copy

    from triage_app.media import CorruptFileError

    m = copy.copy(no_face)
    if hasattr(m, P._CACHE_ATTR):
        delattr(m, P._CACHE_ATTR)
    calls = []

    def boom(media):
        calls.append(1)
        raise CorruptFileError("broken stream")

    monkeypatch.setattr(P, "_compute", boom)
    for _ in range(3):
        with pytest.raises(CorruptFileError):
            P.video_pass(m)
    assert len(calls) == 1
