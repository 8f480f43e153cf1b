"""The layout's rules, checked on the source: where Django may be imported, who writes job rows, and which
way the imports between services and tasks run."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
JOB_FIELDS = {"status", "result", "error", "progress_done", "progress_total", "progress_message", "metrics",
              "device", "started_at", "finished_at", "cancel_requested", "celery_task_id", "parameters"}
WRITE_METHODS = {"create", "update", "delete", "bulk_create", "bulk_update", "get_or_create", "update_or_create"}


def _sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py")
                  if "migrations" not in path.parts)


def _imports(tree: ast.AST) -> list[str]:
    names = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append("." * node.level + (node.module or ""))
    return names


@pytest.mark.parametrize("package", ["ml", "analysis"])
def test_the_numerical_packages_never_import_django(package):
    for path in _sources(package):
        for name in _imports(ast.parse(path.read_text())):
            assert name != "django" and not name.startswith(("django.", "ukbstudy")), f"{path}: imports {name}"


def test_ml_and_analysis_import_without_django_settings():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    modules = sorted({".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                      for path in _sources("ml", "analysis")})
    code = (f"import importlib, sys\nfor name in {modules!r}: importlib.import_module(name)\n"
            "assert not any(m == 'django' or m.startswith('django.') for m in sys.modules), 'django imported'")
    completed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr[-2000:]


def _job_writes(tree: ast.AST) -> list[str]:
    """Lines that write a Job or JobItem row: a write method on its manager, or a job's field assigned/saved."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS:
            if any(isinstance(n, ast.Name) and n.id in ("Job", "JobItem") for n in ast.walk(node.func.value)):
                found.append(f"line {node.lineno}: Job.objects...{node.func.attr}()")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "save":
            if isinstance(node.func.value, ast.Name) and node.func.value.id == "job":
                found.append(f"line {node.lineno}: job.save()")
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AugAssign | ast.AnnAssign) else []
        for target in targets:
            for element in target.elts if isinstance(target, ast.Tuple) else [target]:
                if (isinstance(element, ast.Attribute) and element.attr in JOB_FIELDS
                        and isinstance(element.value, ast.Name) and element.value.id == "job"):
                    found.append(f"line {node.lineno}: job.{element.attr} = ...")
    return found


def test_only_the_jobs_app_writes_job_rows():
    offenders = {}
    for path in _sources("ukbstudy"):
        if path.is_relative_to(ROOT / "ukbstudy" / "jobs"):
            continue
        writes = _job_writes(ast.parse(path.read_text()))
        if writes:
            offenders[str(path.relative_to(ROOT))] = writes
    assert offenders == {}


def test_the_job_write_check_finds_each_kind_of_write():
    source = ("Job.objects.filter(pk=1).update(status='x')\njob.save()\njob.status, job.error = 1, 2\n"
              "JobItem.objects.create(job=job)\njob.result['a'] = 1\n")
    lines = sorted({int(w.split(":")[0].removeprefix("line ")) for w in _job_writes(ast.parse(source))})
    assert lines == [1, 2, 3, 4]


def test_no_module_but_a_tasks_module_imports_a_tasks_module():
    """Services queue tasks by their registered names, so imports run one way: tasks -> services."""
    for path in _sources("ukbstudy"):
        if path.name == "tasks.py":
            continue
        for name in _imports(ast.parse(path.read_text())):
            assert not (name.endswith(".tasks") or name == ".tasks"), f"{path}: imports {name}"


def test_the_jobs_app_imports_no_domain_app():
    allowed = ("ukbstudy.jobs", "ukbstudy.audit", "ukbstudy.celery", "ukbstudy.accounts")
    for path in _sources("ukbstudy/jobs"):
        for name in _imports(ast.parse(path.read_text())):
            if name.startswith("ukbstudy"):
                assert name.startswith(allowed), f"{path}: imports {name}"
