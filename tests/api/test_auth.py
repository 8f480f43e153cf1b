"""Sessions (with CSRF protection) and tokens authenticate the same users with the same roles; an
unauthenticated request gets a JSON refusal, never the login page."""

from __future__ import annotations

import pytest
from django.utils.crypto import get_random_string
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from ukbstudy.qc.models import QCDecision

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db


def session_client(user) -> APIClient:
    """A browser-like client: logged in with a session and checked for CSRF like a browser."""
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    return client


def test_a_session_post_without_a_csrf_token_is_refused(users, cohort):
    response = session_client(users["rater"]).post(f"/api/scans/{cohort['scans'][0].pk}/qc/", {"verdict": "pass"},
                                                   format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not QCDecision.objects.exists()


def test_the_same_session_post_with_a_csrf_token_is_recorded(users, cohort):
    client = session_client(users["rater"])
    secret = get_random_string(32)
    client.cookies["csrftoken"] = secret
    response = client.post(f"/api/scans/{cohort['scans'][0].pk}/qc/", {"verdict": "pass"}, format="json",
                           HTTP_X_CSRFTOKEN=secret)
    assert response.status_code == 201
    assert QCDecision.objects.count() == 1


def test_a_token_is_issued_for_a_username_and_password(users):
    response = APIClient().post("/api/auth/token/", {"username": "viewer-user", "password": PASSWORD})
    assert response.status_code == 200
    assert response.json()["token"] == Token.objects.get(user=users["viewer"]).key


def test_no_token_for_a_wrong_password(users):
    response = APIClient().post("/api/auth/token/", {"username": "viewer-user", "password": "wrong"})
    assert response.status_code == 400 and "token" not in response.json()


def test_a_token_authenticates_with_the_users_role_and_needs_no_csrf_token(users, cohort):
    rater = APIClient(enforce_csrf_checks=True)
    rater.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users['rater']).key}")
    viewer = APIClient(enforce_csrf_checks=True)
    viewer.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=users['viewer']).key}")
    url = f"/api/scans/{cohort['scans'][0].pk}/qc/"
    assert viewer.get("/api/scans/").status_code == 200
    assert viewer.post(url, {"verdict": "pass"}, format="json").status_code == 403
    assert rater.post(url, {"verdict": "pass"}, format="json").status_code == 201
    assert QCDecision.objects.get().rater == users["rater"]


def test_an_unknown_token_is_refused_without_a_redirect(cohort):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/scans/")
    assert response.status_code in (401, 403) and "Location" not in response
    assert response.json()["detail"] == "Invalid token."


def test_anonymous_requests_get_json_refusals_not_the_login_page(cohort):
    for url in ("/api/", "/api/schema/?format=json", "/api/subjects/", "/api/scans/", "/api/qc-decisions/",
                "/api/measurements/", f"/api/scans/{cohort['scans'][0].pk}/qc/"):
        response = APIClient().get(url)
        assert response.status_code in (401, 403), url
        assert "Location" not in response and "json" in response["Content-Type"], url
