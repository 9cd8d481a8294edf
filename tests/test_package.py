"""The package's public face: a sorted, importable API and a light import."""

import subprocess
import sys

import mlobs_notebook


def test_all_is_sorted_and_unique():
    assert mlobs_notebook.__all__ == sorted(set(mlobs_notebook.__all__))


def test_every_public_name_resolves():
    for name in mlobs_notebook.__all__:
        assert getattr(mlobs_notebook, name) is not None, name


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
