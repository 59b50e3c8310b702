"""Tests for training/eval_generated_video.py (self-blended face videos for the video fusion)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "training"))
import eval_generated_video as G  # noqa: E402

BOX = (40, 30, 60, 70)   # x, y, w, h


def _frame(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:128, 0:160]
    base = np.stack([xx, yy, (xx + yy) // 2], axis=-1).astype(float)
    return np.clip(base + rng.normal(0, 6, base.shape), 0, 255).astype(np.uint8)


def test_self_blend_changes_the_face_and_leaves_the_rest():
    f = _frame()
    p = G.draw_params(np.random.default_rng(1))
    out = G.self_blend(f, BOX, p)
    x, y, w, h = BOX
    diff = np.abs(out.astype(int) - f.astype(int)).mean(axis=-1)
    inside = diff[y + h // 3: y + 2 * h // 3, x + w // 3: x + 2 * w // 3].mean()
    outside = np.concatenate([diff[:, :x - 10].ravel(), diff[:, x + w + 10:].ravel()]).mean()
    assert inside > 3.0 and outside < 0.5


def test_flicker_redraws_the_blend_every_frame_steady_does_not():
    f = _frame()
    p = G.draw_params(np.random.default_rng(2))
    steady = [G.self_blend(f, BOX, p) for _ in range(2)]
    rng = np.random.default_rng(3)
    flick = [G.self_blend(f, BOX, p, rng) for _ in range(2)]
    assert np.array_equal(steady[0], steady[1])
    assert np.abs(flick[0].astype(int) - flick[1].astype(int)).mean() > 0.1


def test_pieces_are_encoded_only_where_the_face_is_tracked(tmp_path):
    import av

    src = tmp_path / "src.mp4"
    with av.open(str(src), "w") as out:
        st = out.add_stream("libx264", rate=12)
        st.width, st.height, st.pix_fmt = 160, 128, "yuv420p"
        for i in range(36):   # 3 s at 12 fps
            for pkt in st.encode(av.VideoFrame.from_ndarray(_frame(i), format="rgb24")):
                out.mux(pkt)
        for pkt in st.encode(None):
            out.mux(pkt)
    boxes = np.tile(np.array(BOX, float), (36, 1))
    boxes[30:] = np.nan                          # the face is lost in the last piece
    pieces = G.write_pieces(src, boxes, 12.0, 1.0, "self_blend", tmp_path, seed=0)
    assert [k for k, _ in pieces] == [0, 1]
    with av.open(str(pieces[0][1])) as c:
        frames = [fr.to_ndarray(format="rgb24") for fr in c.decode(video=0)]
    assert len(frames) == 12 and frames[0].shape == (128, 160, 3)
