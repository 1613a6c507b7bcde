"""Stored codes of a person's record in words: the nationality (ISO 3166-1 alpha-3, `CHN`) as
the country's name in the page's language."""

import iso3166

_CHINA = {"zh-hans": "中国", "en": "China"}


def country_label(code: str, language: str = "zh-hans") -> str:
    """`CHN` / `CN` → 中国 / China, `KOR` → 韩国 / Korea, Republic of; an unknown code stays."""
    from epigrid.declarations.places import country_name

    value = (code or "").strip().upper()
    country = iso3166.countries_by_alpha3.get(value) or iso3166.countries_by_alpha2.get(value)
    if country is None:
        return code or ""
    if country.alpha2 == "CN":
        return _CHINA["en" if (language or "").startswith("en") else "zh-hans"]
    return country_name(country.alpha2, language)
