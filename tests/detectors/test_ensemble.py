"""Fusion: missing detectors are missing, confident provenance decides, bands are honest."""

from __future__ import annotations

import math

import pytest

from detectors.ensemble import FusionModel, fuse, sigmoid
from triage_app.model import DetectorResult


def ok(name: str, score: float) -> DetectorResult:
    return DetectorResult(name=name, version="1", status="ok", score=score)


def na(name: str) -> DetectorResult:
    return DetectorResult.not_applicable(name, "1", "no face found")


MEAN = FusionModel()


def test_not_applicable_is_missing_not_a_half() -> None:
    with_na = fuse([ok("a", 0.9), na("b"), na("c")], "image", model=MEAN)
    without = fuse([ok("a", 0.9)], "image", model=MEAN)
    assert with_na.probability == pytest.approx(without.probability)
    assert with_na.probability == pytest.approx(0.9, abs=1e-6)


def test_no_applicable_detector_is_inconclusive_without_a_number() -> None:
    v = fuse([na("a"), DetectorResult.error("b", "1", "crashed")], "audio", model=MEAN)
    assert v.label == "inconclusive" and v.probability is None


def test_bands() -> None:
    assert fuse([ok("ela", 0.8)], "image", model=MEAN).label == "likely_manipulated"
    assert fuse([ok("ela", 0.2)], "image", model=MEAN).label == "likely_authentic"
    assert fuse([ok("ela", 0.55)], "image", model=MEAN).label == "inconclusive"


def test_confident_provenance_outweighs_weak_pixels() -> None:
    v = fuse([ok("content_credentials", 0.98), ok("noise_inconsistency", 0.3),
              ok("ela", 0.3), ok("jpeg_traces", 0.35)], "image", model=MEAN)
    assert v.label == "likely_manipulated"
    assert v.drivers[0] == "content_credentials"


def test_a_single_zero_does_not_swamp_the_rest() -> None:
    """Regression: a quality detector that found nothing (score 0.0) used to bring log-odds of
    -9 and decide the verdict alone."""
    v = fuse([ok("clipping", 0.0), ok("spoof_lfcc", 0.95), ok("vocoder_band_limit", 0.9)],
             "audio", model=MEAN)
    assert v.probability > 0.5


def test_fitted_sum_pooling_and_contributions() -> None:
    model = FusionModel(weights={"a": 2.0, "b": 0.5}, bias=-0.5, pooling="sum")
    v = fuse([ok("a", 0.8), ok("b", 0.3), ok("unknown_plugin", 0.99)], "image", model=model)
    expected = sigmoid(-0.5 + 2.0 * math.log(4) + 0.5 * math.log(0.3 / 0.7))
    assert v.probability == pytest.approx(expected, rel=1e-6)
    assert set(v.contributions) == {"a", "b"}  # the fit never saw the plug-in


def test_fitted_missing_detector_counts_as_typical() -> None:
    """Regression: with uncentred log-odds the fitted bias absorbed the usual 'no clone found'
    of copy-move, so an image where copy-move did not apply leaned towards manipulated."""
    from detectors.ensemble import evidence_of

    model = FusionModel(weights={"copy_move": 1.0, "b": 1.0}, bias=0.0, pooling="sum",
                        centers={"copy_move": evidence_of("copy_move", 0.02), "b": 0.0})
    alone = fuse([ok("b", 0.5)], "image", model=model)
    with_typical = fuse([ok("b", 0.5), ok("copy_move", 0.02)], "image", model=model)
    assert alone.probability == pytest.approx(0.5)
    assert with_typical.probability == pytest.approx(0.5, abs=1e-3)


def test_absence_of_one_trace_cannot_vouch_for_authenticity() -> None:
    """Regression: a GIMP-edited splice was called authentic at p=0.00 because the generator
    fingerprint (which looks for AI images only) was confidently absent."""
    v = fuse([ok("generator_fingerprint", 0.001), ok("metadata", 0.65),
              ok("noise_inconsistency", 0.7)], "image", model=MEAN)
    assert v.probability > 0.35


def test_too_little_of_the_fitted_weight_gives_no_verdict():
    """A fitted fusion whose applicable detectors hold under MIN_COVERAGE of its weight says
    inconclusive, whatever its bias makes of the probability (a face-less video where only the
    container check ran was called "likely authentic" by the bias alone)."""
    from detectors.ensemble import MIN_COVERAGE, FusionModel, fuse, weight_coverage
    from triage_app.model import DetectorResult

    model = FusionModel(weights={"face": 0.9, "temporal": 0.9, "container": 0.1, "metadata": 0.5},
                        bias=-2.0, pooling="sum", centers={"metadata": 0.0})

    def ok(name, score):
        return DetectorResult(name=name, version="1", status="ok", score=score)

    little = [ok("container", 0.5), ok("metadata", 0.5)]
    assert weight_coverage(little, model) < MIN_COVERAGE
    v = fuse(little, "video", model=model)
    assert v.label == "inconclusive" and v.probability < model.authentic_at
    assert "too little evidence" in v.method
    enough = little + [ok("face", 0.3), ok("temporal", 0.3)]
    assert weight_coverage(enough, model) == 1.0
    assert fuse(enough, "video", model=model).label == "likely_authentic"
    # a video without sound: the soundtrack detectors' (inherited) weight is not missing
    # evidence. Refitting the audio fusion with heavier weights had turned silent clips whose
    # face detectors ran into "inconclusive"
    sounded = FusionModel(weights={**model.weights, "spoof": 3.0}, bias=-2.0, pooling="sum",
                          centers={"metadata": 0.0})
    some = little + [ok("temporal", 0.3)]
    assert weight_coverage(some, sounded) < MIN_COVERAGE <= \
        weight_coverage(some, sounded, absent=["spoof"])
    assert fuse(some, "video", model=sounded).label == "inconclusive"
    assert fuse(some, "video", model=sounded, absent=["spoof"]).label == "likely_authentic"
    # a confident high-precision finding decides on its own
    declared = [ok("container", 0.5), ok("metadata", 0.99)]
    assert fuse(declared, "video", model=model).label == "likely_manipulated"
    # unfitted (mean) pooling has no coverage rule
    assert weight_coverage(little, FusionModel()) is None


def test_a_detector_that_moved_nothing_is_not_named_a_driver() -> None:
    """Regression: a portrait clip was "Likely authentic, driven by video_blink_head" when that
    detector's contribution was -0.003 and the verdict came from the fitted bias; drivers are
    the detectors that moved the log-odds by at least a tenth towards the verdict."""
    from detectors.ensemble import MIN_DRIVER_LOGODDS

    model = FusionModel(weights={"a": 1.0, "b": 1.0}, centers={"a": 0.0, "b": 0.0},
                        bias=-1.5, pooling="sum")
    v = fuse([ok("a", 0.6), ok("b", 0.499)], "video", model=model)
    assert v.probability < 0.5
    assert v.contributions["b"] < 0 and abs(v.contributions["b"]) < MIN_DRIVER_LOGODDS
    assert v.drivers == []
    v = fuse([ok("a", 0.6), ok("b", 0.3)], "video", model=model)
    assert v.drivers == ["b"]


def test_speech_no_synthesis_detector_judged_is_not_called_authentic():
    """A 1 s BigVGAN clip of the corpus (too little speech for spoof_lfcc) came out "likely
    authentic" from the splice and silence detectors alone; so would a cloned voice on a
    telephone line. Without a detector of synthetic speech the audio verdict is inconclusive;
    a manipulated verdict stays possible."""
    model = FusionModel(weights={"spoof_lfcc": 0.7, "audio_splice": 1.5, "digital_silence": 0.3},
                        bias=-1.5, pooling="sum")
    short = DetectorResult.not_applicable("spoof_lfcc", "1", "less than 0.5 s of speech-like audio")
    edits_only = [short, ok("audio_splice", 0.1), ok("digital_silence", 0.1)]
    v = fuse(edits_only, "audio", model=model)
    assert v.label == "inconclusive" and v.probability < model.authentic_at
    assert "no detector of synthetic speech" in v.method and "less than 0.5 s" in v.method
    # the spoof model, or a plugged-in audio checkpoint, having judged it: authentic is allowed
    judged = fuse(edits_only[1:] + [ok("spoof_lfcc", 0.1)], "audio", model=model)
    assert judged.label == "likely_authentic"
    plugged = fuse(edits_only + [ok("hf:wav2vec2-spoof", 0.1)], "audio", model=model)
    assert plugged.label == "likely_authentic"
    # found edits still give a manipulated verdict
    assert fuse([short, ok("audio_splice", 0.98)], "audio", model=model).label \
        == "likely_manipulated"
    # a picture needs an edit detector: "no generator trace" alone is not authentic (a
    # screenshot, where copy-move, noise and JPEG analyses do not apply)
    pictures = FusionModel(weights={"ela": 1.0, "generator_fingerprint": 1.0,
                                    "residual_cnn": 1.0}, bias=-1.5, pooling="sum")
    assert fuse([ok("ela", 0.1), ok("generator_fingerprint", 0.1)], "image",
                model=pictures).label == "likely_authentic"
    v = fuse([ok("generator_fingerprint", 0.1), ok("residual_cnn", 0.1)], "image",
             model=pictures)
    assert v.label == "inconclusive" and "no detector of edits" in v.method


def test_audio_partly_unexamined_is_not_called_authentic():
    model = FusionModel(weights={"spoof_lfcc": 0.7, "audio_splice": 1.5}, bias=-1.5,
                        pooling="sum")
    results = [ok("spoof_lfcc", 0.05), ok("audio_splice", 0.05)]
    assert fuse(results, "audio", model=model).label == "likely_authentic"
    v = fuse(results, "audio", model=model, unexamined="the last 50:00 was not analysed")
    assert v.label == "inconclusive" and "the last 50:00 was not analysed" in v.method
    # a video's verdict rests on its frames, which were all seen
    assert fuse(results, "video", model=model,
                unexamined="the last 50:00 was not analysed").label == "likely_authentic"


def test_no_probability_when_nothing_the_fusion_was_fitted_on_ran():
    """From a QA pass: a 1x1 JPEG, judged by its metadata checks only, printed p=0.01."""
    model = FusionModel(weights={"ela": 1.0, "copy_move": 1.0, "metadata": 0.5}, bias=-3.0,
                        pooling="sum")
    v = fuse([ok("metadata", 0.5)], "image", model=model)
    assert v.label == "inconclusive" and v.probability is None and v.drivers == []
    assert fuse([ok("metadata", 0.5), ok("ela", 0.2)], "image", model=model).probability \
        is not None
