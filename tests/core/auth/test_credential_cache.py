"""The credential cache: a resolved login is reused briefly, and never after a change that should end it."""

from sereno.app import Runtime
from sereno.core.auth.credential_cache import CredentialCache
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import cli_principal
from sereno.core.clock import ManualClock
from tests.conftest import PASSWORD, make_user


def test_entries_expire_with_the_ttl_or_the_credential_whichever_is_first(clock: ManualClock) -> None:
    cache = CredentialCache(clock, ttl_s=2.0)
    someone = cli_principal("someone")
    cache.put("a", someone, clock.now_us() + 10_000_000, cache.generation)
    cache.put("b", someone, clock.now_us() + 500_000, cache.generation)
    assert cache.get("a") is someone and cache.get("b") is someone
    clock.advance(0.5)
    assert cache.get("b") is None and cache.get("a") is someone
    clock.advance(1.5)
    assert cache.get("a") is None


def test_an_answer_computed_across_a_change_is_not_kept(clock: ManualClock) -> None:
    cache = CredentialCache(clock, ttl_s=2.0)
    before = cache.generation
    cache.clear()  # a revocation committed while the stale answer was being computed
    cache.put("a", cli_principal("someone"), clock.now_us() + 10_000_000, before)
    assert cache.get("a") is None


def test_a_zero_ttl_turns_it_off(clock: ManualClock) -> None:
    cache = CredentialCache(clock, ttl_s=0)
    cache.put("a", cli_principal("someone"), clock.now_us() + 10_000_000, cache.generation)
    assert cache.get("a") is None


def test_revoking_a_token_ends_it_at_once(rt: Runtime) -> None:
    olga = make_user(rt, "olga", Role.OPERATOR, "north")
    view, secret = rt.auth.create_token(olga, "wall")
    assert rt.auth.resolve_token(secret) is not None
    assert rt.auth.cached("token", secret) is not None
    rt.auth.revoke_token(olga, view.id)
    assert rt.auth.cached("token", secret) is None
    assert rt.auth.resolve_token(secret) is None


def test_deactivation_logout_and_grants_apply_at_once(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    admin = cli_principal("tester")
    session = rt.auth.login("olga", PASSWORD, "10.0.0.1").token
    first = rt.auth.resolve_session(session)
    assert first is not None and first.centres == frozenset({"north"})
    rt.directory.grant(admin, "olga", "south")
    granted = rt.auth.resolve_session(session)
    assert granted is not None and granted.centres == frozenset({"north", "south"})
    rt.directory.revoke(admin, "olga", "south")
    revoked = rt.auth.resolve_session(session)
    assert revoked is not None and revoked.centres == frozenset({"north"})
    rt.directory.set_active(admin, "olga", False)
    assert rt.auth.resolve_session(session) is None
    rt.directory.set_active(admin, "olga", True)
    assert rt.auth.resolve_session(session) is not None
    rt.auth.logout(session, revoked)
    assert rt.auth.resolve_session(session) is None


def test_another_replicas_change_applies_within_the_ttl(rt: Runtime, clock: ManualClock) -> None:
    """A second runtime on the same database stands in for another API replica in cluster mode."""
    olga = make_user(rt, "olga", Role.OPERATOR, "north")
    view, secret = rt.auth.create_token(olga, "wall")
    assert rt.auth.resolve_token(secret) is not None
    replica = Runtime.build(rt.settings, clock=clock, run_migrations=False)
    try:
        replica.auth.revoke_token(olga, view.id)
    finally:
        replica.close()
    assert rt.auth.resolve_token(secret) is not None  # still cached here: the stated trade-off
    clock.advance(rt.settings.auth.credential_cache_s)
    assert rt.auth.resolve_token(secret) is None
