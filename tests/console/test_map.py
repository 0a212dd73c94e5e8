"""The map in a real browser: a north dispatcher sees north's area, units and incidents (and nothing of the
south's), units move on the map as their positions are reported, the side list works by keyboard, and a
configured tile server is used when it answers and left for the city's outlines when it does not."""

import base64
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect

from sereno.config.console import ConsoleSettings
from sereno.core.auth.principal import cli_principal
from sereno.dispatch.service import IncidentView, NewCall
from tests.console.conftest import LiveServer, screenshot

# A 1x1 PNG, served in place of a tile server's pictures.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def open_map(page: Page) -> None:
    page.goto(page.url.split("#")[0] + "#/map")
    expect(page.locator("#map .leaflet-container")).to_be_visible()
    expect(page.locator("#live-state")).to_have_text("live")  # events sent from now on reach the map


def units_of(live_server: LiveServer, centre: str) -> list[str]:
    return sorted(u.callsign for u in live_server.site.units if u.centre == centre)


def incident_at(live_server: LiveServer, lat: float, lon: float, type_code: str) -> IncidentView:
    admin = cli_principal("test")
    call = live_server.rt.dispatch.take_call(
        admin, NewCall("+593 99 000 0000", live_server.rt.clock.now_us(), lat, lon)
    )
    return live_server.rt.dispatch.open_incident(admin, call.id, type_code, lat, lon, address="Av. Amazonas 100")


def test_a_north_dispatcher_sees_north_and_units_move_live(login: Callable[..., Page], live_server: LiveServer) -> None:
    north_units = units_of(live_server, "north")
    assert "E-12" in north_units and "P-103" not in north_units
    page = login("dispatcher-north")
    open_map(page)
    expect(page.locator("#map .area-label")).to_have_text(["North Monitoring Centre"])
    expect(page.locator("#map path.jurisdiction")).to_have_count(1)
    expect(page.locator("#map .unit-mark")).to_have_count(len(north_units))
    expect(page.locator("#map-units li")).to_have_count(len(north_units))
    assert sorted(page.locator("#map-units li").evaluate_all("items => items.map(i => i.dataset.unit)")) == north_units
    expect(page.locator("#map-units")).not_to_contain_text("P-103")
    expect(page.locator("#map-cameras li")).to_have_count(1)  # north holds one of the city's three cameras

    # An incident opened now appears live; one in the south does not.
    north = incident_at(live_server, -0.16, -78.47, "structure-fire")
    incident_at(live_server, -0.30, -78.54, "structure-fire")
    mark = page.locator(f'#map .incident-mark[data-incident="{north.id}"]')
    expect(mark).to_have_text(str(north.priority))
    expect(page.locator("#map-incidents li")).to_have_count(1)

    # A reported position moves the marker: on the page (data-lat) and on the screen.
    unit = page.locator('#map .unit-mark[data-callsign="E-12"]')
    before = unit.bounding_box()
    live_server.rt.units.report_position(cli_principal("test"), "E-12", -0.15, -78.45)
    expect(unit).to_have_attribute("data-lat", "-0.15")
    expect(unit).to_have_attribute("data-lon", "-78.45")
    after = unit.bounding_box()
    assert before is not None and after is not None
    assert after["x"] > before["x"] + 5 and after["y"] < before["y"] - 5  # east and north: right and up
    screenshot(page, "map")

    # Keyboard: a list button pans to the unit and opens its popup; the incident's link goes to the incident.
    page.locator('#map-units li[data-unit="E-12"] button').focus()
    page.keyboard.press("Enter")
    expect(page.locator("#map .leaflet-popup")).to_contain_text("E-12")
    page.locator(f'#map-incidents li[data-incident="{north.id}"] a').focus()
    page.keyboard.press("Enter")
    expect(page).to_have_url(f"{live_server.url}/#/incident/{north.id}")

    # A closed incident leaves the map.
    page.goto(f"{live_server.url}/#/map")
    live_server.rt.dispatch.set_status(cli_principal("test"), north.id, "closed")
    expect(mark).to_have_count(0)
    expect(page.locator("#map-incidents li")).to_have_count(0)


def test_a_south_dispatcher_sees_nothing_of_the_north(login: Callable[..., Page], live_server: LiveServer) -> None:
    north = incident_at(live_server, -0.16, -78.47, "structure-fire")
    south = incident_at(live_server, -0.30, -78.54, "structure-fire")
    page = login("dispatcher-south")
    open_map(page)
    expect(page.locator("#map .area-label")).to_have_text(["South Monitoring Centre"])
    expect(page.locator("#map-units li")).to_have_count(len(units_of(live_server, "south")))
    expect(page.locator("#map-units")).not_to_contain_text("E-12")
    expect(page.locator(f'#map-incidents li[data-incident="{south.id}"]')).to_have_count(1)
    expect(page.locator("#map-incidents li")).to_have_count(1)
    live_server.rt.units.report_position(cli_principal("test"), "E-12", -0.15, -78.45)
    live_server.rt.units.report_position(cli_principal("test"), "P-103", -0.29, -78.53)
    expect(page.locator('#map .unit-mark[data-callsign="P-103"]')).to_have_attribute("data-lat", "-0.29")
    expect(page.locator('#map .unit-mark[data-callsign="E-12"]')).to_have_count(0)  # its move was not sent here
    expect(page.locator(f'#map .incident-mark[data-incident="{north.id}"]')).to_have_count(0)


@pytest.mark.parametrize("answers", [True, False], ids=["tiles-answer", "tiles-down"])
def test_a_tile_server_is_used_when_it_answers(
    login: Callable[..., Page], live_server: LiveServer, monkeypatch: pytest.MonkeyPatch, answers: bool
) -> None:
    monkeypatch.setattr(live_server.rt.settings, "console", ConsoleSettings(tile_url="/tiles/{z}/{x}/{y}.png"))
    page = login("dispatcher-north")

    def tile(route: Route) -> None:
        if answers:
            route.fulfill(status=200, content_type="image/png", body=PIXEL)
        else:
            route.fulfill(status=503, body="down")

    page.route("**/tiles/**", tile)
    open_map(page)
    expect(page.locator("#map")).to_have_attribute("data-basemap", "tiles" if answers else "outlines")
    expect(page.locator("#map .area-label")).to_have_count(1)  # the outlines are drawn either way
    if not answers:
        expect(page.locator("#map-status")).to_contain_text("does not answer")
        expect(page.locator("#map .leaflet-tile-pane img")).to_have_count(0)
