"""Start the desktop application: ``triage gui [CASE]`` calls :func:`main`."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from triage_app.gui.main_window import APPLICATION, ORGANIZATION, MainWindow

I18N_DIR = Path(__file__).resolve().parents[2] / "resources" / "i18n"


def _install_translators(app: QApplication) -> None:
    """Qt's own strings and ours (resources/i18n/triage_<locale>.qm) for the user's locale."""
    locale = QLocale.system()
    qt = QTranslator(app)
    if qt.load(locale, "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt)
    ours = QTranslator(app)
    if I18N_DIR.is_dir() and ours.load(locale, "triage", "_", str(I18N_DIR)):
        app.installTranslator(ours)


def create_app(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance()
    if app is None:
        app = QApplication(argv if argv is not None else sys.argv[:1])
    app.setOrganizationName(ORGANIZATION)
    app.setApplicationName(APPLICATION)
    _install_translators(app)
    if not hasattr(app, "_triage_gc"):
        from triage_app.gui.workers import GarbageCollector

        app._triage_gc = GarbageCollector(app)  # type: ignore[attr-defined]
    return app  # type: ignore[return-value]


def main(case_path: str | None = None) -> int:
    """Open the main window (and ``case_path`` when given); return the exit status."""
    app = create_app()
    window = MainWindow()
    window.show()
    if case_path:
        window.open_case(case_path)
    shot = os.environ.get("TRIAGE_SCREENSHOT")
    if shot:
        # For smoke tests of a build: save what the window shows after it settles, then quit.
        from PySide6.QtCore import QTimer

        def grab_and_quit() -> None:
            window.grab().save(shot)
            app.quit()

        QTimer.singleShot(int(os.environ.get("TRIAGE_SCREENSHOT_DELAY_MS", "4000")), grab_and_quit)
    return int(app.exec())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
