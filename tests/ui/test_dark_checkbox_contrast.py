"""Dark theme: the filter bar's check boxes (From / until) stand out from the background, checked or not
(WCAG 2.1 non-text contrast: 3:1 for a control's outline)."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QCheckBox, QWidget

from journey_explorer.charts.basic import contrast_ratio
from journey_explorer.charts.theme import DARK, LIGHT, stylesheet


def indicator_pixels_that_stand_out(box: QCheckBox, background) -> int:
    image = box.grab().toImage()
    text_start = box.fontMetrics().horizontalAdvance("x")      # the indicator sits left of the text
    count = 0
    for x in range(min(image.width(), 24)):
        for y in range(image.height()):
            pixel = image.pixelColor(x, y)
            if contrast_ratio(pixel.getRgb(), background) >= 3.0:
                count += 1
    assert text_start > 0
    return count


@pytest.mark.parametrize("theme", [DARK, LIGHT], ids=lambda t: t.name)
@pytest.mark.parametrize("checked", [False, True], ids=["unchecked", "checked"])
def test_filter_check_boxes_are_visible(qtbot, theme, checked):
    from PySide6.QtGui import QColor
    holder = QWidget()
    qtbot.addWidget(holder)
    holder.setStyleSheet(stylesheet(theme))
    box = QCheckBox("", holder)             # no text: only the indicator can stand out
    box.setChecked(checked)
    holder.resize(60, 30)
    holder.show()
    background = QColor(theme.background).getRgb()
    # an outline all around a ~13 px box is at least ~40 pixels that a projector shows
    assert indicator_pixels_that_stand_out(box, background) >= 40
