"""Routes of the auth capability: login/logout, the caller's own profile and tokens, centres and users."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from sereno.api.deps import SESSION_COOKIE, Public, Require, RuntimeDep, client_of, credentials
from sereno.api.problems import Problem
from sereno.console.geo import city_geometry
from sereno.core.auth.directory import CentreView, NewUser, UserView
from sereno.core.auth.permissions import Permission, Role
from sereno.core.auth.principal import Principal
from sereno.core.auth.service import TokenView

router = APIRouter(prefix="/api", tags=["auth"])


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    username: str
    role: Role
    centre: str | None
    centres: list[str] | None = Field(description="Centres visible to this user; null means all")
    permissions: list[str]

    @classmethod
    def of(cls, p: Principal) -> "Me":
        return cls(
            username=p.username,
            role=p.role,
            centre=p.centre,
            centres=sorted(p.centres) if p.centres is not None else None,
            permissions=sorted(p.permissions),
        )


class TokenRequest(Body):
    name: str = Field(min_length=1, max_length=80)
    ttl_days: int | None = Field(default=None, ge=1, le=3650)


class TokenCreated(BaseModel):
    token: TokenView
    secret: str = Field(description="Shown once; send as 'Authorization: Bearer <secret>'")


class UserCreate(Body):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    role: Role
    centre: str | None = None
    all_centres: bool = False
    display_name: str = Field(default="", max_length=120)


class UserPatch(Body):
    active: bool | None = None
    unlock: bool = False
    grant: list[str] = Field(default_factory=list)
    revoke: list[str] = Field(default_factory=list)


class MapGeometry(BaseModel):
    """A GeoJSON FeatureCollection (jurisdictions, centres, streets) plus the basemap the console may use."""

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[dict[str, Any]]
    tile_url: str | None = Field(description="XYZ tile template; null: draw the features on a plain background")
    tile_attribution: str


Session = Annotated[Principal, Depends(Require(Permission.SESSION))]


@router.post("/auth/login", dependencies=[Depends(Public())])
def login(body: LoginRequest, request: Request, response: Response, rt: RuntimeDep) -> Me:
    client = client_of(request)
    wait = rt.throttle.admit(client)
    if wait is not None:
        raise Problem(
            429,
            "too-many-attempts",
            "Too many login attempts",
            f"wait {wait:.0f} s",
            headers={"Retry-After": str(max(1, round(wait)))},
        )
    result = rt.auth.login(body.username, body.password, client)
    secure = {"always": True, "never": False}.get(rt.settings.auth.cookie_secure, request.url.scheme == "https")
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=rt.settings.auth.session_max_hours * 3600,
        httponly=True,
        samesite="strict",
        secure=secure,
        path="/",
    )
    return Me.of(result.principal)


@router.post("/auth/logout", status_code=204)
def logout(request: Request, response: Response, principal: Session, rt: RuntimeDep) -> None:
    found = credentials(request)
    if found is not None and found[0] == "session":
        rt.auth.logout(found[1], principal)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/auth/me")
def me(principal: Session) -> Me:
    return Me.of(principal)


@router.get("/auth/tokens")
def list_tokens(principal: Session, rt: RuntimeDep) -> list[TokenView]:
    return rt.auth.tokens(principal)


@router.post("/auth/tokens", status_code=201)
def create_token(body: TokenRequest, principal: Session, rt: RuntimeDep) -> TokenCreated:
    view, secret = rt.auth.create_token(principal, body.name, body.ttl_days)
    return TokenCreated(token=view, secret=secret)


@router.delete("/auth/tokens/{token_id}", status_code=204)
def revoke_token(token_id: int, principal: Session, rt: RuntimeDep) -> None:
    rt.auth.revoke_token(principal, token_id)


@router.get("/centres")
def list_centres(
    principal: Annotated[Principal, Depends(Require(Permission.CENTRES_READ))], rt: RuntimeDep
) -> list[CentreView]:
    return rt.directory.centres(principal)


@router.get("/centres/geo")  # before /centres/{code}, which would take "geo" for a code
def centres_geo(
    principal: Annotated[Principal, Depends(Require(Permission.CENTRES_READ))], rt: RuntimeDep
) -> MapGeometry:
    """The map's own geometry for the centres this user holds, so it works with no tile server at all."""
    console = rt.settings.console
    return MapGeometry(
        features=city_geometry(rt.dispatch, principal),
        tile_url=console.tile_url,
        tile_attribution=console.tile_attribution,
    )


@router.get("/centres/{code}")
def get_centre(
    code: str, principal: Annotated[Principal, Depends(Require(Permission.CENTRES_READ))], rt: RuntimeDep
) -> CentreView:
    return rt.directory.centre(principal, code)


@router.get("/users")
def list_users(
    principal: Annotated[Principal, Depends(Require(Permission.USERS_READ))], rt: RuntimeDep
) -> list[UserView]:
    return rt.directory.users(principal)


@router.get("/users/{username}")
def get_user(
    username: str, principal: Annotated[Principal, Depends(Require(Permission.USERS_READ))], rt: RuntimeDep
) -> UserView:
    return rt.directory.user(principal, username)


@router.post("/users", status_code=201)
def create_user(
    body: UserCreate, principal: Annotated[Principal, Depends(Require(Permission.USERS_MANAGE))], rt: RuntimeDep
) -> UserView:
    return rt.directory.create_user(principal, NewUser(**body.model_dump()))


@router.patch("/users/{username}")
def update_user(
    username: str,
    body: UserPatch,
    principal: Annotated[Principal, Depends(Require(Permission.USERS_MANAGE))],
    rt: RuntimeDep,
) -> UserView:
    view = rt.directory.user(principal, username)
    if body.active is not None:
        view = rt.directory.set_active(principal, username, body.active)
    if body.unlock:
        view = rt.directory.unlock(principal, username)
    for code in body.grant:
        view = rt.directory.grant(principal, username, code)
    for code in body.revoke:
        view = rt.directory.revoke(principal, username, code)
    return view
