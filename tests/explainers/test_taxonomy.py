"""Taxonomy: the TriDF ids and regions of DESIGN.md, our forensic additions, and their words."""

from __future__ import annotations

import pytest

from explainers import taxonomy

DESIGN_ARTIFACTS = (
    "blurriness blockiness noise banding color_inconsistency blending_artifacts "
    "lighting_inconsistency unnatural_texture temporal_artifacts flicker clipping hiss buzz pops "
    "reflection_inconsistency shadow_inconsistency spatial_contact_incoherence "
    "unrealistic_background anatomical_inconsistency unnatural_expressions object_integrity_flaws "
    "unrecognizable_text unnatural_gaze_blinking unnatural_body_head_movement unnatural_prosody "
    "av_desynchronization emotional_contradiction").split()
DESIGN_OURS = ("double_compression resampling cloned_region missing_cfa generator_fingerprint "
               "software_metadata content_credentials thumbnail_mismatch vocoder_band_limit "
               "digital_silence audio_splice").split()
DESIGN_REGIONS = ("upper_head eyes_region midface nasal_oral_region ear cervical_region upper_limb "
                  "trunk_torso lower_limb object background").split()


def test_ids_match_design():
    assert len(DESIGN_ARTIFACTS) == 27 and len(DESIGN_OURS) == 11
    assert taxonomy.artifact_ids() == DESIGN_ARTIFACTS + DESIGN_OURS
    assert list(taxonomy.TRIDF_ARTIFACTS) == DESIGN_ARTIFACTS
    assert list(taxonomy.FORENSIC_ARTIFACTS) == DESIGN_OURS
    assert taxonomy.region_ids() == DESIGN_REGIONS


def test_entries_complete():
    for ident, a in taxonomy.artifacts().items():
        assert a["modalities"] and set(a["modalities"]) <= {"image", "video", "audio"}, ident
        assert len(a["definition"]) > 20, ident
        assert a["synonyms"], ident
        assert a["tridf"] == (ident in DESIGN_ARTIFACTS)
    for ident, r in taxonomy.regions().items():
        assert r["synonyms"] and r["name"], ident


def test_modalities_follow_design():
    # DESIGN.md: quality video-only, audio-only, semantic video-only groups
    for a in ("temporal_artifacts", "flicker", "unnatural_gaze_blinking", "unnatural_body_head_movement"):
        assert taxonomy.modalities(a) == ("video",)
    for a in ("clipping", "hiss", "buzz", "pops", "unnatural_prosody", "vocoder_band_limit",
              "digital_silence", "audio_splice"):
        assert taxonomy.modalities(a) == ("audio",)
    for a in ("noise", "blurriness", "blending_artifacts", "shadow_inconsistency"):
        assert taxonomy.modalities(a) == ("image", "video")
    assert taxonomy.applies_to("noise", "image") and not taxonomy.applies_to("hiss", "image")
    with pytest.raises(ValueError, match="modality"):
        taxonomy.applies_to("noise", "text")


def test_no_phrase_names_two_artifacts_of_one_modality():
    """A phrase may name two artifacts only when no modality has both ("splice": blending in a
    picture, audio_splice in a recording); the item's modality then decides."""
    seen: dict[str, str] = {}
    for ident, a in taxonomy.artifacts().items():
        for s in a["synonyms"]:
            key = s.lower()
            first = seen.setdefault(key, ident)
            assert first == ident or not (set(taxonomy.modalities(first))
                                          & set(taxonomy.modalities(ident))), \
                f"{s!r}: {first} and {ident}"


@pytest.mark.parametrize("text, expected", [
    ("a halo around the jaw", "blending_artifacts"),
    ("a visible seam", "blending_artifacts"),
    ("it has a pasted-in look", "blending_artifacts"),
    ("the voice is robotic", "unnatural_prosody"),
    ("a monotone delivery", "unnatural_prosody"),
    ("the lips out of sync", "av_desynchronization"),
    ("this part is cloned", "cloned_region"),
    ("a duplicated region", "cloned_region"),
    ("a copy-pasted area", "cloned_region"),
    ("the sky is grainy", "noise"),
    ("the noise pattern differs", "noise"),
    ("blocky", "blockiness"),
    ("heavy compression artifacts", "blockiness"),
    ("a metallic voice", "vocoder_band_limit"),
    ("band-limited speech", "vocoder_band_limit"),
    ("double JPEG compression", "double_compression"),
    ("the CFA pattern", "missing_cfa"),
    ("GAN fingerprint peaks", "generator_fingerprint"),
    ("the C2PA manifest", "content_credentials"),
    ("the embedded thumbnail", "thumbnail_mismatch"),
    ("exact zeros between words", "digital_silence"),
    ("a mains hum", "buzz"),
])
def test_artifact_synonyms(text, expected):
    found = taxonomy.find_artifacts(text)
    assert found and found[0].id == expected


@pytest.mark.parametrize("text, expected", [
    ("around the mouth", "nasal_oral_region"), ("the lips", "nasal_oral_region"),
    ("the eyes", "eyes_region"), ("the eyelids", "eyes_region"),
    ("the jaw", "cervical_region"), ("the neck", "cervical_region"), ("the chin", "cervical_region"),
    ("the forehead", "upper_head"), ("the hair", "upper_head"),
    ("the cheeks", "midface"), ("the nose bridge", "midface"),
    ("the background", "background"), ("his hands", "upper_limb"),
])
def test_region_synonyms(text, expected):
    found = taxonomy.find_regions(text)
    assert found and found[0].id == expected


def test_longest_match_wins_and_modality_preference():
    # "background noise" is hiss in audio, but in an image the noise of the background
    assert taxonomy.find_artifacts("background noise")[0].id == "hiss"
    assert taxonomy.find_artifacts("background noise", "image")[0].id == "noise"
    # "halo around the jaw" beats "halo"
    m = taxonomy.find_artifacts("a halo around the jaw")[0]
    assert m.phrase == "halo around the jaw"
    # words inside other words do not match
    assert taxonomy.find_artifacts("clipboard") == []


def test_names():
    assert taxonomy.artifact_name("blending_artifacts") == "Blending Artifacts"
    assert taxonomy.region_name("nasal_oral_region") == "nasal/oral region"
    with pytest.raises(KeyError, match="unknown artifact"):
        taxonomy.artifact("nope")


def test_an_artifact_can_read_differently_in_one_modality():
    from explainers import taxonomy

    assert taxonomy.artifact_name("generator_fingerprint") == "Generator Spectral Fingerprint"
    assert taxonomy.artifact_name("generator_fingerprint", "image") == "Generator Spectral Fingerprint"
    assert taxonomy.artifact_name("generator_fingerprint", "audio") == "Synthetic-Speech Fingerprint"
    assert [m.id for m in taxonomy.find_artifacts("a synthetic-speech fingerprint")] == \
        ["generator_fingerprint"]
