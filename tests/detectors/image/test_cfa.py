"""Tests for detectors/image/cfa.py on bilinearly demosaiced synthetic Bayer images."""

from __future__ import annotations

import cv2
import numpy as np

from _image_synth import jpeg_bytes, media_from_array, media_from_bytes, pixel_f1, splice, \
    synthetic_photo
from detectors.image.cfa import cfa_feature, cfa_traces
from detectors.registry import get


def test_demosaiced_image_shows_cfa_traces():
    img = synthetic_photo(21, 256, 320, bayer=True)
    L, _ = cfa_feature(img)
    # RGGB: greens acquired on the (x + y) odd lattice; the interpolated lattice is predicted
    # exactly by the bilinear kernel, so the log energy ratio is large and positive
    assert np.median(L) > 2.0
    res = cfa_traces(media_from_array(img))
    assert res.status == "ok" and res.extras["acquired_lattice"].startswith("odd")
    assert not res.findings and res.score < 0.3


def test_pasted_non_cfa_patch_is_localized():
    host = synthetic_photo(21, 320, 448, bayer=True)
    donor = synthetic_photo(22, 320, 448)  # never demosaiced
    img, mask = splice(host, donor, (160, 96, 128, 128))
    res = cfa_traces(media_from_array(img))
    assert res.status == "ok"
    assert pixel_f1(res.heatmap, mask) > 0.8
    assert res.findings[0].artifact == "missing_cfa"
    assert res.score > 0.5


def test_not_applicable_without_cfa_pattern():
    bayer = synthetic_photo(21, 256, 320, bayer=True)
    for pixels in (synthetic_photo(22, 256, 320),
                   media_from_bytes(jpeg_bytes(bayer, 85)).pixels,
                   cv2.resize(bayer, (280, 224), interpolation=cv2.INTER_AREA)):
        res = cfa_traces(media_from_array(np.ascontiguousarray(pixels)))
        assert res.status == "not_applicable" and "CFA" in res.reason
    grey = np.repeat(bayer[..., 1:2], 3, axis=2)
    assert cfa_traces(media_from_array(grey)).status == "not_applicable"


def test_registered():
    spec = get("cfa_traces")
    assert spec.localizes and "Ferrara" in spec.reference and spec.artifacts == ("missing_cfa",)
