"""Messages the dispatch capability publishes: the console's board and map follow them live.

They say what changed and where it belongs (its centre), not everything about it: a listener that needs the
whole incident asks the service, through the same scoping every other read goes through.
"""

from typing import Literal

from sereno.core.messages import Message

IncidentChange = Literal["created", "call-merged", "status", "dispatch", "note", "imported"]


class CallTaken(Message):
    name = "dispatch.call_taken"
    version = 1

    call_id: str
    centre: str
    lat: float | None
    lon: float | None


class IncidentChanged(Message):
    name = "dispatch.incident_changed"
    version = 1

    incident_id: str
    centre: str
    change: IncidentChange
    status: str
    type_code: str
    priority: int
    lat: float
    lon: float


class UnitUpdated(Message):
    """A unit moved or changed status. Positions arrive every few seconds per moving unit: small on purpose."""

    name = "dispatch.unit_updated"
    version = 1

    callsign: str
    centre: str
    agency: str
    status: str
    lat: float
    lon: float
    incident_id: str | None
