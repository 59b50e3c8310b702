"""Template rationale writer: one sentence per finding worth saying, nothing else.

:func:`write_rationale` turns an :class:`~triage_app.model.Analysis` into claims (``source``
``template``): first the verdict line ("Likely Manipulated.", "Likely Authentic.",
"Inconclusive."), then one sentence per finding whose strength passes a threshold, strongest
first, at most ``top_n``, duplicates (same artifact at the same place) merged. Each sentence names
the artifact, where it is (TriDF region, area in words plus the pixel box, time span, frequency
band or metadata field) and the measurement behind it. No sentence is written that no finding
supports (DESIGN.md, principle 2).
"""

from __future__ import annotations

from typing import Any, Mapping

from explainers import taxonomy
from triage_app.model import (Analysis, Box, Claim, Finding, FrameSpan, Location, Mask,
                              Measurement, MetadataField, Region, TimeSpan, Whole)

__all__ = ["write_rationale", "VERDICT_LINES", "describe_location", "describe_measurement",
           "area_words", "format_time", "format_hz", "rationale_text"]

VERDICT_LINES = {
    "likely_manipulated": "Likely Manipulated.",
    "likely_authentic": "Likely Authentic.",
    "inconclusive": "Inconclusive.",
}

_GRID = [["upper left", "top", "upper right"],
         ["left side", "center", "right side"],
         ["lower left", "bottom", "lower right"]]


def area_words(box: Box, width: int | None, height: int | None) -> str | None:
    """The third of the picture a box's centre falls in, in words ("upper left", "center").

    >>> area_words(Box(10, 10, 20, 20), 300, 300)
    'upper left'
    """
    if not width or not height:
        return None
    cx = (box.x + box.w / 2) / width
    cy = (box.y + box.h / 2) / height
    col = min(2, max(0, int(cx * 3)))
    row = min(2, max(0, int(cy * 3)))
    return _GRID[row][col]


def format_time(t: float) -> str:
    """Seconds as m:ss.s (``3.2`` -> ``0:03.2``), h:mm:ss.s from an hour on.

    Rounded to the tenth before it is split, so that 1259.99 s reads ``21:00.0``, not
    ``20:60.0``."""
    tenths = int(round(max(0.0, float(t)) * 10))
    hours, rest = divmod(tenths, 36000)
    minutes, tenths = divmod(rest, 600)
    secs = f"{tenths // 10:02d}.{tenths % 10}"
    return f"{hours}:{minutes:02d}:{secs}" if hours else f"{minutes}:{secs}"


def format_hz(f: float) -> str:
    return f"{f / 1000:.1f} kHz" if f >= 1000 else f"{f:.0f} Hz"


def _box_text(b: Box) -> str:
    return f"(x={b.x}, y={b.y}, {b.w}x{b.h})"


def _metadata_text(m: MetadataField) -> str:
    ns, _, field = m.name.partition(":")
    if not field:
        ns, field = "", m.name
    if ns.upper() == "C2PA":
        base = "the C2PA manifest"
        return base + (f" reads '{m.value}'" if m.value else "")
    label = f"the {ns.upper()} {field} tag" if ns else f"the {field} field"
    return label + (f" reads '{m.value}'" if m.value is not None else "")


def describe_location(loc: Location | None, region: str | None = None, *,
                      width: int | None = None, height: int | None = None) -> str:
    """Where, in words: region, area and box, time span, band, metadata field ('' for none)."""
    parts: list[str] = []
    box: Box | None = None
    if isinstance(loc, Box):
        box = loc
    elif isinstance(loc, Mask):
        box = loc.box
    elif isinstance(loc, Region):
        box = loc.box
        if region is None:
            region = loc.name
    if region is not None:
        name = taxonomy.region_name(region) if taxonomy.is_region(region) else region
        parts.append(f"in the {name}" if taxonomy.is_region(region) else f"in the {name}")
        if box is not None:
            parts.append(_box_text(box))
    elif box is not None:
        words = area_words(box, width, height)
        parts.append((f"in the {words} " if words else "at ") + _box_text(box))
    if isinstance(loc, FrameSpan):
        parts.append(f"from {format_time(loc.start)} to {format_time(loc.end)}")
        if loc.box is not None:
            words = area_words(loc.box, width, height)
            parts.append((f"in the {words} " if words else "at ") + _box_text(loc.box))
    elif isinstance(loc, TimeSpan):
        if loc.end > loc.start and loc.end < 1e8:
            parts.append(f"from {format_time(loc.start)} to {format_time(loc.end)}")
        elif loc.end == loc.start:
            parts.append(f"at {format_time(loc.start)}")
        if loc.low_hz is not None and loc.high_hz is not None:
            parts.append(f"between {format_hz(loc.low_hz)} and {format_hz(loc.high_hz)}")
        elif loc.low_hz is not None:
            parts.append(f"above {format_hz(loc.low_hz)}")
        elif loc.high_hz is not None:
            parts.append(f"below {format_hz(loc.high_hz)}")
    elif isinstance(loc, MetadataField):
        parts.append("where " + _metadata_text(loc))
    elif isinstance(loc, Whole):
        parts.append("across the whole item")
    return " ".join(parts)


def describe_measurement(m: Measurement) -> str:
    """The number behind a finding, in words ("noise level ratio 2.8x that of the rest of the
    image", "patch probability of a generator residual 0.99 (reference 0.5)")."""
    v, ref, unit = m.value, m.reference, m.unit
    if isinstance(v, (int, float)) and unit.startswith("x that of"):
        # a ratio to the rest of the item, which the unit names ("x that of the rest of the image")
        return f"{m.name} {float(v):.2g}{unit}"
    if isinstance(v, (int, float)) and isinstance(ref, (int, float)) and ref not in (0, 0.0):
        if unit in ("", "x", "ratio"):
            # the reference is the detector's threshold or a control value, not necessarily
            # "the rest of the item": say both numbers rather than a ratio that may mislead
            return f"{m.name} {float(v):.3g}{unit if unit == 'x' else ''} (reference {float(ref):.3g})"
        return f"{m.name} {float(v):.3g} {unit} against {float(ref):.3g} {unit}".replace("  ", " ")
    return m.describe()


def _loc_key(f: Finding) -> tuple[Any, ...]:
    loc = f.location
    if isinstance(loc, Mask):
        loc = loc.box
    if isinstance(loc, Box):
        # coarse key: boxes that overlap a lot are the same place
        return ("box", round(loc.x / 32), round(loc.y / 32), round(loc.w / 32), round(loc.h / 32))
    if isinstance(loc, (FrameSpan, TimeSpan)):
        return (loc.kind, round(loc.start, 1), round(loc.end, 1))
    if isinstance(loc, MetadataField):
        return ("meta", loc.name)
    if isinstance(loc, Region):
        return ("region", loc.name)
    return (getattr(loc, "kind", None),)


def _same_place(a: Finding, b: Finding) -> bool:
    la = a.location.box if isinstance(a.location, Mask) else a.location
    lb = b.location.box if isinstance(b.location, Mask) else b.location
    if isinstance(la, Box) and isinstance(lb, Box):
        return la.iou(lb) >= 0.5
    if isinstance(la, (FrameSpan, TimeSpan)) and type(la) is type(lb):
        # spans that share at least half of the shorter one (a 55 ms run of zeros inside the
        # 0.35 s dead pause it belongs to) are one place: one sentence, not three
        if isinstance(la, FrameSpan) and la.box is not None and lb.box is not None \
                and la.box.iou(lb.box) < 0.5:
            return False
        inter = min(la.end, lb.end) - max(la.start, lb.start)
        shorter = min(la.end - la.start, lb.end - lb.start)
        return inter >= 0 and inter >= 0.5 * shorter
    return _loc_key(a) == _loc_key(b)


def _backing_detectors(analysis: Analysis, *, share: float = 0.2) -> set[str] | None:
    """Detectors whose findings the explanation may state: those that pushed the verdict
    towards "manipulated" (positive contribution to the fused log-odds, at least ``share`` of
    the largest one) and themselves lean manipulated (score >= 0.5). An explanation explains
    the verdict; a detector that the fusion discounted, or that itself found the item
    unremarkable, is not a reason. None when the analysis carries no fusion information (then
    every finding may be said)."""
    results = {d.name: d for d in analysis.detectors}
    contrib = analysis.verdict.contributions or {}
    if not contrib:
        return None
    top = max([c for c in contrib.values() if c > 0], default=0.0)
    return {name for name, c in contrib.items()
            if top > 0 and c >= share * top and name in results
            and (results[name].score or 0.0) >= 0.5}


#: TriDF's audio quality artifacts: defects of how a recording was made or damaged (a limiter,
#: a noisy preamp, mains hum, dropouts). The fitted fusion gives them no weight as evidence of
#: manipulation, so they never back a verdict; but an analyst who is told what is in a
#: recording expects to hear of them, and TriDF scores their perception. Said after the
#: verdict's reasons, as observations.
RECORDING_CONDITIONS = ("clipping", "hiss", "buzz", "pops")
OBSERVATION_PREFIX = "Also measured, not by itself a sign of manipulation: "
#: Under a "Likely Authentic." verdict, a finding that leaned manipulated was outweighed; it is
#: said so, rather than read as a reason for the verdict it did not support.
OUTWEIGHED_PREFIX = "Measured, but too weak to change the verdict: "


def write_rationale(analysis: Analysis, media_summary: Mapping[str, Any] | None = None, *,
                    min_strength: float = 0.5, top_n: int = 5) -> list[Claim]:
    """Claims for an analysis: the verdict line, then one sentence per finding worth saying.

    Parameters
    ----------
    analysis : Analysis
        Its verdict and its detectors' findings are read; nothing else.
    media_summary : mapping, optional
        ``media.summary()`` (``kind``, ``width``, ``height``...); defaults to
        ``analysis.media``. Gives the modality and the picture size for "upper left".
    min_strength : float
        Findings weaker than this are not said. Only findings of detectors that backed the
        verdict are said at all (see :func:`_backing_detectors`).
    top_n : int
        At most this many finding sentences, strongest first. Then, at most one sentence per
        recording-condition artifact (:data:`RECORDING_CONDITIONS`, strength >= 0.8) that no
        sentence named yet, prefixed with :data:`OBSERVATION_PREFIX` (the pipeline keeps it
        only when its probe confirms it).

    Returns
    -------
    list of Claim, ``source="template"``, status ``unchecked``.
    """
    if not 0.0 <= min_strength <= 1.0:
        raise ValueError(f"min_strength must be in 0..1, got {min_strength}")
    if top_n < 0:
        raise ValueError(f"top_n must be >= 0, got {top_n}")
    summary = dict(media_summary if media_summary is not None else (analysis.media or {}))
    modality = summary.get("kind")
    width, height = summary.get("width"), summary.get("height")
    label = analysis.verdict.label
    claims = [Claim(text=VERDICT_LINES.get(label, "Inconclusive."), artifact=None,
                    modality=modality, source="template",
                    measurement={"verdict": label, "probability": analysis.verdict.probability})]
    backing = _backing_detectors(analysis)
    strong = [f for f in analysis.findings
              if f.strength >= min_strength and taxonomy.is_artifact(f.artifact)
              and (backing is None or f.detector in backing)]
    strong.sort(key=lambda f: -f.strength)
    chosen: list[Finding] = []
    for f in strong:
        if any(c.artifact == f.artifact and _same_place(c, f) for c in chosen):
            continue
        chosen.append(f)
        if len(chosen) >= top_n:
            break
    said = {f.artifact for f in chosen}
    observed: list[Finding] = []
    for f in sorted(analysis.findings, key=lambda f: -f.strength):
        if f.artifact in RECORDING_CONDITIONS and f.strength >= 0.8 and f.artifact not in said:
            observed.append(f)
            said.add(f.artifact)
    outweighed = OUTWEIGHED_PREFIX if label == "likely_authentic" else ""
    sentences = [(f, outweighed) for f in chosen] + [(f, OBSERVATION_PREFIX) for f in observed]
    for f, prefix in sentences:
        name = taxonomy.artifact_name(f.artifact, modality)
        where = describe_location(f.location, f.region, width=width, height=height)
        meas = describe_measurement(f.measurement)
        text = f"{name} {where}: {meas}." if where else f"{name}: {meas}."
        text = prefix + text[0].upper() + text[1:]
        claims.append(Claim(
            text=text, artifact=f.artifact, modality=modality, location=f.location,
            region=f.region, polarity="present", source="template",
            measurement={"detector": f.detector, "strength": round(float(f.strength), 4),
                         "name": f.measurement.name, "value": f.measurement.value,
                         "reference": f.measurement.reference, "unit": f.measurement.unit}))
    return claims


def rationale_text(claims: list[Claim]) -> str:
    """The claims' sentences joined into one paragraph."""
    return " ".join(c.text for c in claims)


def said_statuses(analysis: Analysis) -> list[str | None]:
    """For each of ``analysis.findings``, the validation status of the explanation sentence
    that says it (same artifact at the same place), or None when no sentence does."""
    said = [c for c in analysis.claims if c.artifact is not None and c.location is not None]
    return [next((c.status for c in said
                  if c.artifact == f.artifact and c.location == f.location), None)
            for f in analysis.findings]


def refuted_detectors(analysis: Analysis) -> list[str]:
    """Detectors whose finding an explanation sentence says and the validator called
    hallucinated (its probe looked there and found nothing), in the analysis's order. Their
    score still went into the fused verdict; an analyst should weigh it without them."""
    out: list[str] = []
    for f, status in zip(analysis.findings, said_statuses(analysis)):
        if status == "hallucinated" and f.detector not in out:
            out.append(f.detector)
    return out
