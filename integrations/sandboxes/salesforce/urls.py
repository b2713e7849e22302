"""Salesforce paths below /sandbox/salesforce/ (the sandbox's instance_url)."""

import re

from django.urls import path, re_path

from integrations.sandboxes.salesforce import API_VERSION, views

DATA = "^services/data/" + re.escape(API_VERSION) + "/"
NAME = r"[A-Za-z][A-Za-z0-9_]*"

urlpatterns = [
    path("services/oauth2/token", views.token, name="salesforce-token"),
    path("login/services/oauth2/token", views.login_token, name="salesforce-login-token"),
    re_path(r"^services/data/?$", views.versions, name="salesforce-versions"),
    re_path(DATA + r"limits/?$", views.limits, name="salesforce-limits"),
    re_path(DATA + r"query/?$", views.query, name="salesforce-query"),
    re_path(DATA + r"query/(?P<locator>01g[A-Za-z0-9]+)-(?P<offset>\d+)$", views.query_more,
            name="salesforce-query-more"),
    re_path(DATA + rf"sobjects/(?P<sobject>{NAME})/?$", views.sobject_root, name="salesforce-sobject"),
    re_path(DATA + rf"sobjects/(?P<sobject>{NAME})/describe/?$", views.sobject_describe,
            name="salesforce-describe"),
    re_path(DATA + rf"sobjects/(?P<sobject>{NAME})/updated/?$", views.sobject_updated, name="salesforce-updated"),
    re_path(DATA + rf"sobjects/(?P<sobject>{NAME})/(?P<record_id>[A-Za-z0-9]+)$", views.sobject_record,
            name="salesforce-record"),
    re_path(DATA + rf"sobjects/(?P<sobject>{NAME})/(?P<field>{NAME})/(?P<value>[^/]+)$",
            views.sobject_by_external_id, name="salesforce-external-id"),
]  # fmt: skip
