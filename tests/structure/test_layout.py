"""The package's shape: no import cycles, data flowing one way through the layers, small modules.

The import graph comes from grimp (what import-linter uses): every import statement, those inside
functions included, except the ones under ``if TYPE_CHECKING:``. The layers are the map in
ARCHITECTURE.md, top to bottom; a module may import only from layers below its own.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import grimp
import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "mlobs_notebook"
MAX_LINES = 400
MAX_TOP_LEVEL_MODULES = 6

# ARCHITECTURE.md's map, top to bottom; siblings in one layer marked independent may not import
# each other.
LAYERS = (
    grimp.Layer("cli"),
    grimp.Layer("demo", "widgets", "actions", independent=True),
    grimp.Layer("investigation"),
    grimp.Layer("postmortem"),
    grimp.Layer("plots"),
    grimp.Layer("sources", "lineage", independent=True),
    grimp.Layer("diagnose"),
    grimp.Layer("correlate", "drift", independent=True),
    grimp.Layer("records", "times", "markup", "errors", independent=False),
)


def import_cycles(package: str) -> list[list[str]]:
    """Every cycle among the package's modules, TYPE_CHECKING imports left out."""
    graph = grimp.build_graph(package, exclude_type_checking_imports=True, cache_dir=None)
    edges = nx.DiGraph()
    for module in graph.modules:
        edges.add_node(module)
        edges.add_edges_from((module, target) for target in graph.find_modules_directly_imported_by(module))
    return [sorted(cycle) for cycle in nx.simple_cycles(edges)]


def test_no_import_cycles() -> None:
    cycles = import_cycles("mlobs_notebook")
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_layers_are_respected() -> None:
    graph = grimp.build_graph("mlobs_notebook", exclude_type_checking_imports=True, cache_dir=None)
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers={"mlobs_notebook"})
    lines = [
        f"{d.importer} may not import {d.imported}: "
        + "; ".join(" -> ".join(route.heads | route.tails) for route in d.routes)
        for d in sorted(illegal, key=lambda d: (d.importer, d.imported))
    ]
    assert not lines, "\n".join(lines)


def test_every_sub_package_is_on_the_map() -> None:
    packages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")}
    mapped = {name for layer in LAYERS for name in layer.module_tails}
    assert packages <= mapped, f"sub-packages not in LAYERS (and ARCHITECTURE.md): {sorted(packages - mapped)}"
    architecture = (PACKAGE.parent / "ARCHITECTURE.md").read_text()
    missing = [name for name in sorted(packages | mapped) if f"`{name}" not in architecture]
    assert not missing, f"ARCHITECTURE.md does not name: {missing}"


def test_modules_are_small() -> None:
    big = {
        str(path.relative_to(PACKAGE)): n
        for path in PACKAGE.rglob("*.py")
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    }
    assert not big, f"modules over {MAX_LINES} lines: {big}"


def test_the_top_level_holds_few_plain_modules() -> None:
    plain = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(plain) <= MAX_TOP_LEVEL_MODULES, plain


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    """The checker itself: a package whose modules import each other inside functions."""
    package = tmp_path / "cyclic_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from cyclic_pkg import b\n")
    (package / "b.py").write_text(textwrap.dedent("""
        from typing import TYPE_CHECKING
        if TYPE_CHECKING:
            from cyclic_pkg import c
        from cyclic_pkg import a
    """))
    (package / "c.py").write_text("from cyclic_pkg import b\n")
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); sys.path.insert(0, sys.argv[2]);"
        "from test_layout import import_cycles; print(import_cycles('cyclic_pkg'))"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path), str(Path(__file__).parent)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[['cyclic_pkg.a', 'cyclic_pkg.b']]"


@pytest.mark.parametrize("module", ["correlate", "diagnose", "drift", "times"])
def test_the_pure_core_imports_no_io_or_display_library(module: str) -> None:
    code = (
        f"import sys, mlobs_notebook.{module}; "
        "print([m for m in ('mlflow', 'plotly', 'ipywidgets', 'pyiceberg', 'deltalake', 'pyspark') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
