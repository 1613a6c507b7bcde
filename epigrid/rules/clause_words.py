"""A clause ID in words: `JS79-13` is 苏肺炎防控办〔2020〕79号 第十三条, as a person reads it.

Clause IDs (`clauses.py`) are how packs, tests and commits cite the five source documents; a
person on their status page needs the document and the article instead. Each document numbers
its text in its own way, so each says how a bare number and a dotted one read:

- 苏肺炎防控办〔2020〕79号 numbers its items 1–16 straight through: `JS79-13` is 第十三条.
- 昆防指〔2020〕10号 numbers the items of its section 三 straight through (`KS10-13` is 第十三条)
  and the work requirements of section 四 as （一）–（四）: `KS10-4.2` is 第四部分第（二）项.
- The others are built from Chinese ordinal headings: a bare number is a section (一、), a
  second number the item （三） below it, a third the Arabic point below that:
  `JX57-2.3` is 第二部分第（三）项, `NA182-2.5.1` is 第二部分第（五）项第1点.

The numbers and titles are those of the packs' `source` (a test holds them equal).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from epigrid.rules.clauses import KNOWN_CLAUSES

_DIGITS = "零一二三四五六七八九"


def chinese_number(n: int) -> str:
    """1–99 as written in document headings: 十三, 二十一."""
    if not 0 < n < 100:
        raise ValueError(f"no heading number {n}")
    tens, ones = divmod(n, 10)
    if tens == 0:
        return _DIGITS[ones]
    return ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def roman(n: int) -> str:
    values = ((10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"))
    out = ""
    for value, letters in values:
        while n >= value:
            out, n = out + letters, n - value
    return out


@dataclass(frozen=True)
class Document:
    prefix: str
    number: str  # as printed; "" for a copy that shows none
    title: str  # the document's title, as printed
    name_en: str  # how an English reader is told which document it is
    straight_items: bool  # a bare number is an item numbered straight through (条), not a section
    name_zh: str = ""  # for a document without a number: how a reader is told which it is
    title_en: str = ""  # the title in English, for the English page's hover text

    def name(self, lang: str) -> str:
        if lang == "en":
            return self.name_en
        return self.number or self.name_zh

    def title_for(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title


DOCUMENTS: dict[str, Document] = {
    d.prefix: d
    for d in (
        Document(
            "JS79",
            "苏肺炎防控办〔2020〕79号",
            "关于转发省卫生健康委省公安厅省工业和信息化厅做好离鄂离汉来苏人员健康管理和服务意见的通知",
            "Jiangsu epidemic prevention office notice [2020] No. 79",
            straight_items=True,
            title_en="Forwarding the opinions on health management and services for people arriving "
            "in Jiangsu from Hubei and Wuhan",
        ),
        Document(
            "KS10",
            "昆防指〔2020〕10号",
            "关于节后返昆人员疫情防控工作实施意见",
            "Kunshan epidemic command notice [2020] No. 10",
            straight_items=True,
            title_en="Implementing opinions on epidemic prevention for people returning to Kunshan after the "
            "Spring Festival",
        ),
        Document(
            "JS125",
            "苏政传发〔2020〕125号",
            "转发国务院联防联控机制综合组关于防漏洞补短板做好常态化新冠肺炎疫情防控工作的通知",
            "Jiangsu provincial government office telegram [2020] No. 125",
            straight_items=False,
            title_en="Forwarding the State Council joint mechanism's notice on closing gaps in routine "
            "COVID-19 prevention and control",
        ),
        Document(
            "NA182",
            "联防联控机制综发〔2020〕182号",
            "关于防漏洞补短板做好常态化新冠肺炎疫情防控工作的通知",
            "State Council joint prevention mechanism notice [2020] No. 182",
            straight_items=False,
            title_en="Notice on closing gaps and shortfalls in routine COVID-19 prevention and control",
        ),
        Document(
            "JX57",
            "赣新冠指明电〔2020〕57号",
            "关于精准推进新冠肺炎疫情常态化防控工作的意见",
            "Jiangxi COVID-19 command telegram [2020] No. 57",
            straight_items=False,
            title_en="Opinions on precise routine prevention and control of COVID-19",
        ),
        Document(
            "XC",
            "",
            "许昌市新型冠状病毒感染的肺炎疫情防控指挥部办公室文件（节选）",
            "Xuchang epidemic command office notice of 7 May 2020",
            straight_items=False,
            title_en="Document of the Xuchang epidemic command office (excerpt)",
            name_zh="许昌市疫情防控指挥部办公室2020年5月7日文件",
        ),
    )
}


class UnknownClause(ValueError):
    pass


def _split(clause: str) -> tuple[Document, list[int]]:
    if clause not in KNOWN_CLAUSES:
        raise UnknownClause(f"{clause!r} is not a clause of the source documents")
    prefix, _, number = clause.partition("-")
    return DOCUMENTS[prefix], [int(part) for part in number.split(".")]


def article(clause: str, lang: str = "zh-hans") -> str:
    """The article alone: 第十三条, 第二部分第（三）项 / item 13, part II, item (3)."""
    document, parts = _split(clause)
    if lang == "en":
        if len(parts) == 1:
            return f"item {parts[0]}" if document.straight_items else f"part {roman(parts[0])}"
        words = [f"part {roman(parts[0])}", f"item ({parts[1]})"]
        if len(parts) > 2:
            words.append(f"point {parts[2]}")
        return ", ".join(words)
    if len(parts) == 1:
        return f"第{chinese_number(parts[0])}{'条' if document.straight_items else '部分'}"
    words = f"第{chinese_number(parts[0])}部分第（{chinese_number(parts[1])}）项"
    if len(parts) > 2:
        words += f"第{parts[2]}点"
    return words


def clause_words(clause: str, lang: str = "zh-hans") -> str:
    """`JS79-13` → 苏肺炎防控办〔2020〕79号 第十三条 / Jiangsu … [2020] No. 79, item 13."""
    document, _parts = _split(clause)
    separator = ", " if lang == "en" else " "
    return f"{document.name(lang)}{separator}{article(clause, lang)}"


def clauses_words(clauses: Iterable[str], lang: str = "zh-hans") -> list[tuple[str, str, list[str]]]:
    """Clauses grouped by document, in the order cited: (document name, document title, articles).
    An ID that names no known clause is kept as it is, so nothing cited is ever hidden."""
    groups: dict[str, tuple[str, str, list[str]]] = {}
    for clause in clauses:
        try:
            document, _parts = _split(clause)
        except UnknownClause:
            groups.setdefault(clause, (clause, "", []))
            continue
        name, title, articles = groups.setdefault(
            document.prefix, (document.name(lang), document.title_for(lang), [])
        )
        words = article(clause, lang)
        if words not in articles:
            articles.append(words)
    return list(groups.values())


def clauses_text(clauses: Iterable[str], lang: str = "zh-hans") -> str:
    """Several clauses as one phrase: 苏肺炎防控办〔2020〕79号 第十三条、第七条；昆防指〔2020〕10号 第三条."""
    parts = []
    for name, _title, articles in clauses_words(clauses, lang):
        if not articles:
            parts.append(name)
        elif lang == "en":
            parts.append(f"{name}, {', '.join(articles)}")
        else:
            parts.append(f"{name} {'、'.join(articles)}")
    return ("; " if lang == "en" else "；").join(parts)
