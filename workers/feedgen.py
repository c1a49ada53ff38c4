"""Synthetic 110 feed records for Xiaoshan, each with its ground truth.

Used by the demo feed of `make run`, the end-to-end test (every record must land in
exactly one place) and the routing benchmark. Deterministic from a seed; stdlib only
(plus the project's own types).

Ground truth is right by construction, and tests/unit/test_feedgen.py checks it against
the real Router:

* Police records carry an unnegated police term, or no rule term at all (unclear goes to
  police), or a police feed category. Non-police records carry non-police terms only
  (a police term appears only negated: "双方未动手", "无人受伤").
* Feed categories are drawn from the bundle and filtered by verdict and by the terms
  in their names, so a category never changes the verdict its template implies.
* Places come from the bundle: a resolvable address names a village that only one town
  has, or a town, or a shared village (紫霞村, 东风村, ...) together with its town; an
  explicit town_code is the town's or the village's own. Review records name a shared
  village without its town, two towns, a town and another town's village, or nothing at
  all, or only places in other districts (outside.csv). Summaries, roads and venues
  contain no place names (checked when the generator is built), so they never add
  evidence except where a form deliberately puts the place in the summary.
* Coordinates are attached only while the bundle has no boundary polygons; with
  polygons they would decide the town and the truth could no longer be known here.
* Invalid records cover every DeadLetterReason, and each fails only at its own step of
  the reading order: size > MAX_RECORD_BYTES, then strict UTF-8 decoding, then JSON,
  then the IncidentV1 schema. Every record's bytes are distinct (each carries its own id
  or random bytes), so dead-letter de-duplication by fingerprint never merges two.
"""

from __future__ import annotations

import base64
import json
import random
import re
import string
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate

from router.domain.jurisdiction import Jurisdiction, Verdict
from schemas.deadletter import DeadLetterReason

MAX_RECORD_BYTES = 65536
"""The largest feed record the worker accepts (64 KiB); bigger ones are dead-lettered as oversize."""

POLICE = "police"
WORK_ORDER = "work_order"
REVIEW = "review"
DEAD_LETTER = "dead_letter"

TOWN_AMBIGUOUS = "town_ambiguous"
TOWN_UNRESOLVED = "town_unresolved"
OUTSIDE_JURISDICTION = "outside_jurisdiction"

_SOURCE_ID = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass(frozen=True, slots=True)
class Expected:
    """Where a record must end up."""

    outcome: str  # police | work_order | review | dead_letter
    town_code: str | None = None  # work_order
    centre_code: str | None = None  # work_order: the town's centre if onboarded, else the district's; review: district
    reason: str | None = None  # review: a ReviewReason value; dead_letter: a DeadLetterReason value


@dataclass(frozen=True, slots=True)
class Sample:
    """One feed record as a producer would send it, and its ground truth."""

    key: bytes | None  # Kafka key: source_id in UTF-8; None when the record carries no usable id
    value: bytes  # the record's bytes: JSON in UTF-8, or deliberately broken bytes
    source_id: str | None
    expected: Expected


_POLICE_EXPECTED = Expected(POLICE)


# --- text -------------------------------------------------------------------------------
# Groups: (kind, weight, preferred feed category codes, templates).
#   police       an unnegated police term decides; any category may be attached
#   unclear      no rule term at all: unclear goes to police; categories must not add a term
#   by_category  non-police wording, but the feed filed it under a police category
#   non_police   non-police terms only; categories must not carry a police term
#   category_only  no rule term; a non-police category decides

_POLICE_GROUPS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("police", 18, ("02", "06"), (
        "两名男子在{venue}因琐事打架，其中一人头部流血",
        "{venue}有人打架，一名男子被打伤，需要救护车",
        "报警人称被{who}殴打，脸部受伤",
        "酒后与邻桌发生肢体冲突，对方{n}人一起动手",
        "邻居因停车位吵架后打起来了，有人受伤",
        "与人发生口角后被对方推搡倒地，头部撞到台阶",
    )),
    ("police", 8, ("01", "02", "06"), (
        "工人讨要工资未果，拿着刀在工地与包工头对峙",
        "包工头拖欠{amt}工钱，工人持刀守在老板家门口",
        "{venue}有男子手持砍刀追砍他人",
        "夫妻吵架，丈夫拿刀威胁妻子",
        "有人拿着铁棍在{venue}砸东西",
    )),
    ("police", 5, ("05",), (
        "因拖欠{amt}工钱，{cnt}名工人扬言要跳楼",
        "有人站在楼顶边缘情绪激动，疑似要轻生",
        "{venue}附近河里有人落水，请求救援",
        "女儿发消息说要自杀，现在联系不上",
    )),
    ("police", 16, ("01", "02"), (
        "报警人停在{venue}的电动车被盗",
        "家中被盗，丢失现金约{amt}和一条金项链",
        "在{venue}手机被偷，怀疑遭扒窃",
        "夜里有小偷入室，翻乱了抽屉",
        "{venue}有人抢夺路人的包后逃跑",
    )),
    ("police", 12, ("01",), (
        "报警人网上刷单被骗{amt}",
        "接到冒充公检法的电话，已转账{amt}",
        "老人被人以推销保健品名义骗走{amt}",
        "网上买演唱会门票被骗，对方已拉黑",
    )),
    ("police", 6, ("04", "05"), (
        "{building}厨房起火，有浓烟冒出",
        "村里一处柴堆着火，火势较大",
        "电动车在楼道充电时起火",
        "{building}内冒烟，疑似失火",
    )),
    ("police", 14, ("03",), (
        "{road}路口两车追尾，有人受伤",
        "发生交通事故，一辆货车与电瓶车相撞，骑车人倒地不起",
        "小轿车肇事后逃逸，车牌{plate}",
        "疑似酒驾车辆在路上蛇行",
        "老人过马路时被车撞了，躺在地上",
    )),
    ("police", 6, ("05",), (
        "{age}岁老人早上出门后走失，有老年痴呆",
        "家里{age}岁的老人不见了，已找了{n}个小时",
        "{kid}岁孩子在{venue}走失，穿红色外套",
    )),
    ("police", 5, ("05",), (
        "闻到煤气味很重，怀疑燃气泄漏",
        "电梯困人，里面有{n}个人",
        "电话里有人喊救命后挂断",
        "路边电线掉落，有火花",
        "老房子倒塌，可能有人在里面",
    )),
    ("police", 4, ("02",), (
        "丈夫酒后家暴，妻子脸部受伤",
        "报警人称长期遭受家庭暴力，今晚又被打",
    )),
    ("police", 3, ("02",), (
        "前男友发消息威胁要报复",
        "有人在店里打砸，砸坏玻璃门",
        "被人敲诈{amt}，对方扬言不给钱就曝光照片",
    )),
    ("police", 2, ("02", "07"), (
        "{venue}楼上有人聚赌",
        "举报出租房内有人吸毒",
    )),
    ("police", 2, ("02",), (
        "{cnt}名工人聚集在工地门口讨薪，围堵大门",
        "一群人在{venue}聚众闹事",
    )),
    ("police", 1, ("01",), (
        "在公交车上被人偷拍",
    )),
    ("unclear", 5, ("01", "02", "05", "06", "07"), (
        "报警人情绪激动，未说清具体情况即挂断",
        "来电无声，回拨无人接听",
        "报警人称有急事需要民警到场，具体情况不愿在电话里说",
        "报警人说话含糊，疑似醉酒，要求出警",
    )),
    ("by_category", 3, ("02", "01"), (
        "邻居因琐事发生争吵，要求民警到场",
        "与{shop}老板因琐事发生口角",
    )),
)

_NON_POLICE_GROUPS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("non_police", 14, ("94", "07", "91"), (  # 噪音扰民
        "楼上邻居每天晚上{hour}点后装修，噪音太大，多次沟通无果",
        "小区广场舞音响声太大，影响老人休息",
        "隔壁KTV半夜唱歌，吵得睡不着",
        "工地夜间施工声很大，已持续{dur}",
        "楼下烧烤店大声喧哗到凌晨",
    )),
    ("non_police", 14, ("91", "06"), (  # 邻里纠纷
        "邻居在公共通道堆放杂物引发争吵，双方未动手",
        "楼上卫生间漏水到我家，协商赔偿不成",
        "与隔壁因空调外机位置发生口角，要求调解",
        "邻居家种的树遮挡采光，多次协商无果",
        "楼下住户在楼道里堆放杂物，影响通行",
        "与邻居因漏水问题争吵，双方没有动手",
    )),
    ("non_police", 8, ("91", "06"), (  # 家事纠纷
        "夫妻吵架，妻子要求调解，无人受伤",
        "兄弟{cn}人因父母赡养问题发生矛盾",
        "婆媳矛盾，儿媳要求村里出面调解",
        "离婚后对方不按时支付抚养费",
    )),
    ("non_police", 5, ("91", "06"), (  # 土地纠纷
        "与邻村村民因宅基地边界发生纠纷",
        "承包地被他人占用种菜，协商不成",
        "两户人家为田地地界争执不下",
        "征地补偿款分配有争议，要求村里说明",
    )),
    ("non_police", 8, ("91", "06"), (  # 劳资纠纷
        "包工头拖欠{cnt}名工人工资共计{amt}",
        "在{shop}工作{n}个月，老板拖欠工资不给",
        "公司未缴纳社保，要求处理",
        "装修队工钱没结清，老板一直拖着",
    )),
    ("non_police", 8, ("96", "94"), (  # 物业纠纷
        "小区电梯故障{dur}，物业一直不修",
        "物业乱收停车费，业主不满",
        "小区门禁坏了，外来人员随意进出",
        "业主群里反映小区管理混乱，垃圾无人清运",
    )),
    ("non_police", 7, ("94", "91"), (  # 消费纠纷
        "在{shop}办了预付卡，现在店关门了要求退款",
        "网购的电器有质量问题，商家不给退货",
        "健身房押金不退，已交涉{n}次",
        "饭店多收餐费，与商家协商未果",
    )),
    ("non_police", 9, ("92", "05", "94"), (  # 市政设施
        "小区门口路灯坏了{dur}",
        "路边窨井盖缺失，存在安全隐患",
        "下雨后路面积水严重，车辆难以通行",
        "路口红绿灯不亮，车辆通行混乱",
        "道路破损，坑洼很多，电动车不好骑",
        "下水道堵塞，污水漫到路面",
    )),
    ("non_police", 7, ("92", "05"), (  # 水电气热
        "家里停水{n}天了，没有接到通知",
        "整片区域突然停电，已经{n}个小时",
        "路边水管爆裂，水流了一地",
        "天然气停了，燃气公司电话打不通",
        "自来水水压低，楼上用不了水",
    )),
    ("non_police", 5, ("92", "05"), (  # 动物
        "村里流浪狗咬伤鸡鸭",
        "院子里进了一条蛇，请求帮助",
        "屋檐下有马蜂窝，担心蜇到小孩",
        "野猪下山拱坏了菜地",
        "小区里流浪猫太多，晚上叫个不停",
    )),
    ("non_police", 6, ("95",), (  # 挪车求助
        "车被一辆{plate}的车挡住出口，联系不上车主",
        "有车堵住车库门口，车主不在",
        "小区消防通道被车挡道，请求挪车",
    )),
    ("non_police", 5, ("97", "94"), (  # 环境污染
        "附近工厂排放污水，河水发黑发臭",
        "楼下饭店油烟太大，熏得不能开窗",
        "有人在田里焚烧秸秆，气味刺鼻",
        "养殖场臭味很大，周边居民受不了",
        "工地粉尘很大，没有洒水降尘",
    )),
    ("non_police", 3, ("94", "96"), (  # 违章搭建
        "邻居在屋顶违章搭建",
        "有人在路边占道经营，影响通行",
        "楼下商铺乱堆乱放，占用人行道",
    )),
    ("non_police", 4, ("91", "06"), (  # 债务纠纷
        "朋友借钱不还，欠款{amt}",
        "房东不退押金{amt}",
        "租客拖欠房租{n}个月，人联系不上",
        "合同纠纷，对方拖欠货款{amt}",
    )),
    ("non_police", 3, ("93",), (  # 咨询
        "咨询户口迁移需要哪些材料",
        "问一下居住证怎么办理",
        "咨询电动车上牌的地点和时间",
    )),
    ("non_police", 3, ("91", "06"), (  # 其他纠纷
        "与{shop}老板因琐事发生口角，要求调解",
        "与出租车司机因车费发生争执",
    )),
    ("category_only", 2, ("91", "92", "94"), (
        "来电反映情况，要求相关部门核实处理",
        "报警人要求有关部门上门查看",
    )),
)

_SLOTS: dict[str, tuple[str, ...]] = {
    "venue": ("小区门口", "菜市场", "夜宵摊", "KTV门口", "网吧", "工地", "超市门口", "公交站", "学校附近", "广场"),
    "building": ("饭店", "出租房", "民房", "厂房", "一户人家"),
    "who": ("一名陌生男子", "前同事", "对方", "一名醉酒男子", "几名年轻人"),
    "shop": ("奶茶店", "健身房", "培训机构", "理发店", "超市", "饭店", "美容院"),
    "hour": ("十", "十一", "十二"),
    "dur": ("一个多星期", "三四天", "半个多月", "好几天", "两个星期"),
    "cn": ("两", "三", "四"),
    "n": ("2", "3", "4", "5", "6"),
    "cnt": tuple(str(i) for i in range(3, 31)),
    "age": tuple(str(i) for i in range(68, 92)),
    "kid": tuple(str(i) for i in range(4, 11)),
    "amt": (),  # generated
    "plate": (),  # generated
    "road": (),  # from _ROADS
}

_ROADS = (
    "人民路", "工人路", "育才路", "文化路", "通惠路", "市心路", "金城路", "建设一路", "山阴路", "萧绍路",
    "风情大道", "博奥路", "鸿达路", "恒隆路", "湘湖路", "机场路", "振宁路", "新港大道", "高新路", "商贸路",
)
_VAGUE = ("萧山区", "萧山", "杭州市萧山区", "高速出口附近", "江边绿道上", "公交车上", "03省道旁", "路边", "某小区门口")
_SURNAMES = (
    "张王李赵陈刘杨黄周吴徐孙朱马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢钟陆汪金俞"
    "楼来傅"
)
_GIVEN = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "华", "建国", "国强", "建华", "志强", "海燕", "晓东", "丽华", "小红", "佳怡", "子涵", "浩然", "雨欣", "金花",
)
_MOBILE = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
           "158", "159", "166", "176", "177", "180", "181", "182", "186", "187", "188", "189", "198", "199")
_CHANNELS = (("phone", 70), ("12345", 8), ("app", 7), ("wechat", 5), ("sms", 3), ("walk_in", 3), ("video", 2),
             ("other", 2))
_INVALID_REASONS = ((DeadLetterReason.SCHEMA_VIOLATION, 40), (DeadLetterReason.NOT_JSON, 25),
                    (DeadLetterReason.BAD_ENCODING, 20), (DeadLetterReason.OVERSIZE, 15))
_PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"

_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class _Weighted:
    """Weighted choice with a precomputed cumulative table (one random() per draw)."""

    __slots__ = ("items", "cum", "total")

    def __init__(self, pairs) -> None:
        pairs = [(item, w) for item, w in pairs if w > 0]
        if not pairs:
            raise ValueError("nothing to choose from")
        self.items = [item for item, _ in pairs]
        self.cum = list(accumulate(w for _, w in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random):
        return self.items[bisect(self.cum, rng.random() * self.total)]


@dataclass(frozen=True, slots=True)
class _Template:
    kind: str
    text: str
    fields: tuple[str, ...]
    categories: tuple[tuple[str, str], ...]  # (code, name) that keep the template's verdict


@dataclass(frozen=True, slots=True)
class _Village:
    code: str
    town_code: str
    name: str  # the name used in addresses
    community: bool
    shared: tuple[str, ...]  # the towns sharing this name, when more than one


class FeedGenerator:
    """Realistic synthetic incidents with ground truth, deterministic from `seed`."""

    def __init__(
        self,
        jurisdiction: Jurisdiction,
        seed: int = 0,
        *,
        invalid_share: float = 0.03,
        id_prefix: str = "SIM",
    ) -> None:
        if not 0.0 <= invalid_share <= 1.0:
            raise ValueError(f"invalid_share must be within [0, 1], not {invalid_share}")
        self._prefix = f"{id_prefix}{seed:02d}-"
        if not _SOURCE_ID.match(self._prefix) or len(self._prefix) + 8 > 64:
            raise ValueError(f"id prefix {self._prefix!r} does not make valid source_ids (^[A-Za-z0-9_.:-]+$, <= 64)")
        self._j = jurisdiction
        self._rng = random.Random(seed)
        self._random = self._rng.random
        self._counter = 0
        self._district_centre = jurisdiction.district_centre.code
        self._centre = {t.code: jurisdiction.centre_for(t.code).code for t in jurisdiction.towns}
        self._with_points = not jurisdiction.boundaries
        self._work_order_expected = {code: Expected(WORK_ORDER, code, centre) for code, centre in self._centre.items()}
        self._review_expected = {r: Expected(REVIEW, None, self._district_centre, r)
                                 for r in (TOWN_AMBIGUOUS, TOWN_UNRESOLVED, OUTSIDE_JURISDICTION)}
        self._build_places()
        self._build_texts()
        valid = (1.0 - invalid_share) / 93  # valid records split 35 : 50 : 8
        self._kinds = _Weighted(((POLICE, valid * 35), (WORK_ORDER, valid * 50), (REVIEW, valid * 8),
                                 (DEAD_LETTER, invalid_share)))
        self._channels = _Weighted(_CHANNELS)
        self._invalid = _Weighted(_INVALID_REASONS)
        self._review = _Weighted(((TOWN_AMBIGUOUS, 3), (TOWN_UNRESOLVED, 3), (OUTSIDE_JURISDICTION, 2)))

    # --- public ---------------------------------------------------------------------------

    def sample(self, received_at: datetime) -> Sample:
        """One record received at `received_at` (timezone-aware)."""
        if received_at.tzinfo is None or received_at.utcoffset() is None:
            raise ValueError("received_at must be timezone-aware")
        self._counter += 1
        source_id = f"{self._prefix}{self._counter:08d}"
        kind = self._kinds.pick(self._rng)
        if kind == DEAD_LETTER:
            return self._invalid_sample(source_id, received_at)
        record, expected = self._valid_record(kind, source_id, received_at)
        return Sample(source_id.encode(), _encode(record).encode(), source_id, expected)

    def batch(self, n: int, start: datetime, step: timedelta = timedelta(seconds=1)) -> list[Sample]:
        """`n` records received at start, start + step, ..."""
        return [self.sample(start + i * step) for i in range(n)]

    # --- set-up ---------------------------------------------------------------------------

    def _build_places(self) -> None:
        j = self._j
        owners: dict[str, set[str]] = defaultdict(set)
        for v in j.villages:
            for name in v.names:
                owners[name].add(v.town_code)
        for t in j.towns:
            for name in (t.name, *t.aliases):
                owners[name].add(t.code)
        outside_names = {p.name for p in j.outside}
        self._all_names = tuple(sorted(set(owners) | outside_names | set(j.district_names), key=len))

        villages: list[_Village] = []
        for v in j.villages:
            for name in v.names:
                if name.endswith("村委会") and len(v.names) > 1:
                    continue  # addresses say 紫霞村, not 紫霞村委会
                towns = owners[name]
                if name in outside_names or any(n in name for n in outside_names):
                    continue
                shared = tuple(sorted(towns)) if len(towns) > 1 else ()
                if shared and any(owners[n] != towns for n in owners if n != name and n in name):
                    continue
                villages.append(_Village(v.code, v.town_code, name, name.endswith("社区"), shared))
        self._villages = villages
        self._unique_villages = [v for v in villages if not v.shared]
        by_town: dict[str, list[_Village]] = defaultdict(list)
        for v in self._unique_villages:
            by_town[v.town_code].append(v)
        self._unique_by_town = dict(by_town)
        shared_names: dict[str, tuple[str, ...]] = {}
        for v in villages:
            if v.shared:
                shared_names[v.name] = v.shared
        self._shared = sorted(shared_names.items())
        self._shared_villages = [v for v in villages if v.shared]
        self._towns = [(t.code, (t.name, *t.aliases)) for t in j.towns]
        self._town_names = dict(self._towns)
        self._towns_with_villages = sorted(self._unique_by_town)
        districts = {p.district for p in j.outside}
        self._outside_towns = [
            (p.code, p.name, p.district)
            for p in j.outside
            if p.name not in districts and len(p.code) in (9, 12) and self._clean_outside(p.name, owners)
            and self._clean_outside(p.district, owners)
        ]
        self._roads = [r for r in _ROADS if self._clean(r)]
        self._vague = [v for v in _VAGUE if not any(n in v for n in owners) and not any(n in v for n in outside_names)]
        if not self._unique_villages or not self._roads or not self._towns:
            raise ValueError("the jurisdiction has too few places to generate addresses")

    def _clean(self, text: str) -> bool:
        """True when `text` names no place the resolver knows."""
        return not any(name in text for name in self._all_names)

    @staticmethod
    def _clean_outside(name: str, owners: dict[str, set[str]]) -> bool:
        return not any(inside in name or name in inside for inside in owners)

    def _build_texts(self) -> None:
        rules = self._j.rules
        police_terms = tuple(t for r in rules.keywords if r.verdict is Verdict.POLICE for t in r.terms)
        other_terms = tuple(t for r in rules.keywords if r.verdict is Verdict.NON_POLICE for t in r.terms)
        categories = {c.code: c for c in rules.categories}

        def keeps(kind: str, code: str) -> bool:
            c = categories.get(code)
            if c is None:
                return False
            has_police = any(t in c.name for t in police_terms)
            has_other = any(t in c.name for t in other_terms)
            if kind == "police":
                return True
            if kind == "unclear":
                return c.verdict is Verdict.POLICE or has_police or (c.verdict is Verdict.UNCLEAR and not has_other)
            if kind == "by_category":
                return c.verdict is Verdict.POLICE
            if kind == "non_police":
                return c.verdict is not Verdict.POLICE and not has_police
            return c.verdict is Verdict.NON_POLICE and not has_police  # category_only

        def table(groups) -> _Weighted:
            pairs = []
            for kind, weight, codes, texts in groups:
                cats = tuple((code, categories[code].name) for code in codes if keeps(kind, code))
                if kind in ("by_category", "category_only") and not cats:
                    continue
                usable = []
                for text in texts:
                    fields = tuple(f for _, f, _, _ in string.Formatter().parse(text) if f)
                    literal = re.sub(r"\{[a-z]+\}", "|", text)
                    slot_values = [v for f in fields for v in _SLOTS[f]]
                    if self._clean(literal) and all(self._clean(v) for v in slot_values):
                        usable.append(_Template(kind, text, fields, cats))
                pairs.extend((t, weight / len(usable)) for t in usable)
            return _Weighted(pairs)

        self._police_texts = table(_POLICE_GROUPS)
        self._other_texts = table(_NON_POLICE_GROUPS)

    # --- valid records --------------------------------------------------------------------

    def _valid_record(self, kind: str, source_id: str, received_at: datetime) -> tuple[dict, Expected]:
        rng = self._rng
        if kind == POLICE:
            template = self._police_texts.pick(rng)
            roll = rng.random()
            if roll < 0.75:
                address, prefix, town_code, _ = self._resolvable()
            elif roll < 0.88:
                address, prefix, town_code = self._unresolved(), "", None
            elif roll < 0.94:
                address, prefix, town_code = self._ambiguous(), "", None
            else:
                address, prefix, town_code = self._outside()
            expected = _POLICE_EXPECTED
        elif kind == WORK_ORDER:
            template = self._other_texts.pick(rng)
            address, prefix, town_code, town = self._resolvable()
            expected = self._work_order_expected[town]
        else:
            template = self._other_texts.pick(rng)
            reason = self._review.pick(rng)
            prefix = ""
            town_code = None
            if reason == TOWN_AMBIGUOUS:
                address = self._ambiguous()
            elif reason == TOWN_UNRESOLVED:
                address = self._unresolved()
            else:
                address, prefix, town_code = self._outside()
            expected = self._review_expected[reason]

        channel = self._channels.pick(rng)
        record: dict = {"schema": "incident.v1", "source_id": source_id,
                        "source_system": "12345" if channel == "12345" else "110",
                        "received_at": received_at.isoformat(), "channel": channel}
        cats = template.categories
        if cats and (template.kind in ("by_category", "category_only") or rng.random() < 0.4):
            code, name = cats[int(rng.random() * len(cats))]
            record["category_code"] = code
            if rng.random() < 0.9:
                record["category_name"] = name
        record["summary"] = prefix + self._fill(template)
        if address or rng.random() < 0.5:
            record["address"] = address
        if self._with_points and rng.random() < 0.3:
            record["location"] = {"lon": round(rng.uniform(120.1, 120.7), 6), "lat": round(rng.uniform(29.9, 30.4), 6),
                                  "datum": "GCJ-02" if rng.random() < 0.6 else "WGS-84"}
        if town_code is not None:
            record["town_code"] = town_code
        roll = rng.random()
        if roll < 0.6:
            record["caller"] = {"name": self._name(), "phone": self._phone()}
        elif roll < 0.75:
            record["caller"] = {"phone": self._phone()}
        return record, expected

    def _fill(self, template: _Template) -> str:
        if not template.fields:
            return template.text
        rng = self._rng
        values = {}
        for f in template.fields:
            if f == "amt":
                values[f] = (f"{self._int(8, 99) * 100}元" if rng.random() < 0.5
                             else f"{self._int(11, 300) / 10:g}万元")
            elif f == "plate":
                values[f] = "浙A" + "".join(self._choice(_PLATE_CHARS) for _ in range(5))
            elif f == "road":
                values[f] = self._choice(self._roads)
            else:
                options = _SLOTS[f]
                values[f] = options[int(rng.random() * len(options))]
        return template.text.format_map(values)

    def _choice(self, seq):
        return seq[int(self._random() * len(seq))]

    def _int(self, low: int, high: int) -> int:
        """A random int in [low, high)."""
        return low + int(self._random() * (high - low))

    def _town_display(self, town_code: str) -> str:
        names = self._town_names[town_code]
        return names[0] if len(names) == 1 or self._rng.random() < 0.7 else self._choice(names[1:])

    def _village_part(self, v: _Village) -> str:
        rng = self._rng
        if v.community:
            return f"{v.name}{self._int(1, 40)}幢{self._int(1, 5)}单元{self._int(1, 25)}0{self._int(1, 4)}室"
        if rng.random() < 0.5:
            return f"{v.name}{self._int(1, 16)}组{self._int(1, 120)}号"
        return f"{v.name}{self._int(1, 16)}组"

    def _resolvable(self) -> tuple[str, str, str | None, str]:
        """(address, summary prefix, explicit town_code, the town they resolve to)."""
        rng = self._rng
        roll = rng.random()
        code: str | None = None
        prefix = ""
        if roll < 0.40:  # town + village (a shared village is fine next to its town)
            v = self._choice(self._villages)
            town = v.town_code
            head = self._choice(("浙江省杭州市萧山区", "杭州市萧山区", "萧山区", ""))
            address = f"{head}{self._town_display(town)}{self._village_part(v)}"
            if rng.random() < 0.15:
                code = v.code if rng.random() < 0.5 else town
        elif roll < 0.55:  # a village only one town has
            v = self._choice(self._unique_villages)
            town = v.town_code
            address = self._choice(("", "萧山区", "杭州市萧山区")) + self._village_part(v)
            if rng.random() < 0.15:
                code = v.code
        elif roll < 0.75:  # town + road
            town = self._choice(self._towns)[0]
            head = self._choice(("浙江省杭州市萧山区", "萧山区", ""))
            if rng.random() < 0.7:
                address = f"{head}{self._town_display(town)}{self._choice(self._roads)}{self._int(1, 999)}号"
            else:
                a, b = rng.sample(self._roads, 2)
                address = f"{head}{self._town_display(town)}{a}与{b}交叉口"
            if rng.random() < 0.15:
                code = town
        elif roll < 0.85:  # the place is only in the summary
            address = "" if rng.random() < 0.5 else self._unresolved_text()
            if rng.random() < 0.6:
                v = self._choice(self._unique_villages)
                town = v.town_code
                prefix = f"{self._town_display(town) if rng.random() < 0.5 else ''}{v.name}" + (
                    "居民反映：" if v.community else "村民反映：")
            else:
                town = self._choice(self._towns)[0]
                prefix = f"{self._town_display(town)}居民反映："
        elif roll < 0.92 and self._shared_villages:  # shared village in the address, its town in the summary
            v = self._choice(self._shared_villages)
            town = v.town_code
            address = self._village_part(v)
            prefix = f"{self._town_display(town)}{v.name}村民反映："
        else:  # only the feed's code
            v = self._choice(self._villages)
            town = v.town_code
            code = v.code if rng.random() < 0.5 else town
            address = "" if rng.random() < 0.5 else self._unresolved_text()
        return address, prefix, code, town

    def _unresolved_text(self) -> str:
        rng = self._rng
        roll = rng.random()
        if roll < 0.4:
            return self._choice(self._vague) if self._vague else ""
        if roll < 0.7:
            return f"{self._choice(('', '萧山区', '杭州市萧山区'))}{self._choice(self._roads)}{self._int(1, 999)}号"
        a, b = rng.sample(self._roads, 2)
        return f"{a}与{b}交叉口"

    def _unresolved(self) -> str:
        return "" if self._rng.random() < 0.4 else self._unresolved_text()

    def _ambiguous(self) -> str:
        rng = self._rng
        roll = rng.random()
        if roll < 0.6 and self._shared:  # shared village without its town
            name, _ = self._choice(self._shared)
            n = self._int(1, 16)
            return self._choice((f"{name}{n}组", f"萧山区{name}{n}组{self._int(1, 120)}号", f"{name}村口小卖部旁"))
        if roll < 0.75:  # two towns
            (a, _), (b, _) = rng.sample(self._towns, 2)
            return f"{self._town_display(a)}与{self._town_display(b)}交界处{self._choice(self._roads)}"
        if roll < 0.9 and len(self._towns_with_villages) > 1:  # a town and another town's village
            village_town, town = rng.sample(self._towns_with_villages, 2)
            return f"{self._town_display(town)}{self._village_part(self._choice(self._unique_by_town[village_town]))}"
        if self._outside_towns:  # a town and a place outside
            town = self._choice(self._towns)[0]
            _, name, district = self._choice(self._outside_towns)
            return f"{self._town_display(town)}与{district}{name}交界处"
        (a, _), (b, _) = rng.sample(self._towns, 2)
        return f"{self._town_display(a)}与{self._town_display(b)}交界处"

    def _outside(self) -> tuple[str, str, str | None]:
        """(address, summary prefix, explicit code) in another district."""
        rng = self._rng
        if not self._outside_towns:
            return "", "", None  # pragma: no cover - only for bundles without outside.csv
        code, name, district = self._choice(self._outside_towns)
        road = self._choice(self._roads)
        roll = rng.random()
        if roll < 0.5:
            address = f"杭州市{district}{name}{road}{self._int(1, 999)}号"
        elif roll < 0.8:
            address = f"{name}{road}{self._int(1, 999)}号"
        else:
            address = f"{district}{road}附近"
        return address, "", code if rng.random() < 0.2 else None

    def _name(self) -> str:
        return self._choice(_SURNAMES) + self._choice(_GIVEN)

    def _phone(self) -> str:
        return self._choice(_MOBILE) + f"{self._int(0, 100_000_000):08d}"

    # --- invalid records ------------------------------------------------------------------

    def _invalid_sample(self, source_id: str, received_at: datetime) -> Sample:
        rng = self._rng
        reason = self._invalid.pick(rng)
        base, _ = self._valid_record(POLICE if rng.random() < 0.4 else WORK_ORDER, source_id, received_at)
        key: bytes | None = source_id.encode()
        sid: str | None = source_id
        if reason is DeadLetterReason.OVERSIZE:
            value = self._oversize(base)
        elif reason is DeadLetterReason.BAD_ENCODING:
            value, garbage = self._bad_encoding(base)
            if garbage:
                key = sid = None
        elif reason is DeadLetterReason.NOT_JSON:
            value = self._not_json(base)
        else:
            value, keeps_id = self._schema_violation(base, received_at)
            if not keeps_id:
                key = sid = None
        return Sample(key, value, sid, Expected(DEAD_LETTER, None, None, reason.value))

    def _oversize(self, record: dict) -> bytes:
        rng = self._rng
        if rng.random() < 0.6:  # a photo pasted into the record
            record["image_base64"] = base64.b64encode(rng.randbytes(self._int(49_500, 60_000))).decode()
        else:  # a whole call transcript as the summary
            line = record["summary"] + "。报警人重复描述情况，"
            record["summary"] = line * (MAX_RECORD_BYTES // len(line.encode()) + 1 + self._int(0, 20))
        value = _encode(record).encode()
        assert len(value) > MAX_RECORD_BYTES
        return value

    def _bad_encoding(self, record: dict) -> tuple[bytes, bool]:
        """(bytes that are not UTF-8, whether they are garbage without a usable id)."""
        rng = self._rng
        roll = rng.random()
        text = _encode(record)
        garbage = False
        if roll < 0.45:  # a legacy system sending GBK
            value = text.encode("gbk", errors="replace")
        elif roll < 0.7:  # one byte of a multi-byte character lost in transit
            raw = text.encode()
            leads = [i for i in range(len(raw) - 3) if raw[i] >= 0xE0]
            i = leads[int(rng.random() * len(leads))]
            value = raw[: i + 1] + raw[i + 2:]
        elif roll < 0.85:  # a Windows export in UTF-16
            value = text.encode("utf-16")
        else:  # a binary frame (schema-registry Avro) on the wrong topic
            value = b"\x00\x00\x00\x00\x07" + rng.randbytes(12) + b"\xff\xfe" + rng.randbytes(24)
            garbage = True
        try:
            value.decode("utf-8")
        except UnicodeDecodeError:
            return value, garbage
        return value + b"\xff", garbage  # pragma: no cover - GBK that happens to be UTF-8

    def _not_json(self, record: dict) -> bytes:
        rng = self._rng
        roll = rng.random()
        text = _encode(record)
        if roll < 0.35:  # cut off mid-record (at a character boundary, so still UTF-8)
            return text[: rng.randrange(max(80, len(text) // 3), len(text) - 1)].encode()
        if roll < 0.5:  # two records glued together
            return (text + "\n{").encode()
        if roll < 0.65:
            return (f"<incident><id>{record['source_id']}</id><time>{record['received_at']}</time>"
                    f"<summary>{record['summary']}</summary></incident>").encode()
        if roll < 0.8:
            return "|".join((record["source_id"], record["received_at"], record["channel"], record["summary"],
                             record.get("address", ""))).encode()
        if roll < 0.9:  # a Python dict printed instead of serialised
            return repr(record).replace('"', "'").encode()
        return ("{" + ",".join(f"{k}:{json.dumps(v, ensure_ascii=False)}" for k, v in record.items()) + "}").encode()

    def _schema_violation(self, record: dict, received_at: datetime) -> tuple[bytes, bool]:
        """(a JSON record IncidentV1 rejects, whether it still carries its source_id)."""
        rng = self._rng
        keeps_id = True
        variant = int(rng.random() * 14)
        if variant == 0:
            del record["summary"]
        elif variant == 1:
            del record["received_at"]
        elif variant == 2:
            del record["channel"]
        elif variant == 3:
            del record["source_id"]
            keeps_id = False
        elif variant == 4:
            record["channel"] = self._choice(("telephone", "电话", "110", "PHONE"))
        elif variant == 5:  # a naive local time: which zone?
            record["received_at"] = received_at.replace(tzinfo=None).isoformat(sep=self._choice("T "))
        elif variant == 6:
            record["received_at"] = f"{received_at:%Y年%m月%d日 %H时%M分}"
        elif variant == 7:
            record["town_code"] = self._choice(("萧山区", "33010900", "330109-004", "3301091"))
        elif variant == 8:
            record["location"] = self._choice(({"lon": 120.3, "lat": 300.0, "datum": "WGS-84"},
                                             {"lon": 120.3, "lat": 30.2, "datum": "BD-09"}))
        elif variant == 9:
            record["remark"] = "补充说明：" + record["summary"]
        elif variant == 10:
            record["summary"] = (record["summary"] + "，") * (4000 // (len(record["summary"]) + 1) + 1)
        elif variant == 11:
            record["schema"] = "incident.v2"
        elif variant == 12:
            record["source_id"] = record["source_id"].replace("-", self._choice(("/", " ", "号")))
            keeps_id = False
        else:
            record["summary"] = None
        value = _encode(record).encode()
        assert len(value) <= MAX_RECORD_BYTES
        return value, keeps_id
