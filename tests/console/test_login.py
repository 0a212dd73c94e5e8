"""Logging in through the console in a real browser: the session shows who, which role and which centres;
the navigation offers only what the role may use; a wrong password is refused in words; logout ends it."""

from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from tests.console.conftest import LiveServer, screenshot


def test_login_shows_identity_and_only_the_views_of_the_role(login: Callable[..., Page]) -> None:
    page = login("dispatcher-north")
    expect(page.locator("#who")).to_have_text("dispatcher-north · dispatcher · north")
    names = page.locator("#nav a").all_inner_texts()
    assert names == ["Camera wall", "Alerts", "Map", "Take a call", "Incidents"]
    auditor = login("auditor")
    assert auditor.locator("#nav a").all_inner_texts() == ["Audit"]
    expect(auditor.locator("#audit-status")).to_contain_text("Chain verified")
    screenshot(auditor, "audit")


def test_a_wrong_password_is_refused_and_logout_ends_the_session(browser: Browser, live_server: LiveServer) -> None:
    page = browser.new_page()
    try:
        page.goto(live_server.url)
        page.get_by_label("Username").fill("operator-north")
        page.get_by_label("Password").fill("not the password")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#login-error")).to_contain_text("wrong username or password")
        screenshot(page, "login-refused")
        page.get_by_label("Password").fill("correct horse battery staple")
        page.get_by_role("button", name="Log in").click()
        expect(page.locator("#logout")).to_be_visible()
        page.locator("#logout").click()
        expect(page.get_by_role("button", name="Log in")).to_be_visible()
        assert page.request.get(f"{live_server.url}/api/auth/me").status == 401
    finally:
        page.close()
