"""The Content-Security-Policy (no inline script or style, everything from this site) breaks no page: Chromium
reports no violation while the QC queue, the results figures (Plotly), the liver fat page's form and the admin
are used, and the log-in lockout page shows its notice."""

from datetime import timedelta

import pytest
from django.core.cache import cache

from tests.results.cohort import build_cohort

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

# Registered before any page script runs (through the DevTools protocol, so the policy does not apply to it).
RECORD_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation",
    e => window.__cspViolations.push(
        `${location.pathname}: ${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));"""


@pytest.fixture
def violations(page):
    """Every CSP violation the page reports, as a console error or a securitypolicyviolation event."""
    seen = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on("console", lambda message: seen.append(message.text) if "Content Security Policy" in message.text
            else None)

    def collect() -> list:  # the events of the page now open, and every page's console errors
        return page.evaluate("window.__cspViolations || []") + seen

    return collect


def no_violations(found: list) -> None:
    assert not found, "\n".join(found)


def test_the_study_pages_run_under_the_policy_without_a_violation(login, rater, violations, live_server):
    cache.clear()  # cached results parts of an earlier test
    build_cohort(rater, n=12, with_reference=9)
    page = login("admin", "/results/", username="ada")
    response = page.goto(f"{live_server.url}/results/")
    policy = dict(part.strip().split(" ", 1) for part in response.headers["content-security-policy"].split(";"))
    assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'"
    assert "unsafe" not in policy["style-src"] + policy["style-src-elem"]
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    page.locator(".js-plotly-plot").first.hover()  # Plotly's hover layer and mode bar draw styles too
    no_violations(violations())

    page.goto(f"{live_server.url}/liverfat/")
    choice = page.locator("select[name=field]")
    other = choice.locator("option").nth(1).get_attribute("value")
    with page.expect_navigation():
        choice.select_option(other)  # submits through static/ukbstudy/app.js, no inline handler
    assert f"field={other}" in page.url
    no_violations(violations())

    for path in ("/qc/", "/jobs/", "/admin/", "/admin/imaging/scan/", "/api/"):
        page.goto(f"{live_server.url}{path}")
        no_violations(violations())


def test_a_locked_out_user_sees_why_and_for_how_long(page, live_server, settings, violations):
    from ukbstudy.accounts.services import user_create

    settings.AXES_ENABLED, settings.AXES_FAILURE_LIMIT = True, 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    user_create(username="lou", password="a-long-password-1", role="viewer")
    page.goto(f"{live_server.url}/accounts/login/")
    for _ in range(2):
        page.fill("#id_username", "lou")
        page.fill("#id_password", "wrong-password")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if page.locator("#lockout").count():
            break
    expect(page.locator("#lockout")).to_contain_text("blocked for 15 minutes")
    no_violations(violations())
