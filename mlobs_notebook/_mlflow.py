"""One way to reach an MLflow store: check it answers, then hand out a cached client.

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

from .errors import MlobsError, TrackingUnreachable

__all__ = ["PROBE_TIMEOUT_S", "connect", "mlflow_errors", "tracking_uri_or_default"]

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
    _check_reachable(uri)
    try:
        return _client(uri), uri
    except Exception as exc:
        # an unsupported scheme, an out-of-date schema, a file that is not an MLflow store ...
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        raise TrackingUnreachable(f"cannot open the MLflow store at {uri}: {first_line}") from exc


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
        if _is_connection_error(exc):
            raise TrackingUnreachable(
                f"lost the MLflow tracking server at {uri}: {str(exc).splitlines()[0][:300]}"
            ) from exc
        raise
    finally:
        for key in added:
            os.environ.pop(key, None)


def _is_connection_error(exc: BaseException) -> bool:
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
