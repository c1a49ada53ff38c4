"""Monthly figures on PostgreSQL: the unit tests' scenario, the same counts (SQL portable across dialects)."""

from __future__ import annotations

import pytest

from router.bundle import load_bundle
from router.domain.ranking import a_year_earlier
from router.store.database import make_engine
from router.store.migrate import upgrade
from router.store.statistics import town_months
from tests.integration.support import REPO
from tests.unit.test_statistics import (
    BEIGAN,
    BEIGAN_NOVEMBER,
    CST,
    NOVEMBER,
    XINTANG,
    XINTANG_A_YEAR_EARLIER,
    XINTANG_NOVEMBER,
    play,
)

pytestmark = pytest.mark.integration


def test_monthly_figures_on_postgresql(pg_url: str):
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        play(engine, load_bundle(REPO / "jurisdictions" / "xiaoshan"))
        with engine.connect() as conn:
            assert town_months(conn, NOVEMBER, CST, [XINTANG, BEIGAN]) == [XINTANG_NOVEMBER, BEIGAN_NOVEMBER]
            assert town_months(conn, a_year_earlier(NOVEMBER), CST, [XINTANG]) == [XINTANG_A_YEAR_EARLIER]
    finally:
        engine.dispose()
