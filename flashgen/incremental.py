"""Incremental rebuilds: when a few notes changed, redo only their part of the deck.

A build leaves, beside its package and lock file, the package's collection database
(`.flashgen/NAME.anki2`) and a manifest of what each note made (`.flashgen/NAME.notes.json`).
When the next build finds its outputs untouched since then (the stamp says so) and only a few
notes changed, it reads and matches only the changed and removed notes, replaces their rows in a
copy of that database, and passes every other lock line through unparsed. The result is the deck
a full build makes (the tests compare the two); anything unexpected falls back to a full build.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import identity, lock, package
from .cache import Signature, signature, state_paths
from .config import Options
from .errors import SourceProblem
from .harvest import Harvest, harvest
from .identity import Plan
from .lock import atomic_path
from .notes import NoteFile

MAX_SHARE = 0.2  # above this share of changed notes, a full build costs about the same
Manifest = dict[str, dict[str, Any]]  # note path -> what it made (see `manifest`)


def manifest(crop: Harvest, plan: Plan) -> Manifest:
    """What each note made: its takeaways, Anki notes and cards, media, and problems."""
    out: Manifest = {}

    def entry(path: str) -> dict[str, Any]:
        return out.setdefault(
            path,
            {
                "takeaways": 0,
                "anki_notes": 0,
                "anki_cards": 0,
                "gone": 0,  # of those, notes of takeaways no longer in the note (removed, retired)
                "media": [],
                "failures": [],
                "warnings": [],
                "empty": False,
            },
        )

    for item in plan.identities:
        e = entry(item.record.path)
        e["anki_notes"] += 1
        e["anki_cards"] += package.card_count(item)
        e["gone"] += item.status in ("removed", "retired")
        for m in item.card.media:
            if [m.name, str(m.path)] not in e["media"]:
                e["media"].append([m.name, str(m.path)])
    for rel, count in crop.takeaways_by_note.items():
        entry(rel)["takeaways"] = count
    for rel in crop.without_takeaways:
        entry(rel)["empty"] = True
    for problem, rel in zip(crop.failures, crop.failure_notes, strict=True):
        entry(rel)["failures"].append([str(problem.path), problem.line, problem.message])
    for problem, rel in crop.warning_notes:
        entry(rel)["warnings"].append([str(problem.path), problem.line, problem.message])
    return out


def changes(
    files: Sequence[NoteFile], before: Mapping[str, Signature | None], now: Mapping[str, Signature | None]
) -> tuple[list[NoteFile], list[str]] | None:
    """The notes to redo and the vanished ones (as they were named); None when an image changed
    or so much did that a full build is as fast."""
    present = {str(f.path) for f in files}
    vanished = [p for p in before if p not in present and p.lower().endswith((".md", ".markdown"))]
    images = [p for p in before if p not in present and p not in vanished]
    if any(signature(Path(p)) != before[p] for p in images):
        return None
    redo = [f for f in files if before.get(str(f.path)) != now.get(str(f.path))]
    if len(redo) + len(vanished) > MAX_SHARE * max(1, len(files)):
        return None
    return redo, vanished


_STRING = r'("(?:[^"\\]|\\.)*")'
# Lock lines have sorted keys, and a quote inside a JSON string is always escaped, so one pattern
# finds the fields sorting and matching need without parsing the whole line.
_SCAN = re.compile(
    rf'"guid": {_STRING}.*?"line": (\d+).*?"path": {_STRING}, "role": {_STRING}, "status": {_STRING}, '
    rf'"takeaway": {_STRING}'
)


def _string(literal: str) -> str:
    return literal[1:-1] if "\\" not in literal else str(json.loads(literal))


def _scan(line: str) -> dict[str, Any]:
    """The fields of a lock line that sorting and matching need, without parsing all of it."""
    # A key as `lock.line` writes it appears nowhere else (a quote inside a string is escaped),
    # and the keys come in sorted order, each found after the one before.
    found: dict[str, Any] = {}
    end = 0
    try:
        for key, opening in _OPENINGS:
            start = line.index(opening, end) + len(opening)
            if key == "line":
                end = line.index(",", start)
                number = line[start:end]
                if not (number.isascii() and number.isdigit()):
                    return _scan_escaped(line)
                found[key] = int(number)
                continue
            end = line.index('"', start)
            value = found[key] = line[start:end]
            if "\\" in value:
                return _scan_escaped(line)  # the quote found may be escaped
    except ValueError:
        return _scan_escaped(line)
    return found


_OPENINGS = (
    ("guid", '"guid": "'),
    ("line", '"line": '),
    *((key, f'"{key}": "') for key in ("path", "role", "status", "takeaway")),
)


def _scan_escaped(line: str) -> dict[str, Any]:
    match = _SCAN.search(line)
    if match is None:
        raise ValueError("a lock line without its guid, line, path, role, status or takeaway")
    guid, number, path, role, status, takeaway = match.groups()
    return {
        "guid": _string(guid),
        "line": int(number),
        "path": _string(path),
        "role": _string(role),
        "status": _string(status),
        "takeaway": _string(takeaway),
    }


def _order(fields: Mapping[str, Any]) -> tuple[bool, str, int, str, str]:
    return (fields["status"] != "active", fields["path"], fields["line"], fields["role"], fields["guid"])


@dataclass(frozen=True)
class Delta:
    crop: Harvest  # of the changed notes only
    plan: Plan  # of the changed and vanished notes only
    lock_lines: list[str]  # the new lock file's record lines
    replaced: tuple[str, ...]  # GUIDs whose rows are replaced
    manifest: Manifest  # for the whole deck
    affected: frozenset[str]  # the note paths redone


def rebuild(options: Options, redo: Sequence[NoteFile], vanished: Sequence[str], now: int) -> Delta | None:
    """Redo the changed notes against the saved state; None when the state cannot be used."""
    paths = state_paths(options.output, options.name)
    try:
        text = options.lock_path.read_text(encoding="utf-8")
        notes: Manifest = json.loads(paths.manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    lines = text.split("\n")
    del text
    if not paths.database.is_file() or len(lines) < 3 or lines[0] != f'{{"format": {lock.LOCK_FORMAT}, "cards": [':
        return None
    affected = {f.rel for f in redo} | {_rel(p, options) for p in vanished}
    kept: list[tuple[tuple[bool, str, int, str, str], str]] = []
    old: list[lock.Record] = []
    reserved: tuple[set[str], set[str]] = (set(), set())
    try:
        for raw in lines[1:-2]:
            line = raw.removesuffix(",")
            fields = _scan(line)
            if fields["path"] in affected:
                old.append(lock.parse_record(line))
            else:
                kept.append((_order(fields), line))
                reserved[0].add(fields["guid"])
                reserved[1].add(fields["takeaway"])
    except (ValueError, TypeError, KeyError):
        return None
    crop = harvest(options, list(redo))
    plan = identity.assign(crop.cards, lock.Lock(tuple(old)), now, keep=crop.failed_notes, reserved=reserved)
    fresh = [(_order(_scan(line)), line) for line in lock.lines(plan.records())]
    kept.extend(fresh)
    kept.sort()
    lock_lines = [line for _, line in kept]
    del kept
    for rel in affected:
        notes.pop(rel, None)
    notes.update(manifest(crop, plan))
    return Delta(crop, plan, lock_lines, tuple(sorted(r.guid for r in old)), notes, frozenset(affected))


def write(options: Options, delta: Delta) -> None:
    """The package, from a copy of the saved database with the changed notes' rows replaced."""
    paths = state_paths(options.output, options.name)
    # The copy is made beside the saved database, so that it replaces it by a rename.
    with atomic_path(paths.database) as database:
        shutil.copyfile(paths.database, database)
        package.replace_rows(database, delta.replaced, delta.plan.identities)
        media = sorted({name: Path(file) for e in delta.manifest.values() for name, file in e["media"]}.items())
        package.archive(database, media, options.package_path)


def save_manifest(options: Options, notes: Manifest) -> None:
    # ASCII: a note whose file name is not valid UTF-8 still has a path that round-trips.
    lock.write_atomic(state_paths(options.output, options.name).manifest, json.dumps(notes, sort_keys=True))


def problems(notes: Manifest, kind: str) -> tuple[SourceProblem, ...]:
    return tuple(SourceProblem(Path(p), line, message) for e in notes.values() for p, line, message in e[kind])


def _rel(path: str, options: Options) -> str:
    """The path, relative to its notes folder, that a vanished note had."""
    gone = Path(path)
    for root in options.paths:
        try:
            return gone.relative_to(root).as_posix()
        except ValueError:
            continue
    return gone.name
