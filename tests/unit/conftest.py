"""Shared fixtures: the real Xiaoshan bundle (loaded once) and a small hand-built jurisdiction.

The fake jurisdiction (演示区) isolates one behaviour at a time:

    甲街道 900001  onboarded, own centre;  boundary: square lon 120.20–120.30, lat 30.10–30.20
    乙镇   900002  not onboarded;          boundary: square lon 120.30–120.40, lat 30.10–30.20
    双桥村 is in both towns; 柳岸村 (formerly 杨柳村) only in 乙镇; 外街道 is in 邻区, outside.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from router.bundle import load_bundle
from router.domain.classify import Classifier
from router.domain.gazetteer import TownResolver
from router.domain.incident import Incident, Point
from router.domain.jurisdiction import (
    Boundary,
    CategoryRule,
    ClassificationRules,
    CommandCentre,
    Jurisdiction,
    KeywordRule,
    OutsidePlace,
    Priority,
    Town,
    Verdict,
    Village,
)
from router.domain.routing import Router

XIAOSHAN_DIR = Path(__file__).resolve().parents[2] / "jurisdictions" / "xiaoshan"
RECEIVED_AT = datetime(2026, 11, 2, 9, 30, tzinfo=timezone(timedelta(hours=8)))

MakeIncident = Callable[..., Incident]


def make_incident(
    summary: str = "",
    address: str = "",
    *,
    category_code: str | None = None,
    category_name: str | None = None,
    point: Point | None = None,
    town_code: str | None = None,
    incident_id: str = "110-20261102-0001",
) -> Incident:
    return Incident(
        incident_id=incident_id,
        received_at=RECEIVED_AT,
        channel="110",
        summary=summary,
        address=address,
        category_code=category_code,
        category_name=category_name,
        point=point,
        town_code=town_code,
    )


@pytest.fixture
def incident() -> MakeIncident:
    """Factory: `incident(summary, address, category_code=..., point=..., town_code=...)`."""
    return make_incident


# --- the real bundle -------------------------------------------------------------------


@pytest.fixture(scope="session")
def xiaoshan_dir() -> Path:
    return XIAOSHAN_DIR


@pytest.fixture(scope="session")
def xiaoshan(xiaoshan_dir: Path) -> Jurisdiction:
    return load_bundle(xiaoshan_dir)


@pytest.fixture(scope="session")
def classifier(xiaoshan: Jurisdiction) -> Classifier:
    return Classifier(xiaoshan.rules)


@pytest.fixture(scope="session")
def resolver(xiaoshan: Jurisdiction) -> TownResolver:
    return TownResolver(xiaoshan)


@pytest.fixture(scope="session")
def router(xiaoshan: Jurisdiction) -> Router:
    return Router(xiaoshan)


# --- the fake jurisdiction -------------------------------------------------------------

FAKE_DISTRICT_CENTRE = CommandCentre("900000", "演示区社会治理中心")
TOWN_A = "900001"
TOWN_B = "900002"


def _square(west: float, south: float, east: float, north: float) -> tuple[tuple[float, float], ...]:
    return ((west, south), (east, south), (east, north), (west, north))


FAKE_BOUNDARIES = (
    Boundary(TOWN_A, (_square(120.20, 30.10, 120.30, 30.20),)),
    Boundary(TOWN_B, (_square(120.30, 30.10, 120.40, 30.20),)),
)

FAKE_RULES = ClassificationRules(
    keywords=(
        KeywordRule("police.violence", Verdict.POLICE, "暴力", Priority.URGENT, ("打人", "动手", "受伤"), negatable=True),
        KeywordRule("police.fire", Verdict.POLICE, "火灾", Priority.URGENT, ("着火",)),
        KeywordRule("non_police.utilities", Verdict.NON_POLICE, "水电气热", Priority.HIGH, ("停水",)),
        KeywordRule("non_police.noise", Verdict.NON_POLICE, "噪音扰民", Priority.NORMAL, ("噪音",)),
        KeywordRule("non_police.municipal", Verdict.NON_POLICE, "市政设施", Priority.NORMAL, ("路灯",), exclusions=("撞",)),
        KeywordRule("non_police.dispute", Verdict.NON_POLICE, "其他纠纷", Priority.NORMAL, ("吵架", "纠纷")),
        KeywordRule("non_police.move_car", Verdict.NON_POLICE, "挪车求助", Priority.LOW, ("挪车",)),
    ),
    categories=(
        CategoryRule("01", "刑事类警情", Verdict.POLICE, "刑事", Priority.URGENT),
        CategoryRule("06", "纠纷类警情", Verdict.UNCLEAR, "纠纷", Priority.NORMAL),
        CategoryRule("91", "非警务-纠纷类", Verdict.NON_POLICE, "其他纠纷", Priority.NORMAL),
    ),
    negation_cues=("未", "没有", "无人"),
    negation_window=2,
)


def build_fake(**changes: object) -> Jurisdiction:
    """The fake jurisdiction, with any field replaced (e.g. `boundaries=()`)."""
    base = Jurisdiction(
        name="demo",
        version="2026.1.0",
        district_code="900000",
        district_name="演示区",
        district_centre=FAKE_DISTRICT_CENTRE,
        towns=(
            Town(TOWN_A, "甲街道", "street", CommandCentre(TOWN_A, "甲街道综合指挥中心"), onboarded=True),
            Town(TOWN_B, "乙镇", "town", CommandCentre(TOWN_B, "乙镇综合指挥中心"), onboarded=False,
                 aliases=("乙镇开发区",)),
        ),
        villages=(
            Village("900001201", "双桥村委会", TOWN_A, ("双桥村委会", "双桥村")),
            Village("900002201", "双桥村委会", TOWN_B, ("双桥村委会", "双桥村")),
            Village("900002202", "柳岸村委会", TOWN_B, ("柳岸村委会", "柳岸村", "杨柳村")),
            Village("900001001", "老街社区", TOWN_A, ("老街社区",), retired=True),
        ),
        rules=FAKE_RULES,
        outside=(OutsidePlace("910000", "邻区", "邻区"), OutsidePlace("910000001", "外街道", "邻区")),
        district_names=("演示区",),
        boundaries=FAKE_BOUNDARIES,
    )
    return dataclasses.replace(base, **changes) if changes else base


@pytest.fixture(scope="session")
def fake() -> Jurisdiction:
    return build_fake()


@pytest.fixture
def make_fake() -> Callable[..., Jurisdiction]:
    """Factory: `make_fake(boundaries=...)` for a variant of the fake jurisdiction."""
    return build_fake
