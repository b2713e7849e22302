from django.urls import path

from studio.ui.crosswalk import conflicts, ownership, review, views

app_name = "crosswalk"

urlpatterns = [
    path("", views.IndexView.as_view(), name="index"),
    path("ownership/", ownership.OwnershipView.as_view(), name="ownership"),
    path("review/", review.ReviewView.as_view(), name="review"),
    path("conflicts/", conflicts.ConflictsView.as_view(), name="conflicts"),
    path("<slug:object>/", views.ObjectView.as_view(), name="object"),
    path("<slug:object>/export.csv", views.ExportView.as_view(), name="export"),
    path("<slug:object>/link/", views.LinkView.as_view(), name="link"),
    path("<slug:object>/unlink/<int:pk>/", views.UnlinkView.as_view(), name="unlink"),
]
