"""The papers' tables page: the same sections as `report paper`, a visible error for a bad parameter, CSV."""

import pytest
from django.test import Client

from ukbstudy.accounts.services import user_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer():
    client = Client()
    client.force_login(user_create(username="viewer-1", password="pw-long-enough-1", role="viewer"))
    return client


def test_a_viewer_sees_every_section_and_why_an_empty_study_cannot_fill_it(viewer):
    page = viewer.get("/results/paper/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.count('<section class="paper-section">') == 10
    assert "Liver fat paper, Table 1" in html and "Bone marrow paper, Fig. 5A" in html
    assert html.count("cannot be filled") == 10
    assert 'id="csv-download"' in html


def test_a_bad_seed_is_a_visible_error_not_a_silent_default(viewer):
    page = viewer.get("/results/paper/?seed=abc")
    assert page.status_code == 400
    html = page.content.decode()
    assert 'class="error" role="alert"' in html and "Enter a whole number." in html
    assert '<section class="paper-section">' not in html
    assert viewer.get("/results/paper/?field=99999-2.0").status_code == 400


def test_the_form_shows_the_parameters_the_tables_were_computed_with(viewer):
    html = viewer.get("/results/paper/?field=22436-2.0&seed=7").content.decode()
    assert '<option value="22436-2.0" selected>' in html
    assert 'name="seed" value="7"' in html


def test_the_csv_download_holds_every_section(viewer):
    response = viewer.get("/results/paper/?seed=3&download=csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith('attachment; filename="papers-')
    body = response.content.decode()
    assert body.startswith("# Liver fat paper, Table 1") and body.count("cannot be filled") == 10


def test_the_page_needs_a_login():
    assert Client().get("/results/paper/").status_code == 302
