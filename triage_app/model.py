"""The data that flows through the pipeline (DESIGN.md, "The data that flows").

Plain dataclasses, no Qt, no I/O. Every type converts to and from plain JSON-able dicts
(``to_dict`` / ``from_dict``) so that the CLI, the case store and the report all speak the same
schema.

Locations
---------
A finding or a claim points at one place in the media:

- :class:`Box` -- a rectangle in pixels (x, y, width, height), image or video frame.
- :class:`Mask` -- a region given by a binary mask; we keep its bounding box and the share of
  the box the mask covers, the mask itself travels as the detector's heatmap.
- :class:`FrameSpan` -- a span of a video in seconds, with an optional box.
- :class:`TimeSpan` -- a span of audio in seconds, with an optional frequency band in Hz.
- :class:`MetadataField` -- a named metadata field and its value.
- :class:`Region` -- a TriDF anatomical region or an area in words ("upper left"), with an
  optional box when one is known.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Union

import numpy as np

Modality = Literal["image", "video", "audio"]
VerdictLabel = Literal["likely_manipulated", "likely_authentic", "inconclusive"]
DetectorStatus = Literal["ok", "not_applicable", "error"]
ClaimStatus = Literal["grounded", "hallucinated", "unverifiable", "unchecked"]
ClaimSource = Literal["template", "model", "imported"]


# --------------------------------------------------------------------------- locations


@dataclass(frozen=True)
class Box:
    """Rectangle in pixel coordinates: top-left corner (x, y), width w, height h."""

    x: int
    y: int
    w: int
    h: int
    kind: Literal["box"] = "box"

    def clip(self, width: int, height: int) -> "Box":
        x0 = max(0, min(self.x, width))
        y0 = max(0, min(self.y, height))
        x1 = max(0, min(self.x + self.w, width))
        y1 = max(0, min(self.y + self.h, height))
        return Box(x0, y0, x1 - x0, y1 - y0)

    @property
    def area(self) -> int:
        return max(0, self.w) * max(0, self.h)

    def iou(self, other: "Box") -> float:
        ix = max(0, min(self.x + self.w, other.x + other.w) - max(self.x, other.x))
        iy = max(0, min(self.y + self.h, other.y + other.h) - max(self.y, other.y))
        inter = ix * iy
        union = self.area + other.area - inter
        return inter / union if union else 0.0


@dataclass(frozen=True)
class Mask:
    """A region given by a mask: its bounding box and the share of the box it covers.

    The pixel mask itself is the finding's heatmap (thresholded); this keeps the location
    small enough to store and print.
    """

    box: Box
    coverage: float = 1.0
    kind: Literal["mask"] = "mask"


@dataclass(frozen=True)
class FrameSpan:
    """A span of a video, in seconds, optionally with a box in frame pixels."""

    start: float
    end: float
    box: Box | None = None
    kind: Literal["frames"] = "frames"


@dataclass(frozen=True)
class TimeSpan:
    """A span of audio, in seconds, optionally limited to a frequency band in Hz."""

    start: float
    end: float
    low_hz: float | None = None
    high_hz: float | None = None
    kind: Literal["time"] = "time"


@dataclass(frozen=True)
class MetadataField:
    """A metadata field (e.g. ``EXIF:Software``) and the value found there."""

    name: str
    value: str | None = None
    kind: Literal["metadata"] = "metadata"


@dataclass(frozen=True)
class Region:
    """A TriDF region id (``eyes_region``...) or an area in words, with an optional box."""

    name: str
    box: Box | None = None
    kind: Literal["region"] = "region"


@dataclass(frozen=True)
class Whole:
    """The whole item (a global property: e.g. the whole image's spectrum)."""

    kind: Literal["whole"] = "whole"


Location = Union[Box, Mask, FrameSpan, TimeSpan, MetadataField, Region, Whole]


def location_from_dict(data: dict[str, Any] | None) -> Location | None:
    """Rebuild a location from its ``to_dict`` form (``kind`` selects the type)."""
    if data is None:
        return None
    kind = data.get("kind")
    payload = {k: v for k, v in data.items() if k != "kind"}
    if kind == "box":
        return Box(**payload)
    if kind == "mask":
        return Mask(box=Box(**{k: v for k, v in payload["box"].items() if k != "kind"}),
                    coverage=payload.get("coverage", 1.0))
    if kind in ("frames", "region"):
        box = payload.pop("box", None)
        cls = FrameSpan if kind == "frames" else Region
        return cls(**payload, box=location_from_dict(box) if box else None)  # type: ignore[arg-type]
    if kind == "time":
        return TimeSpan(**payload)
    if kind == "metadata":
        return MetadataField(**payload)
    if kind == "whole":
        return Whole()
    raise ValueError(f"unknown location kind {kind!r}")


def location_to_dict(loc: Location | None) -> dict[str, Any] | None:
    return None if loc is None else asdict(loc)


# --------------------------------------------------------------------------- findings


@dataclass
class Measurement:
    """The number behind a finding: ``value`` against a ``reference`` (or threshold)."""

    name: str
    value: float | str
    reference: float | str | None = None
    unit: str = ""

    def describe(self) -> str:
        """A short human reading, e.g. ``noise ratio 2.8 (reference 1.0)``."""
        def fmt(v: float | str | None) -> str:
            if isinstance(v, float):
                return f"{v:.3g}"
            return str(v)

        text = f"{self.name} {fmt(self.value)}{(' ' + self.unit) if self.unit else ''}"
        if self.reference is not None:
            text += f" (reference {fmt(self.reference)}{(' ' + self.unit) if self.unit else ''})"
        return text


@dataclass
class Finding:
    """One piece of evidence: an artifact (taxonomy id) at a place, with its measurement."""

    artifact: str
    location: Location
    strength: float
    measurement: Measurement
    detector: str
    region: str | None = None  # TriDF region id when a face or body gives one
    heatmap: np.ndarray | None = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "artifact": self.artifact,
            "location": location_to_dict(self.location),
            "region": self.region,
            "strength": round(float(self.strength), 4),
            "measurement": asdict(self.measurement),
            "detector": self.detector,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Finding":
        return cls(
            artifact=data["artifact"],
            location=location_from_dict(data["location"]),  # type: ignore[arg-type]
            strength=float(data["strength"]),
            measurement=Measurement(**data["measurement"]),
            detector=data["detector"],
            region=data.get("region"),
        )


@dataclass
class DetectorResult:
    """What one detector says about one item.

    ``score`` is a calibrated probability of manipulation, present only when ``status`` is
    ``ok``. ``reason`` says why a detector is not applicable or what went wrong.
    ``heatmap`` (float32 in 0..1, the size of the image or frame) is kept out of JSON.
    """

    name: str
    version: str
    status: DetectorStatus
    score: float | None = None
    reason: str | None = None
    findings: list[Finding] = field(default_factory=list)
    runtime: float = 0.0
    params: dict[str, Any] = field(default_factory=dict)
    heatmap: np.ndarray | None = field(default=None, repr=False, compare=False)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status == "ok":
            if self.score is None or not math.isfinite(self.score):
                raise ValueError(f"detector {self.name}: status ok needs a finite score")
            self.score = float(min(1.0, max(0.0, self.score)))
        elif self.reason is None:
            raise ValueError(f"detector {self.name}: status {self.status} needs a reason")

    @classmethod
    def not_applicable(cls, name: str, version: str, reason: str, **kw: Any) -> "DetectorResult":
        return cls(name=name, version=version, status="not_applicable", reason=reason, **kw)

    @classmethod
    def error(cls, name: str, version: str, message: str, **kw: Any) -> "DetectorResult":
        return cls(name=name, version=version, status="error", reason=message, **kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "status": self.status,
            "score": None if self.score is None else round(self.score, 4),
            "reason": self.reason,
            "runtime": round(self.runtime, 4),
            "params": self.params,
            "findings": [f.to_dict() for f in self.findings],
            "extras": self.extras,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "DetectorResult":
        return cls(
            name=data["name"],
            version=data["version"],
            status=data["status"],
            score=data.get("score"),
            reason=data.get("reason"),
            findings=[Finding.from_dict(f) for f in data.get("findings", [])],
            runtime=data.get("runtime", 0.0),
            params=data.get("params", {}),
            extras=data.get("extras", {}),
        )


@dataclass
class Verdict:
    """The fused verdict: label, probability of manipulation, and who drove it."""

    label: VerdictLabel
    probability: float | None
    drivers: list[str] = field(default_factory=list)
    contributions: dict[str, float] = field(default_factory=dict)
    method: str = ""
    #: The fusion's log-odds before any evidence (its fitted bias) and the factor on the sum of
    #: the contributions: ``logit(probability) = scale * sum(contributions) + baseline``. None
    #: for a verdict stored before these were recorded.
    baseline: float | None = None
    scale: float = 1.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "probability": None if self.probability is None else round(self.probability, 4),
            "drivers": self.drivers,
            "contributions": {k: round(v, 4) for k, v in self.contributions.items()},
            "method": self.method,
            "baseline": None if self.baseline is None else round(self.baseline, 4),
            "scale": self.scale,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Verdict":
        return cls(label=data["label"], probability=data.get("probability"),
                   drivers=list(data.get("drivers", [])),
                   contributions=dict(data.get("contributions", {})),
                   method=data.get("method", ""), baseline=data.get("baseline"),
                   scale=float(data.get("scale", 1.0)))


@dataclass
class Claim:
    """One sentence of an explanation, and after validation its status and the probe's reading."""

    text: str
    artifact: str | None
    modality: str | None = None
    location: Location | None = None
    region: str | None = None
    polarity: Literal["present", "absent"] = "present"
    source: ClaimSource = "template"
    status: ClaimStatus = "unchecked"
    reason: str | None = None
    measurement: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "artifact": self.artifact,
            "modality": self.modality,
            "location": location_to_dict(self.location),
            "region": self.region,
            "polarity": self.polarity,
            "source": self.source,
            "status": self.status,
            "reason": self.reason,
            "measurement": self.measurement,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Claim":
        return cls(
            text=data["text"],
            artifact=data.get("artifact"),
            modality=data.get("modality"),
            location=location_from_dict(data.get("location")),
            region=data.get("region"),
            polarity=data.get("polarity", "present"),
            source=data.get("source", "template"),
            status=data.get("status", "unchecked"),
            reason=data.get("reason"),
            measurement=data.get("measurement"),
        )


@dataclass
class Analysis:
    """Everything the pipeline concluded about one item."""

    media: dict[str, Any]
    verdict: Verdict
    detectors: list[DetectorResult]
    claims: list[Claim] = field(default_factory=list)
    tool_version: str = ""
    runtime: float = 0.0
    fused_map: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def findings(self) -> list[Finding]:
        return [f for d in self.detectors for f in d.findings]

    def to_dict(self) -> dict[str, Any]:
        return {
            "media": self.media,
            "verdict": self.verdict.to_dict(),
            "detectors": [d.to_dict() for d in self.detectors],
            "findings": [f.to_dict() for f in self.findings],
            "claims": [c.to_dict() for c in self.claims],
            "tool_version": self.tool_version,
            "runtime": round(self.runtime, 4),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Analysis":
        return cls(
            media=data["media"],
            verdict=Verdict.from_dict(data["verdict"]),
            detectors=[DetectorResult.from_dict(d) for d in data["detectors"]],
            claims=[Claim.from_dict(c) for c in data.get("claims", [])],
            tool_version=data.get("tool_version", ""),
            runtime=data.get("runtime", 0.0),
        )
