"""Cached page parts: served again while the data is unchanged, computed afresh once any source changes."""

import pytest

from tests.results.cohort import build_cohort
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results import pages
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
    coverage, comparison = pages._coverage_panel, pages._comparison

    def count(name, function):
        def counted(*args, **kwargs):
            counts[name] += 1
            return function(*args, **kwargs)
        return counted

    monkeypatch.setattr(pages, "_coverage_panel", count("coverage", coverage))
    monkeypatch.setattr(pages, "_comparison", count("comparison", comparison))
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
