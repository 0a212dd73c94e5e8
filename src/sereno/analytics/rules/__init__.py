"""Rule plugins: one module each in this folder, with NAME, a strict Config model (extending RuleConfig) and
create(config). A rule sees one camera's scenes in order and says when something deserves an alert.

Every rule has a severity, a cooldown (how long the same thing is one alert, not many) and an optional
schedule (the hours it applies, in the camera's centre's time zone: works on the tracks only at night).
"""

import importlib
import pkgutil
from dataclasses import dataclass, field
from datetime import datetime, time
from typing import Annotated, Any, Literal, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt
from pydantic import AfterValidator, Field, field_validator

from sereno.analytics.scene import Point, Scene
from sereno.config.base import StrictModel

Severity = Literal["info", "warning", "critical"]


class RuleConfig(StrictModel):
    name: str = Field(default="", max_length=80, title="Name shown on alerts (default: the rule's)")
    severity: Severity = Field(default="warning", title="Severity")
    cooldown_s: float = Field(
        default=60.0, ge=0, le=86_400, title="Cooldown (s)", description="Repeats inside it add to one alert"
    )
    schedule: list[str] = Field(
        default_factory=list,
        title="Active hours",
        description="Windows like '22:00-06:00' in the centre's time zone; empty means always",
    )

    @field_validator("schedule")
    @classmethod
    def _windows(cls, value: list[str]) -> list[str]:
        for window in value:
            _parse_window(window)
        return value

    def active(self, at_us: int, timezone: str) -> bool:
        if not self.schedule:
            return True
        local = datetime.fromtimestamp(at_us / 1e6, ZoneInfo(timezone)).time()
        for window in self.schedule:
            start, end = _parse_window(window)
            if (start <= local < end) if start < end else (local >= start or local < end):
                return True
        return False


@dataclass(slots=True)  # not frozen: built on every frame a rule speaks (see scene.py)
class RuleHit:
    rule: str  # the plugin's NAME
    title: str
    severity: Severity
    dedup_key: str  # same key within the cooldown: one alert
    cooldown_s: float
    details: dict[str, Any] = field(default_factory=dict)
    where: Point | None = None  # normalised point in the picture, for the alert's marker


class Rule(Protocol):
    name: str
    config: RuleConfig

    def evaluate(self, scene: Scene) -> list[RuleHit]: ...

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        """Called while no frames arrive (camera down); most rules have nothing to say."""
        ...


class RulePlugin(Protocol):
    NAME: str
    Config: type[RuleConfig]

    def create(self, config: RuleConfig) -> Rule: ...


def registry() -> dict[str, RulePlugin]:
    found: dict[str, RulePlugin] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        plugin: RulePlugin = module
        found[plugin.NAME] = plugin
    return found


def create(kind: str, settings: dict[str, Any]) -> Rule:
    plugins = registry()
    if kind not in plugins:
        raise ValueError(f"unknown rule '{kind}' (known: {', '.join(sorted(plugins))})")
    plugin = plugins[kind]
    return plugin.create(plugin.Config.model_validate(settings))


def _polygon(points: list[Point]) -> list[Point]:
    """A zone must be a real area of the picture: three corners or more, inside the frame, not a line."""
    if len(points) < 3:
        raise ValueError("a zone needs at least 3 points")
    if any(not (0 <= x <= 1 and 0 <= y <= 1) for x, y in points):
        raise ValueError("zone points are normalised picture coordinates (0..1)")
    pairs = zip(points, points[1:] + points[:1], strict=True)
    if abs(sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in pairs)) < 1e-9:
        raise ValueError("the zone has no area")
    return points


# A polygon in normalised picture coordinates, checked when the site file loads; every zone rule uses it.
Zone = Annotated[list[Point], AfterValidator(_polygon)]


class Region:
    """A zone prepared for the point-in-zone test (ray casting, in normalised picture coordinates).

    Zone rules ask it for every track of every frame, so each edge's slope is worked out once, here, rather
    than on every question."""

    __slots__ = ("_edges",)

    def __init__(self, polygon: list[Point]) -> None:
        # (x0, y0, y1, dx/dy) per edge; a horizontal edge never meets a horizontal ray, its slope is unused
        self._edges = tuple(
            (x0, y0, y1, (x1 - x0) / (y1 - y0) if y1 != y0 else 0.0)
            for (x0, y0), (x1, y1) in zip(polygon, polygon[1:] + polygon[:1], strict=True)
        )

    def contains(self, point: Point) -> bool:
        x, y = point
        hit = False
        for x0, y0, y1, slope in self._edges:
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * slope:
                hit = not hit
        return hit

    def pixels(self, height: int, width: int) -> npt.NDArray[np.bool_]:
        """The pixels of a height x width picture whose centres are inside: the same test over the whole grid
        at once, for rules that look at pixels (thermal)."""
        ys, xs = np.mgrid[0:height, 0:width]
        x, y = (xs + 0.5) / width, (ys + 0.5) / height
        mask = np.zeros((height, width), dtype=np.bool_)
        for x0, y0, y1, slope in self._edges:
            if y0 != y1:
                mask ^= ((y0 > y) != (y1 > y)) & (x < x0 + (y - y0) * slope)
        return mask


def _parse_window(window: str) -> tuple[time, time]:
    try:
        start, end = (time.fromisoformat(part.strip()) for part in window.split("-"))
    except ValueError:
        raise ValueError(f"'{window}' is not a window like '22:00-06:00'") from None
    if start == end:
        raise ValueError(f"'{window}' is empty")
    return start, end
