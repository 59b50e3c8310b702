"""Known-answer tests for detectors/provenance/metadata.py on synthetic files.

Every expected value is the metadata we wrote ourselves, so the answer is known exactly.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from detectors.provenance import metadata as md
from triage_app.media import AudioMedia, ImageMedia, VideoMedia, open_media
from triage_app.model import MetadataField

TRAINED = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
SD_PARAMS = ("a photo of a cat on a sofa\nNegative prompt: blurry\nSteps: 20, Sampler: "
             "Euler a, CFG scale: 7, Seed: 1234, Size: 512x512, Model: v1-5-pruned")


def _pixels(h: int = 32, w: int = 48) -> np.ndarray:
    return (np.random.default_rng(0).random((h, w, 3)) * 255).astype(np.uint8)


def _image(**kw) -> ImageMedia:
    return ImageMedia(path="x", format=kw.pop("format", "JPEG"), pixels=_pixels(), **kw)


def _jpeg_with_exif(path, ifd0: dict[int, str], exif_ifd: dict[int, str] | None = None,
                    **save) -> None:
    ex = Image.Exif()
    for tag, value in ifd0.items():
        ex[tag] = value
    if exif_ifd:
        sub = ex.get_ifd(0x8769)
        for tag, value in exif_ifd.items():
            sub[tag] = value
    Image.fromarray(_pixels()).save(path, "JPEG", exif=ex.tobytes(), quality=90, **save)


def _xmp(body: str) -> str:
    return ('<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
            '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
            'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            f'{body}</rdf:RDF></x:xmpmeta><?xpacket end="w"?>')


# --------------------------------------------------------------------------- editors


def test_photoshop_software_in_exif_is_editing_finding(tmp_path):
    path = tmp_path / "edited.jpg"
    _jpeg_with_exif(path, {0x0131: "Adobe Photoshop 25.0"})
    result = md.metadata_provenance(open_media(path))
    assert result.status == "ok"
    assert result.score == pytest.approx(md.SCORE_EDITOR)
    (f,) = [f for f in result.findings if f.location.name == "EXIF:Software"]
    assert f.artifact == "software_metadata"
    assert f.location == MetadataField("EXIF:Software", "Adobe Photoshop 25.0")
    assert f.measurement.value == "Adobe Photoshop 25.0"
    assert f.measurement.reference == "Adobe Photoshop"


def test_xmp_history_agent_and_creator_tool_name_gimp():
    xmp = _xmp('<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
               'xmlns:xmpMM="http://ns.adobe.com/xap/1.0/mm/" '
               'xmlns:stEvt="http://ns.adobe.com/xap/1.0/sType/ResourceEvent#" '
               'xmp:CreatorTool="GIMP 2.10"><xmpMM:History><rdf:Seq>'
               '<rdf:li stEvt:action="saved" stEvt:softwareAgent="Gimp 2.10 (Linux)" '
               'stEvt:when="2024-05-02T10:00:00+02:00"/></rdf:Seq></xmpMM:History>'
               '</rdf:Description>')
    result = md.metadata_provenance(_image(xmp=xmp))
    fields = {f.location.name: f.location.value for f in result.findings}
    assert fields["XMP:CreatorTool"] == "GIMP 2.10"
    assert fields["XMP:softwareAgent"] == "Gimp 2.10 (Linux)"
    assert result.score == pytest.approx(md.SCORE_EDITOR)


# --------------------------------------------------------------------------- AI generators


def test_stable_diffusion_parameters_chunk_from_png_file(tmp_path):
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", SD_PARAMS)
    path = tmp_path / "sd.png"
    Image.fromarray(_pixels()).save(path, pnginfo=info)
    result = md.metadata_provenance(open_media(path))
    assert result.score == pytest.approx(md.SCORE_AI)
    (f,) = [f for f in result.findings if f.location.name == "PNG:parameters"]
    assert f.location.value == SD_PARAMS  # the exact chunk, byte for byte
    assert "Stable Diffusion" in f.measurement.reference


def test_comfyui_prompt_and_workflow_chunks():
    prompt = json.dumps({"3": {"class_type": "KSampler", "inputs": {"seed": 5, "steps": 20}}})
    workflow = json.dumps({"nodes": [{"id": 3, "type": "KSampler"}], "links": []})
    result = md.metadata_provenance(_image(format="PNG",
                                           text_chunks={"prompt": prompt,
                                                        "workflow": workflow}))
    names = {f.location.name for f in result.findings}
    assert {"PNG:prompt", "PNG:workflow"} <= names
    assert result.score == pytest.approx(md.SCORE_AI)


def test_parameters_chunk_without_generation_settings_is_not_a_declaration():
    result = md.metadata_provenance(_image(format="PNG",
                                           text_chunks={"parameters": "exposure=+1"}))
    assert result.status == "ok"
    assert result.findings == []
    assert result.score == pytest.approx(md.SCORE_NEUTRAL)


@pytest.mark.parametrize("form", ["attribute", "element"])
def test_xmp_digital_source_type_trained_algorithmic_media(form):
    ns = 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    body = (f'<rdf:Description {ns} Iptc4xmpExt:DigitalSourceType="{TRAINED}"/>'
            if form == "attribute" else
            f'<rdf:Description {ns}><Iptc4xmpExt:DigitalSourceType rdf:resource="{TRAINED}"/>'
            f'</rdf:Description>')
    result = md.metadata_provenance(_image(xmp=_xmp(body)))
    (f,) = result.findings
    assert f.location == MetadataField("XMP:DigitalSourceType", TRAINED)
    assert "trainedAlgorithmicMedia" in f.measurement.reference
    assert result.score == pytest.approx(md.SCORE_AI)


def test_xmp_digital_source_type_through_open_media(tmp_path):
    ns = 'xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
    xmp = _xmp(f'<rdf:Description {ns} Iptc4xmpExt:DigitalSourceType="{TRAINED}"/>')
    path = tmp_path / "gen.jpg"
    Image.fromarray(_pixels()).save(path, "JPEG", xmp=xmp.encode("utf-8"))
    media = open_media(path)
    if not media.xmp:
        pytest.skip("the image loader did not return the XMP packet")
    result = md.metadata_provenance(media)
    assert result.score == pytest.approx(md.SCORE_AI)
    assert result.findings[0].location.value == TRAINED


def test_digital_source_type_composite_and_capture_codes():
    assert md.digital_source_type("compositeWithTrainedAlgorithmicMedia")[1]["category"] \
        == "ai_composite"
    assert md.digital_source_type(
        "http://cv.iptc.org/newscodes/digitalsourcetype/compositeSynthetic")[1]["category"] \
        == "ai_composite"
    assert md.digital_source_type("algorithmicMedia")[1]["category"] == "generated"
    assert md.digital_source_type("digitalCapture")[1]["category"] == "capture"
    assert md.digital_source_type("not a code") is None


def test_generator_name_in_software_field_and_camera_exif_do_not_cancel():
    # a generator that also copied camera EXIF: the declaration wins
    media = _image(exif={"Make": "Canon", "Model": "EOS R5", "Software": "NovelAI"})
    result = md.metadata_provenance(media)
    assert result.score == pytest.approx(md.SCORE_AI)
    assert result.findings[0].location == MetadataField("EXIF:Software", "NovelAI")


def test_generic_declaration_in_description_but_not_an_artist_name():
    ai = md.metadata_provenance(_image(exif={"ImageDescription": "Made with Midjourney v6"}))
    assert ai.score == pytest.approx(md.SCORE_AI)
    # a free-text field naming 'Sora' (a common given name) is not a Sora declaration
    person = md.metadata_provenance(_image(exif={"ImageDescription": "Sora at the beach"}))
    assert person.findings == [] and person.score == pytest.approx(md.SCORE_NEUTRAL)


# --------------------------------------------------------------------------- dates


def test_modified_after_capture(tmp_path):
    path = tmp_path / "dates.jpg"
    _jpeg_with_exif(path, {0x010F: "NIKON CORPORATION", 0x0110: "NIKON D750",
                           0x0132: "2024:05:03 12:00:00"},
                    {0x9003: "2024:05:01 10:00:00", 0x9004: "2024:05:01 10:00:00"})
    result = md.metadata_provenance(open_media(path))
    (f,) = result.findings
    assert f.location == MetadataField("EXIF:DateTime", "2024:05:03 12:00:00")
    assert f.measurement.value == pytest.approx(2 * 86400 + 7200)  # 50 h, exactly
    assert f.measurement.unit == "s"
    assert result.score == pytest.approx(md.SCORE_DATES)


def test_digitized_before_capture_is_impossible_order():
    media = _image(exif={"DateTimeOriginal": "2024:05:01 10:00:00",
                         "DateTimeDigitized": "2024:04:01 10:00:00",
                         "DateTime": "2024:05:01 10:00:00"})
    result = md.metadata_provenance(media)
    (f,) = result.findings
    assert f.location.name == "EXIF:DateTimeDigitized"
    assert f.measurement.value == pytest.approx(-30 * 86400)


def test_dates_within_tolerance_and_time_zones():
    # DateTime 30 s after capture: a camera writing the file, not an edit
    a = md.metadata_provenance(_image(exif={"Make": "Apple", "Model": "iPhone 15",
                                            "DateTimeOriginal": "2024:05:01 10:00:00",
                                            "DateTime": "2024:05:01 10:00:30"}))
    assert a.findings == [] and a.score == pytest.approx(md.SCORE_CAMERA)
    # the same instant written in two zones is not a disagreement
    t1 = md.parse_date("2024:05:01 10:00:00", "+02:00")
    t2 = md.parse_date("2024-05-01T08:00:00Z")
    assert md._seconds_between(t1, t2) == 0.0
    assert md.parse_date("0000:00:00 00:00:00") is None


# --------------------------------------------------------------------------- neutral / absent


def test_camera_metadata_without_editor_is_mild_authenticity():
    media = _image(exif={"Make": "FUJIFILM", "Model": "X-T4", "Software": "Digital Camera "
                         "X-T4 Ver1.00", "DateTimeOriginal": "2024:01:01 09:00:00",
                         "DateTime": "2024:01:01 09:00:00"})
    result = md.metadata_provenance(media)
    assert result.status == "ok"
    assert result.findings == []
    assert result.score == pytest.approx(md.SCORE_CAMERA)


def test_no_metadata_is_not_applicable():
    result = md.metadata_provenance(_image())
    assert result.status == "not_applicable"
    assert result.reason == "no metadata to judge"
    # only technical tags: still nothing to judge
    tech = md.metadata_provenance(_image(exif={"Orientation": 1, "XResolution": 72.0}))
    assert tech.status == "not_applicable"


def test_unrecognised_software_is_neutral_with_the_value_in_extras():
    result = md.metadata_provenance(_image(exif={"Software": "SomeConverter 3.1"}))
    assert result.status == "ok" and result.findings == []
    assert result.score == pytest.approx(md.SCORE_NEUTRAL)
    assert result.extras["fields"]["EXIF:Software"] == "SomeConverter 3.1"


def test_malformed_xmp_falls_back_to_patterns():
    broken = ('<x:xmpmeta><rdf:Description xmp:CreatorTool="Adobe Photoshop CC 2019" '
              '<unclosed')
    result = md.metadata_provenance(_image(xmp=broken))
    assert result.findings[0].location == MetadataField("XMP:CreatorTool",
                                                        "Adobe Photoshop CC 2019")


# --------------------------------------------------------------------------- video, audio


def test_video_container_tags():
    video = VideoMedia(path="v.mp4", format="MP4", width=64, height=48, fps=25.0,
                       duration=1.0, frame_count=25, codec="h264",
                       container_metadata={"encoder": "Lavf60.3.100",
                                           "com.apple.quicktime.software": "CapCut 9.1"})
    result = md.metadata_provenance(video)
    (f,) = result.findings
    assert f.location == MetadataField("Container:com.apple.quicktime.software", "CapCut 9.1")
    assert result.score == pytest.approx(md.SCORE_EDITOR)
    camera = VideoMedia(path="v.mov", format="MOV", width=64, height=48, fps=30.0,
                        duration=1.0, frame_count=30, codec="hevc",
                        container_metadata={"com.apple.quicktime.make": "Apple",
                                            "com.apple.quicktime.model": "iPhone 15"})
    assert md.metadata_provenance(camera).score == pytest.approx(md.SCORE_CAMERA)


def test_audio_tags_and_absence():
    tts = AudioMedia(path="a.wav", format="WAV", samples=np.zeros((10, 1), np.float32),
                     sample_rate=16000, tags={"comment": "Generated with ElevenLabs"})
    result = md.metadata_provenance(tts)
    assert result.score == pytest.approx(md.SCORE_AI)
    assert result.findings[0].location.name == "Audio:comment"
    bare = AudioMedia(path="b.wav", format="WAV", samples=np.zeros((10, 1), np.float32),
                      sample_rate=16000)
    assert md.metadata_provenance(bare).status == "not_applicable"


def test_authorship_statement_in_free_text_names_the_editor():
    # scikit-image's astronaut.png carries exactly this comment
    media = _image(format="PNG", text_chunks={"Comment": "File written by Adobe Photoshop\xa8 5.0"})
    (f,) = md.metadata_provenance(media).findings
    assert f.location == MetadataField("PNG:Comment", "File written by Adobe Photoshop\xa8 5.0")
    # the bare word in a caption is not a statement of authorship
    caption = md.metadata_provenance(_image(exif={"ImageDescription": "Photoshop class, 2019"}))
    assert caption.findings == []


def test_xmp_modify_date_alone_is_weaker_than_exif():
    xmp = _xmp('<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
               'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
               'xmp:CreatorTool="f-spot version 0.5.0.3" xmp:ModifyDate="2009-02-09T17:50:29" '
               'photoshop:DateCreated="2009-02-09T09:11:30"/>')
    result = md.metadata_provenance(_image(xmp=xmp))
    (f,) = result.findings
    assert f.location == MetadataField("XMP:ModifyDate", "2009-02-09T17:50:29")
    assert f.measurement.value == pytest.approx(8 * 3600 + 38 * 60 + 59)
    assert result.score == pytest.approx(md.SCORE_DATES_XMP)


def test_container_bookkeeping_alone_is_not_applicable():
    video = VideoMedia(path="v.mp4", format="MP4", width=64, height=48, fps=25.0,
                       duration=1.0, frame_count=25, codec="h264",
                       container_metadata={"major_brand": "isom", "minor_version": "512",
                                           "compatible_brands": "isomiso2avc1mp41"})
    assert md.metadata_provenance(video).status == "not_applicable"


def test_registered_and_json_serialisable():
    import json as _json

    from detectors.registry import get

    spec = get("metadata")
    assert spec.function is md.metadata_provenance
    assert spec.modalities[0] == "image" and spec.reference
    result = md.metadata_provenance(_image(exif={"Software": "GIMP 2.10"}))
    assert result.status == "ok" and result.findings
    _json.dumps(result.to_dict())


def test_bare_date_is_compared_with_a_day_of_tolerance():
    xmp = _xmp('<rdf:Description xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
               'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" '
               'xmp:ModifyDate="2009-02-09T17:50:29" photoshop:DateCreated="2009-02-09"/>')
    assert md.metadata_provenance(_image(xmp=xmp)).findings == []


def test_camera_tags_on_a_software_coded_jpeg_vouch_for_nothing(tmp_path):
    """From a QA pass: two typed tags (Make=Canon, Model=EOS 80D) on a libjpeg q90 file pulled
    its verdict towards authentic by -0.57 log-odds."""
    from triage_app.media import open_media

    p = tmp_path / "typed.jpg"
    _jpeg_with_exif(p, {271: "Canon", 272: "Canon EOS 80D"})  # saved by libjpeg at q90
    r = md.metadata_provenance(open_media(p))
    assert r.status == "ok" and r.score == pytest.approx(md.SCORE_NEUTRAL)
    assert "libjpeg-compatible software (IJG quality 90)" in r.extras["summary"]
