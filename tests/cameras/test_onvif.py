"""ONVIF: discovery, device identity, profiles with their stream URLs, digest authentication, bad answers."""

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.cameras.onvif import OnvifClient, OnvifError, discover
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import Role
from tests.cameras.fake_onvif import PASSWORD, FakeOnvifCamera
from tests.conftest import login, make_user


@pytest.fixture
def camera() -> Iterator[FakeOnvifCamera]:
    fake = FakeOnvifCamera()
    yield fake
    fake.close()


def test_discovery_finds_the_device_and_ignores_junk(camera: FakeOnvifCamera) -> None:
    found = discover(timeout_s=0.5, target=camera.discovery_address)
    assert [d.service_urls for d in found] == [[camera.device_url]]
    assert found[0].scopes == ["onvif://www.onvif.org/name/Dome9"]


def test_identity_profiles_and_stream_urls(camera: FakeOnvifCamera) -> None:
    client = OnvifClient(camera.device_url, "admin", PASSWORD)
    info = client.device_information()
    assert (info.manufacturer, info.model, info.serial) == ("Acme", "Dome 9", "SN-42")
    profiles = client.profiles()
    assert [(p.token, p.width, p.height, p.fps, p.encoding) for p in profiles] == [
        ("main_1", 1920, 1080, 25.0, "H264"),
        ("sub_1", 640, 360, 5.0, "H264"),
    ]
    assert profiles[0].stream_url == "rtsp://127.0.0.1:554/main_1"


def test_wrong_password_and_dead_devices_are_clear_errors(camera: FakeOnvifCamera) -> None:
    with pytest.raises(OnvifError, match="not authorized"):
        OnvifClient(camera.device_url, "admin", "wrong").device_information()
    with pytest.raises(OnvifError, match="cannot reach"):
        OnvifClient("http://127.0.0.1:9/onvif", "admin", PASSWORD, timeout_s=1).device_information()


def test_lookup_over_http_is_for_admins_and_audited(rt: Runtime, client: TestClient, camera: FakeOnvifCamera) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    make_user(rt, "op", Role.OPERATOR, "north")
    body = {"device_url": camera.device_url, "username": "admin", "password": PASSWORD}
    login(client, "op")
    assert client.post("/api/cameras/onvif/lookup", json=body).status_code == 403
    login(client, "root")
    answer = client.post("/api/cameras/onvif/lookup", json=body)
    assert answer.status_code == 200, answer.text
    assert answer.json()["device"]["model"] == "Dome 9" and len(answer.json()["profiles"]) == 2
    assert PASSWORD not in str(rt.audit.search(AuditQuery(action="cameras.onvif_lookup"))[0])
    refused = client.post("/api/cameras/onvif/lookup", json={**body, "password": "wrong"})
    assert refused.status_code == 503 and "not authorized" in refused.json()["detail"]
    assert client.post("/api/cameras/onvif/lookup", json={**body, "device_url": "ftp://x"}).status_code == 422
