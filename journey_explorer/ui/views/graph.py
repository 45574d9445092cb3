"""Process map: sliders for the activities and the paths shown, frequency / performance, and the
variants table beside the map (not under it)."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import QComboBox, QLabel, QSlider, QSplitter

from journey_explorer.analysis.graph import MEASURES
from journey_explorer.eventlog import EventLog
from journey_explorer.ui.views.base import AnalysisView
from journey_explorer.ui.views.controls import blocked


class PathGraphView(AnalysisView):
    def build_options(self) -> None:
        self.state = self.entry.default_spec(None, self.explorer.filters)
        self.sliders = {"min_share": self._slider("Activities reached by at least", "min_share"),
                        "min_edge_share": self._slider("Paths at least", "min_edge_share", suffix=" of the busiest")}
        self.measure = QComboBox()
        self.measure.addItems([m.capitalize() for m in MEASURES])
        self.measure.setToolTip("Frequency: arrows labelled with transitions. Performance: with the median time.")
        self.measure.currentIndexChanged.connect(self._measure_changed)
        self.options.addWidget(QLabel("Show"))
        self.options.addWidget(self.measure)
        # The boxes' type is fitted to their size on screen: drawn again once a resize settles.
        self._refit = QTimer(self, singleShot=True, interval=150)
        self._refit.timeout.connect(self._redraw_chart)
        self._watching_chart = False
        self._refit_when_drawn = False
        self.drawn.connect(self._drawn)

    def shown(self, result, spec) -> None:
        super().shown(result, spec)
        if not self._watching_chart:          # the canvas exists once drawn (made on first use)
            self.chart.installEventFilter(self)
            self._watching_chart = True

    def eventFilter(self, watched, event) -> bool:  # noqa: N802 - Qt API
        if watched is self.chart and event.type() == QEvent.Type.Resize:
            if self.drawn_result is not None:
                self._refit.start()
            else:            # a chart hidden until drawn is shown (sized) before its drawing's last turn
                self._refit_when_drawn = True
        return super().eventFilter(watched, event)

    def _drawn(self) -> None:
        if self._refit_when_drawn and self.drawn_result is not None:
            self._refit_when_drawn = False
            self._refit.start()

    def _redraw_chart(self) -> None:
        result = self.drawn_result
        if result is not None and result is self.result:
            self.chart_renderer.render(result, self.result_spec, self.chart, self.explorer.theme)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        splitter = self.chart.parentWidget()
        if isinstance(splitter, QSplitter) and splitter.orientation() != Qt.Orientation.Horizontal:
            splitter.setOrientation(Qt.Orientation.Horizontal)      # the variants beside the map
            splitter.setSizes([650, 350])

    def _measure_changed(self, index: int) -> None:
        self.state = replace(self.state, measure=MEASURES[index])
        self.refresh()

    def _slider(self, caption: str, field: str, suffix: str = " of paths") -> QSlider:
        slider = QSlider(Qt.Orientation.Horizontal)
        slider.setRange(0, 50)
        slider.setValue(int(getattr(self.state, field) * 100))
        slider.setFixedWidth(160)
        label = QLabel(f"{slider.value()}%{suffix}")

        def changed(value: int) -> None:
            label.setText(f"{value}%{suffix}")
            self.state = replace(self.state, **{field: value / 100})
            self.refresh()

        slider.valueChanged.connect(changed)
        for widget in (QLabel(caption), slider, label):
            self.options.addWidget(widget)
        return slider

    def current_spec(self, log: EventLog):
        return replace(self.state, goal=self.explorer.filters.goal)

    def show_spec(self, spec) -> None:
        self.state = spec
        for field, slider in self.sliders.items():
            value = getattr(spec, field)
            with blocked(slider):
                slider.setValue(round((spec.min_share if value is None else value) * 100))
        with blocked(self.measure):
            self.measure.setCurrentIndex(MEASURES.index(spec.measure))


VIEW_CLASS = PathGraphView
