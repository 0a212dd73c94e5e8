"""The camera registry: purpose and retention required, credentials sealed, centre scoping, audit."""

import asyncio

import pytest
from pydantic import ValidationError
from sqlalchemy import text

from sereno.app import Runtime
from sereno.cameras.events import CameraChanged
from sereno.config.cameras import CameraConfig
from sereno.config.site import SiteConfig
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.errors import Conflict, Invalid, NotFound
from sereno.core.sealing import SealError
from tests.conftest import make_user


def camera(**overrides: object) -> CameraConfig:
    values: dict[str, object] = {
        "id": "cam-test",
        "centre": "north",
        "name": "Test junction",
        "lat": -0.19,
        "lon": -78.48,
        "main_url": "rtsp://10.0.0.5:554/main",
        "sub_url": "rtsp://10.0.0.5:554/sub",
        "purpose": "Traffic incidents at the test junction",
        "retention_days": 14,
        "username": "viewer",
    }
    values.update(overrides)
    return CameraConfig.model_validate(values)


def test_create_list_get_and_audit(rt: Runtime, admin: Principal) -> None:
    view = rt.cameras.create(admin, camera(), password="s3cret-stream")
    assert view.has_password and view.username == "viewer" and view.retention_days == 14
    assert [c.id for c in rt.cameras.visible(admin)] == ["cam-test"]
    entry = rt.audit.search(AuditQuery(action="cameras.", limit=1))[0]
    assert entry.target == "camera:cam-test" and entry.centre == "north"
    assert "s3cret-stream" not in entry.details


def test_password_is_sealed_at_rest_and_bound_to_its_camera(rt: Runtime, admin: Principal) -> None:
    rt.cameras.create(admin, camera(), password="s3cret-stream")
    rt.cameras.create(admin, camera(id="cam-other"), password="other-secret")
    with rt.db.read() as s:
        sealed = s.execute(text("SELECT password_sealed FROM cameras WHERE id = 'cam-test'")).scalar_one()
    assert b"s3cret-stream" not in bytes(sealed)
    assert rt.cameras.stream_credentials("cam-test").password == "s3cret-stream"
    with rt.db.write() as s:  # moving a sealed value to another camera does not open there
        s.execute(text("UPDATE cameras SET password_sealed = :p WHERE id = 'cam-other'"), {"p": bytes(sealed)})
    with pytest.raises(SealError):
        rt.cameras.stream_credentials("cam-other")


def test_replace_keeps_the_password_unless_given(rt: Runtime, admin: Principal) -> None:
    rt.cameras.create(admin, camera(), password="first-secret")
    rt.cameras.replace(admin, "cam-test", camera(name="Renamed"))
    assert rt.cameras.get(admin, "cam-test").name == "Renamed"
    assert rt.cameras.stream_credentials("cam-test").password == "first-secret"
    rt.cameras.replace(admin, "cam-test", camera(), password="second-secret")
    assert rt.cameras.stream_credentials("cam-test").password == "second-secret"
    with pytest.raises(Invalid):
        rt.cameras.replace(admin, "cam-test", camera(id="cam-renamed"))


def test_operator_sees_only_cameras_of_its_centres(rt: Runtime, admin: Principal) -> None:
    rt.cameras.create(admin, camera())
    rt.cameras.create(admin, camera(id="cam-south", centre="south"))
    olga = make_user(rt, "olga", Role.OPERATOR, "north")
    assert [c.id for c in rt.cameras.visible(olga)] == ["cam-test"]
    with pytest.raises(NotFound):
        rt.cameras.get(olga, "cam-south")


def test_scoped_admin_cannot_place_a_camera_in_another_centre(rt: Runtime) -> None:
    local = make_user(rt, "ana", Role.ADMIN, "north")
    with pytest.raises(NotFound):
        rt.cameras.create(local, camera(centre="south"))


def test_bad_cameras_are_refused(rt: Runtime, admin: Principal) -> None:
    with pytest.raises(ValidationError):
        camera(purpose="")  # no purpose, no camera
    with pytest.raises(ValidationError):
        camera(retention_days=0)
    with pytest.raises(NotFound):
        rt.cameras.create(admin, camera(centre="atlantis"))
    with pytest.raises(Invalid, match="not in the URL"):
        rt.cameras.create(admin, camera(main_url="rtsp://admin:hunter2@10.0.0.5/main"))
    with pytest.raises(Invalid, match="scheme"):
        rt.cameras.create(admin, camera(sub_url="javascript:alert(1)"))
    rt.cameras.create(admin, camera())
    with pytest.raises(Conflict):
        rt.cameras.create(admin, camera())


def test_delete_is_audited_and_published(rt: Runtime, admin: Principal) -> None:
    seen: list[CameraChanged] = []

    async def scenario() -> None:
        async def on(msg: CameraChanged) -> None:
            seen.append(msg)

        await rt.bus.start()
        await rt.bus.subscribe(CameraChanged, on)
        await asyncio.to_thread(rt.cameras.create, admin, camera())
        await asyncio.to_thread(rt.cameras.delete, admin, "cam-test")
        for _ in range(50):
            if len(seen) == 2:
                break
            await asyncio.sleep(0.01)
        await rt.bus.close()

    asyncio.run(scenario())
    assert [m.change for m in seen] == ["created", "deleted"]
    assert rt.cameras.visible(admin) == []
    assert rt.audit.search(AuditQuery(action="cameras.delete", limit=1))[0].target == "camera:cam-test"


def test_site_sync_is_idempotent_and_reads_passwords_from_the_environment(
    rt: Runtime, admin: Principal, site: SiteConfig
) -> None:
    assert sorted(rt.cameras.sync_from_site(site, admin, env={})) == sorted(c.id for c in site.cameras)
    assert rt.cameras.sync_from_site(site, admin, env={}) == []
    with_secret = site.model_copy(
        update={
            "cameras": [site.cameras[0].model_copy(update={"username": "viewer", "password_env": "CAM_PLAZA_PASSWORD"})]
        }
    )
    with pytest.raises(Invalid, match="CAM_PLAZA_PASSWORD"):
        rt.cameras.sync_from_site(with_secret, admin, env={})
    assert rt.cameras.sync_from_site(with_secret, admin, env={"CAM_PLAZA_PASSWORD": "from-env"}) == [site.cameras[0].id]
    assert rt.cameras.stream_credentials(site.cameras[0].id).password == "from-env"


def test_a_drone_follows_its_telemetry_and_a_fixed_camera_does_not(rt: Runtime, admin: Principal) -> None:
    rt.cameras.create(admin, camera(id="drone-1", kind="drone"))
    rt.cameras.create(admin, camera(id="cam-fixed"))
    moved = rt.cameras.update_position(admin, "drone-1", -0.21, -78.5, 90.0)
    assert (moved.lat, moved.lon, moved.heading_deg) == (-0.21, -78.5, 90.0)
    with pytest.raises(Invalid, match="only drone"):
        rt.cameras.update_position(admin, "cam-fixed", -0.21, -78.5, 0.0)
    south = make_user(rt, "op-south", Role.OPERATOR, "south")
    with pytest.raises(NotFound):
        rt.cameras.update_position(south, "drone-1", 0.0, 0.0, 0.0)


def test_stream_credentials_go_into_the_url_escaped_and_only_when_there_are_some() -> None:
    from sereno.cameras.service import StreamCredentials

    url = "rtsp://10.0.0.5:8554/main"
    assert StreamCredentials(None, "ignored").in_url(url) == url
    assert StreamCredentials("viewer", "p@ss:w/rd").in_url(url) == "rtsp://viewer:p%40ss%3Aw%2Frd@10.0.0.5:8554/main"
    assert StreamCredentials("viewer", None).in_url("http://cam/x.ts") == "http://viewer@cam/x.ts"
