"""The lock file: what each card flashgen made is called in Anki (its GUID) and where it came from.

It sits beside the package (`decks/<name>.lock.json`) and users commit it with their notes: it is
what keeps their cards' GUIDs, and so their review history, on every machine. Losing it is not
fatal: GUIDs of unchanged takeaways are derived again (see `identity`).

It is small and diff-friendly: a JSON document laid out one line per note (its path, title, deck
and tags) followed by one line per takeaway, in the order of the note, so that a one-word edit of
a takeaway is a one-line diff. A takeaway's line holds what identity needs and nothing else: its
id, the start of its text (for the reader), a `sum` of its text (to recognise it unchanged or
moved) and its `words` (each word as two characters, to recognise it reworded, see
`identity.similarity`), and for each of its cards the GUID, the rule that made it, its
modification time, hashes of what Anki received, and its cloze numbers. A removed takeaway's line
also keeps its whole text and line, since its card is exported again. Everything else a build
knows is machine state, kept in `decks/.flashgen` (see `state`).

Lock files of format 1 (one line per card, every field spelled out) are read and rewritten in
this format by the next build, keeping every GUID.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import msgspec

from .errors import OutputError

LOCK_FORMAT = 2
Status = Literal["active", "removed"]
HASH = 10  # hex digits kept of a card's hashes: a change goes unnoticed once in 2**40 edits
PREVIEW = 60  # characters of a takeaway's text in its lock line, for the reader


@dataclass(frozen=True, slots=True)
class Record:
    """One Anki note made by flashgen.

    Read from a lock file, an active takeaway's `text` is only its start (`preview`) and its `line`
    is 0: a build takes both from the notes, and from the state for takeaways it removes."""

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
    sum: str = ""  # `text_sum` of the takeaway's whole text ("" until known: see `fingerprinted`)
    words: str = ""  # `text_words` of it


@dataclass(frozen=True)
class Lock:
    records: tuple[Record, ...] = ()
    format: int = LOCK_FORMAT  # of the file read: an older one is rewritten by the next build


MAX_CLOZE = 500  # Anki makes a cloze note's cards c1..c500; a higher number folds into c500 or wraps
MAX_MOD = 2**32 - 1  # seconds (the year 2106): Anki stores a note's time as an integer
MAX_LINE = 10**9
GUID = re.compile(r"[!-~]{1,64}")  # printable ASCII without spaces, as flashgen makes them
_FORBIDDEN = re.compile(r"[\x00\x1f]")  # Anki's field separator, and NUL, reach no field


# --- a takeaway's text as the lock keeps it -------------------------------------------------------

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_{_CJK}]+")  # a Chinese, Japanese or Korean character is a word
_CODES = 62 * 62
_CONTENT = _CODES // 2  # codes from here on are content words (see `is_content`)
# The words that say least: with words of one or two letters, not content words (pinned here, see `word_codes`).
_SHORT = frozenset(
    {
        "a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "had", "has", "have", "he", "her",
        "his", "i", "if", "in", "is", "it", "its", "of", "on", "or", "our", "she", "so", "than", "that", "the",
        "their", "them", "then", "there", "these", "they", "this", "to", "was", "we", "were", "what", "when",
        "where", "which", "who", "will", "with", "you", "your",
    }
)  # fmt: skip


def normalise(text: str) -> str:
    return " ".join(text.split())


def text_sum(text: str) -> str:
    """Eight characters that tell a takeaway's (normalised) text from any other."""
    number = int.from_bytes(
        hashlib.blake2b(normalise(text).encode("utf-8", "surrogatepass"), digest_size=6).digest(), "big"
    )
    return "".join(_ALPHABET[(number // 62**i) % 62] for i in range(8))


def word_codes(text: str) -> list[str]:
    """Each word of the text, lower-cased, as two characters; content words get codes of their own
    half of the range. This derivation is pinned (a test holds it): lock files hold its results."""
    out = []
    for word in _TOKEN.findall(text.casefold()):
        number = (
            int.from_bytes(hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=4).digest(), "big")
            % _CONTENT
        )
        if word not in _SHORT and (len(word) > 2 or not word.isascii() or any(c.isdigit() for c in word)):
            number += _CONTENT
        out.append(_ALPHABET[number % 62] + _ALPHABET[number // 62])
    return out


def text_words(text: str) -> str:
    return "".join(word_codes(text))


def split_words(words: str) -> list[str]:
    return [words[i : i + 2] for i in range(0, len(words), 2)]


def is_content(code: str) -> bool:
    return _ALPHABET.index(code[0]) + 62 * _ALPHABET.index(code[1]) >= _CONTENT


def preview(text: str) -> str:
    """The start of a takeaway's text, as its lock line shows it."""
    flat = normalise(text)
    return flat if len(flat) <= PREVIEW else flat[: PREVIEW - 1] + "…"


def fingerprinted(record: Record) -> Record:
    """The record with its text's `sum` and `words` (made from its text when not read with them)."""
    if record.sum:
        return record
    return replace(record, sum=text_sum(record.text), words=text_words(record.text))


def whole_text(record: Record) -> bool:
    """Whether the record holds its takeaway's whole text (not only its `preview`)."""
    return text_sum(record.text) == record.sum


REMOVED_TAG = "flashgen::removed"  # the one tag the package gives the notes of removed takeaways


# --- reading -------------------------------------------------------------------------------------


class _Format(msgspec.Struct):
    format: int


class _RecordV1(msgspec.Struct, forbid_unknown_fields=True):
    """A record of a format 1 lock file: one card, every field spelled out."""

    guid: str
    note: str
    path: str
    title: str
    takeaway: str
    line: int
    role: str
    kind: str
    text: str
    deck: str
    hash: str
    mod: int
    fields: str = ""
    status: Status = "active"
    clozes: list[tuple[int, str]] = msgspec.field(default_factory=list)
    cloze_max: int = 0
    tags: list[str] = msgspec.field(default_factory=list)


class _FileV1(msgspec.Struct):
    format: Literal[1]
    cards: list[_RecordV1]


class _Card(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    """A card in its takeaway's line: `[guid, role, mod, hash, fields]`, and for a cloze card its
    `[[number, deleted text], ...]` and, when higher than those numbers, the highest ever used."""

    guid: str
    role: str
    mod: int
    hash: str
    fields: str
    clozes: list[tuple[int, str]] | None = None
    cloze_max: int | None = None


class _Line(msgspec.Struct, forbid_unknown_fields=True):
    """A line of a lock file: a note's (`note` set) or a takeaway's (`takeaway` set)."""

    note: str | None = None
    id: str | None = None
    title: str | None = None
    deck: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    takeaway: str | None = None
    status: Status = "active"
    line: int = 0
    text: str = ""
    sum: str = ""
    words: str = ""
    cards: list[_Card] = msgspec.field(default_factory=list)


class _FileV2(msgspec.Struct):
    format: Literal[2]
    records: list[_Line]


_SUM = re.compile(r"[0-9A-Za-z]{8}")
_WORDS = re.compile(r"(?:[0-9A-Za-z]{2})*")


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
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> Lock:
    """The lock file `path` whose bytes are `raw` (see `load`)."""
    try:
        version = _decode(raw, _Format).format
        if version == 1:
            v1 = _decode(raw, _FileV1).cards
            records, places = [_from_v1(r) for r in v1], list(range(len(v1)))
            total = len(v1)
        elif version == LOCK_FORMAT:
            found = _decode(raw, _FileV2).records
            records, places = _from_lines(path, raw, found)
            total = len(found)
        else:
            raise damaged(path, 1, f"format {version} is not one this version of flashgen reads (1 or 2)")
    except json.JSONDecodeError as exc:
        raise damaged(path, exc.lineno, f"not valid JSON ({exc.msg})") from None
    except (ValueError, RecursionError, msgspec.MsgspecError) as exc:
        if isinstance(exc, OutputError):
            raise
        where = re.search(r"\$\.(?:cards|records)\[(\d+)\]", str(exc))
        line = _line_of(raw, int(where.group(1)), _count(raw)) if where else None
        raise damaged(path, line, _explained(str(exc))) from None
    seen: dict[str, int] = {}
    for index, record in enumerate(records):
        problem = check(record)
        if problem is None and record.guid in seen:
            first = _line_of(raw, places[seen[record.guid]], total)
            problem = f"GUID {record.guid} is also the GUID of " + (f"line {first}" if first else "an earlier card")
        if problem is not None:
            raise damaged(path, _line_of(raw, places[index], total), problem)
        seen[record.guid] = index
    return Lock(tuple(records), version)


_CARD_FIELDS = ("GUID", "role", "mod", "hash", "fields", "clozes", "cloze_max")


def _explained(message: str) -> str:
    """msgspec's message, with a card's place in its line named (`cards[0][2]`: the first card's mod)."""

    def name(found: re.Match[str]) -> str:
        number, index = int(found.group(1)), int(found.group(2))
        field = _CARD_FIELDS[index] if index < len(_CARD_FIELDS) else f"value {index + 1}"
        return f"{found.group(0)} (card {number + 1}'s {field})"

    return re.sub(r"cards\[(\d+)\]\[(\d+)\]", name, message)


def _decode(raw: bytes, kind: Any) -> Any:
    try:
        return msgspec.json.decode(raw, type=kind)
    except msgspec.ValidationError:
        raise
    except msgspec.DecodeError:  # not JSON (where? json says), or escapes msgspec does not take
        return msgspec.convert(json.loads(raw), type=kind)


def _from_v1(r: _RecordV1) -> Record:
    clozes = tuple((number, text) for number, text in r.clozes)
    record = Record(
        r.guid, r.note, r.path, r.title, r.takeaway, r.line, r.role, r.kind, r.text, r.deck, r.hash[:HASH],
        r.mod, r.fields[:HASH], r.status, clozes, r.cloze_max, tuple(r.tags),
    )  # fmt: skip
    return fingerprinted(record)


def _from_lines(path: Path, raw: bytes, lines: list[_Line]) -> tuple[list[Record], list[int]]:
    """The records of a format 2 file, and the index of the line each came from."""
    records: list[Record] = []
    places: list[int] = []
    note: _Line | None = None
    total = len(lines)
    for index, line in enumerate(lines):

        def wrong(problem: str, index: int = index) -> OutputError:
            return damaged(path, _line_of(raw, index, total), problem)

        if line.note is not None:
            if line.takeaway is not None or line.cards:
                raise wrong("a line is both a note's and a takeaway's")
            note = line
            continue
        if line.takeaway is None:
            raise wrong("a line names neither a note nor a takeaway")
        if note is None:
            raise wrong("a takeaway comes before any note")
        if not _SUM.fullmatch(line.sum) or not _WORDS.fullmatch(line.words):
            raise wrong("its sum or words are not as flashgen writes them")
        if not line.cards:
            raise wrong("a takeaway without cards")
        assert note.note is not None
        key = f"id:{note.id}" if note.id is not None else note.note
        removed = line.status == "removed"
        for card in line.cards:
            clozes = tuple(card.clozes or ())
            highest = card.cloze_max if card.cloze_max is not None else max((n for n, _ in clozes), default=0)
            records.append(
                Record(
                    guid=card.guid,
                    note=key,
                    path=note.note,
                    title=line.title if line.title is not None else note.title or "",
                    takeaway=line.takeaway,
                    line=line.line,
                    role=card.role,
                    kind="basic" if card.clozes is None else "cloze",
                    text=line.text,
                    deck=line.deck if line.deck is not None else note.deck or "",
                    hash=card.hash,
                    mod=card.mod,
                    fields=card.fields,
                    status=line.status,
                    clozes=clozes,
                    cloze_max=highest,
                    tags=(REMOVED_TAG,) if removed else tuple(note.tags),
                    sum=line.sum,
                    words=line.words,
                )
            )
            places.append(index)
    return records, places


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
    if not raw.startswith(b'{"format":') or raw.count(b"\n") != total + 2:
        return None
    return index + 2


# --- writing -------------------------------------------------------------------------------------


def dumps(records: Iterable[Record]) -> str:
    """The lock file's text: a line per note, then one per takeaway, in the notes' order."""
    return _HEADER + ",\n".join(lines(records)) + _FOOTER


def order(record: Record) -> tuple[str, bool, int]:
    """Where a record goes: by note, then active takeaways in the order of the note, then removed
    ones. Records in the same place keep the order they came in (a sort on this key is stable):
    cards as their takeaway made them, and takeaways read from a lock file as it had them."""
    return (record.path, record.status != "active", record.line)


def lines(records: Iterable[Record]) -> Iterator[str]:
    """The record lines of a lock file (made as they are written)."""
    ordered = sorted(records, key=order)
    start = 0
    while start < len(ordered):
        end = start
        path = ordered[start].path
        while end < len(ordered) and ordered[end].path == path:
            end += 1
        group = ordered[start:end]
        head = next((r for r in group if r.status == "active"), group[0])
        yield _note_line(head)
        takeaways: dict[tuple[str, str], list[Record]] = {}
        for record in group:
            takeaways.setdefault((record.takeaway, record.status), []).append(record)
        for cards in takeaways.values():
            yield _takeaway_line(cards, head)
        start = end


def _encode(value: dict[str, Any]) -> str:
    try:
        return msgspec.json.encode(value).decode("utf-8")
    except UnicodeEncodeError:  # a file name that is not UTF-8: escaped, as `load` reads it
        return json.dumps(value, separators=(",", ":"))


def _note_line(head: Record) -> str:
    line: dict[str, Any] = {"note": head.path}
    if head.note != head.path:
        line["id"] = head.note.removeprefix("id:")
    line["title"] = head.title
    line["deck"] = head.deck
    if head.status == "active" and head.tags:
        line["tags"] = list(head.tags)
    return _encode(line)


def _takeaway_line(cards: list[Record], head: Record) -> str:
    first = fingerprinted(cards[0])
    line: dict[str, Any] = {"takeaway": first.takeaway}
    if first.status != "active":
        line["status"] = first.status
        line["line"] = first.line
        if first.title != head.title:
            line["title"] = first.title
        if first.deck != head.deck:
            line["deck"] = first.deck
        # Its card is exported again: its whole text, when known (a build without the state
        # that knew it keeps its start).
        line["text"] = first.text if whole_text(first) else preview(first.text)
    else:
        line["text"] = preview(first.text)
    line["sum"] = first.sum
    line["words"] = first.words
    line["cards"] = [_card(record) for record in cards]
    return _encode(line)


def _card(record: Record) -> list[Any]:
    card: list[Any] = [record.guid, record.role, record.mod, record.hash[:HASH], record.fields[:HASH]]
    if record.kind == "cloze":
        card.append([list(deletion) for deletion in record.clozes])
        if record.cloze_max > max((n for n, _ in record.clozes), default=0):
            card.append(record.cloze_max)
    return card


_HEADER = f'{{"format":{LOCK_FORMAT},"records":[\n'
_FOOTER = "\n]}\n"


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write a lock file from its record lines, atomically."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as out:
        out.write(_HEADER)
        first = True
        for line in lines:
            if not first:
                out.write(",\n")
            out.write(line)
            first = False
        out.write(_FOOTER)
        out.flush()
        os.fsync(out.fileno())


def write(path: Path, records: Iterable[Record]) -> None:
    write_lines(path, lines(records))


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
