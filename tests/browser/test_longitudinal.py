"""Repeat imaging in Chromium: the longitudinal page draws its change figures and flags the implausible change;
a viewer follows it to the participant page and to the outlier queue on dataset repeat, where it is ranked
first, and on to the review of the repeat-visit scan; a rater records a verdict there that the queue shows."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from django.core.cache import cache

from tests.browser.test_results import plots_drawn
from tests.factories import make_scan, make_subject, make_visit
from ukbstudy.measurements.services import measurement_record
from ukbstudy.qc.models import QCDecision
from ukbstudy.results.models import OutlierVerdict

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

N, OUTLIER, DAYS = 25, 9, 800
QUEUE = "/results/outliers/?a=network%402&b=network&quantity=liver_ff&dataset=repeat"
LABEL = "Liver fat fraction, regression network"


@pytest.fixture
def pairs(rater) -> dict:
    """25 participants with a QC-passed processed scan at both visits 800 days apart; network value at visit 3 =
    visit 2 + 1.0 pp (+ noise), but one participant's rose by 15 pp."""
    cache.clear()  # results parts cached by an earlier test
    rng = np.random.default_rng(29)
    first = rng.gamma(1.5, 3.0, N) + 0.5
    second = first + 1.0 + rng.normal(0, 0.2, N)
    second[OUTLIER] = first[OUTLIER] + 15.0
    eids, scans = [4100 + i for i in range(N)], {}
    for i, eid in enumerate(eids):
        start = date(2016, 1, 4) + timedelta(days=3 * i)
        subject = make_subject(eid=eid, sex="FM"[i % 2])
        make_visit(subject, 2, date=start, age=48.0 + i, bmi=24.0 + i % 6)
        make_visit(subject, 3, date=start + timedelta(days=DAYS), age=50.2 + i, bmi=24.5 + i % 6)
        for instance, value in ((2, first[i]), (3, second[i])):
            scan = make_scan(subject, instance, processing_state="processed")
            QCDecision.objects.create(scan=scan, rater=rater, verdict="pass")
            measurement_record(scan=scan, quantity="liver_ff", method="network", value=float(value))
            scans[eid, instance] = scan.pk
    return {"eids": eids, "first": first, "second": second, "outlier": eids[OUTLIER], "scans": scans}


def cells(row) -> list[str]:
    return [text.strip() for text in row.locator("td").all_inner_texts()]


def test_a_viewer_follows_the_implausible_change_to_the_participant_and_the_queue(pairs, login, live_server):
    page = login("viewer", "/results/longitudinal/")
    first, second, outlier = pairs["first"], pairs["second"], pairs["outlier"]
    change = second - first
    expect(page.locator("#pairs-count")).to_have_text(
        f"{N} participants with a QC-passed scan at both visits (dataset repeat).")
    summary = cells(page.locator("#change-summary tbody tr", has_text=LABEL))
    assert summary[1] == str(N)
    assert float(summary[4]) == pytest.approx(change.mean(), abs=0.006)
    assert float(summary[4]) == pytest.approx(1.0 + 14.0 / N, abs=0.1)  # +1 pp each, +14 more for the outlier
    assert float(summary[9]) == pytest.approx(DAYS, abs=0.5)
    expect(page.locator("#detail-title")).to_have_text(LABEL)
    expect(page.locator("select[name=column]")).to_have_value("liver_ff|network")
    expect(page.locator("#change-figures")).to_contain_text(f"n = {N}: mean change {change.mean():.2f} pp")
    plots_drawn(page, 3)

    flagged = page.locator("#flagged tbody tr")
    expect(flagged).to_have_count(1)
    assert cells(flagged)[:4] == [str(outlier), f"{first[OUTLIER]:.2f}", f"{second[OUTLIER]:.2f}",
                                  f"{change[OUTLIER]:.2f}"]
    table = page.locator("#pairs-table tbody tr")
    expect(table.first).to_be_hidden()
    page.click("#pairs-table summary")
    expect(table).to_have_count(N)
    expect(table.first).to_be_visible()
    assert cells(table.nth(OUTLIER))[:2] == [str(outlier), f"{first[OUTLIER]:.2f}"]

    page.click(f"#flagged a:text-is('{outlier}')")
    expect(page).to_have_url(f"{live_server.url}/results/participants/{outlier}/")
    expect(page.locator("#participant-title")).to_have_text(f"Participant {outlier}")
    for instance, value in ((2, first[OUTLIER]), (3, second[OUTLIER])):
        visit = page.locator(f"#visit-{instance}")
        expect(visit).to_be_visible()
        expect(visit.locator(f"h3[data-scan='{pairs['scans'][outlier, instance]}']")).to_have_count(1)
        expect(visit.locator(f".values-{instance}")).to_contain_text(f"{value:.2f} %")
    expect(page.locator("#changes tbody tr", has_text=LABEL)).to_contain_text(f"{change[OUTLIER]:.2f}")

    page.go_back()
    expect(page.locator("#detail-title")).to_have_text(LABEL)
    page.click("#queue-link")
    expect(page).to_have_url(f"{live_server.url}{QUEUE}")
    rows = page.locator("#outliers tbody tr")
    expect(rows).to_have_count(20)  # the queue lists 20 by default
    top = rows.first
    expect(top).to_have_attribute("data-scan", str(pairs["scans"][outlier, 3]))
    assert cells(top)[:3] == ["1", str(outlier), "3"]
    expect(top.locator("span.implausible-change")).to_have_text("implausible change")
    expect(page.locator("#outliers span.implausible-change")).to_have_count(1)
    top.locator("a").click()
    scan = pairs["scans"][outlier, 3]
    expect(page).to_have_url(f"{live_server.url}/results/outliers/scans/{scan}/?{QUEUE.split('?')[1]}")
    expect(page.locator("#subject-title")).to_have_text(f"Participant {outlier}, visit 3")
    expect(page.locator("#values")).to_contain_text(f"{second[OUTLIER]:.2f}")
    expect(page.locator("#verdict-form")).to_have_count(0)  # a viewer reviews nothing


def test_a_rater_records_a_verdict_on_the_repeat_scan_that_the_queue_shows(pairs, login, live_server):
    outlier, scan = pairs["outlier"], pairs["scans"][pairs["outlier"], 3]
    page = login("rater", QUEUE, username="rita")
    top = page.locator("#outliers tbody tr").first
    expect(top).to_have_attribute("data-scan", str(scan))
    expect(top).to_contain_text("not reviewed")
    top.locator("a").click()
    expect(page.locator("#subject-title")).to_have_text(f"Participant {outlier}, visit 3")
    page.check("#verdict-form input[name=verdict][value=both_plausible]")
    page.click("text=Record verdict")
    expect(page.locator("#verdict-history li").first).to_contain_text("Both plausible")
    verdict = OutlierVerdict.objects.get()
    assert (verdict.scan_id, verdict.subject.eid, verdict.verdict, verdict.reviewer.username) == (
        scan, outlier, "both_plausible", "rita")
    assert (verdict.method_a, verdict.method_b, verdict.manual_value) == ("network@2", "network", None)
    assert verdict.value_b == pytest.approx(pairs["second"][OUTLIER])
    page.click("text=back to the queue")
    expect(page).to_have_url(f"{live_server.url}{QUEUE}")
    row = page.locator(f"#outliers tbody tr[data-scan='{scan}']")
    expect(row).to_contain_text("Both plausible")
    expect(row).to_contain_text("rita")
    expect(row).to_have_class("reviewed")
    expect(page.locator("#outliers tbody tr.reviewed")).to_have_count(1)
