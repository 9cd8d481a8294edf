"""Matching a dataset named elsewhere (an MLflow dataset source, a table URI, a local path) to an
OpenLineage dataset, by the OpenLineage naming conventions and the symlinks facet.

OpenLineage names a dataset ``(namespace, name)``:

- object storage: ``s3://bucket`` + ``path/in/bucket`` (also ``gs://``, ``abfss://``, ``hdfs://host:port``);
- local files: ``file`` + ``/abs/path`` (older producers: ``file://`` or ``file:/``);
- databases: ``postgres://host:port`` + ``db.schema.table``;
- Iceberg tables in this toolkit: ``iceberg://<catalog>`` + ``<namespace>.<table>``
  (the demo world's symlink; an MLflow source ``iceberg://<catalog>/<ns>.<table>@<snapshot>``);
- Unity Catalog tables: ``unity-catalog`` + ``<catalog>.<schema>.<table>`` (OpenLineage's Spark
  integration names them so; an Iceberg source of catalog ``<catalog>`` is looked up there too).

Every candidate identity is looked up through the symlink map, so a symlink name finds the
canonical dataset. A bare table name matches when exactly one dataset (or symlink) has that name.

The same table goes by several names across tools, and they all match: ``delta:///path@19``,
``file:///path`` and ``/path`` (MLflow) against namespace ``file``, name ``/path``
(OpenLineage); ``s3://`` against ``s3a://`` and ``s3n://`` (Spark's Hadoop schemes), on either
side; ``abfss://``/``wasbs://`` against ``abfs://``/``wasb://``; with or without a trailing slash.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

from mlobs_notebook.lineage.model import DatasetRef

__all__ = ["candidates", "closest_names", "match_dataset", "match_mlflow_source"]

Canonical = Mapping[DatasetRef, DatasetRef]

UNITY_CATALOG = "unity-catalog"
_SCHEME = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.-]*)://([^/]*)(/.*)?$")
_SCHEME_ALIASES = {"s3a": "s3", "s3n": "s3", "abfss": "abfs", "wasbs": "wasb", "gcs": "gs"}
_TABLE_PREFIX = re.compile(r"^delta(?:\+file)?://")
_VERSION_SUFFIX = re.compile(r"@-?\d+$")


def candidates(uri: str) -> list[DatasetRef]:
    """OpenLineage identities a URI or path may have, most likely first."""
    uri = uri.strip()
    if _TABLE_PREFIX.match(uri):
        # MLflow's delta:///<path>@<version> and delta://s3://...: the table is its location
        inner = _VERSION_SUFFIX.sub("", _TABLE_PREFIX.sub("", uri))
        return candidates(inner if "://" in inner or inner.startswith("/") else "/" + inner)
    out: list[DatasetRef] = []
    if uri.startswith("/") or re.match(r"^[A-Za-z]:[\\/]", uri):
        path = uri.rstrip("/") or "/"
        return [DatasetRef("file", path), DatasetRef("file://", path), DatasetRef("file:", path)]
    m = _SCHEME.match(uri)
    if not m:
        return out
    scheme, authority, rest = m.group(1).lower(), m.group(2), (m.group(3) or "")
    scheme = _SCHEME_ALIASES.get(scheme, scheme)
    if scheme == "file":
        path = rest.rstrip("/") or "/"
        return [DatasetRef("file", path), DatasetRef("file://", path), DatasetRef("file:", path)]
    if scheme == "iceberg":
        table = rest.lstrip("/").split("@", 1)[0]
        # Unity Catalog's Iceberg REST catalog serves catalog <c> as Iceberg catalog <c>, its schemas
        # as namespaces (https://docs.databricks.com/aws/en/external-access/iceberg): the same table
        # is <c>.<schema>.<table> in Unity Catalog lineage
        return [DatasetRef(f"iceberg://{authority}", table), DatasetRef(f"iceberg://{authority}", table.replace("/", ".")),
                DatasetRef(UNITY_CATALOG, f"{authority}.{table.replace('/', '.')}")]
    ns = f"{scheme}://{authority}"
    rest = rest.rstrip("/")
    if rest:
        out += [DatasetRef(ns, rest.lstrip("/")), DatasetRef(ns, rest)]
    else:
        out.append(DatasetRef(ns, "/"))
    return out


def match_dataset(canonical: Canonical, value: Any) -> DatasetRef | None:
    """The canonical dataset for a DatasetRef, a ``(namespace, name)`` pair, a
    ``"NAMESPACE/NAME"`` string, a URI, a local path, or a bare table name; None if none.

    ``canonical`` maps every known identity (symlinks included) to its canonical dataset."""
    if isinstance(value, DatasetRef):
        return canonical.get(value)
    if isinstance(value, tuple) and len(value) == 2 and all(isinstance(v, str) for v in value):
        return canonical.get(DatasetRef(*value))
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    wanted = candidates(text)
    for ref in wanted:
        if ref in canonical:
            return canonical[ref]
    # the same identities written another way on the lineage side (s3a://, a trailing slash)
    normal = {_normal(ref): target for ref, target in canonical.items()}
    for ref in wanted:
        if _normal(ref) in normal:
            return normal[_normal(ref)]
    # "NAMESPACE/NAME": names contain slashes, so try every known namespace as a prefix,
    # longest first ("s3://churn-lake" before "s3:").
    namespaces = sorted({r.namespace for r in canonical}, key=len, reverse=True)
    for ns in namespaces:
        if text.startswith(ns + "/") and len(text) > len(ns) + 1:
            ref = DatasetRef(ns, text[len(ns) + 1 :])
            if ref in canonical:
                return canonical[ref]
            ref = DatasetRef(ns, text[len(ns) :])  # names that themselves start with "/"
            if ref in canonical:
                return canonical[ref]
    bare = {canonical[r] for r in canonical if r.name == text or r.name.rsplit("/", 1)[-1] == text}
    if len(bare) == 1:
        return bare.pop()
    return None


def _normal(ref: DatasetRef) -> tuple[str, str]:
    """One spelling of a dataset identity: scheme aliases folded, ``file://`` and ``file:`` as
    ``file``, no trailing slash (and for object storage no leading one)."""
    namespace = ref.namespace.strip().rstrip("/")
    m = re.match(r"^([a-zA-Z][a-zA-Z0-9+.-]*):(//)?(.*)$", namespace)
    if m:
        scheme = m.group(1).lower()
        scheme = _SCHEME_ALIASES.get(scheme, scheme)
        namespace = "file" if scheme == "file" else f"{scheme}://{m.group(3)}"
    name = ref.name.strip().rstrip("/") or "/"
    if namespace != "file" and "://" in namespace:
        name = name.lstrip("/") or "/"
    return namespace, name


def match_mlflow_source(canonical: Canonical, source: Any) -> DatasetRef | None:
    """An MLflow dataset source (an object with ``to_dict()``, or its stored dict/JSON) -> dataset.

    Reads ``uri``, ``path``, ``url`` or ``table`` keys, so it works from the stored JSON alone,
    without the source class registered.
    """
    import json

    if hasattr(source, "to_dict"):
        source = source.to_dict()
    if isinstance(source, str):
        try:
            source = json.loads(source)
        except ValueError:
            return match_dataset(canonical, source)
    if not isinstance(source, dict):
        return None
    for key in ("uri", "path", "url", "location"):
        if isinstance(source.get(key), str):
            found = match_dataset(canonical, source[key])
            if found is not None:
                return found
    catalog, table = source.get("catalog"), source.get("table")
    if isinstance(catalog, str) and isinstance(table, str):
        return match_dataset(canonical, f"iceberg://{catalog}/{table}")
    return None


def closest_names(canonical: Canonical, value: str, n: int = 5) -> list[str]:
    """Up to ``n`` dataset names (``namespace/name``) most like ``value``, best first."""
    names = sorted({str(ref) for ref in canonical.values()})
    wanted = [str(value).strip().rstrip("/")]
    wanted += [str(ref) for ref in candidates(str(value))]
    scored: dict[str, float] = {}
    for want in wanted:
        for name in difflib.get_close_matches(want, names, n=n, cutoff=0.3):
            scored[name] = max(scored.get(name, 0.0), difflib.SequenceMatcher(None, want, name).ratio())
        tail = want.rsplit("/", 1)[-1].rsplit(".", 1)[-1]
        for name in names:
            if tail and tail in name:
                scored[name] = max(scored.get(name, 0.0), 0.5)
    return [name for name, _ in sorted(scored.items(), key=lambda kv: (-kv[1], kv[0]))][:n]
