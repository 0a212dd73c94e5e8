"""Auth over HTTP: cookies, lockout, throttle, tokens and centre scoping as a client sees them."""

from fastapi.testclient import TestClient

from sereno.app import Runtime
from sereno.core.auth.permissions import Role
from tests.conftest import PASSWORD, login, make_user


def test_login_sets_a_hardened_cookie_and_me_works(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    response = client.post("/api/auth/login", json={"username": "olga", "password": PASSWORD})
    assert response.status_code == 200
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
    me = client.get("/api/auth/me").json()
    assert me["username"] == "olga" and me["role"] == "operator" and me["centres"] == ["north"]


def test_cookie_is_secure_over_tls(rt: Runtime) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    from sereno.api.app import create_app

    with TestClient(create_app(rt), base_url="https://sereno.example") as tls:
        response = tls.post("/api/auth/login", json={"username": "olga", "password": PASSWORD})
    assert "secure" in response.headers["set-cookie"].lower()


def test_anonymous_gets_401_and_wrong_role_403(rt: Runtime, client: TestClient) -> None:
    assert client.get("/api/auth/me").status_code == 401
    assert client.get("/api/audit/entries").json()["type"] == "/problems/unauthenticated"
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    forbidden = client.get("/api/audit/entries")
    assert forbidden.status_code == 403 and "audit:read" in forbidden.json()["detail"]


def test_lockout_over_http_says_423_with_retry_after(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    statuses = [
        client.post("/api/auth/login", json={"username": "olga", "password": "wrong password!"}).status_code
        for _ in range(rt.settings.auth.lockout_after_failures)
    ]
    assert statuses == [401] * (rt.settings.auth.lockout_after_failures - 1) + [423]
    locked = client.post("/api/auth/login", json={"username": "olga", "password": PASSWORD})
    assert locked.status_code == 423 and int(locked.headers["retry-after"]) > 0


def test_client_throttle_answers_429(rt: Runtime, client: TestClient) -> None:
    rt.throttle._limit = 3  # the test settings allow many; this client gets three
    codes = [client.post("/api/auth/login", json={"username": f"u{i}", "password": "x"}).status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_logout_clears_the_session(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    assert client.post("/api/auth/logout").status_code == 204
    assert client.get("/api/auth/me").status_code == 401


def test_api_token_authenticates_as_bearer(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    created = client.post("/api/auth/tokens", json={"name": "wall"}).json()
    client.cookies.clear()
    bearer = {"authorization": f"Bearer {created['secret']}"}
    assert client.get("/api/auth/me", headers=bearer).json()["username"] == "olga"
    login(client, "olga")
    assert client.delete(f"/api/auth/tokens/{created['token']['id']}").status_code == 204
    client.cookies.clear()
    assert client.get("/api/auth/me", headers=bearer).status_code == 401


def test_operator_of_one_centre_sees_nothing_of_another(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "olga", Role.OPERATOR, "north")
    login(client, "olga")
    assert [c["code"] for c in client.get("/api/centres").json()] == ["north"]
    assert client.get("/api/centres/south").status_code == 404
    assert client.get("/api/centres/north").status_code == 200


def test_admin_manages_users_and_grants_over_http(rt: Runtime, client: TestClient) -> None:
    make_user(rt, "root", Role.ADMIN, all_centres=True)
    login(client, "root")
    created = client.post(
        "/api/users", json={"username": "sam", "password": PASSWORD, "role": "dispatcher", "centre": "south"}
    )
    assert created.status_code == 201, created.text
    assert (
        client.post(
            "/api/users", json={"username": "sam", "password": PASSWORD, "role": "dispatcher", "centre": "south"}
        ).status_code
        == 409
    )
    assert (
        client.post(
            "/api/users", json={"username": "x", "password": PASSWORD, "role": "emperor", "centre": "south"}
        ).status_code
        == 422
    )
    patched = client.patch("/api/users/sam", json={"grant": ["north"]}).json()
    assert patched["grants"] == ["north"]
    assert client.patch("/api/users/ghost", json={"unlock": True}).status_code == 404
