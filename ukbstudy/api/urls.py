"""/api/: the router's endpoints, token login, the OpenAPI schema and its interactive docs (Swagger UI, served
from static files)."""

from django.contrib.auth.decorators import login_not_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.routers import DefaultRouter

from . import views

app_name = "api"

router = DefaultRouter()
router.APIRootView = views.ApiRootView
router.register("subjects", views.SubjectViewSet, basename="subject")
router.register("visits", views.VisitViewSet, basename="visit")
router.register("scans", views.ScanViewSet, basename="scan")
router.register("qc-decisions", views.QCDecisionViewSet, basename="qcdecision")
router.register("measurements", views.MeasurementViewSet, basename="measurement")

urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path("schema/", login_not_required(SpectacularAPIView.as_view(permission_classes=[IsAuthenticated])),
         name="schema"),
    path("docs/", views.ApiDocsView.as_view(), name="docs"),
    path("", include(router.urls)),
    re_path(r"", views.not_found),  # anything else under /api/: a JSON 404, as the schema documents
]
