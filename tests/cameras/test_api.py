"""The camera registry over HTTP: write-only passwords, scoping, validation as problem details."""

from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from tests.conftest import login, make_user

BODY = {
    "id": "cam-api",
    "centre": "north",
    "name": "API junction",
    "lat": -0.19,
    "lon": -78.48,
    "main_url": "rtsp://10.0.0.5/main",
    "sub_url": "rtsp://10.0.0.5/sub",
    "purpose": "Traffic incidents at the API junction",
    "retention_days": 7,
    "username": "u",
    "password": "pw-123456",
}


def test_admin_creates_operator_reads_without_secrets(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    make_user(rt, "olga", Role.OPERATOR, "north")
    make_user(rt, "sam", Role.OPERATOR, "south")
    login(client, "root")
    created = client.post("/api/cameras", json=BODY)
    assert created.status_code == 201, created.text
    assert "password" not in created.json() and created.json()["has_password"] is True
    login(client, "olga")
    assert [c["id"] for c in client.get("/api/cameras").json()] == ["cam-api"]
    assert client.post("/api/cameras", json={**BODY, "id": "cam-2"}).status_code == 403
    login(client, "sam")
    assert client.get("/api/cameras").json() == []
    assert client.get("/api/cameras/cam-api").status_code == 404


def test_camera_without_purpose_is_a_422_naming_the_field(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    login(client, "root")
    body = {k: v for k, v in BODY.items() if k != "purpose"}
    response = client.post("/api/cameras", json=body)
    assert response.status_code == 422
    assert "purpose" in response.json()["detail"]
    url_secret = client.post("/api/cameras", json={**BODY, "main_url": "rtsp://a:b@10.0.0.5/main"})
    assert url_secret.status_code == 422 and "not in the URL" in url_secret.json()["detail"]


def test_replace_and_delete(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    login(client, "root")
    client.post("/api/cameras", json=BODY)
    body = {k: v for k, v in BODY.items() if k != "password"}
    replaced = client.put("/api/cameras/cam-api", json={**body, "retention_days": 3})
    assert replaced.status_code == 200 and replaced.json()["retention_days"] == 3
    assert replaced.json()["has_password"] is True
    assert client.delete("/api/cameras/cam-api").status_code == 204
    assert client.get("/api/cameras/cam-api").status_code == 404
