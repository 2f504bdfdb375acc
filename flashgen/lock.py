"""The lock file: what each card flashgen made is called in Anki (its GUID) and where it came from.

It sits beside the package (`decks/<name>.lock.json`), is sorted and indented
so it diffs well, and users may commit it with their notes. Losing it is not
fatal: GUIDs of unchanged takeaways are derived again (see `identity`).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec

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


MAX_CLOZE = 500  # Anki makes a cloze note's cards c1..c500; a higher number folds into c500 or wraps
MAX_MOD = 2**32 - 1  # seconds (the year 2106): Anki stores a note's time as an integer
MAX_LINE = 10**9
GUID = re.compile(r"[!-~]{1,64}")  # printable ASCII without spaces, as flashgen makes them
_FORBIDDEN = re.compile(r"[\x00\x1f]")  # Anki's field separator, and NUL, reach no field


class _File(msgspec.Struct):
    format: Literal[1]
    cards: list[Record]


def load(path: Path) -> Lock:
    """Read a lock file; a missing one is empty, a damaged one is an error that names the file and
    the line: it holds the links to the user's review history, so it is never silently dropped,
    and a value Anki would refuse (or that would give two cards one GUID) never reaches a package."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return Lock()
    except OSError as exc:
        raise OutputError(f"{path}: cannot read the lock file: {exc.strerror or exc}") from None
    try:
        try:
            records = msgspec.json.decode(raw, type=_File).cards
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:  # not JSON (where?), or escapes msgspec does not take
            records = msgspec.convert(json.loads(raw), type=_File).cards
    except json.JSONDecodeError as exc:
        raise damaged(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError, msgspec.MsgspecError) as exc:
        found = re.search(r"\$\.cards\[(\d+)\]", str(exc))
        line = _line_of(raw, int(found.group(1)), _count(raw)) if found else None
        raise damaged(path, line, str(exc)) from None
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        problem = check(record)
        if problem is None and record.guid in seen:
            first = _line_of(raw, seen[record.guid], len(records))
            problem = f"GUID {record.guid} is also the GUID of " + (f"line {first}" if first else "an earlier card")
        if problem is not None:
            raise damaged(path, _line_of(raw, index, len(records)), problem)
        seen[record.guid] = index
    return Lock(tuple(records))


def check(record: Record) -> str | None:
    """What is wrong with a record read from a lock file, if anything."""
    if not GUID.fullmatch(record.guid):
        return f"GUID {record.guid!r} is not 1 to 64 printable ASCII characters"
    if not 0 <= record.mod <= MAX_MOD:
        return f"mod {record.mod} is not a time Anki can store (0 to {MAX_MOD} seconds)"
    if not 0 <= record.line <= MAX_LINE:
        return f"line {record.line} is out of range"
    if record.kind not in ("basic", "cloze"):
        return f"kind {record.kind!r} is neither 'basic' nor 'cloze'"
    numbers = [number for number, _ in record.clozes]
    if any(not 1 <= n <= MAX_CLOZE for n in numbers):
        return f"cloze numbers {numbers} are not all between 1 and {MAX_CLOZE}, Anki's range"
    if len(set(numbers)) != len(numbers):
        return f"cloze numbers {numbers} repeat"
    if not max(numbers, default=0) <= record.cloze_max <= MAX_CLOZE:
        return f"cloze_max {record.cloze_max} is not between the highest cloze number and {MAX_CLOZE}"
    texts = (
        record.guid, record.note, record.path, record.title, record.takeaway, record.role, record.text,
        record.deck, record.hash, record.fields, *record.tags, *(text for _, text in record.clozes),
    )  # fmt: skip
    if any(_FORBIDDEN.search(text) for text in texts):
        return "a value holds a control character Anki cannot store (U+0000 or U+001F)"
    return None


def _count(raw: bytes) -> int:
    """How many records a file laid out as flashgen writes it holds (for a file it cannot read)."""
    return raw.count(b"\n") - 2


def damaged(path: Path, line: int | None, problem: str) -> OutputError:
    where = f"{path}:{line}" if line else f"{path}"
    return OutputError(
        f"{where}: damaged lock file: {problem}. Fix that line (or remove it: its card is then made anew, "
        "without its review history), restore the file from version control, or delete it to derive "
        "card identities afresh"
    )


def _line_of(raw: bytes, index: int, total: int) -> int | None:
    """The line of the `index`th of `total` records, when the file is laid out as flashgen writes
    it (a header line, then one record a line); None when it was reformatted."""
    if not raw.startswith(_HEADER.encode()) or raw.count(b"\n") != total + 2:
        return None
    return index + 2


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


_HEADER = f'{{"format": {LOCK_FORMAT}, "cards": [\n'


def wrap(lines: Iterable[str]) -> str:
    return _HEADER + ",\n".join(lines) + "\n]}\n"


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
    """One record line of a lock file, its types checked (ValueError); see `check` for its values."""
    try:
        try:
            record = msgspec.json.decode(line, type=Record)
        except msgspec.ValidationError:
            raise
        except msgspec.DecodeError:  # escapes msgspec does not take
            record = msgspec.convert(json.loads(line), type=Record)
    except msgspec.MsgspecError as exc:
        raise ValueError(str(exc)) from None
    return record


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
