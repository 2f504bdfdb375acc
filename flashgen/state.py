"""State: what a build keeps beside a deck, in `OUTPUT/.flashgen/`, to make the next build cheaper.

This module alone reads and writes it (the others get paths inside it from here). Three files
per deck:

- `NAME.state` (JSON): the *stamp*, the sizes and times of the notes and the images their cards
  show, with a hash of the content the cards were made from, the outputs' sizes and times, the
  last build's summary, and the *manifest*, what each note made. A build that finds nothing
  changed reads only it; an incremental build reads its manifest (see `incremental`).
- `NAME.cache` (msgpack): what each note made last time (`harvest.NoteResult`), so that
  unchanged notes are not parsed again, even in a full build.
- `NAME.anki2`: the package's collection database, as written (see `incremental`). It stays a
  file of its own, in Anki's schema rather than ours: it is a copy of an output, checked as the
  outputs are (its size and time are in the stamp: a changed or damaged one makes a full build),
  and an incremental build needs it as a file, to change with SQLite and zip into the package.
  Held inside another file, it would have to be copied out on every incremental build (the cost
  it saves) and the stamp, which every build reads, would grow by the whole deck.

Everything is read as data through typed records (msgspec), never unpickled: a file of another
schema, an earlier version's pickle, a damaged file or a file that holds anything else is
ignored with a notice and the state is rebuilt. Each file also records the folder it was written
in (device and inode of `.flashgen`): state copied or committed from elsewhere, which could
vouch for a deck it did not describe, is ignored too. The folder carries a `CACHEDIR.TAG` and a
`.gitignore`, so that backup and version control tools leave it out.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import operator
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any, Literal, get_type_hints

import msgspec

from .lock import atomic_path

if TYPE_CHECKING:
    from .harvest import NoteResult

SCHEMA: Literal[1] = 1  # of the cache; a cache of another schema is ignored and rebuilt
STAMP_SCHEMA: Literal[2] = 2  # of the stamp (2: the manifest holds each takeaway's text), likewise
FOLDER = ".flashgen"
CACHEDIR_TAG = (
    "Signature: 8a477f597d28d172789f06886806bc55\n"
    "# This file is a cache directory tag created by flashgen.\n"
    "# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
_LEFTOVERS = ("{name}.stamp", "{name}.notes.json")  # earlier versions' state files (pickle, JSON)

Signature = tuple[int, int]  # size, modification time in nanoseconds
Origin = tuple[int, int]  # device and inode of the state folder


def signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass(frozen=True)
class StatePaths:
    """The state files of one deck."""

    folder: Path
    stamp: Path  # `Stamp`, with the manifest
    cache: Path  # `Cache`
    database: Path  # the package's collection database, as written (see `incremental`)


def state_paths(output: Path, name: str) -> StatePaths:
    folder = output / FOLDER
    return StatePaths(folder, folder / f"{name}.state", folder / f"{name}.cache", folder / f"{name}.anki2")


def prepare(paths: StatePaths) -> None:
    """Create the state folder with its tags, and remove the state files earlier versions left."""
    folder = paths.folder
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", "# written by flashgen: never commit this\n*\n")):
        tag = folder / name
        if not tag.is_file():
            with contextlib.suppress(OSError):
                tag.write_text(text, encoding="utf-8")
    deck = paths.stamp.name.removesuffix(".state")
    for pattern in _LEFTOVERS:
        with contextlib.suppress(OSError):
            (folder / pattern.format(name=deck)).unlink(missing_ok=True)


@contextlib.contextmanager
def keeping_database(paths: StatePaths) -> Iterator[Path]:
    """Where a full build writes the package's collection database: kept (in place of the last
    one) when the block succeeds, for the next incremental build to start from."""
    prepare(paths)
    with atomic_path(paths.database) as database:
        yield database


@contextlib.contextmanager
def changing_database(paths: StatePaths) -> Iterator[Path]:
    """A copy of the kept collection database for an incremental build to change: kept in place
    of the old one when the block succeeds (the copy is made beside it, to replace it by a rename)."""
    with atomic_path(paths.database) as database:
        shutil.copyfile(paths.database, database)
        yield database


def origin(folder: Path) -> Origin | None:
    """What tells this state folder from a copy of it: its device and inode."""
    try:
        st = folder.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _ignored(path: Path, why: str) -> str:
    return f"{path}: {why}; ignored it, the state is rebuilt"


# --- the stamp and the manifest ------------------------------------------------------------------

Count = Annotated[int, msgspec.Meta(ge=0)]
Problem = tuple[str, int, str]  # path, line, message


class Summary(msgspec.Struct, forbid_unknown_fields=True):
    """The counts of the last build's report, and its problems."""

    notes: Count
    takeaways: Count
    anki_notes: Count
    anki_cards: Count
    failures: list[Problem]
    warnings: list[Problem]
    without_takeaways: list[str]
    silent: list[tuple[str, str]]  # note path, why it made no card


class NoteEntry(msgspec.Struct, forbid_unknown_fields=True):
    """What one note made in the deck (an entry of the manifest)."""

    takeaways: Count = 0
    anki_notes: Count = 0
    anki_cards: Count = 0
    gone: Count = 0  # of those, notes of takeaways no longer in the note (removed, retired)
    media: list[tuple[str, str]] = msgspec.field(default_factory=list)  # media name, file
    failures: list[Problem] = msgspec.field(default_factory=list)
    warnings: list[Problem] = msgspec.field(default_factory=list)
    empty: bool = False
    silent: str = ""  # why the note made no card
    # Each takeaway that made cards: its id -> its line and whole text. The lock file keeps only
    # the start of a takeaway's text; a build that finds a takeaway removed shows these on its card.
    texts: dict[str, tuple[Count, str]] = msgspec.field(default_factory=dict)


Manifest = dict[str, NoteEntry]  # note path (relative to its folder) -> what it made


def known_texts(manifest: Manifest) -> dict[str, tuple[int, str]]:
    """The line and whole text of every takeaway of the manifest, by takeaway id."""
    return {tid: known for entry in manifest.values() for tid, known in entry.texts.items()}


class Stamp(msgspec.Struct, forbid_unknown_fields=True):
    """The state of a deck's inputs and outputs after a build that wrote it.

    `current` is false when the deck must be made again next time whatever changed (a language
    model to ask again, a note that could not be looked at): the manifest still serves."""

    schema: Literal[2]
    origin: Origin
    key: str
    current: bool
    notes: dict[str, Signature | None]  # notes and images -> signature
    outputs: dict[str, Signature | None]
    summary: Summary
    digests: dict[str, str]  # note path -> `digest`; image path -> media name
    manifest: Manifest

    @staticmethod
    def load(paths: StatePaths) -> tuple[Stamp | None, str | None]:
        """The stamp, or None with a notice when there is one to give (a missing file needs none)."""
        try:
            raw = paths.stamp.read_bytes()
        except FileNotFoundError:
            return None, None
        except OSError as exc:
            return None, _ignored(paths.stamp, f"cannot read it ({exc.strerror or exc})")
        try:
            try:
                stamp = msgspec.json.decode(raw, type=Stamp)
            except msgspec.DecodeError:  # escapes msgspec does not take (a file name not in UTF-8)
                stamp = msgspec.convert(json.loads(raw), type=Stamp)
        except (ValueError, msgspec.MsgspecError, RecursionError):
            return None, _ignored(paths.stamp, "not a state file of this version of flashgen, or damaged")
        if stamp.origin != origin(paths.folder):
            return None, _ignored(paths.stamp, "written in another folder (copied or committed?)")
        return stamp, None

    def save(self, paths: StatePaths) -> None:
        try:
            try:
                data = msgspec.json.encode(self)
            except UnicodeEncodeError:  # a file name that is not UTF-8: escaped, as the reader takes it
                data = json.dumps(msgspec.to_builtins(self)).encode("ascii")
            with atomic_path(paths.stamp) as tmp, open(tmp, "wb") as stream:
                stream.write(data)
        except OSError:
            pass  # a stamp that cannot be written only costs time next run

    @staticmethod
    def remove(paths: StatePaths) -> None:
        with contextlib.suppress(OSError):
            os.unlink(paths.stamp)


def new_stamp(
    paths: StatePaths,
    key: str,
    *,
    current: bool,
    notes: dict[str, Signature | None],
    outputs: dict[str, Signature | None],
    summary: Summary,
    digests: dict[str, str],
    manifest: Manifest,
) -> Stamp | None:
    prepare(paths)
    here = origin(paths.folder)
    if here is None:
        return None
    return Stamp(STAMP_SCHEMA, here, key, current, notes, outputs, summary, digests, manifest)


# --- the cache -----------------------------------------------------------------------------------

_MAGIC = b"flashgen state: note cache\n"
_LENGTH = struct.Struct("<I")
_MAX_FRAME = 1 << 30


class _CacheHeader(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    schema: Literal[1]
    origin: Origin
    key: str


class _CacheEntry(msgspec.Struct, array_like=True, forbid_unknown_fields=True):
    name: bytes  # the note's path, as the file system has it
    signature: Signature
    digest: str
    media: tuple[tuple[bytes, Signature | None], ...]  # images the cards show, and their signatures
    result: bytes  # the note's `NoteResult`, encoded by `encode_result` (decoded when used)


@dataclass
class Entry:
    signature: Signature
    digest: str
    media: tuple[tuple[bytes, Signature | None], ...]
    result: bytes | NoteResult


@dataclass
class Cache:
    """What each note made last time, for a deck and its output options (`Options.cache_key`).

    An entry is reused when the note's size and modification time are unchanged, or, when they
    changed, its content hash is; and when the images its cards show are unchanged too. The file
    holds a header and then one length-prefixed entry after another; results a worker process
    encoded go to a spool file as they arrive rather than staying in memory. Written atomically;
    a missing, damaged or foreign cache is empty (see `notice`)."""

    paths: StatePaths
    key: str
    entries: dict[str, Entry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    dirty: bool = False
    spooled: set[str] = field(default_factory=set)  # entries already written to the spool
    notice: str | None = None  # why the file on disk was not used
    _spool: IO[bytes] | None = None

    @classmethod
    def load(cls, paths: StatePaths, key: str) -> Cache:
        path = paths.cache
        try:
            with open(path, "rb") as stream:
                if stream.read(len(_MAGIC)) != _MAGIC:
                    return cls(paths, key, notice=_ignored(path, "not a note cache of this version of flashgen"))
                header = msgspec.msgpack.decode(_frame(stream) or b"", type=_CacheHeader)
                if header.origin != origin(paths.folder):
                    return cls(paths, key, notice=_ignored(path, "written in another folder (copied or committed?)"))
                if header.key != f"{key} {_the_codec().shape}":  # other options, or cards of other fields
                    return cls(paths, key)  # other options: a cache of no use, not a damaged one
                decoder = msgspec.msgpack.Decoder(_CacheEntry)
                entries = {}
                while (frame := _frame(stream, end_ok=True)) is not None:  # a later entry for a note wins
                    e = decoder.decode(frame)
                    entries[os.fsdecode(e.name)] = Entry(e.signature, e.digest, e.media, e.result)
                return cls(paths, key, entries)
        except FileNotFoundError:
            return cls(paths, key)
        except (OSError, ValueError, msgspec.MsgspecError) as exc:
            why = f"cannot read it ({exc.strerror or exc})" if isinstance(exc, OSError) else "damaged"
            return cls(paths, key, notice=_ignored(path, why))

    def get(self, note: Path, data: bytes | None = None) -> NoteResult | None:
        """The cached result for `note`, if still valid. `data` is the note's content when already read."""
        name = str(note)
        entry = self.entries.get(name)
        if entry is None:
            return None
        current = signature(note)
        if current is None:
            return None
        if current != entry.signature:
            if data is None:
                try:
                    data = note.read_bytes()
                except OSError:
                    return None
            if digest(data) != entry.digest:
                return None
            entry.signature = current  # touched but not changed
            self.dirty = True
        if any(signature(Path(os.fsdecode(p))) != sig for p, sig in entry.media):
            return None
        if isinstance(entry.result, bytes):
            try:
                entry.result = decode_result(entry.result)
            except (ValueError, IndexError, TypeError, msgspec.MsgspecError):
                del self.entries[name]  # damaged: made again (the file is rewritten without it)
                self.dirty = True
                self.notice = self.notice or _ignored(self.paths.cache, "an entry is damaged")
                return None
        self.used.add(name)
        return entry.result

    def digest_of(self, note: Path) -> str:
        """The `digest` of the content the cached result for `note` was made from."""
        return self.entries[str(note)].digest

    def put(
        self, note: Path, made_from: str, media: Iterable[Path], result: NoteResult, encoded: bytes | None = None
    ) -> None:
        """Keep `result`, made from content whose digest is `made_from`; `encoded` is its encoding,
        when a worker process made one: it goes to the spool file rather than staying in memory."""
        sig = signature(note)
        if sig is None:
            return
        name = str(note)
        entry = Entry(sig, made_from, tuple((os.fsencode(p), signature(p)) for p in media), result)
        self.entries[name] = entry
        self.used.add(name)
        self.dirty = True
        if encoded is not None:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile()  # noqa: SIM115 (kept open until save or close)
            self._spool.write(_entry(name, entry, encoded))
            self.spooled.add(name)

    def save(self) -> None:
        """Write the cache, dropping entries of notes that are gone."""
        try:
            if not self.dirty and self.used == set(self.entries):
                return
            prepare(self.paths)
            here = origin(self.paths.folder)
            if here is None:
                return
            with atomic_path(self.paths.cache) as tmp, open(tmp, "wb") as stream:
                stream.write(_MAGIC)
                header = _CacheHeader(SCHEMA, here, f"{self.key} {_the_codec().shape}")
                stream.write(_framed(msgspec.msgpack.encode(header)))
                if self._spool is not None:
                    self._spool.seek(0)
                    while chunk := self._spool.read(1 << 20):
                        stream.write(chunk)
                for name in self.used - self.spooled:
                    entry = self.entries[name]
                    result = entry.result
                    try:
                        encoded = result if isinstance(result, bytes) else encode_result(result)
                    except UnicodeEncodeError:
                        continue  # a file name that is not UTF-8: that note is parsed every time
                    stream.write(_entry(name, entry, encoded))
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        finally:
            self.close()

    def close(self) -> None:
        """Forget the spool file (a build that writes no cache)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _framed(data: bytes) -> bytes:
    return _LENGTH.pack(len(data)) + data


def _frame(stream: IO[bytes], end_ok: bool = False) -> bytes | None:
    head = stream.read(_LENGTH.size)
    if not head and end_ok:
        return None
    if len(head) != _LENGTH.size:
        raise ValueError("cut short")
    (size,) = _LENGTH.unpack(head)
    if size > _MAX_FRAME:
        raise ValueError("an entry too large")
    data = stream.read(size)
    if len(data) != size:
        raise ValueError("cut short")
    return data


def _entry(name: str, entry: Entry, encoded: bytes) -> bytes:
    record = _CacheEntry(os.fsencode(name), entry.signature, entry.digest, entry.media, encoded)
    return _framed(msgspec.msgpack.encode(record))


# --- a note's result as data ---------------------------------------------------------------------


def _enc_hook(obj: Any) -> Any:
    if isinstance(obj, Path):
        return os.fsencode(obj)  # bytes: a file name need not be UTF-8
    raise NotImplementedError(f"cannot store {type(obj).__name__}")


def _dec_hook(kind: type, obj: Any) -> Any:
    if kind is Path and isinstance(obj, bytes):
        return Path(os.fsdecode(obj))
    raise NotImplementedError(f"cannot read {kind.__name__}")


Index = Annotated[int, msgspec.Meta(ge=0)]


class _ResultCodec:
    """A `NoteResult` as rows of its fields, field by field as its dataclasses declare them.

    The cards of a note share takeaways, and the takeaways their note: each note and takeaway is
    stored once, and cards and takeaways refer to them by index (takeaways after their nested
    items). The cards of a takeaway also share long texts (the rendered takeaway, the note's
    context, its tags): a card's text or tuple of texts is stored once in a table and referred
    to by index (and made one object again, as in memory). Decoding checks every value's type
    and makes the same objects again through their constructors, so a field added to a card is
    stored without a change here."""

    def __init__(self) -> None:
        from .cards import Card
        from .harvest import NoteResult
        from .notes import SourceNote
        from .takeaways import Takeaway

        self.card, self.takeaway, self.result = Card, Takeaway, NoteResult
        self.card_fields = [f.name for f in fields(Card)]
        self.takeaway_fields = [f.name for f in fields(Takeaway)]
        self.result_fields = [f.name for f in fields(NoteResult)]
        self.card_at = self.card_fields.index("takeaway")
        self.note_at = self.takeaway_fields.index("note")
        self.children_at = self.takeaway_fields.index("children")
        self.cards_at = self.result_fields.index("cards")
        self.get_card = _getter(self.card_fields)
        self.get_takeaway = _getter(self.takeaway_fields)
        self.get_result = _getter(self.result_fields)

        def row(cls: type, names: list[str], replaced: dict[str, Any]) -> Any:
            hints = get_type_hints(cls)
            return tuple.__class_getitem__(tuple(replaced.get(n, hints[n]) for n in names))

        hints = get_type_hints(Card)
        texts: Any = tuple[str, ...]
        self.shared = [i for i, n in enumerate(self.card_fields) if hints[n] in (str, texts)]
        card_row = row(
            Card,
            self.card_fields,
            {"takeaway": Index, **{self.card_fields[i]: hints[self.card_fields[i]] | Index for i in self.shared}},
        )
        takeaway_row = row(Takeaway, self.takeaway_fields, {"note": Index, "children": tuple[Index, ...]})
        result_row = row(NoteResult, self.result_fields, {"cards": tuple.__class_getitem__((card_row, ...))})
        stored: Any = tuple.__class_getitem__(
            (result_row, tuple[SourceNote, ...], tuple.__class_getitem__((takeaway_row, ...)), tuple[str | texts, ...])
        )
        self.encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
        self.decoder = msgspec.msgpack.Decoder(stored, dec_hook=_dec_hook)
        # The layout of the rows: a cache written when the records had other fields is of no use
        # (as one of other options), not damaged.
        from .errors import SourceProblem
        from .media import MediaFile
        from .notes import NoteFile

        nested = [
            (f.name, str(f.type)) for cls in (SourceNote, NoteFile, MediaFile, SourceProblem) for f in fields(cls)
        ]
        self.shape = hashlib.blake2b(repr((stored, nested)).encode(), digest_size=8).hexdigest()

    def encode(self, result: NoteResult) -> bytes:
        notes: dict[int, int] = {}
        note_list: list[object] = []
        places: dict[int, int] = {}
        rows: list[list[object]] = []

        def place(item: Any) -> int:
            found = places.get(id(item))
            if found is not None:
                return found
            children = tuple(place(c) for c in item.children)
            at = notes.setdefault(id(item.note), len(note_list))
            if at == len(note_list):
                note_list.append(item.note)
            values = list(self.get_takeaway(item))
            values[self.note_at], values[self.children_at] = at, children
            places[id(item)] = len(rows)
            rows.append(values)
            return places[id(item)]

        table: dict[object, int] = {}
        cards = []
        for card in result.cards:
            values = list(self.get_card(card))
            values[self.card_at] = place(card.takeaway)
            for i in self.shared:
                value = values[i]
                if value and (len(value) >= _SHARED_FROM or not isinstance(value, str)):
                    values[i] = table.setdefault(value, len(table))
            cards.append(values)
        top = list(self.get_result(result))
        top[self.cards_at] = cards
        return self.encoder.encode((top, note_list, rows, tuple(table)))

    def decode(self, data: bytes) -> NoteResult:
        top: Any
        rows: Any
        top, note_list, rows, table = self.decoder.decode(data)
        made: list[Any] = []
        for row in rows:
            values = list(row)
            values[self.note_at] = note_list[row[self.note_at]]
            values[self.children_at] = tuple(made[i] for i in row[self.children_at])  # nested items come first
            made.append(self.takeaway(*values))
        cards = []
        for row in top[self.cards_at]:
            values = list(row)
            values[self.card_at] = made[row[self.card_at]]
            for i in self.shared:
                if isinstance(values[i], int):
                    values[i] = table[values[i]]
            cards.append(self.card(*values))
        values = list(top)
        values[self.cards_at] = tuple(cards)
        result: NoteResult = self.result(*values)
        return result


_SHARED_FROM = 12  # characters: shorter texts are stored in place


def _getter(names: list[str]) -> Callable[[Any], tuple[Any, ...]]:
    get: Callable[[Any], Any] = operator.attrgetter(*names)
    return get if len(names) > 1 else (lambda obj: (get(obj),))


_codec: _ResultCodec | None = None


def _the_codec() -> _ResultCodec:
    global _codec
    if _codec is None:
        _codec = _ResultCodec()
    return _codec


def encode_result(result: NoteResult) -> bytes:
    """`result` as bytes for the cache (raises UnicodeEncodeError for a text that is not UTF-8)."""
    return _the_codec().encode(result)


def decode_result(data: bytes) -> NoteResult:
    """The `NoteResult` that `encode_result` encoded, its every value checked."""
    return _the_codec().decode(data)
