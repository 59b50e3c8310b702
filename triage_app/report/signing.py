"""PAdES signing of a report with the examiner's certificate (pyHanko).

The signature covers the whole file; any later change to the PDF bytes breaks it. The key is a
PKCS#12 file (``.p12``/``.pfx``) that holds the examiner's private key and certificate.
"""

from __future__ import annotations

from pathlib import Path


class SigningError(Exception):
    """The key cannot be used to sign (wrong passphrase, not PKCS#12...)."""


def sign_pdf(src: Path, dst: Path, key_p12: str | Path, *, passphrase: str | bytes | None = None,
             reason: str = "Evidence report integrity", location: str | None = None) -> None:
    """Sign ``src`` into ``dst`` with a PAdES baseline signature."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    pw = passphrase.encode() if isinstance(passphrase, str) else passphrase
    try:
        signer = signers.SimpleSigner.load_pkcs12(pfx_file=str(key_p12), passphrase=pw)
    except Exception as exc:
        raise SigningError(f"cannot load signing key {key_p12}: {exc}") from None
    if signer is None:
        raise SigningError(f"cannot load signing key {key_p12} (wrong passphrase or not PKCS#12)")
    meta = signers.PdfSignatureMetadata(field_name="ExaminerSignature", reason=reason,
                                        location=location, md_algorithm="sha256",
                                        subfilter=fields.SigSeedSubFilter.PADES)
    with open(src, "rb") as inf:
        writer = IncrementalPdfFileWriter(inf)
        with open(dst, "wb") as outf:
            signers.sign_pdf(writer, meta, signer=signer, output=outf)
