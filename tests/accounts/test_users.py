"""Users are created with a role and a password Django's validators accept, by the service and the command."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from ukbstudy.accounts.roles import role_of
from ukbstudy.accounts.services import user_create

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("username", "password", "reason"), [
    ("ana", "short1", "too short"),
    ("ana", "password123", "too common"),
    ("ana", "8203948571263", "entirely numeric"),
    ("annabel.rater", "annabel.rater1", "too similar"),
])
def test_user_create_refuses_a_password_the_validators_refuse(username, password, reason):
    with pytest.raises(ValidationError) as refused:
        user_create(username=username, password=password, role="rater")
    assert any(reason in message for message in refused.value.messages)
    assert not get_user_model().objects.filter(username=username).exists()


def test_user_create_accepts_a_strong_password_and_grants_the_role():
    user = user_create(username="ana", password="quiet-harbour-lantern-42", role="analyst")
    assert user.check_password("quiet-harbour-lantern-42") and role_of(user) == "analyst"


def test_add_user_prints_a_generated_password_that_logs_in():
    out = io.StringIO()
    call_command("add_user", "ana", "--role", "viewer", stdout=out)
    password = out.getvalue().rsplit("password: ", 1)[1].strip()
    assert get_user_model().objects.get(username="ana").check_password(password)


def test_add_user_reports_a_weak_password_and_creates_no_one():
    with pytest.raises(CommandError) as refused:
        call_command("add_user", "ana", "--role", "viewer", "--password-stdin", stdin=io.StringIO("password\n"))
    message = str(refused.value)
    assert message.startswith("Password refused:") and "too common" in message and "too short" not in message
    assert not get_user_model().objects.filter(username="ana").exists()


def test_add_user_takes_a_strong_password_from_stdin():
    out = io.StringIO()
    call_command("add_user", "ana", "--role", "rater", "--password-stdin", stdin=io.StringIO("quiet-harbour-42\n"),
                 stdout=out)
    assert "quiet-harbour-42" not in out.getvalue()
    assert get_user_model().objects.get(username="ana").check_password("quiet-harbour-42")
