"""Tables as JSON-ready rows: the one place where a missing number (NaN) becomes ``null``."""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd



def json_records(frame: pd.DataFrame) -> list[dict]:
    """The rows of ``frame`` (a DataFrame or ``analysis.columns.Columns``) as dicts, NaN floats as
    None (JSON has no NaN).

    >>> import pandas as pd
    >>> json_records(pd.DataFrame({"step": ["a", "b"], "median_s": [1.5, float("nan")]}))
    [{'step': 'a', 'median_s': 1.5}, {'step': 'b', 'median_s': None}]
    """
    return [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            for row in (frame.records() if hasattr(frame, "records") else frame.to_dict("records"))]
