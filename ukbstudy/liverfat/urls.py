from django.urls import path

from . import views

app_name = "liverfat"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("start/<str:action>/", views.start, name="start"),
    path("models/<int:pk>/current/", views.make_current, name="make-current"),
]
