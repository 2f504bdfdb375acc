"""Issue 7: an incremental rebuild makes exactly the deck a full build makes, as Anki sees it."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import msgspec
import pytest
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

from flashgen.build import build
from flashgen.config import load_options
from flashgen.report import Report
from flashgen.state import Stamp, origin, state_paths

from .conftest import write_notes
from .test_rendering import PNG

TOPICS = ["owls", "bees", "sloths", "octopuses", "crows", "whales", "ants", "bats", "eels", "moles"]


def _note(i: int) -> str:
    topic = TOPICS[i % len(TOPICS)]
    return f"""
        ---
        title: Notes on {topic} {i}
        categories: [{"Birds" if i % 3 == 0 else "Mammals"}]
        year: {2000 + i}
        ---
        Key takeaways:
        - The {topic} of region {i} rely on **echolocation** to hunt at night.
        - Researchers counted {i * 7 + 3} individuals in the 2019 survey of {topic}.
        - A healthy colony of {topic} needs clean water, shelter and food.
        - Which sense do {topic} of region {i} use most? :: Hearing
        """


def _anki_view(package: Path, folder: Path) -> dict[str, tuple[object, ...]]:
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        request = ImportAnkiPackageRequest(package_path=str(package), options=ImportAnkiPackageOptions())
        col.import_anki_package(request)
        view = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            decks = sorted({col.decks.name(c.did) for c in note.cards()})
            ords = sorted(c.ord for c in note.cards())
            view[note.guid] = (
                note.note_type()["name"],
                tuple(note.fields),
                tuple(sorted(note.tags)),
                tuple(decks),
                tuple(ords),
            )
        media = tuple(sorted(p.name for p in Path(col.media.dir()).iterdir()))
        view["__media__"] = media
        return view
    finally:
        col.close()


def _not_current(out: Path) -> None:
    """Make the next build in `out`, a copy of a deck folder, a full one that knows what the
    state knows (the texts of removed takeaways): a copied state is otherwise ignored."""
    paths = state_paths(out, "vault")
    stamp = msgspec.json.decode(paths.stamp.read_bytes(), type=Stamp)
    msgspec.structs.replace(stamp, current=False, origin=origin(paths.folder)).save(paths)


def _compare(tmp_path: Path, vault: Path, incremental_out: Path, full_out: Path, now: int, tag: str) -> Report:
    """Build incrementally into one folder and in full into a copy of the same state; compare."""
    fast = build(load_options([vault], output=incremental_out), now=now)
    _not_current(full_out)  # the full build, knowing what the state knows
    full = build(load_options([vault], output=full_out), now=now)
    assert fast.incremental and not full.incremental
    assert (incremental_out / "vault.lock.json").read_text() == (full_out / "vault.lock.json").read_text()
    print("FAST", fast.plan, fast.anki_notes, "FULL", full.plan, full.anki_notes)
    for field in ("notes", "takeaways", "anki_notes", "anki_cards", "plan", "without_takeaways"):
        assert getattr(fast, field) == getattr(full, field), field
    assert [str(p) for p in fast.failures] == [str(p) for p in full.failures]
    assert sorted(map(str, fast.changes)) == sorted(map(str, full.changes))
    a = _anki_view(incremental_out / "vault.apkg", tmp_path / f"anki-fast-{tag}")
    b = _anki_view(full_out / "vault.apkg", tmp_path / f"anki-full-{tag}")
    assert a == b
    return fast


def test_incremental_rebuild_equals_full_rebuild(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    (vault / "eye.png").write_bytes(PNG)
    out = tmp_path / "out"
    now = int(time.time())
    first = build(load_options([vault], output=out), now=now)
    assert first.written and not first.incremental

    # Round 1: edit a takeaway, delete a note, add one (with an image), rename one, break one.
    n3 = vault / "n03.md"
    n3.write_text(n3.read_text().replace("clean water, shelter and food", "clean water, shelter and insects"))
    (vault / "n05.md").unlink()
    write_notes(vault, {"n30.md": "- The new note shows an ![eye](eye.png) and the term **ommatidium**.\n"})
    (vault / "n07.md").rename(vault / "renamed-07.md")
    (vault / "n09.md").write_text("---\ntitle: [\n---\n- broken\n")
    full_out = tmp_path / "full"
    shutil.copytree(out, full_out)
    report = _compare(tmp_path, vault, out, full_out, now + 1, "1")
    assert report.written and report.parsed == 4  # n03, n30, renamed-07, n09
    assert report.plan["removed"] >= 1 and report.plan["added"] >= 1 and report.plan["updated"] >= 1
    assert [p.path.name for p in report.failures] == ["n09.md"]

    # Round 2: fix the broken note, bring a deleted takeaway back, within the same second.
    (vault / "n09.md").write_text(_note(9))
    n3.write_text(_note(3))
    shutil.rmtree(full_out)
    shutil.copytree(out, full_out)
    report = _compare(tmp_path, vault, out, full_out, now + 1, "2")
    assert not report.failures and report.written

    # Round 3: the first note and the last changed, a note added past the end (a non-ASCII name),
    # the renamed note deleted: new lock lines go first, last, and among the removed ones.
    n0 = vault / "n00.md"
    n0.write_text(n0.read_text().replace("echolocation", "hearing"))
    n30 = vault / "n30.md"
    n30.write_text(n30.read_text().replace("ommatidium", "compound eye"))
    write_notes(vault, {"zz-über.md": "- Owls of Zürich hunt by **magnetoreception**, some claim.\n"})
    (vault / "renamed-07.md").unlink()
    shutil.rmtree(full_out)
    shutil.copytree(out, full_out)
    report = _compare(tmp_path, vault, out, full_out, now + 2, "3")
    assert report.parsed == 3 and report.plan["removed"] >= 1 and report.plan["added"] >= 1

    # Nothing changed: the stamp answers.
    again = build(load_options([vault], output=out), now=now + 3)
    assert not again.written and again.plan["unchanged"] == again.anki_notes


@pytest.mark.parametrize("touch", ["lock", "package"])
def test_a_hand_edited_output_makes_a_full_build(tmp_path: Path, touch: str) -> None:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    out = tmp_path / "out"
    build(load_options([vault], output=out))
    target = out / ("vault.lock.json" if touch == "lock" else "vault.apkg")
    target.write_bytes(target.read_bytes())  # same bytes, new time: someone touched it
    n3 = vault / "n03.md"
    n3.write_text(n3.read_text().replace("food", "warmth"))
    report = build(load_options([vault], output=out))
    assert not report.incremental and report.written


def test_a_damaged_saved_database_makes_a_full_build(tmp_path: Path) -> None:
    """The database kept for incremental builds is written without waiting for the disk; one a
    crash of the machine left damaged (same size and time, garbage inside) makes a full build,
    not a failure, and the deck is whole again."""
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    out = tmp_path / "out"
    first = build(load_options([vault], output=out))
    saved = out / ".flashgen" / "vault.anki2"
    before = saved.stat()
    saved.write_bytes(b"\x00garbage" * (before.st_size // 8) + b"\x00" * (before.st_size % 8))
    os.utime(saved, ns=(before.st_atime_ns, before.st_mtime_ns))
    n3 = vault / "n03.md"
    n3.write_text(n3.read_text().replace("food", "warmth"))
    report = build(load_options([vault], output=out))
    assert not report.incremental and report.written and report.plan["updated"] >= 1
    notes = {guid for guid in _anki_view(out / "vault.apkg", tmp_path / "check") if guid != "__media__"}
    assert len(notes) == report.anki_notes == first.anki_notes
    again = build(load_options([vault], output=out))  # and the state is sound again
    assert not again.written


def test_the_cache_written_from_worker_processes_serves_the_next_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results encoded by worker processes go to the cache file as they arrive; the next build
    reads every unchanged note from it and gets the same cards, and a changed note is made again."""
    from flashgen import harvest
    from flashgen.state import Cache, state_paths

    monkeypatch.setattr(harvest, "PARALLEL_FROM", 2)
    vault = write_notes(tmp_path / "vault", {f"n{i:02d}.md": _note(i) for i in range(12)})
    options = load_options([vault], output=tmp_path / "decks")
    path = state_paths(tmp_path / "decks", "vault")
    cache = Cache.load(path, options.cache_key())
    first = harvest.harvest(options, cache=cache, jobs=2)
    cache.save()
    assert first.parsed == 12 and len(first.cards) > 30

    write_notes(vault, {"n05.md": _note(5).replace("clean water", "fresh water")})
    cache = Cache.load(path, options.cache_key())
    second = harvest.harvest(options, cache=cache, jobs=1)
    assert second.parsed == 1  # n05 only

    def view(crop: harvest.Harvest) -> list[tuple[str, str, str, str]]:
        return [(c.takeaway.note.rel, c.role, c.front, c.back) for c in crop.cards]

    changed = [c for c in view(second) if c not in view(first)]
    assert changed and {rel for rel, *_ in changed} == {"n05.md"}
    assert len(view(second)) == len(view(first))


def test_cards_pickle_by_value_with_their_takeaway_note_and_images(tmp_path: Path) -> None:
    """Cards cross from worker processes and into the cache pickled by value (`records.by_value`):
    what comes back is the same card, and the parts equality does not compare (the takeaway, its
    note and nested items) come back too."""
    import pickle
    from dataclasses import fields

    from flashgen.harvest import harvest

    vault = write_notes(
        tmp_path / "vault",
        {
            "n.md": """
            ---
            title: Owls
            categories: [Birds]
            ---
            Key takeaways:
            - Owls hunt at night by **hearing** ![](owl.png) alone.
            - Barn owls have three traits:
              - **asymmetric ears** that place sounds in height
              - soft feathers that muffle every wingbeat in flight
            """
        },
    )
    (vault / "owl.png").write_bytes(PNG)
    crop = harvest(load_options([vault], output=tmp_path / "decks"), jobs=1)
    assert any(c.media for c in crop.cards) and any(c.takeaway.children for c in crop.cards)
    for card in crop.cards:
        back = pickle.loads(pickle.dumps(card, 5))
        assert type(back) is type(card)
        for f in fields(card):
            assert getattr(back, f.name) == getattr(card, f.name), f.name
        assert back.takeaway.note == card.takeaway.note
        assert back.takeaway.children == card.takeaway.children
        assert [c.note for c in back.takeaway.children] == [c.note for c in card.takeaway.children]
        assert back.media == card.media and all(m.path.read_bytes() == PNG for m in back.media)


def _touch_all(vault: Path, seconds: int) -> None:
    """New modification times, same bytes: what a sync tool or a git checkout does."""
    for path in [*vault.rglob("*.md"), *vault.rglob("*.png")]:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 10**9))


def test_notes_touched_but_unchanged_are_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every note gets a new time and the same content: the deck is up to date, nothing is parsed
    or written, the cache is not even loaded (a full build would load it and match every card:
    10 s and 840 MB for 10,000 notes), and the stamp takes the new times, so that the next build
    only reads it."""
    from flashgen import harvest, incremental
    from flashgen.state import Cache, Stamp, signature, state_paths

    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    write_notes(vault, {"eyes.md": "- Owls see with **tubular eyes** ![eye](eye.png), not round ones.\n"})
    (vault / "eye.png").write_bytes(PNG)
    out = tmp_path / "out"
    options = load_options([vault], output=out)
    first = build(options)
    assert any(m.startswith("eye-") for m in _anki_view(out / "vault.apkg", tmp_path / "anki")["__media__"])
    state_paths(out, "vault").stamp.unlink()  # a full build again, every note from the cache:
    assert build(options).parsed == 0  # the stamp must learn their content from the cache too
    package = (out / "vault.apkg").stat().st_mtime_ns, (out / "vault.lock.json").stat().st_mtime_ns
    _touch_all(vault, 5)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("a touched note was parsed again")

    monkeypatch.setattr(harvest, "harvest_note", no_parsing)
    monkeypatch.setattr(Cache, "load", no_parsing)
    report = build(options)
    assert not report.written and report.parsed == 0 and report.plan["unchanged"] == first.anki_notes
    assert ((out / "vault.apkg").stat().st_mtime_ns, (out / "vault.lock.json").stat().st_mtime_ns) == package
    stamp, notice = Stamp.load(state_paths(out, "vault"))
    assert stamp is not None and notice is None
    assert all(stamp.notes[str(p)] == signature(p) for p in vault.glob("*.md"))
    assert stamp.notes[str((vault / "eye.png").resolve())] == signature(vault / "eye.png")

    monkeypatch.setattr(incremental, "changes", no_parsing)  # now the stamp alone answers
    assert not build(options).written


def test_touched_notes_and_one_changed_make_an_incremental_build(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    out = tmp_path / "out"
    now = int(time.time())
    build(load_options([vault], output=out), now=now)
    _touch_all(vault, 5)
    n3 = vault / "n03.md"
    n3.write_text(n3.read_text().replace("food", "warmth"))
    full_out = tmp_path / "full"
    shutil.copytree(out, full_out)
    report = _compare(tmp_path, vault, out, full_out, now + 1, "touched")
    assert report.parsed == 1 and report.plan["updated"] >= 1


def test_a_note_that_failed_is_read_again_when_its_old_content_comes_back(tmp_path: Path) -> None:
    """A note whose last read failed has no content hash in the stamp: restoring the content it
    had before (with a new time) reads it again and clears the failure."""
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    out = tmp_path / "out"
    options = load_options([vault], output=out)
    build(options)
    n9 = vault / "n09.md"
    good = n9.read_bytes()
    n9.write_text("---\ntitle: [\n---\n- broken\n")
    broken = build(options)
    assert broken.incremental and [p.path.name for p in broken.failures] == ["n09.md"]
    n9.write_bytes(good)
    stat = n9.stat()
    os.utime(n9, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    again = build(options)
    assert not again.failures and again.parsed == 1


def test_an_incremental_build_writes_no_journal_a_kill_could_leave(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database copy an incremental build edits is a temporary file until it is renamed; with
    SQLite's rollback journal, a build killed mid-edit also left a `-journal` file beside it,
    which no later build removed. Seen while the rows are written: none."""
    from flashgen import package

    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(30)})
    out = tmp_path / "out"
    build(load_options([vault], output=out))
    seen: list[str] = []
    insert = package._insert

    def watched(*args: object) -> None:
        insert(*args)  # type: ignore[arg-type]
        seen.extend(os.listdir(out / ".flashgen"))

    monkeypatch.setattr(package, "_insert", watched)
    n3 = vault / "n03.md"
    n3.write_text(n3.read_text().replace("food", "warmth"))
    report = build(load_options([vault], output=out))
    assert report.incremental and report.written
    assert any(name.endswith(".tmp") for name in seen)  # the copy being edited
    assert not [name for name in seen if "journal" in name]

    # A journal left by an earlier version is removed with the other temporary files.
    stale = out / ".flashgen" / ".vault.anki2.old.tmp-journal"
    stale.write_bytes(b"x")
    n3.write_text(n3.read_text().replace("warmth", "shade"))
    assert build(load_options([vault], output=out)).written
    assert not stale.exists()
