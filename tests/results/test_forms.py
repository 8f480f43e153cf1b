"""Results page forms: each shows exactly the parameters its results were computed with, a deep link's left-out
parameters at their defaults; a bad parameter is a visible error with HTTP 400 and nothing computed."""

import re

import pytest
from django.test import Client

from tests.results.cohort import build_cohort
from ukbstudy.accounts.services import user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def scans(rater):
    return build_cohort(rater, n=12, with_reference=10)


def selected(page: str, name: str) -> list[str]:
    """The selected options' values of the select ``name``."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', page, re.S)
    assert select, f"no select {name}"
    return re.findall(r'<option value="([^"]*)"[^>]*\bselected>', select.group(1))


def number(page: str, name: str) -> str:
    found = re.search(rf'<input type="number" name="{name}" value="([^"]*)"', page)
    return found.group(1) if found else ""


def test_a_compare_deep_link_shows_the_defaults_it_was_computed_with(scans, viewer):
    response = viewer.get("/results/compare/?threshold=10")
    page = response.content.decode()
    assert response.status_code == 200
    assert selected(page, "a") == ["reference"] and selected(page, "b") == ["network_oof"]
    assert selected(page, "quantity") == ["liver_ff"] and selected(page, "dataset") == ["A"]
    assert number(page, "threshold") == "10"
    assert "<td>Reference 22402-2.0 vs Network, cross-validation out-of-fold</td>" in page
    assert "threshold at 10 (value above threshold = positive)" in page


def test_a_compare_link_without_parameters_shows_every_default(scans, viewer):
    page = viewer.get("/results/compare/").content.decode()
    assert selected(page, "b") == ["network_oof"] and number(page, "threshold") == "5.5"
    assert "threshold at 5.5" in page


def test_an_outlier_deep_link_shows_the_defaults_it_was_computed_with(scans, viewer):
    page = viewer.get("/results/outliers/?n=3").content.decode()
    assert selected(page, "a") == ["reference"] and selected(page, "b") == ["network_oof"]
    assert selected(page, "dataset") == ["A"] and selected(page, "review") == ["all"]
    assert number(page, "n") == "3"
    assert len(re.findall(r'<a href="/results/outliers/scans/\d+/\?a=reference&amp;b=network_oof', page)) == 3


def test_a_regression_deep_link_shows_the_defaults_it_was_fitted_with(scans, viewer):
    page = viewer.get("/results/regression/?explanatory=age").content.decode()
    assert selected(page, "dependent") == ["segmentation:bmff_spine"] and selected(page, "explanatory") == ["age"]
    assert "Multivariable regression: Segmentation network (bmff_spine)" in page


def test_the_regression_page_fits_nothing_until_asked(scans, viewer):
    response = viewer.get("/results/regression/")
    page = response.content.decode()
    assert response.status_code == 200 and 'id="not-fitted"' in page and "Univariable associations" not in page
    assert selected(page, "dependent") == ["segmentation:bmff_spine"]


def test_a_dashboard_deep_link_shows_the_defaults_it_was_drawn_with(scans, viewer):
    page = viewer.get("/results/?grouping=sex").content.decode()
    assert selected(page, "column") == ["reference"] and selected(page, "quantity") == ["liver_ff"]
    assert selected(page, "grouping") == ["sex"]


BAD_PARAMETERS = [
    ("/results/compare/?threshold=abc", "Threshold (%) (given “abc”): Enter a number."),
    ("/results/compare/?threshold=-5", "Ensure this value is greater than or equal to 0."),
    ("/results/compare/?threshold=1e9", "Ensure this value is less than or equal to 100."),
    ("/results/compare/?threshold=", "Threshold (%): This field is required."),
    ("/results/compare/?a=bogus&dataset=Z", "Select a valid choice. bogus is not one of the available choices."),
    ("/results/compare/?a=bogus&dataset=Z", "Dataset: Select a valid choice. Z is not one of the available choices."),
    ("/results/compare/?quantity=nope", "Quantity: Select a valid choice. nope is not one of the available choices."),
    ("/results/compare/?a=network&b=network", "choose two different methods"),
    ("/results/outliers/?n=abc", "Scans (given “abc”): Enter a whole number."),
    ("/results/outliers/?n=0", "Ensure this value is greater than or equal to 1."),
    ("/results/outliers/?review=maybe", "Show: Select a valid choice. maybe is not one of the available choices."),
    ("/results/outliers/?quantity=nope", "Select a valid choice. nope is not one of the available choices."),
    ("/results/regression/?dependent=xx", "Dependent: Select a valid choice. xx is not one of the available choices."),
    ("/results/regression/?dependent=age&explanatory=age", "the dependent and the explanatory variable must differ"),
    ("/results/?quantity=nope", "Quantity: Select a valid choice. nope is not one of the available choices."),
    ("/results/?grouping=colour", "Group by: Select a valid choice. colour is not one of the available choices."),
]


@pytest.mark.parametrize(("url", "error"), BAD_PARAMETERS)
def test_a_bad_parameter_is_a_visible_error_with_400_and_nothing_computed(scans, viewer, url, error):
    response = viewer.get(url)
    page = response.content.decode()
    assert response.status_code == 400
    errors = page.split('id="form-errors"')[1].split("</div>")[0]
    assert 'role="alert"' in page and error in errors.replace("&amp;", "&")
    assert "Nothing was computed." in errors
    assert 'type="application/json" id="figure-' not in page  # no figure drawn
    assert '<table class="result-table">' not in page and '<table id="outliers">' not in page


def test_the_field_with_the_bad_value_is_marked_invalid(scans, viewer):
    page = viewer.get("/results/compare/?threshold=abc").content.decode()
    field = re.search(r'<label[^>]*class="invalid">Threshold \(%\) (<input[^>]*>)', page)
    assert field and 'aria-invalid="true"' in field.group(1)
    assert 'aria-invalid="true"' not in page.replace(field.group(1), "")  # only that one


def test_a_bad_threshold_never_computes_at_the_default(scans, viewer):
    page = viewer.get("/results/compare/?threshold=abc").content.decode()
    assert "threshold at 5.5" not in page and "Dataset A (liver_ff)" not in page


def test_the_regression_csv_of_a_bad_query_is_the_error_page_not_a_download(scans, viewer):
    response = viewer.get("/results/regression/?dependent=xx&download=csv")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")


def test_the_review_page_refuses_a_comparison_it_cannot_name(scans, viewer):
    response = viewer.get(f"/results/outliers/scans/{scans[0].pk}/?a=bogus")
    page = response.content.decode()
    assert response.status_code == 400 and "bogus is not one of the available choices" in page
    assert 'id="verdict-form"' not in page


def test_a_verdict_on_a_comparison_the_query_cannot_name_is_not_recorded(scans):
    from ukbstudy.results.models import OutlierVerdict

    client = Client()
    client.force_login(user_create(username="rae", password="pw-long-enough-1", role="rater"))
    response = client.post(f"/results/outliers/scans/{scans[0].pk}/?b=reference", {"verdict": "network_wrong"})
    assert response.status_code == 400 and not OutlierVerdict.objects.exists()


def test_the_measurement_api_refuses_the_same_bad_quantity(scans, viewer):
    response = viewer.get("/api/measurements/?quantity=nope")
    assert response.status_code == 400 and "quantity" in response.json()
