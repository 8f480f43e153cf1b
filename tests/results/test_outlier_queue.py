"""The outlier queue ranks scans (a participant's visit) and keeps reviewed ones, with their verdict, filterable by
review state, says what a verdict does, and says why it is empty when it is."""

import re

import pytest

from tests.results.cohort import build_cohort
from ukbstudy.results.services import outlier_verdict_record

pytestmark = pytest.mark.django_db
QUEUE = "/results/outliers/?a=reference&b=network_oof&quantity=liver_ff&dataset=A&n=5"


@pytest.fixture
def scans(rater):
    return build_cohort(rater, n=12, with_reference=10)


def listed(page: str) -> list[int]:
    """The queue's scan ids, in rank order (each row links to its scan's review page)."""
    return [int(pk) for pk in re.findall(r'<a href="/results/outliers/scans/(\d+)/', page)]


def row_of(page: str, scan_id: int) -> str:
    return re.search(rf'<tr[^>]*><td>\d+</td><td><a href="/results/outliers/scans/{scan_id}/.*?</tr>', page,
                     re.S).group(0)


def review(scan_id: int, verdict: str, scans, rater, **columns) -> None:
    scan = next(s for s in scans if s.pk == scan_id)
    outlier_verdict_record(subject=scan.subject, scan=scan, reviewer=rater, verdict=verdict,
                           **({"method_a": "reference", "method_b": "network_oof"} | columns))


def test_a_reference_implausible_verdict_keeps_the_subject_in_the_queue_marked_as_out_of_dataset_a(
        scans, viewer, rater):
    before = listed(viewer.get(QUEUE).content.decode())
    assert len(before) == 5
    review(before[0], "reference_implausible", scans, rater)
    page = viewer.get(QUEUE).content.decode()
    assert listed(page) == before  # 5 -> 5: nobody vanished
    row = row_of(page, before[0])
    assert "Reference implausible" in row and "left dataset A" in row
    reviewed = next(s for s in scans if s.pk == before[0])
    assert f">{reviewed.subject.eid}</a></td><td>2</td>" in row  # the row names the participant and the visit
    assert page.count("left dataset A</span>") == 1
    compare = viewer.get("/results/compare/?dataset=A").content.decode()
    assert "Dataset A (liver_ff): 9 subjects" in compare  # the verdict did take it out of dataset A


def test_the_queue_filters_by_review_state(scans, viewer, rater):
    first, second, *rest = listed(viewer.get(QUEUE).content.decode())
    review(first, "reference_implausible", scans, rater)
    review(second, "network_wrong", scans, rater)
    unreviewed = listed(viewer.get(QUEUE + "&review=unreviewed").content.decode())
    assert first not in unreviewed and second not in unreviewed and unreviewed[:3] == rest
    assert listed(viewer.get(QUEUE + "&review=reference_implausible").content.decode()) == [first]
    assert listed(viewer.get(QUEUE + "&review=network_wrong").content.decode()) == [second]
    page = viewer.get(QUEUE).content.decode()
    assert "10 scans: 8 unreviewed, 1 reference implausible, 1 network wrong." in page


def test_a_newer_verdict_brings_the_subject_back_into_dataset_a_and_the_mark_goes(scans, viewer, rater):
    scan_id = listed(viewer.get(QUEUE).content.decode())[0]
    review(scan_id, "reference_implausible", scans, rater)
    review(scan_id, "both_plausible", scans, rater)
    page = viewer.get(QUEUE).content.decode()
    assert "Both plausible" in row_of(page, scan_id) and "left dataset A</span>" not in page


def test_the_page_says_which_verdicts_take_a_subject_out_of_dataset_a(scans, viewer):
    page = viewer.get(QUEUE).content.decode()
    effects = page.split('id="verdict-effects"')[1].split("</details>")[0]
    excluding = effects.split('class="excludes">')[1].split("</li>")[0]
    keeping = effects.split('class="keeps">')[1].split("</li>")[0]
    assert "Reference implausible" in excluding and "leaves <strong>dataset A</strong>" in excluding
    assert "22402-2.0" in excluding
    for label in ("Network wrong", "Both plausible", "Needs manual measurement"):
        assert label in keeping
    assert "stays in every dataset" in keeping


def test_an_empty_filter_says_why_the_queue_is_empty(scans, viewer):
    page = viewer.get(QUEUE + "&review=needs_manual").content.decode()
    assert '<table id="outliers">' not in page
    assert "None of the 10 scans of dataset A has the verdict “Needs manual measurement”" in page


def test_a_fully_reviewed_queue_says_so(scans, viewer, rater):
    for scan_id in listed(viewer.get(QUEUE.replace("n=5", "n=20")).content.decode()):
        review(scan_id, "both_plausible", scans, rater)
    page = viewer.get(QUEUE + "&review=unreviewed").content.decode()
    assert "Every one of the 10 scans of dataset A has a verdict on this comparison." in page


def test_a_dataset_without_both_values_says_why_nothing_is_ranked(scans, viewer):
    page = viewer.get(QUEUE.replace("dataset=A", "dataset=B")).content.decode()
    assert '<table id="outliers">' not in page and 'id="queue-empty"' in page
    assert "has both a Reference 22402-2.0 and a Network, cross-validation out-of-fold value" in page


def test_an_empty_study_says_the_dataset_has_no_subjects(viewer):
    page = viewer.get(QUEUE).content.decode()
    assert "Dataset A (QC-passed scans of the first imaging visit with a 22402-2.0 value) has no scans yet." in page
