"""Audit over HTTP: scoped search, verification status, and the public key for outside verifiers."""

from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from tests.conftest import login, make_user


def test_supervisor_searches_only_its_centres(rt: Runtime, client: TestClient) -> None:
    rt.audit.record(actor="user:x", action="camera.view", centre="north")
    rt.audit.record(actor="user:y", action="camera.view", centre="south")
    make_user(rt, "nora", Role.SUPERVISOR, "north")
    login(client, "nora")
    entries = client.get("/api/audit/entries", params={"action": "camera."}).json()
    assert [e["centre"] for e in entries] == ["north"]


def test_searching_the_log_is_itself_audited(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "aud", Role.AUDITOR, all_centres=True)
    login(client, "aud")
    client.get("/api/audit/entries")
    newest = client.get("/api/audit/entries", params={"limit": 1}).json()[0]
    assert newest["action"] == "audit.search" and newest["actor"] == "user:aud"


def test_auditor_sees_verification_status(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "aud", Role.AUDITOR, all_centres=True)
    login(client, "aud")
    status = client.get("/api/audit/verify").json()
    assert status["ok"] is True and status["entries"] >= 3
    pem = client.get("/api/audit/public-key").text
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_bad_query_parameters_are_422(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "aud", Role.AUDITOR, all_centres=True)
    login(client, "aud")
    assert client.get("/api/audit/entries", params={"limit": 0}).status_code == 422
    assert client.get("/api/audit/entries", params={"since_us": "yesterday"}).status_code == 422
