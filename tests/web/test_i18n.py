"""The zh-hans catalog is complete and compiled, and the UI speaks Chinese by default.

When a test here fails because of a new or changed string: run `scripts/i18n`, translate every
empty msgstr in epigrid/locale/zh_Hans/LC_MESSAGES/django.po (drop any `#, fuzzy` once checked),
run `scripts/i18n` again so the .mo follows, and commit the .po and the .mo."""

import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import polib
import pytest
from django.core.management import call_command
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "epigrid"
SCRIPT = ROOT / "scripts" / "i18n"
LOCALE = "zh_Hans"
MESSAGES = PACKAGE / "locale" / LOCALE / "LC_MESSAGES"
FIX = "run scripts/i18n and translate"

# what `makemessages` scans for each domain, and how a JS file shows that it needs a catalog
SOURCE_EXTENSIONS = {".py", ".html", ".txt", ".js"}
JS_GETTEXT = re.compile(r"\b(?:gettext|ngettext|pgettext|npgettext|gettext_noop|interpolate)\(")

# %(name)s, %s, %5.2f ... (python-format, which blocktranslate's {{ n }} becomes); not %%
PYTHON_FORMAT = re.compile(r"%(?:\(\w+\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa]")
BRACE_FORMAT = re.compile(r"\{\w*(?:![rsa])?(?::[^{}]*)?\}")

# the role names users know (shared/GLOSSARY.md and the brief of the UI's translation)
ROLE_NAMES = {
    "Province command": "省指挥部",
    "City command": "市指挥部",
    "County command": "县(市、区)指挥部",
    "CDC epidemiologist": "疾控流调人员",
    "Grid worker": "网格员",
    "Unit manager": "单位防疫专员",
    "Sampling staff": "采样人员",
    "Lab": "检测实验室",
    "Checkpoint / venue staff": "卡口/场所工作人员",
    "Auditor": "审计员",
    "Administrator": "系统管理员",
}


def _js_uses_gettext(tree: Path) -> bool:
    return any(
        JS_GETTEXT.search(path.read_text(encoding="utf-8", errors="replace"))
        for path in tree.rglob("*.js")
        if "locale" not in path.relative_to(tree).parts
    )


def _domains() -> list[str]:
    return ["django", "djangojs"] if _js_uses_gettext(PACKAGE) else ["django"]


def _ignore_patterns() -> list[str]:
    """The --ignore patterns of scripts/i18n, so the test scans what the script scans."""
    match = re.search(r"^IGNORES=\((.*)\)$", SCRIPT.read_text(), re.MULTILINE)
    assert match, "scripts/i18n has no IGNORES=(...) line"
    patterns = re.findall(r"--ignore=('[^']*'|\"[^\"]*\"|\S+)", match.group(1))
    return [p.strip("'\"") for p in patterns]


def _catalog(domain: str) -> polib.POFile:
    path = MESSAGES / f"{domain}.po"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: {FIX}"
    return polib.pofile(str(path))


def _entries(domain: str) -> list[polib.POEntry]:
    return [e for e in _catalog(domain) if not e.obsolete]


def _placeholders(text: str, brace: bool) -> Counter:
    found = PYTHON_FORMAT.findall(text.replace("%%", ""))
    if brace:
        found += BRACE_FORMAT.findall(text.replace("{{", "").replace("}}", ""))
    return Counter(found)


def _key(entry) -> tuple:
    return (entry.msgctxt or "", entry.msgid, entry.msgid_plural or "")


def _translation(entry):
    if entry.msgid_plural:
        return tuple(sorted((int(k), v) for k, v in entry.msgstr_plural.items()))
    return entry.msgstr


@pytest.mark.parametrize("domain", _domains())
def test_the_catalog_has_one_plural_form(domain):
    assert _catalog(domain).metadata.get("Plural-Forms") == "nplurals=1; plural=0;"


def _is_translated(entry) -> bool:
    if entry.msgid_plural:
        forms = {int(k): v for k, v in entry.msgstr_plural.items()}
        return set(forms) == {0} and bool(forms[0].strip())
    return bool(entry.msgstr.strip())


@pytest.mark.parametrize("domain", _domains())
def test_every_entry_is_translated_and_not_fuzzy(domain):
    entries = _entries(domain)
    assert entries, f"{domain}.po has no entries: {FIX}"
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    untranslated = [e.msgid for e in entries if not _is_translated(e)]
    assert not fuzzy, f"fuzzy entries in {domain}.po (check them, drop the flag): {fuzzy}"
    assert not untranslated, (
        f"entries without a translation (plural entries need exactly msgstr[0]) in {domain}.po: "
        f"{untranslated}; {FIX}"
    )


@pytest.mark.parametrize("domain", _domains())
def test_placeholders_survive_translation(domain):
    wrong = []
    for entry in _entries(domain):
        brace = "python-brace-format" in entry.flags
        if entry.msgid_plural:
            # zh has one form for every count: it carries what either English form carries
            wanted = _placeholders(entry.msgid, brace) | _placeholders(entry.msgid_plural, brace)
            got = [_placeholders(s, brace) for s in entry.msgstr_plural.values()]
        else:
            wanted = _placeholders(entry.msgid, brace)
            got = [_placeholders(entry.msgstr, brace)]
        if any(g != wanted for g in got):
            wrong.append((entry.msgid, dict(wanted), [dict(g) for g in got]))
    assert not wrong, f"placeholders differ between msgid and msgstr in {domain}.po: {wrong}"


@pytest.mark.parametrize("domain", _domains())
def test_msgfmt_accepts_the_catalog(domain, tmp_path):
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is missing (apt-get install gettext)"
    result = subprocess.run(
        [msgfmt, "--check", "-o", str(tmp_path / "out.mo"), str(MESSAGES / f"{domain}.po")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("domain", _domains())
def test_the_committed_mo_is_compiled_from_the_po(domain):
    mo_path = MESSAGES / f"{domain}.mo"
    assert mo_path.is_file(), f"{mo_path.relative_to(ROOT)} is missing: run scripts/i18n"
    po = _catalog(domain)
    mo = polib.mofile(str(mo_path))
    # what msgfmt puts in a .mo: the translated entries that are not fuzzy, and the header
    expected = {
        _key(e): _translation(e) for e in po if not e.obsolete and "fuzzy" not in e.flags and e.translated()
    }
    compiled = {_key(e): _translation(e) for e in mo if e.msgid}
    stale = sorted(k for k in expected.keys() | compiled.keys() if expected.get(k) != compiled.get(k))
    assert not stale, f"{mo_path.name} does not match {domain}.po (run scripts/i18n): {stale[:10]}"
    header = {k: v for k, v in po.metadata.items() if k != "POT-Creation-Date"}  # msgfmt drops it
    assert mo.metadata == header, f"{mo_path.name}'s header is stale: run scripts/i18n"


def _copy_sources(src: Path, dst: Path) -> None:
    def ignore(directory, names):
        here = Path(directory)
        return [
            name
            for name in names
            if name in ("locale", "__pycache__")
            or ((here / name).is_file() and Path(name).suffix not in SOURCE_EXTENSIONS)
        ]

    shutil.copytree(src, dst, ignore=ignore)


@pytest.mark.parametrize("domain", _domains())
def test_every_string_in_the_code_is_in_the_catalog(domain, tmp_path, monkeypatch, settings):
    """Extract the sources with Django's makemessages (GNU xgettext behind it) into a copy,
    exactly as scripts/i18n does, and require every msgid to be in the committed catalog."""
    for tool in ("xgettext", "msgmerge", "msgattrib"):
        assert shutil.which(tool), f"GNU gettext's {tool} is missing (apt-get install gettext)"
    copy = tmp_path / "epigrid"
    _copy_sources(PACKAGE, copy)
    (copy / "locale").mkdir()
    settings.LOCALE_PATHS = [str(copy / "locale")]
    monkeypatch.chdir(copy)
    call_command(
        "makemessages",
        locale=[LOCALE],
        domain=domain,
        no_obsolete=True,
        no_location=True,
        ignore_patterns=_ignore_patterns(),
        verbosity=0,
    )
    extracted = polib.pofile(str(copy / "locale" / LOCALE / "LC_MESSAGES" / f"{domain}.po"))
    in_code = {_key(e) for e in extracted if not e.obsolete}
    assert in_code, "makemessages found no strings at all: is the copy of the sources empty?"
    committed = {_key(e) for e in _entries(domain)}
    missing = sorted(in_code - committed)
    assert not missing, (
        f"{len(missing)} string(s) in the code are not in epigrid/locale/{LOCALE}/LC_MESSAGES/"
        f"{domain}.po: {FIX}.\n" + "\n".join(f"  {m!r}" for m in missing)
    )


def test_the_role_names_are_the_ones_users_know():
    translations = {e.msgid: e.msgstr for e in _entries("django") if not e.msgctxt}
    assert {k: translations.get(k) for k in ROLE_NAMES} == ROLE_NAMES


def _page(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_login_page_is_chinese_by_default_and_english_on_request():
    client = Client()
    page = _page(client, "/accounts/login/")
    assert 'lang="zh-hans"' in page
    assert "登录" in page and "用户名" in page and "密码" in page
    assert "Sign in" not in page

    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302 and response["Location"] == "/accounts/login/"
    page = _page(client, "/accounts/login/")
    assert 'lang="en"' in page
    assert "Sign in" in page and "Username" in page
    assert "登录" not in page

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/accounts/login/"})
    assert "登录" in _page(client, "/accounts/login/")


def test_a_grid_worker_sees_the_chinese_names_of_menus_and_roles(persona, client_for):
    client = client_for(persona("grid_worker"))
    page = _page(client, "/")
    assert "概览" in page and "人员" in page and "网格员" in page and "退出登录" in page
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    page = _page(client, "/")
    assert "Overview" in page and "Grid worker" in page and "Sign out" in page
    assert "网格员" not in page
