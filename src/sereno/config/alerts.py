"""Settings section `alerts`: how repeats are folded into one alert, when an unanswered one escalates, and
what picture and clip an alert carries.

Process settings rather than site settings: they tune how this deployment's operators are interrupted, not
what the city is. A rule's own cooldown (from the analytics configuration) wins over the defaults here.
"""

from typing import Literal

from pydantic import Field

from sereno.config.base import StrictModel

Severity = Literal["info", "warning", "critical"]
SEVERITIES: tuple[Severity, ...] = ("info", "warning", "critical")


class EscalationDelays(StrictModel):
    """Seconds an alert may stay unacknowledged, per severity, before it escalates (and again after as long)."""

    info: float = Field(default=1800.0, gt=0, le=86_400, title="Info escalates after (s)")
    warning: float = Field(default=300.0, gt=0, le=86_400, title="Warning escalates after (s)")
    critical: float = Field(default=60.0, gt=0, le=86_400, title="Critical escalates after (s)")

    def of(self, severity: Severity) -> float:
        delays: dict[Severity, float] = {"info": self.info, "warning": self.warning, "critical": self.critical}
        return delays[severity]


class AlertSettings(StrictModel):
    default_cooldown_s: float = Field(
        default=60.0,
        ge=0,
        le=86_400,
        title="Default cooldown (s)",
        description="A repeat of the same alert (same dedup key) within this of its last occurrence adds to it",
    )
    cooldown_s: dict[str, float] = Field(
        default_factory=lambda: {"camera-offline": 3600.0},
        title="Cooldown per rule (s)",
        description="Overrides the default for a rule by name; a rule's own cooldown wins over both",
    )
    escalate_after_s: EscalationDelays = Field(default_factory=EscalationDelays, title="Escalation delays")
    max_escalation_level: int = Field(
        default=3, ge=1, le=20, title="Highest escalation level", description="Escalation stops there"
    )
    escalation_check_s: float = Field(
        default=5.0, gt=0, le=300, title="Escalation check interval (s)", description="The API process's loop"
    )
    snapshot: bool = Field(
        default=True,
        title="Snapshot on alert",
        description="Keep a copy of the camera's latest anonymised frame with each new alert (never an original)",
    )
    snapshot_max_age_s: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        title="Oldest frame used as a snapshot (s)",
        description="An older frame shows a moment that is not the alert's: none is kept instead",
    )
    snapshot_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        title="Keep snapshots of handled alerts (days)",
        description="Pictures of dismissed alerts go after this; open, acknowledged and promoted ones keep theirs",
    )
    clip_before_s: float = Field(default=10.0, ge=0, le=600, title="Clip starts before the alert (s)")
    clip_after_s: float = Field(default=20.0, ge=0, le=600, title="Clip ends after the alert (s)")
