"""Issue 3: regenerate without regret. Edits keep card identity and review history in real Anki."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

from anki.collection import Collection
from hypothesis import given, settings
from hypothesis import strategies as st

from flashgen import identity
from flashgen import lock as lock_module
from flashgen.build import build
from flashgen.config import load_options
from flashgen.lock import Lock

from .conftest import Anki, Builder, lock_cards, study, write_notes, write_v1_lock

# Builds run at the real time: Anki stamps notes it adds with the time of the import, so a
# build dated in the future or the past would not show what users see.
T0 = int(time.time())

BOOK = """
---
title: The Design of Everyday Things
categories: [Design]
author: Don Norman
year: 1988
type: book
---
Key takeaways:

- Affordances are the relationships between an object and a person that determine how it could be used.
- Signifiers communicate where the action should take place.
- A **conceptual model** is the user's explanation of how something works.
- Feedback must be immediate because people lose trust in a slow system.
- Constraints limit the actions possible and so prevent errors.
- Natural mapping is the relationship between controls and their results in the world.
"""

TALK = """
---
title: Inventing on Principle
categories: [Programming]
author: Bret Victor
year: 2012
type: talk
---
- Creators need an **immediate connection** to what they create.
- Working on a **principle** is a way of living, not a job.
"""


def _plain(html: str) -> str:
    """Field text without tags or cloze markup."""
    return re.sub(r"\{\{c\d+::(.*?)\}\}", r"\1", re.sub(r"<[^>]+>", "", html))


def _history(col: Collection, card_id: int) -> tuple[int, int, int]:
    card = col.get_card(card_id)
    reviews = col.db.scalar("select count() from revlog where cid = ?", card_id)
    return card.ivl, card.reps, reviews


def _notes_of(anki: Anki, text: str) -> list:  # type: ignore[type-arg]
    """The notes made from the takeaway that contains `text`."""
    return [n for n in anki.notes() if text in _plain(" ".join(n.fields))]


def _qa_note_of(anki: Anki, text: str):  # type: ignore[no-untyped-def]
    found = [n for n in _notes_of(anki, text) if n.note_type()["name"] == "flashgen Q/A"]
    assert found, text
    return found[0]


def test_edits_keep_identity_and_history_through_default_import(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"design/book.md": BOOK, "talk.md": TALK})
    first = run_build(vault, now=T0)
    log = anki.import_package(first.package)
    assert len(log.new) == first.anki_notes
    col = anki.col

    # Study every card so that intervals and review logs exist.
    studied = set(study(col, "vault", 40))
    assert len(studied) == len(col.find_cards(""))

    typo = _qa_note_of(anki, "Affordances are the relationships")
    reworded = _qa_note_of(anki, "Feedback must be immediate")
    cloze = next(n for n in anki.notes('"note:flashgen Cloze"') if "conceptual model" in n["Text"])
    deleted = _notes_of(anki, "Natural mapping is the relationship")
    untouched = _notes_of(anki, "Signifiers communicate")
    talk_notes = [n for n in anki.notes() if n["Source"].startswith("talk.md")]
    assert deleted and untouched and talk_notes
    tracked = (typo, reworded, cloze, *untouched, *talk_notes)
    before = {n.id: (n.guid, [c.id for c in n.cards()], [_history(col, c.id) for c in n.cards()]) for n in tracked}
    # The user's own tags, which an update by import would replace.
    for note in (*untouched, *talk_notes):
        note.tags.append("marked")
        col.update_note(note)

    book = (vault / "design/book.md").read_text(encoding="utf-8")
    edited = (
        book.replace("Affordances are the relationships", "Affordances are the relationshisp")  # a typo
        .replace(
            "- Feedback must be immediate because people lose trust in a slow system.",
            "- Feedback has to be immediate because people lose trust in a slow system.",
        )
        .replace(
            "Key takeaways:\n\n",
            "Key takeaways:\n\n- Discoverability is the ease of finding out which actions are possible.\n",
        )
        .replace(
            "- Signifiers communicate where the action should take place.\n"
            "- A **conceptual model** is the user's explanation of how something works.\n",
            "- A **conceptual model** is the user's explanation of how something works.\n"
            "- Signifiers communicate where the action should take place.\n",
        )
        .replace("- Natural mapping is the relationship between controls and their results in the world.\n", "")
    )
    assert edited.count("\n- ") == book.count("\n- ")  # one added, one deleted
    (vault / "design/book.md").write_text(edited, encoding="utf-8")
    (vault / "talk.md").rename(vault / "inventing-on-principle.md")

    second = run_build(vault, now=T0)  # within the same second as the first build
    assert second.plan["added"] >= 1 and second.plan["removed"] >= 1 and second.plan["updated"] >= 1
    log = anki.import_package(second.package)

    # No duplicates: one Anki note per flashgen note; new notes only for the new takeaway (or for
    # a question the reworded takeaway asks that it did not ask before).
    assert len(anki.notes()) == len({n.guid for n in anki.notes()})
    new_texts = [_plain(" ".join(n.fields)) for n in log.new]  # type: ignore[attr-defined]
    assert any("Discoverability" in t for t in new_texts)
    assert all(("Discoverability" in t) or ("Feedback has to be" in t) or ("relationshisp" in t) for t in new_texts)
    assert len(anki.notes()) == first.anki_notes + len(new_texts)

    # Edited notes were updated in place: same note, same cards, history kept, new text shown.
    updated_ids = {n.id.nid for n in log.updated}  # type: ignore[attr-defined]
    for note, new_text in ((typo, "relationshisp"), (reworded, "Feedback has to be immediate")):
        assert note.id in updated_ids
        now = col.get_note(note.id)
        assert new_text in _plain(" ".join(now.fields))
        guid, card_ids, history = before[note.id]
        assert now.guid == guid and [c.id for c in now.cards()] == card_ids
        assert [_history(col, c) for c in card_ids] == history
        assert history[0][0] >= 1 and history[0][1] >= 1  # it had been studied: an interval, a review

    # Untouched notes (reordered, or in the renamed file) were not updated: the user's tags survive.
    assert cloze.id not in updated_ids
    for note in (*untouched, *talk_notes):
        assert "marked" in col.get_note(note.id).tags
        assert note.id not in updated_ids
        guid, card_ids, history = before[note.id]
        assert [_history(col, c) for c in card_ids] == history

    # The deleted takeaway is surfaced, not lost: one search finds all its notes, history intact.
    removed = {n.id for n in anki.notes("tag:flashgen::removed")}
    assert {n.id for n in deleted} <= removed
    assert removed - {n.id for n in deleted} <= {n.id for n in _notes_of(anki, "Feedback has to be")}
    for note in deleted:
        assert "Removed from your notes" in col.get_note(note.id).fields[0]
        assert _history(col, note.cards()[0].id)[1] >= 1

    # Import log counts: exactly the changed notes were updated.
    assert len(log.updated) == second.plan["updated"] + second.plan["removed"]  # type: ignore[attr-defined]


def test_third_build_with_no_changes_updates_nothing(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"book.md": BOOK})
    first = run_build(vault, now=T0)
    anki.import_package(first.package)
    write_notes(vault, {"book.md": BOOK.replace("- Natural mapping is", "- Natural mappings are")})
    second = run_build(vault, now=T0)
    log = anki.import_package(second.package)
    assert 1 <= len(log.updated) == second.plan["updated"]  # type: ignore[attr-defined]
    for entry in log.updated:  # type: ignore[attr-defined]
        assert "Natural mappings are" in _plain(" ".join(anki.col.get_note(entry.id.nid).fields))
    third = run_build(vault, now=T0)
    assert third.plan["unchanged"] == third.anki_notes and not third.written
    log = anki.import_package(third.package)
    assert len(log.updated) == 0 and len(log.new) == 0  # type: ignore[attr-defined]


def test_without_lock_file_unchanged_notes_get_the_same_guids(tmp_path: Path, run_build: Builder) -> None:
    vault = write_notes(tmp_path / "vault", {"book.md": BOOK, "talk.md": TALK})
    run_build(vault, now=T0)
    lock_path = tmp_path / "decks" / "vault.lock.json"
    first = {c["guid"] for c in lock_cards(lock_path)}
    lock_path.unlink()
    run_build(vault, now=T0 + 100)
    second = {c["guid"] for c in lock_cards(lock_path)}
    assert first == second and len(first) > 5


def test_guids_are_derived_as_in_every_earlier_version() -> None:
    """A lock file lost after an upgrade must still give the GUIDs Anki holds: the derivation is
    pinned. Since issue 15 the package's name is part of it (two packages never share a GUID); the
    derivation of earlier versions, without it, is pinned too: their lock files keep those GUIDs."""
    assert identity._base62(bytes(range(32))) == "cvrgDmJcM500"
    assert identity._base62(bytes(range(32)), 11) == "cvrgDmJcM50"
    tid = identity.takeaway_id("notes/a.md", "Some takeaway text.", 0)
    assert identity.card_guid(tid, "qa:blank") == "fgB6XyrLdCRdn"
    tid = identity.takeaway_id("notes/a.md", "Some takeaway text.", 0, "reading")
    assert tid == "b0nVEL8riVLL" and identity.card_guid(tid, "qa:blank") == "fg9TjYqRfqIRa"


def test_lock_files_of_earlier_versions_keep_their_guids(tmp_path: Path, run_build: Builder) -> None:
    """GUIDs derived before packages were namespaced stay with their cards (they hold the review
    history); only new takeaways get namespaced ones."""
    vault = write_notes(tmp_path / "vault", {"book.md": BOOK})
    run_build(vault, now=T0)
    lock_path = tmp_path / "decks" / "vault.lock.json"
    cards = lock_cards(lock_path)
    legacy = {}
    for card in cards:  # the lock file as the earlier derivation wrote it
        old_tid = identity.takeaway_id(card["note"], identity.normalise(card["text"]), 0)
        card["takeaway"], card["guid"] = old_tid, identity.card_guid(old_tid, card["role"])
        legacy[card["text"], card["role"]] = card["guid"]
    write_v1_lock(lock_path, cards)
    write_notes(vault, {"book.md": BOOK + "- A brand new takeaway about **doors**.\n"})
    run_build(vault, now=T0 + 100)
    cards = lock_cards(lock_path)
    assert {(c["text"], c["role"]): c["guid"] for c in cards if (c["text"], c["role"]) in legacy} == legacy
    [new] = {c["takeaway"] for c in cards if "brand new" in c["text"]}
    assert new == identity.takeaway_id("book.md", "A brand new takeaway about **doors**.", 0, "vault")


def test_a_moved_folder_or_renamed_deck_keeps_its_guids_even_without_lock_file(
    tmp_path: Path, run_build: Builder
) -> None:
    """Identity follows the package's name and the notes' paths inside their folder: moving the
    folder elsewhere or renaming its decks changes no GUID, lock file or not."""
    write_notes(tmp_path / "a" / "vault", {"book.md": BOOK, "talk.md": TALK})
    run_build(tmp_path / "a" / "vault", now=T0)
    lock_path = tmp_path / "decks" / "vault.lock.json"
    first = {c["guid"] for c in lock_cards(lock_path)}
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "vault").rename(tmp_path / "b" / "vault")
    lock_path.unlink()
    run_build(tmp_path / "b" / "vault", now=T0 + 100, root="Renamed")
    cards = lock_cards(lock_path)
    assert {c["guid"] for c in cards} == first and {c["deck"].split("::")[0] for c in cards} == {"Renamed"}


def test_identical_takeaways_in_two_notes_never_collide(tmp_path: Path, run_build: Builder) -> None:
    same = "- What is the map not? :: the territory\n"
    vault = write_notes(tmp_path / "vault", {"a.md": same, "b.md": same, "c.md": same + same})
    run_build(vault, now=T0)
    cards = lock_cards(tmp_path / "decks" / "vault.lock.json")
    # one card a note: a front asked twice in one note would be a duplicate card (c.md asks it once)
    assert len(cards) == 3 and len({c["guid"] for c in cards}) == 3


def test_cloze_numbers_stay_with_their_text(tmp_path: Path, run_build: Builder, anki: Anki) -> None:
    vault = write_notes(
        tmp_path / "vault", {"n.md": "- **Paris** is the capital of **France** and lies on the **Seine**.\n"}
    )
    run_build(vault, now=T0)
    anki.import_package(tmp_path / "decks" / "vault.apkg")
    [note] = anki.notes('"note:flashgen Cloze"')
    ords = {c.ord: c.id for c in note.cards()}
    assert len(ords) == 3
    (vault / "n.md").write_text("- **Paris** is the capital of France and lies on the **Seine** and the **Bièvre**.\n")
    run_build(vault, now=T0)
    anki.import_package(tmp_path / "decks" / "vault.apkg")
    note = anki.col.get_note(note.id)
    text = re.sub(r"<[^>]+>", "", note["Text"])
    assert "{{c1::Paris}}" in text and "{{c3::Seine}}" in text and "{{c4::Bièvre}}" in text
    assert "c2::" not in text
    cards = {c.ord: c.id for c in note.cards()}
    assert cards[0] == ords[0] and cards[2] == ords[2]  # Paris and Seine keep their cards


def test_a_reappearing_takeaway_revives_its_removed_card(tmp_path: Path, run_build: Builder) -> None:
    vault = write_notes(tmp_path / "vault", {"n.md": "- One? :: Uno\n- Two is a takeaway? :: Dos\n"})
    run_build(vault, now=T0)
    lock_path = tmp_path / "decks" / "vault.lock.json"
    guids = {c["text"] + c["role"]: c["guid"] for c in lock_cards(lock_path)}
    (vault / "n.md").write_text("- One? :: Uno\n")
    report = run_build(vault, now=T0 + 1)
    assert report.plan["removed"] == sum(1 for text in guids if text.startswith("Two"))
    (vault / "n.md").write_text("- One? :: Uno\n- Two is a takeaway? :: Dos\n")
    report = run_build(vault, now=T0 + 2)
    cards = lock_cards(lock_path)
    assert {c["text"] + c["role"]: c["guid"] for c in cards} == guids
    assert all(c["status"] == "active" for c in cards)


def test_prune_forgets_removed_cards(tmp_path: Path, run_build: Builder) -> None:
    vault = write_notes(tmp_path / "vault", {"n.md": "- One? :: Uno\n- Two? :: Dos\n"})
    run_build(vault, now=T0)
    (vault / "n.md").write_text("- One? :: Uno\n")
    run_build(vault, now=T0 + 1)
    lock_path = tmp_path / "decks" / "vault.lock.json"
    assert [c["status"] for c in lock_cards(lock_path)] == ["active", "removed"]
    report = run_build(vault, now=T0 + 2)
    assert report.plan["removed"] == 0  # counted once, in the build that removed it
    run_build(vault, now=T0 + 3, prune=True)
    assert [c["status"] for c in lock_cards(lock_path)] == ["active"]


def test_dry_run_writes_nothing_but_reports_the_plan(tmp_path: Path, run_build: Builder) -> None:
    vault = write_notes(tmp_path / "vault", {"n.md": "- One? :: Uno\n- Two? :: Dos\n"})
    report = run_build(vault, now=T0, dry_run=True)
    assert report.plan["added"] == 2 and not report.written
    assert not (tmp_path / "decks" / "vault.apkg").exists()
    assert not (tmp_path / "decks" / "vault.lock.json").exists()


def test_a_note_that_fails_to_read_keeps_its_cards(tmp_path: Path, run_build: Builder) -> None:
    vault = write_notes(tmp_path / "vault", {"a.md": "- Alpha? :: A\n", "b.md": "- Beta? :: B\n"})
    run_build(vault, now=T0)
    (vault / "b.md").write_text("---\ntitle: [\n---\n- Beta? :: B\n")
    report = run_build(vault, now=T0 + 1)
    assert report.plan["removed"] == 0 and len(report.failures) == 1
    cards = lock_cards(tmp_path / "decks" / "vault.lock.json")
    assert sorted(c["path"] for c in cards if c["status"] == "active") == ["a.md", "b.md"]


def test_matching_rules_directly() -> None:
    """The rules of `identity` without files: a reworded takeaway keeps its id, an unrelated one does not."""
    from flashgen.cards import generate
    from flashgen.notes import NoteFile, parse_note
    from flashgen.takeaways import extract

    options = load_options([Path(".")], name="t")

    def cards_of(text: str, rel: str = "n.md"):  # type: ignore[no-untyped-def]
        note = parse_note(text, NoteFile(Path(rel), Path(".")))
        return generate(note, extract(note), options).cards

    old = identity.assign(
        cards_of("- Water boils at **100 degrees** at sea level.\n- Owls hunt at **night**.\n"), Lock(), T0
    )
    lock = Lock(old.records())
    new = identity.assign(
        cards_of("- Water boils at **100 °C** at sea level.\n- Sloths **sleep** a lot.\n"), lock, T0 + 1
    )

    def guids(plan: identity.Plan, prefix: str, statuses: set[str]) -> set[str]:
        return {i.guid for i in plan.identities if i.record.text.startswith(prefix) and i.status in statuses}

    water_before = guids(old, "Water", {"added"})
    water_after = guids(new, "Water", {"updated", "unchanged"})
    assert water_after and water_after <= water_before  # the reworded takeaway kept its cards
    assert guids(new, "Sloths", {"added"}).isdisjoint(water_before | guids(old, "Owls", {"added"}))
    assert guids(new, "Owls", {"removed"}) == guids(old, "Owls", {"added"})


def test_build_is_deterministic_for_the_same_notes(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"book.md": BOOK, "talk.md": TALK})
    a = build(load_options([vault], output=tmp_path / "a"), now=T0)
    b = build(load_options([vault], output=tmp_path / "b"), now=T0)
    assert a.plan == b.plan
    assert (tmp_path / "a" / "vault.lock.json").read_text() == (tmp_path / "b" / "vault.lock.json").read_text()


def test_cli_dry_run_lists_the_plan(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flashgen.cli import main

    # `question :: answer` takeaways make exactly one card each, so the counts are the takeaways'.
    vault = write_notes(tmp_path / "vault", {"n.md": "- One in Spanish? :: Uno\n- Two in Spanish? :: Dos\n"})
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", str(vault), "-o", str(out)]).exit_code == 0
    write_notes(vault, {"n.md": "- One in Spanish? :: Uno (masculine)\n- Three in Spanish? :: Tres\n"})
    result = CliRunner().invoke(main, ["build", str(vault), "-o", str(out), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "plan: 1 added, 1 updated, 0 moved, 0 unchanged, 1 removed" in result.stdout
    assert "added  n.md:2  [qa:explicit]  Three in Spanish? :: Tres" in result.stdout
    assert "removed  n.md:2  [qa:explicit]  Two in Spanish? :: Dos" in result.stdout
    assert "updated  n.md:1" in result.stdout
    assert "dry run: nothing written" in result.stdout
    assert [c["text"] for c in lock_cards(out / "vault.lock.json")] == [
        "One in Spanish? :: Uno",
        "Two in Spanish? :: Dos",
    ]


def test_concurrent_builds_never_corrupt_the_lock_or_package(tmp_path: Path, anki: Anki) -> None:
    import subprocess
    import sys

    vault = write_notes(
        tmp_path / "vault", {f"n{i}.md": f"- Takeaway number {i} is **bold {i}**.\n" for i in range(40)}
    )
    out = tmp_path / "out"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "flashgen", "build", str(vault), "-o", str(out)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(4)
    ]
    results = [(*p.communicate(timeout=120), p.returncode) for p in procs]
    assert [r[2] for r in results] == [0, 0, 0, 0], results
    cards = lock_cards(out / "vault.lock.json")
    assert len(cards) == 40 and len({c["guid"] for c in cards}) == 40  # one cloze note a takeaway
    log = anki.import_package(out / "vault.apkg")
    assert len(log.new) == 40  # type: ignore[attr-defined]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


_TEXT = st.text(st.characters(blacklist_characters="\x00\x1f"), max_size=40)


@given(
    _TEXT,
    st.integers(min_value=0, max_value=2**32 - 1),
    st.lists(st.tuples(st.integers(1, 500), _TEXT), max_size=4, unique_by=lambda c: c[0]),
    st.sampled_from(["active", "removed"]),
    st.lists(_TEXT, max_size=3),
)
@settings(max_examples=300, deadline=None)
def test_a_lock_file_reads_back_what_was_written(
    text: str, number: int, clozes: list[tuple[int, str]], status: str, tags: list[str]
) -> None:
    """Whatever the text, a lock file gives back every value identity, sync and the package need:
    an active takeaway's start of text (its line comes from the notes), a removed one's whole
    text and line, and the tags the package gave (a removed takeaway's: only flashgen::removed)."""
    removed = status == "removed"
    record = lock_module.fingerprinted(
        lock_module.Record(
            guid="fg" + "".join(c for c in text if "!" <= c <= "~")[:3],
            note=f"id:{text}",
            path=f"{text}.md",
            title=text,
            takeaway="t" + text[-2:],
            line=number % 10_000,
            role="qa:blank",
            kind="cloze" if clozes else "basic",
            text=f'{text} "q" \\ \n\t\x01',
            deck="Root::" + text,
            hash="0123456789",
            mod=number,
            fields="abcdefabcd",
            status=status,  # type: ignore[arg-type]
            clozes=tuple(clozes),
            cloze_max=min(500, max(n for n, _ in clozes) + number % 2) if clozes else 0,
            tags=(lock_module.REMOVED_TAG,) if removed else tuple(tags),
        )
    )
    [back] = lock_module.parse(lock_module.dumps([record]).encode(), Path("x.lock.json")).records
    if not removed:
        record = replace(record, line=0, text=lock_module.preview(record.text))
    assert back == record


def test_the_text_fingerprint_is_derived_as_in_every_earlier_version() -> None:
    """Lock files hold each takeaway's `sum` and `words`: a change to their derivation would make
    every takeaway of every lock file look changed (pinned, as GUIDs are)."""
    assert lock_module.text_sum("Some  takeaway\ntext.") == lock_module.text_sum("Some takeaway text.") == "2EPrEDjz"
    codes = lock_module.word_codes("Owls hunt at night, 2 of them. 要点です")
    assert "".join(codes) == "SixuZ2zVlmZ1hPnuEembbo"
    assert [lock_module.is_content(c) for c in codes] == [1, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1]


def test_reworded_takeaways_are_told_from_other_ones_by_their_words() -> None:
    """`identity.similarity` compares a takeaway's words with the words a lock file keeps."""

    def alike(a: str, b: str) -> bool:
        return identity.similarity(lock_module.word_codes(a), lock_module.word_codes(b)) >= identity.SIMILAR

    assert alike(
        "Feedback must be immediate because people lose trust.",
        "Feedback has to be immediate because people lose trust.",
    )
    assert alike(
        "Affordances are the relationships between things.", "Affordances are the relationshisp between things."
    )
    assert alike("One in Spanish? :: Uno", "One in Spanish? :: Uno (masculine)")
    assert not alike("Two in Spanish? :: Dos", "Three in Spanish? :: Tres")
    assert not alike("Two :: Dos", "Three :: Tres")
    assert not alike("Owls hunt at **night**.", "Sloths **sleep** a lot.")


def test_a_card_that_changes_form_is_reported_and_its_old_note_never_orphaned(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    # Anki does not change an imported note's type, so a basic card that becomes a cloze is a new
    # note. The old one must be tagged removed (not left untagged and never updated again) and the
    # change reported; writing the basic card again revives the old note with its reviews.
    basic = "- The mitochondrion makes most of the ATP of a cell :: mitochondrion\n"
    cloze = "- The ==mitochondrion== makes most of the ATP of a cell\n"
    vault = write_notes(tmp_path / "vault", {"n.md": basic})
    package = tmp_path / "decks" / "vault.apkg"
    run_build(vault, now=T0)
    anki.import_package(package)
    [old] = anki.notes()
    studied = study(anki.col)
    assert studied
    history = _history(anki.col, studied[0])

    (vault / "n.md").write_text(cloze)
    report = run_build(vault, now=T0 + 1)
    assert report.reshaped == (("n.md:1", "basic", "cloze"),)
    assert "1 takeaway changed card form" in report.summary()
    anki.import_package(package)
    notes = anki.by_guid()
    assert len(notes) == 2
    assert "flashgen::removed" in [t.lower() for t in anki.col.get_note(old.id).tags]
    [new] = [n for n in notes.values() if n.id != old.id]
    assert "flashgen::removed" not in [t.lower() for t in new.tags]  # type: ignore[attr-defined]

    (vault / "n.md").write_text(basic)
    report = run_build(vault, now=T0 + 2)
    assert report.reshaped == ()  # the old note comes back: no new card to report
    assert (report.plan["updated"], report.plan["removed"]) == (1, 1)
    anki.import_package(package)
    revived = anki.col.get_note(old.id)
    assert "flashgen::removed" not in [t.lower() for t in revived.tags]
    assert _history(anki.col, studied[0]) == history
