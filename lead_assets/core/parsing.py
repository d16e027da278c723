"""Reading dropped lead files: CSV (any common delimiter, quoting, BOM, UTF-8/UTF-16/cp1252),
JSON arrays, JSON Lines, and gzip of any of them.

Every data row comes back with its physical line number (CSV) or record index (JSON), verbatim
values, and a parse error when the row itself is malformed. Malformed rows are kept, never dropped;
a file that cannot be used at all raises :class:`FileRejected` with a reason code and a sentence.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from lead_assets.core.headers import has_usable_columns, map_headers

#: What one host can really parse: a file is read, decoded and split into rows in memory (about
#: 10x its size at peak), so 300 MB (~1.5M typical CRM rows) keeps a parse within a few GiB.
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


def _read_bytes(path: Path, max_bytes: int) -> tuple[bytes, bool]:
    size = path.stat().st_size
    if size > max_bytes:
        raise FileRejected(
            "file_too_large", f"the file is {size:,} bytes, above the limit of {max_bytes:,}"
        )
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            # Bounded decompression: a gzip bomb stops at the limit instead of filling memory.
            return _inflate(data, max_bytes), True
        except (zlib.error, gzip.BadGzipFile, EOFError) as exc:
            raise FileRejected("corrupt_gzip", f"the gzip data is damaged ({exc})") from None
    return data, False


def _inflate(data: bytes, max_bytes: int) -> bytes:
    """Inflate a gzip in steps, refusing it as soon as it passes ``max_bytes`` inflated or
    :data:`MAX_GZIP_RATIO` times its own size (a small bomb never fills memory)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    parts: list[bytes] = []
    size = 0
    pending = data
    while pending and not inflater.eof:
        chunk = inflater.decompress(pending, 8 * 1024 * 1024)
        pending = inflater.unconsumed_tail
        parts.append(chunk)
        size += len(chunk)
        if size > max_bytes:
            raise FileRejected(
                "file_too_large",
                f"the file inflates to more than {max_bytes:,} bytes (LEAD_ASSETS_MAX_FILE_BYTES)",
            )
        if size > _RATIO_FLOOR and size > MAX_GZIP_RATIO * len(data):
            raise FileRejected(
                "gzip_bomb",
                f"the {len(data):,}-byte gzip inflates more than {MAX_GZIP_RATIO} times its size; "
                "it is not a lead export",
            )
        if not chunk and pending:
            break
    if not inflater.eof:
        raise FileRejected("corrupt_gzip", "the gzip data is truncated or damaged")
    return b"".join(parts)


_BINARY_MAGIC = {
    b"PK\x03\x04": "a ZIP archive or an Excel .xlsx workbook; export it as CSV",
    b"\xd0\xcf\x11\xe0": "an old Excel .xls or Office file; export it as CSV",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
}


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise FileRejected(
                "undecodable", "the file starts with a UTF-16 mark but is not valid UTF-16"
            ) from None
    for magic, what in _BINARY_MAGIC.items():
        if data.startswith(magic):
            raise FileRejected("binary", f"this is not a text file: it looks like {what}")
    sample = data[:65536]
    # UTF-16 without a BOM: every other byte NUL in ASCII text.
    if sample and sample.count(b"\x00") > len(sample) // 4:
        odd_nuls = sample[1::2].count(b"\x00")
        even_nuls = sample[0::2].count(b"\x00")
        if odd_nuls > len(sample) // 3 or even_nuls > len(sample) // 3:
            try:
                return data.decode("utf-16-le" if odd_nuls > even_nuls else "utf-16-be"), "utf-16"
            except UnicodeDecodeError:
                pass
        raise FileRejected("binary", "this is not a text file (it contains NUL bytes)")
    if b"\x00" in sample:
        raise FileRejected("binary", "this is not a text file (it contains NUL bytes)")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(sample).best()
    guess = (best.encoding if best else None) or "cp1252"
    for encoding in (guess, "cp1252", "latin-1"):
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    raise FileRejected(
        "undecodable", "the file's text encoding could not be determined"
    )  # pragma: no cover


def _control_ratio(text: str) -> float:
    sample = text[:20000]
    if not sample:
        return 0.0
    bad = sum(1 for ch in sample if ord(ch) < 32 and ch not in "\r\n\t")
    return bad / len(sample)


def parse_text(text: str, *, encoding: str = "utf-8", compressed: bool = False) -> ParsedFile:
    """Parse already-decoded text (format detected from its first character)."""
    if not text.strip():
        raise FileRejected("empty", "the file is empty")
    if _control_ratio(text) > 0.05:
        raise FileRejected("binary", "this is not a text file (it is full of control characters)")
    head = text.lstrip()[:1]
    if head == "[":
        parsed = _parse_json_array(text)
    elif head == "{":
        parsed = _parse_json_object_or_lines(text)
    else:
        parsed = _parse_csv(text)
    parsed.encoding, parsed.compressed = encoding, compressed
    parsed.mapping = map_headers(parsed.headers)
    if not has_usable_columns(parsed.mapping.values()):
        raise FileRejected(
            "no_usable_columns",
            "no recognisable email column, and no name + company columns, so no lead can be "
            f"identified ({_describe_headers(parsed.headers)})",
        )
    return parsed


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
    """Parse a lead file of any supported format; raise :class:`FileRejected` if unusable."""
    path = Path(path)
    data, compressed = _read_bytes(path, max_bytes)
    if not data.strip():
        raise FileRejected("empty", "the file is empty")
    text, encoding = _decode(data)
    return parse_text(text, encoding=encoding, compressed=compressed)


def _headers_of(records: list[dict]) -> list[str]:
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
        rows, _headers_of([r.values for r in rows if r.parse_error is None]), fmt, "utf-8"
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
    rows: list[ParsedRow] = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            rows.append(
                ParsedRow(line_no, {"_raw": line}, f"line {line_no} is not valid JSON: {exc.msg}")
            )
            continue
        except (ValueError, RecursionError) as exc:  # one poison line, not the whole file
            rows.append(
                ParsedRow(
                    line_no, {"_raw": line[:1000]}, f"line {line_no}: {_json_unusable(exc).message}"
                )
            )
            continue
        if isinstance(value, dict):
            rows.append(ParsedRow(line_no, {str(k): v for k, v in value.items()}))
        else:
            rows.append(
                ParsedRow(line_no, {"_value": value}, f"line {line_no} is not a JSON object")
            )
    return ParsedFile(
        rows, _headers_of([r.values for r in rows if r.parse_error is None]), "jsonl", "utf-8"
    )


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


def _parse_csv(text: str) -> ParsedFile:
    # Excel writes "sep=;" as the first line of CSVs meant for other locales: obey it, skip it.
    declared = _EXCEL_SEP.match(text)
    skipped_lines = 0
    if declared:
        delimiter = declared.group(1)
        text = text[declared.end() :]
        skipped_lines = 1
    else:
        delimiter = sniff_delimiter(text)
    headers: list[str] | None = None
    rows: list[ParsedRow] = []
    width = [0]  # the header's field count once known; read by the record reader
    for index, fields, broken in _csv_records(text, delimiter, width):
        start = index + 1 + skipped_lines
        if broken:
            rows.append(
                ParsedRow(
                    start,
                    {"_raw": fields[0]},
                    f"line {start}: a quote opened on this line is never closed",
                )
            )
            continue
        if not fields or (all(not f.strip() for f in fields) and headers is None):
            continue
        if not any(f.strip() for f in fields) and len(fields) <= 1:
            continue  # a blank line is not a row
        if headers is None:
            headers = _unique_headers(fields)
            width[0] = len(headers)
            continue
        # A trailing delimiter on every data line adds empty fields: harmless, not a broken row.
        while len(fields) > len(headers) and not fields[-1].strip():
            fields = fields[:-1]
        values = dict(zip(headers, fields, strict=False))
        error = None
        if len(fields) != len(headers):
            error = f"line {start}: expected {len(headers)} fields, found {len(fields)}"
            if len(fields) > len(headers):
                values["_extra"] = fields[len(headers) :]
        rows.append(ParsedRow(start, values, error))
    if headers is None:
        raise FileRejected("empty", "the file has no header row")
    return ParsedFile(rows, headers, "csv", "utf-8", delimiter=delimiter)


def _swallowed_rows(fields: list[str], delimiter: str, width: int) -> bool:
    """True when a multi-line field holds whole lines that look like records of their own: the
    sign of a quote that was opened and never closed, not of a legitimate multi-line note."""
    for value in fields:
        if "\n" in value or "\r" in value:
            for line in value.splitlines()[1:]:
                if width > 1 and line.count(delimiter) >= width - 1:
                    return True
    return False


def _csv_records(
    text: str, delimiter: str, header_width: list[int]
) -> Iterator[tuple[int, list[str], bool]]:
    """``(first physical line index, fields, broken)`` per record.

    A record that spans several lines because a quote never closes would swallow every line
    after it. Such a record (several lines, and either the wrong number of fields or lines inside
    it that look like records) is reported ``broken`` with the text of its first line only, and
    reading starts again on the next line, so only the broken line is lost.
    """
    lines = list(io.StringIO(text, newline=""))
    position = 0
    while position < len(lines):
        cursor = [position]

        def feed(cursor: list[int] = cursor) -> Iterator[str]:
            while cursor[0] < len(lines):
                cursor[0] += 1
                yield lines[cursor[0] - 1]

        reader = csv.reader(
            feed(), delimiter=delimiter, quotechar='"', doublequote=True, strict=False
        )
        restarted = False
        try:
            for fields in reader:
                start, position = position, cursor[0]
                width = header_width[0]
                if (
                    width
                    and position - start > 1
                    and (len(fields) != width or _swallowed_rows(fields, delimiter, width))
                ):
                    yield start, [lines[start].rstrip("\r\n")], True
                    position = start + 1
                    restarted = True
                    break
                yield start, fields, False
        except csv.Error as exc:
            raise FileRejected(
                "field_too_large" if "field larger" in str(exc) else "malformed_csv",
                f"line {position + 1} cannot be read as CSV ({exc}); the file was not split "
                "into rows",
            ) from None
        if not restarted:
            return


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
