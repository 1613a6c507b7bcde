"""Every clause of the five source documents in words, as a person reads it on their status
page: the document's number and the article as the document numbers it (JS79-13 is
苏肺炎防控办〔2020〕79号 第十三条), in zh-hans and English."""

import pytest

from epigrid.rules.clause_words import (
    DOCUMENTS,
    UnknownClause,
    article,
    clause_words,
    clauses_text,
    clauses_words,
)
from epigrid.rules.clauses import KNOWN_CLAUSES
from epigrid.rules.packs import default_library

# clause, article in zh-hans, article in English: written from the printed headings of each
# document in shared/seeds, not from the function under test
ARTICLES = """
JS79-1 第一条 item 1
JS79-2 第二条 item 2
JS79-3 第三条 item 3
JS79-4 第四条 item 4
JS79-5 第五条 item 5
JS79-6 第六条 item 6
JS79-7 第七条 item 7
JS79-8 第八条 item 8
JS79-9 第九条 item 9
JS79-10 第十条 item 10
JS79-11 第十一条 item 11
JS79-12 第十二条 item 12
JS79-13 第十三条 item 13
JS79-14 第十四条 item 14
JS79-15 第十五条 item 15
JS79-16 第十六条 item 16
KS10-1 第一条 item 1
KS10-2 第二条 item 2
KS10-3 第三条 item 3
KS10-4 第四条 item 4
KS10-5 第五条 item 5
KS10-6 第六条 item 6
KS10-7 第七条 item 7
KS10-8 第八条 item 8
KS10-9 第九条 item 9
KS10-10 第十条 item 10
KS10-11 第十一条 item 11
KS10-12 第十二条 item 12
KS10-13 第十三条 item 13
KS10-14 第十四条 item 14
KS10-15 第十五条 item 15
KS10-16 第十六条 item 16
KS10-17 第十七条 item 17
KS10-18 第十八条 item 18
KS10-19 第十九条 item 19
KS10-20 第二十条 item 20
KS10-21 第二十一条 item 21
KS10-4.1 第四部分第（一）项 part IV, item (1)
KS10-4.2 第四部分第（二）项 part IV, item (2)
KS10-4.3 第四部分第（三）项 part IV, item (3)
KS10-4.4 第四部分第（四）项 part IV, item (4)
JS125-1 第一部分 part I
JS125-2 第二部分 part II
JS125-3 第三部分 part III
JS125-4 第四部分 part IV
NA182-1 第一部分 part I
NA182-1.1 第一部分第（一）项 part I, item (1)
NA182-1.2 第一部分第（二）项 part I, item (2)
NA182-1.3 第一部分第（三）项 part I, item (3)
NA182-1.4 第一部分第（四）项 part I, item (4)
NA182-1.5 第一部分第（五）项 part I, item (5)
NA182-2 第二部分 part II
NA182-2.1 第二部分第（一）项 part II, item (1)
NA182-2.2 第二部分第（二）项 part II, item (2)
NA182-2.3 第二部分第（三）项 part II, item (3)
NA182-2.4 第二部分第（四）项 part II, item (4)
NA182-2.5 第二部分第（五）项 part II, item (5)
NA182-2.5.1 第二部分第（五）项第1点 part II, item (5), point 1
NA182-2.5.2 第二部分第（五）项第2点 part II, item (5), point 2
NA182-2.5.3 第二部分第（五）项第3点 part II, item (5), point 3
NA182-2.5.4 第二部分第（五）项第4点 part II, item (5), point 4
NA182-2.5.5 第二部分第（五）项第5点 part II, item (5), point 5
NA182-2.5.6 第二部分第（五）项第6点 part II, item (5), point 6
NA182-3 第三部分 part III
JX57-1 第一部分 part I
JX57-2 第二部分 part II
JX57-2.1 第二部分第（一）项 part II, item (1)
JX57-2.2 第二部分第（二）项 part II, item (2)
JX57-2.3 第二部分第（三）项 part II, item (3)
JX57-3 第三部分 part III
JX57-3.4 第三部分第（四）项 part III, item (4)
JX57-3.5 第三部分第（五）项 part III, item (5)
JX57-3.6 第三部分第（六）项 part III, item (6)
JX57-3.7 第三部分第（七）项 part III, item (7)
JX57-3.8 第三部分第（八）项 part III, item (8)
JX57-3.9 第三部分第（九）项 part III, item (9)
JX57-3.10 第三部分第（十）项 part III, item (10)
JX57-3.11 第三部分第（十一）项 part III, item (11)
JX57-3.12 第三部分第（十二）项 part III, item (12)
JX57-4 第四部分 part IV
JX57-4.13 第四部分第（十三）项 part IV, item (13)
JX57-4.14 第四部分第（十四）项 part IV, item (14)
JX57-4.15 第四部分第（十五）项 part IV, item (15)
JX57-4.16 第四部分第（十六）项 part IV, item (16)
XC-2 第二部分 part II
XC-2.1 第二部分第（一）项 part II, item (1)
XC-2.2 第二部分第（二）项 part II, item (2)
XC-2.3 第二部分第（三）项 part II, item (3)
XC-3 第三部分 part III
XC-3.1 第三部分第（一）项 part III, item (1)
XC-3.2 第三部分第（二）项 part III, item (2)
XC-3.3 第三部分第（三）项 part III, item (3)
XC-3.4 第三部分第（四）项 part III, item (4)
XC-4 第四部分 part IV
XC-4.1 第四部分第（一）项 part IV, item (1)
XC-4.2 第四部分第（二）项 part IV, item (2)
XC-4.3 第四部分第（三）项 part IV, item (3)
"""
TABLE = [tuple(line.split(" ", 2)) for line in ARTICLES.strip().splitlines()]


def test_the_table_names_every_clause_once():
    clauses = [clause for clause, _zh, _en in TABLE]
    assert len(clauses) == len(set(clauses))
    assert set(clauses) == KNOWN_CLAUSES


@pytest.mark.parametrize(("clause", "zh", "en"), TABLE, ids=[row[0] for row in TABLE])
def test_each_clause_reads_as_its_document_numbers_it(clause, zh, en):
    assert article(clause, "zh-hans") == zh
    assert article(clause, "en") == en
    document = DOCUMENTS[clause.split("-")[0]]
    assert clause_words(clause, "zh-hans") == f"{document.name('zh-hans')} {zh}"
    assert clause_words(clause, "en") == f"{document.name_en}, {en}"
    assert not any(c in clause_words(clause, "zh-hans") for c in ("JS79", "KS10", "NA182", "JX57", "XC-"))


def test_js79_13_reads_as_the_issue_shows_it():
    assert clause_words("JS79-13") == "苏肺炎防控办〔2020〕79号 第十三条"
    assert clause_words("JX57-2.3") == "赣新冠指明电〔2020〕57号 第二部分第（三）项"
    assert clause_words("NA182-2.5.1", "en") == (
        "State Council joint prevention mechanism notice [2020] No. 182, part II, item (5), point 1"
    )


def test_several_clauses_are_grouped_by_document_in_the_order_cited():
    assert clauses_text(["JS79-13", "JS79-7", "KS10-3", "JS79-9"]) == (
        "苏肺炎防控办〔2020〕79号 第十三条、第七条、第九条；昆防指〔2020〕10号 第三条"
    )
    assert clauses_text(["JX57-2.3", "XC-3.3"], "en") == (
        "Jiangxi COVID-19 command telegram [2020] No. 57, part II, item (3); "
        "Xuchang epidemic command office notice of 7 May 2020, part III, item (3)"
    )
    assert clauses_text(["XC-3.3"]) == "许昌市疫情防控指挥部办公室2020年5月7日文件 第三部分第（三）项"


def test_an_unknown_id_is_kept_as_cited_not_hidden():
    assert clauses_text(["JS79-13", "LOCAL-1"]) == "苏肺炎防控办〔2020〕79号 第十三条；LOCAL-1"
    with pytest.raises(UnknownClause):
        clause_words("JS79-99")


def test_the_documents_are_those_the_packs_cite_as_their_source():
    """The numbers and titles shown are the packs' own `source`: a pack whose rules carry a
    document's prefix names that document."""
    checked = set()
    for pack in default_library().packs:
        prefixes = {rule.id.split("-")[0] for rule in pack.rules if "-" in rule.id.split("/")[0]}
        for prefix in prefixes & set(DOCUMENTS):
            document = DOCUMENTS[prefix]
            assert pack.source["document"] == document.title, pack.id
            assert pack.source.get("number", "") == document.number, pack.id
            checked.add(prefix)
    assert checked == {"JS79", "KS10", "NA182", "JX57", "XC"}


def test_an_english_page_names_each_document_by_an_english_title():
    """The hover text of a clause is the document's title in the page's language: an English
    page shows no Chinese title (issue 10.17, English complete)."""
    for document in DOCUMENTS.values():
        assert document.title_for("zh-hans") == document.title
        english = document.title_for("en")
        assert english and english.isascii(), document.prefix
    [(_name, title, _articles)] = clauses_words(["NA182-2.5.1"], "en")
    assert title == "Notice on closing gaps and shortfalls in routine COVID-19 prevention and control"
