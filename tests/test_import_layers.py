"""The import contracts in pyproject.toml (`lint-imports`, run by `make lint`) bite.

A copy of integrations/ and studio/ gets one deliberately bad import at a time and
`lint-imports` must fail naming exactly that edge; the last test runs it on the real tree.
docs/ARCHITECTURE.md explains the layers.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def verdict(output: str) -> list[str]:
    """lint-imports' summary and broken edges, without the file count a new module changes
    (sorted: it lists the routes of one broken edge in no fixed order)."""
    return sorted(line for line in output[output.find("Contracts: ") :].splitlines() if line.strip())


def lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # only `root` may supply the packages
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layers")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in ("integrations", "studio"):
        shutil.copytree(REPO / package, root / package, ignore=ignore)
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


@pytest.fixture(scope="module")
def copy_output(copy: Path) -> str:
    """What lint-imports says about the unmodified copy (whatever state the tree is in)."""
    return lint_imports(copy).stdout


@pytest.mark.parametrize(
    ("path", "source", "broken", "edge"),
    [
        pytest.param(
            "integrations/engine/bad.py",
            "from integrations.runs import models\n",
            "integrations.engine is not allowed to import integrations.runs",
            "integrations.engine.bad -> integrations.runs.models (l.1)",
            id="upward: engine imports runs",
        ),
        pytest.param(
            "integrations/connectors/bad.py",
            "def later():\n    from integrations.connections import models  # an import inside a function counts\n",
            "integrations.connectors is not allowed to import integrations.connections",
            "integrations.connectors.bad -> integrations.connections.models (l.2)",
            id="upward inside a function: connectors import connections",
        ),
        pytest.param(
            "integrations/deliveries/bad.py",
            "import integrations.approvals.models\n",
            "integrations.deliveries is not allowed to import integrations.approvals",
            "integrations.deliveries.bad -> integrations.approvals.models (l.1)",
            id="sideways: siblings deliveries and approvals",
        ),
        pytest.param(
            "integrations/bad.py",
            "from studio import celery\n",
            "integrations is not allowed to import studio",
            "integrations.bad -> studio.celery (l.1)",
            id="a module outside every layer imports studio",
        ),
        pytest.param(
            "integrations/runs/bad.py",
            "from integrations.engine import runner\n",
            "integrations.runs is not allowed to import integrations.engine",
            "integrations.runs.bad -> integrations.engine.runner (l.1)",
            id="past the one door: runs import the engine, not flows.engine_api",
        ),
        pytest.param(
            "integrations/crypto_bad.py",
            "",
            None,
            None,
            id="control: a harmless new module breaks nothing new",
        ),
    ],
)
def test_a_bad_import_breaks_the_contract_naming_its_edge(copy, copy_output, path, source, broken, edge):
    bad = copy / path
    bad.write_text(source)
    try:
        result = lint_imports(copy)
    finally:
        bad.unlink()
    if broken is None:
        assert verdict(result.stdout) == verdict(copy_output)
        return
    assert result.returncode != 0, result.stdout
    assert broken in result.stdout and edge in result.stdout, result.stdout
    assert edge not in copy_output  # the edge is the bad file's, not an existing one


def unplaced_modules(root: Path) -> list[str]:
    """Apps and kernel modules of `integrations` that no line of the layers contract names
    (the contract says nothing about those)."""
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["importlinter"]
    (layers,) = [c["layers"] for c in config["contracts"] if c["type"] == "layers"]
    placed = {name.strip().strip("()") for line in layers for name in line.split("|")}
    children = {
        f"integrations.{path.stem}"
        for path in (root / "integrations").iterdir()
        if (path.is_dir() and (path / "__init__.py").exists()) or (path.suffix == ".py" and path.stem != "__init__")
    }
    return sorted(children - placed)


def test_every_app_has_a_place_in_the_layers(copy):
    new_app = copy / "integrations" / "newapp"
    new_app.mkdir()
    (new_app / "__init__.py").write_text("")
    try:
        assert unplaced_modules(copy) == ["integrations.newapp"]
    finally:
        shutil.rmtree(new_app)
    assert unplaced_modules(REPO) == []


def test_the_real_tree_keeps_every_import_contract():
    """THE REAL TREE: every import in integrations/ and studio/ follows the layers
    (fails, listing the offending edges, until the runtime refactor of issue 8 lands)."""
    result = lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " kept, 0 broken." in result.stdout
