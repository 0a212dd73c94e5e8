"""A simulated day of calls and dispatch, played in time order against the real services.

Call takers answer, classify misuse, merge repeat calls and open incidents; dispatchers send the first
recommended unit for each needed capability (waiting when none is free); units turn out, drive their route
(by road when the site has a road graph) at the speed the recommendation assumed (give or take), reporting
their position as they go, work on scene, and drive back.

Two ways to play it: `run` jumps a manual clock from event to event, so an hour of a busy centre takes
seconds and the KPIs at the end are the real KPI service's; `run_live` plays it in real time beside the
server (the demo), so the console shows calls arriving and units moving.
"""

import functools
import heapq
import itertools
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from sereno.app import Runtime
from sereno.core.auth.permissions import ROLE_PERMISSIONS, Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock, ManualClock
from sereno.core.errors import Conflict
from sereno.dispatch.kpis import KpiReport
from sereno.dispatch.roads import RoadGraph, RoadGraphError
from sereno.dispatch.service import NewCall
from sereno.sim.calls import HOUR_US, CallGenerator, SimCall
from sereno.sim.fleet import Fleet

log = logging.getLogger(__name__)

SECOND = 1_000_000
LIVE_WINDOW_US = 10 * 60 * SECOND  # how far ahead run_live plans calls


def sim_principal(role: Role, centre: str) -> Principal:
    return Principal(
        user_id=0,
        username=f"sim-{role.value}-{centre}",
        role=role,
        centre=centre,
        centres=frozenset({centre}),
        permissions=ROLE_PERMISSIONS[role],
        via="cli",
    )


@dataclass
class DayStats:
    calls: int = 0
    misuse: int = 0
    merged: int = 0
    incidents: int = 0
    dispatches: int = 0
    waits_for_units: int = 0
    outside_jurisdiction: int = 0
    positions_reported: int = 0
    errors: int = 0


@dataclass(order=True)
class _Event:
    at_us: int
    seq: int
    action: Callable[[], None] = field(compare=False)


class SimulatedDay:
    def __init__(
        self, rt: Runtime, clock: Clock, generator: CallGenerator, *, seed: int = 1, position_every_s: float = 10.0
    ) -> None:
        self.rt = rt
        self.clock = clock
        self.generator = generator
        self.rng = random.Random(seed)
        self.stats = DayStats()
        self.position_every_s = position_every_s
        self._events: list[_Event] = []
        self._seq = itertools.count()
        self._call_ids: dict[int, str] = {}
        self.fleet = Fleet(generator.site.dispatch, _roads(generator))
        self._dispatcher = Principal(
            0, "sim-dispatcher", Role.DISPATCHER, None, None, ROLE_PERMISSIONS[Role.DISPATCHER], "cli"
        )

    def run(self, hours: float, progress: Callable[[int, int], None] | None = None) -> KpiReport:
        """As fast as the machine allows: the manual clock jumps to each next event."""
        if not isinstance(self.clock, ManualClock):
            raise TypeError("run() jumps the clock: give it a ManualClock (run_live plays in real time)")
        start = self.clock.now_us()
        for index, call in enumerate(self.generator.calls(start, hours)):
            self._at(call.at_us, functools.partial(self._answer, index, call))
        self._at(start, self._report_positions)
        done, total = 0, len(self._events)
        end = start + int(hours * 3600 * SECOND)
        while self._events and self._events[0].at_us < end:
            event = heapq.heappop(self._events)
            self.clock.set(max(event.at_us, self.clock.now_us()))
            event.action()
            done += 1
            if progress is not None and done % 50 == 0:
                progress(done, done + len(self._events))
        if progress is not None:
            progress(total, total)
        national = Principal(0, "sim-supervisor", Role.SUPERVISOR, None, None, ROLE_PERMISSIONS[Role.SUPERVISOR], "cli")
        return self.rt.kpis.report(national, start, end)

    def run_live(self, stop: threading.Event) -> None:
        """In real time until `stop` is set. An event that fails is logged and counted, and the city goes on:
        a demo must not die because one simulated call hit a conflict a person would have shrugged off."""
        self._next_window(self.clock.now_us())
        self._at(self.clock.now_us(), self._report_positions)
        while not stop.is_set():
            now = self.clock.now_us()
            if self._events and self._events[0].at_us <= now:
                event = heapq.heappop(self._events)
                try:
                    event.action()
                except Exception:
                    self.stats.errors += 1
                    log.exception("simulated event failed")
                continue
            wait_s = (self._events[0].at_us - now) / SECOND if self._events else 1.0
            stop.wait(min(1.0, max(0.01, wait_s)))

    def _next_window(self, start_us: int) -> None:
        """Plans the calls of the next few minutes only, so the first call rings seconds after the start even
        when a load test asks for hundreds of thousands of calls a day."""
        base = len(self._call_ids) + len(self._events)
        for offset, call in enumerate(self.generator.calls(start_us, LIVE_WINDOW_US / HOUR_US)):
            self._at(call.at_us, functools.partial(self._answer, base + offset, call))
        self._at(start_us + LIVE_WINDOW_US, lambda: self._next_window(start_us + LIVE_WINDOW_US))

    # events --------------------------------------------------------------------------------------------

    def _at(self, at_us: int, action: Callable[[], None]) -> None:
        heapq.heappush(self._events, _Event(at_us, next(self._seq), action))

    def _after(self, seconds: float, action: Callable[[], None]) -> None:
        self._at(self.clock.now_us() + int(seconds * SECOND), action)

    def _answer(self, index: int, call: SimCall) -> None:
        centre = self.rt.dispatch.centre_at(call.lat, call.lon)
        if centre is None:
            self.stats.outside_jurisdiction += 1
            return
        taker = sim_principal(Role.CALL_TAKER, centre)
        now = self.clock.now_us()
        new = NewCall("+593 9 0000 0000", now, call.lat, call.lon, "", call.kind, now - int(call.ringing_s * SECOND))
        call_id = self.rt.dispatch.take_call(taker, new).id
        self._call_ids[index] = call_id
        self.stats.calls += 1
        if call.kind == "misuse":
            self._after(self.rng.uniform(15, 60), lambda: self._misuse(taker, call_id, call.misuse_kind or "other"))
        elif call.kind == "duplicate":
            self._after(self.rng.uniform(20, 45), lambda: self._duplicate(taker, call_id, call))
        else:
            self._after(self.rng.lognormvariate(3.7, 0.35), lambda: self._open(taker, call_id, call))

    def _misuse(self, taker: Principal, call_id: str, kind: str) -> None:
        self.rt.dispatch.close_as_misuse(taker, call_id, kind)
        self.stats.misuse += 1

    def _duplicate(self, taker: Principal, call_id: str, call: SimCall) -> None:
        suggestions = self.rt.dispatch.duplicates(taker, call_id)
        if suggestions:
            self.rt.dispatch.merge_call(taker, call_id, suggestions[0].incident.id)
            self.stats.merged += 1
        else:
            self._open(taker, call_id, call)

    def _open(self, taker: Principal, call_id: str, call: SimCall) -> None:
        incident = self.rt.dispatch.open_incident(
            taker, call_id, call.type_code or "medical-emergency", call.lat, call.lon
        )
        self.stats.incidents += 1
        dispatcher = self._dispatcher  # mutual aid: the nearest unit of any centre may go
        kind = self.generator.site.dispatch.incident_type(incident.type_code)
        for capability in kind.capabilities if kind else []:
            self._send(dispatcher, incident.id, capability)

    def _send(self, dispatcher: Principal, incident_id: str, capability: str) -> None:
        if self.rt.dispatch.incident(dispatcher, incident_id).status == "closed":
            return
        picks = [r for r in self.rt.units.recommend(dispatcher, incident_id) if r.capability == capability]
        for pick in picks:
            try:
                self.rt.units.dispatch(dispatcher, incident_id, pick.callsign)
            except Conflict:
                continue
            self.stats.dispatches += 1
            leave = functools.partial(self._en_route, dispatcher, incident_id, pick.callsign, capability)
            self._after(self.rng.uniform(30, 90), leave)
            return
        self.stats.waits_for_units += 1
        self._after(60, lambda: self._send(dispatcher, incident_id, capability))

    def _en_route(self, who: Principal, incident_id: str, callsign: str, capability: str) -> None:
        try:
            self.rt.units.set_status(who, callsign, "en-route")
        except Conflict:  # the incident closed before this unit left: it stays where it is
            self._drive_back(who, callsign)
            return
        incident = self.rt.dispatch.incident(who, incident_id)
        drive = self.fleet.drive(
            callsign,
            capability,
            self._position(who, callsign),
            (incident.lat, incident.lon),
            self.clock.now_us(),
            pace=self.rng.uniform(0.8, 1.3),
        )
        self._at(drive.arrival_us, lambda: self._on_scene(who, incident_id, callsign))

    def _on_scene(self, who: Principal, incident_id: str, callsign: str) -> None:
        self.fleet.stop(callsign)
        incident = self.rt.dispatch.incident(who, incident_id)
        self.rt.units.report_position(who, callsign, incident.lat, incident.lon)
        if incident.status != "closed":
            self.rt.units.set_status(who, callsign, "on-scene")
            self._after(self.rng.uniform(600, 1500), lambda: self._close(who, incident_id))
        self._after(self.rng.uniform(600, 1500), lambda: self._drive_back(who, callsign))

    def _close(self, who: Principal, incident_id: str) -> None:
        if self.rt.dispatch.incident(who, incident_id).status != "closed":
            self.rt.dispatch.set_status(who, incident_id, "closed")

    def _drive_back(self, who: Principal, callsign: str) -> None:
        unit = next(u for u in self.rt.units.units(who) if u.callsign == callsign)
        if unit.status == "available":
            return
        if unit.status != "returning":
            self.rt.units.set_status(who, callsign, "returning")
        station = next(u for u in self.generator.site.units if u.callsign == callsign).station
        home = (station.lat, station.lon)
        drive = self.fleet.drive(callsign, "default", (unit.lat, unit.lon), home, self.clock.now_us())
        self._at(drive.arrival_us, lambda: self._home(who, callsign, *home))

    def _home(self, who: Principal, callsign: str, lat: float, lon: float) -> None:
        self.fleet.stop(callsign)
        self.rt.units.report_position(who, callsign, lat, lon)
        self.rt.units.set_status(who, callsign, "available")

    def _report_positions(self) -> None:
        """What each moving unit's AVL device would send, every few seconds of simulated time."""
        for callsign, (lat, lon) in self.fleet.moving(self.clock.now_us()).items():
            self.rt.units.report_position(self._dispatcher, callsign, lat, lon)
            self.stats.positions_reported += 1
        self._after(self.position_every_s, self._report_positions)

    def _position(self, who: Principal, callsign: str) -> tuple[float, float]:
        unit = next(u for u in self.rt.units.units(who) if u.callsign == callsign)
        return unit.lat, unit.lon


def _roads(generator: CallGenerator) -> RoadGraph | None:
    path = generator.site.dispatch.road_graph
    if path is None:
        return None
    try:
        return RoadGraph.cached(path)
    except RoadGraphError as exc:
        log.warning("simulated units drive in straight lines: %s", exc)
        return None
