"""Long recordings analysed in segments, and the segments' results merged into one per detector.

Every audio detector examines at most :data:`detectors.audio._common.ANALYSIS_BUDGET_S` seconds
(a memory and time budget each of them states). A recording longer than that is cut into
equal consecutive segments no longer than the budget; the signal detectors run on each segment
(a view of the decoded samples; for a recording over ``_audio_io.STREAM_ABOVE_S``, which is
never decoded whole, that stretch read from the file) and their results are merged:

- a detector that judged any segment is ``ok``. How its segment scores combine is the
  detector's own declaration (``DetectorSpec.segment_pooling``):

  - ``"max"``, for a trace that is an event (a digital silence, a cut, a click, clipping): the
    **score is its highest over the segments**, since one such event anywhere is one in the
    file. Over more segments, a false alarm somewhere is likelier than in one, and the verdict
    says so;
  - ``"mean"``, for a property of the whole voice or channel (a synthetic voice, a vocoder's
    band limit, too regular a prosody): the **score is the mean of the segments' log-odds**,
    what the detector would say had it heard the whole recording at once. The maximum would
    collect false alarms: simulated on the corpus's bona fide files, a genuine recording of 7
    segments came out "likely manipulated" 70% of the time with the maximum for every
    detector, 2.5% with these poolings, against 5.2% for one segment; most of the difference
    is the voice detectors' (``benchmarks/segment_false_alarms.py``, fusion of 2026-12-07).
    The price: a cloned voice in one segment of many is diluted in the file's score (called
    "likely manipulated" in 20% of 7-segment recordings against 43% alone); its per-second
    findings still show where it is;
- every segment's findings are kept, their time spans shifted to the recording's clock
  (consecutive segments overlap by :data:`OVERLAP_S`, so that a trace at a boundary is seen
  whole; a finding seen by both is kept once);
- ``extras["segments"]`` lists each segment's span, status and score (or reason), and a
  segment that failed is named in ``reason`` even when others were judged, so that a failure
  is never hidden behind a merged score.

A video's soundtrack longer than :data:`detectors.audio._common.VIDEO_AUDIO_BUDGET_S` is read the
same way, each segment decoded on its own (the container is sought to it), so that an hour of
sound is never held at once. Detectors that read the file rather than the signal (metadata,
content credentials: those that also apply to images) and the video detectors run once, on
the whole item.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

from triage_app.model import DetectorResult, Finding, TimeSpan

#: Scores are clipped to [EPS, 1 - EPS] before their log-odds are averaged.
_EPS = 1e-6

#: A recording must exceed the budget by this much before it is cut (a 600.3 s file is one
#: segment: the detectors' own truncation loses 0.3 s at most).
SLACK_S = 0.5

#: Consecutive segments overlap by this much: most detectors ignore what lies at the very
#: edge of what they are given (silence "inside speech", a noise-floor jump with a second of
#: context either side), so without it a splice exactly at a boundary was missed.
OVERLAP_S = 10.0


def segment_bounds(duration: float, budget: float,
                   overlap: float = OVERLAP_S) -> list[tuple[float, float]]:
    """Equal ``(start, end)`` spans covering ``duration``, each at most ``budget`` seconds and
    each overlapping the next by ``overlap``: one span when the recording fits the budget
    (within :data:`SLACK_S`)."""
    if duration <= budget + SLACK_S:
        return [(0.0, duration)]
    overlap = min(overlap, budget / 4)
    n = math.ceil((duration - overlap) / (budget - overlap))
    step = (duration - overlap) / n
    return [(k * step, duration if k == n - 1 else k * step + step + overlap) for k in range(n)]


def _budget(kind: str | None) -> float | None:
    try:
        from detectors.audio import _common
    except ImportError:  # audio detectors not installed in this build
        return None
    if kind == "audio":
        return float(_common.ANALYSIS_BUDGET_S)
    if kind == "video":
        return float(_common.VIDEO_AUDIO_BUDGET_S)
    return None


def audio_segments(media: Any) -> list[tuple[float, float]] | None:
    """The segments an audio file, or a video's soundtrack, is analysed in; None when it is
    analysed whole (it fits the budget, or there is no sound)."""
    kind = getattr(media, "kind", None)
    if kind == "video" and not getattr(media, "has_audio", False):
        return None
    budget = _budget(kind)
    if budget is None:
        return None
    bounds = segment_bounds(float(media.duration), budget)
    return bounds if len(bounds) > 1 else None


def segment_media(media: Any, start: float, end: float) -> Any:
    """An ``AudioMedia`` of ``media``'s sound from ``start`` to ``end`` s: a view of an audio
    file's samples (nothing copied), that stretch read from the file when the recording is
    streamed, or that piece of a video's soundtrack, decoded alone."""
    if getattr(media, "kind", None) == "video":
        piece = media.audio(start=start, max_duration=end - start)
        if piece is None:
            raise ValueError("the video has no audio track")
        return piece
    fs = int(media.sample_rate)
    a, b = int(round(start * fs)), int(round(end * fs))
    return dataclasses.replace(media, samples=media.samples[a:b], notes=[])


def is_signal_detector(spec: Any) -> bool:
    """True for detectors that judge the decoded sound (segmented); False for those that read
    the file (metadata, content credentials: they also apply to images) and, for a video, for
    the video detectors (they judge the pictures, on their own budget)."""
    return "image" not in spec.modalities and "audio" in spec.modalities


def _shift(finding: Finding, offset: float) -> Finding:
    loc = finding.location
    if isinstance(loc, TimeSpan) and offset:
        loc = dataclasses.replace(loc, start=loc.start + offset, end=loc.end + offset)
    return dataclasses.replace(finding, location=loc)


def _same_stretch(f: Finding, g: Finding) -> bool:
    """Same artifact on time spans that overlap by more than half the shorter one."""
    a, b = f.location, g.location
    if f.artifact != g.artifact or not (isinstance(a, TimeSpan) and isinstance(b, TimeSpan)):
        return False
    inter = min(a.end, b.end) - max(a.start, b.start)
    shorter = min(a.end - a.start, b.end - b.start)
    return inter > 0.5 * shorter if shorter > 0 else inter >= 0


def _dedupe(findings: list[Finding]) -> list[Finding]:
    """Findings of two overlapping segments on the same stretch counted once: the stronger
    is kept, in the original order."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda g: -g.strength):
        if not any(_same_stretch(f, g) for g in kept):
            kept.append(f)
    order = {id(f): i for i, f in enumerate(findings)}
    return sorted(kept, key=lambda g: order[id(g)])


def clock(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def axis_label(t: float, duration: float, *, short: str = "{:g}s") -> str:
    """A time-axis tick (the viewers' rulers, the report's spectrogram): ``short`` seconds on
    a recording under two minutes, m:ss from two minutes, h:mm:ss throughout from an hour."""
    if duration < 120:
        return short.format(t)
    s = int(round(t))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if duration >= 3600 else \
        f"{s // 60}:{s % 60:02d}"


def mean_log_odds(scores: list[float]) -> float:
    """The probability whose log-odds are the mean of ``scores``' log-odds."""
    z = [math.log(p / (1 - p)) for p in (min(1 - _EPS, max(_EPS, float(q))) for q in scores)]
    m = sum(z) / len(z)
    return 1 / (1 + math.exp(-m)) if m >= 0 else math.exp(m) / (1 + math.exp(m))


def merge_results(parts: list[tuple[float, float, DetectorResult]],
                  pooling: str = "max") -> DetectorResult:
    """One result from one detector's results on consecutive segments ``(start, end, result)``
    (see the module docstring for the rules); ``pooling`` is the detector's
    ``segment_pooling``, "max" or "mean". The merged ``extras`` are those of the
    highest-scoring segment (``extras["highest_segment"]``), with the segment table."""
    if pooling not in ("max", "mean"):
        raise ValueError(f"unknown segment pooling {pooling!r}")
    first = parts[0][2]
    ok = [(a, b, r) for a, b, r in parts if r.status == "ok"]
    failed = [(a, b, r) for a, b, r in parts if r.status == "error"]
    table = []
    for a, b, r in parts:
        row: dict[str, Any] = {"start": round(a, 3), "end": round(b, 3), "status": r.status}
        if r.status == "ok":
            row["score"] = round(float(r.score), 4)  # type: ignore[arg-type]
        else:
            row["reason"] = r.reason
        table.append(row)
    runtime = sum(r.runtime for _, _, r in parts)
    failures = "; ".join(f"segment {clock(a)}-{clock(b)} failed: {r.reason}"
                         for a, b, r in failed)
    if not ok:
        status = "error" if failed else "not_applicable"
        reasons = list(dict.fromkeys(r.reason for _, _, r in parts if r.reason))
        reason = reasons[0] if len(reasons) == 1 else "; ".join(
            f"{clock(a)}-{clock(b)}: {r.reason}" for a, b, r in parts)
        return DetectorResult(name=first.name, version=first.version, status=status,
                              reason=reason, runtime=runtime, params=dict(first.params),
                              extras={"segments": table})
    top_a, top_b, top = max(ok, key=lambda p: p[2].score)  # type: ignore[arg-type,return-value]
    findings = _dedupe([_shift(f, a) for a, _, r in ok for f in r.findings])
    extras = dict(top.extras)
    extras["segments"] = table
    extras["highest_segment"] = [round(top_a, 3), round(top_b, 3)]
    extras["segment_pooling"] = pooling
    score = top.score if pooling == "max" else mean_log_odds([r.score for _, _, r in ok])
    return DetectorResult(name=first.name, version=first.version, status="ok",
                          score=score, reason=failures or None, findings=findings,
                          runtime=runtime, params=dict(top.params), extras=extras)


def run_segmented(specs: list[Any], media: Any, bounds: list[tuple[float, float]],
                  run_one: Callable[[Any, Any], DetectorResult],
                  progress: Callable[[str], None] | None = None) -> list[DetectorResult]:
    """Each detector of ``specs`` on ``media``: file detectors once, signal detectors on each
    segment of ``bounds`` (merged by :func:`merge_results`); results in the order of
    ``specs``. Segments are analysed one after another, so that one segment's decoded and
    resampled copies are freed before the next."""
    signal = [s for s in specs if is_signal_detector(s)]
    per_spec: dict[str, list[tuple[float, float, DetectorResult]]] = {s.name: [] for s in signal}
    if media.kind == "audio":
        fs = int(media.sample_rate)
        # on the sample grid, so that shifted spans land exactly where the samples lie
        bounds = [(round(a * fs) / fs, round(b * fs) / fs) for a, b in bounds]
    for k, (a, b) in enumerate(bounds):
        try:
            piece = segment_media(media, a, b)
        except Exception as exc:  # noqa: BLE001 -- a soundtrack piece that does not decode
            for spec in signal:
                per_spec[spec.name].append((a, b, DetectorResult.error(
                    spec.name, getattr(spec, "version", ""),
                    f"this segment's sound could not be decoded: {exc}")))
            continue
        for spec in signal:
            if progress:
                progress(f"{spec.name} ({k + 1}/{len(bounds)})")
            per_spec[spec.name].append((a, b, run_one(spec, piece)))
        del piece  # freed before the next segment is decoded
    out = []
    for spec in specs:
        if spec.name in per_spec:
            out.append(merge_results(per_spec[spec.name],
                                     getattr(spec, "segment_pooling", "max")))
        else:
            if progress:
                progress(spec.name)
            out.append(run_one(spec, media))
    return out


def describe(extras: dict[str, Any] | None) -> str | None:
    """One line on a merged result's segments (for a tooltip or a report cell), e.g.
    ``highest in 43:38-52:21, segment 6 of 7 (scores 0.00, 0.00, 0.00, 0.00, 0.00, 0.85,
    0.00)``; None for a result that was not merged from segments."""
    table = (extras or {}).get("segments")
    if not table:
        return None
    scores = ", ".join(f"{row['score']:.2f}" if "score" in row else "n/a" for row in table)
    top = (extras or {}).get("highest_segment")
    if not top:
        return f"{len(table)} segments (scores {scores})"
    k = next((i for i, row in enumerate(table)
              if abs(row["start"] - top[0]) < 1e-3 and abs(row["end"] - top[1]) < 1e-3), None)
    where = f", segment {k + 1} of {len(table)}" if k is not None else f" of {len(table)} segments"
    line = f"highest in {clock(top[0])}-{clock(top[1])}{where} (scores {scores})"
    if (extras or {}).get("segment_pooling") == "mean":
        judged = sum("score" in row for row in table)
        line = f"mean log-odds of {judged} segments; {line}"
    return line


def segments_note(bounds: list[tuple[float, float]], duration: float,
                  kind: str = "audio") -> str:
    """The media note of a recording (or a video's soundtrack) analysed in segments."""
    length = bounds[0][1] - bounds[0][0]
    what = "soundtrack" if kind == "video" else "recording"
    return (f"this {clock(duration)} {what} was analysed in {len(bounds)} overlapping "
            f"segments of {clock(length)} (the audio detectors' budget is "
            f"{clock(_budget(kind) or 0.0)} per pass); a detector of events (silences, cuts, "
            f"clicks) scores its highest segment, so a false alarm somewhere in a long {what} "
            "is likelier than in one segment; a detector of the voice or channel as a whole "
            "(synthetic speech, band limit, prosody) scores the mean of its segments")
