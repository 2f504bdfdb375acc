"""Incremental rebuilds: when a few notes changed, redo only their part of the deck.

A build leaves, beside its package and lock file, the package's collection database and a
manifest of what each note made (both in the state folder, see `state`).
When the next build finds its outputs untouched since then (the stamp says so) and only a few
notes changed, it reads and matches only the changed and removed notes, replaces their rows in a
copy of that database, and passes every other lock line through unparsed. The result is the deck
a full build makes (the tests compare the two); anything unexpected falls back to a full build.
"""

from __future__ import annotations

import errno
import json
import re
import shutil
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import lock
from .config import Options
from .errors import SourceError, SourceProblem
from .lock import Order, atomic_path
from .media import media_name
from .notes import NoteFile, read_bytes
from .state import Manifest, NoteEntry, Signature, digest, signature, state_paths

# The stages are imported by the functions that redo notes: `changes` alone, which finds that
# notes were only touched, must not pay for loading the parsers.
if TYPE_CHECKING:
    from .harvest import Harvest
    from .identity import Plan

MAX_SHARE = 0.2  # above this share of changed notes, a full build costs about the same


def manifest(crop: Harvest, plan: Plan) -> Manifest:
    """What each note made: its takeaways, Anki notes and cards, media, and problems."""
    from . import package

    out: Manifest = {}

    def entry(path: str) -> NoteEntry:
        found = out.get(path)
        if found is None:
            found = out[path] = NoteEntry()
        return found

    for item in plan.identities:
        e = entry(item.record.path)
        e.anki_notes += 1
        e.anki_cards += package.card_count(item)
        e.gone += item.status in ("removed", "retired")
        for m in item.card.media:
            if (m.name, str(m.path)) not in e.media:
                e.media.append((m.name, str(m.path)))
    for rel, count in crop.takeaways_by_note.items():
        entry(rel).takeaways = count
    for rel in crop.without_takeaways:
        entry(rel).empty = True
    for rel, reason in crop.silent:
        entry(rel).silent = reason
    for problem, rel in zip(crop.failures, crop.failure_notes, strict=True):
        entry(rel).failures.append((str(problem.path), problem.line, problem.message))
    for problem, rel in crop.warning_notes:
        entry(rel).warnings.append((str(problem.path), problem.line, problem.message))
    return out


@dataclass(frozen=True)
class Changes:
    """What changed since the last build."""

    redo: list[NoteFile]  # notes to read again
    vanished: list[str]  # notes that are gone (as they were named)
    images: dict[str, Signature | None]  # the images the cards show, with their sizes and times now


def changes(
    files: Sequence[NoteFile],
    before: Mapping[str, Signature | None],
    now: Mapping[str, Signature | None],
    digests: Mapping[str, str],
) -> Changes | None:
    """What changed, by size and time and then by content (a file only touched, by a sync tool or
    a checkout, is unchanged); None when an image changed or so much did that a full build is
    as fast."""
    present = {str(f.path) for f in files}
    vanished = [p for p in before if p not in present and p.lower().endswith((".md", ".markdown"))]
    images = {p: signature(Path(p)) for p in before if p not in present and p not in vanished}
    for image, current in images.items():
        if current != before[image] and not _same_image(Path(image), digests.get(image)):
            return None
    limit = MAX_SHARE * max(1, len(files))  # changes past which a full build is as fast
    if len(vanished) > limit:
        return None
    redo = []
    for f in files:
        name = str(f.path)
        if before.get(name) == now.get(name):
            continue
        if name in digests:
            try:
                if digest(read_bytes(f)) == digests[name]:
                    continue  # touched (a new time), not changed: what the last build read
            except SourceError:
                pass  # reported when it is read again
        redo.append(f)
        if len(redo) + len(vanished) > limit:
            return None  # without reading (and hashing) the rest
    return Changes(redo, vanished, images)


def _same_image(path: Path, name: str | None) -> bool:
    """Whether the image at `path` still has the content its media `name` was made from."""
    if name is None:
        return False
    try:
        return media_name(path, path.read_bytes()) == name
    except OSError:
        return False


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


def _order(fields: Mapping[str, Any]) -> Order:
    """`lock.order` of the record a scanned lock line holds."""
    return (fields["status"] != "active", fields["path"], fields["line"], fields["role"], fields["guid"])


@dataclass(frozen=True)
class Delta:
    crop: Harvest  # of the changed notes only
    plan: Plan  # of the changed and vanished notes only
    replaced: tuple[str, ...]  # GUIDs whose rows are replaced
    manifest: Manifest  # for the whole deck
    affected: frozenset[str]  # the note paths redone
    lock_path: Path
    lock_signature: Signature | None  # the lock file's when it was read
    kept: bytes  # for each record line of the lock file, 1 if it passes through
    fresh: tuple[tuple[int, Order, str], ...]  # new lines: kept lines before them, sort key, line

    def lock_lines(self) -> Iterator[str]:
        """The new lock file's record lines, in order: the old file's kept lines, read again one
        at a time (never all held), with the fresh lines merged in where they sort."""
        if signature(self.lock_path) != self.lock_signature:
            raise _changed(self.lock_path)
        fresh, waiting, passed = self.fresh, 0, 0
        try:
            for index, line in enumerate(_records(self.lock_path)):
                if index >= len(self.kept):
                    raise _changed(self.lock_path)
                if not self.kept[index]:
                    continue
                while waiting < len(fresh) and fresh[waiting][0] <= passed:
                    yield fresh[waiting][2]
                    waiting += 1
                yield line
                passed += 1
        except ValueError:
            raise _changed(self.lock_path) from None
        for _, _, line in fresh[waiting:]:
            yield line


def _changed(path: Path) -> OSError:
    return OSError(errno.EAGAIN, "it changed while this build rewrote it; build again", str(path))


_HEADER = f'{{"format": {lock.LOCK_FORMAT}, "cards": [\n'


def _records(path: Path) -> Iterator[str]:
    """The record lines of a lock file as `lock.write_lines` writes it, read one at a time."""
    with open(path, encoding="utf-8", newline="\n") as stream:
        if stream.readline() != _HEADER:
            raise ValueError("not a lock file of this format")
        for raw in stream:
            if raw == "]}\n":
                if stream.read(1):
                    raise ValueError("text after the end of the lock file")
                return
            if raw.endswith(",\n"):
                yield raw[:-2]
            elif raw.endswith("}\n"):
                yield raw[:-1]  # the last record
            else:
                raise ValueError("a lock line cut short")
    raise ValueError("a lock file cut short")


def rebuild(
    options: Options, redo: Sequence[NoteFile], vanished: Sequence[str], now: int, manifest_before: Manifest
) -> Delta | None:
    """Redo the changed notes against the saved state (the last build's `manifest_before`); None
    when the state cannot be used.

    The lock file is read twice, a line at a time: here, to take out the changed notes' records
    and note where their new ones go, and again while the new lock file is written."""
    paths = state_paths(options.output, options.name)
    notes = dict(manifest_before)
    if not paths.database.is_file():
        return None
    affected = {f.rel for f in redo} | {_rel(p, options) for p in vanished}
    # Where the new records of each changed note go: all its records share its path, and no
    # kept record has that path, so (active or not, path) places them among the kept lines.
    places = sorted((gone, path) for path in affected for gone in (False, True))
    insert_at: dict[tuple[bool, str], int] = {}
    kept = bytearray()
    passed = 0
    old: list[lock.Record] = []
    reserved: tuple[set[str], set[str]] = (set(), set())
    last: Order | None = None
    guids: set[str] = set()
    lock_signature = signature(options.lock_path)
    # A lock file edited since the last build has another signature, and the stamp sends that
    # build in full, where `lock.load` checks every record. Here, the lines of the changed notes
    # are checked in full (`parse_record`); the others pass through as they are (the package's
    # rows for them come from the saved database), but a GUID they hold twice, or not as
    # flashgen makes them, still sends the build in full, where it is reported.
    try:
        for line in _records(options.lock_path):
            fields = _scan(line)
            order = _order(fields)
            if last is not None and order <= last:
                return None  # not in the order lock files are written in
            last = order
            guid = fields["guid"]
            if guid in guids or not lock.GUID.fullmatch(guid):
                return None
            guids.add(guid)
            if fields["path"] in affected:
                record = lock.parse_record(line)
                if lock.check(record) is not None:
                    return None
                old.append(record)
                kept.append(0)
                continue
            while len(insert_at) < len(places) and places[len(insert_at)] < order[:2]:
                insert_at[places[len(insert_at)]] = passed
            kept.append(1)
            passed += 1
            reserved[0].add(fields["guid"])
            reserved[1].add(fields["takeaway"])
    except (OSError, ValueError, TypeError, KeyError):
        return None
    for place in places[len(insert_at) :]:
        insert_at[place] = passed
    from . import identity
    from .harvest import harvest

    crop = harvest(options, list(redo))
    plan = identity.assign(
        crop.cards, lock.Lock(tuple(old)), now, keep=crop.failed_notes, reserved=reserved, namespace=options.name
    )
    fresh = []
    for record in plan.records():
        order = lock.order(record)
        if order[:2] not in insert_at:
            return None  # a record of a note that was not redone: cannot be placed (never expected)
        fresh.append((insert_at[order[:2]], order, lock.line(record)))
    fresh.sort()
    for rel in affected:
        notes.pop(rel, None)
    notes.update(manifest(crop, plan))
    return Delta(
        crop,
        plan,
        tuple(sorted(r.guid for r in old)),
        notes,
        frozenset(affected),
        options.lock_path,
        lock_signature,
        bytes(kept),
        tuple(fresh),
    )


def write(options: Options, delta: Delta) -> None:
    """The package, from a copy of the saved database with the changed notes' rows replaced."""
    from . import package

    paths = state_paths(options.output, options.name)
    # The copy is made beside the saved database, so that it replaces it by a rename.
    with atomic_path(paths.database) as database:
        shutil.copyfile(paths.database, database)
        package.replace_rows(database, delta.replaced, delta.plan.identities)
        media = sorted({name: Path(file) for e in delta.manifest.values() for name, file in e.media}.items())
        package.archive(database, media, options.package_path)


def problems(notes: Manifest, kind: str) -> tuple[SourceProblem, ...]:
    return tuple(
        SourceProblem(Path(p), line, message)
        for e in notes.values()
        for p, line, message in (e.failures if kind == "failures" else e.warnings)
    )


def _rel(path: str, options: Options) -> str:
    """The path, relative to its notes folder, that a vanished note had."""
    gone = Path(path)
    for root in options.paths:
        try:
            return gone.relative_to(root).as_posix()
        except ValueError:
            continue
    return gone.name
