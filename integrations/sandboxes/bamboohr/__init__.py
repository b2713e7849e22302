"""BambooHR sandbox: `/sandbox/bamboohr/api/v1/...`, shaped by BambooHR's OpenAPI 3.1 document."""

VENDOR = "bamboohr"
COMPANY_ID = "48213"
