"""The automatic workshop deck: one slide per question, each chart with its findings in words.

``journey-explorer report PROJECT|FILE``: a FILE (any format the importer reads) is imported into a
temporary project first, which is deleted afterwards; the client's data stays on this machine.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from journey_explorer.domain import ImportOptions
from journey_explorer.state.filters import FilterState
from journey_explorer.state.registry import REPORT_ONLY_FINDINGS, VIEWS
from journey_explorer.state.views import spec_to_dict
from journey_explorer.store.board import Pin
from journey_explorer.store.project import SUFFIX, Project, is_project_file


@dataclass
class Report:
    path: Path
    goal: str
    goal_guessed: bool
    slides: list[dict]        # title and observation of each slide after the cover


def write_report(source: str | Path, out: str | Path, goal: str | None = None,
                 options: ImportOptions | None = None) -> Report:
    """A deck (.pptx) or handout (.pdf) answering the workshop questions for a project or a file."""
    source = Path(source)
    if is_project_file(source):
        return _report_on_project(source, Path(out), goal, heading="", source_name=None)
    with tempfile.TemporaryDirectory(prefix="journey-report-") as folder:
        from journey_explorer.store.importer import import_file
        project = Path(folder) / f"{source.stem}{SUFFIX}"
        import_file(project, source, options or ImportOptions())
        return _report_on_project(project, Path(out), goal, heading=source.name, source_name=source.name)


def report_questions() -> tuple:
    """The report's questions in tab order: the finding each view declares in the registry."""
    names = [entry.finding for entry in VIEWS if entry.finding] + list(REPORT_ONLY_FINDINGS)
    return tuple(_finding_function(name) for name in names)


def _finding_function(name: str):
    """"stuck_points" (analysis.narrative) or "hygiene.tracking_finding" (analysis.hygiene)."""
    import importlib
    module, _, function = name.rpartition(".")
    return getattr(importlib.import_module(f"journey_explorer.analysis.{module or 'narrative'}"), function)


def _report_on_project(project_path: Path, out: Path, goal: str | None, heading: str,
                       source_name: str | None) -> Report:
    from journey_explorer.analysis import narrative
    from journey_explorer.export.deck import write_board
    with Project.open(project_path) as project:
        log = project.load_event_log()
    chosen = goal or (log.default_goal if log.default_goal in log.event_names else None) or narrative.guess_goal(log)
    findings = narrative.workshop_findings(log, chosen, report_questions())
    filters = FilterState(goal=chosen).to_dict()
    pins = [Pin(view=f.view, title=f.title, spec=spec_to_dict(f.spec), filters=filters, observation=f.observation)
            for f in findings]
    title = f"Journey review: {heading or project_path.stem} (goal: {chosen})"
    write_board(log, project_path, pins, out, heading=title, source_name=source_name)
    return Report(out, chosen, goal is None and chosen != log.default_goal,
                  [{"title": f.title, "observation": f.observation} for f in findings])
