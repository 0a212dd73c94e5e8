"""Call taking and dispatch over HTTP: the roles that may, what the board shows, bad bodies are a 422."""

from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from tests.conftest import login, make_user

NORTH = {"lat": -0.16, "lon": -78.47}


def test_from_call_to_dispatched_unit(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "taker", Role.CALL_TAKER, "north")
    make_user(rt, "disp", Role.DISPATCHER, "north")
    login(client, "taker")
    answer = client.post("/api/dispatch/calls", json={"caller_number": "0999", **NORTH, "text": "fire in a shop"})
    assert answer.status_code == 201 and answer.json()["duplicates"] == []
    call_id = answer.json()["call"]["id"]
    opened = client.post("/api/dispatch/incidents", json={"call_id": call_id, "type_code": "structure-fire", **NORTH})
    assert opened.status_code == 201, opened.text
    incident_id = opened.json()["id"]
    assert client.post(f"/api/dispatch/incidents/{incident_id}/dispatch", json={"callsign": "E-12"}).status_code == 403
    login(client, "disp")
    picks = client.get(f"/api/dispatch/incidents/{incident_id}/recommendation").json()
    assert picks[0]["callsign"] == "E-12" and "reason" in picks[0]
    sent = client.post(f"/api/dispatch/incidents/{incident_id}/dispatch", json={"callsign": picks[0]["callsign"]})
    assert sent.status_code == 200 and sent.json()["status"] == "dispatched"
    again = client.post(f"/api/dispatch/incidents/{incident_id}/dispatch", json={"callsign": "E-12"})
    assert again.status_code == 409
    board = client.get("/api/dispatch/incidents").json()
    assert [i["id"] for i in board] == [incident_id]
    timeline = client.get(f"/api/dispatch/incidents/{incident_id}/timeline").json()
    assert [e["kind"] for e in timeline] == ["created", "call", "dispatch"]
    moved = client.put("/api/dispatch/units/E-12/position", json={"lat": -0.17, "lon": -78.475})
    assert moved.status_code == 200 and moved.json()["lat"] == -0.17


def test_bad_bodies_and_unknown_things(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "taker", Role.CALL_TAKER, "north")
    login(client, "taker")
    assert client.post("/api/dispatch/calls", json={"caller_number": ""}).status_code == 422
    assert client.post("/api/dispatch/calls", json={"caller_number": "1", "lat": 91, "lon": 0}).status_code == 422
    call_id = client.post("/api/dispatch/calls", json={"caller_number": "1"}).json()["call"]["id"]
    unknown = client.post("/api/dispatch/incidents", json={"call_id": call_id, "type_code": "ufo", **NORTH})
    assert unknown.status_code == 422 and "unknown incident type" in unknown.json()["detail"]
    outside = client.post(
        "/api/dispatch/incidents", json={"call_id": call_id, "type_code": "robbery", "lat": 10, "lon": 10}
    )
    assert outside.status_code == 422 and "jurisdiction" in outside.json()["detail"]
    assert client.get("/api/dispatch/incidents/inc-nope").status_code == 404
    misuse = client.post(f"/api/dispatch/calls/{call_id}/misuse", json={"kind": "prank"})
    assert misuse.status_code == 200 and misuse.json()["outcome"] == "misuse"


def test_kpis_are_for_supervisors_and_export_as_csv(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "op", Role.OPERATOR, "north")
    make_user(rt, "sup", Role.SUPERVISOR, "north")
    window: dict[str, str | int] = {"since_us": 0, "until_us": 2**62, "group_by": "hour"}
    login(client, "op")
    assert client.get("/api/dispatch/kpis", params=window).status_code == 403
    login(client, "sup")
    report = client.get("/api/dispatch/kpis", params=window)
    assert report.status_code == 200 and report.json()["group_by"] == "hour"
    exported = client.get("/api/dispatch/kpis.csv", params=window)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/csv")
    assert exported.text.startswith("group,metric,count")
    assert client.get("/api/dispatch/kpis", params={**window, "group_by": "planet"}).status_code == 422


def test_the_intake_form_gets_the_sites_types_and_misuse_kinds(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "taker", Role.CALL_TAKER, "north")
    make_user(rt, "auditor", Role.AUDITOR, None, all_centres=True)
    assert client.get("/api/dispatch/types").status_code == 401
    login(client, "taker")
    answer = client.get("/api/dispatch/types")
    assert answer.status_code == 200, answer.text
    types = {t["code"]: t for t in answer.json()["incident_types"]}
    assert types["structure-fire"] == {
        "code": "structure-fire",
        "name": "Structure fire",
        "agencies": ["fire", "health"],
        "priority": 1,
        "capabilities": ["engine", "als-ambulance"],
    }
    assert "prank" in answer.json()["misuse_kinds"] and "silent" in answer.json()["misuse_kinds"]
    login(client, "auditor")  # reads the audit log, not incidents
    assert client.get("/api/dispatch/types").status_code == 403
