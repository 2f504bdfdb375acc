"""A sync target: an Anki collection file, written through the official `anki` package.

Anki keeps its collection locked while it is open; then this target refuses rather than risk
the user's data. Install the `anki` package to use it (`pip install 'flashgen[collection]'`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from .media import MediaFile
from .package import CLOZE_MODEL_NAME, QA_MODEL_NAME
from .sync import AnkiNote, SyncError


class AnkiCollection:
    """Opens the collection on entering, closes it (saving) on leaving."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.col: Any = None

    def __enter__(self) -> AnkiCollection:
        try:
            from anki.collection import Collection
            from anki.errors import DBError
        except ImportError:
            raise SyncError(
                "syncing a collection file needs the anki package: pip install 'flashgen[collection]'"
            ) from None
        if not self.path.is_file():
            raise SyncError(f"{self.path}: no such Anki collection (collection.anki2 in your Anki profile folder)")
        try:
            self.col = Collection(str(self.path))
        except DBError as exc:
            raise SyncError(
                f"{self.path} is in use ({exc}); close Anki (or sync through AnkiConnect while it runs)"
            ) from None
        except Exception as exc:
            raise SyncError(f"{self.path}: cannot open the collection: {exc}") from None
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if self.col is not None:
            self.col.close()
            self.col = None

    def managed(self, guids: set[str], known: Mapping[str, int] | None = None) -> dict[str, AnkiNote]:
        """flashgen's notes by their GUID, which the collection shows (`known` is not needed)."""
        col = self.col
        names = [n for n in (QA_MODEL_NAME, CLOZE_MODEL_NAME) if col.models.by_name(n)]
        if not names:
            return {}
        found: dict[str, AnkiNote] = {}
        for note_id in col.find_notes(" OR ".join(f'"note:{n}"' for n in names)):
            note = col.get_note(note_id)
            if note.guid not in guids:
                continue
            cards = tuple((card.id, col.decks.name(card.did)) for card in note.cards())
            fields = dict(note.items())
            found[note.guid] = AnkiNote(note.id, note.guid, note.note_type()["name"], fields, tuple(note.tags), cards)
        return found

    def import_package(self, path: Path) -> None:
        from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

        request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions())
        self.col.import_anki_package(request)

    def update(self, changes: Sequence[tuple[AnkiNote, Mapping[str, str], Sequence[str]]]) -> None:
        notes = []
        for note, fields, tags in changes:
            anki_note = self.col.get_note(note.id)
            for name, value in fields.items():
                if name in anki_note:
                    anki_note[name] = value
            anki_note.tags = list(tags)
            notes.append(anki_note)
        self.col.update_notes(notes)  # one undoable step, one transaction

    def move(self, cards: Sequence[int], deck: str) -> None:
        deck_id = self.col.decks.id(deck, create=True)
        self.col.set_deck(list(cards), deck_id)

    def delete(self, notes: Sequence[int]) -> None:
        self.col.remove_notes(list(notes))

    def store_media(self, files: Sequence[MediaFile]) -> None:
        for media in files:
            self.col.media.write_data(media.name, media.path.read_bytes())
