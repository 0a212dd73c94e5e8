"""Detector plugins: one module each in this folder, with NAME, a strict Config model, and create(config).

A detector gets the frame's luma (and the moving regions, so it can look only there) and returns detections.
Detectors never identify anyone: they say "a person", "a vehicle", "something hot", never who or which.
"""

import importlib
import pkgutil
from typing import Protocol

from pydantic import BaseModel

from sereno.analytics.scene import Detection, Luma, Motion


class Detector(Protocol):
    name: str

    def detect(self, luma: Luma, motion: Motion) -> list[Detection]: ...


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
