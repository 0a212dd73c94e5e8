"""KPIs: intervals from the incident's own times, percentiles against the standards, misuse counted, scoped."""

import defusedxml.ElementTree as SafeXml
import pytest

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.clock import ManualClock
from sereno.core.errors import Invalid
from sereno.dispatch.kpi_chart import render_svg
from sereno.dispatch.service import NewCall
from tests.conftest import make_user

NORTH = (-0.16, -78.47)
SOUTH = (-0.30, -78.54)


def run_incident(
    rt: Runtime,
    clock: ManualClock,
    centre: str,
    where: tuple[float, float],
    unit: str,
    times: tuple[int, int, int, int],
) -> None:
    """times: seconds ringing, answer->dispatch, dispatch->en route, en route->on scene."""
    who = make_user(rt, f"d-{centre}-{clock.now_us()}", Role.DISPATCHER, centre)
    ring, processing, turnout, travel = times
    answered = clock.now_us()
    call = rt.dispatch.take_call(who, NewCall("1", answered, *where, ring_us=answered - ring * 1_000_000))
    incident = rt.dispatch.open_incident(who, call.id, "robbery", *where)
    clock.advance(processing)
    rt.units.dispatch(who, incident.id, unit)
    clock.advance(turnout)
    rt.units.set_status(who, unit, "en-route")
    clock.advance(travel)
    rt.units.set_status(who, unit, "on-scene")
    rt.dispatch.set_status(who, incident.id, "closed")
    rt.units.set_status(who, unit, "available")
    clock.advance(600)


def test_intervals_percentiles_and_targets(rt: Runtime, clock: ManualClock) -> None:
    start = clock.now_us()
    for times in [(5, 30, 50, 200), (10, 50, 60, 250), (20, 90, 70, 300), (8, 40, 40, 180)]:
        run_incident(rt, clock, "north", NORTH, "P-102", times)
    run_incident(rt, clock, "south", SOUTH, "P-103", (3, 20, 30, 100))
    taker = make_user(rt, "t", Role.CALL_TAKER, "north")
    for kind in ("silent", "silent", "prank"):
        rt.dispatch.close_as_misuse(taker, rt.dispatch.take_call(taker, NewCall("2", clock.now_us())).id, kind)
    admin = make_user(rt, "boss", Role.ADMIN, all_centres=True)
    report = rt.kpis.report(admin, start, clock.now_us() + 1)
    rows = {(r.group, r.metric): r for r in report.rows}
    processing = rows[("north", "processing")]
    assert processing.count == 4 and processing.p50_s == 45.0 and processing.within_target_pct == 75.0
    assert processing.standard.startswith("NFPA 1225")
    assert rows[("north", "answer")].within_target_pct == 75.0  # 20 s misses NENA's 15 s
    assert rows[("north", "total")].target_s is None and rows[("south", "travel")].p50_s == 100.0
    assert report.calls_by_outcome == {"incident": 5, "misuse": 3}
    assert report.misuse_by_kind == {"silent": 2, "prank": 1}
    supervisor_south = make_user(rt, "sup-south", Role.SUPERVISOR, "south")
    south_only = rt.kpis.report(supervisor_south, start, clock.now_us() + 1)
    assert {r.group for r in south_only.rows} == {"south"} and south_only.calls_by_outcome == {"incident": 1}
    by_agency = rt.kpis.report(admin, start, clock.now_us() + 1, "agency")
    assert {r.group for r in by_agency.rows} == {"police"}
    by_hour = rt.kpis.report(admin, start, clock.now_us() + 1, "hour")
    assert all(r.group.endswith("h") for r in by_hour.rows)
    csv_text = report.to_csv()
    assert csv_text.splitlines()[0].startswith("group,metric,count,p50_s") and "north,processing,4,45.0" in csv_text
    with pytest.raises(Invalid):
        rt.kpis.report(admin, 10, 10)


def test_the_report_is_drawn_as_svg(rt: Runtime, clock: ManualClock) -> None:
    start = clock.now_us()
    run_incident(rt, clock, "north", NORTH, "P-102", (5, 30, 50, 200))
    run_incident(rt, clock, "south", SOUTH, "P-103", (30, 90, 30, 300))
    admin = make_user(rt, "boss", Role.ADMIN, all_centres=True)
    svg = render_svg(rt.kpis.report(admin, start, clock.now_us() + 1))
    root = SafeXml.fromstring(svg)
    bars = root.findall(".//{http://www.w3.org/2000/svg}rect")[1:]  # the first is the background
    assert len(bars) == 10  # five metrics, two centres
    titles = [b.findtext("{http://www.w3.org/2000/svg}title") or "" for b in bars]
    assert any(t.startswith("south: p90 90.0 s") for t in titles)
    late = next(b for b, t in zip(bars, titles, strict=True) if t.startswith("south: p90 90.0"))
    assert late.get("fill") == "#c0392b"  # processing 90 s misses NFPA 1225's 60 s
    empty = render_svg(rt.kpis.report(admin, 1, 2))
    assert "No incidents" in empty
