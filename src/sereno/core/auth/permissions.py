"""Roles and what each may do. Every API route names one permission; the mapping lives only here."""

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"
    CALL_TAKER = "call-taker"
    DISPATCHER = "dispatcher"
    SUPERVISOR = "supervisor"
    WARNING_OFFICER = "warning-officer"
    LEGAL_LIAISON = "legal-liaison"
    AUDITOR = "auditor"
    ADMIN = "admin"


class Permission(StrEnum):
    SESSION = "session"  # one's own session, profile and API tokens
    CENTRES_READ = "centres:read"
    USERS_READ = "users:read"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"
    AUDIT_VERIFY = "audit:verify"
    CONFIG_READ = "config:read"
    CAMERAS_READ = "cameras:read"
    CAMERAS_MANAGE = "cameras:manage"
    VIDEO_VIEW = "video:view"  # anonymised live view, playback and the recording index
    HOLDS_MANAGE = "holds:manage"  # place and release legal holds
    INCIDENTS_READ = "incidents:read"  # calls, incidents, timelines, units and recommendations
    CALLS_TAKE = "calls:take"  # record calls, open incidents, merge duplicates, close misuse, add notes
    DISPATCH = "dispatch"  # send units, move incidents through their lifecycle
    UNITS_REPORT = "units:report"  # a unit's position (AVL) and status reports
    KPIS_READ = "kpis:read"  # response-time KPIs and call load
    ALERTS_READ = "alerts:read"  # the alert queue, its snapshots and clip references
    ALERTS_HANDLE = "alerts:handle"  # acknowledge, dismiss, promote an alert to an incident


_EVERYONE = frozenset({Permission.SESSION, Permission.CENTRES_READ, Permission.CAMERAS_READ})

_WATCHERS = _EVERYONE | {Permission.VIDEO_VIEW, Permission.INCIDENTS_READ}
_TAKERS = _EVERYONE | {Permission.INCIDENTS_READ, Permission.CALLS_TAKE}
_ALERTS = frozenset({Permission.ALERTS_READ, Permission.ALERTS_HANDLE})  # those who watch the screens and send help
_DISPATCHERS = _WATCHERS | _TAKERS | _ALERTS | {Permission.DISPATCH, Permission.UNITS_REPORT}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OPERATOR: _WATCHERS | _ALERTS,
    Role.CALL_TAKER: _TAKERS,
    Role.DISPATCHER: _DISPATCHERS,
    Role.WARNING_OFFICER: _WATCHERS,
    Role.SUPERVISOR: _DISPATCHERS
    | {Permission.USERS_READ, Permission.AUDIT_READ, Permission.CONFIG_READ, Permission.KPIS_READ},
    Role.LEGAL_LIAISON: _WATCHERS | {Permission.AUDIT_READ, Permission.HOLDS_MANAGE},
    Role.AUDITOR: _EVERYONE | {Permission.AUDIT_READ, Permission.AUDIT_VERIFY, Permission.USERS_READ},
    Role.ADMIN: frozenset(Permission),
}
