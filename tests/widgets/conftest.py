import os

import pytest
from panels_support import drift_report, lineage


@pytest.fixture(scope="session")
def world(request):
    """The session's demo world, or (to iterate quickly) an already built one named by
    MLOBS_PANELS_WORLD, which is only read, never written."""
    prebuilt = os.environ.get("MLOBS_PANELS_WORLD")
    if prebuilt:
        from mlobs_notebook.demo import Manifest

        return Manifest.load(prebuilt)
    return request.getfixturevalue("demo_world")


@pytest.fixture(scope="session")
def demo_drift(world):
    return drift_report(world)


@pytest.fixture(scope="session")
def demo_lineage(world):
    return lineage(world)
