"""Native Excel charts over the tables that ``SheetWriter`` placed on a sheet."""

from __future__ import annotations

from collections.abc import Iterable

from xlsxwriter.chart import Chart

from ..i18n import _
from .sheet import Placement, SheetWriter

CHART_SIZE = {"width": 720, "height": 360}  # pixels at 100 % zoom


def column_chart(
    writer: SheetWriter,
    placement: Placement,
    category: str,
    series: Iterable[str],
    title: str,
    stacked: bool = False,
    money: bool = True,
) -> Chart | None:
    """Return a column chart of the ``series`` columns over ``category``, or None without data."""
    series = list(series)
    if not placement.has_rows or not series:
        return None
    chart = writer.book.add_chart({"type": "column", "subtype": "stacked" if stacked else "clustered"})
    assert chart is not None
    for header in series:
        chart.add_series(
            {
                "name": placement.header_cell(header),
                "categories": placement.cells(category),
                "values": placement.cells(header),
            }
        )
    chart.set_title({"name": title})
    chart.set_legend({"position": "bottom"})
    if money:
        chart.set_y_axis({"num_format": writer.formats.money_format})
    chart.set_size(CHART_SIZE)
    return chart


def forecast_chart(writer: SheetWriter, forecast: Placement) -> Chart | None:
    """Return won and open sales as stacked columns by month, with weighted sales as a line."""
    month, weighted = _("Month"), _("Weighted sales")
    series = [_("Won sales"), _("Open sales")]
    chart = column_chart(writer, forecast, month, series, _("Sales forecast by month"), stacked=True)
    if chart is None:
        return None
    line = writer.book.add_chart({"type": "line"})
    assert line is not None
    line.add_series(
        {
            "name": forecast.header_cell(weighted),
            "categories": forecast.cells(month),
            "values": forecast.cells(weighted),
            "marker": {"type": "circle"},
        }
    )
    chart.combine(line)
    return chart


def pivot_series(placement: Placement) -> list[str]:
    """Return the value columns of a pivot: every header but the first (labels) and the last (Total)."""
    return list(placement.headers[1:-1])
