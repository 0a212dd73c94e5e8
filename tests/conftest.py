"""Shared fixtures: every database test runs on SQLite and on PostgreSQL (a schema of its own per test)."""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient

from sereno.api.app import create_app
from sereno.app import Runtime
from sereno.config.auth import AuthSettings
from sereno.config.settings import Settings
from sereno.config.site import SiteConfig, load_site
from sereno.core.auth.directory import NewUser
from sereno.core.auth.permissions import Role
from sereno.core.auth.principal import Principal, cli_principal
from sereno.core.clock import ManualClock
from sereno.sim.demo import bundled_site_path

POSTGRES_URL = os.environ.get("SERENO_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
PASSWORD = "correct horse battery staple"


def _postgres_reason() -> str | None:
    try:
        with psycopg.connect(POSTGRES_URL.replace("+psycopg", ""), connect_timeout=3):
            return None
    except psycopg.Error as exc:
        return f"PostgreSQL at {POSTGRES_URL} is not reachable: {exc}".splitlines()[0]


_PG_SKIP = _postgres_reason()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'sereno.db'}"
        return
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    plain = POSTGRES_URL.replace("+psycopg", "")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{sep}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        audit_checkpoint_every=10,
        auth=AuthSettings(argon2_time_cost=1, argon2_memory_kib=64, attempts_per_minute_per_client=1000),
    )


@pytest.fixture
def site() -> SiteConfig:
    return load_site(bundled_site_path())


@pytest.fixture
def rt(settings: Settings, clock: ManualClock, site: SiteConfig) -> Iterator[Runtime]:
    runtime = Runtime.build(settings, clock=clock)
    runtime.directory.sync_centres(site, "test")
    runtime.dispatch.configure(site)
    runtime.units.sync_from_site(site)
    try:
        yield runtime
    finally:
        runtime.close()


@pytest.fixture
def admin() -> Principal:
    return cli_principal("tester")


def make_user(
    rt: Runtime, username: str, role: Role, centre: str | None = None, *, all_centres: bool = False
) -> Principal:
    rt.directory.create_user(
        cli_principal("tester"),
        NewUser(username=username, password=PASSWORD, role=role, centre=centre, all_centres=all_centres),
    )
    return rt.auth.principal_for(username, via="session")


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(rt)) as c:
        yield c


def login(client: TestClient, username: str, password: str = PASSWORD) -> None:
    response = client.post("/api/auth/login", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
