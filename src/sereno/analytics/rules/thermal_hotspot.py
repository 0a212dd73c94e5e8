"""Thermal hotspot: a region hotter than the zone usually is, and hot in absolute terms, with how fast it is
heating. A smouldering waste bunker, a cable tray or a vehicle fire in a tunnel shows up on a thermal camera
long before smoke; the trend says whether it is a warm engine cooling down or a fire taking hold.

Each frame gives one reading, the zone's hottest temperature: from detections labelled "hotspot" (a thermal
detector reports °C in `value`), or, when there are none, from the picture itself through a configured linear
mapping of luma to °C (a radiometric camera's palette span), ignoring single hot pixels. Both conditions must
hold to alert: over `threshold_c` (a sunny roof at 45 °C is not news however cool the night was) and over the
background by `delta_c` (a chimney always at 80 °C is not news either). The reading is the zone's hottest
point, so a known hot object also hides a cooler new fire beside it: draw the zone around it where possible.

The background is the median of the readings over minutes, so a passing hot exhaust does not shift it. Once
learned (`learn_s`), it learns only from readings below the absolute threshold: a fire warming slowly would
otherwise drag the background up with it and never stand `delta_c` above it, whereas a chimney already hot
while the rule learns stays normal. Its clock stands still while it is not learning, so a long hotspot never
ages the normal readings out. Frames where nothing hot is reported count as "nothing hot": where that is the
usual state, the absolute threshold alone decides. Until `learn_s` of readings exist the rule is quiet, and a
fire already burning while it learns is learned as normal: the price of not alerting on every chimney.

The trend is fitted (least squares) to the hotspot's readings since it appeared, over the last `trend_s`: a
hot engine arriving is a step and then cools, a fire taking hold keeps climbing; rising faster than
`rising_c_per_min` is its own severity (and its own alert).
"""

import math
from collections import deque
from statistics import median_low

import numpy as np
import numpy.typing as npt
from pydantic import Field, field_validator, model_validator

from sereno.analytics.rules import Region, RuleConfig, RuleHit, Severity, Zone
from sereno.analytics.scene import Point, Scene

NAME = "thermal-hotspot"
Reading = tuple[float, Point, str]  # °C, where, from what ("detector" or "luma")
_EPISODE_GAP_US = 10_000_000  # a hotspot not seen for this long is over (a frame or two missed is not)


class Config(RuleConfig):
    zone: Zone | None = Field(default=None, min_length=3, title="Zone (normalised polygon; empty: whole picture)")
    threshold_c: float = Field(default=60.0, ge=-50, le=2000, title="Absolute temperature that counts (°C)")
    delta_c: float = Field(default=20.0, gt=0, le=2000, title="Degrees over the background that count (°C)")
    background_s: float = Field(default=300.0, ge=10, le=3600, title="Seconds the background is the median of")
    learn_s: float = Field(default=60.0, ge=0, le=3600, title="Seconds of readings before the background counts")
    trend_s: float = Field(default=180.0, ge=10, le=86_400, title="Seconds the trend is fitted over")
    rising_c_per_min: float = Field(default=5.0, gt=0, le=1000, title="Rise that counts as fast (°C per minute)")
    rising_severity: Severity = Field(default="critical", title="Severity when rising fast")
    luma_c: tuple[float, float] | None = Field(
        default=None,
        title="°C at luma 0 and at luma 255",
        description="Linear mapping for a radiometric picture; empty: only a thermal detector's hotspots count",
    )
    min_pixels: int = Field(default=4, ge=1, le=100_000, title="Hot pixels needed (noise and dead pixels ignored)")

    @field_validator("luma_c")
    @classmethod
    def _span(cls, value: tuple[float, float] | None) -> tuple[float, float] | None:
        if value is not None and (value[0] == value[1] or not all(-100 <= c <= 3000 for c in value)):
            raise ValueError("luma_c needs two different temperatures between -100 and 3000 °C")
        return value

    @model_validator(mode="after")
    def _learn_within_background(self) -> "Config":
        if self.learn_s > self.background_s:
            raise ValueError("learn_s cannot be longer than background_s")
        return self


class ThermalHotspot:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._zone = Region(config.zone) if config.zone else None
        # The background runs on its own clock, which stands still while it is not learning: "the last
        # background_s" then means the last background_s of normal readings, however long a hotspot lasts.
        self._background: deque[tuple[int, float]] = deque()  # (clock, reading; -inf: nothing hot reported)
        self._clock_us = 0
        self._last_us: int | None = None
        # The trend is the hotspot's own, since it appeared: a hot object arriving is a step, not a rise.
        self._trend: deque[tuple[int, float]] = deque()  # (time, °C) of this hotspot, the last trend_s
        self._masks: dict[tuple[int, int], npt.NDArray[np.bool_]] = {}

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        now, cfg = scene.captured_us, self.config
        window_us = int(cfg.background_s * 1e6)
        if self._last_us is None or now - self._last_us > window_us:
            self._background.clear()  # first frame, or a long gap (camera down, schedule off): learn again
            self._clock_us, self._last_us = 0, now
        step, self._last_us = now - self._last_us, now
        reading = self._reading(scene)
        temperature = reading[0] if reading is not None else -math.inf
        background = self._background_c()
        if background is None or temperature < cfg.threshold_c:
            self._learn(step, temperature, window_us)
        if reading is None or background is None or temperature < max(cfg.threshold_c, background + cfg.delta_c):
            return []
        if self._trend and self._trend[-1][0] < now - _EPISODE_GAP_US:
            self._trend.clear()  # that hotspot ended a while ago: this is a new one, with its own trend
        self._trend.append((now, temperature))
        while self._trend[0][0] < now - int(cfg.trend_s * 1e6):
            self._trend.popleft()
        slope = _slope(self._trend, cfg.trend_s)
        rising = slope is not None and slope >= cfg.rising_c_per_min
        over = temperature - background if background > -math.inf else None
        title = f"{cfg.name or 'Thermal hotspot'}: {temperature:.0f} °C"
        title += f" ({over:.0f} °C over background)" if over is not None else " (nothing hot usually)"
        title += f", rising {slope:.1f} °C/min" if rising else ""
        return [
            RuleHit(
                NAME,
                title,
                cfg.rising_severity if rising else cfg.severity,
                f"{scene.camera_id}:{NAME}:{cfg.name}" + (":rising" if rising else ""),
                cfg.cooldown_s,
                {
                    "peak_c": round(temperature, 1),
                    "background_c": round(background, 1) if over is not None else None,
                    "over_background_c": round(over, 1) if over is not None else None,
                    "trend_c_per_min": round(slope, 2) if slope is not None else None,
                    "rising": rising,
                    "source": reading[2],
                },
                reading[1],
            )
        ]

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []

    def _learn(self, step_us: int, temperature: float, window_us: int) -> None:
        """One more normal reading (at most one a second: the median stays cheap over an hour's window)."""
        self._clock_us += step_us
        if self._background and self._clock_us - self._background[-1][0] < 1_000_000:
            return
        self._background.append((self._clock_us, temperature))
        while self._background[0][0] < self._clock_us - window_us:
            self._background.popleft()

    def _background_c(self) -> float | None:
        """The median reading over the background window, once learn_s of it exists (-inf: nothing hot)."""
        if not self._background or self._clock_us < self.config.learn_s * 1e6:
            return None
        return median_low(value for _, value in self._background)

    def _reading(self, scene: Scene) -> Reading | None:
        zone = self._zone
        spots = [
            d
            for d in scene.detections
            if d.label == "hotspot" and d.value is not None and (zone is None or zone.contains(d.box.centre))
        ]
        if spots:
            hottest = max(spots, key=lambda d: d.value or 0.0)
            return float(hottest.value or 0.0), hottest.box.centre, "detector"
        if self.config.luma_c is None or scene.luma is None:
            return None
        return self._from_luma(scene.luma, *self.config.luma_c)

    def _from_luma(self, luma: npt.NDArray[np.uint8], c0: float, c255: float) -> Reading | None:
        """The zone's temperature that at least min_pixels reach, and where those pixels are."""
        mask = self._mask(luma.shape[0], luma.shape[1])
        rows, cols = np.nonzero(mask)
        if rows.size == 0:
            return None
        temps = c0 + (c255 - c0) * luma[rows, cols].astype(np.float64) / 255.0
        k = min(self.config.min_pixels, temps.size)
        level = float(np.partition(temps, -k)[-k])
        hot = temps >= level
        where = (float(cols[hot].mean() + 0.5) / luma.shape[1], float(rows[hot].mean() + 0.5) / luma.shape[0])
        return level, where, "luma"

    def _mask(self, height: int, width: int) -> npt.NDArray[np.bool_]:
        """Pixels whose centres are in the zone (ray casting over the whole grid), once per picture size."""
        if (height, width) not in self._masks:
            everywhere = np.ones((height, width), np.bool_)
            self._masks[(height, width)] = self._zone.pixels(height, width) if self._zone else everywhere
        return self._masks[(height, width)]


def _slope(points: deque[tuple[int, float]], window_s: float) -> float | None:
    """Least-squares °C per minute, once three readings span a quarter of the window (else too few to say)."""
    if len(points) < 3 or (points[-1][0] - points[0][0]) < window_s * 1e6 / 4:
        return None
    t = np.array([p[0] for p in points], dtype=np.float64) / 60e6
    v = np.array([p[1] for p in points], dtype=np.float64)
    t -= t.mean()
    return float((t * (v - v.mean())).sum() / (t * t).sum())


def create(config: Config) -> ThermalHotspot:
    return ThermalHotspot(config)
