"""Site section `[[units]]`: the response units of each agency and where they start their shift."""

from pydantic import Field

from sereno.config.base import StrictModel
from sereno.config.geo import Position


class UnitConfig(StrictModel):
    callsign: str = Field(title="Call sign", pattern=r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
    agency: str = Field(title="Agency", description="police, fire, health, traffic, civil-protection, ...")
    centre: str = Field(title="Centre", description="Code of the centre that dispatches this unit")
    capabilities: list[str] = Field(
        default_factory=list, title="Capabilities", description="e.g. als-ambulance, engine, ladder, patrol"
    )
    station: Position = Field(title="Home station")
