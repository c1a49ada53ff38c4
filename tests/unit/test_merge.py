"""并单: which reports repeat an open order, in the pure core and through intake on SQLite."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from router.domain.loop import MergeRules, Place, distance_m, same_matter
from router.intake import FeedRecord, Intake
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.tables import key_disputes, order_reports, work_orders
from schemas.topics import Topics

T0 = datetime(2026, 11, 28, 9, tzinfo=UTC)
RULES = MergeRules(window=timedelta(hours=72), radius_m=150, key_dispute_reports=3,
                   key_dispute_window=timedelta(days=30), key_dispute_working_days=15)
ORDER = Place("330109004", "噪音扰民", T0, "330109004201", "新塘街道傅楼村12号", 120.30, 30.17)


@pytest.mark.parametrize(
    ("report", "repeats"),
    [
        pytest.param(Place("330109004", "噪音扰民", T0 + timedelta(hours=5), "330109004201"), True, id="same-village"),
        pytest.param(Place("330109004", "噪音扰民", T0 + timedelta(hours=5), None, "新塘街道傅楼村12号"), True,
                     id="same-address"),
        pytest.param(Place("330109004", "噪音扰民", T0, None, "", 120.3010, 30.1705), True, id="within-radius"),
        pytest.param(Place("330109004", "噪音扰民", T0, None, "", 120.3100, 30.1700), False, id="beyond-radius"),
        pytest.param(Place("330109004", "噪音扰民", T0 - timedelta(hours=3), "330109004201"), True,
                     id="delivered-out-of-order"),
        pytest.param(Place("330109004", "噪音扰民", T0 + timedelta(hours=73), "330109004201"), False,
                     id="outside-window"),
        pytest.param(Place("330109002", "噪音扰民", T0, "330109004201"), False, id="other-town"),
        pytest.param(Place("330109004", "劳资纠纷", T0, "330109004201"), False, id="other-matter"),
        pytest.param(Place("330109004", "噪音扰民", T0), False, id="nothing-in-common"),
    ],
)
def test_a_report_repeats_an_open_order_of_the_same_town_matter_and_place(report: Place, repeats: bool):
    assert same_matter(ORDER, report, RULES) is repeats


def test_distance_is_in_metres():
    assert 95 < distance_m(120.30, 30.17, 120.301, 30.17) < 97  # 0.001° of longitude at 30°N


def test_reports_close_by_merge_across_batches_on_coordinates_alone(tmp_path, router):
    engine = make_engine(f"sqlite:///{tmp_path / 'merge.db'}")
    upgrade(engine)
    intake = Intake(router, engine.begin, Topics(), 65_536)

    def report(source_id: str, lon: float, at: datetime) -> FeedRecord:
        body = {"source_id": source_id, "received_at": at.isoformat(), "channel": "app",
                "summary": "路边井盖丢失，很危险", "address": f"萧山区北干街道{source_id}附近", "town_code": "330109002",
                "location": {"lon": lon, "lat": 30.18, "datum": "WGS-84"}}
        return FeedRecord(json.dumps(body, ensure_ascii=False).encode())

    intake.handle([report("G1", 120.2700, T0)], T0)
    intake.handle([report("G2", 120.2705, T0 + timedelta(hours=1)),  # ~48 m away: the same manhole
                   report("G3", 120.2800, T0 + timedelta(hours=1))], T0 + timedelta(hours=1))  # ~960 m: another

    with engine.connect() as conn:
        orders = {r.incident_id: r.reports for r in conn.execute(select(work_orders))}
        attached = {r.incident_id: r.order_id for r in conn.execute(select(order_reports))}
    assert orders == {"G1": 2, "G3": 1}
    assert attached["G2"] == attached["G1"]
    engine.dispose()


@pytest.mark.parametrize(("summary", "matter_type", "flagged"), [
    pytest.param("和邻居因为宅基地边界又起了争执，村里调解过几次没用", "土地纠纷", True, id="a-recurring-quarrel"),
    pytest.param("小区门口的路灯坏了，晚上一片漆黑", "市政设施", False, id="a-lamp-reported-three-times"),
])
def test_only_a_dispute_that_keeps_coming_back_becomes_a_key_dispute(tmp_path, router, summary, matter_type,
                                                                     flagged):
    engine = make_engine(f"sqlite:///{tmp_path / 'disputes.db'}")
    upgrade(engine)
    intake = Intake(router, engine.begin, Topics(), 65_536)
    for i in range(3):
        at = T0 + timedelta(hours=i)
        body = {"source_id": f"K{i}", "received_at": at.isoformat(), "channel": "phone", "summary": summary,
                "address": "萧山区新塘街道傅楼村12号"}
        intake.handle([FeedRecord(json.dumps(body, ensure_ascii=False).encode())], at)
    with engine.connect() as conn:
        [order] = conn.execute(select(work_orders)).all()
        disputes = conn.execute(select(key_disputes)).all()
    engine.dispose()
    assert (order.matter_type, order.reports) == (matter_type, 3)
    assert bool(disputes) is flagged
