"""Issue 15: a hand-edited lock file is input like any other. A value Anki would refuse, or one
that gives two cards one GUID, is a "damaged lock file" error naming the file and the line; the
build writes nothing (the lock holds the links to the user's review history, so it is not
silently dropped), the previous deck stays whole, and there is never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from flashgen.build import build
from flashgen.config import load_options
from flashgen.errors import OutputError

from .conftest import write_notes
from .test_incremental import _anki_view, _note

Edit = Callable[[list[str]], list[str]]


def _first(lines: list[str], has: str) -> int:
    return next(i for i, line in enumerate(lines) if has in line)


def _set(key: str, value: str, has: str = '"guid"') -> Edit:
    """Set `key` to the JSON text `value` in the first record line holding `has`."""

    def edit(lines: list[str]) -> list[str]:
        at = _first(lines, has)
        lines[at] = re.sub(rf'"{key}": (-?\d+|"[^"]*")', lambda _: f'"{key}": {value}', lines[at], count=1)
        return lines

    return edit


def _one_guid(lines: list[str]) -> list[str]:
    guid = json.loads(lines[1].rstrip(","))["guid"]
    return [re.sub(r'"guid": "[^"]*"', f'"guid": "{guid}"', line) for line in lines]


def _cloze(number: str) -> Edit:
    def edit(lines: list[str]) -> list[str]:
        at = _first(lines, '"clozes": [[')
        lines[at] = re.sub(r'"clozes": \[\[\d+', f'"clozes": [[{number}', lines[at], count=1)
        return lines

    return edit


EDITS: dict[str, Edit] = {
    "mod 1e30": _set("mod", "1e30"),
    "mod 10**30 (a number)": _set("mod", str(10**30)),
    "mod 10**30 (as typed)": _set("mod", "10**30"),
    "mod negative": _set("mod", "-1"),
    "mod as text": _set("mod", '"1700000000"'),
    "cloze 0": _cloze("0"),
    "cloze 70000": _cloze("70000"),
    "cloze_max -3": _set("cloze_max", "-3", '"clozes": [['),
    "cloze_max below its clozes": _set("cloze_max", "0", '"clozes": [['),
    "every record one GUID": _one_guid,
    "GUID with a space": _set("guid", '"fg a b"'),
    "field separator in the text": _set("text", '"a\\u001fb"'),
    "status unknown": _set("status", '"deleted"'),
    "line negative": _set("line", "-4"),
}


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, int]:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(12)})
    out = tmp_path / "decks"
    report = build(load_options([vault], output=out))
    assert report.written and '"clozes": [[' in (out / "vault.lock.json").read_text()
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
    lines = _edit(lock, _set("mod", "1e30", '"path": "n05.md"'))
    wrong = _first(lines, "1e30") + 1
    with pytest.raises(OutputError, match=rf"vault\.lock\.json:{wrong}: damaged lock file: .*mod"):
        build(load_options([vault], output=out))
    _edit(lock, lambda found: [line.replace("1e30", "1700000000") for line in found])
    _edit(lock, _one_guid)
    second = r"vault\.lock\.json:3: damaged lock file: GUID \S+ is also the GUID of line 2"
    with pytest.raises(OutputError, match=second):
        build(load_options([vault], output=out))


def test_the_command_line_reports_it_without_a_traceback(built: tuple[Path, Path, int]) -> None:
    vault, out, _ = built
    lock = out / "vault.lock.json"
    _edit(lock, _cloze("70000"))
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
        guid = json.loads(lines[1].rstrip(","))["guid"]
        at = _first(lines, '"path": "n07.md"')
        lines[at] = re.sub(r'"guid": "[^"]*"', f'"guid": "{guid}"', lines[at])
        return lines

    _keep_signature(lock, twice)
    (vault / "n03.md").write_text(_note(3).replace("food", "warmth"))
    with pytest.raises(OutputError, match="damaged lock file: GUID"):
        build(load_options([vault], output=out))
    _deck_is_whole(out / "vault.apkg", tmp_path / "anki", notes)


def test_an_incremental_build_checks_the_records_it_reads(tmp_path: Path, built: tuple[Path, Path, int]) -> None:
    """The changed note's own lock lines are read in full and checked like in a full build."""
    vault, out, notes = built
    lock = out / "vault.lock.json"

    def cloze_zero(lines: list[str]) -> list[str]:
        at = _first(lines, '"path": "n03.md"')
        at = next(i for i in range(at, len(lines)) if '"clozes": [[' in lines[i])
        lines[at] = re.sub(r'"clozes": \[\[\d', '"clozes": [[0', lines[at], count=1)
        return lines

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
