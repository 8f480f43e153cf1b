"""Results pages: cohort dashboard, method comparison, outlier review and regression tables.

Views parse the query, call one page builder (``pages``) or service, and render; every figure and table comes
from ``analysis`` through those builders. Viewers see every page; recording an outlier verdict (and a manual
measurement with it) needs ``results.add_outlierverdict`` (raters, analysts, admins).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from analysis.tables import render_csv
from ukbstudy.imaging.views import scan_image_urls
from ukbstudy.measurements.models import Quantity
from ukbstudy.measurements.selectors.frames import UnknownColumn, subject_frame
from ukbstudy.subjects.selectors import subject_get

from . import pages
from .forms import (
    ComparisonForm,
    DashboardForm,
    OutlierQueueForm,
    PaperForm,
    RegressionForm,
    ThresholdForm,
    VerdictForm,
    values_or_initial,
)
from .paper import paper_sections, render_sections
from .selectors import Comparison, column_label, review_scan, subject_values, verdict_history
from .services import outlier_verdict_record

VIEW_PERMISSION = "measurements.view_measurement"
REVIEW_PERMISSION = "results.add_outlierverdict"


@permission_required(VIEW_PERMISSION, raise_exception=True)
def dashboard(request):
    form = DashboardForm(request.GET or None)
    values = values_or_initial(form)
    context = pages.dashboard(column=values["column"], quantity=values["quantity"], grouping=values["grouping"])
    return render(request, "results/dashboard.html", {"form": form, **context})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def compare(request):
    form = ComparisonForm(request.GET or None)
    threshold_form = ThresholdForm(request.GET or None)
    comparison = form.comparison()
    threshold = values_or_initial(threshold_form)["threshold"]
    context = pages.comparison(comparison, threshold=threshold)
    return render(request, "results/compare.html", {
        "form": form, "threshold_form": threshold_form, "comparison": comparison, **context,
        "subject_link": _subject_url("000", comparison).replace("000", "EID", 1)})


def _subject_url(eid, comparison: Comparison) -> str:
    return reverse("results:outlier-subject", args=(eid,)) + "?" + urlencode(comparison.as_query())


@permission_required(VIEW_PERMISSION, raise_exception=True)
def outliers(request):
    form = OutlierQueueForm(request.GET or None)
    comparison, n = form.comparison(), values_or_initial(form)["n"]
    context = pages.outlier_queue(comparison, n=n)
    rows = [(row, verdict, _subject_url(row.id, comparison)) for row, verdict in context["rows"]]
    return render(request, "results/outliers.html", {
        "form": form, "comparison": comparison, "labels": (column_label(comparison.a), column_label(comparison.b)),
        **context, "rows": rows})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def outlier_subject(request, eid: int):
    """One subject of the queue: images side by side, every method's value, verdict history and the form."""
    subject = subject_get(eid=eid)
    if subject is None:
        raise Http404("no such participant")
    comparison = ComparisonForm(request.GET or None).comparison()
    scan = review_scan(subject=subject)
    can_review = request.user.has_perm(REVIEW_PERMISSION)
    form, status = VerdictForm(request.POST or None), 200
    if request.method == "POST":
        if not can_review:
            raise PermissionDenied("recording outlier verdicts needs the rater role")
        if form.is_valid() and _record(request, form, subject=subject, scan=scan, comparison=comparison):
            return redirect(_subject_url(eid, comparison))
        status = 400
    return render(request, "results/subject.html", _subject_context(subject, scan, comparison, form, can_review),
                  status=status)


def _record(request, form: VerdictForm, *, subject, scan, comparison: Comparison) -> bool:
    values = dict(subject_values(subject=subject, quantity=comparison.quantity))
    try:
        outlier_verdict_record(subject=subject, scan=scan, reviewer=request.user, quantity=comparison.quantity,
                               method_a=comparison.a, method_b=comparison.b, value_a=values.get(comparison.a),
                               value_b=values.get(comparison.b), **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, f"Verdict recorded for {subject.eid}.")
    return True


def _subject_context(subject, scan, comparison: Comparison, form, can_review: bool) -> dict:
    values = subject_values(subject=subject, quantity=comparison.quantity)
    return {"subject": subject, "scan": scan, "comparison": comparison, "form": form, "can_review": can_review,
            "images": scan_image_urls(scan) if scan else [], "history": verdict_history(subject=subject),
            "values": [(column_label(column), column, value) for column, value in values],
            "queue_url": reverse("results:outliers") + "?" + urlencode(comparison.as_query())}


@permission_required(VIEW_PERMISSION, raise_exception=True)
def regression(request):
    form = RegressionForm(request.GET or None)
    context = {"form": form, "tables": [], "messages_": []}
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        columns = [data["dependent"], data["explanatory"], *data["covariates"], "sex"]
        try:
            frame = subject_frame(columns=columns, quantity=Quantity.LIVER_FF)
        except UnknownColumn as exc:
            form.add_error(None, str(exc))
        else:
            result = pages.regression(frame, dependent=data["dependent"], explanatory=data["explanatory"],
                                      covariates=data["covariates"], transform="rint" if data["rint"] else "none")
            context.update(tables=result["tables"], messages_=result["messages"])
            if request.GET.get("download") == "csv":
                return _csv_download(result["tables"])
    context["csv_url"] = request.get_full_path() + ("&" if request.GET else "?") + "download=csv"
    return render(request, "results/regression.html", context)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def paper(request):
    """Every table of both papers from stored values (as ``manage.py report paper``), with a CSV download."""
    form = PaperForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        return render(request, "results/paper.html", {"form": form, "sections": []}, status=400)
    values = values_or_initial(form)
    sections = paper_sections(field=values["field"], seed=values["seed"])
    if request.GET.get("download") == "csv":
        return _attachment(render_sections(sections, "csv"), "papers")
    csv_url = request.get_full_path() + ("&" if request.GET else "?") + "download=csv"
    return render(request, "results/paper.html", {"form": form, "sections": sections, "csv_url": csv_url})


def _attachment(body: str, name: str) -> HttpResponse:
    response = HttpResponse(body, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


def _csv_download(tables) -> HttpResponse:
    """Each table's grid as CSV (analysis.tables.render_csv), titled, separated by a blank line."""
    body = "\r\n".join(f"{table.title}\r\n{render_csv(table)}" for table in tables)
    return _attachment(body, "regression")
