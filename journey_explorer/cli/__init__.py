"""Command line: the same io/store/analysis functions the GUI uses, printing JSON or writing CSV.

``journey-explorer`` alone (or with a project path) opens the desktop app.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import sqlite3
import sys
import time
from pathlib import Path

from journey_explorer.cli import one_process  # first: it must run before numpy is imported
from journey_explorer.cli.arguments import (
    add_common_arguments,
    arguments_for,
    cli_message,
    filter_from_args,
    flag_name,
    hygiene_spec,
)
from journey_explorer.domain import FORMATS, LIFECYCLE_MODES, ImportOptions, InputError, JourneyError, OptionError
from journey_explorer.memory import keep_freed_memory, no_huge_page_advice
from journey_explorer.state.registry import analysis_commands  # names modules, imports none of them

ANALYSES = analysis_commands()      # every view's analysis (state.registry), then command-only ones
COMMANDS = ("import", "info", "demo", "repair", "export", "report", "hygiene", "properties", "segments") + ANALYSES


def analysis_module(name: str):
    """The analysis module behind a command (``Spec`` and ``run``; its flags are in ``cli.arguments``)."""
    return importlib.import_module(f"journey_explorer.analysis.{name}")


def build_parser(only: str | None = None, export_view: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; with ``only`` (an analysis), just that command's: a command imports and
    builds only what it needs (starting `graph` must not pay for scipy, nor for the ~10 other
    commands' parsers); ``""``: the other commands without any analysis."""
    parser = argparse.ArgumentParser(
        prog="journey-explorer",
        description="Offline customer-journey explorer. Without a command, opens the app.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    if only:
        _add_analysis(commands, only)
        return parser
    _add_import(commands)
    info = commands.add_parser("info", help="what a project holds")
    info.add_argument("project")
    info.add_argument("--json", action="store_true", help="print one JSON document")
    demo = commands.add_parser("demo", help="write the built-in demo project")
    demo.add_argument("project")
    demo.add_argument("--force", action="store_true", help="replace an existing project at PROJECT")
    repair = commands.add_parser("repair", help="check a project and rebuild its cached event log from its events")
    repair.add_argument("project")
    for name in ANALYSES:
        if only is None or only == name:
            _add_analysis(commands, name)
    _add_export(commands, view=export_view)
    _add_report(commands)
    _add_hygiene(commands)
    _add_properties(commands)
    return parser


def _add_import(commands) -> None:
    cmd = commands.add_parser("import", help="import an event file into a project (created when missing)")
    cmd.add_argument("project")
    cmd.add_argument("file")
    _add_column_arguments(cmd)
    cmd.add_argument("--json", action="store_true", help="print one JSON line")


def _add_column_arguments(cmd) -> None:
    """How to read an event file: its format, columns, times and rows (import, and report on a FILE:
    every option an import message suggests is taken by both)."""
    cmd.add_argument("--format", choices=FORMATS, default="auto")
    cmd.add_argument("--user", help="column holding the user id (default: guessed)")
    cmd.add_argument("--event", help="column holding the event name (default: guessed)")
    cmd.add_argument("--time", help="column holding the timestamp (default: guessed)")
    cmd.add_argument("--session", help="column holding a session id")
    cmd.add_argument("--anonymous", help="column holding an anonymous (device, cookie) id on every row, where "
                                         "the user id is set only after login: rows without a user join the "
                                         "user their anonymous id was seen with (default: guessed when the user "
                                         "column is not given)")
    cmd.add_argument("--time-format", help="strptime pattern, or epoch_s / epoch_ms / epoch_us")
    cmd.add_argument("--timezone", default="UTC", help="zone of times without an offset (default UTC)")
    cmd.add_argument("--date-order", choices=("dmy", "mdy"), help="resolve dates like 03/04/2024")
    cmd.add_argument("--lifecycle", choices=LIFECYCLE_MODES, default="auto",
                     help="process logs with lifecycle:transition: complete = completed rows only (with "
                          "duration_s from their start), split = 'activity (start)' / 'activity (complete)', "
                          "all = every row as it is; auto (default) = complete when starts and completes exist")
    cmd.add_argument("--object-type", help="OCEL logs: the object type whose life is a path (e.g. order)")
    cmd.add_argument("--sheet", help="Excel sheet to read (default: the first)")
    cmd.add_argument("--pseudonymize", action="store_true", help="replace user ids with a keyed hash")
    cmd.add_argument("--keep-identical-rows", action="store_true",
                     help="keep rows equal to an earlier one (a file whose times are to the minute, where a repeat "
                          "within it is real); by default they are skipped as duplicates and listed")
    cmd.add_argument("--drop-columns", default="", help="comma-separated columns not to import")


def _column_options(args) -> ImportOptions:
    return ImportOptions(user=args.user, event=args.event, time=args.time, session=args.session,
                         anonymous=args.anonymous,
                         time_format=args.time_format, timezone=args.timezone, date_order=args.date_order,
                         lifecycle=args.lifecycle, object_type=args.object_type,
                         format=args.format, pseudonymize=args.pseudonymize, sheet=args.sheet,
                         drop_columns=tuple(c.strip() for c in args.drop_columns.split(",") if c.strip()),
                         keep_identical_rows=args.keep_identical_rows)


def _add_analysis(commands, name: str) -> None:
    try:
        module = analysis_module(name)
    except ImportError:
        return          # an analysis not built yet is simply not offered
    doc = (module.__doc__ or name).strip().splitlines()[0]
    cmd = commands.add_parser(name, help=doc, description=module.__doc__)
    cmd.add_argument("project")
    add_common_arguments(cmd)
    arguments_for(name).add(cmd)
    cmd.add_argument("--json", action="store_true", help="print the result as one JSON document")
    cmd.add_argument("--csv", metavar="FILE", help="write the result table to a CSV file")


def _add_export(commands, view: str | None) -> None:
    """``export``: its options are the chosen view's analysis options (known once --view is read)."""
    from journey_explorer.state.views import EXPORTABLE_VIEWS
    cmd = commands.add_parser(
        "export", help="one view as a slide-ready PNG/SVG/PDF, or its table as CSV/XLSX",
        description="Draw a view as in the app (presentation theme, 16:9, title, subtitle, source line). "
                    "Add the view's options, as its own command takes them (see e.g. 'flows --help').")
    cmd.add_argument("project")
    cmd.add_argument("--view", required=True, choices=EXPORTABLE_VIEWS)
    cmd.add_argument("--out", required=True, help="FILE.png|.svg|.pdf|.csv|.xlsx")
    cmd.add_argument("--width", type=int, default=1920, help="image width in pixels (default 1920, 16:9)")
    cmd.set_defaults(view_defaults_when_missing=())
    add_common_arguments(cmd)
    if view in EXPORTABLE_VIEWS:
        from journey_explorer.state.registry import view as view_entry
        analysis = view_entry(view).analysis
        if analysis:
            arguments_for(analysis).add(cmd)
            # What the analysis command requires (funnel --steps, northstar --event) is optional here:
            # without it the export shows the view's own default, as the app would.
            for action in cmd._actions:
                if action.required and action.dest not in ("project", "view", "out"):
                    action.required = False
                    cmd.set_defaults(view_defaults_when_missing=cmd.get_default("view_defaults_when_missing")
                                     + (action.dest,))
    if "--goal" not in cmd._option_string_actions:
        cmd.add_argument("--goal", help="the goal event (default: the project's)")


def _add_report(commands) -> None:
    cmd = commands.add_parser(
        "report", help="an automatic workshop deck (PPTX, or a PDF handout) for a project or an event file",
        description="Overview, flows, stuck points, differences, the funnel to the goal, retention, lifecycle "
                    "and the north star, each slide with its findings in words. A file is imported into a "
                    "temporary project first.")
    cmd.add_argument("source", metavar="PROJECT|FILE")
    _add_column_arguments(cmd.add_argument_group("reading a FILE"))
    goal = cmd.add_mutually_exclusive_group()
    goal.add_argument("--goal", help="the goal event (default: the project's, else a guess from the paths' "
                                     "structure); one named like a failure (cancel, churn, unsubscribe...) is an "
                                     "outcome to avoid, as with --avoid")
    goal.add_argument("--avoid", metavar="EVENT", help="an outcome to avoid as the goal (a cancellation): the "
                                                       "paths that do it are the failing ones")
    cmd.add_argument("--out", help="deck.pptx or handout.pdf (default: NAME-report.pptx here)")
    cmd.add_argument("--json", action="store_true", help="print the slides' titles and findings as JSON")


def _add_hygiene(commands) -> None:
    # The options are spelled here: building the parser must not import the analysis (scipy).
    cmd = commands.add_parser(
        "hygiene", help="tracking-plan hygiene: event names that look like one action, broken tracking",
        description="Suggested merges (names likely to be one action, with evidence and a confidence) and "
                    "broken tracking (events that stop, start or go missing for days, double firing, one action "
                    "sent under two names at once, impossible users or sessions, bad timestamps), with counts "
                    "and dates. Dismissals are kept in the project.")
    cmd.add_argument("project")
    cmd.add_argument("--min-confidence", type=float, default=0.5,
                     help="suggest merges from this confidence on (default 0.5)")
    cmd.add_argument("--all", action="store_true", help="also list what was dismissed")
    cmd.add_argument("--merge", metavar="N|KEY", help="merge suggestion N (1 = first listed) or with this key")
    cmd.add_argument("--into", help="with --merge: the name to merge into (default: the suggested one)")
    cmd.add_argument("--dismiss", metavar="KEY", help="remember that this suggestion or breakage is not a problem")
    cmd.add_argument("--undismiss", metavar="KEY", help="list a dismissed item again")
    cmd.add_argument("--name-by", metavar="EVENT=PROPERTY",
                     help="name EVENT by its PROPERTY in every view ('page_view=page_title' shows "
                          "'page_view: Pricing', ...)")
    cmd.add_argument("--name-plainly", metavar="EVENT", help="undo --name-by for EVENT")
    cmd.add_argument("--json", action="store_true", help="print the result as one JSON document")
    cmd.add_argument("--csv", metavar="FILE", help="write suggestions and breakages to a CSV file")


def _add_properties(commands) -> None:
    cmd = commands.add_parser("properties", help="every property: level (user/session/event), type, top values")
    cmd.add_argument("project")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")
    cmd = commands.add_parser("segments", help="saved segments with their sizes; --save NAME keeps --segment")
    cmd.add_argument("project")
    cmd.add_argument("--save", metavar="NAME", help="save the --segment conditions under this name")
    cmd.add_argument("--segment", action="append", default=[], help='e.g. "did Export >= 3 within 7d"')
    cmd.add_argument("--match", choices=("first", "any"), default="first")
    cmd.add_argument("--json", action="store_true", help="print one JSON document")


# --- commands -------------------------------------------------------------------------------------


def run_import(args) -> int:
    from journey_explorer.store.importer import import_file
    summary = import_file(args.project, args.file, _column_options(args))
    if args.json:
        print(json.dumps(summary.to_json_dict(flag_name), ensure_ascii=False))
    else:
        print(summary.describe(flag_name))   # options named by their flags, not the window's labels
    return 0


def run_info(args) -> int:
    from journey_explorer.analysis.units import counted
    from journey_explorer.store.project import Project
    with Project.open(args.project) as project:
        info = project.info()
    if args.json:
        print(json.dumps(info.to_json_dict(), ensure_ascii=False))
        return 0
    cut = (f"gap {info.session_gap_minutes:g} min" if math.isfinite(info.session_gap_minutes)
           else "one per path: the paths are cases of a process, not visits; the project setting "
                "session_gap_minutes sets a gap")
    print(f"{info.path}\n  {counted(info.events, 'event')}, {counted(info.users, info.path_noun)}, "
          f"{counted(info.event_types, 'event type')}, "
          f"{counted(info.sessions, 'session')} ({cut})")
    print(f"  from {info.first_time} to {info.last_time}")
    print(f"  default goal: {info.default_goal or '(none)'}")
    for source in info.sources:
        print(f"  source: {source['path']} ({source['format']}, {source['imported']:,} events, "
              f"imported {source['imported_at']})")
    return 0


def run_demo(args) -> int:
    from journey_explorer.demo_project import write_demo_project
    started = time.perf_counter()
    path = write_demo_project(Path(args.project), force=args.force)
    print(f"Wrote the demo project to {path} in {time.perf_counter() - started:.1f} s")
    return 0


def run_repair(args) -> int:
    from journey_explorer.store.repair import repair_project
    done = repair_project(args.project)
    print(f"Repaired {args.project}: the cached log was rebuilt from {done['events']:,} events "
          f"(the file as it was is kept in {done['backup']})")
    if done["lost_properties"]:
        print(f"  these event properties were damaged and are gone: {', '.join(done['lost_properties'])}")
    return 0


def run_analysis(args) -> int:
    from journey_explorer.analysis.common import apply_filter
    from journey_explorer.store.project import Project
    module = analysis_module(args.command)
    if _FROM_COMMAND_LINE:
        one_process.import_ahead(getattr(module, "IMPORTS_AHEAD", ()))
    needs_properties = (bool(args.segment) or bool(getattr(args, "breakdown", None))
                        or getattr(module, "NEEDS_USER_PROPERTIES", False))
    with Project.open(args.project) as project:
        log = project.load_event_log(with_properties=needs_properties)
        whole, guess_stamp = log, _recall_goal_guess(project, log, args)
        if args.segment:
            from dataclasses import replace
            log = replace(log, saved_segments=project.segments())
    log = apply_filter(log, analysis_filter(module, args))
    _whole_log_goal_guess(whole, log, args)
    result = module.run(log, arguments_for(args.command).spec(args, log))
    if args.csv:
        write_csv(result.to_frame(), args.csv)
    if args.json or not args.csv:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, default=_json_default))
    _keep_goal_guess(args.project, whole, guess_stamp)
    return 0


def _recall_goal_guess(project, log, args) -> list | None:
    """When the command may guess the goal of the whole log (no --goal, no stored goal): the guess kept
    with the project for this log, if any, taken as the guess; returns the stamp a new guess would
    be kept under (None: nothing to recall or keep)."""
    from journey_explorer.analysis import goals
    if getattr(args, "goal", None) or log.default_goal in log.event_names or not len(log):
        return None
    log_stamp = project.log_stamp()
    if log_stamp is None:
        return None
    stamp = [log_stamp, goals.GUESS_RULES]
    remembered = project.remembered_goal_guess(stamp)
    if remembered is not None:
        goals.remember_guess(log, remembered)
        return None
    return stamp


def _whole_log_goal_guess(whole, log, args) -> None:
    """A filtered or per-session log answers with the whole log's goal guess, as the window and the
    report do: a date range, a segment or ``--by session`` asks about the same goal, not a new guess
    from what is left (per session, no visit "comes back", so a click after the goal looked like one)."""
    from journey_explorer.analysis import goals
    if log is not whole and not getattr(args, "goal", None) and whole.default_goal not in whole.event_names:
        goals.guess_from_whole(log, whole)


def _keep_goal_guess(path: str, log, stamp: list | None) -> None:
    """The command guessed the whole log's goal: keep it with the project for the next command
    (``remember_goal_guess``), after the answer is out."""
    from journey_explorer.analysis import goals
    guess = goals.known_guess(log) if stamp is not None else None
    if guess is not None:
        from journey_explorer.store.project import remember_goal_guess
        remember_goal_guess(path, stamp, guess)


def write_csv(frame, path: str) -> None:
    """A result table as CSV the way ``export`` writes one: formulas neutralised (a cell such as
    ``=HYPERLINK(...)`` is text in a spreadsheet), written whole or not at all (temp file + rename)."""
    from journey_explorer.export.files import atomic_output
    from journey_explorer.export.tables import safe_frame
    with atomic_output(path) as temporary:
        safe_frame(frame).to_csv(temporary, index=False)


def analysis_filter(module, args):
    """The common filter for an analysis; with ``--segment A --vs B`` the segment names a group to
    compare, so it must not also filter the log (B's users would vanish)."""
    flt = filter_from_args(args)
    if module is not None and getattr(module, "SEGMENT_DEFINES_GROUPS", False) and getattr(args, "vs", None):
        flt = type(flt)(since=flt.since, until=flt.until, segment=(), by=flt.by)
    return flt


def _json_default(value):
    """numpy scalars and arrays in results become plain JSON values."""
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def run_export(args) -> int:
    from journey_explorer.export.render import ViewRenderer
    from journey_explorer.state.filters import FilterState
    from journey_explorer.state.registry import view as view_entry
    from journey_explorer.state.views import analysis_module as view_module
    from journey_explorer.store.project import Project
    with Project.open(args.project) as project:
        log = project.load_event_log()
        saved = project.segments()
    if saved:
        from dataclasses import replace
        log = replace(log, saved_segments=saved)
    from journey_explorer.analysis.goals import default_goal
    # The project's goal, else the same structural guess the window and the report make.
    goal = args.goal or (default_goal(log) if len(log) else None)
    module = view_module(args.view)
    common = analysis_filter(module, args)
    filters = FilterState(since=common.since, until=common.until, segment=common.segment, by=common.by, goal=goal,
                          match=common.match)
    if (getattr(args, "breakdown", None) and args.view not in ("funnel", "retention", "flows")  # charts that draw groups
            and Path(args.out).suffix.lower() not in (".csv", ".xlsx")):
        raise JourneyError("--breakdown gives a result per group: export it as a table (.csv or .xlsx); "
                           "the chart shows one")
    renderer = ViewRenderer(log, Path(args.project))
    try:
        spec = None                     # a view without an analysis module (the overview): its defaults
        if module is not None:
            missing = [name for name in args.view_defaults_when_missing if getattr(args, name) is None]
            if missing:                 # e.g. no --steps: the view's own choice, the other options kept
                shown = renderer.default_spec(args.view, filters)
                for name in missing:
                    setattr(args, name, VIEW_DEFAULT_ARGUMENTS[name](shown))
            args.goal = goal
            spec = arguments_for(view_entry(args.view).analysis).spec(args, renderer.session.filtered(filters))
        path = renderer.export(args.view, args.out, spec, filters, args.width)
    finally:
        renderer.close()
    print(f"Wrote {path}")
    return 0


# An option the analysis command requires, spelled from the Spec the view would choose by itself.
VIEW_DEFAULT_ARGUMENTS = {"steps": lambda spec: ",".join(spec.steps), "event": lambda spec: spec.event}


def run_report(args) -> int:
    from journey_explorer.export.report import write_report
    out = args.out or f"{Path(args.source).stem}-report.pptx"
    avoid = True if args.avoid else None          # --goal: as the event's name says
    report = write_report(args.source, out, args.avoid or args.goal, _column_options(args), avoid=avoid)
    if args.json:
        document = {"out": str(report.path), "goal": report.goal, "goal_guessed": report.goal_guessed,
                    "goal_unwanted": report.goal_unwanted, "outcome_to_avoid": report.outcome_to_avoid,
                    "slides": report.slides}
        if report.imported is not None:       # a FILE: what was read, kept and rejected, and why
            document["import"] = report.imported.to_json_dict(flag_name)
            print(report.imported.describe(flag_name), file=sys.stderr)
        print(json.dumps(document, ensure_ascii=False))
        return 0
    if report.imported is not None:
        print(report.imported.describe(flag_name))
    guessed = " (guessed from the paths' structure; choose with --goal)" if report.goal_guessed else ""
    if report.goal_guessed and report.outcome_to_avoid:
        guessed += f"; who does {report.outcome_to_avoid}? --avoid {report.outcome_to_avoid}"
    goal = f"outcome to avoid: {report.goal}" if report.goal_unwanted else f"goal: {report.goal}"
    print(f"Wrote {len(report.slides) + 1} slides to {report.path}; {goal}{guessed}")
    for slide in report.slides:
        print(f"  - {slide['title']}")
    return 0


def run_hygiene(args) -> int:
    from journey_explorer.analysis import hygiene
    from journey_explorer.store.project import Project
    with Project.open(args.project) as project:
        for key, dismissed in ((args.dismiss, True), (args.undismiss, False)):
            if key:
                hygiene.dismiss(project, key, dismissed)
        _name_events(project, args)
        log = project.load_event_log()          # with properties: a platform split is evidence
        result = hygiene.run(log, hygiene_spec(args, hygiene.dismissed_keys(project)))
        if args.merge:
            chosen = hygiene.find_suggestion(result, args.merge)
            merged = hygiene.apply_merge(project, chosen, args.into)
            print(f"Merged {', '.join(merged)} into {args.into or chosen.target} "
                  f"(undo: rename them back in the catalog)", file=sys.stderr)
            result = hygiene.run(project.load_event_log(), hygiene_spec(args, hygiene.dismissed_keys(project)))
    if args.csv:
        write_csv(result.to_frame(), args.csv)
    if args.json:
        print(json.dumps(result.to_json_dict(), ensure_ascii=False, default=_json_default))
    elif not args.csv:
        print(hygiene.describe(result))
    return 0


def _name_events(project, args) -> None:
    """--name-by EVENT=PROPERTY / --name-plainly EVENT (``store.event_detail``)."""
    if args.name_by:
        event, separator, prop = args.name_by.rpartition("=")
        if not separator or not event or not prop:
            raise JourneyError(f"--name-by wants EVENT=PROPERTY (e.g. page_view=page_title), not '{args.name_by}'")
        project.set_event_detail(event, prop)
        print(f"{event} is now named by its {prop} (undo: --name-plainly '{event}')", file=sys.stderr)
    if args.name_plainly:
        project.set_event_detail(args.name_plainly, None)
        print(f"{args.name_plainly} is named plainly again", file=sys.stderr)


def run_properties(args) -> int:
    from journey_explorer.analysis.properties import catalog_json, catalog_text
    from journey_explorer.store.project import Project
    with Project.open(args.project) as project:
        log = project.load_event_log(with_properties=True)
    print(json.dumps(catalog_json(log), ensure_ascii=False, default=_json_default) if args.json else catalog_text(log))
    return 0


def run_segments(args) -> int:
    from dataclasses import replace

    from journey_explorer.analysis.cohorts import definition
    from journey_explorer.analysis.segments import segment_sizes
    from journey_explorer.analysis.units import counted
    from journey_explorer.store.project import Project
    with Project.open(args.project) as project:
        if args.save:
            project.save_segment(args.save, definition(args.segment, args.match))
        log = replace(project.load_event_log(with_properties=True), saved_segments=project.segments())
    rows = segment_sizes(log)
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, default=_json_default))
    for row in [] if args.json else rows:
        size = counted(row["paths"], log.path_noun) if row["paths"] is not None else row["problem"]
        print(f"{row['name']}: {size}")
    return 0


HANDLERS = {"import": run_import, "info": run_info, "demo": run_demo, "repair": run_repair, "export": run_export,
            "report": run_report, "hygiene": run_hygiene, "properties": run_properties, "segments": run_segments}


def main(argv: list[str] | None = None) -> int:
    from_command_line = argv is None
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or (argv[0] not in COMMANDS and not argv[0].startswith("-h")
                    and argv[0] not in ("--help",)):
        one_process.loaded(command_line=False)      # the app runs long: collect as usual
        from journey_explorer.app import main as app_main
        return app_main(argv)
    # Register only the analysis being run (its imports are not free); --help lists them all.
    only = argv[0] if argv[0] in ANALYSES else (None if argv[0].startswith("-") else "")
    try:
        args = build_parser(only=only, export_view=_option_value(argv, "--view")).parse_args(argv)
    except KeyboardInterrupt:       # Ctrl+C while starting: no command ran yet
        print("journey-explorer: interrupted before the command started; nothing was changed", file=sys.stderr)
        return 130
    finally:
        one_process.loaded(from_command_line)
    handler = HANDLERS.get(args.command, run_analysis)
    if args.command != "import":    # an import's chunks, kept, raised its peak (1,342 -> 1,630 MB at 10M)
        keep_freed_memory()         # analyses at 10M events reuse their temporaries' pages
    else:
        no_huge_page_advice()
    _tolerate_unprintable_names()
    global _FROM_COMMAND_LINE
    _FROM_COMMAND_LINE = from_command_line
    try:
        code = run_guarded(handler, args)
    except KeyboardInterrupt:       # a second Ctrl+C while the first one's message was being written
        code = 130
    _ignore_late_interrupts()
    if from_command_line:
        one_process.finished()
    return code


_FROM_COMMAND_LINE = False          # True while a real command line runs (not tests calling ``main``)


def _ignore_late_interrupts(exit_code: int | None = None) -> None:
    """The command has finished, or is stopping, and says so: a further Ctrl+C (pyarrow's reader may
    deliver the first one again when it ends) must not kill the process with a signal (exit -2) and
    hide the exit code that matches the message. Only for a real command line.

    With ``exit_code`` (an interrupted command whose message is written) the process ends here, once
    its output is flushed: whatever still runs at shutdown (pyarrow's objects being freed, the
    interpreter's own exit) can then neither print a traceback nor turn the exit code into -2."""
    if not _FROM_COMMAND_LINE:
        return
    import signal
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:              # not the main thread: nothing to protect
        pass
    if exit_code is not None:
        import os
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(exit_code)


def run_guarded(handler, args) -> int:
    """The CLI's error boundary: every failure becomes one line on stderr and an exit code.

    Expected problems (bad input, a busy or damaged project, a full disk) name the file and what to
    do; anything else is a bug: its traceback goes to the log file, whose path the message gives.
    """
    project = getattr(args, "project", None) or getattr(args, "source", None)
    try:
        return handler(args)
    except KeyboardInterrupt as exc:
        _ignore_late_interrupts()   # stopping already: a repeated signal must not cut the message short
        try:
            return _fail(_interrupted_message(args), 130, exc, args, logged=False)
        finally:
            _ignore_late_interrupts(exit_code=130)      # said: end now with the code that matches
    except (OptionError, InputError) as exc:      # worded with the window's names: name the flags instead
        return _fail(cli_message(exc), 1, exc, args, logged=False)
    except JourneyError as exc:     # ImportInterrupted (it has ``committed``) exits as an interrupt
        if not hasattr(exc, "committed"):
            return _fail(str(exc), 1, exc, args, logged=False)
        _ignore_late_interrupts()
        try:
            return _fail(str(exc), 130, exc, args, logged=False)
        finally:
            _ignore_late_interrupts(exit_code=130)
    except BrokenPipeError:         # `... | head` closed the pipe: nothing to report
        _silence_stdout()
        return 1
    except (sqlite3.Error, OSError) as exc:       # the project file or a file being written
        if isinstance(exc, sqlite3.Error) and type(exc) not in (sqlite3.DatabaseError, sqlite3.OperationalError):
            return _unexpected(exc, args, project)    # a misused API (ProgrammingError, ...) is ours
        from journey_explorer.store.errors import project_error
        return _fail(str(project_error(project or "", exc)), 1, exc, args, logged=False)
    except UnicodeEncodeError as exc:
        if "surrogates" not in str(exc):
            return _unexpected(exc, args, project)
        return _fail("a file name is not valid UTF-8 and a library cannot open it; rename the file "
                     "(letters, digits, - and _) and try again", 1, exc, args, logged=False)
    except RecursionError as exc:
        return _fail("the input is nested too deeply to read (RecursionError)", 1, exc, args, logged=False)
    except Exception as exc:      # noqa: BLE001 - the boundary: anything else is a bug
        return _unexpected(exc, args, project)


def _unexpected(exc: BaseException, args, project) -> int:
    from journey_explorer.crashlog import log_exception
    log = log_exception(exc, f"journey-explorer {args.command}", near=project)
    where = f", see {log}" if log else ""
    return _fail(f"unexpected {type(exc).__name__}: {exc} (this is a bug{where})", 2, exc, args, logged=True)


def _fail(message: str, code: int, exc: BaseException, args, logged: bool) -> int:
    """Print one line; keep the traceback of every failure in the log (not on screen)."""
    if not logged:
        from journey_explorer.crashlog import log_exception
        log_exception(exc, f"journey-explorer {args.command}", near=getattr(args, "project", None))
    first_line = message.strip().splitlines()[0] if message.strip() else type(exc).__name__
    print(f"journey-explorer: error: {first_line}", file=sys.stderr)
    return code


def _interrupted_message(args) -> str:
    """What Ctrl+C interrupted and whether anything was saved, read from the files themselves."""
    if args.command == "import":
        from journey_explorer.store.importer import interrupted_import_message
        return interrupted_import_message(args.project, args.file)
    if args.command in ("demo", "repair"):
        return f"interrupted; {args.project} is either as it was or completely written (never half-written)"
    if getattr(args, "csv", None) or getattr(args, "out", None):
        return "interrupted; the project was not changed and no output file was half-written"
    return "interrupted; the project was not changed"


def _silence_stdout() -> None:
    """Point stdout at the null device so the interpreter's final flush does not fail again."""
    import os
    try:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _tolerate_unprintable_names() -> None:
    """A file name that is not valid UTF-8 is printed with escapes instead of crashing the message."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            try:
                stream.reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def _option_value(argv: list[str], option: str) -> str | None:
    """The value given to ``option`` ("--view flows" or "--view=flows"), read before parsing."""
    for i, arg in enumerate(argv):
        if arg == option and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(option + "="):
            return arg.split("=", 1)[1]
    return None


# --- undo-import: a project back as it was before its last import (store.import_undo) ---------------
# One block, registered into the tables above: an import into an existing project keeps a snapshot.

def run_undo_import(args) -> int:
    from journey_explorer.store.import_undo import undo_import
    name = undo_import(args.project)
    print(f"Undid the import of {name}: {Path(args.project).name} is as it was before it")
    return 0


def _run_import_keeping_undo(args) -> int:
    from journey_explorer.store.import_undo import discard_undo, prepare_undo, seal_undo
    from journey_explorer.store.project import is_project_file
    kept = False
    if Path(args.project).exists() and is_project_file(Path(args.project)):
        try:
            prepare_undo(args.project)
            kept = True
        except (JourneyError, OSError):
            discard_undo(args.project)      # the import itself says what is wrong with the project
    try:
        return run_import(args)
    finally:
        if kept:
            try:
                seal_undo(args.project, args.file)
            except (JourneyError, OSError):       # never hides what the import itself said
                discard_undo(args.project)


_build_parser_without_undo = build_parser


def build_parser(only: str | None = None, export_view: str | None = None) -> argparse.ArgumentParser:  # noqa: F811
    parser = _build_parser_without_undo(only, export_view)
    if only:                    # one analysis' parser
        return parser
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    cmd = commands.add_parser("undo-import", help="undo the last import into a project (while unchanged since)")
    cmd.add_argument("project")
    return parser


COMMANDS += ("undo-import",)
HANDLERS.update({"undo-import": run_undo_import, "import": _run_import_keeping_undo})


if __name__ == "__main__":
    raise SystemExit(main())
