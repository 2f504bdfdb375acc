"""A sync target: a running Anki, through the AnkiConnect add-on's HTTP API (version 6)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .media import MediaFile
from .package import CLOZE_MODEL_NAME, QA_MODEL_NAME
from .sync import AnkiNote, SyncError

DEFAULT_URL = "http://127.0.0.1:8765"
API_VERSION = 6
CHUNK = 500  # notes per notesInfo request


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

    def managed(self, guids: set[str]) -> dict[str, AnkiNote]:
        """flashgen's notes in Anki, by the GUID kept in their ID field (AnkiConnect does not show GUIDs)."""
        self.check()
        models = set(self.invoke("modelNames"))
        query = " OR ".join(f'"note:{name}"' for name in (QA_MODEL_NAME, CLOZE_MODEL_NAME) if name in models)
        if not query:
            return {}
        ids = self.invoke("findNotes", query=query)
        found: dict[str, AnkiNote] = {}
        for start in range(0, len(ids), CHUNK):
            infos = self.invoke("notesInfo", notes=ids[start : start + CHUNK])
            card_ids = [c for info in infos for c in info.get("cards", ())]
            decks = {c["cardId"]: c["deckName"] for c in self.invoke("cardsInfo", cards=card_ids)} if card_ids else {}
            for info in infos:
                fields = {name: value["value"] for name, value in info.get("fields", {}).items()}
                guid = fields.get("ID", "")
                if guid in guids:
                    cards = tuple((c, decks.get(c, "")) for c in info.get("cards", ()))
                    found[guid] = AnkiNote(info["noteId"], guid, info["modelName"], fields, tuple(info["tags"]), cards)
        return found

    def import_package(self, path: Path) -> None:
        self.invoke("importPackage", path=str(path.resolve()))

    def update(self, note: AnkiNote, fields: Mapping[str, str], tags: Sequence[str]) -> None:
        self.invoke("updateNote", note={"id": note.id, "fields": dict(fields), "tags": list(tags)})

    def move(self, cards: Sequence[int], deck: str) -> None:
        self.invoke("changeDeck", cards=list(cards), deck=deck)

    def delete(self, notes: Sequence[int]) -> None:
        self.invoke("deleteNotes", notes=list(notes))

    def store_media(self, files: Sequence[MediaFile]) -> None:
        for media in files:
            self.invoke("storeMediaFile", filename=media.name, path=str(media.path.resolve()))

    def __repr__(self) -> str:  # never the key
        return f"AnkiConnect({self.url!r})"
