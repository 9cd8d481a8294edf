"""``mlobs demo`` refuses bad input with one line and exit code 2, and never half-overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import mlobs_notebook.demo.world as world
from mlobs_notebook.demo import build_world
from mlobs_notebook.errors import WorldExists


def _mlobs(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "mlobs_notebook.cli", *args], capture_output=True, text=True, timeout=120
    )


def _one_line_error(result: subprocess.CompletedProcess, *needles: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for needle in needles:
        assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_unknown_scenario(tmp_path):
    result = _mlobs("demo", "--out", str(tmp_path / "w"), "--scenario", "pipline_bug")
    _one_line_error(result, "unknown scenario 'pipline_bug'", "pipeline_bug")
    assert not (tmp_path / "w").exists()


def test_unwritable_dir(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = _mlobs("demo", "--out", str(blocker / "world"))
    _one_line_error(result, str(blocker / "world"), "not a writable folder")


def test_existing_world_is_refused_without_force(demo_world):
    manifest = Path(demo_world.path) / "manifest.json"
    before = manifest.stat().st_mtime_ns
    result = _mlobs("demo", "--out", demo_world.path)
    _one_line_error(result, demo_world.path, "--force")
    assert manifest.stat().st_mtime_ns == before


def test_non_empty_folder_without_a_world_is_refused(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    result = _mlobs("demo", "--out", str(tmp_path))
    _one_line_error(result, "not empty")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


def test_too_few_days(tmp_path):
    result = _mlobs("demo", "--out", str(tmp_path / "w"), "--days", "5")
    _one_line_error(result, "--days", "21")


def test_failed_forced_rebuild_restores_the_old_world(tmp_path, monkeypatch):
    old = tmp_path / "world"
    old.mkdir()
    (old / "manifest.json").write_text('{"old": true}')
    (old / "mlflow.db").write_text("old store")

    def half_build(out, *args, **kwargs):
        (out / "mlflow.db").write_text("half written")
        (out / "iceberg").mkdir()
        raise RuntimeError("disk full")

    monkeypatch.setattr(world, "_build", half_build)
    with pytest.raises(RuntimeError, match="disk full"):
        build_world(old, force=True)
    assert sorted(p.name for p in old.iterdir()) == ["manifest.json", "mlflow.db"]
    assert (old / "mlflow.db").read_text() == "old store"
    assert not list(tmp_path.glob(".world.replaced-*"))


def test_failed_first_build_leaves_nothing(tmp_path, monkeypatch):
    def half_build(out, *args, **kwargs):
        (out / "mlflow.db").write_text("half written")
        raise RuntimeError("interrupted")

    monkeypatch.setattr(world, "_build", half_build)
    with pytest.raises(RuntimeError):
        build_world(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()


def test_world_exists_error_from_python(tmp_path):
    (tmp_path / "manifest.json").write_text("{}")
    with pytest.raises(WorldExists, match="--force"):
        build_world(tmp_path)
