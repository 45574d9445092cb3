"""Seeded fuzzing of project files: mutated bytes and pages give the app's own errors, never a traceback.

The harness lives in ``benchmarks/fuzz_projects.py`` (its long run: ``--cases 10000``)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

HARNESS = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_projects.py"
CASES = 200


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_projects", HARNESS)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def base(fuzz, tmp_path_factory) -> bytes:
    return fuzz.make_base_project(tmp_path_factory.mktemp("fuzz-base")).read_bytes()


def test_mutated_projects_only_raise_the_apps_errors(fuzz, base, tmp_path):
    outcomes = {}
    for seed in range(CASES):
        outcome = fuzz.run_case(base, seed, tmp_path)      # anything but a JourneyError fails here
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    assert outcomes.get("ProjectDamaged", 0) > CASES // 4, outcomes     # the mutations do bite


def test_the_unmutated_base_project_reads_and_takes_an_import(fuzz, base, tmp_path):
    path = tmp_path / "same.journey"
    path.write_bytes(base)
    fuzz.import_into(path, tmp_path)
    fuzz.use_project(path)
