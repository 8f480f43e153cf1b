from django.urls import path

from . import views

app_name = "qc"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("scan/<int:pk>/", views.review, name="review"),
    path("scan/<int:pk>/decide/", views.decide, name="decide"),
    path("scan/<int:pk>/later/", views.later, name="later"),
    path("previous/", views.previous, name="previous"),
    path("agreement/", views.agreement, name="agreement"),
    path("search/", views.participant_search, name="search"),
]
