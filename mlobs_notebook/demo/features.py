"""Pure generation of the demo feature table: one polars frame per simulated day.

Every user-day has a latent activity rate; the features are noisy views of it and of the user's
account, and the churn label depends on the latent state (never on a feature as computed), so a
pipeline that computes a feature wrongly hurts the model without changing who churns.
Deterministic: day ``i`` of seed ``s`` draws from ``numpy.random.default_rng([s, i])`` alone,
and a scenario's own draws come from a second stream (``[s, i, 1]``), so two scenarios of one
seed differ exactly in what the scenario changes and in nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np
import polars as pl

DEFAULT_START = date(2026, 6, 1)
USER_POOL = 50_000
PLANS = ("free", "basic", "pro", "enterprise")
PLAN_PROBS = (0.40, 0.30, 0.20, 0.10)
PLAN_PRICE = (0.0, 9.99, 29.99, 99.0)

FEATURES = (
    "user_session_count_7d",
    "user_recency_days",
    "tenure_days",
    "support_tickets_30d",
    "monthly_spend",
    "plan",
)
LABEL = "is_churned"
TIME_COLUMN = "feature_timestamp"


@dataclass(frozen=True)
class Timeline:
    """Day indices (0-based) of the story; ``incident_day`` is D, None when nothing happens."""

    start_date: date
    days: int
    training_day: int
    incident_day: int | None
    label_delay: int

    def date_of(self, day: int) -> date:
        return self.start_date + timedelta(days=day)

    def midnight(self, day: int) -> datetime:
        d = self.date_of(day)
        return datetime(d.year, d.month, d.day, tzinfo=UTC)

    def evaluation_days(self) -> range:
        """Days with an AUC: labels of day t - delay are known on day t, after training."""
        return range(self.training_day + 1 + self.label_delay, self.days)


def make_timeline(
    days: int, has_incident: bool, label_delay: int = 3, start: date = DEFAULT_START
) -> Timeline:
    if days < 21:
        raise ValueError(f"days must be at least 21 to hold training, onset and impact; got {days}")
    training_day = days // 3 - 1
    incident = training_day + (days - training_day) // 2 if has_incident else None
    return Timeline(start, days, training_day, incident, label_delay)


def _ramp(day: int, start: int | None, length: int) -> float:
    """0 before ``start``, rising linearly to 1 over ``length`` days."""
    if start is None or day < start:
        return 0.0
    return min(1.0, (day - start + 1) / length)


def _broken_pipeline(
    scenario: str, after: bool, since: int, sessions: np.ndarray, tickets: np.ndarray, recency: np.ndarray,
    plan_idx: np.ndarray, twist: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What a broken pipeline writes from the incident day on (``since`` days after it): the
    features as computed, not as they are. The label never sees these."""
    if not after:
        return sessions, tickets, recency
    sessions = sessions.astype(float)
    if scenario == "join_bug":
        tickets = twist.permutation(tickets)  # joined on the account id: another user's tickets
    elif scenario == "unit_change":
        sessions = sessions * 100
    elif scenario == "null_flood":
        sessions = np.full(len(sessions), np.nan)  # build_features reads a column that is gone
    elif scenario == "stale_data":
        # no new sessions since the first failed ingestion: the 7-day window loses a day a day
        kept = max(0, 7 - (since + 1)) / 7
        sessions = twist.binomial(sessions.astype(np.int64), kept).astype(float)
        recency = np.minimum(recency + since + 1, 60)
    elif scenario == "segment_break":
        sessions = np.where(plan_idx == 0, 0.0, sessions)  # free users' sessions filtered out
    return sessions, tickets, recency


def day_features(
    seed: int, day: int, timeline: Timeline, scenario: str, rows: int
) -> pl.DataFrame:
    rng = np.random.default_rng([seed, day])
    twist = np.random.default_rng([seed, day, 1])  # the scenario's own randomness
    incident = timeline.incident_day
    after = incident is not None and day >= incident

    user_id = rng.choice(USER_POOL, size=rows, replace=False)
    activity = rng.gamma(shape=2.0, scale=0.307, size=rows)  # sessions per day, mean ~0.61
    if scenario == "weekly_seasonality" and timeline.date_of(day).weekday() >= 5:
        activity = activity * 1.7  # weekends, in training as after it: people have time
    frustration = rng.beta(2, 5, size=rows)
    plan_idx = rng.choice(len(PLANS), size=rows, p=PLAN_PROBS)
    tenure = np.maximum(1, rng.gamma(shape=1.6, scale=260.0, size=rows)).round()
    hidden_onboarding = np.zeros(rows)

    if scenario in ("data_drift", "unrelated_change"):
        # a partner cohort of brand-new users grows to half of the population within a week
        share = 0.5 * _ramp(day, incident, 7)
        cohort = twist.random(rows) < share
        tenure = np.where(cohort, twist.integers(1, 30, size=rows), tenure)
        # the promotion keeps most of them, whatever their short tenure suggests
        hidden_onboarding = np.where(cohort, twist.normal(-1.2, 2.5, size=rows), 0.0)

    if scenario == "pipeline_bug" and after:
        # the 1-day window sees one bursty day instead of a week: the mean halves (4.3 -> 2.1)
        # and the count says much less about the user's real activity
        burst = twist.gamma(shape=0.35, scale=1 / 0.35, size=rows)
        sessions = twist.poisson(activity * 3.43 * burst)
        rng.poisson(activity * 7.0)  # keep the main stream where the other scenarios have it
    else:
        sessions = rng.poisson(activity * 7.0)

    p_session = 1.0 - np.exp(-activity)
    recency = np.minimum(rng.geometric(np.clip(p_session, 1e-3, 1.0)) - 1, 60).astype(float)
    never_seen = rng.random(rows) < 0.03
    recency = np.where(never_seen, np.nan, recency)

    tickets = rng.poisson(0.2 + 2.0 * frustration)
    price = np.asarray(PLAN_PRICE)[plan_idx]
    spend = np.where(price > 0, price * rng.lognormal(0.0, 0.25, size=rows), 0.0).round(2)
    billing_lag = rng.random(rows) < 0.02
    spend = np.where(billing_lag, np.nan, spend)

    logit = (
        1.7
        - 2.2 * np.log1p(activity * 7.0)
        + 0.45 * tickets
        - 0.25 * np.log(tenure / 90.0)
        + hidden_onboarding
    )
    inflation = 1.0
    if scenario == "gradual_drift" and incident is not None and after:
        # prices inflate 1.5% a day, and paying users start to leave as their bill grows
        inflation = 1.015 ** (day - incident + 1)
        logit = logit + np.where(price > 0, 8.0 * np.log(inflation), 0.0)
    if scenario in ("model_drift", "cosmetic_change") and after:
        # a competitor's price cut: spend, not activity, now decides who leaves
        w = _ramp(day, incident, 5)
        price_effect = 0.9 * np.log1p(np.nan_to_num(spend, nan=0.0)) - 2.2
        logit = (1 - w) * logit + w * (price_effect + 0.45 * tickets - 0.2)
    churned = rng.random(rows) < 1.0 / (1.0 + np.exp(-logit))

    spend = spend * inflation
    if scenario == "drift_without_impact" and after:
        spend = spend * 1.3  # a price rise nobody minds: churn does not move
    sessions, tickets, recency = _broken_pipeline(scenario, after, day - (incident or 0), sessions, tickets, recency,
                                                  plan_idx, twist)
    seconds = rng.integers(0, 86_400, size=rows)
    midnight = timeline.midnight(day)
    timestamps = [midnight + timedelta(seconds=int(s)) for s in seconds]

    frame = pl.DataFrame(
        {
            "user_id": user_id.astype(np.int64),
            TIME_COLUMN: pl.Series(timestamps, dtype=pl.Datetime("us", "UTC")),
            "user_session_count_7d": pl.Series(sessions, dtype=pl.Float64).fill_nan(None).cast(pl.Int64),
            "user_recency_days": recency,
            "tenure_days": tenure.astype(np.int64),
            "support_tickets_30d": tickets.astype(np.int64),
            "monthly_spend": spend,
            "plan": np.asarray(PLANS)[plan_idx],
            LABEL: churned,
        }
    )
    # floats with NaN become proper nulls, as a warehouse would store them
    return frame.with_columns(
        pl.col("user_recency_days").fill_nan(None), pl.col("monthly_spend").fill_nan(None)
    ).sort(TIME_COLUMN)
