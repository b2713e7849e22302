from django.urls import path

from studio.ui.runs import views

app_name = "runs"

urlpatterns = [
    path("", views.RunListView.as_view(), name="list"),
    path("<int:pk>/", views.RunDetailView.as_view(), name="detail"),
    path("<int:pk>/steps/<int:step>/", views.StepView.as_view(), name="step"),
    path("<int:pk>/steps/<int:step>/<str:side>/", views.PayloadView.as_view(), name="payload"),
]
