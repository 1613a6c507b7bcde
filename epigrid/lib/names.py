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


def pinyin_initials(text: str) -> str:
    return "".join(lazy_pinyin(text, style=Style.FIRST_LETTER, errors="default")).lower()


def english_division_name(name_zh: str) -> str:
    """`昆山市` → `Kunshan City`, `市辖区` → `Municipal Districts`."""
    for suffix, english in _SUFFIXES:
        if name_zh.endswith(suffix):
            stem = name_zh[: -len(suffix)]
            if not stem:
                return english
            return f"{pinyin(stem).capitalize()} {english}"
    return pinyin(name_zh).capitalize()


def english_person_name(name_zh: str) -> str:
    """Family name first, as on Chinese passports: `张三` → `ZHANG San`."""
    if not name_zh or not any("\u4e00" <= ch <= "\u9fff" for ch in name_zh):
        return name_zh
    syllables = lazy_pinyin(name_zh, style=Style.NORMAL)
    family, given = syllables[0], "".join(syllables[1:])
    return f"{family.upper()} {given.capitalize()}".strip()
