"""Files an attacker (or an unlucky user) uploads, built in memory: the same set goes through
`lib.tables` in tests/lib/test_tables.py and to every upload route in
tests/uploads/test_hostile_uploads.py. Each is (file name, bytes); the bombs are built once."""

import functools
import io
import random
import struct
import zipfile
import zlib

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def _parts(sheet: bytes, shared: bytes | None = None) -> dict[str, bytes]:
    parts = {
        "[Content_Types].xml": (
            b'<?xml version="1.0" encoding="UTF-8"?>'
            b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            b'<Default Extension="xml" ContentType="application/xml"/>'
            b'<Default Extension="rels" '
            b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            b'<Override PartName="/xl/workbook.xml" ContentType="application/'
            b'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/officeDocument" '
            'Target="xl/workbook.xml"/></Relationships>'
        ).encode(),
        "xl/workbook.xml": (
            f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
            '<sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ).encode(),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" Type="{REL}/worksheet" '
            'Target="worksheets/sheet1.xml"/>'
            + (
                f'<Relationship Id="rId2" Type="{REL}/sharedStrings" Target="sharedStrings.xml"/>'
                if shared
                else ""
            )
            + "</Relationships>"
        ).encode(),
        "xl/worksheets/sheet1.xml": sheet,
    }
    if shared is not None:
        parts["xl/sharedStrings.xml"] = shared
    return parts


def workbook(sheet: bytes, shared: bytes | None = None, extra: dict | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in {**_parts(sheet, shared), **(extra or {})}.items():
            archive.writestr(name, content)
    return out.getvalue()


def sheet_xml(rows: str, prolog: str = "") -> bytes:
    return f'{prolog}<worksheet xmlns="{MAIN}"><sheetData>{rows}</sheetData></worksheet>'.encode()


def inline(ref: str, text: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def sparse_bomb() -> bytes:
    """Two cells, A1 and XFD1048576: calamine would ask for 550 GB and abort the process."""
    return workbook(
        sheet_xml(
            f'<row r="1">{inline("A1", "姓名")}</row><row r="1048576">{inline("XFD1048576", "x")}</row>'
        )
    )


def wide_bomb() -> bytes:
    """A header in A1 and one value in column XFD: 16,384 columns."""
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "姓名")}{inline("XFD1", "x")}</row>'))


def long_sheet(rows: int = 400_001) -> bytes:
    """A header and a value on row 400,001: more rows than any upload takes."""
    return workbook(
        sheet_xml(f'<row r="1">{inline("A1", "姓名")}</row><row r="{rows}">{inline(f"A{rows}", "x")}</row>')
    )


def implied_bomb() -> bytes:
    """The far cell is placed by calamine from the empty cell before it (no `r` of its own)."""
    return workbook(
        sheet_xml(
            f'<row r="1">{inline("A1", "姓名")}<c r="XFC1"/><c t="inlineStr"><is><t>x</t></is></c></row>'
        )
    )


def quoted_bomb() -> bytes:
    """A `>` inside a quoted attribute hides the far reference from a naive scanner."""
    cell = '<c s=">" r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>'
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "姓名")}{cell}</row>'))


def prefixed_bomb() -> bytes:
    """Cells written with a namespace prefix are cells to calamine too."""
    sheet = (
        f'<x:worksheet xmlns:x="{MAIN}"><x:sheetData><x:row r="1">'
        '<x:c r="A1" t="inlineStr"><x:is><x:t>姓名</x:t></x:is></x:c>'
        '<x:c r="XFD1048576" t="inlineStr"><x:is><x:t>x</x:t></x:is></x:c>'
        "</x:row></x:sheetData></x:worksheet>"
    ).encode()
    return workbook(sheet)


def zip_bomb(unpacked: int = 300 * 1024 * 1024) -> bytes:
    """A sheet of `unpacked` bytes of rows in about a thousandth of that, its sizes honest: each
    row without a reference, so a reader that trusts it makes millions of rows."""
    return _zip_bomb(unpacked)


@functools.cache
def _zip_bomb(unpacked: int) -> bytes:
    block = ('<row><c t="inlineStr"><is><t>张三</t></is></c></row>' * 4000).encode()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in _parts(b"").items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, content)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{MAIN}"><sheetData>'.encode())
            sheet.write(f'<row r="1">{inline("A1", "姓名")}</row>'.encode())
            for _ in range(unpacked // len(block) + 1):
                sheet.write(block)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@functools.cache
def lying_bomb() -> bytes:
    """A sheet that declares 2 KB and inflates to 64 MB (the header patched after writing)."""
    block = (f'<row r="1">{inline("A1", "x" * 50)}</row>' * 1000).encode()
    body = f'<worksheet xmlns="{MAIN}"><sheetData>'.encode() + block * 800 + b"</sheetData></worksheet>"
    data = bytearray(workbook(body))
    info = zipfile.ZipFile(io.BytesIO(bytes(data))).getinfo("xl/worksheets/sheet1.xml")
    lie = 2048
    struct.pack_into("<I", data, info.header_offset + 22, lie)  # the local header's size
    at = data.find(b"PK\x01\x02")
    while at >= 0:  # and the central directory's
        name_length = struct.unpack_from("<H", data, at + 28)[0]
        if bytes(data[at + 46 : at + 46 + name_length]) == b"xl/worksheets/sheet1.xml":
            struct.pack_into("<I", data, at + 24, lie)
        at = data.find(b"PK\x01\x02", at + 46)
    return bytes(data)


def xxe() -> bytes:
    """An external entity in a sheet (XXE): reading it would put /etc/passwd in a cell."""
    prolog = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    return workbook(
        sheet_xml(f'<row r="1">{inline("A1", "姓名")}</row><row r="2">{inline("A2", "&xxe;")}</row>', prolog)
    )


def billion_laughs() -> bytes:
    """Nested entities in the shared strings: a few hundred bytes that expand to gigabytes."""
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol%s;" % (i - 1 if i > 1 else "")) * 10}">' for i in range(1, 10)
    )
    shared = (
        f'<?xml version="1.0"?><!DOCTYPE lolz [{entities}]><sst xmlns="{MAIN}"><si><t>&lol9;</t></si></sst>'
    ).encode()
    return workbook(sheet_xml('<row r="1"><c r="A1" t="s"><v>0</v></c></row>'), shared)


def late_doctype() -> bytes:
    """A DTD after a long comment, past where a check of the first bytes stops looking."""
    prolog = '<?xml version="1.0"?><!--' + " " * 10_000 + '--><!DOCTYPE worksheet [<!ENTITY a "b">]>'
    return workbook(sheet_xml(f'<row r="1">{inline("A1", "&a;")}</row>', prolog))


def broken_zip() -> bytes:
    return b"PK\x03\x04" + bytes(random.Random(3).getrandbits(8) for _ in range(2000))


def truncated_workbook() -> bytes:
    good = workbook(sheet_xml(f'<row r="1">{inline("A1", "姓名")}</row>'))
    return good[: len(good) // 2]


def ods() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def garbage(size: int = 4096) -> bytes:
    rng = random.Random(5)
    return bytes(rng.getrandbits(8) for _ in range(size))


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    + zlib.compress(b"\x00\x00\x00\x00\x00")
)


def hostile_files(header: str = "姓名") -> dict[str, tuple[str, bytes]]:
    """Every hostile file by case name: (file name, content). `header` is the first column
    written into the CSV ones, so a route that reads them gets as far as its header check."""
    return {
        "zip_bomb": ("list.xlsx", zip_bomb()),
        "lying_zip_bomb": ("list.xlsx", lying_bomb()),
        "sparse_cells": ("list.xlsx", sparse_bomb()),
        "huge_column": ("list.xlsx", wide_bomb()),
        "huge_row": ("list.xlsx", long_sheet()),
        "implied_far_cell": ("list.xlsx", implied_bomb()),
        "quoted_far_cell": ("list.xlsx", quoted_bomb()),
        "prefixed_far_cell": ("list.xlsx", prefixed_bomb()),
        "xxe": ("list.xlsx", xxe()),
        "billion_laughs": ("list.xlsx", billion_laughs()),
        "late_doctype": ("list.xlsx", late_doctype()),
        "broken_zip": ("list.xlsx", broken_zip()),
        "truncated_zip": ("list.xlsx", truncated_workbook()),
        "ods_as_xlsx": ("list.xlsx", ods()),
        "old_xls": ("list.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + garbage(512)),
        "png_as_xlsx": ("list.xlsx", PNG),
        "pdf_as_csv": ("list.csv", b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\n"),
        "wrong_extension": ("list.exe", b"MZ\x90\x00" + garbage(256)),
        "binary_garbage": ("list.csv", garbage()),
        "nul_in_csv": ("list.csv", f"{header},b\nx\x00y,z\n".encode()),
        "empty": ("list.csv", b""),
        "csv_too_many_rows": ("list.csv", (f"{header}\n" + "x\n" * 300_001).encode()),
        "csv_too_many_columns": ("list.csv", (",".join([header] + ["c"] * 300) + "\n").encode()),
        "csv_endless_line": ("list.csv", (header + "," * 1_100_000 + "\n").encode()),
        "csv_unclosed_quote": ("list.csv", f'{header},b\n"x,y\n'.encode() + b"z" * 200_000),
    }
