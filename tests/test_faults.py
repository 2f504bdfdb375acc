"""Issue 6: faults around a build never cost the user their deck, their lock file or their notes.

A build killed at any moment, an output folder that cannot be written, two builds at once, and
folders without cards are run through the real command (`python -m flashgen` in a subprocess, or
click's runner) and judged by what Anki imports afterwards.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from anki.collection import Collection
from click.testing import CliRunner

from flashgen import lock
from flashgen.cli import main

from .conftest import Anki, write_notes

NAME = "vault"  # the package name: the notes folder is called vault in every test


def _env(tmp_path: Path) -> dict[str, str]:
    """The environment of a build subprocess: its own HOME and temporary folder, no user config."""
    env = {k: v for k, v in os.environ.items() if k != "FLASHGEN_CONFIG"}
    (tmp_path / "home").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env.update(HOME=str(tmp_path / "home"), TMPDIR=str(tmp_path / "tmp"), TZ="UTC", PYTHONUNBUFFERED="1")
    return env


def _start(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    # Its own session, so that SIGKILL reaches the build and the workers it forks, and only them.
    return subprocess.Popen(
        [sys.executable, "-m", "flashgen", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        start_new_session=True,
    )


def _flashgen(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    proc = _start(tmp_path, *args)
    try:
        out, err = proc.communicate(timeout=timeout)
    finally:
        _kill(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _kill(proc: subprocess.Popen[str]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # the group of the process this test started
    proc.communicate()


def _anki_guids(package: Path, tmp_path: Path) -> set[str]:
    """The GUIDs of the notes a fresh Anki collection holds after importing `package`."""
    folder = tmp_path / f"anki-{time.monotonic_ns()}"
    folder.mkdir(parents=True)
    col = Collection(str(folder / "collection.anki2"))
    try:
        anki = Anki(col)
        anki.import_package(package)
        notes = anki.notes()
        assert notes, f"{package} imported no notes"
        assert all(n.fields[0] for n in notes)
        return {n.guid for n in notes}
    finally:
        col.close()
        shutil.rmtree(folder, ignore_errors=True)


def _lock_guids(path: Path) -> set[str]:
    json.loads(path.read_text(encoding="utf-8"))  # valid JSON, not only what flashgen accepts
    return {r.guid for r in lock.load(path).records}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# Files a build may leave in its output folder: the package, the lock file, the build lock, the
# cache folder, and (only after SIGKILL, which no program can clean up after) its temporary files.
_OUTPUTS = {f"{NAME}.apkg", f"{NAME}.lock.json", f".{NAME}.build-lock", ".flashgen"}
_STATE = {f"{NAME}.cache", f"{NAME}.state", f"{NAME}.anki2", "CACHEDIR.TAG", ".gitignore"}
_TEMPORARY = re.compile(rf"^\.{re.escape(NAME)}\.(apkg|lock\.json|cache|state|anki2)\.[^.]+\.tmp$")


def _temporary_files(out: Path) -> set[str]:
    """Temporary files in the output folder (relative to it); fails on any file that is neither
    output nor temporary."""
    found = set()
    for folder, expected in ((out, _OUTPUTS), (out / ".flashgen", _STATE)):
        if not folder.is_dir():
            continue
        for name in os.listdir(folder):
            if _TEMPORARY.match(name):
                found.add((folder / name).relative_to(out).as_posix())
            else:
                assert name in expected, f"unexpected {folder / name}"
    return found


def _notes_state(folder: Path) -> dict[str, tuple[str, int, int]]:
    """Every file and folder below `folder`: content hash, modification time, mode."""
    state = {}
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(here, name)
            info = path.lstat()
            content = _digest(path) if path.is_file() and not path.is_symlink() else ""
            state[path.relative_to(folder).as_posix()] = (content, info.st_mtime_ns, info.st_mode)
    info = folder.stat()
    state["."] = ("", info.st_mtime_ns, info.st_mode)
    return state


# --- (a) a build killed at any point -----------------------------------------------------------


def _vault(folder: Path, count: int, extra: str = "") -> Path:
    """`count` small notes, each with one takeaway (and `extra`, formatted with the note's number)."""
    template = "---\ntitle: Note {i}\n---\n## Key takeaways\n\n- Takeaway {i} is about **topic {i}**.\n" + extra
    return write_notes(folder, {f"n{i:04d}.md": template.format(i=i) for i in range(count)})


def _after(seconds: float) -> Callable[[Path, float], bool]:
    return lambda out, started: time.monotonic() - started >= seconds


def _package_temp_exists(out: Path, started: float) -> bool:
    return any(n.startswith(f".{NAME}.apkg.") for n in os.listdir(out))


def _package_replaced(inode: int) -> Callable[[Path, float], bool]:
    def check(out: Path, started: float) -> bool:
        try:
            return (out / f"{NAME}.apkg").stat().st_ino != inode
        except FileNotFoundError:
            return False

    return check


def test_a_killed_build_leaves_a_usable_deck_and_lock(tmp_path: Path) -> None:
    vault = _vault(tmp_path / NAME, 2000)
    out = tmp_path / "out"
    first = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert first.returncode == 0, first.stderr
    package, lock_file = out / f"{NAME}.apkg", out / f"{NAME}.lock.json"
    old_guids = _anki_guids(package, tmp_path)
    assert old_guids == _lock_guids(lock_file) and len(old_guids) >= 2000
    old_package, old_lock = _digest(package), _digest(lock_file)
    snapshot = tmp_path / "snapshot"
    shutil.copytree(out, snapshot)

    # Fifty notes gain a takeaway: the next build reads them again and rewrites both files.
    for i, path in enumerate(sorted(vault.iterdir())[:50]):
        with path.open("a", encoding="utf-8") as stream:
            stream.write(f"- A second takeaway {i} adds **detail {i}**.\n")
    notes_before = _notes_state(vault)

    triggers: dict[str, Callable[[Path, float], bool]] = {
        "after 0.2 s": _after(0.2),
        "after 0.5 s": _after(0.5),
        "after 1 s": _after(1.0),
        "while the package is written": _package_temp_exists,
        "right after the package is replaced": lambda out, started: False,  # set below, per run
    }
    seen: dict[str, str] = {}
    debris = tmp_path / "debris"  # temporary files the killed builds left, kept for the last build
    debris.mkdir()
    for moment, trigger in triggers.items():
        for name in _temporary_files(out):
            (debris / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.move(out / name, debris / name)
        shutil.rmtree(out)
        shutil.copytree(snapshot, out)  # the same previous deck before every kill
        if moment.startswith("right after"):
            trigger = _package_replaced(package.stat().st_ino)
        proc = _start(tmp_path, "build", str(vault), "-o", str(out))
        started = time.monotonic()
        while proc.poll() is None and not trigger(out, started):
            time.sleep(0.002)
        finished = proc.poll() is not None
        _kill(proc)
        seen[moment] = "finished first" if finished else "killed"
        if finished:
            assert proc.returncode == 0

        # The lock file is whole, and the package is whole and imports into Anki.
        lock_guids = _lock_guids(lock_file)
        same_package = _digest(package) == old_package
        package_guids = old_guids if same_package else _anki_guids(package, tmp_path)
        if _digest(lock_file) == old_lock and not same_package:
            # Killed between replacing the package and replacing the lock file: the new package
            # and the previous lock file. The next build derives the same GUIDs again (see
            # identity), so the lock file still names every card it knew.
            assert lock_guids <= package_guids, moment
        else:
            assert lock_guids == package_guids, moment
        _temporary_files(out)  # nothing but outputs and temporary files
        assert _notes_state(vault) == notes_before

    # A build amid every temporary file the kills left succeeds, agrees with its lock file and
    # adds no temporary file of its own.
    for path in debris.rglob("*.tmp"):
        shutil.move(path, out / path.relative_to(debris))
    leftovers = _temporary_files(out)
    final = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert final.returncode == 0, final.stderr
    assert _temporary_files(out) <= leftovers
    guids = _anki_guids(package, tmp_path)
    assert guids == _lock_guids(lock_file)
    assert old_guids < guids and len(guids) == len(old_guids) + 50  # one cloze note a new takeaway
    assert _notes_state(vault) == notes_before
    assert "killed" in seen.values(), seen


def test_a_build_leaves_nothing_in_the_temporary_folder(tmp_path: Path) -> None:
    vault = _vault(tmp_path / NAME, 3)
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert os.listdir(tmp_path / "tmp") == []


# --- (b) an output folder that cannot be written -------------------------------------------------


def _small_vault(tmp_path: Path) -> Path:
    return write_notes(
        tmp_path / NAME, {"a.md": "- Alpha is the **first** letter.\n", "b.md": "- Beta comes second.\n"}
    )


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    return lines[0]


def test_output_below_a_regular_file_is_a_clear_error(tmp_path: Path) -> None:
    vault = _small_vault(tmp_path)
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder\n")
    out = blocker / "decks"
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert _error_line(result) == f"error: cannot write to {out}: Not a directory"
    assert blocker.read_text() == "not a folder\n"


def test_package_path_taken_by_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    vault = _small_vault(tmp_path)
    out = tmp_path / "out"
    (out / f"{NAME}.apkg").mkdir(parents=True)
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert _error_line(result) == f"error: cannot write {out / f'{NAME}.apkg'}: Is a directory"
    assert not _temporary_files(out)
    assert not (out / f"{NAME}.lock.json").exists()  # no lock file for a package that was never written
    assert not list((out / f"{NAME}.apkg").iterdir())


def test_lock_path_taken_by_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    vault = _small_vault(tmp_path)
    out = tmp_path / "out"
    (out / f"{NAME}.lock.json").mkdir(parents=True)
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    line = _error_line(result)
    assert line.startswith(f"error: {out / f'{NAME}.lock.json'}: ") and "Is a directory" in line
    assert not (out / f"{NAME}.apkg").exists() and not _temporary_files(out)


def test_read_only_output_folder_is_a_clear_error(tmp_path: Path) -> None:
    vault = _small_vault(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o555)
    try:
        probe = out / "probe"
        try:
            probe.write_text("")
        except PermissionError:
            pass
        else:
            probe.unlink()
            pytest.skip("a read-only folder does not stop this user from writing (root in CI); see the tests above")
        result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
        line = _error_line(result)
        assert str(out) in line and "Permission denied" in line
        assert os.listdir(out) == []
    finally:
        out.chmod(0o755)


# --- (c) two builds at once ----------------------------------------------------------------------


@pytest.mark.parametrize("same_notes", [True, False], ids=["same notes", "different notes"])
def test_two_builds_at_once_leave_a_valid_deck(tmp_path: Path, same_notes: bool) -> None:
    first = _vault(tmp_path / "one" / NAME, 100)
    second = first if same_notes else _vault(tmp_path / "two" / NAME, 100, extra="- One more fact {i} here.\n")
    out = tmp_path / "out"
    procs = [_start(tmp_path, "build", str(folder), "-o", str(out)) for folder in (first, second)]
    results = []
    for proc in procs:
        _, err_text = proc.communicate(timeout=120)
        results.append((proc.returncode, err_text))
    for code, err in results:
        assert "Traceback" not in err
        assert code == 0 or (code == 2 and "another flashgen build" in err), err
    assert any(code == 0 for code, _ in results)
    assert _lock_guids(out / f"{NAME}.lock.json") == _anki_guids(out / f"{NAME}.apkg", tmp_path)
    assert not _temporary_files(out)


# --- (d) the notes folder is never written to ----------------------------------------------------


PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)


def test_no_command_writes_to_the_notes_folder(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / NAME,
        {
            "a.md": "---\ntitle: Alpha\ntags: [greek]\n---\n## Key takeaways\n\n- Alpha is the **first** letter.\n"
            "- The letter has a picture: ![alpha](img/alpha.png)\n",
            "sub/b.md": "- Beta is the **second** letter.\n",
            "broken.md": "---\ntitle: [unclosed\n---\n- Never read.\n",
            "prose.md": "No takeaways here.\n",
        },
    )
    (vault / "img").mkdir()
    (vault / "img" / "alpha.png").write_bytes(PNG)
    (vault / "link.md").symlink_to("a.md")
    out = tmp_path / "out"
    before = _notes_state(vault)
    time.sleep(0.01)  # a write now would show as a newer modification time

    runner = CliRunner()
    for args in (
        ["build", str(vault), "-o", str(out)],
        ["build", str(vault), "-o", str(out)],  # from the cache
        ["build", str(vault), "-o", str(out), "--dry-run"],
        ["check", str(vault)],
        ["preview", str(vault)],
        ["preview", str(vault), "--format", "json"],
    ):
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)  # broken.md is reported
        assert "Traceback" not in result.output + result.stderr
        assert _notes_state(vault) == before, args

    # Even a deck built inside the notes folder touches nothing that was there.
    inside = runner.invoke(main, ["build", str(vault), "-o", str(vault / "decks")])
    assert inside.exit_code == 1
    after = _notes_state(vault)
    assert {k: v for k, v in after.items() if k != "." and not k.startswith("decks")} == {
        k: v for k, v in before.items() if k != "."
    }

    help_ = runner.invoke(main, ["watch", "--help"])
    if help_.exit_code != 0:
        return
    shutil.rmtree(vault / "decks")
    before = _notes_state(vault)
    watched = tmp_path / "watched"
    proc = _start(tmp_path, "watch", str(vault), "-o", str(watched))
    try:
        deadline = time.monotonic() + 30
        while proc.poll() is None and not (watched / f"{NAME}.apkg").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert proc.poll() is None, "watch stopped by itself"
        time.sleep(1.0)  # watching
        os.killpg(proc.pid, signal.SIGINT)
        _, err_text = proc.communicate(timeout=30)
    finally:
        _kill(proc)
    assert "Traceback" not in err_text, err_text
    assert (watched / f"{NAME}.apkg").is_file()
    assert _notes_state(vault) == before


# --- (e) nothing to build -------------------------------------------------------------------------


def test_folder_without_notes_is_a_clear_error(tmp_path: Path) -> None:
    vault = tmp_path / NAME
    vault.mkdir()
    (vault / "readme.txt").write_text("not a note\n")
    out = tmp_path / "out"
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert _error_line(result) == f"error: no notes (.md, .markdown) found in {vault}"
    assert not out.exists()


def test_notes_without_takeaways_are_a_clear_error_and_keep_the_previous_deck(tmp_path: Path) -> None:
    vault = _small_vault(tmp_path)
    out = tmp_path / "out"
    assert _flashgen(tmp_path, "build", str(vault), "-o", str(out)).returncode == 0
    package, lock_file = out / f"{NAME}.apkg", out / f"{NAME}.lock.json"
    previous = _digest(package), _digest(lock_file)
    for note in vault.iterdir():
        note.write_text("Just prose now, no list.\n")
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert _error_line(result).startswith("error: no takeaways found in 2 notes; ")
    assert (_digest(package), _digest(lock_file)) == previous
    assert _anki_guids(package, tmp_path) == _lock_guids(lock_file)


def test_one_note_without_takeaways_is_counted_not_fatal(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / NAME, {"a.md": "- Alpha is the **first** letter.\n", "prose.md": "Only prose.\n"})
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    assert "1 note made no card: see flashgen check" in result.stdout


def test_only_broken_notes_write_no_package(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / NAME, {"bad.md": "---\n- a list\n---\n- A takeaway.\n"})
    out = tmp_path / "out"
    result = _flashgen(tmp_path, "build", str(vault), "-o", str(out))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"error: {vault / 'bad.md'}:2: front matter must be a mapping of keys to values, not a list"
    ]
    assert not (out / f"{NAME}.apkg").exists() and not (out / f"{NAME}.lock.json").exists()


def test_only_broken_notes_do_not_claim_an_up_to_date_package(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / NAME, {"bad.md": "---\n- a list\n---\n- A takeaway.\n"})
    result = CliRunner().invoke(main, ["build", str(vault), "-o", str(tmp_path / "out")])
    assert "up to date" not in result.stdout
