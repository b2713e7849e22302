"""Code rules the import linter does not see, checked over the AST of the project's code.

Each rule is a function from one parsed module to a list of findings ("path:line: what"), so
the unit tests below show every rule catching a deliberately bad snippet before the tree tests
trust it on integrations/ and studio/ (migrations excluded). The import layers themselves are
checked by `lint-imports` (pyproject.toml, tests/test_import_layers.py); docs/ARCHITECTURE.md
describes both.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PROJECT_ROOTS = ("integrations", "studio")
# Comments and docstrings are also checked for citations in the tests and benchmarks.
CITATION_ROOTS = (*PROJECT_ROOTS, "tests", "bench")

# An import inside a function that reaches another app must say why on its line or the line
# above, e.g. `# lazy: playwright is a heavy optional dependency`.
LAZY_MARKER = re.compile(r"#\s*lazy:\s*\S")


@dataclass(frozen=True)
class Source:
    module: str  # dotted name; a package is named by its __init__
    path: str  # as shown in findings
    text: str
    tree: ast.Module
    is_package: bool = False

    @classmethod
    def parse(cls, text: str, module: str, *, path: str = "", is_package: bool = False) -> Source:
        return cls(module, path or module, text, ast.parse(text), is_package)

    @property
    def app(self) -> str:
        return app_of(self.module)

    def where(self, node: ast.AST | int) -> str:
        line = node if isinstance(node, int) else getattr(node, "lineno", 0)
        return f"{self.path}:{line}"


def app_of(module: str) -> str:
    """`integrations.runs.tasks` -> `integrations.runs`; a kernel module is its own app."""
    return ".".join(module.split(".")[:2])


def is_project(module: str) -> bool:
    return module.split(".")[0] in PROJECT_ROOTS


def module_name(path: Path) -> tuple[str, bool]:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    return ".".join(parts[:-1] if is_package else parts), is_package


def project_sources(roots: Iterable[str] = PROJECT_ROOTS) -> list[Source]:
    sources = []
    for root in roots:
        for path in sorted((REPO / root).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module, is_package = module_name(path)
            text = path.read_text()
            rel = str(path.relative_to(REPO))
            sources.append(Source.parse(text, module, path=rel, is_package=is_package))
    return sources


def known_modules(sources: Iterable[Source]) -> frozenset[str]:
    return frozenset(s.module for s in sources)


# --- what an import statement imports ------------------------------------------------------
def from_base(node: ast.ImportFrom, source: Source) -> str:
    """The absolute module of `from <base> import ...`, relative imports resolved."""
    if not node.level:
        return node.module or ""
    package = source.module.split(".")
    if not source.is_package:
        package = package[:-1]
    package = package[: len(package) - (node.level - 1)]
    return ".".join([*package, *([node.module] if node.module else [])])


def imported(node: ast.Import | ast.ImportFrom, source: Source, modules: frozenset[str]) -> list[tuple[str, str]]:
    """(module, name) pairs: `import a.b` -> (a.b, ""); `from a import b` -> (a.b, "") when a.b
    is a module, else (a, "b")."""
    if isinstance(node, ast.Import):
        return [(alias.name, "") for alias in node.names]
    base = from_base(node, source)
    pairs = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        pairs.append((candidate, "") if candidate in modules else (base, alias.name))
    return pairs


def function_imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Import statements that run when a function is called, each once."""
    seen: set[int] = set()
    for func in ast.walk(tree):
        if isinstance(func, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(func):
                if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in seen:
                    seen.add(id(node))
                    yield node


def is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def module_level_imports(statements: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports that run when the module is imported: class bodies and compound statements
    included, function bodies and `if TYPE_CHECKING:` blocks not."""
    for node in statements:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        elif isinstance(node, ast.If) and is_type_checking(node.test):
            yield from module_level_imports(node.orelse)
        else:
            for field in ("body", "orelse", "finalbody"):
                yield from module_level_imports(getattr(node, field, None) or [])
            for part in [*getattr(node, "handlers", []), *getattr(node, "cases", [])]:
                yield from module_level_imports(part.body)


# --- the rules ------------------------------------------------------------------------------
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError"}


def catches_import_error(handler: ast.ExceptHandler) -> bool:
    kinds = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(k, ast.Name) and k.id in IMPORT_ERRORS for k in kinds)


def guarded_project_imports(source: Source, modules: frozenset[str]) -> list[str]:
    """`try: import <project module> except ImportError:` hides a real import error."""
    findings = []
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Try | ast.TryStar) and any(catches_import_error(h) for h in node.handlers):
            for stmt in node.body:
                for child in ast.walk(stmt):
                    if isinstance(child, ast.Import | ast.ImportFrom):
                        targets = list(dict.fromkeys(m for m, _ in imported(child, source, modules) if is_project(m)))
                        if targets:
                            findings.append(
                                f"{source.where(child)}: {', '.join(targets)} imported under except ImportError"
                            )
    return findings


def unexplained_function_imports(source: Source, modules: frozenset[str]) -> list[str]:
    """An import of another app inside a function needs a `# lazy: <reason>` comment."""
    lines = source.text.splitlines()
    findings = []
    for node in function_imports(source.tree):
        others = list(
            dict.fromkeys(m for m, _ in imported(node, source, modules) if is_project(m) and app_of(m) != source.app)
        )
        if not others:
            continue
        if not is_marked_lazy(node, lines):
            findings.append(
                f"{source.where(node)}: imports {', '.join(others)} inside a function without '# lazy: <reason>'"
            )
    return findings


def is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_name_imports(source: Source, modules: frozenset[str]) -> list[str]:
    """`from other import _name`, `import other._mod` and `other_module._name` reach into
    another module's private names."""
    findings = []
    module_aliases: dict[str, str] = {}
    own_package = source.module if source.is_package else source.module.rpartition(".")[0]
    for node in ast.walk(source.tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        for alias, (target, name) in zip(node.names, imported(node, source, modules), strict=True):
            if not is_project(target):
                continue
            if name and is_private(name):
                findings.append(f"{source.where(node)}: imports private {name} from {target}")
            private_parts = [p for p in target.split(".") if is_private(p)]
            if private_parts and target.rpartition(".")[0] != own_package:
                findings.append(f"{source.where(node)}: imports private module {target}")
            if not name and (alias.asname or isinstance(node, ast.ImportFrom)):
                module_aliases[alias.asname or alias.name] = target
    for node in ast.walk(source.tree):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
            and is_private(node.attr)
        ):
            findings.append(f"{source.where(node)}: uses private {module_aliases[node.value.id]}.{node.attr}")
    return findings


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one module (iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    components.append(sorted(component))
    return sorted(components)


def is_marked_lazy(node: ast.stmt, lines: list[str]) -> bool:
    return any(LAZY_MARKER.search(line) for line in lines[max(0, node.lineno - 2) : node.lineno])


def cycle_edges(source: Source) -> Iterator[ast.Import | ast.ImportFrom]:
    """The imports a cycle may run through: those at import time, and those inside functions
    unless marked `# lazy: <reason>` (a function-level import must not dodge a cycle)."""
    yield from module_level_imports(source.tree.body)
    lines = source.text.splitlines()
    type_checking = {
        id(child)
        for node in ast.walk(source.tree)
        if isinstance(node, ast.If) and is_type_checking(node.test)
        for stmt in node.body
        for child in ast.walk(stmt)
    }
    for node in function_imports(source.tree):
        if id(node) not in type_checking and not is_marked_lazy(node, lines):
            yield node


def import_cycles(sources: list[Source]) -> list[str]:
    """Modules of one app that import each other, directly or around a loop."""
    modules = known_modules(sources)
    graph: dict[str, set[str]] = {}
    for source in sources:
        edges = graph.setdefault(source.module, set())
        for node in cycle_edges(source):
            for target, _ in imported(node, source, modules):
                if target in modules and target != source.module and app_of(target) == source.app:
                    edges.add(target)
    return [" <-> ".join(component) for component in strongly_connected(graph)]


CITATION = re.compile(
    r"""
      \b(?:RELIABILITY|DESIGN|UX|STYLE)\s*§                  # a section of a founders' note
    | \bSTYLE\s+habit | \bhabit\s+\d                         # a numbered habit
    | \.\./shared\b | /work/shared\b                          # the notes' folder beside the clone
    | (?<![\w/.])(?:DESIGN|UX|STYLE)\.md\b                    # notes that are not in docs/
    | \b(?:RELIABILITY|DESIGN|UX|STYLE|ARCHITECTURE)(?:\.md)?\s+[PH]\d   # a note's numbered rule
    | \b[PH]\d{1,2}\s*[-\u2013]\s*[PH]\d{1,2}\b              # a range of rules
    | \([^()\n]*(?<![\w.])[PH]\d{1,2}\)                       # a rule tag closing a parenthesis
    | \b(?:see|per|cf\.?)\s+[PH]\d{1,2}\b                    # "see H5"
    """,
    re.VERBOSE,
)


def comments_and_docstrings(source: Source) -> Iterator[tuple[int, str]]:
    for token in tokenize.generate_tokens(io.StringIO(source.text).readline):
        if token.type == tokenize.COMMENT:
            yield token.start[0], token.string
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            first = node.body[0] if node.body else None
            if (
                isinstance(first, ast.Expr)
                and isinstance(first.value, ast.Constant)
                and isinstance(first.value.value, str)
            ):
                yield first.lineno, first.value.value


def outside_citations(source: Source) -> list[str]:
    """Comments and docstrings may cite only the repository's own documents (docs/)."""
    findings = []
    for line, text in comments_and_docstrings(source):
        for match in CITATION.finditer(text):
            at = line + text[: match.start()].count("\n")
            findings.append(f"{source.where(at)}: cites {match.group()!r}")
    return findings


# --- each rule catches a deliberately bad snippet -------------------------------------------
MODULES = frozenset(
    {"integrations.runs", "integrations.runs.services", "integrations.deliveries", "integrations.deliveries.dispatcher"}
)


def snippet(text: str, module: str = "integrations.deliveries.ledger") -> Source:
    return Source.parse(text, module)


def test_guarded_import_rule_catches_except_importerror_around_a_project_import():
    bad = "try:\n    from integrations.runs import services\nexcept ImportError:\n    services = None\n"
    assert guarded_project_imports(snippet(bad), MODULES) == [
        "integrations.deliveries.ledger:2: integrations.runs.services imported under except ImportError"
    ]
    relative = "try:\n    from ..runs import services\nexcept (ModuleNotFoundError, KeyError):\n    services = None\n"
    assert len(guarded_project_imports(snippet(relative), MODULES)) == 1
    optional_dependency = "try:\n    import orjson\nexcept ImportError:\n    orjson = None\n"
    assert guarded_project_imports(snippet(optional_dependency), MODULES) == []


def test_function_import_rule_needs_a_reason_for_another_app():
    bad = "def f():\n    from integrations.runs.services import execute_run\n    return execute_run\n"
    assert unexplained_function_imports(snippet(bad), MODULES) == [
        "integrations.deliveries.ledger:2: imports integrations.runs.services inside a function"
        " without '# lazy: <reason>'"
    ]
    above = "def f():\n    # lazy: the web process never loads this\n    from integrations.runs import services\n"
    same_line = "def f():\n    from integrations.runs import services  # lazy: heavy optional dependency\n"
    same_app = "def f():\n    from integrations.deliveries import dispatcher\n"
    empty_reason = "def f():\n    from integrations.runs import services  # lazy:\n"
    top_level = "from integrations.runs import services\n"
    assert unexplained_function_imports(snippet(above), MODULES) == []
    assert unexplained_function_imports(snippet(same_line), MODULES) == []
    assert unexplained_function_imports(snippet(same_app), MODULES) == []
    assert unexplained_function_imports(snippet(top_level), MODULES) == []
    assert len(unexplained_function_imports(snippet(empty_reason), MODULES)) == 1


def test_private_name_rule_catches_imports_and_attribute_reach():
    by_name = "from integrations.deliveries.dispatcher import _chunks, send_all\n"
    by_attribute = "from integrations.deliveries import dispatcher\n\ndispatcher._send_all([])\n"
    by_alias = "import integrations.deliveries.dispatcher as d\n\nd._chunks\n"
    assert private_name_imports(snippet(by_name, "integrations.deliveries.services"), MODULES) == [
        "integrations.deliveries.services:1: imports private _chunks from integrations.deliveries.dispatcher"
    ]
    assert private_name_imports(snippet(by_attribute, "integrations.deliveries.services"), MODULES) == [
        "integrations.deliveries.services:3: uses private integrations.deliveries.dispatcher._send_all"
    ]
    assert len(private_name_imports(snippet(by_alias), MODULES)) == 1
    public = "from integrations.deliveries import dispatcher\n\ndispatcher.send_all([]); dispatcher.__name__\n"
    third_party = "from django.db.models import _private\n"
    assert private_name_imports(snippet(public), MODULES) == []
    assert private_name_imports(snippet(third_party), MODULES) == []


def test_cycle_rule_finds_a_loop_inside_one_app_also_through_a_function_level_import():
    def sources(**texts: str) -> list[Source]:
        return [snippet(text, f"integrations.engine.{name}") for name, text in texts.items()]

    loop = sources(
        definition="from integrations.engine import compile\n",
        compile="from integrations.engine.plan import Plan\n",
        plan="import integrations.engine.definition\n",
        runner="from integrations.engine import compile\n",
    )
    assert import_cycles(loop) == [
        "integrations.engine.compile <-> integrations.engine.definition <-> integrations.engine.plan"
    ]
    dodged = sources(
        definition="def f():\n    from .compile import analyse\n",
        compile="from integrations.engine.definition import schema_errors\n",
    )
    assert import_cycles(dodged) == ["integrations.engine.compile <-> integrations.engine.definition"]
    type_checking_or_lazy = sources(
        definition="from integrations.engine import compile\n",
        compile=(
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from integrations.engine import definition\n"
            "def f():\n    from integrations.engine import definition  # lazy: only the CLI needs it\n"
        ),
    )
    assert import_cycles(type_checking_or_lazy) == []
    in_a_class_body = sources(
        a="class A:\n    from integrations.engine import b\n", b="from integrations.engine import a\n"
    )
    assert len(import_cycles(in_a_class_body)) == 1


@pytest.mark.parametrize(
    "comment",
    [
        "# retried with backoff (RELIABILITY §b.6)",
        "# see STYLE habit 11",
        "# the notes in ../shared/DESIGN.md",
        "# DESIGN.md vocabulary",
        "# runtime contract: RELIABILITY.md P1-P15",
        "# name each enum after its model (runtime, H3).",
        "# the body never runs (P3).",
        "# broker's visibility timeout (RELIABILITY P4).",
        "# as UX §4 asks",
        "# see H5",
    ],
)
def test_citation_rule_catches_references_outside_the_repository(comment):
    assert len(outside_citations(snippet(f"x = 1  {comment}\n"))) == 1
    assert len(outside_citations(snippet(f'def f():\n    """Docstring.\n\n    {comment[2:]}"""\n'))) == 1


@pytest.mark.parametrize(
    "comment",
    [
        "# retried with backoff (docs/RELIABILITY.md §6)",
        "# see docs/ARCHITECTURE.md#layers",
        "# P0: 66 entries, P1: 67, P2: 66 (less the bad one)",
        "# P0 has T0 T2, P1 has T1 T3 (T3 fails its mapping)",
        "# an <h1> heading; HTTP/2 (h2) and SHA-256 (SHA256)",
        "# habitually retried",
    ],
)
def test_citation_rule_leaves_ordinary_comments_alone(comment):
    assert outside_citations(snippet(f"x = 1  {comment}\n")) == []


def test_citation_rule_names_the_line_inside_a_docstring():
    text = '"""One.\n\nTwo (P3).\n"""\n'
    assert outside_citations(snippet(text)) == ["integrations.deliveries.ledger:3: cites '(P3)'"]


# --- the rules on the real tree -------------------------------------------------------------
@pytest.fixture(scope="module")
def tree() -> list[Source]:
    return project_sources()


@pytest.fixture(scope="module")
def modules(tree: list[Source]) -> frozenset[str]:
    return known_modules(tree)


def findings_of(rule, tree: list[Source], modules: frozenset[str]) -> str:
    return "\n".join(finding for source in tree for finding in rule(source, modules))


def test_no_except_importerror_around_a_project_import(tree, modules):
    assert findings_of(guarded_project_imports, tree, modules) == ""


def test_no_cross_app_import_inside_a_function_without_a_reason(tree, modules):
    assert findings_of(unexplained_function_imports, tree, modules) == ""


def test_no_private_name_imported_from_another_module(tree, modules):
    assert findings_of(private_name_imports, tree, modules) == ""


def test_no_import_cycle_inside_an_app(tree):
    assert "\n".join(import_cycles(tree)) == ""


def test_no_comment_or_docstring_cites_a_document_outside_the_repository():
    findings = [finding for source in project_sources(CITATION_ROOTS) for finding in outside_citations(source)]
    assert "\n".join(findings) == ""
