"""A labelled case (标注案例): an incident with where it should have gone, for `fengqiao eval`.

District staff write these from their own history before switching a rule set on; the loop
exports them from returns and corrections (`fengqiao cases export`); the feed generator writes
them with its ground truth. One JSON object per line.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from schemas.base import Contract
from schemas.decision import RoutingDecisionV1


class LabelledCaseV1(Contract):
    """One case and its expected outcome. Places may be absent or masked: then `expect_where` is review."""

    case_id: Annotated[str, Field(min_length=1, max_length=128)]
    summary: Annotated[str, Field(max_length=20_000)] = Field(description="The incident's text (简要警情).")
    address: Annotated[str, Field(max_length=500)] = ""
    category_code: Annotated[str | None, Field(max_length=32)] = None
    category_name: Annotated[str | None, Field(max_length=64)] = None
    town_code: Annotated[str | None, Field(pattern=r"^[0-9]{9}([0-9]{3})?$")] = Field(
        None, description="A town or village code the feed itself would carry, if any.")
    expect_class: Literal["police", "non_police"]
    expect_town_code: Annotated[str | None, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,11}$")] = Field(
        None, description="The town (unit) that should own the order, a code in the bundle's own form ([units] "
                          "code_pattern); null when the place is unknown or masked.")
    expect_where: Literal["police", "work_order", "review"] = Field(
        description="police: back to police dispatch; work_order: a town order; review: non-police, town unknown.")
    kind: Annotated[str, Field(min_length=1, max_length=128)] = Field(
        description="`<source>/<label>`: figures are given per source and per label.")
    decided: RoutingDecisionV1 | None = Field(
        None, description="For a case the loop corrected (fengqiao cases export): the decision that was wrong.")

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.expect_class == "police") != (self.expect_where == "police"):
            raise ValueError("expect_where is police exactly when expect_class is police")
        if (self.expect_where == "work_order") != (self.expect_town_code is not None):
            raise ValueError("expect_town_code is given exactly when expect_where is work_order")
        return self

    @property
    def source(self) -> str:
        return self.kind.split("/", 1)[0]
