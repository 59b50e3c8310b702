"""GUI test fixtures: an offscreen Qt, temporary QSettings and settings file, generated media,
and a case with stored analyses for the viewers.

The stored analyses in :func:`analysed_case` are test fixtures (what a case might hold), built
by hand so that the viewers have boxes, spans and sentences to show; they claim nothing about
the media. Scans in these tests run the real ``triage_app.scan.scan`` when it exists.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import sys  # noqa: E402

# The repository root first on sys.path: otherwise tests/detectors/ (no __init__.py) can shadow
# the real ``detectors`` package as a namespace package, here and in the scan's worker
# processes (which inherit sys.path).
_ROOT = str(__import__("pathlib").Path(__file__).resolve().parents[2])
if _ROOT not in sys.path[:1]:
    sys.path.insert(0, _ROOT)

from fractions import Fraction  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402



def pytest_collection_modifyitems(config, items):
    """Everything under tests/gui/ carries the ``gui`` marker (``-m "not gui"`` skips it)."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.gui)


# --------------------------------------------------------------------------- media


def gradient_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    img = np.stack([x * 255 / max(1, w - 1), y * 255 / max(1, h - 1),
                    128 + 60 * np.sin(x / 9.0 + seed) * np.cos(y / 13.0)], axis=-1)
    img += rng.normal(0, 6, img.shape)
    return np.clip(img, 0, 255).astype(np.uint8)


def write_png(path: Path, rgb: np.ndarray) -> Path:
    from PIL import Image

    Image.fromarray(rgb).save(path)
    return path


def write_jpeg(path: Path, rgb: np.ndarray, quality: int = 90) -> Path:
    from PIL import Image

    Image.fromarray(rgb).save(path, quality=quality)
    return path


def write_wav(path: Path, seconds: float = 1.5, sr: int = 16000, freq: float = 440.0) -> Path:
    import soundfile as sf

    t = np.arange(int(seconds * sr)) / sr
    x = 0.4 * np.sin(2 * np.pi * freq * t) + 0.01 * np.random.default_rng(1).normal(size=t.size)
    x[int(0.7 * sr):int(0.7 * sr) + 40] += 0.5  # a click
    sf.write(str(path), x.astype(np.float32), sr, subtype="PCM_16")
    return path


def write_mp4(path: Path, n: int = 12, h: int = 48, w: int = 64, fps: int = 10) -> Path:
    import av

    with av.open(str(path), "w") as out:
        vs = out.add_stream("libx264", rate=Fraction(fps))
        vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
        vs.options = {"preset": "ultrafast", "crf": "23"}
        for i in range(n):
            f = np.full((h, w, 3), 40, np.uint8)
            f[10:22, 4 + 4 * i:16 + 4 * i] = (230, 200, 40)
            for pkt in vs.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                out.mux(pkt)
        for pkt in vs.encode():
            out.mux(pkt)
    return path


@pytest.fixture
def media_dir(tmp_path: Path) -> Path:
    """A folder of small media: two images, a WAV, an MP4, a text file and a broken JPEG."""
    d = tmp_path / "incoming"
    d.mkdir()
    write_png(d / "street.png", gradient_photo(96, 128, 1))
    write_jpeg(d / "portrait.jpg", gradient_photo(120, 96, 2))
    write_wav(d / "call.wav")
    write_mp4(d / "clip.mp4")
    (d / "notes.txt").write_text("not media\n")
    (d / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    return d


# --------------------------------------------------------------------------- Qt


@pytest.fixture
def gui_ini(tmp_path: Path):
    from PySide6.QtCore import QSettings

    return QSettings(str(tmp_path / "gui.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    p = tmp_path / "settings.json"
    monkeypatch.setenv("TRIAGE_SETTINGS", str(p))
    return p


@pytest.fixture
def make_window(qtbot, gui_ini, settings_file):
    from triage_app.gui.main_window import MainWindow
    from triage_app.gui.workers import GarbageCollector

    made = []
    collector = GarbageCollector()  # as the application does (app.create_app)

    def factory(**kw):
        w = MainWindow(qsettings=gui_ini, settings_path=settings_file, **kw)
        qtbot.addWidget(w)
        w.show()
        made.append(w)
        return w

    yield factory
    for w in made:
        dlg = w.scan_dialog
        if dlg is not None and dlg.running:  # a test that failed mid-scan
            dlg.cancel()
            dlg.worker.wait(120_000)
            qtbot.wait(50)
        if w.isVisible() or w.case_service._thread.is_alive():
            w.close()
    collector.stop()


@pytest.fixture
def window(make_window):
    return make_window()


def wait_idle(qtbot, w, timeout: int = 15000) -> None:
    """Until the case thread, the decode tasks and the item loading are all done."""
    from triage_app.gui.workers import tasks_running

    qtbot.waitUntil(lambda: w.case_service.idle and tasks_running() == 0
                    and not w.item_loading and not w.video_viewer.busy
                    and not w.audio_viewer.loading, timeout=timeout)


def click_list_row(qtbot, widget, row: int) -> None:
    """Click the centre of row ``row`` of a QListWidget, as a user would."""
    from PySide6.QtCore import Qt

    item = widget.item(row)
    widget.scrollToItem(item)
    rect = widget.visualItemRect(item)
    qtbot.mouseClick(widget.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


# --------------------------------------------------------------------------- a case with analyses


def _analyses():
    from triage_app.model import (Analysis, Box, Claim, DetectorResult, Finding, FrameSpan,
                                  Measurement, MetadataField, TimeSpan, Verdict)

    img = Analysis(
        media={"kind": "image"},
        verdict=Verdict("likely_manipulated", 0.91, drivers=["noise_inconsistency"],
                        contributions={"noise_inconsistency": 1.6, "ela": 0.4,
                                       "metadata": -0.2}, method="fixture"),
        detectors=[
            DetectorResult("noise_inconsistency", "1", "ok", score=0.93, findings=[
                Finding("noise", Box(60, 20, 40, 30), 0.9,
                        Measurement("noise ratio", 2.8, 1.0), "noise_inconsistency")]),
            DetectorResult("ela", "1", "ok", score=0.55, findings=[
                Finding("blending_artifacts", Box(10, 50, 30, 30), 0.5,
                        Measurement("ela z", 2.1, 1.5), "ela")]),
            DetectorResult("metadata", "1", "ok", score=0.2),
            DetectorResult.not_applicable("face_warp", "1", "no face found"),
        ],
        claims=[
            Claim("The noise level in the upper right differs from the rest of the image.",
                  "noise", "image", Box(60, 20, 40, 30), status="grounded",
                  reason="probe re-measured noise ratio 2.7",
                  measurement={"name": "noise ratio", "value": 2.7, "reference": 1.0}),
            Claim("The software metadata names an editor.", "software_metadata", "image",
                  MetadataField("EXIF:Software", "GIMP"), status="unverifiable",
                  reason="no probe for this artifact"),
            Claim("The eyes show unnatural reflections.", "reflection_inconsistency", "image",
                  None, status="hallucinated", reason="no face in the image"),
        ])
    vid = Analysis(
        media={"kind": "video"},
        verdict=Verdict("inconclusive", 0.52, drivers=["temporal"],
                        contributions={"temporal": 0.3}),
        detectors=[DetectorResult("temporal", "1", "ok", score=0.6, findings=[
            Finding("temporal_artifacts", FrameSpan(0.6, 0.9, Box(20, 8, 20, 16)), 0.7,
                    Measurement("flow residual", 3.1, 1.0), "temporal")]),
            DetectorResult("flicker", "1", "ok", score=0.4, findings=[
                Finding("flicker", FrameSpan(0.2, 0.35), 0.4,
                        Measurement("luma jump", 1.9, 1.0), "flicker")])],
        claims=[Claim("Frames 0.6–0.9 s show temporal artifacts.", "temporal_artifacts", "video",
                      FrameSpan(0.6, 0.9, Box(20, 8, 20, 16)), status="grounded")])
    aud = Analysis(
        media={"kind": "audio"},
        verdict=Verdict("likely_authentic", 0.12, contributions={"splice": -0.8}),
        detectors=[DetectorResult("splice", "1", "ok", score=0.12, findings=[
            Finding("audio_splice", TimeSpan(0.69, 0.72), 0.3,
                    Measurement("phase jump", 1.2, 1.0), "splice"),
            Finding("vocoder_band_limit", TimeSpan(0.0, 1.5, 6000.0, 8000.0), 0.2,
                    Measurement("energy above cutoff", -60.0, -40.0, "dB"), "bandlimit")])],
        claims=[Claim("A discontinuity at 0.7 s.", "audio_splice", "audio",
                      TimeSpan(0.69, 0.72), status="grounded")])
    return img, vid, aud


@pytest.fixture
def analysed_case(tmp_path: Path, media_dir: Path) -> dict:
    """A case holding an image, a video and an audio item with stored analyses and maps."""
    from triage_app.case.store import Case

    img, vid, aud = _analyses()
    path = tmp_path / "Fixture.triage"
    case = Case.create(path, examiner="Ada Examiner", title="Fixture case")
    out = {"path": path}
    try:
        for name, kind, fmt, analysis in (("street.png", "image", "PNG", img),
                                          ("clip.mp4", "video", "MP4", vid),
                                          ("call.wav", "audio", "WAV", aud)):
            item = case.add_evidence(media_dir / name)
            case.record_probe(item.sha256, kind=kind, format=fmt, summary={"kind": kind},
                              error=None)
            maps = None
            if kind == "image":
                fused = np.zeros((96, 128), np.uint8)
                fused[20:50, 60:100] = 220
                ela = np.zeros((48, 64), np.uint8)  # half size: the viewer scales it
                ela[25:40, 5:20] = 160
                maps = {"fused": fused, "ela": ela}
            case.record_analysis(item.sha256, analysis, maps=maps)
            out[kind] = item.sha256
        bad = case.add_evidence(media_dir / "broken.jpg")
        case.record_probe(bad.sha256, kind=None, format=None, summary=None,
                          error="JPEG is truncated")
        case.record_analysis(bad.sha256, None, error="JPEG is truncated")
        out["broken"] = bad.sha256
    finally:
        case.close()
    return out
