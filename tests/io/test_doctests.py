"""The worked examples in the readers' docstrings are tests too."""
from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["structured", "vendors", "mapping", "lifecycle", "ocel", "snowplow", "xes"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"journey_explorer.io.{name}")
    result = doctest.testmod(module)
    assert result.failed == 0 and (result.attempted > 0 or name in ("ocel", "snowplow", "xes"))
