"""Login, lockout, sessions and API tokens, on both databases."""

import pytest
from sqlalchemy import text

from sereno.app import Runtime
from sereno.core.audit.service import AuditQuery
from sereno.core.auth.errors import AccountLocked, Invalid, InvalidCredentials
from sereno.core.auth.permissions import Permission, Role
from sereno.core.clock import ManualClock
from tests.conftest import PASSWORD, make_user


def actions(rt: Runtime, prefix: str = "auth.") -> list[str]:
    return [e.action for e in reversed(rt.audit.search(AuditQuery(action=prefix, limit=1000)))]


def test_login_opens_a_session_and_is_audited(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    result = rt.auth.login("olga", PASSWORD, "10.0.0.1")
    principal = rt.auth.resolve_session(result.token)
    assert principal is not None
    assert principal.username == "olga" and principal.centre == "north"
    assert principal.can(Permission.CENTRES_READ) and not principal.can(Permission.AUDIT_READ)
    assert actions(rt) == ["auth.login"]


def test_wrong_password_and_unknown_user_look_the_same(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    with pytest.raises(InvalidCredentials) as wrong:
        rt.auth.login("olga", "not the password", "10.0.0.1")
    with pytest.raises(InvalidCredentials) as unknown:
        rt.auth.login("nobody", "whatever password", "10.0.0.1")
    assert str(wrong.value) == str(unknown.value)
    assert actions(rt) == ["auth.login_failed", "auth.login_failed"]


def test_lockout_after_repeated_failures_then_expiry(rt: Runtime, clock: ManualClock) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    limit = rt.settings.auth.lockout_after_failures
    for _ in range(limit - 1):
        with pytest.raises(InvalidCredentials):
            rt.auth.login("olga", "wrong password!", "10.0.0.1")
    with pytest.raises(AccountLocked):
        rt.auth.login("olga", "wrong password!", "10.0.0.1")
    # Locked: even the right password is refused, and says so.
    with pytest.raises(AccountLocked) as locked:
        rt.auth.login("olga", PASSWORD, "10.0.0.1")
    assert 0 < locked.value.retry_after_s <= rt.settings.auth.lockout_minutes * 60
    clock.advance(rt.settings.auth.lockout_minutes * 60 + 1)
    assert rt.auth.login("olga", PASSWORD, "10.0.0.1").principal.username == "olga"
    assert actions(rt) == ["auth.login_failed"] * (limit - 1) + ["auth.lockout", "auth.login_locked", "auth.login"]


def test_success_resets_the_failure_count(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    limit = rt.settings.auth.lockout_after_failures
    for _ in range(limit - 1):
        with pytest.raises(InvalidCredentials):
            rt.auth.login("olga", "wrong password!", "10.0.0.1")
    rt.auth.login("olga", PASSWORD, "10.0.0.1")
    with pytest.raises(InvalidCredentials):
        rt.auth.login("olga", "wrong password!", "10.0.0.1")  # a fresh count: not locked


def test_admin_unlock_clears_a_lockout(rt: Runtime, admin: object) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    for _ in range(rt.settings.auth.lockout_after_failures):
        with pytest.raises((InvalidCredentials, AccountLocked)):
            rt.auth.login("olga", "wrong password!", "10.0.0.1")
    from sereno.core.auth.principal import cli_principal

    assert rt.directory.unlock(cli_principal("tester"), "olga").locked is False
    rt.auth.login("olga", PASSWORD, "10.0.0.1")


def test_session_expires_when_idle_and_at_its_limit(rt: Runtime, clock: ManualClock) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    token = rt.auth.login("olga", PASSWORD, "10.0.0.1").token
    idle = rt.settings.auth.session_idle_minutes * 60
    clock.advance(idle - 5)
    assert rt.auth.resolve_session(token) is not None  # activity refreshes the idle timer
    clock.advance(idle - 5)
    assert rt.auth.resolve_session(token) is not None
    clock.advance(idle + 1)
    assert rt.auth.resolve_session(token) is None
    fresh = rt.auth.login("olga", PASSWORD, "10.0.0.1").token
    for _ in range(rt.settings.auth.session_max_hours * 60 // 10 + 1):
        clock.advance(600)
        rt.auth.resolve_session(fresh)
    assert rt.auth.resolve_session(fresh) is None


def test_logout_ends_the_session(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    result = rt.auth.login("olga", PASSWORD, "10.0.0.1")
    rt.auth.logout(result.token, result.principal)
    assert rt.auth.resolve_session(result.token) is None


def test_only_token_hashes_are_stored(rt: Runtime) -> None:
    principal = make_user(rt, "olga", Role.OPERATOR, "north")
    session_token = rt.auth.login("olga", PASSWORD, "10.0.0.1").token
    _view, api_token = rt.auth.create_token(principal, "script")
    with rt.db.read() as s:
        stored = [
            *s.execute(text("SELECT token_hash FROM login_sessions")).scalars(),
            *s.execute(text("SELECT token_hash FROM api_tokens")).scalars(),
        ]
    assert session_token not in stored and api_token not in stored
    assert all(len(h) == 64 for h in stored)


def test_api_token_lifecycle(rt: Runtime, clock: ManualClock) -> None:
    principal = make_user(rt, "olga", Role.OPERATOR, "north")
    view, secret = rt.auth.create_token(principal, "wall display", ttl_days=1)
    resolved = rt.auth.resolve_token(secret)
    assert resolved is not None and resolved.via == "token" and resolved.username == "olga"
    assert rt.auth.resolve_token(secret + "x") is None
    assert rt.auth.resolve_token("not-a-token") is None
    rt.auth.revoke_token(principal, view.id)
    assert rt.auth.resolve_token(secret) is None
    _view2, expiring = rt.auth.create_token(principal, "short", ttl_days=1)
    clock.advance(86_401)
    assert rt.auth.resolve_token(expiring) is None
    assert [t.revoked for t in rt.auth.tokens(principal)] == [True, False]


def test_deactivated_user_cannot_log_in_or_use_sessions(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    token = rt.auth.login("olga", PASSWORD, "10.0.0.1").token
    from sereno.core.auth.principal import cli_principal

    rt.directory.set_active(cli_principal("tester"), "olga", False)
    assert rt.auth.resolve_session(token) is None
    with pytest.raises(InvalidCredentials):
        rt.auth.login("olga", PASSWORD, "10.0.0.1")


def test_weak_passwords_are_refused(rt: Runtime) -> None:
    from sereno.core.auth.directory import NewUser
    from sereno.core.auth.principal import cli_principal

    with pytest.raises(Invalid, match="at least"):
        rt.directory.create_user(
            cli_principal("t"), NewUser(username="x", password="short", role=Role.OPERATOR, centre="north")
        )


def test_hostile_username_is_audited_safely(rt: Runtime) -> None:
    with pytest.raises(InvalidCredentials):
        rt.auth.login("evil\x1fname\n", "whatever password", "10.0.0.1")
    newest = rt.audit.search(AuditQuery(action="auth.", limit=1))[0]
    assert newest.actor == "user:evil?name?"
