"""Camera tamper: the lens covered (dark or flat), defocused or sprayed (the picture loses its edges), or the
camera moved (the whole picture shifted against its settled view). Each must hold for a few seconds, so a bus
passing in front of the lens is not tamper; the baseline is learned from the camera's own first minute."""

from typing import Literal

from pydantic import Field

from sereno.analytics.rules import RuleConfig, RuleHit, Severity
from sereno.analytics.scene import Scene

NAME = "tamper"
Kind = Literal["covered", "defocused", "moved"]


class Config(RuleConfig):
    severity: Severity = Field(default="critical", title="Severity")
    hold_s: float = Field(default=4.0, ge=0, le=600, title="Seconds a symptom must last")
    dark_luma: float = Field(default=14.0, ge=0, le=255, title="Mean brightness below which the lens is covered")
    sharpness_drop: float = Field(default=0.25, gt=0, lt=1, title="Share of normal sharpness that means defocused")
    moved_px: float = Field(default=6.0, gt=0, le=100, title="Whole-picture shift that means moved (analysis px)")
    learn_frames: int = Field(default=25, ge=5, le=10_000, title="Frames to learn the normal sharpness")


class Tamper:
    name = NAME

    def __init__(self, config: Config) -> None:
        self.config = config
        self._baseline: list[float] = []
        self._normal: float | None = None  # the camera's normal sharpness, once learned
        self._since: dict[Kind, int] = {}

    def evaluate(self, scene: Scene) -> list[RuleHit]:
        motion, cfg = scene.motion, self.config
        if self._normal is None:
            self._baseline.append(motion.sharpness)
            if len(self._baseline) < cfg.learn_frames:
                return []
            self._normal = sorted(self._baseline)[len(self._baseline) // 2]  # learned once: the median
        normal = self._normal
        covered = motion.mean_luma < cfg.dark_luma or (motion.sharpness < normal * 0.05 and motion.fraction > 0.5)
        # A covered lens shows no picture to judge focus or position by: it has no edges, and the phase
        # correlation of a blank frame reports any shift. One alert, for what happened, not three.
        symptoms: dict[Kind, bool] = {
            "covered": covered,
            "defocused": not covered and motion.sharpness < normal * cfg.sharpness_drop,
            "moved": not covered and motion.shift > cfg.moved_px,
        }
        hits = []
        for kind, present in symptoms.items():
            if not present:
                self._since.pop(kind, None)
                continue
            since = self._since.setdefault(kind, scene.captured_us)
            if scene.captured_us - since >= cfg.hold_s * 1e6:
                hits.append(
                    RuleHit(
                        NAME,
                        f"{cfg.name or 'Camera tamper'}: {kind}",
                        cfg.severity,
                        f"{scene.camera_id}:{NAME}:{kind}",
                        cfg.cooldown_s,
                        {
                            "kind": kind,
                            "mean_luma": round(motion.mean_luma, 1),
                            "sharpness": round(motion.sharpness, 1),
                            "normal_sharpness": round(normal, 1),
                            "shift_px": round(motion.shift, 1),
                        },
                    )
                )
        return hits

    def silence(self, camera_id: str, now_us: int, last_frame_us: int | None) -> list[RuleHit]:
        return []


def create(config: Config) -> Tamper:
    return Tamper(config)
