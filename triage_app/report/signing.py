"""PAdES signing of a report with the examiner's certificate (pyHanko).

The signature covers the whole file; any later change to the PDF bytes breaks it. The key is a
PKCS#12 file (``.p12``/``.pfx``) that holds the examiner's private key and certificate.
"""

from __future__ import annotations

from pathlib import Path


class SigningError(Exception):
    """The key cannot be used to sign (wrong passphrase, not PKCS#12...)."""


def load_signer(key_p12: str | Path, passphrase: str | bytes | None = None):
    """The pyHanko signer of a PKCS#12 file; :class:`SigningError` with the reason when it
    cannot be used. Called before a report is written, so a bad key leaves no half export."""
    import logging

    from pyhanko.sign import signers

    path = Path(key_p12)
    if not path.is_file():
        raise SigningError(f"signing key {key_p12} not found")
    pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
    # pyHanko logs a traceback for a file it cannot parse; the one-line reason below says it
    log = logging.getLogger("pyhanko")
    level, log.level = log.level, logging.CRITICAL
    try:
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(path), passphrase=pw)
    except Exception as exc:
        raise SigningError(f"cannot load signing key {key_p12}: {exc}") from None
    finally:
        log.setLevel(level)
    if signer is None:
        raise SigningError(f"cannot load signing key {key_p12} (wrong passphrase or not PKCS#12)")
    return signer


def sign_pdf(src: Path, dst: Path, key_p12: str | Path | None = None, *,
             passphrase: str | bytes | None = None, signer=None,
             reason: str = "Evidence report integrity", location: str | None = None) -> None:
    """Sign ``src`` into ``dst`` with a PAdES baseline signature, by ``signer``
    (:func:`load_signer`) or the key ``key_p12``."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    if signer is None:
        signer = load_signer(key_p12, passphrase)
    meta = signers.PdfSignatureMetadata(field_name="ExaminerSignature", reason=reason,
                                        location=location, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    with open(src, "rb") as inf:
        writer = IncrementalPdfFileWriter(inf)
        with open(dst, "wb") as outf:
            signers.sign_pdf(writer, meta, signer=signer, output=outf)
