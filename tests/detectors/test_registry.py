"""The registry's contract: every registered detector, given media of its modality, returns a
DetectorResult under its own registered name and version (DESIGN.md, registry docstring)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from detectors.registry import LOAD_ERRORS, all_detectors
from triage_app.media import AudioMedia, ImageMedia, open_media
from triage_app.model import DetectorResult


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, object]:
    from media_factory import make_video

    rng = np.random.default_rng(0)
    pixels = np.clip(120 + rng.normal(0, 20, (96, 128, 3)), 0, 255).astype(np.uint8)
    t = np.arange(16000) / 16000
    audio = (0.3 * np.sin(2 * np.pi * 220 * t) + 0.01 * rng.normal(size=t.size)).astype(np.float32)
    clip = Path(tmp_path_factory.mktemp("reg")) / "clip.mp4"
    frames = [np.roll(pixels, i, axis=1) for i in range(12)]
    make_video(clip, frames, 12)
    return {
        "image": ImageMedia(path="x.png", format="PNG", pixels=pixels),
        "audio": AudioMedia(path="x.wav", format="WAV", samples=audio[:, None], sample_rate=16000),
        "video": open_media(clip),
    }


def test_every_builtin_module_loads() -> None:
    all_detectors()
    assert not {k: v for k, v in LOAD_ERRORS.items() if k.startswith("detectors.")}


@pytest.mark.parametrize("spec", all_detectors(), ids=lambda s: s.name)
def test_detector_answers_under_its_registered_name(spec, samples) -> None:
    """Regression: a helper defined between @detector and its function got registered instead
    of the detector, and every analysis recorded that detector as an error."""
    for modality in spec.modalities:
        result = spec.function(samples[modality])
        assert isinstance(result, DetectorResult)
        assert (result.name, result.version) == (spec.name, spec.version)
        assert result.status in ("ok", "not_applicable")
        assert result.status == "ok" or result.reason


def test_an_unknown_segment_pooling_is_refused() -> None:
    from detectors.registry import detector

    with pytest.raises(ValueError, match="segment_pooling must be one of"):
        detector(name="x", version="1", modalities=("audio",), method="m", reference="r",
                 segment_pooling="median")
