"""Words of the health code's own vocabulary in both languages, as data: colour names and the
reasons a token is accepted or refused. Python pages and the browser scanner (which gets them
as JSON) show the same words; the rules give reasons in both languages the same way."""

import re

from django.utils.translation import get_language

COLOURS = {
    "green": {"zh-hans": "绿码", "en": "Green code"},
    "yellow": {"zh-hans": "黄码", "en": "Yellow code"},
    "red": {"zh-hans": "红码", "en": "Red code"},
}

# what a checkpoint should do on each colour (R4.2, R4.3)
ADVICE = {
    "green": {"zh-hans": "可通行。", "en": "May pass."},
    "yellow": {
        "zh-hans": "请勿通行，请按要求进行健康监测或核酸检测。",
        "en": "Do not let pass: health monitoring or a nucleic-acid test is required.",
    },
    "red": {
        "zh-hans": "请勿通行，立即报告并按规定处置。",
        "en": "Do not let pass: report at once and follow the procedure.",
    },
}

# what the person with the code should do (their own page)
SELF_ADVICE = {
    "green": {
        "zh-hans": "可正常通行。请继续做好个人防护。",
        "en": "You may go about as usual. Keep protecting yourself.",
    },
    "yellow": {
        "zh-hans": "请按下列要求进行健康监测和检测，暂不前往公共场所；满足解除条件后自动转为绿码。",
        "en": "Do the health monitoring and tests listed below and stay away from public places; "
        "the code turns green by itself once the conditions are met.",
    },
    "red": {
        "zh-hans": "请配合社区和疾控部门，按下列要求隔离观察，不要外出；满足解除条件后自动转为绿码。",
        "en": "Follow the instructions of your community and the CDC, keep to the quarantine listed "
        "below and do not go out; the code turns green by itself once the conditions are met.",
    },
}

REASONS = {
    "ok": {"zh-hans": "验证通过", "en": "Valid"},
    "malformed": {"zh-hans": "不是有效的健康码", "en": "Not a health code"},
    "unsupported_version": {
        "zh-hans": "健康码版本过新，请更新核验程序",
        "en": "A newer code version: update the verifier",
    },
    "untrusted_issuer": {"zh-hans": "签发机构不在信任列表中", "en": "Issuer not trusted"},
    "unknown_kid": {"zh-hans": "签名密钥未知", "en": "Unknown signing key"},
    "bad_signature": {"zh-hans": "签名无效（可能被篡改）", "en": "Bad signature (tampered?)"},
    "key_not_valid_at_issue": {
        "zh-hans": "签发时密钥不在有效期内",
        "en": "Key was not valid when the code was issued",
    },
    "not_yet_valid": {"zh-hans": "尚未生效（请检查时钟）", "en": "Not yet valid (check the clock)"},
    "expired": {"zh-hans": "已过期，请刷新健康码", "en": "Expired: ask for a refreshed code"},
    "key_expired": {"zh-hans": "签名密钥已停用", "en": "Signing key retired"},
}

ONLINE = {
    "current": {"zh-hans": "在线核验：颜色为最新", "en": "Online check: colour is current"},
    "stale": {
        "zh-hans": "在线核验：健康码颜色在出示后已改变",
        "en": "Online check: the colour changed after this code was issued",
    },
    "revoked": {"zh-hans": "在线核验：此码已作废", "en": "Online check: this code was withdrawn"},
    "unknown_code": {"zh-hans": "在线核验：查无此码", "en": "Online check: no such code"},
    "not_checked": {"zh-hans": "未在线核验", "en": "Not checked online"},
    "offline": {"zh-hans": "离线核验（无网络）", "en": "Checked offline (no network)"},
}


def language_key(language: str | None) -> str:
    """The key of a two-language dict ({"zh-hans", "en"}) for a language code; Chinese when
    none is given."""
    return "zh-hans" if (language or "zh").startswith("zh") else "en"


def lang() -> str:
    return language_key(get_language())


def in_language(words: dict | None, language: str | None) -> str:
    """One language of a stored {"zh-hans", "en"} dict (a release condition), "" if none."""
    return words.get(language_key(language), "") if words else ""


def colour_name(colour: str, language: str | None = None) -> str:
    return COLOURS.get(colour, {}).get(language or lang(), colour)


def advice(colour: str, language: str | None = None) -> str:
    return ADVICE.get(colour, {}).get(language or lang(), "")


def self_advice(colour: str, language: str | None = None) -> str:
    return SELF_ADVICE.get(colour, {}).get(language or lang(), "")


def for_browser(language: str | None = None) -> dict:
    """Everything the scanner script shows, in one language."""
    language = language or lang()
    return {
        "colours": {k: v[language] for k, v in COLOURS.items()},
        "advice": {k: v[language] for k, v in ADVICE.items()},
        "reasons": {k: v[language] for k, v in REASONS.items()},
        "online": {k: v[language] for k, v in ONLINE.items()},
    }


def reason_rows(reasons: list, language: str | None = None) -> list[dict]:
    """Stored reasons ({"rule", "zh-hans", "en"}) as rows to show: the text and the rule id."""
    language = language or lang()
    return [{"text": r.get(language, ""), "rule": r.get("rule", "")} for r in reasons]


def history_rows(changes, language: str | None = None) -> list[dict]:
    """Colour history entries as rows to show, newest first as given."""
    language = language or lang()
    rows = []
    for change in changes:
        rows.append(
            {
                "at": change.at,
                "old": change.old_colour,
                "new": change.new_colour,
                "old_name": colour_name(change.old_colour, language) if change.old_colour else "",
                "new_name": colour_name(change.new_colour, language),
                "colour_changed": change.colour_changed,
                "reasons": reason_rows(change.reasons, language),
                "requirements": change.requirements,
                "release": change.release_text(language),
                "release_at": change.release_at,
                "cause": change.cause,
            }
        )
    return rows


_PROVINCE_ISSUER = re.compile(r"^CN-(\d{2})$")


def issuer_label(issuer: str, language: str | None = None) -> str:
    """An issuer named `CN-` and its province's GB/T 2260 code (`CN-32`, Jiangsu's) as the
    province's name; any other issuer as it names itself."""
    from epigrid.regions.models import Division

    match = _PROVINCE_ISSUER.match(issuer or "")
    if match is None:
        return issuer or ""
    division = Division.objects.filter(code=f"{match.group(1)}0000").first()
    return division.name_for(language or lang()) if division is not None else issuer


def issuer_names(language: str | None = None) -> dict[str, str]:
    """Our issuer and every trusted one, by name: what the scanner shows for a token's issuer."""
    from epigrid.healthcode import keys
    from epigrid.healthcode.models import TrustedKey

    issuers = {keys.issuer(), *TrustedKey.objects.values_list("issuer", flat=True).distinct()}
    return {issuer: issuer_label(issuer, language) for issuer in sorted(issuers)}
