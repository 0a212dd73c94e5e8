"""Site section `[dispatch]`: the incident taxonomy of each agency, travel speeds, and duplicate-call rules.

The taxonomy is configuration, not code, because every country's agencies name and prioritise their
incidents differently; what Sereno needs from each type is who responds and with what capabilities.

Travel times are straight-line estimates unless the site supplies a road map (`road_graph`): Sereno never
downloads map data, so roads are used only when the operators put an OpenStreetMap extract beside the site file.
"""

from pathlib import Path

from pydantic import Field, ValidationInfo, field_validator, model_validator

from sereno.config.base import StrictModel


class IncidentType(StrictModel):
    code: str = Field(title="Code", pattern=r"^[a-z0-9][a-z0-9-]{1,39}$")
    name: str = Field(title="Name", min_length=1, max_length=120)
    agencies: list[str] = Field(title="Agencies", min_length=1, description="Who responds, e.g. ['fire', 'health']")
    priority: int = Field(default=3, ge=1, le=5, title="Default priority", description="1 is the most urgent")
    capabilities: list[str] = Field(
        default_factory=list, title="Required capabilities", description="One unit for each, e.g. ['engine']"
    )


class DispatchConfig(StrictModel):
    incident_types: list[IncidentType] = Field(default_factory=list, title="Incident types")
    speed_kmh: dict[str, float] = Field(
        default_factory=lambda: {"default": 35.0},
        title="Travel speeds (km/h)",
        description="By capability, with 'default' for the rest; straight-line distance times a detour factor",
    )
    detour_factor: float = Field(default=1.3, ge=1.0, le=3.0, title="Road detour factor")
    duplicate_radius_m: float = Field(default=300.0, gt=0, le=10_000, title="Duplicate call radius (m)")
    duplicate_window_s: float = Field(default=1800.0, gt=0, le=86_400, title="Duplicate call window (s)")
    road_graph: Path | None = Field(
        default=None,
        title="Road graph (OpenStreetMap XML extract)",
        description=(
            "A local .osm XML extract of the city that you supply (e.g. cut from a regional download with "
            "osmium); when set, units are ranked by road travel time instead of straight line. "
            "A relative path is read from the site file's folder"
        ),
    )
    road_speed_factor: float = Field(
        default=1.0,
        ge=0.5,
        le=2.0,
        title="Road speed factor",
        description="Emergency driving speed as a multiple of the map's speed limits; 1.0 drives at the limits",
    )

    @field_validator("road_graph")
    @classmethod
    def _road_graph_file(cls, value: Path | None, info: ValidationInfo) -> Path | None:
        """Relative to the site file (load_site passes its folder), and it must exist: a typo fails at check."""
        if value is None:
            return None
        site_dir = (info.context or {}).get("site_dir")
        path = value if value.is_absolute() or not isinstance(site_dir, Path) else site_dir / value
        if not path.is_file():
            raise ValueError(f"no file at {path} (a relative path is read from the site file's folder)")
        return path

    @model_validator(mode="after")
    def _consistent(self) -> "DispatchConfig":
        codes = [t.code for t in self.incident_types]
        if len(codes) != len(set(codes)):
            raise ValueError("incident_types: codes must be unique")
        if "default" not in self.speed_kmh or any(v <= 0 for v in self.speed_kmh.values()):
            raise ValueError("speed_kmh: needs a positive 'default' and positive speeds")
        return self

    def incident_type(self, code: str) -> IncidentType | None:
        return next((t for t in self.incident_types if t.code == code), None)
