"""With DEBUG off, as in production: "not found" and "not allowed" are pages in the app's layout, and a refusal
is logged as one line, without a traceback."""

from __future__ import annotations

import logging
import sys

import pytest
from django.test import Client

from ukbstudy.accounts.services import user_create
from ukbstudy.settings.log_filters import ClientErrorsWithoutTraceback

pytestmark = pytest.mark.django_db


@pytest.fixture
def analyst(settings) -> Client:
    settings.DEBUG = False
    client = Client()
    client.force_login(user_create(username="ana", password="pw-long-enough-1", role="analyst"))
    return client


def test_a_missing_page_is_a_404_page_in_the_layout(analyst):
    response = analyst.get("/no-such-page/")
    assert response.status_code == 404
    assert [t.name for t in response.templates][:2] == ["404.html", "base.html"]
    html = response.content.decode()
    assert "Page not found" in html and "/no-such-page/" in html
    assert 'class="bar"' in html and "ana (analyst)" in html  # the app's bar, with who is logged in


def test_a_missing_page_is_a_404_page_for_someone_not_logged_in_too(settings):
    settings.DEBUG = False
    response = Client().get("/no-such-page/")
    assert response.status_code == 404 and "Page not found" in response.content.decode()


def test_a_refused_page_is_a_403_page_in_the_layout_that_says_why(analyst):
    response = analyst.get("/exports/measurements.csv")
    assert response.status_code == 403
    assert [t.name for t in response.templates][:2] == ["403.html", "base.html"]
    html = response.content.decode()
    assert "Not allowed" in html and "Exports are for admins." in html and 'class="bar"' in html


def test_a_refusal_is_logged_once_without_a_traceback(analyst, caplog):
    with caplog.at_level(logging.INFO):
        assert analyst.get("/exports/").status_code == 403
    records = [r for r in caplog.records if r.name.startswith("django.")]
    assert [(r.name, r.levelname, r.getMessage()) for r in records] == [
        ("django.request", "WARNING", "Forbidden (Permission denied): /exports/")]
    assert records[0].exc_info is None and "Traceback" not in caplog.text


def test_a_server_error_keeps_its_traceback():
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        info = sys.exc_info()
    record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error", (), info)
    record.status_code = 500
    assert ClientErrorsWithoutTraceback().filter(record) and record.exc_info is info
