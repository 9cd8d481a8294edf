"""One way to reach an MLflow store: check it answers, hand out a cached client, and read MLflow's
errors the same way everywhere (is it "not found"? what is its first line?).

A tracking server that does not answer must fail fast, naming the URI, not after MLflow's own
retries (minutes by default). Servers are probed at ``/health`` with a short timeout before any
MLflow call, and MLflow's HTTP timeout and retries are bounded while our calls run.
"""

from __future__ import annotations

import contextlib
import functools
import os
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlobs_notebook.errors import ExperimentNotFound, MlobsError, RunNotFound, TrackingUnreachable

__all__ = [
    "MISSING_CODES",
    "PROBE_TIMEOUT_S",
    "connect",
    "experiment_id",
    "first_line",
    "get_run",
    "is_connection_error",
    "is_missing",
    "mlflow_errors",
    "tracking_uri_or_default",
]

# MLflow's error codes for "no such thing": a file store and sqlite say RESOURCE_DOES_NOT_EXIST,
# a server may say NOT_FOUND, and a malformed id (a run id of the wrong length) is
# INVALID_PARAMETER_VALUE, which for a lookup means the same.
MISSING_CODES = frozenset({"RESOURCE_DOES_NOT_EXIST", "NOT_FOUND", "INVALID_PARAMETER_VALUE"})

PROBE_TIMEOUT_S = 3.0
# while our calls run, unless the user set them: a request may take 5 s and is not retried
_HTTP_LIMITS = {"MLFLOW_HTTP_REQUEST_TIMEOUT": "5", "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0"}


def tracking_uri_or_default(tracking_uri: str | None) -> str:
    if tracking_uri:
        return str(tracking_uri)
    import mlflow

    return mlflow.get_tracking_uri()


def connect(tracking_uri: str | None = None) -> tuple[Any, str]:
    """An ``MlflowClient`` for the store, after checking the store is there."""
    uri = tracking_uri_or_default(tracking_uri)
    try:
        _check_reachable(uri)
    except TrackingUnreachable as exc:
        if tracking_uri or os.environ.get("MLFLOW_TRACKING_URI"):
            raise
        raise TrackingUnreachable(
            f"{exc}. No tracking URI was given, so MLflow's default ({uri}) was assumed: pass --tracking-uri "
            "(tracking_uri=) or set MLFLOW_TRACKING_URI"
        ) from exc
    try:
        return _client(uri), uri
    except Exception as exc:
        # an unsupported scheme, an out-of-date schema, a file that is not an MLflow store ...
        raise TrackingUnreachable(f"cannot open the MLflow store at {uri}: {first_line(exc)}") from exc


@functools.lru_cache(maxsize=32)
def _client(uri: str) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _check_reachable(uri: str) -> None:
    if uri.startswith(("http://", "https://")):
        url = uri.rstrip("/") + "/health"
        try:
            with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT_S) as response:  # noqa: S310
                response.read(64)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise TrackingUnreachable(
                f"the MLflow tracking server at {uri} did not answer {url} within "
                f"{PROBE_TIMEOUT_S:g} s ({reason}). Is it running? Pass tracking_uri= or set "
                "MLFLOW_TRACKING_URI to the right server."
            ) from exc
    elif uri.startswith("sqlite:///"):
        path = Path(uri[len("sqlite:///"):].split("?")[0])
        # MLflow would silently create an empty store (and take seconds doing it)
        if str(path) != ":memory:" and not path.exists():
            raise TrackingUnreachable(
                f"no MLflow store at {uri}: the file {path} does not exist. A sqlite tracking URI "
                "needs an absolute path with four slashes: sqlite:////abs/path/mlflow.db"
            )


@contextlib.contextmanager
def mlflow_errors(uri: str) -> Iterator[None]:
    """Bound MLflow's HTTP waits and turn a lost connection into :class:`TrackingUnreachable`."""
    added = {k: v for k, v in _HTTP_LIMITS.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    except MlobsError:
        raise
    except Exception as exc:
        if is_connection_error(exc):
            raise TrackingUnreachable(f"lost the MLflow tracking server at {uri}: {first_line(exc)}") from exc
        raise
    finally:
        for key in added:
            os.environ.pop(key, None)


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first line of an error's message (MLflow's run to pages), or its type's name."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:limit]


def is_missing(exc: BaseException, codes: frozenset[str] = MISSING_CODES) -> bool:
    """Whether an MLflow error means "no such run, model, version or experiment"."""
    return not is_connection_error(exc) and getattr(exc, "error_code", "") in codes


def get_run(client: Any, run_id: str, hint: str = "") -> Any:
    """The run, or :class:`RunNotFound` naming it (``hint`` says what to pass instead)."""
    try:
        return client.get_run(run_id)
    except Exception as exc:
        if not is_missing(exc):
            raise
        raise RunNotFound(
            f"no run {run_id!r} in the tracking store (deleted or never logged)"
            + (f"; {hint}" if hint else "")
        ) from exc


def experiment_id(client: Any, uri: str, experiment: str) -> str:
    """The id of an experiment given by name or id; :class:`ExperimentNotFound` lists the known ones."""
    found = client.get_experiment_by_name(str(experiment))
    if found is None and str(experiment).isdigit():
        try:
            found = client.get_experiment(str(experiment))
        except Exception as exc:
            if not is_missing(exc):
                raise
    if found is None:
        known = sorted(e.name for e in client.search_experiments(max_results=100))
        raise ExperimentNotFound(
            f"no MLflow experiment {experiment!r} in {uri}. Experiments: {', '.join(known) or 'none'}"
        )
    return str(found.experiment_id)


def is_connection_error(exc: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is a lost or refused connection."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return True
        name = type(exc).__name__
        if name in ("ConnectionError", "ConnectTimeout", "ReadTimeout", "MaxRetryError"):
            return True
        text = str(exc)
        if "API request to" in text and ("failed with exception" in text or "Max retries" in text):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False
