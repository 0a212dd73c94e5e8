"""Settings section `auth`: password hashing cost, sessions and the login throttle."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class AuthSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    argon2_time_cost: int = Field(default=3, ge=1, title="Argon2 time cost")
    argon2_memory_kib: int = Field(default=65536, ge=64, title="Argon2 memory (KiB)")
    session_idle_minutes: int = Field(default=30, ge=1, title="Session idle timeout (minutes)")
    session_max_hours: int = Field(default=12, ge=1, title="Session lifetime (hours)")
    lockout_after_failures: int = Field(default=5, ge=1, title="Failed logins before lockout")
    lockout_minutes: int = Field(default=15, ge=1, title="Lockout duration (minutes)")
    attempts_per_minute_per_client: int = Field(default=20, ge=1, title="Login attempts per minute per client")
    credential_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=60,
        title="Credential cache (seconds)",
        description="How long a resolved login or API token is reused without asking the database. Changes made "
        "here apply at once; a change made through another replica takes up to this long. 0 turns it off",
    )
    cookie_secure: Literal["auto", "always", "never"] = Field(
        default="auto", title="Secure cookies", description="auto: Secure when the request arrived over TLS"
    )
