"""Synthetic people for the demo city: names, valid ID numbers, phones, households, birth
places. Pure functions over a seeded `random.Random`; nothing here touches the database.

ID numbers are built from the GB/T 2260 table as GB 11643 prescribes: a division code that
was in use in the birth year, the birth date, a sequence whose last digit carries the sex, and
the MOD 11-2 check digit, so every number passes the same validation real numbers do.
"""

import bisect
import itertools
import random
import uuid
from datetime import date, timedelta

from epigrid.lib.identity import check_digit
from epigrid.regions.gbt2260 import DivisionRecord

# The most common family names, weighted roughly by their share of the population.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜"
    "崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_SURNAME_CUM = list(itertools.accumulate(max(1.0, 80 / (i + 1) ** 0.7) for i in range(len(SURNAMES))))
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华玉兰萍鹏辉玲丹建文斌宇浩凯秀云飞鑫波婷雪琳晨阳欣怡"
    "子涵梓轩思雨佳琪一诺宇航俊杰志强海燕丽华建国建华晓东晓明春梅秋菊冬梅红梅国庆卫东立新振华永刚德胜"
    "嘉怡诗涵欣妍雨桐梦瑶可馨若曦昊天博文浩然晨曦语嫣铭泽睿哲天佑瑞霖安琪紫萱梓涵一鸣皓轩"
)
FOREIGN_NAMES = {
    "KOR": ["KIM MINJUN", "LEE SEOYEON", "PARK JIHOO", "CHOI YUNA"],
    "JPN": ["SATO HARUTO", "SUZUKI YUI", "TAKAHASHI REN", "TANAKA AOI"],
    "USA": ["SMITH JOHN", "JOHNSON EMILY", "BROWN MICHAEL", "DAVIS SARAH"],
    "DEU": ["MUELLER LUKAS", "SCHMIDT ANNA", "SCHNEIDER FELIX", "FISCHER LEA"],
    "SGP": ["TAN WEI MING", "LIM HUI LING", "NG JUN JIE"],
}
MOBILE_PREFIXES = [
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "150",
    "151",
    "152",
    "157",
    "158",
    "159",
    "182",
    "183",
    "187",
    "188",
    "130",
    "131",
    "132",
    "155",
    "156",
    "185",
    "186",
    "133",
    "153",
    "180",
    "181",
    "189",
    "177",
    "199",
]

# Where people of a Kunshan-like city were born: many locals, many migrant workers.
BIRTH_PROVINCES = [
    ("32", 0.52),
    ("34", 0.11),
    ("41", 0.08),
    ("51", 0.05),
    ("42", 0.05),
    ("36", 0.04),
    ("37", 0.04),
    ("52", 0.03),
    ("43", 0.03),
    ("33", 0.02),
    ("31", 0.01),
    ("45", 0.01),
    ("13", 0.01),
]


class BirthPlaces:
    """County codes grouped by province, to draw a birth place that was in use in the birth
    year, as the ID number of someone born then carries it."""

    def __init__(self, counties: list[DivisionRecord], home_county: str):
        self.by_province: dict[str, list[DivisionRecord]] = {}
        self.home_record = None
        for county in counties:
            if county.level != 3:
                continue  # provinces and prefectures are never a birth place in an ID number
            self.by_province.setdefault(county.code[:2], []).append(county)
            if county.code == home_county:
                self.home_record = county
        self.home = home_county
        provinces = [p for p, _ in BIRTH_PROVINCES if p in self.by_province]
        weights = [w for p, w in BIRTH_PROVINCES if p in self.by_province]
        self._provinces = provinces
        self._cum = list(itertools.accumulate(weights))

    def draw(self, rng: random.Random, year: int) -> str:
        if rng.random() < 0.45 and self.home_record is not None and self.home_record.in_use(year):
            return self.home
        province = self._provinces[bisect.bisect(self._cum, rng.random() * self._cum[-1])]
        pool = self.by_province[province]
        for _ in range(20):
            county = pool[rng.randrange(len(pool))]
            if county.in_use(year):
                return county.code
        return next(c.code for c in pool if c.in_use(year))


class IdNumbers:
    """Unique resident ID numbers: the sequence part is redrawn on a clash."""

    def __init__(self, taken: set[str] | None = None):
        self.taken = taken if taken is not None else set()

    def make(self, rng: random.Random, division: str, birth: date, sex: str) -> str:
        stem = f"{division}{birth:%Y%m%d}"
        for _ in range(200):
            seq = rng.randrange(0, 100) * 10 + rng.randrange(0, 5) * 2 + (1 if sex == "M" else 0)
            body = f"{stem}{seq:03d}"
            if body not in self.taken:
                self.taken.add(body)
                return body + check_digit(body)
        raise RuntimeError("sequence space exhausted for one birth date and place")


def draw_uuid(rng: random.Random) -> uuid.UUID:
    """A version-4 UUID from the seeded generator, so a seed gives the same ids every run."""
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def draw_name(rng: random.Random) -> str:
    surname = SURNAMES[bisect.bisect(_SURNAME_CUM, rng.random() * _SURNAME_CUM[-1])]
    given = GIVEN_CHARS[rng.randrange(len(GIVEN_CHARS))]
    if rng.random() < 0.75:
        given += GIVEN_CHARS[rng.randrange(len(GIVEN_CHARS))]
    return surname + given


def draw_phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = MOBILE_PREFIXES[rng.randrange(len(MOBILE_PREFIXES))] + f"{rng.randrange(10**8):08d}"
        if phone not in used:
            used.add(phone)
            return phone


def draw_age(rng: random.Random) -> int:
    r = rng.random()
    if r < 0.07:
        return rng.randint(0, 6)
    if r < 0.20:
        return rng.randint(7, 18)
    if r < 0.85:
        return rng.randint(19, 60)
    return rng.randint(61, 92)


def birth_date_for(rng: random.Random, age: int, today: date) -> date:
    start = date(today.year - age - 1, today.month, 1) + timedelta(days=rng.randint(0, 364))
    return min(start, today - timedelta(days=1))


def homophone_variant(name: str) -> str:
    """A typo an input method makes: one given-name character swapped for a same-sounding one."""
    pairs = {
        "伟": "玮",
        "芳": "方",
        "静": "靖",
        "丽": "莉",
        "强": "蔷",
        "军": "君",
        "杰": "洁",
        "涛": "滔",
        "明": "铭",
        "华": "桦",
        "玲": "铃",
        "文": "雯",
        "宇": "雨",
        "欣": "馨",
        "婷": "亭",
        "琳": "林",
        "晨": "辰",
        "阳": "杨",
        "怡": "仪",
        "涵": "晗",
        "轩": "萱",
        "敏": "闽",
        "霞": "侠",
        "平": "萍",
    }
    for i in range(len(name) - 1, 0, -1):
        if name[i] in pairs:
            return name[:i] + pairs[name[i]] + name[i + 1 :]
    return name[0] + ("伟" if name[-1] != "伟" else "玮")
