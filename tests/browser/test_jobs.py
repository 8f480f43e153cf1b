"""Jobs page in Chromium: an analyst starts preprocessing from the page and watches the job's status and
progress bar move, without reloading, as a worker works through the scans."""

import re
import threading

import pytest
from django.conf import settings

from tests.archives import cohort_archives
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.services.archives import scans_import_archives
from ukbstudy.imaging.tasks import preprocess_scan
from ukbstudy.jobs import background
from ukbstudy.jobs import services as job_services
from ukbstudy.jobs.models import Job

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
POLL_MS = 10_000  # the page polls the status endpoint every 2 s


@pytest.fixture(scope="module")
def archives(tmp_path_factory):
    return cohort_archives(tmp_path_factory.mktemp("jobs-page"), 2, seed=81)


@pytest.fixture
def sent(monkeypatch):
    """The tasks the page's request queues, held back so the test can play the worker one scan at a time."""
    held: list[tuple[int, list[int]]] = []
    monkeypatch.setattr(job_services, "_send_items", lambda task, job_id, scan_ids: held.append(
        (job_id, scan_ids)))
    return held


@pytest.fixture
def analyst_page(login):
    return login("analyst", "/jobs/", username="ana")


def test_an_analyst_starts_preprocessing_and_sees_its_progress_move(archives, sent, analyst_page):
    page = analyst_page
    scans_import_archives(paths=archives)
    page.reload()
    expect(page.locator("#jobs tbody tr")).to_have_count(0)  # the import ran here, not as a job
    page.click("text=Preprocess the 2 scans not processed yet")
    expect(page.locator(".messages")).to_contain_text("preprocessing 2 scan(s)")
    (job_id, scan_ids), = sent
    row = page.locator(f'#jobs tr[data-job="{job_id}"]')
    expect(row.locator(".status")).to_have_text("queued (#1 in queue)")
    bar = row.locator("progress")
    expect(bar).to_have_attribute("max", "2")
    expect(bar).to_have_attribute("value", "0")
    expect(row.locator("button", has_text="Cancel")).to_be_visible()

    preprocess_scan.apply(args=(job_id, scan_ids[0]))  # the worker finishes the first scan
    expect(row.locator(".status")).to_have_text("running", timeout=POLL_MS)
    page.wait_for_function(f'document.querySelector(\'tr[data-job="{job_id}"] progress\').value === 1',
                           timeout=POLL_MS)
    expect(row.locator(".message")).to_have_text("1 of 2 done, 0 failed")

    preprocess_scan.apply(args=(job_id, scan_ids[1]))
    expect(row.locator(".status")).to_have_text("succeeded", timeout=POLL_MS)
    page.wait_for_function(f'document.querySelector(\'tr[data-job="{job_id}"] progress\').value === 2',
                           timeout=POLL_MS)
    expect(row.locator(".message")).to_have_text("2 of 2 done, 0 failed")
    expect(row.locator(".duration")).to_have_text(re.compile(r"^\d+(\.\d)? s$"))
    assert Job.objects.get(pk=job_id).status == Job.Status.SUCCEEDED
    assert set(Scan.objects.values_list("processing_state", flat=True)) == {Scan.State.PROCESSED}
    page.reload()  # finished: no Cancel button any more, the pending button is disabled
    expect(row.locator("button", has_text="Cancel")).to_have_count(0)
    expect(page.locator("button", has_text="Preprocess the 0 scans")).to_be_disabled()


@pytest.mark.skipif(not settings.CELERY_TASK_ALWAYS_EAGER,
                    reason="with a broker the workers run the jobs (the test above)")
def test_without_a_broker_a_start_returns_at_once_and_the_servers_thread_runs_the_job(archives, analyst_page):
    page = analyst_page
    scans_import_archives(paths=archives)
    assert background.enable()
    try:
        release = threading.Event()
        background.submit(release.wait)  # the thread is busy: the page must answer before the job runs
        page.reload()
        page.click("text=Preprocess the 2 scans not processed yet")
        expect(page.locator(".messages")).to_contain_text("preprocessing 2 scan(s)")
        job = Job.objects.get(kind=Job.Kind.PREPROCESS)
        row = page.locator(f'#jobs tr[data-job="{job.pk}"]')
        expect(row.locator(".status")).to_have_text("queued (#1 in queue)")
        release.set()
        expect(row.locator(".status")).to_have_text("succeeded", timeout=60_000)  # no reload: the page polls
        page.wait_for_function(f'document.querySelector(\'tr[data-job="{job.pk}"] progress\').value === 2',
                               timeout=POLL_MS)
        assert set(Scan.objects.values_list("processing_state", flat=True)) == {Scan.State.PROCESSED}
    finally:
        background.drain(timeout=120)
        background.disable()
