"""Repeat imaging: change_frame pairs each participant's two visits; the longitudinal page shows the change
statistics (as analysis.longitudinal computes them on the same values) and flags the implausible change; the
outlier queue on dataset repeat ranks it; the participant page shows both visits and the change."""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pytest

from analysis.longitudinal import paired_change, repeatability
from tests.factories import make_scan, make_subject, make_visit
from tests.results.cohort import build_cohort
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision

pytestmark = pytest.mark.django_db

N, OUTLIER, DAYS = 30, 7, 800
LABEL = "Liver fat fraction, regression network"
QUEUE = "/results/outliers/?a=network%402&b=network&quantity=liver_ff&dataset=repeat"


def network(scan, value):
    return measurement_record(scan=scan, quantity="liver_ff", method="network", value=value)


@pytest.fixture
def pairs(rater) -> dict:
    """30 participants with a processed, QC-passed scan at both visits 800 days apart; visit 3 = visit 2 + 1.0 pp
    (+ noise), but one participant whose liver fat rose by 15 pp; eids are created in reverse order."""
    rng = np.random.default_rng(11)
    eids = [3000 + i for i in range(N)]
    first = rng.gamma(1.5, 3.0, N) + 0.5
    second = first + 1.0 + rng.normal(0, 0.2, N)
    second[OUTLIER] = first[OUTLIER] + 15.0
    for i in reversed(range(N)):
        start = date(2015, 3, 1) + timedelta(days=i)
        subject = make_subject(eid=eids[i], sex="FM"[i % 2])
        make_visit(subject, 2, date=start, age=50.0 + i, bmi=25.0 + i % 5)
        make_visit(subject, 3, date=start + timedelta(days=DAYS), age=52.2 + i, bmi=25.5 + i % 5)
        for instance, value in ((2, first[i]), (3, second[i])):
            scan = make_scan(subject, instance, processing_state="processed")
            QCDecision.objects.create(scan=scan, rater=rater, verdict="pass")
            network(scan, float(value))
    return {"eids": eids, "first": first, "second": second, "outlier": eids[OUTLIER]}


@pytest.fixture
def single() -> int:
    """A participant with a scan and a value at the first imaging visit only."""
    subject = make_subject(eid=3999, sex="F", age=60.0)
    network(make_scan(subject, 2, processing_state="processed"), 6.0)
    return subject.eid


def section(page: str, pattern: str) -> str:
    found = re.search(pattern, page, re.S)
    assert found, pattern
    return found.group(0)


def test_change_frame_pairs_the_visits_of_each_participant(pairs, single):
    from ukbstudy.imaging.models import Scan
    from ukbstudy.results.longitudinal import change_frame

    frame = change_frame(column="network", quantity="liver_ff")
    assert list(frame["eid"]) == pairs["eids"]  # not the single-visit participant; in eid order
    scans = {(eid, i): pk for pk, eid, i in Scan.objects.values_list("pk", "subject__eid", "instance")}
    assert list(frame["scan_2"]) == [scans[eid, 2] for eid in pairs["eids"]]
    assert list(frame["scan_3"]) == [scans[eid, 3] for eid in pairs["eids"]]
    assert np.allclose(frame["first"], pairs["first"]) and np.allclose(frame["second"], pairs["second"])
    assert np.allclose(frame["change"], pairs["second"] - pairs["first"])
    assert set(frame["days"]) == {DAYS}
    assert list(frame["age"][:2]) == [50.0, 51.0] and list(frame["bmi_change"][:2]) == [0.5, 0.5]
    assert list(frame["sex"][:2]) == ["F", "M"]


def test_the_page_shows_the_change_as_the_engine_computes_it(pairs, viewer):
    response = viewer.get("/results/longitudinal/")
    page = response.content.decode()
    assert response.status_code == 200
    first, second = pairs["first"], pairs["second"]
    change = paired_change(first, second, days=np.full(N, float(DAYS)))
    rep = repeatability(first, second)
    assert f"{N} participants with a QC-passed scan at both visits" in page
    summary = section(page, r'<div class="numbers wide" id="change-summary">.*?</table>')
    row = section(summary, rf"<tr><td>{LABEL}</td>.*?</tr>")
    cells = re.findall(r"<td>(.*?)</td>", row)
    assert cells[1] == str(N)
    assert float(cells[4]) == pytest.approx(change.mean_change, abs=0.006)
    assert float(cells[4]) == pytest.approx(1.0 + 14.0 / N, abs=0.1)  # +1 pp each, +14 more for the outlier
    assert float(cells[9]) == pytest.approx(DAYS, abs=0.5)
    assert float(cells[8]) == pytest.approx(change.mean_change_per_year, abs=0.006)
    assert float(cells[10]) == pytest.approx(rep.rc, abs=0.006)
    text = section(page, r'<p id="change-figures">.*?</p>')
    found = re.search(r"n = (\d+): mean change (\S+) pp \(95% CI (\S+) to (\S+)\), paired t P = (\S+); "
                      r"repeatability coefficient (\S+) pp, within-subject CV (\S+) %, ICC\(A,1\) (\d+\.\d+)", text)
    assert found, text
    assert int(found.group(1)) == N
    assert [float(x) for x in found.groups()[1:]] == pytest.approx(
        [change.mean_change, change.ci_low, change.ci_high, change.p, rep.rc, rep.wcv, rep.icc_a1], abs=0.06)
    assert [float(x) for x in found.groups()[1:5]] == pytest.approx(
        [change.mean_change, change.ci_low, change.ci_high, change.p], abs=0.006)
    assert section(page, r'<h2 id="detail-title">.*?</h2>') == f'<h2 id="detail-title">{LABEL}</h2>'


def test_the_page_flags_the_implausible_change_and_links_the_queue(pairs, viewer):
    page = viewer.get("/results/longitudinal/").content.decode()
    flagged = section(page, r'<table class="result-table" id="flagged">.*?</table>')
    links = re.findall(r'<a href="/results/participants/(\d+)/">', flagged)
    assert links == [str(pairs["outlier"])]
    queue = re.search(r'<a href="([^"]+)" id="queue-link">', page).group(1).replace("&amp;", "&")
    assert queue == QUEUE
    assert "1 participant changed by more than" in page


def test_the_queue_on_dataset_repeat_ranks_the_outlier_first_as_an_implausible_change(pairs, viewer):
    page = viewer.get(QUEUE).content.decode()
    table = section(page, r'<table id="outliers">.*?</table>')
    rows = re.findall(r'<tr[^>]*data-scan="\d+">(.*?)</tr>', table, re.S)
    assert rows, page
    assert re.search(r"<td>1</td><td><a [^>]*>(\d+)</a></td><td>3</td>", rows[0]).group(1) == str(pairs["outlier"])
    assert "implausible change" in rows[0]
    assert not any("implausible-change" in row for row in rows[1:])


def test_the_participant_page_shows_both_visits_and_the_change(pairs, viewer):
    eid, i = pairs["outlier"], OUTLIER
    page = viewer.get(f"/results/participants/{eid}/").content.decode()
    assert f"Participant {eid}" in page and f"{DAYS} days between" in page
    for instance, value in ((2, pairs["first"][i]), (3, pairs["second"][i])):
        visit = section(page, rf'<section class="panel visit" id="visit-{instance}">.*?</section>')
        values = section(visit, rf'<table class="result-table values-{instance}">.*?</table>')
        assert f"{value:.2f} %" in values
    changes = section(page, r'<section class="panel" id="changes">.*?</section>')
    cells = re.findall(r"<td>(.*?)</td>", section(changes, rf"<tr><td>{LABEL}</td>.*?</tr>"))
    assert float(cells[3]) == pytest.approx(pairs["second"][i] - pairs["first"][i], abs=0.006)


def test_a_participant_with_one_visit_has_no_change(pairs, single, viewer):
    from ukbstudy.results.longitudinal import participant_changes
    from ukbstudy.subjects.models import Subject

    page = viewer.get(f"/results/participants/{single}/").content.decode()
    assert 'id="visit-2"' in page and 'id="visit-3"' not in page
    assert all(row["change"] is None for row in participant_changes(subject=Subject.objects.get(eid=single)))
    if 'id="changes"' in page:  # a row may show the first visit's value, never a change
        row = section(page, r'<section class="panel" id="changes">.*?</section>')
        assert re.findall(r"<td>(.*?)</td>", row)[3] == "–"
    assert f'href="/results/participants/{single}/"' not in viewer.get("/results/longitudinal/").content.decode()


def test_an_empty_database_says_there_is_nothing_to_compare(viewer):
    page = viewer.get("/results/longitudinal/").content.decode()
    assert 'id="longitudinal-empty"' in page and "0 participants with a QC-passed scan at both visits" in page
    assert 'id="detail-title"' not in page


def test_first_visits_alone_give_the_empty_state(rater, viewer):
    build_cohort(rater, n=6, with_reference=3)
    page = viewer.get("/results/longitudinal/").content.decode()
    assert 'id="longitudinal-empty"' in page and 'id="change-summary"' not in page


def test_an_unknown_column_is_a_400_with_the_error(pairs, viewer):
    response = viewer.get("/results/longitudinal/", {"column": "bogus"})
    assert response.status_code == 400
    assert 'id="form-errors"' in response.content.decode() and "bogus" in response.content.decode()


def test_an_unknown_or_withdrawn_participant_is_a_404(viewer):
    make_scan(make_subject(eid=3998, withdrawn=True), 2)
    assert viewer.get("/results/participants/123456/").status_code == 404
    assert viewer.get("/results/participants/3998/").status_code == 404
