"""Issue 8: sync adds, updates in place, moves and (when asked) deletes, in real Anki collections,
through a collection file and through AnkiConnect."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from flashgen.ankiconnect import AnkiConnect
from flashgen.build import build
from flashgen.cli import main
from flashgen.collection import AnkiCollection
from flashgen.config import load_options
from flashgen.sync import SyncError, SyncReport, sync

from .ankiconnect_server import AnkiConnectServer
from .conftest import Builder, lock_cards, study, write_notes, write_v1_lock
from .test_rendering import PNG

NOTES = {
    "sleep.md": """
        ---
        title: Why We Sleep
        categories: [Health]
        author: Matthew Walker
        ---
        Key takeaways:
        - Adenosine builds up while we are awake and creates **sleep pressure**.
        - Caffeine blocks **adenosine receptors** for hours after a coffee.
        - REM sleep consolidates **emotional memories** overnight.
        - What does melatonin signal to the body? :: that it is dark
        """,
    "bees.md": """
        ---
        title: The Bee
        categories: [Biology]
        ---
        - Honey bees see **ultraviolet** light.
        - A colony has one **queen** who lays the eggs.
        """,
}


def _plain(html: str) -> str:
    return re.sub(r"\{\{c\d+::(.*?)\}\}", r"\1", re.sub(r"<[^>]+>", "", html))


def _notes_with(col: Collection, text: str) -> list:  # type: ignore[type-arg]
    return [col.get_note(n) for n in col.find_notes("") if text in _plain(" ".join(col.get_note(n).fields))]


def _history(col: Collection, card_id: int) -> tuple[int, int]:
    card = col.get_card(card_id)
    return card.reps, col.db.scalar("select count() from revlog where cid = ?", card_id)


@contextmanager
def _open(path: Path) -> Iterator[Collection]:
    col = Collection(str(path))
    try:
        yield col
    finally:
        col.close()


@pytest.fixture
def collection_file(tmp_path: Path) -> Path:
    path = tmp_path / "profile" / "collection.anki2"
    path.parent.mkdir()
    with _open(path) as col:  # a fresh collection with one note of the user's own
        note = col.new_note(col.models.by_name("Basic"))
        note["Front"], note["Back"] = "A note of my own", "left alone"
        col.add_note(note, col.decks.id("Mine"))
    return path


def _sync_file(vault: Path, out: Path, path: Path, **kwargs: object) -> SyncReport:
    options = load_options([vault], output=out, dry_run=bool(kwargs.pop("dry_run", False)))
    with AnkiCollection(path) as target:
        return sync(options, target, **kwargs)  # type: ignore[arg-type]


def test_sync_collection_file_end_to_end(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"

    report = _sync_file(vault, out, collection_file)
    assert len(report.plan.add) >= 5 and not report.plan.update and report.exit_code == 0
    with _open(collection_file) as col:
        added = len(col.find_notes('"note:flashgen Q/A" OR "note:flashgen Cloze"'))
        assert added == len(report.plan.add)
        assert col.find_notes('"deck:Mine"')  # the user's note is there
        study(col)
        [pressure] = [
            n for n in _notes_with(col, "creates sleep pressure") if n.note_type()["name"] == "flashgen Cloze"
        ]
        bees = _notes_with(col, "ultraviolet")
        pressure.tags.append("marked")
        col.update_note(pressure)
        before = {n.id: [_history(col, c.id) for c in n.cards()] for n in (pressure, *bees)}
        assert all(h[0][0] >= 1 for h in before.values())
        bee_ids = {n.id for n in bees}

    # Edit: reword one takeaway, delete another, move the bees to another category (deck).
    sleep = (vault / "sleep.md").read_text()
    sleep = sleep.replace("creates **sleep pressure**", "builds **sleep pressure**")
    sleep = sleep.replace("- REM sleep consolidates **emotional memories** overnight.\n", "")
    (vault / "sleep.md").write_text(sleep)
    (vault / "bees.md").write_text((vault / "bees.md").read_text().replace("[Biology]", "[Insects]"))

    dry = _sync_file(vault, out, collection_file, dry_run=True)
    assert dry.plan.update and dry.plan.move and dry.plan.kept_removed
    with _open(collection_file) as col:  # a dry run changes nothing
        assert not _notes_with(col, "builds sleep pressure")

    report = _sync_file(vault, out, collection_file)
    assert report.plan.update and report.plan.move and not report.plan.delete and report.plan.kept_removed >= 1
    with _open(collection_file) as col:
        note = col.get_note(pressure.id)
        assert "builds sleep pressure" in _plain(note["Text"])
        assert "marked" in note.tags and "Health" in note.tags  # the user's tag survives the update
        assert [_history(col, c.id) for c in note.cards()] == before[pressure.id]
        for bee in bee_ids:  # moved to the new deck, history kept
            bee_note = col.get_note(bee)
            assert {col.decks.name(c.did) for c in bee_note.cards()} == {"vault::Insects"}
            assert [_history(col, c.id) for c in bee_note.cards()] == before[bee]
        removed = col.find_notes("tag:flashgen::removed")
        assert removed and all("emotional memories" in _plain(" ".join(col.get_note(n).fields)) for n in removed)

    # Deletion only when asked for.
    report = _sync_file(vault, out, collection_file, delete=True)
    assert len(report.plan.delete) == len(removed)
    with _open(collection_file) as col:
        assert not col.find_notes("tag:flashgen::removed")
        assert not _notes_with(col, "emotional memories")
        assert col.find_notes('"deck:Mine"')  # never touched
        assert len(col.find_notes("")) == added + 1 - len(removed)


def test_conflicts_are_left_alone_unless_forced(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        [note] = [n for n in _notes_with(col, "ultraviolet") if n.note_type()["name"] == "flashgen Cloze"]
        note["Text"] = note["Text"] + " (my own remark)"
        col.update_note(note)
    (vault / "bees.md").write_text((vault / "bees.md").read_text().replace("Honey bees see", "Honey bees can see"))

    report = _sync_file(vault, out, collection_file)
    assert [i.guid for i, _ in report.plan.conflicts] == [note.guid] and report.exit_code == 1
    with _open(collection_file) as col:
        assert "(my own remark)" in col.get_note(note.id)["Text"]

    report = _sync_file(vault, out, collection_file, force=True)
    assert not report.plan.conflicts
    with _open(collection_file) as col:
        text = col.get_note(note.id)["Text"]
        assert "(my own remark)" not in text and "can see" in text


def test_deletion_threshold(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    (vault / "bees.md").unlink()
    head = (vault / "sleep.md").read_text().split("Key takeaways:")[0]
    (vault / "sleep.md").write_text(head + "- Only **caffeine** stays.\n")
    report = _sync_file(vault, out, collection_file, delete=True)
    assert not report.plan.delete and "refused to delete" in report.plan.refused and report.exit_code == 1
    with _open(collection_file) as col:
        assert _notes_with(col, "ultraviolet")
    report = _sync_file(vault, out, collection_file, delete=True, force=True)
    assert report.plan.delete
    with _open(collection_file) as col:
        assert not _notes_with(col, "ultraviolet")
        assert col.find_notes('"deck:Mine"')


def test_unmanaged_notes_of_our_note_type_are_never_touched(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        mine = col.new_note(col.models.by_name("flashgen Q/A"))
        mine["Question"], mine["Answer"], mine["ID"] = "My own flashgen-style card", "mine", "not-a-flashgen-guid"
        col.add_note(mine, col.decks.id("Mine"))
    _sync_file(vault, out, collection_file, delete=True, force=True)
    with _open(collection_file) as col:
        assert col.get_note(mine.id)["Answer"] == "mine"


def test_a_collection_open_in_anki_is_refused(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    with _open(collection_file):
        result = CliRunner().invoke(
            main, ["sync", str(vault), "-o", str(tmp_path / "out"), "--collection", str(collection_file)]
        )
    assert result.exit_code == 2
    assert "is in use" in result.stderr and "close Anki" in result.stderr


def test_sync_through_ankiconnect(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        with AnkiConnectServer(col, api_key="s3cret") as server:
            target = AnkiConnect(server.url, "s3cret")
            options = load_options([vault], output=out)
            report = sync(options, target)
            assert report.plan.add and report.exit_code == 0
            with server.lock:
                notes = col.find_notes('"note:flashgen Q/A" OR "note:flashgen Cloze"')
                assert len(notes) == len(report.plan.add)
                [note] = [n for n in _notes_with(col, "ultraviolet") if n.note_type()["name"] == "flashgen Cloze"]
                note.tags.append("leech")
                col.update_note(note)
            (vault / "eye.png").write_bytes(PNG)
            (vault / "bees.md").write_text(
                (vault / "bees.md")
                .read_text()
                .replace("Honey bees see", "Honey bees can see")
                .replace("light.", "light: ![compound eye](eye.png)")
                .replace("[Biology]", "[Insects]")
            )
            (vault / "sleep.md").write_text(
                (vault / "sleep.md")
                .read_text()
                .replace("- REM sleep consolidates **emotional memories** overnight.\n", "")
            )
            report = sync(options, target, delete=True)
            assert report.plan.update and report.plan.move and report.plan.delete
            with server.lock:
                note = col.get_note(note.id)
                assert "can see" in _plain(note["Text"]) and "leech" in note.tags
                assert {col.decks.name(c.did) for c in note.cards()} == {"vault::Insects"}
                assert not _notes_with(col, "emotional memories")
                # the image of the updated note was stored through storeMediaFile, under its packed name
                [media] = [m for m in os.listdir(col.media.dir()) if m.startswith("eye-")]
                assert (Path(col.media.dir()) / media).read_bytes() == PNG and media in note["Text"]
            actions = {r.get("action") for r in server.requests}
            actions |= {a.get("action") for r in server.requests for a in r.get("params", {}).get("actions", [])}
            assert {
                "importPackage",
                "updateNote",
                "changeDeck",
                "deleteNotes",
                "notesInfo",
                "storeMediaFile",
            } <= actions
            assert all("s3cret" not in line for line in [*report.plan.lines(), report.summary(), repr(target)])

            with pytest.raises(SyncError, match="api key"):
                sync(options, AnkiConnect(server.url, "wrong"))
    finally:
        col.close()


def test_unreachable_anki_is_a_clear_error(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    result = CliRunner().invoke(
        main, ["sync", str(vault), "-o", str(tmp_path / "out"), "--ankiconnect", "http://127.0.0.1:9"]
    )
    assert result.exit_code == 2
    assert "cannot reach Anki at http://127.0.0.1:9" in result.stderr and "AnkiConnect" in result.stderr


# ---------------------------------------------------------------- issue 15: nothing the user made is lost


def _flashgen_notes(col: Collection) -> list:  # type: ignore[type-arg]
    return [col.get_note(n) for n in col.find_notes('"note:flashgen Q/A" OR "note:flashgen Cloze"')]


def _import(path: Path, package: Path) -> None:
    """Import a package as Anki's import dialog does (update notes if newer)."""
    from anki.collection import ImportAnkiPackageOptions, ImportAnkiPackageRequest

    with _open(path) as col:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions()))


USERS_TAGS = ["type::vocab", "year::2024", "author::me", "flashgen::keep", "marked"]


def test_the_users_tags_that_look_like_flashgens_survive_every_sync(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        notes = _flashgen_notes(col)
        for note in notes:
            note.tags = [*note.tags, *USERS_TAGS]
        col.update_notes(notes)
        ids = [n.id for n in notes]

    report = _sync_file(vault, out, collection_file)  # nothing changed in the notes
    assert not report.plan.update and report.exit_code == 0
    with _open(collection_file) as col:
        for nid in ids:
            assert set(USERS_TAGS) <= set(col.get_note(nid).tags)

    # A change of the notes' metadata: flashgen replaces its own tags only.
    (vault / "sleep.md").write_text(
        (vault / "sleep.md").read_text().replace("Matthew Walker", "M. Walker").replace("[Health]", "[Sleep]")
    )
    report = _sync_file(vault, out, collection_file)
    assert report.plan.update and report.exit_code == 0
    with _open(collection_file) as col:
        for nid in ids:
            note = col.get_note(nid)
            assert set(USERS_TAGS) <= set(note.tags)
            if "Sleep" in note.tags:
                assert "Health" not in note.tags and "author::Matthew_Walker" not in note.tags
                assert "author::M._Walker" in note.tags
        assert any("Sleep" in col.get_note(nid).tags for nid in ids)


def test_flashgens_old_tags_go_after_importing_a_package_then_syncing(
    tmp_path: Path, collection_file: Path, run_build: Builder
) -> None:
    """The README's order: import the latest package in Anki, then sync. Flashgen knows the tags
    it wrote in that package (the lock file keeps them) and replaces them, not the user's."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    run_build(vault, output=out)
    _import(collection_file, out / "vault.apkg")
    with _open(collection_file) as col:
        notes = [n for n in _flashgen_notes(col) if "Health" in n.tags]
        assert notes
        for note in notes:
            note.tags = [*note.tags, "marked", "year::2024"]
        col.update_notes(notes)
        ids = [n.id for n in notes]
    (vault / "sleep.md").write_text((vault / "sleep.md").read_text().replace("[Health]", "[Sleep]"))

    report = _sync_file(vault, out, collection_file)
    assert not report.plan.add and not report.plan.conflicts and report.exit_code == 0
    with _open(collection_file) as col:
        for nid in ids:
            tags = col.get_note(nid).tags
            assert "Sleep" in tags and "Health" not in tags
            assert "marked" in tags and "year::2024" in tags


def test_delete_leaves_a_note_edited_in_anki_and_reports_it(tmp_path: Path, collection_file: Path) -> None:
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        study(col)
        [edited] = [n for n in _notes_with(col, "emotional memories") if n.note_type()["name"] == "flashgen Cloze"]
        edited["Text"] = edited["Text"] + " <i>(my own remark)</i>"
        col.update_note(edited)
        others = [n.id for n in _notes_with(col, "emotional memories") if n.id != edited.id]
    sleep = (vault / "sleep.md").read_text()
    (vault / "sleep.md").write_text(sleep.replace("- REM sleep consolidates **emotional memories** overnight.\n", ""))

    report = _sync_file(vault, out, collection_file, delete=True, force=False, max_delete=1.0)
    assert [note.id for _, note in report.plan.conflicts] == [edited.id] and report.exit_code == 1
    assert {note.id for _, note in report.plan.delete} == set(others)
    assert any("left alone (--force deletes)" in line for line in report.plan.lines())
    with _open(collection_file) as col:
        assert "(my own remark)" in col.get_note(edited.id)["Text"]
        assert all(not col.find_notes(f"nid:{nid}") for nid in others)

    report = _sync_file(vault, out, collection_file, delete=True)  # still an edit: still left alone
    assert [note.id for _, note in report.plan.conflicts] == [edited.id]
    with _open(collection_file) as col:
        assert col.find_notes(f"nid:{edited.id}")

    _sync_file(vault, out, collection_file, delete=True, force=True)
    with _open(collection_file) as col:
        assert not col.find_notes(f"nid:{edited.id}")


def test_delete_after_importing_the_package_that_marks_the_removal(
    tmp_path: Path, collection_file: Path, run_build: Builder
) -> None:
    """A note holding what flashgen last wrote, here the "removed" banner of an imported package,
    is not an edit: --delete deletes it."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    sleep = (vault / "sleep.md").read_text()
    (vault / "sleep.md").write_text(sleep.replace("- REM sleep consolidates **emotional memories** overnight.\n", ""))
    run_build(vault, output=out)
    _import(collection_file, out / "vault.apkg")
    with _open(collection_file) as col:
        assert col.find_notes("tag:flashgen::removed")
    report = _sync_file(vault, out, collection_file, delete=True, max_delete=1.0)
    assert report.plan.delete and not report.plan.conflicts and report.exit_code == 0
    with _open(collection_file) as col:
        assert not _notes_with(col, "emotional memories")


def test_flashgens_tag_namespace_is_reserved(tmp_path: Path, collection_file: Path, run_build: Builder) -> None:
    """A note cannot tag its cards `flashgen::removed` (the README's clean-up would delete them with
    their history): tags in flashgen's namespace, in any case, are left out with a located warning."""
    vault = write_notes(
        tmp_path / "vault",
        {
            "live.md": """
                ---
                title: Live
                categories: [FlashGen / Removed]
                tags:
                  - keep
                  - flashgen::removed
                ---
                - Honey bees see **ultraviolet** light.
                """,
        },
    )
    out = tmp_path / "out"
    report = run_build(vault, output=out)
    assert sorted(str(w) for w in report.warnings) == [
        f"{vault / 'live.md'}:3: tag 'FlashGen::Removed' is left out: tags 'flashgen::...' are reserved for "
        "flashgen's own markers (such as flashgen::removed); rename it",
        f"{vault / 'live.md'}:6: tag 'flashgen::removed' is left out: tags 'flashgen::...' are reserved for "
        "flashgen's own markers (such as flashgen::removed); rename it",
    ]
    _import(collection_file, out / "vault.apkg")
    with _open(collection_file) as col:
        live = _flashgen_notes(col)
        assert live and all(n.tags == ["keep"] for n in live)
        assert not col.find_notes("tag:flashgen::*") and not col.find_notes("tag:flashgen::removed")


INDEX = """
    ---
    title: Index
    categories: [General]
    ---
    - Spaced repetition beats **cramming** for long-term memory.
    - Sleep consolidates **memories**.
    """


def _sync_named(vault: Path, out: Path, path: Path, **kwargs: object) -> SyncReport:
    options = load_options([vault], output=out)
    with AnkiCollection(path) as target:
        return sync(options, target, **kwargs)  # type: ignore[arg-type]


def test_two_folders_with_the_same_note_never_share_notes(tmp_path: Path, collection_file: Path) -> None:
    """`books/index.md` and `papers/index.md` with the same takeaways are two decks: syncing the
    second adds its own notes, and its --delete never deletes the first deck's."""
    books = write_notes(tmp_path / "books", {"index.md": INDEX})
    papers = write_notes(tmp_path / "papers", {"index.md": INDEX})
    out = tmp_path / "out"
    first = _sync_named(books, out, collection_file)
    with _open(collection_file) as col:
        study(col)
        books_notes = {n.id: n.guid for n in _flashgen_notes(col)}
        history = {c: _history(col, c) for nid in books_notes for c in col.card_ids_of_note(nid)}
    second = _sync_named(papers, out, collection_file)
    assert len(second.plan.add) == len(first.plan.add) and not second.plan.update and not second.plan.foreign
    with _open(collection_file) as col:
        papers_notes = {n.id: n.guid for n in _flashgen_notes(col) if n.id not in books_notes}
        assert len(papers_notes) == len(books_notes)
        assert not set(papers_notes.values()) & set(books_notes.values())
        assert {col.decks.name(c.did) for nid in books_notes for c in col.get_note(nid).cards()} == {"books::General"}

    (papers / "index.md").write_text(INDEX.replace("    - Sleep consolidates **memories**.\n", "").replace("    ", ""))
    report = _sync_named(papers, out, collection_file, delete=True, force=True)
    assert report.plan.delete
    with _open(collection_file) as col:
        for nid in books_notes:  # every note of the first deck is there, with its history
            assert [_history(col, c.id) for c in col.get_note(nid).cards()] == [
                history[c] for c in col.card_ids_of_note(nid)
            ]
        assert len(_notes_with(col, "Sleep consolidates memories")) == len(report.plan.delete)


def test_sync_never_adopts_a_note_it_has_no_record_of(tmp_path: Path, collection_file: Path) -> None:
    """Two folders of the same name (so the same package name) in different places, each with its
    own output: the second derives the first's GUIDs, but it never wrote those notes, so it leaves
    them alone and adds notes of its own; its --delete deletes only those."""
    one = write_notes(tmp_path / "one" / "notes", {"index.md": INDEX})
    two = write_notes(tmp_path / "two" / "notes", {"index.md": INDEX})
    _sync_named(one, tmp_path / "one" / "out", collection_file)
    with _open(collection_file) as col:
        study(col)
        first = {n.id: (n.guid, list(n.tags), [_history(col, c.id) for c in n.cards()]) for n in _flashgen_notes(col)}
    report = _sync_named(two, tmp_path / "two" / "out", collection_file)
    assert report.plan.foreign == len(first) and len(report.plan.add) == len(first) and not report.plan.update
    assert "left alone" in report.summary()
    (two / "index.md").write_text("- Only the **remnant** is left.\n")
    report = _sync_named(two, tmp_path / "two" / "out", collection_file, delete=True, force=True)
    assert len(report.plan.delete) == len(first)
    with _open(collection_file) as col:
        assert {
            n.id: (n.guid, list(n.tags), [_history(col, c.id) for c in n.cards()])
            for n in _flashgen_notes(col)
            if n.id in first
        } == first


def _copy_note(col: Collection, note: object) -> int:
    """What Anki's Create Copy makes: a new note (so a new GUID) with every field and tag kept."""
    copy = col.new_note(note.note_type())  # type: ignore[attr-defined]
    for name, value in note.items():  # type: ignore[attr-defined]
        copy[name] = value
    copy.tags = list(note.tags)  # type: ignore[attr-defined]
    col.add_note(copy, note.cards()[0].did)  # type: ignore[attr-defined]
    return int(copy.id)


def test_ankiconnect_tells_flashgens_notes_from_the_users_copies(tmp_path: Path) -> None:
    """A copy keeps the ID field but not the GUID: sync updates and deletes the original only."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        with AnkiConnectServer(col) as server:
            target = AnkiConnect(server.url)
            options = load_options([vault], output=out)
            sync(options, target)
            with server.lock:
                originals = [n for n in _notes_with(col, "ultraviolet")]
                copies = {
                    _copy_note(col, n): col.get_note(n.id)["Text" if "Text" in n else "Question"] for n in originals
                }
                lone = next(n for n in _notes_with(col, "queen"))  # the original deleted, its copy kept
                lone_copy = _copy_note(col, lone)
                lone_text = col.get_note(lone_copy).fields[:]
                col.remove_notes([lone.id])
            (vault / "bees.md").write_text(
                (vault / "bees.md").read_text().replace("Honey bees see", "Honey bees can see")
            )
            report = sync(options, target)
            assert report.exit_code == 0 and len(report.plan.update) == len(originals)
            with server.lock:
                for original in originals:
                    assert "can see" in _plain(" ".join(col.get_note(original.id).fields))
                for copy, front in copies.items():
                    note = col.get_note(copy)
                    assert note[("Text" if "Text" in note else "Question")] == front  # untouched
                assert col.get_note(lone_copy).fields == lone_text
                assert [i.guid for i in report.plan.add] == [lone.guid]  # made again; the copy is not it
                assert lone.guid in {n.guid for n in _notes_with(col, "queen")}
            (vault / "bees.md").write_text("---\ntitle: The Bee\ncategories: [Biology]\n---\n- Only this.\n")
            report = sync(options, target, delete=True, force=True)
            with server.lock:
                remaining = {n.id for n in _notes_with(col, "ultraviolet")} | {n.id for n in _notes_with(col, "queen")}
                assert remaining == set(copies) | {lone_copy}
            assert "exportPackage" in {r.get("action") for r in server.requests}
    finally:
        col.close()


def test_ankiconnect_remembers_the_notes_it_recognised(tmp_path: Path) -> None:
    """Once a note is recognised by its GUID, its note id (which never changes) spares the next
    syncs the export, and still tells it from a copy made later."""
    vault = write_notes(tmp_path / "vault", NOTES)
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        with AnkiConnectServer(col) as server:
            target = AnkiConnect(server.url)
            options = load_options([vault], output=tmp_path / "out")

            def exports(*args: object, **kwargs: object) -> tuple[SyncReport, int]:
                before = len(server.requests)
                report = sync(options, target, *args, **kwargs)  # type: ignore[arg-type]
                return report, sum(1 for r in server.requests[before:] if r.get("action") == "exportPackage")

            assert exports()[1] == 0  # nothing of flashgen's in Anki yet
            assert exports()[1] >= 1  # the new notes are recognised by their GUIDs
            assert exports()[1] == 0  # and then by their note ids
            with server.lock:
                [original] = [n for n in _notes_with(col, "ultraviolet") if n.note_type()["name"] == "flashgen Cloze"]
                copy = _copy_note(col, original)
                text = col.get_note(copy)["Text"]
            (vault / "bees.md").write_text(
                (vault / "bees.md").read_text().replace("Honey bees see", "Honey bees can see")
            )
            report, count = exports()
            assert count == 0 and [n.id for _, n, _ in report.plan.update if n.id == original.id] == [original.id]
            with server.lock:
                assert "can see" in _plain(col.get_note(original.id)["Text"]) and col.get_note(copy)["Text"] == text
    finally:
        col.close()


def test_sync_sends_its_updates_in_batches(tmp_path: Path) -> None:
    """Issue 18: updating many notes takes a few multi requests, not one HTTP request a note."""
    count = 300
    vault = write_notes(
        tmp_path / "vault", {f"n{i}.md": f"- Fact {i}: owls hunt at **dusk {i}**.\n" for i in range(count)}
    )
    (tmp_path / "anki").mkdir()
    col = Collection(str(tmp_path / "anki" / "collection.anki2"))
    try:
        with AnkiConnectServer(col) as server:
            target = AnkiConnect(server.url)
            options = load_options([vault], output=tmp_path / "out")
            sync(options, target)
            for i in range(count):
                (vault / f"n{i}.md").write_text(f"- Fact {i}: owls hunt at **dawn {i}**.\n", encoding="utf-8")
            server.requests.clear()
            report = sync(options, target)
            assert len(report.plan.update) >= count
            top = [r.get("action") for r in server.requests]
            assert "updateNote" not in top
            assert top.count("multi") <= 4 and len(top) <= 20, top
            with server.lock:
                texts = [col.get_note(n).joined_fields() for n in col.find_notes("dawn")]
                assert len(texts) >= count and not col.find_notes("dusk")
    finally:
        col.close()


def test_a_lost_lock_file_is_made_good_by_the_sync_record(tmp_path: Path, collection_file: Path) -> None:
    """Without its lock file, sync derives the same GUIDs and finds its notes through its sync
    record: nothing is added twice, and the notes it wrote are updated as before."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    first = _sync_file(vault, out, collection_file)
    (out / "vault.lock.json").unlink()
    (vault / "bees.md").write_text((vault / "bees.md").read_text().replace("[Biology]", "[Insects]"))
    report = _sync_file(vault, out, collection_file)
    assert not report.plan.add and not report.plan.foreign and not report.plan.conflicts
    assert len(report.plan.update) + report.plan.unchanged == len(first.plan.add)
    with _open(collection_file) as col:
        assert len(_flashgen_notes(col)) == len(first.plan.add)
        assert all("Biology" not in n.tags for n in _notes_with(col, "ultraviolet"))


def test_old_lock_files_without_tags_learn_them_from_the_last_package(
    tmp_path: Path, collection_file: Path, run_build: Builder
) -> None:
    """A lock file of an earlier version keeps no tags: the last package built tells which tags
    flashgen gave the notes an import made."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    run_build(vault, output=out)
    _import(collection_file, out / "vault.apkg")
    lock_path = out / "vault.lock.json"
    cards = lock_cards(lock_path)
    for card in cards:
        card.pop("tags", None)
    write_v1_lock(lock_path, cards)
    with _open(collection_file) as col:
        notes = [n for n in _flashgen_notes(col) if "Health" in n.tags]
        for note in notes:
            note.tags = [*note.tags, "marked"]
        col.update_notes(notes)
        ids = [n.id for n in notes]
    (vault / "sleep.md").write_text((vault / "sleep.md").read_text().replace("[Health]", "[Sleep]"))
    report = _sync_file(vault, out, collection_file)
    assert report.exit_code == 0
    with _open(collection_file) as col:
        for nid in ids:
            tags = col.get_note(nid).tags
            assert "Sleep" in tags and "Health" not in tags and "marked" in tags


def test_flashgens_tag_namespace_is_reserved_wherever_a_tag_comes_from(
    tmp_path: Path, collection_file: Path, run_build: Builder
) -> None:
    """An inline `#flashgen/removed` and a folder `flashgen/removed/` (with folder_tags) are left
    out too, each with a warning."""
    vault = write_notes(
        tmp_path / "vault",
        {
            "flashgen/removed/live.md": """
                # Live

                Filed under #flashgen/removed and #bees.

                - Honey bees see **ultraviolet** light.
                """,
        },
    )
    out = tmp_path / "out"
    report = run_build(vault, output=out, folder_tags=True)
    note = vault / "flashgen" / "removed" / "live.md"
    assert sorted(str(w) for w in report.warnings) == [
        f"{note}:0: the folder tag 'flashgen::removed' is left out: tags 'flashgen::...' are reserved for "
        "flashgen's own markers (such as flashgen::removed); rename it",
        f"{note}:3: tag 'flashgen::removed' is left out: tags 'flashgen::...' are reserved for "
        "flashgen's own markers (such as flashgen::removed); rename it",
    ]
    _import(collection_file, out / "vault.apkg")
    with _open(collection_file) as col:
        live = _flashgen_notes(col)
        assert live and all(n.tags == ["bees"] for n in live)
        assert not col.find_notes("tag:flashgen::*")


def test_delete_leaves_a_note_whose_cards_the_user_moved_out_of_the_package(
    tmp_path: Path, collection_file: Path
) -> None:
    """Cards the user moved to a deck of their own (or an earlier version's adoption left in
    another package's deck) are no longer this package's to delete: a conflict, left alone."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        [kept] = [n for n in _notes_with(col, "emotional memories") if n.note_type()["name"] == "flashgen Cloze"]
        col.set_deck([c.id for c in kept.cards()], col.decks.id("Mine"))
        others = {n.id for n in _notes_with(col, "emotional memories")} - {kept.id}
    sleep = (vault / "sleep.md").read_text()
    (vault / "sleep.md").write_text(sleep.replace("- REM sleep consolidates **emotional memories** overnight.\n", ""))
    report = _sync_file(vault, out, collection_file, delete=True, max_delete=1.0)
    assert [n.id for _, n in report.plan.conflicts] == [kept.id] and report.exit_code == 1
    assert {n.id for _, n in report.plan.delete} == others
    assert any("edited or moved in Anki; left alone (--force deletes)" in line for line in report.plan.lines())
    with _open(collection_file) as col:
        assert col.find_notes(f"nid:{kept.id}")
    _sync_file(vault, out, collection_file, delete=True, force=True)
    with _open(collection_file) as col:
        assert not col.find_notes(f"nid:{kept.id}")


def test_a_card_the_user_moved_to_their_own_deck_stays_there(tmp_path: Path, collection_file: Path) -> None:
    """When a note's deck changes, sync moves the cards that are in flashgen's decks, not one the
    user put in a deck of their own."""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    _sync_file(vault, out, collection_file)
    with _open(collection_file) as col:
        [mine] = _notes_with(col, "ultraviolet")
        others = _notes_with(col, "queen")  # another note of the same file, left in flashgen's deck
        col.set_deck([c.id for c in mine.cards()], col.decks.id("Mine"))
    (vault / "bees.md").write_text((vault / "bees.md").read_text().replace("[Biology]", "[Insects]"))
    report = _sync_file(vault, out, collection_file)
    assert report.plan.move and report.exit_code == 0
    with _open(collection_file) as col:
        assert {col.decks.name(c.did) for c in col.get_note(mine.id).cards()} == {"Mine"}
        assert others and all(
            {col.decks.name(c.did) for c in col.get_note(n.id).cards()} == {"vault::Insects"} for n in others
        )


def test_after_a_sync_the_next_build_finds_the_deck_up_to_date(tmp_path: Path, collection_file: Path) -> None:
    """Sync runs the build's stages and leaves the state a build would: the build after it, with
    nothing changed, reads the state and writes nothing; after a note changes, it reads that note
    only. (Sync once wrote the package and lock file without the state that vouches for them, and
    the next build made the whole deck again.)"""
    vault = write_notes(tmp_path / "vault", NOTES)
    out = tmp_path / "out"
    build(load_options([vault], output=out))
    (vault / "sleep.md").write_text((vault / "sleep.md").read_text().replace("for hours", "for many hours"))
    assert _sync_file(vault, out, collection_file).exit_code == 0
    written = {p: p.stat().st_mtime_ns for p in (out / "vault.apkg", out / "vault.lock.json")}
    after = build(load_options([vault], output=out))
    assert not after.written and after.parsed == 0 and after.plan["unchanged"] == after.anki_notes > 0
    assert {p: p.stat().st_mtime_ns for p in written} == written
    (vault / "sleep.md").write_text((vault / "sleep.md").read_text().replace("overnight", "every night"))
    changed = build(load_options([vault], output=out))
    assert changed.written and changed.parsed == 1 and changed.plan["updated"] == 1
