"""The gallery's templates: what each reference flow does, the connections it needs, and its
definition. A template is installed as a new flow (install.py); the flow is then the
analyst's to edit, and changing a template later never touches flows installed from it."""

from __future__ import annotations

import copy
from dataclasses import dataclass

from integrations.gallery.flows import (
    consultant_sync,
    consultant_sync_bamboohr,
    expenses,
    invoice_status,
    invoice_status_hubspot,
    lead_to_project,
    lead_to_project_dynamics,
    lead_to_project_hubspot,
    regional,
    time_to_billing,
    time_to_billing_dynamics,
)


@dataclass(frozen=True)
class Template:
    key: str  # also the key of the flow it installs (a suffix is added if taken)
    name: str
    summary: str  # one line on the card
    path: tuple[str, ...]  # source → canonical → targets, shown as steps on the card
    definition: dict
    module_doc: str = ""

    @property
    def description(self) -> str:
        return str(self.definition.get("description", ""))

    @property
    def connections(self) -> list[str]:
        """Every connection the definition names (trigger, look-ups, deliveries), in order."""
        names = [self.definition.get("trigger", {}).get("connection")]
        names += [s.get("connection") for s in self.definition["steps"]]
        return list(dict.fromkeys(n for n in names if n))

    @property
    def canonical_objects(self) -> list[str]:
        targets = [s.get("target") or s.get("schema") for s in self.definition["steps"]]
        return list(dict.fromkeys(t.split("@")[0] for t in targets if t))

    def fresh_definition(self) -> dict:
        return copy.deepcopy(self.definition)


TEMPLATES: tuple[Template, ...] = (
    Template("lead-to-project", "Lead to project",
             "A won opportunity becomes a project in the PSA and the ERP within a minute.",
             ("Salesforce opportunity won", "project", "Kantata workspace", "NetSuite customer + job",
              "ids back to Salesforce"),
             lead_to_project.DEFINITION, lead_to_project.__doc__ or ""),
    Template("consultant-master-sync", "Consultant master sync",
             "Workers hired, changed or terminated in HR are kept in step in the ERP and the PSA.",
             ("Workday worker report", "worker", "NetSuite employee", "Kantata user"),
             consultant_sync.DEFINITION, consultant_sync.__doc__ or ""),
    Template("time-to-billing", "Time to billing",
             "Approved time is checked, batched per project and month, and posted to the ERP exactly once.",
             ("Kantata approved time", "timesheet", "policy checks", "batch per project and month",
              "NetSuite time bills"),
             time_to_billing.DEFINITION, time_to_billing.__doc__ or ""),
    Template("expenses-to-erp", "Expenses to ERP",
             "Expenses are checked against policy and billable ones re-billed through the ERP.",
             ("Kantata expenses", "expense", "policy checks", "NetSuite invoice line"),
             expenses.DEFINITION, expenses.__doc__ or ""),
    Template("invoice-status-back", "Invoice status back",
             "Invoices issued or paid in the ERP show up on the project in the PSA and on its opportunity.",
             ("NetSuite invoices", "invoice_event", "Kantata milestone", "Salesforce opportunity"),
             invoice_status.DEFINITION, invoice_status.__doc__ or ""),
    Template("lead-to-project-regional", "Lead to project, by region",
             "Lead to project with EMEA deals booked in the EMEA subsidiary, the rest in North America.",
             ("Salesforce opportunity won", "project", "route by region", "NetSuite EMEA or NA subsidiary",
              "Kantata workspace"),
             regional.DEFINITION, regional.__doc__ or ""),
    Template("lead-to-project-hubspot", "Lead to project from HubSpot",
             "A HubSpot deal moved to closed won becomes a project in the PSA and the ERP.",
             ("HubSpot deal closed won", "project", "Kantata workspace", "NetSuite customer + job",
              "ids back to the HubSpot deal"),
             lead_to_project_hubspot.DEFINITION, lead_to_project_hubspot.__doc__ or ""),
    Template("invoice-status-back-hubspot", "Invoice status back to HubSpot",
             "Invoices issued or paid in the ERP show up on the project in the PSA and on its HubSpot deal.",
             ("NetSuite invoices", "invoice_event", "Kantata milestone", "HubSpot deal"),
             invoice_status_hubspot.DEFINITION, invoice_status_hubspot.__doc__ or ""),
    Template("consultant-master-sync-bamboohr", "Consultant master sync from BambooHR",
             "Employees hired, changed or terminated in BambooHR are kept in step in the ERP and the PSA.",
             ("BambooHR changed employees", "worker", "NetSuite employee", "Kantata user"),
             consultant_sync_bamboohr.DEFINITION, consultant_sync_bamboohr.__doc__ or ""),
    Template("lead-to-project-dynamics", "Lead to project with Dynamics 365",
             "A won opportunity becomes a project in the PSA and in Dynamics 365 Project Operations.",
             ("Salesforce opportunity won", "project", "Kantata workspace",
              "Dynamics account + project + contract line", "ids back to Salesforce"),
             lead_to_project_dynamics.DEFINITION, lead_to_project_dynamics.__doc__ or ""),
    Template("time-to-billing-dynamics", "Time to billing with Dynamics 365",
             "Approved time is checked, batched per project and month, and posted to Dynamics 365 exactly once.",
             ("Kantata approved time", "timesheet", "policy checks", "batch per project and month",
              "Dynamics time entries"),
             time_to_billing_dynamics.DEFINITION, time_to_billing_dynamics.__doc__ or ""),
)  # fmt: skip
BY_KEY = {t.key: t for t in TEMPLATES}


def template(key: str) -> Template:
    try:
        return BY_KEY[key]
    except KeyError:
        raise LookupError(f"no gallery template {key!r}") from None
