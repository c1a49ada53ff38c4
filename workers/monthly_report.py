"""The monthly 红黄黑榜 for people: an aligned table for the terminal, or CSV for a spreadsheet; and the
district's whole 月度通报 written as HTML and PDF (api.monthly_report renders it, as the console's button does).

Rates show as percentages with one decimal; a 同比 change (against the same month a year
earlier) as percentage points; "—" where there is nothing to measure.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Connection

from api.monthly_report import print_pdf, render
from router.domain.jurisdiction import Jurisdiction
from router.domain.ranking import GRADE_TERMS, INDICATOR_TERMS, Indicator, MonthlyRanking, TownRanking, Trend
from workers.text_table import aligned

_NOTHING = "—"


def write_report(conn: Connection, jurisdiction: Jurisdiction, month: date, now: datetime, out: Path) -> list[Path]:
    """Write the month's 月度通报 into `out` as monthly-report-YYYY-MM.html and .pdf; the paths written."""
    zone = jurisdiction.loop.calendar.timezone if jurisdiction.loop else now.tzinfo
    document = render(conn, jurisdiction, zone, month, now)
    out.mkdir(parents=True, exist_ok=True)
    page, pdf = out / f"monthly-report-{month:%Y-%m}.html", out / f"monthly-report-{month:%Y-%m}.pdf"
    page.write_text(document, encoding="utf-8")
    print_pdf(document, pdf.resolve())
    return [page, pdf]


def render_table(report: MonthlyRanking, jurisdiction: Jurisdiction) -> str:
    """The list as an aligned table, 同比 changes in brackets after each rate and the score."""
    month = report.month
    title = (f"{jurisdiction.district_name} {month.year}年{month.month}月 红黄黑榜"
             f"（括号内为与 {month.year - 1}年{month.month}月 同比的变化：比率为百分点，得分为分）")
    header = ["排名", "镇街", "派单", *(INDICATOR_TERMS[i] for i in Indicator), "得分", "榜单"]
    rows = [header]
    for line in report.lines:
        trend = report.trends.get(line.town_code)
        rows.append([
            str(line.rank) if line.rank is not None else _NOTHING,
            jurisdiction.unit_name(line.town_code),
            str(line.month.dispatched),
            *(_with_change(_percent(line.rates[i]), _points(trend.rates[i]) if trend else None) for i in Indicator),
            _with_change(_number(line.score), _number(trend.score, signed=True) if trend else None),
            GRADE_TERMS[line.grade],
        ])
    return "\n".join([title, *aligned(rows)]) + "\n"


def render_csv(report: MonthlyRanking, jurisdiction: Jurisdiction) -> str:
    """One row per town: the counts, rates and 同比 changes in percent (points), score, rank, grade."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    counts = ["派单", "签收", "及时签收", "反馈", "及时反馈", "办结", "退单", "重办", "应签收", "应反馈", "应办结"]
    writer.writerow(["月份", "镇街代码", "镇街", *counts, *(f"{INDICATOR_TERMS[i]}%" for i in Indicator), "得分",
                     "排名", "榜单", *(f"同比{INDICATOR_TERMS[i]}" for i in Indicator), "同比得分"])
    for line in report.lines:
        trend = report.trends.get(line.town_code)
        writer.writerow([f"{report.month:%Y-%m}", line.town_code, jurisdiction.unit_name(line.town_code),
                         *_counts(line), *(_plain(line.rates[i], 100) for i in Indicator), _plain(line.score),
                         "" if line.rank is None else line.rank, GRADE_TERMS[line.grade], *_changes(trend)])
    return out.getvalue()


def _counts(line: TownRanking) -> list[int]:
    m = line.month
    return [m.dispatched, m.acknowledged, m.acknowledged_on_time, m.reported, m.reported_on_time, m.closed,
            m.returned, m.reopened, m.acknowledge_settled, m.report_settled, m.resolve_settled]


def _changes(trend: Trend | None) -> list[str]:
    if trend is None:
        return [""] * (len(Indicator) + 1)
    return [*(_plain(trend.rates[i], 100) for i in Indicator), _plain(trend.score)]


def _percent(rate: float | None) -> str:
    return _NOTHING if rate is None else f"{rate * 100:.1f}%"


def _points(delta: float | None) -> str | None:
    return None if delta is None else f"{delta * 100:+.1f}"


def _number(value: float | None, signed: bool = False) -> str:
    if value is None:
        return _NOTHING
    return f"{value:+.2f}" if signed else f"{value:.2f}"


def _with_change(value: str, change: str | None) -> str:
    return value if change is None or change == _NOTHING else f"{value} ({change})"


def _plain(value: float | None, scale: float = 1) -> str:
    return "" if value is None else f"{value * scale:.2f}"

