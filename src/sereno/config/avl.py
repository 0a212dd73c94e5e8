"""Settings section `avl`: unit positions (automatic vehicle location) arriving over MQTT.

Off by default: the embedded mode (a laptop demo) must run without a broker, and a city that sends
positions over the HTTP API needs none. `sereno worker avl` refuses to start while this is off.
"""

from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from sereno.config.base import StrictModel


class AvlSettings(StrictModel):
    enabled: bool = Field(default=False, title="AVL over MQTT", description="Off: positions come only over the API")
    host: str = Field(default="127.0.0.1", min_length=1, title="MQTT broker host")
    port: int = Field(default=1883, ge=1, le=65535, title="MQTT broker port", description="8883 is usual with TLS")
    topic_prefix: str = Field(
        default="sereno/avl",
        min_length=1,
        max_length=200,
        title="Topic prefix",
        description="Units publish to <prefix>/<callsign>/position",
    )
    client_id: str = Field(
        default="sereno-avl",
        min_length=1,
        max_length=64,
        title="MQTT client id",
        description="Unique per worker: a broker disconnects the older of two clients with the same id",
    )
    username: str | None = Field(default=None, title="MQTT username")
    password: SecretStr | None = Field(default=None, title="MQTT password")
    tls: bool = Field(default=False, title="TLS", description="Verify the broker against the system's CAs")
    qos: Literal[0, 1] = Field(
        default=0, title="Subscription QoS", description="0 suits positions: a newer one follows within seconds"
    )
    keepalive_s: int = Field(default=30, ge=5, le=600, title="Keepalive (s)")
    reconnect_max_s: int = Field(
        default=30,
        ge=1,
        le=600,
        title="Longest reconnect delay (s)",
        description="The wait after a lost broker doubles from 1 s up to this",
    )
    max_message_bytes: int = Field(
        default=1024,
        ge=128,
        le=65536,
        title="Largest report (bytes)",
        description="A report is about 150 bytes; bigger payloads are refused unread",
    )
    max_age_s: float = Field(
        default=300.0,
        gt=0,
        le=86400,
        title="Oldest report accepted (s)",
        description="A position older than this is history, not where the unit is",
    )
    max_future_s: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        title="Clock skew tolerated (s)",
        description="A report stamped further ahead of the server's clock is refused",
    )
    apply_status: bool = Field(
        default=True,
        title="Apply status from devices",
        description="Only forward steps: dispatched -> en-route -> on-scene, returning -> available",
    )

    @field_validator("topic_prefix")
    @classmethod
    def _plain_prefix(cls, value: str) -> str:
        """Wildcards or empty levels in the prefix would subscribe to other people's topics."""
        if any(c in value for c in "+#\x00") or value.startswith("/") or value.endswith("/") or "//" in value:
            raise ValueError("a topic prefix has no wildcards (+, #), no empty levels and no leading or trailing '/'")
        return value

    @model_validator(mode="after")
    def _password_needs_username(self) -> "AvlSettings":
        if self.password is not None and self.username is None:
            raise ValueError("an MQTT password needs a username")
        return self
