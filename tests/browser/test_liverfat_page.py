"""The liver fat page in Chromium: a new user sees the quick configuration preselected (no GPU), what each
configuration costs, the warning next to a poorly validated current model, and one loss plot per fold, drawn
under the Content-Security-Policy without a violation."""

import pytest
import torch

from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.browser.test_results import plots_drawn
from ukbstudy.jobs.models import Job
from ukbstudy.liverfat.services.registry import TASK
from ukbstudy.measurements.models import ModelVersion

expect = pytest.importorskip("playwright.sync_api").expect
pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True),
              pytest.mark.usefixtures("erasable_qc_history")]

FOLDS = 4
# Plotly's subplots of the drawn figure, and the axis titles it rendered.
SUBPLOTS = "() => document.querySelectorAll('#panel-loss .cartesianlayer > .subplot').length"
AXIS_TITLES = """() => [...document.querySelectorAll('#panel-loss .infolayer > g')]
    .filter(g => /^g-[xy]\\d*title$/.test(g.getAttribute('class'))).map(g => g.textContent)"""


def test_a_new_user_sees_safe_defaults_the_warning_and_a_loss_plot_per_fold(login, page, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    Job.objects.create(kind=Job.Kind.CROSS_VALIDATE, status=Job.Status.SUCCEEDED, parameters={"task": TASK},
                       metrics={"loss": [[1.0 / (1 + i / 10) for i in range(200)] for _ in range(FOLDS)]})
    ModelVersion.objects.create(task=TASK, name="resnet18", version="job2", checkpoint_path="models/x.pt",
                                is_current=True, config={"kind": "trained", "n": 18},
                                metrics={"r2": 0.55, "n": 18, "mae": 3.2, "cross_validation": "cv-job1"})
    page.add_init_script(RECORD_VIOLATIONS)
    page = login("analyst", "/liverfat/")

    expect(page.locator("#run-forms select[name=config]").first).to_have_value("quick")
    expect(page.locator("#config-costs")).to_contain_text("1.8 min")
    expect(page.locator("#model-warning")).to_be_visible()
    expect(page.locator("#model-warning")).to_contain_text("below 0.8")
    expect(page.locator("#model-warning")).to_contain_text("n = 18")

    plots_drawn(page, 1)
    assert page.evaluate(SUBPLOTS) == FOLDS
    titles = page.evaluate(AXIS_TITLES)
    assert titles.count("iteration (batches)") == FOLDS and "loss (MSE, target SD²)" in titles
    expect(page.locator("#panel-loss table")).to_contain_text(f"fold {FOLDS} (0 held out)")
    page.screenshot(path="/tmp/liverfat-page.png", full_page=True)
    assert page.evaluate("window.__cspViolations") == []


def test_an_empty_study_shows_the_loss_empty_state_and_no_plot(login):
    page = login("viewer", "/liverfat/")
    expect(page.locator("#loss-empty")).to_contain_text("No cross-validation yet")
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
