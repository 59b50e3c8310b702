"""detectors/image/_common.py: telling a computer-drawn picture from a photograph."""

from __future__ import annotations

import numpy as np


def _screen(h: int = 480, w: int = 640) -> np.ndarray:
    """A drawn screen: flat panels, lines of repeated text, a button (no sensor noise)."""
    from PIL import Image, ImageDraw

    im = Image.new("RGB", (w, h), (244, 244, 244))
    d = ImageDraw.Draw(im)
    d.rectangle([0, 0, w, 40], fill=(40, 60, 120))
    d.rectangle([10, 50, 150, h - 10], fill=(224, 226, 236))
    for i in range(14):
        d.text((20, 60 + 28 * i), f"Menu item {i}", fill=(20, 20, 20))
        d.text((170, 60 + 28 * i), f"Lorem ipsum dolor sit amet {i}", fill=(20, 20, 20))
    d.rectangle([450, 300, 600, 400], fill=(60, 160, 80))
    return np.asarray(im)


def test_a_drawn_screen_is_told_from_a_photograph_and_its_edit_analyses_do_not_apply():
    from detectors.image._common import computer_graphic, flat_share
    from detectors.image.copy_move import copy_move
    from detectors.image.ela import error_level_analysis
    from detectors.image.jpeg_traces import jpeg_traces
    from detectors.image.noise import noise_inconsistency
    from detectors.image.resampling import resampling_traces
    from triage_app.media import ImageMedia

    screen = _screen()
    assert flat_share(screen) > 0.9 and computer_graphic(screen) is not None
    rng = np.random.default_rng(0)
    photo = np.clip(screen + rng.normal(0, 2.0, screen.shape), 0, 255).astype(np.uint8)
    assert computer_graphic(photo) is None   # the same picture with sensor noise
    media = ImageMedia(path="screen.png", format="PNG", pixels=screen)
    for fn in (copy_move, error_level_analysis, jpeg_traces, noise_inconsistency,
               resampling_traces):
        res = fn(media)
        assert res.status == "not_applicable" and "computer-drawn" in res.reason, fn.__name__
