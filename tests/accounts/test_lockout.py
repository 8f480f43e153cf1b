"""Repeated failed log-ins lock out the username, or the address they came from, on the login page and on the
token endpoint; the right password works again after the cool-off or an ``axes_reset``; the token endpoint is
throttled per address on top."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from ukbstudy.accounts.services import user_create

PASSWORD = "a-long-test-password-7"
LIMIT = 3


@pytest.fixture(autouse=True)
def lockout(settings):
    """The lockout on (the test settings switch it off for Client.login()), with a small limit; the token
    throttle's counts (in the cache) start from nothing."""
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = LIMIT
    settings.AXES_COOLOFF_TIME = timedelta(minutes=15)
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def viewer(db):
    return user_create(username="viewer-user", password=PASSWORD, role="viewer")


def page_login(username: str, password: str, address: str = "10.0.0.1"):
    return Client(REMOTE_ADDR=address).post("/accounts/login/", {"username": username, "password": password})


def token_login(username: str, password: str, address: str = "10.0.0.1"):
    return APIClient(REMOTE_ADDR=address).post("/api/auth/token/", {"username": username, "password": password})


def logs_in(response) -> bool:
    return response.status_code == 302 and "_auth_user_id" in response.client.session


def test_the_login_page_locks_a_username_out_after_the_failure_limit(viewer):
    for attempt in range(LIMIT - 1):
        assert page_login("viewer-user", "wrong", address=f"10.0.1.{attempt}").status_code == 200
    refused = page_login("viewer-user", "wrong", address="10.0.1.99")
    assert refused.status_code == 429
    assert "Log-in is blocked for 15 minutes" in refused.content.decode()
    # From yet another address, with the right password: still refused, and no session.
    right = page_login("viewer-user", PASSWORD, address="10.0.2.1")
    assert right.status_code == 429 and "_auth_user_id" not in right.client.session
    assert right["Retry-After"] == "900"


def test_the_login_page_locks_an_address_out_whatever_the_username(viewer):
    for attempt in range(LIMIT):
        page_login(f"guess-{attempt}", "wrong", address="10.0.3.1")
    assert page_login("viewer-user", PASSWORD, address="10.0.3.1").status_code == 429
    assert logs_in(page_login("viewer-user", PASSWORD, address="10.0.3.2"))  # the user is not locked out


def test_a_success_before_the_limit_clears_the_count(viewer):
    for _ in range(LIMIT - 1):
        page_login("viewer-user", "wrong")
    assert logs_in(page_login("viewer-user", PASSWORD))
    for _ in range(LIMIT - 1):
        assert page_login("viewer-user", "wrong").status_code == 200


def test_logging_in_as_oneself_does_not_clear_the_guesses_at_another_account(viewer):
    user_create(username="admin-user", password=PASSWORD + "x", role="admin")
    for _ in range(LIMIT - 1):
        page_login("admin-user", "guess")
    assert logs_in(page_login("viewer-user", PASSWORD))  # the guesser's own account, same address
    assert page_login("admin-user", "guess", address="10.0.9.9").status_code == 429  # the count went on


def test_the_right_password_works_again_after_the_cool_off(viewer):
    for _ in range(LIMIT):
        page_login("viewer-user", "wrong")
    assert page_login("viewer-user", PASSWORD).status_code == 429
    AccessAttempt.objects.update(attempt_time=AccessAttempt.objects.get().attempt_time - timedelta(minutes=16))
    assert logs_in(page_login("viewer-user", PASSWORD))


def test_axes_reset_lifts_a_lockout_at_once(viewer):
    for _ in range(LIMIT):
        page_login("viewer-user", "wrong")
    assert page_login("viewer-user", PASSWORD).status_code == 429
    call_command("axes_reset")
    assert logs_in(page_login("viewer-user", PASSWORD))


def test_the_token_endpoint_counts_towards_the_same_lockout(viewer):
    for attempt in range(LIMIT - 1):
        assert token_login("viewer-user", "wrong", address=f"10.0.4.{attempt}").status_code == 400
    refused = token_login("viewer-user", "wrong", address="10.0.4.99")
    assert refused.status_code == 429
    assert "blocked for 15 minutes" in refused.json()["detail"] and refused.json()["retry_after_seconds"] == 900
    right = token_login("viewer-user", PASSWORD, address="10.0.5.1")
    assert right.status_code == 429 and "token" not in right.json()
    assert page_login("viewer-user", PASSWORD, address="10.0.5.2").status_code == 429  # and the login page


def test_the_token_endpoint_locks_an_address_out(viewer):
    for attempt in range(LIMIT):
        token_login(f"guess-{attempt}", "wrong", address="10.0.6.1")
    assert token_login("viewer-user", PASSWORD, address="10.0.6.1").status_code == 429
    assert token_login("viewer-user", PASSWORD, address="10.0.6.2").status_code == 200


def test_a_token_success_clears_the_count(viewer):
    for _ in range(LIMIT - 1):
        token_login("viewer-user", "wrong")
    assert token_login("viewer-user", PASSWORD).status_code == 200
    assert not AccessAttempt.objects.filter(failures_since_start__gt=0).exists()


def test_the_token_endpoint_is_throttled_per_address(viewer):
    for _ in range(10):  # the configured rate: 10 a minute
        assert token_login("viewer-user", PASSWORD, address="10.0.7.1").status_code == 200
    throttled = token_login("viewer-user", PASSWORD, address="10.0.7.1")
    assert throttled.status_code == 429 and "throttled" in throttled.json()["detail"]
    assert int(throttled["Retry-After"]) > 0
    assert token_login("viewer-user", PASSWORD, address="10.0.7.2").status_code == 200  # another address


def test_behind_a_proxy_the_forwarded_client_is_counted(settings, viewer):
    settings.NUM_PROXIES = 1
    forwarded = {"HTTP_X_FORWARDED_FOR": "198.51.100.7"}
    for attempt in range(LIMIT):
        Client(REMOTE_ADDR="10.9.9.9").post("/accounts/login/", {"username": f"guess-{attempt}", "password": "x"},
                                            **forwarded)
    blocked = Client(REMOTE_ADDR="10.9.9.9").post("/accounts/login/", {"username": "viewer-user",
                                                                       "password": PASSWORD}, **forwarded)
    assert blocked.status_code == 429
    other = Client(REMOTE_ADDR="10.9.9.9").post("/accounts/login/", {"username": "viewer-user", "password": PASSWORD},
                                                HTTP_X_FORWARDED_FOR="203.0.113.5")
    assert logs_in(other)  # the proxy's own address is not what is locked out
