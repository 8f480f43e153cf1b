"""Cached page parts: served again while the data is unchanged, computed afresh once any source changes."""

from dataclasses import replace

import pytest

from tests.results.cohort import build_cohort
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results import cache, pages, tasks
from ukbstudy.results.models import OutlierVerdict
from ukbstudy.results.services import outlier_verdict_record
from ukbstudy.subjects.services.withdrawal import subjects_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture
def scans(rater):
    return build_cohort(rater, n=12, with_reference=10)


@pytest.fixture
def builds(monkeypatch):
    """How often the coverage panel and the comparison were computed rather than read from the cache."""
    counts = {"coverage": 0, "comparison": 0}

    def count(name, part):
        spec = cache.PARTS[part]

        def counted(**params):
            counts[name] += 1
            return spec.build(**params)
        monkeypatch.setitem(cache.PARTS, part, replace(spec, build=counted))

    count("coverage", "dashboard-coverage")
    count("comparison", "comparison")
    return counts


def coverage_row(quantity="liver_ff") -> tuple[str, ...]:
    panel = next(p for p in pages.dashboard(column="network", quantity="liver_ff", grouping="sex")["panels"]
                 if p.key == "coverage")
    return next(row for row in panel.table.rows if row[0] == quantity)


def test_an_unchanged_cohort_is_computed_once_and_a_new_measurement_is_seen(scans, builds):
    assert coverage_row() == coverage_row() == ("liver_ff", "10", "0", "12", "12", "0", "0")
    assert builds["coverage"] == 1
    measurement_record(scan=scans[0], quantity="liver_ff", method="manual", value=3.0)
    assert coverage_row()[5] == "1" and builds["coverage"] == 2


def test_a_withdrawal_and_a_verdict_change_the_pages(scans, builds, rater):
    comparison = pages.Comparison(dataset="A")
    assert pages.comparison(comparison, threshold=5.5)["n_subjects"] == 10
    assert pages.comparison(comparison, threshold=5.5)["n_subjects"] == 10 and builds["comparison"] == 1
    assert pages.comparison(comparison, threshold=6.0)["n_subjects"] == 10 and builds["comparison"] == 2
    subjects_withdraw(eids=[scans[1].subject.eid])
    assert pages.comparison(comparison, threshold=5.5)["n_subjects"] == 9
    outlier_verdict_record(subject=scans[0].subject, scan=scans[0], reviewer=rater, verdict="reference_implausible",
                           method_a="reference", method_b="network")
    assert OutlierVerdict.objects.count() == 1
    assert pages.comparison(comparison, threshold=5.5)["n_subjects"] == 8
    assert coverage_row()[1] == "9"  # the withdrawn subject's reference is no longer counted


@pytest.fixture
def background(settings, monkeypatch):
    """A shared cache and workers: out-of-date parts are queued (recorded here) instead of computed inline."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": str(settings.MEDIA_ROOT) + "-cache"}}
    queued = []
    monkeypatch.setattr(tasks.refresh_part, "delay", lambda name, params: queued.append((name, params)))
    return queued


def test_with_workers_an_out_of_date_part_is_served_as_last_computed_while_one_worker_computes_it(
        scans, builds, background, media_root):
    assert cache.refresh_in_background()
    comparison = pages.Comparison(dataset="A")
    first = pages.comparison(comparison, threshold=5.5)  # never computed: computed here
    assert first["n_subjects"] == 10 and first["stale_since"] is None and background == []
    subjects_withdraw(eids=[scans[1].subject.eid])
    stale = pages.comparison(comparison, threshold=5.5)
    again = pages.comparison(comparison, threshold=5.5)
    assert stale["n_subjects"] == again["n_subjects"] == 10 and stale["stale_since"] is not None
    assert builds["comparison"] == 1
    assert background == [("comparison", {**comparison.as_query(), "threshold": 5.5})]  # queued once
    tasks.refresh_part.run(*background[0])  # the worker's part
    fresh = pages.comparison(comparison, threshold=5.5)
    assert fresh["n_subjects"] == 9 and fresh["stale_since"] is None and builds["comparison"] == 2
    subjects_withdraw(eids=[scans[2].subject.eid])
    assert pages.comparison(comparison, threshold=5.5)["stale_since"] is not None
    assert len(background) == 2  # the finished refresh released its lock


def test_the_page_says_its_figures_are_being_brought_up_to_date(scans, background, client, django_user_model):
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("viewer", password="viewer-password-1")
    user.user_permissions.add(Permission.objects.get(codename="view_measurement"))
    client.force_login(user)
    assert b'id="stale"' not in client.get("/results/compare/").content
    assert b'id="stale"' not in client.get("/results/").content
    measurement_record(scan=scans[0], quantity="liver_ff", method="manual", value=3.0)
    assert b"a worker is bringing these figures up to date" in client.get("/results/compare/").content
    assert b"a worker is bringing these figures up to date" in client.get("/results/").content
