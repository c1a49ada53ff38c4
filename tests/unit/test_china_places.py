"""jurisdictions/tools/china_places.py, the converter that writes a bundle's outside.csv from NBS division
data: the same input writes the same file, the district's own places and names stay out, and a city
without counties is kept once."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / "jurisdictions" / "tools" / "china_places.py"


def _tool():
    spec = importlib.util.spec_from_file_location("china_places", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _write(path: Path, header: str, *rows: str) -> None:
    path.write_text("\n".join((header, *rows)) + "\n", encoding="utf-8")


def _fixture(tmp_path: Path) -> tuple[Path, Path]:
    dist, bundle = tmp_path / "dist", tmp_path / "bundle"
    dist.mkdir()
    bundle.mkdir()
    _write(dist / "provinces.csv", "code,name", "33,浙江省", "44,广东省")
    _write(dist / "cities.csv", "code,name,provinceCode", "3301,杭州市,33", "4419,东莞市,44", "4401,广州市,44")
    _write(dist / "areas.csv", "code,name,cityCode,provinceCode", "330109,萧山区,3301,33", "330110,余杭区,3301,33",
           "440118,增城区,4401,44", "441900,东莞市,4419,44")
    _write(dist / "streets.csv", "code,name,areaCode,provinceCode,cityCode", "330109004,新塘街道,330109,33,3301",
           "330110001,临平街道,330110,33,3301", "440118101,新塘镇,440118,44,4401", "440118102,瓜沥村,440118,44,4401")
    _write(bundle / "towns.csv", "code,name,kind,centre_code,centre_name,onboarded,aliases",
           "330109004,新塘街道,street,330109004,新塘街道综合指挥中心,yes,新塘")
    _write(bundle / "gazetteer.csv", "code,name,town_code,short_name,aliases,former_names,status,source",
           "330109004227,傅楼村委会,330109004,瓜沥村,,,current,test")
    return dist, bundle


def test_the_same_data_writes_the_same_places(tmp_path: Path):
    dist, bundle = _fixture(tmp_path)
    tool = _tool()
    tool.main(dist, "330109", bundle)
    first = (bundle / "outside.csv").read_bytes()
    tool.main(dist, "330109", bundle)
    assert (bundle / "outside.csv").read_bytes() == first
    rows = list(csv.DictReader((bundle / "outside.csv").open(encoding="utf-8")))
    names = {r["name"] for r in rows}
    assert {"余杭区", "临平街道", "新塘镇", "广东省", "浙江省", "杭州市"} <= names
    assert "萧山区" not in names and "新塘街道" not in names  # the district and its towns are not elsewhere
    assert "瓜沥村" not in names  # a name the bundle uses for its own village stays its own
    assert [r["code"] for r in rows].count("441900") == 1  # 东莞市: a city without counties, kept once
    assert next(r for r in rows if r["name"] == "新塘镇")["district"] == "增城区"
