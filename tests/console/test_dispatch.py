"""Call taking, the incident board and the incident page in a real browser: a call taken with the keyboard only
becomes an incident that appears on a dispatcher's board live, a unit is sent in one click (and a unit that is
no longer free is refused in words), a duplicate call is suggested and merged, an undecided call is resumed and
closed as misuse, and a south dispatcher sees nothing of the north's incidents."""

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import update

from sereno.core.auth.principal import cli_principal
from sereno.dispatch.models import Unit
from sereno.dispatch.service import IncidentView, NewCall
from tests.console.conftest import LiveServer, screenshot

NORTH = (-0.16, -78.47)
SOUTH = (-0.30, -78.54)


def open_view(page: Page, route: str) -> None:
    page.goto(page.url.split("#")[0] + route)


def wait_live(page: Page) -> None:
    expect(page.locator("#live-state")).to_have_text("live")  # events sent from now on reach the page


def incident_at(live_server: LiveServer, where: tuple[float, float], type_code: str = "structure-fire") -> IncidentView:
    admin = cli_principal("test")
    lat, lon = where
    call = live_server.rt.dispatch.take_call(
        admin, NewCall("+593 99 000 0000", live_server.rt.clock.now_us(), lat, lon)
    )
    return live_server.rt.dispatch.open_incident(admin, call.id, type_code, lat, lon, address="Av. Amazonas 100")


def type_call(page: Page, number: str, where: str, lat: str, lon: str, says: str) -> None:
    """The intake form by keyboard only: the caller number has focus, Tab moves on, Enter records."""
    expect(page.get_by_label("Caller number")).to_be_focused()
    keys = page.keyboard
    for text in (number, where, lat, lon):
        keys.type(text)
        keys.press("Tab")
    keys.type(says)
    keys.press("Enter")
    expect(page.locator("#call-panel")).to_be_visible()
    expect(page.locator("#call-panel-title")).to_be_focused()


def test_a_call_becomes_an_incident_on_the_board_live_and_a_unit_goes_in_one_click(
    login: Callable[..., Page], live_server: LiveServer
) -> None:
    board = login("dispatcher-north")
    open_view(board, "#/board")
    wait_live(board)
    expect(board.locator('#board [data-status="new"] .count')).to_have_text("0")

    taker = login("taker-north")
    open_view(taker, "#/calls")
    expect(taker.locator("#calls-keys")).to_contain_text("Alt+I")  # the shortcuts are on screen
    type_call(taker, "+593 99 123 4567", "Av. 10 de Agosto y Colón", "-0.16", "-78.47", "Smoke from a shop")
    expect(taker.locator("#call-duplicates")).to_contain_text("None")
    taker.keyboard.press("Alt+KeyI")
    types = taker.get_by_label("Incident type")
    expect(types).to_be_focused()
    taker.keyboard.type("Struct")  # the select's own type-ahead
    expect(types).to_have_value("structure-fire")
    expect(taker.get_by_label("Priority")).to_contain_text("The type's default (P1)")
    taker.keyboard.press("Tab")
    expect(taker.locator("#incident-form").get_by_label("Address")).to_have_value("Av. 10 de Agosto y Colón")
    screenshot(taker, "calls")
    taker.keyboard.press("Enter")
    status = taker.locator("#calls-status")
    expect(status).to_contain_text("opened: Structure fire, P1, centre north")
    incident_id = status.locator("a").inner_text()
    expect(taker.get_by_label("Caller number")).to_be_focused()  # a fresh form for the next caller
    expect(taker.locator("#call-panel")).to_be_hidden()
    expect(taker.locator("#last-calls li").first).to_contain_text(f"incident {incident_id}")

    # The board, never reloaded, shows it in "New".
    card = board.locator(f'#board [data-status="new"] li[data-incident="{incident_id}"]')
    expect(card).to_contain_text("P1")
    expect(card).to_contain_text("Structure fire")
    expect(board.locator('#board [data-status="new"] .count')).to_have_text("1")
    screenshot(board, "board")

    # Opened with the keyboard; the first recommendation for a north structure fire is E-12, one click sends it.
    card.locator("a").focus()
    board.keyboard.press("Enter")
    expect(board).to_have_url(f"{live_server.url}/#/incident/{incident_id}")
    expect(board.locator("#incident-title")).to_have_text("Structure fire · P1 · new")
    first = board.locator("#incident-picks tbody tr").first
    expect(first.locator("th")).to_have_text("E-12")
    expect(first).to_contain_text("is available")  # the reason, in words
    board.get_by_role("button", name="Dispatch E-12").click()
    expect(board.locator("#incident-timeline li").last).to_contain_text("E-12 (fire) dispatched")
    expect(board.locator("#incident-title")).to_have_text("Structure fire · P1 · dispatched")
    expect(board.locator("#incident-units")).to_contain_text("E-12")
    expect(board.locator("#incident-picks")).not_to_contain_text("E-12")
    expect(board.locator("#incident-units-title")).to_be_focused()
    screenshot(board, "incident")

    # A unit that stopped being free after the page drew it: the server's 409 is shown in words. (No event is
    # sent for this change, so the button is still there; the wait lets the dispatch's own refresh finish.)
    board.wait_for_timeout(1500)
    other = board.locator("#incident-picks tbody tr").first.get_attribute("data-callsign")
    assert other
    with live_server.rt.db.write() as s:
        s.execute(update(Unit).where(Unit.callsign == other).values(status="off-duty"))
    board.get_by_role("button", name=f"Dispatch {other}").click()
    expect(board.locator("#incident-error")).to_have_text(
        f"{other} was not dispatched: unit {other} is not available (it is off-duty)."
    )

    # The board followed while the page was open: the incident is now under "Dispatched".
    board.locator("#incident a.back").click()
    expect(board.locator(f'#board [data-status="dispatched"] li[data-incident="{incident_id}"]')).to_be_visible()
    expect(board.locator('#board [data-status="new"] .count')).to_have_text("0")

    # And on the map: the unit that was sent shows as dispatched, beside the incident it was sent to.
    board.goto(f"{live_server.url}/#/map")
    expect(board.locator("#map").get_by_role("button", name="E-12 · fire · dispatched")).to_be_visible()
    expect(
        board.locator("#map").get_by_role("button", name="P1 structure-fire · dispatched", exact=True)
    ).to_be_visible()
    screenshot(board, "map-after-dispatch")


def test_a_duplicate_call_is_suggested_and_merged(login: Callable[..., Page], live_server: LiveServer) -> None:
    first = incident_at(live_server, NORTH)
    dispatcher = login("dispatcher-north")
    open_view(dispatcher, f"#/incident/{first.id}")
    wait_live(dispatcher)
    expect(dispatcher.locator("#incident-timeline li")).to_have_count(2)  # created, call

    taker = login("taker-north")
    open_view(taker, "#/calls")
    type_call(taker, "0998877665", "same shop, from across the street", "-0.1603", "-78.4702", "Flames now")
    suggestion = taker.locator(f'#call-duplicates li[data-incident="{first.id}"]')
    expect(suggestion).to_contain_text("Structure fire · P1 · new")
    expect(suggestion).to_contain_text("m away")
    expect(suggestion).to_contain_text("min ago")
    screenshot(taker, "calls-duplicate")
    suggestion.get_by_role("button", name="Merge into this").click()
    expect(taker.locator("#calls-status")).to_have_text(f"Call merged into incident {first.id}.")
    expect(taker.locator("#last-calls li").first).to_contain_text(f"merged into {first.id}")

    # The dispatcher's page shows the merged call live.
    expect(dispatcher.locator("#incident-timeline li")).to_have_count(3)
    expect(dispatcher.locator("#incident-timeline li").last).to_contain_text("Duplicate call merged")
    expect(dispatcher.locator("#incident-timeline li").last).to_contain_text("Flames now")


def test_an_undecided_call_is_kept_resumed_and_closed_as_misuse(login: Callable[..., Page]) -> None:
    taker = login("taker-north")
    open_view(taker, "#/calls")
    type_call(taker, "022 555 000", "", "", "", "laughing, hangs up")
    expect(taker.locator("#call-duplicates")).to_contain_text("without a position")
    taker.keyboard.press("Alt+KeyI")
    taker.keyboard.type("Struct")
    taker.keyboard.press("Tab")
    taker.keyboard.press("Enter")  # no position: refused here, in words, before asking the server
    expect(taker.locator("#calls-error")).to_have_text("An incident needs a position: latitude and longitude.")

    taker.keyboard.press("Alt+KeyN")  # another caller is waiting: this one stays listed, undecided
    expect(taker.get_by_label("Caller number")).to_be_focused()
    expect(taker.locator("#call-panel")).to_be_hidden()
    undecided = taker.locator("#last-calls li").first
    expect(undecided).to_contain_text("open, no decision yet")
    undecided.get_by_role("button", name="Resume").click()
    expect(taker.locator("#call-panel")).to_be_visible()
    expect(taker.locator("#call-panel .summary")).to_contain_text("laughing, hangs up")

    taker.keyboard.press("Alt+KeyM")
    expect(taker.get_by_label("Kind")).to_be_focused()
    taker.keyboard.type("pr")
    expect(taker.get_by_label("Kind")).to_have_value("prank")
    taker.keyboard.press("Tab")
    taker.keyboard.press("Enter")
    expect(taker.locator("#calls-status")).to_have_text("Call closed as misuse (prank).")
    expect(taker.locator("#last-calls li").first).to_contain_text("misuse: prank")
    expect(taker.locator("#calls-error")).to_have_text("")


def test_a_south_dispatcher_sees_nothing_of_the_north(login: Callable[..., Page], live_server: LiveServer) -> None:
    north = incident_at(live_server, NORTH)
    south_before = incident_at(live_server, SOUTH)
    page = login("dispatcher-south", width=2560, height=1440)  # a video wall's screen
    open_view(page, "#/board")
    wait_live(page)
    expect(page.locator("#board li[data-incident]")).to_have_count(1)
    expect(page.locator(f'#board li[data-incident="{south_before.id}"]')).to_be_visible()

    # Opened in that order, the north's first: when the south's has arrived live, the north's would have too.
    north_later = incident_at(live_server, NORTH, "robbery")
    south_later = incident_at(live_server, SOUTH, "robbery")
    expect(page.locator(f'#board li[data-incident="{south_later.id}"]')).to_be_visible()
    expect(page.locator("#board li[data-incident]")).to_have_count(2)
    expect(page.locator("#board")).not_to_contain_text(north.id)
    expect(page.locator("#board")).not_to_contain_text(north_later.id)
    screenshot(page, "board-wall")

    open_view(page, f"#/incident/{north.id}")
    expect(page.locator("#incident-title")).to_have_text("Incident not found")
    expect(page.locator("#incident-error")).to_contain_text(f"Not found: no incident '{north.id}'")
    expect(page.locator("#incident-timeline")).to_be_hidden()
