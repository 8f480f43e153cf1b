"""The engine stands alone: importable without Django settings, and never imports Django."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_analysis_imports_without_django_settings() -> None:
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    code = ("import sys, analysis, analysis.tables, analysis.reports; "
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr


def test_no_module_mentions_a_django_import() -> None:
    for path in (ROOT / "analysis").glob("*.py"):
        text = path.read_text()
        assert "import django" not in text and "from django" not in text, path


def test_every_public_function_is_documented() -> None:
    import inspect

    import analysis

    for name in analysis.__all__:
        assert inspect.getdoc(getattr(analysis, name)), name
