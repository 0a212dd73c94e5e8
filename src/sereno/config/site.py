"""The site file: one TOML document describing a city's centres, cameras, units and policies.

Errors name the file, the key path and what is wrong, because the person reading them is editing a text
file, not reading a traceback.
"""

import tomllib
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from pydantic import Field, ValidationError, model_validator

from sereno.config.analytics import CameraAnalyticsConfig
from sereno.config.base import StrictModel
from sereno.config.cameras import CameraConfig
from sereno.config.centres import CentreConfig
from sereno.config.dispatch import DispatchConfig
from sereno.config.policies import PoliciesConfig
from sereno.config.units import UnitConfig


class SiteConfig(StrictModel):
    name: str = Field(title="Site name", min_length=1)
    centres: list[CentreConfig] = Field(title="Centres", min_length=1)
    cameras: list[CameraConfig] = Field(default_factory=list, title="Cameras")
    units: list[UnitConfig] = Field(default_factory=list, title="Units")
    policies: PoliciesConfig = Field(default_factory=PoliciesConfig, title="Policies")
    dispatch: DispatchConfig = Field(default_factory=DispatchConfig, title="Dispatch")
    analytics: list[CameraAnalyticsConfig] = Field(default_factory=list, title="Video analytics, per camera")

    @model_validator(mode="after")
    def _references_resolve(self) -> "SiteConfig":
        _unique("centres", "code", (c.code for c in self.centres))
        _unique("cameras", "id", (c.id for c in self.cameras))
        _unique("units", "callsign", (u.callsign for u in self.units))
        _unique("analytics", "camera", (a.camera for a in self.analytics))
        cameras = {c.id for c in self.cameras}
        for entry in self.analytics:
            if entry.camera not in cameras:
                raise ValueError(f"analytics: camera '{entry.camera}' is not defined in [[cameras]]")
        codes = {c.code for c in self.centres}
        for section, items in (("cameras", self.cameras), ("units", self.units)):
            for item in items:
                if item.centre not in codes:
                    raise ValueError(f"{section}: centre '{item.centre}' is not defined in [[centres]]")
        return self


def _unique(section: str, key: str, values: Iterable[str]) -> None:
    dupes = sorted(v for v, n in Counter(values).items() if n > 1)
    if dupes:
        raise ValueError(f"{section}: duplicate {key} {', '.join(repr(d) for d in dupes)}")


class SiteConfigError(Exception):
    """A site file that cannot be used; `problems` are one line each, ready to print."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def load_site(path: Path) -> SiteConfig:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SiteConfigError(path, ["file not found"]) from None
    except UnicodeDecodeError as exc:
        raise SiteConfigError(path, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SiteConfigError(path, [f"not valid TOML: {exc}"]) from None
    try:
        return SiteConfig.model_validate(raw, context={"site_dir": path.resolve().parent})
    except ValidationError as exc:
        raise SiteConfigError(path, [_describe(err, raw) for err in exc.errors()]) from None


def _describe(err: object, raw: object) -> str:
    assert isinstance(err, dict)
    loc = tuple(err.get("loc", ()))
    where = _key_path(loc, raw) or "(top level)"
    msg = str(err.get("msg", "invalid"))
    if err.get("type") == "extra_forbidden":
        msg = "unknown key (not part of the site schema; check the spelling)"
    elif err.get("type") == "missing":
        msg = "required key is missing"
    return f"{where}: {msg}"


def _key_path(loc: tuple[object, ...], raw: object) -> str:
    """Turn pydantic's location into what the user sees in the file, e.g. cameras[2] (id 'cam-3').purpose."""
    parts: list[str] = []
    node = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                entry = node[item]
                ident = entry.get("id") or entry.get("code") or entry.get("callsign")
                if isinstance(ident, str):
                    label += f" ({ident!r})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)
