"""Known-answer tests for detectors/provenance/content_credentials.py.

Each test signs a small JPEG with c2pa-python's Builder and a throwaway ES256 certificate chain
(a test root CA and a signing certificate it issued, made here with ``cryptography``), so we
know exactly what the manifest asserts; then we read it back, and tamper with it.
"""

from __future__ import annotations

import datetime
import io

import numpy as np
import pytest
from PIL import Image

c2pa = pytest.importorskip("c2pa")

from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # noqa: E402

from detectors.provenance import content_credentials as cc  # noqa: E402
from triage_app.media import ImageMedia, open_media  # noqa: E402
from triage_app.model import MetadataField  # noqa: E402

IPTC = "http://cv.iptc.org/newscodes/digitalsourcetype/"


def _key_usage(*, sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=sign, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=not sign, crl_sign=not sign, encipher_only=False,
                         decipher_only=False)


@pytest.fixture(scope="module")
def pki() -> dict[str, bytes]:
    """A root CA and an end-entity signing certificate (C2PA requires a chain, not a
    self-signed leaf): returns the PEM chain, the PKCS#8 key and the root."""
    now = datetime.datetime.now(datetime.timezone.utc)
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=30))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Triage Test Root"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Triage Test")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(_key_usage(sign=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Triage Test Signer"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Triage Test")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_key_usage(sign=True), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    return {"chain": cert.public_bytes(pem) + ca.public_bytes(pem),
            "key": key.private_bytes(pem, serialization.PrivateFormat.PKCS8,
                                     serialization.NoEncryption()),
            "root": ca.public_bytes(pem)}


def _jpeg() -> bytes:
    rng = np.random.default_rng(3)
    buf = io.BytesIO()
    Image.fromarray((rng.random((64, 96, 3)) * 255).astype(np.uint8)).save(buf, "JPEG",
                                                                            quality=90)
    return buf.getvalue()


def _sign(pki: dict[str, bytes], actions: list[dict], source: bytes | None = None) -> bytes:
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256,
                                                       pki["chain"], pki["key"], None))
    ctx = c2pa.Context(settings=c2pa.Settings.from_dict(
        {"builder": {"thumbnail": {"enabled": False}}}))
    manifest = {"claim_generator_info": [{"name": "triage-test-generator", "version": "1.0"}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": actions}}]}
    out = io.BytesIO()
    with c2pa.Builder(manifest, context=ctx) as builder:
        builder.sign(signer, "image/jpeg", io.BytesIO(source or _jpeg()), out)
    return out.getvalue()


def _media(raw: bytes) -> ImageMedia:
    pixels = np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))
    return ImageMedia(path="x.jpg", format="JPEG", pixels=pixels, raw=raw)


def _flip_image_byte(raw: bytes) -> bytes:
    """Flip bits of one byte of the entropy-coded image data (after the last SOS header)."""
    sos = raw.rfind(b"\xff\xda")
    header_len = int.from_bytes(raw[sos + 2:sos + 4], "big")
    pos = sos + 2 + header_len + 40
    tampered = bytearray(raw)
    tampered[pos] ^= 0x55
    return bytes(tampered)


def test_no_credentials_is_not_applicable():
    result = cc.content_credentials(_media(_jpeg()))
    assert result.status == "not_applicable"
    assert result.reason == "no content credentials"


def test_signed_ai_generation_is_read_back(pki, tmp_path):
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}])
    path = tmp_path / "generated.jpg"
    path.write_bytes(signed)
    result = cc.content_credentials(open_media(path))
    assert result.status == "ok"
    assert result.score == pytest.approx(cc.SCORE_AI)
    (f,) = result.findings
    assert f.artifact == "content_credentials"
    assert f.location == MetadataField(
        "C2PA:actions", f"c2pa.created (digitalSourceType={IPTC}trainedAlgorithmicMedia)")
    assert f.measurement.value == IPTC + "trainedAlgorithmicMedia"
    # the throwaway signer is not in any trust list: valid signature, untrusted signer
    assert f.measurement.reference == "valid signature, untrusted signer"
    assert result.extras["validation_state"] == "Valid"
    assert "signingCredential.untrusted" in result.extras["validation_codes"]
    assert result.extras["claim_generator"].startswith("triage-test-generator 1.0")
    assert result.extras["signer"]["common_name"] == "Triage Test Signer"


def test_flipped_image_byte_is_detected_as_tampering(pki):
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "digitalCapture"}])
    result = cc.content_credentials(_media(_flip_image_byte(signed)))
    assert result.score == pytest.approx(cc.SCORE_TAMPERED)
    assert result.extras["validation_state"] == "Invalid"
    codes = {f.location.value for f in result.findings}
    assert "assertion.dataHash.mismatch" in codes
    assert all(f.location.name == "C2PA:validation" for f in result.findings)


def test_capture_only_untrusted_versus_local_trust_anchor(pki):
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "digitalCapture"}])
    untrusted = cc.content_credentials(_media(signed))
    assert untrusted.score == pytest.approx(cc.SCORE_CAPTURE_UNTRUSTED)
    assert untrusted.findings == []
    assert untrusted.extras["trust"].startswith("valid signature, untrusted signer")
    trusted = cc.content_credentials(_media(signed), trust_anchors=pki["root"].decode())
    assert trusted.extras["validation_state"] == "Trusted"
    assert trusted.score == pytest.approx(cc.SCORE_CAPTURE_TRUSTED)
    assert trusted.extras["trust"] == "signer chains to a local trust anchor"


def test_declared_edit_is_moderate_evidence(pki):
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "digitalCapture"},
                         {"action": "c2pa.drawing"}])
    result = cc.content_credentials(_media(signed))
    assert result.score == pytest.approx(cc.SCORE_EDITED)
    (f,) = result.findings
    assert f.location.name == "C2PA:actions"
    assert f.measurement.value == "c2pa.drawing"


def test_unsupported_format_is_not_applicable():
    media = ImageMedia(path="x.bmp", format="BMP", pixels=np.zeros((4, 4, 3), np.uint8),
                       raw=b"BM" + b"\x00" * 60)
    assert cc.content_credentials(media).status == "not_applicable"


def test_manifest_edited_after_signing_breaks_the_claim_signature(pki):
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "digitalCapture"}])
    pos = signed.find(b"triage-test-generator")  # inside the signed claim
    assert pos > 0
    forged = signed[:pos] + b"T" + signed[pos + 1:]
    result = cc.content_credentials(_media(forged))
    assert result.status == "ok"
    assert result.score >= cc.SCORE_INVALID
    assert result.findings and result.findings[0].artifact == "content_credentials"
    assert result.findings[0].location.name in ("C2PA:validation", "C2PA:manifest")


def test_audio_file_is_read_from_its_path(pki, tmp_path):
    import wave

    path = tmp_path / "tone.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes((np.sin(np.arange(800) * 0.3) * 8000).astype("<i2").tobytes())
    from triage_app.media import AudioMedia

    def media(p):
        return AudioMedia(path=str(p), format="WAV", samples=np.zeros((800, 1), np.float32),
                          sample_rate=8000)

    assert cc.content_credentials(media(path)).reason == "no content credentials"
    signer = c2pa.Signer.from_info(c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256,
                                                       pki["chain"], pki["key"], None))
    manifest = {"claim_generator_info": [{"name": "tts-test", "version": "1"}],
                "assertions": [{"label": "c2pa.actions", "data": {"actions": [
                    {"action": "c2pa.created",
                     "digitalSourceType": IPTC + "trainedAlgorithmicMedia"}]}}]}
    signed = tmp_path / "tts.wav"
    with c2pa.Builder(manifest) as builder, open(path, "rb") as src, \
            open(signed, "wb") as dst:
        builder.sign(signer, "audio/wav", src, dst)
    result = cc.content_credentials(media(signed))
    assert result.score == pytest.approx(cc.SCORE_AI)


def test_registered_and_json_serialisable(pki):
    import json as _json

    from detectors.registry import get

    spec = get("content_credentials")
    assert spec.function is cc.content_credentials
    assert spec.modalities[0] == "image" and spec.reference
    signed = _sign(pki, [{"action": "c2pa.created",
                          "digitalSourceType": IPTC + "compositeSynthetic"}])
    result = cc.content_credentials(_media(signed))
    assert result.status == "ok" and result.findings
    _json.dumps(result.to_dict())
