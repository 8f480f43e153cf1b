"""Atlas pages: overview (templates, correction, jobs) and the three-way comparison as a page and a CSV."""

from __future__ import annotations

from django.contrib.auth.decorators import permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone

from .selectors import atlas_overview, three_way_tables_from_db

VIEW_PERMISSION = "measurements.view_measurement"


@permission_required(VIEW_PERMISSION, raise_exception=True)
def overview(request):
    return render(request, "atlas/overview.html", atlas_overview())


def _tables_or_error(request):
    from analysis import AnalysisError

    field = request.GET.get("field", "22402-2.0")
    try:
        return three_way_tables_from_db(field=field), ""
    except (AnalysisError, ValueError) as exc:
        return [], str(exc)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def three_way(request):
    tables, error = _tables_or_error(request)
    return render(request, "atlas/three_way.html", {"tables": tables, "error": error},
                  status=200 if not error else 409)


@permission_required(VIEW_PERMISSION, raise_exception=True)
def three_way_csv(request):
    from analysis.threeway import render_three_way

    tables, error = _tables_or_error(request)
    if error:
        return HttpResponse(error, status=409, content_type="text/plain; charset=utf-8")
    response = HttpResponse(render_three_way(tables, "csv"), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="three-way-{timezone.now():%Y%m%dT%H%M%SZ}.csv"'
    return response
