"""Workday sandbox: OAuth token endpoint, REST workers (`/ccx/api/v1/<tenant>/workers`), the
Time Tracking service's worker time blocks (`/ccx/api/timeTracking/v5/<tenant>/workers/<ID>/
workerTimeBlock`, `…/workerTimeBlocks`) and a RaaS report."""

VENDOR = "workday"
TENANT = "switchboard_sb"
REPORT_OWNER = "ISU_Switchboard"
REPORT_NAME = "Switchboard_Worker_Sync"
