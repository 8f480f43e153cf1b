"""The REST API: thin views over the QC service and selectors (``ukbstudy.qc``) and the study's models.

Every endpoint answers for itself (401/403 JSON), so the views are exempt from LoginRequiredMiddleware,
which would otherwise send a token-authenticated request to the login page before DRF authenticated it.
Withdrawn participants never appear: every queryset starts from a default manager, which hides them.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required, login_required
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins, status, viewsets
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.renderers import BaseRenderer
from rest_framework.response import Response
from rest_framework.routers import APIRootView
from rest_framework.serializers import ValidationError
from rest_framework.throttling import ScopedRateThrottle

from ukbstudy.accounts.lockout import lockout_json
from ukbstudy.imaging.models import Scan
from ukbstudy.imaging.selectors import scan_list
from ukbstudy.measurements.importing import MeasurementImportError, measurements_import
from ukbstudy.measurements.models import Measurement
from ukbstudy.measurements.selectors.exports import INCLUDE, LAYOUTS
from ukbstudy.measurements.selectors.measurements import measurement_list
from ukbstudy.measurements.views import streamed_export
from ukbstudy.qc.importing import QCImportError, qc_decisions_import
from ukbstudy.qc.models import QCDecision
from ukbstudy.qc.selectors import qc_decision_list, qc_history, scans_with_qc_status
from ukbstudy.qc.services import ScanLocked, qc_decision_record
from ukbstudy.subjects.selectors import subject_list, visit_list

from . import filters, serializers
from .pagination import MeasurementPagination
from .permissions import IsAdminRole, RolePermissions

RECORD_RESPONSES = {
    201: serializers.QCDecisionSerializer,
    400: OpenApiResponse(description="Field errors, e.g. a fail without a reason."),
    409: OpenApiResponse(serializers.ScanLockedSerializer, description="Another rater holds the scan."),
}


class LoginNotRequired:
    """Exempts a DRF view from LoginRequiredMiddleware; DRF's authentication and permissions still apply."""

    @classmethod
    def as_view(cls, *args, **kwargs):
        return login_not_required(super().as_view(*args, **kwargs))


class ApiRootView(LoginNotRequired, APIRootView):
    """The study's REST API: the endpoints below; interactive documentation at /api/docs/, the OpenAPI
    schema at /api/schema/."""


class ApiDocsView(SpectacularSwaggerSplitView):
    """Interactive documentation (Swagger UI) of /api/schema/, from the copy drf-spectacular-sidecar ships:
    this site's static files only, as the Content-Security-Policy allows, and the start-up script served
    as a file of its own (no inline script). A page for people: someone not logged in is sent to the login
    page (REST framework exempts its views from LoginRequiredMiddleware, so the view asks itself), and
    "Try it out" calls the API with their session."""

    url_name = "api:schema"
    template_name = "rest_framework/swagger_ui.html"
    permission_classes = [IsAuthenticated]

    @classmethod
    def as_view(cls, **initkwargs):
        return login_required(super().as_view(**initkwargs))


class StudyViewSet(LoginNotRequired, viewsets.GenericViewSet):
    permission_classes = [RolePermissions]


class SubjectViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StudyViewSet):
    """Participants, looked up by eid."""

    serializer_class = serializers.SubjectSerializer
    filterset_class = filters.SubjectFilter
    lookup_field = "eid"
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return subject_list()


class VisitViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StudyViewSet):
    """Imaging visits (instance 2, and 3 for the repeat imaging visit): what UK Biobank measured at each, and
    the visit's scans."""

    serializer_class = serializers.VisitSerializer
    filterset_class = filters.VisitFilter
    lookup_value_regex = r"[0-9]+"
    permission_models = {"changes": Measurement}  # measured values: the measurement view permission

    def get_queryset(self):
        return visit_list()

    @extend_schema(parameters=[serializers.ChangeQuerySerializer], responses={
        200: serializers.ChangesSerializer,
        400: OpenApiResponse(description="An unknown quantity or column.")},
        summary="The change between the first and the repeat imaging visit of one quantity and column")
    @action(detail=False, methods=["get"], url_path="changes", filter_backends=[], pagination_class=None)
    def changes(self, request):
        """Per participant with a QC-passed scan at both visits, the column's value at each and the change, with
        the cohort's paired change and repeatability (as /results/longitudinal/ shows them)."""
        from ukbstudy.results.longitudinal import change_report  # the statistics engine loads when asked for

        query = serializers.ChangeQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(serializers.ChangesSerializer(change_report(**query.validated_data)).data)


class ScanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StudyViewSet):
    """Scans with their current QC status, automatic hints and a summary of the import deviations."""

    serializer_class = serializers.ScanSerializer
    filterset_class = filters.ScanFilter
    lookup_value_regex = r"[0-9]+"
    # The QC history and recording a decision need the QC decision permissions, not the scan's.
    permission_models = {"qc": QCDecision, "qc_record": QCDecision}

    def get_queryset(self):
        return scans_with_qc_status(scan_list())

    @extend_schema(responses=serializers.QCDecisionSerializer(many=True), summary="The scan's QC history, newest first")
    @action(detail=True, methods=["get"], url_path="qc", filter_backends=[], pagination_class=None)
    def qc(self, request, pk=None):
        history = qc_history(scan=self.get_object()).select_related("scan__subject")
        return Response(serializers.QCDecisionSerializer(history, many=True).data)

    @extend_schema(request=serializers.QCRecordSerializer, responses=RECORD_RESPONSES,
                   summary="Record a QC decision on the scan")
    @qc.mapping.post
    def qc_record(self, request, pk=None):
        scan = self.get_object()
        return _record(scan=scan, rater=request.user, **_validated(serializers.QCRecordSerializer, request))


@extend_schema_view(create=extend_schema(request=serializers.QCDecisionCreateSerializer, responses=RECORD_RESPONSES,
                                         summary="Record a QC decision"))
class QCDecisionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StudyViewSet):
    """QC decisions, newest first (the append-only history of every scan)."""

    serializer_class = serializers.QCDecisionSerializer
    filterset_class = filters.QCDecisionFilter

    def get_queryset(self):
        return qc_decision_list()

    def create(self, request):
        data = _validated(serializers.QCDecisionCreateSerializer, request)
        return _record(rater=request.user, **data)

    @extend_schema(request={"multipart/form-data": serializers.QCImportSerializer},
                   responses={200: serializers.QCImportReportSerializer,
                              400: OpenApiResponse(description="Every bad cell, named by line and column; "
                                                               "nothing was imported.")},
                   summary="Import QC decisions from a CSV file (admin only)")
    @action(detail=False, methods=["post"], url_path="import", permission_classes=[IsAdminRole],
            parser_classes=[MultiPartParser, FormParser], filter_backends=[])
    def import_csv(self, request):
        data = _validated(serializers.QCImportSerializer, request)
        try:
            report = qc_decisions_import(path_or_file=data["file"], imported_by=request.user)
        except QCImportError as exc:
            raise ValidationError({"file": exc.errors}) from None
        return Response(serializers.QCImportReportSerializer(report).data)


class TokenView(LoginNotRequired, ObtainAuthToken):
    """POST username and password, get the user's token. Throttled per address (scope "token"), and a
    password check like the login page's: failures count towards the lockout (django-axes), which refuses
    even the right password until the cool-off has passed."""

    permission_classes = [AllowAny]  # (the schema then shows it needs no credentials)
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"

    @extend_schema(summary="Get the user's API token", responses={
        200: serializers.TokenSerializer,
        400: OpenApiResponse(description="Wrong username or password."),
        429: OpenApiResponse(description="Too many attempts from this address (throttled), or too many failed "
                                         "log-ins for this username or address (locked out); see Retry-After.")})
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            # Axes flags the request it was given (DRF's, which its middleware never sees): answer here.
            if getattr(request, "axes_locked_out", False):
                return lockout_json()
            raise ValidationError(serializer.errors)
        user = serializer.validated_data["user"]
        # A token is a log-in: the signal clears the user's failed attempts (AXES_RESET_ON_SUCCESS).
        user_logged_in.send(sender=type(user), request=request, user=user)
        token, _ = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class CSVRenderer(BaseRenderer):
    """Lets clients ask for text/csv; the export view streams its own response."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes | str) else str(data)


class MeasurementViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, StudyViewSet):
    """Derived measurements with their provenance, newest first."""

    serializer_class = serializers.MeasurementSerializer
    filterset_class = filters.MeasurementFilter
    pagination_class = MeasurementPagination

    def get_queryset(self):
        return measurement_list()

    @extend_schema(
        summary="Export measurements as CSV (admins)",
        parameters=[OpenApiParameter("layout", str, enum=LAYOUTS),
                    OpenApiParameter("include", str, many=True, enum=INCLUDE,
                                     description="Tidy layout only: the QC status, reference values or DXA "
                                                 "covariates beside the measurements."),
                    OpenApiParameter("quantity", str, many=True), OpenApiParameter("method", str, many=True),
                    OpenApiParameter("model_version", int), OpenApiParameter("created_after", OpenApiTypes.DATETIME),
                    OpenApiParameter("created_before", OpenApiTypes.DATETIME)],
        responses={(200, "text/csv"): OpenApiTypes.STR, (400, "text/plain"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], url_path="export", renderer_classes=[CSVRenderer], pagination_class=None,
            filterset_class=None)
    def export(self, request):
        """Long (one row per measurement), wide (one row per participant and visit) or tidy (one row per participant and
        visit, with the columns asked for in ``include``), streamed; withdrawn left out."""
        return streamed_export(request, channel="api")

    @extend_schema(request={"multipart/form-data": serializers.MeasurementImportSerializer},
                   responses={201: serializers.MeasurementImportReportSerializer,
                              200: OpenApiResponse(serializers.MeasurementImportReportSerializer,
                                                   description="Every value was already stored: nothing written."),
                              400: OpenApiResponse(description="Every problem, named by line and column; nothing "
                                                               "was imported.")},
                   summary="Import measurements a lab already has from a CSV file (admin only)")
    @action(detail=False, methods=["post"], url_path="import", permission_classes=[IsAdminRole],
            parser_classes=[MultiPartParser, FormParser], filter_backends=[], pagination_class=None)
    def import_csv(self, request):
        data = _validated(serializers.MeasurementImportSerializer, request)
        try:
            report = measurements_import(path_or_file=data["file"], imported_by=request.user)
        except MeasurementImportError as exc:
            raise ValidationError({"file": exc.reported}) from None
        return Response(serializers.MeasurementImportReportSerializer(report).data,
                        status=status.HTTP_201_CREATED if report.batch_id else status.HTTP_200_OK)


@csrf_exempt  # changes nothing, so any method may be told "not found" (not a CSRF page)
@login_not_required
def not_found(request, *args, **kwargs) -> JsonResponse:
    """An /api/ path no endpoint matches (e.g. a scan id that is not a number): JSON like every API answer."""
    return JsonResponse({"detail": "Not found."}, status=status.HTTP_404_NOT_FOUND)


def _validated(serializer_class, request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _record(*, scan: Scan, rater, **decision) -> Response:
    """Record through the QC service (verdict, reason, note, confidence, seconds_spent): its rule violations
    are field errors (400), another rater's hold 409."""
    try:
        decision = qc_decision_record(scan=scan, rater=rater, **decision)
    except DjangoValidationError as exc:
        raise ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages) from None
    except ScanLocked as exc:
        body = {"detail": str(exc), "locked_by": exc.lock.rater.get_username(), "expires_at": exc.lock.expires_at}
        return Response(serializers.ScanLockedSerializer(body).data, status=status.HTTP_409_CONFLICT)
    return Response(serializers.QCDecisionSerializer(decision).data, status=status.HTTP_201_CREATED)
