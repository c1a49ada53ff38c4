"""Personal data never reaches a log line."""

from __future__ import annotations

import pytest

from workers.logs import mask_personal_data


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        pytest.param("caller 13812345678 called", "caller 138****5678 called", id="mobile"),
        pytest.param("tel:+8613812345678", "tel:+86138****5678", id="mobile-with-country-code"),
        pytest.param("0571-82345678", "0571-****5678", id="landline"),
        pytest.param("order WO1A2B3C4D5E6F70", "order WO1A2B3C4D5E6F70", id="order-id-untouched"),
        pytest.param("offset 1234567890123", "offset 1234567890123", id="long-number-untouched"),
    ],
)
def test_phone_numbers_are_masked_in_any_value(value: str, masked: str):
    assert mask_personal_data(None, "info", {"event": value})["event"] == masked


def test_personal_keys_are_dropped_whatever_their_value():
    event = mask_personal_data(None, "info", {"event": "routed", "caller": {"name": "张伟"}, "phone": 1})
    assert event == {"event": "routed", "caller": "[masked]", "phone": "[masked]"}
