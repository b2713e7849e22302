"""Pieces the reference flows share: value maps and key templates."""

REGIONS = {
    "regions": {
        "NA": "NA", "North America": "NA", "US": "NA", "CA": "NA",
        "EMEA": "EMEA", "Europe": "EMEA", "GB": "EMEA", "DE": "EMEA", "FR": "EMEA",
        "APAC": "APAC", "LATAM": "LATAM",
    }
}  # fmt: skip
# canonical project billing_type → NetSuite jobBillingType internal id (as the sandbox account has them)
BILLING_TYPES = {
    "billing_types": {"time_and_materials": "TM", "fixed_fee": "FF", "retainer": "FF", "non_billable": "TM"}
}

# The externalId a new NetSuite customer gets: the CRM account id, prefixed so it never
# collides with the firm's own client numbers.
NEW_CUSTOMER_EXPR = "'SF-' ~ steps.project.client_id"
NEW_CUSTOMER_ID = "{{ " + NEW_CUSTOMER_EXPR + " }}"
# The job's customer: the account's ERP customer id when it has one, else the new customer.
CUSTOMER_ID = "{{ steps.account.ERP_Customer_Id__c or " + NEW_CUSTOMER_EXPR + " }}"


# The project a won opportunity is: the ids the PSA and ERP return are linked to it in the
# crosswalk, and CRM-owned fields are written from here (docs/FLOW_DEFINITION.md `canonical`).
PROJECT_FROM_CRM = {"object": "project", "source": "salesforce", "id": "$.Id"}


def versioned_key(prefix: str) -> str:
    """One write per version of the project's terms: a re-sent event writes nothing again, a
    re-won or changed opportunity (new amount, dates, name or currency) updates the same record.
    The version is made of the terms themselves, not the opportunity's SystemModstamp: our own
    write-back to the opportunity changes that stamp and must not count as a new version."""
    return prefix + ":{{ steps.project.id }}:" + TERMS


TERMS = (
    "{{ steps.project.contract_value }}:{{ steps.project.currency }}:{{ steps.project.start_date }}"
    ":{{ steps.project.name | slug | truncate(60) }}"
)
