"""Settings section `console`: how the operator console draws its map.

No basemap by default: Sereno runs offline and never fetches map data from anywhere, so the map draws the
city's own geometry (jurisdictions from the site file, streets from its road graph) on a dark background.
A city with its own tile server (or a tile cache on the LAN) names it here; the console falls back to the
city's geometry by itself when that server does not answer.
"""

from pydantic import Field, field_validator

from sereno.config.base import StrictModel


class ConsoleSettings(StrictModel):
    tile_url: str | None = Field(
        default=None,
        max_length=500,
        title="Map tile URL",
        description="XYZ template, e.g. https://tiles.city.example/{z}/{x}/{y}.png or /tiles/{z}/{x}/{y}.png; "
        "empty: no basemap, the city's own outlines only",
    )
    tile_attribution: str = Field(
        default="",
        max_length=300,
        title="Map tile attribution",
        description="Shown in the map's corner, e.g. the © notice the tile licence asks for",
    )

    @field_validator("tile_url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        """Refused here rather than drawn as a grey map: a URL that cannot be a tile template is a typo."""
        if value is None or value == "":
            return None
        if not value.startswith(("https://", "http://", "/")) or value.startswith("//"):
            raise ValueError("a tile URL starts with https://, http:// or / (a path on this server)")
        if any(c.isspace() for c in value) or any(c in value for c in "\"'<>\\"):
            raise ValueError("a tile URL has no spaces, quotes, angle brackets or backslashes")
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if missing:
            raise ValueError(f"a tile URL is an XYZ template: {', '.join(missing)} missing")
        return value
