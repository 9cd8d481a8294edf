"""binder/: the steps repo2docker runs, run here in a fresh virtual environment on a copy of the repo.

repo2docker installs ``binder/requirements.txt`` with pip from the repository's root, runs
``binder/postBuild`` there once, and starts the server through ``binder/start``. The test does
the same in a new venv. To stay fast and offline, the venv reuses this environment's installed
dependencies (a ``.pth`` line to its site-packages, as Binder's image would already hold them)
and pip installs with ``--no-deps --no-build-isolation``: what is tested is that the
requirements install *this* package from the copy, that postBuild builds the world where the
notebooks look for it, and that the start script makes notebook 02 the page a launch opens.
postBuild gets ``MLOBS_DEMO_DAYS=21`` (its own switch) for a 21-day world instead of 90.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COPIED = ("pyproject.toml", "README.md", "mlobs_notebook", "binder", "notebooks")


def _run(cmd, cwd, env, timeout=900):
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(map(str, cmd))} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.mark.slow
def test_postbuild_in_a_fresh_venv_builds_the_world_notebook_02_opens_on(tmp_path):
    pytest.importorskip("hatchling", reason="the editable install builds with hatchling (in the test extra)")
    pytest.importorskip("editables", reason="hatchling builds editable installs with editables (in the test extra)")
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in COPIED:
        src = REPO / name
        if src.is_dir():
            shutil.copytree(src, repo / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(src, repo / name)
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = env_dir / "bin" / "python"
    fresh_site = Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], repo, os.environ).strip())
    (fresh_site / "_image_dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH", "MLOBS_DEMO_DIR")}
    env.update(PATH=f"{env_dir / 'bin'}{os.pathsep}{env['PATH']}", PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
               HOME=str(tmp_path / "home"), JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"))  # fmt: skip

    # 1. what repo2docker does with binder/requirements.txt (from the repository's root)
    _run([py, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "-r", "binder/requirements.txt"], repo, env)
    where = _run([py, "-c", "import mlobs_notebook, shutil; print(mlobs_notebook.__file__); print(shutil.which('mlobs'))"], repo, env)
    module, script = where.splitlines()
    assert Path(module).is_relative_to(repo), f"the package was not installed from the copy: {module}"
    assert Path(script).is_relative_to(env_dir), script

    # 2. postBuild, from the repository's root
    _run(["bash", "binder/postBuild"], repo, {**env, "MLOBS_DEMO_DAYS": "21"})
    manifest = json.loads((repo / "mlobs-demo" / "manifest.json").read_text())
    assert manifest["scenario"] == "pipeline_bug" and manifest["days"] == 21
    # the notebooks' default world (../mlobs-demo beside notebooks/) is the one postBuild built
    assert ((repo / "notebooks") / ".." / "mlobs-demo").resolve() == (repo / "mlobs-demo").resolve()
    # the drift engine's compiled loops are in numba's cache beside the package, not left to the
    # reader's first investigation
    cached = {p.name.split("-")[0] for p in (repo / "mlobs_notebook" / "drift" / "__pycache__").glob("*.nbi")}
    for loop in ("ecdf_kernels.pair_statistics", "ecdf_kernels.windowed_statistics",
                 "ecdf_kernels.consecutive_statistics", "counts_kernels.window_counts"):  # fmt: skip
        assert loop in cached, f"postBuild did not compile {loop}: {sorted(cached)}"

    # 3. the start page: binder/start runs the server command with notebook 02 as its default URL
    shown = _run(["bash", "binder/start", py, "-c", (
        "from jupyter_server.serverapp import ServerApp; a = ServerApp(); a.load_config_file(); print(a.default_url)"
    )], repo, env)  # fmt: skip
    default_url = shown.strip().splitlines()[-1]
    assert default_url == "/lab/tree/notebooks/02_root_cause_pipeline_bug.ipynb"
    assert (repo / default_url.removeprefix("/lab/tree/")).exists()


def test_binder_files_are_what_repo2docker_reads():
    binder = REPO / "binder"
    lines = [ln.strip() for ln in (binder / "requirements.txt").read_text().splitlines()]
    assert "-e ." in lines
    for script in ("postBuild", "start"):
        path = binder / script
        assert os.access(path, os.X_OK), f"binder/{script} must be executable (repo2docker runs it directly)"
        assert path.read_text().startswith("#!/usr/bin/env bash")
    assert 'exec "$@"' in (binder / "start").read_text()
    assert (binder / "runtime.txt").read_text().strip() == f"python-{sys.version_info.major}.{sys.version_info.minor}"
