"""What the file's own metadata says about where it came from.

Reads EXIF, XMP, IPTC and PNG text chunks (images) or container, stream and audio tags (video,
audio) and looks for the declarations that editing programs and AI generators write:

- an AI generator declaring itself: IPTC/XMP ``Iptc4xmpExt:DigitalSourceType`` =
  ``trainedAlgorithmicMedia`` (and the composite / algorithmic codes), generator parameters in
  PNG text chunks (Stable Diffusion WebUI ``parameters``, ComfyUI ``prompt``/``workflow``,
  InvokeAI, NovelAI's JSON ``Comment``), a generator name in ``Software``/``CreatorTool``/
  history agents (Midjourney, DALL-E, Firefly, NovelAI...);
- editing software: ``EXIF:Software``, ``XMP:CreatorTool``, ``xmpMM:History`` software
  agents, ``photoshop:History``, IPTC ``OriginatingProgram`` naming Photoshop, GIMP,
  Lightroom...;
- dates that disagree: a modification date (``EXIF:DateTime``, ``xmp:ModifyDate``) later than
  the capture date (``DateTimeOriginal``) by more than :data:`DATE_TOLERANCE_S`, or an order
  that cannot happen (digitized or modified before it was taken);
- camera make and model with none of the above: mild evidence of an untouched camera file.

The names and keys come from ``resources/generator_signatures.json``; each entry cites the
tool convention it relies on. This is the metadata part of the "JPEG header" analysis of
Kee, Johnson & Farid (2011) and of the IPTC Photo Metadata Standard's digital-source-type
declaration; it reads declarations, it does not measure pixels, so every finding is only as
good as the honesty of whoever wrote the file: metadata can be stripped (platforms do) or
forged. Absence of metadata is therefore *not* evidence: without anything to judge the
detector is ``not_applicable``.

Scores (probability of manipulation). They are set by judgement of how often each declaration
is wrong, not fitted (the development corpus has almost no metadata-bearing fakes):

- :data:`SCORE_AI` 0.97 -- an explicit AI-generation declaration. A generator has no reason to
  write one on a real photo; the residual 3 % covers mislabelled files and metadata copied onto
  another image.
- :data:`SCORE_EDITOR` 0.65 -- editing software named. Editing is common and mostly benign
  (cropping, exposure), so it is evidence of processing, not proof of manipulation.
- :data:`SCORE_DATES` 0.6 -- EXIF modification after capture, or an impossible date order,
  without an editor named: a re-save or a metadata edit. :data:`SCORE_DATES_XMP` 0.55 when
  only ``xmp:ModifyDate`` says so: photo managers that edit nothing but tags update it too
  (f-spot on scikit-image's ``chelsea.png``, an unedited photograph).
- :data:`SCORE_CREATED` 0.6 -- declared ``digitalCreation``/``humanEdits``-type source: made or
  changed with digital tools rather than captured.
- :data:`SCORE_CAMERA` 0.35 -- camera make/model present, dates consistent, no editor or
  generator: mild evidence of authenticity (EXIF is easy to copy, hence not lower).
- :data:`SCORE_NEUTRAL` 0.5 -- metadata present (e.g. an unrecognised ``Software``) but nothing
  diagnostic.

When several signals are present the strongest one decides (max, not a product: the signals are
not independent -- an editor usually both names itself and rewrites ``DateTime``).

References
----------
1. E. Kee, M. K. Johnson, H. Farid, "Digital image authentication from JPEG headers", IEEE
   Trans. Information Forensics and Security 6(3), 2011. doi:10.1109/TIFS.2011.2128309
2. IPTC, "IPTC Photo Metadata Standard 2023.1", DigitalSourceType property, and the
   NewsCodes vocabulary http://cv.iptc.org/newscodes/digitalsourcetype/
3. CIPA DC-008-2019 / JEITA CP-3451, "Exif 2.32": DateTime, DateTimeOriginal,
   DateTimeDigitized and OffsetTime* tags.
"""

from __future__ import annotations

import json
import re
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, MetadataField

NAME = "metadata"
VERSION = "1.1"  # 1.1: camera tags on a software-coded JPEG vouch for nothing

SCORE_AI = 0.97
SCORE_EDITOR = 0.65
SCORE_DATES = 0.6
SCORE_DATES_XMP = 0.55
SCORE_CREATED = 0.6
SCORE_CAMERA = 0.35
SCORE_NEUTRAL = 0.5

#: Seconds a modification date may follow the capture date without counting as an edit. A
#: camera writes DateTime when it saves the file, after a long exposure, in-camera HDR or
#: noise reduction; a minute covers that with margin (Exif 2.32 gives no tolerance).
DATE_TOLERANCE_S = 60.0

#: Metadata values longer than this are cut to their first characters in findings (ComfyUI
#: workflows run to 100 kB); ``extras["signals"]`` gives the full length. Shorter values are
#: kept exactly.
MAX_VALUE_CHARS = 4000

_RESOURCE = Path(__file__).resolve().parents[2] / "resources" / "generator_signatures.json"

NS = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
}


# --------------------------------------------------------------------------- signatures


@dataclass(frozen=True)
class _Sig:
    name: str
    regex: re.Pattern[str]
    free_text: bool


@lru_cache(maxsize=1)
def signatures() -> dict[str, Any]:
    """``resources/generator_signatures.json`` with the patterns compiled."""
    with open(_RESOURCE, encoding="utf-8") as fh:
        data = json.load(fh)
    data["_ai"] = [_Sig(e["name"], re.compile(e["pattern"], re.I), bool(e.get("free_text")))
                   for e in data["ai_generators"]]
    data["_editors"] = [_Sig(e["name"], re.compile(e["pattern"], re.I), False)
                        for e in data["editors"]]
    return data


def _match(sigs: Iterable[_Sig], value: str, *, free_text: bool) -> str | None:
    for sig in sigs:
        if free_text and not sig.free_text:
            continue
        if sig.regex.search(value):
            return sig.name
    return None


def digital_source_type(value: str) -> tuple[str, dict[str, str]] | None:
    """(code, {category, label}) of an IPTC digital source type URI or bare code, or None.

    >>> digital_source_type(
    ...     "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia")[1]["category"]
    'generated'
    """
    code = str(value).strip().rstrip("/").rsplit("/", 1)[-1]
    codes = signatures()["digital_source_types"]["codes"]
    for known, info in codes.items():
        if known.lower() == code.lower():
            return known, info
    return None


# --------------------------------------------------------------------------- fields


def _text(value: Any) -> str | None:
    """A metadata value as text, or None when it holds no text."""
    if value is None:
        return None
    if isinstance(value, bytes):
        # EXIF UserComment: 8-byte character-code prefix, then the text
        for prefix in (b"ASCII\x00\x00\x00", b"UNICODE\x00", b"\x00" * 8):
            if value.startswith(prefix):
                body = value[8:]
                enc = "utf-16" if prefix.startswith(b"UNICODE") else "latin-1"
                try:
                    value = body.decode(enc)
                except UnicodeDecodeError:
                    return None
                break
        else:
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return None
    if isinstance(value, (list, tuple)):
        parts = [t for t in (_text(v) for v in value) if t]
        return "; ".join(parts) if parts else None
    text = str(value).replace("\x00", "").strip()
    return text or None


def _short(value: str) -> str:
    """The value, or its first :data:`MAX_VALUE_CHARS` characters (still a substring of the
    field, so that a probe re-reading the field finds it)."""
    return value if len(value) <= MAX_VALUE_CHARS else value[:MAX_VALUE_CHARS]


def _field(key: str) -> str:
    """Finding field name of an XMP property: ``XMP:xmp:CreatorTool`` -> ``XMP:CreatorTool``
    (the ``NS:Field`` form the explainers' metadata probe reads back)."""
    return "XMP:" + key.rsplit(":", 1)[-1]


def parse_xmp(xmp: str) -> dict[str, list[Any]]:
    """The XMP properties this detector reads, as ``{"XMP:<prefix>:<name>": [values]}``.

    ``XMP:xmpMM:History`` holds dicts (``action``, ``softwareAgent``, ``when``, ``changed``).
    Works on the namespace URIs, so any prefix is understood; a packet that is not well-formed
    XML falls back to matching the usual prefixes with regular expressions.
    """
    wanted = [("xmp", "CreatorTool"), ("xmp", "CreateDate"), ("xmp", "ModifyDate"),
              ("photoshop", "History"), ("photoshop", "DateCreated"), ("photoshop", "Credit"),
              ("photoshop", "Source"), ("Iptc4xmpExt", "DigitalSourceType"),
              ("dc", "description"), ("dc", "title"), ("exif", "DateTimeOriginal"),
              ("exif", "DateTimeDigitized"), ("tiff", "Make"), ("tiff", "Model"),
              ("tiff", "Software"), ("tiff", "DateTime")]
    out: dict[str, list[Any]] = {}
    text = xmp.strip().lstrip("\ufeff")
    try:
        root = ET.fromstring(re.sub(r"<\?xpacket[^>]*\?>", "", text).strip() or "<x/>")
    except ET.ParseError:
        root = None
    rdf_li = f"{{{NS['rdf']}}}li"
    if root is not None:
        for prefix, local in wanted:
            key = f"{{{NS[prefix]}}}{local}"
            vals: list[Any] = []
            for el in root.iter():
                if key in el.attrib:
                    vals.append(el.attrib[key])
                if el.tag == key:
                    res = el.attrib.get(f"{{{NS['rdf']}}}resource")
                    lis = [li for li in el.iter(rdf_li)]
                    if res:
                        vals.append(res)
                    elif lis:
                        for li in lis:
                            r = li.attrib.get(f"{{{NS['rdf']}}}resource")
                            t = r or (li.text or "").strip()
                            if t:
                                vals.append(t)
                    elif el.text and el.text.strip():
                        vals.append(el.text.strip())
            if vals:
                out[f"XMP:{prefix}:{local}"] = vals
        events: list[dict[str, str]] = []
        for hist in root.iter(f"{{{NS['xmpMM']}}}History"):
            for li in hist.iter(rdf_li):
                ev: dict[str, str] = {}
                for el in li.iter():
                    for k, v in el.attrib.items():
                        if k.startswith(f"{{{NS['stEvt']}}}"):
                            ev[k.split("}", 1)[1]] = v
                    if el.tag.startswith(f"{{{NS['stEvt']}}}") and el.text and el.text.strip():
                        ev[el.tag.split("}", 1)[1]] = el.text.strip()
                if ev:
                    events.append(ev)
        if events:
            out["XMP:xmpMM:History"] = events
        return out
    # not well-formed: the usual prefixes, attribute or element form
    for prefix, local in wanted:
        pat = re.compile(rf'{prefix}:{local}\s*=\s*"([^"]*)"|<{prefix}:{local}[^>]*?'
                         rf'(?:rdf:resource\s*=\s*"([^"]*)"[^>]*)?>([^<]*)<')
        vals = [next((g for g in m.groups() if g and g.strip()), "") for m in pat.finditer(text)]
        vals = [v.strip() for v in vals if v and v.strip()]
        if vals:
            out[f"XMP:{prefix}:{local}"] = vals
    agents = re.findall(r'stEvt:softwareAgent\s*=\s*"([^"]*)"|<stEvt:softwareAgent>([^<]*)<',
                        text)
    events = [{"softwareAgent": a or b} for a, b in agents if (a or b).strip()]
    if events:
        out["XMP:xmpMM:History"] = events
    return out


# --------------------------------------------------------------------------- dates

_EXIF_DATE = re.compile(r"^\s*(\d{4})[:\-](\d{2})[:\-](\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?"
                        r"(?:\.\d+)?\s*(Z|[+\-]\d{2}:?\d{2})?)?")


def parse_date(value: Any, offset: Any = None) -> datetime | None:
    """An EXIF (``2024:05:01 10:00:00``) or XMP (``2024-05-01T10:00:00+02:00``) date.

    ``offset`` is an EXIF ``OffsetTime*`` value (``+02:00``) applied when the date itself has
    no zone. Returns a naive datetime when no zone is known, an aware one otherwise, None when
    the value is blank (``0000:00:00 00:00:00``) or not a date.
    """
    text = _text(value)
    if not text:
        return None
    m = _EXIF_DATE.match(text)
    if not m:
        return None
    y, mo, d, h, mi, s, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0))
    except ValueError:
        return None
    zone = tz or _text(offset)
    if zone:
        zm = re.fullmatch(r"Z|([+\-])(\d{2}):?(\d{2})", zone.strip())
        if zm:
            if zone.strip() == "Z":
                return dt.replace(tzinfo=timezone.utc)
            sign = 1 if zm.group(1) == "+" else -1
            delta = timedelta(hours=int(zm.group(2)), minutes=int(zm.group(3)))
            return dt.replace(tzinfo=timezone(sign * delta))
    return dt


def _seconds_between(later: datetime, earlier: datetime) -> float:
    """``later - earlier`` in seconds; wall-clock difference when either has no zone."""
    if (later.tzinfo is None) != (earlier.tzinfo is None):
        later, earlier = later.replace(tzinfo=None), earlier.replace(tzinfo=None)
    return (later - earlier).total_seconds()


# --------------------------------------------------------------------------- signals


@dataclass
class _Signal:
    kind: str          # "ai", "editor", "dates", "created", "camera"
    field: str
    value: str
    what: str          # the generator / editor name, or what the dates say
    score: float
    measurement: Measurement | None = None


class _Collector:
    def __init__(self) -> None:
        self.signals: list[_Signal] = []
        self.seen: dict[str, str] = {}  # every field read, for extras

    def add(self, kind: str, field: str, value: str, what: str, score: float,
            measurement: Measurement | None = None) -> None:
        if any(s.kind == kind and s.field == field for s in self.signals):
            return  # one signal of a kind per field (a ComfyUI chunk also names ComfyUI)
        self.signals.append(_Signal(kind, field, value, what, score, measurement))


def _scan_software(col: _Collector, field: str, value: str) -> None:
    sig = signatures()
    ai = _match(sig["_ai"], value, free_text=False)
    if ai:
        col.add("ai", field, value, ai, SCORE_AI)
        return
    ed = _match(sig["_editors"], value, free_text=False)
    if ed:
        col.add("editor", field, value, ed, SCORE_EDITOR)


#: In free text an editor's name counts only in a statement of authorship
#: ("File written by Adobe Photoshop 5.0", "edited with GIMP"), not as a mere word.
_AUTHORSHIP = re.compile(r"\b(written|saved|created|edited|made|processed|exported|"
                         r"retouched|modified)\s+(by|with|in|using)\b", re.I)


def _scan_free_text(col: _Collector, field: str, value: str) -> None:
    sig = signatures()
    ai = _match(sig["_ai"], value, free_text=True)
    if ai:
        col.add("ai", field, value, ai, SCORE_AI)
        return
    if _AUTHORSHIP.search(value):
        ed = _match(sig["_editors"], value, free_text=False)
        if ed:
            col.add("editor", field, value, ed, SCORE_EDITOR)


def _scan_source_type(col: _Collector, field: str, value: str) -> None:
    found = digital_source_type(value)
    if not found:
        return
    code, info = found
    cat = info["category"]
    if cat in ("generated", "ai_composite"):
        col.add("ai", field, value, f"digital source type {code}: {info['label']}", SCORE_AI)
    elif cat in ("edited", "created"):
        col.add("created", field, value, f"digital source type {code}: {info['label']}",
                SCORE_CREATED)
    else:
        col.add("capture_declared", field, value, f"digital source type {code}", SCORE_CAMERA)


def _scan_dates(col: _Collector, modified: tuple[str, datetime, str] | None,
                captured: tuple[str, datetime, str] | None,
                digitized: tuple[str, datetime, str] | None,
                score: float = SCORE_DATES) -> None:
    if captured and modified:
        dt = _seconds_between(modified[1], captured[1])
        tol = _tolerance(modified, captured)
        if dt > tol:
            col.add("dates", modified[0], modified[2],
                    f"modified {_human(dt)} after capture ({captured[0]} = {captured[2]})",
                    score,
                    Measurement(f"{modified[0]} - {captured[0]}", round(dt, 1),
                                reference=tol, unit="s"))
        elif dt < -tol:
            col.add("dates", modified[0], modified[2],
                    f"modified {_human(-dt)} before capture ({captured[0]} = {captured[2]}): "
                    f"impossible order", score,
                    Measurement(f"{modified[0]} - {captured[0]}", round(dt, 1),
                                reference=-tol, unit="s"))
    if captured and digitized:
        dt = _seconds_between(digitized[1], captured[1])
        tol = _tolerance(digitized, captured)
        if dt < -tol:
            col.add("dates", digitized[0], digitized[2],
                    f"digitized {_human(-dt)} before capture ({captured[0]} = {captured[2]}): "
                    f"impossible order", score,
                    Measurement(f"{digitized[0]} - {captured[0]}", round(dt, 1),
                                reference=-tol, unit="s"))


def _tolerance(*dates: tuple[str, datetime, str]) -> float:
    """:data:`DATE_TOLERANCE_S`, plus a day when a value is a bare date (no time of day)."""
    date_only = any(not re.search(r"\d[ T]\d{2}:\d{2}", d[2]) for d in dates)
    return DATE_TOLERANCE_S + (86400.0 if date_only else 0.0)


def _human(seconds: float) -> str:
    s = abs(seconds)
    if s < 3600:
        return f"{s / 60:.0f} min"
    if s < 172800:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.0f} days"


_SOFTWARE_EXIF = ("Software", "ProcessingSoftware", "HostComputer")
_FREE_EXIF = ("ImageDescription", "UserComment", "XPComment", "XPTitle", "XPSubject")
_SOFTWARE_IPTC = ("OriginatingProgram",)
_FREE_IPTC = ("Credit", "Source", "Caption-Abstract", "Headline", "ObjectName",
              "SpecialInstructions")
_SOFTWARE_PNG = ("Software", "Source", "Generator", "tool")


def _image_signals(media: Any, col: _Collector) -> None:
    exif = dict(getattr(media, "exif", None) or {})
    iptc = dict(getattr(media, "iptc", None) or {})
    chunks = dict(getattr(media, "text_chunks", None) or {})
    xmp_text = getattr(media, "xmp", None)
    xmp = parse_xmp(xmp_text) if xmp_text else {}
    sig = signatures()

    for key in _SOFTWARE_EXIF:
        v = _text(exif.get(key))
        if v:
            col.seen[f"EXIF:{key}"] = v
            _scan_software(col, f"EXIF:{key}", v)
    for key in _FREE_EXIF:
        v = _text(exif.get(key))
        if v:
            col.seen[f"EXIF:{key}"] = v
            _scan_free_text(col, f"EXIF:{key}", v)
    make, model = _text(exif.get("Make")), _text(exif.get("Model"))
    for prefix, local in (("xmp", "CreatorTool"), ("tiff", "Software")):
        for v in xmp.get(f"XMP:{prefix}:{local}", []):
            col.seen[f"XMP:{local}"] = v
            _scan_software(col, f"XMP:{local}", v)
    for ev in xmp.get("XMP:xmpMM:History", []):
        agent = ev.get("softwareAgent")
        if agent:
            col.seen.setdefault("XMP:softwareAgent", agent)
            _scan_software(col, "XMP:softwareAgent", agent)
    for v in xmp.get("XMP:photoshop:History", []):
        col.seen["XMP:History"] = v
        col.add("editor", "XMP:History", v, "Adobe Photoshop (edit history)",
                SCORE_EDITOR)
    for v in xmp.get("XMP:Iptc4xmpExt:DigitalSourceType", []):
        col.seen["XMP:DigitalSourceType"] = v
        _scan_source_type(col, "XMP:DigitalSourceType", v)
    for key in ("XMP:dc:description", "XMP:dc:title", "XMP:photoshop:Credit",
                "XMP:photoshop:Source"):
        for v in xmp.get(key, []):
            col.seen[_field(key)] = v
            _scan_free_text(col, _field(key), v)
    for key in _SOFTWARE_IPTC:
        v = _text(iptc.get(key))
        if v:
            col.seen[f"IPTC:{key}"] = v
            _scan_software(col, f"IPTC:{key}", v)
    for key in _FREE_IPTC:
        v = _text(iptc.get(key))
        if v:
            col.seen[f"IPTC:{key}"] = v
            _scan_free_text(col, f"IPTC:{key}", v)
            if key == "Source":
                _scan_source_type(col, f"IPTC:{key}", v)

    # PNG (and other) text chunks: generator parameter chunks, then software names
    for entry in sig["generator_text_chunks"]:
        v = _text(chunks.get(entry["key"]))
        if not v:
            continue
        if entry["requires"] and not re.search(entry["requires"], v, re.I):
            continue
        col.add("ai", f"PNG:{entry['key']}", v,
                f"{entry['generator']} generation parameters", SCORE_AI)
    for key, value in chunks.items():
        v = _text(value)
        if not v:
            continue
        col.seen[f"PNG:{key}"] = v
        if key in _SOFTWARE_PNG:
            _scan_software(col, f"PNG:{key}", v)
        else:
            _scan_free_text(col, f"PNG:{key}", v)

    # dates: EXIF first, XMP where EXIF has none
    def first(*pairs: tuple[str, Any, Any]) -> tuple[str, datetime, str] | None:
        for name, value, offset in pairs:
            d = parse_date(value, offset)
            if d is not None:
                return name, d, _text(value) or ""
        return None

    def xmp1(key: str) -> Any:
        vals = xmp.get(key)
        return vals[0] if vals else None

    captured = first(("EXIF:DateTimeOriginal", exif.get("DateTimeOriginal"),
                      exif.get("OffsetTimeOriginal")),
                     ("XMP:DateTimeOriginal", xmp1("XMP:exif:DateTimeOriginal"), None),
                     ("XMP:DateCreated", xmp1("XMP:photoshop:DateCreated"), None),
                     ("XMP:CreateDate", xmp1("XMP:xmp:CreateDate"), None))
    digitized = first(("EXIF:DateTimeDigitized", exif.get("DateTimeDigitized"),
                       exif.get("OffsetTimeDigitized")),
                      ("XMP:DateTimeDigitized", xmp1("XMP:exif:DateTimeDigitized"), None))
    modified_exif = first(("EXIF:DateTime", exif.get("DateTime"), exif.get("OffsetTime")))
    modified_xmp = first(("XMP:ModifyDate", xmp1("XMP:xmp:ModifyDate"), None))
    for d in (captured, digitized, modified_exif, modified_xmp):
        if d:
            col.seen[d[0]] = d[2]
    _scan_dates(col, modified_exif, captured, digitized)
    if modified_xmp and captured:
        _scan_dates(col, modified_xmp, captured, None, SCORE_DATES_XMP)

    if make or model:
        value = " ".join(v for v in (make, model) if v)
        col.seen["EXIF:Make"] = make or ""
        col.seen["EXIF:Model"] = model or ""
        col.add("camera", "EXIF:Make" if make else "EXIF:Model", value, value, SCORE_CAMERA)
    for key in ("XMP:tiff:Make", "XMP:tiff:Model"):
        for v in xmp.get(key, []):
            col.seen[_field(key)] = v
            if not (make or model):
                col.add("camera", _field(key), v, v, SCORE_CAMERA)


#: Container bookkeeping that says nothing about origin (ISO BMFF brands, track language...).
_TECHNICAL_TAGS = frozenset({"major_brand", "minor_version", "compatible_brands", "language",
                             "handler_name", "vendor_id", "duration", "timecode", "rotate",
                             "creation_time", "bps", "number_of_frames", "number_of_bytes",
                             "_statistics_tags", "_statistics_writing_app",
                             "_statistics_writing_date_utc"})


def _tag_signals(col: _Collector, prefix: str, tags: dict[str, Any]) -> None:
    """Video container/stream metadata and audio tags: software, free text, camera."""
    camera: list[str] = []
    for key, value in tags.items():
        v = _text(value)
        if not v or str(key).lower() in _TECHNICAL_TAGS:
            continue
        field = f"{prefix}:{key}"
        col.seen[field] = v
        k = key.lower()
        if any(w in k for w in ("software", "encoder", "encoded_by", "encodedby", "tool",
                                "handler", "tsse", "creator", "generator", "writing")):
            _scan_software(col, field, v)
        elif k.endswith("make") or k.endswith("model"):
            camera.append(f"{field}={v}")
        elif "digitalsourcetype" in k.replace("_", "").replace(" ", ""):
            _scan_source_type(col, field, v)
        else:
            _scan_free_text(col, field, v)
            if "cv.iptc.org/newscodes/digitalsourcetype" in v:
                _scan_source_type(col, field, v)
    if camera:
        col.add("camera", camera[0].split("=", 1)[0], camera[0].split("=", 1)[1],
                "; ".join(camera), SCORE_CAMERA)


# --------------------------------------------------------------------------- detector


def _software_coded_jpeg(media: Any) -> str | None:
    """'libjpeg-compatible software (IJG quality N)' when an image is a JPEG whose
    quantization tables are libjpeg's standard ones scaled to a quality, else None."""
    if getattr(media, "kind", "image") != "image":
        return None
    from detectors.provenance.quant_tables import jpeg_tables, match_ijg

    try:
        tables = jpeg_tables(media)
    except Exception:  # noqa: BLE001 -- damaged tables: no opinion here
        return None
    quality = match_ijg(tables) if tables else None
    return None if quality is None else f"libjpeg-compatible software (IJG quality {quality})"


@detector(
    name=NAME,
    version=VERSION,
    modalities=("image", "video", "audio"),
    method="Reads EXIF/XMP/IPTC/PNG-text (or container and audio tags) for AI-generator "
           "declarations (IPTC DigitalSourceType, generator parameter chunks), editing "
           "software and date disagreements (Kee, Johnson & Farid 2011; IPTC Photo Metadata "
           "Standard)",
    reference="E. Kee, M. K. Johnson, H. Farid, Digital image authentication from JPEG "
              "headers, IEEE TIFS 6(3), 2011, doi:10.1109/TIFS.2011.2128309; IPTC Photo "
              "Metadata Standard 2023.1 (DigitalSourceType); CIPA DC-008 Exif 2.32",
    limits="Reads declarations only: metadata can be stripped or forged. Absence of metadata "
           "is not evidence (not applicable).",
    artifacts=("software_metadata",),
    params={"score_ai": SCORE_AI, "score_editor": SCORE_EDITOR, "score_dates": SCORE_DATES,
            "score_dates_xmp": SCORE_DATES_XMP,
            "score_camera": SCORE_CAMERA, "date_tolerance_s": DATE_TOLERANCE_S},
)
def metadata_provenance(media: Any) -> DetectorResult:
    """Judge an item by what its metadata declares (see the module docstring)."""
    t0 = time.perf_counter()
    col = _Collector()
    kind = getattr(media, "kind", "image")
    if kind == "image":
        _image_signals(media, col)
    elif kind == "video":
        _tag_signals(col, "Container", dict(getattr(media, "container_metadata", {}) or {}))
        _tag_signals(col, "Stream", dict(getattr(media, "stream_metadata", {}) or {}))
    elif kind == "audio":
        _tag_signals(col, "Audio", dict(getattr(media, "tags", {}) or {}))
    else:
        return DetectorResult.not_applicable(NAME, VERSION, f"unknown media kind {kind!r}")

    if not col.signals and not col.seen:
        return DetectorResult.not_applicable(NAME, VERSION, "no metadata to judge")

    negatives = [s for s in col.signals if s.kind in ("ai", "editor", "dates", "created")]
    findings = [
        Finding(
            artifact="software_metadata",
            location=MetadataField(s.field, _short(s.value)),
            strength=s.score,
            measurement=s.measurement or Measurement(s.field, _short(s.value),
                                                     reference=s.what),
            detector=NAME,
        )
        for s in sorted(negatives, key=lambda s: -s.score)
    ]
    positives = [s for s in col.signals if s.kind in ("camera", "capture_declared")]
    if negatives:
        score = max(s.score for s in negatives)
        top = max(negatives, key=lambda s: s.score)
        summary = {"ai": "AI generation declared", "editor": "editing software named",
                   "dates": "dates disagree", "created": "declared as made or changed "
                   "with digital tools"}[top.kind] + f": {top.what}"
    elif positives and (software := _software_coded_jpeg(media)) and \
            all(s.kind == "camera" for s in positives):
        # the camera's own encoder does not write libjpeg's tables: the file was last saved
        # by software, and camera tags copied or typed into it vouch for nothing
        score = SCORE_NEUTRAL
        summary = ("camera metadata (" + "; ".join(s.what for s in positives) + "), but the "
                   f"JPEG was last written by {software}: the tags do not vouch for the pixels")
    elif positives:
        score = SCORE_CAMERA
        summary = "camera metadata, no editor or generator, dates consistent: " + \
            "; ".join(s.what for s in positives)
    else:
        score = SCORE_NEUTRAL
        summary = "metadata present but nothing diagnostic"
    extras = {
        "summary": summary,
        "signals": [{"kind": s.kind, "field": s.field, "value": _short(s.value),
                     "length": len(s.value), "what": s.what, "score": s.score}
                    for s in col.signals],
        "fields": {k: _short(v) for k, v in col.seen.items()},
    }
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0, extras=extras)
