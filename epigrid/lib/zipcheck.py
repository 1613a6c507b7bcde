"""What an XLSX archive must show before calamine opens it (used by `lib.tables`).

calamine reads a sheet into one dense block: rows × columns of the box around every cell that
holds a value, 32 bytes each, allocated before the first row comes back. A 5 KB workbook with
one cell in A1 and one in XFD1048576 asks for 550 GB, and the process aborts (a Rust allocation
failure is no exception). A small archive may also unpack to gigabytes, and the sizes it
declares may lie. So every part is inflated here first, in chunks, counting the bytes it really
holds, refusing XML declarations (DTDs, entities) and finding the box of the cells, all before
calamine, or any XML parser, sees a byte.

Finding the box: Excel, WPS, LibreOffice and openpyxl write every cell as `<c r="B7"…`; one
regular-expression pass finds any cell that is not, or lies beyond column Z or the last row
allowed, which bounds the box at rows × 26 (the fast path). A part whose cells all name their
place but reach past column Z has its references read one by one (a wide sheet); any other
(a cell without `r`, a namespace prefix, an attribute before `r`) is read token by token the
way calamine's XML reader splits it and places cells (the exact path). Both stop at the first
cell past the limits, so a bomb is never read to its end.
"""

from __future__ import annotations

import io
import queue
import re
import struct
import threading
import zipfile
import zlib
from dataclasses import dataclass

CHUNK = 1 << 20  # inflated bytes looked at together
FEED = 1 << 16  # compressed bytes handed to zlib at a time
FAST_COLUMNS = 26  # the fast path vouches for cells up to column Z
MAX_TOKEN = 1 << 16  # a tag or comment longer than this is no spreadsheet's
SMALLEST_CELL = len(b'<c r="A1"><v>1</v></c>')
SMALLEST_STRING = len(b"<si><t>a</t></si>")

# a DTD, or anything declaring entities, elements or notations: no spreadsheet part holds one
_DECLARATION = re.compile(rb"<!(?:doctype|entity|element|attlist|notation)", re.IGNORECASE)
# cells and rows written with a namespace prefix (`<x:c r="A1">`): calamine ignores prefixes
_PREFIXED = re.compile(rb"<[A-Za-z_][\w.\-]*:(?:c|row)[\s/>]")
_MAYBE_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")  # a one-byte literal first: a fast scan
_CELL_REF = b'<c r="'
# the exact path: one token from a `<`, split as quick-xml splits them (quotes hold `>`)
_TOKEN = re.compile(
    rb"""<(?:!--.*?-->|!\[CDATA\[.*?\]\]>|\?.*?\?>|!(?:[^>"']|"[^"]*"|'[^']*')*>"""
    rb"""|(/?)(?:[A-Za-z_][\w.\-]*:)?([A-Za-z_][\w.\-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>)""",
    re.DOTALL,
)
# where a token that matters may start: a row or cell tag, `</row>`, a comment, CDATA or
# processing instruction, or any tag with a quote before its first `>`. The tags passed over
# (`<v>`, `</c>`, `<t xml:space=preserve>` without quotes) end at their first `>` and hold
# nothing calamine could take for a cell.
_SIGNIFICANT = re.compile(
    rb"""<(?:(?:[A-Za-z_][\w.\-]*:)?(?:row|c)[\s/>]|/(?:[A-Za-z_][\w.\-]*:)?row[\s>]|[!?]|[^>]*["'])"""
)
_R_ATTR = re.compile(rb"""(?:^|\s)r\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_REF = re.compile(rb"([A-Za-z]*)([0-9]+)")


class ArchiveProblem(Exception):
    """Why the archive is refused: a code and the numbers its message needs (`lib.tables` words
    it in the reader's language)."""

    def __init__(self, code: str, **numbers):
        super().__init__(code)
        self.code = code
        self.numbers = numbers


@dataclass
class Extent:
    """How far the cells of a part reach (1-based row and column) and how many there are."""

    rows: int = 0
    columns: int = 0
    cells: int = 0


def at_most(limit: int) -> bytes:
    """A pattern for a decimal number without leading zeros from 1 to `limit`."""
    digits = str(limit)
    options = [b"[1-9][0-9]{0,%d}" % (len(digits) - 2)] if len(digits) > 1 else []
    for i, digit in enumerate(digits):
        lowest = 1 if i == 0 else 0
        if int(digit) > lowest:
            rest = len(digits) - i - 1
            options.append(
                digits[:i].encode()
                + b"[%d-%d]" % (lowest, int(digit) - 1)
                + (b"[0-9]{%d}" % rest if rest else b"")
            )
    options.append(digits.encode())
    return b"(?:" + b"|".join(options) + b")"


def column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _fast_pattern(max_rows: int, max_columns: int) -> re.Pattern:
    """A cell tag that is not `<c r="` and a reference within column Z (or the last column, if
    nearer) and row `max_rows`. Written as a negative lookahead, which costs half of matching
    the bad forms directly on a file of a million cells."""
    last = chr(64 + min(max_columns, FAST_COLUMNS))
    letter = b"[A-%s%s]" % (last.encode(), b"a-" + last.lower().encode())
    return re.compile(rb'<c(?:[>/\t\r\n]| (?!r="%s%s"))' % (letter, at_most(max_rows)))


# a cell that names its place, and its letters and row
_EXPLICIT = re.compile(rb'<c r="([A-Za-z]+)0*([1-9][0-9]*)"')
# a cell tag that does not start with its place
_ODD_CELL = re.compile(rb'<c(?:[>/\t\r\n]| (?!r="))')


def _data_offset(data: bytes, info: zipfile.ZipInfo) -> int:
    """Where a member's compressed bytes start: the local header gives the lengths of its name
    and extra field, which may differ from the central directory's."""
    offset = info.header_offset
    header = data[offset : offset + 30]
    if len(header) < 30 or header[:4] != b"PK\x03\x04":
        raise ArchiveProblem("damaged")
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    return offset + 30 + name_length + extra_length


def _inflated(data: bytes, info: zipfile.ZipInfo):
    """A member's bytes in chunks of at most CHUNK. Inflating stops as soon as it passes the
    size the member declares (a zip bomb's declared size lies), and a member that ends short of
    it is damaged: what calamine reads afterwards is exactly what was counted here."""
    start = _data_offset(data, info)
    raw = memoryview(data)[start : start + info.compress_size]
    if len(raw) < info.compress_size:
        raise ArchiveProblem("damaged")
    if info.compress_type == zipfile.ZIP_STORED:
        if info.file_size != info.compress_size:
            raise ArchiveProblem("damaged")
        for at in range(0, len(raw), CHUNK):
            yield bytes(raw[at : at + CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    produced = 0
    pending: bytes | memoryview = b""
    position = 0
    try:
        while not inflater.eof:
            if not pending:
                if position >= len(raw):
                    break  # the compressed bytes ended before the stream did
                # fed a slice at a time: unconsumed_tail copies what is left of the input
                pending = raw[position : position + FEED]
                position += FEED
            chunk = inflater.decompress(pending, CHUNK)
            pending = inflater.unconsumed_tail
            produced += len(chunk)
            if produced > info.file_size:
                raise ArchiveProblem("inflates")
            if chunk:
                yield chunk
    except zlib.error:
        raise ArchiveProblem("damaged")
    if not inflater.eof or produced != info.file_size:
        raise ArchiveProblem("damaged")


def _ahead(chunks, depth: int = 4):
    """The chunks of a generator made in a thread, a few ahead of the caller: zlib lets go of
    the interpreter while it inflates, so with a second core free the next chunk is inflated
    while this one is searched."""
    ready: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    done = object()

    def offer(item) -> bool:
        """Hand an item over unless the caller has stopped reading (then never block)."""
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for chunk in chunks:
                if not offer(chunk):
                    return
            offer(done)
        except BaseException as exc:  # handed to the caller, raised there
            offer(exc)

    worker = threading.Thread(target=produce, name="xlsx-inflate", daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is done:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        worker.join()


def _whole_tags(chunks):
    """(buffer, end) pairs whose first `end` bytes stop just before the buffer's last `<`, the
    rest carried to the next buffer: a `<c r="…"` or a declaration is never cut (neither holds a
    second `<`). A carry that grows past MAX_TOKEN without another `<` is passed on whole: what
    starts at its `<` is all in it. Searches take `end` as their end, so nothing is copied."""
    carry = b""
    for chunk in chunks:
        buffer = carry + chunk if carry else chunk
        cut = buffer.rfind(b"<")
        if cut <= 0 and (cut < 0 or len(buffer) > MAX_TOKEN):
            carry = b""
            yield buffer, len(buffer)
            continue
        carry = buffer[cut:]
        if cut:
            yield buffer, cut
    if carry:
        yield carry, len(carry)


def _tokens(chunks):
    """(closing, name, attributes) of every start and end tag, split as quick-xml splits them:
    comments, CDATA and processing instructions are skipped whole, quotes may hold `>` and `<`."""
    carry = b""
    for chunk, end in chunks:
        buffer = carry + chunk[:end] if carry else chunk[:end]
        carry = b""
        position = 0
        while True:
            significant = _SIGNIFICANT.search(buffer, position)
            if significant is None:
                last = buffer.rfind(b"<", position)
                if last >= 0 and buffer.find(b">", last) < 0:
                    carry = buffer[last:]  # a tag cut by the end of the chunk
                break
            at = significant.start()
            token = _TOKEN.match(buffer, at)
            if token is None:
                if len(buffer) - at > MAX_TOKEN:
                    raise ArchiveProblem("damaged")
                carry = buffer[at:]
                break
            position = token.end()
            if token.group(2) is not None:
                yield token.group(1), token.group(2), token.group(3)
    if carry:
        raise ArchiveProblem("damaged")  # a tag never closed


def _ref(value: bytes, with_column: bool) -> tuple[int, int]:
    found = _REF.fullmatch(value)
    if found is None or int(found.group(2)) == 0 or (with_column and not found.group(1)):
        raise ArchiveProblem("damaged")
    return int(found.group(2)), column_number(found.group(1))


def exact_extent(chunks, limits: dict | None = None) -> Extent:
    """Cells as calamine places them: a row's `r` sets the row and `</row>` moves to the next;
    a cell's `r` sets its place, a cell without one follows the cell before it. An empty
    element (`<row r="5"/>`, `<c r="E1"/>`) is a start and an end, as calamine's reader expands
    it: it moves the place of what follows, and an empty cell holds no value. With `limits`,
    stops at the first cell past them (a bomb is not read to its end)."""
    extent = Extent()
    too_far = _too_far(limits)
    row, column = 1, 1  # where the next cell without a reference goes
    for closing, name, attributes in _tokens(chunks):
        empty = attributes.endswith(b"/")
        if name == b"row":
            if not closing:
                found = _R_ATTR.search(attributes)
                if found:
                    row = _ref(found.group(1) or found.group(2) or b"", False)[0]
            if closing or empty:
                row, column = row + 1, 1
            continue
        if name != b"c" or closing:
            continue
        found = _R_ATTR.search(attributes)
        if found:
            cell_row, column = _ref(found.group(1) or found.group(2) or b"", True)
        else:
            cell_row = row
        if not empty:
            extent.cells += 1
            extent.rows = max(extent.rows, cell_row)
            extent.columns = max(extent.columns, column)
            if too_far(extent):
                return extent
        column += 1
    return extent


def _too_far(limits: dict | None):
    if limits is None:
        return lambda extent: False
    rows, columns, cells = limits["max_rows"], limits["max_columns"], limits["max_cells"]
    return lambda e: e.rows > rows or e.columns > columns or e.cells > cells or e.rows * e.columns > cells


def _declarations_refused(chunks):
    for chunk, end in _whole_tags(chunks):
        # a one-byte search first (memchr): most parts hold no `!` at all
        if chunk.find(b"!", 0, end) >= 0 and _DECLARATION.search(chunk, 0, end):
            raise ArchiveProblem("declaration")
        yield chunk, end


def _extent(data: bytes, member: zipfile.ZipInfo, fast: re.Pattern | None, limits: dict) -> Extent:
    """How far the cells of a part reach: the fast path, else the references read one by one
    (every cell names its place, some beyond column Z), else token by token."""
    max_rows, max_cells = limits["max_rows"], limits["max_cells"]
    path = "fast" if fast is not None else "references"
    if fast is not None:
        # a cell with a value is at least `<c r="A1"><v>1</v></c>`: a part too small to hold
        # more than max_cells of them need not be counted
        counting = member.file_size > SMALLEST_CELL * max_cells
        cells = 0
        for chunk, end in _declarations_refused(_ahead(_inflated(data, member))):
            found = fast.search(chunk, 0, end)
            if found is not None:
                ref = _EXPLICIT.match(chunk, found.start())
                if ref is None:
                    path = "tokens"
                    break
                if int(ref.group(2)) > max_rows:
                    raise ArchiveProblem("rows", row=int(ref.group(2)), limit=max_rows)
                path = "references"
                break
            if _MAYBE_PREFIXED.search(chunk, 0, end) and _PREFIXED.search(chunk, 0, end):
                path = "tokens"
                break
            if counting:
                cells += chunk.count(_CELL_REF, 0, end)
        else:
            # every cell names its place, within column Z and row max_rows
            return Extent(rows=max_rows, columns=min(FAST_COLUMNS, limits["max_columns"]), cells=cells)
    if path == "references":
        extent = _referenced_extent(_declarations_refused(_ahead(_inflated(data, member))), limits)
        if extent is not None:
            return extent
    return exact_extent(_declarations_refused(_inflated(data, member)), limits)


def _referenced_extent(chunks, limits: dict) -> Extent | None:
    """The box when every cell is `<c r="…"` (a wide sheet as Excel writes it), from the
    references alone; None if some cell is not, for the exact path to place it."""
    extent = Extent()
    too_far = _too_far(limits)
    for chunk, end in chunks:
        if too_far(extent):
            return extent
        if _ODD_CELL.search(chunk, 0, end) or (
            _MAYBE_PREFIXED.search(chunk, 0, end) and _PREFIXED.search(chunk, 0, end)
        ):
            return None
        refs = _EXPLICIT.findall(chunk, 0, end)
        if not refs:
            continue
        letters, numbers = zip(*refs, strict=True)
        extent.cells += len(refs)
        extent.rows = max(extent.rows, max(map(int, set(numbers))))
        extent.columns = max(extent.columns, max(map(column_number, set(letters))))
    return extent


def check_archive(
    data: bytes, *, max_unpacked: int, max_parts: int, max_rows: int, max_columns: int, max_cells: int
) -> None:
    """Raise ArchiveProblem unless the XLSX archive is safe to hand to calamine: one archive
    (nothing before or after it), at most `max_parts` parts, unpacking to at most
    `max_unpacked` bytes as declared and as inflated, no XML declarations, and in every part
    cells within `max_rows` × `max_columns`, at most `max_cells` of them and of their box."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error, NotImplementedError):
        raise ArchiveProblem("damaged")
    # another zip reader could find other members in bytes before or after this archive
    if not members or min(m.header_offset for m in members) != 0 or data[-22:-18] != b"PK\x05\x06":
        raise ArchiveProblem("damaged")
    if len(members) > max_parts:
        raise ArchiveProblem("parts", parts=len(members), limit=max_parts)
    names = {m.filename for m in members}
    if "xl/workbook.xml" not in names:
        if "xl/workbook.bin" in names:
            raise ArchiveProblem("xlsb")
        if "content.xml" in names or "mimetype" in names:
            raise ArchiveProblem("ods")
        raise ArchiveProblem("not_a_workbook")
    if sum(m.file_size for m in members) > max_unpacked:
        raise ArchiveProblem("unpacked", limit=max_unpacked)
    limits = {"max_rows": max_rows, "max_columns": max_columns, "max_cells": max_cells}
    # the fast path bounds a box at max_rows × 26, which must fit max_cells
    fast = _fast_pattern(max_rows, max_columns) if max_rows * FAST_COLUMNS <= max_cells else None
    for member in members:
        if member.flag_bits & 0x1:
            raise ArchiveProblem("encrypted")
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveProblem("damaged")
        if member.is_dir():
            continue
        extent = _extent(data, member, fast, limits)
        if member.filename.endswith("sharedStrings.xml") and member.file_size > SMALLEST_STRING * max_cells:
            # calamine holds every shared string; no sheet needs more of them than cells
            strings = sum(chunk.count(b"<si", 0, end) for chunk, end in _whole_tags(_inflated(data, member)))
            if strings > max_cells:
                raise ArchiveProblem("cells", limit=max_cells)
        if extent.rows > max_rows:
            raise ArchiveProblem("rows", row=extent.rows, limit=max_rows)
        if extent.columns > max_columns:
            raise ArchiveProblem("columns", column=extent.columns, limit=max_columns)
        if extent.cells > max_cells or extent.rows * extent.columns > max_cells:
            raise ArchiveProblem("cells", limit=max_cells)
