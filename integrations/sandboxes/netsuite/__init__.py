"""NetSuite SuiteTalk REST sandbox: `/sandbox/netsuite/services/rest/...`."""

VENDOR = "netsuite"
