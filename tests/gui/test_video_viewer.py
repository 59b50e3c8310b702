from triage_app.gui.video_viewer import fmt_time


def test_fmt_time_rounds_before_splitting_minutes_and_reads_hours():
    assert fmt_time(3.2) == "0:03.200"
    assert fmt_time(59.9996) == "1:00.000"  # was "0:60.000"
    assert fmt_time(3725.5) == "1:02:05.500"
