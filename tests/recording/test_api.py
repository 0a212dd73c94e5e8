"""Recording routes: the index and gaps are scoped; holds need the legal role; bad input is a 422."""

from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from tests.conftest import login, make_user
from tests.recording.helpers import DAY, SECOND, add_camera, store_segment

T0 = 1_800_000_000 * SECOND


def test_index_and_gaps_over_http(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    segment_id = store_segment(rt, "cam-n", T0)
    rt.recording.add_gap("cam-n", "main", T0 + 10 * SECOND, T0 + 12 * SECOND, "camera rebooted")
    make_user(rt, "op-north", Role.OPERATOR, "north")
    make_user(rt, "op-south", Role.OPERATOR, "south")
    login(client, "op-north")
    window = {"start_us": T0, "end_us": T0 + 60 * SECOND}
    listed = client.get("/api/recordings/cam-n/segments", params=window).json()
    assert [s["id"] for s in listed] == [segment_id] and listed[0]["sealed"] is True
    assert "key_wrapped" not in listed[0] and "storage_key" not in listed[0]
    gaps = client.get("/api/recordings/cam-n/gaps", params=window).json()
    assert gaps[0]["reason"] == "camera rebooted"
    assert client.get("/api/recordings/cam-n/segments", params={"start_us": -1, "end_us": 5}).status_code == 422
    assert client.get("/api/recordings/cam-n/segments", params={"start_us": 9, "end_us": 5}).status_code == 422
    login(client, "op-south")
    assert client.get("/api/recordings/cam-n/segments", params=window).status_code == 404


def test_holds_need_the_legal_role(rt: Runtime, admin: Principal, client: TestClient) -> None:
    add_camera(rt, admin, "cam-n", "north")
    body = {
        "camera_id": "cam-n",
        "start_us": T0,
        "end_us": T0 + DAY,
        "reason": "Robbery reported at 21:40",
        "case_ref": "F-88",
    }
    make_user(rt, "op-north", Role.OPERATOR, "north")
    make_user(rt, "legal", Role.LEGAL_LIAISON, "north")
    login(client, "op-north")
    assert client.post("/api/recordings/holds", json=body).status_code == 403
    login(client, "legal")
    created = client.post("/api/recordings/holds", json=body)
    assert created.status_code == 201
    hold_id = created.json()["id"]
    assert [h["id"] for h in client.get("/api/recordings/holds/active").json()] == [hold_id]
    assert client.post("/api/recordings/holds", json={**body, "extra": 1}).status_code == 422
    assert client.post("/api/recordings/holds", json={**body, "end_us": T0}).status_code == 422
    released = client.post(f"/api/recordings/holds/{hold_id}/release")
    assert released.status_code == 200 and released.json()["released_us"] is not None
    assert client.post(f"/api/recordings/holds/{hold_id}/release").status_code == 404
