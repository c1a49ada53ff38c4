"""Summary templates, word lists and address forms of the synthetic feed, and the language they are written in
(pure data; places come from the bundle)."""

from __future__ import annotations

import re

# The language every text below is written in. A bundle whose rules are in another language would read
# them as nothing it knows (unclear, so police), and the ground truth written beside them would be wrong.
LANGUAGE = "Chinese"
_IN_LANGUAGE = re.compile(r"[\u4e00-\u9fff]")


def in_language(word: str) -> bool:
    """Whether `word` is written in `LANGUAGE` (holds a CJK ideograph)."""
    return _IN_LANGUAGE.search(word) is not None


# Groups: (kind, weight, preferred feed category codes, templates).
#   police       an unnegated police term decides; any category may be attached
#   unclear      no rule term at all: unclear goes to police; categories must not add a term
#   by_category  non-police wording, but the feed filed it under a police category
#   non_police   non-police terms only; categories must not carry a police term
#   category_only  no rule term; a non-police category decides

POLICE_GROUPS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
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

NON_POLICE_GROUPS: tuple[tuple[str, int, tuple[str, ...], tuple[str, ...]], ...] = (
    ("non_police", 14, ("94", "07", "91"), (  # noise
        "楼上邻居每天晚上{hour}点后装修，噪音太大，多次沟通无果",
        "小区广场舞音响声太大，影响老人休息",
        "隔壁KTV半夜唱歌，吵得睡不着",
        "工地夜间施工声很大，已持续{dur}",
        "楼下烧烤店大声喧哗到凌晨",
    )),
    ("non_police", 14, ("91", "06"), (  # neighbours
        "邻居在公共通道堆放杂物引发争吵，双方未动手",
        "楼上卫生间漏水到我家，协商赔偿不成",
        "与隔壁因空调外机位置发生口角，要求调解",
        "邻居家种的树遮挡采光，多次协商无果",
        "楼下住户在楼道里堆放杂物，影响通行",
        "与邻居因漏水问题争吵，双方没有动手",
    )),
    ("non_police", 8, ("91", "06"), (  # family
        "夫妻吵架，妻子要求调解，无人受伤",
        "兄弟{cn}人因父母赡养问题发生矛盾",
        "婆媳矛盾，儿媳要求村里出面调解",
        "离婚后对方不按时支付抚养费",
    )),
    ("non_police", 5, ("91", "06"), (  # land
        "与邻村村民因宅基地边界发生纠纷",
        "承包地被他人占用种菜，协商不成",
        "两户人家为田地地界争执不下",
        "征地补偿款分配有争议，要求村里说明",
    )),
    ("non_police", 8, ("91", "06"), (  # wages
        "包工头拖欠{cnt}名工人工资共计{amt}",
        "在{shop}工作{n}个月，老板拖欠工资不给",
        "公司未缴纳社保，要求处理",
        "装修队工钱没结清，老板一直拖着",
    )),
    ("non_police", 8, ("96", "94"), (  # property management
        "小区电梯故障{dur}，物业一直不修",
        "物业乱收停车费，业主不满",
        "小区门禁坏了，外来人员随意进出",
        "业主群里反映小区管理混乱，垃圾无人清运",
    )),
    ("non_police", 7, ("94", "91"), (  # consumer
        "在{shop}办了预付卡，现在店关门了要求退款",
        "网购的电器有质量问题，商家不给退货",
        "健身房押金不退，已交涉{n}次",
        "饭店多收餐费，与商家协商未果",
    )),
    ("non_police", 9, ("92", "05", "94"), (  # municipal facilities
        "小区门口路灯坏了{dur}",
        "路边窨井盖缺失，存在安全隐患",
        "下雨后路面积水严重，车辆难以通行",
        "路口红绿灯不亮，车辆通行混乱",
        "道路破损，坑洼很多，电动车不好骑",
        "下水道堵塞，污水漫到路面",
    )),
    ("non_police", 7, ("92", "05"), (  # utilities
        "家里停水{n}天了，没有接到通知",
        "整片区域突然停电，已经{n}个小时",
        "路边水管爆裂，水流了一地",
        "天然气停了，燃气公司电话打不通",
        "自来水水压低，楼上用不了水",
    )),
    ("non_police", 5, ("92", "05"), (  # animals
        "村里流浪狗咬伤鸡鸭",
        "院子里进了一条蛇，请求帮助",
        "屋檐下有马蜂窝，担心蜇到小孩",
        "野猪下山拱坏了菜地",
        "小区里流浪猫太多，晚上叫个不停",
    )),
    ("non_police", 6, ("95",), (  # blocked cars
        "车被一辆{plate}的车挡住出口，联系不上车主",
        "有车堵住车库门口，车主不在",
        "小区消防通道被车挡道，请求挪车",
    )),
    ("non_police", 5, ("97", "94"), (  # pollution
        "附近工厂排放污水，河水发黑发臭",
        "楼下饭店油烟太大，熏得不能开窗",
        "有人在田里焚烧秸秆，气味刺鼻",
        "养殖场臭味很大，周边居民受不了",
        "工地粉尘很大，没有洒水降尘",
    )),
    ("non_police", 3, ("94", "96"), (  # illegal building
        "邻居在屋顶违章搭建",
        "有人在路边占道经营，影响通行",
        "楼下商铺乱堆乱放，占用人行道",
    )),
    ("non_police", 4, ("91", "06"), (  # debts
        "朋友借钱不还，欠款{amt}",
        "房东不退押金{amt}",
        "租客拖欠房租{n}个月，人联系不上",
        "合同纠纷，对方拖欠货款{amt}",
    )),
    ("non_police", 3, ("93",), (  # enquiries
        "咨询户口迁移需要哪些材料",
        "问一下居住证怎么办理",
        "咨询电动车上牌的地点和时间",
    )),
    ("non_police", 3, ("91", "06"), (  # other disputes
        "与{shop}老板因琐事发生口角，要求调解",
        "与出租车司机因车费发生争执",
    )),
    ("category_only", 2, ("91", "92", "94"), (
        "来电反映情况，要求相关部门核实处理",
        "报警人要求有关部门上门查看",
    )),
)

SLOTS: dict[str, tuple[str, ...]] = {
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
    "road": (),  # from ROADS
}

# Demo roads and vague places; Addresses drops any that name a place the resolver knows.
ROADS = (
    "人民路", "工人路", "育才路", "文化路", "通惠路", "市心路", "金城路", "建设一路", "山阴路", "萧绍路",
    "风情大道", "博奥路", "鸿达路", "恒隆路", "湘湖路", "机场路", "振宁路", "新港大道", "高新路", "商贸路",
)
VAGUE_PLACES = ("高速出口附近", "江边绿道上", "公交车上", "03省道旁", "路边", "某小区门口")
SURNAMES = (
    "张王李赵陈刘杨黄周吴徐孙朱马胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢钟陆汪金俞"
    "楼来傅"
)
GIVEN_NAMES = (
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英",
    "华", "建国", "国强", "建华", "志强", "海燕", "晓东", "丽华", "小红", "佳怡", "子涵", "浩然", "雨欣", "金花",
)
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157",
    "158", "159", "166", "176", "177", "180", "181", "182", "186", "187", "188", "189", "198", "199")

PLATE_PREFIX = "浙A"  # demo data: plates are never routing evidence
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
YUAN = "{}元"
WAN_YUAN = "{:g}万元"

# Address forms; places.py fills the fields.
FLAT = "{place}{building}幢{unit}单元{floor}0{room}室"
GROUP = "{place}{group}组"
GROUP_HOUSE = "{place}{group}组{house}号"
BY_THE_SHOP = "{place}村口小卖部旁"
HOUSE = "{head}{road}{house}号"
CROSSING = "{head}{a}与{b}交叉口"
BORDER = "{a}与{b}交界处"
NEAR = "{place}{road}附近"
RESIDENTS_SAY = "{place}居民反映："
VILLAGERS_SAY = "{place}村民反映："
COMMITTEE = "村委会"  # a village's committee; addresses name the village instead
COMMUNITY = "社区"  # an urban community: flats, not groups of houses

# Broken records (invalid.py).
TRANSCRIPT_LINE = "{}。报警人重复描述情况，"
REMARK = "补充说明：{}"
SUMMARY_REPEAT = "{}，"
LOCAL_TIMESTAMP = "{:%Y年%m月%d日 %H时%M分}"
BAD_CHANNELS = ("telephone", "电话", "110", "PHONE")
BAD_ID_SEPARATORS = ("/", " ", "号")
