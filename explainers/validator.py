"""Check each claim of a rationale against the item itself (DESIGN.md, "Claim").

:func:`validate` gives every claim a status:

- ``grounded``: an independent probe (:mod:`explainers.probes`) re-measured the artifact where
  the claim points and found it (or, for a negative claim such as "no noise inconsistency",
  found nothing);
- ``hallucinated``: the probe looked where the claim points and found nothing (or found what a
  negative claim denies), or the claim refers to what the item does not have: a face, eyes or
  mouth where no face is found, audio artifacts in a still image, a video-only artifact on an
  image, a time past the end, a band above the Nyquist frequency, a metadata field that is
  absent, a box outside the picture;
- ``unverifiable``: no probe exists for that artifact (most semantic artifacts), the probe could
  not measure, or a verdict sentence with no verdict to compare to.

Every status carries a reason sentence and the numbers behind it (``claim.measurement``).
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np

from explainers import taxonomy
from explainers.claims import AREA_WORDS, OPEN_END, parse_rationale
from explainers.probes import Target, get_probe, iter_frames, metadata_lookup
from triage_app.model import (Box, Claim, FrameSpan, Mask, MetadataField, Region, TimeSpan,
                              Verdict)

__all__ = ["validate", "validate_text", "find_faces_in", "face_region_box", "load_media",
           "summarize"]

#: Artifacts whose probe samples the claimed box with patches: finding none in a whole area
#: ("on the left") does not show that a small one is absent.
SAMPLED_ARTIFACTS = frozenset({"cloned_region"})

#: Aspects of prosody that the prosody probe (pitch spread, syllable rhythm) does not measure.
_UNMEASURED_PROSODY = re.compile(r"\b(paus|stress|pacing|emotion|breath)", re.I)

#: Artifacts that only exist where there is a face (or a head).
FACE_ARTIFACTS = {"unnatural_expressions", "unnatural_gaze_blinking",
                  "unnatural_body_head_movement", "av_desynchronization"}
_BODY_REGIONS = {"upper_limb", "trunk_torso", "lower_limb"}


# --------------------------------------------------------------------------- faces


def find_faces_in(rgb: np.ndarray) -> list[Box]:
    """Face boxes in an RGB picture.

    Uses ``detectors.image.faces.find_faces`` when that module exists; otherwise OpenCV's
    Viola-Jones frontal-face Haar cascade (Viola & Jones 2001, "Rapid object detection using a
    boosted cascade of simple features"), on a copy scaled to at most 960 px, with
    ``minNeighbors=6`` (conservative: a missed face only makes a face claim hallucinated when
    both finders miss it).
    """
    try:
        from detectors.image.faces import find_faces  # type: ignore[import-not-found]
    except Exception:
        find_faces = None
    if find_faces is not None:
        try:
            out = []
            for f in find_faces(rgb):
                b = getattr(f, "box", f)
                if isinstance(b, Box):
                    out.append(b)
                elif isinstance(b, (tuple, list)) and len(b) == 4:
                    out.append(Box(*(int(v) for v in b)))
            return out
        except Exception:
            pass
    import cv2

    H, W = rgb.shape[:2]
    scale = min(1.0, 960.0 / max(H, W))
    g = cv2.cvtColor(np.ascontiguousarray(rgb, dtype=np.uint8), cv2.COLOR_RGB2GRAY)
    if scale < 1.0:
        g = cv2.resize(g, (int(W * scale), int(H * scale)), interpolation=cv2.INTER_AREA)
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")
    side = max(20, int(min(g.shape) / 25))
    rects = cascade.detectMultiScale(g, scaleFactor=1.1, minNeighbors=6, minSize=(side, side))
    return [Box(int(x / scale), int(y / scale), int(w / scale), int(h / scale)) for (x, y, w, h) in
            (rects if len(rects) else [])]


def face_region_box(face: Box, region: str, width: int, height: int) -> Box:
    """The box of a TriDF face region from a face box (frontal-face proportions)."""
    x, y, w, h = face.x, face.y, face.w, face.h
    frac = {
        "upper_head": (0.0, -0.35, 1.0, 0.3),
        "eyes_region": (0.1, 0.2, 0.8, 0.3),
        "midface": (0.15, 0.35, 0.7, 0.35),
        "nasal_oral_region": (0.2, 0.5, 0.6, 0.45),
        "ear": (-0.15, 0.3, 1.3, 0.4),
        "cervical_region": (0.05, 0.8, 0.9, 0.6),
    }[region]
    b = Box(int(x + frac[0] * w), int(y + frac[1] * h), int(frac[2] * w), int(frac[3] * h))
    return b.clip(width, height)


# --------------------------------------------------------------------------- helpers


@dataclass
class _Ctx:
    media: Any
    kind: str
    width: int | None
    height: int | None
    duration: float | None
    sample_rate: int | None
    has_audio: bool
    faces_cache: dict[tuple[float, float | None], list[Box]]
    given_faces: list[Box] | None


def _ctx(media: Any, faces: Sequence[Box] | None) -> _Ctx:
    kind = getattr(media, "kind", None)
    if kind not in ("image", "video", "audio"):
        raise ValueError(f"media must be ImageMedia, VideoMedia or AudioMedia, got {type(media).__name__}")
    width = getattr(media, "width", None) if kind != "audio" else None
    height = getattr(media, "height", None) if kind != "audio" else None
    duration = None if kind == "image" else float(media.duration)
    sr = None
    has_audio = kind == "audio" or (kind == "video" and bool(getattr(media, "has_audio", False)))
    if kind == "audio":
        sr = int(media.sample_rate)
    return _Ctx(media, kind, width, height, duration, sr, has_audio, {},
                list(faces) if faces is not None else None)


#: Frames sampled for faces over a claimed span (or the whole clip): a frontal-face detector
#: misses a face in single frames (a head turned, motion blur), so one frame is not enough.
FACE_SAMPLES = 5


def _upright_faces(media) -> list[Box]:
    """Faces of a still, looked for as a viewer shows it (EXIF orientation applied: a phone
    stores portrait photos sideways), in stored pixel coordinates like every claim's box."""
    from detectors.image._common import orientation_of, stored_box, upright

    o = orientation_of(media)
    if o == 1:
        return find_faces_in(media.pixels)
    shape = media.pixels.shape
    return [stored_box(b, o, shape)
            for b in find_faces_in(np.ascontiguousarray(upright(media.pixels, o)))]


def _faces(ctx: _Ctx, at: float | None = None, end: float | None = None) -> list[Box]:
    """Faces in the image, or in a few frames of the video: at ``at`` alone, across
    ``at``..``end`` (a claimed span), or across the clip; a face in any frame counts."""
    if ctx.given_faces is not None:
        return ctx.given_faces
    key = (-1.0 if at is None else round(at, 1), None if end is None else round(end, 1))
    if key in ctx.faces_cache:
        return ctx.faces_cache[key]
    faces: list[Box] = []
    if ctx.kind == "image":
        faces = _upright_faces(ctx.media)
    elif ctx.kind == "video":
        last = max(0.0, (ctx.duration or 0.0) - 0.1)
        if at is None:
            times = list(np.linspace(0, last, FACE_SAMPLES))
        elif end is None or end - at < 0.5:
            times = [at]
        else:
            times = list(np.linspace(at, max(at, min(end, last)), FACE_SAMPLES))
        for t in times:
            for fr in iter_frames(ctx.media, start=t, end=t + 0.5):
                faces = find_faces_in(fr.rgb)
                break
            if faces:
                break
    ctx.faces_cache[key] = faces
    return faces


def _sentence_case(s: str) -> str:
    return s[0].upper() + s[1:] if s else s


def _absent_place(ctx: _Ctx, claim: Claim) -> str | None:
    """Why the place a claim points at does not exist in the item, or None: a time in a still
    image or past the end, a box outside the picture, a face region where no face is found.
    For sentences that name no artifact: whatever they meant, it cannot be there."""
    loc = claim.location
    if isinstance(loc, (TimeSpan, FrameSpan)):
        if ctx.kind == "image":
            return "the claim points at a time, and a still image has no time"
        if loc.start > (ctx.duration or 0.0) + 0.05:
            return (f"the claim points at {loc.start:.2f} s, past the end of the item "
                    f"({ctx.duration:.2f} s)")
    box = loc if isinstance(loc, Box) else getattr(loc, "box", None)
    if isinstance(box, Box) and ctx.kind in ("image", "video"):
        W, H = int(ctx.width or 0), int(ctx.height or 0)
        if box.area <= 0 or box.clip(W, H).area < 0.5 * box.area:
            return f"the box (x={box.x}, y={box.y}, {box.w}x{box.h}) lies outside the {W}x{H} picture"
    region = claim.region or (loc.name if isinstance(loc, Region) else None)
    if region in taxonomy.FACE_REGIONS and ctx.kind in ("image", "video") and not _faces(ctx):
        return f"the claim is about the {taxonomy.region_name(region)}, and no face is found"
    return None


def _set(claim: Claim, status: str, reason: str, measurement: dict[str, Any] | None = None) -> Claim:
    claim.status = status  # type: ignore[assignment]
    claim.reason = _sentence_case(reason.rstrip(".") + ".")
    claim.measurement = measurement or {}
    return claim


def _is_verdict(claim: Claim) -> bool:
    return claim.artifact is None and bool(claim.measurement) and "verdict" in claim.measurement


_MOD_WORDS = {"image": "a still image", "video": "a video", "audio": "an audio recording"}


def _modality_problem(ctx: _Ctx, artifact: str) -> str | None:
    mods = taxonomy.modalities(artifact)
    name = taxonomy.artifact_name(artifact)
    if ctx.kind in mods:
        if artifact == "av_desynchronization" and not ctx.has_audio:
            return "the video has no audio track, so it cannot be out of sync"
        return None
    if mods == ("audio",):
        if ctx.kind == "video":
            return None if ctx.has_audio else f"{name} is an audio artifact and the video has no audio track"
        return f"{name} is an audio artifact and {_MOD_WORDS[ctx.kind]} has no audio"
    if ctx.kind == "image" and "video" in mods:
        return f"{name} happens over time and a still image has no time"
    if ctx.kind == "audio":
        return f"{name} is a visual artifact and an audio recording has no picture"
    return f"{name} does not occur in {_MOD_WORDS[ctx.kind]}"


# --------------------------------------------------------------------------- one claim


def _check(claim: Claim, ctx: _Ctx, verdict: Verdict | None) -> Claim:
    if _is_verdict(claim):
        said = claim.measurement["verdict"]  # type: ignore[index]
        if verdict is None:
            return _set(claim, "unverifiable", "a verdict sentence, and no verdict to compare it with",
                        {"claimed_verdict": said})
        meas = {"claimed_verdict": said, "verdict": verdict.label,
                "probability": verdict.probability}
        if verdict.label == said:
            return _set(claim, "grounded", f"the fused verdict is {verdict.label.replace('_', ' ')}"
                        + (f" (p={verdict.probability:.2f})" if verdict.probability is not None else ""),
                        meas)
        if verdict.label == "inconclusive" or said == "inconclusive":
            return _set(claim, "unverifiable", f"the fused verdict is {verdict.label.replace('_', ' ')}, "
                        f"which neither confirms nor contradicts '{said.replace('_', ' ')}'", meas)
        return _set(claim, "hallucinated", f"the fused verdict is {verdict.label.replace('_', ' ')}, "
                    f"not {said.replace('_', ' ')}", meas)
    if claim.artifact is None:
        absent = _absent_place(ctx, claim)
        if absent:
            return _set(claim, "hallucinated", absent + " (the sentence names no artifact)")
        return _set(claim, "unverifiable", "the sentence names no artifact of the taxonomy")
    if not taxonomy.is_artifact(claim.artifact):
        return _set(claim, "unverifiable", f"'{claim.artifact}' is not an artifact of the taxonomy")
    art = claim.artifact
    name = taxonomy.artifact_name(art, ctx.kind)
    face_region = claim.region if claim.region in taxonomy.FACE_REGIONS else (
        claim.location.name if isinstance(claim.location, Region)
        and claim.location.name in taxonomy.FACE_REGIONS else None)
    if ctx.kind in ("image", "video") and (face_region or art in FACE_ARTIFACTS):
        # a claim about a face where there is none is hallucinated whatever else it says
        at = end = None
        if isinstance(claim.location, (TimeSpan, FrameSpan)) and ctx.duration is not None \
                and claim.location.start <= ctx.duration:
            at, end = claim.location.start, claim.location.end
        if not _faces(ctx, at, end):
            what = f"the {taxonomy.region_name(face_region)}" if face_region else "a face"
            return _set(claim, "hallucinated",
                        f"the claim is about {what}, and no face is found in the "
                        f"{'picture' if ctx.kind == 'image' else 'frames'}", {"faces": []})
    problem = _modality_problem(ctx, art)
    if problem:
        return _set(claim, "hallucinated", problem, {"media_kind": ctx.kind})

    target = Target()
    area_only = False  # the place is only an area word ("on the left"), not a box
    probe_artifact: str | None = None
    loc = claim.location
    region = claim.region
    notes: list[str] = []
    meas: dict[str, Any] = {}

    # ---- time and band
    if isinstance(loc, (TimeSpan, FrameSpan)):
        if ctx.kind == "image":
            return _set(claim, "hallucinated", "the claim points at a time, and a still image has no time")
        start, end = float(loc.start), float(loc.end)
        if start > (ctx.duration or 0.0) + 0.05:
            return _set(claim, "hallucinated", f"the claim points at {start:.2f} s, past the end of "
                        f"the item ({ctx.duration:.2f} s)", {"duration": ctx.duration, "claimed_start": start})
        target.start = start
        target.end = None if end >= OPEN_END / 2 else min(end, ctx.duration or end)
        if isinstance(loc, TimeSpan):
            target.low_hz, target.high_hz = loc.low_hz, loc.high_hz
            sr = ctx.sample_rate
            if sr is None and ctx.kind == "video" and ctx.has_audio:
                try:
                    a = ctx.media.audio(max_duration=1.0)
                except Exception:
                    a = None
                sr = int(a.sample_rate) if a is not None else None
            if sr is not None:
                nyq = sr / 2
                lo = loc.low_hz if loc.low_hz is not None else 0.0
                if lo >= nyq:
                    return _set(claim, "hallucinated", f"the claim points above {lo:.0f} Hz, and a "
                                f"recording sampled at {sr} Hz holds nothing above {nyq:.0f} Hz",
                                {"sample_rate": sr, "nyquist_hz": nyq, "claimed_low_hz": lo})
                if loc.high_hz is not None and loc.high_hz > nyq * 1.001 and loc.low_hz is None:
                    notes.append(f"band limited to Nyquist {nyq:.0f} Hz")
        if isinstance(loc, FrameSpan) and loc.box is not None:
            loc_box: Box | None = loc.box
        else:
            loc_box = None
    elif isinstance(loc, MetadataField):
        target.field, target.value = loc.name, loc.value
        loc_box = None
        if not loc.name.upper().startswith("C2PA") and art not in ("software_metadata",):
            # a metadata place for another artifact: the field must at least exist
            meta = metadata_lookup(ctx.media)
            if not any(k.partition(":")[2].lower() == loc.name.partition(":")[2].lower() for k in meta):
                return _set(claim, "hallucinated", f"the item has no {loc.name} field",
                            {"field": loc.name, "present": False})
            # what the claim rests on is the field's value: read it (DESIGN: "a metadata claim
            # by reading the field"), rather than re-measuring the artifact in the pixels
            probe_artifact = "software_metadata"
    elif isinstance(loc, Box):
        loc_box = loc
    elif isinstance(loc, Mask):
        loc_box = loc.box
    elif isinstance(loc, Region):
        loc_box = loc.box
        if region is None and taxonomy.is_region(loc.name):
            region = loc.name
        elif not taxonomy.is_region(loc.name):
            target.area = loc.name
    else:
        loc_box = None

    # ---- the picture: box checks, face regions, areas
    if ctx.kind in ("image", "video"):
        W, H = int(ctx.width or 0), int(ctx.height or 0)
        if loc_box is not None:
            clipped = loc_box.clip(W, H)
            if loc_box.area <= 0 or clipped.area < 0.5 * loc_box.area:
                return _set(claim, "hallucinated",
                            f"the box (x={loc_box.x}, y={loc_box.y}, {loc_box.w}x{loc_box.h}) lies "
                            f"{'outside' if clipped.area == 0 else 'mostly outside'} the {W}x{H} picture",
                            {"box": [loc_box.x, loc_box.y, loc_box.w, loc_box.h], "width": W, "height": H})
            target.box = clipped
        needs_face = (region in taxonomy.FACE_REGIONS) or art in FACE_ARTIFACTS
        if needs_face:
            faces = _faces(ctx, target.start, target.end)
            meas["faces"] = [[f.x, f.y, f.w, f.h] for f in faces]
            if not faces:
                what = taxonomy.region_name(region) if region in taxonomy.FACE_REGIONS else "a face"
                return _set(claim, "hallucinated",
                            f"the claim is about {('the ' + what) if region else what}, and no face "
                            f"is found in the {'picture' if ctx.kind == 'image' else 'frames'}",
                            {"faces": []})
            if region in taxonomy.FACE_REGIONS and target.box is None:
                face = max(faces, key=lambda b: b.area)
                target.box = face_region_box(face, region, W, H)
                notes.append(f"{taxonomy.region_name(region)} of the face at "
                             f"(x={face.x}, y={face.y}, {face.w}x{face.h})")
        if target.box is None and target.area and target.area in AREA_WORDS:
            fx0, fy0, fx1, fy1 = AREA_WORDS[target.area]
            target.box = Box(int(fx0 * W), int(fy0 * H), int((fx1 - fx0) * W), int((fy1 - fy0) * H))
            area_only = True
        if target.box is None and region == "background":
            faces = _faces(ctx, target.start)
            if faces:
                f = max(faces, key=lambda b: b.area)
                strips = [Box(0, 0, W, max(0, f.y - f.h // 4)), Box(0, 0, max(0, f.x - f.w // 4), H),
                          Box(min(W, f.x + f.w + f.w // 4), 0, max(0, W - f.x - f.w - f.w // 4), H)]
                target.box = max(strips, key=lambda b: b.area)
                notes.append("background taken as the largest area beside the face")
        if region in _BODY_REGIONS and target.box is None:
            notes.append(f"no body-part finder: the {taxonomy.region_name(region)} could not be "
                         "located, so the whole picture was measured")

    # ---- the probe
    probe = get_probe(probe_artifact or art)
    if probe is not None and art == "unnatural_prosody" and _UNMEASURED_PROSODY.search(claim.text):
        # the prosody probe measures pitch spread and rhythm; a claim about pauses, stress or
        # emotion is neither confirmed nor refuted by those
        return _set(claim, "unverifiable",
                    f"{name} could not be measured: the probe reads pitch spread and syllable "
                    "rhythm, not pauses, stress, pacing or emotion", meas or None)
    if probe is None:
        extra = (" (" + "; ".join(notes) + ")") if notes else ""
        return _set(claim, "unverifiable",
                    f"no probe can re-measure {name.lower()}: it needs a person's judgement{extra}",
                    meas or None)
    try:
        result = probe(ctx.media, target)
    except Exception as exc:  # a probe failure must not lose the other claims
        return _set(claim, "unverifiable", f"the {name.lower()} probe failed: {type(exc).__name__}: {exc}",
                    meas or None)
    meas.update(result.measurement)
    meas["probe"] = getattr(probe, "__name__", art)
    if target.box is not None:
        meas.setdefault("box", [target.box.x, target.box.y, target.box.w, target.box.h])
    reason = result.reason + ((" (" + "; ".join(notes) + ")") if notes else "")
    if result.found is None:
        return _set(claim, "unverifiable", f"{name} could not be measured: {reason}", meas)
    if claim.polarity == "absent":
        if result.found:
            return _set(claim, "hallucinated", f"the claim denies {name.lower()}, but the probe found "
                        f"it: {reason}", meas)
        return _set(claim, "grounded", f"no {name.lower()} found, as claimed: {reason}", meas)
    if result.found:
        return _set(claim, "grounded", f"{name} re-measured: {reason}", meas)
    if area_only and art in SAMPLED_ARTIFACTS:
        # "on the left" is a third of the picture: the probe's patches sample it, and a small
        # copy between them is missed, so not finding one there refutes nothing
        return _set(claim, "unverifiable",
                    f"{name} could not be confirmed: the claim names only an area "
                    f"({target.area}), which the probe samples with patches; a small copy "
                    f"inside it can fall between them: point at the region to check it "
                    f"({reason})", meas)
    return _set(claim, "hallucinated", f"the probe looked for {name.lower()} where the claim points "
                f"and found none: {reason}", meas)


# --------------------------------------------------------------------------- public


def validate(claims: Iterable[Claim], media: Any, *, verdict: Verdict | None = None,
             faces: Sequence[Box] | None = None) -> list[Claim]:
    """Check claims against a media item; returns new claims with ``status``, ``reason`` and
    ``measurement`` set (the inputs are not modified).

    Parameters
    ----------
    claims : iterable of Claim
    media : ImageMedia, VideoMedia or AudioMedia
    verdict : Verdict, optional
        The fused verdict, against which verdict sentences are checked.
    faces : sequence of Box, optional
        Face boxes already found by the pipeline; when None, faces are found here (lazily, only
        when a claim needs them).
    """
    ctx = _ctx(media, faces)
    out = []
    for c in claims:
        c2 = copy.deepcopy(c)
        if c2.modality is None:
            c2.modality = ctx.kind
        out.append(_check(c2, ctx, verdict))
    return out


def validate_text(text: str, media: Any, *, verdict: Verdict | None = None,
                  source: str = "imported") -> list[Claim]:
    """Parse a free-text rationale (:func:`explainers.claims.parse_rationale`) and validate it."""
    return validate(parse_rationale(text, getattr(media, "kind", None), source=source), media,
                    verdict=verdict)


def summarize(claims: Sequence[Claim]) -> dict[str, int]:
    """Counts by status: ``{"grounded": n, "hallucinated": n, "unverifiable": n, "unchecked": n}``."""
    out = {"grounded": 0, "hallucinated": 0, "unverifiable": 0, "unchecked": 0}
    for c in claims:
        out[c.status] = out.get(c.status, 0) + 1
    return out


def load_media(path: str | Path) -> Any:
    """Open a file as media: :func:`triage_app.media.open_media` when the media layer is
    complete; otherwise a minimal decode here (Pillow, soundfile, PyAV) so that the validator
    benchmark can run on its own."""
    from triage_app import media as m

    try:
        return m.open_media(path)
    except m.MediaError as exc:
        if "decoder failed" not in str(exc) and not isinstance(exc.__cause__, ImportError):
            raise
    except ImportError:
        pass
    p = Path(path)
    head = p.read_bytes()[:4096]
    sniffed = m.sniff(head)
    if sniffed is None:
        raise m.UnsupportedFormatError(f"not a media file: {p.name}", path=p)
    kind, fmt = sniffed
    if kind == "image":
        from PIL import Image

        raw = p.read_bytes()
        with Image.open(p) as im:
            im.load()
            exif = {}
            try:
                exif = {int(k): v for k, v in im.getexif().items()}
            except Exception:
                pass
            xmp = im.info.get("xmp")
            if isinstance(xmp, bytes):
                xmp = xmp.decode("utf-8", "replace")
            text = {k: v for k, v in getattr(im, "text", {}).items() if isinstance(v, str)}
            q = getattr(im, "quantization", None)
            pix = np.asarray(im.convert("RGB"))
        return m.ImageMedia(path=str(p), format=fmt, pixels=pix, raw=raw, exif=exif, xmp=xmp,
                            text_chunks=text, quantization=dict(q) if q else None)
    if kind == "audio":
        import soundfile as sf

        data, sr = sf.read(str(p), dtype="float32", always_2d=True)
        return m.AudioMedia(path=str(p), format=fmt, samples=data, sample_rate=int(sr),
                            size=p.stat().st_size)
    import av

    with av.open(str(p)) as c:
        vs = c.streams.video[0]
        fps = float(vs.average_rate or vs.guessed_rate or 25)
        dur = float(c.duration / 1e6) if c.duration else float(vs.duration * vs.time_base)
        return m.VideoMedia(path=str(p), format=fmt, width=vs.codec_context.width,
                            height=vs.codec_context.height, fps=fps, duration=dur,
                            frame_count=int(vs.frames or round(dur * fps)), codec=vs.codec_context.name,
                            container_metadata=dict(c.metadata), has_audio=bool(c.streams.audio),
                            size=p.stat().st_size)
