"""Blink counting on injected eye closures; head-motion smoothness; applicability."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.video.blink_head import find_blinks, video_blink_head


def test_find_blinks_known_answer():
    rel = np.ones(100)
    rel[20:24] = 0.6      # 160 ms at 25 fps: a blink
    rel[60:80] = 0.6      # 800 ms: too long for a blink
    rel[90] = 0.95        # too shallow
    blinks, odd = find_blinks(rel, 25.0)
    assert [(a, b) for a, b, _ in blinks] == [(20, 23)]
    assert [(a, b) for a, b, _ in odd] == [(60, 79)]


def test_no_face_not_applicable(no_face):
    r = video_blink_head(no_face)
    assert r.status == "not_applicable"
    assert "face" in r.reason


@pytest.mark.corpus
def test_injected_blinks_counted(face_photo, plain_face, video_dir):
    from _video_synth import N_FRAMES, _open, animate

    starts = (30, 80, 130, 175)
    closed = {s + k for s in starts for k in range(4)}          # 4 frames = 160 ms each
    blinking = _open(video_dir / "blinks.mp4", animate(face_photo, N_FRAMES, blink_frames=closed))
    rb = video_blink_head(blinking)
    rn = video_blink_head(plain_face)
    assert rb.status == rn.status == "ok"
    assert rb.extras["blinks"] == 4
    times = rb.extras["blink_times"]
    assert all(any(abs(t - s / 25.0) < 0.15 for s in starts) for t in times)
    assert rn.extras["blinks"] == 0
    # 30 blinks/min is human; none in 8 s is (weakly) less so
    assert rn.score > rb.score
    assert rb.extras["probabilities"]["blink"] < 0.5 < rn.extras["probabilities"]["blink"]
    assert "budget" in rb.extras
