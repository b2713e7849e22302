from django.urls import path

from studio.ui.users import views

app_name = "users"

urlpatterns = [
    path("", views.user_list, name="list"),
    path("invite/", views.user_invite, name="invite"),
    path("<str:username>/", views.user_detail, name="detail"),
    path("<str:username>/roles/", views.user_roles, name="roles"),
    path("<str:username>/active/", views.user_active, name="active"),
    path("<str:username>/password-link/", views.user_password_link, name="password_link"),
    path("<str:username>/token/", views.token_create, name="token_create"),
    path("<str:username>/token/revoke/", views.token_revoke, name="token_revoke"),
]
