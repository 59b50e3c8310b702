"""Container tags, encoder SEI, timing and GOP-periodicity traces."""

from __future__ import annotations

import numpy as np

from detectors.video.container import (
    GOP_Z,
    frame_rate_variability,
    gop_periodicity,
    video_container,
)
from triage_app.model import MetadataField


def _frames(n=60):
    rng = np.random.default_rng(1)
    base = (rng.random((96, 128, 3)) * 255).astype(np.uint8)
    return [np.roll(base, i, axis=1) for i in range(n)]


def test_generated_mp4_software_tags(tmp_path):
    from media_factory import make_video

    from triage_app.media import open_media

    m = open_media(make_video(tmp_path / "a.mp4", _frames(), 25))
    r = video_container(m)
    assert r.status == "ok"
    loc = {f.location.name: f.location.value for f in r.findings
           if isinstance(f.location, MetadataField)}
    assert loc["container:encoder"].startswith("Lavf")
    assert loc["video bitstream:encoder settings (SEI)"].startswith("x264 - core")
    # software muxing alone is weak evidence
    assert 0.5 <= r.score < 0.6
    assert r.extras["frame_timing"]["median_ms"] == 40.0


def test_face_tool_named_in_tags(tmp_path):
    from media_factory import make_video

    from triage_app.media import open_media

    m = open_media(make_video(tmp_path / "b.mp4", _frames(), 25,
                              metadata={"comment": "made with DeepFaceLab 2.0"}))
    r = video_container(m)
    hits = [f for f in r.findings if f.measurement.value == "deepfacelab"]
    assert hits and hits[0].location.name == "container:comment"
    assert r.score > 0.9


def test_gop_periodicity_known_answer():
    rng = np.random.default_rng(0)
    n = 600
    size = rng.normal(3000, 150, n)
    key = np.zeros(n, bool)
    key[::250] = True
    size[key] = 30000
    plain = gop_periodicity(size.astype(np.int64), key)
    assert plain["z"] < GOP_Z
    size[7::30] *= 1.6   # the first encoding's I-frames every 30 frames
    trace = gop_periodicity(size.astype(np.int64), key)
    assert trace["period"] == 30 and trace["z"] > GOP_Z


def test_frame_rate_variability_known_answer():
    pts = np.cumsum(np.r_[0, np.full(50, 512)])
    assert frame_rate_variability(pts, 1 / 12800)["share_off"] == 0.0
    pts2 = np.cumsum(np.r_[0, np.tile([512, 1024], 25)])
    v = frame_rate_variability(pts2, 1 / 12800)
    assert v["min_ms"] == 40.0 and v["max_ms"] == 80.0 and v["share_off"] > 0.4


def test_gop_periodicity_of_an_all_intra_stream_is_empty_without_warnings():
    # MJPEG and ProRes: every frame a key frame, nothing predicted (np.nanstd of all-NaN
    # warned "Degrees of freedom <= 0" on every such file).
    import warnings

    size = np.full(200, 5000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gop_periodicity(size, np.ones(200, bool)) == {}


def test_frame_rate_variability_reports_repeated_timestamps():
    pts = np.zeros(40, np.int64)  # a muxer that wrote no timestamps
    assert frame_rate_variability(pts, 1 / 12800) == {"repeated_share": 1.0}
    pts = np.cumsum(np.r_[0, np.full(50, 512)])
    assert frame_rate_variability(pts, 1 / 12800)["repeated_share"] == 0.0


def test_implausible_timestamps_are_noted(tmp_path):
    """Frames handed to the encoder with a time base but no timestamps are all muxed at 0
    (seen when re-encoding decoded frames; the container then claims 6,250 fps). The
    container detector says so, as a note (no weight): the times it reports are off."""
    from fractions import Fraction

    import av

    path = tmp_path / "no_pts.mp4"
    with av.open(str(path), "w") as out:
        st = out.add_stream("libx264", rate=25)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        rng = np.random.default_rng(0)
        for _ in range(60):
            img = av.VideoFrame.from_ndarray(rng.integers(0, 255, (48, 64, 3), np.uint8),
                                             format="rgb24").reformat(format="yuv420p")
            img.time_base, img.pts = Fraction(1, 12800), None
            for pkt in st.encode(img):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    from triage_app.media import open_media

    res = video_container(open_media(path))
    notes = [f for f in res.findings if getattr(f.location, "name", "") == "video packet timestamps"
             and "unreliable" in f.location.value]
    assert len(notes) == 1
    assert notes[0].measurement.name in ("median frame interval",
                                         "share of frames whose timestamp does not advance")
    assert res.extras["contributions"].get("timestamps", 0.0) == 0.0
