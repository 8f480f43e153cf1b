"""Results pages in Chromium: every page draws Plotly figures with data, a reviewer records an outlier verdict,
an admin downloads the regression tables and the measurement CSV, whose rows match the database."""

import csv
import io

import pytest
from django.core.cache import cache

from tests.results.cohort import build_cohort
from ukbstudy.measurements.models import Measurement
from ukbstudy.results.models import OutlierVerdict

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

# a trace's values are arrays, or base64 typed arrays ({dtype, bdata}) as plotly.py sends NumPy arrays
PLOTS_WITH_DATA = """() => { const size = v => v ? (v.length ?? (v.bdata ? v.bdata.length : 0)) : 0;
    return [...document.querySelectorAll('.js-plotly-plot')].map(
        p => p.data.length > 0 && p.data.some(t => size(t.x) > 0 || size(t.y) > 0 || size(t.z) > 0)); }"""


@pytest.fixture
def admin_page(login, rater):
    cache.clear()  # results parts cached by an earlier test (fingerprints could repeat after a flush)
    build_cohort(rater, n=40, with_reference=30)
    return login("admin", "/results/", username="ada")


def plots_drawn(page, count: int) -> None:
    expect(page.locator(".js-plotly-plot")).to_have_count(count)
    assert page.evaluate(PLOTS_WITH_DATA) == [True] * count


def download(page, locator) -> str:
    with page.expect_download() as info:
        page.click(locator)
    return open(info.value.path(), encoding="utf-8").read()


def test_every_results_page_draws_its_figures(admin_page, live_server):
    page = admin_page
    expect(page.locator("h1")).to_have_text("Cohort dashboard")
    plots_drawn(page, 8)
    page.select_option("#id_grouping", "centre")
    page.click("text=Show")
    expect(page.locator("#panel-violin caption")).to_have_text("Reference 22402-2.0 by centre")
    plots_drawn(page, 8)

    page.click("text=Method comparison")
    expect(page.locator(".result-table caption")).to_contain_text("Method comparison on dataset A")
    plots_drawn(page, 3)
    page.select_option("#id_b", "atlas")
    page.fill("#id_threshold", "8")
    page.click("text=Compare")
    expect(page.locator(".result-table tbody td").first).to_have_text("Reference 22402-2.0 vs Multi-atlas")
    plots_drawn(page, 3)

    page.click("text=Regression tables")
    page.select_option("#id_dependent", "bmd_spine")
    page.select_option("#id_explanatory", "segmentation:bmff_spine")
    page.select_option("#id_covariates", ["age", "bmi"])
    page.click("text=Fit")
    expect(page.locator("caption", has_text="Multivariable regression")).to_be_visible()
    tables = download(page, "#csv-download")
    assert tables.startswith("Univariable associations") and "Model 3," in tables


def test_a_reviewer_records_an_outlier_verdict_from_the_queue(admin_page):
    page = admin_page
    page.click("text=Outlier review")
    first = page.locator("#outliers tbody tr").first
    eid, scan = int(first.locator("a").inner_text()), int(first.get_attribute("data-scan"))
    first.locator("a").click()
    expect(page.locator("#subject-title")).to_have_text(f"Participant {eid}, visit 2")
    page.check("input[value=reference_implausible]")
    page.fill("#id_manual_value", "3.75")
    page.fill("#id_note", "=reference from another subject?")
    page.click("text=Record verdict")
    expect(page.locator("#verdict-history li").first).to_contain_text("Reference implausible")
    verdict = OutlierVerdict.objects.get()
    assert (verdict.subject.eid, verdict.scan_id, verdict.verdict, verdict.manual_value,
            verdict.reviewer.username) == (eid, scan, "reference_implausible", 3.75, "ada")
    assert verdict.note == "=reference from another subject?"
    page.click("text=back to the queue")  # dataset A: the implausible reference has left it, yet stays listed
    reviewed = page.locator("#outliers tbody tr", has_text=str(eid))
    expect(reviewed).to_contain_text("Reference implausible")
    expect(reviewed).to_contain_text("left dataset A")
    page.select_option("#id_review", "unreviewed")
    page.click("text=Rank")
    expect(page.locator("#id_review")).to_have_value("unreviewed")
    assert page.locator("#outliers a", has_text=str(eid)).count() == 0
    page.select_option("#id_dataset", "all")
    page.select_option("#id_review", "all")
    page.click("text=Rank")
    expect(page.locator("#outliers tbody tr", has_text=str(eid))).to_contain_text("Reference implausible")
    page.click("text=Method comparison")
    plots_drawn(page, 3)
    expect(page.locator("p.muted", has_text="Dataset A")).to_contain_text("29 subjects")


def test_an_admin_downloads_measurements_whose_rows_match_the_database(admin_page):
    page = admin_page
    rows = list(csv.DictReader(io.StringIO(download(page, "#export-long"))))
    stored = Measurement.objects.select_related("subject")
    assert len(rows) == stored.count() == 120
    assert {(int(r["eid"]), int(r["instance"]), int(r["scan"]), r["quantity"], r["method"], float(r["value"]))
            for r in rows} == {(m.subject.eid, 2, m.scan_id, m.quantity, m.method, m.value) for m in stored}
    wide = list(csv.DictReader(io.StringIO(download(page, "#export-wide"))))
    network = stored.filter(quantity="liver_ff", method="network")
    trained = {m.scan_id: m.value for m in network if "out_of_fold" not in m.details}  # inference on B
    out_of_fold = {m.scan_id: m.value for m in network if "out_of_fold" in m.details}  # cross-validation on A
    assert {int(r["scan"]): float(r["liver_ff:network"]) for r in wide if r["liver_ff:network"]} == trained
    assert {int(r["scan"]): float(r["liver_ff:network_oof"]) for r in wide if r["liver_ff:network_oof"]} == out_of_fold
    assert len(trained) + len(out_of_fold) == len(wide) == 40
