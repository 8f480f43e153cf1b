"""The measurement export for admins: the page that chooses one, and the streamed CSV download."""

from datetime import UTC

from django.core.exceptions import PermissionDenied
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from ukbstudy.accounts.roles import role_of

from .forms import ExportForm
from .models import Export, Quantity
from .selectors.exports import INCLUDE, LAYOUTS, TIDY, ExportFilters
from .selectors.measurements import method_choices
from .services import export_csv


def filters_from(params) -> ExportFilters:
    """ExportFilters from query parameters (quantity and method may repeat); ValueError names a bad one."""
    dates = {}
    for name in ("created_after", "created_before"):
        text = params.get(name, "")
        parsed = parse_datetime(text) if text else None
        if text and parsed is None:
            raise ValueError(f"{name}: {text!r} is not an ISO 8601 date and time")
        try:  # to UTC here: PostgreSQL refuses offsets beyond +/-15:59
            dates[name] = (parsed.replace(tzinfo=UTC) if timezone.is_naive(parsed) else parsed.astimezone(UTC)) \
                if parsed else None
        except OverflowError:
            raise ValueError(f"{name}: {text!r} is out of range") from None
    version = params.get("model_version", "")
    if version and not (version.isdigit() and int(version) < 2**63):
        raise ValueError(f"model_version: {version!r} is not a model version id")
    methods = [token for token, _ in method_choices()]
    for name, known in (("quantity", Quantity.values), ("method", methods), ("include", INCLUDE)):
        unknown = [value for value in params.getlist(name) if value not in known]
        if unknown:
            raise ValueError(f"{name}: {unknown[0]!r} is not one of {', '.join(known)}")
    return ExportFilters(quantities=params.getlist("quantity"), methods=params.getlist("method"),
                         model_version=int(version) if version else None,
                         include=list(dict.fromkeys(params.getlist("include"))), **dates)


def streamed_export(request, channel: str):
    if role_of(request.user) != "admin":
        raise PermissionDenied("Exports are for admins.")
    # "layout", not "format": REST framework reserves ?format= for choosing a renderer
    format = request.GET.get("layout", Export.Format.LONG)
    if format not in LAYOUTS:
        return _bad_request(f"layout must be one of {', '.join(LAYOUTS)}")
    try:
        filters = filters_from(request.GET)
    except ValueError as exc:
        return _bad_request(str(exc))
    if filters.include and format != TIDY:
        return _bad_request(f"include: the {format} layout has no optional columns (the {TIDY} layout has)")
    response = StreamingHttpResponse(export_csv(format=format, filters=filters, user=request.user, channel=channel),
                                     content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="measurements-{format}-{stamp}.csv"'
    return response


def _bad_request(message: str) -> HttpResponseBadRequest:
    return HttpResponseBadRequest(message, content_type="text/plain; charset=utf-8")


def measurements_csv(request):
    return streamed_export(request, channel="web")


def export_page(request):
    """The export form: a layout, the tidy file's optional columns, quantities and methods; it asks for the
    CSV above (a GET, so the download's address says what it holds)."""
    if role_of(request.user) != "admin":
        raise PermissionDenied("Exports are for admins.")
    return render(request, "measurements/export.html", {"form": ExportForm()})
