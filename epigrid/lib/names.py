"""Pinyin and English forms of Chinese names, for search, sorting and the English UI."""

from functools import lru_cache

from pypinyin import Style, lazy_pinyin

# Longest first: "自治县" must win over "县".
_SUFFIXES = [
    ("特别行政区", "SAR"),
    ("特別行政區", "SAR"),
    ("维吾尔自治区", "Uygur Autonomous Region"),
    ("壮族自治区", "Zhuang Autonomous Region"),
    ("回族自治区", "Hui Autonomous Region"),
    ("自治区", "Autonomous Region"),
    ("回族区", "Hui District"),
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
    ("市辖区", "Municipal Districts"),
    ("林区", "Forestry District"),
    ("特区", "Special District"),
    ("新区", "New Area"),
    ("街道", "Subdistrict"),
    ("社区", "Community"),
    ("网格", "Grid"),
    ("地区", "Prefecture"),
    ("省", "Province"),
    ("市", "City"),
    ("盟", "League"),
    ("区", "District"),
    ("县", "County"),
    ("旗", "Banner"),
    ("镇", "Town"),
    ("乡", "Township"),
    ("村", "Village"),
]


@lru_cache(maxsize=65536)
def pinyin(text: str, sep: str = "") -> str:
    """Lower-case toneless pinyin; non-Chinese characters pass through."""
    return sep.join(lazy_pinyin(text, style=Style.NORMAL, errors="default")).lower()


@lru_cache(maxsize=32768)
def _char_pinyin(ch: str) -> str:
    return lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0].lower() if ch.strip() else ""


def name_pinyin(name: str) -> str:
    """Per-character pinyin of a person's name: names are not phrases, so reading characters
    one by one matches what people type, and caching characters makes it fast at scale."""
    return "".join(_char_pinyin(ch) for ch in name)


# Ethnic groups in the names of autonomous areas, as those names write them in English
# (`延边朝鲜族自治州` → `Yanbian Korean Autonomous Prefecture`). Names written without 族 are
# the few that the division table writes so (`伊犁哈萨克自治州`).
ETHNIC_GROUPS = {
    "蒙古": "Mongol", "回": "Hui", "藏": "Tibetan", "维吾尔": "Uygur", "苗": "Miao", "彝": "Yi",
    "壮": "Zhuang", "布依": "Buyei", "朝鲜": "Korean", "满": "Manchu", "侗": "Dong", "瑶": "Yao",
    "白": "Bai", "土家": "Tujia", "哈尼": "Hani", "哈萨克": "Kazak", "傣": "Dai", "黎": "Li",
    "傈僳": "Lisu", "佤": "Va", "畲": "She", "拉祜": "Lahu", "水": "Shui", "东乡": "Dongxiang",
    "纳西": "Naxi", "景颇": "Jingpo", "柯尔克孜": "Kirgiz", "土": "Tu", "达斡尔": "Daur",
    "仫佬": "Mulao", "羌": "Qiang", "布朗": "Blang", "撒拉": "Salar", "毛南": "Maonan",
    "仡佬": "Gelao", "锡伯": "Xibe", "阿昌": "Achang", "普米": "Pumi", "塔吉克": "Tajik",
    "怒": "Nu", "鄂温克": "Ewenki", "德昂": "Deang", "保安": "Bonan", "裕固": "Yugur",
    "京": "Jing", "独龙": "Derung", "鄂伦春": "Oroqen", "赫哲": "Hezhen", "门巴": "Monba",
    "珞巴": "Lhoba", "基诺": "Jino",
}  # fmt: skip
_WITHOUT_ZU = ("蒙古", "哈萨克", "柯尔克孜", "锡伯", "塔吉克", "鄂伦春")
_AUTONOMOUS = (
    ("自治州", "Autonomous Prefecture"),
    ("自治县", "Autonomous County"),
    ("自治旗", "Autonomous Banner"),
)
# the table's groupings of county-level divisions that hang off a province directly
_GROUPINGS = {
    "省直辖县级行政单位": "County-level divisions under the province",
    "省直辖县级行政区划": "County-level divisions under the province",
    "自治区直辖县级行政单位": "County-level divisions under the autonomous region",
    "自治区直辖县级行政区划": "County-level divisions under the autonomous region",
    "县": "Counties",
}


# Readings that place names give characters, where the romaniser's everyday reading is wrong:
# 长 is cháng in 长治, 长阳, 长兴 (but zhǎng in 长子), 朝 cháo in 朝阳, 漯 luò in 漯河.
_PLACE_CHARS = {"长": "chang", "朝": "chao", "漯": "luo"}
_PLACE_PHRASES = {"长子": ["zhang", "zi"], "乐亭": ["lao", "ting"], "乐清": ["yue", "qing"]}


def _place_syllables(text: str) -> list[str]:
    syllables = lazy_pinyin(text, style=Style.NORMAL, errors="default", v_to_u=True)
    if len(syllables) != len(text):  # non-Chinese characters came through as one piece
        return syllables
    syllables = [_PLACE_CHARS.get(ch, s) for ch, s in zip(text, syllables, strict=True)]
    for phrase, reading in _PLACE_PHRASES.items():
        start = text.find(phrase)
        if start >= 0:
            syllables[start : start + len(phrase)] = reading
    return syllables


def place_pinyin(text: str) -> str:
    """A place name in Hanyu Pinyin as place names are written (GB/T 16159): syllables joined,
    an apostrophe before a syllable that starts with a, o or e (`Xi'an`), ü kept (`Lüliang`)."""
    out = ""
    for syllable in _place_syllables(text):
        if out and syllable[:1] in ("a", "o", "e") and out[-1:].isalpha():
            out += "'"
        out += syllable
    return out[:1].upper() + out[1:]


def _ethnic_split(stem: str) -> tuple[str, list[str]]:
    """`黔东南苗族侗族` → (`黔东南`, [`Miao`, `Dong`])."""
    groups: list[str] = []
    names = sorted(ETHNIC_GROUPS, key=len, reverse=True)
    while True:
        for name in names:
            if stem.endswith(name + "族") and len(stem) > len(name) + 1:
                stem = stem[: -len(name) - 1]
            elif name in _WITHOUT_ZU and stem.endswith(name) and len(stem) > len(name):
                stem = stem[: -len(name)]
            else:
                continue
            groups.insert(0, ETHNIC_GROUPS[name])
            break
        else:
            return stem, groups


def english_division_name(name_zh: str) -> str:
    """`昆山市` → `Kunshan City`, `西安市` → `Xi'an City`, `延边朝鲜族自治州` → `Yanbian Korean
    Autonomous Prefecture`, `市辖区` → `Municipal Districts`."""
    if name_zh in _GROUPINGS:
        return _GROUPINGS[name_zh]
    for suffix, english in _AUTONOMOUS:
        if name_zh.endswith(suffix) and len(name_zh) > len(suffix):
            stem = name_zh[: -len(suffix)]
            people = ETHNIC_GROUPS.get(stem.removesuffix("族"))
            if people:  # the area is named after its people alone: 鄂伦春自治旗
                return f"{people} {english}"
            stem, groups = _ethnic_split(stem)
            if groups:
                peoples = groups[0] if len(groups) == 1 else ", ".join(groups[:-1]) + " and " + groups[-1]
                return f"{place_pinyin(stem)} {peoples} {english}"
    for suffix, english in _SUFFIXES:
        if name_zh.endswith(suffix):
            stem = name_zh[: -len(suffix)]
            if not stem:
                return english
            return f"{place_pinyin(stem)} {english}"
    return place_pinyin(name_zh)
