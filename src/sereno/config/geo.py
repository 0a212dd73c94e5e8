"""Geographic value types shared by the site sections (positions and jurisdiction polygons)."""

from typing import Annotated

from pydantic import Field, model_validator

from sereno.config.base import StrictModel

Latitude = Annotated[float, Field(ge=-90.0, le=90.0, title="Latitude", description="WGS 84 degrees")]
Longitude = Annotated[float, Field(ge=-180.0, le=180.0, title="Longitude", description="WGS 84 degrees")]


class Position(StrictModel):
    lat: Latitude
    lon: Longitude


class Polygon(StrictModel):
    """A closed ring of [lon, lat] pairs, GeoJSON order, so the city's own GeoJSON can be pasted in."""

    ring: list[tuple[Longitude, Latitude]] = Field(
        title="Ring", description="Vertices as [lon, lat]; the ring is closed implicitly", min_length=3
    )

    def contains(self, lat: float, lon: float) -> bool:
        """Even-odd rule; good enough for jurisdictions drawn at street scale."""
        inside = False
        ring = self.ring
        j = len(ring) - 1
        for i in range(len(ring)):
            xi, yi = ring[i]
            xj, yj = ring[j]
            if (yi > lat) != (yj > lat) and lon < (xj - xi) * (lat - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside

    @model_validator(mode="after")
    def _not_degenerate(self) -> "Polygon":
        if len(set(self.ring)) < 3:
            raise ValueError("a polygon needs at least three distinct vertices")
        return self
