"""Site section `[[centres]]`: the monitoring and dispatch centres and the area each one answers for."""

from pydantic import Field

from sereno.config.base import StrictModel
from sereno.config.geo import Polygon, Position

CentreCode = str


class CentreConfig(StrictModel):
    code: CentreCode = Field(
        title="Code", description="Short stable identifier, e.g. 'quito-north'", pattern=r"^[a-z0-9][a-z0-9-]{1,39}$"
    )
    name: str = Field(title="Name", min_length=1, max_length=120)
    timezone: str = Field(default="UTC", title="Time zone", description="IANA name, e.g. America/Guayaquil")
    position: Position = Field(title="Position", description="Where the centre is, for the map")
    jurisdiction: Polygon | None = Field(
        default=None, title="Jurisdiction", description="Area whose incidents this centre handles"
    )
