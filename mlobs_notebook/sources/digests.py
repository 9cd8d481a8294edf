"""Is a recorded snapshot still the data the model was trained on? Its digest, recomputed.

MLflow records a digest with every dataset input: the pandas dataset hashes the first 10,000
rows of its string and numeric columns (``mlflow.data.digest_utils.compute_pandas_digest``), the
polars dataset hashes the frame. A digest that matches over part of the data is not proof that
the rest is the same, so the check says what the digest covered.
"""

from __future__ import annotations

import warnings

import polars as pl

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.records import ICEBERG, DatasetRecord, SnapshotCheck
from mlobs_notebook.sources.scan import scan

__all__ = ["check_frame", "should_check", "snapshot_check"]


# MLflow's pandas digest hashes this many leading rows (mlflow.data.digest_utils.MAX_ROWS).
PANDAS_DIGEST_ROWS = 10_000


def snapshot_check(record: DatasetRecord) -> SnapshotCheck:
    """Recompute a dataset record's digest from its source the way MLflow computed it, and check
    the row count and columns MLflow recorded; see :class:`~mlobs_notebook.records.SnapshotCheck`
    for the statuses. Reading the data is needed: the digest hashes content."""
    try:
        frame = scan(record.source)
    except SourceUnreadable as exc:
        return SnapshotCheck("unchecked", record.digest, None, f"cannot check {record.source.uri}: {exc}")
    return check_frame(record, frame)


def check_frame(record: DatasetRecord, frame: pl.LazyFrame | pl.DataFrame, read_from: str | None = None) -> SnapshotCheck:
    """:func:`snapshot_check` on data already opened; ``read_from`` names where it was read when
    that is not the recorded source (a baseline the user gave)."""
    uri = read_from or record.source.uri
    df = frame.collect() if isinstance(frame, pl.LazyFrame) else frame
    digests = _digests(df)
    kind = next((k for k, v in digests.items() if v == record.digest), None)
    if kind is None and record.source.kind == ICEBERG and read_from is None:
        # MLflow hashes rows in order; a multi-file snapshot scans in no fixed order, while the
        # logged frame was usually built in the order its files were appended
        from mlobs_notebook.sources.iceberg import scan_in_append_order

        ordered = scan_in_append_order(record.source)
        if ordered is not None:
            df = ordered.collect()
            digests = _digests(df)
            kind = next((k for k, v in digests.items() if v == record.digest), None)
    checks = _recorded_checks(record, df)
    disagree = [name for name, ok in checks.items() if not ok]
    if kind is None or disagree:
        actual = digests.get("pandas", digests["polars"])
        why = f"hashes to {actual}, MLflow recorded {record.digest}" if kind is None else \
            f"its {' and '.join(disagree)} differ from what MLflow recorded"
        return SnapshotCheck(
            "mismatch", record.digest, actual,
            f"{'the snapshot changed since training' if read_from is None else 'not the data MLflow recorded'}: "
            f"{uri} {why} for dataset {record.name!r} "
            f"({df.height:,} rows now{_recorded_rows(record)})",
            checks=checks,
        )
    coverage, unchecked = _coverage(kind, df)
    partial = bool(unchecked)
    agreed = _agreed(checks)
    if partial and read_from is None and record.source.pinned and record.source.kind in (ICEBERG, "delta"):
        # an Iceberg snapshot or a Delta version is immutable: the recorded id pins every row,
        # and the digest agrees on the part it covers
        return SnapshotCheck(
            "match", record.digest, record.digest,
            f"{uri} matches the recorded digest {record.digest} over {coverage}; the "
            f"{'snapshot id' if record.source.kind == ICEBERG else 'version'} pins the rest "
            f"({'Iceberg snapshots' if record.source.kind == ICEBERG else 'Delta versions'} are immutable).{agreed}",
            coverage=coverage, checks=checks,
        )
    if partial:
        return SnapshotCheck(
            "partial", record.digest, record.digest,
            f"the recorded digest {record.digest} matches {uri} over {coverage}; {' and '.join(unchecked)} "
            f"cannot be checked against the record.{agreed}",
            coverage=coverage, checks=checks,
        )
    return SnapshotCheck(
        "match", record.digest, record.digest,
        f"{uri} matches the recorded digest {record.digest} ({coverage}).{agreed}",
        coverage=coverage, checks=checks,
    )


def _agreed(checks: dict[str, bool]) -> str:
    if not checks:
        return ""
    return f" The {' and '.join(checks)} {'agree' if len(checks) > 1 else 'agrees'} with the record."


def _recorded_rows(record: DatasetRecord) -> str:
    return f", {record.num_rows:,} recorded" if record.num_rows is not None else ""


def _recorded_checks(record: DatasetRecord, df: pl.DataFrame) -> dict[str, bool]:
    """What else MLflow recorded that can be compared with the data: row count and columns."""
    checks = {}
    if record.num_rows is not None:
        checks["row count"] = df.height == record.num_rows
    if record.schema:
        checks["columns"] = sorted(record.schema) == sorted(df.columns)
    return checks


def _coverage(kind: str, df: pl.DataFrame) -> tuple[str, list[str]]:
    """What the matching digest hashed, and the parts of the data it left out (none: all of it)."""
    if kind == "polars":
        return f"all {df.height:,} rows and {df.width} columns, MLflow's polars digest", []
    # pandas: the first 10,000 rows of the string and numeric columns, plus the row count and
    # the column names (mlflow.data.digest_utils.compute_pandas_digest)
    hashed = [c for c, t in df.schema.items() if t.is_numeric() or t == pl.String]
    skipped = [c for c in df.columns if c not in hashed]
    rows = min(df.height, PANDAS_DIGEST_ROWS)
    parts = [f"the first {rows:,} of {df.height:,} rows" if rows < df.height else f"all {df.height:,} rows"]
    parts.append(
        f"the string and numeric columns ({len(hashed)} of {df.width}; not {', '.join(skipped)})"
        if skipped else f"all {df.width} columns"
    )
    unchecked = [f"the rows after the first {rows:,}"] if rows < df.height else []
    unchecked += [f"the column{'s' if len(skipped) > 1 else ''} {', '.join(skipped)}"] if skipped else []
    return " and ".join(parts) + ", MLflow's pandas digest", unchecked


def _digests(df: pl.DataFrame) -> dict[str, str]:
    """The digests MLflow's dataset classes would compute; the record does not say which logged it."""
    from mlflow.data.digest_utils import compute_pandas_digest
    from mlflow.data.polars_dataset import hash_polars_df

    digests = {"polars": hash_polars_df(df)}
    try:
        with warnings.catch_warnings():
            # MLflow's digest calls DataFrame.all(0), which pandas 3 deprecates
            warnings.filterwarnings("ignore", message=".*arguments of all will be keyword-only")
            digests["pandas"] = compute_pandas_digest(df.to_pandas())
    except Exception:  # noqa: BLE001 - a frame pandas cannot hash simply was not logged from pandas
        pass
    return digests


def should_check(record: DatasetRecord, check_digest: bool | None) -> bool:
    if check_digest is not None:
        return check_digest and bool(record.digest)
    rows = (record.profile or {}).get("num_rows")
    return bool(record.digest) and isinstance(rows, int) and rows <= 1_000_000
