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
from ukbstudy.imaging.selectors import scan_get
from ukbstudy.imaging.views import scan_image_urls
from ukbstudy.measurements.models import Quantity
from ukbstudy.measurements.selectors.frames import UnknownColumn, scan_frame
from ukbstudy.subjects.selectors import subject_get

from . import longitudinal, pages
from .forms import (
    CompareForm,
    ComparisonForm,
    DashboardForm,
    LongitudinalForm,
    OutlierQueueForm,
    PaperForm,
    RegressionForm,
    VerdictForm,
)
from .models import OutlierVerdict
from .paper import paper_sections, render_sections
from .selectors import Comparison, column_label, scan_values, verdict_history
from .services import outlier_verdict_record

VIEW_PERMISSION = "measurements.view_measurement"
REVIEW_PERMISSION = "results.add_outlierverdict"
BAD_REQUEST = 400  # a page whose form is invalid: the form with its errors, nothing computed


@permission_required(VIEW_PERMISSION, raise_exception=True)
def dashboard(request):
    form = DashboardForm(request.GET)
    if not form.is_valid():
        return render(request, "results/dashboard.html", {"form": form}, status=BAD_REQUEST)
    context = pages.dashboard(**form.cleaned_data)
    return render(request, "results/dashboard.html", {"form": form, **context})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def compare(request):
    form = CompareForm(request.GET)
    if not form.is_valid():
        return render(request, "results/compare.html", {"form": form}, status=BAD_REQUEST)
    comparison = form.comparison()
    context = pages.comparison(comparison, threshold=form.cleaned_data["threshold"])
    return render(request, "results/compare.html", {
        "form": form, "comparison": comparison, **context,
        "scan_link": _scan_url("000", comparison).replace("000", "SCAN", 1)})


def _scan_url(scan_id, comparison: Comparison) -> str:
    return reverse("results:outlier-scan", args=(scan_id,)) + "?" + urlencode(comparison.as_query())


@permission_required(VIEW_PERMISSION, raise_exception=True)
def outliers(request):
    form = OutlierQueueForm(request.GET)
    if not form.is_valid():
        return render(request, "results/outliers.html", {"form": form, **_verdict_effects(None)},
                      status=BAD_REQUEST)
    comparison, data = form.comparison(), form.cleaned_data
    context = pages.outlier_queue(comparison, n=data["n"], review=data["review"])
    rows = [(row, scan, verdict, left_a, implausible, _scan_url(row.id, comparison))
            for row, scan, verdict, left_a, implausible in context["rows"]]
    return render(request, "results/outliers.html", {
        "form": form, "comparison": comparison, "labels": (column_label(comparison.a), column_label(comparison.b)),
        **context, "rows": rows, "counts": _review_counts(context["counts"]), **_verdict_effects(comparison)})


def _review_counts(counts: dict[str, int]) -> list[tuple[str, int]]:
    """(label, n) for every review state of the dataset that has subjects, in the Show choices' order."""
    return [(label, counts[value]) for value, label in pages.REVIEW_CHOICES if counts.get(value)]


def _verdict_effects(comparison: Comparison | None) -> dict:
    """What each verdict does, for the page to say: which take the subject out of dataset A."""
    excluding = [OutlierVerdict.Verdict(v).label for v in pages.EXCLUDING_VERDICTS]
    keeping = [label for value, label in OutlierVerdict.Verdict.choices if value not in pages.EXCLUDING_VERDICTS]
    return {"excluding_verdicts": excluding, "keeping_verdicts": keeping,
            "reference_field": comparison.field if comparison else ""}


@permission_required(VIEW_PERMISSION, raise_exception=True)
def outlier_scan(request, scan_id: int):
    """One scan of the queue: its images, every method's value on it, its verdict history and the form. The
    images, the values and the scan a manual value attaches to are one scan, the one in the address."""
    scan = scan_get(pk=scan_id)
    if scan is None:
        raise Http404("no such scan")
    subject = scan.subject
    comparison_form = ComparisonForm(request.GET)
    if not comparison_form.is_valid():  # no verdict on a comparison the query does not name correctly
        return render(request, "results/subject.html", {"subject": subject, "scan": scan,
                                                        "comparison_form": comparison_form}, status=BAD_REQUEST)
    comparison = comparison_form.comparison()
    can_review = request.user.has_perm(REVIEW_PERMISSION)
    form, status = VerdictForm(request.POST or None), 200
    if request.method == "POST":
        if not can_review:
            raise PermissionDenied("recording outlier verdicts needs the rater role")
        if form.is_valid() and _record(request, form, scan=scan, comparison=comparison):
            return redirect(_scan_url(scan.pk, comparison))
        status = BAD_REQUEST
    return render(request, "results/subject.html", _scan_context(scan, comparison, form, can_review), status=status)


def _record(request, form: VerdictForm, *, scan, comparison: Comparison) -> bool:
    values = dict(scan_values(scan=scan, quantity=comparison.quantity, also=(comparison.a, comparison.b)))
    try:
        outlier_verdict_record(subject=scan.subject, scan=scan, reviewer=request.user, quantity=comparison.quantity,
                               method_a=comparison.a, method_b=comparison.b, value_a=values.get(comparison.a),
                               value_b=values.get(comparison.b), **form.cleaned_data)
    except ValidationError as exc:
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
        return False
    messages.success(request, f"Verdict recorded for {scan.subject.eid}, visit {scan.instance}.")
    return True


def _scan_context(scan, comparison: Comparison, form, can_review: bool) -> dict:
    values = scan_values(scan=scan, quantity=comparison.quantity, also=(comparison.a, comparison.b))
    return {"subject": scan.subject, "scan": scan, "visit": scan.visit, "comparison": comparison, "form": form,
            "can_review": can_review, "images": scan_image_urls(scan), "history": verdict_history(scan=scan),
            "values": [(column_label(column), column, value) for column, value in values],
            "queue_url": reverse("results:outliers") + "?" + urlencode(comparison.as_query()),
            **_verdict_effects(comparison)}


@permission_required(VIEW_PERMISSION, raise_exception=True)
def longitudinal_page(request):
    """The cohort's change between the imaging visits, every quantity and method, and one in detail."""
    form = LongitudinalForm(request.GET)
    if not form.is_valid():
        return render(request, "results/longitudinal.html", {"form": form}, status=BAD_REQUEST)
    column = form.change_column()
    context = longitudinal.longitudinal(column=column)
    queue = None
    if column is not None:
        first = f"{column.column}@{longitudinal.FIRST}"
        comparison = Comparison(a=first, b=column.column, quantity=column.quantity, dataset="repeat")
        queue = reverse("results:outliers") + "?" + urlencode(comparison.as_query())
        context["scan_link"] = _scan_url("000", comparison).replace("000", "SCAN", 1)
    return render(request, "results/longitudinal.html", {
        "form": form, "column": column, "queue_url": queue,
        "participants": longitudinal.participants_with_both(limit=50), **context})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def participant(request, eid: int):
    """One participant: both visits side by side (attributes, QC, images, every value with its provenance) and
    what changed between them."""
    subject = subject_get(eid=eid)
    if subject is None:
        raise Http404("no such participant")
    visits = longitudinal.participant_visits(subject=subject)
    for entry in visits:
        for scan in entry["scans"]:
            scan["images"] = scan_image_urls(scan["scan"])
    return render(request, "results/participant.html", {
        "subject": subject, "visits": visits, "changes": longitudinal.participant_changes(subject=subject),
        "days": longitudinal.days_between(visits)})


@permission_required(VIEW_PERMISSION, raise_exception=True)
def regression(request):
    """No query: the form alone (nothing is fitted until asked); a query, even partial: fitted or refused."""
    form = RegressionForm(request.GET or None)
    context = {"form": form, "tables": [], "messages_": []}
    if not form.is_bound:
        return render(request, "results/regression.html", context)
    if form.is_valid():
        data = form.cleaned_data
        columns = [data["dependent"], data["explanatory"], *data["covariates"], "sex"]
        try:
            frame = scan_frame(columns=columns, quantity=Quantity.LIVER_FF)
        except UnknownColumn as exc:
            form.add_error(None, str(exc))
        else:
            result = pages.regression(frame, dependent=data["dependent"], explanatory=data["explanatory"],
                                      covariates=data["covariates"], transform="rint" if data["rint"] else "none")
            if request.GET.get("download") == "csv":
                return _csv_download(result["tables"])
            context.update(tables=result["tables"], messages_=result["messages"],
                           csv_url=request.get_full_path() + "&download=csv")
    return render(request, "results/regression.html", context, status=BAD_REQUEST if form.errors else 200)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def paper(request):
    """Every table of both papers from stored values (as ``manage.py report paper``), with a CSV download."""
    form = PaperForm(request.GET)
    if not form.is_valid():
        return render(request, "results/paper.html", {"form": form, "sections": []}, status=BAD_REQUEST)
    sections = paper_sections(field=form.cleaned_data["field"], seed=form.cleaned_data["seed"])
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
