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
    assert fig.shape[:2] == (200, 100 * 2 + 10)       # two upright 100 x 200 pictures
    right = fig[:, 110:]
    drawn = np.abs(right - 128).sum(axis=2) > 60      # the box's outline and label
    ys, xs = np.nonzero(drawn)
    assert ys.min() >= 140 and xs.max() >= 95         # bottom right (label 15 px above)
    assert not drawn[:100].any()
