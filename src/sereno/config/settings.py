"""Process settings, read from SERENO_* environment variables (or a .env file next to the process).

These say *how* this process runs (where data lives, which database, which port); the site file says
*what* the city is. Keeping them apart lets one site file serve a laptop demo and a national cluster.
"""

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from sereno.config.alerts import AlertSettings
from sereno.config.analytics import AnalyticsSettings
from sereno.config.auth import AuthSettings
from sereno.config.avl import AvlSettings
from sereno.config.console import ConsoleSettings
from sereno.config.recording import RecordingSettings


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="SERENO_", env_nested_delimiter="__", extra="forbid", env_file=".env", env_file_encoding="utf-8"
    )

    data_dir: Path = Field(default=Path("sereno-data"), title="Data directory", description="Database, keys, media")
    database_url: str | None = Field(
        default=None,
        title="Database URL",
        description="Empty: SQLite in the data directory. postgresql+psycopg://... at scale",
    )
    site_file: Path | None = Field(default=None, title="Site file", description="TOML describing the city")
    host: str = Field(default="127.0.0.1", title="Listen address")
    port: int = Field(default=8000, ge=0, le=65535, title="Listen port")
    bus: Literal["inprocess"] = Field(default="inprocess", title="Event bus", description="nats lands with clusters")
    audit_checkpoint_every: int = Field(
        default=1000, ge=1, title="Audit checkpoint interval", description="Entries between signed checkpoints"
    )
    auth: AuthSettings = Field(default_factory=AuthSettings, title="Authentication")
    alerts: AlertSettings = Field(default_factory=AlertSettings, title="Alerts")
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings, title="Video analytics workers")
    recording: RecordingSettings = Field(default_factory=RecordingSettings, title="Recording")
    avl: AvlSettings = Field(default_factory=AvlSettings, title="Unit positions over MQTT (AVL)")
    console: ConsoleSettings = Field(default_factory=ConsoleSettings, title="Operator console")

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'sereno.db').resolve()}"

    @property
    def keys_dir(self) -> Path:
        return self.data_dir / "keys"

    @property
    def media_dir(self) -> Path:
        return self.data_dir / "media"

    @property
    def live_dir(self) -> Path:
        """The latest anonymised frames per camera (see privacy/ring.py)."""
        return self.data_dir / "live"
