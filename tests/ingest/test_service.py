"""Stream health is stored per camera and stream, and shown only to those who see the camera."""

import pytest

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.errors import NotFound
from sereno.ingest.health import StreamHealth, StreamState
from tests.conftest import make_user
from tests.recording.helpers import add_camera


def health(camera_id: str, state: StreamState, fps: float) -> StreamHealth:
    return StreamHealth(camera_id, "main", state, fps, 1000.0, 5, 0, None, 0, 0)


def test_reports_replace_the_previous_and_are_scoped(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin, "cam-n", "north")
    add_camera(rt, admin, "cam-s", "south")
    rt.ingest.report([health("cam-n", StreamState.STREAMING, 25.0), health("cam-s", StreamState.DOWN, 0.0)])
    rt.ingest.report([health("cam-n", StreamState.STREAMING, 24.0)])
    north = make_user(rt, "op-north", Role.OPERATOR, "north")
    assert [(h.camera_id, h.fps) for h in rt.ingest.overview(north)] == [("cam-n", 24.0)]
    assert rt.ingest.health(admin, "cam-s")[0].state is StreamState.DOWN
    with pytest.raises(NotFound):
        rt.ingest.health(north, "cam-s")


def test_a_report_replaces_every_field_and_keeps_streams_apart(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin, "cam-n", "north")
    failing = StreamHealth("cam-n", "main", StreamState.DOWN, 0.0, 0.0, None, 3, "connection refused", 2, 7)
    sub = StreamHealth("cam-n", "sub", StreamState.STREAMING, 5.0, 400.0, 11, 0, None, 0, 0)
    rt.ingest.report([failing, sub])
    recovered = StreamHealth("cam-n", "main", StreamState.STREAMING, 25.0, 4000.0, 99, 0, None, 3, 0)
    rt.ingest.report([recovered])
    assert rt.ingest.health(admin, "cam-n") == [recovered, sub]
