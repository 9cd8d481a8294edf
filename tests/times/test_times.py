"""The time model: granularity parsed once, instants aware UTC, windows in the data's zone, text
times never guessed (../shared/cases/drift/tz_windows and us_date_strings are kinds of these)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from mlobs_notebook.drift import compute_drift
from mlobs_notebook.errors import InputError
from mlobs_notebook.times import Granularity, human, in_zone, range_bound, read_time_column, to_utc

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "count", "unit"),
    [("1h", 1, "h"), ("6h", 6, "h"), ("1d", 1, "d"), ("2w", 2, "w"), ("1mo", 1, "mo"), ("3mo", 3, "mo"),
     ("1 day", 1, "d"), ("5 hours", 5, "h"), ("1 month", 1, "mo"), (" 1D ", 1, "d")],
)
def test_granularity_parses_our_spelling_and_databricks(text, count, unit):
    g = Granularity.parse(text)
    assert (g.count, g.unit) == (count, unit)
    assert Granularity.parse(str(g)) == g and Granularity.parse(g.databricks) == g


@pytest.mark.parametrize("text", ["daily", "0d", "1y", "d", "", "1.5h", "-1d"])
def test_a_bad_granularity_names_itself_and_the_accepted_forms(text):
    with pytest.raises(InputError, match=f"granularity {text!r} is not valid.*1mo"):
        Granularity.parse(text)


def test_calendar_months_add_and_count_like_polars():
    month = Granularity.parse("1mo")
    starts = pl.datetime_range(datetime(2024, 1, 31), datetime(2024, 12, 31), "1mo", eager=True).to_list()
    assert [month.add(datetime(2024, 1, 31), i) for i in range(len(starts))] == starts
    assert month.windows_between(datetime(2024, 1, 1), datetime(2025, 3, 1)) == 14
    assert month.fixed is None and month.nominal == timedelta(days=30)


@given(st.integers(1, 48), st.integers(-500, 500))
def test_fixed_windows_count_the_boundaries_crossed(hours, n):
    g = Granularity(hours, "h")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    assert g.windows_between(start, g.add(start, n)) == n


def test_to_utc_reads_every_form_a_store_or_user_hands_over():
    moment = datetime(2026, 1, 2, 5, tzinfo=UTC)
    assert to_utc(datetime(2026, 1, 2, 5)) == moment  # naive is UTC
    assert to_utc(datetime(2026, 1, 2, 6, tzinfo=ZoneInfo("Europe/Berlin"))) == moment
    assert to_utc("2026-01-02T07:00+02:00") == moment and to_utc("2026-01-02T05:00:00Z") == moment
    assert to_utc(date(2026, 1, 2)) == datetime(2026, 1, 2, tzinfo=UTC)
    assert to_utc(1_767_330_000_000) == moment  # epoch milliseconds, as MLflow stores times
    assert to_utc(np.datetime64("2026-01-02T05:00")) == moment
    with pytest.raises(InputError, match="since 'yesterday' is not an ISO 8601"):
        to_utc("yesterday", "since")


def test_range_bounds_include_the_whole_last_day():
    assert range_bound("2024-03-12", "until", end=True) == datetime(2024, 3, 12, 23, 59, 59, 999999, tzinfo=UTC)
    assert range_bound("2024-03-12T10:00", "until", end=True) == datetime(2024, 3, 12, 10, tzinfo=UTC)


def test_in_zone_reads_a_named_window_as_wall_clock_time_in_the_data_zone():
    assert in_zone("2024-03-31", "Europe/Berlin") == datetime(2024, 3, 31, tzinfo=BERLIN)
    assert in_zone(datetime(2024, 3, 30, 23, tzinfo=UTC), "Europe/Berlin") == datetime(2024, 3, 31, 0, tzinfo=BERLIN)
    assert human(datetime(2026, 1, 2, 6, tzinfo=UTC)) == "2026-01-02 06:00 UTC"
    assert human(datetime(2026, 1, 2, tzinfo=UTC), Granularity(1, "d")) == "2026-01-02"
    assert human(datetime(2026, 1, 2, tzinfo=UTC), Granularity(1, "h")) == "2026-01-02 00:00 UTC"


def _berlin_days() -> pl.DataFrame:
    """Four rows on each of three local days around the spring DST change (the tz_windows case)."""
    local = [datetime(2024, 3, d, h, m) for d in (30, 31) for h, m in ((1, 0), (6, 0), (12, 0), (23, 30))]
    local += [datetime(2024, 4, 1, h, m) for h, m in ((1, 0), (6, 0), (12, 0), (23, 30))]
    ts = pl.Series("ts", local).dt.replace_time_zone("Europe/Berlin")
    return pl.DataFrame({"ts": ts, "x": np.arange(12, dtype=float)})


def test_windows_of_zone_aware_data_are_its_local_days_across_dst():
    baseline = pl.DataFrame({"x": np.random.default_rng(2).normal(size=300)})
    report = compute_drift(baseline, _berlin_days(), time_column="ts", granularity="1d", consecutive=False)
    rows = report.table.filter(pl.col("column_name") == "x")
    assert rows["window_start"].dtype == pl.Datetime("us", "Europe/Berlin") and report.zone == "Europe/Berlin"
    assert rows["window_start"].to_list() == [datetime(2024, 3, d, tzinfo=BERLIN) for d in (30, 31)] + [
        datetime(2024, 4, 1, tzinfo=BERLIN)]
    assert rows["count"].to_list() == [4, 4, 4]
    # the DST day lasts 23 hours, and the granularity steps from one local midnight to the next
    spans = [e.astimezone(UTC) - s.astimezone(UTC) for s, e in rows.select("window_start", "window_end").iter_rows()]
    assert spans == [timedelta(hours=24), timedelta(hours=23), timedelta(hours=24)]
    day = Granularity.parse("1d")
    assert [day.add(s) for s in rows["window_start"]] == rows["window_end"].to_list()
    assert day.windows_between(rows["window_start"][0], rows["window_start"][2]) == 2
    hour = Granularity.parse("1h")
    assert hour.add(datetime(2024, 3, 31, 1, tzinfo=BERLIN)) == datetime(2024, 3, 31, 3, tzinfo=BERLIN)
    assert hour.windows_between(datetime(2024, 3, 31, 1, tzinfo=BERLIN), datetime(2024, 3, 31, 3, tzinfo=BERLIN)) == 1


def test_iso_text_with_offsets_is_parsed_and_a_single_offset_labels_the_windows():
    baseline = pl.DataFrame({"x": np.zeros(10)})
    berlin = _berlin_days()
    mixed = berlin.with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%:z"))  # +01:00 and +02:00
    report = compute_drift(baseline, mixed, time_column="ts", granularity="1d", consecutive=False)
    assert report.zone == "UTC" and any("several UTC offsets (+01:00, +02:00)" in n for n in report.notes)
    assert report.table["count"].sum() == 12
    in_berlin = compute_drift(baseline, mixed, time_column="ts", granularity="1d", consecutive=False,
                              time_zone="Europe/Berlin")
    assert in_berlin.table["count"].to_list() == [4, 4, 4]
    fixed = pl.DataFrame({"ts": ["2024-06-01T00:30:00+02:00", "2024-06-01T23:30:00+02:00", "2024-06-02T08:00:00+02:00"],
                          "x": [1.0, 2.0, 3.0]})
    one_zone = compute_drift(baseline, fixed, time_column="ts", granularity="1d", consecutive=False)
    assert one_zone.zone == "Etc/GMT-2"  # +02:00
    assert [w.isoformat() for w in one_zone.table["window_start"]] == ["2024-06-01T00:00:00+02:00",
                                                                      "2024-06-02T00:00:00+02:00"]
    assert one_zone.table["count"].to_list() == [2, 1]


def test_month_first_text_needs_a_format_and_is_never_guessed():
    text = pl.DataFrame({"ts": ["01/02/2018 00:00", "01/13/2018 10:00", "02/01/2018 12:00"], "x": [1.0, 2.0, 3.0]})
    baseline = pl.DataFrame({"x": [0.0, 1.0]})
    with pytest.raises(InputError, match=r"(?s)time column 'ts' holds text that is not ISO 8601.*Tried ISO 8601: YYYY-MM-DD.*time_format="):
        compute_drift(baseline, text, time_column="ts", granularity="1w")
    report = compute_drift(baseline, text, time_column="ts", granularity="1d", time_format="%m/%d/%Y %H:%M",
                           consecutive=False)
    assert [w.date() for w in report.table["window_start"]][0] == date(2018, 1, 2)
    assert report.table["count"].sum() == 3
    # a format that leaves values unread is an error naming one, not a null
    with pytest.raises(InputError, match=r"1 value\(s\) do not match the format '%d/%m/%Y %H:%M' \(e.g. '01/13/2018 10:00'"):
        compute_drift(baseline, text, time_column="ts", granularity="1d", time_format="%d/%m/%Y %H:%M")


def test_numbers_need_an_epoch_unit():
    frame = pl.DataFrame({"ts": [1_704_067_200, 1_704_153_600], "x": [1.0, 2.0]})
    with pytest.raises(InputError, match="epoch_s"):
        read_time_column(frame, "ts")
    report = compute_drift(pl.DataFrame({"x": [0.0]}), frame, time_column="ts", granularity="1d",
                           time_format="epoch_s", consecutive=False)
    assert [w.date() for w in report.table["window_start"]] == [date(2024, 1, 1), date(2024, 1, 2)]


def _wall_start(moment: datetime, hours: int) -> datetime:
    """The wall-clock start of ``moment``'s window of ``hours`` hours in its zone (24: its day)."""
    if hours == 24:
        return moment.replace(tzinfo=None, hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(tzinfo=None, hour=moment.hour // hours * hours, minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
@pytest.mark.parametrize("hours", [3, 6, 24])
def test_hour_windows_in_a_dst_zone_hold_every_row_once_across_both_changes(zone, hours):
    # rows every 20 minutes from before the spring change to after the autumn one, in UTC
    utc = [datetime(2024, 3, 9, tzinfo=UTC) + timedelta(minutes=20 * i) for i in range(0, 250 * 72, 7)]
    utc = [t for t in utc if t < datetime(2024, 3, 12, tzinfo=UTC) or t > datetime(2024, 10, 25, tzinfo=UTC)]
    tz = ZoneInfo(zone)
    frame = pl.DataFrame({"ts": pl.Series(utc).dt.convert_time_zone(zone), "x": np.arange(len(utc), dtype=float)})
    report = compute_drift(pl.DataFrame({"x": [0.0, 1.0]}), frame, time_column="ts", granularity=f"{hours}h",
                           consecutive=False)
    rows = report.table.filter(pl.col("column_name") == "x")
    # independently: each row's window is its wall-clock hour floored to a multiple of `hours`
    expected: dict[datetime, int] = {}
    for moment in utc:
        start = _wall_start(moment.astimezone(tz), hours)
        expected[start] = expected.get(start, 0) + 1
    got = {s.replace(tzinfo=None): c for s, c in rows.select("window_start", "count").iter_rows() if c}
    assert got == expected
    assert rows["count"].sum() == len(utc)
    starts, ends = rows["window_start"].to_list(), rows["window_end"].to_list()
    assert ends[:-1] == starts[1:]  # no gap, no overlap
    assert len(set(starts)) == len(starts) and all(e > s for s, e in zip(starts, ends, strict=True))


def test_offsets_are_read_from_the_whole_column_not_its_first_rows():
    import pandas as pd

    first = [datetime(2024, 6, 1, tzinfo=UTC) + timedelta(minutes=10 * i) for i in range(3_000)]
    later = [datetime(2024, 11, 1, tzinfo=UTC) + timedelta(hours=i) for i in range(30)]
    text = [t.astimezone(BERLIN).isoformat() for t in first + later]  # +02:00, then +01:00 after row 3,000
    frame = pl.DataFrame({"ts": text, "x": np.arange(len(text), dtype=float)})
    baseline = pl.DataFrame({"x": [0.0, 1.0]})
    report = compute_drift(baseline, frame, time_column="ts", granularity="1d", consecutive=False)
    assert report.zone == "UTC" and any("several UTC offsets (+01:00, +02:00)" in n for n in report.notes)
    utc_days = pd.to_datetime(pd.Series(text), utc=True).dt.floor("D").value_counts()
    got = {s: c for s, c in report.table.select("window_start", "count").iter_rows() if c}
    assert got == {d.to_pydatetime(): int(n) for d, n in utc_days.items()}
    in_berlin = compute_drift(baseline, frame, time_column="ts", granularity="1d", consecutive=False,
                              time_zone="Europe/Berlin")
    assert in_berlin.zone == "Europe/Berlin" and not any("time_zone" in n for n in in_berlin.notes)
    assert read_time_column(frame, "ts", time_zone="Europe/Berlin").note is None


@pytest.mark.parametrize(
    "values",
    [
        ["2024-03-01T10:00Z", "2024-03-01T23:59Z", "2024-03-02T00:00Z"],  # Z without seconds
        ["2024-03-01T10:00:00Z", "2024-03-01T23:00:00+00:00", "2024-03-02T01:00:00Z"],  # Z and +00:00
        ["2024-03-01T10:00:00", "2024-03-01 23:00:00", "2024-03-02T01:30"],  # T or a space
        ["2024-03-01", "2024-03-01T23:00:00", "2024-03-02", "2024-03-02 05:00:00.5"],  # dates beside times
        ["2024-03-01", "2024-03-01T23:00:00Z", "2024-03-02T05:00Z"],  # dates beside times in UTC
    ],
)
def test_every_iso_8601_variant_parses_without_a_format(values):
    import pandas as pd

    frame = pl.DataFrame({"ts": values})
    column = read_time_column(frame, "ts")
    got = frame.select(column.expr)["ts"].to_list()
    expected = pd.to_datetime(pd.Series(values), format="ISO8601", utc=True)
    assert got == [t.to_pydatetime() for t in expected]
    assert frame.select(column.unparsed())["ts"][0] == 0


def test_a_date_beside_times_at_one_offset_is_midnight_at_that_offset():
    frame = pl.DataFrame({"ts": ["2024-06-01", "2024-06-01T08:00:00+02:00"]})
    column = read_time_column(frame, "ts")
    assert column.zone == "Etc/GMT-2"
    got = frame.select(column.expr)["ts"].dt.convert_time_zone("UTC").to_list()
    assert got == [datetime(2024, 6, 1, tzinfo=ZoneInfo("Etc/GMT-2")).astimezone(UTC),
                   datetime(2024, 6, 1, 6, tzinfo=UTC)]


def test_empty_text_in_a_time_column_is_a_missing_time_counted_in_a_note():
    frame = pl.DataFrame({"ts": ["2024-03-01T10:00:00", "", "  ", None, "2024-03-02T10:00:00"],
                          "x": [1.0, 2.0, 3.0, 4.0, 5.0]})
    report = compute_drift(pl.DataFrame({"x": [0.0, 1.0]}), frame, time_column="ts", granularity="1d",
                           consecutive=False)
    assert report.table["count"].to_list() == [1, 1]
    assert any(n.startswith("3 row(s) with a null or empty 'ts'") for n in report.notes)
    formatted = compute_drift(pl.DataFrame({"x": [0.0, 1.0]}),
                              frame.with_columns(pl.col("ts").str.replace("T", "@")), time_column="ts",
                              granularity="1d", time_format="%Y-%m-%d@%H:%M:%S", consecutive=False)
    assert formatted.table["count"].to_list() == [1, 1]


def test_epoch_numbers_in_the_wrong_unit_name_the_column_and_the_unit_that_fits():
    import pandas as pd

    seconds = [1_704_067_200, 1_704_153_600, 1_704_240_000]
    frame = pl.DataFrame({"ts": seconds, "x": [1.0, 2.0, 3.0]})
    with pytest.raises(InputError, match=r"time column 'ts' read with time_format='epoch_ms'.*pass time_format='epoch_s'"):
        read_time_column(frame, "ts", time_format="epoch_ms")  # would be January 1970
    nanos = frame.with_columns(pl.col("ts") * 1_000_000_000)
    with pytest.raises(InputError, match=r"'ts'.*pass time_format='epoch_ns'"):
        read_time_column(nanos, "ts", time_format="epoch_ms")  # would overflow
    column = read_time_column(nanos, "ts", time_format="epoch_ns")
    expected = pd.to_datetime(pd.Series(nanos["ts"].to_list()), unit="ns", utc=True)
    assert nanos.select(column.expr)["ts"].to_list() == [t.to_pydatetime() for t in expected]
    huge = pl.DataFrame({"ts": [2**63 - 1, 0]})
    with pytest.raises(InputError, match="no epoch unit puts them all there"):
        read_time_column(huge, "ts", time_format="epoch_us")


@pytest.mark.parametrize("text", ["100000w", "99999999999999999999h", "200mo", "3661d"])
def test_a_granularity_longer_than_ten_years_is_refused_before_polars_sees_it(text):
    with pytest.raises(InputError, match=f"granularity {text!r} is longer than ten years"):
        Granularity.parse(text)
    assert Granularity.parse("520w").count == 520  # ten years still reads


def test_bad_zone_duplicate_columns_and_a_format_for_datetimes():
    times = pl.datetime_range(datetime(2024, 1, 1), datetime(2024, 1, 3, 23), "1h", eager=True)
    current = pl.DataFrame({"ts": times, "x": np.arange(len(times), dtype=float)})
    baseline = pl.DataFrame({"x": np.arange(10, dtype=float)})
    with pytest.raises(InputError, match="time zone 'Mars/Base' is not an IANA time zone"):
        compute_drift(baseline, current, time_column="ts", granularity="1d", time_zone="Mars/Base")
    with pytest.raises(InputError, match="'Mars/Base'"):
        in_zone("2024-01-01", "Mars/Base")
    plain = compute_drift(baseline, current, time_column="ts", granularity="1d", consecutive=False)
    for options in ({"columns": ["x", "ts"]}, {"columns": ["x", "x"]}, {"time_format": "%m/%d/%Y"},
                    {"time_format": "epoch_ms"}):
        again = compute_drift(baseline, current, time_column="ts", granularity="1d", consecutive=False, **options)
        assert again.table.select("window_start", "column_name", "count").equals(
            plain.table.select("window_start", "column_name", "count")), options
