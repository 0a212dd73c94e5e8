"""Unit positions (AVL) over MQTT: the report format, its parser, and the listener that applies reports.

Vehicle devices publish JSON to `<prefix>/<callsign>/position`. Each report is checked before it touches
the database (size, JSON, version, the topic's callsign, coordinates, how old or how far ahead its fix
time is), applied through `UnitService.report_position` like the API's reports, and counted. Nothing a
device sends can stop the listener: a bad report is a counted rejection with a reason, never an exception.
The fix time orders a unit's reports and bounds their age; the position's stored time is when Sereno applied
it, as for a report over the API, so a device's clock never moves a unit's history.

The listener keeps no process of its own: paho's network thread delivers messages and reconnects with a
doubling delay when the broker goes away, so tests drive it (or `handle` directly) inside one process.
"""

import json
import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Literal

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from pydantic import ConfigDict, Field, ValidationError

from sereno.config.avl import AvlSettings
from sereno.config.geo import Latitude, Longitude
from sereno.core.auth.permissions import Permission, Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import Clock
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.messages import Message
from sereno.dispatch.units import UnitService, UnitView

log = logging.getLogger(__name__)

Reason = Literal[
    "too-large",  # longer than max_message_bytes: refused before parsing
    "not-json",  # not UTF-8 JSON (NaN and Infinity count as not JSON)
    "invalid",  # JSON, but not a report: missing or unknown fields, wrong types
    "wrong-version",  # "v" absent or not 1
    "bad-topic",  # not <prefix>/<callsign>/position
    "callsign-mismatch",  # the topic names one unit, the payload another
    "out-of-range",  # latitude outside -90..90 or longitude outside -180..180
    "stale",  # fix older than max_age_s
    "future",  # fix more than max_future_s ahead of the server's clock
    "unknown-unit",  # no such unit in the database
    "out-of-order",  # not newer than the last report applied for that unit
    "error",  # the database failed; logged with its traceback
]

# What a device may change on its own: forward steps of a dispatch it was given, and back to available after
# it has returned. Anything that would abandon an incident (available while on scene) stays a person's call.
_DEVICE_STEPS: dict[str, frozenset[str]] = {
    "en-route": frozenset({"dispatched"}),
    "on-scene": frozenset({"dispatched", "en-route"}),
    "available": frozenset({"returning"}),
}
_UNITS_REFRESH_S = 10.0  # unknown callsigns re-read the unit list at most this often


class AvlReport(Message):
    """One report, as a device publishes it (JSON object, UTF-8).

    `ts` is when the device took the fix, in integer microseconds since the Unix epoch (UTC): the one time
    format Sereno stores everywhere, and an integer cannot arrive with a missing or wrong time zone.
    `status`, when present, is the crew's button on the device (see `_DEVICE_STEPS` for what it may do).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    name = "dispatch.avl_report"
    version = 1

    v: Literal[1] = Field(title="Format version")
    callsign: str = Field(min_length=1, max_length=32, title="Unit callsign")
    lat: Latitude
    lon: Longitude
    ts: int = Field(gt=0, title="Fix time", description="Microseconds since the Unix epoch, UTC")
    speed_kmh: float | None = Field(default=None, ge=0, le=500, title="Speed (km/h)")
    heading: float | None = Field(default=None, ge=0, lt=360, title="Heading (degrees from north)")
    status: Literal["en-route", "on-scene", "available"] | None = Field(default=None, title="Crew status")


@dataclass(frozen=True)
class Rejection:
    reason: Reason
    detail: str


def position_topic(prefix: str, callsign: str) -> str:
    return f"{prefix}/{callsign}/position"


def callsign_from_topic(prefix: str, topic: str) -> str | None:
    head, tail = f"{prefix}/", "/position"
    if not (topic.startswith(head) and topic.endswith(tail)):
        return None
    callsign = topic[len(head) : len(topic) - len(tail)]
    return callsign if callsign and "/" not in callsign else None


def parse_report(topic_callsign: str, payload: bytes, now_us: int, limits: AvlSettings) -> AvlReport | Rejection:
    """A checked report, or why not. Cheap checks first, so a flood of junk costs little."""
    if len(payload) > limits.max_message_bytes:
        return Rejection("too-large", f"{len(payload)} bytes; the limit is {limits.max_message_bytes}")
    try:
        data = json.loads(payload.decode("utf-8"), parse_constant=_no_constants)
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are both ValueErrors
        return Rejection("not-json", str(exc))
    if not isinstance(data, dict):
        return Rejection("invalid", "a report is a JSON object")
    version = data.get("v")
    if type(version) is not int or version != 1:  # `True == 1` in Python, so the type is checked too
        return Rejection("wrong-version", f"version {version!r}; this listener reads version 1")
    try:
        report = AvlReport.model_validate(data, strict=True)
    except ValidationError as exc:
        return _validation_rejection(exc)
    if report.callsign != topic_callsign:
        return Rejection("callsign-mismatch", f"the topic says {topic_callsign!r}, the report {report.callsign!r}")
    age_s = (now_us - report.ts) / 1_000_000
    if age_s > limits.max_age_s:
        return Rejection("stale", f"fix taken {age_s:.0f} s ago; the limit is {limits.max_age_s:g} s")
    if -age_s > limits.max_future_s:
        return Rejection("future", f"fix stamped {-age_s:.0f} s ahead; the limit is {limits.max_future_s:g} s")
    return report


def avl_principal(centre: str) -> Principal:
    """Who applies a device's report: allowed to report for units of that one centre and nothing else."""
    return Principal(
        user_id=0,
        username="system:avl",
        role=Role.DISPATCHER,
        centre=centre,
        centres=frozenset({centre}),
        permissions=frozenset({Permission.UNITS_REPORT}),
        via="cli",  # the actor is the bare name, like the other system actors ("system:retention")
    )


@dataclass
class AvlStats:
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    statuses_applied: int = 0
    statuses_ignored: int = 0  # a status the device may not set from the unit's current one
    connects: int = 0
    disconnects: int = 0
    connected: bool = False


class AvlListener:
    def __init__(self, units: UnitService, clock: Clock, settings: AvlSettings) -> None:
        self._units = units
        self._clock = clock
        self._settings = settings
        self._lock = threading.Lock()
        self._stats = AvlStats()
        self._last_ts: dict[str, int] = {}  # per callsign, the fix time of the last report applied
        self._centres: dict[str, str] = {}
        self._centres_read_at: float | None = None
        self._subscribed = threading.Event()
        self._client: mqtt.Client | None = None

    @property
    def topic(self) -> str:
        return position_topic(self._settings.topic_prefix, "+")

    def stats(self) -> AvlStats:
        with self._lock:
            s = self._stats
            return AvlStats(
                s.accepted,
                Counter(s.rejected),
                s.statuses_applied,
                s.statuses_ignored,
                s.connects,
                s.disconnects,
                s.connected,
            )

    def handle(self, topic: str, payload: bytes) -> AvlReport | Rejection:
        """Check one message and apply it. Called on paho's thread; callable directly in tests."""
        with self._lock:
            try:
                outcome = self._apply(topic, payload)
            except Exception:  # paho's thread must survive a database failure: the next report may succeed
                log.exception("AVL report on %s could not be applied", topic)
                outcome = Rejection("error", "the database refused the report; see the log")
            if isinstance(outcome, Rejection):
                self._stats.rejected[outcome.reason] += 1
                log.debug("AVL report on %s rejected: %s (%s)", topic, outcome.reason, outcome.detail)
            else:
                self._stats.accepted += 1
            return outcome

    # the broker ------------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background; paho's thread retries until the broker answers, then after every loss."""
        s = self._settings
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=s.client_id, protocol=mqtt.MQTTv311)
        if s.username is not None:
            client.username_pw_set(s.username, s.password.get_secret_value() if s.password else None)
        if s.tls:
            client.tls_set()
        client.reconnect_delay_set(1, s.reconnect_max_s)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        client.connect_async(s.host, s.port, keepalive=s.keepalive_s)
        self._client = client
        client.loop_start()

    def wait_subscribed(self, timeout_s: float) -> bool:
        return self._subscribed.wait(timeout_s)

    def stop(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.disconnect()
            client.loop_stop()
        self._subscribed.clear()

    def run(self, stop: threading.Event, *, report_every_s: float = 60.0) -> None:
        """The worker's loop: listen until told to stop, logging the counters now and then."""
        self.start()
        try:
            while not stop.wait(report_every_s):
                s = self.stats()
                log.info(
                    "AVL: connected=%s accepted=%d rejected=%s statuses applied=%d ignored=%d",
                    s.connected,
                    s.accepted,
                    dict(s.rejected),
                    s.statuses_applied,
                    s.statuses_ignored,
                )
        finally:
            self.stop()

    def _on_connect(
        self, client: mqtt.Client, _userdata: Any, _flags: mqtt.ConnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        if rc.is_failure:
            log.warning("MQTT broker %s:%d refused the connection: %s", self._settings.host, self._settings.port, rc)
            return
        with self._lock:
            self._stats.connects += 1
            self._stats.connected = True
        # Subscribed on every connect: with a clean session the broker forgets subscriptions on a reconnect.
        client.subscribe(self.topic, qos=self._settings.qos)

    def _on_subscribe(
        self, _client: mqtt.Client, _userdata: Any, _mid: int, codes: list[ReasonCode], _p: Properties | None
    ) -> None:
        if any(code.is_failure for code in codes):
            log.error("MQTT broker refused the subscription to %s: %s", self.topic, codes)
            return
        self._subscribed.set()

    def _on_disconnect(
        self, _client: mqtt.Client, _userdata: Any, _flags: mqtt.DisconnectFlags, rc: ReasonCode, _p: Properties | None
    ) -> None:
        self._subscribed.clear()
        with self._lock:
            self._stats.disconnects += 1
            self._stats.connected = False
        if self._client is not None:
            log.warning("MQTT broker connection lost (%s); reconnecting", rc)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            topic = message.topic
        except UnicodeDecodeError:
            topic = "<not UTF-8>"
        self.handle(topic, bytes(message.payload))

    # applying ----------------------------------------------------------------------------------------------

    def _apply(self, topic: str, payload: bytes) -> AvlReport | Rejection:
        callsign = callsign_from_topic(self._settings.topic_prefix, topic)
        if callsign is None:
            return Rejection("bad-topic", f"expected {self.topic}")
        report = parse_report(callsign, payload, self._clock.now_us(), self._settings)
        if isinstance(report, Rejection):
            return report
        last = self._last_ts.get(callsign)
        if last is not None and report.ts <= last:
            return Rejection("out-of-order", f"fix at {report.ts} is not newer than the one applied, {last}")
        centre = self._centre_of(callsign)
        if centre is None:
            return Rejection("unknown-unit", f"no unit {callsign!r}")
        try:
            unit = self._units.report_position(avl_principal(centre), callsign, report.lat, report.lon)
        except NotFound:  # removed, or moved to another centre, since the list was read
            self._centres.pop(callsign, None)
            return Rejection("unknown-unit", f"no unit {callsign!r} in centre {centre!r}")
        self._last_ts[callsign] = report.ts
        if report.status is not None and self._settings.apply_status:
            self._apply_status(unit, report.status)
        return report

    def _apply_status(self, unit: UnitView, status: str) -> None:
        if status == unit.status:
            return
        if unit.status not in _DEVICE_STEPS[status]:
            self._stats.statuses_ignored += 1
            log.info("AVL: %s reports %s while %s; left for a dispatcher", unit.callsign, status, unit.status)
            return
        try:
            self._units.set_status(avl_principal(unit.centre), unit.callsign, status)
        except (Conflict, Invalid, NotFound) as exc:  # the unit changed between the two writes
            self._stats.statuses_ignored += 1
            log.info("AVL: status %s for %s refused: %s", status, unit.callsign, exc)
            return
        self._stats.statuses_applied += 1

    def _centre_of(self, callsign: str) -> str | None:
        centre = self._centres.get(callsign)
        now = time.monotonic()
        if centre is None and (self._centres_read_at is None or now - self._centres_read_at >= _UNITS_REFRESH_S):
            everyone = Principal(0, "system:avl", Role.DISPATCHER, None, None, frozenset(), "cli")
            self._centres = {u.callsign: u.centre for u in self._units.units(everyone)}
            self._centres_read_at = now
            centre = self._centres.get(callsign)
        return centre


def _no_constants(name: str) -> None:
    raise ValueError(f"{name} is not a number a device can mean")


def _validation_rejection(exc: ValidationError) -> Rejection:
    errors = exc.errors()
    bounds = ("greater_than_equal", "less_than_equal")
    if all(e["loc"] in (("lat",), ("lon",)) and e["type"] in bounds for e in errors):
        where = ", ".join(f"{e['loc'][0]}={e['input']}" for e in errors)
        return Rejection("out-of-range", f"{where} is not on Earth (WGS 84)")
    first = errors[0]
    return Rejection("invalid", f"{'.'.join(str(p) for p in first['loc']) or 'report'}: {first['msg']}")
