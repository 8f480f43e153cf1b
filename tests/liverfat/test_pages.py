"""The liver fat page: registry, runs and loss curves; analysts start runs and choose the current model."""

import pytest
from django.test import Client

from tests.liverfat.conftest import TINY
from ukbstudy.accounts.services import user_create
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat.services.registry import current_model_version
from ukbstudy.liverfat.services.runs import cross_validation_start, training_start
from ukbstudy.measurements.models import ModelVersion

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("erasable_qc_history")]


def client_for(role):
    client = Client()
    client.force_login(user_create(username=f"{role}-{id(client)}", password="pw-long-enough-1", role=role))
    return client


def test_an_empty_study_says_what_to_do():
    page = client_for("viewer").get("/liverfat/").content.decode()
    assert "No models yet" in page and "No runs yet" in page
    assert 'id="loss-empty"' in page and "No cross-validation yet" in page and 'id="figure-loss"' not in page
    assert "Cross-validate</label>" not in page.replace("\n", "")  # viewers do not start runs


def test_the_registry_shows_metrics_runs_and_the_loss_curve(study):
    cv = cross_validation_start(config="quick", overrides=TINY, folds=4)
    training_start(config="quick", overrides=TINY)
    page = client_for("viewer").get("/liverfat/").content.decode()
    cv_version = ModelVersion.objects.get(trained_by=cv)
    assert f"cv-job{cv.pk}" in page and f"{cv_version.metrics['mae']:.2f}" in page
    assert "<strong>current</strong>" in page and 'id="figure-loss"' in page
    assert f"training on all of A (job {Job.objects.get(kind=Job.Kind.TRAIN).pk})" in page
    assert '<strong id="size-a">20</strong>' in page and '<strong id="size-b">10</strong>' in page


def test_an_analyst_starts_runs_and_chooses_the_current_model(study):
    analyst = client_for("analyst")
    assert client_for("rater").post("/liverfat/start/train/", {"config": "quick"}).status_code == 403
    response = analyst.post("/liverfat/start/infer/", {"dataset": "B"}, follow=True)
    assert "no trained liver fat model" in response.content.decode()
    first = training_start(config="quick", overrides=TINY)
    training_start(config="quick", overrides=TINY)
    version = ModelVersion.objects.get(trained_by=first)
    assert client_for("rater").post(f"/liverfat/models/{version.pk}/current/").status_code == 403
    analyst.post(f"/liverfat/models/{version.pk}/current/")
    assert current_model_version() == version
    response = analyst.post("/liverfat/start/infer/", {"dataset": "B"}, follow=True)
    job = Job.objects.filter(kind=Job.Kind.INFER).get()
    assert f"Job {job.pk} queued" in response.content.decode()
    assert job.status == Job.Status.SUCCEEDED and job.result["inferred_now"] == 10
