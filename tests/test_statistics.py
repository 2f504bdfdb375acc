"""Issue 19: study statistics read back from a real Anki collection name the takeaways to rewrite.

The deck is built, imported into a real collection, and studied through Anki's own scheduler:
some cards are failed again and again (leeches), one is suspended, one is deleted. `stats` must
name exactly those takeaways, with their `path:line`, and write nothing to the collection.
"""

from __future__ import annotations

import json
from pathlib import Path

from anki.collection import Collection
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner

from flashgen.cli import main
from flashgen.config import load_options
from flashgen.statistics import study

from .conftest import Anki, Builder, lock_cards, write_notes

NOTE = """\
---
title: Bees
---
Key takeaways:
- Honey bees communicate the direction of food with the **waggle dance**.
- A colony's queen mates once in her life, during the **nuptial flight**.
- Bees see ultraviolet light, which guides them to nectar through **nectar guides**.
- Worker bees make wax from glands on their **abdomen**.
"""
OTHER = """\
---
title: Owls
---
Key takeaways:
- Owls fly almost silently thanks to the **serrated edges** of their flight feathers.
- An owl cannot move its eyes, so it turns its **head** up to 270 degrees.
- Barn owls find mice in the dark by **sound** alone.
- An owl's pellet holds the **bones** of its prey.
"""


def _answer(col: Collection, rating_for: dict[str, CardAnswer], default: CardAnswer, *, once: bool = False) -> None:
    """Answer the cards the scheduler offers now, with the rating chosen for each note's GUID, until
    none is left (or, with `once`, until one card with a chosen rating has been answered)."""
    col.decks.select(col.decks.id_for_name("notes"))  # the top deck: its subdecks' cards too
    for _ in range(500):
        queued = col.sched.get_queued_cards(fetch_limit=1)
        if not queued.cards:
            return
        top = queued.cards[0]
        card = col.get_card(top.card.id)
        card.start_timer()
        guid = card.note().guid
        col.sched.answer_card(
            col.sched.build_answer(card=card, states=top.states, rating=rating_for.get(guid, default))
        )
        if once and guid in rating_for:
            return
    raise AssertionError("the scheduler kept offering cards")


def _lapse(col: Collection, guid: str, times: int) -> None:
    """Make a review card fail `times` times: due it today, answer Again, then relearn it."""
    card_ids = _card_ids(col, guid)
    for _ in range(times):
        col.sched.set_due_date(card_ids, "0")
        _answer(col, {guid: CardAnswer.AGAIN}, CardAnswer.GOOD, once=True)
        _answer(col, {}, CardAnswer.GOOD)  # the relearning step


def _note_id(col: Collection, guid: str) -> int:
    note_id = col.db.scalar("select id from notes where guid = ?", guid)
    assert note_id, f"no note with GUID {guid}"
    return int(note_id)


def _card_ids(col: Collection, guid: str) -> list[int]:
    return [card.id for card in col.get_note(_note_id(col, guid)).cards()]


def _guids_by_line(lock_path: Path, name: str) -> dict[int, list[str]]:
    by_line: dict[int, list[str]] = {}
    for record in lock_cards(lock_path):
        if record["path"] == name:
            by_line.setdefault(record["line"], []).append(record["guid"])
    return by_line


def test_stats_names_the_leeches_suspended_and_deleted_takeaways(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    notes = write_notes(tmp_path / "notes", {"bees.md": NOTE, "owls.md": OTHER})
    out = tmp_path / "decks"
    run_build(notes, output=out)
    anki.import_package(out / "notes.apkg")
    col = anki.col
    bees = _guids_by_line(out / "notes.lock.json", "bees.md")
    owls = _guids_by_line(out / "notes.lock.json", "owls.md")
    assert sorted(bees) == [5, 6, 7, 8] and sorted(owls) == [5, 6, 7, 8]

    _answer(col, {}, CardAnswer.EASY)  # every card graduates
    waggle = bees[5][0]
    _lapse(col, waggle, 9)  # past Anki's leech threshold (8): tagged leech
    head = owls[6][0]
    _lapse(col, head, 4)  # failing often, not yet a leech
    nuptial = _card_ids(col, bees[6][0])
    col.sched.suspend_cards(nuptial)
    col.remove_notes([_note_id(col, bees[8][0])])
    assert "leech" in col.get_note(_note_id(col, waggle)).tags
    collection = Path(col.path)  # still open, as when Anki runs
    modified_before, notes_before = col.mod, sorted(col.find_notes(""))

    found = study(load_options([notes], output=out), collection)
    reasons = {f.location: set(f.reasons) for f in found.findings}
    assert set(reasons) == {"bees.md:5", "bees.md:6", "bees.md:8", "owls.md:6"}
    assert {"leech", "fails often"} <= reasons["bees.md:5"]
    assert reasons["bees.md:6"] == {"suspended"}
    assert reasons["bees.md:8"] == {"deleted"}
    assert "fails often" in reasons["owls.md:6"] and "leech" not in reasons["owls.md:6"]
    assert found.per_note["bees.md"][2] >= 9

    result = CliRunner().invoke(
        main, ["stats", str(notes), "-o", str(out), "--collection", str(collection), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {row["location"] for row in rows} == set(reasons)

    assert col.mod == modified_before  # nothing was written to the collection
    assert sorted(col.find_notes("")) == notes_before


def test_a_rewritten_takeaway_keeps_its_history_and_leaves_the_list(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    """The loop: stats points at a takeaway, the author rewrites it, the rebuilt deck updates the
    card in place (same note, review history kept), and its lapses still show until it is learned."""
    notes = write_notes(tmp_path / "notes", {"owls.md": OTHER})
    out = tmp_path / "decks"
    run_build(notes, output=out)
    anki.import_package(out / "notes.apkg")
    col = anki.col
    _answer(col, {}, CardAnswer.EASY)
    head = _guids_by_line(out / "notes.lock.json", "owls.md")[6][0]
    _lapse(col, head, 4)
    note_id = _note_id(col, head)
    reviews_before = col.db.scalar("select count() from revlog r join cards c on r.cid = c.id where c.nid = ?", note_id)

    rewritten = OTHER.replace(
        "An owl cannot move its eyes, so it turns its **head** up to 270 degrees.",
        "Because its eyes are fixed in their sockets, an owl turns its **head** up to 270 degrees.",
    )
    (notes / "owls.md").write_text(rewritten, encoding="utf-8")
    report = run_build(notes, output=out)
    assert report.plan["updated"] >= 1 and report.plan["added"] == 0
    anki.import_package(out / "notes.apkg")
    assert _note_id(col, head) == note_id  # the same Anki note, updated in place
    assert "fixed in their sockets" in col.get_note(note_id).fields[0] + col.get_note(note_id).fields[1]
    reviews_after = col.db.scalar("select count() from revlog r join cards c on r.cid = c.id where c.nid = ?", note_id)
    assert reviews_after == reviews_before  # history kept
    found = study(load_options([notes], output=out), Path(col.path))
    assert [f.location for f in found.findings] == ["owls.md:6"]  # still failing: its history is its own


def test_stats_through_ankiconnect_match_the_collection_and_ignore_copies(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    """The same figures through a running Anki (AnkiConnect, on the real collection), with read
    actions only; a copy the user made of a flashgen note (same fields, new GUID) and failed again
    and again is not flashgen's, so it names no takeaway."""
    from flashgen.ankiconnect import AnkiConnect

    from .ankiconnect_server import AnkiConnectServer

    notes = write_notes(tmp_path / "notes", {"owls.md": OTHER})
    out = tmp_path / "decks"
    run_build(notes, output=out)
    anki.import_package(out / "notes.apkg")
    col = anki.col
    _answer(col, {}, CardAnswer.EASY)
    by_line = _guids_by_line(out / "notes.lock.json", "owls.md")
    original = col.get_note(_note_id(col, by_line[5][0]))
    copy = col.new_note(original.note_type())  # Anki's Create Copy: every field, a new GUID
    for index, value in enumerate(original.fields):
        copy.fields[index] = value
    col.add_note(copy, original.cards()[0].did)
    _answer(col, {}, CardAnswer.EASY)
    _lapse(col, copy.guid, 5)
    _lapse(col, by_line[6][0], 4)

    options = load_options([notes], output=out)
    with AnkiConnectServer(col) as server:
        through_anki = study(options, client=AnkiConnect(server.url))
        actions = {request["action"] for request in server.requests}
    assert [f.location for f in through_anki.findings] == ["owls.md:6"]
    assert through_anki.findings == study(options, Path(col.path)).findings
    writes = actions - {
        "version",
        "modelNames",
        "findNotes",
        "notesInfo",
        "cardsInfo",
        "exportPackage",
        "getReviewsOfCards",
    }
    assert writes == set()
