"""The artifact and region taxonomy (DESIGN.md, "Taxonomy (TriDF-aligned)").

The data lives in ``resources/taxonomy.json``: the 27 artifact types and 11 regions of TriDF
(Jiang et al., "TriDF: Evaluating Perception, Detection, and Hallucination for Interpretable
DeepFake Detection", CVPR 2026, arXiv 2512.10652), plus the forensic traces that analysts rely on
and TriDF does not name (double compression, resampling, cloned regions, missing CFA, generator
fingerprint, software metadata, content credentials, thumbnail mismatch, vocoder band limit,
digital silence, audio splice). Each entry has an id, a display name, the modalities it applies to,
a definition, and the words people use for it (synonyms and paraphrases), which the claim parser
matches.

Public API
----------
- :func:`artifacts`, :func:`regions` -- the entries, keyed by id.
- :func:`artifact` / :func:`region` -- one entry (``KeyError`` for an unknown id).
- :func:`artifact_ids`, :func:`region_ids`, :data:`TRIDF_ARTIFACTS`, :data:`FORENSIC_ARTIFACTS`.
- :func:`applies_to` -- whether an artifact can occur in a modality.
- :func:`find_artifacts`, :func:`find_regions` -- synonym matches in a text (longest first,
  non-overlapping), as :class:`TermMatch`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

_RESOURCE = Path(__file__).resolve().parents[1] / "resources" / "taxonomy.json"

MODALITIES = ("image", "video", "audio")

#: The 27 TriDF artifact ids, in DESIGN.md order.
TRIDF_ARTIFACTS: tuple[str, ...] = (
    "blurriness", "blockiness", "noise", "banding", "color_inconsistency", "blending_artifacts",
    "lighting_inconsistency", "unnatural_texture", "temporal_artifacts", "flicker", "clipping",
    "hiss", "buzz", "pops", "reflection_inconsistency", "shadow_inconsistency",
    "spatial_contact_incoherence", "unrealistic_background", "anatomical_inconsistency",
    "unnatural_expressions", "object_integrity_flaws", "unrecognizable_text",
    "unnatural_gaze_blinking", "unnatural_body_head_movement", "unnatural_prosody",
    "av_desynchronization", "emotional_contradiction",
)
#: Our forensic additions.
FORENSIC_ARTIFACTS: tuple[str, ...] = (
    "double_compression", "resampling", "cloned_region", "missing_cfa", "generator_fingerprint",
    "software_metadata", "content_credentials", "thumbnail_mismatch", "vocoder_band_limit",
    "digital_silence", "audio_splice",
)
#: The 11 TriDF regions.
TRIDF_REGIONS: tuple[str, ...] = (
    "upper_head", "eyes_region", "midface", "nasal_oral_region", "ear", "cervical_region",
    "upper_limb", "trunk_torso", "lower_limb", "object", "background",
)
#: Regions that only exist where there is a face.
FACE_REGIONS: tuple[str, ...] = (
    "upper_head", "eyes_region", "midface", "nasal_oral_region", "ear", "cervical_region",
)


@dataclass(frozen=True)
class TermMatch:
    """A synonym found in a text: the id it names, the phrase, and its span in the text."""

    id: str
    phrase: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@lru_cache(maxsize=1)
def _load() -> dict[str, Any]:
    with open(_RESOURCE, encoding="utf-8") as fh:
        data = json.load(fh)
    arts = {a["id"]: a for a in data["artifacts"]}
    regs = {r["id"]: r for r in data["regions"]}
    return {"artifacts": arts, "regions": regs, "version": data.get("version", "")}


def artifacts() -> dict[str, dict[str, Any]]:
    """All artifact entries keyed by id (``id, name, modalities, kind, tridf, definition, synonyms``)."""
    return dict(_load()["artifacts"])


def regions() -> dict[str, dict[str, Any]]:
    """All region entries keyed by id (``id, name, synonyms, face``)."""
    return dict(_load()["regions"])


def artifact(artifact_id: str) -> dict[str, Any]:
    """One artifact entry; ``KeyError`` names the unknown id."""
    try:
        return _load()["artifacts"][artifact_id]
    except KeyError:
        raise KeyError(f"unknown artifact id {artifact_id!r}") from None


def region(region_id: str) -> dict[str, Any]:
    """One region entry; ``KeyError`` names the unknown id."""
    try:
        return _load()["regions"][region_id]
    except KeyError:
        raise KeyError(f"unknown region id {region_id!r}") from None


def artifact_ids() -> list[str]:
    return list(_load()["artifacts"])


def region_ids() -> list[str]:
    return list(_load()["regions"])


def is_artifact(name: str | None) -> bool:
    return name is not None and name in _load()["artifacts"]


def is_region(name: str | None) -> bool:
    return name is not None and name in _load()["regions"]


def artifact_name(artifact_id: str, modality: str | None = None) -> str:
    """Display name ("Blending Artifacts"); the id itself when unknown. An artifact that reads
    differently in one modality has its own name there (``names_by_modality``: a generator's
    fingerprint in speech is a "Synthetic-Speech Fingerprint", not a picture's spectrum)."""
    entry = _load()["artifacts"].get(artifact_id)
    if not entry:
        return artifact_id
    return (entry.get("names_by_modality") or {}).get(modality or "", entry["name"])


def region_name(region_id: str) -> str:
    """Display name ("nasal/oral region"); the id itself when unknown."""
    entry = _load()["regions"].get(region_id)
    return entry["name"] if entry else region_id


def modalities(artifact_id: str) -> tuple[str, ...]:
    return tuple(artifact(artifact_id)["modalities"])


def applies_to(artifact_id: str, modality: str) -> bool:
    """Whether ``artifact_id`` can occur in ``modality`` (``image``, ``video`` or ``audio``)."""
    if modality not in MODALITIES:
        raise ValueError(f"modality must be one of {MODALITIES}, got {modality!r}")
    return modality in artifact(artifact_id)["modalities"]


@lru_cache(maxsize=2)
def _patterns(which: str) -> list[tuple[str, str, re.Pattern[str]]]:
    entries = _load()[which]
    out: list[tuple[str, str, re.Pattern[str]]] = []
    for ident, entry in entries.items():
        phrases = set(entry["synonyms"]) | {entry["name"].lower(), ident.replace("_", " ")}
        for phrase in phrases:
            p = phrase.lower().strip()
            if not p:
                continue
            # words separated by any run of spaces/hyphens; word boundaries at both ends
            body = r"[\s\-]+".join(re.escape(w) for w in re.split(r"[\s\-]+", p))
            out.append((ident, p, re.compile(r"(?<![\w])" + body + r"(?![\w])")))
    out.sort(key=lambda t: -len(t[1]))
    return out


def _find(which: str, text: str, prefer: str | None = None) -> list[TermMatch]:
    low = text.lower()
    cands: list[TermMatch] = []
    for ident, phrase, pat in _patterns(which):
        for m in pat.finditer(low):
            cands.append(TermMatch(ident, phrase, m.start(), m.end()))
    # longest first, then earliest; keep non-overlapping
    def fits(m: TermMatch) -> bool:
        return prefer is None or prefer in _load()[which][m.id].get("modalities", MODALITIES)

    cands.sort(key=lambda m: (not fits(m), -m.length, m.start))
    kept: list[TermMatch] = []
    for m in cands:
        if all(m.end <= k.start or m.start >= k.end for k in kept):
            kept.append(m)
    kept.sort(key=lambda m: m.start)
    return kept


def find_artifacts(text: str, modality: str | None = None) -> list[TermMatch]:
    """Artifact synonyms in ``text``: longest match wins, non-overlapping, in text order.

    With ``modality``, a match that can occur in that modality wins over a longer one that
    cannot ("background noise" in an image is noise, not hiss).

    >>> [m.id for m in find_artifacts("a halo around the jaw and a grainy sky")]
    ['blending_artifacts', 'noise']
    """
    return _find("artifacts", text, modality)


def find_regions(text: str) -> list[TermMatch]:
    """Region synonyms in ``text`` (longest match wins, non-overlapping, in text order).

    >>> [m.id for m in find_regions("the lips and the eyelids")]
    ['nasal_oral_region', 'eyes_region']
    """
    return _find("regions", text)
