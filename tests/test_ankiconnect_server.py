"""The loopback AnkiConnect server: every action over real HTTP, checked against the real collection."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import genanki
import pytest
from anki.collection import Collection

from tests.ankiconnect_server import AnkiConnectError, AnkiConnectServer
from tests.conftest import Anki

CSS = ".card { font-family: serif; }"


@pytest.fixture
def col(anki: Anki) -> Collection:
    return anki.col


@pytest.fixture
def server(col: Collection) -> Iterator[AnkiConnectServer]:
    with AnkiConnectServer(col) as running:
        yield running


def post(url: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    """POST raw JSON with urllib and decode the reply (whatever its shape)."""
    data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    request = urllib.request.Request(url, data=data, method="POST", headers=headers or {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def make_model(server: AnkiConnectServer, name: str = "Flashgen Basic", **extra: Any) -> dict[str, Any]:
    return server.invoke(  # type: ignore[no-any-return]
        "createModel",
        modelName=name,
        inOrderFields=["Front", "Back", "Source"],
        css=CSS,
        cardTemplates=[{"Name": "Recall", "Front": "{{Front}}", "Back": "{{FrontSide}}<hr id=answer>{{Back}}"}],
        **extra,
    )


def note(front: str, back: str = "back", deck: str = "Biology", **extra: Any) -> dict[str, Any]:
    return {"deckName": deck, "modelName": "Flashgen Basic", "fields": {"Front": front, "Back": back}, **extra}


@pytest.fixture
def ready(server: AnkiConnectServer) -> AnkiConnectServer:
    """A server whose collection has the test note type and a Biology deck."""
    make_model(server)
    server.invoke("createDeck", deck="Biology")
    return server


def deck_of(col: Collection, nid: int) -> str:
    return col.decks.name(col.get_note(nid).cards()[0].did)


# -- protocol ------------------------------------------------------------------------


def test_envelope_version_and_unknown_action(server: AnkiConnectServer) -> None:
    assert post(server.url, {"action": "version", "version": 6}) == {"result": 6, "error": None}
    assert post(server.url, {"action": "version"}) == 6  # no version: 4, a bare result
    assert post(server.url, {"action": "noSuchAction", "version": 6}) == {"result": None, "error": "unsupported action"}
    bad_param = post(server.url, {"action": "deckNames", "version": 6, "params": {"foobar": 1}})
    assert bad_param["result"] is None
    assert "unexpected keyword argument 'foobar'" in bad_param["error"]
    assert post(server.url, b"{not json")["error"]
    assert post(server.url, {"version": 6})["error"]  # no action
    assert server.url.startswith("http://127.0.0.1:") and server.port > 0


def test_get_options_and_cors(server: AnkiConnectServer) -> None:
    with urllib.request.urlopen(server.url + "/", timeout=30) as response:
        assert response.status == 200
        assert response.read() == b"AnkiConnect v.6"
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost"

    options = urllib.request.Request(
        server.url,
        method="OPTIONS",
        headers={"Origin": "http://127.0.0.1:3000", "Access-Control-Request-Private-Network": "true"},
    )
    with urllib.request.urlopen(options, timeout=30) as response:
        assert response.status == 200
        assert response.read() == b""
        assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:3000"
        assert response.headers["Access-Control-Allow-Headers"] == "*"
        assert response.headers["Access-Control-Allow-Private-Network"] == "true"

    with pytest.raises(urllib.error.HTTPError) as refused:
        post(server.url, {"action": "deckNames", "version": 6}, headers={"Origin": "https://evil.example"})
    assert refused.value.code == 403
    refused.value.close()

    denied = post(server.url, {"action": "requestPermission", "version": 6}, headers={"Origin": "https://evil.example"})
    assert denied == {"result": {"permission": "denied"}, "error": None}
    granted = post(server.url, {"action": "requestPermission", "version": 6})
    assert granted == {"result": {"permission": "granted", "requireApikey": False, "version": 6}, "error": None}


def test_api_key(col: Collection) -> None:
    with AnkiConnectServer(col, api_key="s3cret") as server:
        refused = {"result": None, "error": "valid api key must be provided"}
        assert post(server.url, {"action": "deckNames", "version": 6}) == refused
        assert post(server.url, {"action": "deckNames", "version": 6, "key": "wrong"}) == refused
        assert post(server.url, {"action": "deckNames", "version": 6, "key": "s3cret"}) == {
            "result": ["Default"],
            "error": None,
        }
        permission = post(server.url, {"action": "requestPermission", "version": 6})  # needs no key
        assert permission["result"]["requireApikey"] is True
        # multi checks the key of every inner action, as the add-on does
        reply = post(
            server.url,
            {
                "action": "multi",
                "version": 6,
                "key": "s3cret",
                "params": {"actions": [{"action": "version", "version": 6}, {"action": "version", "key": "s3cret"}]},
            },
        )
        assert reply == {"result": [refused, 6], "error": None}
        assert server.invoke("version") == 6  # the helper sends the key
    with AnkiConnectServer(col) as server:  # no key configured: sending one is refused, like the add-on
        assert post(server.url, {"action": "version", "version": 6, "key": "x"})["error"] == refused["error"]


def test_multi_sync_and_profiles(server: AnkiConnectServer) -> None:
    reply = post(
        server.url,
        {
            "action": "multi",
            "version": 6,
            "params": {
                "actions": [
                    {"action": "deckNames"},
                    {"action": "deckNames", "version": 6},
                    {"action": "invalidAction", "params": {"useless": "param"}},
                    {"action": "invalidAction", "params": {"useless": "param"}, "version": 6},
                    {"action": "createDeck", "version": 6, "params": {"deck": "Made In Multi"}},
                ]
            },
        },
    )
    made = server.col.decks.id_for_name("Made In Multi")
    assert reply == {
        "result": [
            ["Default"],
            {"result": ["Default"], "error": None},
            {"result": None, "error": "unsupported action"},
            {"result": None, "error": "unsupported action"},
            {"result": made, "error": None},
        ],
        "error": None,
    }
    assert server.invoke("sync") is None
    assert server.invoke("getProfiles") == ["User 1"]
    assert server.invoke("getActiveProfile") == "User 1"
    assert [r["action"] for r in server.requests] == ["multi", "sync", "getProfiles", "getActiveProfile"]


# -- decks and note types -------------------------------------------------------------


def test_decks(server: AnkiConnectServer, col: Collection) -> None:
    did = server.invoke("createDeck", deck="Biology::Cells")
    assert did == col.decks.id_for_name("Biology::Cells")
    assert server.invoke("createDeck", deck="Biology::Cells") == did  # idempotent
    assert server.invoke("deckNames") == ["Biology", "Biology::Cells", "Default"]
    assert server.invoke("deckNamesAndIds") == {
        "Biology": col.decks.id_for_name("Biology"),
        "Biology::Cells": did,
        "Default": 1,
    }
    assert server.invoke("deckNameFromId", deckId=did) == "Biology::Cells"
    with pytest.raises(AnkiConnectError, match="not possible to delete decks without deleting cards"):
        server.invoke("deleteDecks", decks=["Biology"])
    server.invoke("deleteDecks", decks=["Biology", "Nope"], cardsToo=True)
    assert col.decks.id_for_name("Biology") is None


def test_create_model(server: AnkiConnectServer, col: Collection) -> None:
    created = make_model(server)
    model = col.models.by_name("Flashgen Basic")
    assert model is not None
    assert created["id"] == model["id"] and created["name"] == "Flashgen Basic"
    assert [f["name"] for f in model["flds"]] == ["Front", "Back", "Source"]
    assert [(t["name"], t["qfmt"]) for t in model["tmpls"]] == [("Recall", "{{Front}}")]
    assert model["css"] == CSS and model["type"] == 0
    assert "Flashgen Basic" in server.invoke("modelNames")
    assert server.invoke("modelNamesAndIds")["Flashgen Basic"] == model["id"]
    assert server.invoke("modelFieldNames", modelName="Flashgen Basic") == ["Front", "Back", "Source"]
    assert server.invoke("modelTemplates", modelName="Flashgen Basic") == {
        "Recall": {"Front": "{{Front}}", "Back": "{{FrontSide}}<hr id=answer>{{Back}}"}
    }
    assert server.invoke("modelStyling", modelName="Flashgen Basic") == {"css": CSS}
    with pytest.raises(AnkiConnectError, match=r"^Model name already exists$"):
        make_model(server)
    with pytest.raises(AnkiConnectError, match=r"^model was not found: Nope$"):
        server.invoke("modelFieldNames", modelName="Nope")

    server.invoke(
        "createModel",
        modelName="Flashgen Cloze",
        inOrderFields=["Text", "Extra"],
        isCloze=True,
        cardTemplates=[{"Front": "{{cloze:Text}}", "Back": "{{cloze:Text}}<br>{{Extra}}"}],
    )
    cloze = col.models.by_name("Flashgen Cloze")
    assert cloze is not None and cloze["type"] == 1 and cloze["tmpls"][0]["name"] == "Card 1"

    server.invoke("updateModelStyling", model={"name": "Flashgen Basic", "css": ".card { color: red; }"})
    server.invoke(
        "updateModelTemplates", model={"name": "Flashgen Basic", "templates": {"Recall": {"Front": "Q: {{Front}}"}}}
    )
    model = col.models.by_name("Flashgen Basic")
    assert model is not None and model["css"] == ".card { color: red; }"
    assert model["tmpls"][0]["qfmt"] == "Q: {{Front}}" and model["tmpls"][0]["afmt"].endswith("{{Back}}")


# -- notes ---------------------------------------------------------------------------


def test_add_note_notes_info_and_cards_info(ready: AnkiConnectServer, col: Collection) -> None:
    nid = ready.invoke("addNote", note=note("What is ATP?", "Energy currency", tags=["bio", "cells"]))
    stored = col.get_note(nid)
    assert stored["Front"] == "What is ATP?" and stored["Back"] == "Energy currency" and stored["Source"] == ""
    assert sorted(stored.tags) == ["bio", "cells"]
    assert deck_of(col, nid) == "Biology"
    assert ready.invoke("findNotes", query="deck:Biology") == [nid]
    assert ready.invoke("findNotes") == []

    info = ready.invoke("notesInfo", notes=[nid, 424242])
    assert info[1] == {}  # unknown ids keep their place
    assert info[0] == {
        "noteId": nid,
        "profile": "User 1",
        "tags": ["bio", "cells"],
        "fields": {
            "Front": {"value": "What is ATP?", "order": 0},
            "Back": {"value": "Energy currency", "order": 1},
            "Source": {"value": "", "order": 2},
        },
        "modelName": "Flashgen Basic",
        "mod": stored.mod,
        "cards": list(stored.card_ids()),
    }
    assert list(info[0]) == ["noteId", "profile", "tags", "fields", "modelName", "mod", "cards"]
    assert ready.invoke("notesInfo", query="ATP") == info[:1]
    with pytest.raises(AnkiConnectError, match='Must provide either "notes" or a "query"'):
        ready.invoke("notesInfo")

    (cid,) = stored.card_ids()
    assert ready.invoke("findCards", query=f"nid:{nid}") == [cid]
    assert ready.invoke("cardsToNotes", cards=[cid]) == [nid]
    assert ready.invoke("getDecks", cards=[cid]) == {"Biology": [cid]}
    (card,) = ready.invoke("cardsInfo", cards=[cid])
    assert card["cardId"] == cid and card["note"] == nid
    assert card["deckName"] == "Biology" and card["modelName"] == "Flashgen Basic"
    assert card["interval"] == 0 and card["reps"] == 0 and card["type"] == 0 and card["queue"] == 0
    assert card["due"] == col.get_card(cid).due
    assert card["fields"]["Front"] == {"value": "What is ATP?", "order": 0}
    assert "What is ATP?" in card["question"] and "Energy currency" in card["answer"]
    assert card["css"] == CSS and card["ord"] == 0 and card["fieldOrder"] == 0
    assert {"factor", "lapses", "left", "mod", "nextReviews", "flags"} <= set(card)
    assert ready.invoke("cardsInfo", cards=[999]) == [{}]
    assert ready.invoke("notesModTime", notes=[nid]) == [{"noteId": nid, "mod": stored.mod}]


def test_add_note_errors_and_duplicates(ready: AnkiConnectServer, col: Collection) -> None:
    first = ready.invoke("addNote", note=note("Mitochondria"))

    def add_error(n: dict[str, Any]) -> str:
        with pytest.raises(AnkiConnectError) as error:
            ready.invoke("addNote", note=n)
        return str(error.value)

    assert add_error(note("Mitochondria")) == "cannot create note because it is a duplicate"
    assert add_error(note("")) == "cannot create note because it is empty"
    assert add_error(note("x", deck="Nowhere")) == "deck was not found: Nowhere"
    assert add_error({**note("x"), "modelName": "Nope"}) == "model was not found: Nope"
    assert (
        add_error(note("x", options={"allowDuplicate": "yes"})) == 'option parameter "allowDuplicate" must be boolean'
    )

    # duplicates are global by default, per deck with duplicateScope "deck"
    ready.invoke("createDeck", deck="Chemistry")
    assert add_error(note("Mitochondria", deck="Chemistry")) == "cannot create note because it is a duplicate"
    other_deck = ready.invoke(
        "addNote", note=note("Mitochondria", deck="Chemistry", options={"duplicateScope": "deck"})
    )
    assert deck_of(col, other_deck) == "Chemistry"
    in_deck = {"duplicateScope": "deck"}
    assert add_error(note("Mitochondria", options=in_deck)) == "cannot create note because it is a duplicate"
    scoped_elsewhere = {"duplicateScope": "deck", "duplicateScopeOptions": {"deckName": "Chemistry::Organic"}}
    assert ready.invoke("canAddNotes", notes=[note("Mitochondria", options=scoped_elsewhere)]) == [True]
    ready.invoke("createDeck", deck="Chemistry::Organic")
    with_children = {
        "duplicateScope": "deck",
        "duplicateScopeOptions": {"deckName": "Chemistry", "checkChildren": True},
    }
    assert ready.invoke(
        "canAddNotes", notes=[note("Mitochondria", deck="Chemistry::Organic", options=with_children)]
    ) == [False]
    make_model(ready, name="Other Type")
    other_type = {**note("Mitochondria"), "modelName": "Other Type"}
    all_models = {"duplicateScopeOptions": {"checkAllModels": True}}
    assert ready.invoke("canAddNotes", notes=[other_type, {**other_type, "options": all_models}]) == [True, False]
    allowed = ready.invoke("addNote", note=note("Mitochondria", options={"allowDuplicate": True}))
    assert len(col.find_notes("Mitochondria")) == 3 and len({first, other_deck, allowed}) == 3

    # field names match case-insensitively; unknown fields are ignored
    nid = ready.invoke("addNote", note={**note("x"), "fields": {"front": "lower", "SOURCE": "s", "Nope": "n"}})
    assert col.get_note(nid).fields == ["lower", "", "s"]

    assert ready.invoke("canAddNotes", notes=[note("Mitochondria"), note("Fresh"), note("")]) == [False, True, False]
    assert ready.invoke("canAddNotesWithErrorDetail", notes=[note("Fresh"), note("Mitochondria")]) == [
        {"canAdd": True},
        {"canAdd": False, "error": "cannot create note because it is a duplicate"},
    ]
    assert not col.find_notes("Fresh")  # canAdd* never adds


def test_add_notes_reports_failures_as_null(ready: AnkiConnectServer, col: Collection) -> None:
    ready.invoke("addNote", note=note("Ribosome"))
    result = ready.invoke("addNotes", notes=[note("Nucleus"), note("Ribosome"), note(""), note("Golgi")])
    assert result[1] is None and result[2] is None
    assert [col.get_note(nid)["Front"] for nid in (result[0], result[3])] == ["Nucleus", "Golgi"]
    assert len(col.find_notes("")) == 3


def test_add_notes_atomic_like_newest_ankiconnect(col: Collection) -> None:
    with AnkiConnectServer(col, atomic_add_notes=True) as server:
        make_model(server)
        server.invoke("createDeck", deck="Biology")
        with pytest.raises(AnkiConnectError) as error:
            server.invoke("addNotes", notes=[note("Nucleus"), note("Nucleus"), note("")])
        assert str(error.value) == str(
            ["cannot create note because it is a duplicate", "cannot create note because it is empty"]
        )
        assert col.find_notes("") == []
        assert len(server.invoke("addNotes", notes=[note("Nucleus"), note("Golgi")])) == 2


def test_update_note_fields_and_tags(ready: AnkiConnectServer, col: Collection) -> None:
    nid = ready.invoke("addNote", note=note("Osmosis", "old", tags=["bio"]))
    assert ready.invoke("updateNoteFields", note={"id": nid, "fields": {"Back": "new", "back": "ignored"}}) is None
    assert col.get_note(nid).fields == ["Osmosis", "new", ""]

    assert ready.invoke("updateNote", note={"id": nid, "fields": {"Source": "ch. 3"}, "tags": ["chem", "exam"]}) is None
    updated = col.get_note(nid)
    assert updated["Source"] == "ch. 3" and sorted(updated.tags) == ["chem", "exam"]
    with pytest.raises(AnkiConnectError, match=re.escape('Must provide a "fields" or "tags" property.')):
        ready.invoke("updateNote", note={"id": nid})
    with pytest.raises(AnkiConnectError, match=r"^Note was not found: 1234$"):
        ready.invoke("updateNoteFields", note={"id": 1234, "fields": {"Back": "x"}})

    ready.invoke("updateNoteTags", note=nid, tags="solo")
    assert ready.invoke("getNoteTags", note=nid) == ["solo"]
    with pytest.raises(AnkiConnectError, match="Must provide tags as a list of strings"):
        ready.invoke("updateNoteTags", note=nid, tags=[1])

    other = ready.invoke("addNote", note=note("Diffusion"))
    assert ready.invoke("addTags", notes=[nid, other], tags="flashgen review") is None
    assert sorted(col.get_note(other).tags) == ["flashgen", "review"]
    assert ready.invoke("removeTags", notes=[nid, other], tags="review solo") is None
    assert col.get_note(nid).tags == ["flashgen"] and col.get_note(other).tags == ["flashgen"]
    assert "flashgen" in ready.invoke("getTags")


def test_change_deck_and_delete_notes(ready: AnkiConnectServer, col: Collection) -> None:
    keep = ready.invoke("addNote", note=note("Keep"))
    drop = ready.invoke("addNote", note=note("Drop"))
    cards = list(col.get_note(keep).card_ids())
    assert ready.invoke("changeDeck", cards=cards, deck="Archive::2024") is None  # creates the deck
    assert deck_of(col, keep) == "Archive::2024" and deck_of(col, drop) == "Biology"

    assert ready.invoke("deleteNotes", notes=[drop]) is None
    assert list(col.find_notes("")) == [keep]
    assert ready.invoke("notesInfo", notes=[drop]) == [{}]


# -- media ---------------------------------------------------------------------------


def test_media_files(ready: AnkiConnectServer, col: Collection, tmp_path: Path) -> None:
    media = Path(col.media.dir())
    data = base64.b64encode(b"hello").decode()
    assert ready.invoke("storeMediaFile", filename="_hello.txt", data=data) == "_hello.txt"
    assert (media / "_hello.txt").read_bytes() == b"hello"

    source = tmp_path / "diagram.svg"
    source.write_bytes(b"<svg/>")
    assert ready.invoke("storeMediaFile", filename="diagram.svg", path=str(source)) == "diagram.svg"
    assert (media / "diagram.svg").read_bytes() == b"<svg/>"

    # deleteExisting (default true) replaces a file of the same name; skipHash skips identical data
    again = base64.b64encode(b"hello, again").decode()
    assert ready.invoke("storeMediaFile", filename="_hello.txt", data=again) == "_hello.txt"
    assert (media / "_hello.txt").read_bytes() == b"hello, again"
    digest = hashlib.md5(b"hello, again").hexdigest()
    assert ready.invoke("storeMediaFile", filename="_hello.txt", data=again, skipHash=digest) is None

    with pytest.raises(AnkiConnectError, match=re.escape('You must provide a "data", "path", or "url" field.')):
        ready.invoke("storeMediaFile", filename="x.png")
    with pytest.raises(AnkiConnectError, match="does not download urls"):
        ready.invoke("storeMediaFile", filename="x.png", url="https://example.invalid/x.png")

    assert ready.invoke("retrieveMediaFile", filename="_hello.txt") == again
    assert ready.invoke("retrieveMediaFile", filename="missing.png") is False
    assert sorted(ready.invoke("getMediaFilesNames")) == ["_hello.txt", "diagram.svg"]
    assert ready.invoke("getMediaFilesNames", pattern="*.svg") == ["diagram.svg"]
    assert ready.invoke("getMediaDirPath") == str(media.resolve())
    ready.invoke("deleteMediaFile", filename="diagram.svg")
    assert not (media / "diagram.svg").exists()

    png = base64.b64encode(b"\x89PNG fake").decode()
    nid = ready.invoke(
        "addNote",
        note=note("Cell", picture=[{"filename": "cell.png", "data": png, "fields": ["Back"]}]),
    )
    assert col.get_note(nid)["Back"] == 'back<img src="cell.png">'
    assert (media / "cell.png").read_bytes() == b"\x89PNG fake"


# -- packages ------------------------------------------------------------------------


def build_apkg(path: Path, fronts: list[str]) -> Path:
    model = genanki.Model(
        1607392319,
        "Genanki Basic",
        fields=[{"name": "Question"}, {"name": "Answer"}],
        templates=[{"name": "Card 1", "qfmt": "{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"}],
    )
    deck = genanki.Deck(2059400110, "Imported::Genetics")
    for front in fronts:
        deck.add_note(genanki.Note(model=model, fields=[front, f"answer to {front}"], tags=["imported"]))
    genanki.Package(deck).write_to_file(str(path))
    return path


def test_import_package(server: AnkiConnectServer, col: Collection, tmp_path: Path) -> None:
    apkg = build_apkg(tmp_path / "genetics.apkg", ["What is DNA?", "What is RNA?"])
    assert server.invoke("importPackage", path=str(apkg)) is True
    imported = {col.get_note(nid)["Question"]: col.get_note(nid) for nid in col.find_notes("deck:Imported::Genetics")}
    assert set(imported) == {"What is DNA?", "What is RNA?"}
    dna = imported["What is DNA?"]
    assert dna["Answer"] == "answer to What is DNA?" and dna.tags == ["imported"]
    assert "Genanki Basic" in server.invoke("modelNames")

    # a relative path is resolved inside collection.media, as the add-on documents
    build_apkg(Path(col.media.dir()) / "more.apkg", ["What is a gene?"])
    assert server.invoke("importPackage", path="more.apkg") is True
    assert len(col.find_notes("deck:Imported::Genetics")) == 3

    with pytest.raises(AnkiConnectError):
        server.invoke("importPackage", path=str(tmp_path / "missing.apkg"))


def test_export_package(server: AnkiConnectServer, col: Collection, tmp_path: Path) -> None:
    """exportPackage writes a deck with its subdecks as a legacy package (the add-on's
    AnkiPackageExporter): its collection.anki21 holds the notes with their ids and GUIDs."""
    import sqlite3
    import zipfile

    server.invoke("importPackage", path=str(build_apkg(tmp_path / "genetics.apkg", ["What is DNA?", "What is RNA?"])))
    mine = col.new_note(col.models.by_name("Basic"))
    mine["Front"] = "elsewhere"
    col.add_note(mine, col.decks.id("Other"))
    out = tmp_path / "export.apkg"
    assert server.invoke("exportPackage", deck="Imported", path=str(out)) is True
    with zipfile.ZipFile(out) as package:
        (tmp_path / "exported.db").write_bytes(package.read("collection.anki21"))
    rows = set(sqlite3.connect(tmp_path / "exported.db").execute("select id, guid from notes"))
    assert rows == {(nid, col.get_note(nid).guid) for nid in col.find_notes("deck:Imported")} and len(rows) == 2
    assert server.invoke("exportPackage", deck="No such deck", path=str(tmp_path / "x.apkg")) is False


# -- threads -------------------------------------------------------------------------


def test_concurrent_requests_do_not_corrupt_the_collection(ready: AnkiConnectServer, col: Collection) -> None:
    errors: list[BaseException] = []
    added: list[int] = []
    added_lock = threading.Lock()

    def client(worker: int) -> None:
        try:
            for i in range(12):
                nid = ready.invoke("addNote", note=note(f"w{worker} n{i}", tags=[f"w{worker}"]))
                ready.invoke("updateNoteFields", note={"id": nid, "fields": {"Source": f"src {worker}/{i}"}})
                ready.invoke("notesInfo", query=f"tag:w{worker}")
                with added_lock:
                    added.append(nid)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=client, args=(w,)) for w in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    assert len(added) == len(set(added)) == 96
    with ready.lock:
        assert sorted(col.find_notes("")) == sorted(added)
        for nid in added:
            stored = col.get_note(nid)
            worker, i = stored["Front"][1:].split(" n")
            assert stored["Source"] == f"src {worker}/{i}" and stored.tags == [f"w{worker}"]
        assert col.db.scalar("pragma integrity_check") == "ok"


def test_requests_wait_for_the_collection_lock(ready: AnkiConnectServer) -> None:
    done = threading.Event()
    results: list[Any] = []

    def call() -> None:
        results.append(ready.invoke("deckNames"))
        done.set()

    with ready.lock:
        thread = threading.Thread(target=call)
        thread.start()
        assert not done.wait(0.3)  # the action cannot run while a test holds the lock
    assert done.wait(30)
    thread.join()
    assert results == [["Biology", "Default"]]
