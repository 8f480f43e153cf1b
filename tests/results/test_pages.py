"""Results pages: every page renders its figures and the statistics engine's tables; viewers may look."""

import base64
import re

import numpy as np
import pytest
from django.test import Client

from analysis import agreement, top_disagreements
from tests.results.cohort import build_cohort, figures
from ukbstudy.measurements.selectors.frames import scan_frame

pytestmark = pytest.mark.django_db


@pytest.fixture
def scans(rater):
    return build_cohort(rater)


def array(values) -> np.ndarray:
    """A figure's array: a list, or a base64 typed array ({dtype, bdata, shape}) as plotly.py sends NumPy arrays."""
    if isinstance(values, dict):
        shape = [int(n) for n in str(values.get("shape", -1)).split(",")]
        return np.frombuffer(base64.b64decode(values["bdata"]), dtype=values["dtype"]).reshape(shape)
    return np.asarray(values)


def test_the_dashboard_shows_counts_coverage_and_distributions_with_tables(scans, viewer):
    response = viewer.get("/results/", {"column": "reference", "grouping": "sex"})
    page = response.content.decode()
    plots = figures(page)
    assert response.status_code == 200
    assert set(plots) == {"centre", "visit", "qc-status", "qc-time", "qc-reasons", "coverage", "histogram", "violin"}
    assert all("data" in figure for figure in plots.values())
    coverage = plots["coverage"]["data"][0]
    assert coverage["y"][0] == "liver_ff" and "network" in coverage["x"]
    # the coverage table beside the heatmap: 30 subjects with the reference, 40 with network values
    assert re.search(r"<td>liver_ff</td><td>30</td><td>0</td><td>40</td><td>40</td>", page)
    assert "Kruskal-Wallis" in page or "ANOVA" in page  # analysis.compare_groups' table beside the violins
    assert "Subjects by centre and sex" in page and "Cheadle (imaging)" in page


def test_the_dashboard_says_when_a_variable_has_no_values(scans, viewer):
    page = viewer.get("/results/", {"column": "manual"}).content.decode()
    assert "No subject has a value for Manual (liver_ff) yet." in page


def test_the_comparison_page_shows_table_1_and_three_plots_from_the_engine(scans, viewer):
    page = viewer.get("/results/compare/", {"a": "reference", "b": "network_oof", "dataset": "A",
                                            "quantity": "liver_ff", "threshold": "5.5"}).content.decode()
    frame = scan_frame(columns=["reference", "network_oof"])
    expected = agreement(frame["reference"], frame["network_oof"], 5.5)
    assert expected.n == 30
    assert f"<td>{expected.mae:.2f}</td>" in page and f"<td>{expected.r2:.3f}</td>" in page
    plots = figures(page)
    assert set(plots) == {"scatter", "bland-altman", "roc"}
    lines = [shape["y0"] for shape in plots["bland-altman"]["layout"]["shapes"]]
    assert lines == pytest.approx([expected.bias, expected.loa_lower, expected.loa_upper])  # from analysis
    assert 'data-link="/results/outliers/scans/SCAN/?a=reference&amp;b=network_oof' in page
    compared = frame.dropna().astype({"scan": int, "eid": int})
    pairs = sorted(map(list, zip(compared["scan"], compared["eid"], strict=True)))
    for key in ("scatter", "bland-altman"):  # each point carries its scan id (the link) and eid (the hover)
        assert sorted(array(plots[key]["data"][0]["customdata"]).tolist()) == pairs, key


def test_the_comparison_of_one_method_with_itself_is_refused(scans, viewer):
    page = viewer.get("/results/compare/", {"a": "network", "b": "network", "dataset": "all",
                                            "quantity": "liver_ff"}).content.decode()
    assert "choose two different methods" in page


def test_dataset_b_without_a_reference_says_why_there_is_no_comparison(scans, viewer):
    page = viewer.get("/results/compare/", {"a": "reference", "b": "network", "dataset": "B",
                                            "quantity": "liver_ff"}).content.decode()
    assert "No comparison on dataset B" in page and "at least 3 complete" in page


def test_the_outlier_queue_ranks_as_the_engine_does(scans, viewer):
    page = viewer.get("/results/outliers/", {"a": "reference", "b": "network_oof", "dataset": "A",
                                             "quantity": "liver_ff", "n": "5"}).content.decode()
    frame = scan_frame(columns=["reference", "network_oof"]).dropna()
    ranking = top_disagreements(frame["reference"], frame["network_oof"], ids=list(frame["scan"]), n=5)
    listed = [int(pk) for pk in re.findall(r'<a href="/results/outliers/scans/(\d+)/', page)]
    assert listed == [row.id for row in ranking.rows] and len(listed) == 5
    assert page.count("not reviewed") == 5


def test_the_regression_page_shows_both_tables_and_downloads_them_as_csv(scans, viewer):
    query = {"dependent": "bmd_spine", "explanatory": "segmentation:bmff_spine", "covariates": ["age", "bmi"]}
    page = viewer.get("/results/regression/", query).content.decode()
    assert "Univariable associations" in page and "Multivariable regression" in page
    assert "Model 3" in page and "Sex (M)" in page and "P (Exp*Sex)" in page
    response = viewer.get("/results/regression/", {**query, "download": "csv"})
    assert response["Content-Type"].startswith("text/csv")
    body = response.content.decode()
    assert body.startswith("Univariable associations\r\nExplanatory variable,")
    assert "Model 1," in body and "Model 3," in body


def test_a_baskets_other_numeric_fields_are_regression_variables_under_their_showcase_title(scans, viewer):
    from ukbstudy.showcase.models import CovariateValue

    for i, scan in enumerate(scans):  # head BMD (23226), a field the catalogue does not model
        CovariateValue.objects.create(subject=scan.subject, field="23226-2.0", value=2.0 + 0.01 * i,
                                      import_batch=scan.import_batch)
    query = {"dependent": "23226-2.0", "explanatory": "segmentation:bmff_spine", "covariates": ["bmd_spine"]}
    page = viewer.get("/results/regression/", query).content.decode()
    assert '<option value="23226-2.0" selected>Head BMD (bone mineral density) (g/cm2), 23226-2.0</option>' in page
    assert "L1-L4 BMD (bone mineral density) (g/cm2)" in page  # the spine BMD, never head BMD
    assert "Univariable associations" in page and "Model 2" in page


def test_the_regression_page_reports_what_the_engine_refuses(scans, viewer):
    page = viewer.get("/results/regression/", {"dependent": "bmd_spine", "explanatory": "vat_mass"}).content
    assert b"Univariable table:" in page and b"Model sequence:" in page  # no subject has a VAT mass


def test_pages_need_a_role(scans, django_user_model):
    client = Client()
    client.force_login(django_user_model.objects.create_user("nobody", password="pw-long-enough-1"))
    for url in ("/results/", "/results/compare/", "/results/outliers/", "/results/regression/"):
        assert client.get(url).status_code == 403
