"""The long export's created column is written by the database exactly as datetime.isoformat() in UTC."""

from datetime import UTC, datetime

import pytest

from tests.factories import make_scan
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.selectors.exports import ExportFilters, long_rows
from ukbstudy.measurements.services import measurement_record

pytestmark = pytest.mark.django_db


def test_created_is_iso_8601_utc_with_microseconds_only_when_there_are_some():
    scan = make_scan(processing_state="processed")
    stamps = [datetime(2025, 3, 9, 23, 59, 58, tzinfo=UTC), datetime(2025, 3, 10, 0, 0, 1, 40, tzinfo=UTC)]
    for method, stamp in zip(("network", "atlas"), stamps, strict=True):
        measurement = measurement_record(scan=scan, quantity="liver_ff", method=method, value=4.0)
        Measurement.objects.filter(pk=measurement.pk).update(created_at=stamp)
    rows = list(long_rows(ExportFilters()))[1:]
    assert sorted(row[-1] for row in rows) == sorted(stamp.isoformat() for stamp in stamps)
    assert sorted(row[-1] for row in rows) == ["2025-03-09T23:59:58+00:00", "2025-03-10T00:00:01.000040+00:00"]
