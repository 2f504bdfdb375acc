"""A sync target: a running Anki, through the AnkiConnect add-on's HTTP API (version 6)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .media import MediaFile
from .package import CLOZE_MODEL_NAME, QA_MODEL_NAME
from .sync import AnkiNote, SyncError

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
CHUNK = 500  # notes per notesInfo request
BATCH = 250  # actions per multi request: few requests, none so large that the add-on's GUI thread stalls


class AnkiConnect:
    """AnkiConnect client and sync target. The API key, when set, is sent but never shown."""

    def __init__(self, url: str = DEFAULT_URL, key: str | None = None, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self._key = key
        self.timeout = timeout

    def invoke(self, action: str, **params: Any) -> Any:
        request: dict[str, Any] = {"action": action, "version": API_VERSION, "params": params}
        if self._key:
            request["key"] = self._key
        body = json.dumps(request).encode("utf-8")
        http = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(http, timeout=self.timeout) as response:
                reply = json.loads(response.read().decode("utf-8"))
        except urllib.error.URLError as exc:
            raise SyncError(
                f"cannot reach Anki at {self.url} ({getattr(exc, 'reason', exc)}): is Anki running, "
                "with the AnkiConnect add-on installed (add-on code 2055492159)?"
            ) from None
        except (OSError, ValueError) as exc:
            raise SyncError(f"no AnkiConnect answer from {self.url}: {exc}") from None
        if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
            raise SyncError(f"{self.url} does not speak AnkiConnect version {API_VERSION} (is the add-on up to date?)")
        if reply["error"] is not None:
            raise SyncError(f"AnkiConnect refused {action}: {reply['error']}")
        return reply["result"]

    def check(self) -> None:
        version = self.invoke("version")
        if not isinstance(version, int) or version < API_VERSION:
            raise SyncError(f"AnkiConnect at {self.url} speaks version {version}; flashgen needs {API_VERSION}")

    def managed(self, guids: set[str], known: Mapping[str, int] | None = None) -> dict[str, AnkiNote]:
        """flashgen's notes in Anki, recognised by their GUID.

        AnkiConnect shows no GUIDs, and a note's ID field is no proof: Anki's Create Copy keeps
        every field, and only the copy's GUID differs. So the notes whose ID field names one of
        `guids` are candidates, and the decks that hold them are exported (the add-on's
        `exportPackage`) to read the GUIDs of their notes; a note is flashgen's only by its GUID.
        A note id an earlier sync recognised so (`known`: note ids never change or return) spares
        the export for its GUID.
        """
        self.check()
        models = set(self.invoke("modelNames"))
        query = " OR ".join(f'"note:{name}"' for name in (QA_MODEL_NAME, CLOZE_MODEL_NAME) if name in models)
        if not query:
            return {}
        ids = self.invoke("findNotes", query=query)
        candidates: list[tuple[dict[str, Any], dict[str, str], tuple[tuple[int, str], ...]]] = []
        for start in range(0, len(ids), CHUNK):
            infos = [i for i in self.invoke("notesInfo", notes=ids[start : start + CHUNK]) if i]
            card_ids = [c for info in infos for c in info.get("cards", ())]
            decks = {c["cardId"]: c["deckName"] for c in self.invoke("cardsInfo", cards=card_ids)} if card_ids else {}
            for info in infos:
                fields = {name: value["value"] for name, value in info.get("fields", {}).items()}
                if fields.get("ID", "") in guids:
                    cards = tuple((c, decks.get(c, "")) for c in info.get("cards", ()))
                    candidates.append((info, fields, cards))

        def note(
            info: dict[str, Any], guid: str, fields: dict[str, str], cards: tuple[tuple[int, str], ...]
        ) -> AnkiNote:
            return AnkiNote(info["noteId"], guid, info["modelName"], fields, tuple(info["tags"]), cards)

        found: dict[str, AnkiNote] = {}
        for info, fields, cards in candidates:
            if known and known.get(fields["ID"]) == info["noteId"]:
                found[fields["ID"]] = note(info, fields["ID"], fields, cards)
        unknown = [c for c in candidates if c[1]["ID"] not in found]
        if not unknown:
            return found
        real = self._guids({deck for _, _, cards in unknown for _, deck in cards if deck})
        for info, fields, cards in unknown:
            guid = real.get(info["noteId"])
            if guid is not None and guid in guids and guid not in found:
                found[guid] = note(info, guid, fields, cards)
        return found

    def _guids(self, decks: set[str]) -> dict[int, str]:
        """The GUID of every note in `decks` (and their subdecks), by note id, read from packages
        of those decks that the add-on exports (its `exportPackage`, without scheduling)."""
        tops = sorted(d for d in decks if not any(d.startswith(other + "::") for other in decks))
        found: dict[int, str] = {}
        with tempfile.TemporaryDirectory(prefix="flashgen-guids-") as folder:
            for number, deck in enumerate(tops):
                path = Path(folder) / f"deck-{number}.apkg"
                if self.invoke("exportPackage", deck=deck, path=str(path.resolve()), includeSched=False) is not True:
                    raise SyncError(
                        f"AnkiConnect could not export the deck {deck!r} to tell flashgen's notes from copies"
                    )
                found.update(_note_guids(path, Path(folder) / f"deck-{number}.db"))
        return found

    def import_package(self, path: Path) -> None:
        self.invoke("importPackage", path=str(path.resolve()))

    def update(self, changes: Sequence[tuple[AnkiNote, Mapping[str, str], Sequence[str]]]) -> None:
        self.batch(
            ("updateNote", {"note": {"id": note.id, "fields": dict(fields), "tags": list(tags)}})
            for note, fields, tags in changes
        )

    def batch(self, actions: Iterable[tuple[str, dict[str, Any]]]) -> list[Any]:
        """Several actions in few requests (the add-on's `multi`, BATCH at a time); their results,
        or a SyncError naming the first action the add-on refused."""
        results: list[Any] = []
        pending = list(actions)
        for start in range(0, len(pending), BATCH):
            chunk = pending[start : start + BATCH]
            calls: list[dict[str, Any]] = [
                {"action": name, "version": API_VERSION, "params": params} for name, params in chunk
            ]
            if self._key:  # the add-on checks each action of a multi like a request of its own
                for call in calls:
                    call["key"] = self._key
            replies = self.invoke("multi", actions=calls)
            if not isinstance(replies, list) or len(replies) != len(calls):
                raise SyncError(
                    f"{self.url}: AnkiConnect's multi answered {len(replies or [])} of {len(calls)} actions"
                )
            for (name, _), reply in zip(chunk, replies, strict=True):
                if not isinstance(reply, dict) or set(reply) != {"result", "error"}:
                    raise SyncError(f"{self.url}: malformed answer to {name} in a multi request")
                if reply["error"] is not None:
                    raise SyncError(f"AnkiConnect refused {name}: {reply['error']}")
                results.append(reply["result"])
        return results

    def move(self, cards: Sequence[int], deck: str) -> None:
        self.invoke("changeDeck", cards=list(cards), deck=deck)

    def delete(self, notes: Sequence[int]) -> None:
        self.invoke("deleteNotes", notes=list(notes))

    def store_media(self, files: Sequence[MediaFile]) -> None:
        self.batch(("storeMediaFile", {"filename": m.name, "path": str(m.path.resolve())}) for m in files)

    def __repr__(self) -> str:  # never the key
        return f"AnkiConnect({self.url!r})"


def _note_guids(package: Path, scratch: Path) -> dict[int, str]:
    """Note ids and GUIDs in a legacy package (`collection.anki21`, or `collection.anki2` from
    Anki versions before 2.1.50), read as data through SQLite."""
    try:
        with zipfile.ZipFile(package) as archive:
            names = set(archive.namelist())
            member = next((n for n in ("collection.anki21", "collection.anki2") if n in names), None)
            if member is None:
                raise SyncError(
                    f"the deck AnkiConnect exported holds no collection flashgen can read ({sorted(names)})"
                )
            with archive.open(member) as source, open(scratch, "wb") as target:
                shutil.copyfileobj(source, target)
        connection = sqlite3.connect(f"{scratch.resolve().as_uri()}?mode=ro", uri=True)
        try:
            return {int(nid): str(guid) for nid, guid in connection.execute("select id, guid from notes")}
        finally:
            connection.close()
    except (OSError, zipfile.BadZipFile, sqlite3.Error) as exc:
        raise SyncError(f"cannot read the deck AnkiConnect exported: {exc}") from None
