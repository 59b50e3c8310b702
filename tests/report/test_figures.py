"""Report figures (triage_app/report/figures.py): a sideways photo is shown upright."""

from __future__ import annotations

import numpy as np
from PIL import Image

from triage_app.report.figures import exif_orientation, image_figure


def test_a_sideways_photo_and_its_boxes_are_drawn_upright(tmp_path):
    # stored 200 x 100 with EXIF 6 (a viewer turns it 90 degrees clockwise); a finding's box at
    # the stored top right lands at the bottom right of the upright picture
    exif = Image.Exif()
    exif[274] = 6
    path = tmp_path / "sideways.jpg"
    Image.new("RGB", (200, 100), (128, 128, 128)).save(path, exif=exif.tobytes(), quality=95)
    assert exif_orientation(path) == 6
    finding = {"detector": "copy_move", "artifact": "cloned_region",
               "location": {"kind": "box", "x": 160, "y": 0, "w": 40, "h": 20}}
    fig = np.asarray(image_figure(path, None, [finding]), np.int16)
    # two upright 100 x 200 pictures, and the map's colour scale under them
    assert fig.shape[:2] == (200 + 26, 100 * 2 + 10)
    right = fig[:200, 110:]
    drawn = np.abs(right - 128).sum(axis=2) > 60      # the box's outline and label
    ys, xs = np.nonzero(drawn)
    assert ys.min() >= 140 and xs.max() >= 95         # bottom right (label 15 px above)
    assert not drawn[:100].any()


def test_refuted_findings_are_drawn_dashed_grey_and_labels_do_not_overlap(tmp_path):
    from triage_app.report.figures import REFUTED, _free_label_y

    path = tmp_path / "flat.png"
    Image.new("RGB", (200, 100), (128, 128, 128)).save(path)
    confirmed = {"n": 1, "detector": "copy_move", "artifact": "cloned_region",
                 "explanation_status": "grounded",
                 "location": {"kind": "box", "x": 20, "y": 40, "w": 60, "h": 40}}
    refuted = {"n": 2, "detector": "face_consistency", "artifact": "color_inconsistency",
               "explanation_status": "hallucinated",
               "location": {"kind": "box", "x": 120, "y": 40, "w": 60, "h": 40}}
    fig = np.asarray(image_figure(path, None, [confirmed, refuted]), np.int16)[:100, 210:]
    top_edge = fig[40, 120:180]                       # the refuted box's top edge
    grey = (np.abs(top_edge - np.array(REFUTED)).sum(axis=1) < 10)
    assert 0.2 < grey.mean() < 0.8                   # dashes, not a solid line
    other = fig[40, 20:80]
    assert not (np.abs(other - np.array(REFUTED)).sum(axis=1) < 10).any()
    placed = []
    a = _free_label_y(placed, 10, 5, 40, 14, 200)
    b = _free_label_y(placed, 20, 5, 40, 14, 200)     # overlaps the first: pushed down
    assert a == 5 and b >= a + 14


def test_the_last_time_tick_stays_inside_the_spectrogram():
    from triage_app.report.figures import audio_figure

    sr = 8000
    x = np.random.default_rng(0).normal(0, 0.1, int(27.4 * sr)).astype(np.float32)
    fig = audio_figure(x, sr, [])
    ticks = np.asarray(fig, np.int16)[-14:, -40:]     # the bottom right corner
    assert (ticks.sum(axis=2) < 300).any()            # the "27.4s" label is drawn there
    assert (np.asarray(fig, np.int16)[-14:, -2:].sum(axis=2) > 700).all()  # and not cut
