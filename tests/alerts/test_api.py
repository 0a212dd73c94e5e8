"""The alert queue over HTTP: who may read and handle it, centre scoping (404), the audited snapshot, bad
bodies (422) and conflicts (409)."""

from fastapi.testclient import TestClient

from sereno.alerts.service import AlertInput
from sereno.app import Runtime
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from tests.alerts.test_service import JPEG, add_camera
from tests.conftest import login, make_user


def raise_two(rt: Runtime, clock: ManualClock) -> tuple[str, str]:
    rt.privacy.ring.publish("cam-n", JPEG, clock.now_us())
    first = rt.alerts.raise_alert(
        AlertInput(rule="intrusion", severity="warning", title="Intrusion", camera_id="cam-n")
    )
    clock.advance(1)
    second = rt.alerts.raise_alert(AlertInput(rule="tamper", severity="critical", title="Covered", camera_id="cam-n"))
    return first.id, second.id


def test_an_operator_handles_the_queue(rt: Runtime, clock: ManualClock, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin)
    make_user(rt, "op", Role.OPERATOR, "north")
    first, second = raise_two(rt, clock)
    login(client, "op")
    queue = client.get("/api/alerts", params={"status": "active"})
    assert queue.status_code == 200, queue.text
    assert [(a["id"], a["severity"]) for a in queue.json()] == [(second, "critical"), (first, "warning")]
    shown = client.get(f"/api/alerts/{first}").json()
    assert shown["status"] == "open" and shown["snapshot_url"] == f"/api/alerts/{first}/snapshot.jpg"
    picture = client.get(shown["snapshot_url"])
    assert picture.status_code == 200 and picture.content == JPEG
    assert picture.headers["content-type"] == "image/jpeg"
    viewed = rt.audit.search(AuditQuery(action="video.snapshot", limit=1))[0]
    assert viewed.actor == "user:op" and viewed.target == "camera:cam-n"
    acknowledged = client.post(f"/api/alerts/{first}/acknowledge")
    assert acknowledged.status_code == 200 and acknowledged.json()["handled_by"] == "user:op"
    assert client.post(f"/api/alerts/{first}/acknowledge").status_code == 409
    dismissed = client.post(f"/api/alerts/{first}/dismiss", json={"reason": "a cat"})
    assert dismissed.status_code == 200 and dismissed.json()["dismiss_reason"] == "a cat"
    promoted = client.post(f"/api/alerts/{second}/promote", json={"type_code": "robbery"})
    assert promoted.status_code == 200, promoted.text
    incident_id = promoted.json()["incident_id"]
    timeline = client.get(f"/api/dispatch/incidents/{incident_id}/timeline").json()
    assert [e["kind"] for e in timeline] == ["created", "alert"] and timeline[1]["details"]["alert"] == second
    assert client.post(f"/api/alerts/{second}/promote", json={"type_code": "robbery"}).status_code == 409
    assert [a["status"] for a in client.get("/api/alerts").json()] == ["promoted", "dismissed"]
    assert client.get("/api/alerts", params={"status": "active"}).json() == []
    actions = [e.action for e in rt.audit.search(AuditQuery(action="alerts.", limit=10))]
    assert actions == ["alerts.promote", "alerts.dismiss", "alerts.acknowledge"]


def test_roles_and_centres_that_may_not(rt: Runtime, clock: ManualClock, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin)
    first, _ = raise_two(rt, clock)
    make_user(rt, "op-south", Role.OPERATOR, "south")
    make_user(rt, "taker", Role.CALL_TAKER, "north")
    make_user(rt, "auditor", Role.AUDITOR, None, all_centres=True)
    assert client.get("/api/alerts").status_code == 401
    for username in ("taker", "auditor"):
        login(client, username)
        assert client.get("/api/alerts").status_code == 403
        assert client.post(f"/api/alerts/{first}/acknowledge").status_code == 403
    login(client, "op-south")
    assert client.get("/api/alerts").json() == []
    assert client.get(f"/api/alerts/{first}").status_code == 404
    assert client.get(f"/api/alerts/{first}/snapshot.jpg").status_code == 404
    assert client.post(f"/api/alerts/{first}/acknowledge").status_code == 404
    assert client.post(f"/api/alerts/{first}/dismiss", json={"reason": "not mine"}).status_code == 404
    assert client.post(f"/api/alerts/{first}/promote", json={"type_code": "robbery"}).status_code == 404
    assert rt.alerts.get(admin, first).status == "open"


def test_bad_requests_get_clear_answers(rt: Runtime, clock: ManualClock, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-q")
    make_user(rt, "disp", Role.DISPATCHER, "north")
    bare = rt.alerts.raise_alert(AlertInput(rule="intrusion", severity="info", title="Quiet", camera_id="cam-q"))
    login(client, "disp")
    assert client.get("/api/alerts/alr-nope").status_code == 404
    assert client.post("/api/alerts/alr-nope/acknowledge").status_code == 404
    missing = client.get(f"/api/alerts/{bare.id}/snapshot.jpg")
    assert missing.status_code == 404 and "no snapshot" in missing.json()["detail"]
    assert client.get("/api/alerts", params={"status": "lost"}).status_code == 422
    assert client.get("/api/alerts", params={"limit": 0}).status_code == 422
    for body in ({}, {"reason": ""}, {"reason": "x", "extra": 1}):
        assert client.post(f"/api/alerts/{bare.id}/dismiss", json=body).status_code == 422
    assert client.post(f"/api/alerts/{bare.id}/dismiss", json={"reason": "   "}).status_code == 422
    unknown = client.post(f"/api/alerts/{bare.id}/promote", json={"type_code": "ufo"})
    assert unknown.status_code == 422 and "unknown incident type" in unknown.json()["detail"]
    far = client.post(f"/api/alerts/{bare.id}/promote", json={"type_code": "robbery", "lat": 91, "lon": 0})
    assert far.status_code == 422
    assert client.get(f"/api/alerts/{bare.id}").json()["status"] == "open"


def test_one_cameras_alerts(rt: Runtime, clock: ManualClock, admin: Principal, client: TestClient) -> None:
    """The console's camera page lists that camera's alerts only; alerts with no camera never show there."""
    add_camera(rt, admin)
    first, second = raise_two(rt, clock)
    rt.alerts.raise_alert(AlertInput(rule="manual", severity="info", title="Report", centre="north"))
    make_user(rt, "op", Role.OPERATOR, "north")
    login(client, "op")
    assert len(client.get("/api/alerts").json()) == 3
    mine = client.get("/api/alerts", params={"camera": "cam-n"})
    assert mine.status_code == 200 and [a["id"] for a in mine.json()] == [second, first]
    assert client.get("/api/alerts", params={"camera": "cam-elsewhere"}).json() == []
