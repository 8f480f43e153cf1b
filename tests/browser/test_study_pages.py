"""The liver fat, bone marrow and three-way pages in Chromium, on data written by the app's own services:
the loss curve is drawn with data, an analyst chooses the current model and queues an inference, a rater
assigns a failure cause to a failed segmentation, an admin reads the three-way table and downloads it."""

import pytest

from tests.browser.test_results import plots_drawn
from tests.factories import make_scan, make_subject
from tests.liverfat.conftest import TINY, make_study
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat import views as liverfat_views
from ukbstudy.liverfat.services.registry import current_model_version
from ukbstudy.liverfat.services.runs import cross_validation_start, training_start
from ukbstudy.marrow.models import Segmentation
from ukbstudy.measurements.models import ModelVersion
from ukbstudy.measurements.services import measurement_record

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]


def version_row(page, version):
    return page.locator(f'#versions tbody tr:has(td:first-child:text-is("{version.pk}"))')


def test_an_analyst_reads_the_loss_curve_chooses_the_model_and_queues_an_inference(login, media_root, rater,
                                                                                    monkeypatch):
    make_study(media_root, rater, n=24, n_reference=16)
    short = {**TINY, "iterations": 20, "lr_drop_iterations": 5}  # the page is tested here, not the network
    cv = cross_validation_start(config="quick", overrides=short, folds=2)
    first = training_start(config="quick", overrides=short)
    training_start(config="quick", overrides=short)
    queued = []
    monkeypatch.setattr(liverfat_views, "inference_start", lambda **kwargs: queued.append(kwargs) or Job.objects.create(
        kind=Job.Kind.INFER, parameters={"dataset": kwargs.get("dataset")}))  # the worker's part is tested elsewhere

    page = login("analyst", "/liverfat/")
    expect(page.locator("h1")).to_have_text("Liver fat network")
    expect(page.locator("#size-a")).to_have_text("16")
    expect(page.locator("#size-b")).to_have_text("8")
    plots_drawn(page, 1)  # the loss curves of the runs
    expect(page.locator("#versions tbody tr")).to_have_count(3)
    cv_version = ModelVersion.objects.get(trained_by=cv)
    expect(version_row(page, cv_version)).to_contain_text(f"{cv_version.metrics['mae']:.2f}")
    expect(page.locator("#runs tbody tr")).to_have_count(3)

    older = ModelVersion.objects.get(trained_by=first)
    row = version_row(page, older)
    row.locator("button", has_text="Make current").click()
    expect(row.locator("strong")).to_have_text("current")
    assert current_model_version() == older

    page.locator("#run-forms form", has_text="Infer with the current model").locator("button").click()
    expect(page.locator(".messages")).to_contain_text("queued")
    assert queued == [{"dataset": "B", "field": "22402-2.0", "user": queued[0]["user"]}]


def test_a_rater_assigns_a_failure_cause_to_a_failed_segmentation(login):
    version = ModelVersion.objects.create(task="bmff_segmentation", name="roi_attention_unet", version="v1",
                                          is_current=True, config={"regions": {}}, metrics={"dice": {
                                              "spine": {"n": 4, "mean": 0.91, "sd": 0.02, "min": 0.88}}})
    scan = make_scan(make_subject(eid=1234567), processing_state="processed")
    failed = Segmentation.objects.create(scan=scan, model_version=version, region="diaphysis", status="small",
                                         volume_voxels=10, volume_ml=0.1,
                                         hints=["the region reaches the slab's foot end: probably partly outside "
                                                "the slab"])
    page = login("rater", "/marrow/")
    expect(page.locator("h1")).to_have_text("Bone marrow segmentation")
    expect(page.locator("body")).to_contain_text("0.910")
    row = page.locator("tr", has_text="1234567")
    expect(row.locator("select[name=cause]")).to_have_value("outside_slab_partial")  # suggested by the hint
    row.locator("select[name=cause]").select_option("other_artefact")
    row.locator("input[name=note]").fill("ghosting over the femur")
    with page.expect_navigation():
        row.locator("button", has_text="Save").click()
    failed.refresh_from_db()
    assert (failed.failure_cause, failed.cause_note, failed.cause_by.username) == (
        "other_artefact", "ghosting over the femur", "rater-user")


def test_an_admin_reads_and_downloads_the_three_way_comparison(login, rater):
    from ukbstudy.qc.services import qc_decision_record
    from ukbstudy.showcase.models import ReferenceValue
    from ukbstudy.subjects.models import ImportBatch

    batch = ImportBatch.objects.create(kind=ImportBatch.Kind.FIELDS, source="test")
    atlas = ModelVersion.objects.create(task="liver_ff_atlas", name="multi-atlas", version="t", is_current=True)
    for index in range(24):  # 12 in dataset A (with reference), 12 without (B, of which C is drawn)
        scan = make_scan(processing_state="processed")
        qc_decision_record(scan=scan, rater=rater, verdict="pass")
        truth = 2.0 + index % 12 * 1.5
        if index < 12:
            ReferenceValue.objects.create(subject=scan.subject, field="22402-2.0", value=truth + 0.2 * (index % 3),
                                          import_batch=batch)
        out_of_fold = {"out_of_fold": True, "fold": index % 4} if index < 12 else {}  # cross-validation on A
        measurement_record(scan=scan, quantity="liver_ff", method="network", value=truth + 0.3 * (index % 4 - 1.5),
                           details=out_of_fold)
        measurement_record(scan=scan, quantity="liver_ff", method="atlas", value=truth - 0.25 * (index % 5 - 2),
                           model_version=atlas, details={"raw": truth})
    page = login("admin", "/atlas/three-way/")
    expect(page.locator("h1")).to_have_text("Reference, network and atlas")
    expect(page.locator("body")).to_contain_text("Atlas (C) vs Network (C)")
    expect(page.locator("body")).to_contain_text("Error correlation")
    with page.expect_download() as info:
        page.click("text=Download CSV")
    text = open(info.value.path(), encoding="utf-8").read()
    assert text.startswith("Method comparison on datasets A") and "Largest network errors on dataset A" in text
