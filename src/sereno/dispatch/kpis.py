"""Response-time KPIs as the standards define them, per centre, agency or hour, with percentiles.

- answer: ringing -> answered (NENA: 90% of calls answered within 15 s)
- processing: answered -> first unit dispatched (NFPA 1225: 90% within 60 s)
- turnout: dispatched -> first unit en route (NFPA 1710: 80 s for fire, 60 s for EMS; 80 s used here)
- travel: en route -> first unit on scene (NFPA 1710: 240 s for the first engine)
- total: answered -> first unit on scene (no single standard; reported for comparison)
Calls are counted by what became of them, misuse included, because misuse load is part of the service.
"""

import csv
import io
import json
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import func, select

from sereno.config.site import SiteConfig
from sereno.core.auth.principal import Principal
from sereno.core.db import Database
from sereno.core.errors import Invalid
from sereno.dispatch.models import Call, Incident

GroupBy = Literal["centre", "agency", "hour"]
TARGETS_S: dict[str, float | None] = {
    "answer": 15.0,
    "processing": 60.0,
    "turnout": 80.0,
    "travel": 240.0,
    "total": None,
}
STANDARD = {
    "answer": "NENA 90% within 15 s",
    "processing": "NFPA 1225 90% within 60 s",
    "turnout": "NFPA 1710 within 80 s",
    "travel": "NFPA 1710 within 240 s",
    "total": "",
}


@dataclass(frozen=True)
class KpiRow:
    group: str
    metric: str
    count: int
    p50_s: float | None
    p90_s: float | None
    p95_s: float | None
    target_s: float | None
    within_target_pct: float | None
    standard: str


@dataclass(frozen=True)
class KpiReport:
    since_us: int
    until_us: int
    group_by: GroupBy
    rows: list[KpiRow]
    calls_by_outcome: dict[str, int]
    misuse_by_kind: dict[str, int]

    def to_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(
            ["group", "metric", "count", "p50_s", "p90_s", "p95_s", "target_s", "within_target_pct", "standard"]
        )
        for r in self.rows:
            writer.writerow(
                [r.group, r.metric, r.count, r.p50_s, r.p90_s, r.p95_s, r.target_s, r.within_target_pct, r.standard]
            )
        return out.getvalue()


def _intervals(i: Incident) -> dict[str, float | None]:
    def span(start: int | None, end: int | None) -> float | None:
        return (end - start) / 1e6 if start is not None and end is not None and end >= start else None

    return {
        "answer": span(i.ring_us, i.answered_us),
        "processing": span(i.answered_us, i.first_dispatch_us),
        "turnout": span(i.first_dispatch_us, i.first_en_route_us),
        "travel": span(i.first_en_route_us, i.first_on_scene_us),
        "total": span(i.answered_us, i.first_on_scene_us),
    }


class KpiService:
    def __init__(self, db: Database, site: Callable[[], SiteConfig]) -> None:
        self._db = db
        self._site = site

    def report(self, viewer: Principal, since_us: int, until_us: int, group_by: GroupBy = "centre") -> KpiReport:
        if until_us <= since_us:
            raise Invalid("the period must end after it starts")
        zones = {c.code: ZoneInfo(c.timezone) for c in self._site().centres}
        samples: dict[tuple[str, str], list[float]] = defaultdict(list)
        with self._db.read() as s:
            query = select(Incident).where(Incident.answered_us >= since_us, Incident.answered_us < until_us)
            if viewer.centres is not None:
                query = query.where(Incident.centre.in_(viewer.centres))
            for incident in s.scalars(query):
                for group in _groups(incident, group_by, zones):
                    for metric, value in _intervals(incident).items():
                        if value is not None:
                            samples[(group, metric)].append(value)
            calls = select(Call.outcome, Call.misuse_kind, func.count()).where(
                Call.answered_us >= since_us, Call.answered_us < until_us
            )
            if viewer.centres is not None:
                calls = calls.where(Call.centre.in_(viewer.centres))
            outcomes: dict[str, int] = defaultdict(int)
            misuse: dict[str, int] = defaultdict(int)
            for outcome, kind, count in s.execute(calls.group_by(Call.outcome, Call.misuse_kind)):
                outcomes[outcome] += count
                if outcome == "misuse":
                    misuse[kind or "unclassified"] += count
        rows = [_row(group, metric, values) for (group, metric), values in sorted(samples.items())]
        return KpiReport(since_us, until_us, group_by, rows, dict(outcomes), dict(misuse))


def _groups(incident: Incident, group_by: GroupBy, zones: dict[str, ZoneInfo]) -> list[str]:
    if group_by == "centre":
        return [incident.centre]
    if group_by == "agency":
        agencies: list[str] = json.loads(incident.agencies_json)
        return agencies
    zone = zones.get(incident.centre, ZoneInfo("UTC"))
    return [f"{datetime.fromtimestamp(incident.answered_us / 1e6, UTC).astimezone(zone).hour:02d}h"]


def _row(group: str, metric: str, values: list[float]) -> KpiRow:
    data = np.array(values, dtype=np.float64)
    p50, p90, p95 = (round(float(v), 1) for v in np.percentile(data, [50, 90, 95]))
    target = TARGETS_S[metric]
    within = round(float((data <= target).mean() * 100), 1) if target is not None else None
    return KpiRow(group, metric, len(values), p50, p90, p95, target, within, STANDARD[metric])
