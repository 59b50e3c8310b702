"""Audio viewer: waveform and spectrogram (computed in a worker with numpy), flagged time
spans and frequency bands drawn over them, and playback with a moving cursor when
QtMultimedia is available.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QUrl, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QImage, QMouseEvent, QPainter, QPaintEvent,
                           QPen)
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from triage_app.gui.image_viewer import _LUT, rgb_to_qimage
from triage_app.gui.video_viewer import fmt_time
from triage_app.gui.workers import run_task
from triage_app.model import TimeSpan
from triage_app.segments import axis_label

ENVELOPE_BINS = 1600
SPEC_COLUMNS = 1600


@dataclass
class AudioSpan:
    start: float
    end: float
    low_hz: float | None
    high_hz: float | None
    label: str
    strength: float
    tooltip: str = ""


def spans_from_findings(findings: list[Any]) -> list[AudioSpan]:
    from explainers.taxonomy import artifact_name

    out = []
    for f in findings:
        loc = f.location
        if isinstance(loc, TimeSpan):
            band = ""
            if loc.low_hz is not None or loc.high_hz is not None:
                band = f", {loc.low_hz or 0:.0f}–{loc.high_hz or 0:.0f} Hz"
            out.append(AudioSpan(float(loc.start), float(loc.end), loc.low_hz, loc.high_hz,
                                 # in words, as the explanation says it: "generator
                                 # fingerprint" read as a picture's on a spectrogram
                                 artifact_name(f.artifact, "audio"), float(f.strength),
                                 f"{f.artifact} ({f.detector}) {fmt_time(loc.start)}–"
                                 f"{fmt_time(loc.end)}{band}: {f.measurement.describe()}"))
    return out


# --------------------------------------------------------------------------- worker side


def _spectrogram_image(frames: np.ndarray) -> QImage:
    """Log-magnitude spectrogram (90 dB of range) of Hann-windowed ``frames`` (count, n_fft),
    low frequencies at the bottom."""
    window = np.hanning(frames.shape[1]).astype(np.float32)
    spec = np.abs(np.fft.rfft(frames * window, axis=1)).astype(np.float32)
    db = 20.0 * np.log10(spec + 1e-10)
    top = float(db.max())
    db = np.clip((db - (top - 90.0)) / 90.0, 0.0, 1.0)  # 90 dB of dynamic range
    img = (db.T[::-1] * 255).astype(np.uint8)  # (freq, time), low frequencies at the bottom
    return rgb_to_qimage(_LUT[img])


def _fft_size(n: int) -> int:
    return 1024 if n >= 4096 else max(64, 1 << int(np.log2(max(64, n // 4))))


def compute_audio_views(samples: np.ndarray, sample_rate: int, *,
                        bins: int = ENVELOPE_BINS, columns: int = SPEC_COLUMNS) -> dict[str, Any]:
    """Waveform envelope (min and max per bin) and a log-magnitude spectrogram image.

    ``samples`` is mono float32. Returns ``envelope`` (bins, 2), ``spectrogram`` (QImage,
    low frequencies at the bottom), ``duration`` s and ``nyquist`` Hz.
    """
    x = np.asarray(samples, dtype=np.float32).ravel()
    n = x.size
    if n == 0:
        raise ValueError("the audio has no samples")
    nb = min(bins, n)
    edges = np.linspace(0, n, nb + 1).astype(np.int64)
    mins = np.minimum.reduceat(x, edges[:-1])
    maxs = np.maximum.reduceat(x, edges[:-1])
    envelope = np.stack([mins, maxs], axis=1)

    n_fft = _fft_size(n)
    if n < n_fft:
        x = np.pad(x, (0, n_fft - n))
    hop = max(n_fft // 16, (x.size - n_fft) // max(1, columns - 1) or 1)
    count = 1 + (x.size - n_fft) // hop
    frames = np.lib.stride_tricks.as_strided(
        x, shape=(count, n_fft), strides=(x.strides[0] * hop, x.strides[0]), writeable=False)
    return {"envelope": envelope, "spectrogram": _spectrogram_image(frames),
            "duration": n / float(sample_rate), "nyquist": sample_rate / 2.0}


def compute_streamed_audio_views(samples: Any, sample_rate: int, *,
                                 bins: int = ENVELOPE_BINS,
                                 columns: int = SPEC_COLUMNS) -> dict[str, Any]:
    """:func:`compute_audio_views` of (n, channels) ``samples`` read a block at a time
    (a long recording's streamed samples): the same envelope and image as on the whole
    channel mean, without holding it."""
    from triage_app.audio_overview import mono_overview

    n = int(samples.shape[0])
    n_fft = _fft_size(n)
    length = max(n, n_fft)
    hop = max(n_fft // 16, (length - n_fft) // max(1, columns - 1) or 1)
    count = 1 + (length - n_fft) // hop
    envelope, frames = mono_overview(samples, bins, np.arange(count, dtype=np.int64) * hop,
                                     n_fft)  # one pass over the file
    return {"envelope": envelope, "spectrogram": _spectrogram_image(frames),
            "duration": n / float(sample_rate), "nyquist": sample_rate / 2.0}


def load_audio_views(path: str) -> dict[str, Any]:
    from triage_app.media import open_media

    media = open_media(path)
    if getattr(media, "kind", None) != "audio":
        raise ValueError(f"{path} is not audio")
    if media.streamed:  # a long recording: never decoded whole
        out = compute_streamed_audio_views(media.samples, media.sample_rate)
    else:
        out = compute_audio_views(media.mono(), media.sample_rate)
    out["sample_rate"] = media.sample_rate
    out["channels"] = media.channels
    return out


# --------------------------------------------------------------------------- the view


class AudioView(QWidget):
    """Paints the waveform (top) and spectrogram (bottom) with spans, bands and a cursor."""

    seek_requested = Signal(float)
    span_clicked = Signal(object)

    AXIS_W = 56

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.envelope: np.ndarray | None = None
        self.spectrogram: QImage | None = None
        self.duration = 0.0
        self.nyquist = 0.0
        self.spans: list[AudioSpan] = []
        # Time from which no audio detector looked (the analysis budget), None = all examined.
        self.examined_until: float | None = None
        # The segments a long recording was analysed in ((start, end) s), [] = analysed whole.
        self.segments: list[tuple[float, float]] = []
        self.cursor = 0.0
        self.highlight: AudioSpan | None = None
        self.message = self.tr("No audio")
        self.setMouseTracking(True)
        self.setMinimumHeight(200)

    def sizeHint(self) -> QSize:
        return QSize(800, 420)

    def set_data(self, data: dict[str, Any] | None, spans: list[AudioSpan], *,
                 examined_until: float | None = None,
                 segments: list[tuple[float, float]] | None = None) -> None:
        if data is None:
            self.envelope, self.spectrogram, self.duration, self.nyquist = None, None, 0.0, 0.0
        else:
            self.envelope = data["envelope"]
            self.spectrogram = data["spectrogram"]
            self.duration = float(data["duration"])
            self.nyquist = float(data["nyquist"])
        self.spans = spans
        self.examined_until = examined_until
        self.segments = [(float(a), float(b)) for a, b in (segments or [])]
        self.highlight = None
        self.update()

    def set_cursor(self, t: float) -> None:
        self.cursor = t
        self.update()

    def set_highlight(self, span: AudioSpan | None) -> None:
        self.highlight = span
        self.update()

    # -- geometry
    def _areas(self) -> tuple[QRectF, QRectF]:
        w = self.width() - self.AXIS_W - 4
        h = self.height() - 16
        wave = QRectF(self.AXIS_W, 2, w, h * 0.35)
        spec = QRectF(self.AXIS_W, wave.bottom() + 4, w, h - wave.height() - 4)
        return wave, spec

    def _x(self, t: float) -> float:
        wave, _ = self._areas()
        return wave.left() + (t / self.duration * wave.width() if self.duration else 0.0)

    def _y_hz(self, hz: float) -> float:
        _, spec = self._areas()
        frac = min(1.0, max(0.0, hz / self.nyquist)) if self.nyquist else 0.0
        return spec.bottom() - frac * spec.height()

    def span_rect(self, s: AudioSpan, *, band: bool = False) -> QRectF:
        wave, spec = self._areas()
        x0, x1 = self._x(s.start), self._x(s.end)
        if band and (s.low_hz is not None or s.high_hz is not None):
            y1 = self._y_hz(s.low_hz or 0.0)
            y0 = self._y_hz(s.high_hz if s.high_hz is not None else self.nyquist)
            return QRectF(x0, y0, max(2.0, x1 - x0), max(2.0, y1 - y0))
        return QRectF(x0, wave.top(), max(2.0, x1 - x0), spec.bottom() - wave.top())

    SEGMENT_STRIP_H = 9

    def segment_rect(self, k: int) -> QRectF:
        """Where segment ``k``'s bracket is drawn: a strip along the bottom of the waveform,
        alternate segments on two rows so that their overlaps show."""
        wave, _ = self._areas()
        a, b = self.segments[k]
        row = k % 2
        y = wave.bottom() - self.SEGMENT_STRIP_H * (2 - row)
        return QRectF(self._x(a), y, max(2.0, self._x(b) - self._x(a)), self.SEGMENT_STRIP_H - 2)

    def segment_at(self, pos: QPointF) -> int | None:
        """Index of the segment whose bracket is under ``pos``, or None."""
        for k in range(len(self.segments)):
            if self.segment_rect(k).adjusted(0, -1, 0, 1).contains(pos):
                return k
        return None

    def segment_tooltip(self, k: int) -> str:
        a, b = self.segments[k]
        overlap = max(0.0, self.segments[0][1] - self.segments[1][0]) \
            if len(self.segments) > 1 else 0.0
        return self.tr("Segment {0} of {1}: {2}-{3}. Each audio detector examined it on its "
                       "own (consecutive segments overlap by {4:g} s, so that a trace at a "
                       "boundary is seen whole); see a detector's tooltip for its score per "
                       "segment.").format(k + 1, len(self.segments), fmt_time(a), fmt_time(b),
                                          round(overlap, 1))

    def span_at(self, pos: QPointF) -> AudioSpan | None:
        # plain time spans first (narrow, precise), then frequency bands by their rectangle
        for s in sorted(self.spans, key=lambda s: s.low_hz is not None or s.high_hz is not None):
            banded = s.low_hz is not None or s.high_hz is not None
            if self.span_rect(s, band=banded).adjusted(-2, 0, 2, 0).contains(pos):
                return s
        return None

    def _t(self, x: float) -> float:
        wave, _ = self._areas()
        if not self.duration or wave.width() <= 0:
            return 0.0
        return max(0.0, min(self.duration, (x - wave.left()) / wave.width() * self.duration))

    # -- events
    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton or not self.duration:
            return
        span = self.span_at(event.position())
        if span is not None:
            self.set_highlight(span)
            self.span_clicked.emit(span)
            self.seek_requested.emit(span.start)
        else:
            self.seek_requested.emit(self._t(event.position().x()))

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        span = self.span_at(event.position())
        if span is not None:
            self.setToolTip(span.tooltip)
            return
        k = self.segment_at(event.position())
        self.setToolTip(self.segment_tooltip(k) if k is not None else "")

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor(30, 30, 34))
        font = QFont()
        font.setPointSize(8)
        p.setFont(font)
        wave, spec = self._areas()
        if self.envelope is None:
            p.setPen(QColor(150, 150, 150))
            p.drawText(self.rect(), int(Qt.AlignmentFlag.AlignCenter), self.message)
            p.end()
            return
        # waveform
        p.fillRect(wave, QColor(20, 20, 24))
        mid, half = wave.center().y(), wave.height() / 2 - 1
        env = self.envelope
        nb = len(env)
        p.setPen(QPen(QColor(90, 200, 140), 1))
        cols = int(wave.width())
        for c in range(cols):
            i0 = int(c * nb / cols)
            i1 = max(i0 + 1, int((c + 1) * nb / cols))
            lo, hi = float(env[i0:i1, 0].min()), float(env[i0:i1, 1].max())
            x = wave.left() + c
            p.drawLine(QPointF(x, mid - hi * half), QPointF(x, mid - lo * half))
        # spectrogram
        if self.spectrogram is not None:
            p.drawImage(spec, self.spectrogram)
        # axes
        p.setPen(QColor(170, 170, 170))
        for frac in (0.0, 0.25, 0.5, 0.75, 1.0):
            hz = frac * self.nyquist
            y = self._y_hz(hz)
            p.drawLine(QPointF(spec.left() - 4, y), QPointF(spec.left(), y))
            label = f"{hz / 1000:.1f} kHz" if hz >= 1000 else f"{hz:.0f} Hz"
            p.drawText(QRectF(0, y - 7, self.AXIS_W - 6, 14),
                       int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter), label)
        p.drawText(QRectF(0, wave.top(), self.AXIS_W - 6, wave.height()),
                   int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                   self.tr("wave"))
        step = max(0.1, _nice(self.duration / 8))
        t = 0.0
        while t <= self.duration + 1e-9:
            x = self._x(t)
            p.drawText(QPointF(x + 2, self.height() - 3), axis_label(t, self.duration))
            p.drawLine(QPointF(x, spec.bottom()), QPointF(x, spec.bottom() + 4))
            t += step
        # spans and bands
        metrics = p.fontMetrics()
        placed: list[QRectF] = []

        def label_at(x: float, y: float, text: str, limit: float) -> QPointF | None:
            """Where a span's label can go without printing over another (moved down a line
            at a time); None when there is no room left (its span is still drawn)."""
            w, h = metrics.horizontalAdvance(text) + 4, metrics.height()
            while y + 2 <= limit:
                rect = QRectF(x, y - h + 3, w, h)
                if not any(rect.intersects(q) for q in placed):
                    placed.append(rect)
                    return QPointF(x, y)
                y += h
            return None

        for s in self.spans:
            hl = self.highlight is s
            color = QColor(255, 230, 0) if hl else QColor.fromHsv(
                int(40 - 40 * max(0.0, min(1.0, s.strength))), 220, 250)
            fill = QColor(color)
            fill.setAlpha(70 if hl else 45)
            r = self.span_rect(s)
            banded = s.low_hz is not None or s.high_hz is not None
            if banded:
                # a band: outline it in the spectrogram, mark its time span above the wave
                band = self.span_rect(s, band=True)
                p.fillRect(band, fill)
                p.setPen(QPen(color, 2, Qt.PenStyle.DashLine))
                p.drawRect(band)
                p.fillRect(QRectF(r.left(), wave.top(), r.width(), 4), color)
                p.setPen(color)
                at = label_at(band.left() + 3, band.top() + 12, s.label, spec.bottom())
                if at is not None:
                    p.drawText(at, s.label)
            else:
                p.fillRect(r, fill)
                p.setPen(QPen(color, 2 if hl else 1))
                p.drawLine(r.topLeft(), r.bottomLeft())
                p.drawLine(r.topRight(), r.bottomRight())
                at = label_at(r.left() + 3, wave.top() + 14, s.label, wave.bottom())
                if at is not None:
                    p.drawText(at, s.label)
        # the segments a long recording was analysed in: brackets along the bottom of the
        # waveform, and a dotted line where each later segment starts
        if len(self.segments) > 1:
            for k, (a, b) in enumerate(self.segments):
                r = self.segment_rect(k)
                tone = QColor(200, 200, 210) if k % 2 == 0 else QColor(140, 170, 210)
                p.setPen(QPen(tone, 1))
                p.drawLine(r.bottomLeft(), r.bottomRight())
                p.drawLine(r.bottomLeft(), r.topLeft())
                p.drawLine(r.bottomRight(), r.topRight())
                if r.width() > 40:
                    p.drawText(QRectF(r.left() + 3, r.top() - 3, r.width() - 6, r.height() + 4),
                               int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                               self.tr("segment {0}").format(k + 1))
                if k:
                    p.setPen(QPen(QColor(tone.red(), tone.green(), tone.blue(), 110), 1,
                                  Qt.PenStyle.DotLine))
                    p.drawLine(QPointF(r.left(), wave.top()), QPointF(r.left(), spec.bottom()))
        # what no detector examined: shaded and labelled, so that no one reads the absence of
        # marks there as the absence of evidence
        if self.examined_until is not None and self.examined_until < self.duration:
            x0 = self._x(self.examined_until)
            shade = QRectF(x0, wave.top(), spec.right() - x0, spec.bottom() - wave.top())
            p.fillRect(shade, QColor(20, 20, 24, 150))
            p.fillRect(shade, QBrush(QColor(160, 160, 160, 90), Qt.BrushStyle.BDiagPattern))
            p.setPen(QPen(QColor(220, 220, 220), 1, Qt.PenStyle.DashLine))
            p.drawLine(QPointF(x0, wave.top()), QPointF(x0, spec.bottom()))
            p.setPen(QColor(230, 230, 230))
            p.drawText(QPointF(x0 + 6, wave.bottom() + 16),
                       self.tr("not analysed after {0} (audio budget)").format(
                           fmt_time(self.examined_until)))
        # cursor
        x = self._x(self.cursor)
        p.setPen(QPen(QColor(80, 200, 255), 2))
        p.drawLine(QPointF(x, wave.top()), QPointF(x, spec.bottom()))
        p.end()


def _nice(raw: float) -> float:
    for s in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600):
        if s >= raw:
            return float(s)
    return 1800.0


class AudioViewer(QWidget):
    """The audio view with a play/pause button and a time readout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = AudioView()
        self.play_button = QPushButton(self.tr("Play"))
        self.play_button.clicked.connect(self.toggle_play)
        self.time_label = QLabel("0:00.000")
        self.info = QLabel("")
        self.info.setStyleSheet("color: #888;")
        row = QHBoxLayout()
        row.addWidget(self.play_button)
        row.addWidget(self.time_label)
        row.addStretch(1)
        row.addWidget(self.info)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.view, 1)
        lay.addLayout(row)
        self.view.seek_requested.connect(self.seek)
        self.path: str | None = None
        self._token = 0
        self._player: Any = None
        self._audio_out: Any = None
        self._loading = False

    @property
    def loading(self) -> bool:
        return self._loading

    def clear(self, message: str | None = None) -> None:
        self._token += 1
        self.stop()
        self.path = None
        self.view.message = message or self.tr("No audio")
        self.view.set_data(None, [])

    def load(self, path: str, findings: list[Any], *,
             examined_until: float | None = None,
             segments: list[tuple[float, float]] | None = None) -> None:
        """Decode ``path`` off the GUI thread and show it with the findings' spans;
        ``examined_until``: the time after which no audio detector looked (shaded);
        ``segments``: the segments a long recording was analysed in (bracketed)."""
        self._token += 1
        token = self._token
        self.stop()
        self.path = path
        spans = spans_from_findings(findings)
        self.view.message = self.tr("Computing spectrogram…")
        self.view.set_data(None, [])
        self._loading = True

        def done(data: dict[str, Any]) -> None:
            if token != self._token:
                return
            self._loading = False
            self.view.set_data(data, spans, examined_until=examined_until, segments=segments)
            self.info.setText(self.tr("{0} Hz, {1} ch, {2}").format(
                data["sample_rate"], data["channels"], fmt_time(data["duration"])))
            self.seek(0.0)

        def failed(msg: str) -> None:
            if token == self._token:
                self._loading = False
                self.view.message = self.tr("Cannot decode this audio: {0}").format(msg)
                self.view.update()

        run_task(load_audio_views, path, on_result=done, on_error=failed)

    def seek(self, t: float) -> None:
        self.view.set_cursor(t)
        self.time_label.setText(fmt_time(t))
        if self._player is not None:
            self._player.setPosition(int(t * 1000))

    def highlight(self, start: float, end: float, low: float | None = None,
                  high: float | None = None) -> None:
        match = next((s for s in self.view.spans if abs(s.start - start) < 1e-6
                      and abs(s.end - end) < 1e-6), None)
        if match is None:
            match = AudioSpan(start, end, low, high, "", 1.0)
        self.view.set_highlight(match)
        self.seek(start)

    # -- playback (QtMultimedia is imported only when the user first presses Play)
    def _ensure_player(self) -> bool:
        if self._player is not None:
            return True
        try:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer
        except ImportError:
            self.play_button.setEnabled(False)
            self.play_button.setToolTip(self.tr("Playback needs QtMultimedia, which is missing"))
            return False
        self._player = QMediaPlayer(self)
        self._audio_out = QAudioOutput(self)
        self._player.setAudioOutput(self._audio_out)
        self._player.positionChanged.connect(
            lambda ms: (self.view.set_cursor(ms / 1000.0),
                        self.time_label.setText(fmt_time(ms / 1000.0))))
        self._player.playbackStateChanged.connect(self._state_changed)
        self._player.errorOccurred.connect(
            lambda *_: self.info.setText(self.tr("Playback error: {0}").format(
                self._player.errorString())))
        return True

    def _state_changed(self, state: Any) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        playing = state == QMediaPlayer.PlaybackState.PlayingState
        self.play_button.setText(self.tr("Pause") if playing else self.tr("Play"))

    def toggle_play(self) -> None:
        if self.path is None or not self._ensure_player():
            return
        from PySide6.QtMultimedia import QMediaPlayer

        if self._player.playbackState() == QMediaPlayer.PlaybackState.PlayingState:
            self._player.pause()
            return
        if self._player.source() != QUrl.fromLocalFile(self.path):
            self._player.setSource(QUrl.fromLocalFile(self.path))
            self._player.setPosition(int(self.view.cursor * 1000))
        self._player.play()

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()
