"""HubSpot CRM v3 sandbox, mounted at /sandbox/hubspot/ (stands in for api.hubapi.com)."""

VENDOR = "hubspot"
PORTAL_ID = 62515
APP_ID = 54321
