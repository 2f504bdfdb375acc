"""Issues 15 and 18: the state folder (`decks/.flashgen`) is data, never code. A hostile, damaged,
foreign or out-of-date state file is ignored with a warning and rebuilt; nothing in it runs."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
from pathlib import Path

import pytest

from flashgen.build import build
from flashgen.config import load_options
from flashgen.report import Report

from .conftest import write_notes
from .test_incremental import _anki_view, _note
from .test_rendering import PNG

NOTES = 12


def _vault(tmp_path: Path) -> Path:
    vault = write_notes(tmp_path / "vault", {f"n{i:02}.md": _note(i) for i in range(NOTES)})
    eyes = "Key takeaways:\n- Owls see with **tubular eyes** ![eye](eye.png), not round ones.\n"
    write_notes(vault, {"eyes.md": eyes})
    (vault / "eye.png").write_bytes(PNG)
    return vault


class _Evil:
    """Unpickling this creates `marker`: what a hostile pickle in the state folder would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, ...]:
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _assert_rebuilt(report: Report, out: Path, tmp_path: Path, first: Report, parsed: int = NOTES + 1) -> None:
    """Everything was made again from the notes, and the deck is whole (as Anki sees it)."""
    assert report.parsed == parsed and report.written
    view = _anki_view(out / "vault.apkg", tmp_path / f"anki-{len(list(tmp_path.iterdir()))}")
    assert len([g for g in view if g != "__media__"]) == report.anki_notes == first.anki_notes
    assert any(m.startswith("eye-") for m in view["__media__"])


@pytest.mark.parametrize("name", ["vault.state", "vault.cache", "vault.anki2", "vault.stamp", "vault.notes.json"])
def test_a_pickle_in_the_state_folder_never_runs(tmp_path: Path, name: str) -> None:
    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    options = load_options([vault], output=out)
    first = build(options)
    marker = tmp_path / "pwned"
    state = out / ".flashgen"
    for existing in state.iterdir():
        if existing.name.startswith("vault."):
            existing.unlink()
    (state / name).write_bytes(pickle.dumps(_Evil(marker)))  # as a cloned repository could bring it

    report = build(options)
    assert not marker.exists()
    _assert_rebuilt(report, out, tmp_path, first)
    if name in ("vault.state", "vault.cache"):  # the files this version reads: it says why it ignored them
        assert any(name in notice and "ignored" in notice for notice in report.notices), report.notices
    again = build(options)  # the state is sound again: nothing to do, nothing to say
    assert not again.written and again.parsed == 0 and not again.notices
    assert not marker.exists()
    assert "vault.stamp" not in _names(state) and "vault.notes.json" not in _names(state)


def _old_state(out: Path, options_key: str) -> None:
    """The state files the version before this one wrote (main at 1433ccb): a pickled stamp that
    says every note is unchanged, a pickled cache, a JSON manifest; all were trusted."""
    state = out / ".flashgen"
    stamp = pickle.loads(pickle.dumps({"key": options_key}))  # the old stamp's fields
    stamp.update({"notes": {}, "outputs": {}, "summary": {}, "digests": {}})
    for path in sorted(p for p in state.iterdir() if p.name.startswith("vault.") and p.suffix != ".anki2"):
        path.unlink()
    (state / "vault.stamp").write_bytes(pickle.dumps(stamp, protocol=5))
    with open(state / "vault.cache", "wb") as stream:
        pickle.dump({"format": 2, "key": options_key}, stream, 5)
    (state / "vault.notes.json").write_text("{}")


def test_a_store_of_the_previous_version_is_ignored_and_rebuilt(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    options = load_options([vault], output=out)
    first = build(options)
    _old_state(out, options.cache_key())
    report = build(options)
    _assert_rebuilt(report, out, tmp_path, first)
    assert [n for n in report.notices if "vault.cache" in n and "ignored" in n]
    assert "vault.stamp" not in _names(out / ".flashgen")


@pytest.mark.parametrize(
    "damage",
    ["garbage", "truncated", "wrong types", "negative count", "unknown field", "extra entry bytes"],
)
def test_a_damaged_store_is_ignored_and_rebuilt(tmp_path: Path, damage: str) -> None:
    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    options = load_options([vault], output=out)
    first = build(options)
    state = out / ".flashgen"
    stamp, cache = state / "vault.state", state / "vault.cache"
    data = json.loads(stamp.read_text())
    if damage == "garbage":
        stamp.write_bytes(b"\x00\xff garbage \x80" * 50)
        cache.write_bytes(b"\x00\xff garbage \x80" * 50)
    elif damage == "truncated":
        stamp.write_bytes(stamp.read_bytes()[:-40])
        cache.write_bytes(cache.read_bytes()[:-40])
    elif damage == "wrong types":
        data["summary"]["anki_notes"] = "many"
        stamp.write_text(json.dumps(data))
        blob = cache.read_bytes()
        cache.write_bytes(blob.replace(b"Hearing", b"\xc1earing"))  # an invalid msgpack byte inside an entry
    elif damage == "negative count":
        data["manifest"][next(iter(data["manifest"]))]["anki_notes"] = -5
        stamp.write_text(json.dumps(data))
        cache.write_bytes(cache.read_bytes()[:-1])
    elif damage == "unknown field":
        data["run"] = "os.system('x')"
        stamp.write_text(json.dumps(data))
        cache.write_bytes(cache.read_bytes() + b"\x00\x00\x00\x10" + b"\x01" * 3)
    else:
        stamp.write_text(json.dumps({**data, "schema": 99}))
        cache.write_bytes(cache.read_bytes() + b"\xff\xff\xff\x7f")
    report = build(options)
    # (entries damaged inside an intact cache file are dropped one by one: the notes with "Hearing")
    _assert_rebuilt(report, out, tmp_path, first, NOTES if damage == "wrong types" else NOTES + 1)
    assert [n for n in report.notices if "vault.state" in n]
    assert [n for n in report.notices if "vault.cache" in n]
    again = build(options)
    assert not again.written and again.parsed == 0 and not again.notices


def test_state_copied_from_another_folder_is_not_trusted(tmp_path: Path) -> None:
    """State committed or copied with a deck could vouch for a package (or cards) that no build
    here made: it is tied to the folder it was written in."""
    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    options = load_options([vault], output=out)
    first = build(options)
    copy = tmp_path / "clone"
    shutil.copytree(out, copy)
    report = build(load_options([vault], output=copy))
    _assert_rebuilt(report, copy, tmp_path, first)
    assert [n for n in report.notices if "another folder" in n]
    assert not build(load_options([vault], output=copy)).notices


def test_the_state_folder_is_tagged_and_ignored_by_git(tmp_path: Path) -> None:
    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    build(load_options([vault], output=out))
    state = out / ".flashgen"
    assert (state / "CACHEDIR.TAG").read_text().startswith("Signature: 8a477f597d28d172789f06886806bc55")
    assert "*" in (state / ".gitignore").read_text().splitlines()
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    found = subprocess.run(
        ["git", "-C", str(tmp_path), "status", "--porcelain", "--untracked-files=all"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert "decks/vault.apkg" in found and "decks/vault.lock.json" in found
    assert ".flashgen" not in found


def test_a_note_result_comes_back_from_the_cache_whole(tmp_path: Path) -> None:
    """The cache stores a note's cards as data: what comes back equals what went in, also in the
    parts equality does not compare (the takeaway, its note, nested items), and cards of one
    takeaway share it again."""
    from dataclasses import fields

    from flashgen.harvest import harvest_note
    from flashgen.notes import find_notes
    from flashgen.state import decode_result, encode_result

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
            - An **image** that is missing ![](gone.png) here.
            """
        },
    )
    (vault / "owl.png").write_bytes(PNG)
    options = load_options([vault], output=tmp_path / "decks")
    [file] = find_notes(options.paths, options.output)
    result = harvest_note(file, options)
    assert any(c.media for c in result.cards) and any(c.takeaway.children for c in result.cards)
    assert result.warnings and result.media
    back = decode_result(encode_result(result))
    assert back == result
    for mine, theirs in zip(back.cards, result.cards, strict=True):
        for f in fields(mine):
            assert getattr(mine, f.name) == getattr(theirs, f.name), f.name
        assert mine.takeaway.note == theirs.takeaway.note
        assert mine.takeaway.children == theirs.takeaway.children
        assert [c.note for c in mine.takeaway.children] == [c.note for c in theirs.takeaway.children]
    by_takeaway = {id(c.takeaway) for c in back.cards}
    assert len(by_takeaway) == len({id(c.takeaway) for c in result.cards})


def test_a_cache_of_cards_with_other_fields_is_not_damage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cache written when the cards had other fields (another build of flashgen) is of no use,
    like one of other options: made again, without a warning about damage."""
    from flashgen import state

    vault = _vault(tmp_path)
    out = tmp_path / "decks"
    options = load_options([vault], output=out)
    first = build(options)
    monkeypatch.setattr(state._the_codec(), "shape", "cards-of-another-layout")
    (out / ".flashgen" / "vault.state").unlink()
    report = build(options)
    _assert_rebuilt(report, out, tmp_path, first)
    assert not report.notices
