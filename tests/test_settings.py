"""Production settings are secure by default and refuse to start without their secrets."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    environment.update(DJANGO_SETTINGS_MODULE="ukbstudy.settings.production", **env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=120)


def test_check_deploy_is_clean_under_production_settings(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
                    DJANGO_ALLOWED_HOSTS="ukbstudy.example.org", UKBSTUDY_DATA_DIR=str(tmp_path))
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    result = manage("check", DJANGO_ALLOWED_HOSTS="ukbstudy.example.org", UKBSTUDY_DATA_DIR=str(tmp_path))
    assert result.returncode != 0 and "Set DJANGO_SECRET_KEY" in result.stderr


def policy_of(response) -> dict:
    header = response["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in header.split(";"))


def test_every_answer_carries_a_strict_content_security_policy(client, db):
    for url in ("/accounts/login/", "/api/schema/"):
        policy = policy_of(client.get(url))
        assert policy["default-src"] == "'self'" and policy["script-src"] == "'self'", url
        assert policy["object-src"] == "'none'" and policy["frame-ancestors"] == "'none'", url
        assert "unsafe" not in policy["style-src"] + policy["style-src-elem"], url


def test_no_template_has_inline_script_handlers_or_styles():
    """What the policy refuses, so that a page never depends on it: inline code, on* handlers, javascript: URLs,
    style attributes and <style> elements (JSON data blocks are not code and may stay)."""
    import re

    forbidden = re.compile(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))|\son[a-z]+\s*=|javascript:|"
                           r"\sstyle\s*=|<style", re.IGNORECASE)
    templates = [*ROOT.glob("templates/**/*.html"), *ROOT.glob("ukbstudy/*/templates/**/*.html")]
    assert templates
    found = [f"{path.relative_to(ROOT)}: {match.group(0)}" for path in templates
             for match in forbidden.finditer(path.read_text())]
    assert not found, found


def test_lockout_and_throttle_settings_come_from_the_environment(tmp_path):
    code = ("from django.conf import settings as s; "
            "print(s.AXES_FAILURE_LIMIT, s.AXES_COOLOFF_TIME.total_seconds(), "
            "s.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES']['token'], s.AXES_LOCKOUT_PARAMETERS, s.AXES_ENABLED)")
    result = manage("shell", "-c", code, DJANGO_SECRET_KEY=secrets.token_urlsafe(60),
                    DJANGO_ALLOWED_HOSTS="ukbstudy.example.org", UKBSTUDY_DATA_DIR=str(tmp_path),
                    AXES_FAILURE_LIMIT="7", AXES_COOLOFF_MINUTES="30", API_TOKEN_THROTTLE_RATE="5/minute")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "7 1800.0 5/minute ['ip_address', 'username'] True"
