"""Every studio form, fed hostile, oversized and non-UTF-8-looking input, answers 4xx or a
form error — never 500 — and an answer that refuses the input leaves no record behind.

The forms are found, not listed: the test crawls the flow and canonical pages (links, and
the fragments htmx loads with hx-get), parses every <form> and every element that posts by
itself (hx-post/hx-put/hx-patch/hx-delete), and submits each one: all fields hostile at once,
then one field at a time with the others left as the page filled them. A form added to these
pages later is covered without touching this file."""

import io
import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote_plus, urljoin, urlsplit

import pytest
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile

pytestmark = pytest.mark.django_db

ROOTS = ("/flows/", "/canonical/")
MAX_PAGES = 120
SKIP_ACTIONS = re.compile(r"/logout|/login|export\.json")
# Text that must not break a form: markup, template syntax, NUL and control characters,
# mis-decoded UTF-8 (mojibake), a lone BOM, JSON fragments, numbers out of range, huge input.
HOSTILE = (
    "<script>alert(1)</script>\"'><img src=x onerror=alert(1)>",
    "{{ 7*7 }}{% for x in y %}{{ x.__class__ }}",
    "\x00\x01\x02\x1b[31m\r\n",
    "Ã©Ã¨Ã\x80\x81 \ufeff\ufffd ﾟ･✿ヾ╲(｡◕‿◕｡)╱✿･ﾟ",
    '{"a": [1, {"b":',
    "-99999999999999999999999999",
    "../../../../etc/passwd",
    "x" * 300_000,
)
RAW_NON_UTF8 = "%ff%fe%c3%28%a0%a1%00"  # bytes that are not UTF-8, sent as they are
ONE_AT_A_TIME = (HOSTILE[0], HOSTILE[2], HOSTILE[-1])
HX_WRITE = ("hx-post", "hx-put", "hx-patch", "hx-delete")


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: list[tuple[str, str, str]] = field(default_factory=list)  # (name, kind, value)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    htmx: bool = False

    def key(self) -> tuple:
        """Forms alike are tested once: the same form of another flow or another step (ids and
        flow keys in the address do not count) with the same fields and buttons."""
        path = shape(urlsplit(self.action).path)
        names = tuple(sorted({f[0] for f in self.fields}))
        # what a select or radio holds picks the form's variant (an event trigger is not a poll)
        variant = tuple(sorted((n, v) for n, kind, v in self.fields if kind in ("select", "radio")))
        return (path, self.method, names, tuple(self.buttons), variant)

    @property
    def destructive(self) -> bool:
        return bool(re.search(r"delete|remove|logout", self.action))


class Crawl(HTMLParser):
    """Forms, links and hx-get fragment URLs of one page."""

    def __init__(self, page: str):
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self.links: list[str] = []
        self.fragments: list[str] = []
        self.current: Form | None = None
        self.select: list | None = None
        self.textarea: list | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page, a["href"]))
        if a.get("hx-get") and tag != "form" and not a.get("name"):
            self.fragments.append(urljoin(self.page, a["hx-get"]))
        writer = next((h for h in HX_WRITE if a.get(h)), None)
        if tag == "form":
            method, action = (a.get("method") or "get").lower(), a.get("action") or self.page
            if writer:
                method, action = writer[3:], a[writer]
            elif a.get("hx-get"):
                method, action = "get", a["hx-get"]
            self.current = Form(self.page, urljoin(self.page, action), method, htmx=bool(writer or a.get("hx-get")))
            self.forms.append(self.current)
            return
        if tag in ("input", "textarea", "select", "button") and writer and self.current is None:
            # an element that posts by itself (e.g. a preview field with hx-post)
            lone = Form(self.page, urljoin(self.page, a[writer]), writer[3:], htmx=True)
            self._vals(lone, a.get("hx-vals", ""))
            if a.get("name") and tag != "button":
                lone.fields.append((a["name"], a.get("type", tag), a.get("value", "")))
            self.forms.append(lone)
        if self.current is None:
            return
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("submit", "image"):
                self.current.buttons.append((a["name"], a.get("value", "")))
            elif kind not in ("checkbox", "radio") or "checked" in a:
                self.current.fields.append((a["name"], kind, a.get("value", "")))
            elif not any(f[0] == a["name"] for f in self.current.fields):
                self.current.fields.append((a["name"], kind, a.get("value", "on")))
        elif tag == "button" and a.get("name"):
            self.current.buttons.append((a["name"], a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self.textarea = [a["name"], ""]
        elif tag == "select" and a.get("name"):
            self.select = [a["name"], None]
        elif tag == "option" and self.select is not None and (self.select[1] is None or "selected" in a):
            self.select[1] = a.get("value", "")

    def handle_data(self, data):
        if self.textarea is not None:
            self.textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "textarea" and self.textarea is not None:
            if self.current is not None:
                self.current.fields.append((self.textarea[0], "textarea", self.textarea[1]))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            if self.current is not None:
                self.current.fields.append((self.select[0], "select", self.select[1] or ""))
            self.select = None

    @staticmethod
    def _vals(form: Form, raw: str) -> None:
        try:
            values = json.loads(raw) if raw else {}
        except ValueError:
            return
        for name, value in values.items() if isinstance(values, dict) else ():
            form.fields.append((str(name), "hidden", str(value)))


def shape(path: str) -> str:
    """/flows/invoices/steps/3/ → /flows/<key>/steps/<n>/: pages alike are visited a few times only."""
    path = re.sub(r"/\d+(?=/)", "/<n>", path)
    path = re.sub(r"^/flows/(?!new/|import/)[-\w]+/", "/flows/<key>/", path)
    return re.sub(r"^/canonical/[-\w]+/", "/canonical/<name>/", path)


def in_scope(url: str) -> bool:
    parts = urlsplit(url)
    return parts.netloc in ("", "testserver") and parts.path.startswith(ROOTS) and not SKIP_ACTIONS.search(parts.path)


def local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def crawl(client) -> list[Form]:
    flows = apps.get_model("flows.Flow").objects.values_list("key", flat=True)
    starts = [*ROOTS, *(f"/flows/{key}/{page}" for key in flows for page in ("", "test/", "io/"))]
    queue = [(url, False) for url in starts]
    seen: set[str] = set()
    per_path: dict[str, int] = {}
    forms: dict[tuple, Form] = {}
    while queue and len(seen) < MAX_PAGES:
        url, fragment = queue.pop(0)
        path = shape(urlsplit(url).path)
        if url in seen or per_path.get(path, 0) >= 8:
            continue
        seen.add(url)
        per_path[path] = per_path.get(path, 0) + 1
        headers = {"HTTP_HX_REQUEST": "true"} if fragment else {}
        answer = client.get(url, **headers)
        assert answer.status_code < 500, f"GET {url} answered {answer.status_code}"
        if answer.status_code != 200 or "html" not in answer.get("Content-Type", ""):
            continue
        found = parse(url, answer)
        for form in list(found.forms):
            if in_scope(form.action) and form.method != "get" and not form.destructive:
                # what a form shows once submitted as the page filled it (e.g. a test result
                # offers "pin this sample") is part of the studio too
                found.forms += parse(url, send(client, form, [(n, v) for n, _, v in form.fields], [])).forms
        for form in found.forms:
            if in_scope(form.action):
                forms.setdefault(form.key(), form)
        queue += [(local(u), False) for u in found.links if in_scope(u)]
        queue += [(local(u), True) for u in found.fragments if in_scope(u)]
    return sorted(forms.values(), key=lambda f: f.destructive)  # deletions last: the rest still exists


def parse(url: str, answer) -> Crawl:
    parser = Crawl(url)
    if answer.status_code < 500 and "html" in answer.get("Content-Type", ""):
        parser.feed(answer.content.decode("utf-8", "replace"))
    return parser


WATCHED = ("flows.Flow", "flows.FlowVersion", "flowtests.Sample", "audit.AuditEntry", "connections.Connection")


def fingerprint() -> dict:
    """Rows of the models the studio forms write, and the drafts' content."""
    state = {label: apps.get_model(label).objects.count() for label in WATCHED}
    versions = apps.get_model("flows.FlowVersion").objects.order_by("pk").values_list("pk", "content_hash")
    state["definitions"] = list(versions)
    return state


def refused(answer) -> bool:
    """A 4xx refuses the input. (A 200 that shows errors may have saved on purpose: the flow
    editor keeps a draft with its problems listed at the fields.)"""
    return answer.status_code >= 400


def submissions(form: Form):
    """(label, data) pairs: every field hostile at once, then one field at a time."""
    variants = [[]] + [[b] for b in form.buttons]
    for button in variants[:4]:
        for value in HOSTILE:
            yield f"all={value[:20]!r}", [(n, value) for n, _, _ in form.fields] + button, value
        yield "all=raw non-UTF-8", None, button
        for name, _, _ in form.fields:
            for value in ONE_AT_A_TIME:
                data = [(n, value if n == name else v) for n, _, v in form.fields]
                yield f"{name}={value[:20]!r}", data + button, value


def send(client, form: Form, data, extra):
    headers = {"HTTP_HX_REQUEST": "true"} if form.htmx else {}
    if data is None:  # raw bytes that are not UTF-8 in every field
        body = "&".join(f"{quote_plus(n)}={RAW_NON_UTF8}" for n, _, _ in form.fields)
        body += "".join(f"&{quote_plus(n)}={quote_plus(v)}" for n, v in extra)
        if form.method == "get":
            return client.get(form.action.split("?")[0] + "?" + body, **headers)
        return client.generic(
            form.method.upper(), form.action, body.encode(), "application/x-www-form-urlencoded", **headers
        )
    files = {n for n, kind, _ in form.fields if kind == "file"}
    if form.method == "get":
        return client.get(form.action.split("?")[0], [(n, v) for n, v in data if n not in files], **headers)
    if files and form.method == "post":
        payload: dict = {}
        for n, v in data:
            payload.setdefault(n, []).append(
                SimpleUploadedFile("hostile.json", b"\xff\xfe\x00" + v.encode("utf-8", "replace")) if n in files else v
            )
        return client.post(form.action, payload, **headers)
    body = "&".join(f"{quote_plus(n)}={quote_plus(v, errors='replace')}" for n, v in data)
    kind = "application/x-www-form-urlencoded"
    return client.generic(form.method.upper(), form.action, body.encode(), kind, **headers)


@pytest.fixture
def studio(personas):
    """The demo flows, a flow of our own with a pinned sample: pages with every kind of form."""
    from integrations.connections.demo import demo_values
    from integrations.connections.services import create_connection
    from integrations.flows.demo import seed
    from integrations.flows.services import create_flow
    from integrations.flowtests.samples import pin
    from tests.runtime.conftest import INVOICE_FLOW

    for vendor in ("salesforce", "kantata", "netsuite"):
        create_connection("system:test", name=vendor, kind=vendor, **demo_values(vendor))
    seed(io.StringIO())
    flow = create_flow(personas["analyst"], key="invoices", name="Invoices", definition=INVOICE_FLOW)
    pin(flow, personas["analyst"], name="One", record={"id": "I-1", "amount": 1}, expected={"status": "completed"})
    return personas


def test_no_studio_form_answers_500_or_half_writes_to_hostile_input(studio, client_for):
    client = client_for("admin")
    client.raise_request_exception = False  # a 500 is counted and reported with the others, not raised
    forms = crawl(client)
    assert len(forms) >= 5, [f.action for f in forms]  # the crawl found the studio's forms
    failures, sent = [], 0
    for form in forms:
        for label, data, value in submissions(form):
            before = fingerprint()
            answer = send(client, form, data, value if data is None else [])
            sent += 1
            where = f"{form.method.upper()} {form.action} ({label}) on {form.page}"
            if answer.status_code >= 500:
                failures.append(f"{where}: {answer.status_code}")
            elif refused(answer) and fingerprint() != before:
                failures.append(f"{where}: refused with {answer.status_code} but wrote a record")
    print(f"{len(forms)} forms, {sent} submissions:", *sorted({f"{f.method} {f.action}" for f in forms}), sep="\n")
    assert not failures, "\n".join(failures[:40])
