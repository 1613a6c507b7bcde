"""Places in declarations, pushed lists and tips: reading them, checking them, naming them.

A place is a GB/T 2260 code (province, prefecture or county, 6 digits; town 9; community 12) or
an ISO 3166-1 alpha-2 code for a place abroad. Hong Kong, Macao and Taiwan are written as `HK`,
`MO` and `TW`: their arrivals are managed as arrivals from outside the mainland (境外), so the
rules' `travel_abroad` and `overseas_arrival` see them as such.

`PlaceIndex` turns what people type or what a pushed list holds (`湖北省武汉市`, `武汉`,
`420100`, `US`, `美国`, `United States`) into a code. `LocalIndex` knows the towns, communities
and grid cells of the area that runs epigrid and finds them in address text, which is how a
pushed row without a division code is routed. Both are plain objects built once from the
division table and then used for every row without a query.
"""

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import iso3166
from django.utils.translation import gettext as _

from epigrid.lib.countries import is_country
from epigrid.lib.errors import DomainError

# Common places abroad by their Chinese names, as people write them in forms and operators in
# lists. The ISO list covers English names and codes.
COUNTRY_NAMES_ZH = {
    "美国": "US",
    "英国": "GB",
    "法国": "FR",
    "德国": "DE",
    "意大利": "IT",
    "西班牙": "ES",
    "葡萄牙": "PT",
    "荷兰": "NL",
    "比利时": "BE",
    "瑞士": "CH",
    "瑞典": "SE",
    "挪威": "NO",
    "丹麦": "DK",
    "芬兰": "FI",
    "奥地利": "AT",
    "爱尔兰": "IE",
    "希腊": "GR",
    "波兰": "PL",
    "捷克": "CZ",
    "匈牙利": "HU",
    "俄罗斯": "RU",
    "乌克兰": "UA",
    "土耳其": "TR",
    "伊朗": "IR",
    "伊拉克": "IQ",
    "以色列": "IL",
    "沙特阿拉伯": "SA",
    "阿联酋": "AE",
    "阿拉伯联合酋长国": "AE",
    "卡塔尔": "QA",
    "埃及": "EG",
    "南非": "ZA",
    "尼日利亚": "NG",
    "埃塞俄比亚": "ET",
    "肯尼亚": "KE",
    "日本": "JP",
    "韩国": "KR",
    "朝鲜": "KP",
    "蒙古": "MN",
    "越南": "VN",
    "老挝": "LA",
    "柬埔寨": "KH",
    "泰国": "TH",
    "缅甸": "MM",
    "马来西亚": "MY",
    "新加坡": "SG",
    "印度尼西亚": "ID",
    "印尼": "ID",
    "菲律宾": "PH",
    "印度": "IN",
    "巴基斯坦": "PK",
    "孟加拉国": "BD",
    "尼泊尔": "NP",
    "斯里兰卡": "LK",
    "哈萨克斯坦": "KZ",
    "乌兹别克斯坦": "UZ",
    "吉尔吉斯斯坦": "KG",
    "塔吉克斯坦": "TJ",
    "澳大利亚": "AU",
    "新西兰": "NZ",
    "加拿大": "CA",
    "墨西哥": "MX",
    "巴西": "BR",
    "阿根廷": "AR",
    "智利": "CL",
    "秘鲁": "PE",
    "哥伦比亚": "CO",
    "香港": "HK",
    "中国香港": "HK",
    "澳门": "MO",
    "中国澳门": "MO",
    "台湾": "TW",
    "中国台湾": "TW",
}
# GB/T 2260 provinces outside the mainland, written as the ISO codes (see module docstring).
_OUTSIDE_MAINLAND = {"71": "TW", "81": "HK", "82": "MO"}
# Their names are those of the provincial-level divisions they are in GB/T 2260, in both
# languages, wherever the ISO code is shown: never "Hong Kong SAR China" beside "香港特别行政区".
_OUTSIDE_MAINLAND_NAMES = {
    "TW": {"zh": "台湾省", "en": "Taiwan Province"},
    "HK": {"zh": "香港特别行政区", "en": "Hong Kong SAR"},
    "MO": {"zh": "澳门特别行政区", "en": "Macao SAR"},
}
# codes that are not countries in a list of countries: China itself, the three provincial-level
# divisions above (listed among the provinces, as mainland systems list them), and Kosovo (a
# user-assigned code that the iso3166 package carries)
_NOT_IN_COUNTRY_LIST = {"CN", "HK", "MO", "TW", "XK"}

_CODE = re.compile(r"^\d+$")
_SPACES = re.compile(r"[\s\u3000,，、;；/\\|]+")
# suffixes dropped to form the short name people write (`湖北` for 湖北省), longest first
_SHORT_SUFFIXES = (
    "维吾尔自治区",
    "壮族自治区",
    "回族自治区",
    "特别行政区",
    "自治区",
    "自治州",
    "地区",
    "省",
    "市",
    "盟",
)


class PlaceError(DomainError):
    pass


# words around pinyin names that say nothing about which place: `Wuhan City`, `Hubei Province`
_LATIN_NOISE = {
    "city",
    "province",
    "district",
    "county",
    "prefecture",
    "region",
    "autonomous",
    "municipality",
    "league",
    "sar",
    "china",
    "cn",
}


def _scope(code: str) -> str:
    if len(code) == 6 and code.endswith("0000"):
        return code[:2]
    if len(code) == 6 and code.endswith("00"):
        return code[:4]
    return code


def is_abroad(code: str) -> bool:
    """Outside the mainland: a country code (HK, MO and TW included)."""
    return is_country(code)


def normalise_code(code: str) -> str:
    """A place code as stored: grid cells are not places of travel (their community is), codes of
    Hong Kong, Macao and Taiwan become their ISO codes."""
    code = (code or "").strip().upper()
    if _CODE.match(code):
        if code[:2] in _OUTSIDE_MAINLAND and len(code) == 6:
            return _OUTSIDE_MAINLAND[code[:2]]
        if len(code) > 12:
            code = code[:12]
        return code
    return code


def _cldr(language: str) -> dict[str, str]:
    """Country names in the language (Unicode CLDR, through Babel)."""
    return _territories("zh_Hans" if (language or "zh").startswith("zh") else "en")


@lru_cache(maxsize=4)
def _territories(locale: str) -> dict[str, str]:
    from babel import Locale

    return dict(Locale.parse(locale).territories)


@lru_cache(maxsize=1)
def _country_by_name() -> dict[str, str]:
    """Every ISO country's Chinese and English name (CLDR), for reading them back."""
    names: dict[str, str] = {}
    for locale in ("zh_Hans", "en"):
        for code, name in _territories(locale).items():
            if code in iso3166.countries_by_alpha2 and code not in ("CN", "XK"):
                names.setdefault(name.upper(), code)
    return names


def country_from_text(text: str) -> str:
    """ISO alpha-2 from a code (alpha-2 or alpha-3), an English name or a Chinese name; "" when
    the text names no country."""
    value = (text or "").strip()
    if not value:
        return ""
    if value in COUNTRY_NAMES_ZH:
        return COUNTRY_NAMES_ZH[value]
    upper = value.upper()
    if len(upper) == 2 and upper in iso3166.countries_by_alpha2 and upper != "CN":
        return upper
    if len(upper) == 3 and upper in iso3166.countries_by_alpha3 and upper != "CHN":
        return iso3166.countries_by_alpha3[upper].alpha2
    country = iso3166.countries_by_name.get(upper) or iso3166.countries_by_apolitical_name.get(upper)
    if country is not None and country.alpha2 != "CN":
        return country.alpha2
    return _country_by_name().get(upper, "")


def country_name(code: str, language: str = "zh-hans") -> str:
    zh = (language or "zh").startswith("zh")
    if code in _OUTSIDE_MAINLAND_NAMES:
        return _OUTSIDE_MAINLAND_NAMES[code]["zh" if zh else "en"]
    name = _cldr(language).get(code)
    if name:
        return name
    country = iso3166.countries_by_alpha2.get(code)
    return country.apolitical_name if country else code


def _sort_key(name: str, language: str) -> tuple:
    from epigrid.lib.names import pinyin

    if (language or "zh").startswith("zh"):
        return (pinyin(name), name)
    # `Åland Islands` among the A's, `Côte d’Ivoire` among the C's
    plain = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return (plain.casefold(), name)


def country_choices(language: str = "zh-hans") -> list[tuple[str, str]]:
    """Every country for a select, named and sorted in one language: by pinyin in Chinese,
    alphabetically in English. Hong Kong, Macao and Taiwan are not among them: place pickers
    list them among the provinces."""
    choices = [
        (code, country_name(code, language))
        for code in iso3166.countries_by_alpha2
        if code not in _NOT_IN_COUNTRY_LIST
    ]
    return sorted(choices, key=lambda choice: _sort_key(choice[1], language))


def _short(name: str) -> str:
    for suffix in _SHORT_SUFFIXES:
        if name.endswith(suffix) and len(name) - len(suffix) >= 2:
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True)
class Place:
    code: str
    level: int
    name: str
    parent: str | None
    current: bool = True


@dataclass
class PlaceIndex:
    """Divisions of the whole country down to county (and, when given, the local ones below),
    with their names, for reading places written by people."""

    places: dict[str, Place]
    _by_name: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    _children: dict[str, list[str]] = field(default_factory=dict)
    _latin_index: dict[str, list[str]] | None = None  # pinyin name → codes, built when first needed

    @classmethod
    def build(cls, rows: Iterable[Place]) -> "PlaceIndex":
        index = cls({row.code: row for row in rows})
        for place in index.places.values():
            if place.parent:
                index._children.setdefault(place.parent, []).append(place.code)
            if not place.current or place.level > 3 or place.name == "市辖区":
                continue
            names = index._by_name.setdefault(place.level, {})
            for name in {place.name, _short(place.name)}:
                names.setdefault(name, []).append(place.code)
        return index

    @property
    def _latin(self) -> dict[str, list[str]]:
        if self._latin_index is None:
            from epigrid.lib.names import pinyin

            latin_index: dict[str, list[str]] = {}
            for place in self.places.values():
                if not place.current or place.level > 3 or place.name == "市辖区":
                    continue
                latin = {pinyin(place.name), pinyin(_short(place.name))}
                if place.level == 3 and place.name[-1] in "区县旗" and len(place.name) >= 3:
                    latin.add(pinyin(place.name[:-1]))  # `Wuchang` for 武昌区
                for name in latin:
                    latin_index.setdefault(name, []).append(place.code)
            # official English names that are not pinyin: `Urumqi`, `Hohhot`, `Inner Mongolia`
            from epigrid.regions.english import OFFICIAL

            for code, (name_zh, english) in OFFICIAL.items():
                place = self.places.get(code)
                if place is None or place.name != name_zh:
                    continue
                for token in re.split(r"[\s']+", english.lower()):
                    if token and token not in _LATIN_NOISE and code not in latin_index.get(token, ()):
                        latin_index.setdefault(token, []).append(code)
            self._latin_index = latin_index
        return self._latin_index

    def _resolve_latin(self, value: str) -> str:
        """`Wuhan`, `Wuchang, Wuhan`, `Hubei Yichang`: pinyin names, the most specific place
        consistent with every name given."""
        tokens = [t for t in re.split(r"[\s,;/.]+", value.lower()) if t and t not in _LATIN_NOISE]
        if not tokens:
            raise PlaceError("place_unknown", _("No province, city or county of this name was found."))
        found = [set(self._latin.get(t, ())) for t in tokens]
        if not all(found):
            raise PlaceError("place_unknown", _("No province, city or county of this name was found."))

        def related(a: str, b: str) -> bool:
            pa, pb = _scope(a), _scope(b)
            return pa.startswith(pb) or pb.startswith(pa)

        candidates = {
            c for codes in found for c in codes if all(any(related(c, d) for d in s) for s in found)
        }
        if not candidates:
            raise PlaceError("place_unknown", _("These names do not lie inside each other."))
        deepest = max(len(_scope(c)) for c in candidates)
        best = sorted(c for c in candidates if len(_scope(c)) == deepest)
        if len(best) > 1:
            raise PlaceError("place_ambiguous", _("Several places have this name; add the province or city."))
        return normalise_code(best[0])

    def exists(self, code: str) -> bool:
        return code in self.places

    def _descendants(self, code: str, level: int) -> set[str]:
        found, frontier = set(), [code]
        while frontier:
            nxt = []
            for c in frontier:
                for child in self._children.get(c, ()):
                    if self.places[child].level == level:
                        found.add(child)
                    elif self.places[child].level < level:
                        nxt.append(child)
            frontier = nxt
        return found

    def _take(self, text: str, level: int, within: str | None) -> tuple[str | None, str, bool]:
        """The division of `level` whose name starts `text` (longest name first), optionally
        inside `within`; returns (code, rest of text, ambiguous)."""
        names = self._by_name.get(level, {})
        allowed = self._descendants(within, level) if within else None
        for length in range(min(len(text), 12), 1, -1):
            candidates = names.get(text[:length])
            if not candidates:
                continue
            if allowed is not None:
                candidates = [c for c in candidates if c in allowed]
            if len(candidates) == 1:
                return candidates[0], text[length:], False
            if len(candidates) > 1:
                return None, text, True
        return None, text, False

    def resolve(self, text: object) -> str:
        """The code of the place `text` names. Raises PlaceError with a reason a person can act
        on (unknown, ambiguous)."""
        raw = "" if text is None else str(text)
        country = country_from_text(raw.strip()) if len(raw) <= 64 else ""
        if country:
            return country
        value = _SPACES.sub("", raw).strip()
        if not value:
            raise PlaceError("place_missing", _("Name a place."))
        if len(value) > 64:
            raise PlaceError("place_length", _("A place is at most 64 characters."))
        if _CODE.match(value):
            if len(value) not in (2, 4, 6, 9, 12, 15):
                raise PlaceError("place_code", _("A division code has 6, 9 or 12 digits."))
            padded = value + "0" * (6 - len(value)) if len(value) < 6 else value
            # below county only the local divisions are on record; elsewhere the county must exist
            if padded[:6] not in self.places or (len(padded) > 6 and not self.places[padded[:6]].level == 3):
                raise PlaceError("place_unknown", _("No division has this code."))
            return normalise_code(padded)
        country = country_from_text(value)
        if country:
            return country
        if value.upper() in ("CN", "CHN", "CHINA") or value in ("中国", "中华人民共和国"):
            raise PlaceError("place_too_wide", _("Name a province, city or county, not the whole country."))
        if value.startswith("中国"):
            value = value[2:]
        if raw.strip().isascii():
            return self._resolve_latin(raw.strip())
        for level in (1, 2, 3):
            exact = self._by_name.get(level, {}).get(value, [])
            if len(set(exact)) == 1:
                return normalise_code(exact[0])
            if len(set(exact)) > 1:
                raise PlaceError(
                    "place_ambiguous", _("Several places have this name; add the province or city.")
                )
        province, rest, ambiguous = self._take(value, 1, None)
        prefecture = county = None
        if province:
            prefecture, rest2, ambiguous = self._take(rest, 2, province)
            if prefecture:
                rest = rest2
            county, rest3, ambiguous3 = self._take(rest, 3, prefecture or province)
            ambiguous = ambiguous or ambiguous3
        else:
            prefecture, rest, ambiguous = self._take(value, 2, None)
            if prefecture:
                county, rest, ambiguous3 = self._take(rest, 3, prefecture)
                ambiguous = ambiguous3
            elif not ambiguous:
                county, rest, ambiguous = self._take(value, 3, None)
        code = county or prefecture or province
        if code is None:
            if ambiguous:
                raise PlaceError(
                    "place_ambiguous", _("Several places have this name; add the province or city.")
                )
            raise PlaceError("place_unknown", _("No province, city or county of this name was found."))
        return normalise_code(code)


@dataclass
class LocalIndex:
    """The towns, communities and grid cells below one area (the county running epigrid), and a
    matcher for their names in address text."""

    area: str
    codes: dict[str, tuple[int, str]]  # code → (level, name)
    _pattern: re.Pattern | None = None
    _by_name: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, area: str, rows: Iterable[tuple[str, int, str]]) -> "LocalIndex":
        index = cls(area, {code: (level, name) for code, level, name in rows})
        names = []
        for code, (level, name) in index.codes.items():
            if level in (4, 5) and len(name) >= 2:
                index._by_name.setdefault(name, []).append(code)
                names.append(name)
        if names:
            index._pattern = re.compile(
                "|".join(re.escape(n) for n in sorted(set(names), key=len, reverse=True))
            )
        return index

    def exists(self, code: str) -> bool:
        return code in self.codes

    def level(self, code: str) -> int | None:
        entry = self.codes.get(code)
        return entry[0] if entry else None

    def match_address(self, text: str) -> str | None:
        """The most specific division named in the address: a community inside a named town, a
        community alone when its name is unique, else the town."""
        if not text or self._pattern is None:
            return None
        towns, communities = [], []
        for match in self._pattern.finditer(text):
            for code in self._by_name.get(match.group(0), ()):
                (towns if self.codes[code][0] == 4 else communities).append(code)
        if towns:
            inside = [c for c in communities if any(c.startswith(t) for t in towns)]
            if len(set(inside)) == 1:
                return inside[0]
            if len(set(towns)) == 1:
                return towns[0]
            return None
        if len(set(communities)) == 1:
            return communities[0]
        return None


# --- loading from the database ---------------------------------------------------------------


_NATIONAL: PlaceIndex | None = None


def national_index() -> PlaceIndex:
    """The country's divisions to county level, cached for the process (GB/T 2260 changes once a
    year, with a python-stdnum upgrade and a restart)."""
    global _NATIONAL
    if _NATIONAL is None:
        from epigrid.regions.models import Division, Level

        rows = [
            Place(code, level, name, parent, valid_to is None)
            for code, level, name, parent, valid_to in Division.objects.filter(
                level__lte=Level.COUNTY
            ).values_list("code", "level", "name_zh", "parent_id", "valid_to")
        ]
        if not rows:
            return PlaceIndex.build([])  # not loaded yet: nothing to cache
        _NATIONAL = PlaceIndex.build(rows)
    return _NATIONAL


def local_index(area: str) -> LocalIndex:
    """Towns, communities and grid cells under `area`, read fresh (a few thousand rows)."""
    from epigrid.accounts.scoping import prefix_q
    from epigrid.regions.models import Division, Level

    rows = Division.objects.filter(prefix_q("code", area), level__gte=Level.TOWN, valid_to__isnull=True)
    return LocalIndex.build(area, rows.values_list("code", "level", "name_zh"))


def local_areas() -> list[str]:
    """The counties that run epigrid: those with towns below them in the division table."""
    from epigrid.regions.models import Division, Level

    return sorted(set(Division.objects.filter(level=Level.TOWN).values_list("parent_id", flat=True)))


def is_local_division(code: str, *, min_level: int = 5) -> bool:
    """A community or grid cell (or, with `min_level=4`, a town) of an area running epigrid."""
    from epigrid.regions.models import Division

    if not code or not code.isdigit() or len(code) < 9:
        return False
    division = Division.objects.filter(code=code, valid_to__isnull=True).only("level").first()
    return division is not None and division.level >= min_level


# --- naming ------------------------------------------------------------------------------------


def _ancestor_codes(code: str) -> list[str]:
    if not code.isdigit():
        return []
    out = []
    if len(code) >= 6:
        out += [code[:2] + "0000", code[:4] + "00", code[:6]]
    for length in (9, 12, 15):
        if len(code) >= length:
            out.append(code[:length])
    return list(dict.fromkeys(out))


def place_labels(codes: Iterable[str], language: str = "zh-hans") -> dict[str, str]:
    """Readable names of places, each with its path (`湖北省 武汉市 武昌区`), in one query."""
    from epigrid.regions.models import Division

    codes = {c for c in codes if c}
    wanted = set()
    for code in codes:
        wanted.update(_ancestor_codes(code))
    zh = (language or "zh").startswith("zh")
    names = {}
    if wanted:
        for code, name_zh, name_en in Division.objects.filter(code__in=wanted).values_list(
            "code", "name_zh", "name_en"
        ):
            names[code] = name_zh if zh else (name_en or name_zh)
    labels = {}
    for code in codes:
        if not code.isdigit():
            labels[code] = country_name(code, language)
            continue
        parts = []
        # below county (the local divisions) the town, community and grid cell say enough
        ancestors = _ancestor_codes(code)
        if len(code) >= 9:
            ancestors = [a for a in ancestors if len(a) >= 9]
        for ancestor in ancestors:
            name = names.get(ancestor)
            if name and name not in ("市辖区", "Municipal Districts") and name not in parts:
                parts.append(name)
        labels[code] = " ".join(parts) if parts else code
    return labels


def place_label(code: str, language: str = "zh-hans") -> str:
    return place_labels([code], language).get(code, code) if code else ""
