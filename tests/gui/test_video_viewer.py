from triage_app.gui.video_viewer import fmt_time


def test_fmt_time_rounds_before_splitting_minutes_and_reads_hours():
    assert fmt_time(3.2) == "0:03.200"
    assert fmt_time(59.9996) == "1:00.000"  # was "0:60.000"
    assert fmt_time(3725.5) == "1:02:05.500"


def test_ruler_labels_read_minutes_and_hours_on_long_clips():
    """A one-hour clip's ruler read "3600s"; long clips read m:ss, then h:mm:ss."""
    from triage_app.gui.video_viewer import ruler_label

    assert ruler_label(30.0, 60.0) == "30s"
    assert ruler_label(150.0, 600.0) == "2:30"
    assert ruler_label(3725.0, 7200.0) == "1:02:05"


def test_the_soundtrack_segments_are_marked_on_the_ruler(qtbot):
    """A long video's soundtrack is analysed in segments; the timeline showed none of it."""
    from PySide6.QtCore import QPointF

    from triage_app.gui.video_viewer import TimelineWidget

    tl = TimelineWidget()
    qtbot.addWidget(tl)
    tl.resize(800, tl.height())
    tl.set_data(1800.0, [], [], [(0.0, 905.0), (895.0, 1800.0)])
    assert tl.segments == [(0.0, 905.0), (895.0, 1800.0)]
    y = tl.RULER_H - 1
    assert tl.segment_at(QPointF(tl._x(1500.0), y)) == 1
    assert tl.segment_at(QPointF(tl._x(100.0), y)) == 0
    assert tl.segment_at(QPointF(tl._x(100.0), tl.RULER_H + 8)) is None  # a lane, not the ruler
    img = tl.grab().toImage()
    plain = TimelineWidget()
    qtbot.addWidget(plain)
    plain.resize(800, plain.height())
    plain.set_data(1800.0, [], [])
    x, y1 = int(tl._x(1550.0)), tl.RULER_H - 3  # segment 2's mark (segments alternate rows)
    assert img.pixelColor(x, y1) != plain.grab().toImage().pixelColor(x, y1)
