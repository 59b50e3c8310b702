"""Claim parser: paraphrases, polarity, places, verdicts."""

from __future__ import annotations

import pytest

from explainers.claims import OPEN_END, parse_rationale, split_sentences
from triage_app.model import Box, FrameSpan, MetadataField, Region, TimeSpan


def one(text, modality=None):
    claims = parse_rationale(text, modality)
    assert len(claims) == 1, [c.to_dict() for c in claims]
    return claims[0]


@pytest.mark.parametrize("text, artifact", [
    ("There is a halo around the jaw.", "blending_artifacts"),
    ("You can see a seam along the hairline.", "blending_artifacts"),
    ("The face has a pasted-in look.", "blending_artifacts"),
    ("The voice sounds robotic.", "unnatural_prosody"),
    ("Her delivery is monotone.", "unnatural_prosody"),
    ("The lips are out of sync with the speech.", "av_desynchronization"),
    ("Lips out of sync.", "av_desynchronization"),
    ("The left tree looks cloned.", "cloned_region"),
    ("A duplicated region sits in the sky.", "cloned_region"),
    ("This copy-pasted area hides a car.", "cloned_region"),
    ("The sky is grainy.", "noise"),
    ("The noise pattern differs on the face.", "noise"),
    ("The face is blocky.", "blockiness"),
    ("Strong compression artifacts on the wall.", "blockiness"),
    ("A metallic voice.", "vocoder_band_limit"),
    ("The speech is band-limited.", "vocoder_band_limit"),
    ("The eyes blink unnaturally.", "unnatural_gaze_blinking"),
    ("The shadows are inconsistent.", "shadow_inconsistency"),
    ("The hand has six fingers.", "anatomical_inconsistency"),
    ("The face flickers.", "flicker"),
])
def test_paraphrases(text, artifact):
    c = one(text)
    assert c.artifact == artifact
    assert c.source == "imported" and c.status == "unchecked" and c.polarity == "present"


@pytest.mark.parametrize("text", [
    "There is no sign of noise inconsistency.",
    "The image shows no blockiness.",
    "It is sharp, without any blurriness.",
    "The lighting is not inconsistent.",
])
def test_negations(text):
    claims = parse_rationale(text)
    assert claims[0].artifact is not None
    assert claims[0].polarity == "absent"


def test_negation_after_artifact_is_not_negation():
    assert one("The noise level does not match the rest.").polarity == "present"
    claims = parse_rationale("There is no halo, but the face is blocky.")
    assert [(c.artifact, c.polarity) for c in claims] == [
        ("blending_artifacts", "absent"), ("blockiness", "present")]


@pytest.mark.parametrize("text, region", [
    ("Blurriness around the mouth.", "nasal_oral_region"),
    ("Blending artifacts on the lips.", "nasal_oral_region"),
    ("The eyes are blurry.", "eyes_region"),
    ("Seam at the eyelids.", "eyes_region"),
    ("A halo along the jaw.", "cervical_region"),
    ("The neck is blurry.", "cervical_region"),
    ("The forehead is grainy.", "upper_head"),
    ("Noise in the hair.", "upper_head"),
    ("The cheeks are blurry.", "midface"),
    ("Noise on the nose bridge.", "midface"),
    ("The background is blurry.", "background"),
    ("Noise in the nasal/oral region.", "nasal_oral_region"),
])
def test_regions(text, region):
    c = one(text)
    assert c.region == region
    assert isinstance(c.location, Region) and c.location.name == region


@pytest.mark.parametrize("text, area", [
    ("Noise in the upper left.", "upper left"),
    ("Blockiness in the top right corner.", "top right"),
    ("The center is blurry.", "center"),
    ("Blur in the lower half of the image.", "lower half"),
    ("Grainy patch at the bottom left.", "bottom left"),
])
def test_areas_in_words(text, area):
    c = one(text)
    assert isinstance(c.location, Region) and c.location.name == area


@pytest.mark.parametrize("text, box", [
    ("Noise at x=120, y=40, 200x180.", Box(120, 40, 200, 180)),
    ("Noise at (120, 40, 200, 180).", Box(120, 40, 200, 180)),
    ("Cloned region at x=5, y=6, w=7, h=8.", Box(5, 6, 7, 8)),
])
def test_pixel_boxes(text, box):
    assert one(text).location == box


def test_box_with_area_keeps_both():
    c = one("The image is grainy in the upper left (120, 40, 200, 180).")
    assert c.location == Region("upper left", Box(120, 40, 200, 180))


@pytest.mark.parametrize("text, modality, span", [
    ("Flicker at 0:03-0:05.", "video", (3.0, 5.0)),
    ("Flicker from 0:03.2 to 0:05.0.", "video", (3.2, 5.0)),
    ("Clipping between 3.2 s and 4 s.", "audio", (3.2, 4.0)),
    ("Clipping in the first second.", "audio", (0.0, 1.0)),
    ("Pops in the first 3 seconds.", "audio", (0.0, 3.0)),
    ("A pop at 12s.", "audio", (12.0, 12.0)),
    ("An audio splice at 1:02.5.", "audio", (62.5, 62.5)),
])
def test_times(text, modality, span):
    c = one(text, modality)
    cls = FrameSpan if modality == "video" else TimeSpan
    assert isinstance(c.location, cls)
    assert (c.location.start, c.location.end) == pytest.approx(span)


def test_time_kind_without_modality_follows_artifact():
    assert isinstance(one("Clipping at 0:03-0:05.").location, TimeSpan)
    assert isinstance(one("Flicker at 0:03-0:05.").location, FrameSpan)


@pytest.mark.parametrize("text, band", [
    ("The voice is metallic above 8 kHz.", (8000.0, None)),
    ("Hiss below 300 Hz.", (None, 300.0)),
    ("Hiss between 2 and 4 kHz.", (2000.0, 4000.0)),
    ("A buzz at 50 Hz.", (45.0, 55.0)),
])
def test_bands(text, band):
    c = one(text, "audio")
    assert isinstance(c.location, TimeSpan)
    assert (c.location.low_hz, c.location.high_hz) == pytest.approx(band)
    assert c.location.end == OPEN_END  # no time given: the whole recording


def test_band_and_time_together():
    c = one("Hiss above 4 kHz between 1 s and 2 s.", "audio")
    assert (c.location.start, c.location.end, c.location.low_hz) == (1.0, 2.0, 4000.0)


@pytest.mark.parametrize("text, name, value", [
    ("The EXIF Software tag reads 'Adobe Photoshop'.", "EXIF:Software", "Adobe Photoshop"),
    ("XMP CreatorTool says \"GIMP 2.10\".", "XMP:CreatorTool", "GIMP 2.10"),
    ("The C2PA manifest is invalid.", "C2PA:manifest", None),
    ("The Software tag names Photoshop.", "EXIF:Software", "Photoshop"),
])
def test_metadata_fields(text, name, value):
    c = one(text)
    assert isinstance(c.location, MetadataField)
    assert c.location.name == name and c.location.value == value


@pytest.mark.parametrize("text, label", [
    ("This image is a deepfake.", "likely_manipulated"),
    ("The video has been manipulated.", "likely_manipulated"),
    ("It looks authentic.", "likely_authentic"),
    ("The recording appears genuine.", "likely_authentic"),
    ("The result is inconclusive.", "inconclusive"),
])
def test_verdicts(text, label):
    c = one(text)
    assert c.artifact is None and c.measurement == {"verdict": label}


def test_unknown_sentence_kept():
    c = one("The weather was nice that day.")
    assert c.artifact is None and c.measurement is None and c.location is None


def test_split_keeps_decimals_and_several_artifacts():
    s = split_sentences("Noise at 3.2 s is high. The face is blocky!\n- Hiss above 8.5 kHz")
    assert s == ["Noise at 3.2 s is high.", "The face is blocky!", "Hiss above 8.5 kHz"]
    claims = parse_rationale("The face is blurry and blocky around the mouth.")
    assert [c.artifact for c in claims] == ["blurriness", "blockiness"]
    assert all(c.region == "nasal_oral_region" for c in claims)


def test_verdict_and_artifact_in_one_sentence():
    claims = parse_rationale("This image is a deepfake: there is a halo around the jaw.")
    assert claims[0].measurement == {"verdict": "likely_manipulated"}
    assert claims[1].artifact == "blending_artifacts"


def test_bad_arguments():
    with pytest.raises(ValueError, match="modality"):
        parse_rationale("x", "text")
    with pytest.raises(ValueError, match="source"):
        parse_rationale("x", source="web")
    assert parse_rationale("") == []


def test_a_copy_of_is_a_cloned_region():
    """Regression: 'the rock ... is a copy of the one on the right' named no artifact."""
    (c,) = parse_rationale("The rock in the lower left is a copy of the one on the right.", "image")
    assert c.artifact == "cloned_region" and c.polarity == "present"
