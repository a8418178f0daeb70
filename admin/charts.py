"""Geometry of the store-admin dashboard's server-rendered SVG bar charts (viewBox units): no
JavaScript, readable at 375 px, with the same figures in a table beside them."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str
    tick: bool


@dataclass(frozen=True)
class BarChart:
    """Geometry of a server-rendered SVG bar chart (viewBox units)."""

    bars: list[Bar]
    top: str
    middle: str
    # A narrow canvas scaled to the page: its 15-unit text stays readable at 375 px.
    width: int = 480
    height: int = 220
    left: int = 64
    right: int = 18
    bottom: int = 30
    upper: int = 14

    @property
    def end(self) -> int:
        return self.width - self.right

    @property
    def base(self) -> int:
        return self.height - self.bottom

    @property
    def mid(self) -> float:
        return self.upper + (self.base - self.upper) / 2


def _nice_ceiling(value: Decimal) -> Decimal:
    """The smallest 1, 2 or 5 × 10ⁿ at or above `value` (a readable top of the axis)."""
    if value <= 0:
        return Decimal(1)
    magnitude = Decimal(10) ** (value.adjusted())
    for step in (1, 2, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def bar_chart(days: list, values: list[Decimal], fmt, *, least_top: Decimal = Decimal(1)) -> BarChart:
    """Bars of `values` (one per day), an axis topped at a round number at least `least_top`,
    and a date under every seventh bar counted back from today's."""
    chart = BarChart(bars=[], top="", middle="")
    top = max(_nice_ceiling(max(values, default=Decimal(0))), least_top)
    slot = (chart.end - chart.left) / max(len(values), 1)
    span = chart.base - chart.upper
    bars = []
    for index, (day, value) in enumerate(zip(days, values)):
        height = float(Decimal(value) / top) * span
        bars.append(Bar(x=chart.left + index * slot + slot * 0.15, y=chart.base - height, width=slot * 0.7,
                        height=height, label=f"{day:%b} {day.day}", value=fmt(value),
                        tick=(len(values) - 1 - index) % 7 == 0))
    return BarChart(bars=bars, top=_axis(top), middle=_axis(top / 2))


def _axis(value: Decimal) -> str:
    """An axis mark: whole numbers without cents (100, 2,000), others with them (0.50)."""
    return f"{int(value):,}" if value == value.to_integral_value() else f"{value:,.2f}"

