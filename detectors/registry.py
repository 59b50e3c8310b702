"""One registry for every detector, built-in or third-party.

A detector is a plain function ``fn(media) -> DetectorResult`` declared with :func:`detector`.
Built-in modules live in the packages of :data:`BUILTIN_PACKAGES` and are imported on first use (so that the
CLI and the GUI start fast); third-party packages join through the entry-point group
``deepfake_triage.detectors``, whose entry points name a module that registers its detectors on
import, exactly like the built-ins.

Contract of a detector function (written here, where it is declared):

- receives one ``ImageMedia``, ``VideoMedia`` or ``AudioMedia`` of a modality it declared;
- returns one :class:`~triage_app.model.DetectorResult` whose ``name`` and ``version`` are the
  registered ones, ``status`` ``ok`` with a calibrated ``score`` in 0..1 (probability that the
  item is manipulated, as far as this detector can tell), or ``not_applicable`` with a reason;
- never reads anything but the media it is given, never writes, never touches the network;
- may raise :class:`NotApplicable` (the pipeline records ``not_applicable`` with the
  exception's message as the reason) or any other exception: the pipeline turns it into an
  ``error`` result for that detector and goes on with the others.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Iterable

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "deepfake_triage.detectors"


class NotApplicable(Exception):
    """Raised by a detector (or a helper it calls) that cannot judge this item; the message
    is the reason shown to the analyst. Not a failure: the pipeline records
    ``not_applicable``, not ``error``."""

#: Packages whose modules register the built-in detectors, imported lazily by
#: :func:`all_detectors`: every module in them whose name does not start with ``_``.
BUILTIN_PACKAGES: tuple[str, ...] = (
    "detectors.image", "detectors.provenance", "detectors.video", "detectors.audio",
    "detectors.learned",
)


@dataclass(frozen=True)
class DetectorSpec:
    """A registered detector and what a report needs to cite it."""

    name: str
    version: str
    modalities: tuple[str, ...]
    function: Callable[..., Any]
    method: str
    reference: str
    limits: str = ""
    artifacts: tuple[str, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    localizes: bool = False
    # How much a detector's heatmap counts in the fused localization map (0 = not at all).
    map_weight: float = 1.0
    weight_files: tuple[str, ...] = ()
    origin: str = "builtin"
    # How a recording analysed in segments combines this detector's segment scores
    # (``triage_app.segments``): "max" for a trace that is an event, one is enough (a silence,
    # a cut, a click); "mean" (of the log-odds) for a property of the whole voice or channel
    # (a synthetic voice, a vocoder's band), where the maximum over many segments would only
    # collect false alarms.
    segment_pooling: str = "max"

    def applies_to(self, modality: str) -> bool:
        return modality in self.modalities


#: The ways segment scores can combine (see ``DetectorSpec.segment_pooling``).
SEGMENT_POOLINGS = ("max", "mean")

_REGISTRY: dict[str, DetectorSpec] = {}
#: Modules or plug-ins that failed to import, with the error: `triage models` shows them.
LOAD_ERRORS: dict[str, str] = {}
_loaded = False


def detector(
    *,
    name: str,
    version: str,
    modalities: Iterable[str],
    method: str,
    reference: str,
    limits: str = "",
    artifacts: Iterable[str] = (),
    params: dict[str, Any] | None = None,
    localizes: bool = False,
    map_weight: float = 1.0,
    weight_files: Iterable[str] = (),
    segment_pooling: str = "max",
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator that registers ``fn`` as a detector under ``name``."""

    if segment_pooling not in SEGMENT_POOLINGS:
        raise ValueError(f"segment_pooling must be one of {SEGMENT_POOLINGS}, "
                         f"not {segment_pooling!r}")

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        register(DetectorSpec(
            name=name, version=version, modalities=tuple(modalities), function=fn,
            method=method, reference=reference, limits=limits, artifacts=tuple(artifacts),
            params=dict(params or {}), localizes=localizes, map_weight=map_weight,
            weight_files=tuple(_absolute(w) for w in weight_files),
            origin="builtin" if fn.__module__.startswith("detectors.") else fn.__module__,
            segment_pooling=segment_pooling,
        ))
        return fn

    return wrap


def _absolute(path: str) -> str:
    """Weight files named relative to the project (``resources/models/x.safetensors``) are
    resolved against the folder that holds the ``detectors`` and ``resources`` packages, so
    that their hashes can be read from any working directory (and inside a bundle)."""
    from pathlib import Path

    p = Path(path)
    return str(p if p.is_absolute() else Path(__file__).resolve().parents[1] / p)


def register(spec: DetectorSpec) -> None:
    """Add a detector; a second registration under the same name replaces the first."""
    if spec.name in _REGISTRY and _REGISTRY[spec.name].function is not spec.function:
        log.info("detector %s re-registered by %s", spec.name, spec.origin)
    _REGISTRY[spec.name] = spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    _loaded = True
    for package in BUILTIN_PACKAGES:
        pkg = importlib.import_module(package)
        for info in sorted(pkgutil.iter_modules(pkg.__path__), key=lambda i: i.name):
            if not info.name.startswith("_"):
                name = f"{package}.{info.name}"
                try:
                    importlib.import_module(name)
                except Exception as exc:  # one broken module must not hide the others
                    LOAD_ERRORS[name] = f"{type(exc).__name__}: {exc}"
                    log.error("detector module %s failed to load: %s", name, exc)
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            ep.load()
        except Exception as exc:  # a broken plug-in must not take the app down
            LOAD_ERRORS[ep.name] = f"{type(exc).__name__}: {exc}"
            log.error("detector plug-in %s failed to load: %s", ep.name, exc)


def all_detectors() -> list[DetectorSpec]:
    """Every registered detector, built-ins first loaded."""
    _load()
    return list(_REGISTRY.values())


def detectors_for(modality: str, *, enabled: Iterable[str] | None = None,
                  disabled: Iterable[str] = ()) -> list[DetectorSpec]:
    """Detectors that apply to ``modality``, minus ``disabled``, limited to ``enabled`` if given."""
    enabled_set = set(enabled) if enabled is not None else None
    disabled_set = set(disabled)
    return [s for s in all_detectors()
            if s.applies_to(modality) and s.name not in disabled_set
            and (enabled_set is None or s.name in enabled_set)]


def get(name: str) -> DetectorSpec:
    _load()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise KeyError(f"no detector named {name!r}; known: {sorted(_REGISTRY)}") from None
