"""Centre scoping: an operator of one centre sees nothing of another unless granted."""

import pytest

from sereno.app import Runtime
from sereno.config.site import SiteConfig
from sereno.core.auth.directory import NewUser
from sereno.core.auth.errors import Conflict, Invalid, NotFound
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal
from tests.conftest import PASSWORD, make_user


def test_centres_are_synced_from_the_site(rt: Runtime, admin: Principal, site: SiteConfig) -> None:
    assert [c.code for c in rt.directory.centres(admin)] == sorted(c.code for c in site.centres)
    assert rt.directory.sync_centres(site, "test") == []  # idempotent: nothing changed, nothing audited


def test_operator_sees_only_its_centre(rt: Runtime) -> None:
    north = make_user(rt, "olga", Role.OPERATOR, "north")
    assert [c.code for c in rt.directory.centres(north)] == ["north"]
    with pytest.raises(NotFound):
        rt.directory.centre(north, "south")
    with pytest.raises(NotFound):  # hidden and absent look the same
        rt.directory.centre(north, "atlantis")


def test_grant_and_revoke_change_what_is_visible(rt: Runtime, admin: Principal) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    view = rt.directory.grant(admin, "olga", "south")
    assert view.grants == ("south",)
    assert [c.code for c in rt.directory.centres(rt.auth.principal_for("olga"))] == ["north", "south"]
    rt.directory.revoke(admin, "olga", "south")
    assert [c.code for c in rt.directory.centres(rt.auth.principal_for("olga"))] == ["north"]


def test_supervisor_sees_users_of_its_centre_only(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    make_user(rt, "sam", Role.OPERATOR, "south")
    boss = make_user(rt, "nora", Role.SUPERVISOR, "north")
    assert [u.username for u in rt.directory.users(boss)] == ["nora", "olga"]
    with pytest.raises(NotFound):
        rt.directory.user(boss, "sam")


def test_scoped_admin_cannot_act_outside_its_centres(rt: Runtime) -> None:
    make_user(rt, "sam", Role.OPERATOR, "south")
    local_admin = make_user(rt, "ana", Role.ADMIN, "north")
    with pytest.raises(NotFound):
        rt.directory.unlock(local_admin, "sam")
    with pytest.raises(NotFound):
        rt.directory.grant(local_admin, "ana", "south")
    with pytest.raises(NotFound):
        rt.directory.create_user(
            local_admin, NewUser(username="x", password=PASSWORD, role=Role.OPERATOR, centre="south")
        )


def test_user_needs_exactly_one_of_centre_or_all(rt: Runtime, admin: Principal) -> None:
    with pytest.raises(Invalid):
        rt.directory.create_user(admin, NewUser(username="x", password=PASSWORD, role=Role.OPERATOR))
    with pytest.raises(Invalid):
        rt.directory.create_user(
            admin, NewUser(username="x", password=PASSWORD, role=Role.OPERATOR, centre="north", all_centres=True)
        )


def test_duplicate_and_malformed_usernames(rt: Runtime, admin: Principal) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    with pytest.raises(Conflict):
        make_user(rt, "olga", Role.OPERATOR, "north")
    with pytest.raises(Invalid):
        rt.directory.create_user(
            admin, NewUser(username="ol ga; drop", password=PASSWORD, role=Role.OPERATOR, centre="north")
        )
    with pytest.raises(NotFound):
        rt.directory.create_user(admin, NewUser(username="x", password=PASSWORD, role=Role.OPERATOR, centre="atlantis"))
