"""One repeat-imaging participant end to end, from real archives: both visits' archives and the showcase basket
give each participant two visits (attributes from the basket's instance-2 and instance-3 columns) with one scan
each; one instance-3 scan id then leads to the same scan, visit and value in the long and the wide CSV, the
outlier review page, the manual value a verdict records, the participant page and /api/visits/."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path

import pytest
from django.test import Client

from ml.synthetic import make_cohort
from tests.factories import processed_scans
from ukbstudy.accounts.services import user_create
from ukbstudy.imaging.models import Scan
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results.models import OutlierVerdict
from ukbstudy.showcase.services.fields import showcase_import_fields
from ukbstudy.subjects.models import Visit

pytestmark = pytest.mark.django_db
COMPARISON = "a=network%402&b=network&quantity=liver_ff&dataset=repeat"


@pytest.fixture(scope="module")
def cohort(tmp_path_factory):
    """Three participants, each scanned at both imaging visits (scale 0.25, no faults); archives and basket."""
    out = tmp_path_factory.mktemp("repeat-cohort")
    summary = make_cohort(out, 3, seed=23, scale=0.25, repeat_fraction=1.0, fault_rates={})
    archives = sorted(Path(p) for p in summary.archives)
    with open(out / "showcase.csv", newline="") as handle:
        basket = {int(row["eid"]): row for row in csv.DictReader(handle)}
    return {"archives": archives, "basket": basket, "showcase": out / "showcase.csv"}


@pytest.fixture
def imported(cohort) -> dict:
    """Archives imported and preprocessed, then the basket; a network value on every scan (visit 3 higher)."""
    scans = processed_scans(cohort["archives"])
    showcase_import_fields(path=cohort["showcase"])
    values = {}
    for k, scan in enumerate(Scan.objects.order_by("subject__eid", "instance")):
        values[scan.pk] = 3.0 + k * 1.37  # distinct: a value shown for the wrong scan cannot pass
        measurement_record(scan=scan, quantity="liver_ff", method="network", value=values[scan.pk])
    return {**cohort, "scans": scans, "values": values}


def client_for(role: str) -> Client:
    client = Client()
    client.force_login(user_create(username=f"{role}-walker", password="pw-long-enough-1", role=role))
    return client


def read_csv(response) -> list[dict]:
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


def table_rows(html: str, table_id: str) -> dict[str, str]:
    table = re.search(rf'<table id="{table_id}">.*?</table>', html, re.S)
    assert table, html
    return dict(re.findall(r'<th scope="row">(.*?)</th><td>(.*?)</td>', table.group(0)))


def test_each_participant_has_two_visits_from_the_basket_with_their_scans(imported):
    basket = imported["basket"]
    assert len(basket) == 3 and len(imported["scans"]) == 6
    for eid, row in basket.items():
        visits = {v.instance: v for v in Visit.objects.filter(subject__eid=eid)}
        assert sorted(visits) == [2, 3]
        for instance, visit in visits.items():
            assert visit.age == pytest.approx(float(row[f"21003-{instance}.0"]))
            assert visit.bmi == pytest.approx(float(row[f"21001-{instance}.0"]))
            assert visit.date == date.fromisoformat(row[f"53-{instance}.0"])
            assert visit.centre == int(row[f"54-{instance}.0"])
        assert visits[2].date < visits[3].date
        scans = Scan.objects.filter(subject__eid=eid)
        assert sorted((s.instance, s.visit_id) for s in scans) == [(2, visits[2].pk), (3, visits[3].pk)]
        assert all(s.archive_name == f"{eid}_20201_{s.instance}_0.zip" for s in scans)


def test_one_repeat_scan_id_leads_to_the_same_scan_everywhere(imported):
    eid = sorted(imported["basket"])[1]
    scan_3 = Scan.objects.get(subject__eid=eid, instance=3)
    scan_2 = Scan.objects.get(subject__eid=eid, instance=2)
    v2, v3 = imported["values"][scan_2.pk], imported["values"][scan_3.pk]
    admin = client_for("admin")

    long = read_csv(admin.get("/exports/measurements.csv?layout=long"))
    assert len(long) == 6
    row = next(r for r in long if r["scan"] == str(scan_3.pk))
    assert (row["eid"], row["instance"], row["quantity"], row["method"]) == (str(eid), "3", "liver_ff", "network")
    assert float(row["value"]) == pytest.approx(v3)

    wide_rows = read_csv(admin.get("/exports/measurements.csv?layout=wide"))
    wide = {(r["eid"], r["instance"], r["scan"]): r for r in wide_rows}
    assert len(wide) == 6
    assert float(wide[str(eid), "3", str(scan_3.pk)]["liver_ff:network"]) == pytest.approx(v3)
    assert float(wide[str(eid), "2", str(scan_2.pk)]["liver_ff:network"]) == pytest.approx(v2)

    rater = client_for("rater")
    url = f"/results/outliers/scans/{scan_3.pk}/?{COMPARISON}"
    page = rater.get(url).content.decode()
    assert re.search(r'<h1 id="subject-title">(.*?)</h1>', page).group(1) == f"Participant {eid}, visit 3"
    values = table_rows(page, "values")
    assert values["Regression network"] == f"{v3:.2f}"  # this scan's value, not the first visit's
    assert values["Regression network, first imaging visit"] == f"{v2:.2f}"  # network@2, labelled as such
    assert 'id="verdict-form"' in page

    response = rater.post(url, {"verdict": "network_wrong", "manual_value": "12.5", "note": ""})
    assert response.status_code == 302 and response["Location"] == url
    manual = Measurement.objects.get(method="manual")
    assert (manual.scan_id, manual.subject.eid, manual.value) == (scan_3.pk, eid, 12.5)
    verdict = OutlierVerdict.objects.get()
    assert (verdict.scan_id, verdict.manual_measurement_id, verdict.value_b) == (scan_3.pk, manual.pk, v3)
    assert verdict.value_a == pytest.approx(v2)  # network@2: the participant's first-visit value
    assert not Measurement.objects.filter(scan=scan_2, method="manual").exists()

    person = rater.get(f"/results/participants/{eid}/").content.decode()
    for instance, scan, value in ((2, scan_2, v2), (3, scan_3, v3)):
        section = re.search(rf'<section class="panel visit" id="visit-{instance}">.*?</section>', person, re.S)
        assert section and f'data-scan="{scan.pk}"' in section.group(0) and f"{value:.2f} %" in section.group(0)
    assert "12.50 %" in re.search(r'id="visit-3">.*?</section>', person, re.S).group(0)
    assert "12.50 %" not in re.search(r'id="visit-2">.*?</section>', person, re.S).group(0)
    changes = re.search(r'<section class="panel" id="changes">.*?</section>', person, re.S).group(0)
    cells = re.findall(r"<td>(.*?)</td>", re.search(
        r"<tr><td>Liver fat fraction, regression network</td>.*?</tr>", changes).group(0))
    assert cells[1:] == [f"{v2:.2f}", f"{v3:.2f}", f"{v3 - v2:.2f}"]

    visits = rater.get(f"/api/visits/?eid={eid}").json()["results"]
    assert [(v["eid"], v["instance"], v["scans"]) for v in visits] == [(eid, 2, [scan_2.pk]), (eid, 3, [scan_3.pk])]
    assert [v["id"] for v in visits] == [scan_2.visit_id, scan_3.visit_id]
    assert visits[1]["date"] == imported["basket"][eid]["53-3.0"]
