"""Image viewer: zoom and pan, the fused heatmap and per-detector layers over the original,
finding boxes drawn and labelled, and a synchronized side-by-side original (Sherloq's viewer).

The viewer only displays: pixels and maps arrive as ``QImage`` built off the GUI thread
(:func:`rgb_to_qimage`, :func:`colorize_map`), findings as model objects.
"""

from __future__ import annotations

import sys
from typing import Any, Iterable

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import (QBrush, QColor, QFont, QImage, QPainter, QPen, QPixmap,
                           QTransform, QWheelEvent)
from PySide6.QtWidgets import (QCheckBox, QGraphicsItem, QGraphicsPixmapItem,
                               QGraphicsRectItem, QGraphicsScene, QGraphicsSimpleTextItem,
                               QGraphicsView, QHBoxLayout, QLabel, QMenu, QSlider,
                               QSplitter, QToolButton, QVBoxLayout, QWidget)

from triage_app.model import Box, FrameSpan, Mask, Region


# --------------------------------------------------------------------------- conversions
# (plain functions of arrays, safe to call in a worker thread)


_LITTLE = sys.byteorder == "little"


def rgb_to_qimage(rgb: np.ndarray) -> QImage:
    """uint8 (H, W, 3) or (H, W) -> an opaque 32-bit QImage that owns its pixels.

    32-bit RGB is the format the screen uses, so turning it into a pixmap on the GUI thread
    is a plain copy (a 12-megapixel RGB888 image costs ~100 ms there; RGB32 ~15 ms).
    """
    arr = np.asarray(rgb)
    if arr.dtype != np.uint8:
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=2)
    h, w = arr.shape[:2]
    out = np.empty((h, w, 4), np.uint8)
    if _LITTLE:  # 0xffRRGGBB in memory order B, G, R, A
        out[..., 0], out[..., 1], out[..., 2] = arr[..., 2], arr[..., 1], arr[..., 0]
    else:
        out[..., 1], out[..., 2], out[..., 3] = arr[..., 0], arr[..., 1], arr[..., 2]
    out[..., 3 if _LITTLE else 0] = 255
    return QImage(out.data, w, h, 4 * w, QImage.Format.Format_RGB32).copy()


def rgba_premultiplied_qimage(rgb: np.ndarray, alpha: np.ndarray) -> QImage:
    """RGB (H, W, 3) and alpha (H, W) -> premultiplied ARGB32, which becomes a pixmap with no
    conversion on the GUI thread."""
    a = alpha.astype(np.uint16)
    pm = (rgb.astype(np.uint16) * a[..., None] // 255).astype(np.uint8)
    h, w = alpha.shape
    out = np.empty((h, w, 4), np.uint8)
    order = (2, 1, 0) if _LITTLE else (0, 1, 2)  # memory B, G, R, A (or A, R, G, B)
    first = 0 if _LITTLE else 1
    for i, c in enumerate(order):
        out[..., first + i] = pm[..., c]
    out[..., 3 if _LITTLE else 0] = alpha
    return QImage(out.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied).copy()


#: overlays are kept at most this size on their longest side (they are stretched to the image)
MAP_MAX_SIDE = 2048

#: at most this many finding boxes carry a text label (the strongest); the others a tooltip
LABELS_MAX = 4


def _inferno_lut() -> np.ndarray:
    # A perceptually ordered dark-purple -> red -> yellow ramp (inferno-like), 256 x 3.
    stops = np.array([[0, 0, 4], [40, 11, 84], [101, 21, 110], [159, 42, 99],
                      [212, 72, 66], [245, 125, 21], [250, 193, 39], [252, 255, 164]], float)
    x = np.linspace(0, 1, len(stops))
    t = np.linspace(0, 1, 256)
    return np.stack([np.interp(t, x, stops[:, c]) for c in range(3)], axis=1).astype(np.uint8)


_LUT = _inferno_lut()


def colorize_map(heat: np.ndarray, *, max_side: int = MAP_MAX_SIDE) -> QImage:
    """A uint8 map (0 = no evidence, 255 = strongest) -> a colour overlay whose opacity rises
    with the evidence (0 stays transparent). Maps larger than ``max_side`` are subsampled: the
    viewer stretches the overlay onto the image anyway."""
    m = np.asarray(heat)
    if m.ndim == 3:
        m = m[..., 0]
    if m.dtype != np.uint8:
        m = np.clip(m * (255.0 if m.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8)
    step = max(1, -(-max(m.shape) // max_side))
    if step > 1:
        m = m[::step, ::step]
    alpha = np.clip(m.astype(np.float32) * 1.4, 0, 235).astype(np.uint8)
    return rgba_premultiplied_qimage(_LUT[m], alpha)


def location_box(loc: Any) -> Box | None:
    """The pixel box a location points at, if it has one."""
    if isinstance(loc, Box):
        return loc
    if isinstance(loc, Mask):
        return loc.box
    if isinstance(loc, (Region, FrameSpan)):
        return loc.box
    return None


def orientation_transform(orientation: int) -> QTransform:
    """How a viewer turns a stored picture with EXIF ``orientation`` (1-8) to show it upright,
    as a linear map of scene coordinates (the view centres the result). Findings, maps and boxes
    stay in stored-pixel coordinates, so one view transform turns all of them together."""
    return {2: QTransform(-1, 0, 0, 1, 0, 0), 3: QTransform().rotate(180),
            4: QTransform(1, 0, 0, -1, 0, 0), 5: QTransform(0, 1, 1, 0, 0, 0),
            6: QTransform().rotate(90), 7: QTransform(0, -1, -1, 0, 0, 0),
            8: QTransform().rotate(-90)}.get(orientation, QTransform())


def zoom_level(t: QTransform) -> float:
    """Screen pixels per image pixel of a view transform (turned or mirrored or not)."""
    return float(np.sqrt(abs(t.determinant())))


# --------------------------------------------------------------------------- the view


class ZoomView(QGraphicsView):
    """A graphics view with wheel zoom around the cursor and drag to pan."""

    zoomed = Signal(float)

    def __init__(self, scene: QGraphicsScene, parent: QWidget | None = None) -> None:
        super().__init__(scene, parent)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        self.setBackgroundBrush(QBrush(QColor(18, 18, 22)))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._fitted = True
        #: the turn that shows the picture upright (identity: as stored)
        self.orientation = QTransform()

    def wheelEvent(self, event: QWheelEvent) -> None:
        factor = 1.25 if event.angleDelta().y() > 0 else 0.8
        self.zoom_by(factor)

    def zoom_by(self, factor: float) -> None:
        scale = zoom_level(self.transform()) * factor
        if not 0.02 <= scale <= 64:
            return
        self._fitted = False
        self.scale(factor, factor)
        self.zoomed.emit(zoom_level(self.transform()))

    def fit(self) -> None:
        rect = self.sceneRect()
        if rect.isEmpty():
            return
        self._fitted = True
        self.setTransform(self.orientation)
        self.fitInView(rect, Qt.AspectRatioMode.KeepAspectRatio)
        self.zoomed.emit(zoom_level(self.transform()))

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        if self._fitted:
            self.fit()


class ImageViewer(QWidget):
    """Original (left, optional) and analysed image (right) with overlay layers and boxes."""

    #: the set of visible layers changed (names)
    layers_changed = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.left_scene = QGraphicsScene(self)
        self.right_scene = QGraphicsScene(self)
        self.left = ZoomView(self.left_scene)
        self.right = ZoomView(self.right_scene)
        self._base_left: QGraphicsPixmapItem | None = None
        self._base_right: QGraphicsPixmapItem | None = None
        self._layers: dict[str, QGraphicsPixmapItem] = {}
        self._box_items: list[QGraphicsItem] = []
        self._rect_items: list[QGraphicsRectItem] = []
        self._highlight: list[QGraphicsItem] = []
        self._findings: list[Any] = []
        self._size = (0, 0)
        self._syncing = False

        # parameter bar (Sherloq: a bar over the viewer)
        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 2)
        self.side_by_side = QCheckBox(self.tr("Side by side"))
        self.side_by_side.setChecked(True)
        self.side_by_side.toggled.connect(self._toggle_side)
        self.overlay_check = QCheckBox(self.tr("Heatmap"))
        self.overlay_check.setChecked(True)
        self.overlay_check.toggled.connect(self._apply_visibility)
        self.opacity = QSlider(Qt.Orientation.Horizontal)
        self.opacity.setRange(0, 100)
        self.opacity.setValue(60)
        self.opacity.setMinimumWidth(70)
        self.opacity.setMaximumWidth(140)
        self.opacity.setToolTip(self.tr("Heatmap opacity"))
        self.opacity.valueChanged.connect(self._apply_visibility)
        self.layers_button = QToolButton()
        self.layers_button.setText(self.tr("Layers"))
        self.layers_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.layers_menu = QMenu(self)
        self.layers_button.setMenu(self.layers_menu)
        self.boxes_check = QCheckBox(self.tr("Boxes"))
        self.boxes_check.setChecked(True)
        self.boxes_check.toggled.connect(self._apply_visibility)
        self.upright_check = QCheckBox(self.tr("Upright"))
        self.upright_check.setChecked(True)
        self.upright_check.setToolTip(self.tr(
            "Turn the picture as its EXIF orientation tells a viewer to (maps and boxes turn "
            "with it); off: as stored in the file, as it is analysed"))
        self.upright_check.toggled.connect(self._apply_orientation)
        self.upright_check.hide()
        self._orientation = 1
        fit = QToolButton()
        fit.setText(self.tr("Fit"))
        fit.clicked.connect(self.fit)
        self.zoom_label = QLabel("")
        for w in (self.side_by_side, self.overlay_check, self.opacity, self.layers_button,
                  self.boxes_check, self.upright_check, fit):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.zoom_label)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.left)
        self.splitter.addWidget(self.right)
        self.message = QLabel(self.tr("No item selected"))
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setStyleSheet("color: #888;")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addLayout(bar)
        lay.addWidget(self.splitter, 1)
        lay.addWidget(self.message)
        self.splitter.hide()

        # synchronized pan and zoom
        for a, b in ((self.left, self.right), (self.right, self.left)):
            a.horizontalScrollBar().valueChanged.connect(
                lambda v, b=b: self._sync_scroll(b.horizontalScrollBar(), v))
            a.verticalScrollBar().valueChanged.connect(
                lambda v, b=b: self._sync_scroll(b.verticalScrollBar(), v))
            a.zoomed.connect(lambda s, a=a, b=b: self._sync_zoom(a, b))

    # -- sync
    def _sync_scroll(self, bar: Any, value: int) -> None:
        if self._syncing:
            return
        self._syncing = True
        bar.setValue(value)
        self._syncing = False

    def _sync_zoom(self, src: ZoomView, dst: ZoomView) -> None:
        if self._syncing or not src.isVisible():
            return
        self._syncing = True
        dst.setTransform(QTransform(src.transform()))
        dst._fitted = src._fitted
        dst.horizontalScrollBar().setValue(src.horizontalScrollBar().value())
        dst.verticalScrollBar().setValue(src.verticalScrollBar().value())
        self._syncing = False
        self.zoom_label.setText(self.tr("{0:.0f}%").format(zoom_level(src.transform()) * 100))

    def _toggle_side(self, on: bool) -> None:
        self.left.setVisible(on)
        if on:
            self.left.setTransform(QTransform(self.right.transform()))
        self.right.fit()

    # -- content
    def clear(self, message: str | None = None) -> None:
        for scene in (self.left_scene, self.right_scene):
            scene.clear()
        self._base_left = self._base_right = None
        self._layers.clear()
        self._box_items.clear()
        self._rect_items.clear()
        self._highlight.clear()
        self._findings = []
        self.layers_menu.clear()
        self.splitter.hide()
        self.message.setText(message if message is not None else self.tr("No item selected"))
        self.message.show()

    def set_image(self, image: QImage | QPixmap, *, keep_view: bool = False,
                  logical_size: tuple[int, int] | None = None, orientation: int = 1) -> None:
        """Show a new picture; overlays and boxes of the previous one are removed unless
        ``keep_view`` (a new video frame under the same overlays). ``logical_size`` is the
        size in the coordinates findings use, when the picture was decoded smaller.
        ``orientation`` is the file's EXIF orientation: shown upright unless the analyst
        unticks "Upright"; the picture, its maps and boxes stay in stored coordinates."""
        pix = image if isinstance(image, QPixmap) else QPixmap.fromImage(image)
        w, h = logical_size or (pix.width(), pix.height())
        scale = QTransform.fromScale(w / max(1, pix.width()), h / max(1, pix.height()))
        if keep_view and self._base_right is not None:
            for item in (self._base_left, self._base_right):
                item.setPixmap(pix)
                item.setTransform(scale)
            return
        self.clear()
        self._size = (w, h)
        self._orientation = orientation if 1 <= orientation <= 8 else 1
        self.upright_check.setVisible(self._orientation != 1)
        self._set_view_orientation()
        self._base_left = self.left_scene.addPixmap(pix)
        self._base_right = self.right_scene.addPixmap(pix)
        for item in (self._base_left, self._base_right):
            item.setTransform(scale)
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        for scene in (self.left_scene, self.right_scene):
            scene.setSceneRect(QRectF(0, 0, w, h))
        self.message.hide()
        # side by side for tall pictures, one above the other for wide ones (as shown)
        shown_w, shown_h = (h, w) if self._turned() else (w, h)
        wide = shown_w / max(1, shown_h) > self.width() / max(1, self.height())
        self.splitter.setOrientation(Qt.Orientation.Vertical if wide
                                     else Qt.Orientation.Horizontal)
        self.splitter.show()
        self.fit()

    @property
    def image_size(self) -> tuple[int, int]:
        return self._size

    @property
    def orientation(self) -> int:
        """The EXIF orientation the picture is shown with (1: as stored)."""
        return self._orientation if self.upright_check.isChecked() else 1

    def _turned(self) -> bool:
        return self.orientation in (5, 6, 7, 8)

    def _set_view_orientation(self) -> None:
        t = orientation_transform(self.orientation)
        self.left.orientation = QTransform(t)
        self.right.orientation = QTransform(t)

    def _apply_orientation(self, *_: Any) -> None:
        self._set_view_orientation()
        if self._base_right is not None:
            self.fit()
            if self._findings:  # labels are placed as the picture is shown
                self.set_findings(self._findings)

    def set_maps(self, maps: dict[str, QImage], *, visible: Iterable[str] = ("fused",)) -> None:
        """Overlay layers by name ("fused" and detector names), scaled to the image."""
        for item in self._layers.values():
            self.right_scene.removeItem(item)
        self._layers.clear()
        self.layers_menu.clear()
        show = set(visible)
        w, h = self._size
        for z, (name, img) in enumerate(sorted(maps.items(), key=lambda kv: kv[0] != "fused")):
            item = self.right_scene.addPixmap(QPixmap.fromImage(img))
            if img.width() and img.height() and w and h and (img.width(), img.height()) != (w, h):
                item.setTransform(QTransform.fromScale(w / img.width(), h / img.height()))
            item.setZValue(10 + z)
            item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
            self._layers[name] = item
            act = self.layers_menu.addAction(self.tr("Fused map") if name == "fused" else name)
            act.setCheckable(True)
            act.setChecked(name in show)
            act.setData(name)
            act.toggled.connect(self._apply_visibility)
        self.layers_button.setEnabled(bool(maps))
        self._apply_visibility()

    def layer_names(self) -> list[str]:
        return list(self._layers)

    def visible_layers(self) -> list[str]:
        return [a.data() for a in self.layers_menu.actions() if a.isChecked()]

    def set_layer_visible(self, name: str, on: bool) -> None:
        for act in self.layers_menu.actions():
            if act.data() == name:
                act.setChecked(on)
        self._apply_visibility()

    def layer_item(self, name: str) -> QGraphicsPixmapItem | None:
        return self._layers.get(name)

    def _apply_visibility(self, *_: Any) -> None:
        shown = set(self.visible_layers()) if self.overlay_check.isChecked() else set()
        op = self.opacity.value() / 100.0
        for name, item in self._layers.items():
            item.setVisible(name in shown)
            item.setOpacity(op)
        for item in self._box_items:
            item.setVisible(self.boxes_check.isChecked())
        self.layers_changed.emit(sorted(shown))

    def set_findings(self, findings: Iterable[Any]) -> None:
        """Draw each finding that has a pixel box, labelled with its artifact and detector."""
        findings = list(findings)
        self._findings = findings
        for item in self._box_items:
            self.right_scene.removeItem(item)
        self._box_items.clear()
        self._rect_items.clear()
        font = QFont()
        font.setPointSize(9)
        boxed = [f for f in findings
                 if location_box(f.location) is not None and location_box(f.location).area > 0]
        # Labels for the strongest few only (they would pile up); every box has a tooltip.
        labelled = {id(f) for f in sorted(boxed, key=lambda f: -f.strength)[:LABELS_MAX]}
        # Labels keep a constant size on screen; at the present zoom, find their size in image
        # pixels and push a label down while it would cover a stronger one placed before it.
        scale = zoom_level(self.right.transform()) or 1.0
        # placed as the picture is shown (turned upright or not): a label sits at the top left
        # of its box on screen and is pushed down the screen, whatever the stored axes are
        turn = orientation_transform(self.orientation)
        back, _ = turn.inverted()
        placed: list[QRectF] = []
        for f in sorted(boxed, key=lambda f: -f.strength):
            box = location_box(f.location)
            color = QColor.fromHsv(int(200 - 200 * max(0.0, min(1.0, f.strength))), 230, 255)
            pen = QPen(color, 2 if id(f) in labelled else 1)
            pen.setCosmetic(True)
            rect = self.right_scene.addRect(QRectF(box.x, box.y, box.w, box.h), pen)
            rect.setZValue(50)
            rect.setToolTip(f"{f.artifact} ({f.detector}, strength {f.strength:.2f}): "
                            f"{f.measurement.describe()}")
            self._box_items.append(rect)
            self._rect_items.append(rect)
            if id(f) not in labelled:
                continue
            label = QGraphicsSimpleTextItem(f"{f.artifact} · {f.strength:.2f}")
            label.setFont(font)
            label.setBrush(QBrush(color))
            label.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            br = label.boundingRect()
            shown = turn.mapRect(QRectF(box.x, box.y, box.w, box.h))
            spot = QRectF(shown.x(), shown.y(), br.width() / scale, br.height() / scale)
            for _ in range(LABELS_MAX):
                if not any(spot.intersects(p) for p in placed):
                    break
                spot.translate(0, spot.height())
            placed.append(spot)
            label.setPos(back.map(spot.topLeft()))
            label.setZValue(51)
            bg = QGraphicsRectItem(label.boundingRect())
            bg.setBrush(QBrush(QColor(0, 0, 0, 170)))
            bg.setPen(QPen(Qt.PenStyle.NoPen))
            bg.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations, True)
            bg.setPos(label.pos())
            bg.setZValue(50.5)
            self.right_scene.addItem(bg)
            self.right_scene.addItem(label)
            self._box_items += [bg, label]
        self._apply_visibility()

    def box_count(self) -> int:
        return len(self._rect_items)

    def highlight(self, box: Box | None) -> None:
        """Outline ``box`` in both views and bring it into view (None clears)."""
        for item in self._highlight:
            item.scene().removeItem(item)
        self._highlight.clear()
        if box is None or self._base_right is None:
            return
        pen = QPen(QColor(255, 230, 0), 3, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        rect = QRectF(box.x, box.y, box.w, box.h)
        for scene in (self.left_scene, self.right_scene):
            item = scene.addRect(rect, pen, QBrush(QColor(255, 230, 0, 40)))
            item.setZValue(100)
            self._highlight.append(item)
        self.right.centerOn(rect.center())
        self.left.centerOn(rect.center())

    def highlighted_rect(self) -> QRectF | None:
        return self._highlight[-1].rect() if self._highlight else None

    def fit(self) -> None:
        self.right.fit()  # the left view follows through the zoom sync
        if not self.left.isVisible():
            self.left._fitted = True
