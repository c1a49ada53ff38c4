"""Query and path parameters several endpoints share: one pattern each, so every endpoint reads them alike.

Unit codes are the bundle's own (`[units] code_pattern`; NBS digits in Xiaoshan, `PA-N1` in Port Alder): the
parameter checks only the characters (schemas.base.UNIT_CODE_CHARACTERS, at most 12, what the stores keep);
whether a code is a town in scope is the endpoint's answer (a code outside it is as absent as a made-up one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from schemas.base import UNIT_CODE_CHARACTERS

_MONTH_PATTERN = r"^[0-9]{4}-[0-9]{2}$"
_UNIT = {"max_length": 12, "pattern": UNIT_CODE_CHARACTERS}

MonthQuery = Annotated[str | None, Query(pattern=_MONTH_PATTERN, description="YYYY-MM")]
FromMonth = Annotated[str | None, Query(alias="from", pattern=_MONTH_PATTERN, description="First month, YYYY-MM.")]
ToMonth = Annotated[str | None, Query(alias="to", pattern=_MONTH_PATTERN, description="Last month, YYYY-MM.")]
MonthPath = Annotated[str, Path(pattern=_MONTH_PATTERN, description="YYYY-MM")]
TownQuery = Annotated[str | None, Query(**_UNIT, description="A town's code (镇街).")]
TownPath = Annotated[str, Path(**_UNIT, description="A town's code (镇街).")]
VillageQuery = Annotated[str | None, Query(**_UNIT, description="村社 code, or `unplaced` (no village).")]
VillagePath = Annotated[str, Path(**_UNIT, description="村社 code, or `unplaced` (no village).")]
