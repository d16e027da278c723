"""The landing folder: decide which dropped files are complete, register their batches, and move
them to ``archive/`` (or ``quarantine/`` with a reason file).

Shared by the file-drop sensor and ``lead-assets run`` so both take exactly the same decisions.
A file's identity is its path plus its content hash; a version already registered is never
processed twice, and a changed file (new hash) is processed once more.
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine

from lead_assets.pipeline.batch_registry import (
    LeadBatch,
    file_version_seen,
    load_observations,
    record_file_version,
    save_observations,
)

ARCHIVE = "archive"
QUARANTINE = "quarantine"
DONE_SUFFIX = ".done"
# Names that writers use while a file is still being written, and our own side files.
_IGNORED_SUFFIXES = (DONE_SUFFIX, ".tmp", ".part", ".partial", ".crdownload", ".reason.txt", ".swp")


@dataclass
class RegisteredFile:
    """A file version that became one or more lead batches."""

    path: Path
    archived_to: Path
    content_hash: str
    batches: list[LeadBatch]


@dataclass
class QuarantinedFile:
    """A file that could not be used, with the reason shown to the user."""

    path: Path
    moved_to: Path
    reason_code: str
    reason: str


@dataclass
class LandingScan:
    """What one pass over the landing folder decided."""

    registered: list[RegisteredFile] = field(default_factory=list)
    quarantined: list[QuarantinedFile] = field(default_factory=list)
    duplicates: list[Path] = field(default_factory=list)
    #: Files seen but not yet complete (or left for a later pass): name -> (size, mtime_ns).
    pending: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: Complete files left for the next pass because this pass used its budget.
    deferred: int = 0


def _is_candidate(entry: os.DirEntry[str]) -> bool:
    name = entry.name
    return (
        entry.is_file(follow_symlinks=False)
        and not name.startswith(".")
        and not name.endswith(_IGNORED_SUFFIXES)
    )


def content_hash(path: Path) -> str:
    """sha256 of the file's bytes, streamed."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _stem(name: str) -> str:
    stem = name
    for ext in (".gz", ".csv", ".tsv", ".txt", ".jsonl", ".ndjson", ".json"):
        if stem.lower().endswith(ext):
            stem = stem[: -len(ext)]
    return stem


def batch_key(created: datetime, stem: str, index: int, version: str = "") -> str:
    """Immutable, sortable, readable partition key: ``2026-11-22T0630Z-leads_q4-3fa2c1-0003``.

    Time first (sorting), then the file's stem (reading), then six hex digits of the content hash
    so two versions of one file dropped in the same minute never share a key, then the sequence.
    """
    slug = re.sub(r"[^a-z0-9]+", "_", stem.lower()).strip("_")[:40] or "file"
    tag = f"-{version[:6]}" if version else ""
    return f"{created.astimezone(UTC):%Y-%m-%dT%H%MZ}-{slug}{tag}-{index:04d}"


def split_rows(n_rows: int, max_rows: int) -> list[tuple[int, int]]:
    """1-based inclusive row ranges of at most ``max_rows`` covering ``n_rows`` rows."""
    if n_rows <= 0:
        return []
    if max_rows <= 0:
        raise ValueError(
            f"LEAD_ASSETS_BATCH_ROWS must be a positive number of rows, got {max_rows}"
        )
    return [(start, min(start + max_rows - 1, n_rows)) for start in range(1, n_rows + 1, max_rows)]


def _unique_target(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    n = 1
    while target.exists():
        target = folder / f"{Path(name).stem}.{n}{Path(name).suffix}"
        n += 1
    return target


#: Longest file name the archive and quarantine folders can take (bytes, most file systems).
NAME_MAX = 255
#: What the archive adds around a name: ``<16 hex>-`` before, ``.rows.parquet.tmp`` after.
_ARCHIVE_OVERHEAD = 17 + len(".rows.parquet.tmp")


def _fit_name(name: str, room: int) -> str:
    """``name`` shortened (keeping its extensions) so that it takes at most ``room`` bytes."""
    if len(name.encode()) <= room:
        return name
    stem, dot, ext = name.partition(".")
    ext = (dot + ext)[:24]
    budget = max(room - len(ext.encode()), 8)
    return stem.encode()[:budget].decode(errors="ignore") + ext


def _quarantine(path: Path, landing: Path, code: str, reason: str) -> QuarantinedFile:
    # The reason file sits beside the quarantined one, so both names must fit.
    name = _fit_name(path.name, NAME_MAX - len(".reason.txt") - 8)
    target = _unique_target(landing / QUARANTINE, name)
    os.replace(path, target)
    from lead_assets.core.pii import mask_text

    reason = mask_text(reason)
    target.with_name(target.name + ".reason.txt").write_text(f"{code}: {reason}\n")
    _remove_marker(path)
    return QuarantinedFile(path, target, code, reason)


def _remove_marker(path: Path) -> None:
    marker = path.with_name(path.name + DONE_SUFFIX)
    if marker.exists():
        marker.unlink()


def scan_landing(
    landing: Path,
    engine: Engine,
    *,
    now: datetime,
    max_batch_rows: int,
    max_files: int = 50,
    max_bytes: int = 300_000_000,
    all_complete: bool = False,
    only: set[str] | None = None,
    quiet_s: float = 5.0,
) -> LandingScan:
    """One pass over ``landing``.

    A file is complete when a ``<name>.done`` marker exists, when its size and mtime are the same
    as on the previous pass (observations kept in the warehouse), when nothing has written to it
    for ``quiet_s`` seconds (wall clock, since mtime is), or when ``all_complete`` (files given on
    the command line). At most ``max_files`` complete files are handled per pass so a
    sensor tick stays short even with thousands of files present; the rest wait for later passes.
    ``only`` restricts the pass to the given file names.
    """
    result = LandingScan()
    if not landing.is_dir():
        return result
    with os.scandir(landing) as it:
        entries = sorted(
            (e for e in it if _is_candidate(e) and (only is None or e.name in only)),
            key=lambda e: e.name,
        )
    with os.scandir(landing) as it:
        markers = {e.name for e in it if e.name.endswith(DONE_SUFFIX)}
    previous = load_observations(engine)
    quiet_before_ns = time.time_ns() - int(quiet_s * 1e9)
    handled = 0
    for entry in entries:
        st = entry.stat(follow_symlinks=False)
        observation = (st.st_size, st.st_mtime_ns)
        complete = (
            all_complete
            or (entry.name + DONE_SUFFIX) in markers
            or previous.get(entry.name) == observation
            or st.st_mtime_ns <= quiet_before_ns
        )
        if not complete:
            result.pending[entry.name] = observation
            continue
        if handled >= max_files:
            result.pending[entry.name] = observation
            result.deferred += 1
            continue
        handled += 1
        path = Path(entry.path)
        try:
            _take_file(path, st, landing, engine, now, max_batch_rows, max_bytes, result)
        except Exception as exc:  # whatever belongs to one file quarantines that file alone
            _quarantine_failed(path, st, landing, engine, exc, result)
    if only is None:
        save_observations(engine, result.pending)
    return result


def _take_file(
    path: Path,
    st: os.stat_result,
    landing: Path,
    engine: Engine,
    now: datetime,
    max_batch_rows: int,
    max_bytes: int,
    result: LandingScan,
) -> None:
    """Register one complete file version (or quarantine it as unusable, or tidy a duplicate)."""
    from lead_assets.pipeline.reading import FileUnusable, count_rows

    if len(path.name.encode()) + _ARCHIVE_OVERHEAD > NAME_MAX:
        raise FileUnusable(
            "name_too_long",
            f"the file name is {len(path.name.encode())} bytes, too long to archive (at most "
            f"{NAME_MAX - _ARCHIVE_OVERHEAD}); rename it and drop it again",
        )
    digest = content_hash(path)
    archived = landing / ARCHIVE / f"{digest[:16]}-{path.name}"
    if file_version_seen(engine, str(path), digest) is not None:
        # Same path, same bytes: this version was handled already. Tidy it away.
        archived.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, archived)
        _remove_marker(path)
        result.duplicates.append(path)
        return
    # An unusable file raises FileUnusable: the caller quarantines it with its reason.
    if st.st_size > max_bytes:
        raise FileUnusable(
            "file_too_large",
            f"the file is {st.st_size:,} bytes, above the limit of {max_bytes:,} "
            "(LEAD_ASSETS_MAX_FILE_BYTES); split it and drop the parts",
        )
    # Read once, streamed, to quarantine what cannot be used and cut exact row ranges; the
    # parse that keeps the rows happens in the first ingest run (pipeline.reading).
    n_rows = count_rows(path, max_bytes=max_bytes)
    batches = [
        LeadBatch(
            batch_key=batch_key(now, _stem(path.name), i + 1, digest),
            source="file",
            origin=str(archived),
            file_id=digest,
            row_start=start,
            row_end=end,
            rows_expected=end - start + 1,
            state="registered",
        )
        for i, (start, end) in enumerate(split_rows(n_rows, max_batch_rows))
    ]
    # Record first, then move: after a crash in between, the next pass finds the version
    # already registered and only finishes the move.
    record_file_version(
        engine,
        path=str(path),
        content_hash=digest,
        size_bytes=st.st_size,
        mtime_ns=st.st_mtime_ns,
        state="registered",
        reason=None,
        batches=batches,
    )
    archived.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, archived)
    _remove_marker(path)
    result.registered.append(RegisteredFile(path, archived, digest, batches))


def _failure_reason(exc: BaseException) -> tuple[str, str]:
    """(reason code, sentence) for a failure that belongs to one file; never echoes its data."""
    from lead_assets.pipeline.isolation import failure_reason
    from lead_assets.pipeline.reading import FileUnusable

    if isinstance(exc, FileUnusable):
        return exc.code, exc.message
    if isinstance(exc, OSError):
        return "unreadable", f"the file cannot be read ({exc.strerror or type(exc).__name__})"
    if isinstance(exc, RecursionError):
        return "too_deeply_nested", "the data is nested too deeply to be lead records"
    if isinstance(exc, MemoryError):
        return "too_large_to_parse", "the file is too large to parse on this host"
    return "unexpected_error", f"the file could not be processed ({failure_reason(exc)})"


def _quarantine_failed(
    path: Path,
    st: os.stat_result,
    landing: Path,
    engine: Engine,
    exc: BaseException,
    result: LandingScan,
) -> None:
    """Quarantine a file whose handling failed, with the reason; the scan goes on."""
    code, reason = _failure_reason(exc)
    try:
        q = _quarantine(path, landing, code, reason)
    except OSError:
        return  # it vanished or cannot be moved: nothing to register, the next pass retries
    result.quarantined.append(q)
    try:
        digest = content_hash(q.moved_to)
    except OSError:
        digest = f"unreadable-{st.st_size}-{st.st_mtime_ns}"
    record_file_version(
        engine,
        path=str(path),
        content_hash=digest,
        size_bytes=st.st_size,
        mtime_ns=st.st_mtime_ns,
        state="quarantined",
        reason=f"{code}: {reason}",
        batches=[],
    )
