"""Site section `[[cameras]]`: every camera declares why it exists and how long its video may be kept.

A camera without a purpose or a retention period is refused: DESIGN.md principle 4.
"""

from enum import StrEnum

from pydantic import Field

from sereno.config.base import StrictModel
from sereno.config.geo import Latitude, Longitude


class CameraKind(StrEnum):
    FIXED = "fixed"
    PTZ = "ptz"
    THERMAL = "thermal"
    DRONE = "drone"


class PrivacyMask(StrictModel):
    name: str = Field(title="Name", description="What the mask hides, e.g. 'windows of flats, No. 12'")
    polygon: list[tuple[float, float]] = Field(
        title="Polygon", description="Vertices as [x, y] fractions of the frame (0..1)", min_length=3
    )


class CameraConfig(StrictModel):
    id: str = Field(title="Camera id", pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    centre: str = Field(title="Centre", description="Code of the centre that operates this camera")
    name: str = Field(title="Name", min_length=1, max_length=120)
    kind: CameraKind = Field(default=CameraKind.FIXED, title="Kind")
    lat: Latitude
    lon: Longitude
    heading_deg: float = Field(default=0.0, ge=0.0, lt=360.0, title="Heading", description="Degrees from north")
    main_url: str = Field(title="Main stream URL", description="Recorded bit-exact, sealed at rest")
    sub_url: str = Field(title="Sub stream URL", description="Low-resolution stream that analytics decode")
    purpose: str = Field(
        title="Purpose", description="Why this camera exists (shown in the transparency report)", min_length=10
    )
    retention_days: int = Field(title="Retention (days)", ge=1, le=3650)
    privacy_masks: list[PrivacyMask] = Field(default_factory=list, title="Privacy masks")
    anonymiser: str | None = Field(
        default="pixelate-motion",
        title="Anonymiser",
        description="The privacy filter every viewed frame passes; empty: this camera shows nothing to anyone",
        pattern=r"^[a-z0-9-]{1,40}$",
    )
    username: str | None = Field(default=None, title="Stream username")
    password_env: str | None = Field(
        default=None,
        title="Password variable",
        description="Name of the environment variable holding the stream password (never the password itself)",
        pattern=r"^[A-Z_][A-Z0-9_]*$",
    )
