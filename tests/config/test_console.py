"""The `console` settings section: no basemap unless configured, and a tile URL that cannot be one is refused."""

import pytest
from pydantic import ValidationError

from sereno.config.console import ConsoleSettings
from sereno.config.settings import Settings


def test_no_basemap_unless_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().console.tile_url is None
    monkeypatch.setenv("SERENO_CONSOLE__TILE_URL", "https://tiles.city.example/{z}/{x}/{y}.png")
    monkeypatch.setenv("SERENO_CONSOLE__TILE_ATTRIBUTION", "© City GIS")
    console = Settings().console
    assert (console.tile_url, console.tile_attribution) == ("https://tiles.city.example/{z}/{x}/{y}.png", "© City GIS")
    monkeypatch.setenv("SERENO_CONSOLE__TILE_URL", "")
    assert Settings().console.tile_url is None  # an empty variable switches the basemap off


@pytest.mark.parametrize(
    "url",
    [
        "tiles.city.example/{z}/{x}/{y}.png",  # no scheme
        "//tiles.city.example/{z}/{x}/{y}.png",  # scheme-relative: which one?
        "javascript:alert(1)//{z}/{x}/{y}",
        "https://tiles.city.example/{z}/{x}.png",  # no {y}
        'https://tiles.city.example/{z}/{x}/{y}.png?k="><script>',
        "https://tiles.city.example/{z} /{x}/{y}.png",
    ],
)
def test_a_url_that_cannot_be_a_tile_template_is_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        ConsoleSettings(tile_url=url)


def test_a_local_tile_path_is_accepted() -> None:
    assert ConsoleSettings(tile_url="/tiles/{z}/{x}/{y}.png").tile_url == "/tiles/{z}/{x}/{y}.png"
