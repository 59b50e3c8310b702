"""Still images for :func:`triage_app.media.open_media`: Pillow (and pillow-heif for HEIF).

``open_image(path, fmt, limits)`` reads the header, refuses images whose header claims more
than ``limits.max_pixels`` pixels *before* decoding, decodes to RGB uint8 and gathers the
metadata the forensic detectors read: EXIF (with the Exif, GPS and Interop sub-IFDs, under
readable tag names), the XMP packet, the ICC profile, IPTC, PNG text chunks, JPEG quantization
tables (natural row-major order, see :func:`_jpeg_info`), chroma subsampling, progressive
flag and the EXIF thumbnail.

A decoder failure is diagnosed from the file's own structure (JPEG markers, PNG chunks) so the
message says where the data ends or what is broken, e.g. ``truncated JPEG: the file ends at
byte 48,213 inside the compressed image data, with no end-of-image marker (FFD9)``.
"""

from __future__ import annotations

import struct
import warnings
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from triage_app.media import (
    CorruptFileError,
    ImageMedia,
    LimitExceededError,
    Limits,
    TruncatedFileError,
    UnreadableFileError,
    UnsupportedFormatError,
)

_HEIF_REGISTERED = False

#: IPTC-IIM record 2 dataset numbers -> names (the ones photo tools write).
IPTC_NAMES: dict[tuple[int, int], str] = {
    (1, 90): "CodedCharacterSet", (2, 0): "RecordVersion", (2, 5): "ObjectName",
    (2, 10): "Urgency", (2, 15): "Category", (2, 20): "SupplementalCategories",
    (2, 25): "Keywords", (2, 40): "SpecialInstructions", (2, 55): "DateCreated",
    (2, 60): "TimeCreated", (2, 62): "DigitalCreationDate", (2, 63): "DigitalCreationTime",
    (2, 65): "OriginatingProgram", (2, 70): "ProgramVersion", (2, 80): "By-line",
    (2, 85): "By-lineTitle", (2, 90): "City", (2, 92): "Sub-location",
    (2, 95): "Province-State", (2, 100): "Country-PrimaryLocationCode",
    (2, 101): "Country-PrimaryLocationName", (2, 103): "OriginalTransmissionReference",
    (2, 105): "Headline", (2, 110): "Credit", (2, 115): "Source", (2, 116): "CopyrightNotice",
    (2, 118): "Contact", (2, 120): "Caption-Abstract", (2, 122): "Writer-Editor",
}


# --------------------------------------------------------------------------- entry point


def open_image(path: Path, fmt: str, limits: Limits) -> ImageMedia:
    """Open ``path`` (sniffed as ``fmt``) as :class:`ImageMedia`.

    Raises
    ------
    LimitExceededError
        The header claims more than ``limits.max_pixels`` pixels (nothing is decoded).
    TruncatedFileError
        The data stops early; the message says at which byte.
    CorruptFileError
        The header or the compressed data is damaged; the message says how.
    UnsupportedFormatError
        A HEIF/AVIF file and no decoder for it.
    """
    from PIL import Image, ImageFile

    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise UnreadableFileError(f"cannot read {Path(path).name}: {exc.strerror or exc}") from None
    if fmt in ("HEIF", "AVIF"):
        _register_heif(fmt)

    # Our own limit check below runs before any decoding; Pillow's bomb check is kept as a
    # back-stop at the same limit (it raises only past twice MAX_IMAGE_PIXELS, and we turn
    # that into the same clear message).
    Image.MAX_IMAGE_PIXELS = int(limits.max_pixels)
    import io

    notes: list[str] = []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # bomb and corrupt-EXIF warnings: we check ourselves
            img = Image.open(io.BytesIO(raw))
    except Image.DecompressionBombError as exc:
        raise LimitExceededError(_bomb_message(str(exc), raw, fmt, limits)) from None
    except (OSError, SyntaxError, ValueError, struct.error, EOFError) as exc:
        reason = _diagnose(raw, fmt)
        if reason and reason.startswith("truncated"):
            raise TruncatedFileError(reason) from None
        if reason:
            raise CorruptFileError(reason) from None
        if isinstance(exc, Image.UnidentifiedImageError):
            raise CorruptFileError(f"damaged {fmt} header: the {fmt} decoder cannot make sense "
                                   "of it (Pillow cannot identify the image)") from None
        raise CorruptFileError(f"damaged {fmt} header: {_lib(exc)}") from None

    w, h = img.size
    if w * h > limits.max_pixels:
        raise LimitExceededError(
            f"image header claims {w:,} x {h:,} = {w * h:,} pixels, over the limit of "
            f"{limits.max_pixels:,}; not decoded")
    if w <= 0 or h <= 0:
        raise CorruptFileError(f"damaged {fmt} header: it claims a size of {w} x {h} pixels")

    n_frames = int(getattr(img, "n_frames", 1) or 1)
    if n_frames > 1:
        notes.append(f"multi-frame {fmt} ({n_frames} frames): only the first frame is analysed")

    # Metadata that lives before the image data can be read without decoding.
    mode = img.mode
    info = dict(img.info)

    truncated_flag = ImageFile.LOAD_TRUNCATED_IMAGES
    try:
        ImageFile.LOAD_TRUNCATED_IMAGES = False  # someone may have set it; we want to know
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            img.load()
    except MemoryError:
        raise
    except Exception as exc:  # noqa: BLE001 -- every decoder failure becomes a MediaError
        reason = _diagnose(raw, fmt)
        if reason and reason.startswith("truncated"):
            raise TruncatedFileError(reason) from None
        msg = str(exc)
        if "truncated" in msg.lower():
            raise TruncatedFileError(
                f"truncated {fmt}: the image data stops before the end of the image "
                f"(file is {len(raw):,} bytes). Decoder said: {msg}") from None
        raise CorruptFileError(
            f"damaged {fmt} image data: {reason or 'the decoder could not decode it'}. "
            f"Decoder said: {_lib(exc)}") from None
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = truncated_flag

    info.update(img.info)
    pixels, has_alpha = _to_rgb(img)
    if fmt in ("JPEG", "PNG"):
        reason = _diagnose(raw, fmt)
        if reason:  # decoded, but something structural is off: say so, do not refuse
            notes.append(f"decoded, but {reason}")

    media = ImageMedia(path=str(path), format=fmt, pixels=pixels, raw=raw, mode=mode,
                       has_alpha=has_alpha, notes=notes)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns on damaged EXIF; _exif_dict notes it
        _fill_metadata(media, img, info, raw, fmt)
    turn = _ORIENTATIONS.get(media.exif.get("Orientation"))
    if turn:
        media.notes.append(
            f"EXIF orientation {media.exif['Orientation']}: a viewer shows this picture "
            f"{turn}; it is analysed and mapped as stored (the viewer and the report turn "
            "it upright, with its maps and boxes), faces are looked for upright")
    return media


#: EXIF Orientation -> how a viewer turns the stored picture to show it.
_ORIENTATIONS = {2: "mirrored left to right", 3: "turned by 180 degrees",
                 4: "mirrored top to bottom", 5: "mirrored along its main diagonal",
                 6: "turned 90 degrees clockwise", 7: "mirrored along its other diagonal",
                 8: "turned 90 degrees counter-clockwise"}


def _register_heif(fmt: str) -> None:
    global _HEIF_REGISTERED
    if _HEIF_REGISTERED:
        return
    try:
        import pillow_heif
    except ImportError:
        if fmt == "AVIF":  # Pillow >= 11.3 may decode AVIF by itself
            return
        raise UnsupportedFormatError(
            "HEIF image, but the HEIF decoder (pillow-heif) is not installed") from None
    pillow_heif.register_heif_opener()
    _HEIF_REGISTERED = True


def _lib(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _bomb_message(lib_msg: str, raw: bytes, fmt: str, limits: Limits) -> str:
    import re

    m = re.search(r"\((\d+) pixels\)", lib_msg)
    claimed = f"{int(m.group(1)):,} pixels" if m else "more pixels than allowed"
    return (f"{fmt} header claims {claimed}, over the limit of {limits.max_pixels:,}; "
            "not decoded (possible decompression bomb)")


# --------------------------------------------------------------------------- pixels


def _to_rgb(img: Any) -> tuple[np.ndarray, bool]:
    """RGB uint8 (H, W, 3) from any Pillow mode, and whether there was an alpha channel."""
    mode = img.mode
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        arr = np.asarray(img)
        if mode == "F":
            arr = arr.astype(np.float64)
            finite = arr[np.isfinite(arr)]
            top = float(finite.max()) if finite.size else 1.0
            scale = 255.0 if top <= 1.0 else (255.0 / 65535.0 if top > 255.0 else 1.0)
            arr = np.clip(np.nan_to_num(arr) * scale, 0, 255)
        elif mode.startswith("I;16") or (mode == "I" and int(arr.max(initial=0)) > 255):
            arr = np.clip(arr.astype(np.int64), 0, 65535) / 257.0  # 16-bit -> 8-bit
        else:
            arr = np.clip(arr, 0, 255)
        g = np.rint(arr).astype(np.uint8)
        return np.ascontiguousarray(np.repeat(g[:, :, None], 3, axis=2)), has_alpha
    if mode == "P":
        img = img.convert("RGBA" if has_alpha else "RGB")
    elif mode == "PA":
        img = img.convert("RGBA")
    if img.mode != "RGB":
        img = img.convert("RGB")
    arr = np.asarray(img, dtype=np.uint8)
    return np.ascontiguousarray(arr[:, :, :3]), has_alpha


# --------------------------------------------------------------------------- metadata


def _fill_metadata(media: ImageMedia, img: Any, info: dict, raw: bytes, fmt: str) -> None:
    if raw[:8] == b"\x89PNG\r\n\x1a\n" and len(raw) > 24 and raw[24] == 16:
        # IHDR bit depth: Pillow gives 16-bit colour PNGs as 8-bit RGB
        media.notes.append("16 bits per sample: analysed at 8 bits (the finest level "
                           "differences, where a 16-bit capture's noise lies, are not examined)")
    media.exif = _exif_dict(img, media.notes)
    media.thumbnail = _exif_thumbnail(info.get("exif"), raw, fmt)
    media.xmp = _xmp(img, info, fmt)
    icc = info.get("icc_profile")
    media.icc = bytes(icc) if icc else None
    media.iptc = _iptc(img)
    if fmt == "PNG":
        media.text_chunks = _png_text(img)
    if fmt == "JPEG":
        q, sub, prog = _jpeg_info(img, info)
        media.quantization, media.jpeg_subsampling, media.progressive = q, sub, prog
    else:
        media.progressive = bool(info.get("progressive") or info.get("interlace"))


def _clean(value: Any) -> Any:
    """EXIF values as plain Python: rationals -> float, ASCII bytes -> str, tuples -> lists."""
    from PIL.TiffImagePlugin import IFDRational

    if isinstance(value, IFDRational):
        try:
            return float(value)
        except ZeroDivisionError:
            return None
    if isinstance(value, bytes):
        stripped = value.rstrip(b"\x00")
        if stripped and all(32 <= b < 127 or b in (9, 10, 13) for b in stripped):
            return stripped.decode("ascii")
        return value
    if isinstance(value, str):
        return value.rstrip("\x00")
    if isinstance(value, (tuple, list)):
        return [_clean(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


#: TIFF tags kept out of ``exif``: reported elsewhere (XMP, ICC, IPTC, Photoshop) or only
#: layout (strip and tile offsets, which run to thousands of numbers in a large TIFF).
_EXIF_SKIP = {700, 33723, 34377, 34675, 273, 279, 324, 325}


def _user_comment(value: bytes) -> str | bytes:
    """EXIF UserComment: an 8-byte character-code prefix, then the text."""
    code, body = value[:8], value[8:]
    try:
        if code.startswith(b"ASCII"):
            return body.rstrip(b"\x00 ").decode("ascii", errors="replace")
        if code.startswith(b"UNICODE"):
            enc = "utf-16-le" if body[:2] != b"\xfe\xff" else "utf-16"
            return body.decode(enc, errors="replace").rstrip("\x00 ")
        if code == b"\x00" * 8:
            return body.rstrip(b"\x00 ").decode("utf-8", errors="replace")
    except Exception:  # noqa: BLE001
        return value
    return value


def _exif_dict(img: Any, notes: list[str]) -> dict[str, Any]:
    """EXIF of IFD0 plus the Exif, GPS and Interop sub-IFDs under their tag names.

    Tags of the sub-IFDs are merged into one flat dict (``"DateTimeOriginal"``, ``"GPSLatitude"``,
    ``"InteroperabilityIndex"``); a name that appears twice keeps the IFD0 value. Unknown tags
    are named ``"Tag0xNNNN"``. The pointer tags themselves (ExifOffset, GPSInfo) are dropped.
    """
    from PIL import ExifTags

    try:
        exif = img.getexif()
    except Exception as exc:  # noqa: BLE001 -- broken EXIF is a note, not a failure
        notes.append(f"EXIF block is damaged and was skipped ({_lib(exc)})")
        return {}
    if not exif:
        return {}
    out: dict[str, Any] = {}
    pointers = {int(ExifTags.IFD.Exif), int(ExifTags.IFD.GPSInfo), int(ExifTags.IFD.Interop)}

    def put(tags: dict, names: dict) -> None:
        for tag, value in tags.items():
            if tag in pointers and not isinstance(value, (bytes, str)):
                continue
            if names is ExifTags.TAGS and tag in _EXIF_SKIP:
                continue
            name = names.get(tag) or f"Tag0x{tag:04X}"
            if name == "UserComment" and isinstance(value, bytes) and len(value) >= 8:
                value = _user_comment(value)
            out.setdefault(name, _clean(value))

    try:
        put(dict(exif), ExifTags.TAGS)
        for ifd, names in ((ExifTags.IFD.Exif, ExifTags.TAGS),
                           (ExifTags.IFD.GPSInfo, ExifTags.GPSTAGS),
                           (ExifTags.IFD.Interop, ExifTags.TAGS)):
            try:
                sub = exif.get_ifd(ifd)
            except Exception as exc:  # noqa: BLE001
                notes.append(f"EXIF {ifd.name} block is damaged and was skipped ({_lib(exc)})")
                continue
            if ifd == ExifTags.IFD.GPSInfo:
                # GPS names from GPSTAGS already start with "GPS" except version/ref tags.
                sub = {k: v for k, v in sub.items()}
            put(sub, names)
    except Exception as exc:  # noqa: BLE001
        notes.append(f"EXIF could only be read in part ({_lib(exc)})")
    return out


def _exif_thumbnail(exif_raw: bytes | None, raw: bytes, fmt: str) -> bytes | None:
    """The JPEG thumbnail of EXIF IFD1 (JPEGInterchangeFormat/Length), if any."""
    if not exif_raw:
        return None
    return thumbnail_from_tiff(exif_raw[6:] if exif_raw.startswith(b"Exif\x00\x00") else exif_raw)


def thumbnail_from_tiff(tiff: bytes) -> bytes | None:
    """JPEGInterchangeFormat/Length of IFD1 in a TIFF-structured EXIF block, or None.

    Shared with ``detectors.provenance.thumbnail`` so that one parser reads thumbnails."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    e = "<" if tiff[:2] == b"II" else ">"
    try:
        off0 = struct.unpack(e + "I", tiff[4:8])[0]
        n0 = struct.unpack(e + "H", tiff[off0:off0 + 2])[0]
        nxt = off0 + 2 + 12 * n0
        off1 = struct.unpack(e + "I", tiff[nxt:nxt + 4])[0]
        if off1 == 0 or off1 + 2 > len(tiff):
            return None
        n1 = struct.unpack(e + "H", tiff[off1:off1 + 2])[0]
        start = length = None
        for i in range(n1):
            entry = tiff[off1 + 2 + 12 * i: off1 + 14 + 12 * i]
            if len(entry) < 12:
                break
            tag, typ, _count = struct.unpack(e + "HHI", entry[:8])
            val = (struct.unpack(e + "I", entry[8:12])[0] if typ == 4
                   else struct.unpack(e + "H", entry[8:10])[0])
            if tag == 0x0201:
                start = val
            elif tag == 0x0202:
                length = val
        if start is None or not length:
            return None
        thumb = tiff[start:start + length]
        return thumb if thumb.startswith(b"\xff\xd8") else None
    except (struct.error, IndexError):
        return None


def _xmp(img: Any, info: dict, fmt: str) -> str | None:
    """The XMP packet as text: JPEG APP1, PNG iTXt ``XML:com.adobe.xmp``, TIFF tag 700, WebP."""
    data = info.get("xmp") or info.get("XML:com.adobe.xmp")
    if data is None and fmt == "TIFF":
        try:
            data = img.tag_v2.get(700)
        except Exception:  # noqa: BLE001
            data = None
    if data is None:
        return None
    if isinstance(data, (tuple, list)):
        data = bytes(data)
    if isinstance(data, bytes):
        data = data.decode("utf-8", errors="replace")
    return str(data).rstrip("\x00") or None


def _iptc(img: Any) -> dict[str, Any]:
    """IPTC-IIM datasets under readable names (see :data:`IPTC_NAMES`), values as text."""
    from PIL import IptcImagePlugin

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            iptc = IptcImagePlugin.getiptcinfo(img)
    except Exception:  # noqa: BLE001 -- a damaged IPTC block is simply not read
        return {}
    if not iptc:
        return {}
    out: dict[str, Any] = {}
    for key, value in iptc.items():
        name = IPTC_NAMES.get(tuple(key), f"{key[0]}:{key[1]:03d}")
        vals = value if isinstance(value, list) else [value]
        if tuple(key) in ((2, 0), (1, 90)) and all(isinstance(v, bytes) for v in vals):
            # binary datasets: the record version number, the character-set escape code
            out[name] = (int.from_bytes(vals[0], "big") if tuple(key) == (2, 0)
                         else vals[0].hex(" "))
            continue
        texts = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v for v in vals]
        out[name] = texts if len(texts) > 1 or name in ("Keywords",
                                                         "SupplementalCategories") else texts[0]
    return out


def _png_text(img: Any) -> dict[str, str]:
    """tEXt, zTXt and iTXt chunks (after decoding, so chunks after IDAT are included)."""
    try:
        text = img.text
    except Exception:  # noqa: BLE001
        text = {k: v for k, v in img.info.items() if isinstance(v, str)}
    return {str(k): str(v) for k, v in text.items() if k != "XML:com.adobe.xmp"}


def _jpeg_info(img: Any, info: dict) -> tuple[dict[int, list[int]] | None, str | None, bool]:
    """Quantization tables, chroma subsampling and progressive flag of a JPEG.

    Tables are ``{table_id: 64 ints}`` in **natural (row-major 8x8) order**, i.e.
    ``q[u * 8 + v]`` is the step of DCT coefficient (u, v): Pillow (>= 8.3) already un-zigzags
    the DQT segment. ``q[0]`` is the DC step; ``q[:8]`` is the first row.
    """
    q = getattr(img, "quantization", None)
    tables = {int(k): [int(x) for x in v] for k, v in q.items()} if q else None
    sub = None
    layer = getattr(img, "layer", None)
    if layer:
        if len(layer) == 1:
            sub = "4:0:0"
        else:
            (_, h0, v0, _), rest = layer[0], layer[1:]
            hc = max(c[1] for c in rest)
            vc = max(c[2] for c in rest)
            ratio = (h0 // max(hc, 1), v0 // max(vc, 1))
            sub = {(1, 1): "4:4:4", (2, 1): "4:2:2", (2, 2): "4:2:0", (1, 2): "4:4:0",
                   (4, 1): "4:1:1", (4, 2): "4:1:0"}.get(ratio, f"{h0}x{v0}:{hc}x{vc}")
    prog = bool(info.get("progressive") or info.get("progression"))
    return tables, sub, prog


# --------------------------------------------------------------------------- diagnosis


def _diagnose(raw: bytes, fmt: str) -> str | None:
    """Why a file of format ``fmt`` fails, from its structure; None if nothing is found."""
    try:
        if fmt == "JPEG":
            return _diagnose_jpeg(raw)
        if fmt == "PNG":
            return _diagnose_png(raw)
    except (struct.error, IndexError):
        return None
    return None


def _diagnose_jpeg(raw: bytes) -> str | None:
    """Walk the JPEG markers up to the first SOS, then look for the EOI marker."""
    n = len(raw)
    pos = 2
    seen_sof = False
    while pos < n:
        if raw[pos] != 0xFF:
            return (f"corrupt JPEG: expected a marker at byte {pos:,} but found "
                    f"0x{raw[pos]:02X}")
        while pos < n and raw[pos] == 0xFF:  # fill bytes
            pos += 1
        if pos >= n:
            break
        marker = raw[pos]
        pos += 1
        if marker == 0xD9:
            return "corrupt JPEG: end-of-image marker before any image data"
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            continue
        if pos + 2 > n:
            break
        seg_len = struct.unpack(">H", raw[pos:pos + 2])[0]
        if seg_len < 2:
            return f"corrupt JPEG: marker FF{marker:02X} at byte {pos - 2:,} has length {seg_len}"
        if pos + seg_len > n:
            return (f"truncated JPEG: the FF{marker:02X} segment at byte {pos - 2:,} declares "
                    f"{seg_len:,} bytes but the file ends at byte {n:,}")
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD,
                      0xCE, 0xCF):
            seen_sof = True
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            if not seen_sof:
                return "corrupt JPEG: image data (SOS) without a frame header (SOF)"
            data_start = pos + seg_len
            eoi = raw.rfind(b"\xff\xd9", data_start)
            if eoi < 0:
                return (f"truncated JPEG: the file ends at byte {n:,} inside the compressed "
                        f"image data (which starts at byte {data_start:,}), with no "
                        "end-of-image marker (FFD9)")
            return None
        pos += seg_len
    if pos >= n:
        return (f"truncated JPEG: the file ends at byte {n:,} in the headers, before any "
                "image data")
    return None


def _diagnose_png(raw: bytes) -> str | None:
    """Walk the PNG chunks: a chunk running past the end, a bad CRC, a missing IEND."""
    n = len(raw)
    if not raw.startswith(b"\x89PNG\r\n\x1a\n"):
        return "corrupt PNG: bad signature"
    pos = 8
    last = None
    while pos < n:
        if pos + 8 > n:
            return (f"truncated PNG: the file ends at byte {n:,} in a chunk header after "
                    f"chunk {last or 'signature'}")
        length, ctype = struct.unpack(">I4s", raw[pos:pos + 8])
        name = ctype.decode("latin-1")
        if not ctype.isalpha():
            return f"corrupt PNG: invalid chunk type {ctype!r} at byte {pos:,}"
        end = pos + 12 + length
        if end > n:
            return (f"truncated PNG: chunk {name} at byte {pos:,} declares {length:,} bytes "
                    f"of data but the file ends at byte {n:,} of the {end:,} it needs")
        crc = struct.unpack(">I", raw[pos + 8 + length:end])[0]
        if zlib.crc32(raw[pos + 4:pos + 8 + length]) & 0xFFFFFFFF != crc:
            return f"corrupt PNG: chunk {name} at byte {pos:,} fails its CRC check"
        if last is None and name != "IHDR":
            return f"corrupt PNG: first chunk is {name}, not IHDR"
        last = name
        pos = end
        if name == "IEND":
            return None
    return (f"truncated PNG: the file ends at byte {n:,} after chunk {last}, with no IEND "
            "chunk")


__all__ = ["open_image", "IPTC_NAMES"]
