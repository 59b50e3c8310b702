"""video_face_blend (detectors/learned/face_blend.py) on clips: applicability, and a face
blended into every frame against the same frames untouched."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from detectors.learned.face_blend import video_face_blend


def test_no_face_not_applicable(no_face):
    r = video_face_blend(no_face)
    assert r.status == "not_applicable"
    assert "face" in r.reason


@pytest.mark.corpus
def test_a_blended_face_scores_higher_than_the_same_clip_untouched(face_photo, video_dir):
    """Grace Hopper's face (kept out of training) blended in every frame with a recoloured,
    less detailed copy of itself through a feathered ellipse: training/eval_generated_video.py's
    blend, an implementation the model was not trained with (RGB gains, another mask)."""
    from _video_synth import FACE_BOX, N_FRAMES, _open, animate

    sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "training"))
    import eval_generated_video as G

    frames = animate(face_photo, N_FRAMES)
    p = {"gains": [1.08, 0.95, 0.92], "offsets": [6, -4, -6], "detail": 0.55, "scale": 1.02,
         "shift": [0.02, -0.01], "axes": (0.42, 0.52), "feather": 0.1, "ratio": 0.9}
    fake = _open(video_dir / "blend_face.mp4", [G.self_blend(f, FACE_BOX, p) for f in frames],
                 crf=18)
    real = _open(video_dir / "plain_q18.mp4", frames, crf=18)
    rr, rf = video_face_blend(real), video_face_blend(fake)
    assert rr.status == rf.status == "ok"
    assert rf.extras["mean_logit"] > rr.extras["mean_logit"] + 1.0
    assert rf.score > rr.score
    assert rr.extras["crops"] >= 3 and len(rr.params["weights_sha256"]) == 64
    for f in rf.findings:
        assert f.artifact == "blending_artifacts" and f.location.end > f.location.start
