"""Connection forms, derived from the connector's declared config and auth fields.

Secrets are write-only: the form never renders a stored value; a blank secret field on
edit keeps what is stored, a typed one replaces it."""

from __future__ import annotations

import json
from datetime import datetime
from zoneinfo import ZoneInfo, available_timezones

from django import forms
from django.core.validators import URLValidator

from integrations.connections.models import Connection
from integrations.connectors.base import FieldSpec
from integrations.deliveries import conf as delivery_conf

ENVIRONMENTS = (("sandbox", "Sandbox"), ("test", "Test"), ("production", "Production"))
TIMEZONES = sorted(available_timezones())
CONFIG, SECRET = "config__", "secret__"
RESERVED_NAMES = {"new"}  # would shadow /connections/new/
# Stored in `config` (circuit.py reads them there), but settings of every connection, not the connector's.
CIRCUIT_KEYS = ("circuit_threshold", "circuit_cooldown_seconds", "circuit_max_cooldown_seconds")
RELIABILITY = ("rate_limit_requests", "rate_limit_interval_seconds", "max_concurrency", "max_attempts", *CIRCUIT_KEYS)


def _circuit_defaults() -> dict:
    return {
        "circuit_threshold": delivery_conf.circuit_threshold(),
        "circuit_cooldown_seconds": delivery_conf.circuit_cooldown_seconds(),
        "circuit_max_cooldown_seconds": delivery_conf.circuit_max_cooldown_seconds(),
    }


def _circuit_field(label: str, help_text: str, low: int, high: int) -> forms.IntegerField:
    return forms.IntegerField(required=False, min_value=low, max_value=high, label=label, help_text=help_text)


def _config_field(spec: FieldSpec, deprecated: dict | None = None) -> forms.Field:
    """`deprecated`: {choice: why} the vendor is retiring (e.g. Salesforce's password grant), shown in the list."""
    common = {"label": spec.display, "required": spec.required, "help_text": spec.help}
    if spec.choices:
        retiring = deprecated or {}
        labels = [(c, c.replace("_", " ") + (" (deprecated)" if c in retiring else "")) for c in spec.choices]
        return forms.ChoiceField(choices=labels, **common)
    if spec.type == "boolean":
        return forms.BooleanField(**{**common, "required": False})
    if spec.type == "integer":
        return forms.IntegerField(**common)
    if spec.type == "number":
        return forms.FloatField(**common)
    if spec.type in ("object", "array"):
        return forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}), **common)
    if spec.type == "url":
        return forms.CharField(validators=[URLValidator(schemes=["http", "https"])], **common)
    return forms.CharField(max_length=500, **common)


class ConnectionForm(forms.Form):
    name = forms.SlugField(max_length=64, help_text="Stable name flows refer to, e.g. 'netsuite'. Cannot change later.")
    label = forms.CharField(max_length=120, required=False)
    environment = forms.ChoiceField(choices=ENVIRONMENTS, initial="sandbox")
    base_url = forms.CharField(max_length=500, label="Base URL", validators=[URLValidator(schemes=["http", "https"])])
    allowed_hosts = forms.CharField(
        required=False, help_text="Extra hosts this connection may call (e.g. a token server), separated by spaces."
    )
    rate_limit_requests = forms.IntegerField(
        required=False, min_value=1, label="Rate limit (requests)", help_text="Empty: no limit."
    )
    rate_limit_interval_seconds = forms.IntegerField(min_value=1, initial=1, label="per (seconds)")
    max_concurrency = forms.IntegerField(min_value=1, max_value=256, initial=4, label="Max concurrent requests")
    max_attempts = forms.IntegerField(min_value=1, max_value=50, initial=8, label="Max attempts per delivery")
    timezone = forms.ChoiceField(choices=[(tz, tz) for tz in TIMEZONES], initial="UTC")
    circuit_threshold = _circuit_field(
        "Circuit breaker: failures to open",
        "Consecutive failed deliveries (5xx, timeouts) before deliveries are held; 0 turns the breaker off. "
        "Empty: the default.",
        0,
        1000,
    )
    circuit_cooldown_seconds = _circuit_field(
        "Circuit cooldown (seconds)",
        "How long deliveries are held before one probe; doubles per failed probe.",
        1,
        86400,
    )
    circuit_max_cooldown_seconds = _circuit_field(
        "Circuit max cooldown (seconds)", "The longest the doubled cooldown gets.", 1, 7 * 86400
    )

    def __init__(self, *args, connector_class, instance: Connection | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.connector_class = connector_class
        self.instance = instance
        stored = instance.get_credentials() if instance is not None and instance.has_credentials else {}
        for spec in connector_class.config_fields:
            field = _config_field(spec, getattr(connector_class, "deprecated_choices", {}).get(spec.name))
            value = (instance.config if instance else {}).get(spec.name, spec.default)
            if spec.type in ("object", "array") and value not in (None, ""):
                value = json.dumps(value, indent=2)
            field.initial = value
            self.fields[CONFIG + spec.name] = field
        self.secret_names = []
        for spec in connector_class.auth_fields:
            has_value = bool(stored.get(spec.name))
            self.fields[SECRET + spec.name] = forms.CharField(
                label=spec.display,
                required=spec.required and not has_value,
                help_text=spec.help,
                widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
            )
            self.fields[SECRET + spec.name].stored = has_value
            self.secret_names.append(spec.name)
        if connector_class.inbound_only:
            self.fields["base_url"].required = False
        for key, default in _circuit_defaults().items():
            self.fields[key].widget.attrs["placeholder"] = f"default: {default:g}"
            if instance is not None:
                self.fields[key].initial = (instance.config or {}).get(key)
        if instance is not None:
            del self.fields["name"]
            for name in (
                "label",
                "environment",
                "base_url",
                "rate_limit_requests",
                "rate_limit_interval_seconds",
                "max_concurrency",
                "max_attempts",
                "timezone",
            ):
                self.fields[name].initial = getattr(instance, name)
            self.fields["allowed_hosts"].initial = " ".join(instance.allowed_hosts or [])

    # --- groups for the template -------------------------------------------------------
    def config_fields(self):
        return [self[n] for n in self.fields if n.startswith(CONFIG)]

    def secret_fields(self):
        return [self[n] for n in self.fields if n.startswith(SECRET)]

    def base_fields_bound(self):
        return [self[n] for n in self.fields if not n.startswith((CONFIG, SECRET)) and n not in RELIABILITY]

    def reliability_fields(self):
        return [self[n] for n in RELIABILITY]

    # --- validation -----------------------------------------------------------------------
    def clean_name(self):
        name = self.cleaned_data["name"]
        if name in RESERVED_NAMES:
            raise forms.ValidationError(f"{name!r} is reserved; choose another name.")
        if Connection.objects.filter(name=name).exists():
            raise forms.ValidationError("A connection with this name already exists.")
        return name

    def clean_allowed_hosts(self):
        hosts = [h.strip().lower() for h in self.cleaned_data["allowed_hosts"].replace(",", " ").split() if h.strip()]
        for host in hosts:
            if "/" in host or ":" in host or not host.replace("-", "").replace(".", "").isalnum():
                raise forms.ValidationError(f"{host!r} is not a host name (no scheme, port or path).")
        return hosts

    def owned_config_keys(self) -> set[str]:
        return {spec.name for spec in self.connector_class.config_fields} | set(CIRCUIT_KEYS)

    def clean(self):
        cleaned = super().clean()
        # Keys this form does not render (set by the API or by hand) survive an edit.
        stored = self.instance.config if self.instance is not None and isinstance(self.instance.config, dict) else {}
        config = {k: v for k, v in stored.items() if k not in self.owned_config_keys()}
        self._clean_circuit(cleaned, config)
        for spec in self.connector_class.config_fields:
            key = CONFIG + spec.name
            value = cleaned.get(key)
            if spec.type in ("object", "array") and value not in (None, ""):
                try:
                    value = json.loads(value)
                except ValueError as exc:
                    self.add_error(key, f"Not valid JSON: {exc}")
                    continue
            if value not in (None, ""):
                config[spec.name] = value
        for name, message in self.connector_class.validate_config(config).items():
            self.add_error(CONFIG + name if CONFIG + name in self.fields else None, message)
        cleaned["config"] = config
        cleaned["credentials"] = {n: cleaned.get(SECRET + n) for n in self.secret_names if cleaned.get(SECRET + n)}
        return cleaned

    def _clean_circuit(self, cleaned: dict, config: dict) -> None:
        for key in CIRCUIT_KEYS:
            if cleaned.get(key) is not None:
                config[key] = cleaned[key]
        effective = {**_circuit_defaults(), **config}
        if (
            "circuit_max_cooldown_seconds" in config
            and effective["circuit_max_cooldown_seconds"] < effective["circuit_cooldown_seconds"]
        ):
            self.add_error(
                "circuit_max_cooldown_seconds",
                f"Must be at least the cooldown ({effective['circuit_cooldown_seconds']:g} s).",
            )

    def redirects_traffic(self) -> bool:
        """Would saving point live flows somewhere else (base URL, hosts, settings, secrets)?"""
        if self.instance is None:
            return False
        data = self.cleaned_data
        return bool(
            data.get("credentials")
            or (data.get("base_url") or "") != self.instance.base_url
            or _without_circuit(data.get("config")) != _without_circuit(self.instance.config)
            or (data.get("allowed_hosts") or []) != (self.instance.allowed_hosts or [])
        )

    def service_fields(self) -> dict:
        data = self.cleaned_data
        fields = {
            k: data[k]
            for k in (
                "label",
                "environment",
                "rate_limit_requests",
                "rate_limit_interval_seconds",
                "max_concurrency",
                "max_attempts",
                "timezone",
                "config",
            )
            if k in data
        }
        fields["base_url"] = data.get("base_url") or ""
        fields["allowed_hosts"] = data.get("allowed_hosts") or []
        return fields


def _without_circuit(config) -> dict:
    """Circuit settings change how long we wait, not where traffic goes."""
    return {k: v for k, v in (config or {}).items() if k not in CIRCUIT_KEYS}


WEEKDAY_CHOICES = [
    (i + 1, d) for i, d in enumerate(("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"))
]


class MaintenanceWindowForm(forms.Form):
    kind = forms.ChoiceField(choices=(("weekly", "Every week"), ("one_off", "One-off")))
    weekday = forms.TypedChoiceField(choices=WEEKDAY_CHOICES, coerce=int, required=False)
    start_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    end_time = forms.TimeField(required=False, widget=forms.TimeInput(attrs={"type": "time"}))
    starts_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        label="From",
    )
    ends_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
        label="Until",
    )
    timezone = forms.ChoiceField(choices=[(tz, tz) for tz in TIMEZONES], initial="UTC")
    note = forms.CharField(max_length=200, required=False)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("kind") == "weekly":
            for name in ("weekday", "start_time", "end_time"):
                if cleaned.get(name) in (None, ""):
                    self.add_error(name, "Required for a weekly window.")
            if cleaned.get("start_time") and cleaned.get("start_time") == cleaned.get("end_time"):
                self.add_error("end_time", "Must differ from the start time.")
            cleaned["starts_at"] = cleaned["ends_at"] = None
        elif cleaned.get("kind") == "one_off":
            tz = ZoneInfo(cleaned.get("timezone") or "UTC")
            for name in ("starts_at", "ends_at"):
                value = cleaned.get(name)
                if value is None:
                    self.add_error(name, "Required for a one-off window.")
                else:
                    # The browser sends wall-clock time; it means the chosen time zone.
                    cleaned[name] = datetime.combine(value.date(), value.time(), tz)
            if cleaned.get("starts_at") and cleaned.get("ends_at") and cleaned["ends_at"] <= cleaned["starts_at"]:
                self.add_error("ends_at", "Must be after the start.")
            cleaned["weekday"] = cleaned["start_time"] = cleaned["end_time"] = None
        return cleaned
