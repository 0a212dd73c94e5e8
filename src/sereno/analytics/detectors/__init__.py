"""Detector plugins: one module each in this folder, with NAME, a strict Config model, and create(config).

A detector gets the frame's luma (and the moving regions, so it can look only there) and returns detections.
Detectors never identify anyone: they say "a person", "a vehicle", "something hot", never who or which.

A detector whose cost is mostly per call (a neural network: one inference of N frames costs far less than N
inferences) also offers `detect_batch`; the worker's detector pool (`analytics/pool.py`) then hands it the
frames of several cameras at once. The others are called once per frame, in a loop.
"""

import importlib
import pkgutil
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from sereno.analytics.scene import Detection, Luma, Motion


class Detector(Protocol):
    name: str

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]: ...


@dataclass(frozen=True)
class DetectorInput:
    """One camera's frame in a batch: its luma and where it moves."""

    luma: Luma
    motion: Motion


@runtime_checkable
class BatchDetector(Detector, Protocol):
    def detect_batch(self, frames: Sequence[DetectorInput]) -> list[list[Detection]]:
        """The detections of each frame, in the order given (the same as `detect` on each would return)."""
        ...


class DetectorPlugin(Protocol):
    NAME: str
    Config: type[BaseModel]

    def create(self, config: BaseModel) -> Detector: ...


def registry() -> dict[str, DetectorPlugin]:
    found: dict[str, DetectorPlugin] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        plugin: DetectorPlugin = module
        found[plugin.NAME] = plugin
    return found


def create(name: str, settings: dict[str, object] | None = None) -> Detector:
    plugins = registry()
    if name not in plugins:
        raise ValueError(f"unknown detector '{name}' (known: {', '.join(sorted(plugins))})")
    plugin = plugins[name]
    return plugin.create(plugin.Config.model_validate(settings or {}))
