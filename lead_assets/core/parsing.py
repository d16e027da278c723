"""Reading dropped lead files: CSV (any common delimiter, quoting, BOM, UTF-8/UTF-16/cp1252),
JSON arrays, JSON Lines, and gzip of any of them.

Every data row comes back with its physical line number (CSV) or record index (JSON), verbatim
values, and a parse error when the row itself is malformed. Malformed rows are kept, never dropped;
a file that cannot be used at all raises :class:`FileRejected` with a reason code and a sentence.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
import json
import re
import zlib
from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from lead_assets.core.headers import has_usable_columns, map_headers

#: What one host can really take: CSV and JSON Lines stream (memory does not grow with the file),
#: but a JSON array is one document read whole (about 10x its size at peak), so 300 MB keeps even
#: that within a few GiB.
DEFAULT_MAX_BYTES = 300_000_000
#: A gzip that inflates more than this many times its size is a bomb, not a lead export
#: (real exports compress 5-20x); checked while inflating, before memory is spent.
MAX_GZIP_RATIO = 100
#: Below this inflated size the ratio is not checked (tiny repetitive files compress very well).
_RATIO_FLOOR = 16 * 1024 * 1024
_DELIMITERS = ",;\t|"
csv.field_size_limit(16 * 1024 * 1024)


class FileRejected(Exception):
    """The whole file is unusable; ``reason_code`` is stable, ``message`` is for people."""

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(f"{reason_code}: {message}")
        self.reason_code = reason_code
        self.message = message


@dataclass
class ParsedRow:
    """One data row: where it was, what it said, and what was wrong with it (if anything)."""

    line_no: int
    values: dict[str, object]
    parse_error: str | None = None


@dataclass
class ParsedFile:
    """A parsed file: its rows, headers and how it was read."""

    rows: list[ParsedRow]
    headers: list[str]
    format: str  # csv | json | jsonl
    encoding: str
    delimiter: str | None = None
    compressed: bool = False
    mapping: dict[str, str] = field(default_factory=dict)


def file_fingerprint(path: Path) -> str:
    """sha256 of the file's bytes, streamed."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class _BoundedInflater(io.RawIOBase):
    """A gzip member inflated as it is read, refused as soon as it passes ``max_bytes`` inflated
    or :data:`MAX_GZIP_RATIO` times its own size (a small bomb never fills memory)."""

    def __init__(self, raw: BinaryIO, compressed_size: int, max_bytes: int) -> None:
        self._raw = raw
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._compressed_size = max(compressed_size, 1)
        self._max_bytes = max_bytes
        self._size = 0
        self._buffer = b""
        self._pending = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            if self._inflater.eof:
                return 0
            if not self._pending:
                self._pending = self._raw.read(1 << 20)
                if not self._pending:
                    raise FileRejected("corrupt_gzip", "the gzip data is truncated or damaged")
            try:
                chunk = self._inflater.decompress(self._pending, 1 << 20)
            except zlib.error as exc:
                raise FileRejected("corrupt_gzip", f"the gzip data is damaged ({exc})") from None
            self._pending = self._inflater.unconsumed_tail
            self._size += len(chunk)
            if self._size > self._max_bytes:
                raise FileRejected(
                    "file_too_large",
                    f"the file inflates to more than {self._max_bytes:,} bytes "
                    "(LEAD_ASSETS_MAX_FILE_BYTES)",
                )
            if self._size > _RATIO_FLOOR and self._size > MAX_GZIP_RATIO * self._compressed_size:
                raise FileRejected(
                    "gzip_bomb",
                    f"the {self._compressed_size:,}-byte gzip inflates more than "
                    f"{MAX_GZIP_RATIO} times its size; it is not a lead export",
                )
            self._buffer = chunk
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


@contextmanager
def _open_bytes(path: Path, max_bytes: int) -> Iterator[tuple[BinaryIO, bool]]:
    """The file's bytes as a stream (a gzip inflated on the fly, with its caps), and whether it
    was compressed."""
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRejected(
            "file_too_large", f"the file is {size:,} bytes, above the limit of {max_bytes:,}"
        )
    with path.open("rb") as raw:
        if raw.read(2) == b"\x1f\x8b":
            raw.seek(0)
            yield io.BufferedReader(_BoundedInflater(raw, size, max_bytes), 1 << 20), True
        else:
            raw.seek(0)
            yield raw, False


_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive or an Excel .xlsx workbook; export it as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls or Office file; export it as CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


def _encoding_of_head(sample: bytes) -> str | None:
    """The encoding the first bytes prove (a BOM, UTF-16 without one), None when only reading the
    whole file can tell; raises for binary files."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    for magic, what in _BINARY_MAGIC.items():
        if sample.startswith(magic):
            raise FileRejected("binary", f"this is not a text file: it looks like {what}")
    # UTF-16 without a BOM: every other byte NUL in ASCII text.
    if sample and sample.count(b"\x00") > len(sample) // 4:
        odd_nuls = sample[1::2].count(b"\x00")
        even_nuls = sample[0::2].count(b"\x00")
        if odd_nuls > len(sample) // 3 or even_nuls > len(sample) // 3:
            return "utf-16-le" if odd_nuls > even_nuls else "utf-16-be"
        raise FileRejected("binary", "this is not a text file (it contains NUL bytes)")
    if b"\x00" in sample:
        raise FileRejected("binary", "this is not a text file (it contains NUL bytes)")
    return None


def _decodes_as(path: Path, max_bytes: int, encoding: str) -> bool:
    """Whether the whole (inflated) file decodes as ``encoding``, read in chunks."""
    decoder = codecs.getincrementaldecoder(encoding)()
    with _open_bytes(path, max_bytes) as (stream, _):
        try:
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def detect_encoding(path: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> str:
    """The file's text encoding, read in chunks (memory does not grow with the file): a BOM or
    UTF-16 from the first bytes, else UTF-8 when the whole file is valid UTF-8, else the best
    guess of charset-normalizer from the first 64 KB, then cp1252 and latin-1 (which always
    decodes). Raises :class:`FileRejected` for empty and binary files."""
    with _open_bytes(path, max_bytes) as (stream, _):
        sample = stream.read(65536)
        blank = not sample.strip()
        while blank:  # whitespace to the end is an empty file, whatever its size
            more = stream.read(1 << 20)
            if not more:
                break
            blank = not more.strip()
    if blank:
        raise FileRejected("empty", "the file is empty")
    known = _encoding_of_head(sample)
    if known == "utf-16" and not _decodes_as(path, max_bytes, known):
        raise FileRejected(
            "undecodable", "the file starts with a UTF-16 mark but is not valid UTF-16"
        )
    if known in ("utf-16-le", "utf-16-be") and not _decodes_as(path, max_bytes, known):
        raise FileRejected("binary", "this is not a text file (it contains NUL bytes)")
    if known:
        return known
    if _decodes_as(path, max_bytes, "utf-8"):
        return "utf-8"
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    guess = (best.encoding if best else None) or "cp1252"
    for encoding in dict.fromkeys((guess, "cp1252")):
        try:
            if _decodes_as(path, max_bytes, encoding):
                return encoding
        except LookupError:
            continue
    return "latin-1"


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return bad / len(sample)


@dataclass
class RowStream:
    """A file being read: how it was read, and its rows as they are parsed (one pass, so memory
    does not grow with the file). For JSON Lines ``headers`` grows as records are read, and the
    usable-columns check runs when the rows are exhausted."""

    rows: Iterator[ParsedRow]
    format: str  # csv | json | jsonl
    headers: list[str]
    encoding: str = "utf-8"
    delimiter: str | None = None
    compressed: bool = False


def _unusable(headers: list[str]) -> FileRejected | None:
    if has_usable_columns(map_headers(headers).values()):
        return None
    return FileRejected(
        "no_usable_columns",
        "no recognisable email column, and no name + company columns, so no lead can be "
        f"identified ({_describe_headers(headers)})",
    )


#: How much of a file's start is read to tell its format and delimiter.
_HEAD_CHARS = 65536
_HEAD_LINES = 50


def _row_stream(lines: Iterator[str]) -> RowStream:
    """Rows of decoded text given line by line (line endings kept); the format is told from the
    first character, the delimiter from the first lines."""
    head: list[str] = []
    size = nonblank = 0
    for line in lines:
        head.append(line)
        size += len(line)
        nonblank += bool(line.strip())
        if (size >= _HEAD_CHARS and nonblank >= 2) or nonblank >= _HEAD_LINES:
            break
    head_text = "".join(head)
    if not head_text.strip():
        raise FileRejected("empty", "the file is empty")
    if _control_ratio(head_text) > 0.05:
        raise FileRejected("binary", "this is not a text file (it is full of control characters)")
    rest = itertools.chain(head, lines)
    first = head_text.lstrip()[:1]
    if first == "[":
        # A JSON array is one document: read whole (bounded by the size limit; see README).
        return _document_stream(_parse_json_array("".join(rest)))
    if first == "{":
        return _json_object_stream(head, rest)
    return _csv_stream(head_text, rest)


def _document_stream(parsed: ParsedFile) -> RowStream:
    problem = _unusable(parsed.headers)
    if problem:
        raise problem
    return RowStream(iter(parsed.rows), parsed.format, parsed.headers)


@contextmanager
def open_rows(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> Iterator[RowStream]:
    """Open a lead file of any supported format for one streamed pass over its rows.

    Raises :class:`FileRejected` (on opening, or while the rows are read) when the file is
    unusable. CSV and JSON Lines are read line by line; a JSON array or envelope is one document
    and is read whole."""
    path = Path(path)
    encoding = detect_encoding(path, max_bytes)
    with _open_bytes(path, max_bytes) as (raw, compressed):
        text = io.TextIOWrapper(
            raw,
            encoding=encoding,
            errors="replace" if encoding == "utf-8-sig" else "strict",
            newline="",
        )
        stream = _row_stream(iter(text))
        stream.encoding, stream.compressed = encoding, compressed
        yield stream


def _collect(stream: RowStream) -> ParsedFile:
    rows = list(stream.rows)
    return ParsedFile(
        rows,
        stream.headers,
        stream.format,
        stream.encoding,
        delimiter=stream.delimiter,
        compressed=stream.compressed,
        mapping=map_headers(stream.headers),
    )


def parse_text(text: str, *, encoding: str = "utf-8", compressed: bool = False) -> ParsedFile:
    """Parse already-decoded text (format detected from its first character)."""
    if not text.strip():
        raise FileRejected("empty", "the file is empty")
    stream = _row_stream(iter(io.StringIO(text, newline="")))
    stream.encoding, stream.compressed = encoding, compressed
    return _collect(stream)


def _describe_headers(headers: list[str]) -> str:
    """What the reason may say about the columns without echoing a lead's data: when the first
    line holds emails, phones or numbers it is a data row (no header row), and is not shown."""
    from lead_assets.core.pii import mask_text

    if not headers:
        return "no columns found"
    looks_like_data = any(
        "@" in h or mask_text(h) != h or any(ch.isdigit() for ch in h) for h in headers
    )
    if looks_like_data:
        return (
            f"{len(headers)} columns; the first line looks like a data row, so the file seems "
            "to have no header row: add one (e.g. email,first_name,last_name,company)"
        )
    shown = ", ".join(repr(h[:40]) for h in headers[:12])
    return f"columns found: {shown}"


def parse_file(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES) -> ParsedFile:
    """Parse a lead file of any supported format into memory; raise :class:`FileRejected` if
    unusable. Large files are better read with :func:`open_rows`."""
    with open_rows(path, max_bytes=max_bytes) as stream:
        return _collect(stream)


def flatten_record(record: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested JSON objects as dotted keys (Apollo's ``organization``, Generect's ``company``,
    Leedrush's ``contact``): ``{"organization": {"name": x}}`` -> ``{"organization.name": x}``,
    the spelling the header aliases know."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten_record(value, name + "."))
        else:
            out[name] = value
    return out


def record_headers(records: list[dict]) -> list[str]:
    """Keys of JSON records, nested objects as dotted keys (``organization.name``)."""
    seen: dict[str, None] = {}

    def walk(record: dict, prefix: str) -> None:
        for key, value in record.items():
            if isinstance(value, dict):
                walk(value, f"{prefix}{key}.")
            else:
                seen.setdefault(f"{prefix}{key}", None)

    for record in records:
        walk(record, "")
    return list(seen)


def _parse_json_array(text: str) -> ParsedFile:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileRejected(
            "malformed_json",
            f"the JSON is invalid at line {exc.lineno}, column {exc.colno}: {exc.msg}",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise _json_unusable(exc) from None
    return _records_to_rows(data, "json")


def _json_unusable(exc: BaseException) -> FileRejected:
    """A sentence for JSON the decoder refuses beyond syntax (depth, giant numbers)."""
    if isinstance(exc, RecursionError):
        return FileRejected("too_deeply_nested", "the JSON is nested too deeply to be lead records")
    return FileRejected(
        "malformed_json", "the JSON holds a number too long to read (thousands of digits)"
    )


def _records_to_rows(data: list, fmt: str) -> ParsedFile:
    rows: list[ParsedRow] = []
    for index, item in enumerate(data, start=1):
        if isinstance(item, dict):
            rows.append(ParsedRow(index, {str(k): v for k, v in item.items()}))
        else:
            rows.append(ParsedRow(index, {"_value": item}, f"record {index} is not an object"))
    return ParsedFile(
        rows, record_headers([r.values for r in rows if r.parse_error is None]), fmt, "utf-8"
    )


def _parse_json_object_or_lines(text: str) -> ParsedFile:
    try:
        whole = json.loads(text)
    except (ValueError, RecursionError):
        # Not one document (JSON Lines), or one poison value: the lines are read one by one.
        whole = None
    if isinstance(whole, dict):
        # An envelope such as {"data": [...]} or {"leads": [...]}, or one lead object.
        for key in ("data", "leads", "items", "records", "results", "contacts", "people"):
            inner = whole.get(key)
            if isinstance(inner, dict):
                inner = inner.get("leads") or inner.get("items")
            if isinstance(inner, list):
                return _records_to_rows(inner, "json")
        return _records_to_rows([whole], "json")
    rows = list(_jsonl_rows(io.StringIO(text, newline="")))
    return ParsedFile(
        rows, record_headers([r.values for r in rows if r.parse_error is None]), "jsonl", "utf-8"
    )


def _jsonl_rows(lines: Iterable[str]) -> Iterator[ParsedRow]:
    """One row per non-blank line; a line that is not a JSON object is a malformed row."""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        line = line.rstrip("\r\n")
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ParsedRow(line_no, {"_raw": line}, f"line {line_no} is not valid JSON: {exc.msg}")
            continue
        except (ValueError, RecursionError) as exc:  # one poison line, not the whole file
            yield ParsedRow(
                line_no, {"_raw": line[:1000]}, f"line {line_no}: {_json_unusable(exc).message}"
            )
            continue
        if isinstance(value, dict):
            yield ParsedRow(line_no, {str(k): v for k, v in value.items()})
        else:
            yield ParsedRow(line_no, {"_value": value}, f"line {line_no} is not a JSON object")


def _json_object_stream(head: list[str], lines: Iterator[str]) -> RowStream:
    """JSON Lines when the first line is an object of its own and more lines follow (streamed);
    otherwise one document (an envelope, one pretty-printed object), read whole."""
    nonblank = [line for line in head if line.strip()]
    try:
        first = json.loads(nonblank[0])
    except (ValueError, RecursionError):
        first = None
    if not (isinstance(first, dict) and len(nonblank) > 1):
        return _document_stream(_parse_json_object_or_lines("".join(lines)))
    headers: list[str] = []
    seen: set[str] = set()

    def rows() -> Iterator[ParsedRow]:
        for row in _jsonl_rows(lines):
            if row.parse_error is None:
                for key in record_headers([row.values]):
                    if key not in seen:
                        seen.add(key)
                        headers.append(key)
            yield row
        problem = _unusable(headers)
        if problem:
            raise problem

    return RowStream(rows(), "jsonl", headers)


def sniff_delimiter(text: str) -> str:
    """The most plausible delimiter among , ; tab | from the first lines."""
    lines = [line for line in text[:65536].splitlines()[:50] if line.strip()]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines[:20]), delimiters=_DELIMITERS).delimiter
    except csv.Error:
        pass

    # Fallback: the delimiter that appears most, and the same number of times, on most lines.
    def score(d: str) -> tuple[int, int]:
        counts = [line.count(d) for line in lines]
        return (sum(1 for c in counts if c == counts[0] and c > 0), counts[0])

    return max(_DELIMITERS, key=score)


_EXCEL_SEP = re.compile(r'^"?sep=(.)"?\r?\n', re.IGNORECASE)


def _csv_stream(head_text: str, lines: Iterator[str]) -> RowStream:
    """CSV rows, streamed: the header row is read (and checked) now, the data rows on demand."""
    # Excel writes "sep=;" as the first line of CSVs meant for other locales: obey it, skip it.
    declared = _EXCEL_SEP.match(head_text)
    skipped_lines = 0
    if declared:
        delimiter = declared.group(1)
        next(lines)
        skipped_lines = 1
    else:
        delimiter = sniff_delimiter(head_text)
    width = [0]  # the header's field count once known; read by the record reader
    records = _csv_records(lines, delimiter, width)
    headers: list[str] | None = None
    for _, fields, _broken in records:
        if not fields or all(not f.strip() for f in fields):
            continue
        headers = _unique_headers(fields)
        width[0] = len(headers)
        break
    if headers is None:
        raise FileRejected("empty", "the file has no header row")
    problem = _unusable(headers)
    if problem:
        raise problem
    columns = headers

    def rows() -> Iterator[ParsedRow]:
        for index, fields, broken in records:
            start = index + 1 + skipped_lines
            if broken:
                yield ParsedRow(
                    start,
                    {"_raw": fields[0]},
                    f"line {start}: a quote opened on this line is never closed",
                )
                continue
            if not any(f.strip() for f in fields) and len(fields) <= 1:
                continue  # a blank line is not a row
            # A trailing delimiter on every data line adds empty fields: harmless.
            while len(fields) > len(columns) and not fields[-1].strip():
                fields = fields[:-1]
            values: dict[str, object] = dict(zip(columns, fields, strict=False))
            error = None
            if len(fields) != len(columns):
                error = f"line {start}: expected {len(columns)} fields, found {len(fields)}"
                if len(fields) > len(columns):
                    values["_extra"] = fields[len(columns) :]
            yield ParsedRow(start, values, error)

    return RowStream(rows(), "csv", headers, delimiter=delimiter)


def _swallowed_rows(fields: list[str], delimiter: str, width: int) -> bool:
    """True when a multi-line field holds whole lines that look like records of their own: the
    sign of a quote that was opened and never closed, not of a legitimate multi-line note."""
    for value in fields:
        if "\n" in value or "\r" in value:
            for line in value.splitlines()[1:]:
                if width > 1 and line.count(delimiter) >= width - 1:
                    return True
    return False


#: A record spanning more lines than this is a quote that never closed, not a note: it is cut
#: there, so a broken quote near the top of a large file cannot pull the rest into memory.
MAX_RECORD_LINES = 2000


def _csv_records(
    lines: Iterator[str], delimiter: str, header_width: list[int]
) -> Iterator[tuple[int, list[str], bool]]:
    """``(first physical line index, fields, broken)`` per record, streamed.

    A record that spans several lines because a quote never closes would swallow every line
    after it. Such a record (several lines, and either the wrong number of fields or lines inside
    it that look like records, or more than :data:`MAX_RECORD_LINES` lines) is reported
    ``broken`` with the text of its first line only, and reading starts again on the next line,
    so only the broken line is lost. The lines of the current record are the only ones held.
    """
    numbered = enumerate(lines)
    pushed: deque[tuple[int, str]] = deque()  # lines given back after a broken record
    while True:
        consumed: list[tuple[int, str]] = []
        capped = [False]

        def feed(consumed: list[tuple[int, str]] = consumed, capped: list[bool] = capped):
            while True:
                if len(consumed) >= MAX_RECORD_LINES:
                    capped[0] = True
                    return
                if pushed:
                    item = pushed.popleft()
                else:
                    item = next(numbered, None)
                    if item is None:
                        return
                consumed.append(item)
                yield item[1]

        reader = csv.reader(
            feed(), delimiter=delimiter, quotechar='"', doublequote=True, strict=False
        )
        restarted = False
        try:
            for fields in reader:
                record = consumed[:]
                consumed.clear()
                if not record:
                    continue
                start = record[0][0]
                width = header_width[0]
                if (
                    width
                    and len(record) > 1
                    and (
                        capped[0]
                        or len(fields) != width
                        or _swallowed_rows(fields, delimiter, width)
                    )
                ):
                    yield start, [record[0][1].rstrip("\r\n")], True
                    pushed.extendleft(reversed(record[1:]))
                    restarted = True
                    break
                yield start, fields, False
        except csv.Error as exc:
            line = (consumed[-1][0] + 1) if consumed else 1
            raise FileRejected(
                "field_too_large" if "field larger" in str(exc) else "malformed_csv",
                f"line {line} cannot be read as CSV ({exc}); the file was not split into rows",
            ) from None
        if not restarted and not capped[0]:
            return
        if capped[0] and not restarted:
            continue  # a long legitimate record without a header yet: read on


def _unique_headers(fields: list[str]) -> list[str]:
    out: list[str] = []
    seen: dict[str, int] = {}
    for raw in fields:
        name = raw.strip().lstrip("\ufeff") or f"column_{len(out) + 1}"
        if name in seen:
            seen[name] += 1
            name = f"{name} ({seen[name]})"
        else:
            seen[name] = 1
        out.append(name)
    return out
