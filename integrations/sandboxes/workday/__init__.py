"""Workday sandbox: OAuth token endpoint, REST (`/ccx/api/v1/<tenant>/workers`), a Time
Tracking resource (`/ccx/api/timeTracking/v5/<tenant>/timeBlocks`) and a RaaS report."""

VENDOR = "workday"
TENANT = "switchboard_sb"
REPORT_OWNER = "ISU_Switchboard"
REPORT_NAME = "Switchboard_Worker_Sync"
