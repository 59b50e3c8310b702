"""Video viewer: the frame (with the fused map and boxes, through :class:`ImageViewer`) and a
timeline under it with each detector's suspicious spans. Clicking a span seeks there.

Frames are decoded by :meth:`VideoMedia.frames` in a worker, one request at a time; a seek
asked for while one is decoding replaces any older pending request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (QHBoxLayout, QLabel, QSizePolicy, QSlider, QToolButton,
                               QVBoxLayout, QWidget)

from triage_app.gui.image_viewer import ImageViewer, rgb_to_qimage
from triage_app.gui.workers import run_task
from triage_app.model import Box, FrameSpan
# the ruler's ticks (named for the timeline, shared with the audio view and the report)
from triage_app.segments import axis_label as ruler_label

DISPLAY_MAX_SIDE = 1280


@dataclass
class Span:
    lane: str
    start: float
    end: float
    label: str
    strength: float
    box: Box | None = None
    tooltip: str = ""


def fmt_time(t: float) -> str:
    """Seconds as m:ss.mmm (h:mm:ss.mmm from an hour on), rounded to the millisecond before
    it is split (59.9996 s reads 1:00.000, not 0:60.000)."""
    ms = int(round(max(0.0, float(t)) * 1000))
    hours, rest = divmod(ms, 3_600_000)
    minutes, ms = divmod(rest, 60_000)
    secs = f"{ms // 1000:02d}.{ms % 1000:03d}"
    return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes}:{secs}"


def spans_from_findings(findings: list[Any]) -> list[Span]:
    out = []
    for f in findings:
        loc = f.location
        if isinstance(loc, FrameSpan):
            out.append(Span(f.detector, float(loc.start), float(loc.end), f.artifact,
                            float(f.strength), loc.box,
                            f"{f.artifact} ({f.detector}) {fmt_time(loc.start)}–"
                            f"{fmt_time(loc.end)}: {f.measurement.describe()}"))
    return out


class TimelineWidget(QWidget):
    """Lanes of spans over a time ruler; a cursor; click a span (or anywhere) to seek."""

    seek_requested = Signal(float)
    span_clicked = Signal(object)  # Span

    LABEL_W = 120
    RULER_H = 18
    LANE_H = 18

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.duration = 0.0
        self.spans: list[Span] = []
        self.lanes: list[str] = []
        self.cursor = 0.0
        self.highlight: tuple[float, float] | None = None
        # the segments a long soundtrack was analysed in ((start, end) s), [] = whole
        self.segments: list[tuple[float, float]] = []
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._update_height()

    def set_data(self, duration: float, spans: list[Span], lanes: list[str] | None = None,
                 segments: list[tuple[float, float]] | None = None) -> None:
        self.duration = max(0.0, float(duration))
        self.spans = spans
        self.segments = [(float(a), float(b)) for a, b in (segments or [])]
        seen: list[str] = list(lanes or [])
        for s in spans:
            if s.lane not in seen:
                seen.append(s.lane)
        self.lanes = seen
        self.highlight = None
        self._update_height()
        self.update()

    def _update_height(self) -> None:
        self.setFixedHeight(self.RULER_H + self.LANE_H * max(1, len(self.lanes)) + 4)

    def sizeHint(self) -> QSize:
        return QSize(600, self.height())

    def set_cursor(self, t: float) -> None:
        self.cursor = t
        self.update()

    def set_highlight(self, start: float, end: float) -> None:
        self.highlight = (start, end)
        self.update()

    # -- geometry
    def _x(self, t: float) -> float:
        w = self.width() - self.LABEL_W - 6
        return self.LABEL_W + (t / self.duration * w if self.duration > 0 else 0)

    def _t(self, x: float) -> float:
        w = self.width() - self.LABEL_W - 6
        if self.duration <= 0 or w <= 0:
            return 0.0
        return max(0.0, min(self.duration, (x - self.LABEL_W) / w * self.duration))

    def span_rect(self, span: Span) -> QRectF:
        lane = self.lanes.index(span.lane)
        x0, x1 = self._x(span.start), self._x(span.end)
        y = self.RULER_H + lane * self.LANE_H + 2
        return QRectF(x0, y, max(3.0, x1 - x0), self.LANE_H - 4)

    def span_at(self, pos: QPointF) -> Span | None:
        for s in self.spans:
            if self.span_rect(s).adjusted(-2, -1, 2, 1).contains(pos):
                return s
        return None

    # -- events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        span = self.span_at(event.position())
        if span is not None:
            self.set_highlight(span.start, span.end)
            self.span_clicked.emit(span)
            # a span that covers most of the clip (a whole-clip finding) would always send
            # the click to its start: seek where the analyst clicked, inside the span
            t = min(max(self._t(event.position().x()), span.start), span.end)
            self.seek_requested.emit(span.start if span.end - span.start < 1.0 else t)
        elif event.position().x() >= self.LABEL_W:
            self.seek_requested.emit(self._t(event.position().x()))

    def segment_at(self, pos: QPointF) -> int | None:
        """Index of the soundtrack segment whose mark on the ruler is under ``pos``."""
        if len(self.segments) < 2 or not self.RULER_H - 4 <= pos.y() <= self.RULER_H:
            return None
        t = self._t(pos.x())
        return next((k for k, (a, b) in enumerate(self.segments) if a <= t <= b), None)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        span = self.span_at(event.position())
        if span is not None:
            self.setToolTip(span.tooltip)
            return
        k = self.segment_at(event.position())
        self.setToolTip(self.tr("Soundtrack segment {0} of {1}: {2}-{3}; each audio detector "
                                "examined it on its own").format(
            k + 1, len(self.segments), fmt_time(self.segments[k][0]),
            fmt_time(self.segments[k][1])) if k is not None else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 34))
        font = QFont()
        font.setPointSize(8)
        p.setFont(font)
        # ruler
        p.setPen(QColor(150, 150, 150))
        if self.duration > 0:
            step = _nice_step(self.duration / max(1, (self.width() - self.LABEL_W) / 80))
            t = 0.0
            while t <= self.duration + 1e-9:
                x = self._x(t)
                p.drawLine(QPointF(x, self.RULER_H - 5), QPointF(x, self.RULER_H))
                p.drawText(QPointF(x + 2, self.RULER_H - 6), ruler_label(t, self.duration))
                t += step
            # a long soundtrack's segments: alternate tones along the ruler's foot
            if len(self.segments) > 1:
                for k, (a, b) in enumerate(self.segments):
                    tone = QColor(200, 200, 210) if k % 2 == 0 else QColor(140, 170, 210)
                    y = self.RULER_H - 1 - 2 * (k % 2)
                    p.setPen(QPen(tone, 2))
                    p.drawLine(QPointF(self._x(a), y), QPointF(self._x(b), y))
                p.setPen(QColor(150, 150, 150))
        # lanes
        for i, lane in enumerate(self.lanes or [self.tr("no suspicious spans")]):
            y = self.RULER_H + i * self.LANE_H
            p.fillRect(QRectF(self.LABEL_W, y + 1, self.width() - self.LABEL_W - 6,
                              self.LANE_H - 2), QColor(45, 45, 50))
            p.setPen(QColor(210, 210, 210))
            p.drawText(QRectF(4, y, self.LABEL_W - 8, self.LANE_H),
                       int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft),
                       p.fontMetrics().elidedText(lane, Qt.TextElideMode.ElideRight,
                                                  self.LABEL_W - 8))
        if self.highlight and self.duration > 0:
            x0, x1 = self._x(self.highlight[0]), self._x(self.highlight[1])
            p.fillRect(QRectF(x0, self.RULER_H, max(2.0, x1 - x0), self.height() - self.RULER_H),
                       QColor(255, 230, 0, 50))
        for s in self.spans:
            c = QColor.fromHsv(int(40 - 40 * max(0.0, min(1.0, s.strength))), 220, 240)
            p.fillRect(self.span_rect(s), c)
        # cursor
        if self.duration > 0:
            x = self._x(self.cursor)
            p.setPen(QPen(QColor(80, 200, 255), 2))
            p.drawLine(QPointF(x, 0), QPointF(x, self.height()))
        p.end()


def _nice_step(raw: float) -> float:
    for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600):
        if s >= raw:
            return float(s)
    return 3600.0


# --------------------------------------------------------------------------- worker side


def probe_video(path: str) -> tuple[Any, dict[str, Any] | None]:
    """Open the video (probe only) and decode its first frame (worker thread)."""
    from triage_app.media import open_media

    media = open_media(path)
    if getattr(media, "kind", None) != "video":
        raise ValueError(f"{path} is not a video")
    return media, decode_frame(media, 0.0)


def decode_frame(media: Any, t: float) -> dict[str, Any] | None:
    """The first frame at or after ``t`` seconds, as a QImage with its time (worker thread)."""
    end = t + max(1.0, 4.0 / max(media.fps or 25.0, 1.0))
    side = DISPLAY_MAX_SIDE if max(media.width, media.height) > DISPLAY_MAX_SIDE else None
    for frame in media.frames(start=max(0.0, t), end=end, max_side=side):
        return {"time": frame.time, "index": frame.index, "image": rgb_to_qimage(frame.rgb)}
    return None


# --------------------------------------------------------------------------- the widget


class VideoViewer(QWidget):
    """Frame view + scrub bar + timeline of suspicious spans."""

    frame_shown = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.image = ImageViewer()
        self.image.side_by_side.setChecked(False)
        self.timeline = TimelineWidget()
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 1000)
        self.slider.sliderReleased.connect(self._slider_seek)
        self.time_label = QLabel("0:00.000")
        step_back = QToolButton()
        step_back.setText("◀")
        step_back.setToolTip(self.tr("Previous frame"))
        step_back.clicked.connect(lambda: self.seek(self.current_time - self._frame_dt()))
        step_fwd = QToolButton()
        step_fwd.setText("▶")
        step_fwd.setToolTip(self.tr("Next frame"))
        step_fwd.clicked.connect(lambda: self.seek(self.current_time + self._frame_dt()))
        row = QHBoxLayout()
        row.addWidget(step_back)
        row.addWidget(step_fwd)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time_label)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.image, 1)
        lay.addLayout(row)
        lay.addWidget(self.timeline)
        self.timeline.seek_requested.connect(self.seek)
        self.timeline.span_clicked.connect(self._span_clicked)
        self.media: Any = None
        self.current_time = 0.0
        self._token = 0
        self._busy = False
        self._pending: float | None = None
        self._pending_box: Box | None = None
        self._maps: dict[str, QImage] = {}
        self._findings: list[Any] = []

    def _frame_dt(self) -> float:
        fps = getattr(self.media, "fps", 0) or 25.0
        return 1.0 / fps

    def clear(self, message: str | None = None) -> None:
        self._token += 1
        self.media = None
        self.image.clear(message)
        self.timeline.set_data(0.0, [])

    def load(self, path: str, findings: list[Any], maps: dict[str, QImage], *,
             segments: list[tuple[float, float]] | None = None) -> None:
        """Probe ``path`` and show its first frame; spans come from ``findings``;
        ``segments``: those a long soundtrack was analysed in (marked on the ruler)."""
        self._token += 1
        token = self._token
        self.media = None
        self._findings = findings
        self._maps = maps
        self._busy = True
        self._pending = None
        self.image.clear(self.tr("Decoding video…"))
        spans = spans_from_findings(findings)
        lanes = sorted({s.lane for s in spans})
        self.timeline.set_data(0.0, spans, lanes, segments)

        def done(result: tuple[Any, dict[str, Any] | None]) -> None:
            if token != self._token:
                return
            media, frame = result
            self.media = media
            self.timeline.set_data(media.duration, spans, lanes, segments)
            self._busy = False
            if frame is None:
                self.image.clear(self.tr("No frame could be decoded"))
                return
            self._show(frame, first=True)
            self._next()

        def failed(msg: str) -> None:
            if token == self._token:
                self._busy = False
                self.image.clear(self.tr("Cannot decode this video: {0}").format(msg))

        run_task(probe_video, path, on_result=done, on_error=failed)

    def _show(self, frame: dict[str, Any], *, first: bool = False) -> None:
        size = (self.media.width, self.media.height)
        if first or self.image.image_size == (0, 0):
            self.image.set_image(frame["image"], logical_size=size)
            self.image.set_maps(self._maps)
            self.image.set_findings([f for f in self._findings
                                     if isinstance(f.location, FrameSpan) and f.location.box
                                     and f.location.start <= frame["time"] <= f.location.end])
        else:
            self.image.set_image(frame["image"], keep_view=True, logical_size=size)
            self.image.set_findings([f for f in self._findings
                                     if isinstance(f.location, FrameSpan) and f.location.box
                                     and f.location.start <= frame["time"] <= f.location.end])
        if self._pending_box is not None:
            self.image.highlight(self._pending_box)
            self._pending_box = None
        self.current_time = float(frame["time"])
        self.timeline.set_cursor(self.current_time)
        self.time_label.setText(fmt_time(self.current_time))
        if self.media.duration > 0 and not self.slider.isSliderDown():
            self.slider.blockSignals(True)
            self.slider.setValue(int(1000 * self.current_time / self.media.duration))
            self.slider.blockSignals(False)
        self.frame_shown.emit(self.current_time)

    def _slider_seek(self) -> None:
        if self.media is not None:
            self.seek(self.slider.value() / 1000.0 * self.media.duration)

    def _span_clicked(self, span: Span) -> None:
        self._pending_box = span.box

    def seek(self, t: float, box: Box | None = None) -> None:
        """Show the frame at ``t`` seconds (decoded in a worker)."""
        if box is not None:
            self._pending_box = box
        if self.media is None:
            self._pending = t
            return
        t = max(0.0, min(float(t), max(0.0, self.media.duration - 1e-3)))
        self.timeline.set_cursor(t)
        self._pending = t
        if not self._busy:
            self._next()

    def _next(self) -> None:
        if self._pending is None or self.media is None:
            return
        t, self._pending = self._pending, None
        self._busy = True
        token = self._token

        def done(frame: dict[str, Any] | None) -> None:
            if token != self._token:
                return
            self._busy = False
            if frame is not None:
                self._show(frame)
            elif self._pending is None and t > 0.0:
                # past the last frame (a seek to the end of the stated duration, which may run
                # beyond the video track): show the last frame there is, a little earlier
                fps = float(getattr(self.media, "fps", 0) or 25.0)
                self._pending = max(0.0, t - max(0.25, 2.0 / fps))
                self.timeline.set_cursor(self._pending)
            self._next()

        def failed(msg: str) -> None:
            if token == self._token:
                self._busy = False
                self.time_label.setText(self.tr("decode failed: {0}").format(msg))

        run_task(decode_frame, self.media, t, on_result=done, on_error=failed)

    @property
    def busy(self) -> bool:
        return self._busy or self._pending is not None
