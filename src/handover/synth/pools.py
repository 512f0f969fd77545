"""Reference pools the generator samples from: real region codes, bank BINs, phone
prefixes, and name/street/company pools built once with Faker zh_CN.

Faker is called a few thousand times per run to fill the pools (never per row); rows
then draw from the pools with numpy, so generating a million customers costs the
same Faker time as generating three hundred.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

StrArray = npt.NDArray[np.str_]
F64 = npt.NDArray[np.float64]

# Real GB/T 2260 county-level codes (province, city, district) with a rough population
# weight, so resident IDs and addresses agree with each other and look plausible.
REGIONS: list[tuple[int, str, str, str, float]] = [
    (110101, "北京市", "北京市", "东城区", 1.0),
    (110105, "北京市", "北京市", "朝阳区", 3.0),
    (110108, "北京市", "北京市", "海淀区", 3.0),
    (120104, "天津市", "天津市", "南开区", 1.5),
    (130102, "河北省", "石家庄市", "长安区", 1.5),
    (130602, "河北省", "保定市", "竞秀区", 1.5),
    (140105, "山西省", "太原市", "小店区", 1.2),
    (150102, "内蒙古自治区", "呼和浩特市", "新城区", 0.8),
    (210102, "辽宁省", "沈阳市", "和平区", 1.5),
    (220102, "吉林省", "长春市", "南关区", 1.0),
    (230103, "黑龙江省", "哈尔滨市", "南岗区", 1.2),
    (310104, "上海市", "上海市", "徐汇区", 2.0),
    (310115, "上海市", "上海市", "浦东新区", 4.0),
    (320102, "江苏省", "南京市", "玄武区", 1.5),
    (320505, "江苏省", "苏州市", "虎丘区", 2.0),
    (330106, "浙江省", "杭州市", "西湖区", 2.5),
    (330203, "浙江省", "宁波市", "海曙区", 1.5),
    (330782, "浙江省", "金华市", "义乌市", 1.5),
    (340104, "安徽省", "合肥市", "蜀山区", 2.0),
    (350203, "福建省", "厦门市", "思明区", 1.5),
    (350102, "福建省", "福州市", "鼓楼区", 1.2),
    (360102, "江西省", "南昌市", "东湖区", 1.5),
    (370102, "山东省", "济南市", "历下区", 2.0),
    (370202, "山东省", "青岛市", "市南区", 2.0),
    (410105, "河南省", "郑州市", "金水区", 3.5),
    (411302, "河南省", "南阳市", "宛城区", 2.0),
    (420106, "湖北省", "武汉市", "武昌区", 2.5),
    (430104, "湖南省", "长沙市", "岳麓区", 2.5),
    (440106, "广东省", "广州市", "天河区", 3.5),
    (440305, "广东省", "深圳市", "南山区", 3.5),
    (441900, "广东省", "东莞市", "东莞市", 3.0),
    (450103, "广西壮族自治区", "南宁市", "青秀区", 1.8),
    (460105, "海南省", "海口市", "秀英区", 0.6),
    (500103, "重庆市", "重庆市", "渝中区", 3.0),
    (510107, "四川省", "成都市", "武侯区", 3.5),
    (520102, "贵州省", "贵阳市", "南明区", 1.5),
    (530102, "云南省", "昆明市", "五华区", 1.5),
    (610113, "陕西省", "西安市", "雁塔区", 2.0),
    (620102, "甘肃省", "兰州市", "城关区", 1.0),
    (640104, "宁夏回族自治区", "银川市", "兴庆区", 0.4),
    (650102, "新疆维吾尔自治区", "乌鲁木齐市", "天山区", 0.8),
]

# Province abbreviation of licence plates, by the first two digits of the region code.
PLATE_PREFIX = {
    11: "京",
    12: "津",
    13: "冀",
    14: "晋",
    15: "蒙",
    21: "辽",
    22: "吉",
    23: "黑",
    31: "沪",
    32: "苏",
    33: "浙",
    34: "皖",
    35: "闽",
    36: "赣",
    37: "鲁",
    41: "豫",
    42: "鄂",
    43: "湘",
    44: "粤",
    45: "桂",
    46: "琼",
    50: "渝",
    51: "川",
    52: "贵",
    53: "云",
    61: "陕",
    62: "甘",
    64: "宁",
    65: "新",
}

# Mobile number prefixes in use (China Mobile, Unicom, Telecom, Broadnet), weighted.
MOBILE_PREFIXES: list[tuple[int, float]] = [
    *[(p, 3.0) for p in range(130, 140)],
    (145, 0.5),
    (147, 0.8),
    (150, 2.5),
    (151, 2.5),
    (152, 2.0),
    (153, 1.5),
    (155, 1.5),
    (156, 1.5),
    (157, 1.0),
    (158, 2.5),
    (159, 2.5),
    (166, 1.0),
    (170, 0.3),
    (173, 0.8),
    (175, 0.6),
    (176, 0.8),
    (177, 0.8),
    (178, 0.8),
    (180, 1.5),
    (181, 1.5),
    (182, 1.5),
    (183, 1.5),
    (185, 1.5),
    (186, 2.0),
    (187, 1.5),
    (188, 1.5),
    (189, 2.0),
    (191, 0.5),
    (198, 0.8),
    (199, 0.8),
]

# Area codes of landlines by region-code prefix (two digits) — the big cities have
# 8-digit subscriber numbers, the rest 7 or 8.
AREA_CODES = {
    11: "010",
    12: "022",
    13: "0311",
    14: "0351",
    15: "0471",
    21: "024",
    22: "0431",
    23: "0451",
    31: "021",
    32: "025",
    33: "0571",
    34: "0551",
    35: "0592",
    36: "0791",
    37: "0531",
    41: "0371",
    42: "027",
    43: "0731",
    44: "020",
    45: "0771",
    46: "0898",
    50: "023",
    51: "028",
    52: "0851",
    53: "0871",
    61: "029",
    62: "0931",
    64: "0951",
    65: "0991",
}

# UnionPay BINs (IIN prefix 62) with issuer and card length; weights are rough shares.
CARD_BINS: list[tuple[str, str, int, float]] = [
    ("622202", "中国工商银行", 19, 6.0),
    ("621226", "中国工商银行", 19, 3.0),
    ("622848", "中国农业银行", 19, 6.0),
    ("622700", "中国建设银行", 19, 5.0),
    ("621700", "中国建设银行", 19, 3.0),
    ("621661", "中国银行", 19, 4.0),
    ("622262", "交通银行", 19, 2.0),
    ("622588", "招商银行", 16, 3.0),
    ("621483", "招商银行", 16, 1.0),
    ("621799", "中国邮政储蓄银行", 19, 4.0),
    ("622908", "兴业银行", 18, 1.5),
    ("622622", "中国民生银行", 16, 1.0),
    ("621691", "中国民生银行", 16, 0.5),
    ("622260", "中信银行", 16, 0.6),
    ("622689", "中信银行", 16, 0.4),
    ("622521", "上海浦东发展银行", 16, 0.8),
    ("622666", "中国光大银行", 16, 0.8),
    ("623058", "平安银行", 19, 1.0),
    ("621462", "广州银行", 17, 0.3),
    ("622368", "农村信用社", 19, 2.0),
]

PLACEHOLDERS = np.array(["无", "-", "N/A", "NULL", "null", "/", "空", "不详", "暂无", "0"])

EMAIL_DOMAINS = np.array(
    [
        "qq.com",
        "163.com",
        "126.com",
        "sina.com",
        "sohu.com",
        "139.com",
        "gmail.com",
        "hotmail.com",
        "foxmail.com",
        "yeah.net",
    ]
)
EMAIL_WEIGHTS = np.array([40, 20, 10, 5, 3, 5, 4, 3, 6, 4], dtype=np.float64)

COMPANY_SUFFIXES = [
    "商贸有限公司",
    "建筑工程有限公司",
    "餐饮管理有限公司",
    "物流有限公司",
    "科技有限公司",
    "农业专业合作社",
    "服装厂",
    "汽车维修有限公司",
    "装饰工程有限公司",
    "食品有限公司",
    "电子有限公司",
    "贸易商行",
    "五金经营部",
    "家具有限公司",
    "劳务派遣有限公司",
]

INDUSTRIES = np.array(
    [
        "批发和零售业",
        "建筑业",
        "住宿和餐饮业",
        "交通运输、仓储和邮政业",
        "制造业",
        "农、林、牧、渔业",
        "居民服务、修理和其他服务业",
        "信息传输、软件和信息技术服务业",
        "租赁和商务服务业",
    ]
)

VEHICLE_MODELS = np.array(
    [
        "大众朗逸",
        "丰田卡罗拉",
        "本田雅阁",
        "日产轩逸",
        "比亚迪秦PLUS",
        "吉利帝豪",
        "长安CS75",
        "哈弗H6",
        "五菱宏光",
        "宝马3系",
        "奔驰C级",
        "别克英朗",
        "福特福克斯",
        "解放J6P",
        "东风天龙",
    ]
)


def weights(values: list[float]) -> F64:
    """Probabilities proportional to ``values``."""
    w = np.asarray(values, dtype=np.float64)
    return w / w.sum()  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Pools:
    """Pools of text built once per seed; every row samples from them."""

    surnames: StrArray
    surname_p: F64
    given_male: StrArray
    given_female: StrArray
    streets: StrArray
    villages: StrArray
    company_cores: StrArray


def build_pools(seed: int) -> Pools:
    """Fill the pools from Faker zh_CN, seeded so the same seed gives the same pools."""
    from faker import Faker
    from faker.providers.person.zh_CN import Provider as Person

    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    surnames = np.array(list(Person.last_names.keys()))
    surname_p = weights(list(Person.last_names.values()))
    streets = sorted({fake.street_name() for _ in range(3000)})
    villages = sorted(
        {
            fake.city_name() + suffix
            for suffix in ("花园", "小区", "新村", "公寓")
            for _ in range(150)
        }
    )
    cores = sorted({fake.company_prefix() for _ in range(3000)})
    return Pools(
        surnames=surnames,
        surname_p=surname_p,
        given_male=np.array(list(Person.first_names_male)),
        given_female=np.array(list(Person.first_names_female)),
        streets=np.array(streets),
        villages=np.array(villages),
        company_cores=np.array(cores),
    )
