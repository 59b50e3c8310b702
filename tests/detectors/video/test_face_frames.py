"""Face-vs-surroundings image measurements (noise, blending band, sharpness, spectrum)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from detectors.video.face_frames import face_measurements, video_face_frames


def _crop(face_sigma: float, rng) -> tuple[np.ndarray, tuple[int, int, int, int]]:
    """A smooth 256x256 scene with noise 4 outside and ``face_sigma`` in the face ellipse."""
    yy, xx = np.mgrid[0:256, 0:256]
    g = 100 + 0.2 * xx + 0.1 * yy
    face = (64, 64, 128, 128)
    inside = ((xx - 128) / 64.0) ** 2 + ((yy - 128) / 64.0) ** 2 < 1
    noise = rng.normal(0, 1, g.shape) * np.where(inside, face_sigma, 4.0)
    return (g + noise).astype(np.float32), face


def test_noise_ratio_known_answer():
    rng = np.random.default_rng(0)
    same = face_measurements(*_crop(4.0, rng))
    assert abs(same["noise_log_ratio"]) < 0.1
    low = face_measurements(*_crop(1.0, rng))
    # log(1/4) = -1.386
    assert low["noise_log_ratio"] == pytest.approx(math.log(0.25), abs=0.2)
    assert all(k in low for k in ("ring_response", "sharpness_log_ratio", "spectral_peak_excess"))


def test_no_face_not_applicable(no_face):
    r = video_face_frames(no_face)
    assert r.status == "not_applicable"
    assert "face" in r.reason


@pytest.mark.corpus
def test_smoothed_pasted_face_scores_higher(plain_face, face_photo, video_dir):
    import cv2
    from _video_synth import FACE_BOX, N_FRAMES, _open, animate

    # a "swap": the face ellipse replaced by a denoised (blurred) copy after the noise is added
    frames = animate(face_photo, N_FRAMES)
    fx, fy, fw, fh = FACE_BOX
    yy, xx = np.mgrid[0:300, 0:256]
    m = ((((xx - (fx + fw / 2)) / (fw * 0.42)) ** 2 + ((yy - (fy + fh / 2)) / (fh * 0.5)) ** 2)
         < 1).astype(np.float32)
    m = cv2.GaussianBlur(m, (0, 0), 2)[..., None]
    swapped = [np.clip(f * (1 - m) + cv2.GaussianBlur(f, (0, 0), 1.6) * m, 0, 255).astype(np.uint8)
               for f in frames]
    fake = _open(video_dir / "smooth_face.mp4", swapped, crf=12)
    real = _open(video_dir / "plain_q.mp4", frames, crf=12)
    rr, rf = video_face_frames(real), video_face_frames(fake)
    assert rr.status == rf.status == "ok"
    # the face's noise floor drops against its surroundings (signed log ratio), by about
    # log(2 / 0.7): the added sigma-2 noise blurred by a sigma-1.6 Gaussian keeps ~1/3 of it
    drop = (rr.extras["measures_signed"]["noise_log_ratio"]
            - rf.extras["measures_signed"]["noise_log_ratio"])
    assert drop > 0.5
    assert rf.score > rr.score + 0.1
    assert "budget" in rf.extras and rf.extras["deep_frames"] >= 3
    assert all(isinstance(f.location.box.w, int) for f in rf.findings if f.location.box)


def test_only_a_sharpness_deficit_is_evidence():
    """Version 1.1: a face sharper than a defocused background is how cameras focus (news
    footage), not a trace; a face blurrier than its surroundings (an upscaled generated face)
    is. Version 1.0 took |log ratio| and scored both the same."""
    from detectors.video.face_frames import _as_evidence

    ratio = np.array([1.2, -1.2, 0.0])
    ev = _as_evidence("sharpness_log_ratio", ratio)
    assert ev[1] > ev[2] > ev[0]
    assert list(_as_evidence("noise_log_ratio", ratio)) == [1.2, 1.2, 0.0]   # either way
    assert list(_as_evidence("ring_response", ratio)) == list(ratio)
