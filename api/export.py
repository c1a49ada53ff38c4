"""CSV export of any table the console shows (导出): UTF-8 with a BOM, so Excel opens Chinese text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, tzinfo
from urllib.parse import quote

from starlette.responses import Response

# For the OpenAPI document: routes with `format=csv` also answer 200 as text/csv.
CSV_RESPONSE = {200: {"content": {"text/csv": {"schema": {"type": "string"}}},
                      "description": "JSON, or CSV with Chinese headings when `format=csv`."}}


# A cell starting with one of these is a formula to Excel: citizens' text could run one (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(row: Mapping, key: str, zone: tzinfo) -> object:
    value: object = row
    for part in key.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, datetime):  # local time to the second, as people read it (Excel takes it as a date)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return "" if value is None else value


def csv_response(title: str, columns: Sequence[tuple[str, str]], zone: tzinfo, rows: Iterable[Mapping]) -> Response:
    """`columns` are (key, Chinese heading); a dotted key reads a nested field (deadlines.report); times
    are written in `zone` (the bundle's), to the second."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([heading for _, heading in columns])
    for row in rows:
        writer.writerow([_cell(row, key, zone) for key, _ in columns])
    return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(title)}.csv"})
