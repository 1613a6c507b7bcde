"""ISO 3166 country codes: passports carry alpha-3 (ICAO), the rules and certificates alpha-2."""

import iso3166


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
