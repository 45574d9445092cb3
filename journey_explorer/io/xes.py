"""XES, the process-mining XML standard: ``<trace>`` (a path) of ``<event>`` elements.

Parsed with ``iterparse`` (elements cleared as we go). Trace ``concept:name`` is the user, event
``concept:name`` the event, ``time:timestamp`` the time; other event attributes become properties and
other trace attributes become user traits.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from functools import lru_cache
from typing import Iterator

import numpy as np
import pandas as pd

from journey_explorer.domain import InputError
from journey_explorer.io.base import EVENT, INSERT_ID, SESSION, TIME, USER, VENDOR_MAPPING, SourceChunk
from journey_explorer.io.opening import open_binary

COLUMNS = [USER, EVENT, TIME, SESSION, INSERT_ID]
TYPED = {"string", "date", "int", "float", "boolean", "id"}


@lru_cache(maxsize=256)
def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _value(element: ET.Element):
    kind, value = _local(element.tag), element.get("value")
    if kind == "int":
        try:
            return int(value)
        except (TypeError, ValueError):
            return value
    if kind == "float":
        try:
            return float(value)
        except (TypeError, ValueError):
            return value
    if kind == "boolean":
        return str(value).lower() == "true"
    return value


def _attributes(element: ET.Element) -> dict:
    return {child.get("key"): _value(child) for child in element
            if _local(child.tag) in TYPED and child.get("key")}


class XesReader:
    """An XES log, read whole on first use (process logs are small next to event exports) so that
    every event attribute is a column of its own, with its XES type (int, float, boolean)."""

    fixed_mapping = VENDOR_MAPPING

    def __init__(self, path: str):
        self.path, self.format = path, "xes"
        self._traits: dict[str, dict] = {}
        self._frame: pd.DataFrame | None = None
        self._lines: np.ndarray | None = None
        self._check_root()

    def _check_root(self) -> None:
        try:
            with open_binary(self.path) as stream:
                for _, element in ET.iterparse(stream, events=("start",)):
                    if _local(element.tag) != "log":
                        raise InputError(f"this XML is not an XES log (root element <{_local(element.tag)}>)",
                                         file=self.path)
                    return
        except ET.ParseError as exc:
            raise InputError(f"not valid XML ({exc})", file=self.path, line=exc.position[0]) from None

    def _read(self) -> pd.DataFrame:
        if self._frame is None:
            rows, lines = [], []
            for row, line in self._trace_rows():
                rows.append(row)
                lines.append(line)
            columns = list(dict.fromkeys(COLUMNS + [k for row in rows for k in row]))
            self._frame = pd.DataFrame(rows, columns=columns, dtype=object)
            self._lines = np.array(lines, dtype=np.int64)
        return self._frame

    def columns(self) -> list[str]:
        return [str(c) for c in self._read().columns]

    def preview(self, rows: int = 20) -> pd.DataFrame:
        return self._read().head(rows)

    def chunks(self, chunk_rows: int) -> Iterator[SourceChunk]:
        frame = self._read()
        for start in range(0, max(len(frame), 1), chunk_rows):
            yield SourceChunk(frame.iloc[start:start + chunk_rows].reset_index(drop=True),
                              self._lines[start:start + chunk_rows])

    def _trace_rows(self) -> Iterator[tuple[tuple, int]]:
        """Rows with their trace's name (a direct child of <trace>, written before its events)."""
        record, trace_name, open_tags = 0, None, []
        try:
            with open_binary(self.path) as stream:
                for event, element in ET.iterparse(stream, events=("start", "end")):
                    tag = _local(element.tag)
                    if event == "start":
                        open_tags.append(tag)
                        if tag == "trace":
                            trace_name = None
                        continue
                    open_tags.pop()
                    parent = open_tags[-1] if open_tags else None
                    if tag == "event":
                        record += 1
                        attributes = _attributes(element)
                        row = {USER: trace_name, EVENT: attributes.pop("concept:name", None),
                               TIME: attributes.pop("time:timestamp", None)}
                        row.update({k if k not in COLUMNS else f"event:{k}": v for k, v in attributes.items()})
                        yield row, record
                        element.clear()
                    elif parent == "trace" and tag in TYPED and element.get("key") == "concept:name":
                        trace_name = element.get("value")
                    elif tag == "trace":
                        attributes = _attributes(element)
                        attributes.pop("concept:name", None)
                        if trace_name is not None and attributes:
                            self._traits.setdefault(str(trace_name), {}).update(attributes)
                        element.clear()
        except ET.ParseError as exc:
            raise InputError(f"the XML is broken ({exc})", file=self.path, line=exc.position[0]) from None

    def user_traits(self) -> dict[str, dict]:
        return self._traits
