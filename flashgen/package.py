"""Package: the `.apkg` file Anki imports. The only module that knows genanki.

The note types' ids, names, fields and card templates are a contract with every
collection that ever imported a flashgen deck: Anki refuses to update notes
whose note type gained, lost or renamed a field or template. Change CSS and
template text freely; never change the fields or the templates' names.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import genanki

from . import render
from .cards import field_text
from .errors import OutputError, printable
from .identity import Identity
from .lock import atomic_path

QA_MODEL_ID = 1733_410_001
CLOZE_MODEL_ID = 1733_410_002
QA_MODEL_NAME = "flashgen Q/A"
CLOZE_MODEL_NAME = "flashgen Cloze"
QA_FIELDS = ("Question", "Answer", "Extra", "Context", "Source", "Reverse", "ID")
CLOZE_FIELDS = ("Text", "Extra", "Context", "Source", "ID")

CSS = """\
.card {
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px;
  line-height: 1.5;
  text-align: left;
  color: #1d1d1f;
  background-color: #fdfdfd;
  max-width: 40em;
  margin: 0 auto;
  padding: 0 0.6em;
}
.fg-context { font-size: 0.7em; color: #6b6b70; margin-bottom: 0.8em; }
.fg-context a { color: inherit; }
.fg-details::before { content: "— "; }
.fg-question { font-weight: 600; }
.fg-answer { margin-top: 0.4em; }
.fg-extra { margin-top: 1em; padding-top: 0.6em; border-top: 1px solid #e3e3e6; font-size: 0.85em; color: #3a3a3c; }
.fg-source { margin-top: 1.2em; font-size: 0.6em; font-family: ui-monospace, Menlo, Consolas, monospace; }
.fg-removed { display: inline-block; font-size: 0.7em; color: #fff; background: #b3261e; border-radius: 4px;
  padding: 0.1em 0.5em; margin-bottom: 0.6em; }
.cloze { font-weight: 600; color: #0a58ca; }
mark { background: #fff3a3; color: inherit; padding: 0 0.1em; }
code { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 0.85em; background: #f1f1f4;
  padding: 0.05em 0.3em; border-radius: 3px; }
pre { background: #f6f6f8; padding: 0.7em; border-radius: 6px; overflow-x: auto; font-size: 0.8em; line-height: 1.4; }
pre code { background: none; padding: 0; }
table { border-collapse: collapse; margin: 0.5em 0; font-size: 0.9em; }
th, td { border: 1px solid #d0d0d5; padding: 0.25em 0.6em; }
img { max-width: 100%; height: auto; }
ul, ol { padding-left: 1.4em; margin: 0.3em 0; }
blockquote { margin: 0.5em 0; padding-left: 0.8em; border-left: 3px solid #d0d0d5; color: #4a4a4f; }
.nightMode.card, .night_mode .card { color: #e8e8ed; background-color: #1e1e20; }
.nightMode .fg-context, .night_mode .fg-context { color: #a1a1a8; }
.nightMode .fg-extra, .night_mode .fg-extra { color: #c7c7cc; border-top-color: #3a3a3e; }
.nightMode .cloze, .night_mode .cloze { color: #7fb2ff; }
.nightMode mark, .night_mode mark { background: #6b5b00; }
.nightMode code, .night_mode code { background: #2c2c30; }
.nightMode pre, .night_mode pre { background: #26262a; }
.nightMode th, .nightMode td, .night_mode th, .night_mode td { border-color: #3a3a3e; }
.nightMode blockquote, .night_mode blockquote { border-left-color: #3a3a3e; color: #c7c7cc; }
.nightMode pre code, .night_mode pre code { background: none; }
.fg-source { color: #6e6e73; }
.nightMode .fg-source, .night_mode .fg-source { color: #8e8e93; }
th { background: #f1f1f4; text-align: left; }
.nightMode th, .night_mode th { background: #2a2a2e; }
img { border-radius: 4px; }
.nightMode img, .night_mode img { filter: brightness(0.85); }
.fg-missing-image { font-style: italic; color: #6e6e73; }
.wikilink { border-bottom: 1px dotted currentColor; }
.fg-lead { color: #6e6e73; }
.nightMode .fg-lead, .night_mode .fg-lead { color: #a1a1a8; }
@media (max-width: 480px) {
  .card { font-size: 18px; padding: 0 0.5em; }
  pre { font-size: 0.72em; white-space: pre-wrap; overflow-wrap: anywhere; }
}
""" + render.code_css()

_FRONT = '<div class="fg-context">{{Context}}</div>\n<div class="fg-question">{{Question}}</div>'
_BACK_COMMON = '{{#Extra}}<div class="fg-extra">{{Extra}}</div>{{/Extra}}\n<div class="fg-source">{{Source}}</div>'

QA_TEMPLATES = (
    {
        "name": "Forward",
        "qfmt": _FRONT,
        "afmt": '{{FrontSide}}\n<hr id="answer">\n<div class="fg-answer">{{Answer}}</div>\n' + _BACK_COMMON,
    },
    {
        "name": "Reverse",
        "qfmt": '{{#Reverse}}<div class="fg-context">{{Context}}</div>\n'
        '<div class="fg-question">{{Answer}}</div>{{/Reverse}}',
        "afmt": '{{FrontSide}}\n<hr id="answer">\n<div class="fg-answer">{{Question}}</div>\n' + _BACK_COMMON,
    },
)
CLOZE_TEMPLATES = (
    {
        "name": "Cloze",
        "qfmt": '<div class="fg-context">{{Context}}</div>\n<div class="fg-cloze">{{cloze:Text}}</div>',
        "afmt": '<div class="fg-context">{{Context}}</div>\n<div class="fg-cloze">{{cloze:Text}}</div>\n'
        + _BACK_COMMON,
    },
)


def _models() -> tuple[genanki.Model, genanki.Model]:
    qa = genanki.Model(
        QA_MODEL_ID,
        QA_MODEL_NAME,
        fields=[{"name": n} for n in QA_FIELDS],
        templates=list(QA_TEMPLATES),
        css=CSS,
    )
    cloze = genanki.Model(
        CLOZE_MODEL_ID,
        CLOZE_MODEL_NAME,
        fields=[{"name": n} for n in CLOZE_FIELDS],
        templates=list(CLOZE_TEMPLATES),
        css=CSS,
        model_type=genanki.Model.CLOZE,
    )
    return qa, cloze


class _Package(genanki.Package):  # type: ignore[misc]
    """genanki's package (schema, collection, decks, note types) with the notes written in bulk:
    each note keeps its own modification time, and its cards are known, not re-derived."""

    def __init__(self, decks: Sequence[genanki.Deck], rows: Sequence[_Row]) -> None:
        super().__init__(list(decks))
        self.rows = rows

    def write_to_db(self, cursor: Any, timestamp: float, id_gen: Any) -> None:
        super().write_to_db(cursor, timestamp, id_gen)  # everything but the notes
        _insert(cursor, self.rows, next(id_gen))


@dataclass(frozen=True, slots=True)
class _Row:
    guid: str
    model_id: int
    deck_id: int
    deck: str
    mod: int
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    ords: tuple[int, ...]


def _insert(cursor: Any, rows: Sequence[_Row], first_id: int) -> None:
    """Insert notes and their cards, ids counting up from `first_id`; streamed, not listed."""

    def notes() -> Iterator[tuple[object, ...]]:
        for index, row in enumerate(rows):
            tags = " " + " ".join(row.tags) + " "
            fields = "\x1f".join(row.fields)
            yield (first_id + index, row.guid, row.model_id, row.mod, -1, tags, fields, row.fields[0], 0, 0, "")

    def cards() -> Iterator[tuple[object, ...]]:
        card_id = first_id + len(rows)
        for index, row in enumerate(rows):
            for ord_ in row.ords:
                yield (card_id, first_id + index, row.deck_id, ord_, row.mod, -1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, "")
                card_id += 1

    cursor.executemany("INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?)", notes())
    cursor.executemany("INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", cards())


def _rows(identities: Sequence[Identity]) -> list[_Row]:
    """The notes to insert: every one Anki accepts. The card stage drops (and reports) the cards
    Anki would refuse; this is the last check, for what reaches the package by another way (a lock
    file's records of a card made before that check). One refused note would make Anki refuse the
    whole package."""
    rows = []
    for identity in identities:
        card = identity.card
        model_id = CLOZE_MODEL_ID if card.kind == "cloze" else QA_MODEL_ID
        ords = _card_ords(identity)
        if not all(0 <= o < 65536 for o in ords):
            continue
        deck = field_text(card.deck)
        rows.append(
            _Row(
                identity.guid,
                model_id,
                deck_id(deck),
                deck,
                identity.mod,
                fields_of(identity),
                tuple(field_text(t) for t in card.tags),
                ords,
            )
        )
    return rows


def replace_rows(database: Path, guids: Sequence[str], identities: Sequence[Identity]) -> None:
    """In a package's collection database, replace the notes of `guids` with `identities`;
    decks keep in step (a deck that lost its last card goes, a new one comes). `database` is a
    temporary copy of the kept one."""
    conn = _connect(database)
    try:
        cursor = conn.cursor()
        for start in range(0, len(guids), 500):  # one scan a chunk: the guid column has no index
            chunk = list(guids[start : start + 500])
            cursor.execute(f"DELETE FROM notes WHERE guid IN ({','.join('?' * len(chunk))})", chunk)
        cursor.execute("DELETE FROM cards WHERE nid NOT IN (SELECT id FROM notes)")
        rows = _rows(identities)
        (highest,) = cursor.execute(
            "SELECT max(max(coalesce((SELECT max(id) FROM notes), 0)), coalesce((SELECT max(id) FROM cards), 0))"
        ).fetchone()
        _insert(cursor, rows, int(highest or 0) + 1)
        (decks_json,) = cursor.execute("SELECT decks FROM col").fetchone()
        decks = json.loads(decks_json)
        for row in rows:
            if str(row.deck_id) not in decks:
                decks[str(row.deck_id)] = genanki.Deck(row.deck_id, row.deck).to_json()
        used = {str(d) for (d,) in cursor.execute("SELECT DISTINCT did FROM cards")}
        decks = {k: v for k, v in decks.items() if k in used or k == "1"}
        cursor.execute("UPDATE col SET decks = ?", (json.dumps(decks),))
        conn.commit()
    finally:
        conn.close()


def archive(database: Path, media: Sequence[tuple[str, Path]], path: Path) -> None:
    """Zip a collection database and its media into a package, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The database compresses about 8x (text, repeated templates); images are compressed already.
    # Level 1 takes most of the gain at a fraction of the default level's time.
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zipped:
        zipped.write(database, "collection.anki2")
        zipped.writestr("media", json.dumps({str(i): name for i, (name, _) in enumerate(media)}))
        for index, (_, source) in enumerate(media):
            zipped.write(source, str(index), compress_type=zipfile.ZIP_STORED)


_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")


def _card_ords(identity: Identity) -> tuple[int, ...]:
    if identity.card.kind == "cloze":
        return tuple(sorted({int(n) - 1 for n in _CLOZE_NUMBER.findall(identity.front)})) or (0,)
    return (0, 1) if identity.card.reverse else (0,)


def card_count(identity: Identity) -> int:
    """How many Anki cards an identity's note has."""
    return len(_card_ords(identity))


def fields_of(identity: Identity) -> tuple[str, ...]:
    """The field values of an identity's Anki note, in the note type's field order."""
    card = identity.card
    if card.kind == "cloze":
        fields: tuple[str, ...] = (identity.front, card.extra, card.context, card.source, identity.guid)
    else:
        fields = (
            identity.front,
            card.back,
            card.extra,
            card.context,
            card.source,
            "y" if card.reverse else "",
            identity.guid,
        )
    return tuple(field_text(f) for f in fields)  # U+001F would split a field in two


@lru_cache(maxsize=4096)
def deck_id(name: str) -> int:
    """A stable id for a deck name (Anki matches decks by name; the id only has to be stable)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:6], "big") + (1 << 50)


def write(
    identities: Sequence[Identity], path: Path, timestamp: float | None = None, database: Path | None = None
) -> None:
    """Write the package atomically: a crash leaves the previous package intact. Its collection
    database is written at `database` (where the state keeps it, see `state.keeping_database`),
    else in a scratch file."""
    qa_model, cloze_model = _models()
    rows = _rows(identities)
    decks: dict[str, genanki.Deck] = {}
    for row in rows:
        if row.deck not in decks:
            deck = decks[row.deck] = genanki.Deck(row.deck_id, row.deck)
            deck.add_model(qa_model)
            deck.add_model(cloze_model)
    media = sorted({m.name: m.path for identity in identities for m in identity.card.media}.items())
    stamp = time.time() if timestamp is None else timestamp
    with _storage_errors(path), nullcontext(database) if database is not None else _scratch_database() as where:
        _write_database(_Package(list(decks.values()), rows), where, stamp)
        archive(where, media, path)


@contextmanager
def _storage_errors(path: Path) -> Iterator[None]:
    """A write that fails for lack of room (a full disk, a file-size limit) as an `OutputError`
    naming the file; SQLite reports it as a database error, not an `OSError`."""
    try:
        yield
    except sqlite3.Error as exc:
        name = getattr(exc, "sqlite_errorname", "")
        if name == "SQLITE_FULL":
            reason = "disk full"
        elif name.startswith("SQLITE_IOERR") or "disk I/O error" in str(exc):
            reason = f"disk full or file too large (SQLite: {exc})"
        else:
            reason = str(exc)
        raise OutputError(f"cannot write {printable(str(path))}: {reason}") from None
    except OSError as exc:
        # os.replace names (temporary, final)
        raise OutputError.writing(exc.filename2 or exc.filename or path, exc) from None


@contextmanager
def _scratch_database() -> Iterator[Path]:
    # genanki would leave a copy of every collection it writes in the temporary folder.
    with tempfile.TemporaryDirectory(prefix="flashgen-package-") as folder:
        yield Path(folder) / "collection.anki2"


def _connect(database: Path) -> sqlite3.Connection:
    """A connection to a database that is a temporary file until it is complete (it replaces the
    kept one by a rename, or is zipped and dropped): no journal, no waiting for the disk. A build
    killed midway leaves only the temporary file, which the next build removes; with a journal it
    would also leave a `-journal` file beside it."""
    conn = sqlite3.connect(database)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    return conn


def _write_database(package: _Package, database: Path, stamp: float) -> None:
    conn = _connect(database)
    try:
        package.write_to_db(conn.cursor(), stamp, itertools.count(int(stamp * 1000)))
        conn.commit()
    finally:
        conn.close()
