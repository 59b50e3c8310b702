"""Tests for triage_app/gui/image_viewer.py: pictures shown upright by their EXIF orientation,
with maps and boxes turned alongside, and the stored view one click away."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QPointF, QRectF

from detectors.image._common import upright
from triage_app.gui.image_viewer import (ImageViewer, orientation_transform, rgb_to_qimage,
                                         zoom_level)
from triage_app.gui.main_window import _decode_image
from triage_app.model import Box, Finding, Mask, Measurement


@pytest.mark.parametrize("orientation", range(1, 9))
def test_orientation_transform_turns_as_the_analysis_does(orientation):
    # the pixel marked in the stored picture lands where detectors' upright() puts it
    h, w = 5, 8
    stored = np.zeros((h, w), np.uint8)
    stored[1, 6] = 1
    ys, xs = np.nonzero(upright(stored, orientation))
    t = orientation_transform(orientation)
    shown = t.mapRect(QRectF(0, 0, w, h))
    p = t.map(QPointF(6.5, 1.5)) - shown.topLeft()
    assert (p.x(), p.y()) == pytest.approx((xs[0] + 0.5, ys[0] + 0.5))
    assert zoom_level(t) == pytest.approx(1.0)


def _finding(box: Box) -> Finding:
    return Finding(artifact="cloned_region", location=Mask(box=box, coverage=1.0), strength=0.9,
                   measurement=Measurement(name="m", value=1.0, reference=0.5),
                   detector="copy_move")


def _sideways_viewer(qtbot) -> ImageViewer:
    """A viewer showing a picture stored 300 x 100 (landscape) with EXIF 6 (a viewer turns it
    90 degrees clockwise) and one finding's box at its stored top right."""
    v = ImageViewer()
    qtbot.addWidget(v)
    v.resize(600, 600)
    v.show()
    v.set_image(rgb_to_qimage(np.zeros((100, 300, 3), np.uint8)), orientation=6)
    v.set_findings([_finding(Box(x=250, y=0, w=50, h=20))])
    return v


def test_a_sideways_photo_is_shown_upright_with_its_boxes(qtbot):
    v = _sideways_viewer(qtbot)
    assert v.upright_check.isVisible() and v.orientation == 6
    shown = v.right.mapFromScene(v.right.sceneRect()).boundingRect()
    assert shown.height() > 2 * shown.width()          # portrait on screen
    # the box at the stored top right is at the bottom right once turned clockwise
    box = v.right.mapFromScene(QRectF(250, 0, 50, 20)).boundingRect()
    assert box.center().y() > shown.center().y() and box.center().x() > shown.center().x()
    # zoom works on a turned view, and the other view follows
    before = zoom_level(v.right.transform())
    v.right.zoom_by(2.0)
    assert zoom_level(v.right.transform()) == pytest.approx(2 * before)
    assert zoom_level(v.left.transform()) == pytest.approx(zoom_level(v.right.transform()))
    # unticked: as stored, as analysed
    v.upright_check.setChecked(False)
    assert v.orientation == 1
    shown = v.right.mapFromScene(v.right.sceneRect()).boundingRect()
    assert shown.width() > 2 * shown.height()
    # a picture without an orientation hides the choice
    v.set_image(rgb_to_qimage(np.zeros((100, 300, 3), np.uint8)))
    assert not v.upright_check.isVisible()


def test_decoding_for_display_reports_the_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[274] = 8
    path = tmp_path / "sideways.jpg"
    Image.new("RGB", (64, 32), (90, 120, 150)).save(path, exif=exif.tobytes())
    res = _decode_image(str(path))
    assert res["orientation"] == 8 and res["size"] == (64, 32)   # pixels as stored
    plain = tmp_path / "plain.png"
    Image.new("RGB", (10, 10)).save(plain)
    assert _decode_image(str(plain))["orientation"] == 1


def test_a_label_sits_at_the_top_left_of_its_box_as_shown(qtbot):
    from PySide6.QtWidgets import QGraphicsSimpleTextItem
    v = _sideways_viewer(qtbot)

    def label_and_box() -> tuple[QPointF, QRectF]:
        label = next(i for i in v.right_scene.items() if isinstance(i, QGraphicsSimpleTextItem))
        return (v.right.mapFromScene(label.pos()).toPointF(),
                v.right.mapFromScene(QRectF(250, 0, 50, 20)).boundingRect().toRectF())

    for upright_on in (True, False):
        v.upright_check.setChecked(upright_on)
        at, box = label_and_box()
        assert abs(at.x() - box.left()) <= 2 and abs(at.y() - box.top()) <= 2, (upright_on, at, box)
