"""Schema findings: columns missing on one side or whose type changed, reported not raised."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from mlobs_notebook.drift.kinds import serves_kind
from mlobs_notebook.drift.profile import BaselineProfile
from mlobs_notebook.errors import UnknownColumn

__all__ = ["SchemaFinding", "compare_schemas"]


@dataclass(frozen=True)
class SchemaFinding:
    """One schema difference. ``finding`` is missing_in_current, missing_in_baseline,
    type_changed or unsupported_type; ``compared`` says whether drift was still computed."""

    column: str
    finding: str
    baseline_type: str | None
    current_type: str | None
    compared: bool
    detail: str

    def to_dict(self) -> dict[str, object]:
        return {
            "column": self.column,
            "finding": self.finding,
            "baseline_type": self.baseline_type,
            "current_type": self.current_type,
            "compared": self.compared,
            "detail": self.detail,
        }


def compare_schemas(
    profile: BaselineProfile,
    current: pl.Schema,
    requested: list[str] | None,
    baseline_names: list[str],
    time_column: str | None,
) -> tuple[list[str], list[SchemaFinding]]:
    """The columns to compare, and the findings about the others."""
    names = requested if requested is not None else [
        c for c in dict.fromkeys([*baseline_names, *current.names()]) if c != time_column
    ]
    if requested is not None:
        unknown = [c for c in requested if c not in baseline_names and c not in current]
        if unknown:
            raise UnknownColumn(
                f"column(s) {', '.join(map(repr, unknown))} in neither the baseline nor the "
                f"current data. Baseline columns: {', '.join(baseline_names)}"
            )
    compared: list[str] = []
    findings: list[SchemaFinding] = []
    for c in names:
        base_type = str(profile.dtypes_[c]) if c in profile.dtypes_ else None
        cur_type = str(current[c]) if c in current else None
        if c in profile.skipped_:
            findings.append(
                SchemaFinding(c, "unsupported_type", base_type or "?", cur_type, False, profile.skipped_[c])
            )
        elif c not in profile.kinds_:
            detail = "column only in the current data; no baseline to compare against"
            findings.append(SchemaFinding(c, "missing_in_baseline", None, cur_type, False, detail))
        elif c not in current:
            detail = "column in the baseline is missing from the current data"
            findings.append(SchemaFinding(c, "missing_in_current", base_type, None, False, detail))
        elif not serves_kind(current[c], profile.kinds_[c]):
            detail = f"type changed so the {profile.kinds_[c]} comparison no longer applies"
            findings.append(SchemaFinding(c, "type_changed", base_type, cur_type, False, detail))
        else:
            if base_type != cur_type:
                detail = f"type changed; still compared as {profile.kinds_[c]}"
                if "Null" in (base_type, cur_type):
                    side = "baseline" if base_type == "Null" else "current data"
                    detail = f"every value is missing in the {side} (type Null); compared as {profile.kinds_[c]}"
                findings.append(SchemaFinding(c, "type_changed", base_type, cur_type, True, detail))
            compared.append(c)
    return compared, findings
