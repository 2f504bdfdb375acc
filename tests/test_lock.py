"""Issue 15: a hand-edited lock file is input like any other. A value Anki would refuse, or one
that gives two cards one GUID, is a "damaged lock file" error naming the file and the line; the
build writes nothing (the lock holds the links to the user's review history, so it is not
silently dropped), the previous deck stays whole, and there is never a traceback."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flashgen.build import build
from flashgen.config import load_options
from flashgen.errors import OutputError

from .conftest import Anki, lock_cards, study, write_notes
from .test_incremental import _anki_view, _note

Edit = Callable[[list[str]], list[str]]


def _first(lines: list[str], has: str, after: str = "") -> int:
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if has in lines[i])


def _sub(pattern: str, replacement: str, has: str = '"cards":', after: str = "") -> Edit:
    """Replace `pattern` once in the first line holding `has` (after the first holding `after`)."""

    def edit(lines: list[str]) -> list[str]:
        at = _first(lines, has, after)
        lines[at] = re.sub(pattern, replacement, lines[at], count=1)
        return lines

    return edit


_MOD = r'("cards":\[\["[^"]*","[^"]*",)\d+'  # the first card's modification time
_CLOZE = r"(\[\[)\d+(,)"  # the first cloze number of the first cloze card
_GUID = r'("cards":\[\[")[^"]*'


def _one_guid(lines: list[str]) -> list[str]:
    guid = re.search(r'"cards":\[\["([^"]*)"', lines[_first(lines, '"cards":')]).group(1)  # type: ignore[union-attr]
    return [re.sub(r'(\[\[|\],\[)"fg[^"]*"', rf'\1"{guid}"', line) for line in lines]


EDITS: dict[str, Edit] = {
    "mod 1e30": _sub(_MOD, r"\g<1>1e30"),
    "mod 10**30 (a number)": _sub(_MOD, rf"\g<1>{10**30}"),
    "mod 10**30 (as typed)": _sub(_MOD, r"\g<1>10**30"),
    "mod negative": _sub(_MOD, r"\g<1>-1"),
    "mod as text": _sub(_MOD, r'\g<1>"1700000000"'),
    "cloze 0": _sub(_CLOZE, r"\g<1>0\2", "[[1,"),
    "cloze 70000": _sub(_CLOZE, r"\g<1>70000\2", "[[1,"),
    "cloze_max -3": _sub(r'(\[\[1,"[^"]*"\]\])\]', r"\1,-3]", "[[1,"),
    "cloze_max below its clozes": _sub(r'(\[\[1,"[^"]*"\]\])\]', r"\1,0]", "[[1,"),
    "every record one GUID": _one_guid,
    "GUID with a space": _sub(_GUID, r"\1fg a b"),
    "field separator in the text": _sub(r'"text":"', r'"text":"a\\u001f'),
    "status unknown": _sub(r'"text":', r'"status":"deleted","text":'),
    "line negative": _sub(r'"text":', r'"line":-4,"text":'),
    "sum not as written": _sub(r'"sum":"[^"]*"', r'"sum":"abc"'),
    "words cut short": _sub(r'"words":"[^"]', r'"words":"'),
    "a card cut short": _sub(r'("cards":\[\["[^"]*","[^"]*",\d+),"[^"]*"', r"\1"),
    "a takeaway without cards": _sub(r'"cards":\[.*\]\}', r'"cards":[]}'),
    "a takeaway before its note": lambda lines: [line for line in lines if '"note":' not in line],
    "an unknown key": _sub(r'"text":', r'"colour":"red","text":'),
}


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, int]:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(12)})
    out = tmp_path / "decks"
    report = build(load_options([vault], output=out))
    assert report.written and "[[1," in (out / "vault.lock.json").read_text()
    return vault, out, report.anki_notes


def _edit(lock: Path, edit: Edit) -> list[str]:
    before = lock.read_text(encoding="utf-8").split("\n")
    after = edit(list(before))
    assert after != before, "the edit changed nothing"
    lock.write_text("\n".join(after), encoding="utf-8")
    return after


def _deck_is_whole(package: Path, folder: Path, notes: int) -> None:
    """The package on disk is still the last good one, as Anki sees it."""
    view = _anki_view(package, folder)
    assert len([guid for guid in view if guid != "__media__"]) == notes


@pytest.mark.parametrize("name", list(EDITS))
def test_a_hand_edited_lock_value_is_a_located_error(tmp_path: Path, built: tuple[Path, Path, int], name: str) -> None:
    vault, out, notes = built
    lock = out / "vault.lock.json"
    (vault / "n03.md").write_text(_note(3).replace("food", "warmth"))  # a change to write
    _edit(lock, EDITS[name])
    edited = lock.read_bytes()
    with pytest.raises(OutputError) as raised:
        build(load_options([vault], output=out))
    message = str(raised.value)
    assert re.match(rf"{re.escape(str(lock))}:\d+: damaged lock file: ", message), message
    assert lock.read_bytes() == edited  # the user's file is left as it is
    _deck_is_whole(out / "vault.apkg", tmp_path / "anki", notes)


def test_the_error_names_the_line_that_is_wrong(built: tuple[Path, Path, int]) -> None:
    vault, out, _ = built
    lock = out / "vault.lock.json"
    lines = _edit(lock, _sub(_MOD, r"\g<1>1e30", after='"note":"n05.md"'))
    wrong = _first(lines, "1e30") + 1
    assert wrong > 3
    with pytest.raises(OutputError, match=rf"vault\.lock\.json:{wrong}: damaged lock file: .*mod"):
        build(load_options([vault], output=out))
    _edit(lock, lambda found: [line.replace("1e30", "1700000000") for line in found])
    lines = _edit(lock, _one_guid)
    first = _first(lines, '"cards":') + 1
    second = first if lines[first - 1].count('["fg') > 1 else first + 1
    message = rf"vault\.lock\.json:{second}: damaged lock file: GUID \S+ is also the GUID of line {first}"
    with pytest.raises(OutputError, match=message):
        build(load_options([vault], output=out))


def test_the_command_line_reports_it_without_a_traceback(built: tuple[Path, Path, int]) -> None:
    vault, out, _ = built
    lock = out / "vault.lock.json"
    _edit(lock, EDITS["cloze 70000"])
    done = subprocess.run(
        [sys.executable, "-m", "flashgen", "build", str(vault), "-o", str(out)],
        capture_output=True,
        text=True,
        env={**os.environ, "HOME": str(out.parent / "home")},
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert re.search(rf"error: {re.escape(str(lock))}:\d+: damaged lock file: cloze numbers \[70000", done.stderr)


def _keep_signature(path: Path, edit: Edit) -> None:
    """Edit `path` keeping its size and time: the stamp still vouches for it."""
    before = path.stat()
    size = len(path.read_bytes())
    _edit(path, edit)
    assert len(path.read_bytes()) == size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_an_incremental_build_does_not_pass_a_duplicate_guid_through(
    tmp_path: Path, built: tuple[Path, Path, int]
) -> None:
    """The incremental build passes the lock lines of unchanged notes through unparsed: a GUID
    held twice among them (edited with the file's size and time kept) still stops the build."""
    vault, out, notes = built
    lock = out / "vault.lock.json"

    def twice(lines: list[str]) -> list[str]:
        guid = re.search(r'"cards":\[\["([^"]*)"', lines[_first(lines, '"cards":')]).group(1)  # type: ignore[union-attr]
        return _sub(_GUID, rf"\g<1>{guid}", after='"note":"n07.md"')(lines)

    _keep_signature(lock, twice)
    (vault / "n03.md").write_text(_note(3).replace("food", "warmth"))
    with pytest.raises(OutputError, match="damaged lock file: GUID"):
        build(load_options([vault], output=out))
    _deck_is_whole(out / "vault.apkg", tmp_path / "anki", notes)


def test_an_incremental_build_checks_the_records_it_reads(tmp_path: Path, built: tuple[Path, Path, int]) -> None:
    """The changed note's own lock lines are read in full and checked like in a full build."""
    vault, out, notes = built
    lock = out / "vault.lock.json"

    cloze_zero = _sub(_CLOZE, r"\g<1>0\2", "[[1,", after='"note":"n03.md"')

    _keep_signature(lock, cloze_zero)
    (vault / "n03.md").write_text(_note(3).replace("food", "warmth"))
    with pytest.raises(OutputError, match=r"damaged lock file: cloze numbers \[0"):
        build(load_options([vault], output=out))
    _deck_is_whole(out / "vault.apkg", tmp_path / "anki", notes)


def test_a_lock_file_reformatted_by_an_editor_is_still_read(built: tuple[Path, Path, int]) -> None:
    vault, out, notes = built
    lock = out / "vault.lock.json"
    lock.write_text(json.dumps(json.loads(lock.read_text()), indent=4))
    report = build(load_options([vault], output=out))
    assert report.anki_notes == notes and report.plan["unchanged"] == notes


FORMAT_1 = Path(__file__).parent / "data" / "lock_v1"


def test_a_lock_file_of_format_1_is_rewritten_keeping_every_card_in_anki(tmp_path: Path, anki: Anki) -> None:
    """A deck built by the version before lock files had format 2: its package imported and
    studied in Anki, then built by this version from the old lock file (and no state). The lock
    file is rewritten in format 2, every GUID kept (the removed card's whole text too), and
    importing the new package adds and updates nothing: same notes, cards and review history. A
    takeaway edited afterwards still updates its note in place."""
    vault = tmp_path / "vault"
    shutil.copytree(FORMAT_1 / "vault", vault)
    out = tmp_path / "decks"
    out.mkdir()
    shutil.copy(FORMAT_1 / "vault.lock.json", out / "vault.lock.json")
    old = json.loads((FORMAT_1 / "vault.lock.json").read_text(encoding="utf-8"))["cards"]
    assert old and {c["status"] for c in old} == {"active", "removed"}

    log = anki.import_package(FORMAT_1 / "vault.apkg")
    assert len(log.new) == len(old)  # type: ignore[attr-defined]
    assert study(anki.col, None, 30)

    def held() -> dict[str, tuple[int, list[int], list[tuple[int, int, int]]]]:
        found = {}
        for note in anki.notes():
            cards = sorted(note.cards(), key=lambda c: c.ord)
            reviews = [anki.col.db.scalar("select count() from revlog where cid = ?", c.id) for c in cards]
            history = [(c.ivl, c.reps, r) for c, r in zip(cards, reviews, strict=True)]
            found[note.guid] = (note.id, [c.id for c in cards], history)
        return found

    before = held()
    assert set(before) == {c["guid"] for c in old}

    report = build(load_options([vault], output=out))
    text = (out / "vault.lock.json").read_text(encoding="utf-8")
    assert text.startswith('{"format":2,') and len(text) < len((FORMAT_1 / "vault.lock.json").read_text())
    assert report.plan["added"] == report.plan["updated"] == 0
    new = lock_cards(out / "vault.lock.json")
    assert sorted((c["guid"], c["role"], c["status"], c["mod"]) for c in new) == sorted(
        (c["guid"], c["role"], c["status"], c["mod"]) for c in old
    )
    [removed] = [c for c in new if c["status"] == "removed"]
    [was] = [c for c in old if c["status"] == "removed"]
    assert (removed["text"], removed["line"], removed["deck"]) == (was["text"], was["line"], was["deck"])

    log = anki.import_package(out / "vault.apkg")
    assert len(log.new) == len(log.updated) == 0  # type: ignore[attr-defined]
    assert held() == before

    book = vault / "design" / "book.md"
    book.write_text(book.read_text().replace("immediate because people", "immediate since people"))
    report = build(load_options([vault], output=out))
    assert report.plan["updated"] == 1 and report.plan["added"] == 0
    log = anki.import_package(out / "vault.apkg")
    assert len(log.new) == 0 and len(log.updated) == 1  # type: ignore[attr-defined]
    assert held().keys() == before.keys()
    assert all(held()[guid][:2] == before[guid][:2] for guid in before)  # same notes, same cards

    shutil.rmtree(out / ".flashgen")  # the state is the machine's: the lock file alone keeps the GUIDs
    (out / "vault.lock.json").unlink()
    shutil.copy(FORMAT_1 / "vault.lock.json", out / "vault.lock.json")
    build(load_options([vault], output=out))
    assert {c["guid"] for c in lock_cards(out / "vault.lock.json")} == set(before)


def test_a_one_word_edit_is_a_one_line_diff(tmp_path: Path) -> None:
    """The lock file is laid out a line per takeaway: editing one word of a takeaway changes
    that line only, and adding a takeaway adds a line (the lines below do not move)."""
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(3)})
    out = tmp_path / "decks"
    build(load_options([vault], output=out))
    lock = out / "vault.lock.json"
    first = lock.read_text(encoding="utf-8").splitlines()
    write_notes(vault, {"n01.md": _note(1).replace("food", "warmth")})
    build(load_options([vault], output=out))
    second = lock.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(first, second, strict=True) if a != b]
    assert len(second) == len(first) and len(changed) == 1 and "warmth" in changed[0][1]
    first_point = "        - The bees of region 1"
    new_point = "        - Sloths sleep up to **fifteen hours** a day in the wild.\n"
    write_notes(vault, {"n01.md": _note(1).replace("food", "warmth").replace(first_point, new_point + first_point)})
    build(load_options([vault], output=out))
    third = lock.read_text(encoding="utf-8").splitlines()
    added = [line for line in third if line not in second]
    assert len(third) == len(second) + 1 and len(added) == 1 and "fifteen hours" in added[0]


def test_the_lock_file_alone_keeps_every_identity(tmp_path: Path) -> None:
    """The state is the machine's (`decks/.flashgen`, never committed): a build without it, from
    the notes and the lock file alone (a fresh clone), finds every card unchanged and writes the
    same lock file, removed takeaways included."""
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(6)})
    out = tmp_path / "decks"
    build(load_options([vault], output=out))
    write_notes(vault, {"n02.md": _note(2).replace("- Researchers counted", "- Scientists counted")})
    write_notes(vault, {"n04.md": _note(4).replace("- A healthy colony", "- Elsewhere, a colony")})
    (vault / "n05.md").unlink()
    second = build(load_options([vault], output=out))
    assert second.plan["removed"] >= 1 and second.plan["updated"] + second.plan["added"] >= 1
    lock = (out / "vault.lock.json").read_bytes()
    clone = tmp_path / "clone"
    clone.mkdir()
    shutil.copy(out / "vault.lock.json", clone / "vault.lock.json")
    again = build(load_options([vault], output=clone))
    assert again.plan["unchanged"] > 0 and sum(again.plan.values()) == again.plan["unchanged"]
    assert (clone / "vault.lock.json").read_bytes() == lock
