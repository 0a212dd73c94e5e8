"""The shapes the alerts service takes and gives, and the checks on what it is given.

Kept apart from the service so the service reads as what it does; nothing here touches the database (a row
already loaded is turned into a view).
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote

from sereno.alerts.models import Alert
from sereno.config.alerts import SEVERITIES, Severity
from sereno.core.errors import Invalid

ACTIVE = ("open", "acknowledged")
STATUSES = (*ACTIVE, "dismissed", "promoted")
StatusFilter = Literal["open", "acknowledged", "dismissed", "promoted", "active"]
RULE_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_DETAILS_BYTES = 8192


@dataclass(frozen=True)
class AlertInput:
    """What a rule (or the system) says. `dedup_key` defaults to the rule and the camera (or centre);
    `cooldown_s` is the rule's own, if it has one; `observed_us` is when it was seen (default: now)."""

    rule: str
    severity: Severity
    title: str
    camera_id: str | None = None
    centre: str | None = None
    details: Mapping[str, Any] = field(default_factory=dict)
    dedup_key: str | None = None
    cooldown_s: float | None = None
    observed_us: int | None = None


@dataclass(frozen=True)
class AlertView:
    id: str
    centre: str
    camera_id: str | None
    rule: str
    severity: str
    title: str
    details: dict[str, Any]
    dedup_key: str
    first_us: int
    last_us: int
    occurrences: int
    status: str
    escalation_level: int
    escalated_us: int | None
    handled_by: str | None
    handled_us: int | None
    dismiss_reason: str | None
    incident_id: str | None
    snapshot_url: str | None
    clip_start_us: int | None
    clip_end_us: int | None
    clip_url: str | None  # the anonymised playback of the window, through the audited privacy route


def check(alert: AlertInput) -> None:
    if not RULE_NAME.match(alert.rule):
        raise Invalid("a rule name is 1-40 lower-case letters, digits and '-'")
    if alert.severity not in SEVERITIES:
        raise Invalid(f"severity must be one of {', '.join(SEVERITIES)}")
    if not alert.title.strip() or len(alert.title.strip()) > 200:
        raise Invalid("an alert needs a title of at most 200 characters")
    if alert.dedup_key is not None and not 1 <= len(alert.dedup_key) <= 200:
        raise Invalid("a dedup key is 1-200 characters")
    if alert.cooldown_s is not None and not 0 <= alert.cooldown_s <= 86_400:
        raise Invalid("a cooldown goes from 0 to 86400 s")
    if alert.observed_us is not None and alert.observed_us <= 0:
        raise Invalid("observed_us is microseconds since the epoch")
    try:
        size = len(json.dumps(dict(alert.details)))
    except (TypeError, ValueError):
        raise Invalid("alert details must be plain JSON values") from None
    if size > MAX_DETAILS_BYTES:
        raise Invalid(f"alert details are limited to {MAX_DETAILS_BYTES} bytes of JSON")


def severity_of(value: str) -> Severity:
    for severity in SEVERITIES:
        if severity == value:
            return severity
    raise ValueError(f"unknown severity {value!r} in the alerts table")


def view_of(r: Alert) -> AlertView:
    snapshot_url = f"/api/alerts/{r.id}/snapshot.jpg" if r.snapshot is not None else None
    clip_url = None
    if r.camera_id is not None and r.clip_start_us is not None and r.clip_end_us is not None:
        camera = quote(r.camera_id, safe="")
        clip_url = f"/api/video/{camera}/playback.m3u8?start_us={r.clip_start_us}&end_us={r.clip_end_us}"
    return AlertView(
        r.id,
        r.centre,
        r.camera_id,
        r.rule,
        r.severity,
        r.title,
        json.loads(r.details_json),
        r.dedup_key,
        r.first_us,
        r.last_us,
        r.occurrences,
        r.status,
        r.escalation_level,
        r.escalated_us,
        r.handled_by,
        r.handled_us,
        r.dismiss_reason,
        r.incident_id,
        snapshot_url,
        r.clip_start_us,
        r.clip_end_us,
        clip_url,
    )
