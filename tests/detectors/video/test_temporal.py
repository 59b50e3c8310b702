"""Face-only flicker vs global exposure change; jitter/shimmer series."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.video.temporal import THRESHOLDS, _highpass, temporal_series, video_temporal


def test_highpass_removes_trends_keeps_spikes():
    x = np.linspace(0, 1, 50)
    x[25] += 0.2
    h = _highpass(x)
    assert abs(h[25] - 0.2) < 0.03
    assert np.nanmax(np.abs(np.delete(h, 25))) < 0.03


def test_no_face_not_applicable(no_face):
    r = video_temporal(no_face)
    assert r.status == "not_applicable" and "face" in r.reason


@pytest.fixture(scope="module")
def flicker_pair(face_photo, video_dir):
    from _video_synth import N_FRAMES, _open, animate

    rng = np.random.default_rng(3)
    gain = 1 + 0.07 * rng.choice([-1.0, 1.0], N_FRAMES)   # +-7 % per frame
    face_only = _open(video_dir / "flicker_face.mp4", animate(face_photo, N_FRAMES, flicker=gain))
    global_ = _open(video_dir / "flicker_global.mp4",
                    animate(face_photo, N_FRAMES, global_gain=gain))
    return face_only, global_


@pytest.mark.corpus
def test_face_only_flicker_flagged(flicker_pair):
    face_only, _ = flicker_pair
    r = video_temporal(face_only)
    assert r.status == "ok"
    # a random +-7 % sign per frame: the 5-frame running median absorbs about half of the
    # steps, and the soft face mask covers ~70 % of the face box, so about a third exceed 3 %
    assert r.extras["share_over_threshold"]["luma_flicker"] > 0.25
    assert r.score > 0.5
    fl = [f for f in r.findings if f.artifact == "flicker"]
    assert fl and fl[0].location.box is not None
    assert fl[0].measurement.reference == THRESHOLDS["luma_flicker"]


@pytest.mark.corpus
def test_global_exposure_change_not_flagged(flicker_pair, plain_face):
    _, global_ = flicker_pair
    r = video_temporal(global_)
    assert r.status == "ok"
    assert r.extras["share_over_threshold"]["luma_flicker"] < 0.05
    assert not any(f.artifact == "flicker" for f in r.findings)
    assert r.score < 0.5
    steady = video_temporal(plain_face)
    assert steady.score < 0.5 and not steady.findings


@pytest.mark.corpus
def test_series_shapes(plain_face):
    from detectors.video._pass import video_pass

    vp = video_pass(plain_face)
    s = temporal_series(vp)
    assert set(s) == set(THRESHOLDS)
    assert all(len(v) == vp.n for v in s.values())
    # a steady synthetic face: median face acceleration well under the threshold
    assert np.nanmedian(s["jitter"]) < THRESHOLDS["jitter"] / 3
