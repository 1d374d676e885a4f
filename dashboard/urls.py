from django.urls import path

from . import views

app_name = "dashboard"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("commitments/", views.commitment_list, name="commitments"),
    path("commitments/<int:pk>/", views.commitment_detail, name="commitment"),
    path("commitments/<int:pk>/revise/", views.commitment_revise, name="commitment_revise"),
    path(
        "commitments/<int:pk>/occurrences/<int:sequence>/",
        views.occurrence_detail,
        name="occurrence",
    ),
    path("agreements/<int:pk>/", views.agreement_detail, name="agreement"),
    path("watch/", views.watch, name="watch"),
    path("watching/", views.watching, name="watching"),
]
