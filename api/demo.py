"""Demo accounts for `make run`: one per role, and for each onboarded town (in Xiaoshan the pilot towns,
试点镇街) an operator, a leader and its system, named after the pilot (`xintang-op`) or else the town's code
(`pa-s1-op`).

Only the embedded demo creates them; their passwords are printed on start, so never use them
on a real deployment (`fengqiao users add` creates real accounts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from api.identity import Identity
from router.domain.jurisdiction import Jurisdiction
from router.domain.lifecycle import Role
from router.store import accounts

DEMO_PASSWORD = "fengqiao-demo-2026"  # meets the password policy (router/domain/credentials.py)
PILOT_SLUGS = {"新塘": "xintang", "北干": "beigan", "蜀山": "shushan", "盈丰": "yingfeng", "瓜沥": "guali"}


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_id: str
    display_name: str
    role: Role
    unit_code: str
    unit_name: str


def demo_users(jurisdiction: Jurisdiction) -> list[DemoUser]:
    district = jurisdiction.district_centre
    users = []
    for town in jurisdiction.towns:
        if town.onboarded:
            slug = next((s for name, s in PILOT_SLUGS.items() if town.name.startswith(name)), town.code.lower())
            users.append(DemoUser(f"{slug}-op", f"{town.name}值班员", Role.TOWN_OPERATOR, town.code, town.name))
            users.append(DemoUser(f"{slug}-leader", f"{town.name}分管领导", Role.TOWN_LEADER, town.code, town.name))
            users.append(DemoUser(f"{slug}-system", f"{town.name}四平台对接", Role.INTEGRATION, town.code, town.name))
    users += [
        DemoUser("district-dispatcher", "区调度员", Role.DISTRICT_DISPATCHER, district.code, district.name),
        DemoUser("district-supervisor", "区督办员", Role.DISTRICT_SUPERVISOR, district.code, district.name),
        # Works the orders of the towns not onboarded yet (区中心代管) as a town's operator would.
        DemoUser("district-op", "区中心值班员", Role.DISTRICT_OPERATOR, district.code, district.name),
        DemoUser("admin", "系统管理员", Role.ADMIN, district.code, district.name),
    ]
    return users


def ensure_demo_users(engine: Engine, identity: Identity, jurisdiction: Jurisdiction, now: datetime) -> list[DemoUser]:
    """Create the demo accounts that do not exist yet; people share DEMO_PASSWORD, integrations use tokens."""
    users = demo_users(jurisdiction)
    with engine.connect() as conn:
        existing = {u["user_id"] for u in accounts.all_users(conn)}
    for u in users:
        if u.user_id not in existing:
            password = None if u.role is Role.INTEGRATION else DEMO_PASSWORD
            identity.add_user(u.user_id, u.display_name, u.role, u.unit_code, password, now)
    return users
