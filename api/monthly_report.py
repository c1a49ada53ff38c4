"""The monthly report (月度通报) for the district, as HTML and as PDF, in Chinese and ready to send.

It gathers what the console shows: the 红黄黑榜 (router.domain.ranking, as the ranking read counts
it), the key-dispute list with its progress, the high-incidence areas, the safety index by town,
and the main trends drawn as inline SVG (no script, no CDN: it prints and travels as one file).
Callers never appear: summaries are left out. The PDF is printed by headless Chromium.
"""

from __future__ import annotations

import html
import subprocess
import tempfile
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import Connection
from starlette.responses import Response

from api.access import allow
from api.dispute_lists import dispute_list_view
from api.errors import ApiError
from api.hotspots import hotspots_view
from api.identity import Principal
from api.ranking import month_asked
from api.safety_index import safety_view
from api.services import Services, services
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import DISTRICT_ROLES
from router.domain.ranking import GRADE_TERMS, INDICATOR_TERMS, Indicator
from router.store.statistics import month_bounds, monthly_ranking
from router.store.trends import MonthCounts, monthly_counts
from schemas.api import Problem

router = APIRouter(prefix="/api/v1", tags=["月度通报 monthly report"])
CHROMIUM = "/usr/bin/chromium"
TREND_MONTHS = 12
_NOTHING = "—"
_GRADE_CLASS = {"red": "red", "yellow": "yellow", "black": "black", "ungraded": "ungraded"}


def render(conn: Connection, jurisdiction: Jurisdiction, zone: tzinfo, month: date, now: datetime) -> str:
    """The month's report as one HTML document. Figures as of `now`: run it after the month ends."""
    _, end = month_bounds(month, zone)
    as_of = min(now, end)
    ranking = monthly_ranking(conn, jurisdiction, month)
    disputes = dispute_list_view(conn, jurisdiction, zone, month, now, None, None)
    areas = hotspots_view(conn, jurisdiction, as_of, None)
    safety = safety_view(conn, jurisdiction, zone, month, None)
    trends = monthly_counts(conn, month, TREND_MONTHS, zone)
    title = f"{jurisdiction.district_name}{month.year}年{month.month}月社会治理月度通报"
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class='meta'>统计截至 {as_of.astimezone(zone):%Y年%m月%d日 %H:%M}"
             "　数据来源：枫桥事件分流与闭环系统</p>"]

    rows = [[_e(line.rank if line.rank is not None else _NOTHING), _e(jurisdiction.unit_name(line.town_code)),
             str(line.month.dispatched), *(_percent(line.rates[i]) for i in Indicator), _number(line.score),
             f"<span class='grade {_GRADE_CLASS[line.grade.value]}'>{GRADE_TERMS[line.grade]}</span>"]
            for line in ranking.lines]
    parts += ["<h2>一、红黄黑榜</h2>",
              _table(["排名", "镇街", "派单", *(INDICATOR_TERMS[i] for i in Indicator), "得分", "榜单"], rows,
                     "ranking")]

    total = disputes.figures[-1]
    parts += ["<h2>二、重点矛盾纠纷清单</h2>",
              f"<p>本月{'已' if disputes.issued else '尚未'}下发清单：共 {total.issued} 件，"
              f"已化解 {total.resolved} 件，"
              f"化解率 {_percent(total.rate)}。</p>",
              _table(["镇街", "下发", "化解", "化解率"],
                     [[_e(f.town_name), str(f.issued), str(f.resolved), _percent(f.rate)] for f in disputes.figures],
                     "dispute-figures"),
              _table(["工单编号", "镇街", "事项类型", "报警次数", "包案领导", "责任单位", "责任人", "化解期限", "进展"],
                     [[_e(d.order_id), _e(d.town_name), _e(d.matter_type), str(d.reports),
                       *(_e(v or "待指定") for v in (d.responsible_leader, d.responsible_unit, d.responsible_person)),
                       f"{d.resolution_due.astimezone(zone):%m-%d}",
                       "已化解" if d.resolved else ("逾期未化解" if d.overdue else "化解中")
                       + ("（结转）" if d.carried_over else "")] for d in disputes.disputes], "disputes")]

    parts += ["<h2>三、高发区域</h2>",
              f"<p>近 {areas.window_days} 天同一地点同类事项明显高于其前 {areas.baseline_days} 天的常态水平"
              f"（泊松检验 p &lt; {areas.p_value}，且不少于 {areas.min_count} 起）。</p>",
              _table(["地点", "镇街", "事项类型", "近期起数", "常态预期", "专项整治", "整治前后"],
                     [[_e(a.place_name), _e(a.town_name or _NOTHING), _e(a.matter_type), str(a.count),
                       _number(a.expected), _e(f"{a.campaign.responsible_unit}（{a.campaign.review_on:%m-%d}复查）")
                       if a.campaign else "未列入",
                       f"前 {a.campaign.before} / 后 {a.campaign.after}" if a.campaign else _NOTHING]
                      for a in areas.areas], "hotspots") if areas.areas else "<p>本期无高发区域。</p>"]

    parts += ["<h2>四、平安指数（镇街）</h2>",
              _table(["镇街", "平安指数", "等级", *safety.components.values()],
                     [[_e(t.unit_name), f"{t.index:.1f}", _e(t.band),
                       *(f"−{t.losses[k]:.1f}" for k in safety.components)] for t in safety.towns], "safety")]

    parts += ["<h2>五、主要趋势</h2>", _chart(trends)]
    return _DOCUMENT.format(title=_e(title), body="\n".join(parts))


def print_pdf(document: str, out: Path, chromium: str = CHROMIUM) -> None:
    """Print an HTML document to a PDF file with headless Chromium (A4, as the page's CSS sets it)."""
    with tempfile.TemporaryDirectory(prefix="fengqiao-report-") as work:
        page = Path(work) / "report.html"
        page.write_text(document, encoding="utf-8")
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                        f"--user-data-dir={work}/profile", f"--print-to-pdf={out}", page.as_uri()],
                       check=True, capture_output=True, timeout=120)


@router.get("/reports/monthly/{month}", responses={200: {"content": {"text/html": {}, "application/pdf": {}}},
            401: {"model": Problem}, 403: {"model": Problem}, 422: {"model": Problem}},
            summary="月度通报 The month's report for the district, as HTML or PDF (district roles)")
def monthly_report(who: Annotated[Principal, Depends(allow("reports.monthly", DISTRICT_ROLES))],
                   svc: Annotated[Services, Depends(services)],
                   month: str, format: Annotated[Literal["html", "pdf"], Query()] = "html") -> Response:
    first = month_asked(month, svc)
    with svc.read() as conn:
        document = render(conn, svc.jurisdiction, svc.zone, first, svc.clock())
    name = f"monthly-report-{first:%Y-%m}"
    if format == "html":
        return Response(document, media_type="text/html; charset=utf-8")
    with tempfile.TemporaryDirectory(prefix="fengqiao-pdf-") as work:
        out = Path(work) / f"{name}.pdf"
        try:
            print_pdf(document, out)
        except (OSError, subprocess.SubprocessError) as error:
            raise ApiError(503, "pdf_unavailable", "暂时无法生成 PDF，请下载 HTML 版打印",
                           f"chromium: {type(error).__name__}") from None
        return Response(out.read_bytes(), media_type="application/pdf",
                        headers={"Content-Disposition": f'attachment; filename="{name}.pdf"'})


def _e(value: object) -> str:
    return html.escape(str(value))


def _percent(rate: float | None) -> str:
    return _NOTHING if rate is None else f"{rate * 100:.1f}%"


def _number(value: float | None) -> str:
    return _NOTHING if value is None else f"{value:.1f}"


def _table(header: list[str], rows: list[list[str]], name: str) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table class='{name}'><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _chart(trends: list[MonthCounts]) -> str:
    """Grouped bars per month (非警务警情, 警务警情, 工单) as inline SVG, with the counts written on them."""
    width, height, left, bottom, top = 680, 260, 40, 30, 20
    series = [("非警务警情", "#3b6fb6", lambda m: m.non_police), ("警务警情", "#9aa5b1", lambda m: m.police),
              ("派发工单", "#d9822b", lambda m: m.orders)]
    peak = max([1, *(get(m) for m in trends for _, _, get in series)])
    slot = (width - left) / max(len(trends), 1)
    bar = slot / (len(series) + 1)
    shapes = [f"<line x1='{left}' y1='{height - bottom}' x2='{width}' y2='{height - bottom}' stroke='#333'/>"]
    for n, m in enumerate(trends):
        x0 = left + n * slot + bar / 2
        for k, (_, colour, get) in enumerate(series):
            value = get(m)
            h = (height - bottom - top) * value / peak
            x, y = x0 + k * bar, height - bottom - h
            shapes.append(f"<rect x='{x:.1f}' y='{y:.1f}' width='{bar - 1:.1f}' height='{h:.1f}' fill='{colour}'/>")
            if value:
                shapes.append(f"<text x='{x + bar / 2:.1f}' y='{y - 2:.1f}' font-size='8' text-anchor='middle'>"
                              f"{value}</text>")
        shapes.append(f"<text x='{left + n * slot + slot / 2:.1f}' y='{height - bottom + 14}' font-size='10' "
                      f"text-anchor='middle'>{m.month.year % 100:02d}/{m.month.month:02d}</text>")
    legend = "".join(f"<rect x='{left + 110 * k}' y='2' width='10' height='10' fill='{c}'/>"
                     f"<text x='{left + 110 * k + 14}' y='11' font-size='10'>{name}</text>"
                     for k, (name, c, _) in enumerate(series))
    return (f"<figure><svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
            f"role='img' aria-label='近{len(trends)}个月警情与工单数量'>{legend}{''.join(shapes)}</svg>"
            f"<figcaption>近 {len(trends)} 个月警情与工单数量</figcaption></figure>")


_DOCUMENT = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>{title}</title>
<style>
@page {{ size: A4; margin: 16mm 14mm; }}
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Zen Hei", sans-serif; font-size: 10.5pt;
       color: #222; }}
h1 {{ font-size: 18pt; text-align: center; margin: 0 0 4pt; }}
h2 {{ font-size: 13pt; border-left: 4pt solid #b22; padding-left: 6pt; margin: 14pt 0 6pt; break-after: avoid; }}
.meta {{ text-align: center; color: #666; font-size: 9pt; }}
table {{ border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }}
th, td {{ border: 0.5pt solid #999; padding: 2pt 4pt; text-align: center; }}
th {{ background: #eee; }}
tr {{ break-inside: avoid; }}
.grade.red {{ color: #b22; font-weight: bold; }} .grade.black {{ color: #000; font-weight: bold; }}
.grade.yellow {{ color: #b80; }} .grade.ungraded {{ color: #888; }}
figure {{ margin: 0; break-inside: avoid; }} figcaption {{ text-align: center; font-size: 9pt; color: #666; }}
</style></head>
<body>
{body}
</body></html>
"""
