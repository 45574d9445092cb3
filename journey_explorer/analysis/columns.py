"""A small table as named numpy columns, for the few tables that must not wait for pandas.

The first view on start-up (the Overview) is computed and shown before pandas is imported (its
import costs ~0.5 s); ``Columns`` carries its weekly table to the chart and the table model, and
becomes a DataFrame only when something asks for one (``to_frame``).

>>> table = Columns({"period": ["2024-01-01", "2024-01-08"], "active": [3, 4]})
>>> table.columns, table["active"].tolist(), list(table.rows())
(['period', 'active'], [3, 4], [('2024-01-01', 3), ('2024-01-08', 4)])
"""
from __future__ import annotations

import numpy as np


class Columns:
    def __init__(self, data: dict, attrs: dict | None = None):
        self.data = {name: np.asarray(values) for name, values in data.items()}
        self.attrs = dict(attrs or {})

    @property
    def columns(self) -> list[str]:
        return list(self.data)

    def __len__(self) -> int:
        return len(next(iter(self.data.values()))) if self.data else 0

    def __getitem__(self, key):
        if isinstance(key, list):
            return Columns({name: self.data[name] for name in key}, self.attrs)
        return self.data[key]

    def assign(self, **columns) -> Columns:
        return Columns({**self.data, **columns}, self.attrs)

    def rows(self):
        """Each row as a tuple of Python values (strings, ints, floats), in column order."""
        return zip(*(values.tolist() for values in self.data.values()))

    def records(self) -> list[dict]:
        """The rows as dicts of Python values (like ``DataFrame.to_dict("records")``)."""
        names = self.columns
        return [dict(zip(names, row)) for row in self.rows()]

    def is_numeric(self, name: str) -> bool:
        return self.data[name].dtype.kind in "iufc"

    def to_frame(self):
        import pandas as pd
        frame = pd.DataFrame({name: (values.tolist() if values.dtype.kind == "U" else values)
                              for name, values in self.data.items()})
        frame.attrs.update(self.attrs)
        return frame
