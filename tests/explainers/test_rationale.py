"""Template rationale writer: verdict line, one sentence per strong finding, nothing more."""

from __future__ import annotations

import pytest

from explainers.claims import parse_rationale
from explainers.rationale import area_words, format_time, write_rationale
from triage_app.model import (Analysis, Box, DetectorResult, Finding, Measurement, Mask,
                              MetadataField, TimeSpan, Verdict)


def analysis(findings, label="likely_manipulated", kind="image"):
    det = DetectorResult(name="d", version="1", status="ok", score=0.9, findings=findings)
    media = {"kind": kind, "width": 600, "height": 300} if kind != "audio" else {"kind": "audio"}
    return Analysis(media=media, verdict=Verdict(label, 0.9), detectors=[det])


def f(artifact, loc, strength, m=None, region=None):
    return Finding(artifact=artifact, location=loc, strength=strength,
                   measurement=m or Measurement("noise level", 2.8, 1.0, "x that of the rest of the image"),
                   detector="d",
                   region=region)


@pytest.mark.parametrize("label, line", [("likely_manipulated", "Likely Manipulated."),
                                         ("likely_authentic", "Likely Authentic."),
                                         ("inconclusive", "Inconclusive.")])
def test_verdict_line_first(label, line):
    claims = write_rationale(analysis([], label))
    assert [c.text for c in claims] == [line]
    assert claims[0].artifact is None and claims[0].measurement["verdict"] == label
    assert claims[0].source == "template"


def test_box_finding_sentence():
    claims = write_rationale(analysis([f("noise", Box(20, 10, 100, 50), 0.9)]))
    text = claims[1].text
    assert text == ("Noise in the upper left (x=20, y=10, 100x50): noise level 2.8x that of the "
                    "rest of the image.")
    c = claims[1]
    assert (c.artifact, c.modality, c.location, c.source) == ("noise", "image", Box(20, 10, 100, 50),
                                                              "template")


def test_threshold_reference_is_not_called_the_rest_of_the_image():
    """Regression: a probability against its threshold (0.99 vs 0.5) was written as "2.0x
    that of the rest of the image", which no measurement said."""
    from explainers.rationale import describe_measurement

    m = Measurement("patch probability of a generator residual", 0.99, 0.5)
    assert describe_measurement(m) == "patch probability of a generator residual 0.99 (reference 0.5)"
    ratio = Measurement("noise level ratio", 1.87, 1.0, "x that of the rest of the image")
    assert describe_measurement(ratio) == "noise level ratio 1.9x that of the rest of the image"
    assert describe_measurement(Measurement("peak ratio", 2.41, 1.0, "x")) == \
        "peak ratio 2.41x (reference 1)"


def test_region_time_band_metadata():
    fs = [f("blending_artifacts", Mask(Box(200, 100, 50, 40), 0.6), 0.8, region="nasal_oral_region"),
          f("clipping", TimeSpan(3.2, 5.0), 0.95, Measurement("clipped samples", 120, None, "")),
          f("vocoder_band_limit", TimeSpan(0.0, 7.5, 8000.0, None), 0.7,
            Measurement("energy above cutoff", -62.0, -20.0, "dB")),
          f("software_metadata", MetadataField("EXIF:Software", "Adobe Photoshop"), 0.6,
            Measurement("editor named", "Adobe Photoshop"))]
    texts = [c.text for c in write_rationale(analysis(fs, kind="image"), {"kind": "image"})]
    assert texts[1].startswith("Clipping from 0:03.2 to 0:05.0")
    assert "in the nasal/oral region (x=200, y=100, 50x40)" in texts[2]
    assert "above 8.0 kHz" in texts[3] and "-62 dB against -20 dB" in texts[3]
    assert "the EXIF Software tag reads 'Adobe Photoshop'" in texts[4]


def test_threshold_topn_dedup_and_order():
    fs = [f("noise", Box(0, 0, 100, 100), 0.55), f("noise", Box(2, 2, 100, 100), 0.9),
          f("blurriness", Box(300, 0, 50, 50), 0.3), f("blockiness", Box(400, 100, 60, 60), 0.7),
          f("banding", Box(100, 200, 60, 60), 0.6)]
    claims = write_rationale(analysis(fs), top_n=2)
    assert [c.artifact for c in claims[1:]] == ["noise", "blockiness"]
    assert claims[1].location == Box(2, 2, 100, 100)  # the stronger of the two duplicates
    all_claims = write_rationale(analysis(fs))
    assert "blurriness" not in [c.artifact for c in all_claims]  # below the threshold
    assert len(all_claims) == 4  # verdict + noise (once) + blockiness + banding
    with pytest.raises(ValueError, match="min_strength"):
        write_rationale(analysis(fs), min_strength=2)


def test_nothing_said_without_a_finding():
    # unknown artifact ids are not said either
    claims = write_rationale(analysis([f("not_an_artifact", Box(0, 0, 10, 10), 0.99)]))
    assert len(claims) == 1


def test_template_text_parses_back():
    fs = [f("noise", Box(20, 10, 100, 50), 0.9),
          f("clipping", TimeSpan(3.2, 5.0), 0.95, Measurement("clipped samples", 120))]
    for c in write_rationale(analysis(fs))[1:]:
        back = parse_rationale(c.text)
        assert back[0].artifact == c.artifact


def test_helpers():
    assert area_words(Box(500, 250, 20, 20), 600, 300) == "lower right"
    assert area_words(Box(290, 140, 20, 20), 600, 300) == "center"
    assert area_words(Box(0, 0, 1, 1), None, None) is None
    assert format_time(3.2) == "0:03.2" and format_time(65) == "1:05.0"


def test_format_time_rounds_before_splitting_minutes_and_reads_hours():
    # a finding at 1259.9925 s of a long recording was written "from 20:60.0"
    assert format_time(1259.9925) == "21:00.0"
    assert format_time(59.96) == "1:00.0"
    assert format_time(3725.3) == "1:02:05.3"
    from explainers.claims import parse_time

    assert parse_time(format_time(3725.0)) == 3725.0


def test_only_detectors_that_backed_the_verdict_are_explained():
    """Regression (TriDF Hal 0.89 on NoSo): copy-move images were explained with the noise and
    ELA findings of detectors the fusion had discounted, naming artifacts that were not there."""
    clone = Finding(artifact="cloned_region", location=Box(10, 10, 50, 50), strength=0.95,
                    measurement=Measurement("matched blocks", 400, 64), detector="copy_move")
    noise = Finding(artifact="noise", location=Box(300, 100, 60, 60), strength=0.9,
                    measurement=Measurement("noise level", 2.0, 1.0), detector="noise")
    weak = Finding(artifact="blockiness", location=Box(200, 10, 60, 60), strength=0.8,
                   measurement=Measurement("grid", 1.3, 1.0), detector="grid")
    dets = [DetectorResult(name="copy_move", version="1", status="ok", score=0.97, findings=[clone]),
            DetectorResult(name="noise", version="1", status="ok", score=0.3, findings=[noise]),
            DetectorResult(name="grid", version="1", status="ok", score=0.6, findings=[weak])]
    verdict = Verdict("likely_manipulated", 0.9,
                      contributions={"copy_move": 3.0, "noise": -0.4, "grid": 0.1})
    a = Analysis(media={"kind": "image", "width": 600, "height": 300}, verdict=verdict,
                 detectors=dets)
    assert [c.artifact for c in write_rationale(a)] == [None, "cloned_region"]
    authentic = Analysis(media=a.media, detectors=dets, verdict=Verdict(
        "likely_authentic", 0.1, contributions={"copy_move": -2.0, "noise": -0.4, "grid": -0.1}))
    assert [c.artifact for c in write_rationale(authentic)] == [None]


def test_recording_conditions_are_said_as_observations():
    """A clipped, humming recording was explained by its spoof score alone: the fusion gives
    clipping and hum no weight, so they never backed the verdict. They are said after the
    verdict's reasons, once each, marked as not by themselves signs of manipulation."""
    spoof = Finding(artifact="generator_fingerprint", location=TimeSpan(0.0, 6.0), strength=0.9,
                    measurement=Measurement("LLR", 5.0, 0.7), detector="spoof")
    clips = [Finding(artifact="clipping", location=TimeSpan(t, t + 0.5), strength=s,
                     measurement=Measurement("clipped samples", 40, 3, "samples"),
                     detector="clipping") for t, s in ((1.0, 0.95), (3.0, 0.9))]
    faint = Finding(artifact="hiss", location=TimeSpan(0.0, 1.0, 4000.0, 8000.0), strength=0.6,
                    measurement=Measurement("high-band level", -50, -60, "dBFS"), detector="hiss")
    dets = [DetectorResult(name="spoof", version="1", status="ok", score=0.95, findings=[spoof]),
            DetectorResult(name="clipping", version="1", status="ok", score=0.5,
                           findings=clips),
            DetectorResult(name="hiss", version="1", status="ok", score=0.5, findings=[faint])]
    a = Analysis(media={"kind": "audio"}, detectors=dets, verdict=Verdict(
        "likely_manipulated", 0.8, contributions={"spoof": 2.0, "clipping": 0.0, "hiss": 0.0}))
    claims = write_rationale(a)
    assert [c.artifact for c in claims] == [None, "generator_fingerprint", "clipping"]
    assert claims[2].text.startswith("Also measured, not by itself a sign of manipulation: "
                                      "Clipping from 0:01.0 to 0:01.5")
    assert claims[2].location == TimeSpan(1.0, 1.5)


def test_a_finding_under_an_authentic_verdict_is_said_as_outweighed():
    """Regression (demo): "Likely Authentic." was followed by "Unnatural Prosody ...", read as
    a reason for the verdict it had argued against."""
    from explainers.rationale import OUTWEIGHED_PREFIX

    pros = Finding(artifact="unnatural_prosody", location=TimeSpan(0.0, 4.0), strength=0.6,
                   measurement=Measurement("F0 standard deviation", 0.93, 1.0, "semitones"),
                   detector="prosody")
    det = DetectorResult(name="prosody", version="1", status="ok", score=0.6, findings=[pros])
    a = Analysis(media={"kind": "audio"}, detectors=[det], verdict=Verdict(
        "likely_authentic", 0.24, contributions={"prosody": 0.3, "spoof": -1.0}))
    claims = write_rationale(a)
    assert claims[0].text == "Likely Authentic."
    assert claims[1].text.startswith(OUTWEIGHED_PREFIX + "Unnatural Prosody from 0:00.0")
    parsed = parse_rationale(claims[1].text, "audio")
    assert [(c.artifact, c.polarity) for c in parsed] == [("unnatural_prosody", "present")]


def test_overlapping_spans_of_one_artifact_are_said_once():
    """Regression: a dead pause gave three sentences (the pause 2.18-2.53 s, and the 55 ms and
    40 ms runs of zeros inside it); spans sharing half of the shorter one are one place."""
    m = Measurement("digital silence run", 55.1, 20.0, "ms")
    fs = [f("digital_silence", TimeSpan(2.18, 2.53), 0.9, m),
          f("digital_silence", TimeSpan(2.37, 2.42), 0.8, m),
          f("digital_silence", TimeSpan(2.33, 2.37), 0.7, m),
          f("digital_silence", TimeSpan(7.0, 7.1), 0.75, m)]       # elsewhere: its own sentence
    claims = write_rationale(analysis(fs, kind="audio"))
    spans = [(c.location.start, c.location.end) for c in claims[1:]]
    assert spans == [(2.18, 2.53), (7.0, 7.1)]


def test_refuted_detectors_are_those_whose_said_finding_was_hallucinated():
    from explainers.rationale import refuted_detectors
    from triage_app.model import (Analysis, Box, Claim, DetectorResult, Finding, Measurement,
                                  Verdict)

    m = Measurement("x", 1.0)
    a, b = Box(1, 1, 5, 5), Box(20, 20, 5, 5)
    dets = [DetectorResult("noise_inconsistency", "1", "ok", score=0.9,
                           findings=[Finding("noise", a, 0.9, m, "noise_inconsistency")]),
            DetectorResult("copy_move", "1", "ok", score=0.9,
                           findings=[Finding("cloned_region", b, 0.9, m, "copy_move")])]
    analysis = Analysis(media={"kind": "image"}, detectors=dets,
                        verdict=Verdict("likely_manipulated", 0.9),
                        claims=[Claim("Noise at a.", "noise", location=a, status="hallucinated"),
                                Claim("Clone at b.", "cloned_region", location=b,
                                      status="grounded")])
    assert refuted_detectors(analysis) == ["noise_inconsistency"]
