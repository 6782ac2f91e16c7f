"""LB1 as a file: CSV (one header row, then one row per ICD-10 code; the code first, the total last) and an
Excel workbook of the same table (openpyxl), plus the ten most common diagnoses as an SVG bar chart."""

from __future__ import annotations

import csv
import io
from html import escape

from openpyxl import Workbook
from openpyxl.styles import Font

from clinic.reports.service import Lb1, lb1_header, lb1_lines


def lb1_csv(report: Lb1) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(lb1_header())
    writer.writerows(lb1_lines(report))
    return out.getvalue()


def lb1_xlsx(report: Lb1, title: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "LB1 " + report.month.strftime("%Y-%m")
    sheet.append(lb1_header())
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for line in lb1_lines(report):
        sheet.append(line)
    sheet.freeze_panes = "C2"
    sheet.column_dimensions["B"].width = 40
    book.properties.title = title
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def top_chart_svg(report: Lb1, n: int = 10, width: int = 640) -> str:
    """A horizontal bar chart of the `n` most common diagnoses, drawn here: no script needed to show it."""
    rows = report.top(n)
    bar_height, gap, label_width, top = 22, 6, 70, 4
    height = top + len(rows) * (bar_height + gap) + 4
    most = max((row.total for row in rows), default=1) or 1
    room = width - label_width - 60
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" '
             f'height="{height}" viewBox="0 0 {width} {height}" data-chart="lb1-top">']
    for i, row in enumerate(rows):
        y = top + i * (bar_height + gap)
        length = max(1, round(room * row.total / most))
        parts.append(f'<g data-code="{escape(row.code)}"><title>{escape(row.code)} {escape(row.name)}: '
                     f'{row.total}</title>'
                     f'<text x="0" y="{y + 16}" font-size="13">{escape(row.code)}</text>'
                     f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="#2f6f9f"/>'
                     f'<text x="{label_width + length + 6}" y="{y + 16}" font-size="13">{row.total}</text></g>')
    parts.append("</svg>")
    return "".join(parts)
