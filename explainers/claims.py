"""Parse a free-text rationale into :class:`~triage_app.model.Claim` objects.

A rationale written by a person or a language model ("The lips are out of sync from 0:03 to
0:05. There is a halo around the jaw.") is split into sentences; each sentence becomes one claim
per artifact it names (taxonomy synonyms, longest match), with its polarity (negations such as
"no sign of", "without", "not"), and the place it points at:

- TriDF regions ("around the mouth" -> ``nasal_oral_region``), areas in words ("upper left",
  "top right corner", "center", "in the background");
- pixel boxes ("at x=120, y=40, 200x180", "(120, 40, 200, 180)" meaning x, y, w, h);
- times ("at 0:03-0:05", "between 3.2 s and 4 s", "in the first second", "at 12s");
- frequency bands ("above 8 kHz", "below 300 Hz", "between 2 and 4 kHz", "at 50 Hz");
- metadata fields ("the EXIF Software tag", "XMP CreatorTool", "C2PA manifest").

A sentence with no recognisable artifact is kept as a claim with ``artifact=None``; a verdict
sentence ("This image is a deepfake", "looks authentic") becomes a verdict claim (``artifact=None``,
``measurement={"verdict": label}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from explainers import taxonomy
from triage_app.model import (Box, Claim, FrameSpan, Location, MetadataField, Region,
                              TimeSpan)

#: End time of a span that runs to the end of the item ("above 8 kHz" with no time given).
OPEN_END = 1.0e9

__all__ = ["OPEN_END", "parse_rationale", "split_sentences", "parse_sentence", "parse_time",
           "AREA_WORDS", "ParsedPlace"]

# --------------------------------------------------------------------------- sentences

_ABBREV = re.compile(r"\b(e\.g|i\.e|etc|approx|vs|fig|ca)\.$", re.I)


def split_sentences(text: str) -> list[str]:
    """Split on ., !, ? and newlines, not inside numbers ("3.2 s") or common abbreviations."""
    text = text.replace("\r", "\n")
    out: list[str] = []
    for para in re.split(r"\n\s*(?:[-*\u2022]\s*)?|^\s*[-*\u2022]\s*", text, flags=re.M):
        if not para or not para.strip():
            continue
        start = 0
        for m in re.finditer(r"[.!?]+(?=\s+|$)", para):
            chunk = para[start:m.end()]
            if _ABBREV.search(chunk.rstrip()):
                continue
            if chunk.strip():
                out.append(chunk.strip())
            start = m.end()
        rest = para[start:].strip()
        if rest:
            out.append(rest)
    return [s for s in out if re.search(r"\w", s)]


# --------------------------------------------------------------------------- polarity

_NEGATION = re.compile(
    r"\b(no|not|never|without|none|nor|lacks?|lacking|absence of|absent|free of|"
    r"isn't|aren't|wasn't|weren't|doesn't|don't|didn't|cannot|can't|n't|"
    r"no (?:sign|signs|evidence|trace|traces|indication) of|nothing)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[,;:]|\b(but|however|although|though|whereas|while|yet)\b", re.I)


_POST_NEGATION = re.compile(
    r"^[^,;:.]{0,30}?\b(?:is|are|was|were|seems?|looks?|appears?)(?:n't| not| never)\s+"
    r"(?:at all\s+)?(?:inconsistent|unnatural|off|wrong|abnormal|present|visible|noticeable|"
    r"an issue|a problem|suspicious|mismatched|detectable|there|out of place)\b", re.I)


def _polarity(sentence: str, start: int, end: int | None = None) -> str:
    """``absent`` when a negation precedes the artifact phrase in the same clause, or the
    phrase is the subject of a denial ("the lighting is not inconsistent")."""
    if end is not None and _POST_NEGATION.search(sentence[end:]):
        return "absent"
    before = sentence[:start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    return "absent" if _NEGATION.search(clause) else "present"


# --------------------------------------------------------------------------- verdicts

_VERDICT_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("inconclusive", re.compile(
        r"\b(inconclusive|cannot (?:be )?(?:determine|tell|decide)d?|can't tell|unclear whether|"
        r"not possible to (?:tell|determine)|uncertain)\b", re.I)),
    ("likely_authentic", re.compile(
        r"\b((?:is|looks|appears|seems|likely|probably|be)\s+(?:to be\s+)?(?:an?\s+)?"
        r"(?:authentic|genuine|real|unaltered|unedited|original|pristine|unmanipulated|"
        r"not manipulated|not (?:a )?fake|not a deepfake)|likely authentic|no manipulation|"
        r"not been (?:manipulated|altered|edited|tampered))\b", re.I)),
    ("likely_manipulated", re.compile(
        r"\b((?:is|looks|appears|seems|likely|probably|be)\s+(?:to be\s+)?(?:an?\s+)?"
        r"(?:deep\s?fake|fake|manipulated|forged|forgery|tampered|doctored|edited|altered|"
        r"synthetic|synthesi[sz]ed|ai[- ]generated|computer[- ]generated|generated|spoofed|"
        r"cloned voice|voice clone)|(?:has|have) been (?:manipulated|altered|edited|tampered|"
        r"doctored|faked|generated|synthesi[sz]ed)|likely manipulated|a deepfake|"
        r"deepfake|face[- ]swap(?:ped)?)\b", re.I)),
]


def _verdict(sentence: str) -> str | None:
    for label, pat in _VERDICT_PATTERNS:
        if pat.search(sentence):
            return label
    return None


# --------------------------------------------------------------------------- places

#: Areas in words -> (x0, y0, x1, y1) as fractions of the width and height.
AREA_WORDS: dict[str, tuple[float, float, float, float]] = {
    "upper left": (0, 0, 1 / 3, 1 / 3), "top left": (0, 0, 1 / 3, 1 / 3),
    "upper right": (2 / 3, 0, 1, 1 / 3), "top right": (2 / 3, 0, 1, 1 / 3),
    "lower left": (0, 2 / 3, 1 / 3, 1), "bottom left": (0, 2 / 3, 1 / 3, 1),
    "lower right": (2 / 3, 2 / 3, 1, 1), "bottom right": (2 / 3, 2 / 3, 1, 1),
    "center": (1 / 3, 1 / 3, 2 / 3, 2 / 3), "centre": (1 / 3, 1 / 3, 2 / 3, 2 / 3),
    "middle": (1 / 3, 1 / 3, 2 / 3, 2 / 3),
    "top": (0, 0, 1, 1 / 3), "upper half": (0, 0, 1, 0.5), "top half": (0, 0, 1, 0.5),
    "bottom": (0, 2 / 3, 1, 1), "lower half": (0, 0.5, 1, 1), "bottom half": (0, 0.5, 1, 1),
    "left": (0, 0, 1 / 3, 1), "left side": (0, 0, 1 / 3, 1), "left half": (0, 0, 0.5, 1),
    "right": (2 / 3, 0, 1, 1), "right side": (2 / 3, 0, 1, 1), "right half": (0.5, 0, 1, 1),
    "left edge": (0, 0, 0.15, 1), "right edge": (0.85, 0, 1, 1),
    "top edge": (0, 0, 1, 0.15), "bottom edge": (0, 0.85, 1, 1),
}
_AREA_RE = re.compile(
    r"\b(?:in |at |on |near |along |toward |towards )?(?:the )?"
    r"(upper[- ]left|top[- ]left|upper[- ]right|top[- ]right|lower[- ]left|bottom[- ]left|"
    r"lower[- ]right|bottom[- ]right|upper half|top half|lower half|bottom half|left half|"
    r"right half|left side|right side|left edge|right edge|top edge|bottom edge|"
    r"cent(?:er|re)|middle|top|bottom|left|right)"
    r"(?: corner| part| portion| area| region| of the (?:image|frame|picture|photo))?\b", re.I)

_NUM = r"(\d+(?:\.\d+)?)"
_BOX_XY = re.compile(
    r"x\s*[=:]\s*(\d+)\s*,?\s*y\s*[=:]\s*(\d+)"
    r"(?:\s*[,;]?\s*(?:(?:size|w(?:idth)?\s*[=:])\s*)?(\d+)\s*(?:[x\u00d7*]|,?\s*h(?:eight)?\s*[=:])\s*(\d+))?",
    re.I)
_BOX_TUPLE = re.compile(r"[\(\[]\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*[\)\]]")

_CLOCK = r"(\d+:\d{1,2}(?::\d{1,2})?(?:\.\d+)?)"
_SECS = r"(\d+(?:\.\d+)?)\s*(?:s|sec|secs|second|seconds)\b"
_TIME_RANGE = re.compile(
    r"(?:from|between|at|during|in)?\s*" + _CLOCK + r"\s*(?:-|\u2013|to|and|until)\s*" + _CLOCK, re.I)
_SECS_RANGE = re.compile(
    r"(?:from|between|at|during)?\s*" + _NUM + r"\s*(?:s|sec|secs|seconds?)?\s*"
    r"(?:-|\u2013|to|and|until)\s*" + _NUM + r"\s*(?:s|sec|secs|second|seconds)\b", re.I)
_TIME_POINT_CLOCK = re.compile(r"\b(?:at|around|near|from)\s+" + _CLOCK, re.I)
_TIME_POINT_SECS = re.compile(r"\b(?:at|around|near|after)\s+" + _SECS, re.I)
_FIRST = re.compile(r"\b(?:in|during|within) the first (?:(\d+(?:\.\d+)?|one|two|three|four|five|"
                    r"six|seven|eight|nine|ten|few) )?(seconds?|minutes?)\b", re.I)
_WORDNUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "few": 3}

_HZ = r"(\d+(?:\.\d+)?)\s*(khz|hz)\b"
_BAND_BETWEEN = re.compile(r"\bbetween\s+" + _NUM + r"\s*(khz|hz)?\s*(?:and|-|to)\s*" + _HZ, re.I)
_BAND_RANGE = re.compile(_NUM + r"\s*(khz|hz)?\s*(?:-|\u2013|to)\s*" + _HZ, re.I)
_BAND_ABOVE = re.compile(r"\b(?:above|over|beyond|higher than|more than|from)\s+" + _HZ, re.I)
_BAND_BELOW = re.compile(r"\b(?:below|under|beneath|lower than|less than|up to)\s+" + _HZ, re.I)
_BAND_AT = re.compile(r"\b(?:at|around|near|of)\s+" + _HZ, re.I)

_META_FIELDS = {
    "software": "Software", "creatortool": "CreatorTool", "creator tool": "CreatorTool",
    "datetimeoriginal": "DateTimeOriginal", "datetime": "DateTime", "make": "Make",
    "model": "Model", "artist": "Artist", "copyright": "Copyright",
    "imagedescription": "ImageDescription", "usercomment": "UserComment",
    "historysoftwareagent": "HistorySoftwareAgent", "parameters": "parameters",
    "prompt": "prompt", "encoder": "encoder", "comment": "comment",
    "creation_time": "creation_time", "handler_name": "handler_name",
    "description": "Description", "title": "title",
}
_META_RE = re.compile(
    r"\b(exif|xmp|iptc|png|itxt|text chunk|container|id3)?[\s:]*"
    r"(software|creatortool|creator tool|datetimeoriginal|datetime|make|model|artist|copyright|"
    r"imagedescription|usercomment|historysoftwareagent|parameters|prompt|encoder|"
    r"creation_time|handler_name)\b\s*(?:tag|field|entry|chunk|value|metadata)?", re.I)
_C2PA_RE = re.compile(r"\b(c2pa(?: manifest)?|content credentials?|jumbf|provenance manifest)\b", re.I)
_QUOTED = re.compile(r"[\"'\u201c\u2018]([^\"'\u201d\u2019]{1,80})[\"'\u201d\u2019]")


def parse_time(text: str) -> float:
    """``"1:02.5"`` -> 62.5, ``"3.2"`` -> 3.2, ``"1:00:05"`` -> 3605."""
    parts = text.split(":")
    value = 0.0
    for p in parts:
        value = value * 60 + float(p)
    return value


def _hz(value: str, unit: str | None) -> float:
    v = float(value)
    return v * 1000.0 if unit and unit.lower() == "khz" else v


@dataclass
class ParsedPlace:
    """Everything a sentence says about where: what :func:`parse_sentence` found."""

    box: Box | None = None
    area: str | None = None
    region: str | None = None
    time: tuple[float, float] | None = None
    band: tuple[float | None, float | None] | None = None
    meta: MetadataField | None = None


def _parse_place(sentence: str) -> ParsedPlace:
    place = ParsedPlace()
    s = sentence
    m = _BOX_XY.search(s)
    if m and m.group(3):
        place.box = Box(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)))
    elif m:
        place.box = Box(int(m.group(1)), int(m.group(2)), 1, 1)
    else:
        m = _BOX_TUPLE.search(s)
        if m:
            place.box = Box(*(int(g) for g in m.groups()))
    # bands before times: "between 2 and 4 kHz" must not read as seconds
    band_spans: list[tuple[int, int]] = []
    for pat, kind in ((_BAND_BETWEEN, "between"), (_BAND_RANGE, "range"), (_BAND_ABOVE, "above"),
                      (_BAND_BELOW, "below"), (_BAND_AT, "at")):
        m = pat.search(s)
        if not m:
            continue
        if kind in ("between", "range"):
            unit = m.group(4)
            lo = _hz(m.group(1), m.group(2) or unit)
            hi = _hz(m.group(3), unit)
            place.band = (min(lo, hi), max(lo, hi))
        elif kind == "above":
            place.band = (_hz(m.group(1), m.group(2)), None)
        elif kind == "below":
            place.band = (None, _hz(m.group(1), m.group(2)))
        else:
            f = _hz(m.group(1), m.group(2))
            place.band = (f * 0.9, f * 1.1)
        band_spans.append(m.span())
        break
    s_time = s
    for a, b in band_spans:
        s_time = s_time[:a] + " " * (b - a) + s_time[b:]
    m = _TIME_RANGE.search(s_time)
    if m:
        place.time = (parse_time(m.group(1)), parse_time(m.group(2)))
    else:
        m = _SECS_RANGE.search(s_time)
        if m:
            place.time = (float(m.group(1)), float(m.group(2)))
        else:
            m = _FIRST.search(s_time)
            if m:
                n = m.group(1)
                n_val = 1.0 if n is None else float(_WORDNUM.get(n.lower(), n) if not
                                                     n.replace(".", "").isdigit() else n)
                scale = 60.0 if m.group(2).lower().startswith("minute") else 1.0
                place.time = (0.0, n_val * scale)
            else:
                m = _TIME_POINT_CLOCK.search(s_time) or _TIME_POINT_SECS.search(s_time)
                if m:
                    t = parse_time(m.group(1))
                    place.time = (t, t)
    if place.time and place.time[1] < place.time[0]:
        place.time = (place.time[1], place.time[0])
    # metadata
    m = _C2PA_RE.search(s)
    if m:
        place.meta = MetadataField("C2PA:manifest", _quoted(s))
    else:
        m = _META_RE.search(s)
        if m and (m.group(1) or re.search(r"\b(tag|field|metadata|exif|xmp)\b", s, re.I)):
            ns = (m.group(1) or "").upper().replace("TEXT CHUNK", "PNG").replace("ITXT", "PNG")
            fld = _META_FIELDS.get(m.group(2).lower(), m.group(2))
            if not ns:
                ns = "XMP" if fld in ("CreatorTool", "HistorySoftwareAgent") else "EXIF"
            place.meta = MetadataField(f"{ns}:{fld}", _quoted(s))
    # regions and areas
    regs = taxonomy.find_regions(s)
    if regs:
        place.region = regs[0].id
    m = _AREA_RE.search(s)
    if m:
        word = re.sub(r"[- ]+", " ", m.group(1).lower())
        # "left"/"right" alone is too ambiguous unless it names a side of the picture
        if word in ("left", "right", "top", "bottom", "middle"):
            tail = s[m.end(1):m.end(1) + 40].lower()
            head = s[max(0, m.start(1) - 12):m.start(1)].lower()
            if not re.match(r"\s*(corner|part|portion|area|region|side|edge|half|of the)", tail) \
                    and not re.search(r"\b(the|at|in|on|near|toward)\s+$", head):
                word = ""
            if word in ("left", "right", "top", "bottom") and re.match(r"\s*(eye|ear|cheek|hand|arm|leg)",
                                                                        tail):
                word = ""
        if word:
            place.area = word
    return place


_VALUE_WORD = re.compile(r"\b(?:reads|says|is|shows|names|contains|=)\s+([A-Z0-9][\w.\-]*(?: [A-Z0-9][\w.\-]*)*)")


def _quoted(s: str) -> str | None:
    m = _QUOTED.search(s)
    if m:
        return m.group(1).strip()
    m = _VALUE_WORD.search(s)
    return m.group(1).strip().rstrip(".") if m else None


def _location(place: ParsedPlace, modality: str | None, artifact: str | None) -> Location | None:
    art_mods = taxonomy.modalities(artifact) if artifact and taxonomy.is_artifact(artifact) else ()
    if place.meta is not None:
        return place.meta
    if place.time is not None or (place.band is not None and place.box is None):
        start, end = place.time if place.time else (0.0, OPEN_END)
        audio_like = (modality == "audio" or place.band is not None
                      or (modality is None and art_mods == ("audio",)))
        if audio_like:
            lo, hi = place.band if place.band else (None, None)
            return TimeSpan(start, end, lo, hi)
        return FrameSpan(start, end, place.box)
    if place.box is not None:
        if place.region or place.area:
            return Region(place.region or place.area or "", place.box)
        return place.box
    if place.region is not None:
        return Region(place.region)
    if place.area is not None:
        return Region(place.area)
    return None


# --------------------------------------------------------------------------- claims


def parse_sentence(sentence: str, modality: str | None = None, *,
                   source: str = "imported") -> list[Claim]:
    """The claims one sentence makes (at least one).

    One claim per distinct artifact named (longest synonym match); all share the sentence's
    place. A sentence that names no artifact gives one claim with ``artifact=None`` (a verdict
    claim when it states one).
    """
    matches = taxonomy.find_artifacts(sentence, modality)
    place = _parse_place(sentence)
    claims: list[Claim] = []
    seen: set[str] = set()
    verdict = _verdict(sentence)
    if verdict and not matches:
        return [Claim(text=sentence, artifact=None, modality=modality, location=None,
                      region=place.region, source=source, measurement={"verdict": verdict})]
    if verdict and matches and re.match(r"^\s*(this|the)\s+(image|video|clip|photo|picture|audio|"
                                        r"recording|file|item|voice)\b", sentence, re.I):
        claims.append(Claim(text=sentence, artifact=None, modality=modality, location=None,
                            source=source, measurement={"verdict": verdict}))
    for m in matches:
        if m.id in seen:
            continue
        seen.add(m.id)
        pol = _polarity(sentence, m.start, m.end)
        claims.append(Claim(
            text=sentence, artifact=m.id, modality=modality,
            location=_location(place, modality, m.id), region=place.region,
            polarity=pol, source=source))  # type: ignore[arg-type]
    if not claims:
        claims.append(Claim(text=sentence, artifact=None, modality=modality,
                            location=_location(place, modality, None), region=place.region,
                            source=source))  # type: ignore[arg-type]
    return claims


def parse_rationale(text: str, modality: str | None = None, *,
                    source: str = "imported") -> list[Claim]:
    """Split ``text`` into sentences and parse each into claims (``source`` ``imported``).

    Parameters
    ----------
    text : str
        Free-text rationale.
    modality : {"image", "video", "audio"} or None
        The item's modality when known; it decides whether a time is a
        :class:`~triage_app.model.FrameSpan` (video) or a :class:`~triage_app.model.TimeSpan`
        (audio), and settles ambiguous phrases ("background noise" is hiss in audio).
    source : {"imported", "model", "template"}

    Returns
    -------
    list of Claim, in text order, status ``unchecked``.
    """
    if modality is not None and modality not in taxonomy.MODALITIES:
        raise ValueError(f"modality must be one of {taxonomy.MODALITIES} or None, got {modality!r}")
    if source not in ("imported", "model", "template"):
        raise ValueError(f"source must be imported, model or template, got {source!r}")
    out: list[Claim] = []
    for sentence in split_sentences(text or ""):
        out.extend(parse_sentence(sentence, modality, source=source))
    return out
