"""The QC review pages: a keyboard-driven queue, one scan at a time, and rater agreement.

Views stay thin: the queue order and locks are in selectors/services; a POST records one decision and
redirects to the next scan, so a reload never records twice. The review page's script asks for JSON instead
(``Accept: application/json``): it has the next scan's page already and swaps it in place, so the answer says
which scan comes next (and the one after, to fetch meanwhile) and what the queue counts are now.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import ValidationError
from django.db import DatabaseError
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analysis.raters import rater_agreement
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_get
from ukbstudy.imaging.views import scan_figures, scan_image_urls, scan_slice_viewer

from .forms import CONFIDENCES, DecisionForm, QueueFilterForm
from .models import Reason, Verdict
from .selectors import (
    QueueFilters,
    participant_lookup,
    qc_disagreements,
    qc_held_by_other,
    qc_history,
    qc_latest_verdicts,
    qc_next_scans,
    qc_previous_scan,
    qc_queue_counts,
    qc_rater_effort,
    qc_reviewed_scans,
)
from .services import ScanLocked, qc_decision_record, qc_defer, qc_lock_acquire

REVIEW_PERMISSION = "qc.add_qcdecision"
logger = logging.getLogger(__name__)


def _filters(request) -> tuple[QueueFilters, str]:
    form = QueueFilterForm(request.GET or None)
    if not form.is_valid():
        return QueueFilters(), ""
    data = form.cleaned_data
    filters = QueueFilters(centre=data["centre"], hint=data["hint"], status=data["status"], mine=data["mine"])
    query = urlencode({k: v for k, v in request.GET.items() if k in form.fields and v})
    return filters, query


@permission_required("imaging.view_scan", raise_exception=True)
def queue(request):
    """The next scan for this rater: the first in their queue that nobody else holds. Viewers, who do not
    rate, get the list of recently reviewed scans instead."""
    if not request.user.has_perm(REVIEW_PERMISSION):
        return render(request, "qc/browse.html", {"scans": qc_reviewed_scans(limit=100)})
    next_scan = _next_scan_url(request)
    if next_scan:
        return redirect(next_scan)
    return render(request, "qc/empty.html", {"filter_form": QueueFilterForm(request.GET or None)})


def _scan(pk: int) -> Scan:
    scan = scan_get(pk=pk)
    if scan is None:
        raise Http404("no such scan")
    return scan


def _with_query(url: str, query: str) -> str:
    """The URL with the queue's filters kept."""
    return f"{url}?{query}" if query else url


def _review_url(scan: Scan, query: str) -> str:
    return _with_query(reverse("qc:review", args=(scan.pk,)), query)


def _next_scan(request, after: int | None = None) -> Scan | None:
    """Lock the first scan of the rater's queue that nobody took meanwhile and return it."""
    filters, _ = _filters(request)
    for scan in qc_next_scans(rater=request.user, filters=filters, exclude=after):
        try:
            qc_lock_acquire(scan=scan, rater=request.user)
        except ScanLocked:
            continue  # taken a moment ago by someone else
        return scan
    return None


def _next_scan_url(request, after: int | None = None) -> str | None:
    scan = _next_scan(request, after)
    return _review_url(scan, _filters(request)[1]) if scan else None


def _upcoming(request, filters: QueueFilters, after: Scan) -> Scan | None:
    """The scan after ``after`` in the rater's queue, not locked: the one whose page and images to fetch
    ahead."""
    return next(iter(qc_next_scans(rater=request.user, filters=filters, limit=1, exclude=after.pk)), None)


def _wants_json(request) -> bool:
    return request.headers.get("Accept", "").startswith("application/json")


def _decided_json(request, scan: Scan, message: str) -> JsonResponse:
    """What the review page's script needs to show the next scan in place of this one. The decision is
    stored by now: should finding the next scan fail, the answer still says so (no next: the page goes to
    the queue) rather than an error that the page could take for "not recorded"."""
    filters, query = _filters(request)
    answer = {"message": message, "queue": _with_query(reverse("qc:queue"), query), "next": None, "then": None,
              "counts": None}
    try:
        upcoming = _next_scan(request, after=scan.pk)
        then = _upcoming(request, filters, upcoming) if upcoming else None
        counts = qc_queue_counts(rater=request.user, filters=filters)
    except DatabaseError:
        logger.exception("QC: %s recorded, but the next scan could not be found", scan)
        return JsonResponse(answer)
    return JsonResponse(answer | {
        "next": _review_url(upcoming, query) if upcoming else None,
        "then": _review_url(then, query) if then else None,
        "counts": {"left": counts.left, "capped": counts.capped, "today": counts.today},
    })


def _to_next(request, query: str, after: int):
    """Straight to the next scan (one round trip less than going through the queue URL)."""
    return redirect(_next_scan_url(request, after) or _with_query(reverse("qc:queue"), query))


@permission_required("imaging.view_scan", raise_exception=True)
def review(request, pk: int, form: DecisionForm | None = None, status: int = 200):
    scan = _scan(pk)
    can_rate = request.user.has_perm(REVIEW_PERMISSION)
    filters, query = _filters(request)
    if can_rate and request.headers.get("X-Requested-With") == "fetch":
        # The page fetching the next scan ahead: no hold yet (the decision's answer takes it, if this scan is
        # still next then), and nothing to show if another rater holds it.
        if qc_held_by_other(scan=scan, rater=request.user):
            return HttpResponse("held by another rater", status=409, content_type="text/plain")
    elif can_rate:
        try:
            qc_lock_acquire(scan=scan, rater=request.user)
        except ScanLocked as exc:
            messages.error(request, str(exc))
            return redirect(_with_query(reverse("qc:queue"), query))
    upcoming = _upcoming(request, filters, scan) if can_rate else None
    history = list(qc_history(scan=scan))
    mine = next((d for d in history if d.rater_id == request.user.pk), None)
    # Double reading stays independent: other raters' verdicts show once this rater has given theirs.
    blind = can_rate and mine is None and settings.QC_RATINGS_PER_SCAN > 1
    if blind:
        history = []
    context = {
        "scan": scan, "subject": scan.subject, "figures": scan_figures(scan), "viewer": scan_slice_viewer(scan),
        "history": history, "prefetch": scan_image_urls(upcoming) if upcoming else [], "can_rate": can_rate,
        "next_url": _review_url(upcoming, query) if upcoming else "",
        "query": query, "blind": blind,
        "form": form or DecisionForm(initial={"verdict": mine.verdict if mine else "",
                                              "reason": mine.reason if mine else ""}),
        "verdicts": Verdict.choices, "reasons": [r for r in Reason.choices if r[0]], "confidences": CONFIDENCES,
        "filter_form": QueueFilterForm(request.GET or None),
        "counts": qc_queue_counts(rater=request.user, filters=filters) if can_rate else None,
    }
    return render(request, "qc/review.html", context, status=status)


@require_POST
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def decide(request, pk: int):
    scan = _scan(pk)
    form = DecisionForm(request.POST)
    _, query = _filters(request)
    if form.is_valid():
        try:
            qc_decision_record(scan=scan, rater=request.user, **form.cleaned_data)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        except ScanLocked as exc:
            if _wants_json(request):
                return JsonResponse({"error": str(exc)}, status=409)
            messages.error(request, str(exc))
            return redirect(_with_query(reverse("qc:queue"), query))
        else:
            message = f"{scan}: {form.cleaned_data['verdict']} saved"
            if _wants_json(request):
                return _decided_json(request, scan, message)
            messages.success(request, message)
            return _to_next(request, query, after=scan.pk)
    if _wants_json(request):  # the page submits again the plain way, to show the errors in the form
        return JsonResponse({"errors": form.errors}, status=400)
    return review(request, pk, form=form, status=400)


@require_POST
@permission_required(REVIEW_PERMISSION, raise_exception=True)
def later(request, pk: int):
    scan = _scan(pk)
    qc_defer(scan=scan, rater=request.user)
    _, query = _filters(request)
    messages.info(request, f"{scan} moved to the end of your queue")
    return _to_next(request, query, after=scan.pk)


@permission_required(REVIEW_PERMISSION, raise_exception=True)
def previous(request):
    """Back to the scan this rater decided last (to change the verdict, with a reason)."""
    shown = request.GET.get("from", "")
    current = scan_get(pk=int(shown)) if shown.isdigit() else None
    scan = qc_previous_scan(rater=request.user, before=current)
    _, query = _filters(request)
    if scan is None:
        messages.info(request, "There is no earlier scan you reviewed.")
        return redirect(_with_query(reverse("qc:queue"), query))
    return redirect(_with_query(reverse("qc:review", args=(scan.pk,)), query))


@permission_required("qc.view_qcdecision", raise_exception=True)
def agreement(request):
    latest = qc_latest_verdicts()
    names = dict(get_user_model().objects.filter(pk__in={r for _, r in latest}).values_list("pk", "username"))
    pairs = rater_agreement({(scan, names[rater]): verdict for (scan, rater), verdict in latest.items()})
    return render(request, "qc/agreement.html", {"pairs": pairs, "disagreements": qc_disagreements()[:200],
                                                 "effort": qc_rater_effort(), "confidences": CONFIDENCES})


SEARCH_ANSWERS = {
    "withdrawn": "Participant {eid} has withdrawn from the study: none of their data is shown.",
    "unknown": "There is no participant with eid {eid}.",
}


@permission_required("subjects.view_subject", raise_exception=True)
def participant_search(request):
    """The navigation's eid box: straight to the participant's page, or a page that says why not."""
    eid = request.GET.get("eid", "").strip()
    if not eid.isdigit() or not 0 < int(eid) < 2**31:
        return render(request, "qc/search.html", {"eid": eid, "answer": "An eid is a whole number, e.g. 1000015."},
                      status=400)
    found = participant_lookup(eid=int(eid))
    if found == "found":
        return redirect("results:participant", eid=int(eid))
    return render(request, "qc/search.html", {"eid": eid, "answer": SEARCH_ANSWERS[found].format(eid=int(eid))},
                  status=404)
