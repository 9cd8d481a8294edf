"""The environment every notebook run shares: the session's demo world (MLOBS_DEMO_DIR), its
small scenario worlds (MLOBS_SCENARIO_DIR, notebook 03) and a folder for what notebooks write
(MLOBS_OUTPUT_DIR)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


@pytest.fixture(scope="module")
def notebook_env(demo_world, scenario_worlds, rag_worlds, tmp_path_factory, monkeypatch_module):
    out = tmp_path_factory.mktemp("postmortems")
    root, _worlds = scenario_worlds
    monkeypatch_module.setenv("MLOBS_DEMO_DIR", demo_world.path)
    monkeypatch_module.setenv("MLOBS_OUTPUT_DIR", str(out))
    monkeypatch_module.setenv("MLOBS_SCENARIO_DIR", str(root))
    monkeypatch_module.setenv("MLOBS_RAG_DIR", str(rag_worlds[0]))  # notebook 06 reads <root>/rag_index_bug
    return out
