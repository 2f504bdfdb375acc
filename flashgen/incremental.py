"""Incremental rebuilds: when a few notes changed, redo only their part of the deck.

A build leaves, beside its package and lock file, the package's collection database and a
manifest of what each note made (both in the state folder, see `state`).
When the next build finds its outputs untouched since then (the stamp says so) and only a few
notes changed, it reads and matches only the changed and removed notes, replaces their rows in a
copy of that database, and passes every other note's lock records through. The result is the deck
a full build makes (the tests compare the two); anything unexpected falls back to a full build.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from . import lock
from .config import Options
from .errors import SourceError, SourceProblem
from .media import media_name
from .notes import NoteFile, read_bytes
from .state import Manifest, NoteEntry, Signature, changing_database, digest, known_texts, signature, state_paths

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
        if item.status not in ("removed", "retired") and item.record.takeaway not in e.texts:
            e.texts[item.record.takeaway] = (item.record.line, item.record.text)
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


@dataclass(frozen=True)
class Delta:
    crop: Harvest  # of the changed notes only
    plan: Plan  # of the changed and vanished notes only
    replaced: tuple[str, ...]  # GUIDs whose rows are replaced
    manifest: Manifest  # for the whole deck
    affected: frozenset[str]  # the note paths redone
    records: tuple[lock.Record, ...]  # the new lock file's: the other notes' as they were, and the plan's

    def lock_lines(self) -> Iterator[str]:
        return lock.lines(self.records)


def rebuild(
    options: Options, redo: Sequence[NoteFile], vanished: Sequence[str], now: int, manifest_before: Manifest
) -> Delta | None:
    """Redo the changed notes against the saved state (the last build's `manifest_before`); None
    when the state cannot be used. The other notes' records pass through as the lock file has
    them, in its order."""
    paths = state_paths(options.output, options.name)
    notes = dict(manifest_before)
    if not paths.database.is_file():
        return None
    affected = {f.rel for f in redo} | {_rel(p, options) for p in vanished}
    previous = lock.load(options.lock_path)  # a damaged lock file is reported as in a full build
    if previous.format != lock.LOCK_FORMAT:
        return None  # a full build rewrites it in this version's format
    old = tuple(r for r in previous.records if r.path in affected)
    others = tuple(r for r in previous.records if r.path not in affected)
    from . import identity
    from .harvest import harvest

    crop = harvest(options, list(redo))
    plan = identity.assign(
        crop.cards,
        lock.Lock(old),
        now,
        keep=crop.failed_notes,
        reserved=({r.guid for r in others}, {r.takeaway for r in others}),
        namespace=options.name,
        texts=known_texts(manifest_before),
    )
    for rel in affected:
        notes.pop(rel, None)
    notes.update(manifest(crop, plan))
    return Delta(
        crop,
        plan,
        tuple(sorted(r.guid for r in old)),
        notes,
        frozenset(affected),
        others + plan.records(),
    )


def write(options: Options, delta: Delta) -> None:
    """The package, from a copy of the saved database with the changed notes' rows replaced."""
    from . import package

    with changing_database(state_paths(options.output, options.name)) as database:
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
