"""AVL over MQTT: the report parser's every refusal, the listener's rules (unknown units, order, device status),
and the listener against the real Mosquitto on 127.0.0.1:1883, including a broker that goes away."""

import contextlib
import json
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from sereno.app import Runtime
from sereno.config.avl import AvlSettings
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.dispatch.avl import AvlListener, AvlReport, Rejection, parse_report, position_topic
from sereno.dispatch.service import NewCall
from sereno.dispatch.units import UnitView

BROKER = ("127.0.0.1", 1883)
NOW_US = 1_767_225_600_000_000  # ManualClock's default start
SECOND = 1_000_000
MOVED = (-0.17, -78.475)
LIMITS = AvlSettings()


def _broker_reason() -> str | None:
    try:
        socket.create_connection(BROKER, 2).close()
    except OSError as exc:
        return f"no MQTT broker listens on {BROKER[0]}:{BROKER[1]} ({exc})"
    return None


needs_broker = pytest.mark.skipif(_broker_reason() is not None, reason=str(_broker_reason()))


def payload(callsign: str = "E-12", **fields: Any) -> bytes:
    body: dict[str, Any] = {"v": 1, "callsign": callsign, "lat": MOVED[0], "lon": MOVED[1], "ts": NOW_US}
    body.update(fields)
    return json.dumps(body).encode()


def unit(rt: Runtime, admin: Principal, callsign: str) -> UnitView:
    return next(u for u in rt.units.units(admin) if u.callsign == callsign)


def wait_for(what: str, predicate: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout_s} s waiting for {what}")
        time.sleep(0.02)


# the parser -----------------------------------------------------------------------------------------------


def test_a_good_report_parses_with_its_optional_fields() -> None:
    report = parse_report("E-12", payload(speed_kmh=42, heading=271.5, status="en-route"), NOW_US, LIMITS)
    assert isinstance(report, AvlReport)
    assert (report.callsign, report.lat, report.lon, report.ts) == ("E-12", *MOVED, NOW_US)
    assert (report.speed_kmh, report.heading, report.status) == (42.0, 271.5, "en-route")
    assert AvlReport.subject() == "sereno.dispatch.avl_report.v1"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"x" * (LIMITS.max_message_bytes + 1), "too-large"),
        (b"lat=1,lon=2", "not-json"),
        (b"\xff\xfe{}", "not-json"),
        (payload(lat=float("nan")), "not-json"),
        (b"[1, 2]", "invalid"),
        (payload(extra="field"), "invalid"),
        (payload(lat="-0.17"), "invalid"),
        (payload(ts=1.767e15), "invalid"),
        (payload(status="dispatched"), "invalid"),
        (payload(v=2), "wrong-version"),
        (payload(v=True), "wrong-version"),
        (json.dumps({"callsign": "E-12"}).encode(), "wrong-version"),
        (payload("A-3"), "callsign-mismatch"),
        (payload(lat=91.0), "out-of-range"),
        (payload(lat=-91.0, lon=181.0), "out-of-range"),
        (payload(ts=NOW_US - int(LIMITS.max_age_s * SECOND) - SECOND), "stale"),
        (payload(ts=NOW_US + int(LIMITS.max_future_s * SECOND) + SECOND), "future"),
    ],
)
def test_a_bad_report_is_refused_with_its_reason(raw: bytes, reason: str) -> None:
    outcome = parse_report("E-12", raw, NOW_US, LIMITS)
    assert isinstance(outcome, Rejection), outcome
    assert outcome.reason == reason and outcome.detail


def test_the_tolerances_are_inclusive() -> None:
    oldest = NOW_US - int(LIMITS.max_age_s * SECOND)
    latest = NOW_US + int(LIMITS.max_future_s * SECOND)
    assert isinstance(parse_report("E-12", payload(ts=oldest), NOW_US, LIMITS), AvlReport)
    assert isinstance(parse_report("E-12", payload(ts=latest), NOW_US, LIMITS), AvlReport)


# the listener's rules, without a broker -------------------------------------------------------------------


def listener_for(rt: Runtime, prefix: str = "test/avl", **settings: Any) -> AvlListener:
    return AvlListener(rt.units, rt.clock, AvlSettings(topic_prefix=prefix, **settings))


def test_a_report_moves_the_unit_and_is_counted(rt: Runtime, admin: Principal) -> None:
    listener = listener_for(rt)
    assert isinstance(listener.handle("test/avl/E-12/position", payload()), AvlReport)
    moved = unit(rt, admin, "E-12")
    assert (moved.lat, moved.lon, moved.position_us) == (*MOVED, rt.clock.now_us())
    assert listener.stats().accepted == 1 and not listener.stats().rejected


def test_unknown_units_old_reports_and_bad_topics_change_nothing(
    rt: Runtime, admin: Principal, clock: ManualClock
) -> None:
    listener = listener_for(rt)
    assert isinstance(listener.handle("test/avl/E-12/position", payload(ts=NOW_US)), AvlReport)
    clock.advance(5)
    before = rt.units.units(admin)
    outcomes = [
        listener.handle("test/avl/X-99/position", payload("X-99", ts=NOW_US + SECOND)),
        listener.handle("test/avl/E-12/position", payload(ts=NOW_US - SECOND, lat=-0.2)),
        listener.handle("test/avl/E-12/position", payload(ts=NOW_US, lat=-0.2)),
        listener.handle("test/avl/E-12/status", payload(ts=NOW_US + SECOND)),
        listener.handle("other/E-12/position", payload(ts=NOW_US + SECOND)),
    ]
    reasons = [o.reason for o in outcomes if isinstance(o, Rejection)]
    assert reasons == ["unknown-unit", "out-of-order", "out-of-order", "bad-topic", "bad-topic"]
    assert rt.units.units(admin) == before
    stats = listener.stats()
    assert stats.accepted == 1
    assert stats.rejected == {"unknown-unit": 1, "out-of-order": 2, "bad-topic": 2}


def test_device_status_takes_only_forward_steps(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    call = rt.dispatch.take_call(admin, NewCall("+593 99 000 0000", clock.now_us(), *MOVED, "", "smoke"))
    incident = rt.dispatch.open_incident(admin, call.id, "structure-fire", *MOVED)
    rt.units.dispatch(admin, incident.id, "E-12")
    listener = listener_for(rt)

    def report(seconds: int, status: str) -> None:
        assert isinstance(
            listener.handle("test/avl/E-12/position", payload(ts=NOW_US + seconds, status=status)), AvlReport
        )

    report(1, "available")  # dispatched -> available would abandon the incident: left to a dispatcher
    assert unit(rt, admin, "E-12").status == "dispatched"
    report(2, "en-route")
    assert rt.dispatch.incident(admin, incident.id).status == "en-route"
    report(3, "en-route")  # repeated with every fix: one timeline entry, not one per report
    report(4, "on-scene")
    assert (unit(rt, admin, "E-12").status, rt.dispatch.incident(admin, incident.id).status) == ("on-scene",) * 2
    report(5, "en-route")  # a stale button press does not go back
    assert unit(rt, admin, "E-12").status == "on-scene"
    kinds = [e.details.get("status") for e in rt.dispatch.timeline(admin, incident.id) if e.kind == "unit-status"]
    assert kinds == ["en-route", "on-scene"]
    stats = listener.stats()
    assert (stats.accepted, stats.statuses_applied, stats.statuses_ignored) == (5, 2, 2)


def test_status_can_be_switched_off(rt: Runtime, admin: Principal) -> None:
    listener = listener_for(rt, apply_status=False)
    rt.units.set_status(admin, "E-12", "returning")
    assert isinstance(listener.handle("test/avl/E-12/position", payload(status="available")), AvlReport)
    assert unit(rt, admin, "E-12").status == "returning"


# against the real broker ----------------------------------------------------------------------------------


@pytest.fixture
def prefix() -> str:
    return f"test/sereno-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def publisher() -> Iterator[Callable[[str, bytes], None]]:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"test-pub-{uuid.uuid4().hex[:8]}")
    client.connect(*BROKER)
    client.loop_start()

    def publish(topic: str, body: bytes) -> None:
        client.publish(topic, body, qos=1).wait_for_publish(5)

    try:
        yield publish
    finally:
        client.disconnect()
        client.loop_stop()


def started(rt: Runtime, prefix: str, port: int = BROKER[1]) -> AvlListener:
    listener = listener_for(rt, prefix, port=port, client_id=f"test-avl-{uuid.uuid4().hex[:8]}", qos=1)
    listener.start()
    if not listener.wait_subscribed(10):
        listener.stop()
        pytest.fail("the listener did not subscribe within 10 s")
    return listener


@needs_broker
def test_reports_over_mqtt_are_applied_and_bad_ones_counted(
    rt: Runtime, admin: Principal, prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    listener = started(rt, prefix)
    try:
        publisher(position_topic(prefix, "E-12"), payload(ts=NOW_US))
        wait_for("the report to be applied", lambda: listener.stats().accepted == 1)
        assert (unit(rt, admin, "E-12").lat, unit(rt, admin, "E-12").lon) == MOVED
        before = rt.units.units(admin)
        bad = {
            "E-12": [b"{not json", payload(v=2), payload("A-3"), payload(lat=95.0), payload(ts=NOW_US - SECOND)],
            "X-99": [payload("X-99")],
        }
        for callsign, bodies in bad.items():
            for body in bodies:
                publisher(position_topic(prefix, callsign), body)
        wait_for("six rejections", lambda: sum(listener.stats().rejected.values()) == 6)
        assert listener.stats().rejected == {
            "not-json": 1,
            "wrong-version": 1,
            "callsign-mismatch": 1,
            "out-of-range": 1,
            "out-of-order": 1,
            "unknown-unit": 1,
        }
        assert rt.units.units(admin) == before
        assert listener.stats().accepted == 1 and listener.stats().connected
    finally:
        listener.stop()


class CuttableRelay:
    """A TCP relay in front of the broker whose connections the test cuts: to the listener, the broker went away
    (the shared broker itself keeps running for everyone else)."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                inner, _ = self._server.accept()
                outer = socket.create_connection(BROKER, 2)
            except OSError:
                return
            with self._lock:
                if self._closed:  # closed while this connection was being made
                    inner.close()
                    outer.close()
                    return
                self._sockets += [inner, outer]
            threading.Thread(target=self._pump, args=(inner, outer), daemon=True).start()
            threading.Thread(target=self._pump, args=(outer, inner), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for s in sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()

    def close(self) -> None:
        with self._lock:
            self._closed = True
        self._server.close()
        self.cut()


@needs_broker
def test_the_listener_reconnects_when_the_broker_goes_away(
    rt: Runtime, admin: Principal, prefix: str, publisher: Callable[[str, bytes], None]
) -> None:
    relay = CuttableRelay()
    listener = started(rt, prefix, relay.port)
    try:
        publisher(position_topic(prefix, "E-12"), payload(ts=NOW_US))
        wait_for("the first report", lambda: listener.stats().accepted == 1)
        relay.cut()
        wait_for("the loss to be noticed", lambda: listener.stats().disconnects == 1)
        wait_for("the reconnection", lambda: listener.stats().connects == 2 and listener.wait_subscribed(0))
        publisher(position_topic(prefix, "E-12"), payload(ts=NOW_US + SECOND, lat=-0.18))
        wait_for("the report after the reconnection", lambda: listener.stats().accepted == 2)
        assert unit(rt, admin, "E-12").lat == -0.18
    finally:
        listener.stop()
        relay.close()
