"""Messages the alerts capability publishes: the console's alert queue follows them live (event `alert`).

Both carry the alert's centre, so the live feed delivers them only to people who see that centre, and both
carry `change`, so a console tells a new alert from a change to one it already shows without a second look.
"""

from typing import Literal

from sereno.config.alerts import Severity
from sereno.core.messages import Message

AlertChange = Literal["repeated", "escalated", "acknowledged", "dismissed", "promoted"]


class AlertRaised(Message):
    """A new alert: enough to draw its row in the queue (the snapshot is fetched by id when shown)."""

    name = "alerts.raised"
    version = 1

    alert_id: str
    centre: str
    camera_id: str | None
    rule: str
    severity: Severity
    title: str
    first_us: int
    has_snapshot: bool
    change: Literal["raised"] = "raised"


class AlertChanged(Message):
    name = "alerts.changed"
    version = 1

    alert_id: str
    centre: str
    change: AlertChange
    status: str
    severity: Severity
    occurrences: int
    last_us: int
    escalation_level: int
    handled_by: str | None
    incident_id: str | None
