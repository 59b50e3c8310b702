"""Evidence report: PDF text, sidecar schema, PAdES signature, and tamper detection."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from triage_app.cli import main

SIDECAR_KEYS = {"schema", "report_id", "created_utc", "tool", "case", "custody_head", "items",
                "methods"}
ITEM_KEYS = {"sha256", "md5", "size", "name", "kind", "format", "added_at", "sources", "media",
             "verdict", "detectors", "findings", "explanation", "rationales", "decision",
             "notes", "custody"}


def _make_p12(tmp: Path) -> tuple[Path, Path]:
    """A throwaway self-signed examiner certificate in PKCS#12, and its PEM."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test Examiner"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Triage Test Lab")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    p12 = tmp / "examiner.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(
        b"examiner", key, cert, None, serialization.BestAvailableEncryption(b"secret")))
    pem = tmp / "examiner.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return p12, pem


@pytest.fixture(scope="module")
def report_case(tmp_path_factory) -> Path:
    """A case with an image, a video and an audio item, analysed, with a decision."""
    import soundfile as sf

    from triage_app.case.store import Case
    from triage_app.demo import camera_pipeline, make_scene, make_video
    from triage_app.scan import scan

    tmp = tmp_path_factory.mktemp("report")
    media = tmp / "media"
    media.mkdir()
    photo = camera_pipeline(make_scene(2, 240, 320), 2)
    photo[100:160, 40:120] = photo[20:80, 200:280]  # a known copy-move
    Image.fromarray(photo).save(media / "photo.png")
    sr = 16000
    t = np.arange(2 * sr) / sr
    # FLAC content under a .wav name: the intake note must reach the report
    sf.write(media / "tone.wav", (0.4 * np.sin(2 * np.pi * 200 * t)).astype(np.float32), sr,
             format="FLAC")
    make_video(media, seconds=1.2)
    case_dir = tmp / "r.triage"
    events = list(scan([media], case_dir, workers=1, examiner="Test Examiner"))
    assert sum(e.kind == "analyzed" for e in events) == 3, [e.message for e in events]
    case = Case.open(case_dir)
    try:
        sha = next(it["sha256"] for it in case.items() if it["name"] == "photo.png")
        case.record_decision(sha, "manipulated", "cloned block visible at left")
    finally:
        case.close()
    return case_dir


def test_signed_report_text_sidecar_signature_and_tampering(report_case: Path, tmp_path: Path,
                                                            capsys) -> None:
    from pypdf import PdfReader

    p12, pem = _make_p12(tmp_path)
    out = tmp_path / "out" / "report.pdf"
    code = main(["report", str(report_case), "--out", str(out), "--sign", str(p12),
                 "--passphrase", "secret"])
    assert code == 0, capsys.readouterr()
    reader = PdfReader(str(out))
    text = "\n".join(page.extract_text() for page in reader.pages)
    n = len(reader.pages)
    assert f"page 1 of {n}" in text and f"page {n} of {n}" in text
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert SIDECAR_KEYS <= set(sidecar) and sidecar["schema"] == "deepfake-triage/report/1"
    assert sidecar["report_id"] in text
    assert "Media note" in text and "names WAV, but the content is FLAC" in " ".join(text.split())
    assert len(sidecar["items"]) == 3
    for it in sidecar["items"]:
        assert ITEM_KEYS <= set(it)
        assert it["sha256"] in text.replace("\n", "")
        assert it["custody"], "each item lists its custody entries"
    assert {it["kind"] for it in sidecar["items"]} == {"image", "video", "audio"}
    assert "Appendix: methods" in text
    assert "cloned block visible at left" in text
    flat = " ".join(text.split())
    assert "How to read an item page" in flat and "Fusion baseline" in flat
    assert set(sidecar["fusion_validation"]) >= {"image", "audio", "video"}
    # one split's ECE and its mean over the repeated fold assignments, as the README gives them
    assert sidecar["fusion_validation"]["image"]["ece_mean"] is not None
    assert "fold assignments" in flat
    for it in sidecar["items"]:
        v = it["verdict"]
        # every number of the fusion is printed: baseline + contributions give the probability
        logodds = v["scale"] * sum(v["contributions"].values()) + v["baseline"]
        assert abs(1 / (1 + np.exp(-logodds)) - v["probability"]) < 1e-3
        assert [f["n"] for f in it["findings"]] == list(range(1, len(it["findings"]) + 1))
        assert f"Findings ({len(it['findings'])})" in flat or not it["findings"]
        said = {(c["artifact"], json.dumps(c["location"], sort_keys=True)): c["status"]
                for c in it["explanation"] if c["artifact"]}
        for f in it["findings"]:
            key = (f["artifact"], json.dumps(f["location"], sort_keys=True))
            assert f["explanation_status"] == said.get(key)
    # fonts are embedded TrueType
    fonts = set()
    for page in reader.pages:
        for f in (page["/Resources"].get("/Font") or {}).values():
            fd = f.get_object().get("/FontDescriptor")
            if fd is not None:
                fonts.add("/FontFile2" in fd.get_object())
    assert fonts == {True}
    uco = json.loads(out.with_suffix(".uco.jsonld").read_text())
    assert any(n["@type"] == "uco-observable:File" for n in uco["@graph"])

    capsys.readouterr()
    code = main(["verify", str(out), "--trust-root", str(pem), "--case", str(report_case)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "intact" in printed

    # one flipped byte in the PDF
    bad_pdf = tmp_path / "bad" / "report.pdf"
    bad_pdf.parent.mkdir()
    shutil.copy(out, bad_pdf)
    shutil.copy(out.with_suffix(".json"), bad_pdf.with_suffix(".json"))
    data = bytearray(bad_pdf.read_bytes())
    pos = data.find(b"Evidence report") if b"Evidence report" in data else len(data) // 3
    data[pos + 2] ^= 0x01
    bad_pdf.write_bytes(bytes(data))
    assert main(["verify", str(bad_pdf), "--case", str(report_case)]) == 1
    capsys.readouterr()

    # one flipped byte in the sidecar
    bad2 = tmp_path / "bad2" / "report.pdf"
    bad2.parent.mkdir()
    shutil.copy(out, bad2)
    side = bytearray(out.with_suffix(".json").read_bytes())
    side[len(side) // 2] ^= 0x01
    bad2.with_suffix(".json").write_bytes(bytes(side))
    assert main(["verify", str(bad2), "--case", str(report_case)]) == 1
    assert "sidecar" in capsys.readouterr().out


def test_unsigned_report_is_checked_against_the_custody_log(report_case: Path,
                                                            tmp_path: Path, capsys) -> None:
    out = tmp_path / "u" / "report.pdf"
    assert main(["report", str(report_case), "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["verify", str(out), "--case", str(report_case)]) == 0
    assert "custody" in capsys.readouterr().out
    assert main(["verify", str(out)]) in (0, 1)  # the sidecar names the case folder: found
    data = bytearray(out.read_bytes())
    data[len(data) // 2] ^= 0x01
    out.write_bytes(bytes(data))
    capsys.readouterr()
    assert main(["verify", str(out), "--case", str(report_case)]) == 1


def test_verify_says_when_the_pdf_itself_cannot_be_read(tmp_path: Path, capsys) -> None:
    """Regression: a damaged PDF was reported as 'carries no sidecar hash', hiding the cause."""
    bad = tmp_path / "r.pdf"
    bad.write_bytes(b"%PDF-1.4 not really a pdf")
    assert main(["verify", str(bad)]) == 1
    assert "cannot be read" in capsys.readouterr().out


def test_audio_figure_greys_what_the_audio_detectors_did_not_examine():
    """The GUI hatched the unexamined part of an hour-long recording; the report's
    spectrogram showed it as if it had been looked at."""
    from triage_app.report.figures import audio_figure

    sr = 8000
    x = 0.3 * np.random.default_rng(0).standard_normal(sr * 10)
    plain = np.asarray(audio_figure(x, sr, [], width=400, height=100), np.float64)
    shaded = np.asarray(audio_figure(x, sr, [], width=400, height=100, examined_until=5.0),
                        np.float64)
    left, right = slice(50, 240), slice(260, 450)  # the picture starts after a 50 px axis
    assert np.abs(plain[:100, left] - shaded[:100, left]).max() == 0
    assert np.abs(plain[:100, right] - shaded[:100, right]).mean() > 10


def test_audio_figure_of_a_streamed_recording_and_its_segments():
    """A long recording's spectrogram was drawn from its whole decoded signal; a streamed one
    is read a block at a time and gives the same picture, with its segments bracketed."""
    from triage_app.media import StreamedSamples
    from triage_app.report.figures import audio_figure

    sr = 8000
    x = (0.3 * np.random.default_rng(0).standard_normal((sr * 200, 2))).astype(np.float32)
    streamed = StreamedSamples(x.shape[0], 2, lambda a, b: x[a:b].copy())
    mono = x.mean(axis=1).astype(np.float32)
    held = np.asarray(audio_figure(mono, sr, [], width=400, height=100))
    assert np.array_equal(np.asarray(audio_figure(streamed, sr, [], width=400, height=100)), held)
    seg = np.asarray(audio_figure(streamed, sr, [], width=400, height=100,
                                  segments=[[0.0, 105.0], [95.0, 200.0]]))
    assert np.abs(seg[80:100, 50:450].astype(int) - held[80:100, 50:450]).max() > 50
    assert np.array_equal(seg[:70], held[:70])  # only the bottom strip changes


def test_report_names_the_segment_that_gave_each_score(tmp_path: Path, monkeypatch) -> None:
    """A long recording is analysed in segments; the report says, per detector, which one
    gave the score (an examiner must be able to find it), in the PDF and the sidecar."""
    import subprocess

    import soundfile as sf

    from detectors.audio import _common as C
    from triage_app.case.store import Case
    from triage_app.media import open_media
    from triage_app.pipeline import analyze
    from triage_app.report.content import item_record
    from triage_app.settings import Settings

    monkeypatch.setattr(C, "ANALYSIS_BUDGET_S", 5.0)
    media = tmp_path / "media"
    media.mkdir()
    sr = 16000
    t = np.arange(12 * sr) / sr
    x = 0.2 * np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t))
    x[9 * sr:int(9.5 * sr)] = 0.0
    sf.write(media / "long.wav", x.astype(np.float32), sr, subtype="PCM_16")
    case_dir = tmp_path / "s.triage"
    case = Case.create(case_dir, examiner="Test Examiner")  # in this process: the budget holds
    try:
        item = case.add_evidence(media / "long.wav")
        analysis = analyze(open_media(case.evidence_path(item.sha256)), settings=Settings())
        case.record_analysis(item.sha256, analysis)
        rec = item_record(case, item.sha256)
    finally:
        case.close()
    rows = {d["name"]: d for d in rec["detectors"]}
    assert rows["metadata"]["segments"] is None
    assert rows["digital_silence"]["segments"].startswith("highest in 0:07-0:12, segment 3 of 3")
    out = tmp_path / "r.pdf"
    assert main(["report", str(case_dir), "--out", str(out)]) == 0
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(out), "-"], capture_output=True,
                              text=True).stdout
        assert "segment 3 of 3" in text
    sidecar = json.loads(out.with_suffix(".json").read_text())
    assert any(d.get("segments") for d in sidecar["items"][0]["detectors"])


def test_near_certain_probabilities_and_zero_log_odds_are_printed_honestly():
    from triage_app.report.pdf import _fmt_logodds, _fmt_p

    assert _fmt_p(0.9993) == "> 0.99" and _fmt_p(0.0004) == "< 0.01" and _fmt_p(0.5) == "0.50"
    assert _fmt_logodds(-0.001) == "0.00" and _fmt_logodds(2.19) == "+2.19"
    assert _fmt_logodds(None) == "-"


def test_a_detector_that_raised_the_verdict_on_a_refuted_finding_is_named():
    from triage_app.report.pdf import _unconfirmed_drivers

    item = {"detectors": [{"name": "face_consistency", "contribution": 2.19},
                          {"name": "copy_move", "contribution": 8.8},
                          {"name": "ela", "contribution": 0.0}],
            "findings": [{"detector": "face_consistency", "explanation_status": "hallucinated"},
                         {"detector": "copy_move", "explanation_status": "grounded"},
                         {"detector": "ela", "explanation_status": "hallucinated"}]}
    text = _unconfirmed_drivers(item)
    assert "face_consistency (+2.19)" in text and "copy_move" not in text and "ela" not in text
    item["findings"][0]["explanation_status"] = "grounded"
    assert _unconfirmed_drivers(item) == ""
