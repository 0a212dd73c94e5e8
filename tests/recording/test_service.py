"""The recording index: scoped listing, gaps, audited opening of sealed originals, legal holds, recovery."""

import pytest

from sereno.app import Runtime
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from sereno.core.clock import ManualClock
from sereno.core.errors import Invalid, NotFound
from sereno.core.sealing import MasterKeys
from sereno.recording.models import Segment
from tests.conftest import make_user
from tests.recording.helpers import DAY, SECOND, add_camera, store_segment

T0 = 1_800_000_000 * SECOND


def test_segments_and_gaps_are_listed_for_those_who_see_the_camera(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin, "cam-n", "north")
    first = store_segment(rt, "cam-n", T0)
    second = store_segment(rt, "cam-n", T0 + 10 * SECOND)
    rt.recording.add_gap("cam-n", "main", T0 + 20 * SECOND, T0 + 25 * SECOND, "the camera closed the connection")
    rt.recording.add_gap("cam-n", "main", T0, T0, "empty gaps are not recorded")
    north = make_user(rt, "op-north", Role.OPERATOR, "north")
    south = make_user(rt, "op-south", Role.OPERATOR, "south")
    listed = rt.recording.segments(north, "cam-n", T0, T0 + 60 * SECOND)
    assert [s.id for s in listed] == [first, second] and all(s.sealed for s in listed)
    assert [s.id for s in rt.recording.segments(north, "cam-n", T0 + 15 * SECOND, T0 + 16 * SECOND)] == [second]
    gaps = rt.recording.gaps(north, "cam-n", T0, T0 + 60 * SECOND)
    assert [(g.start_us, g.end_us) for g in gaps] == [(T0 + 20 * SECOND, T0 + 25 * SECOND)]
    with pytest.raises(NotFound):
        rt.recording.segments(south, "cam-n", T0, T0 + 60 * SECOND)
    with pytest.raises(NotFound):
        rt.recording.segment(south, first)
    with pytest.raises(Invalid, match="end after"):
        rt.recording.segments(north, "cam-n", T0, T0)
    assert rt.recording.last_end_us("cam-n", "main") == T0 + 20 * SECOND


def test_a_sealed_original_opens_only_with_a_justification_and_is_audited(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    segment_id = store_segment(rt, "cam-rec", T0, size=5000)
    with pytest.raises(Invalid, match="justification"):
        rt.recording.open_original(admin, segment_id, "because")
    data = rt.recording.open_original(admin, segment_id, "Court order 2026/114 for the collision")
    assert len(data) == 5000
    entries = rt.audit.search(AuditQuery(action="recording.open_original"))
    assert len(entries) == 1 and "Court order" in entries[0].details
    with pytest.raises(NotFound):  # ordinary playback never serves originals
        rt.recording.read_plain(admin, segment_id)


def test_a_stored_segment_that_was_altered_is_refused(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    segment_id = store_segment(rt, "cam-rec", T0)
    with rt.db.read() as s:
        row = s.get(Segment, segment_id)
        assert row is not None
        key = row.storage_key
    stored = bytearray(rt.recording.store.get(key))
    stored[-1] ^= 0xFF
    rt.recording.store.put(key, bytes(stored))
    with pytest.raises(Exception, match="altered"):
        rt.recording.open_original(admin, segment_id, "Checking the evidence for the prosecutor")


def test_key_rotation_rewraps_every_segment(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    segment_id = store_segment(rt, "cam-rec", T0)
    rotated = rt.keys.rotate(rt.settings.keys_dir)
    assert rt.recording.rewrap_keys(rotated) == 1
    new_only = MasterKeys({rotated.current: rotated._keys[rotated.current]}, rotated.current)
    rt.recording._keys = new_only
    assert rt.recording.open_original(admin, segment_id, "After rotating the master key")


def test_legal_holds_are_scoped_audited_and_released_once(rt: Runtime, admin: Principal, clock: ManualClock) -> None:
    add_camera(rt, admin, "cam-n", "north")
    liaison = make_user(rt, "liaison-south", Role.LEGAL_LIAISON, "south")
    with pytest.raises(NotFound):
        rt.recording.place_hold(liaison, "cam-n", T0, T0 + DAY, "Collision under investigation", "CASE-1")
    with pytest.raises(Invalid, match="reason"):
        rt.recording.place_hold(admin, "cam-n", T0, T0 + DAY, "short", "CASE-1")
    hold = rt.recording.place_hold(admin, "cam-n", T0, T0 + DAY, "Collision under investigation", "CASE-1")
    assert [h.id for h in rt.recording.holds(admin)] == [hold.id]
    assert rt.recording.holds(liaison) == []
    with pytest.raises(NotFound):
        rt.recording.release_hold(liaison, hold.id)
    released = rt.recording.release_hold(admin, hold.id)
    assert released.released_us is not None and rt.recording.holds(admin) == []
    with pytest.raises(NotFound):
        rt.recording.release_hold(admin, hold.id)
    for action in ("recording.hold", "recording.release_hold"):
        assert rt.audit.search(AuditQuery(action=action))[0].target == f"hold:{hold.id}"


def test_recovery_removes_partial_and_unindexed_files_and_names_missing_ones(rt: Runtime, admin: Principal) -> None:
    add_camera(rt, admin)
    kept = store_segment(rt, "cam-rec", T0)
    gone = store_segment(rt, "cam-rec", T0 + 10 * SECOND)
    store = rt.recording.store
    store.put("cam-rec/main/orphan.sealed", b"written, never indexed")
    (rt.settings.media_dir / "cam-rec" / "main" / "half.sealed.part").write_bytes(b"interrupted")
    with rt.db.read() as s:
        gone_row = s.get(Segment, gone)
        assert gone_row is not None
    store.delete(gone_row.storage_key)
    report = rt.recording.recover()
    assert (report.partial_files, report.orphan_files, report.missing_files) == (1, 1, 1)
    assert rt.recording.open_original(admin, kept, "Still readable after recovery")
