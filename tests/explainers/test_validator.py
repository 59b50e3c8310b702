"""Validator: true claims grounded, false ones hallucinated, absent content caught, semantic
claims unverifiable -- on a synthetic image, a tiny MP4 and a WAV made here."""

from __future__ import annotations

import numpy as np
import pytest

from explainers.claims import parse_rationale
from explainers.validator import load_media, summarize, validate, validate_text
from triage_app.model import Box, Claim, Verdict

from _explainer_synth import SR, image_media, scene, speech_like, write_flicker_mp4, write_wav

HERE = Box(180, 60, 100, 80)


@pytest.fixture(scope="module")
def landscape():
    """A face-free scene with a noisy pasted box at HERE."""
    rgb = scene()
    rng = np.random.default_rng(5)
    rgb[HERE.y:HERE.y + HERE.h, HERE.x:HERE.x + HERE.w] += rng.normal(0, 10, (HERE.h, HERE.w, 3))
    return image_media(rgb)


def check(text, media, **kw):
    claims = validate_text(text, media, **kw)
    assert claims, text
    return claims[-1]


def test_noise_claim_true_and_false(landscape):
    c = check("The noise pattern differs at x=180, y=60, 100x80.", landscape)
    assert c.status == "grounded" and c.measurement["ratio"] > 2
    assert "control boxes" in c.reason
    c = check("The noise pattern differs at (30, 140, 100, 80).", landscape)
    assert c.status == "hallucinated" and "found none" in c.reason
    assert c.measurement["n_controls"] >= 3


def test_negative_claims(landscape):
    assert check("There is no noise inconsistency at (30, 140, 100, 80).", landscape).status == "grounded"
    c = check("There is no noise inconsistency at x=180, y=60, 100x80.", landscape)
    assert c.status == "hallucinated" and "denies" in c.reason


@pytest.mark.parametrize("text", [
    "The eyes blink unnaturally.",
    "There is a halo around the jaw.",
    "The lips show blending artifacts.",
    "The facial expression looks frozen.",
])
def test_face_claims_on_a_landscape(landscape, text):
    c = check(text, landscape)
    assert c.status == "hallucinated"
    assert "no face" in c.reason


@pytest.mark.parametrize("text, why", [
    ("The voice sounds robotic.", "no audio"),
    ("There is hiss above 4 kHz.", "no audio"),
    ("The picture flickers between 0:01 and 0:02.", "no time"),
    ("Blurriness at (1000, 1000, 50, 50).", "outside"),
    ("The EXIF Software tag reads 'Adobe Photoshop'.", "no EXIF:Software"),
])
def test_absent_content_in_an_image(landscape, text, why):
    c = check(text, landscape)
    assert c.status == "hallucinated" and why in c.reason


@pytest.mark.parametrize("text, why", [
    ("Something odd happens at 0:03.", "no time"),
    ("Something is wrong at (2000, 10, 50, 50).", "outside"),
    ("The mouth looks strange.", "no face"),
])
def test_a_sentence_without_artifact_pointing_at_absent_content(landscape, text, why):
    """Regression: a sentence naming no artifact was always "unverifiable", even when the place
    it points at cannot exist in the item."""
    c = check(text, landscape)
    assert c.artifact is None
    assert c.status == "hallucinated" and why in c.reason


def test_splice_reads_by_modality(landscape, wav):
    assert check("There is a splice in the upper left.", landscape).artifact == "blending_artifacts"
    assert check("There is a splice at 0:01.", wav).artifact == "audio_splice"


def test_unverifiable_and_verdicts(landscape):
    c = check("The shadows are inconsistent.", landscape)
    assert c.status == "unverifiable" and "no probe" in c.reason.lower()
    c = check("The weather looks nice.", landscape)
    assert c.status == "unverifiable"
    assert check("This image is a deepfake.", landscape).status == "unverifiable"
    v = Verdict("likely_manipulated", 0.91)
    assert check("This image is a deepfake.", landscape, verdict=v).status == "grounded"
    assert check("It looks authentic.", landscape, verdict=v).status == "hallucinated"
    assert check("It looks authentic.", landscape,
                 verdict=Verdict("inconclusive", 0.5)).status == "unverifiable"


def test_face_found_when_given(landscape):
    claims = parse_rationale("The eyes blink unnaturally.", "image")
    out = validate(claims, landscape, faces=[Box(100, 50, 80, 80)])
    # a face exists, but blinking is a video artifact: still hallucinated, for that reason
    assert out[0].status == "hallucinated" and "still image" in out[0].reason
    out = validate(parse_rationale("The eyes are blurry.", "image"), landscape,
                   faces=[Box(100, 50, 80, 80)])
    assert out[0].status in ("grounded", "hallucinated") and "eyes region" in out[0].reason


def test_inputs_untouched_and_summary(landscape):
    claims = parse_rationale("Grainy at x=180, y=60, 100x80. Shadows are inconsistent.", "image")
    out = validate(claims, landscape)
    assert [c.status for c in claims] == ["unchecked", "unchecked"]
    assert summarize(out) == {"grounded": 1, "hallucinated": 0, "unverifiable": 1, "unchecked": 0}
    assert all(c.reason and c.measurement is not None for c in out if c.status != "unverifiable")
    with pytest.raises(ValueError, match="media"):
        validate(claims, object())


def test_cloned_region(tmp_path):
    rgb = scene(seed=3)
    rgb[140:210, 200:280] = rgb[20:90, 20:100]
    m = image_media(rgb)
    assert check("A copy-pasted area at x=200, y=140, 80x70.", m).status == "grounded"
    assert check("A copy-pasted area at x=150, y=20, 80x70.", m).status == "hallucinated"


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    p = write_flicker_mp4(tmp_path_factory.mktemp("v") / "flicker.mp4")
    return load_media(p)


def test_video_flicker(clip):
    assert clip.kind == "video" and clip.duration == pytest.approx(3.0, abs=0.2)
    c = check("The picture flickers between 0:01 and 0:02.", clip)
    assert c.status == "grounded", c.reason
    assert c.measurement["flicker_levels"] > 5
    c = check("The picture flickers between 0:00.1 and 0:00.9.", clip)
    assert c.status == "hallucinated", c.reason


def test_video_absent_content(clip):
    c = check("Flicker at 0:30.", clip)
    assert c.status == "hallucinated" and "past the end" in c.reason
    c = check("The lips are out of sync.", clip)
    assert c.status == "hallucinated"
    c = check("The voice sounds robotic.", clip)
    assert c.status == "hallucinated" and "no audio track" in c.reason


@pytest.fixture(scope="module")
def wav(tmp_path_factory):
    x = speech_like(3.0)
    seg = slice(int(1.0 * SR), int(1.5 * SR))
    x[seg] = np.clip(x[seg] * 8, -0.9, 0.9)
    return load_media(write_wav(tmp_path_factory.mktemp("a") / "clip.wav", x))


def test_audio_claims(wav):
    assert wav.kind == "audio" and wav.sample_rate == SR
    c = check("The audio is clipped between 1 s and 1.5 s.", wav)
    assert c.status == "grounded" and c.measurement["flat_top_runs"] >= 3
    assert check("The audio is clipped between 2.2 s and 2.8 s.", wav).status == "hallucinated"
    c = check("The voice is metallic above 30 kHz.", wav)
    assert c.status == "hallucinated" and "8000 Hz" in c.reason
    assert c.measurement["nyquist_hz"] == SR / 2
    c = check("Clipping at 0:45.", wav)
    assert c.status == "hallucinated" and "past the end" in c.reason
    c = check("The face is blurry.", wav)
    assert c.status == "hallucinated" and "no picture" in c.reason
    # speech_like's syllables come every 1/3 s like a metronome: the prosody probe finds it
    c = check("The voice sounds robotic.", wav)
    assert c.status == "grounded" and c.measurement["rhythm_autocorr"] >= 0.7, c.reason


def test_template_claims_validate(landscape):
    from explainers.rationale import write_rationale
    from triage_app.model import Analysis, DetectorResult, Finding, Measurement

    f = Finding("noise", HERE, 0.9, Measurement("noise level", 6.5, 1.0), "noise")
    det = DetectorResult("noise", "1", "ok", score=0.9, findings=[f])
    a = Analysis(media=landscape.summary(), verdict=Verdict("likely_manipulated", 0.9),
                 detectors=[det])
    out = validate(write_rationale(a), landscape, verdict=a.verdict)
    assert [c.status for c in out] == ["grounded", "grounded"]


def test_image_probe_on_a_video_span(clip):
    c = check("The picture is blurry at x=10, y=10, 40x30 between 0:01 and 0:02.", clip)
    assert c.status in ("grounded", "hallucinated", "unverifiable")
    assert "failed" not in c.reason and c.measurement.get("probe") == "probe_blurriness"


@pytest.mark.corpus
def test_noso_copy_move(corpus_dir):
    m = load_media(corpus_dir / "noso_copymove/manipulated/02_mod.png")
    from PIL import Image
    from scipy import ndimage

    mask = np.asarray(Image.open(corpus_dir / "noso_copymove/mask/02_mod_gt.png")) > 127
    lab, _ = ndimage.label(mask)
    sl = max(ndimage.find_objects(lab), key=lambda s: (s[0].stop - s[0].start) * (s[1].stop - s[1].start))
    x, y, w, h = sl[1].start, sl[0].start, sl[1].stop - sl[1].start, sl[0].stop - sl[0].start
    assert check(f"A cloned region at x={x}, y={y}, {w}x{h}.", m).status == "grounded"
    orig = load_media(corpus_dir / "noso_copymove/authentic/02.png")
    assert check(f"A cloned region at x={x}, y={y}, {w}x{h}.", orig).status == "hallucinated"


def test_vocoder_fingerprint_claim_on_audio_is_not_called_absent(tmp_path) -> None:
    """Regression: the spoof model's `generator_fingerprint` findings on speech were flagged
    hallucinated because the taxonomy listed that artifact for images and video only. With no
    independent audio probe for it, such a claim is unverifiable, not hallucinated."""
    from triage_app.model import TimeSpan

    media = load_media(write_wav(tmp_path / "s.wav", speech_like(2.0)))
    claim = Claim(text="Synthetic speech traces from 0:00 to 0:01.", artifact="generator_fingerprint",
                  modality="audio", location=TimeSpan(0.0, 1.0), source="imported")
    (checked,) = validate([claim], media)
    assert checked.status == "unverifiable"


def test_a_claim_placed_at_a_metadata_field_is_checked_by_reading_it(tmp_path) -> None:
    """Regression: a quantization-table finding (double_compression at JPEG:DQT) was re-measured
    in the pixels and called hallucinated although the field says exactly what it claimed."""
    from PIL import Image

    from triage_app.model import MetadataField

    path = tmp_path / "q95.jpg"
    Image.fromarray(np.clip(scene(64, 96), 0, 255).astype(np.uint8)).save(path, quality=95)
    media = load_media(path)

    def claim(value: str) -> Claim:
        return Claim(text="Double JPEG compression.", artifact="double_compression",
                     modality="image", location=MetadataField("JPEG:DQT", value))

    right, wrong = validate([claim("IJG quality 95"), claim("IJG quality 50")], media)
    assert right.status == "grounded"
    assert wrong.status == "hallucinated"


def test_a_face_seen_in_part_of_the_claimed_span_counts(tmp_path, monkeypatch):
    """Regression: a face-region claim over a whole FF++ clip was called hallucinated ("no
    face is found in the frames") because the one frame looked at, the span's midpoint, was one
    the frontal-face detector missed. Frames across the span are sampled now."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from media_factory import make_video

    from explainers import validator as V
    from triage_app.media import open_media
    from triage_app.model import FrameSpan

    # 4 s: dark for the first 3 s, bright (where our stand-in detector "sees" a face) after
    frames = [np.full((64, 96, 3), 30 if i < 75 else 200, np.uint8) for i in range(100)]
    m = open_media(make_video(tmp_path / "turning.mp4", frames, fps=25))
    monkeypatch.setattr(V, "find_faces_in",
                        lambda rgb: [Box(30, 10, 30, 30)] if rgb.mean() > 100 else [])
    claim = Claim("The eyes blink too rarely.", "unnatural_gaze_blinking", "video",
                  FrameSpan(0.0, 4.0, None), region="eyes_region")
    out = validate([claim], m, verdict=Verdict("likely_manipulated", 0.8))
    assert "no face" not in (out[0].reason or ""), out[0].reason
    # a span wholly in the dark part still has no face
    dark = Claim("The eyes blink too rarely.", "unnatural_gaze_blinking", "video",
                 FrameSpan(0.0, 2.5, None), region="eyes_region")
    out = validate([dark], m, verdict=Verdict("likely_manipulated", 0.8))
    assert out[0].status == "hallucinated" and "no face" in out[0].reason


@pytest.mark.corpus
def test_faces_of_a_sideways_phone_photo_are_found_upright(corpus_dir):
    """EXIF orientation 6: the probe finds the face as a viewer shows it and returns its box
    in stored pixels, where the detectors' claims put it."""
    import cv2
    import numpy as np

    from explainers.validator import _upright_faces, find_faces_in
    from triage_app.media import ImageMedia

    rgb = cv2.cvtColor(cv2.imread(str(corpus_dir / "pkg" / "pypi_scikit-image" /
                                       "astronaut.png")), cv2.COLOR_BGR2RGB)
    stored = np.ascontiguousarray(np.rot90(rgb, k=1))
    assert not find_faces_in(stored)
    faces = _upright_faces(ImageMedia(path="p.jpg", format="JPEG", pixels=stored,
                                      exif={"Orientation": 6}))
    ref = find_faces_in(rgb)[0]
    assert faces and (faces[0].w, faces[0].h) == (ref.h, ref.w)
    b = faces[0]
    assert np.array_equal(np.rot90(stored[b.y:b.y + b.h, b.x:b.x + b.w], k=-1),
                          rgb[ref.y:ref.y + ref.h, ref.x:ref.x + ref.w])


def test_prosody_claims_about_what_the_probe_does_not_measure_stay_unverifiable(wav):
    c = check("There are unnatural pauses between the words.", wav)
    assert c.artifact == "unnatural_prosody"
    assert c.status == "unverifiable" and "pauses" in c.reason


def test_a_clone_claimed_in_an_area_is_not_refuted_by_sampling_it():
    """'A region on the left was copied' was called hallucinated when the probe's patches
    missed a small clone inside the left third; only a claim that points at a box can be."""
    img = image_media(scene(240, 320, seed=3))
    c = check("A region on the left of the image was copied from another part of it.", img)
    assert c.artifact == "cloned_region" and c.status == "unverifiable", c.reason
    assert "names only an area" in c.reason
    c = check("A cloned region is visible at x=20, y=60, 60x60.", img)
    assert c.status == "hallucinated", c.reason


def test_a_cloned_voice_is_synthetic_speech_not_a_copy_move(wav):
    c = check("The speaker's voice is cloned.", wav)
    assert c.artifact == "generator_fingerprint"
    assert c.status == "unverifiable", c.reason
