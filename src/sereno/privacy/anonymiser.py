"""Anonymisers are plugins: one file each in `privacy/anonymisers/`, with its config model next to it.

An anonymiser takes an RGB frame (numpy, H x W x 3, uint8) and returns the frame people may see. The
pipeline applies the camera's static masks after it, always. A camera whose anonymiser is unset, unknown or
failing shows nothing: there is no path from a camera to a person that skips this step.
"""

import importlib
import pkgutil
from typing import Protocol

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel

from sereno.privacy import anonymisers

Image = npt.NDArray[np.uint8]


class AnonymiserUnavailable(Exception):
    """The camera has no usable anonymiser: fail closed."""


class Anonymiser(Protocol):
    name: str

    def apply(self, image: Image) -> Image: ...


class AnonymiserPlugin(Protocol):
    NAME: str
    Config: type[BaseModel]

    def create(self, config: BaseModel) -> Anonymiser: ...


def registry() -> dict[str, AnonymiserPlugin]:
    found: dict[str, AnonymiserPlugin] = {}
    for info in pkgutil.iter_modules(anonymisers.__path__):
        module = importlib.import_module(f"{anonymisers.__name__}.{info.name}")
        plugin: AnonymiserPlugin = module
        found[plugin.NAME] = plugin
    return found


def create(name: str | None) -> Anonymiser:
    if not name:
        raise AnonymiserUnavailable("this camera has no anonymiser, so it shows nothing")
    plugins = registry()
    if name not in plugins:
        raise AnonymiserUnavailable(f"unknown anonymiser '{name}' (known: {', '.join(sorted(plugins))})")
    plugin = plugins[name]
    return plugin.create(plugin.Config())
