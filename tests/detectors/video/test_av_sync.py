"""Mouth-envelope coupling: in sync vs audio 0.4 s late; no audio; cross-correlation."""

from __future__ import annotations

import numpy as np
import pytest

from detectors.video.av_sync import video_av_sync, xcorr


def test_xcorr_known_lag():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(300)
    a = np.roll(v, 5)              # a[t + 5] = v[t]: audio 5 frames later
    lags, cs = xcorr(v, a, np.ones(300, bool), 10)
    assert lags[np.nanargmax(cs)] == 5
    assert np.nanmax(cs) > 0.95


def test_no_audio_no_face_not_applicable(no_face):
    r = video_av_sync(no_face)
    assert r.status == "not_applicable" and r.reason == "no audio track"


@pytest.mark.corpus
def test_no_audio_track_reason(plain_face):
    r = video_av_sync(plain_face)
    assert r.status == "not_applicable" and r.reason == "no audio track"


@pytest.mark.corpus
@pytest.mark.parametrize("shift,lag_ok,high", [(0.0, 0.0, False), (0.4, 0.4, True)])
def test_coupled_vs_shifted(face_photo, video_dir, shift, lag_ok, high):
    from _video_synth import N_FRAMES, _open, animate, speech_audio, syllable_envelope

    env = syllable_envelope(N_FRAMES)
    m = _open(video_dir / f"talk_{shift}.mp4", animate(face_photo, N_FRAMES, mouth_env=env),
              speech_audio(env, shift_s=shift))
    r = video_av_sync(m)
    assert r.status == "ok", r.reason
    assert r.extras["lag_s"] == pytest.approx(lag_ok, abs=0.081)
    assert r.extras["coupling_z"] > 4
    if high:
        assert r.score > 0.6
        f = [f for f in r.findings if f.artifact == "av_desynchronization"]
        assert f and f[0].measurement.value == pytest.approx(0.4, abs=0.081)
        assert f[0].location.box is not None
    else:
        # in sync is weak evidence of authenticity (a face swap keeps the original mouth)
        assert r.score < 0.35 and not r.findings
    assert r.extras["budget"]["speech_frames"] > 50


@pytest.mark.corpus
def test_drifting_lag(face_photo, video_dir):
    """Audio that slides from in sync to 0.45 s late over 12 s: a drift of 0.0375 s/s."""
    from _video_synth import _open, animate, speech_audio, syllable_envelope

    n = 300
    env = syllable_envelope(n, seed=4)
    m = _open(video_dir / "talk_drift.mp4", animate(face_photo, n, mouth_env=env),
              speech_audio(env, drift=0.0375))
    r = video_av_sync(m)
    assert r.status == "ok", r.reason
    assert r.extras["drift_s_per_s"] == pytest.approx(0.0375, abs=0.012)
    assert r.score > 0.6
    assert any(f.measurement.name == "drift of the audio lag" for f in r.findings)


@pytest.mark.corpus
def test_a_track_start_offset_is_lined_up(face_photo, video_dir):
    """The soundtrack 0.4 s late in its samples, but stored 0.4 s early on the file's clock
    (its first sample plays 0.4 s before the first frame): in a player the two are in sync,
    and the check must say so, not measure a 0.4 s lag."""
    import dataclasses

    from _video_synth import N_FRAMES, _open, animate, speech_audio, syllable_envelope

    env = syllable_envelope(N_FRAMES)
    m = _open(video_dir / "talk_offset.mp4", animate(face_photo, N_FRAMES, mouth_env=env),
              speech_audio(env, shift_s=0.4))
    r = video_av_sync(dataclasses.replace(m, audio_offset=-0.4))
    assert r.status == "ok", r.reason
    assert r.extras["lag_s"] == pytest.approx(0.0, abs=0.081)
