"""Noise-floor forensics: digital silence inside speech, and noise-floor jumps at a cut.

A microphone recording never goes to exact zero: between words there is room tone (the
acoustic noise of the room plus the electronic noise of the chain), usually 40-70 dB below
speech. Editing leaves two traces in it: a pause that was muted or pasted from a generator is
digital silence (runs of exact or near-zero samples), and two recordings joined at a cut
usually have different room tone, so the floor jumps there.
"""

from __future__ import annotations

import time

import numpy as np

from detectors.audio._common import (TARGET_FS, analysis_audio, frame_energy_db, logistic,
                                     merge_spans, runs, span_findings,
                                     speech_activity)
from detectors.registry import detector
from triage_app.model import DetectorResult

_MODS = ("audio", "video")

# --------------------------------------------------------------------------- digital silence

SILENCE_VERSION = "1.0"

#: |x| at or below this is "digital silence": half a 16-bit LSB.
ZERO_LEVEL = 0.5 / 32768.0


@detector(name="digital_silence", version=SILENCE_VERSION, modalities=_MODS,
          method="runs of exact or sub-LSB samples inside the speech, and pauses far below "
                 "the recording's own room tone",
          reference="Maher (2009), 'Audio forensic examination', IEEE Signal Processing "
                    "Magazine 26(2):84-94 (room tone continuity; inserted silence)",
          limits="A noise gate or a denoiser in the recording chain also makes digital silence "
                 "(then it is everywhere, and the score stays moderate); silence at the very "
                 "start or end is ignored. Lossy codecs rarely keep exact zeros, so inserted "
                 "silence in re-encoded files is seen only as missing room tone.",
          artifacts=("digital_silence",), params={"min_run_s": 0.02, "tone_drop_db": 20.0},
          localizes=True)
def digital_silence(media, *, min_run_s: float = 0.02, tone_drop_db: float = 20.0
                    ) -> DetectorResult:
    """Digital silence and missing room tone inside speech.

    1. Runs of at least ``min_run_s`` whose samples are all within half a 16-bit LSB of zero,
       at the native rate, lying between the first and the last speech frame (energy VAD).
    2. Pauses (>= 0.1 s of inactive frames, at 16 kHz) whose level is more than
       ``tone_drop_db`` below the median pause level of the recording (its room tone).

    Returns
    -------
    DetectorResult
        ``score = 0.85 * logistic(ms of digital silence inside speech, 40 ms, 15 ms)``, or for
        missing room tone alone ``0.7 * logistic(drop, tone_drop_db + 5, 3 dB)``; both halved
        when more than 80% of all pauses are digital silence (a gated chain, not an edit).
        Constants set by hand: a single muted 40 ms gap is an edit-like event.

    References
    ----------
    .. [1] Maher R. C. (2009). Audio forensic examination. IEEE Signal Processing Magazine
       26(2), 84-94. doi:10.1109/MSP.2008.931080
    """
    t0 = time.perf_counter()
    x, fs, reason = analysis_audio(media)
    if reason:
        return DetectorResult.not_applicable("digital_silence", SILENCE_VERSION, reason)
    x16, _, _ = analysis_audio(media, TARGET_FS)
    act = speech_activity(x16, TARGET_FS)
    if act.active.sum() < 20:
        return DetectorResult.not_applicable("digital_silence", SILENCE_VERSION,
                                             "no speech-like activity found")
    idx = np.flatnonzero(act.active)
    first, last = act.times[idx[0]], act.times[idx[-1]]
    # 1. exact / near-zero runs at the native rate
    zero = np.abs(x) <= ZERO_LEVEL
    spans = []
    for s, e in runs(zero):
        if (e - s) >= min_run_s * fs and s / fs > first and e / fs < last:
            spans.append((s / fs, e / fs, (e - s) / fs * 1000.0))
    inside_ms = float(sum(v for _, _, v in spans))
    # 2. pauses far below the room tone
    pause_runs = [(s, e) for s, e in runs(~act.active) if (e - s) * act.hop_s >= 0.1]
    pause_lvl = [(act.times[s], act.times[e - 1], float(np.median(act.level_db[s:e])))
                 for s, e in pause_runs]
    gated_share = 0.0
    tone_spans = []
    if pause_lvl:
        tone = float(np.median([v for *_, v in pause_lvl]))
        all_pause = ~act.active
        zl = 20 * np.log10(ZERO_LEVEL)
        gated_share = float(np.mean(act.level_db[all_pause] <= zl)) if all_pause.any() else 0.0
        for a, b, v in pause_lvl:
            if a > first and b < last and tone - v > tone_drop_db:
                tone_spans.append((a, b, tone - v))
    else:
        tone = float(act.noise_db)
    findings = span_findings(spans, artifact="digital_silence", detector="digital_silence",
                             measurement="digital silence run", unit="ms",
                             reference=min_run_s * 1000.0,
                             strength_fn=lambda v: logistic(v, 40.0, 15.0))
    findings += span_findings(tone_spans, artifact="digital_silence",
                              detector="digital_silence",
                              measurement="pause level below room tone", unit="dB",
                              reference=tone_drop_db,
                              strength_fn=lambda v: logistic(v, tone_drop_db + 5, 3.0))
    score = 0.85 * logistic(inside_ms, 40.0, 15.0) if spans else 0.0
    if tone_spans:
        score = max(score, 0.7 * logistic(max(v for *_, v in tone_spans),
                                          tone_drop_db + 5, 3.0))
    if gated_share > 0.8:
        score *= 0.5
    return DetectorResult(
        name="digital_silence", version=SILENCE_VERSION, status="ok", score=score,
        findings=findings, runtime=time.perf_counter() - t0,
        params={"min_run_s": min_run_s, "tone_drop_db": tone_drop_db},
        extras={"digital_silence_ms_inside_speech": inside_ms, "room_tone_db": tone,
                "gated_pause_share": gated_share})


# --------------------------------------------------------------------------- splice

SPLICE_VERSION = "1.0"


def _sliding_median(v: np.ndarray, w: int, side: str) -> np.ndarray:
    """Median of v over the w values just before (side='left') or from (side='right') each i."""
    from scipy.ndimage import median_filter

    c = median_filter(v, size=w, mode="nearest")  # centred
    out = np.empty_like(v)
    h = w // 2
    if side == "left":
        out[h:] = c[:len(v) - h]
        out[:h] = c[0]
    else:
        out[:len(v) - h] = c[h:]
        out[len(v) - h:] = c[-1]
    return out


@detector(name="audio_splice", version=SPLICE_VERSION, modalities=_MODS,
          method="change-point of a minimum-statistics noise-floor track (room tone jump)",
          reference="Martin (2001), 'Noise power spectral density estimation based on optimal "
                    "smoothing and minimum statistics', IEEE Trans. Speech Audio Process. 9(5); "
                    "Pan, Zhang & Lyu (2012), 'Detecting splicing in digital audios using local "
                    "noise level estimation', ICASSP 2012",
          limits="Cuts between recordings with the same room tone are invisible; a speaker "
                 "moving, automatic gain control or music entering also move the floor. Needs "
                 "about 2 s of audio on each side of a cut. The cut time is known to about "
                 "+-0.4 s.",
          artifacts=("audio_splice",), params={"jump_db": 8.0, "window_s": 2.0},
          localizes=True)
def audio_splice(media, *, jump_db: float = 8.0, window_s: float = 2.0) -> DetectorResult:
    """Audio splice: the noise floor jumps at a cut.

    At 16 kHz, frame levels (25 ms / 10 ms) give a minimum-statistics floor track: the
    minimum over a centred 0.6 s window, which follows the room tone through speech (Martin
    2001). At each time, the medians of that track over ``window_s`` before and after are
    compared; a cut is a local maximum of the difference above ``jump_db`` whose size also
    exceeds four times the spread (MAD) of the track on both sides, i.e. a step and not a
    drift (the noise-level splice test of Pan et al. 2012). Up to 5 cuts, at least
    ``window_s`` apart.

    Returns
    -------
    DetectorResult
        ``score = 0.8 * logistic(largest jump, jump_db + 2, 1.5 dB)`` (constants set by hand:
        a 10 dB change of room tone is clearly audible); 0 with no cut.

    References
    ----------
    .. [1] Martin R. (2001). Noise power spectral density estimation based on optimal
       smoothing and minimum statistics. IEEE Trans. Speech and Audio Processing 9(5),
       504-512. doi:10.1109/89.928915
    .. [2] Pan X., Zhang X., Lyu S. (2012). Detecting splicing in digital audios using local
       noise level estimation. ICASSP 2012, 1841-1844. doi:10.1109/ICASSP.2012.6288260
    """
    from scipy.ndimage import minimum_filter1d

    t0 = time.perf_counter()
    x16, _, reason = analysis_audio(media, TARGET_FS)
    if reason:
        return DetectorResult.not_applicable("audio_splice", SPLICE_VERSION, reason)
    hop = 0.010
    db, times = frame_energy_db(x16, TARGET_FS, frame_s=0.025, hop_s=hop)
    w = int(round(window_s / hop))
    if len(db) < 2 * w + 10:
        return DetectorResult.not_applicable(
            "audio_splice", SPLICE_VERSION,
            f"audio too short for a {window_s:.1f} s window each side of a cut")
    db = np.maximum(db, -120.0)
    floor = minimum_filter1d(db, size=61, mode="nearest")
    left = _sliding_median(floor, w, "left")
    right = _sliding_median(floor, w, "right")
    mad_l = _sliding_median(np.abs(floor - left), w, "left")
    mad_r = _sliding_median(np.abs(floor - right), w, "right")
    jump = right - left
    stat = np.abs(jump) / (mad_l + mad_r + 1.0)
    # a cut is measured with a full window each side: within window_s of either end one
    # median is taken over a stub, and a recording (or a segment of a long one) that starts
    # mid-sentence showed a "jump" 1 s in
    valid = np.zeros(len(db), bool)
    valid[w: len(db) - w] = True
    # a floor at digital silence (fade-in/out, muted start) is digital_silence's business
    live = (np.minimum(left, right) > -100.0)
    cand = valid & live & (np.abs(jump) > jump_db) & (stat > 4.0)
    cuts: list[tuple[float, float, float]] = []
    order = np.argsort(-np.abs(jump) * cand)
    taken = np.zeros(len(db), bool)
    for i in order:
        if not cand[i] or len(cuts) >= 5:
            break
        if taken[max(0, i - w): i + w].any():
            continue
        taken[i] = True
        # the floor track is a min over +-0.3 s: a rise shows 0.3 s late, a fall 0.3 s early
        tc = float(times[i]) - 0.3 * np.sign(jump[i])
        cuts.append((max(0.0, tc - 0.4), tc + 0.4, float(jump[i])))
    findings = span_findings(
        [(a, b, abs(v)) for a, b, v in cuts], artifact="audio_splice", detector="audio_splice",
        measurement="noise floor jump", unit="dB", reference=jump_db,
        strength_fn=lambda v: logistic(v, jump_db + 2, 1.5))
    biggest = max((abs(v) for *_, v in cuts), default=0.0)
    score = 0.8 * logistic(biggest, jump_db + 2, 1.5) if cuts else 0.0
    return DetectorResult(
        name="audio_splice", version=SPLICE_VERSION, status="ok", score=score,
        findings=findings, runtime=time.perf_counter() - t0,
        params={"jump_db": jump_db, "window_s": window_s},
        extras={"cuts": [{"time": round((a + b) / 2, 3), "jump_db": round(v, 2)}
                         for a, b, v in sorted(cuts)],
                "floor_db_median": float(np.median(floor))})
