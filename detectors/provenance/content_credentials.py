"""Content Credentials (C2PA): is there a signed manifest, does it still verify, what does it say?

A C2PA manifest binds signed assertions (who made the item, with which tool, which actions:
``c2pa.created`` with an IPTC digital source type, ``c2pa.edited``, ``c2pa.placed``...) to a
hash of the item's bytes. Reading it answers three questions (C2PA Technical Specification
2.1, chapters on validation and on the standard actions):

1. **Is there one?** None -> ``not_applicable`` ("no content credentials"): most media carry
   none, and platforms strip them, so absence says nothing.
2. **Does it verify?** A hash mismatch (``assertion.dataHash.mismatch`` and the other
   ``*.mismatch`` / ``*.missing`` codes) means the bytes or the manifest changed after signing:
   ``content_credentials`` finding, score :data:`SCORE_TAMPERED` 0.9 (not higher: a re-save that
   does not change the picture breaks the hash too). Other failures (bad or expired
   credential, invalid signature) -> :data:`SCORE_INVALID` 0.7.
3. **What does it assert?** (when it verifies) an AI-generation source type
   (``trainedAlgorithmicMedia``, ``compositeWithTrainedAlgorithmicMedia``,
   ``compositeSynthetic``, ``algorithmicMedia``: the ``generated`` and ``ai_composite``
   categories of ``resources/generator_signatures.json``) in any manifest of the store -> score
   :data:`SCORE_AI` 0.98; content-changing edits (``c2pa.edited``, ``c2pa.placed``,
   ``c2pa.removed``, ``c2pa.drawing``, ``c2pa.filtered``...) -> :data:`SCORE_EDITED` 0.75;
   only technical operations (resize, crop, colour, transcode...) -> :data:`SCORE_TECHNICAL`
   0.45; a capture (``digitalCapture``...) with no edits -> :data:`SCORE_CAPTURE_TRUSTED` 0.1
   when the signer chains to a local trust anchor, :data:`SCORE_CAPTURE_UNTRUSTED` 0.3 when it
   does not (anyone can sign "captured by a camera" with a home-made certificate); a valid
   manifest that asserts nothing about origin -> :data:`SCORE_NO_ACTIONS` 0.4.

Trust. The application is offline: no trust list is downloaded, no OCSP is asked, no remote
manifest is fetched. A signature that verifies but whose signer does not chain to a trust anchor
the analyst installed (``trust_anchors`` argument, or a PEM bundle named by the
``TRIAGE_C2PA_TRUST_ANCHORS`` environment variable) is reported as "valid signature, untrusted
signer" -- the integrity check (hashes) still holds; only the signer's identity is unproven.

The scores are set by judgement of the strength of each statement (a signed AI declaration is
a confession; a hash mismatch is certain change, not certain manipulation), not fitted.

References
----------
1. Coalition for Content Provenance and Authenticity, "C2PA Technical Specification",
   version 2.1, 2024. https://c2pa.org/specifications/specifications/2.1/
2. IPTC NewsCodes "Digital Source Type", http://cv.iptc.org/newscodes/digitalsourcetype/
3. c2pa-python 0.38 (c2pa-rs 0.91) ``c2pa.Reader``.
"""

from __future__ import annotations

import io
import json
import os
import time
from typing import Any

from detectors.registry import detector
from triage_app.model import DetectorResult, Finding, Measurement, MetadataField

NAME = "content_credentials"
VERSION = "1.0"

SCORE_AI = 0.98
SCORE_TAMPERED = 0.9
SCORE_INVALID = 0.7
SCORE_EDITED = 0.75
SCORE_TECHNICAL = 0.45
SCORE_NO_ACTIONS = 0.4
SCORE_CAPTURE_UNTRUSTED = 0.3
SCORE_CAPTURE_TRUSTED = 0.1

TRUST_ENV = "TRIAGE_C2PA_TRUST_ANCHORS"

#: Actions that change what the picture shows (C2PA 2.1 standard actions).
EDITORIAL_ACTIONS = frozenset({"c2pa.edited", "c2pa.placed", "c2pa.removed", "c2pa.drawing",
                               "c2pa.filtered"})
#: Operations that change encoding or framing but not (by their definition) the content.
TECHNICAL_ACTIONS = frozenset({"c2pa.resized", "c2pa.cropped", "c2pa.color_adjustments",
                               "c2pa.orientation", "c2pa.transcoded", "c2pa.converted",
                               "c2pa.repackaged", "c2pa.watermarked", "c2pa.published",
                               "c2pa.opened", "c2pa.created", "c2pa.unknown",
                               "c2pa.redacted", "c2pa.edited.metadata"})
#: Failure codes that mean "the bytes or the manifest changed after signing".
_INTEGRITY_SUFFIXES = (".mismatch", ".missing", ".undeclared", ".multipleHardBindings")
#: Codes that only concern trust in the signer, not integrity.
_TRUST_CODES = frozenset({"signingCredential.untrusted", "timeStamp.untrusted",
                          "signingCredential.ocsp.skipped", "signingCredential.ocsp.inaccessible",
                          "signingCredential.ocsp.unknown"})

_MIME = {
    "JPEG": "image/jpeg", "JPG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png",
    "TIFF": "image/tiff", "WEBP": "image/webp", "HEIF": "image/heif", "HEIC": "image/heic",
    "AVIF": "image/avif", "GIF": "image/gif", "DNG": "image/dng",
    "MP4": "video/mp4", "MOV": "video/quicktime", "M4V": "video/x-m4v", "AVI": "video/avi",
    "WAV": "audio/wav", "MP3": "audio/mpeg", "FLAC": "audio/flac", "M4A": "audio/mp4",
}


def _source_category(value: Any) -> str | None:
    """Category of an IPTC digital source type (``resources/generator_signatures.json``):
    ``generated``, ``ai_composite``, ``edited``, ``created``, ``capture`` or None."""
    from detectors.provenance.metadata import digital_source_type

    found = digital_source_type(value) if value else None
    return found[1]["category"] if found else None


def _agent(action: dict[str, Any]) -> str | None:
    agent = action.get("softwareAgent")
    if isinstance(agent, dict):
        return " ".join(str(agent[k]) for k in ("name", "version") if agent.get(k)) or None
    return str(agent) if agent else None


def _actions(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for assertion in manifest.get("assertions", []) or []:
        label = str(assertion.get("label", ""))
        if not label.startswith("c2pa.actions"):
            continue
        for act in (assertion.get("data") or {}).get("actions", []) or []:
            if isinstance(act, dict) and act.get("action"):
                params = act.get("parameters") or {}
                dst = act.get("digitalSourceType") or params.get("digitalSourceType")
                out.append({"action": str(act["action"]), "digitalSourceType": dst,
                            "softwareAgent": _agent(act)})
    return out


def _describe(actions: list[dict[str, Any]]) -> str:
    parts = []
    for a in actions:
        extra = []
        if a.get("digitalSourceType"):
            extra.append(f"digitalSourceType={a['digitalSourceType']}")
        if a.get("softwareAgent"):
            extra.append(f"softwareAgent={a['softwareAgent']}")
        parts.append(a["action"] + (f" ({', '.join(extra)})" if extra else ""))
    return "; ".join(parts)


def _generator(manifest: dict[str, Any]) -> str | None:
    info = manifest.get("claim_generator_info")
    if isinstance(info, list) and info:
        names = [" ".join(str(i[k]) for k in ("name", "version") if i.get(k))
                 for i in info if isinstance(i, dict)]
        names = [n for n in names if n]
        if names:
            return "; ".join(names)
    gen = manifest.get("claim_generator")
    return str(gen) if gen else None


def _trust_pem(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    path = os.environ.get(TRUST_ENV)
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as fh:
            return fh.read()
    return None


def read_manifest_store(data: Any, mime: str, *,
                        trust_anchors: str | None = None) -> dict[str, Any] | None:
    """The manifest store of ``data`` (bytes or a binary file object) as a dict, or None.

    Offline: remote manifests and OCSP are never fetched. ``trust_anchors`` is a PEM bundle of
    root certificates that count as trusted.

    Raises
    ------
    c2pa.C2paError
        When the credentials exist but cannot be read (damaged JUMBF, remote-only manifest).
    """
    import c2pa

    settings: dict[str, Any] = {"verify": {"remote_manifest_fetch": False,
                                           "ocsp_fetch": False}}
    if trust_anchors:
        settings["trust"] = {"trust_anchors": trust_anchors}
        settings["verify"]["verify_trust"] = True
    ctx = c2pa.Context(settings=c2pa.Settings.from_dict(settings))
    stream = io.BytesIO(data) if isinstance(data, (bytes, bytearray, memoryview)) else data
    reader = c2pa.Reader.try_create(mime, stream, None, ctx)
    if reader is None:
        return None
    with reader:
        store = json.loads(reader.json())
        store.setdefault("validation_state", reader.get_validation_state())
    return store


@detector(
    name=NAME,
    version=VERSION,
    modalities=("image", "video", "audio"),
    method="C2PA manifest read and validated offline with c2pa-python: hard-binding hashes, "
           "claim signature, declared actions and digital source types (C2PA 2.1)",
    reference="Coalition for Content Provenance and Authenticity, C2PA Technical "
              "Specification 2.1, 2024; IPTC NewsCodes Digital Source Type",
    limits="Most media carry no credentials (not applicable). Offline: signer trust is only "
           "established against locally installed trust anchors; remote manifests are not "
           "fetched.",
    artifacts=("content_credentials",),
    params={"score_ai": SCORE_AI, "score_tampered": SCORE_TAMPERED,
            "score_invalid": SCORE_INVALID, "score_edited": SCORE_EDITED,
            "score_capture_trusted": SCORE_CAPTURE_TRUSTED,
            "score_capture_untrusted": SCORE_CAPTURE_UNTRUSTED},
)
def content_credentials(media: Any, *, trust_anchors: str | None = None) -> DetectorResult:
    """Read, validate and interpret the item's C2PA manifest (see the module docstring)."""
    import c2pa

    t0 = time.perf_counter()
    fmt = str(getattr(media, "format", "")).upper()
    mime = _MIME.get(fmt)
    if mime is None:
        return DetectorResult.not_applicable(
            NAME, VERSION, f"no content credentials: C2PA is not read from {fmt or 'this'} "
                           f"files")
    raw = getattr(media, "raw", b"") or b""
    anchors = _trust_pem(trust_anchors)
    try:
        if raw:
            store = read_manifest_store(raw, mime, trust_anchors=anchors)
        else:
            with open(media.path, "rb") as fh:
                store = read_manifest_store(fh, mime, trust_anchors=anchors)
    except c2pa.C2paError as exc:
        msg = str(exc)
        if "remote" in msg.lower() or "RemoteManifest" in type(exc).__name__:
            return DetectorResult.not_applicable(
                NAME, VERSION, f"content credentials are stored remotely and are not fetched "
                               f"offline ({msg})")
        if "NotSupported" in type(exc).__name__ or "unsupported" in msg.lower():
            return DetectorResult.not_applicable(
                NAME, VERSION, f"no content credentials: the C2PA reader does not support this "
                               f"file ({msg})")
        finding = Finding(artifact="content_credentials",
                          location=MetadataField("C2PA:manifest", "unreadable"),
                          strength=SCORE_INVALID,
                          measurement=Measurement("C2PA manifest read error", msg,
                                                  reference="readable manifest"),
                          detector=NAME)
        return DetectorResult(name=NAME, version=VERSION, status="ok", score=SCORE_INVALID,
                              findings=[finding], runtime=time.perf_counter() - t0,
                              extras={"state": "unreadable", "error": msg})
    except OSError as exc:
        return DetectorResult.not_applicable(NAME, VERSION,
                                             f"cannot read the file for C2PA: {exc}")
    if store is None or not store.get("manifests"):
        return DetectorResult.not_applicable(NAME, VERSION, "no content credentials")
    return _judge(store, trusted_anchors=anchors is not None, t0=t0)


def _judge(store: dict[str, Any], *, trusted_anchors: bool, t0: float) -> DetectorResult:
    manifests: dict[str, Any] = store.get("manifests") or {}
    active_label = store.get("active_manifest")
    active = manifests.get(active_label) or next(iter(manifests.values()))
    state = str(store.get("validation_state") or "")
    statuses = store.get("validation_status") or []
    results = (store.get("validation_results") or {}).get("activeManifest") or {}
    failures = [s for s in (results.get("failure") or statuses) if isinstance(s, dict)]
    codes = [str(s.get("code", "")) for s in failures]
    integrity = [s for s in failures if str(s.get("code", "")).endswith(_INTEGRITY_SUFFIXES)]
    other = [s for s in failures
             if s not in integrity and str(s.get("code", "")) not in _TRUST_CODES]
    untrusted = any(c in _TRUST_CODES for c in codes) or state.lower() != "trusted"
    signer = active.get("signature_info") or {}
    extras: dict[str, Any] = {
        "validation_state": state,
        "validation_codes": codes,
        "validation_explanations": {str(s.get("code")): s.get("explanation") for s in failures},
        "claim_generator": _generator(active),
        "signer": {k: signer.get(k) for k in ("issuer", "common_name", "alg", "time")
                   if signer.get(k)},
        "trust": ("signer chains to a local trust anchor" if not untrusted else
                  "valid signature, untrusted signer: trust is not established offline"
                  + ("" if trusted_anchors else " (no local trust anchors installed)")),
        "manifests": len(manifests),
    }
    findings: list[Finding] = []

    def finding(field: str, value: str, meas: Measurement, strength: float) -> None:
        findings.append(Finding(artifact="content_credentials",
                                location=MetadataField(field, value), strength=strength,
                                measurement=meas, detector=NAME))

    if integrity or other or state.lower() == "invalid":
        decisive = integrity or other or failures
        score = SCORE_TAMPERED if integrity else SCORE_INVALID
        extras["state"] = ("invalid: changed after signing" if integrity
                           else "invalid: signature or credential failure")
        for s in decisive:
            code = str(s.get("code", "unknown"))
            finding("C2PA:validation", code,
                    Measurement("C2PA validation failure", code, reference="valid",
                                unit=""), score)
        if not findings:  # state says invalid without a failure entry
            finding("C2PA:validation", state,
                    Measurement("C2PA validation state", state, reference="Valid"), score)
        return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                              findings=findings, runtime=time.perf_counter() - t0,
                              extras=extras)

    # the manifest verifies: what does it assert? (active manifest first, then ingredients)
    trust_ref = "valid signature, trusted signer" if not untrusted else \
        "valid signature, untrusted signer"
    per_manifest = [(label, _actions(m)) for label, m in manifests.items()]
    per_manifest.sort(key=lambda lm: lm[0] != active_label)
    all_actions = [a for _, acts in per_manifest for a in acts]
    active_actions = _actions(active)
    extras["actions"] = _describe(active_actions)
    ai = [(label, a) for label, acts in per_manifest for a in acts
          if _source_category(a.get("digitalSourceType")) in ("generated", "ai_composite")]
    editorial = [a for a in all_actions if a["action"] in EDITORIAL_ACTIONS]
    technical = [a for a in all_actions if a["action"] in TECHNICAL_ACTIONS
                 and a["action"] not in ("c2pa.created", "c2pa.opened", "c2pa.published")]
    capture = [a for a in all_actions
               if _source_category(a.get("digitalSourceType")) == "capture"]
    if ai:
        label, act = ai[0]
        where = "active manifest" if label == active_label else f"ingredient manifest {label}"
        score = SCORE_AI
        extras["state"] = f"valid; declares AI generation ({where})"
        finding("C2PA:actions", _describe(active_actions if label == active_label
                                          else _actions(manifests[label])),
                Measurement("declared digital source type", str(act["digitalSourceType"]),
                            reference=trust_ref), SCORE_AI)
    elif editorial:
        score = SCORE_EDITED
        extras["state"] = "valid; declares content edits"
        finding("C2PA:actions", _describe(all_actions),
                Measurement("declared edit actions",
                            ", ".join(sorted({a["action"] for a in editorial})),
                            reference=trust_ref), SCORE_EDITED)
    elif technical:
        score = SCORE_TECHNICAL
        extras["state"] = "valid; declares technical operations only"
    elif capture:
        score = SCORE_CAPTURE_UNTRUSTED if untrusted else SCORE_CAPTURE_TRUSTED
        extras["state"] = "valid; declares a capture with no edits"
    else:
        score = SCORE_NO_ACTIONS
        extras["state"] = "valid; asserts nothing about origin or edits"
    return DetectorResult(name=NAME, version=VERSION, status="ok", score=score,
                          findings=findings, runtime=time.perf_counter() - t0, extras=extras)
