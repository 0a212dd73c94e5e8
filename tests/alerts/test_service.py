"""Alerts: folding repeats within the cooldown, escalation by severity, handling with audit, promotion to an
incident, centre scoping, bad input, snapshots only from the anonymised ring, and live events."""

import asyncio
import dataclasses
import json

import pytest

from sereno.alerts.events import AlertChanged, AlertRaised
from sereno.alerts.service import AlertInput
from sereno.app import Runtime
from sereno.config.alerts import AlertSettings
from sereno.config.cameras import CameraConfig
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import ROLE_PERMISSIONS, Permission, Role
from sereno.core.auth.principal import Principal
from sereno.core.bus import InProcessBus
from sereno.core.clock import ManualClock
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.messages import Message
from tests.conftest import make_user

NORTH = (-0.16, -78.47)
JPEG = b"\xff\xd8anonymised\xff\xd9"


def add_camera(
    rt: Runtime, admin: Principal, camera_id: str = "cam-n", centre: str = "north", anonymiser: str | None = "default"
) -> None:
    fields = {
        "id": camera_id,
        "centre": centre,
        "name": f"Camera {camera_id}",
        "lat": NORTH[0],
        "lon": NORTH[1],
        "main_url": "rtsp://127.0.0.1:1/main",
        "sub_url": "rtsp://127.0.0.1:1/sub",
        "purpose": "Testing alerts",
        "retention_days": 7,
    }
    if anonymiser != "default":
        fields["anonymiser"] = anonymiser
    rt.cameras.create(admin, CameraConfig.model_validate(fields))


def intrusion(camera_id: str | None = "cam-n", **changes: object) -> AlertInput:
    alert = AlertInput(rule="intrusion", severity="warning", title="Intrusion: person in the zone", camera_id=camera_id)
    return dataclasses.replace(alert, **changes)  # type: ignore[arg-type]


def test_unacknowledged_alerts_escalate_by_severity(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    critical = rt.alerts.raise_alert(intrusion(rule="tamper", severity="critical", title="Camera covered"))
    warning = rt.alerts.raise_alert(intrusion())
    clock.advance(59)
    assert rt.alerts.escalate_due() == []
    clock.advance(1)  # critical: 60 s
    assert [(a.id, a.escalation_level) for a in rt.alerts.escalate_due()] == [(critical.id, 1)]
    assert rt.alerts.escalate_due() == []  # once per delay, not once per check
    clock.advance(60)
    assert [a.escalation_level for a in rt.alerts.escalate_due()] == [2]
    rt.alerts.acknowledge(admin, critical.id)
    clock.advance(180)  # warning: 300 s after it was raised
    assert [(a.id, a.escalated_us) for a in rt.alerts.escalate_due()] == [(warning.id, clock.now_us())]
    assert rt.alerts.get(admin, critical.id).escalation_level == 2  # acknowledged: no further
    for _ in range(5):
        clock.advance(300)
        rt.alerts.escalate_due()
    assert rt.alerts.get(admin, warning.id).escalation_level == AlertSettings().max_escalation_level


def test_the_background_loop_escalates(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    alert = rt.alerts.raise_alert(intrusion(severity="critical"))
    clock.advance(61)

    async def scenario() -> int:
        loop = asyncio.create_task(rt.alerts.escalate_forever(interval_s=0.01))
        for _ in range(200):
            await asyncio.sleep(0.01)
            if rt.alerts.get(admin, alert.id).escalation_level:
                break
        loop.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loop
        return rt.alerts.get(admin, alert.id).escalation_level

    assert asyncio.run(scenario()) == 1


def test_acknowledge_dismiss_and_promote_are_audited(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    operator = make_user(rt, "op-north", Role.OPERATOR, "north")
    one = rt.alerts.raise_alert(intrusion())
    two = rt.alerts.raise_alert(intrusion(rule="tamper", severity="critical", title="Camera covered"))
    acknowledged = rt.alerts.acknowledge(operator, one.id)
    assert (acknowledged.status, acknowledged.handled_by, acknowledged.handled_us) == (
        "acknowledged",
        "user:op-north",
        clock.now_us(),
    )
    with pytest.raises(Conflict, match="already acknowledged"):
        rt.alerts.acknowledge(operator, one.id)
    dismissed = rt.alerts.dismiss(operator, one.id, "  a cat on the fence  ")
    assert (dismissed.status, dismissed.dismiss_reason) == ("dismissed", "a cat on the fence")
    with pytest.raises(Conflict, match="already dismissed"):
        rt.alerts.promote(operator, one.id, "robbery")
    clock.advance(30)
    promoted = rt.alerts.promote(operator, two.id, "robbery")
    assert promoted.status == "promoted" and promoted.incident_id is not None
    incident = rt.dispatch.incident(operator, promoted.incident_id)
    assert (incident.centre, incident.type_code, incident.status) == ("north", "robbery", "new")
    assert (incident.lat, incident.lon, incident.answered_us) == (*NORTH, clock.now_us())
    timeline = rt.dispatch.timeline(operator, incident.id)
    assert [e.kind for e in timeline] == ["created", "alert"]
    assert timeline[1].details == {
        "alert": two.id,
        "rule": "tamper",
        "severity": "critical",
        "title": "Camera covered",
        "camera": "cam-n",
    }
    with pytest.raises(Conflict, match="already promoted"):
        rt.alerts.promote(operator, two.id, "robbery")
    entries = rt.audit.search(AuditQuery(action="alerts.", limit=10))
    assert [(e.action, e.target, e.actor, e.centre) for e in reversed(entries)] == [
        ("alerts.acknowledge", f"alert:{one.id}", "user:op-north", "north"),
        ("alerts.dismiss", f"alert:{one.id}", "user:op-north", "north"),
        ("alerts.promote", f"alert:{two.id}", "user:op-north", "north"),
    ]


def test_a_failed_promotion_leaves_no_incident_behind(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    alert = rt.alerts.raise_alert(intrusion())
    with pytest.raises(Invalid, match="unknown incident type"):
        rt.alerts.promote(admin, alert.id, "ufo")
    before = rt.dispatch.incidents(admin)
    rt.alerts.promote(admin, alert.id, "robbery")
    with pytest.raises(Conflict):
        rt.alerts.promote(admin, alert.id, "robbery")
    assert len(rt.dispatch.incidents(admin)) == len(before) + 1
    assert rt.alerts.get(admin, alert.id).status == "promoted"
    centre_wide = rt.alerts.raise_alert(
        AlertInput(rule="disk-pressure", severity="critical", title="Disk almost full", centre="north")
    )
    with pytest.raises(Invalid, match="no camera"):
        rt.alerts.promote(admin, centre_wide.id, "robbery")
    placed = rt.alerts.promote(admin, centre_wide.id, "flooding", lat=-0.17, lon=-78.46)
    assert placed.incident_id is not None and rt.dispatch.incident(admin, placed.incident_id).lat == -0.17


def test_other_centres_see_nothing(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    south = make_user(rt, "op-south", Role.OPERATOR, "south")
    national = make_user(rt, "sup", Role.SUPERVISOR, None, all_centres=True)
    alert = rt.alerts.raise_alert(intrusion())
    assert rt.alerts.list(south) == []
    for attempt in (
        lambda: rt.alerts.get(south, alert.id),
        lambda: rt.alerts.acknowledge(south, alert.id),
        lambda: rt.alerts.dismiss(south, alert.id, "not mine"),
        lambda: rt.alerts.promote(south, alert.id, "robbery"),
        lambda: rt.alerts.snapshot(south, alert.id),
    ):
        with pytest.raises(NotFound):
            attempt()
    assert rt.alerts.get(admin, alert.id).status == "open"
    assert [a.id for a in rt.alerts.list(national, status="active")] == [alert.id]


def test_list_is_newest_first_and_filters(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    old = rt.alerts.raise_alert(intrusion())
    clock.advance(1)
    new = rt.alerts.raise_alert(intrusion(rule="tamper", severity="critical", title="Covered"))
    rt.alerts.acknowledge(admin, old.id)
    assert [a.id for a in rt.alerts.list(admin)] == [new.id, old.id]
    assert [a.id for a in rt.alerts.list(admin, status="open")] == [new.id]
    assert [a.id for a in rt.alerts.list(admin, status="acknowledged")] == [old.id]
    assert [a.id for a in rt.alerts.list(admin, status="active", limit=1)] == [new.id]
    assert rt.alerts.list(admin, status="promoted") == []
    with pytest.raises(Invalid):
        rt.alerts.list(admin, limit=0)


def test_bad_input_is_refused_clearly(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    with pytest.raises(NotFound):
        rt.alerts.get(admin, "alr-nope")
    with pytest.raises(NotFound):
        rt.alerts.acknowledge(admin, "alr-nope")
    with pytest.raises(NotFound):
        rt.alerts.raise_alert(intrusion(camera_id="cam-gone"))
    refused = {
        "rule name": intrusion(rule="Not A Rule"),
        "severity": intrusion(severity="panic"),
        "title": intrusion(title="   "),
        "camera or a centre": intrusion(camera_id=None),
        "belongs to centre": intrusion(centre="south"),
        "plain JSON": intrusion(details={"when": object()}),
        "limited": intrusion(details={"x": "y" * 9000}),
        "cooldown": intrusion(cooldown_s=-1.0),
    }
    for message, bad in refused.items():
        with pytest.raises(Invalid, match=message):
            rt.alerts.raise_alert(bad)
    alert = rt.alerts.raise_alert(intrusion())
    with pytest.raises(Invalid, match="needs a reason"):
        rt.alerts.dismiss(admin, alert.id, "   ")
    with pytest.raises(Invalid, match="both latitude and longitude"):
        rt.alerts.promote(admin, alert.id, "robbery", lat=-0.17)
    assert rt.alerts.get(admin, alert.id).status == "open"


def test_snapshots_come_only_from_the_anonymised_ring(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin, "cam-n")
    add_camera(rt, admin, "cam-raw", anonymiser=None)
    add_camera(rt, admin, "cam-quiet")
    rt.privacy.ring.publish("cam-n", JPEG, clock.now_us())
    rt.privacy.ring.publish("cam-raw", b"\xff\xd8must never be kept\xff\xd9", clock.now_us())
    kept = rt.alerts.raise_alert(intrusion("cam-n"))
    assert kept.snapshot_url == f"/api/alerts/{kept.id}/snapshot.jpg"
    assert rt.alerts.snapshot(admin, kept.id, "127.0.0.1") == JPEG
    entry = rt.audit.search(AuditQuery(action="video.snapshot", limit=1))[0]
    assert (entry.target, entry.actor) == ("camera:cam-n", admin.actor)
    assert kept.clip_start_us == kept.first_us - 10_000_000 and kept.clip_end_us == kept.first_us + 20_000_000
    assert kept.clip_url == (f"/api/video/cam-n/playback.m3u8?start_us={kept.clip_start_us}&end_us={kept.clip_end_us}")
    for camera_id in ("cam-raw", "cam-quiet"):  # no anonymiser / no frame: an alert, without a picture
        bare = rt.alerts.raise_alert(intrusion(camera_id))
        assert bare.snapshot_url is None and bare.clip_url is not None
        with pytest.raises(NotFound, match="no snapshot"):
            rt.alerts.snapshot(admin, bare.id)
    clock.advance(31)  # the ring's frame is now older than the alert's moment allows
    stale = rt.alerts.raise_alert(intrusion("cam-n", rule="tamper", severity="critical", title="Covered"))
    assert stale.snapshot_url is None
    files = sorted(p.read_bytes() for p in (rt.settings.data_dir / "alerts").rglob("*.jpg"))
    assert files == [JPEG]


def test_snapshots_of_dismissed_alerts_expire_and_the_others_keep_theirs(
    rt: Runtime, clock: ManualClock, admin: Principal
) -> None:
    add_camera(rt, admin, "cam-n")
    raised = {}
    for rule in ("intrusion", "tamper", "line-crossing", "crowd-density"):
        rt.privacy.ring.publish("cam-n", JPEG, clock.now_us())
        raised[rule] = rt.alerts.raise_alert(intrusion(rule=rule, title=f"{rule} seen"))
        clock.advance(1)
    rt.alerts.dismiss(admin, raised["intrusion"].id, "a maintenance crew")
    rt.alerts.acknowledge(admin, raised["tamper"].id)
    rt.alerts.promote(admin, raised["line-crossing"].id, "traffic-collision")
    assert rt.alerts.expire_snapshots() == 0  # all younger than the retention
    clock.advance(30 * 86_400)
    rt.privacy.ring.publish("cam-n", JPEG, clock.now_us())
    recent = rt.alerts.raise_alert(intrusion(rule="tamper", title="covered again", dedup_key="new"))
    rt.alerts.dismiss(admin, recent.id, "the lens was cleaned")
    assert rt.alerts.expire_snapshots() == 1  # the old dismissed one only
    assert rt.alerts.get(admin, raised["intrusion"].id).snapshot_url is None
    with pytest.raises(NotFound, match="no snapshot"):
        rt.alerts.snapshot(admin, raised["intrusion"].id)
    for rule in ("tamper", "line-crossing", "crowd-density"):  # acknowledged, promoted, open
        assert rt.alerts.snapshot(admin, raised[rule].id) == JPEG
    assert rt.alerts.snapshot(admin, recent.id) == JPEG
    files = sorted(p.name for p in (rt.settings.data_dir / "alerts").rglob("*.jpg"))
    assert len(files) == 4 and f"{raised['intrusion'].id}.jpg" not in files
    (entry,) = rt.audit.search(AuditQuery(action="alerts.snapshots_expired", limit=5))
    assert json.loads(entry.details) == {"count": 1, "retention_days": 30}
    assert rt.alerts.expire_snapshots() == 0


def test_snapshots_can_be_switched_off(
    settings: Settings, clock: ManualClock, admin: Principal, site: SiteConfig
) -> None:
    runtime = Runtime.build(settings.model_copy(update={"alerts": AlertSettings(snapshot=False)}), clock=clock)
    try:
        runtime.directory.sync_centres(site, "test")
        add_camera(runtime, admin)
        runtime.privacy.ring.publish("cam-n", JPEG, clock.now_us())
        assert runtime.alerts.raise_alert(intrusion()).snapshot_url is None
        assert not (settings.data_dir / "alerts").exists()
    finally:
        runtime.close()


def test_changes_are_published_live_to_the_right_consoles(rt: Runtime, clock: ManualClock, admin: Principal) -> None:
    add_camera(rt, admin)
    north = Principal(1, "op", Role.OPERATOR, "north", frozenset({"north"}), ROLE_PERMISSIONS[Role.OPERATOR], "session")
    south = dataclasses.replace(north, username="op-s", centre="south", centres=frozenset({"south"}))
    taker = dataclasses.replace(
        north, username="taker", role=Role.CALL_TAKER, permissions=ROLE_PERMISSIONS[Role.CALL_TAKER]
    )
    assert not taker.can(Permission.ALERTS_READ)

    async def scenario() -> tuple[list[Message], list[tuple[str, str]], list[list[tuple[str, str]]]]:
        bus = rt.bus
        assert isinstance(bus, InProcessBus)
        await bus.start()
        seen: list[Message] = []

        async def note(message: Message) -> None:
            seen.append(message)

        await bus.subscribe(AlertRaised, note)
        await bus.subscribe(AlertChanged, note)
        streams = [rt.live.events(who, heartbeat_s=0.05) for who in (north, south, taker)]
        for stream in streams:
            assert (await anext(stream))[0] == "hello"
        alert = rt.alerts.raise_alert(intrusion())
        rt.alerts.raise_alert(intrusion())
        rt.alerts.acknowledge(admin, alert.id)
        await bus.drain()
        received = [await anext(streams[0]) for _ in range(3)]
        others = [[await anext(stream)] for stream in streams[1:]]
        for stream in streams:
            await stream.aclose()
        await rt.live.close()
        await bus.close()
        return seen, received, others

    seen, received, others = asyncio.run(scenario())
    assert [type(m).__name__ for m in seen] == ["AlertRaised", "AlertChanged", "AlertChanged"]
    assert [getattr(m, "change", None) for m in seen] == ["raised", "repeated", "acknowledged"]
    assert [name for name, _ in received] == ["alert", "alert", "alert"]
    assert '"change":"raised"' in received[0][1] and '"centre":"north"' in received[0][1]
    assert others == [[("ping", "")], [("ping", "")]]  # south and the call taker get nothing but the heartbeat
