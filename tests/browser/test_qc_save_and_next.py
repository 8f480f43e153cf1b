"""Save-and-next in a real browser: the next scan's page and images are fetched ahead and swapped in place,
each step timed from the key press to the next scan's images painted; without fetching ahead (the plain
way) the same steps load each page. ``bench/bench_qc_browser.py`` runs these with more steps and full-scale
images (QC_STEPS, QC_STEPS_SCALE) and prints the figures written to QC_STEPS_REPORT."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from ml.synthetic import make_cohort
from tests.factories import processed_scans
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.qc.models import QCDecision

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

STEPS = int(os.environ.get("QC_STEPS", "5"))
SCALE = float(os.environ.get("QC_STEPS_SCALE", "0.25"))
REPORT = os.environ.get("QC_STEPS_REPORT", "")
RECORD_VIOLATIONS = """window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", e => window.__cspViolations.push(e.violatedDirective));"""


@pytest.fixture(scope="module")
def step_archives(tmp_path_factory) -> list[Path]:
    summary = make_cohort(tmp_path_factory.mktemp("qc-steps"), STEPS + 1, seed=97, scale=SCALE,
                          repeat_fraction=0.0, fault_rates={})
    return sorted(Path(p) for p in summary.archives)


@pytest.fixture
def scans(step_archives) -> list[Scan]:
    return processed_scans(step_archives)


@pytest.fixture
def rater_page(browser, live_server, scans):
    """A 1440 x 900 window logged in as a rater, on the first scan of the queue."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.add_init_script(RECORD_VIOLATIONS)
    user_create(username="rita", password="a-long-password-1", role="rater")
    page.goto(f"{live_server.url}/qc/")
    page.fill("#id_username", "rita")
    page.fill("#id_password", "a-long-password-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.locator("#scan-title")).to_be_visible()
    yield page
    context.close()


def review(page, steps: int, *, ahead: bool) -> list[str]:
    """Pass ``steps`` scans with p then Enter, each once the page is ready (its images decoded and, when
    fetching ahead, the next scan's page with them), as a rater who looks at a scan before deciding."""
    titles = []
    for _ in range(steps):
        title = page.inner_text("#scan-title")
        titles.append(title)
        page.wait_for_function("""() => Array.from(document.querySelectorAll('.qc-images img'))
            .every(i => i.complete && i.naturalWidth > 0)""")
        if ahead:
            page.wait_for_function("() => Boolean(document.documentElement.dataset.ahead)")
        page.keyboard.press("p")
        page.keyboard.press("Enter")
        page.wait_for_function("""(title) => { const shown = document.getElementById('scan-title');
            return shown ? shown.textContent !== title : document.querySelector('h1') !== null; }""", arg=title)
    return titles


def step_times(page, steps: int) -> list[float]:
    """The times of the ``steps`` steps taken (each is kept once its images are painted)."""
    page.wait_for_function("(n) => JSON.parse(sessionStorage.getItem('qc-step-ms') || '[]').length >= n", arg=steps)
    return page.evaluate("JSON.parse(sessionStorage.getItem('qc-step-ms'))")


def report(kind: str, times: list[float]) -> None:
    if REPORT:
        path = Path(REPORT)
        found = json.loads(path.read_text()) if path.exists() else {}
        found[kind] = times
        path.write_text(json.dumps(found))


def recorded(titles: list[str]) -> None:
    decisions = QCDecision.objects.order_by("decided_at", "id").select_related("scan")
    assert [(str(d.scan), d.verdict) for d in decisions] == [(t, "pass") for t in titles]


def test_each_next_scan_is_swapped_in_place_with_its_images_ready(rater_page, live_server, scans):
    page = rater_page
    page.evaluate("window.__sameDocument = true")
    first = page.inner_text("#scan-title")
    titles = review(page, STEPS - 1, ahead=True)
    # Every step stayed in this document, its address that of the scan shown, counts and message updated.
    assert page.evaluate("window.__sameDocument") is True
    shown = Scan.objects.get(pk=int(page.url.rstrip("/").rsplit("/", 1)[1]))
    expect(page.locator("#scan-title")).to_have_text(str(shown))
    expect(page.locator("#queue-left")).to_have_text("2")
    expect(page.locator("#decided-today")).to_have_text(str(STEPS - 1))
    expect(page.locator(".messages .success")).to_have_text(f"{titles[-1]}: pass saved")
    # The slice viewer and the keys work on the swapped page.
    index = int(page.get_attribute("#slice-image", "data-index"))
    page.keyboard.press("ArrowDown")
    expect(page.locator("#slice-image")).to_have_attribute("data-index", str(index + 1))
    page.keyboard.press("?")
    expect(page.locator("#help")).to_be_visible()
    page.keyboard.press("Escape")
    times = step_times(page, STEPS - 1)
    assert len(times) == STEPS - 1 and all(0 < t < 10_000 for t in times)
    report("swap", times)
    # The browser's back button shows the scan before, drawn afresh by the server.
    page.go_back()
    expect(page.locator("#scan-title")).to_have_text(titles[-1])
    assert titles[0] == first
    recorded(titles)
    assert not page.evaluate("window.__cspViolations")


def test_the_last_scan_and_a_form_error_take_the_plain_way(rater_page, live_server, scans):
    page = rater_page
    titles = review(page, STEPS - 1, ahead=True)
    page.wait_for_function("() => Boolean(document.documentElement.dataset.ahead)")
    before = page.inner_text("#scan-title")
    page.keyboard.press("f")  # a fail needs a reason: the server refuses, the page shows why
    page.keyboard.press("Enter")
    expect(page.locator("#decision .error")).to_be_visible()
    expect(page.locator("#scan-title")).to_have_text(before)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#scan-title")).not_to_have_text(before)
    review(page, 1, ahead=False)  # the last one: nothing to fetch ahead
    expect(page.locator("h1")).to_have_text("Nothing to review")
    assert QCDecision.objects.filter(verdict="fail", reason="water_fat_swap").count() == 1
    assert QCDecision.objects.count() == STEPS + 1 == len(titles) + 2


def test_without_fetching_ahead_each_step_loads_the_next_page(rater_page, live_server, scans):
    page = rater_page
    page.add_init_script("window.ukbQCNoSwap = true")
    page.reload()
    page.evaluate("window.__sameDocument = true")
    titles = review(page, STEPS - 1, ahead=False)
    assert page.evaluate("window.__sameDocument") is None  # a new document each step
    times = step_times(page, STEPS - 1)
    assert len(times) == STEPS - 1 and all(0 < t < 10_000 for t in times)
    report("plain", times)
    recorded(titles)
