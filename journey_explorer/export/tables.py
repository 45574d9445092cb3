"""The numbers behind a chart, to CSV or XLSX (chosen by suffix), safe to open in a spreadsheet."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from journey_explorer.domain import JourneyError
from journey_explorer.export.files import atomic_output

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV/formula injection).

    >>> neutralise("=HYPERLINK(1)"), neutralise("-2 steps"), neutralise(-2), neutralise("Sign Up")
    ("'=HYPERLINK(1)", "'-2 steps", -2, 'Sign Up')
    """
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy with every text cell (and column name) neutralised; numbers stay numbers."""
    out = frame.copy()
    for column in out.columns:
        if not pd.api.types.is_numeric_dtype(out[column]):
            out[column] = out[column].map(neutralise)
    out.columns = [neutralise(str(c)) for c in out.columns]
    return out


def write_table(frame: pd.DataFrame, path: str | Path) -> Path:
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise JourneyError(f"Cannot write a table as '{suffix}': use .csv or .xlsx")
    safe = safe_frame(frame)
    with atomic_output(path) as temporary:
        if suffix == ".csv":
            safe.to_csv(temporary, index=False)
        else:
            safe.to_excel(temporary, index=False, engine="openpyxl")
    return path
