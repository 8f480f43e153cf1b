"""Outlier review: append-only verdicts with history, manual measurements, and implausible references
leaving dataset A."""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from tests.factories import make_scan
from tests.results.cohort import build_cohort
from ukbstudy.accounts.services import user_create
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.selectors.datasets import dataset_scans, excluded_reference_subject_ids
from ukbstudy.results.models import AppendOnlyError, OutlierVerdict
from ukbstudy.results.services import outlier_verdict_record

pytestmark = pytest.mark.django_db
QUERY = "?a=reference&b=network&quantity=liver_ff&dataset=A"


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
    url = f"/results/outliers/{subject.eid}/{QUERY}"
    response = client.post(url, {"verdict": "needs_manual", "note": "liver dome only"})
    assert response.status_code == 302 and response["Location"] == url
    client.post(url, {"verdict": "reference_implausible", "manual_value": "4.25", "note": "measured on slices 40-44"})
    client.post(url, {"verdict": "both_plausible", "manual_value": "4.5"})
    history = list(OutlierVerdict.objects.filter(subject=subject).order_by("created_at", "id"))
    assert [v.verdict for v in history] == ["needs_manual", "reference_implausible", "both_plausible"]
    assert [v.manual_value for v in history] == [None, 4.25, 4.5]
    network = Measurement.objects.get(subject=subject, method="network").value
    assert history[1].value_b == network and history[1].reference_field == "22402-2.0"
    manual = Measurement.objects.get(subject=subject, method="manual", quantity="liver_ff")
    assert manual.value == 4.5 and manual.scan == scans[0] and history[2].manual_measurement == manual
    page = client.get(url).content.decode()
    assert page.count("<li><strong>") == 3 and "measured on slices 40-44" in page and "Manual</th><td>4.50" in page


def test_a_viewer_sees_the_review_page_but_may_not_record(scans):
    client, _ = client_for("viewer")
    url = f"/results/outliers/{scans[0].subject.eid}/{QUERY}"
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
    page = client.get(f"/results/outliers/{scan.subject.eid}/{QUERY}").content.decode()
    assert f'src="/scans/{scan.pk}/images/qc_fat_coronal.png?v=run1"' in page
    assert page.count("<figure><img") == 2
    image = client.get(page.split('<figure><img src="')[1].split('"')[0].replace("&amp;", "&"))
    assert image.status_code == 200 and image["Content-Type"] == "image/png"


def test_an_invalid_verdict_or_manual_value_is_refused_with_the_field_named(scans):
    client, user = client_for("rater")
    url = f"/results/outliers/{scans[0].subject.eid}/{QUERY}"
    response = client.post(url, {"verdict": "maybe"})
    assert response.status_code == 400 and not OutlierVerdict.objects.exists()
    assert client.post(url, {"verdict": "network_wrong", "manual_value": "140"}).status_code == 400
    scanless = make_scan().subject
    scanless.scans.all().delete()
    with pytest.raises(ValidationError, match="has no scan"):
        outlier_verdict_record(subject=scanless, reviewer=user, verdict="network_wrong", method_a="reference",
                               method_b="network", manual_value=3.0)


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
                               method_b="network")
    page = client.get("/results/outliers/" + QUERY + "&n=10").content.decode()
    table = page.split('<table id="outliers">')[1].split("</table>")[0]
    assert "Network wrong" in table and "Needs manual measurement" not in table
    assert table.count("not reviewed") == 9
