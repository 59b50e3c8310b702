"""Local flicker anywhere in the frame (no face needed): known-answer clips and the map."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.video import region_flicker as R
from triage_app.model import Box

FPS = 25
N = 75          # 3 s
PATCH = Box(96, 48, 64, 64)   # x, y, w, h in the 320x192 frame


def _scene(seed: int = 0, h: int = 192, w: int = 448) -> np.ndarray:
    """A textured, camera-like scene wider than the frame, for a slow pan."""
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    base = gaussian_filter(rng.normal(0, 1, (h, w)), 3) * 400 + 110
    base += np.linspace(0, 30, w)[None, :]
    return np.clip(np.stack([base, base * 0.9 + 10, base * 0.8 + 20], axis=2), 0, 255)


def _clip(tmp_path, name, *, local=0.0, global_=0.0, mover=False):
    from media_factory import make_video

    from triage_app.media import open_media

    scene = _scene()
    frames = []
    for i in range(N):
        f = scene[:, i:i + 320].copy()       # 1 px per frame pan
        sign = 1 if i % 2 else -1
        if local and FPS <= i < 2 * FPS:      # the patch flickers from 1 s to 2 s
            f[PATCH.y:PATCH.y + PATCH.h, PATCH.x:PATCH.x + PATCH.w] += sign * local
        f += sign * global_                   # the whole picture (a mains-lit room)
        if mover:                             # a textured object crossing fast
            x0 = 10 + 8 * i
            if x0 + 40 < 320:
                f[100:140, x0:x0 + 40] = scene[0:40, 0:40] * 0.5 + 100
        frames.append(np.clip(np.rint(f), 0, 255).astype(np.uint8))
    return open_media(make_video(tmp_path / name, frames, FPS, crf=18))


def test_a_flickering_patch_is_found_where_and_when_it_flickers(tmp_path):
    r = R.video_region_flicker(_clip(tmp_path, "patch.mp4", local=20.0))
    assert r.status == "ok" and r.score > 0.9
    f = max(r.findings, key=lambda f: f.strength)
    assert f.artifact == "flicker"
    assert abs(f.location.start - 1.0) <= 0.15 and abs(f.location.end - 2.0) <= 0.15
    assert f.location.box.iou(PATCH) > 0.5
    assert f.measurement.value > 10 * R.AMP / 2


def test_steady_clip_global_flicker_and_a_moving_object_are_not_flicker(tmp_path):
    for name, kw in (("steady.mp4", {}), ("mains.mp4", {"global_": 15.0}),
                     ("mover.mp4", {"mover": True})):
        r = R.video_region_flicker(_clip(tmp_path, name, **kw))
        assert r.status == "ok", name
        assert not r.findings, (name, [f.location for f in r.findings])
        assert r.score < 0.35, name


def test_flicker_map_wants_alternation_and_a_group_of_blocks():
    n, by, bx = 40, 6, 8
    rng = np.random.default_rng(0)
    B = 100 + rng.normal(0, 0.1, (n, by, bx))
    C = np.full((n, by, bx), 0.95)
    alt = np.where(np.arange(n) % 2, 6.0, -6.0)
    B[10:30, 2, 3:5] += alt[10:30, None]          # two neighbouring blocks alternate
    B[10:30, 4, 7] += alt[10:30]                   # one lone block alternates
    B[20:, 0, 0] += 30.0                           # a step (a cut, a light switched on)
    flick, h = R.flicker_map(B, C, fps=25)
    assert flick[12:28, 2, 3:5].all()
    assert not flick[:, 4, 7].any()                # alone: not a region
    assert not flick[:, 0, 0].any()
    assert not flick[:8].any() and not flick[33:].any()
    # the same alternation where the pattern changes (motion): not flicker
    C2 = C.copy()
    C2[:, 2, 3:5] = 0.3
    assert not R.flicker_map(B, C2, fps=25)[0].any()
    # too short a run is not measured
    assert not R.flicker_map(B[:5], C[:5], fps=25)[0].any()


def test_too_short_or_too_small_a_clip_is_not_applicable(tmp_path):
    from media_factory import make_video, moving_square

    from triage_app.media import open_media

    m = open_media(make_video(tmp_path / "short.mp4", moving_square(4, 48, 64), fps=25))
    r = R.video_region_flicker(m)
    assert r.status == "not_applicable" and "too few frames (4)" in r.reason
    tiny = open_media(make_video(tmp_path / "tiny.mp4",
                                 [np.full((8, 8, 3), 8 * i, np.uint8) for i in range(30)], fps=25))
    r = R.video_region_flicker(tiny)
    assert r.status == "not_applicable" and "too small" in r.reason


@pytest.mark.corpus
def test_authentic_corpus_clips_do_not_flicker(corpus_dir):
    from triage_app.media import open_media

    clips = [corpus_dir / p for p in ("pkg/debian_opencv-doc/vtest.avi",
                                      "ffpp_c23/authentic/youtube_004.mp4")]
    clips = [c for c in clips if c.is_file()]
    if not clips:
        pytest.skip("corpus clips not present")
    for c in clips:
        r = R.video_region_flicker(open_media(c))
        assert r.status == "ok" and not r.findings, c.name


def test_block_stats_means_and_pattern_correlation():
    from detectors.video import _pass as P

    rng = np.random.default_rng(1)
    thumb = rng.uniform(0, 255, (16, 24)).astype(np.float32)
    thumb[:8, :8] = 77.0                                  # a flat block
    means, code = P.block_stats(thumb, None)
    assert means.shape == code.shape == (2, 3) and means.dtype == np.float16
    assert abs(float(means[0, 0]) - 77.0) < 0.1
    assert np.isnan(P.ncc_of(code)).all()                # no previous frame
    brighter = thumb + 20                                 # flicker: same pattern
    _, code = P.block_stats(brighter, thumb)
    ncc = P.ncc_of(code)
    assert np.isnan(ncc[0, 0])                            # flat: nothing to correlate
    assert np.nanmin(ncc) >= 0.99
    moved = np.roll(thumb, 3, axis=1)                     # motion: the pattern changes
    assert np.nanmax(P.ncc_of(P.block_stats(moved, thumb)[1])[:, 1:]) < 0.5
