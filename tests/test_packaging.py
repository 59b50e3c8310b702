"""packaging/triage.spec names the right entry point, modules and data (no build is run).

The spec is executed with PyInstaller's spec-file API (``Analysis``, ``PYZ``, ``EXE``,
``COLLECT``) and its hook helpers replaced by recorders, so the test needs neither PyInstaller
nor minutes of analysis; what it checks is what the spec hands to PyInstaller.
"""

from __future__ import annotations

import ast
import configparser
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "packaging" / "triage.spec"


class _Recorder:
    """Stands in for one PyInstaller class; keeps its arguments."""

    calls: dict[str, "_Recorder"] = {}

    def __init__(self, kind: str, *args, **kwargs) -> None:
        self.kind, self.args, self.kwargs = kind, args, kwargs
        _Recorder.calls[kind] = self


def _analysis(scripts, **kw):
    a = _Recorder("Analysis", scripts, **kw)
    # what PyInstaller's import analysis would put in the archive: at least the hidden imports
    a.pure = [(m, f"/fake/{m.replace('.', '/')}.py", "PYMODULE") for m in kw["hiddenimports"]]
    a.pure.append(("numpy.tests", "/fake/numpy/tests/__init__.py", "PYMODULE"))
    a.pure.append(("numpy.tests.test_x", "/fake/numpy/tests/test_x.py", "PYMODULE"))
    a.pure.append(("jinja2.tests", "/fake/jinja2/tests.py", "PYMODULE"))  # a real module
    a.scripts = [("triage_entry", scripts[0], "PYSOURCE")]
    a.binaries = list(kw["binaries"])
    a.datas = list(kw["datas"])
    return a


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    """Run the spec with recorders; return (namespace, recorded calls, workpath)."""
    work = tmp_path_factory.mktemp("pyi_work")
    hooks = types.ModuleType("PyInstaller.utils.hooks")
    hooks.collect_submodules = lambda name, filter=None: [f"{name}.stub_submodule"]
    hooks.collect_data_files = lambda name, **kw: []
    hooks.copy_metadata = lambda name, **kw: []
    fakes = {"PyInstaller": types.ModuleType("PyInstaller"),
             "PyInstaller.utils": types.ModuleType("PyInstaller.utils"),
             "PyInstaller.utils.hooks": hooks}
    saved = {k: sys.modules.get(k) for k in fakes}
    sys.modules.update(fakes)
    _Recorder.calls = {}
    ns = {
        "__name__": "__main__", "__file__": str(SPEC),
        "SPECPATH": str(SPEC.parent), "SPEC": str(SPEC), "specnm": "triage",
        "workpath": str(work), "DISTPATH": str(work / "dist"),
        "Analysis": _analysis,
        "PYZ": lambda *a, **k: _Recorder("PYZ", *a, **k),
        "EXE": lambda *a, **k: _Recorder("EXE", *a, **k),
        "COLLECT": lambda *a, **k: _Recorder("COLLECT", *a, **k),
    }
    try:
        exec(compile(SPEC.read_text(encoding="utf-8"), str(SPEC), "exec"), ns)
    finally:
        for k, v in saved.items():
            if v is None:
                sys.modules.pop(k, None)
            else:
                sys.modules[k] = v
    return ns, dict(_Recorder.calls), work


def _modules_under(package: str) -> set[str]:
    base = ROOT / package
    out = set()
    for p in base.rglob("*.py"):
        if "__pycache__" in p.parts:
            continue
        parts = list(p.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out.add(".".join(parts))
    return out


def test_spec_is_valid_python():
    ast.parse(SPEC.read_text(encoding="utf-8"), filename=str(SPEC))


def test_entry_point_is_the_cli_with_freeze_support(spec):
    ns, calls, work = spec
    scripts = calls["Analysis"].args[0]
    assert len(scripts) == 1
    entry = Path(scripts[0])
    assert entry.parent == work, "the entry script is generated in the work folder, not the tree"
    code = entry.read_text(encoding="utf-8")
    tree = ast.parse(code)
    assert "multiprocessing.freeze_support()" in code
    assert code.index("freeze_support()") < code.index("from triage_app.cli import main")
    assert "sys.exit(main())" in code
    # one executable named triage (GUI when run without arguments: cli.main does that)
    assert calls["EXE"].kwargs["name"] == "triage"
    assert calls["EXE"].kwargs["console"] is True
    assert calls["EXE"].kwargs["exclude_binaries"] is True  # one-folder bundle
    assert calls["COLLECT"].kwargs["name"] == "triage"
    assert isinstance(tree, ast.Module)


def test_every_detector_and_app_module_is_a_hidden_import(spec):
    _, calls, _ = spec
    hidden = set(calls["Analysis"].kwargs["hiddenimports"])
    wanted = _modules_under("detectors") | _modules_under("explainers") | \
        _modules_under("triage_app")
    assert wanted, "no modules found under detectors/"
    assert not (wanted - hidden), f"not bundled: {sorted(wanted - hidden)}"
    for m in ("triage_app.gui.app", "triage_app.cli", "detectors.registry", "resources",
              "torch", "pyworld.pyworld", "PySide6.QtMultimedia"):
        assert m in hidden


def test_detector_module_listing_written_and_bundled(spec):
    _, calls, work = spec
    listing = work / "triage_frozen_modules.txt"
    names = listing.read_text(encoding="utf-8").split()
    dets = {m for m in _modules_under("detectors")
            if m.count(".") >= 2}  # modules inside detectors.<modality>
    assert dets <= set(names)
    datas = calls["Analysis"].datas
    assert ("triage_frozen_modules.txt", str(listing), "DATA") in datas


def test_test_packages_are_dropped_from_the_archive(spec):
    _, calls, _ = spec
    pure = {e[0] for e in calls["PYZ"].args[0]}
    assert "numpy.tests.test_x" not in pure
    assert "numpy.tests" not in pure
    assert "jinja2.tests" in pure  # a module named tests, needed by transformers via jinja2
    assert "detectors.registry" in pure


def test_resources_and_native_data_are_collected(spec):
    _, calls, _ = spec
    datas = calls["Analysis"].kwargs["datas"]
    binaries = calls["Analysis"].kwargs["binaries"]
    dest = {(Path(src).name, d.replace("\\", "/")) for src, d in datas}
    # every file of resources/ (taxonomy JSON, weights, model cards) keeps its place
    for f in (ROOT / "resources").rglob("*"):
        if f.is_file() and "__pycache__" not in f.parts and f.suffix not in (".py", ".pyc"):
            rel = f.parent.relative_to(ROOT).as_posix()
            assert (f.name, rel) in dest, f"{f} not bundled at {rel}"
    assert ("taxonomy.json", "resources") in dest
    # OpenCV's Haar cascades, where cv2.data.haarcascades points in the bundle
    assert ("haarcascade_frontalface_default.xml", "cv2/data") in dest
    assert ("haarcascade_eye.xml", "cv2/data") in dest
    # reportlab's fonts (the report uses Vera)
    assert ("Vera.ttf", "reportlab/fonts") in dest
    # c2pa's native library next to the c2pa package, where c2pa looks for it
    c2pa = {(Path(s).name, d.replace("\\", "/")) for s, d in binaries}
    if sys.platform.startswith("linux"):
        assert ("libc2pa_c.so", "c2pa/libs") in c2pa


def test_unused_heavy_modules_are_excluded(spec):
    _, calls, _ = spec
    excludes = set(calls["Analysis"].kwargs["excludes"])
    for m in ("PySide6.QtWebEngineCore", "PySide6.QtWebEngineWidgets", "PySide6.Qt3DCore",
              "PySide6.QtQuick3D", "tkinter", "matplotlib", "IPython", "pytest", "_pytest",
              "pytestqt"):
        assert m in excludes
    # ... but nothing the app imports
    for m in ("torch", "PySide6.QtWidgets", "PySide6.QtMultimedia", "cv2", "av", "c2pa",
              "reportlab", "scipy", "numpy"):
        assert m not in excludes


def test_desktop_entry_launches_the_gui():
    cp = configparser.ConfigParser(interpolation=None)
    cp.optionxform = str
    cp.read(ROOT / "packaging" / "deepfake-triage.desktop", encoding="utf-8")
    e = cp["Desktop Entry"]
    assert e["Type"] == "Application"
    assert e["Exec"].split()[:2] == ["triage", "gui"]
    assert e["Icon"] == "deepfake-triage"
    assert e["Terminal"] == "false"


def test_icon_png_matches_the_drawing_script(tmp_path):
    from PIL import Image

    sys.path.insert(0, str(ROOT / "packaging"))
    try:
        import make_icon
    finally:
        sys.path.remove(str(ROOT / "packaging"))
    png = ROOT / "packaging" / "icon.png"
    with Image.open(png) as im:
        assert im.size == (256, 256)
        assert im.mode == "RGBA"
        shipped = im.copy()
    drawn = make_icon.draw_icon(256)
    # same picture (exact pixels can differ across Pillow versions' resampling)
    import numpy as np

    diff = np.abs(np.asarray(shipped, np.int16) - np.asarray(drawn, np.int16))
    assert diff.mean() < 2.0
    assert "<svg" in (ROOT / "packaging" / "icon.svg").read_text(encoding="utf-8")


def test_smoke_test_samples_exist_in_the_demo(tmp_path):
    """The bundle's smoke test picks demo files by name; a renamed demo file broke it once
    (StopIteration before any check ran), which only `make package-smoke` would have shown."""
    import importlib.util

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("smoke_test", root / "packaging" / "smoke_test.py")
    smoke = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(smoke)
    files = smoke.make_samples(tmp_path / "media")
    assert len(files) == 3 and all(p.is_file() for p in files)
    assert {p.suffix for p in files} == {".jpg", ".mp4", ".wav"}
