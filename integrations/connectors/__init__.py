"""Connectors: code that speaks one vendor API each, on top of `base.Connector`,
calling out only through `http.HttpClient`; kinds are listed in `registry`."""
