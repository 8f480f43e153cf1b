"""Outlier review, scan by scan (a participant's visit): append-only verdicts with history, manual measurements,
and implausible references leaving dataset A."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import make_scan, make_subject
from tests.results.cohort import build_cohort
from ukbstudy.accounts.services import user_create
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.selectors.datasets import dataset_scans, excluded_reference_subject_ids
from ukbstudy.measurements.services import measurement_record
from ukbstudy.results.models import AppendOnlyError, OutlierVerdict
from ukbstudy.results.selectors import Comparison, current_verdicts, verdict_history
from ukbstudy.results.services import outlier_verdict_record

pytestmark = pytest.mark.django_db
QUERY = "?a=reference&b=network_oof&quantity=liver_ff&dataset=A"


@pytest.fixture
def scans(rater):
    return build_cohort(rater, n=12, with_reference=10)


def client_for(role):
    client = Client()
    user = user_create(username=f"{role}-1", password="pw-long-enough-1", role=role)
    client.force_login(user)
    return client, user


def test_a_rater_records_verdicts_and_a_manual_measurement_kept_with_history(scans):
    client, _ = client_for("rater")
    subject = scans[0].subject
    url = f"/results/outliers/scans/{scans[0].pk}/{QUERY}"
    response = client.post(url, {"verdict": "needs_manual", "note": "liver dome only"})
    assert response.status_code == 302 and response["Location"] == url
    client.post(url, {"verdict": "reference_implausible", "manual_value": "4.25", "note": "measured on slices 40-44"})
    client.post(url, {"verdict": "both_plausible", "manual_value": "4.5"})
    history = list(OutlierVerdict.objects.filter(subject=subject).order_by("created_at", "id"))
    assert [v.verdict for v in history] == ["needs_manual", "reference_implausible", "both_plausible"]
    assert [v.manual_value for v in history] == [None, 4.25, 4.5] and {v.scan for v in history} == {scans[0]}
    network = Measurement.objects.get(subject=subject, method="network").value  # out-of-fold, as on dataset A
    assert history[1].value_b == network and history[1].reference_field == "22402-2.0"
    assert (history[1].method_a, history[1].method_b) == ("reference", "network_oof")
    manual = Measurement.objects.get(subject=subject, method="manual", quantity="liver_ff")
    assert manual.value == 4.5 and manual.scan == scans[0] and history[2].manual_measurement == manual
    page = client.get(url).content.decode()
    assert page.count("<li><strong>") == 3 and "measured on slices 40-44" in page and "Manual</th><td>4.50" in page
    assert f'<h1 id="subject-title">Participant {subject.eid}, visit 2</h1>' in page


def test_a_viewer_sees_the_review_page_but_may_not_record(scans):
    client, _ = client_for("viewer")
    url = f"/results/outliers/scans/{scans[0].pk}/{QUERY}"
    page = client.get(url).content.decode()
    assert 'id="verdict-form"' not in page and "No verdicts yet." in page
    assert client.post(url, {"verdict": "network_wrong"}).status_code == 403
    assert not OutlierVerdict.objects.exists()


def test_the_review_page_shows_the_scans_images_side_by_side(scans, media_root):
    scan = scans[0]
    folder = media_root / "derived" / "run1"
    folder.mkdir(parents=True)
    for name in ("qc_fat_coronal", "network_input"):
        (folder / f"{name}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    type(scan).objects.filter(pk=scan.pk).update(derived={"folder": "derived/run1", "qc_fat_coronal":
                                                          "derived/run1/qc_fat_coronal.png", "network_input":
                                                          "derived/run1/network_input.png"})
    client, _ = client_for("viewer")
    page = client.get(f"/results/outliers/scans/{scan.pk}/{QUERY}").content.decode()
    assert f'src="/scans/{scan.pk}/images/qc_fat_coronal.png?v=run1"' in page
    assert page.count("<figure><img") == 2
    image = client.get(page.split('<figure><img src="')[1].split('"')[0].replace("&amp;", "&"))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_an_invalid_verdict_or_manual_value_is_refused_with_the_field_named(scans):
    client, user = client_for("rater")
    url = f"/results/outliers/scans/{scans[0].pk}/{QUERY}"
    response = client.post(url, {"verdict": "maybe"})
    assert response.status_code == 400 and not OutlierVerdict.objects.exists()
    assert client.post(url, {"verdict": "network_wrong", "manual_value": "140"}).status_code == 400
    assert client.get(f"/results/outliers/scans/{max(s.pk for s in scans) + 1000}/{QUERY}").status_code == 404
    subject = scans[0].subject
    for scan in (None, make_scan(make_subject())):  # no scan named, or another participant's scan
        with pytest.raises(ValidationError) as refused:
            outlier_verdict_record(subject=subject, scan=scan, reviewer=user, verdict="network_wrong",
                                   method_a="reference", method_b="network_oof", manual_value=3.0)
        assert list(refused.value.message_dict) == ["scan"]
    assert not OutlierVerdict.objects.exists() and not Measurement.objects.filter(method="manual").exists()


def test_verdicts_are_append_only(scans):
    _, user = client_for("rater")
    verdict = outlier_verdict_record(subject=scans[0].subject, scan=scans[0], reviewer=user, verdict="network_wrong",
                                     method_a="reference", method_b="network")
    verdict.note = "rewritten"
    with pytest.raises(AppendOnlyError):
        verdict.save()
    with pytest.raises(AppendOnlyError):
        verdict.delete()


def test_a_reference_marked_implausible_leaves_dataset_a_until_a_newer_verdict_clears_it(scans):
    _, user = client_for("rater")
    subject = scans[0].subject
    record = dict(subject=subject, scan=scans[0], reviewer=user, method_a="reference", method_b="network")
    assert dataset_scans("A").count() == 10
    outlier_verdict_record(verdict="reference_implausible", **record)
    assert excluded_reference_subject_ids(field="22402-2.0") == {subject.pk}
    assert excluded_reference_subject_ids(field="22436-2.0") == set()
    assert subject.pk not in set(dataset_scans("A").values_list("subject", flat=True))
    assert dataset_scans("A").count() == 9
    outlier_verdict_record(verdict="network_wrong", subject=scans[1].subject, scan=scans[1], reviewer=user,
                           method_a="network", method_b="atlas")  # no reference involved: nothing excluded
    assert excluded_reference_subject_ids(field="22402-2.0") == {subject.pk}
    outlier_verdict_record(verdict="both_plausible", **record)
    assert excluded_reference_subject_ids(field="22402-2.0") == set() and dataset_scans("A").count() == 10


def test_the_queue_shows_each_subjects_current_verdict(scans):
    client, user = client_for("rater")
    subject = scans[0].subject
    for verdict in ("needs_manual", "network_wrong"):
        outlier_verdict_record(subject=subject, scan=scans[0], reviewer=user, verdict=verdict, method_a="reference",
                               method_b="network_oof")
    page = client.get("/results/outliers/" + QUERY + "&n=10").content.decode()
    table = page.split('<table id="outliers">')[1].split("</table>")[0]
    assert "Network wrong" in table and "Needs manual measurement" not in table
    assert table.count("not reviewed") == 9


def test_two_visits_of_a_participant_are_reviewed_separately(scans):
    client, user = client_for("rater")
    first = scans[0]
    subject = first.subject
    repeat = make_scan(subject, instance=3, processing_state="processed")
    measurement_record(scan=repeat, quantity="liver_ff", method="network", value=12.5)
    first_url, repeat_url = (f"/results/outliers/scans/{scan.pk}/{QUERY}" for scan in (first, repeat))
    page = client.post(repeat_url, {"verdict": "network_wrong", "manual_value": "7.75", "note": "repeat visit"},
                       follow=True).content.decode()
    assert f"Verdict recorded for {subject.eid}, visit 3." in page
    verdict = OutlierVerdict.objects.get()
    assert verdict.scan == repeat and verdict.subject == subject and verdict.manual_measurement.scan == repeat
    assert verdict.value_b is None  # no out-of-fold value on the repeat scan: the first visit's is not borrowed
    manual = Measurement.objects.get(method="manual")
    assert manual.scan == repeat and manual.value == 7.75
    assert not Measurement.objects.filter(scan=first, method="manual").exists()
    assert list(verdict_history(scan=repeat)) == [verdict] and not verdict_history(scan=first).exists()
    comparison = Comparison(a="reference", b="network_oof")
    assert current_verdicts(comparison=comparison, scan_ids=[first.pk, repeat.pk]) == {repeat.pk: verdict}

    repeat_page = client.get(repeat_url).content.decode()
    assert f'<h1 id="subject-title">Participant {subject.eid}, visit 3</h1>' in repeat_page
    history = repeat_page.split('id="verdict-history"')[1].split("</ol>")[0]
    assert history.count("<li><strong>") == 1 and "Network wrong" in history and "manual 7.75: repeat visit" in history
    assert "Manual</th><td>7.75" in repeat_page and "Regression network</th><td>12.50" in repeat_page

    first_page = client.get(first_url).content.decode()
    assert f'<h1 id="subject-title">Participant {subject.eid}, visit 2</h1>' in first_page
    history = first_page.split('id="verdict-history"')[1].split("</ol>")[0]
    assert "No verdicts yet." in history and "<li><strong>" not in history
    assert "Manual</th>" not in first_page and "Regression network</th><td>12.50" not in first_page

    client.post(first_url, {"verdict": "both_plausible", "manual_value": "3.5"})
    assert Measurement.objects.get(scan=first, method="manual").value == 3.5
    assert Measurement.objects.get(scan=repeat, method="manual").value == 7.75  # untouched by the other visit
    assert [v.verdict for v in verdict_history(scan=repeat)] == ["network_wrong"]
    assert [v.verdict for v in verdict_history(scan=first)] == ["both_plausible"]


def test_a_verdict_on_the_repeat_visits_reference_names_that_visits_field(rater):
    subject = make_subject()
    scans = {instance: make_scan(subject, instance, processing_state="processed") for instance in (2, 3)}
    record = {"subject": subject, "reviewer": rater, "verdict": "reference_implausible", "method_b": "reference"}
    on_repeat = outlier_verdict_record(scan=scans[3], method_a="reference@2", **record)
    on_first = outlier_verdict_record(scan=scans[2], method_a="network_oof", **record)
    fixed = outlier_verdict_record(scan=scans[3], method_a="network", **{**record, "method_b": "reference:22436-2.0"})
    # the reference read at the reviewed scan's visit: 22402-3.0 is not the first visit's 22402-2.0
    assert (on_repeat.reference_field, on_first.reference_field, fixed.reference_field) == (
        "22402-3.0", "22402-2.0", "22436-2.0")
