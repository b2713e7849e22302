"""Systems of record are roles, not vendors: a firm's HR system may be Workday or BambooHR.
A connection's connector kind says which role it plays.

The crosswalk sits beside the connections app (it may not import it), so callers pass the
connection's `kind`; this table is the one place the roles of the vendors are written."""

from django.db import models


class System(models.TextChoices):
    HR = "hr", "HR"
    PSA = "psa", "PSA"
    ERP = "erp", "ERP"
    CRM = "crm", "CRM"


ROLE_OF_KIND = {
    "workday": System.HR,
    "bamboohr": System.HR,
    "kantata": System.PSA,
    "netsuite": System.ERP,
    "dynamics": System.ERP,
    "salesforce": System.CRM,
    "hubspot": System.CRM,
}


def role_of(kind_or_role: str) -> str:
    """'workday' → 'hr'; a role name is returned as it is; '' for a kind with no role
    (a generic REST connection)."""
    if kind_or_role in System.values:
        return kind_or_role
    return str(ROLE_OF_KIND.get(kind_or_role, ""))
