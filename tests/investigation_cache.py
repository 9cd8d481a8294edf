"""One investigation of a demo world per test process, for the figure and panel tests (read only)."""

from __future__ import annotations

_CACHE: dict[str, object] = {}


def demo_investigation(manifest):
    if manifest.path not in _CACHE:
        from mlobs_notebook.investigation import investigate

        m = manifest
        _CACHE[m.path] = investigate(
            m.model, lineage=m.lineage_file, tracking_uri=m.tracking_uri, time_column=m.time_column,
            metric=m.metric, eval_filter=m.eval_filter,
        )
    return _CACHE[manifest.path]
