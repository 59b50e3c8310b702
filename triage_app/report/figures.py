"""Pictures of the evidence for the report (Pillow only; no Qt).

- image: the original beside the fused heatmap overlay with the findings' boxes labelled;
- video: keyframes at the suspicious spans and a timeline strip of the spans per detector;
- audio: a spectrogram with the flagged time spans and frequency bands drawn on it.

Each function returns a PIL image or None when there is nothing to draw.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from triage_app.segments import axis_label

PALETTE = [(230, 57, 70), (29, 53, 87), (244, 162, 97), (42, 157, 143), (131, 56, 236),
           (255, 183, 3), (69, 123, 157), (214, 40, 40)]

# Anchors of a perceptually ordered dark-to-bright colour map (black, purple, orange, yellow).
_CMAP_ANCHORS = np.array([[0, 0, 4], [87, 16, 110], [188, 55, 84], [249, 142, 9],
                          [252, 255, 164]], np.float32)


def colormap(values: np.ndarray) -> np.ndarray:
    """Map 0..1 floats to RGB uint8 along :data:`_CMAP_ANCHORS`."""
    v = np.clip(values, 0, 1) * (len(_CMAP_ANCHORS) - 1)
    lo = np.floor(v).astype(int)
    hi = np.minimum(lo + 1, len(_CMAP_ANCHORS) - 1)
    t = (v - lo)[..., None]
    return (_CMAP_ANCHORS[lo] * (1 - t) + _CMAP_ANCHORS[hi] * t).astype(np.uint8)


def _font(size: int = 12) -> ImageFont.ImageFont:
    try:
        import reportlab

        return ImageFont.truetype(str(Path(reportlab.__file__).parent / "fonts" / "Vera.ttf"), size)
    except OSError:
        return ImageFont.load_default()


def _colour_for(name: str, names: list[str]) -> tuple[int, int, int]:
    return PALETTE[names.index(name) % len(PALETTE)] if name in names else PALETTE[0]


#: Colour of a finding the explanation's probe refuted (its sentence "hallucinated").
REFUTED = (120, 120, 120)


def _refuted(f: dict[str, Any]) -> bool:
    return f.get("explanation_status") == "hallucinated"


def _tag(f: dict[str, Any], *, artifact: bool = True) -> str:
    """A figure label: the finding's number in the report's findings table, its artifact, and
    'refuted' when the probe did not confirm it."""
    n = f"#{f['n']}" if f.get("n") is not None else ""
    text = " ".join(t for t in (n, f["artifact"].replace("_", " ") if artifact else "") if t)
    return text + (" (refuted)" if _refuted(f) else "")


def _dashed_rectangle(draw: ImageDraw.ImageDraw, box: list[float], colour: tuple[int, int, int],
                      width: int = 2, dash: int = 6) -> None:
    x0, y0, x1, y1 = box
    for a, b, horizontal, at in ((x0, x1, True, y0), (x0, x1, True, y1),
                                 (y0, y1, False, x0), (y0, y1, False, x1)):
        t = a
        while t < b:
            e = min(b, t + dash)
            draw.line([(t, at), (e, at)] if horizontal else [(at, t), (at, e)], fill=colour,
                      width=width)
            t += 2 * dash


def _outline(draw: ImageDraw.ImageDraw, rect: list[float], f: dict[str, Any],
             colour: tuple[int, int, int], width: int = 2, dash: int = 6) -> None:
    """A finding's box: solid in its colour, or dashed grey when the probe refuted it."""
    if _refuted(f):
        _dashed_rectangle(draw, rect, REFUTED, width=width, dash=dash)
    else:
        draw.rectangle(rect, outline=colour, width=width)


def _free_label_y(placed: list[tuple[float, float, float, float]], x0: float, y: float,
                  w: float, h: float, limit: float) -> float:
    """The first height from ``y`` down at which a ``w`` x ``h`` label at ``x0`` overlaps no
    label already placed (labels of nearby findings would print over each other)."""
    while y + h <= limit:
        if not any(x0 < px1 and px0 < x0 + w and y < py1 and py0 < y + h
                   for px0, py0, px1, py1 in placed):
            break
        y += h + 1
    placed.append((x0, y, x0 + w, y + h))
    return y


def _box_of(loc: dict[str, Any] | None) -> dict[str, Any] | None:
    if not loc:
        return None
    if loc.get("kind") == "box":
        return loc
    if loc.get("kind") in ("mask", "frames", "region"):
        return loc.get("box")
    return None


def exif_orientation(path: Path) -> int:
    """The file's EXIF Orientation (1-8); 1 when absent or unreadable."""
    try:
        with Image.open(path) as im:
            o = int(im.getexif().get(274, 1))
    except Exception:  # noqa: BLE001  (damaged EXIF: shown as stored)
        return 1
    return o if 1 <= o <= 8 else 1


def image_figure(path: Path, heatmap: np.ndarray | None, findings: list[dict[str, Any]],
                 *, max_side: int = 900, orientation: int | None = None) -> Image.Image:
    """Original and overlay side by side, boxes of the findings drawn and labelled; a picture
    with an EXIF ``orientation`` (read from the file when None) is shown upright, maps and
    boxes turned with it, as a viewer shows it, though it is analysed as stored."""
    from detectors.image._common import upright, upright_box
    from triage_app.model import Box

    img = Image.open(path)
    img.draft("RGB", (max_side * 2, max_side * 2))  # fast JPEG downscale on decode
    img = img.convert("RGB")
    full_w, full_h = Image.open(path).size
    if orientation is None:
        orientation = exif_orientation(path)
    scale = min(1.0, max_side / max(img.size))
    small = img.resize((max(1, int(img.width * scale)), max(1, int(img.height * scale))))
    overlay = small.copy()
    if heatmap is not None and heatmap.size:
        hm = Image.fromarray(heatmap).resize(small.size, Image.BILINEAR)
        hm_arr = np.asarray(hm, np.float32) / 255.0
        colour = colormap(hm_arr)
        alpha = (np.clip(hm_arr * 1.4, 0, 0.75))[..., None]
        base = np.asarray(small, np.float32)
        overlay = Image.fromarray((base * (1 - alpha) + colour * alpha).astype(np.uint8))
    small, overlay = (Image.fromarray(np.ascontiguousarray(upright(np.asarray(im), orientation)))
                      for im in (small, overlay))
    up_w, up_h = (full_h, full_w) if orientation in (5, 6, 7, 8) else (full_w, full_h)
    sx, sy = small.width / up_w, small.height / up_h
    draw = ImageDraw.Draw(overlay)
    font = _font(12)
    detectors = sorted({f["detector"] for f in findings})
    placed: list[tuple[float, float, float, float]] = []
    # confirmed findings last, so that they are drawn over the refuted ones
    for f in sorted(findings, key=lambda f: not _refuted(f)):
        b = _box_of(f.get("location"))
        if not b:
            continue
        c = REFUTED if _refuted(f) else _colour_for(f["detector"], detectors)
        ub = upright_box(Box(b["x"], b["y"], b["w"], b["h"]), orientation, (full_h, full_w))
        x0, y0, x1, y1 = ub.x * sx, ub.y * sy, (ub.x + ub.w) * sx, (ub.y + ub.h) * sy
        _outline(draw, [x0, y0, x1, y1], f, c)
        label = _tag(f)
        tw = draw.textlength(label, font=font)
        x0 = min(x0, max(0.0, overlay.width - tw - 4))
        ty = _free_label_y(placed, x0, max(0.0, y0 - 15), tw + 4, 14, overlay.height)
        draw.rectangle([x0, ty, x0 + tw + 4, ty + 14], fill=c)
        draw.text((x0 + 2, ty), label, fill=(255, 255, 255), font=font)
    gap, bar = 10, 26
    out = Image.new("RGB", (small.width * 2 + gap, small.height + bar), (255, 255, 255))
    out.paste(small, (0, 0))
    out.paste(overlay, (small.width + gap, 0))
    _colour_bar(out, small.width + gap, small.height + 4, small.width, 10)
    return out


def _colour_bar(img: Image.Image, x: int, y: int, w: int, h: int) -> None:
    """The map's colour scale under the overlay: 0 (no evidence) to 1 (strongest)."""
    ramp = colormap(np.tile(np.linspace(0, 1, max(2, w))[None, :], (h, 1)))
    img.paste(Image.fromarray(ramp), (x, y))
    d = ImageDraw.Draw(img)
    font = _font(9)
    d.text((x, y + h), "0: no evidence", fill=(0, 0, 0), font=font)
    right = "1: strongest evidence of manipulation"
    d.text((x + w - d.textlength(right, font=font), y + h), right, fill=(0, 0, 0), font=font)


def _spans(findings: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    out = []
    for f in findings:
        loc = f.get("location") or {}
        if loc.get("kind") == kind:
            out.append({**loc, "detector": f["detector"], "artifact": f["artifact"],
                        "strength": f.get("strength", 0.5), "n": f.get("n"),
                        "explanation_status": f.get("explanation_status")})
    return out


def timeline_strip(duration: float, findings: list[dict[str, Any]], kind: str, *,
                   width: int = 1000) -> Image.Image | None:
    """One row per detector, spans drawn where it flagged something."""
    spans = _spans(findings, kind)
    if not spans or not duration or duration <= 0:
        return None
    detectors = sorted({s["detector"] for s in spans})
    row, label_w = 22, 200
    img = Image.new("RGB", (width, row * len(detectors) + 24), (255, 255, 255))
    d = ImageDraw.Draw(img)
    font = _font(11)
    track = width - label_w - 10
    for i, name in enumerate(detectors):
        y = i * row
        d.text((4, y + 4), name, fill=(0, 0, 0), font=font)
        d.rectangle([label_w, y + 4, label_w + track, y + row - 4], fill=(235, 235, 235))
        for s in spans:
            if s["detector"] != name:
                continue
            x0 = label_w + track * max(0.0, s["start"]) / duration
            x1 = label_w + track * min(duration, max(s["end"], s["start"] + duration / 400)) / duration
            d.rectangle([x0, y + 4, x1, y + row - 4],
                        fill=REFUTED if _refuted(s) else _colour_for(name, detectors))
    y = row * len(detectors) + 4
    _time_ticks(d, label_w, track, y, duration, width)
    return img


def _time_ticks(d: ImageDraw.ImageDraw, x_start: float, track: float, y: float, duration: float,
                img_width: int) -> None:
    """Eleven ticks along a time axis, the last label kept inside the picture."""
    font = _font(9)
    for k in range(0, 11):
        x = x_start + track * k / 10
        d.line([x, y, x, y + 4], fill=(0, 0, 0))
        label = axis_label(duration * k / 10, duration, short="{:.1f}s")
        tw = d.textlength(label, font=font)
        d.text((min(max(0.0, x - tw / 2), img_width - tw - 2), y + 5), label, fill=(0, 0, 0),
               font=font)


def video_keyframes(path: Path, findings: list[dict[str, Any]], *, count: int = 4,
                    height: int = 240) -> Image.Image | None:
    """Frames from the middle of the strongest flagged spans, with their box drawn."""
    from triage_app.media import MediaError, open_media

    spans = sorted(_spans(findings, "frames"), key=lambda s: -float(s["strength"]))[:count]
    if not spans:
        return None
    try:
        video = open_media(path)
    except MediaError:
        return None
    tiles = []
    for s in sorted(spans, key=lambda s: s["start"]):
        t = (s["start"] + s["end"]) / 2
        frame = next(iter(video.frames(start=t)), None)  # type: ignore[union-attr]
        if frame is None:
            continue
        im = Image.fromarray(frame.rgb)
        scale = height / im.height
        d = ImageDraw.Draw(im)
        if s.get("box"):
            b = s["box"]
            rect = [b["x"], b["y"], b["x"] + b["w"], b["y"] + b["h"]]
            _outline(d, rect, s, (230, 57, 70), width=max(2, int(2 / scale)),
                     dash=max(6, int(6 / scale)))
        im = im.resize((max(1, int(im.width * scale)), height))
        td = ImageDraw.Draw(im)
        font = _font(12)
        label = f"{frame.time:.2f} s  {_tag(s)}"
        td.rectangle([0, 0, td.textlength(label, font=font) + 8, 18], fill=(0, 0, 0))
        td.text((4, 2), label, fill=(255, 255, 255), font=font)
        tiles.append(im)
    if not tiles:
        return None
    out = Image.new("RGB", (sum(t.width for t in tiles) + 6 * (len(tiles) - 1), height), "white")
    x = 0
    for t in tiles:
        out.paste(t, (x, 0))
        x += t.width + 6
    return out


def spectrogram(samples: np.ndarray, sr: int, *, n_fft: int = 1024, hop: int = 256,
                max_frames: int = 1600) -> tuple[np.ndarray, float]:
    """Log-magnitude spectrogram normalised to 0..1 (freq x time, low frequencies at the bottom),
    and the hop in seconds actually used (long files use a larger hop).

    ``samples``: mono (n,), or (n, channels) (an ndarray or a long recording's streamed
    samples), whose channel mean is read a block at a time."""
    n = int(samples.shape[0])
    n_frames = max(1, 1 + (n - n_fft) // hop)
    if n_frames > max_frames:
        hop = int(np.ceil((n - n_fft) / max_frames))
        n_frames = max(1, 1 + (n - n_fft) // hop)
    if getattr(samples, "ndim", 1) == 2:
        from triage_app.audio_overview import mono_frames

        frames = mono_frames(samples, hop * np.arange(n_frames, dtype=np.int64), n_fft)
    else:
        x = samples.astype(np.float32)
        if len(x) < n_fft:
            x = np.pad(x, (0, n_fft - len(x)))
        idx = np.arange(n_fft)[None, :] + hop * np.arange(n_frames)[:, None]
        frames = x[idx]
    frames = frames * np.hanning(n_fft).astype(np.float32)
    mag = np.abs(np.fft.rfft(frames, axis=1)).T
    db = 20 * np.log10(mag + 1e-6)
    top = db.max()
    norm = np.clip((db - (top - 90)) / 90, 0, 1)
    return norm[::-1], hop / sr


def audio_figure(samples: Any, sr: int, findings: list[dict[str, Any]], *,
                 width: int = 1000, height: int = 260,
                 examined_until: float | None = None,
                 segments: list[list[float]] | None = None) -> Image.Image:
    """Spectrogram with flagged spans (and bands) outlined, plus a time axis; after
    ``examined_until`` s (the audio detectors' budget) greyed and hatched: not analysed;
    ``segments`` (a long recording analysed in segments) bracketed along the bottom.
    ``samples`` as for :func:`spectrogram`."""
    spec, _ = spectrogram(samples, sr)
    im = Image.fromarray(colormap(spec)).resize((width, height), Image.BILINEAR)
    d = ImageDraw.Draw(im)
    duration = int(samples.shape[0]) / sr
    nyq = sr / 2
    spans = _spans(findings, "time")
    detectors = sorted({s["detector"] for s in spans})
    font = _font(11)
    placed: list[tuple[float, float, float, float]] = []
    for s in sorted(spans, key=lambda s: not _refuted(s)):
        c = REFUTED if _refuted(s) else _colour_for(s["detector"], detectors)
        x0 = width * max(0.0, s["start"]) / duration
        x1 = width * min(duration, max(s["end"], s["start"] + duration / 300)) / duration
        lo = s.get("low_hz") or 0.0
        hi = s.get("high_hz") or nyq
        y0 = height * (1 - min(hi, nyq) / nyq)
        y1 = height * (1 - max(lo, 0.0) / nyq)
        _outline(d, [x0, y0, x1, y1], s, c)
        # the number only: the findings table names the artifact and the detector
        label = _tag(s, artifact=False) or s["artifact"].replace("_", " ")
        tw = d.textlength(label, font=font)
        lx = min(x0 + 3, width - tw - 4)
        ly = _free_label_y(placed, lx, y0 + 2, tw + 4, 13, height)
        # white on the detector's colour: its own colour on black was unreadable for the
        # dark ones (navy)
        d.rectangle([lx - 1, ly, lx + tw + 2, ly + 13], fill=c)
        d.text((lx, ly), label, fill=(255, 255, 255), font=font)
    if examined_until is not None and 0 <= examined_until < duration:
        x0 = int(width * examined_until / duration)
        grey = Image.new("RGB", (width - x0, height), (128, 128, 128))
        shade = Image.blend(im.crop((x0, 0, width, height)), grey, 0.6)
        hatch = ImageDraw.Draw(shade)
        for k in range(-height, width - x0, 14):
            hatch.line([(k, height), (k + height, 0)], fill=(90, 90, 90), width=1)
        im.paste(shade, (x0, 0))
        d.line([(x0, 0), (x0, height)], fill=(255, 255, 255), width=2)
        d.text((x0 + 6, 4), f"not analysed after {examined_until:g} s (audio budget)",
               fill=(255, 255, 255), font=font)
    if segments and len(segments) > 1:
        for k, (a, b) in enumerate(segments):
            y = height - 4 - 8 * (k % 2)
            x0, x1 = width * a / duration, width * min(b, duration) / duration
            d.line([(x0, y), (x1, y)], fill=(235, 235, 235), width=1)
            d.line([(x0, y), (x0, y - 5)], fill=(235, 235, 235), width=1)
            d.line([(x1, y), (x1, y - 5)], fill=(235, 235, 235), width=1)
            d.text((x0 + 3, y - 13), f"segment {k + 1}", fill=(235, 235, 235), font=_font(9))
    out = Image.new("RGB", (width + 50, height + 20), "white")
    out.paste(im, (50, 0))
    od = ImageDraw.Draw(out)
    for k in range(0, 5):
        y = height * k / 4
        od.text((2, min(height - 10, y)), f"{nyq * (1 - k / 4) / 1000:.1f} kHz", fill=(0, 0, 0),
                font=_font(9))
    _time_ticks(od, 50, width, height, duration, out.width)
    return out


def figures_for_item(case: Any, record: dict[str, Any]) -> list[tuple[str, Image.Image]]:
    """(caption, picture) pairs for one item of the report."""
    from triage_app.media import MediaError, open_media

    out: list[tuple[str, Image.Image]] = []
    sha = record["sha256"]
    try:
        path = case.evidence_path(sha)
    except (KeyError, OSError) as exc:  # the copy is gone: say so in the report, do not hide it
        return [(f"(picture unavailable: the evidence copy cannot be found: {exc})",
                 Image.new("RGB", (10, 10), "white"))]
    kind = record.get("kind") or (record.get("media") or {}).get("kind")
    findings = record.get("findings", [])
    try:
        if kind == "image":
            heat = case.latest_map(sha, "fused")
            orientation = exif_orientation(path)
            out.append(("Left: the evidence. Right: fused localization map (bright = stronger "
                        "evidence of manipulation) with the findings' boxes."
                        + (" Shown upright, as its EXIF orientation tells a viewer; analysed "
                           "and located as stored in the file." if orientation != 1 else ""),
                        image_figure(path, heat, findings, orientation=orientation)))
        elif kind == "video":
            media = record.get("media") or {}
            kf = video_keyframes(path, findings)
            if kf is not None:
                out.append(("Frames from the strongest flagged spans.", kf))
            strip = timeline_strip(float(media.get("duration") or 0), findings, "frames")
            if strip is not None:
                out.append(("Timeline: flagged spans per detector.", strip))
            audio_spans = [f for f in findings if (f.get("location") or {}).get("kind") == "time"]
            if audio_spans:
                strip = timeline_strip(float(media.get("duration") or 0), findings, "time")
                if strip is not None:
                    out.append(("Soundtrack: flagged spans per detector.", strip))
        elif kind == "audio":
            media = open_media(path)
            # set by analyses made before long recordings were analysed in segments
            examined = (record.get("media") or {}).get("audio_examined_s")
            segments = (record.get("media") or {}).get("audio_segments")
            out.append(("Spectrogram (0 Hz at the bottom) with flagged spans and bands"
                        + ("; hatched: not analysed (audio budget)" if examined else "")
                        + (f"; bracketed: the {len(segments)} segments it was analysed in"
                           if segments and len(segments) > 1 else "") + ".",
                        # (n, channels), read a block at a time when the file is streamed
                        audio_figure(media.samples, media.sample_rate,  # type: ignore[union-attr]
                                     findings, examined_until=examined, segments=segments)))
    except (MediaError, OSError, ValueError) as exc:
        out.append((f"(picture unavailable: {exc})", Image.new("RGB", (10, 10), "white")))
    return out
