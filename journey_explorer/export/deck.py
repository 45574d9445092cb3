"""Boards and reports to a 16:9 PowerPoint deck (python-pptx) or a PDF handout (QPdfWriter).

A deck is a cover (project, date range, filters) and one slide per pin: its title, the chart and the
three notes. A bar or line chart goes in as a native PowerPoint chart (editable, restylable; see
``export.native_charts``), any other chart (Sankey, process map, heatmaps) as a high-resolution picture.
The same content becomes the PDF handout, one page each (always pictures).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from journey_explorer.analysis.units import counted, path_words
from journey_explorer.domain import JourneyError
from journey_explorer.eventlog import EventLog
from journey_explorer.export.files import atomic_output
from journey_explorer.export.native_charts import NativeChart, native_chart, nothing_to_draw
from journey_explorer.store.board import NOTE_FIELDS, Pin

SLIDE_PICTURE_WIDTH = 1800      # px; at 9 inches wide that is 200 dpi
NOTE_HEADINGS = {"problem": "Not shown", "hypothesis": "Hypothesis", "observation": "Observation",
                 "action": "Action"}


@dataclass
class Cover:
    title: str
    lines: list[str] = field(default_factory=list)


@dataclass
class SlideContent:
    title: str
    picture: bytes | None                            # PNG; None when the chart could not be drawn
    notes: dict[str, str] = field(default_factory=dict)
    problem: str = ""                                # why there is no picture
    chart: NativeChart | None = None                 # the numbers as a native chart (PPTX), else the picture


def cover_for(log: EventLog, project_path: Path | None, pins: list[Pin], heading: str = "") -> Cover:
    """Project name, the data's date range and the filters the slides use."""
    from journey_explorer.state.filters import FilterState
    name = Path(project_path).stem if project_path else "Journey Explorer"
    lines = []
    if log is not None and len(log):
        first = pd.Timestamp(int(log.ts.min()), unit="ms").date()
        last = pd.Timestamp(int(log.ts.max()), unit="ms").date()
        lines.append(f"{first} – {last} · {counted(log.paths_count, log.path_noun)} · {counted(len(log), 'event')}")
    filters = sorted({FilterState.from_dict(p.filters).describe(paths=path_words(log)) for p in pins})
    if filters:
        lines.append("Filters: " + ("; ".join(filters) if len(filters) <= 3 else "as noted on each slide"))
    lines.append(f"Prepared with Journey Explorer on {date.today().isoformat()}")
    return Cover(title=heading or name, lines=lines)


def pin_slides(log: EventLog, project_path: Path | None, pins: list[Pin],
               source_name: str | None = None) -> list[SlideContent]:
    """Each pin drawn from the data (presentation theme) as a slide's content. A pin that cannot be
    drawn (its event was renamed away, its filters match nothing) keeps its slide, saying why."""
    from journey_explorer.export.render import ViewRenderer
    renderer = ViewRenderer(log, project_path, source_name)
    try:
        return [pin_slide(renderer, pin) for pin in pins]
    finally:
        renderer.close()


def pin_state(pin: Pin):
    """The pin's Spec and FilterState (None: the view's defaults, the session's filters)."""
    from journey_explorer.state.filters import FilterState
    from journey_explorer.state.views import spec_from_dict
    spec = spec_from_dict(pin.view, pin.spec) if pin.spec else None
    filters = FilterState.from_dict(pin.filters) if pin.filters else None
    return spec, filters


def compute_pin(renderer, pin: Pin):
    """The pin's result (any thread), or the exception saying why it cannot be drawn."""
    if not pin.view:
        return None
    try:
        return renderer.compute(pin.view, *pin_state(pin))
    except (JourneyError, KeyError, ValueError) as exc:
        return exc


def pin_slide(renderer, pin: Pin, result=None) -> SlideContent:
    """A pin's slide (GUI thread: the picture is drawn on a hidden canvas); ``result`` from
    ``compute_pin`` when it was computed already (on a worker thread)."""
    from journey_explorer.export.images import png_bytes
    notes = {f: getattr(pin, f) for f in NOTE_FIELDS}
    if not pin.view:
        return SlideContent(pin.title, None, notes)
    try:
        if result is None:
            result = renderer.compute(pin.view, *pin_state(pin))
        if isinstance(result, BaseException):
            raise result
        if nothing_to_draw(pin.view, result):
            return SlideContent(pin.title, None, notes)
        spec, filters = pin_state(pin)
        image = renderer.image(pin.view, spec, filters, SLIDE_PICTURE_WIDTH, title="", result=result)
    except (JourneyError, KeyError, ValueError) as exc:
        reason = exc.args[0] if isinstance(exc, KeyError) and exc.args else str(exc)
        return SlideContent(pin.title, None, notes, problem=f"The chart cannot be drawn from this data: {reason}")
    return SlideContent(pin.title, png_bytes(image), notes, chart=native_chart(pin.view, result))


def write_board(log: EventLog, project_path: Path | None, pins: list[Pin], path: str | Path,
                heading: str = "", source_name: str | None = None) -> Path:
    """The board as a deck (.pptx) or a handout (.pdf), chosen by the suffix."""
    if not pins:
        raise JourneyError("The board is empty: pin a chart first")
    path = Path(path)
    writers = {".pptx": write_pptx, ".pdf": write_pdf_handout}
    if path.suffix.lower() not in writers:
        raise JourneyError(f"Cannot write a board as '{path.suffix}': use .pptx or .pdf")
    cover = cover_for(log, project_path, pins, heading)
    return writers[path.suffix.lower()](cover, pin_slides(log, project_path, pins, source_name), path)


# --- PowerPoint ------------------------------------------------------------------------------------


def write_pptx(cover: Cover, slides: list[SlideContent], path: str | Path) -> Path:
    """A 16:9 deck that PowerPoint, Keynote and LibreOffice Impress open (standard layouts only)."""
    from io import BytesIO

    from pptx import Presentation
    from pptx.util import Inches, Pt
    deck = Presentation()
    deck.slide_width, deck.slide_height = Inches(13.333), Inches(7.5)
    _add_cover(deck, cover, Inches, Pt)
    for content in slides:
        slide = deck.slides.add_slide(deck.slide_layouts[5])     # "Title Only"
        title = slide.shapes.title
        title.text = clean_text(shorten(content.title, TITLE_LIMIT))
        title.left, title.top, title.width, title.height = Inches(0.5), Inches(0.3), Inches(12.3), Inches(0.9)
        for paragraph in title.text_frame.paragraphs:
            for run in paragraph.runs:
                run.font.size = Pt(title_points(content.title))
        if content.chart is not None:
            add_native_chart(slide, content.chart, Inches(0.4), Inches(1.35), Inches(9.0), Inches(5.7))
            _add_notes_box(slide, content.notes, Inches, Pt, Inches(9.6), Inches(3.4))
        elif content.picture is not None:
            slide.shapes.add_picture(BytesIO(content.picture), Inches(0.4), Inches(1.35), width=Inches(9.0))
            _add_notes_box(slide, content.notes, Inches, Pt, Inches(9.6), Inches(3.4))
        else:      # no chart: the reason and the notes take the whole slide
            _add_notes_box(slide, {"problem": content.problem, **content.notes}, Inches, Pt, Inches(0.6), Inches(12))
        slide.notes_slide.notes_text_frame.text = clean_text("\n".join(
            f"{NOTE_HEADINGS[k]}: {v}" for k, v in content.notes.items() if v))
    path = Path(path)
    with atomic_output(path) as temporary:
        deck.save(str(temporary))
    return path


CHART_COLOURS = ("0072B2", "E69F00", "009E73", "D55E00", "CC79A7", "56B4E9", "F0E442", "000000")  # Okabe–Ito


def short_dates(categories) -> list:
    """ISO days as "13 Jan", the year on the first and where it changes ("6 Jan 2025"): a row of
    "2025-01-13" labels wraps over three lines under a weekly chart. Other categories unchanged.

    >>> short_dates(["2024-12-30", "2025-01-06", "2025-01-13"]), short_dates(["week 1", "2025-01-06"])
    (['30 Dec 2024', '6 Jan 2025', '13 Jan'], ['week 1', '2025-01-06'])
    """
    import re
    texts = [str(c) for c in categories]
    if not texts or not all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", t) for t in texts):
        return list(categories)
    months = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
    out, year = [], None
    for text in texts:
        y, m, d = text.split("-")
        out.append(f"{int(d)} {months[int(m) - 1]}" + (f" {y}" if y != year else ""))
        year = y
    return out


LINE_LABELS_SHOWN = 8     # a long weekly series names every n-th week (all of them wrapped over three lines)


def skip_category_labels(category_axis, count: int, shown: int = LINE_LABELS_SHOWN) -> int:
    """Label (and tick) every n-th category so that about ``shown`` are named; returns n. python-pptx
    has no setting for it: the axis's ``c:tickLblSkip`` / ``c:tickMarkSkip``, placed where the schema
    wants them (before ``c:noMultiLvlLbl``), as PowerPoint rejects them elsewhere."""
    skip = -(-count // shown)
    if skip <= 1:
        return 1
    from pptx.oxml import parse_xml
    from pptx.oxml.ns import nsdecls, qn
    axis = category_axis._element
    for tag in ("c:tickLblSkip", "c:tickMarkSkip"):
        for old in axis.findall(qn(tag)):
            axis.remove(old)
    successor = next((axis.find(qn(tag)) for tag in ("c:noMultiLvlLbl", "c:extLst") if axis.find(qn(tag)) is not None),
                     None)
    for tag in ("c:tickLblSkip", "c:tickMarkSkip"):
        element = parse_xml(f'<{tag} {nsdecls("c")} val="{skip}"/>')
        if successor is not None:
            successor.addprevious(element)
        else:
            axis.append(element)
    return skip


def add_native_chart(slide, chart: NativeChart, left, top, width, height):
    """``chart`` as an editable PowerPoint chart (its data in the embedded workbook)."""
    from pptx.chart.data import CategoryChartData
    from pptx.dml.color import RGBColor
    from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION, XL_TICK_LABEL_POSITION
    from pptx.util import Pt
    many = len(chart.categories) > 30          # a long weekly series: a plain line, no marker per week
    types = {"bar": XL_CHART_TYPE.BAR_CLUSTERED, "column": XL_CHART_TYPE.COLUMN_CLUSTERED,
             "stacked": XL_CHART_TYPE.COLUMN_STACKED,
             "line": XL_CHART_TYPE.LINE if many else XL_CHART_TYPE.LINE_MARKERS}
    data = CategoryChartData(number_format=chart.number_format)
    data.categories = [clean_text(c) for c in short_dates(chart.categories)]
    for name, values in chart.series.items():
        data.add_series(clean_text(name), values)
    frame = slide.shapes.add_chart(types[chart.kind], left, top, width, height, data)
    plot_chart = frame.chart
    plot_chart.font.size = Pt(12)
    plot_chart.has_title = False               # the slide's title says what the chart shows
    plot_chart.has_legend = len(chart.series) > 1
    if plot_chart.has_legend:
        plot_chart.legend.position = XL_LEGEND_POSITION.TOP
        plot_chart.legend.include_in_layout = False
    if chart.kind == "bar":             # a ranking reads top down, as on screen
        plot_chart.category_axis.reverse_order = True
    value_axis = plot_chart.value_axis
    value_axis.tick_labels.number_format = chart.number_format
    value_axis.tick_labels.number_format_is_linked = False
    value_axis.has_major_gridlines = True
    numbers = [v for values in chart.series.values() for v in values if v is not None]
    if chart.number_format.endswith("%") and numbers and 0 <= min(numbers) and max(numbers) <= 1:
        value_axis.minimum_scale, value_axis.maximum_scale = 0, 1       # shares: 0-100 %, never 120 %
    # Category names below the plot, not on the zero line (lifecycle's dormant bars go below it).
    plot_chart.category_axis.tick_label_position = XL_TICK_LABEL_POSITION.LOW
    if chart.kind == "line":
        skip_category_labels(plot_chart.category_axis, len(chart.categories))
    if chart.value_axis:
        value_axis.has_title = True
        value_axis.axis_title.text_frame.text = clean_text(chart.value_axis)
        value_axis.axis_title.text_frame.paragraphs[0].runs[0].font.size = Pt(11)
    plot = plot_chart.plots[0]
    if chart.labels and len(chart.categories) * len(chart.series) <= 30:
        plot.has_data_labels = True
        plot.data_labels.number_format = chart.number_format
        plot.data_labels.number_format_is_linked = False
        plot.data_labels.font.size = Pt(10)
    if chart.kind in ("bar", "column", "stacked"):
        plot.gap_width = 60
        if chart.kind == "stacked":
            plot.overlap = 100
    for index, series in enumerate(plot.series):
        colour = RGBColor.from_string(CHART_COLOURS[index % len(CHART_COLOURS)])
        if chart.kind == "line":
            series.format.line.color.rgb = colour
            series.format.line.width = Pt(2.5)
            series.smooth = False
        else:
            series.format.fill.solid()
            series.format.fill.fore_color.rgb = colour
    return frame


def _add_cover(deck, cover: Cover, inches, pt) -> None:
    """The "Title Slide" layout, its placeholders moved to 16:9 proportions (the template is 4:3)."""
    slide = deck.slides.add_slide(deck.slide_layouts[0])
    title, subtitle = slide.shapes.title, slide.placeholders[1]
    title.text = cover.title
    subtitle.text = "\n".join(cover.lines)
    for shape, top, height in ((title, 1.6, 2.0), (subtitle, 3.9, 2.2)):
        shape.left, shape.width = inches(0.9), deck.slide_width - inches(1.8)
        shape.top, shape.height = inches(top), inches(height)
    for paragraph in title.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size, run.font.bold = pt(36), True
    for paragraph in subtitle.text_frame.paragraphs:
        for run in paragraph.runs:
            run.font.size = pt(18)


def _add_notes_box(slide, notes: dict[str, str], inches, pt, left, width) -> None:
    box = slide.shapes.add_textbox(left, inches(1.35), width, inches(5.7))
    frame = box.text_frame
    frame.word_wrap = True
    # What fits a 5.7 in tall box at 10 pt: ~750 characters beside a chart (long event names wrap early;
    # 900 ran off the bottom of a What changed slide), ~3,000 across the slide.
    fitted = within_budget(notes, 750 if width < inches(6) else 3000)
    body_points = notes_points(fitted)
    first = True
    for key in ("problem",) + NOTE_FIELDS:
        text = clean_text(fitted.get(key, ""))
        if not text:
            continue
        heading = frame.paragraphs[0] if first else frame.add_paragraph()
        first = False
        heading.text = NOTE_HEADINGS[key]
        heading.runs[0].font.bold = True
        heading.runs[0].font.size = pt(body_points + 2)
        body = frame.add_paragraph()
        body.text = text
        body.runs[0].font.size = pt(body_points)
        body.space_after = pt(10)


# --- text that fits ---------------------------------------------------------------------------------

TITLE_LIMIT = 140          # characters of a slide title (the speaker notes keep every note whole)
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def clean_text(text: str) -> str:
    """Without the characters XML (and so PowerPoint) cannot hold: control codes, lone surrogates."""
    return _NOT_XML.sub("", text)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters, cut at a word with an ellipsis.

    >>> shorten("Users get stuck at Connect Data Source", 20)
    'Users get stuck at…'
    """
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    return (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"


def title_points(title: str) -> int:
    """28 pt for a headline that fits on a line; smaller as it grows (the box holds two lines)."""
    return 28 if len(title) <= 70 else 24 if len(title) <= 100 else 20


def notes_points(notes: dict[str, str]) -> int:
    """12 pt, down to 10 pt when the notes together are long."""
    total = sum(len(text) for text in notes.values())
    return 12 if total <= 500 else 11 if total <= 750 else 10


def within_budget(notes: dict[str, str], budget: int) -> dict[str, str]:
    """The notes, stripped, the long ones cut at a word so that together they stay within ``budget``
    characters (each keeps at least a short opening); short notes are never cut.

    >>> fitted = within_budget({"hypothesis": "short", "observation": "word " * 100}, 120)
    >>> fitted["hypothesis"], len(fitted["observation"]) <= 115
    ('short', True)
    """
    texts = {key: text.strip() for key, text in notes.items() if text and text.strip()}
    total = sum(len(text) for text in texts.values())
    if total <= budget:
        return texts
    room = budget - sum(len(t) for t in texts.values() if len(t) <= budget // max(len(texts), 1))
    long = {k: t for k, t in texts.items() if len(t) > budget // max(len(texts), 1)}
    long_total = sum(len(t) for t in long.values())
    return {key: shorten(text, max(80, room * len(text) // long_total)) if key in long else text
            for key, text in texts.items()}


# --- PDF handout -----------------------------------------------------------------------------------


def write_pdf_handout(cover: Cover, slides: list[SlideContent], path: str | Path) -> Path:
    """One 16:9 page for the cover and one per slide: title, picture, notes beside it."""
    path = Path(path)
    with atomic_output(path) as temporary:
        _paint_handout(cover, slides, temporary)
    return path


def _paint_handout(cover: Cover, slides: list[SlideContent], path: Path) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor, QFont, QImage

    from journey_explorer.export.images import slide_pdf
    writer, painter = slide_pdf(path, cover.title, dpi=200)
    try:
        width, height = painter.device().width(), painter.device().height()
        unit = width / 1920

        def font(size: float, bold: bool = False) -> QFont:
            f = QFont()
            f.setPixelSize(round(size * unit))
            f.setBold(bold)
            return f

        margin = 60 * unit
        painter.setFont(font(64, True))
        painter.setPen(QColor("#111111"))
        painter.drawText(QRectF(margin, height * 0.3, width - 2 * margin, 100 * unit), cover.title)
        painter.setFont(font(30))
        painter.setPen(QColor("#444444"))
        painter.drawText(QRectF(margin, height * 0.3 + 120 * unit, width - 2 * margin, 300 * unit),
                         Qt.TextFlag.TextWordWrap, "\n".join(cover.lines))
        for content in slides:
            writer.newPage()
            # A long headline wraps to two lines in a smaller type (as the deck's title box does): its
            # end says who ("…, mostly app_version = 7.3 (since …)") and is not to be cut off.
            long_title = len(content.title) > 70
            painter.setFont(font(30 if long_title else 44, True))
            painter.setPen(QColor("#111111"))
            title_box = QRectF(margin, margin * 0.5, width - 2 * margin, (110 if long_title else 70) * unit)
            painter.drawText(title_box, Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap,
                             _fitting(painter, content.title, title_box))
            if content.picture is not None:
                picture = QImage.fromData(content.picture, "PNG")
                painter.drawImage(QRectF(margin * 0.6, 150 * unit, 1300 * unit, 1300 * unit * 9 / 16), picture)
                notes_area = QRectF(1380 * unit, 150 * unit, 480 * unit, height - 200 * unit)
            else:
                notes_area = QRectF(margin, 150 * unit, width - 2 * margin, height - 200 * unit)
            _draw_notes(painter, {"problem": content.problem, **content.notes}, notes_area, font, unit)
    finally:
        painter.end()


def _draw_notes(painter, notes: dict[str, str], area, font, unit) -> None:
    from PySide6.QtCore import QRectF, Qt
    from PySide6.QtGui import QColor
    top = area.top()
    shown = [(key, notes[key].strip()) for key in ("problem",) + NOTE_FIELDS if notes.get(key, "").strip()]
    for index, (key, text) in enumerate(shown):
        share = (area.bottom() - top) / (len(shown) - index)     # each note left gets its part of the page
        painter.setFont(font(26, True))
        painter.setPen(QColor("#111111"))
        painter.drawText(QRectF(area.left(), top, area.width(), 40 * unit), NOTE_HEADINGS[key])
        top += 44 * unit
        painter.setFont(font(22))
        painter.setPen(QColor("#333333"))
        room = QRectF(area.left(), top, area.width(), max(share - 44 * unit, 30 * unit))
        text = _fitting(painter, text, room)
        bounds = painter.boundingRect(room, Qt.TextFlag.TextWordWrap, text)
        painter.drawText(bounds, Qt.TextFlag.TextWordWrap, text)
        top = bounds.bottom() + 24 * unit


def _fitting(painter, text: str, room) -> str:
    """``text``, cut at a word with an ellipsis where it would run below ``room`` (the page's edge)."""
    from PySide6.QtCore import Qt
    if painter.boundingRect(room, Qt.TextFlag.TextWordWrap, text).height() <= room.height():
        return text
    words = text.split(" ")
    low, high = 0, len(words)                 # the most words that still fit, found by bisection
    while low < high:
        middle = (low + high + 1) // 2
        candidate = " ".join(words[:middle]) + "…"
        if painter.boundingRect(room, Qt.TextFlag.TextWordWrap, candidate).height() <= room.height():
            low = middle
        else:
            high = middle - 1
    return " ".join(words[:low]) + "…"
