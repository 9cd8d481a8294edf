"""ModelPicker: choose a registered model and an alias or version; see its run, training dataset
and snapshot, and its metric over time.

State: ``model`` and ``version`` Dropdowns (``version`` values are ``"@alias"`` or a version
number as a string), ``metric`` and ``filter_string`` Texts. The chosen version's record,
training datasets and metric series are ``record``, ``datasets`` and ``series``; what went wrong
reading them (no dataset inputs, a bad filter) is ``error``. The outputs are the version's facts
and training data (``info``, with the error if any) and the metric over time.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets

from mlobs_notebook.errors import InputError, MlobsError, ModelNotFound
from mlobs_notebook.plots import metric_series_figure
from mlobs_notebook.widgets._panel import Panel, block, table

__all__ = ["ModelPicker", "registered_models", "version_choices"]


def registered_models(tracking_uri: str | None) -> list[str]:
    """Names of the registered models in the store, sorted."""
    from mlobs_notebook.sources.mlflow_access import connect, mlflow_errors

    client, uri = connect(tracking_uri)
    with mlflow_errors(uri):
        found, token = [], None
        while True:
            page = client.search_registered_models(max_results=1000, page_token=token)
            found += [m.name for m in page]
            token = page.token
            if not token:
                return sorted(found)


def version_choices(tracking_uri: str | None, model: str) -> list[tuple[str, str]]:
    """(label, value) for each alias ("@production -> v3", "@production") then each version,
    newest first ("v3", "3")."""
    from mlobs_notebook.sources.mlflow_access import connect, mlflow_errors

    client, uri = connect(tracking_uri)
    with mlflow_errors(uri):
        registered = client.get_registered_model(model)
        versions = client.search_model_versions(f"name = '{model.replace(chr(39), chr(92) + chr(39))}'")
    aliases = sorted((registered.aliases or {}).items())
    numbers = sorted((int(v.version) for v in versions), reverse=True)
    return [(f"@{a} (v{v})", f"@{a}") for a, v in aliases] + [(f"v{n}", str(n)) for n in numbers]


class ModelPicker(Panel):
    """Pick a model in the MLflow store at ``tracking_uri``; opens on ``model`` (default: the
    first registered model) at its ``alias`` if it has one, else its latest version."""

    title = "Model picker"
    blocks = ("info", "metric_series")

    def __init__(
        self,
        tracking_uri: str | None = None,
        model: str | None = None,
        *,
        alias: str = "production",
        metric: str = "auc",
        filter_string: str | None = "tags.env = 'production'",
    ) -> None:
        super().__init__(layout=widgets.Layout(width="100%"))
        self.tracking_uri = tracking_uri
        names = registered_models(tracking_uri)
        if not names:
            raise ModelNotFound(f"no registered models in {tracking_uri or 'the default tracking store'}; "
                                "register one with mlflow.register_model(...)")  # fmt: skip
        if model is not None and model not in names:
            raise ModelNotFound(f"no registered model {model!r} in {tracking_uri}. Known models: {', '.join(names)}.")
        self.model = widgets.Dropdown(options=names, value=model or names[0], description="model")
        self.version = widgets.Dropdown(description="version")
        self.metric = widgets.Text(value=metric, description="metric", continuous_update=False)
        self.filter_string = widgets.Text(value=filter_string or "", description="runs", continuous_update=False,
                                          placeholder="MLflow filter of evaluation runs")  # fmt: skip
        self.record: Any = None
        self.datasets: list[Any] = []
        self.series: Any = None
        self.error: str | None = None
        self._alias = alias
        self._switching = False
        self._set_versions()
        self._load()
        self.model.observe(self._on_model, names="value")
        self.version.observe(self._on_version, names="value")
        self.metric.observe(lambda _c: self._load_series(), names="value")
        self.filter_string.observe(lambda _c: self._load_series(), names="value")
        self.children = [
            widgets.HBox([self.model, self.version]),
            widgets.HBox([self.metric, self.filter_string]),
        ]

    def _set_versions(self) -> None:
        choices = version_choices(self.tracking_uri, self.model.value)
        values = [v for _, v in choices]
        preferred = f"@{self._alias}"
        self.version.options = choices
        self.version.value = preferred if preferred in values else (values[0] if values else None)

    def _on_model(self, _change: dict) -> None:
        # new options reset the version (one or two notifications); load once, at the end
        self._switching = True
        try:
            self._set_versions()
        finally:
            self._switching = False
        self._load()

    def _on_version(self, _change: dict) -> None:
        if not self._switching:
            self._load()

    # --- reading the store (models.py and evaluations.py do the work) ---------------------------
    def _load(self) -> None:
        from mlobs_notebook.sources.models import load_production_model, training_datasets

        self.record, self.datasets, self.error = None, [], None
        choice = self.version.value
        if choice is None:
            self.error = f"model {self.model.value!r} has no versions"
        else:
            ref = f"models:/{self.model.value}{choice if choice.startswith('@') else '/' + choice}"
            try:
                self.record = load_production_model(ref, tracking_uri=self.tracking_uri)
                self.datasets = training_datasets(self.record, tracking_uri=self.tracking_uri)
            except MlobsError as exc:
                self.error = str(exc)
        self._load_series()

    def _load_series(self) -> None:
        from mlobs_notebook.sources.evaluations import metric_series

        self.series = None
        if self.record is not None:
            try:
                self.series = metric_series(self.record, self.metric.value, self.filter_string.value or None,
                                            tracking_uri=self.tracking_uri)  # fmt: skip
            except InputError as exc:
                self.error = str(exc)
        self._render()

    def _render(self) -> None:
        import polars as pl

        frame = self.series if self.series is not None else pl.DataFrame(schema={"window_start": pl.Datetime("us", "UTC"), "value": pl.Float64})
        marks = {}
        if self.record is not None and self.record.creation_time is not None:
            marks["registered"] = self.record.creation_time.date().isoformat()
        name = f"{self.model.value} {self.version.label or ''}".strip()
        self._show("metric_series", metric_series_figure(frame, self.metric.value, marks=marks,
                                                         title=f"{self.metric.value} of {name}"))  # fmt: skip
        self._show_html("info", self._info_html(), repr(self))

    def _info_html(self) -> str:
        tables = []
        if self.record is not None:
            r = self.record
            rows = [("model", f"{r.name} v{r.version}"), ("aliases", ", ".join(r.aliases) or "none"),
                    ("run", r.run_id), ("registered", r.creation_time.isoformat() if r.creation_time else "")]  # fmt: skip
            tables.append(table(None, rows))
        if self.datasets:
            sources = [(d.name, d.context or "", d.source_type, d.uri, _snapshot(d), d.digest) for d in self.datasets]
            tables.append(table(["dataset", "context", "type", "source", "snapshot", "digest"], sources, "training data"))
        return block(tables=tables, error=self.error)

    def _summary(self) -> str:
        if self.record is None:
            return f"{self.model.value}: {self.error or 'nothing loaded'}"
        return f"{self.record.name} v{self.record.version}, run {self.record.run_id}"


def _snapshot(record: Any) -> str:
    source = record.source
    if getattr(source, "snapshot_id", None) is not None:
        return f"snapshot {source.snapshot_id}"
    if getattr(source, "version", None) is not None:
        return f"version {source.version}"
    return "unpinned"
