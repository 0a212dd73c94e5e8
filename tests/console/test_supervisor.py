"""The supervisor and audit views in a real browser: KPIs of incidents run through their lifecycle on the
server's own clock, scoped to the supervisor's centre, with the chart, the CSV and the centre load that follows
the live feed; the auditor's search by action prefix, paging back, and the verified chain; roles without
these views neither see them nor reach them by address."""

import time
from collections.abc import Callable

from playwright.sync_api import Page, expect

from sereno.app import Runtime
from sereno.dispatch.service import NewCall
from tests.conftest import PASSWORD
from tests.console.conftest import LiveServer, screenshot

NORTH = (-0.16, -78.47)
SOUTH = (-0.30, -78.54)


def _now_us() -> int:
    return time.time_ns() // 1000


def _open(
    rt: Runtime, username: str, where: tuple[float, float], type_code: str, answered_ago_s: int, ring_s: int
) -> str:
    """A call answered `answered_ago_s` ago after ringing `ring_s`, and its incident; returns the incident id.
    The live server runs on the system clock, so the dispatch that follows sets processing = answered_ago_s."""
    who = rt.auth.principal_for(username, via="session")
    answered = _now_us() - answered_ago_s * 1_000_000
    call = rt.dispatch.take_call(who, NewCall("0991", answered, *where, ring_us=answered - ring_s * 1_000_000))
    return rt.dispatch.open_incident(who, call.id, type_code, *where).id


def _run_to_close(rt: Runtime, username: str, incident_id: str, unit: str) -> None:
    who = rt.auth.principal_for(username, via="session")
    rt.units.dispatch(who, incident_id, unit)
    rt.units.set_status(who, unit, "en-route")
    rt.units.set_status(who, unit, "on-scene")
    rt.dispatch.set_status(who, incident_id, "closed")
    rt.units.set_status(who, unit, "available")


def _seed(rt: Runtime) -> None:
    # North: one closed incident late on processing (90 s), one late on answering (20 s ringing), one open and
    # dispatched, one new; a prank call. South: one closed incident the north supervisor must never see.
    _run_to_close(rt, "dispatcher-north", _open(rt, "dispatcher-north", NORTH, "robbery", 90, 5), "P-102")
    _run_to_close(rt, "dispatcher-north", _open(rt, "dispatcher-north", NORTH, "robbery", 30, 20), "P-102")
    working = _open(rt, "dispatcher-north", NORTH, "medical-emergency", 10, 3)
    rt.units.dispatch(rt.auth.principal_for("dispatcher-north", via="session"), working, "A-3")
    _open(rt, "dispatcher-north", NORTH, "medical-emergency", 5, 2)
    taker = rt.auth.principal_for("taker-north", via="session")
    rt.dispatch.close_as_misuse(taker, rt.dispatch.take_call(taker, NewCall("0992", _now_us())).id, "prank")
    _run_to_close(rt, "dispatcher-south", _open(rt, "dispatcher-south", SOUTH, "robbery", 40, 4), "P-103")


def test_supervisor_sees_kpis_and_centre_load_of_their_centre(
    login: Callable[..., Page], live_server: LiveServer
) -> None:
    _seed(live_server.rt)
    page = login("supervisor-north")
    page.get_by_role("link", name="Supervisor").click()
    expect(page.locator("#kpi-status")).to_contain_text("5 calls")  # 4 incidents and the prank, north only
    page.wait_for_function("() => document.querySelector('img.kpi-chart')?.naturalWidth > 0")
    alt = page.locator("img.kpi-chart").get_attribute("alt") or ""
    assert "targets met at the 90th percentile" in alt and "Missed: answer, north" in alt

    groups = set(page.locator(".kpi-rows tbody th").all_inner_texts())
    assert groups == {"north"}
    processing = page.locator(".kpi-rows tbody tr").filter(has_text="processing")
    expect(processing).to_contain_text("missed")  # p90 of 90, 30, 10 s is over NFPA 1225's 60 s
    expect(page.locator(".kpi-rows tbody tr").filter(has_text="turnout")).to_contain_text("met")
    misuse = page.locator("table.kpi-counts").filter(has_text="Misuse by kind")
    expect(misuse.locator("tbody th")).to_have_text(["prank"])
    expect(misuse.locator("tbody td")).to_have_text(["1", "20.0%"])  # one of the five calls

    csv_href = page.locator("a.csv").get_attribute("href") or ""
    csv = page.request.get(f"{live_server.url}{csv_href}")
    assert csv.ok and "north,processing,3," in csv.text() and "south" not in csv.text()

    load = page.locator(".kpi-load tbody tr")
    expect(load).to_have_count(1)
    assert load.first.get_attribute("data-centre") == "north"
    cells = load.first.locator("td")
    assert cells.all_inner_texts()[:5] == ["1", "1", "0", "0", "2"]  # new, dispatched, en route, on scene, total
    screenshot(page, "supervisor")

    # A new north incident reaches the centre load through the live feed, without a reload.
    _open(live_server.rt, "dispatcher-north", NORTH, "robbery", 1, 1)
    expect(cells.nth(0)).to_have_text("2", timeout=10_000)

    # By agency, driven from the keyboard: the rows regroup and the focus ring shows where the user is.
    group = page.get_by_label("Group by")
    group.focus()
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    group.select_option("agency")
    expect(page.locator(".kpi-rows tbody th").first).to_have_text("health")
    assert set(page.locator(".kpi-rows tbody th").all_inner_texts()) == {"health", "police"}

    # A custom period before any of it: the report says so instead of drawing stale figures.
    page.get_by_label("Period").select_option("custom")
    page.get_by_label("From (UTC)").fill("2020-01-01T00:00")
    page.get_by_label("To (UTC)").fill("2020-01-02T00:00")
    page.get_by_role("button", name="Show report").click()
    expect(page.locator("#kpi-status")).to_contain_text("2020-01-01 00:00:00 to 2020-01-02 00:00:00 UTC: 0 calls")
    expect(page.locator("img.kpi-chart")).to_have_attribute("alt", "Response-time chart: no incidents in this period.")

    wall = login("supervisor-north", width=2560, height=1440)  # the same view on a video wall
    wall.get_by_role("link", name="Supervisor").click()
    wall.wait_for_function("() => document.querySelector('img.kpi-chart')?.naturalWidth > 0")
    screenshot(wall, "supervisor-wall")


def test_auditor_searches_by_action_pages_back_and_sees_the_chain_verified(
    login: Callable[..., Page], live_server: LiveServer
) -> None:
    for _ in range(12):  # more auth entries than one page of ten holds
        live_server.rt.auth.login("operator-north", PASSWORD, "test")
    page = login("auditor")
    expect(page.locator("#audit-status")).to_contain_text("Chain verified")
    page.get_by_label("Action starts with").fill("auth.")
    page.get_by_label("Per page").select_option("10")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#audit-results-status")).to_contain_text("10 entries")
    actions = page.locator(".audit-entries tbody tr td:nth-child(4)")
    assert all(a.startswith("auth.") for a in actions.all_inner_texts())
    first_page = [int(s) for s in page.locator(".audit-entries tbody tr td:nth-child(1)").all_inner_texts()]
    screenshot(page, "audit-search")

    page.get_by_role("button", name="Older entries").click()
    expect(page.locator("#audit-results-status")).to_contain_text("page 2")
    older = [int(s) for s in page.locator(".audit-entries tbody tr td:nth-child(1)").all_inner_texts()]
    assert older and max(older) < min(first_page)
    assert all(a.startswith("auth.") for a in actions.all_inner_texts())
    page.get_by_role("button", name="Newer entries").click()
    expect(page.locator(".audit-entries tbody tr").first).to_have_attribute("data-seq", str(first_page[0]))

    # Details stay folded until asked for, and open from the keyboard.
    summary = page.locator(".audit-entries summary").first
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".audit-entries details").first).to_have_attribute("open", "")


def test_roles_without_the_views_get_no_links_and_no_way_in(login: Callable[..., Page]) -> None:
    operator = login("operator-north")
    names = operator.locator("#nav a").all_inner_texts()
    assert "Supervisor" not in names and "Audit" not in names
    operator.evaluate("location.hash = '#/kpis'")
    expect(operator.locator('section[data-view="wall"]')).to_be_visible()
    expect(operator.locator('section[data-view="kpis"]')).to_be_hidden()
    operator.evaluate("location.hash = '#/audit'")
    expect(operator.locator('section[data-view="audit"]')).to_be_hidden()

    supervisor = login("supervisor-north")  # may read the log, not verify it
    supervisor.get_by_role("link", name="Audit").click()
    expect(supervisor.locator("#audit-status")).to_contain_text("for auditors")
    expect(supervisor.get_by_role("button", name="Verify again")).to_have_count(0)
