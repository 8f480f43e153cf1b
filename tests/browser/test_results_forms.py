"""Results forms in Chromium: a deep link's form shows what the page computed with (so pressing the button
computes the same again), a bad parameter is a visible error with nothing drawn, and the dashboard draws pass
green and fail red."""

from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from tests.results.cohort import build_cohort
from ukbstudy.results.figures import FAIL, PASS

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

# Each drawn bar's fill per trace name, read from the SVG Plotly drew (not from the JSON sent).
BAR_FILLS = """key => { const plot = document.querySelector(`[data-figure="figure-${key}"]`);
    return [...plot.querySelectorAll('.trace.bars')].map(trace => [
        trace.__data__[0].trace.name, [...trace.querySelectorAll('path')].map(p => p.style.fill)]); }"""


def rgb(colour: str) -> str:
    return "rgb({}, {}, {})".format(*(int(colour[i:i + 2], 16) for i in (1, 3, 5)))


@pytest.fixture
def viewer_page(login, rater):
    cache.clear()  # results parts cached by an earlier test (fingerprints could repeat after a flush)
    build_cohort(rater, n=40, with_reference=30)  # the last subject fails QC
    return login("viewer", "/results/", username="vic")


def test_a_deep_links_form_shows_what_was_computed_and_computes_the_same_again(viewer_page, live_server):
    page = viewer_page
    page.goto(f"{live_server.url}/results/compare/?threshold=10")
    expect(page.locator("#id_a")).to_have_value("reference")
    expect(page.locator("#id_b")).to_have_value("network_oof")
    expect(page.locator("#id_threshold")).to_have_value("10")
    comparison = page.locator(".result-table tbody td").first
    expect(comparison).to_have_text("Reference 22402-2.0 vs Network, cross-validation out-of-fold")
    page.click("text=Compare")
    expect(page).to_have_url(f"{live_server.url}/results/compare/?a=reference&b=network_oof&quantity=liver_ff"
                             "&dataset=A&threshold=10")
    # never reference vs itself
    expect(comparison).to_have_text("Reference 22402-2.0 vs Network, cross-validation out-of-fold")

    page.goto(f"{live_server.url}/results/outliers/?n=3")
    expect(page.locator("#id_b")).to_have_value("network_oof")
    expect(page.locator("#id_n")).to_have_value("3")
    expect(page.locator("#id_review")).to_have_value("all")
    ranked = page.locator("#outliers tbody tr").all_inner_texts()
    assert len(ranked) == 3
    page.click("text=Rank")
    expect(page.locator("#outliers tbody tr")).to_have_count(3)
    assert page.locator("#outliers tbody tr").all_inner_texts() == ranked

    page.goto(f"{live_server.url}/results/regression/?explanatory=age")
    expect(page.locator("#id_dependent")).to_have_value("segmentation:bmff_spine")
    expect(page.locator("#id_explanatory")).to_have_value("age")
    expect(page.locator("caption", has_text="Multivariable regression")).to_be_visible()


def test_a_bad_parameter_is_a_visible_error_and_nothing_is_drawn(viewer_page, live_server):
    page = viewer_page
    response = page.goto(f"{live_server.url}/results/compare/?threshold=abc")
    assert response.status == 400
    errors = page.locator("#form-errors")
    expect(errors).to_be_visible()
    expect(errors).to_contain_text("Nothing was computed.")
    expect(errors).to_contain_text("Threshold (%) (given “abc”): Enter a number.")
    expect(page.locator("label.invalid #id_threshold")).to_be_visible()
    assert page.locator(".js-plotly-plot").count() == 0 and page.locator(".result-table").count() == 0

    response = page.goto(f"{live_server.url}/results/outliers/?n=abc")
    assert response.status == 400
    expect(page.locator("#form-errors")).to_contain_text("Scans (given “abc”): Enter a whole number.")
    assert page.locator("#outliers").count() == 0


def test_the_dashboard_draws_pass_green_and_fail_red(viewer_page):
    page = viewer_page
    expect(page.locator(".js-plotly-plot")).to_have_count(8)
    for key in ("qc-status", "qc-time"):
        fills = dict(page.evaluate(BAR_FILLS, key))
        assert set(fills) == {"Pass", "Fail"}, key
        assert set(fills["Pass"]) == {rgb(PASS)} and set(fills["Fail"]) == {rgb(FAIL)}, key
    month = datetime.now(UTC).strftime("%b %Y")  # the cohort's QC decisions were all made now
    expect(page.locator("#panel-qc-time .xtick text")).to_have_text([month])
