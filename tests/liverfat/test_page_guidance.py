"""The liver fat page guides a new user: forms preselect a configuration that finishes on this machine and say
what each costs, a current model with a poor cross-validation R² carries a warning, and the loss of every
cross-validation fold is drawn (or the page says why not)."""

import json
import re

import pytest
import torch
from django.test import Client

from tests.liverfat.conftest import TINY
from ukbstudy.accounts.services import user_create
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat import views
from ukbstudy.liverfat.figures import X_TITLE, Y_TITLE, block_means
from ukbstudy.liverfat.selectors import POOR_R2
from ukbstudy.liverfat.services.registry import TASK
from ukbstudy.liverfat.services.runs import cross_validation_start, training_start
from ukbstudy.measurements.models import ModelVersion

pytestmark = pytest.mark.django_db

SELECTED_QUICK = re.compile(r'<option selected title="[^"]*">quick</option>')
SELECTED_PAPER = re.compile(r'<option selected title="[^"]*">paper</option>')


def client_for(role):
    client = Client()
    client.force_login(user_create(username=f"{role}-{id(client)}", password="pw-long-enough-1", role=role))
    return client


def page_for(role="analyst"):
    return client_for(role).get("/liverfat/").content.decode()


def current_model(**metrics):
    return ModelVersion.objects.create(task=TASK, name="resnet18", version="job1", checkpoint_path="models/x.pt",
                                       is_current=True, metrics=metrics, config={"kind": "trained", "n": 20})


def figure_of(page):
    found = re.search(r'<script type="application/json" id="figure-loss">(.*?)</script>', page, re.S)
    assert found, "no loss figure on the page"
    return json.loads(found[1])


# Configurations ------------------------------------------------------------------------------------------------

def test_without_a_gpu_both_forms_preselect_quick_and_say_what_each_configuration_costs(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    page = page_for()
    assert len(SELECTED_QUICK.findall(page)) == 2 and not SELECTED_PAPER.search(page)
    costs = page[page.index('id="config-costs"'):]
    assert "No GPU here, so <code>quick</code> is preselected" in costs
    assert "about 1.8 min on one CPU thread" in costs and "over 2 days" in costs


def test_with_a_gpu_the_forms_preselect_the_paper_configuration(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    page = page_for()
    assert len(SELECTED_PAPER.findall(page)) == 2 and "A GPU is available" in page


def test_a_gpu_the_settings_keep_off_does_not_preselect_paper(monkeypatch, settings):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    settings.LIVERFAT_DEVICE = "cpu"
    assert len(SELECTED_QUICK.findall(page_for())) == 2


def test_a_start_without_a_configuration_uses_quick_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    started = []
    monkeypatch.setattr(views, "training_start", lambda **kwargs: started.append(kwargs) or Job.objects.create(
        kind=Job.Kind.TRAIN))
    client_for("analyst").post("/liverfat/start/train/", {"field": "22402-2.0"})
    assert started[0]["config"] == "quick"


# The current model's warning ---------------------------------------------------------------------------------

def test_a_current_model_with_a_poor_cross_validation_r2_carries_a_warning_with_threshold_and_n():
    current_model(r2=0.612, n=23, mae=2.1, cross_validation="cv-job4")
    page = page_for("viewer")
    warning = re.search(r'<p id="model-warning" class="warning" role="note">(.*?)</p>', page, re.S)
    assert warning, "no warning next to the current model"
    assert "R² is 0.612, below 0.8" in warning[1] and "n = 23" in warning[1] and "cv-job4" in warning[1]
    assert POOR_R2 == 0.8


def test_a_current_model_with_a_good_cross_validation_r2_carries_no_warning():
    current_model(r2=0.93, n=23, cross_validation="cv-job4")
    assert 'id="model-warning"' not in page_for("viewer")


def test_a_current_model_never_cross_validated_says_its_r2_is_unknown():
    current_model()
    page = page_for("viewer")
    assert '<p id="model-warning" class="muted" role="note">Not cross-validated' in page


# Loss curves -------------------------------------------------------------------------------------------------

def test_block_means_average_each_run_of_ten_iterations_at_its_last_iteration():
    x, y = block_means([1.0] * 10 + [3.0] * 10 + [5.0] * 5)
    assert x.tolist() == [10, 20, 25] and y.tolist() == [1.0, 3.0, 5.0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("erasable_qc_history")
def test_the_loss_figure_has_a_plot_per_fold_with_axis_titles_and_a_table_beside_it(study):
    cv = cross_validation_start(config="quick", overrides=TINY, folds=4)
    train = training_start(config="quick", overrides=TINY)
    page = page_for("viewer")
    figure = figure_of(page)
    names = [trace["name"] for trace in figure["data"]]
    assert names == [f"fold {k} (5 held out)" for k in range(1, 5)] + [f"training on all of A (job {train.pk})"]
    axes = {trace["xaxis"] for trace in figure["data"]}
    assert len(axes) == 5  # each curve in a plot of its own
    layout = figure["layout"]
    assert all(layout[name]["title"]["text"] == X_TITLE for name in layout if name.startswith("xaxis"))
    assert layout["yaxis"]["title"]["text"] == Y_TITLE and "SD²" in Y_TITLE
    assert f"cross-validation job {cv.pk}" in layout["title"]["text"]
    panel = page[page.index('id="panel-loss"'):]
    assert "Loss at the start and end of each run" in panel and "fold 4 (5 held out)</td>" in panel


def test_a_cross_validation_still_running_says_its_losses_come_when_it_finishes():
    job = Job.objects.create(kind=Job.Kind.CROSS_VALIDATE, status=Job.Status.RUNNING, parameters={"task": TASK})
    page = page_for("viewer")
    empty = page[page.index('id="loss-empty"'):]
    assert f"Cross-validation job {job.pk} is running" in empty and 'id="figure-loss"' not in page


def test_a_finished_cross_validation_without_recorded_losses_says_so():
    job = Job.objects.create(kind=Job.Kind.CROSS_VALIDATE, status=Job.Status.SUCCEEDED, parameters={"task": TASK})
    assert f"Cross-validation job {job.pk} recorded no losses." in page_for("viewer")


def test_recorded_fold_losses_are_drawn_one_plot_per_fold():
    Job.objects.create(kind=Job.Kind.CROSS_VALIDATE, status=Job.Status.SUCCEEDED, parameters={"task": TASK},
                       metrics={"loss": [[1.0 - i / 100 for i in range(30)] for _ in range(7)]})
    figure = figure_of(page_for("viewer"))
    assert [trace["name"] for trace in figure["data"]] == [f"fold {k} (0 held out)" for k in range(1, 8)]
    assert len({trace["yaxis"] for trace in figure["data"]}) == 7 and "No cross-validation" not in str(figure)
