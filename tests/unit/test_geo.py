"""Geometry tables: point-in-polygon (with holes) and the GCJ-02 → WGS-84 conversion."""

from __future__ import annotations

import math

import pytest

from router.domain.geo import in_rings, to_wgs84
from router.domain.incident import Datum, Point

# --- point in polygon -------------------------------------------------------------------

SQUARE = ((0.0, 0.0), (10.0, 0.0), (10.0, 10.0), (0.0, 10.0))
HOLE = ((4.0, 4.0), (6.0, 4.0), (6.0, 6.0), (4.0, 6.0))
L_SHAPE = ((0.0, 0.0), (10.0, 0.0), (10.0, 4.0), (4.0, 4.0), (4.0, 10.0), (0.0, 10.0))
FAR_SQUARE = ((20.0, 20.0), (30.0, 20.0), (30.0, 30.0), (20.0, 30.0))
CLOSED_SQUARE = (*SQUARE, SQUARE[0])  # GeoJSON repeats the first vertex

POLYGONS = [
    # (rings, lon, lat, inside)
    pytest.param((SQUARE,), 5.0, 5.0, True, id="square-centre"),
    pytest.param((SQUARE,), 0.5, 9.5, True, id="square-corner-inside"),
    pytest.param((SQUARE,), 11.0, 5.0, False, id="square-east"),
    pytest.param((SQUARE,), 5.0, -0.1, False, id="square-south"),
    pytest.param((SQUARE,), -5.0, 5.0, False, id="square-west-on-ray-line"),
    pytest.param((CLOSED_SQUARE,), 5.0, 5.0, True, id="closed-ring-inside"),
    pytest.param((CLOSED_SQUARE,), 15.0, 5.0, False, id="closed-ring-outside"),
    pytest.param((SQUARE, HOLE), 5.0, 5.0, False, id="in-hole"),
    pytest.param((SQUARE, HOLE), 2.0, 5.0, True, id="beside-hole"),
    pytest.param((SQUARE, HOLE), 5.0, 8.0, True, id="above-hole"),
    pytest.param((L_SHAPE,), 2.0, 8.0, True, id="concave-arm"),
    pytest.param((L_SHAPE,), 8.0, 8.0, False, id="concave-notch"),
    pytest.param((SQUARE, FAR_SQUARE), 25.0, 25.0, True, id="multipolygon-second"),
    pytest.param((SQUARE, FAR_SQUARE), 15.0, 15.0, False, id="multipolygon-between"),
    pytest.param((), 5.0, 5.0, False, id="no-rings"),
]


@pytest.mark.parametrize(("rings", "lon", "lat", "inside"), POLYGONS)
def test_in_rings(rings, lon, lat, inside):
    assert in_rings(lon, lat, rings) is inside


# --- datum conversion -------------------------------------------------------------------
# An independent forward WGS-84 → GCJ-02 transform (the published algorithm), so the
# module's inverse is checked against something it did not compute itself.

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323


def _delta_lat(x: float, y: float) -> float:
    d = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    d += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return d


def _delta_lon(x: float, y: float) -> float:
    d = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    d += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    d += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return d


def gcj_forward(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 → GCJ-02."""
    rad = math.radians(lat)
    magic = 1.0 - _KRASOVSKY_EE * math.sin(rad) ** 2
    dlat = _delta_lat(lon - 105.0, lat - 35.0) * 180.0 / (
        (_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * math.sqrt(magic)) * math.pi
    )
    dlon = _delta_lon(lon - 105.0, lat - 35.0) * 180.0 / (_KRASOVSKY_A / math.sqrt(magic) * math.cos(rad) * math.pi)
    return lon + dlon, lat + dlat


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Haversine distance in metres."""
    (lon1, lat1), (lon2, lat2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = math.sin((p2 - p1) / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6371008.8 * math.asin(math.sqrt(h))


HANGZHOU_POINTS = [
    pytest.param((120.2640, 30.1850), id="xiaoshan-centre"),
    pytest.param((120.3000, 30.1700), id="xintang"),
    pytest.param((120.4600, 30.1900), id="guali"),
    pytest.param((120.2000, 29.9900), id="daicun"),
    pytest.param((120.2100, 30.2080), id="binjiang-xixing"),
    pytest.param((120.1551, 30.2741), id="west-lake"),
]


@pytest.mark.parametrize("reading", HANGZHOU_POINTS)
def test_converting_a_gcj_reading_in_hangzhou_moves_it_hundreds_of_metres_west_and_north(reading):
    wgs = to_wgs84(Point(*reading, Datum.GCJ02))
    assert 300.0 <= metres(reading, wgs) <= 600.0
    # GCJ-02 shifts Hangzhou east and slightly south, so the way back is west and north
    assert wgs[0] < reading[0]
    assert wgs[1] > reading[1]


@pytest.mark.parametrize("wgs", HANGZHOU_POINTS)
def test_gcj_to_wgs_round_trip_within_a_few_metres(wgs):
    gcj = gcj_forward(*wgs)
    back = to_wgs84(Point(*gcj, Datum.GCJ02))
    assert metres(back, wgs) < 3.0
    assert metres(back, gcj) > 300.0  # the conversion did move the point


WGS_PASSTHROUGH = [
    pytest.param(Point(120.264, 30.185), id="default-datum"),
    pytest.param(Point(120.264, 30.185, Datum.WGS84), id="explicit-wgs84"),
    pytest.param(Point(-73.9857, 40.7484, Datum.WGS84), id="outside-china"),
]


@pytest.mark.parametrize("point", WGS_PASSTHROUGH)
def test_wgs84_points_are_unchanged(point):
    assert to_wgs84(point) == (point.lon, point.lat)


# test_gazetteer's polygon-datum case: a WGS-84 point 190 m inside 甲街道's east edge (lon 120.30)
# and its GCJ-02 reading, which lies in 乙镇's square.
EDGE_WGS = (120.298, 30.15)
EDGE_GCJ_RAW = (120.302478, 30.147581)


def test_the_gazetteer_edge_reading_converts_back_into_the_first_town():
    """test_gazetteer's polygon-datum case relies on to_wgs84 taking EDGE_GCJ_RAW back to EDGE_WGS."""
    assert tuple(round(c, 6) for c in gcj_forward(*EDGE_WGS)) == EDGE_GCJ_RAW
    lon, lat = to_wgs84(Point(*EDGE_GCJ_RAW, Datum.GCJ02))
    assert metres((lon, lat), EDGE_WGS) < 3.0
    assert lon < 120.30 < EDGE_GCJ_RAW[0]  # converted, it is back in 甲街道's square
