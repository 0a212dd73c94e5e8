"""Calls and incidents: the lifecycle with its timeline, duplicates and merges, misuse, scoping, bad input."""

import threading

import pytest

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.dispatch.service import NewCall
from tests.conftest import make_user

NORTH = (-0.16, -78.47)
SOUTH = (-0.30, -78.54)


def call_at(rt: Runtime, who: Principal, clock: ManualClock, where: tuple[float, float] | None, text: str = "") -> str:
    lat, lon = where if where else (None, None)
    return rt.dispatch.take_call(who, NewCall("+593 99 000 0000", clock.now_us(), lat, lon, "", text)).id


def test_an_incident_goes_from_call_to_closed_with_its_timeline(rt: Runtime, clock: ManualClock) -> None:
    north = make_user(rt, "disp-north", Role.DISPATCHER, "north")
    call_id = call_at(rt, north, clock, NORTH, "smoke from a kitchen window")
    incident = rt.dispatch.open_incident(north, call_id, "structure-fire", *NORTH, address="Av. Amazonas 100")
    assert (incident.centre, incident.status, incident.priority, incident.agencies) == (
        "north",
        "new",
        1,
        ["fire", "health"],
    )
    assert rt.dispatch.call(north, call_id).outcome == "incident"
    picks = rt.units.recommend(north, incident.id)
    first: dict[str, str] = {}
    for pick in picks:  # ranked nearest first within each capability
        first.setdefault(pick.capability, pick.callsign)
    assert first == {"engine": "E-12", "als-ambulance": "A-3"}
    clock.advance(45)
    dispatched = rt.units.dispatch(north, incident.id, "E-12")
    assert dispatched.status == "dispatched" and dispatched.first_dispatch_us == clock.now_us()
    rt.units.set_status(north, "E-12", "en-route")
    clock.advance(240)
    rt.units.set_status(north, "E-12", "on-scene")
    on_scene = rt.dispatch.incident(north, incident.id)
    assert on_scene.status == "on-scene" and on_scene.first_on_scene_us == clock.now_us()
    rt.dispatch.add_note(north, incident.id, "two people evacuated")
    with pytest.raises(Conflict, match="cannot go back"):
        rt.dispatch.set_status(north, incident.id, "dispatched")
    closed = rt.dispatch.set_status(north, incident.id, "closed")
    assert closed.closed_us is not None
    assert {u.callsign: u.status for u in rt.units.units(north)}["E-12"] == "returning"
    kinds = [e.kind for e in rt.dispatch.timeline(north, incident.id)]
    assert kinds == ["created", "call", "dispatch", "unit-status", "unit-status", "note", "status"]
    assert rt.dispatch.incidents(north) == []  # closed ones are not on the board
    assert [i.id for i in rt.dispatch.incidents(north, include_closed=True)] == [incident.id]


def test_duplicate_calls_are_suggested_and_merged(rt: Runtime, clock: ManualClock) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    first = call_at(rt, taker, clock, NORTH)
    incident = rt.dispatch.open_incident(taker, first, "traffic-collision", *NORTH)
    clock.advance(120)
    second = call_at(rt, taker, clock, (NORTH[0] + 0.001, NORTH[1]), "a crash, two cars")  # ~110 m away
    suggestions = rt.dispatch.duplicates(taker, second)
    assert [s.incident.id for s in suggestions] == [incident.id]
    assert 100 < suggestions[0].distance_m < 120 and suggestions[0].minutes_ago == 2.0
    far = call_at(rt, taker, clock, (NORTH[0] + 0.02, NORTH[1]))  # ~2 km
    assert rt.dispatch.duplicates(taker, far) == []
    assert rt.dispatch.duplicates(taker, call_at(rt, taker, clock, None)) == []
    merged = rt.dispatch.merge_call(taker, second, incident.id)
    assert merged.outcome == "merged" and merged.incident_id == incident.id
    timeline = rt.dispatch.timeline(taker, incident.id)
    assert timeline[-1].kind == "call" and timeline[-1].details["duplicate"] is True
    with pytest.raises(Conflict, match="already merged"):
        rt.dispatch.merge_call(taker, second, incident.id)


def test_misuse_is_classified_and_kept(rt: Runtime, clock: ManualClock) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    silent = call_at(rt, taker, clock, None)
    closed = rt.dispatch.close_as_misuse(taker, silent, "silent")
    assert (closed.outcome, closed.misuse_kind) == ("misuse", "silent")
    assert rt.dispatch.call(taker, silent).closed_us is not None  # kept, not deleted
    with pytest.raises(Invalid, match="misuse kind"):
        rt.dispatch.close_as_misuse(taker, call_at(rt, taker, clock, None), "annoying")
    with pytest.raises(Conflict):
        rt.dispatch.close_as_misuse(taker, silent, "prank")


def test_bad_input_is_refused_clearly(rt: Runtime, clock: ManualClock) -> None:
    taker = make_user(rt, "taker-north", Role.CALL_TAKER, "north")
    call_id = call_at(rt, taker, clock, NORTH)
    with pytest.raises(Invalid, match="unknown incident type 'alien-landing'"):
        rt.dispatch.open_incident(taker, call_id, "alien-landing", *NORTH)
    with pytest.raises(Invalid, match="outside every centre"):
        rt.dispatch.open_incident(taker, call_id, "robbery", 1.5, -70.0)
    with pytest.raises(Invalid, match="cannot act for"):
        rt.dispatch.open_incident(taker, call_id, "robbery", *SOUTH)
    with pytest.raises(Invalid, match="both latitude and longitude"):
        rt.dispatch.take_call(taker, NewCall("1", clock.now_us(), 1.0, None))
    with pytest.raises(NotFound):
        rt.dispatch.open_incident(taker, "call-nope", "robbery", *NORTH)


def test_centres_see_only_their_own(rt: Runtime, clock: ManualClock) -> None:
    north = make_user(rt, "disp-north", Role.DISPATCHER, "north")
    south = make_user(rt, "disp-south", Role.DISPATCHER, "south")
    incident = rt.dispatch.open_incident(north, call_at(rt, north, clock, NORTH), "robbery", *NORTH)
    with pytest.raises(NotFound):
        rt.dispatch.incident(south, incident.id)
    with pytest.raises(NotFound):
        rt.units.dispatch(south, incident.id, "P-103")
    with pytest.raises(NotFound):
        rt.units.dispatch(north, incident.id, "P-103")  # a south unit is not north's to send
    assert rt.dispatch.incidents(south) == [] and {u.centre for u in rt.units.units(south)} == {"south"}


def test_concurrent_dispatch_of_one_unit_has_exactly_one_winner(rt: Runtime, clock: ManualClock) -> None:
    north = make_user(rt, "disp-north", Role.DISPATCHER, "north")
    incidents = [
        rt.dispatch.open_incident(north, call_at(rt, north, clock, NORTH), "robbery", *NORTH) for _ in range(2)
    ]
    results: list[str] = []
    barrier = threading.Barrier(2)

    def send(incident_id: str) -> None:
        barrier.wait()
        try:
            rt.units.dispatch(north, incident_id, "P-102")
            results.append("won")
        except Conflict:
            results.append("taken")

    threads = [threading.Thread(target=send, args=(i.id,)) for i in incidents]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["taken", "won"]
    unit = {u.callsign: u for u in rt.units.units(north)}["P-102"]
    assert unit.status == "dispatched" and unit.incident_id in {i.id for i in incidents}


def test_a_unit_of_another_agency_brings_its_agency_onto_the_incident(rt: Runtime, clock: ManualClock) -> None:
    north = make_user(rt, "disp-north", Role.DISPATCHER, "north")
    incident = rt.dispatch.open_incident(north, call_at(rt, north, clock, NORTH), "medical-emergency", *NORTH)
    assert incident.agencies == ["health"]
    rt.units.dispatch(north, incident.id, "A-3")
    assert rt.dispatch.incident(north, incident.id).agencies == ["health"]
    rt.units.dispatch(north, incident.id, "P-102")  # a patrol to secure the scene
    assert rt.dispatch.incident(north, incident.id).agencies == ["health", "police"]
    added = [e.details for e in rt.dispatch.timeline(north, incident.id) if e.kind == "agency-added"]
    assert added == [{"agency": "police"}]
