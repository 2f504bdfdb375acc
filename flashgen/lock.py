"""The lock file: what each card flashgen made is called in Anki (its GUID) and where it came from.

It sits beside the package (`decks/<name>.lock.json`), is sorted and indented
so it diffs well, and users may commit it with their notes. Losing it is not
fatal: GUIDs of unchanged takeaways are derived again (see `identity`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from .errors import OutputError

LOCK_FORMAT = 1
Status = Literal["active", "removed"]


@dataclass(frozen=True, slots=True)
class Record:
    """One Anki note made by flashgen."""

    guid: str
    note: str  # the note's key: front matter `id`, else its path relative to the notes folder
    path: str  # the note file, relative to the notes folder
    title: str
    takeaway: str  # the takeaway's lasting id (see identity.takeaway_id)
    line: int
    role: str
    kind: str  # "basic" or "cloze"
    text: str  # the takeaway's markdown, nested items included
    deck: str
    hash: str  # of the fields and tags Anki receives
    mod: int  # the note's modification time in the package (seconds)
    fields: str = ""  # hash of the fields flashgen owns, to tell edits made in Anki (see sync)
    status: Status = "active"
    clozes: tuple[tuple[int, str], ...] = ()  # cloze number and deleted text
    cloze_max: int = 0  # highest cloze number ever used, so retired numbers are not reused
    tags: tuple[str, ...] = ()  # the tags flashgen gave the note: the only ones sync may remove (see sync)


@dataclass(frozen=True)
class Lock:
    records: tuple[Record, ...] = ()


def load(path: Path) -> Lock:
    """Read a lock file; a missing one is empty, a damaged one is an error (it holds review-history links)."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Lock()
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the lock file: {exc.strerror or exc}") from None
    try:
        data = json.loads(raw)
        if data.get("format") != LOCK_FORMAT:
            raise ValueError(f"unknown format {data.get('format')!r}")
        records = tuple(_record(r) for r in data["cards"])
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise OutputError(
            f"{path}: the lock file is damaged ({exc}); restore it from version control, "
            "or delete it to derive card identities afresh"
        ) from None
    return Lock(records)


def _record(raw: dict[str, object]) -> Record:
    data = dict(raw)
    data["clozes"] = tuple((int(n), str(t)) for n, t in data.get("clozes", ()))  # type: ignore[attr-defined]
    tags = data.get("tags", [])
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        raise ValueError("a record's tags must be a list of text")
    data["tags"] = tuple(tags)
    return Record(**data)  # type: ignore[arg-type]


def dumps(records: Iterable[Record]) -> str:
    """The lock file's text: one card per line, sorted by note and line, so diffs stay small."""
    return wrap(lines(records))


Order = tuple[bool, str, int, str, str]  # a record's place: retired or removed last, then path, line, ...


def order(record: Record) -> Order:
    """Where a record goes in the lock file (GUIDs are unique: no two records share a place)."""
    return (record.status != "active", record.path, record.line, record.role, record.guid)


def lines(records: Iterable[Record]) -> Iterator[str]:
    """One JSON line per record, in the lock file's order (made as they are written, not held)."""
    for record in sorted(records, key=order):
        yield line(record)


_QUOTE = json.encoder.encode_basestring  # JSON string, non-ASCII kept


def line(record: Record) -> str:
    """A record as `json.dumps(..., ensure_ascii=False, sort_keys=True)` writes it (a test holds
    the two equal), made directly: the lock file of 10,000 notes has 180,000 of them."""
    q = _QUOTE
    clozes = ""
    if record.clozes:
        deletions = ", ".join(f"[{number}, {q(text)}]" for number, text in record.clozes)
        clozes = f'"cloze_max": {record.cloze_max}, "clozes": [{deletions}], '
    tags = f'"tags": [{", ".join(q(tag) for tag in record.tags)}], ' if record.tags else ""
    return (
        f'{{{clozes}"deck": {q(record.deck)}, "fields": {q(record.fields)}, "guid": {q(record.guid)}, '
        f'"hash": {q(record.hash)}, "kind": {q(record.kind)}, "line": {record.line}, "mod": {record.mod}, '
        f'"note": {q(record.note)}, "path": {q(record.path)}, "role": {q(record.role)}, '
        f'"status": {q(record.status)}, {tags}"takeaway": {q(record.takeaway)}, "text": {q(record.text)}, '
        f'"title": {q(record.title)}}}'
    )


def wrap(lines: Iterable[str]) -> str:
    return f'{{"format": {LOCK_FORMAT}, "cards": [\n' + ",\n".join(lines) + "\n]}\n"


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write a lock file from its record lines, atomically, without holding it all in memory."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write(f'{{"format": {LOCK_FORMAT}, "cards": [\n')
        first = True
        for line in lines:
            if not first:
                out.write(",\n")
            out.write(line)
            first = False
        out.write("\n]}\n")
        out.flush()
        os.fsync(out.fileno())


def parse_record(line: str) -> Record:
    return _record(json.loads(line))


def write_atomic(path: Path, data: bytes | str) -> None:
    """Write `path` through a temporary file in the same folder and a rename."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    with atomic_path(path) as tmp, open(tmp, "wb") as out:
        out.write(payload)
        out.flush()
        os.fsync(out.fileno())


_UMASK = os.umask(0)
os.umask(_UMASK)


@contextmanager
def atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside `path`, renamed over it when the block succeeds, removed when it fails.

    A crash at any point leaves either the old file or the new one, never a part of either.
    """
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.chmod(tmp, 0o666 & ~_UMASK)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
