"""analyze(media) -> Analysis: detectors -> fusion -> explainer -> validator.

The one path every analysis takes, from the CLI's ``analyze`` and ``scan`` and from the GUI.
Each detector runs inside a guard: an exception becomes that detector's ``error`` result and
the others go on. Nothing here knows of Qt or of the case folder.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from triage_app import __version__
from triage_app.media import Media, MediaError, open_media
from triage_app.model import Analysis, Claim, DetectorResult, Verdict
from triage_app.segments import audio_segments, is_signal_detector, run_segmented, segments_note
from triage_app.settings import Settings
from triage_app.threads import detector_threads, numeric_threads
from detectors.registry import NotApplicable

log = logging.getLogger(__name__)

PIPELINE_VERSION = __version__


@dataclass
class AnalyzeOutcome:
    """What analysing one file produced: the analysis, or the error that stopped it."""

    path: str
    sha256: str | None
    media: dict[str, Any] | None
    analysis: Analysis | None
    error: str | None = None
    maps: dict[str, np.ndarray] = field(default_factory=dict)  # uint8 heatmaps, "fused" first
    #: the same maps as PNG (bytes, width, height), when a scan worker encoded them for storing
    encoded_maps: dict[str, tuple[bytes, int, int]] = field(default_factory=dict)

    def to_json(self, *, map_path: str | None = None) -> dict[str, Any]:
        """The stable ``analyze --json`` / ``scan --json`` object (DESIGN.md, Command line)."""
        a = self.analysis.to_dict() if self.analysis else None
        return {
            "path": self.path,
            "sha256": self.sha256,
            "media": self.media,
            "verdict": a["verdict"] if a else None,
            "detectors": [
                {k: d[k] for k in ("name", "version", "status", "score", "reason", "runtime")}
                for d in a["detectors"]] if a else [],
            "findings": a["findings"] if a else [],
            "claims": [{k: c[k] for k in ("text", "artifact", "status", "reason", "location",
                                          "measurement")} for c in a["claims"]] if a else [],
            "map": map_path,
            "error": self.error,
            "tool_version": __version__,
        }


def sha256_file(path: str | Path, *, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def run_detector(spec: Any, media: Media) -> DetectorResult:
    """Run one registered detector with a guard and a stopwatch."""
    start = time.perf_counter()
    try:
        result = spec.function(media)
        if not isinstance(result, DetectorResult):
            raise TypeError(f"returned {type(result).__name__}, not DetectorResult")
    except NotApplicable as exc:
        result = DetectorResult.not_applicable(spec.name, spec.version, str(exc))
    except MemoryError:
        result = DetectorResult.error(spec.name, spec.version, "ran out of memory on this item")
    except Exception as exc:
        log.exception("detector %s failed", spec.name)
        result = DetectorResult.error(spec.name, spec.version,
                                      f"detector failed: {type(exc).__name__}: {exc}")
    result.runtime = time.perf_counter() - start
    if not result.params and spec.params:
        result.params = dict(spec.params)
    return result


def run_detectors(specs: list[Any], media: Media, *, threads: int = 1,
                  progress: Callable[[str], None] | None = None) -> list[DetectorResult]:
    """Every detector of ``specs`` on ``media``, results in the order of ``specs``.

    Image detectors are independent pure functions of the decoded picture, so with
    ``threads > 1`` they run side by side (numpy and OpenCV release the GIL), with the BLAS
    and OpenCV pools held at one thread meanwhile. Video and audio detectors share one decoding
    pass or one decoded track, memoised on the media object, so they run one after another.
    The results do not depend on ``threads``.
    """
    if threads <= 1 or media.kind != "image" or len(specs) < 2:
        results = []
        for spec in specs:
            if progress:
                progress(spec.name)
            results.append(run_detector(spec, media))
        return results
    from concurrent.futures import ThreadPoolExecutor

    # The slowest detectors (by their last run in this process) first, so that the last one
    # to start is a short one; the first analysis runs them in registry order.
    order = sorted(range(len(specs)), key=lambda i: -_LAST_RUNTIME.get(specs[i].name, 0.0))
    with numeric_threads(1), ThreadPoolExecutor(max_workers=threads,
                                                thread_name_prefix="detector") as pool:
        futures = {}
        for i in order:
            if progress:
                progress(specs[i].name)
            futures[i] = pool.submit(run_detector, specs[i], media)
        results = [futures[i].result() for i in range(len(specs))]
    for r in results:
        _LAST_RUNTIME[r.name] = r.runtime or 0.0
    return results


#: Runtime of each detector's last run in this process (seconds), to start the slowest first.
_LAST_RUNTIME: dict[str, float] = {}


def fuse_maps(results: list[DetectorResult], shape: tuple[int, int]) -> np.ndarray | None:
    """Weighted mean of the localizing detectors' heatmaps, weighted by each detector's map
    weight times its confidence (score); None when no detector localized anything."""
    from detectors.registry import get

    acc = np.zeros(shape, np.float32)
    total = 0.0
    for r in results:
        if r.status != "ok" or r.heatmap is None or r.heatmap.shape[:2] != shape:
            continue
        try:
            w = get(r.name).map_weight
        except KeyError:
            w = 1.0
        w *= float(r.score or 0.0)
        if w <= 0:
            continue
        acc += w * np.clip(r.heatmap.astype(np.float32), 0, 1)
        total += w
    if total == 0:
        return None
    return acc / total


def box_map(results: list[DetectorResult], shape: tuple[int, int]) -> np.ndarray | None:
    """A video's localization map, the size of its frame: each pixel the strength of the
    strongest finding whose box covers it, over the whole clip (the findings' times are on the
    timeline, not here); None when no finding has a box. The video detectors localize with
    boxes (the tracked face, a flickering block), not with per-pixel maps."""
    from triage_app.model import Box, FrameSpan

    h, w = shape
    acc = np.zeros(shape, np.float32)
    any_box = False
    for r in results:
        if r.status != "ok":
            continue
        for f in r.findings:
            loc = f.location
            b = loc.box if isinstance(loc, FrameSpan) else loc if isinstance(loc, Box) else None
            if b is None:
                continue
            b = b.clip(w, h)
            if b.w <= 0 or b.h <= 0:
                continue
            region = acc[b.y:b.y + b.h, b.x:b.x + b.w]
            np.maximum(region, float(np.clip(f.strength, 0, 1)), out=region)
            any_box = True
    return acc if any_box else None


def to_uint8_map(heatmap: np.ndarray) -> np.ndarray:
    """0..1 float heatmap -> uint8 localization map (0 = no evidence, 255 = strongest)."""
    return np.clip(np.rint(heatmap * 255.0), 0, 255).astype(np.uint8)


def analyze(media: Media, *, settings: Settings | None = None, explain: bool = True,
            progress: Callable[[str], None] | None = None) -> Analysis:
    """Run every applicable detector on ``media``, fuse, explain and validate.

    Parameters
    ----------
    media : ImageMedia | VideoMedia | AudioMedia
        An opened item (see :func:`triage_app.media.open_media`).
    settings : Settings, optional
        Detectors switched off, checkpoints; defaults otherwise.
    explain : bool
        Write the explanation and validate it with the probes (default True).
    progress : callable, optional
        Called with each detector's name before it runs.
    """
    from detectors import ensemble
    from detectors.registry import detectors_for

    settings = settings or Settings()
    start = time.perf_counter()
    if settings.checkpoints:
        from detectors.learned.hf_checkpoint import register_checkpoints

        register_checkpoints(settings)  # idempotent; a refused entry is listed in LOAD_ERRORS
    specs = detectors_for(media.kind, disabled=settings.disabled_detectors)
    bounds = audio_segments(media)
    if bounds:  # sound longer than the audio detectors' budget: every part is examined
        results = run_segmented(specs, media, bounds, run_detector, progress=progress)
    else:
        results = run_detectors(specs, media, threads=detector_threads(settings.detector_threads),
                                progress=progress)
    # a video without sound: its soundtrack detectors' weight (inherited from the audio
    # fusion) must not count as evidence missing from a verdict on the pictures
    silent = media.kind == "video" and not getattr(media, "has_audio", False)
    absent = [s.name for s in specs if is_signal_detector(s)] if silent else []
    verdict: Verdict = ensemble.fuse(results, media.kind, absent=absent)
    fused = None
    if media.kind == "image":
        fused = fuse_maps(results, (media.height, media.width))  # type: ignore[union-attr]
    elif media.kind == "video" and getattr(media, "width", 0) and getattr(media, "height", 0):
        fused = box_map(results, (media.height, media.width))  # type: ignore[union-attr]
    summary = media.summary()
    if bounds:
        note = segments_note(bounds, float(media.duration), media.kind)
        summary["notes"] = [*summary.get("notes", []), note]
        summary["audio_segments"] = [[round(a, 3), round(b, 3)] for a, b in bounds]
        verdict.method += (f"; {len(bounds)} segments: an event detector's score is its "
                           "highest segment's, a voice or channel detector's the mean of its "
                           "segments' log-odds")
    analysis = Analysis(media=summary, verdict=verdict, detectors=results,
                        tool_version=__version__, fused_map=fused)
    if explain:
        analysis.claims = explain_and_validate(analysis, media)
    analysis.runtime = time.perf_counter() - start
    return analysis


def explain_and_validate(analysis: Analysis, media: Media) -> list[Claim]:
    """Our own explanation of ``analysis``, each sentence checked by an independent probe."""
    try:
        from explainers.rationale import OBSERVATION_PREFIX, OUTWEIGHED_PREFIX, write_rationale
        from explainers.validator import validate
    except ImportError:  # explainers not installed in this build
        return []
    claims = validate(write_rationale(analysis, analysis.media), media, verdict=analysis.verdict)
    # An observation (a recording condition that is no reason for the verdict) is said only
    # when the probe confirms it; a finding the verdict outweighed is not said when its probe
    # refutes it (on the corpus, 32 such sentences on authentic photos: detector false alarms
    # that the detector table still shows). The verdict's reasons are kept whatever their
    # status, so that a reason the probe could not confirm is shown as such.
    return [c for c in claims
            if not (c.text.startswith(OBSERVATION_PREFIX) and c.status != "grounded")
            and not (c.text.startswith(OUTWEIGHED_PREFIX) and c.status == "hallucinated")]


def check_rationale(path: str | Path, text: str, *, verdict: Verdict | None = None,
                    settings: Settings | None = None) -> list[Claim]:
    """Parse a free-text rationale (from a person or a model) and validate every sentence
    against the media at ``path``. A verdict sentence ("the image is authentic") is checked
    against ``verdict``; when none is given and the rationale has such a sentence, the item is
    analysed for it (without an explanation), so that a false verdict is not left unchecked."""
    from explainers.claims import parse_rationale
    from explainers.validator import validate

    settings = settings or Settings()
    media = open_media(path, limits=settings.limits)
    claims = parse_rationale(text, modality=media.kind)
    if verdict is None and any(c.artifact is None and "verdict" in (c.measurement or {})
                               for c in claims):
        verdict = analyze(media, settings=settings, explain=False).verdict
    return validate(claims, media, verdict=verdict)


def analyze_path(path: str | Path, *, settings: Settings | None = None,
                 explain: bool = True, sha256: str | None = None) -> AnalyzeOutcome:
    """Hash, open and analyse one file; any failure becomes ``error`` on the outcome.

    ``sha256``: the hash when the caller already has it (a scan hashed the file at intake),
    so that the file is not read twice for it."""
    settings = settings or Settings()
    p = str(path)
    try:
        # only a regular file is hashed: reading a pipe or a device could block for ever;
        # open_media then says what anything else is
        digest = sha256 or (sha256_file(path) if os.path.isfile(path) else None)
    except OSError as exc:
        return AnalyzeOutcome(p, None, None, None, error=f"cannot read file: {exc.strerror or exc}")
    try:
        media = open_media(path, limits=settings.limits)
    except MediaError as exc:
        return AnalyzeOutcome(p, digest, None, None, error=str(exc))
    try:
        analysis = analyze(media, settings=settings, explain=explain)
    except MemoryError:
        return AnalyzeOutcome(p, digest, media.summary(), None,
                              error="ran out of memory while analysing this item")
    except MediaError as exc:  # video decoding can fail mid-stream
        return AnalyzeOutcome(p, digest, media.summary(), None, error=str(exc))
    maps: dict[str, np.ndarray] = {}
    if analysis.fused_map is not None:
        maps["fused"] = to_uint8_map(analysis.fused_map)
    for r in analysis.detectors:
        if r.heatmap is not None and r.status == "ok":
            maps[r.name] = to_uint8_map(r.heatmap)
    return AnalyzeOutcome(p, digest, analysis.media, analysis, maps=maps)
