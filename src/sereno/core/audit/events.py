"""Messages the audit log publishes."""

from sereno.core.messages import Message


class AuditEntryAppended(Message):
    name = "audit.entry_appended"
    version = 1

    seq: int
    ts_us: int
    actor: str
    action: str
    target: str
    centre: str
    outcome: str
