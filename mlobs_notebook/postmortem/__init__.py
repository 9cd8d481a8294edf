"""The postmortem: an investigation as JSON, text, a light HTML summary, and a shareable report.

Modules: ``contents`` (the JSON contract and the rows every format shows), ``html`` (summary and
self-contained file, from Jinja2 templates), ``markdown`` (with SVG figures and a Mermaid lineage
path), ``text`` (what the CLI prints), ``figures`` (plotly and SVG), ``svg`` (dependency-free
charts), ``write`` (atomic files). It renders an :class:`~mlobs_notebook.investigation.Investigation`
it is given and imports the investigation only for types.
"""

from mlobs_notebook.postmortem.contents import investigation_dict
from mlobs_notebook.postmortem.html import summary_html, to_html
from mlobs_notebook.postmortem.markdown import to_markdown
from mlobs_notebook.postmortem.text import text_summary
from mlobs_notebook.postmortem.write import write_report

__all__ = ["investigation_dict", "summary_html", "text_summary", "to_html", "to_markdown", "write_report"]
