"""The package's public face: ``__all__`` is what the package defines, every name the README and
the notebooks use imports, old module paths still work, and the import stays light."""

import ast
import importlib
import json
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

import mlobs_notebook

REPO = Path(__file__).resolve().parents[2]


def test_all_is_sorted_and_unique():
    assert mlobs_notebook.__all__ == sorted(set(mlobs_notebook.__all__))


def test_all_is_exactly_the_public_names_the_package_defines():
    """As httpx checks it: once every name is resolved, the package's public namespace (its
    submodules aside) is ``__all__``, no more and no less."""
    code = (
        "import json, types, mlobs_notebook as m\n"
        "for name in m.__all__: getattr(m, name)\n"
        "print(json.dumps(sorted(k for k, v in vars(m).items()\n"
        "      if not k.startswith('_') and not isinstance(v, types.ModuleType))))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == mlobs_notebook.__all__


def test_all_matches_what_type_checkers_see():
    """The names imported under ``if TYPE_CHECKING:`` (which mypy checks exist) are ``__all__``."""
    tree = ast.parse((REPO / "mlobs_notebook" / "__init__.py").read_text())
    checked = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If)
        and "TYPE_CHECKING" in (getattr(node.test, "id", None), getattr(node.test, "attr", None))
        for stmt in node.body if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    assert sorted(checked) == mlobs_notebook.__all__


@pytest.mark.parametrize("name", mlobs_notebook.__all__)
def test_each_public_name_is_public_where_it_is_defined(name):
    value = getattr(mlobs_notebook, name)
    module = importlib.import_module(mlobs_notebook._EXPORTS[name])
    assert name in getattr(module, "__all__", ()), f"{module.__name__}.__all__ lacks {name}"
    defined = getattr(value, "__module__", "") or ""
    assert defined.startswith("mlobs_notebook"), f"{name} comes from {defined}, not this package"


def _names_used_in_docs() -> set[tuple[str, str]]:
    """(module, name) pairs the README, the notebooks and the examples import from the package."""
    texts = [(REPO / "README.md").read_text()]
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        cells = json.loads(path.read_text())["cells"]
        texts += ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    texts += [p.read_text() for p in sorted((REPO / "examples").glob("*.py"))]
    used = set()
    grouped = re.compile(r"^\s*from (mlobs_notebook(?:\.[\w.]+)?) import \(([^)]*)\)", re.M)
    single = re.compile(r"^\s*from (mlobs_notebook(?:\.[\w.]+)?) import ([\w, ]+?)\s*(?:#.*)?$", re.M)
    for text in texts:
        for module, names in grouped.findall(text) + single.findall(text):
            used |= {(module, n.strip().split(" as ")[0]) for n in names.replace("\n", ",").split(",") if n.strip()}
    return used


def test_every_name_the_docs_and_notebooks_use_still_imports():
    used = _names_used_in_docs()
    assert len(used) > 20  # the README, four notebooks and the example import a lot
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the docs use the current paths
        for module, name in sorted(used):
            assert hasattr(importlib.import_module(module), name), f"from {module} import {name}"


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("mlobs_notebook.models", "training_datasets", "mlobs_notebook.sources.models"),
        ("mlobs_notebook.models", "DatasetRecord", "mlobs_notebook.records"),
        ("mlobs_notebook.snapshots", "snapshot_check", "mlobs_notebook.sources.digests"),
        ("mlobs_notebook.snapshots", "load_snapshot", "mlobs_notebook.sources.tables"),
        ("mlobs_notebook.evaluations", "metric_series", "mlobs_notebook.sources.evaluations"),
        ("mlobs_notebook.report", "write_report", "mlobs_notebook.postmortem"),
        ("mlobs_notebook.gate", "promote", "mlobs_notebook.actions.gate"),
        ("mlobs_notebook.drift.psi", "population_stability_index", "mlobs_notebook.drift.statistics.psi"),
        ("mlobs_notebook.lineage.parse", "parse_event", "mlobs_notebook.lineage.readers.openlineage"),
    ],
)
def test_old_module_paths_still_import_with_a_deprecation_warning(old, name, new):
    code = (
        "import warnings, importlib\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        f"    value = getattr(importlib.import_module({old!r}), {name!r})\n"
        f"print(value is getattr(importlib.import_module({new!r}), {name!r}))\n"
        "print([str(w.message) for w in caught if w.category is DeprecationWarning])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    same, messages = out.stdout.strip().splitlines()
    assert same == "True"
    assert f"{old} moved to" in messages and new.rsplit(".", 1)[0] in messages


def test_import_is_light():
    code = (
        "import sys, mlobs_notebook; "
        "heavy = [m for m in ('mlflow', 'pyiceberg', 'plotly', 'ipywidgets', 'numba') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"import mlobs_notebook pulled in: {out.stdout.strip()}"


def test_numba_loads_only_for_the_compiled_loops():
    """Binned statistics on a LazyFrame run on polars alone; in-memory data and the exact
    statistics load numba (its import costs ~0.3 s)."""
    code = (
        "import sys, numpy as np, polars as pl\n"
        "from mlobs_notebook.drift import compute_drift\n"
        "frame = pl.DataFrame({'x': np.arange(200.0), 'c': ['a', 'b'] * 100})\n"
        "compute_drift(frame, frame.lazy(), statistics=['population_stability_index'])\n"
        "print('numba' in sys.modules)\n"
        "compute_drift(frame, frame)\n"
        "print('numba' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "True"]


def test_unknown_attribute_is_an_attribute_error():
    try:
        mlobs_notebook.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
