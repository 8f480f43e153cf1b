"""Dashboard and comparison figures read as their data means: pass green, fail red, months as months, reasons by
label, whole-number count axes, bands in order, units on axes, titles that fit, a note where ROC is undefined;
the regression form offers only method and quantity pairs that have measurements."""

import re
from datetime import datetime

import pytest

from tests.results.cohort import build_cohort, figures
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results.figures import FAIL, PASS, TITLE_WIDTH

pytestmark = pytest.mark.django_db


@pytest.fixture
def scans(rater):
    return build_cohort(rater, n=40, with_reference=30)  # the last subject fails QC (reason: noise)


def colours(figure: dict) -> dict[str, str]:
    return {trace["name"]: trace.get("marker", {}).get("color") for trace in figure["data"]}


def test_pass_is_green_and_fail_red_in_every_qc_chart(scans, viewer):
    plots = figures(viewer.get("/results/").content.decode())
    for key in ("qc-status", "qc-time"):
        assert colours(plots[key]) == {"Pass": PASS, "Fail": FAIL}, key
    assert colours(plots["visit"]) == {"processed": PASS}
    assert set(colours(plots["qc-reasons"]).values()) == {None}  # other series: the layout's colorway, which
    assert {PASS, FAIL}.isdisjoint(c.lower() for c in plots["qc-reasons"]["layout"]["colorway"])  # has no green/red


def test_months_are_month_names_and_reasons_their_labels(scans, viewer):
    page = viewer.get("/results/").content.decode()
    plots = figures(page)
    month = datetime.now().strftime("%b %Y")
    for key in ("qc-time", "qc-reasons"):
        assert plots[key]["layout"]["xaxis"]["type"] == "category"
        assert plots[key]["layout"]["xaxis"]["categoryarray"] == [month]
        assert plots[key]["data"][0]["x"] == [month]
    assert [trace["name"] for trace in plots["qc-reasons"]["data"]] == ["Noise"]
    assert "<td>Noise</td>" in page and "<td>noise</td>" not in page


def test_count_axes_show_whole_numbers(scans, viewer):
    plots = figures(viewer.get("/results/", {"column": "reference"}).content.decode())
    for key in ("centre", "visit", "qc-status", "qc-time", "qc-reasons", "histogram"):
        assert plots[key]["layout"]["yaxis"]["tickformat"] == ",d", key
    assert plots["qc-reasons"]["layout"]["yaxis"]["dtick"] == 1  # one failure: ticks 0 and 1, never 0.5


def test_age_bands_are_in_order_in_the_violins_and_their_table(scans, viewer):
    page = viewer.get("/results/", {"column": "reference", "grouping": "age_band"}).content.decode()
    bands = figures(page)["violin"]["layout"]["xaxis"]["categoryarray"]
    assert bands == sorted(bands, key=["<50", "50-59", "60-69", "70+"].index) and len(bands) >= 3
    table = page.split('id="panel-violin"')[1]
    header = re.search(r"<thead><tr>(.*?)</tr></thead>", table).group(1)
    assert re.findall(r'<th scope="col">([^<]*)</th>', header)[1:-2] == [b.replace("<", "&lt;") for b in bands]


def test_axes_carry_units(scans, viewer):
    plots = figures(viewer.get("/results/", {"column": "reference"}).content.decode())
    assert plots["histogram"]["layout"]["xaxis"]["title"]["text"] == "Reference 22402-2.0 (%)"
    assert plots["violin"]["layout"]["yaxis"]["title"]["text"] == "Reference 22402-2.0 (%)"
    age = figures(viewer.get("/results/", {"column": "age"}).content.decode())
    assert age["histogram"]["layout"]["xaxis"]["title"]["text"].endswith("(years)")
    compare = figures(viewer.get("/results/compare/").content.decode())  # default b: network_oof on dataset A
    assert compare["scatter"]["layout"]["xaxis"]["title"]["text"] == "Reference 22402-2.0 (%)"
    assert compare["scatter"]["layout"]["yaxis"]["title"]["text"] == "Network, cross-validation out-of-fold (%)"
    assert compare["bland-altman"]["layout"]["yaxis"]["title"]["text"].endswith("(percentage points)")
    on_b = figures(viewer.get("/results/compare/", {"a": "atlas", "b": "network", "dataset": "B"}).content.decode())
    assert on_b["scatter"]["layout"]["xaxis"]["title"]["text"] == "Multi-atlas (%)"
    assert on_b["scatter"]["layout"]["yaxis"]["title"]["text"] == "Regression network (%)"


def test_a_group_test_that_cannot_run_names_each_groups_count_beside_a_two_group_legend(scans, viewer):
    for scan in (scans[0], scans[2], scans[4], scans[1]):  # three women and one man (the cohort alternates F, M)
        measurement_record(scan=scan, quantity="liver_ff", method="manual", value=float(scan.pk % 7))
    page = viewer.get("/results/", {"column": "manual", "grouping": "sex"}).content.decode()
    assert [trace["name"] for trace in figures(page)["histogram"]["data"]] == ["Female", "Male"]
    histogram = page.split('id="panel-histogram"')[1].split("</section>")[0]
    assert "needs at least 2 groups" not in page
    assert "No test between sex groups: a test needs two or more groups with at least 2 values each " \
           "(values per sex: Female 3, Male 1)." in histogram


def test_comparison_titles_fit_their_plots(scans, viewer):
    plots = figures(viewer.get("/results/compare/", {"b": "atlas"}).content.decode())
    for key, figure in plots.items():
        lines = figure["layout"]["title"]["text"].split("<br>")
        assert all(len(line) <= TITLE_WIDTH for line in lines), key
        assert figure["layout"]["margin"]["t"] >= 32 + 20 * len(lines)


def test_the_roc_says_where_it_is_undefined(scans, viewer):
    page = viewer.get("/results/compare/", {"threshold": "100"}).content.decode()
    roc = figures(page)["roc"]
    assert len(roc["data"]) == 1  # the chance line only, no curve
    assert roc["layout"]["annotations"][0]["text"].startswith("ROC undefined:")
    assert "all 30 subjects are at or below 100 % by Reference 22402-2.0" in page.split('id="panel-roc"')[1]
    drawn = figures(viewer.get("/results/compare/", {"threshold": "5.5"}).content.decode())["roc"]
    assert len(drawn["data"]) == 2 and "annotations" not in drawn["layout"]


def test_regression_offers_only_method_and_quantity_pairs_with_measurements(scans, viewer):
    page = viewer.get("/results/regression/").content.decode()
    offered = set(re.findall(r'<option value="(\w+:\w+)"', page.split('name="dependent"')[1].split("</select>")[0]))
    assert offered == {"network:liver_ff", "atlas:liver_ff", "segmentation:bmff_spine"}
    assert viewer.get("/results/regression/", {"dependent": "manual:liver_ff"}).status_code == 400
