"""A loopback AnkiConnect (API version 6) server on top of a real Anki collection.

Tests of code that talks to Anki through the AnkiConnect add-on start one of these
around a fresh :class:`anki.collection.Collection` and point the client at ``.url``::

    with AnkiConnectServer(col) as server:
        client = AnkiConnectClient(server.url)   # the code under test
        ...
        assert col.find_notes("deck:Biology")

Behaviour follows the AnkiConnect add-on (https://git.foosoft.net/alex/anki-connect,
plugin/__init__.py and plugin/web.py): the request/reply envelope, error strings,
parameter names and result shapes are the add-on's. Every action runs on a single
worker thread while holding :attr:`AnkiConnectServer.lock`, because a Collection must
not be used from two threads at once; a test that inspects the collection while
requests may be in flight should hold the same lock.

Known, deliberate differences from the add-on (see also the docstrings below):

* there is no GUI, so ``requestPermission`` never prompts (unknown origins are denied)
  and ``sync`` is a no-op returning ``None``;
* ``storeMediaFile`` (and note media) refuse ``url`` sources: tests run without network;
* ``notesInfo``'s ``profile`` is the ``profile`` given to the server (default "User 1").
"""

from __future__ import annotations

import base64
import glob
import hashlib
import json
import os
import re
import threading
import unicodedata
import urllib.request
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from anki.collection import (
    Collection,
    DeckIdLimit,
    ExportAnkiPackageOptions,
    ImportAnkiPackageOptions,
    ImportAnkiPackageRequest,
    StripHtmlMode,
)
from anki.consts import MODEL_CLOZE
from anki.errors import NotFoundError
from anki.notes import Note
from anki.utils import checksum

API_VERSION = 6
DEFAULT_PROFILE = "User 1"
DEFAULT_CORS_ORIGINS = ("http://localhost",)

# What the add-on's `importPackage` ends up running on current Anki: it calls
# anki.importing.AnkiPackageImporter, which Anki now implements as
# import_anki_package with exactly these options (anki/importing.py).
ANKICONNECT_IMPORT_OPTIONS = ImportAnkiPackageOptions(
    merge_notetypes=True, with_scheduling=True, with_deck_configs=True
)

_ILLEGAL_MEDIA_CHARS = re.compile(r'[][><:"/?*^\\|\0\r\n]')  # MediaManager.stripIllegal


class AnkiConnectError(Exception):
    """An AnkiConnect reply whose ``error`` was not null (raised by :meth:`AnkiConnectServer.invoke`)."""


def _action(func: Callable[..., Any]) -> Callable[..., Any]:
    func._ankiconnect_action = True  # type: ignore[attr-defined]
    return func


def _note_not_found(note_id: object) -> NotFoundError:
    return NotFoundError(f"Note was not found: {note_id}", None, None, None)


def _card_not_found(card_id: object) -> NotFoundError:
    return NotFoundError(f"Card was not found: {card_id}", None, None, None)


class _Actions:
    """The AnkiConnect actions, one method each, named and parameterised like the add-on's.

    Parameters are passed as ``method(**params)``, so unknown or missing parameters fail
    with the same TypeError text the add-on returns.
    """

    def __init__(self, server: AnkiConnectServer) -> None:
        self._server = server
        self.col = server.col

    # -- helpers ---------------------------------------------------------------------

    def _get_note(self, note_id: int) -> Note:
        try:
            return self.col.get_note(note_id)
        except NotFoundError:
            raise _note_not_found(note_id) from None

    def _media_dir(self) -> str:
        return self.col.media.dir()

    def _fields_of(self, note: Note) -> dict[str, dict[str, Any]]:
        notetype = note.note_type()
        assert notetype is not None
        return {f["name"]: {"value": note.fields[f["ord"]], "order": f["ord"]} for f in notetype["flds"]}

    def _create_note(self, note: dict[str, Any]) -> tuple[Note, int]:
        """Build (not add) a note and find its deck id; raise like the add-on's createNote."""
        col = self.col
        model = col.models.by_name(note["modelName"])
        if model is None:
            raise Exception("model was not found: {}".format(note["modelName"]))
        deck = col.decks.by_name(note["deckName"])
        if deck is None:
            raise Exception("deck was not found: {}".format(note["deckName"]))

        anki_note = col.new_note(model)
        if "tags" in note:
            anki_note.tags = list(note["tags"])
        field_names = anki_note.keys()
        for name, value in note["fields"].items():
            for anki_name in field_names:
                if name.lower() == anki_name.lower():
                    anki_note[anki_name] = value
                    break
        self._add_media_from_note(anki_note, note)

        allow_duplicate = False
        scope = None
        scope_deck_name = None
        check_children = False
        check_all_models = False
        options = note.get("options") or {}
        if "allowDuplicate" in options:
            allow_duplicate = options["allowDuplicate"]
            if type(allow_duplicate) is not bool:
                raise Exception('option parameter "allowDuplicate" must be boolean')
        if "duplicateScope" in options:
            scope = options["duplicateScope"]
        scope_options = options.get("duplicateScopeOptions") or {}
        if "deckName" in scope_options:
            scope_deck_name = scope_options["deckName"]
        if "checkChildren" in scope_options:
            check_children = scope_options["checkChildren"]
            if type(check_children) is not bool:
                raise Exception('option parameter "duplicateScopeOptions.checkChildren" must be boolean')
        if "checkAllModels" in scope_options:
            check_all_models = scope_options["checkAllModels"]
            if type(check_all_models) is not bool:
                raise Exception('option parameter "duplicateScopeOptions.checkAllModels" must be boolean')

        state = self._duplicate_or_empty(
            anki_note, deck["id"], scope, scope_deck_name, check_children, check_all_models
        )
        if state == 1:
            raise Exception("cannot create note because it is empty")
        if state == 2:
            if allow_duplicate:
                return anki_note, deck["id"]
            raise Exception("cannot create note because it is a duplicate")
        if state == 0:
            return anki_note, deck["id"]
        raise Exception("cannot create note for unknown reason")

    def _duplicate_or_empty(
        self,
        note: Note,
        deck_id: int,
        scope: str | None,
        scope_deck_name: str | None,
        check_children: bool,
        check_all_models: bool,
    ) -> int:
        """0 = fine, 1 = first field empty, 2 = duplicate, other = Anki's other field-check states."""
        if scope != "deck" and not check_all_models:
            # Anki's own check: same note type, anywhere in the collection.
            return int(note.fields_check())
        first = note.fields[0]
        if not first.strip():
            return 1
        deck_ids: set[int] | None = None
        if scope == "deck":
            did = deck_id
            if scope_deck_name is not None:
                other = self.col.decks.by_name(scope_deck_name)
                if other is None:
                    return 0  # no such deck, so nothing in it can be a duplicate
                did = other["id"]
            deck_ids = {did}
            if check_children:
                deck_ids.update(child_id for _, child_id in self.col.decks.children(did))
        sql = "select id from notes where csum=?"
        # anki.utils.field_checksum needs the GUI's translations; ask this collection's backend instead.
        stripped = self.col._backend.strip_html(text=first, mode=StripHtmlMode.PRESERVE_MEDIA_FILENAMES)
        args: list[Any] = [int(checksum(stripped)[:8], 16)]
        if note.id:
            sql += " and id!=?"
            args.append(note.id)
        if not check_all_models:
            sql += " and mid=?"
            args.append(note.mid)
        for nid in self.col.db.list(sql, *args):
            if deck_ids is None:
                return 2
            if any(did in deck_ids for did in self.col.db.list("select did from cards where nid=?", nid)):
                return 2
        return 0

    def _add_media_from_note(self, anki_note: Note, note: dict[str, Any]) -> None:
        for key, kind in (("audio", "sound"), ("video", "sound"), ("picture", "picture")):
            media = note.get(key)
            if media is None:
                continue
            for item in media if isinstance(media, list) else [media]:
                if item is None or len(item["fields"]) == 0:
                    continue
                try:
                    stored = self.storeMediaFile(
                        item["filename"],
                        data=item.get("data"),
                        path=item.get("path"),
                        url=item.get("url"),
                        skipHash=item.get("skipHash"),
                        # The add-on passes .get(), so note media keep existing files by default.
                        deleteExisting=item.get("deleteExisting"),
                    )
                    if stored is not None:
                        tag = f'<img src="{stored}">' if kind == "picture" else f"[sound:{stored}]"
                        for field in item["fields"]:
                            if field in anki_note:
                                anki_note[field] += tag
                except Exception as e:
                    message = str(e).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                    for field in item["fields"]:
                        if field in anki_note:
                            anki_note[field] += message

    # -- miscellaneous ---------------------------------------------------------------

    @_action
    def version(self) -> int:
        return API_VERSION

    @_action
    def requestPermission(self, origin: str, allowed: bool) -> dict[str, Any]:
        # `origin` and `allowed` are filled in by the HTTP layer, as in the add-on. Without
        # a GUI there is nobody to ask, so an origin that is not allowed is denied.
        if allowed:
            return {"permission": "granted", "requireApikey": bool(self._server.api_key), "version": API_VERSION}
        return {"permission": "denied"}

    @_action
    def getProfiles(self) -> list[str]:
        return [self._server.profile]

    @_action
    def getActiveProfile(self) -> str:
        return self._server.profile

    @_action
    def sync(self) -> None:
        # The add-on syncs with AnkiWeb; a test collection has nowhere to sync to.
        return None

    @_action
    def multi(self, actions: list[dict[str, Any]]) -> list[Any]:
        # Each entry is handled exactly like a top-level request: its own "version"
        # (default 4, i.e. a bare result) and its own "key".
        return [self._server._handle(action) for action in actions]

    # -- decks -----------------------------------------------------------------------

    @_action
    def deckNames(self) -> list[str]:
        return [d.name for d in self.col.decks.all_names_and_ids()]

    @_action
    def deckNamesAndIds(self) -> dict[str, int]:
        return {d.name: d.id for d in self.col.decks.all_names_and_ids()}

    @_action
    def getDecks(self, cards: list[int]) -> dict[str, list[int]]:
        decks: dict[str, list[int]] = {}
        for cid in cards:
            did = self.col.db.scalar("select did from cards where id=?", cid)
            deck = self.col.decks.get(did)
            assert deck is not None
            decks.setdefault(deck["name"], []).append(cid)
        return decks

    @_action
    def createDeck(self, deck: str) -> int:
        did = self.col.decks.id(deck)
        assert did is not None
        return int(did)

    @_action
    def deckNameFromId(self, deckId: int) -> str:
        deck = self.col.decks.get(deckId)  # like the add-on: an unknown id falls back to Default
        if deck is None:
            raise Exception(f"deck was not found: {deckId}")
        return str(deck["name"])

    @_action
    def changeDeck(self, cards: list[int], deck: str) -> None:
        did = self.col.decks.id(deck)
        assert did is not None
        # Like the add-on: take cards out of filtered decks, then move them (creating the deck).
        self.col.set_deck(cards, did)

    @_action
    def deleteDecks(self, decks: list[str], cardsToo: bool = False) -> None:
        if not cardsToo:
            raise Exception("Since Anki 2.1.28 it's not possible to delete decks without deleting cards as well")
        existing = {d.name: d.id for d in self.col.decks.all_names_and_ids()}
        self.col.decks.remove([existing[name] for name in decks if name in existing])

    # -- note types ------------------------------------------------------------------

    @_action
    def modelNames(self) -> list[str]:
        return [m.name for m in self.col.models.all_names_and_ids()]

    @_action
    def modelNamesAndIds(self) -> dict[str, int]:
        return {m.name: m.id for m in self.col.models.all_names_and_ids()}

    def _model(self, modelName: str) -> dict[str, Any]:
        model = self.col.models.by_name(modelName)
        if model is None:
            raise Exception(f"model was not found: {modelName}")
        return model

    @_action
    def modelFieldNames(self, modelName: str) -> list[str]:
        return [f["name"] for f in self._model(modelName)["flds"]]

    @_action
    def modelTemplates(self, modelName: str) -> dict[str, dict[str, str]]:
        return {t["name"]: {"Front": t["qfmt"], "Back": t["afmt"]} for t in self._model(modelName)["tmpls"]}

    @_action
    def modelStyling(self, modelName: str) -> dict[str, str]:
        return {"css": self._model(modelName)["css"]}

    @_action
    def updateModelTemplates(self, model: dict[str, Any]) -> None:
        anki_model = self._model(model["name"])
        for template in anki_model["tmpls"]:
            given = model["templates"].get(template["name"])
            if given:
                if given.get("Front"):
                    template["qfmt"] = given["Front"]
                if given.get("Back"):
                    template["afmt"] = given["Back"]
        self.col.models.update_dict(anki_model)

    @_action
    def updateModelStyling(self, model: dict[str, Any]) -> None:
        anki_model = self._model(model["name"])
        anki_model["css"] = model["css"]
        self.col.models.update_dict(anki_model)

    @_action
    def createModel(
        self,
        modelName: str,
        inOrderFields: list[str],
        cardTemplates: list[dict[str, str]],
        css: str | None = None,
        isCloze: bool = False,
    ) -> dict[str, Any]:
        if len(inOrderFields) == 0:
            raise Exception("Must provide at least one field for inOrderFields")
        if len(cardTemplates) == 0:
            raise Exception("Must provide at least one card for cardTemplates")
        mm = self.col.models
        if modelName in [m.name for m in mm.all_names_and_ids()]:
            raise Exception("Model name already exists")
        model = mm.new(modelName)
        if isCloze:
            model["type"] = MODEL_CLOZE
        for name in inOrderFields:
            mm.add_field(model, mm.new_field(name))
        if css is not None:
            model["css"] = css
        for number, card in enumerate(cardTemplates, start=1):
            template = mm.new_template(card.get("Name", f"Card {number}"))
            template["qfmt"] = card["Front"]
            template["afmt"] = card["Back"]
            mm.add_template(model, template)
        mm.add(model)
        return model  # the full note type dict, as the add-on returns it

    # -- notes -----------------------------------------------------------------------

    @_action
    def findNotes(self, query: str | None = None) -> list[int]:
        if query is None:
            return []
        return [int(nid) for nid in self.col.find_notes(query)]

    @_action
    def findCards(self, query: str | None = None) -> list[int]:
        if query is None:
            return []
        return [int(cid) for cid in self.col.find_cards(query)]

    @_action
    def cardsToNotes(self, cards: list[int]) -> list[int]:
        placeholders = ",".join("?" * len(cards))
        return self.col.db.list(f"select distinct nid from cards where id in ({placeholders})", *cards)

    @_action
    def notesInfo(self, notes: list[int] | None = None, query: str | None = None) -> list[dict[str, Any]]:
        if notes is None and query is None:
            raise Exception('Must provide either "notes" or a "query"')
        if query is not None:
            notes = self.findNotes(query)
        assert notes is not None
        result: list[dict[str, Any]] = []
        for nid in notes:
            try:
                note = self._get_note(nid)
            except NotFoundError:
                result.append({})  # keeps input and output lists aligned, like the add-on
                continue
            notetype = note.note_type()
            assert notetype is not None
            result.append(
                {
                    "noteId": note.id,
                    "profile": self._server.profile,
                    "tags": list(note.tags),
                    "fields": self._fields_of(note),
                    "modelName": notetype["name"],
                    "mod": note.mod,
                    "cards": self.col.db.list("select id from cards where nid=? order by ord", note.id),
                }
            )
        return result

    @_action
    def notesModTime(self, notes: list[int]) -> list[dict[str, int]]:
        result: list[dict[str, int]] = []
        for nid in notes:
            try:
                note = self._get_note(nid)
            except NotFoundError:
                result.append({})
                continue
            result.append({"noteId": note.id, "mod": note.mod})
        return result

    @_action
    def cardsInfo(self, cards: list[int]) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = []
        for cid in cards:
            try:
                card = self.col.get_card(cid)
            except NotFoundError:
                result.append({})
                continue
            note = card.note()
            notetype = card.note_type()
            try:
                states = self.col._backend.get_scheduling_states(card.id)
                next_reviews = list(self.col._backend.describe_next_states(states))
            except Exception:
                next_reviews = []
            result.append(
                {
                    "cardId": card.id,
                    "fields": self._fields_of(note),
                    "fieldOrder": card.ord,
                    "question": card.question(),
                    "answer": card.answer(),
                    "modelName": notetype["name"],
                    "ord": card.ord,
                    "deckName": self.deckNameFromId(card.did),
                    "css": notetype["css"],
                    "factor": card.factor,
                    "interval": card.ivl,
                    "note": card.nid,
                    "type": int(card.type),
                    "queue": int(card.queue),
                    "due": card.due,
                    "reps": card.reps,
                    "lapses": card.lapses,
                    "left": card.left,
                    "mod": card.mod,
                    "nextReviews": next_reviews,
                    "flags": card.flags,
                }
            )
        return result

    @_action
    def getReviewsOfCards(self, cards: list[int | str]) -> dict[str, list[dict[str, Any]]]:
        """Each card's review log, oldest first, keyed by the card id as a string (the add-on's shape)."""
        result: dict[str, list[dict[str, Any]]] = {}
        for cid in cards:
            rows = self.col.db.all(
                "select id, usn, ease, ivl, lastIvl, factor, time, type from revlog where cid = ? order by id", int(cid)
            )
            keys = ("id", "usn", "ease", "ivl", "lastIvl", "factor", "time", "type")
            result[str(cid)] = [dict(zip(keys, row, strict=True)) for row in rows]
        return result

    @_action
    def addNote(self, note: dict[str, Any]) -> int:
        anki_note, deck_id = self._create_note(note)
        self.col.add_note(anki_note, deck_id)
        if len(anki_note.card_ids()) < 1:
            raise Exception("The field values you have provided would make an empty question on all cards.")
        return int(anki_note.id)

    @_action
    def addNotes(self, notes: list[dict[str, Any]]) -> list[int | None]:
        if self._server.atomic_add_notes:
            # Newest add-on releases: collect every error, undo the notes that were
            # added, and fail the whole request with str(list_of_error_messages).
            added: list[int] = []
            errors: list[str] = []
            for note in notes:
                try:
                    added.append(self.addNote(note))
                except Exception as e:
                    errors.append(str(e))
            if errors:
                self.deleteNotes(added)
                raise Exception(str(errors))
            return list(added)
        results: list[int | None] = []
        for note in notes:
            try:
                results.append(self.addNote(note))
            except Exception:
                results.append(None)
        return results

    @_action
    def canAddNotes(self, notes: list[dict[str, Any]]) -> list[bool]:
        results = []
        for note in notes:
            try:
                self._create_note(note)
                results.append(True)
            except Exception:
                results.append(False)
        return results

    @_action
    def canAddNotesWithErrorDetail(self, notes: list[dict[str, Any]]) -> list[dict[str, Any]]:
        results: list[dict[str, Any]] = []
        for note in notes:
            try:
                self._create_note(note)
                results.append({"canAdd": True})
            except Exception as e:
                results.append({"canAdd": False, "error": str(e)})
        return results

    @_action
    def updateNoteFields(self, note: dict[str, Any]) -> None:
        anki_note = self._get_note(note["id"])
        for name, value in note["fields"].items():
            if name in anki_note:  # exact (case-sensitive) names; unknown ones are ignored
                anki_note[name] = value
        self._add_media_from_note(anki_note, note)
        self.col.update_note(anki_note, skip_undo_entry=True)

    @_action
    def updateNote(self, note: dict[str, Any]) -> None:
        updated = False
        if "fields" in note:
            self.updateNoteFields(note)
            updated = True
        if "tags" in note:
            self.updateNoteTags(note["id"], note["tags"])
            updated = True
        if not updated:
            raise Exception('Must provide a "fields" or "tags" property.')

    @_action
    def updateNoteTags(self, note: int, tags: str | list[str]) -> None:
        if isinstance(tags, str):
            tags = [tags]
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise Exception("Must provide tags as a list of strings")
        old = self.getNoteTags(note)
        if old:
            self.col.tags.bulk_remove([note], " ".join(old))
        if tags:
            self.col.tags.bulk_add([note], " ".join(tags))

    @_action
    def getNoteTags(self, note: int) -> list[str]:
        return list(self._get_note(note).tags)

    @_action
    def addTags(self, notes: list[int], tags: str, add: bool = True) -> None:
        if add:
            self.col.tags.bulk_add(notes, tags)
        else:
            self.col.tags.bulk_remove(notes, tags)

    @_action
    def removeTags(self, notes: list[int], tags: str) -> None:
        self.addTags(notes, tags, False)

    @_action
    def getTags(self) -> list[str]:
        return self.col.tags.all()

    @_action
    def clearUnusedTags(self) -> None:
        self.col.tags.clear_unused_tags()

    @_action
    def deleteNotes(self, notes: list[int]) -> None:
        self.col.remove_notes(notes)

    # -- media -----------------------------------------------------------------------

    @_action
    def storeMediaFile(
        self,
        filename: str,
        data: str | None = None,
        path: str | None = None,
        url: str | None = None,
        skipHash: str | None = None,
        deleteExisting: bool | None = True,
    ) -> str | None:
        if not (data or path or url):
            raise Exception('You must provide a "data", "path", or "url" field.')
        if data:
            content = base64.b64decode(data)
        elif path:
            with open(path, "rb") as f:
                content = f.read()
        else:
            raise Exception(f"storeMediaFile: this test server does not download urls ({url})")
        if skipHash is not None and hashlib.md5(content).hexdigest() == skipHash:
            return None
        if deleteExisting:
            self.deleteMediaFile(filename)
        return self.col.media.write_data(filename, content)

    @_action
    def retrieveMediaFile(self, filename: str) -> str | bool:
        filename = os.path.basename(filename)
        filename = unicodedata.normalize("NFC", filename)
        filename = _ILLEGAL_MEDIA_CHARS.sub("", filename)
        path = os.path.join(self._media_dir(), filename)
        if os.path.exists(path):
            with open(path, "rb") as f:
                return base64.b64encode(f.read()).decode("ascii")
        return False

    @_action
    def getMediaFilesNames(self, pattern: str = "*") -> list[str]:
        return [os.path.basename(p) for p in glob.glob(os.path.join(self._media_dir(), pattern))]

    @_action
    def deleteMediaFile(self, filename: str) -> None:
        self.col.media.trash_files([filename])

    @_action
    def getMediaDirPath(self) -> str:
        return os.path.abspath(self._media_dir())

    # -- packages --------------------------------------------------------------------

    @_action
    def importPackage(self, path: str) -> bool:
        # The add-on documents the path as relative to the collection.media folder.
        full = os.path.join(self._media_dir(), path)
        request = ImportAnkiPackageRequest(package_path=full, options=self._server.import_options)
        self.col.import_anki_package(request)
        return True

    @_action
    def exportPackage(self, deck: str, path: str, includeSched: bool = False) -> bool:
        # The add-on runs anki.exporting.AnkiPackageExporter on the deck (and its subdecks), which
        # Anki now implements as export_anki_package with exactly these options (anki/exporting.py):
        # a legacy package, whose collection.anki21 holds the notes with their ids and GUIDs.
        found = self.col.decks.by_name(deck)
        if found is None:
            return False
        options = ExportAnkiPackageOptions(
            with_scheduling=includeSched, with_deck_configs=includeSched, with_media=True, legacy=True
        )
        self.col.export_anki_package(out_path=path, options=options, limit=DeckIdLimit(deck_id=found["id"]))
        return True


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_OPTIONS(self) -> None:
        self._read_body()
        _, cors_origin = self.server.owner._allow_origin(self.headers.get("Origin"))
        extra = []
        if (self.headers.get("Access-Control-Request-Private-Network") or "").lower() == "true":
            extra.append(("Access-Control-Allow-Private-Network", "true"))
        self._reply(200, b"", cors_origin, extra)

    def do_POST(self) -> None:
        owner = self.server.owner
        body = self._read_body()
        origin = self.headers.get("Origin")
        allowed, cors_origin = owner._allow_origin(origin)
        try:
            request = _parse_request(body)
        except ValueError as e:
            if not allowed:
                self._reply(403, b"", cors_origin)
            elif not body:
                self._reply(200, f"AnkiConnect v.{API_VERSION}".encode(), cors_origin)
            else:
                self._reply(200, json.dumps({"result": None, "error": str(e)}).encode(), cors_origin)
            return
        if request["action"] == "requestPermission":
            params = request.setdefault("params", {})
            params["allowed"] = allowed
            params["origin"] = origin or ""
            if not allowed:
                cors_origin = params["origin"]
        elif not allowed:
            self._reply(403, b"", cors_origin)
            return
        reply = owner._submit(request)
        self._reply(200, json.dumps(reply).encode("utf-8"), cors_origin)

    # The add-on answers every method the same way (a browser's GET / has no body).
    do_GET = do_POST
    do_PUT = do_POST

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, cors_origin: str, extra: Iterable[tuple[str, str]] = ()) -> None:
        self.send_response(status)
        if status == 200:
            self.send_header("Content-Type", "application/json")
        self.send_header("Access-Control-Allow-Origin", cors_origin)
        self.send_header("Access-Control-Allow-Headers", "*")
        for name, value in extra:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True


def _parse_request(body: bytes) -> dict[str, Any]:
    """Decode and validate a request like the add-on's JSON schema; ValueError if invalid."""
    request = json.loads(body.decode("utf-8"))  # JSONDecodeError is a ValueError
    if not isinstance(request, dict):
        raise ValueError(f"{request!r} is not of type 'object'")
    if "action" not in request:
        raise ValueError("'action' is a required property")
    action = request["action"]
    if not isinstance(action, str) or not action:
        raise ValueError(f"{action!r} is not a non-empty string")
    if "version" in request and (not isinstance(request["version"], int) or isinstance(request["version"], bool)):
        raise ValueError(f"{request['version']!r} is not of type 'integer'")
    if "params" in request and not isinstance(request["params"], dict):
        raise ValueError(f"{request['params']!r} is not of type 'object'")
    return request


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: AnkiConnectServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _RequestHandler)


class AnkiConnectServer:
    """AnkiConnect's HTTP API (version 6) over a real Collection, on an ephemeral loopback port.

    ``api_key``: when set, every request (and every action inside ``multi``) must carry it as
    ``"key"``; when unset, a request that sends a non-null key is refused, as by the add-on.
    ``atomic_add_notes``: ``False`` (default) gives the long-standing ``addNotes`` contract,
    ``null`` in the result for each note that could not be added; ``True`` gives the newest
    add-on's all-or-nothing behaviour (an error listing every failure, nothing added).
    ``import_options``: what ``importPackage`` passes to ``import_anki_package``; defaults to
    the options the add-on's importer uses on current Anki.
    """

    def __init__(
        self,
        col: Collection,
        api_key: str | None = None,
        *,
        profile: str = DEFAULT_PROFILE,
        cors_origins: Iterable[str] = DEFAULT_CORS_ORIGINS,
        atomic_add_notes: bool = False,
        import_options: ImportAnkiPackageOptions | None = None,
    ) -> None:
        self.col = col
        self.api_key = api_key
        self.profile = profile
        self.cors_origins = list(cors_origins)
        self.atomic_add_notes = atomic_add_notes
        self.import_options = import_options if import_options is not None else ANKICONNECT_IMPORT_OPTIONS
        self.lock = threading.RLock()
        self._log_lock = threading.Lock()
        #: Every top-level request that reached the action handler, in arrival order.
        self.requests: list[dict[str, Any]] = []
        actions = _Actions(self)
        self._actions: dict[str, Callable[..., Any]] = {
            name: getattr(actions, name)
            for name in dir(_Actions)
            if getattr(getattr(_Actions, name), "_ankiconnect_action", False)
        }
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._worker: ThreadPoolExecutor | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> AnkiConnectServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ankiconnect-collection")
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="ankiconnect-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None and self._worker is not None
        self._thread.join()
        self._worker.shutdown(wait=True)
        self._httpd = self._thread = self._worker = None

    def __enter__(self) -> AnkiConnectServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def actions(self) -> list[str]:
        return sorted(self._actions)

    # -- a small client, for tests ---------------------------------------------------

    def post(self, payload: dict[str, Any], *, headers: dict[str, str] | None = None) -> Any:
        """POST a JSON request over HTTP and return the decoded reply."""
        data = json.dumps(payload).encode("utf-8")
        request = urllib.request.Request(self.url, data=data, method="POST", headers=headers or {})
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read().decode("utf-8"))

    def invoke(self, action: str, **params: Any) -> Any:
        """Call one action (version 6, with the server's api key) and return its result or raise AnkiConnectError."""
        payload: dict[str, Any] = {"action": action, "version": API_VERSION, "params": params}
        if self.api_key is not None:
            payload["key"] = self.api_key
        reply = self.post(payload)
        if set(reply) != {"result", "error"}:
            raise AnkiConnectError(f"malformed reply: {reply!r}")
        if reply["error"] is not None:
            raise AnkiConnectError(reply["error"])
        return reply["result"]

    # -- request handling ------------------------------------------------------------

    def _allow_origin(self, origin: str | None) -> tuple[bool, str]:
        if "*" in self.cors_origins:
            return True, "*"
        if origin is None:
            return True, "http://localhost"
        if origin in self.cors_origins:
            return True, origin
        if "http://localhost" in self.cors_origins and (
            origin in ("http://127.0.0.1", "https://127.0.0.1")
            or origin.startswith(("http://127.0.0.1:", "chrome-extension://", "moz-extension://"))
            or origin.startswith("safari-web-extension://")
        ):
            return True, origin
        return False, "http://localhost"

    def _submit(self, request: dict[str, Any]) -> Any:
        """Run one request on the collection's worker thread and wait for its reply."""
        worker = self._worker
        if worker is None:
            return {"result": None, "error": "collection is not available"}
        with self._log_lock:
            self.requests.append(request)
        return worker.submit(self._handle, request).result()

    def _handle(self, request: dict[str, Any]) -> Any:
        name = request.get("action", "")
        version = request.get("version", 4)
        params = request.get("params", {})
        key = request.get("key")
        with self.lock:
            try:
                if key != self.api_key and name != "requestPermission":
                    raise Exception("valid api key must be provided")
                method = self._actions.get(name)
                if method is None:
                    raise Exception("unsupported action")
                result = method(**params)
            except Exception as e:
                return {"result": None, "error": str(e)}
        if isinstance(version, int) and version <= 4:
            return result  # versions up to 4 get the bare result
        return {"result": result, "error": None}


__all__ = ["ANKICONNECT_IMPORT_OPTIONS", "API_VERSION", "AnkiConnectError", "AnkiConnectServer"]
