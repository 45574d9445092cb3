"""A layout that wraps its widgets onto more lines when the window is narrow (Qt's flow layout
example), so a row of options never forces the window wider than a 1024 px projector."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLayout, QSizePolicy


class FlowLayout(QLayout):
    def __init__(self, parent=None, spacing: int = 6):
        super().__init__(parent)
        self._items = []
        self._heights: dict[int, int] = {}      # heightForWidth, per width, until Qt invalidates the layout
        self.setSpacing(spacing)
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:  # noqa: N802 - Qt API
        self._items.append(item)
        self._heights.clear()

    def addStretch(self, stretch: int = 0) -> None:  # noqa: N802 - QHBoxLayout's API; a flow has no stretch
        """Accepted for code written for a QHBoxLayout; a flow wraps instead of stretching."""

    def addWidget(self, widget, stretch: int = 0, *args) -> None:  # noqa: N802 - QHBoxLayout's signature
        """As QLayout.addWidget; a QHBoxLayout's stretch (and alignment) are accepted and ignored: a flow
        gives each widget its size hint and wraps."""
        super().addWidget(widget)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802 - Qt API
        self._heights.clear()
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):  # noqa: N802 - Qt API
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        # Qt asks this many times per layout pass (~230 on the first show of the window's work page,
        # 0.14 s of Python); an item shown, hidden or resized invalidates the layout, and the cache.
        if width not in self._heights:
            self._heights[width] = self._arrange(QRect(0, 0, width, 0), move=False)
        return self._heights[width]

    def invalidate(self) -> None:
        self._heights.clear()
        super().invalidate()

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._arrange(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        width = sum(item.sizeHint().width() + self.spacing() for item in self._items)
        height = max((item.sizeHint().height() for item in self._items), default=0)
        return QSize(width, height)

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        """As wide as the widest single item: everything else may wrap."""
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    @staticmethod
    def _width(item, available: int) -> int:
        """The item's preferred width, but no wider than the line (a long row of funnel steps then
        scrolls inside its box instead of running off the window), nor narrower than its minimum."""
        return max(min(item.sizeHint().width(), available), item.minimumSize().width())

    def _arrange(self, rect: QRect, move: bool) -> int:
        """Place the items line by line, each centred vertically on its line; returns the height used."""
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        lines, line, x = [], [], area.x()
        for item in self._items:
            if item.widget() is not None and item.widget().isHidden():
                continue
            width = self._width(item, area.width())
            if line and x + width > area.right() + 1:
                lines.append(line)
                line, x = [], area.x()
            line.append((item, x))
            x += width + self.spacing()
        if line:
            lines.append(line)
        y = area.y()
        for placed in lines:
            height = max(item.sizeHint().height() for item, _ in placed)
            if move:
                for item, left in placed:
                    hint = QSize(self._width(item, area.width()), item.sizeHint().height())
                    item.setGeometry(QRect(QPoint(left, y + (height - hint.height()) // 2), hint))
            y += height + self.spacing()
        used = y - self.spacing() if lines else y
        return used - rect.y() + margins.bottom()

def grouped(*widgets, parent=None):
    """Widgets that stay together on one line of a flow (a label and its box)."""
    from PySide6.QtWidgets import QHBoxLayout, QWidget
    box = QWidget(parent)
    row = QHBoxLayout(box)
    row.setContentsMargins(0, 0, 0, 0)
    for widget in widgets:
        row.addWidget(widget)
    box.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
    return box
