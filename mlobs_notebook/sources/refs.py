"""Where a dataset lives, parsed from what MLflow stored or what a user typed: a :class:`SourceRef`.

MLflow stores a dataset input's source as its type (``local``, ``s3``, ``code``, ``delta_table``,
``iceberg`` ...) and a JSON object. :func:`parse_source` reads that JSON without the source class
registered, so a dataset logged by a custom class reads fine here. :func:`source_from_uri` parses
a path or URI: ``/abs/path``, ``file:///abs``, ``s3://bucket/key``, ``iceberg://cat/ns.table@snap``,
``delta:///abs/path@version``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, SourceRef
from mlobs_notebook.sources.iceberg_uri import (
    format_iceberg_uri,
    parse_iceberg_uri,
    safe_catalog_properties,
)

__all__ = ["local_path", "location", "parse_source", "source_from_uri"]

_DELTA_URI = re.compile(r"^delta(?:\+file)?://(?P<path>.+?)(?:@(?P<version>\d+))?$")


def source_from_uri(uri: str, catalog_properties: Mapping[str, Any] | None = None) -> SourceRef:
    """Parse a URI or path a user typed into a :class:`SourceRef`."""
    text = str(uri).strip()
    if text.startswith("iceberg://"):
        try:
            ref = parse_iceberg_uri(text)
        except ValueError as exc:
            raise SourceUnreadable(f"cannot read {text!r}: {exc}") from exc
        return SourceRef(ICEBERG, ref.uri, table=ref.table, catalog=ref.catalog,
                         snapshot_id=ref.snapshot_id,
                         catalog_properties=safe_catalog_properties(catalog_properties))
    if text.startswith("delta"):
        match = _DELTA_URI.match(text)
        if match is None:
            raise SourceUnreadable(
                f"cannot read {text!r}: expected 'delta:///<path>[@<version>]'"
            )
        path = location(match.group("path"))
        version = match.group("version")
        return SourceRef("delta", text, path=path,
                         version=int(version) if version is not None else None)
    scheme = urlparse(text).scheme
    if scheme in ("", "file") or len(scheme) == 1:  # one letter: a Windows drive
        path = local_path(text)
        return SourceRef("local", text, path=path)
    kind = "http" if scheme in ("http", "https") else scheme
    return SourceRef(kind, text, path=text)


def parse_source(source_type: str, source: str | Mapping[str, Any]) -> SourceRef:
    """Parse a dataset source as MLflow stores it (its type and JSON), no source class needed."""
    try:
        raw = json.loads(source) if isinstance(source, str) else dict(source)
    except json.JSONDecodeError:
        # some producers store a bare URI rather than JSON
        raw = {"uri": source}
    if not isinstance(raw, dict):
        raw = {"uri": str(raw)}
    if source_type == ICEBERG:
        if "table" in raw and "catalog" in raw:
            snapshot = raw.get("snapshot_id")
            uri = raw.get("uri") or format_iceberg_uri(raw["catalog"], raw["table"], snapshot)
            return SourceRef(ICEBERG, uri, table=raw["table"], catalog=raw["catalog"],
                             snapshot_id=int(snapshot) if snapshot is not None else None,
                             catalog_properties=safe_catalog_properties(raw.get("catalog_properties")))
        return source_from_uri(str(raw.get("uri", "")), raw.get("catalog_properties"))
    if source_type == "delta_table":
        version = raw.get("delta_table_version")
        path = raw.get("path")
        table = raw.get("delta_table_name")
        where = path or table or ""
        uri = f"delta://{where}" + (f"@{version}" if version is not None else "")
        return SourceRef("delta", uri, path=location(path) if path else None, table=table,
                         version=int(version) if version is not None else None)
    if source_type == "http":
        url = str(raw.get("url") or raw.get("uri") or "")
        return SourceRef("http", url, path=url)
    uri = raw.get("uri") or raw.get("url") or raw.get("path")
    if uri is None:
        return SourceRef(source_type, json.dumps(raw, sort_keys=True))
    parsed = source_from_uri(str(uri))
    # MLflow's own artifact sources (s3, gs, local, ...) name their kind by the scheme already
    return parsed if parsed.kind != "local" or source_type == "local" else SourceRef(
        source_type, parsed.uri, path=parsed.path)


def location(text: str) -> str:
    """A table's location as readers take it: a local path, or an object-storage URI unchanged."""
    scheme = urlparse(text).scheme
    return local_path(text) if scheme in ("", "file") or len(scheme) == 1 else text


def local_path(text: str) -> str:
    parsed = urlparse(text)
    if parsed.scheme == "file":
        return unquote(parsed.path)
    return str(Path(text).expanduser())
