"""The cockpit's map in Chromium, for a bundle with boundaries (Port Alder's): the district supervisor sees every
unit labelled with its name and 派单数 and clicks one to open its view; a unit's leader sees only its own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.integration.api_support import ApiUnderTest
from tests.integration.console_support import artifacts, shot, sign_in
from tests.integration.support import REPO, fresh_database

pytestmark = pytest.mark.integration

PORT_ALDER = REPO / "jurisdictions" / "port-alder"


@pytest.fixture(scope="module")
def port_alder() -> Iterator[ApiUnderTest]:
    with fresh_database() as url:
        under_test = ApiUnderTest.start(url, bundle=PORT_ALDER)
        try:
            yield under_test
        finally:
            under_test.stop()


def test_the_map_shows_each_unit_and_opens_its_view(port_alder, page: Page):
    shots = artifacts("cockpit-map")
    page.goto(port_alder.url + "/")
    sign_in(page, "district-supervisor")
    page.get_by_test_id("tab-cockpit").click()
    area = page.get_by_test_id("cockpit-map")
    expect(area.locator("svg")).to_be_visible()
    for town in port_alder.jurisdiction.towns:  # a label, not a colour only: name and count
        expect(area.locator("svg text", has_text=town.name)).to_have_count(1)
    expect(area).to_contain_text("0 件")
    shot(page, shots, "01-district-map")
    area.locator("svg text", has_text="Millbrook District").click()
    expect(page.get_by_test_id("cockpit-title")).to_contain_text("Millbrook District")
    shot(page, shots, "02-town-map")


def test_a_units_leader_sees_its_own_outline_only(port_alder, page: Page):
    page.goto(port_alder.url + "/")
    sign_in(page, "pa-s1-leader")
    page.get_by_test_id("tab-cockpit").click()
    area = page.get_by_test_id("cockpit-map")
    expect(area.locator("svg text", has_text="Millbrook District")).to_have_count(1)
    expect(area.locator("svg text", has_text="Harborside District")).to_have_count(0)
