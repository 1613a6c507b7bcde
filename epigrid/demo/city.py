"""The demo city: a Kunshan-like county-level city (昆山市, 320583) below county level.

GB/T 2260 stops at county; the towns, communities and grid cells here are made up for the demo,
with real town names of Kunshan but invented codes, community names and coordinates. Everything
is derived from the seed, so two runs build the same city.
"""

import random
from dataclasses import dataclass, field

CITY_CODE = "320583"
CITY_CENTRE = (31.385, 120.981)

# (local number, name, kind) — streets take 0xx numbers, towns 1xx, as GB/T 10114 does.
TOWNS = [
    (1, "亭林街道", "street"),
    (2, "玉山街道", "street"),
    (101, "巴城镇", "town"),
    (102, "周市镇", "town"),
    (103, "陆家镇", "town"),
    (104, "花桥镇", "town"),
    (105, "淀山湖镇", "town"),
    (106, "张浦镇", "town"),
    (107, "周庄镇", "town"),
    (108, "千灯镇", "town"),
    (109, "锦溪镇", "town"),
]

_COMMUNITY_WORDS = [
    "朝阳",
    "新华",
    "人民",
    "东方",
    "和平",
    "友谊",
    "幸福",
    "长江",
    "明珠",
    "阳光",
    "金星",
    "红星",
    "南港",
    "北门",
    "东塘",
    "西湾",
    "青阳",
    "白莲",
    "绿地",
    "春晖",
    "秀峰",
    "翠苑",
    "丰收",
    "兴旺",
    "高桥",
    "石湖",
    "荷花",
    "桃源",
    "柳岸",
    "梅园",
    "竹林",
    "松鹤",
    "枫景",
    "银河",
    "星光",
    "新城",
    "滨河",
    "望湖",
    "思源",
    "永安",
    "同心",
    "德馨",
    "育英",
    "晨曦",
    "锦绣",
    "瑞丰",
    "嘉禾",
    "康乐",
    "安居",
    "福润",
    "泰和",
    "祥和",
    "富民",
    "振兴",
    "双塔",
    "三里",
    "五福",
    "六合",
    "七星",
    "八方",
    "九华",
    "十里",
    "前进",
    "光明",
    "胜利",
    "团结",
    "建设",
    "勤俭",
    "合兴",
    "新民",
    "港湾",
    "花园",
    "湖滨",
    "水乡",
    "古镇",
    "书香",
    "科创",
    "智谷",
    "江南",
    "吴韵",
]


@dataclass
class GridSpec:
    number: int
    name: str


@dataclass
class CommunitySpec:
    number: int
    name: str
    lat: float
    lon: float
    grids: list[GridSpec] = field(default_factory=list)


@dataclass
class TownSpec:
    number: int
    name: str
    kind: str
    lat: float
    lon: float
    communities: list[CommunitySpec] = field(default_factory=list)

    @property
    def code(self) -> str:
        return f"{CITY_CODE}{self.number:03d}"


def plan_city(seed: int = 1) -> list[TownSpec]:
    rng = random.Random(f"city-{seed}")
    words = _COMMUNITY_WORDS[:]
    rng.shuffle(words)
    towns = []
    word_index = 0
    for number, name, kind in TOWNS:
        lat = CITY_CENTRE[0] + rng.uniform(-0.14, 0.14)
        lon = CITY_CENTRE[1] + rng.uniform(-0.16, 0.16)
        town = TownSpec(number, name, kind, round(lat, 5), round(lon, 5))
        for c in range(1, rng.randint(6, 8) + 1):
            word = words[word_index % len(words)]
            suffix = "社区" if kind == "street" or c <= 3 else "村"
            if word_index >= len(words):
                word = f"{word}{word_index // len(words) + 1}"
            word_index += 1
            community = CommunitySpec(
                c,
                f"{word}{suffix}",
                round(lat + rng.uniform(-0.03, 0.03), 5),
                round(lon + rng.uniform(-0.03, 0.03), 5),
            )
            for g in range(1, rng.randint(4, 6) + 1):
                community.grids.append(GridSpec(g, f"{word}第{g}网格"))
            town.communities.append(community)
        towns.append(town)
    return towns
