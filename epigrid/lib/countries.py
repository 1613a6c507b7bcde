"""ISO 3166 country codes: passports carry alpha-3 (ICAO), the rules and certificates alpha-2."""

import re

import iso3166

_ALPHA2 = re.compile(r"^[A-Z]{2}$")


def alpha2(code: str) -> str:
    """`CHN` → `CN`; an alpha-2 code passes through; unknown codes give ""."""
    value = (code or "").strip().upper()
    if len(value) == 2 and value in iso3166.countries_by_alpha2:
        return value
    country = iso3166.countries_by_alpha3.get(value)
    return country.alpha2 if country else ""


def alpha3(code: str) -> str:
    value = (code or "").strip().upper()
    if len(value) == 3 and value in iso3166.countries_by_alpha3:
        return value
    country = iso3166.countries_by_alpha2.get(value)
    return country.alpha3 if country else ""


def name(code: str, language: str = "en") -> str:
    country = iso3166.countries.get(code, None) if code else None
    return country.name if country else code


def is_country(code: str) -> bool:
    """A place code naming a country other than China: an ISO 3166 alpha-2 code, not `CN` (HK,
    MO and TW count: they are outside the mainland, as the rules and the forms treat them)."""
    return bool(_ALPHA2.match(code or "")) and code in iso3166.countries_by_alpha2 and code != "CN"
