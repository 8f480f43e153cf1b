"""Login lockout (django-axes): who the client is, and what a locked-out client is told.

Axes counts failed logins per username and per address (settings: ``AXES_*``); these two callables are the
only project code it calls: the client's address (behind ``NUM_PROXIES`` proxies, as DRF's throttles count
it) and the refusal, a page for people and JSON for the API, both saying why and for how long.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

STATUS = 429  # Too Many Requests: the client may try again after Retry-After seconds


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: REMOTE_ADDR, or behind proxies the address the outermost trusted one saw."""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if settings.NUM_PROXIES and forwarded:
        addresses = [address.strip() for address in forwarded.split(",")]
        return addresses[-min(settings.NUM_PROXIES, len(addresses))]
    return request.META.get("REMOTE_ADDR")


def lockout_message(cool_off: timedelta) -> str:
    minutes = max(1, round(cool_off.total_seconds() / 60))
    return (f"Too many failed log-ins for this username or from this address. "
            f"Log-in is blocked for {minutes} minute{'s' if minutes != 1 else ''}; ask an administrator "
            f"if you need in sooner.")


def lockout_json() -> JsonResponse:
    """The API's refusal, with the wait in seconds (also as Retry-After)."""
    cool_off = settings.AXES_COOLOFF_TIME
    seconds = int(cool_off.total_seconds())
    response = JsonResponse({"detail": lockout_message(cool_off), "retry_after_seconds": seconds}, status=STATUS)
    response["Retry-After"] = str(seconds)
    return response


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: JSON under /api/, else the login page's lockout notice."""
    if request.path.startswith("/api/"):
        return lockout_json()
    cool_off = settings.AXES_COOLOFF_TIME
    response = render(request, "registration/locked_out.html", {"message": lockout_message(cool_off)},
                      status=STATUS)
    response["Retry-After"] = str(int(cool_off.total_seconds()))
    return response


def clear_own_failures(sender, request, user, **kwargs) -> None:
    """On a successful log-in (page, admin or token), forget the failures recorded for this username, and
    only those: failures at other usernames from the same address keep counting."""
    if settings.AXES_ENABLED:
        from axes.models import AccessAttempt

        AccessAttempt.objects.filter(username=user.get_username()).delete()
