"""The cockpit (驾驶舱) on PostgreSQL: two months of history played through intake, commands and the sweep,
every figure of the district, town and village views compared with a count in Python of the same raw
rows (holdings, audit events, fired timers, incidents, key disputes), and the scope of a town's roles."""

from __future__ import annotations

from collections import defaultdict
from contextlib import closing
from datetime import date

import pytest
from sqlalchemy import select

from router.store.statistics import month_bounds
from router.store.tables import holdings, incidents, key_disputes, order_events, sla_timers, work_orders
from schemas.topics import Topics
from workers.demo_history import History

pytestmark = pytest.mark.integration

OCTOBER = date(2026, 10, 1)
OPEN = {"dispatched", "acknowledged", "reported", "reopened", "return_requested", "extension_requested", "parked"}


@pytest.fixture(scope="module")
def played(module_api):
    History(module_api.engine, module_api.jurisdiction, Topics()).play(module_api.clock(), months=2, per_day=8)
    return module_api


def _rows(engine, table):
    with engine.connect() as conn:
        return [r._mapping for r in conn.execute(select(table))]


def expected_figures(api, first: date, last: date, by_village: bool, town: str | None = None) -> dict[str, dict]:
    """Each unit's figures counted in Python from the raw rows: the definitions of docs/cockpit.md."""
    zone = api.jurisdiction.loop.calendar.timezone
    start, end = month_bounds(first, zone)[0], month_bounds(last, zone)[1]
    everyone = {t.code for t in api.jurisdiction.towns} | {api.jurisdiction.district_centre.code}
    towns = everyone if town is None else {town}
    orders = {o["order_id"]: o for o in _rows(api.engine, work_orders)}
    held = defaultdict(list)
    for h in _rows(api.engine, holdings):
        held[h["order_id"]].append(h)
    events = defaultdict(list)
    for e in _rows(api.engine, order_events):
        if e["accepted"]:
            events[e["order_id"]].append(e)
    fired = defaultdict(list)
    for t in _rows(api.engine, sla_timers):
        if t["status"] == "fired":
            fired[t["order_id"]].append(t)
    counts: dict[str, dict] = defaultdict(lambda: defaultdict(int))
    for order_id, segments in held.items():
        segments.sort(key=lambda h: h["from_at"])
        for index, h in enumerate(segments):
            later = [s["from_at"] for s in segments[index + 1:] if s["from_at"] > h["from_at"]]
            until = min(later) if later else None
            if not (start <= h["from_at"] < end and h["unit_code"] in towns):
                continue

            def inside(at, h=h, until=until):
                return at >= h["from_at"] and (until is None or at < until)

            kinds = [(e["kind"], e["to_state"]) for e in events[order_id] if inside(e["at"])]
            timers = [(t["stage"], t["kind"]) for t in fired[order_id]
                      if t["unit_code"] == h["unit_code"] and inside(t["fired_at"])]
            did = {k for k, _ in kinds}
            ack, rep = "acknowledge" in did, "acknowledge" in did and "report" in did
            closed = rep and "approve_report" in did
            late = {stage for stage, kind in timers if kind == "breach"}
            key = (orders[order_id]["village_code"] or "unplaced") if by_village else h["unit_code"]
            c = counts[key]
            facts = {
                "dispatched": True, "acknowledged": ack, "acknowledged_on_time": ack and "acknowledge" not in late,
                "reported": rep, "reported_on_time": rep and "report" not in late, "closed": closed,
                "returned": "request_return" in did,
                "reopened": rep and any(k in ("reject_report", "record_callback") and s == "reopened" for k, s in kinds),
                "acknowledge_settled": ack or "acknowledge" in late,
                "report_settled": ack and (rep or "report" in late),
                "resolve_settled": ack and (closed or "resolve" in late),
                "called_back": "record_callback" in did,
                "satisfied": any(k == "record_callback" and s == "closed" for k, s in kinds),
                "breached": bool(late), "escalated": any(kind.startswith("escalation.") for _, kind in timers)}
            for name, value in facts.items():
                c[name] += int(value)
    for i in _rows(api.engine, incidents):
        if i["town_code"] in towns and start <= i["received_at"] < end:
            order = orders.get(i["order_id"]) if i["order_id"] else None
            key = ((order["village_code"] if order else None) or "unplaced") if by_village else i["town_code"]
            counts[key]["received"] += 1
            counts[key]["diverted"] += int(i["outcome"] == "work_order")
    for d in _rows(api.engine, key_disputes):
        order = orders[d["order_id"]]
        if order["town_code"] in towns and order["state"] in OPEN:
            counts[(order["village_code"] or "unplaced") if by_village else order["town_code"]]["open_disputes"] += 1
    return counts


FIELDS = ("dispatched", "acknowledged", "acknowledged_on_time", "reported", "reported_on_time", "closed", "returned",
          "reopened", "acknowledge_settled", "report_settled", "resolve_settled", "called_back", "satisfied",
          "breached", "escalated", "received", "diverted", "open_disputes")


def _shown(unit: dict) -> dict:
    return {name: unit[name] for name in FIELDS if unit[name]}


def _counted(counts: dict) -> dict:
    return {name: counts[name] for name in FIELDS if counts.get(name)}


@pytest.mark.parametrize(("first", "last"), [(OCTOBER, OCTOBER), (OCTOBER, date(2026, 11, 1))], ids=["month", "period"])
def test_district_figures_are_the_raw_records_counted(played, first: date, last: date):
    expected = expected_figures(played, first, last, by_village=False)
    with closing(played.client("district-supervisor")) as client:
        view = client.get("/api/v1/cockpit/district", params={"from": f"{first:%Y-%m}", "to": f"{last:%Y-%m}"}).json()
    assert sum(u["dispatched"] for u in view["units"]) > 15  # the history reached the month
    assert {u["code"]: _shown(u) for u in view["units"] if _shown(u)} == \
        {code: _counted(c) for code, c in expected.items() if _counted(c)}
    total = view["total"]
    assert total["dispatched"] == sum(c["dispatched"] for c in expected.values())
    assert total["rates"]["resolution"] == pytest.approx(
        sum(c["closed"] for c in expected.values()) / sum(c["resolve_settled"] for c in expected.values()))
    assert total["rates"]["satisfaction"] == pytest.approx(
        sum(c["satisfied"] for c in expected.values()) / sum(c["called_back"] for c in expected.values()))
    october = next(p for p in view["trend"] if p["month"] == "2026-10")
    in_october = expected_figures(played, OCTOBER, OCTOBER, by_village=False)
    assert october["dispatched"] == sum(c["dispatched"] for c in in_october.values())
    assert october["received"] == sum(c["received"] for c in in_october.values())
    assert len(view["trend"]) == 12 and view["trend"][-1]["month"] == f"{last:%Y-%m}"


def _busiest_town(played) -> str:
    counts = expected_figures(played, OCTOBER, OCTOBER, by_village=False)
    towns = {t.code for t in played.jurisdiction.towns}
    return max(towns & counts.keys(), key=lambda code: counts[code]["dispatched"])


def test_town_and_village_figures_are_the_raw_records_counted(played):
    town = _busiest_town(played)
    expected = expected_figures(played, OCTOBER, OCTOBER, by_village=True, town=town)
    with closing(played.client("district-supervisor")) as client:
        view = client.get(f"/api/v1/cockpit/towns/{town}", params={"from": "2026-10", "to": "2026-10"}).json()
        assert {u["code"]: _shown(u) for u in view["units"] if _shown(u)} == \
            {code: _counted(c) for code, c in expected.items() if _counted(c)}
        village = max(expected, key=lambda code: expected[code]["dispatched"])
        village_view = client.get(f"/api/v1/cockpit/towns/{town}/villages/{village}",
                                  params={"from": "2026-10", "to": "2026-10"}).json()
        assert _shown(village_view["total"]) == _counted(expected[village])
        # Every figure drills down to the orders behind it, in the order list.
        for figure in ("dispatched", "closed", "breached"):
            page = client.get("/api/v1/orders", params={"figure": figure, "from": "2026-10", "to": "2026-10",
                                                        "town": town, "village": village, "limit": 500}).json()
            ids = {o["order_id"] for o in page["items"]}
            assert page["total"] == len(ids) <= expected[village][figure]
            assert len(ids) == expected[village][figure] or figure == "dispatched"
    with played.engine.connect() as conn:
        opened = conn.execute(select(work_orders.c.matter_type).where(
            work_orders.c.town_code == town, work_orders.c.opened_at >= month_bounds(OCTOBER, _zone(played))[0],
            work_orders.c.opened_at < month_bounds(OCTOBER, _zone(played))[1],
            (work_orders.c.village_code == village) if village != "unplaced" else work_orders.c.village_code.is_(None)
        )).scalars().all()
    shown = {m["matter_type"]: m["orders"] for m in village_view["matters"] if m["month"] == "2026-10"}
    assert shown == {m: opened.count(m) for m in set(opened)}


def _zone(played):
    return played.jurisdiction.loop.calendar.timezone


def test_open_orders_by_age_are_the_open_orders(played):
    town = _busiest_town(played)
    with closing(played.client("district-supervisor")) as client:
        view = client.get(f"/api/v1/cockpit/towns/{town}").json()
    with played.engine.connect() as conn:
        states = conn.execute(select(work_orders.c.state).where(work_orders.c.town_code == town)).scalars().all()
    assert sum(b["orders"] for b in view["open_orders"]) == sum(s in OPEN for s in states)


def test_a_town_leader_sees_its_town_and_villages_only(played):
    leader = played.users["xintang-leader"]
    other = next(t.code for t in played.jurisdiction.towns if t.code != leader.unit_code)
    theirs = next(v.code for v in played.jurisdiction.villages if v.town_code == other)
    ours = next(v.code for v in played.jurisdiction.villages if v.town_code == leader.unit_code)
    with closing(played.client("xintang-leader")) as client:
        assert client.get(f"/api/v1/cockpit/towns/{leader.unit_code}").status_code == 200
        assert client.get(f"/api/v1/cockpit/towns/{leader.unit_code}/villages/{ours}").status_code == 200
        assert client.get(f"/api/v1/cockpit/towns/{other}").status_code == 404
        assert client.get(f"/api/v1/cockpit/towns/{other}/villages/{theirs}").status_code == 404
        assert client.get(f"/api/v1/cockpit/towns/{leader.unit_code}/villages/{theirs}").status_code == 404
        assert client.get("/api/v1/cockpit/district").status_code == 403
        assert client.get("/api/v1/orders", params={"figure": "dispatched", "town": other}).status_code == 404


def test_every_view_exports_csv(played):
    town = _busiest_town(played)
    with closing(played.client("district-supervisor")) as client:
        for path in ("/api/v1/cockpit/district", f"/api/v1/cockpit/towns/{town}"):
            response = client.get(path, params={"format": "csv"})
            assert response.headers["content-type"].startswith("text/csv")
            lines = response.text.lstrip("\ufeff").splitlines()
            assert lines[0].startswith("单位,接警数,分流数")
            assert len(lines) == 2 + len(client.get(path).json()["units"])


@pytest.mark.parametrize("params", [{"from": "2026-11", "to": "2026-10"}, {"from": "2020-01", "to": "2026-10"},
                                    {"from": "2026-13"}])
def test_a_bad_period_is_a_clear_422(played, params):
    with closing(played.client("district-supervisor")) as client:
        response = client.get("/api/v1/cockpit/district", params=params)
    assert response.status_code == 422 and response.json()["message"]


def test_history_is_played_once(played):
    assert History(played.engine, played.jurisdiction, Topics()).played()




def test_this_months_figures_stand_beside_an_old_period(played):
    """`month_units` are this month's, whatever the period: counted apart when the period is years back."""
    with closing(played.client("district-supervisor")) as client:
        now = client.get("/api/v1/cockpit/district").json()
        old = client.get("/api/v1/cockpit/district", params={"from": "2023-01", "to": "2023-02"}).json()
    assert sum(u["dispatched"] for u in now["month_units"]) > 0
    assert old["month_units"] == now["month_units"]
    assert not any(_shown({**u, "open_disputes": 0}) for u in old["units"])
    assert [p["month"] for p in old["trend"]][-1] == "2023-02"


def test_a_bundle_without_boundaries_has_an_empty_map(played):
    with closing(played.client("district-supervisor")) as client:
        found = client.get("/api/v1/cockpit/map")
    assert found.status_code == 200 and found.json() == {"type": "FeatureCollection", "features": []}
