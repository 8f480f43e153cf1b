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
