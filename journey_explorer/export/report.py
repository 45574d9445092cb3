"""The automatic workshop deck: one slide per question, each chart with its findings in words.

``journey-explorer report PROJECT|FILE``: a FILE (any format the importer reads) is imported into a
temporary project first, which is deleted afterwards; the client's data stays on this machine.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from journey_explorer.analysis.units import counted, path_words
from journey_explorer.domain import ImportOptions, ImportSummary
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
    imported: ImportSummary | None = None     # a report on a file: how its import went
    goal_unwanted: bool = False               # the goal is an outcome to avoid (a cancellation)
    outcome_to_avoid: str | None = None       # a guessed goal: a failure outcome scoring better (``--avoid`` it?)


def write_report(source: str | Path, out: str | Path, goal: str | None = None,
                 options: ImportOptions | None = None, filters: FilterState | None = None,
                 title: str = "", avoid: bool | None = None) -> Report:
    """A deck (.pptx) or handout (.pdf) answering the workshop questions for a project or a file,
    for the data under ``filters`` (dates, segment, per user or session; default: all of it). ``avoid``: the
    goal is an outcome to avoid (True), one to reach (False), or as its name says (None: cancel, churn...)."""
    source = Path(source)
    if avoid is not None:
        from dataclasses import replace
        filters = replace(filters or FilterState(), avoid_goal=avoid)
    if is_project_file(source):
        return _report_on_project(source, Path(out), goal, heading="", source_name=None, filters=filters,
                                  title=title)
    with tempfile.TemporaryDirectory(prefix="journey-report-") as folder:
        from journey_explorer.store.importer import import_file
        project = Path(folder) / f"{source.stem}{SUFFIX}"
        summary = import_file(project, source, options or ImportOptions())
        report = _report_on_project(project, Path(out), goal, heading=source.name, source_name=source.name,
                                    filters=filters, title=title)
        report.imported = summary
        return report


@dataclass
class ReportPlan:
    """What a report deck says before anything is drawn: the goal, the filters, the title and one pin
    per finding (then any pins the user added from the board)."""
    goal: str
    goal_guessed: bool
    filters: FilterState      # its goal, and whether it is an outcome to avoid (``FilterState.goal_unwanted``)
    title: str
    findings: list
    pins: list[Pin]


def chosen_goal(log, goal: str | None) -> str:
    """The goal asked for, else the project's, else the structural guess (as the window makes it)."""
    from journey_explorer.analysis import narrative
    return goal or (log.default_goal if log.default_goal in log.event_names else None) or narrative.guess_goal(log)


def default_title(name: str, goal: str, unwanted: bool = False) -> str:
    return f"Journey review: {name} ({'outcome to avoid' if unwanted else 'goal'}: {goal})"


def plan_report(log, goal: str | None = None, filters: FilterState | None = None, name: str = "",
                title: str = "", board_pins=(), session=None, progress=None) -> ReportPlan:
    """The findings for ``log`` under ``filters`` (any thread; ``session`` shares the window's
    filtered logs). The same function behind the CLI's ``report`` and the window's "Create report…"."""
    from dataclasses import replace

    from journey_explorer.analysis import narrative
    from journey_explorer.domain import JourneyError
    from journey_explorer.state.session import Session
    asked = goal or (filters.goal if filters else None)
    chosen = chosen_goal(log, asked)
    filters = replace(filters or FilterState(), goal=chosen)
    unwanted = filters.goal_unwanted()
    filters = replace(filters, avoid_goal=unwanted)           # said once, saved with the pins
    session = session or Session(None, log)
    shown = session.filtered(filters)
    if len(shown) == 0:
        raise JourneyError("No events match the filters: nothing to report on.")
    findings = narrative.workshop_findings(shown, chosen, report_questions(), unwanted=unwanted)
    if progress is not None:
        progress(0.5)
    as_dict = filters.to_dict()
    pins = [Pin(view=f.view, title=f.title, spec=spec_to_dict(f.spec), filters=as_dict, observation=f.observation)
            for f in findings] + list(board_pins)
    return ReportPlan(chosen, not asked and chosen != log.default_goal, filters,
                      title or default_title(name, chosen, unwanted), findings, pins)


def report_cover(log, project_path: Path | None, plan: ReportPlan, session=None):
    """The title slide: the (editable) title, the project, the dates of the data the slides show,
    the filters in words."""
    import pandas as pd

    from journey_explorer.export.deck import Cover
    from journey_explorer.state.session import Session
    shown = (session or Session(None, log)).filtered(plan.filters)
    lines = [f"Project: {Path(project_path).stem}" if project_path else "Journey Explorer"]
    if len(shown):
        first = pd.Timestamp(int(shown.ts.min()), unit="ms").date()
        last = pd.Timestamp(int(shown.ts.max()), unit="ms").date()
        lines.append(f"Data: {first} – {last} · {counted(shown.paths_count, shown.path_noun)} · {counted(len(shown), 'event')}")
    goal = f"outcome to avoid: {plan.goal}" if plan.filters.goal_unwanted() else f"goal: {plan.goal}"
    lines.append(f"Filters: {plan.filters.describe(paths=path_words(log))} · {goal}")
    from datetime import date
    lines.append(f"Prepared with Journey Explorer on {date.today().isoformat()}")
    return Cover(title=plan.title, lines=lines)


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
                       source_name: str | None, filters: FilterState | None = None, title: str = "") -> Report:
    from journey_explorer.domain import JourneyError
    from journey_explorer.export.deck import pin_slides, write_pdf_handout, write_pptx
    with Project.open(project_path) as project:
        log = project.load_event_log()
    plan = plan_report(log, goal, filters, name=heading or project_path.stem, title=title)
    writers = {".pptx": write_pptx, ".pdf": write_pdf_handout}
    if out.suffix.lower() not in writers:
        raise JourneyError(f"Cannot write a report as '{out.suffix}': use .pptx or .pdf")
    cover = report_cover(log, project_path, plan)
    writers[out.suffix.lower()](cover, pin_slides(log, project_path, plan.pins, source_name), out)
    from journey_explorer.analysis.goals import outcome_to_avoid
    return Report(out, plan.goal, plan.goal_guessed,
                  [{"title": f.title, "observation": f.observation} for f in plan.findings],
                  goal_unwanted=plan.filters.goal_unwanted(),
                  outcome_to_avoid=outcome_to_avoid(log) if plan.goal_guessed else None)
