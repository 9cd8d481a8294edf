"""Where events come from: the I/O side of lineage.

- a JSON Lines file (the file transport's append mode), read as a stream, line by line;
- a JSON file holding one event, an array of events, or a saved Marquez lineage response;
- a folder of such files (the file transport's one-file-per-event mode), in natural name order,
  and of Unity Catalog system table exports (Delta or parquet, recognised by their columns:
  :mod:`~mlobs_notebook.lineage.readers.unity_catalog`), whose events come first;
- a live Marquez lineage URL (``http(s)://host/api/v1/lineage?nodeId=...``), with a timeout;
- an iterable of already decoded dicts.

Every item comes out as ``(source, line, object, reason)``: ``reason`` is set (and ``object``
None) when the text at that line could not be decoded; ``object`` is a decoded dict, or an event
already parsed (the system tables' reader builds them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from mlobs_notebook.errors import SourceUnreadable
from mlobs_notebook.lineage.readers.marquez import is_marquez_response, marquez_to_events
from mlobs_notebook.lineage.readers.system_tables import find_system_tables
from mlobs_notebook.lineage.readers.unity_catalog import iter_system_tables

try:  # orjson decodes events several times faster; json is the fallback
    from orjson import JSONDecodeError as _DecodeError
    from orjson import loads as _loads
except ImportError:  # pragma: no cover - orjson is a declared dependency
    _loads = json.loads  # type: ignore[assignment]
    _DecodeError = ValueError  # type: ignore[assignment,misc]

RawItem = tuple[str, int | None, Any, str | None]
_SUFFIXES = {".json", ".jsonl", ".ndjson"}
_WHOLE_DOCUMENT_LIMIT = 256 * 1024 * 1024  # larger .json files are only read line by line


def iter_source(source: Any, *, timeout: float = 10) -> Iterator[RawItem]:
    if isinstance(source, str) and re.match(r"^https?://", source):
        yield from _from_url(source, timeout)
        return
    if isinstance(source, str | Path):
        path = Path(source).expanduser()
        if path.is_dir():
            tables = find_system_tables(path)
            if tables or tables.skipped:
                yield from iter_system_tables(tables)
            files = sorted((p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in _SUFFIXES
                            and not _in_table_metadata(p.relative_to(path))), key=_natural)
            for f in files:
                yield from _from_file(f)
            return
        if path.is_file():
            yield from _from_file(path)
            return
        raise SourceUnreadable(
            f"lineage source {str(source)!r} is neither a file, a folder nor an http(s) URL. "
            "Pass a JSON Lines file, a folder of event files, a saved or live Marquez lineage response, "
            "or an iterable of event dicts."
        )
    if isinstance(source, dict):
        source = [source]
    if isinstance(source, Iterable):
        for i, obj in enumerate(source, start=1):
            yield from _expand("<events>", i, obj)
        return
    raise SourceUnreadable(f"cannot read lineage from a {type(source).__name__}")


def _in_table_metadata(relative: Path) -> bool:
    """Whether a file is a Delta table's log (JSON, not events) or under a hidden folder."""
    return any(part == "_delta_log" or part.startswith(".") for part in relative.parts[:-1])


def _natural(p: Path) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(p))]


def _expand(label: str, line: int | None, obj: Any) -> Iterator[RawItem]:
    if isinstance(obj, list):  # a batch of events on one line (or one array in a folder's file)
        for item in obj:
            yield from _expand(label, line, item)
        return
    if is_marquez_response(obj):
        for ev in marquez_to_events(obj):
            if "_invalid" in ev:
                yield label, line, None, ev["_invalid"]
            else:
                yield label, line, ev, None
    else:
        yield label, line, obj, None


def _from_file(path: Path) -> Iterator[RawItem]:
    label = str(path)
    try:
        fh = path.open("rb")  # bytes: orjson decodes UTF-8 itself, no str round trip
    except OSError as exc:
        raise SourceUnreadable(f"cannot open lineage file {label}: {exc.strerror or exc}") from exc
    with fh:
        first = fh.readline()
        while first and not first.strip():
            first = fh.readline()
        stripped = first.strip()
        one_line_json = False
        if stripped[:1] in (b"{", b"["):
            try:
                _loads(stripped)
                one_line_json = True
            except (_DecodeError, ValueError):
                pass
        small = path.stat().st_size <= _WHOLE_DOCUMENT_LIMIT
        if not one_line_json and small and stripped[:1] in (b"{", b"["):
            fh.seek(0)
            text = fh.read().decode("utf-8", errors="replace")
            if stripped[:1] == b"[":
                yield from _array(label, text)
                return
            try:
                obj = json.loads(text)
            except ValueError:
                # not one document: JSON Lines whose first line is damaged
                yield from _lines(label, text.splitlines(keepends=True))
                return
            yield from _expand(label, _line_of(text, len(text) - len(text.lstrip())), obj)
            return
        fh.seek(0)
        yield from _lines(label, fh)


def _lines(label: str, lines: Iterable[str | bytes]) -> Iterator[RawItem]:
    for lineno, text in enumerate(lines, start=1):
        try:
            obj = _loads(text)
        except (_DecodeError, ValueError):
            if not text.strip():
                continue
            if isinstance(text, bytes):
                text = text.decode("utf-8", errors="replace")
            try:  # the stdlib message says where the text breaks
                json.loads(text)
                reason = "not valid JSON"
            except ValueError as exc:
                reason = f"not valid JSON ({getattr(exc, 'msg', exc)})"
            yield label, lineno, None, f"{reason}: {text.strip()[:40]!r}"
            continue
        if isinstance(obj, dict) and "eventTime" in obj:
            yield label, lineno, obj, None  # the common case, without the Marquez check
        else:
            yield from _expand(label, lineno, obj)


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _array(label: str, text: str) -> Iterator[RawItem]:
    """A JSON array decoded element by element, to keep each element's line."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    pos = start + 1
    ws = re.compile(r"[\s,]*")
    while True:
        pos = ws.match(text, pos).end()  # type: ignore[union-attr]
        if pos >= len(text) or text[pos] == "]":
            return
        try:
            obj, end = decoder.raw_decode(text, pos)
        except ValueError as exc:
            yield label, getattr(exc, "lineno", None), None, f"not valid JSON ({getattr(exc, 'msg', exc)}); rest of the array skipped"
            return
        yield from _expand(label, _line_of(text, pos), obj)
        pos = end


def _from_url(url: str, timeout: float) -> Iterator[RawItem]:
    import urllib.error
    import urllib.request

    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as exc:
        raise SourceUnreadable(f"Marquez at {url} answered HTTP {exc.code}: {exc.reason}. Check the nodeId.") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise SourceUnreadable(
            f"Marquez at {url} did not answer within {timeout} s ({reason}). "
            "Check the URL and that the server is up, or pass timeout=."
        ) from exc
    try:
        obj = json.loads(body)
    except ValueError as exc:
        raise SourceUnreadable(f"Marquez at {url} did not return JSON: {body[:80]!r}") from exc
    yield from _expand(url, None, obj)
