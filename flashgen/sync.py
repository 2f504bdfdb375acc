"""Sync: apply a build straight to Anki, through AnkiConnect or a collection file.

Importing a package cannot delete a card or move one to another deck, and it replaces the tags of
every note it updates. Sync can: it adds new notes (by importing a package of just them, so they
keep flashgen's GUIDs and note types), updates changed notes in place (fields and flashgen's tags;
every other tag stays), moves cards whose deck changed, and, when asked, deletes the notes of
removed takeaways.

Safety rules:
- a note is flashgen's by its GUID, never by a field (a user's copy keeps every field), and only
  notes of flashgen's note types that this package wrote (its lock file or its sync record
  `NAME.sync.json` names their GUID) are ever touched; a note holding a GUID this build derived
  but has no record of writing is left alone, and the card gets a GUID of its own;
- only tags flashgen gave a note (on the last sync, or in the last package built: the lock file
  keeps them) are ever removed; anything else on the note is the user's;
- a note whose fields were edited in Anki since flashgen last wrote them is a conflict, left alone
  unless forced, whether sync would update it or delete it; so is a note to delete none of whose
  cards is in this package's decks; and a card the user moved to a deck of their own stays there;
- deletions need `delete=True`, and are refused beyond `max_delete` of the managed notes unless forced;
- `dry_run` computes the plan and changes nothing.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

from . import build as stages
from . import cards, incremental, lock, package
from .config import Options
from .errors import FlashgenError
from .identity import Identity
from .lock import REMOVED_TAG
from .media import MediaFile
from .state import Cache


class SyncError(FlashgenError):
    """Anki cannot be reached, refuses, or the plan is unsafe."""


@dataclass(frozen=True)
class AnkiNote:
    """A note as Anki holds it."""

    id: int
    guid: str
    model: str
    fields: Mapping[str, str]
    tags: tuple[str, ...]
    cards: tuple[tuple[int, str], ...]  # card id and deck name


class Target(Protocol):
    """Where sync writes: a running Anki (AnkiConnect) or a collection file."""

    def managed(self, guids: set[str], known: Mapping[str, int] | None = None) -> dict[str, AnkiNote]:
        """flashgen's notes among `guids`, recognised by GUID; `known` holds the note ids that
        earlier syncs recognised so, which a target that cannot see GUIDs may rely on."""
        ...

    def import_package(self, path: Path) -> None: ...
    def update(self, changes: Sequence[tuple[AnkiNote, Mapping[str, str], Sequence[str]]]) -> None:
        """Give each note these fields and tags (one batch: a target may send them together)."""
        ...

    def move(self, cards: Sequence[int], deck: str) -> None: ...
    def delete(self, notes: Sequence[int]) -> None: ...
    def store_media(self, files: Sequence[MediaFile]) -> None: ...


@dataclass
class SyncPlan:
    """What a sync does; computed without touching Anki, applied by `apply`."""

    add: list[Identity] = field(default_factory=list)
    update: list[tuple[Identity, AnkiNote, tuple[str, ...]]] = field(default_factory=list)
    move: list[tuple[Identity, tuple[int, ...]]] = field(default_factory=list)
    delete: list[tuple[Identity, AnkiNote]] = field(default_factory=list)
    conflicts: list[tuple[Identity, AnkiNote]] = field(default_factory=list)
    kept_removed: int = 0  # removed takeaways whose notes stay in Anki (no --delete)
    unchanged: int = 0
    current: list[Identity] = field(default_factory=list)  # the unchanged notes themselves
    foreign: int = 0  # notes holding a GUID this package derived but has no record of writing
    refused: str = ""  # why deletions were refused

    def lines(self) -> list[str]:
        """The plan, one line per change, for --dry-run and --verbose."""
        out = [f"     add  {i.record.path}:{i.record.line}  [{i.record.role}]" for i in self.add]
        out += [f"  update  {i.record.path}:{i.record.line}  [{i.record.role}]" for i, _, _ in self.update]
        out += [f"    move  {i.record.path}:{i.record.line}  [{i.record.role}] -> {i.card.deck}" for i, _ in self.move]
        out += [f"  delete  {i.record.path}:{i.record.line}  [{i.record.role}]" for i, _ in self.delete]
        out += [
            f"conflict  {i.record.path}:{i.record.line}  [{i.record.role}] "
            + (
                "edited or moved in Anki; left alone (--force deletes)"
                if i.status in ("removed", "retired")
                else "edited in Anki; left alone (--force overwrites)"
            )
            for i, _ in self.conflicts
        ]
        return out


@dataclass(frozen=True)
class SyncReport:
    plan: SyncPlan
    notes: int
    failures: tuple[object, ...]
    dry_run: bool

    def summary(self) -> str:
        p = self.plan
        line = (
            f"sync: {len(p.add)} added, {len(p.update)} updated, {len(p.move)} moved, {len(p.delete)} deleted, "
            f"{len(p.conflicts)} conflicts, {p.unchanged} unchanged"
        )
        if p.kept_removed:
            line += (
                f"\n{p.kept_removed} notes of removed takeaways kept in Anki"
                f" (tagged {REMOVED_TAG}; --delete removes them)"
            )
        if p.foreign:
            line += (
                f"\n{p.foreign} notes in Anki hold GUIDs this package derived but has no record of writing"
                " (another package's, or this one's before its lock file was lost): left alone, and new"
                " notes added instead"
            )
        if p.refused:
            line += f"\n{p.refused}"
        if self.dry_run:
            line += "\ndry run: nothing changed"
        return line

    @property
    def exit_code(self) -> int:
        return 1 if self.failures or self.plan.conflicts or self.plan.refused else 0


# ---------------------------------------------------------------- fields as Anki holds them

_MODEL_KIND = {package.QA_MODEL_NAME: "basic", package.CLOZE_MODEL_NAME: "cloze"}


def anki_fields(item: Identity) -> dict[str, str]:
    names = package.QA_FIELDS if item.card.kind == "basic" else package.CLOZE_FIELDS
    return dict(zip(names, package.fields_of(item), strict=True))


def fields_hash(kind: str, fields: Mapping[str, str]) -> str:
    """`cards.fields_hash` of a note's fields as Anki holds them, as long as the lock file keeps it."""
    front = fields.get("Question" if kind == "basic" else "Text", "")
    found = cards.fields_hash(kind, front, fields.get("Answer", ""), fields.get("Extra", ""), fields.get("Context", ""))
    return found[: lock.HASH]


def merged_tags(ours: Iterable[str], theirs: Iterable[str], ours_before: Iterable[str]) -> tuple[str, ...]:
    """Flashgen's tags now, and every other tag the note has in Anki.

    Only a tag flashgen itself gave the note before (`ours_before`: on the last sync, or in the
    last package built) and no longer wants is removed; any other tag is the user's, whatever it
    looks like (`marked`, `type::vocab`, even `flashgen::keep`). Anki's tags ignore case, so these
    comparisons do too.
    """
    wanted = list(dict.fromkeys(ours))
    dropped = {t.casefold() for t in ours_before} - {t.casefold() for t in wanted}
    kept = [t for t in theirs if t.casefold() not in dropped]
    held = {t.casefold() for t in kept}
    return tuple(sorted([*kept, *(t for t in wanted if t.casefold() not in held)], key=str.lower))


def same_tags(a: Iterable[str], b: Iterable[str]) -> bool:
    return {t.casefold() for t in a} == {t.casefold() for t in b}


# ---------------------------------------------------------------- planning


def plan_sync(
    identities: Sequence[Identity],
    anki: Mapping[str, AnkiNote],
    previous: Mapping[str, lock.Record],
    state: Mapping[str, Mapping[str, object]],
    *,
    delete: bool = False,
    force: bool = False,
    max_delete: float = 0.2,
) -> SyncPlan:
    """Decide what to add, update, move and delete. Pure: Anki's state comes in as data.

    A note edited in Anki since flashgen last wrote it (its fields are none that flashgen wrote)
    is a conflict, whether flashgen would update it or delete it: it is left alone unless forced;
    so is a note to delete none of whose cards is in a deck of this package. Cards move only out
    of this package's decks.
    """
    plan = SyncPlan()
    decks = {_deck_key(r.deck) for r in previous.values()} | {_deck_key(i.card.deck) for i in identities}
    for item in identities:
        note = anki.get(item.guid)
        if note is not None and _MODEL_KIND.get(note.model) != item.card.kind:
            continue  # not a note flashgen made (or its note type was changed): never touched
        if item.status in ("removed", "retired"):
            if note is None:
                continue
            if delete:
                if not force and (_edited(item, note, previous, state) or _elsewhere(note, decks)):
                    plan.conflicts.append((item, note))
                else:
                    plan.delete.append((item, note))
            else:
                plan.kept_removed += 1
                _maybe_update(plan, item, note, previous, state, force)
            continue
        if note is None:
            plan.add.append(item)
            continue
        _maybe_update(plan, item, note, previous, state, force)
        target_deck = item.card.deck
        before = previous.get(item.guid)
        if before is not None and before.deck != target_deck:
            # Only cards in this package's decks move: a card the user put in a deck of their own stays.
            target = _deck_key(target_deck)
            cards = tuple(card for card, deck in note.cards if _deck_key(deck) in decks - {target})
            if cards:
                plan.move.append((item, cards))
    managed = sum(1 for item in identities if item.guid in anki)
    if plan.delete and not force and len(plan.delete) > max_delete * max(managed, 1):
        plan.refused = (
            f"refused to delete {len(plan.delete)} of {managed} notes flashgen manages "
            f"(more than {max_delete:.0%}); check the plan with --dry-run, then add --force"
        )
        plan.delete = []
    return plan


def _written_fields(
    item: Identity, previous: Mapping[str, lock.Record], state: Mapping[str, Mapping[str, object]]
) -> set[str]:
    """Hashes of the fields flashgen has given the note: on the last sync, in the last package
    built, and (for a removed takeaway) the fields it has now, with the "removed" banner."""
    written = set()
    synced = state.get(item.guid, {}).get("fields")
    if isinstance(synced, str):
        written.add(synced[: lock.HASH])  # (earlier versions kept longer hashes)
    if item.guid in previous and previous[item.guid].fields:
        written.add(previous[item.guid].fields[: lock.HASH])
    if item.status in ("removed", "retired"):
        written.add(fields_hash(item.card.kind, anki_fields(item)))
    return written


def _written_tags(
    item: Identity, previous: Mapping[str, lock.Record], state: Mapping[str, Mapping[str, object]]
) -> set[str]:
    """The tags flashgen has given the note: on the last sync and in the last package built."""
    synced = state.get(item.guid, {}).get("tags", ())
    written = {str(t) for t in synced} if isinstance(synced, (list, tuple)) else set()
    if item.guid in previous:
        written.update(previous[item.guid].tags)
    return written


def _edited(
    item: Identity, note: AnkiNote, previous: Mapping[str, lock.Record], state: Mapping[str, Mapping[str, object]]
) -> bool:
    """Whether the note's fields in Anki are none that flashgen wrote (a note flashgen has no
    record of writing counts as edited unless it holds exactly what flashgen wants now)."""
    current = fields_hash(item.card.kind, note.fields)
    return current != fields_hash(item.card.kind, anki_fields(item)) and current not in _written_fields(
        item, previous, state
    )


def _elsewhere(note: AnkiNote, decks: set[str]) -> bool:
    """Whether none of the note's cards is in a deck of this package (`decks`, as `_deck_key`s):
    the user moved them all to decks of their own, or the note was never this package's (an
    earlier version could adopt another package's notes)."""
    return bool(note.cards) and all(_deck_key(deck) not in decks for _, deck in note.cards)


def _deck_key(name: str) -> str:
    """A deck name as Anki compares them: ignoring case, in Unicode's composed form."""
    return unicodedata.normalize("NFC", name).casefold()


def _maybe_update(
    plan: SyncPlan,
    item: Identity,
    note: AnkiNote,
    previous: Mapping[str, lock.Record],
    state: Mapping[str, Mapping[str, object]],
    force: bool,
) -> None:
    kind = item.card.kind
    tags = merged_tags(item.card.tags, note.tags, _written_tags(item, previous, state))
    if fields_hash(kind, note.fields) == fields_hash(kind, anki_fields(item)):
        if not same_tags(tags, note.tags):
            plan.update.append((item, note, tags))
        else:
            plan.unchanged += 1
            plan.current.append(item)
        return
    if _edited(item, note, previous, state) and not force:
        plan.conflicts.append((item, note))
        return
    plan.update.append((item, note, tags))


# ---------------------------------------------------------------- applying


def apply(plan: SyncPlan, target: Target, package_timestamp: float | None = None) -> None:
    """Carry out a plan: add, then update, move and delete."""
    if plan.add:
        with tempfile.TemporaryDirectory(prefix="flashgen-sync-") as folder:
            path = Path(folder) / "flashgen-new-notes.apkg"
            package.write(plan.add, path, timestamp=package_timestamp)
            target.import_package(path)
    media = {m.name: m for item, _, _ in plan.update for m in item.card.media}
    if media:
        target.store_media(sorted(media.values(), key=lambda m: m.name))
    if plan.update:
        target.update([(note, anki_fields(item), tags) for item, note, tags in plan.update])
    by_deck: dict[str, list[int]] = {}
    for item, card_ids in plan.move:
        by_deck.setdefault(item.card.deck, []).extend(card_ids)
    for deck, ids in sorted(by_deck.items()):
        target.move(ids, deck)
    if plan.delete:
        target.delete([note.id for _, note in plan.delete])


def sync(
    options: Options,
    target: Target,
    *,
    delete: bool = False,
    force: bool = False,
    max_delete: float = 0.2,
    now: int | None = None,
) -> SyncReport:
    """Build the notes, compare with what Anki holds and bring Anki up to date (unless dry run).

    The stages are the build's (see `build`): read, harvest, identities; then the plan is applied to
    Anki, and the package, lock file and state are written as a build writes them, so that the
    next build finds the deck up to date."""
    sources = stages.read(options)
    cache = Cache.load(sources.paths, options.cache_key())
    crop, llm_stats = stages.harvest(options, sources.files, cache)
    with stages.output_lock(options):
        previous = lock.load(options.lock_path)
        clock = int(time.time()) if now is None else now
        state_path = options.output / f"{options.name}.sync.json"
        state = _load_state(state_path)
        known = {r.guid for r in previous.records} | set(state)
        foreign: set[str] = set()
        while True:
            plan = stages.identify(options, crop, previous, sources, clock, reserved=tuple(sorted(foreign)))
            anki = target.managed({i.guid for i in plan.identities}, _known_ids(state))
            # A note this package never wrote (no lock record, no sync record) is never adopted,
            # even when its GUID is one this build derived: its cards get GUIDs of their own.
            clash = {i.guid for i in plan.identities if i.guid in anki and i.guid not in known} - foreign
            if not clash:
                break
            foreign |= clash
        actions = plan_sync(
            plan.identities,
            anki,
            _with_tags(previous, options.package_path),
            state,
            delete=delete,
            force=force,
            max_delete=max_delete,
        )
        actions.foreign = len(foreign)
        if not options.dry_run:
            apply(actions, target, package_timestamp=clock)
            written = (
                {i.guid: i for i in actions.add}
                | {i.guid: i for i, _, _ in actions.update}
                | {i.guid: i for i in actions.current}
            )
            for guid, item in written.items():
                state[guid] = {"fields": fields_hash(item.card.kind, anki_fields(item)), "tags": list(item.card.tags)}
                if guid in anki:  # recognised by its GUID: its note id tells it from copies next time
                    state[guid]["nid"] = anki[guid].id
            for item, _ in actions.delete:
                state.pop(item.guid, None)
            deleted = {i.guid for i, _ in actions.delete}
            kept = replace(plan, identities=tuple(i for i in plan.identities if i.guid not in deleted))
            stages.write_deck(options, crop, kept, now)
            lock.write_atomic(state_path, json.dumps(state, indent=1, sort_keys=True) + "\n")
            cache.save()
            # The state a build would leave: the next build finds the deck up to date.
            made = stages.made_by(crop, kept, written=True, llm_stats=llm_stats)
            inputs, digests = stages.inputs_of(sources, crop)
            retry = llm_stats is not None and llm_stats.retry_later
            manifest = incremental.manifest(crop, kept)
            stages.remember(options, sources, made, inputs, digests, manifest, current=not retry)
        else:
            cache.close()
    return SyncReport(actions, crop.notes, crop.failures, options.dry_run)


def _with_tags(previous: lock.Lock, package_path: Path) -> dict[str, lock.Record]:
    """The lock file's records by GUID. Records of lock files written before they kept their tags
    get the tags of the last package built (what an import of it gave the notes)."""
    records = {r.guid: r for r in previous.records}
    untagged = {guid for guid, r in records.items() if not r.tags}
    if untagged:
        for guid, tags in _package_tags(package_path, untagged).items():
            records[guid] = replace(records[guid], tags=tags)
    return records


def _package_tags(path: Path, guids: set[str]) -> dict[str, tuple[str, ...]]:
    """The tags of the notes of `guids` in a package flashgen wrote; nothing if it cannot be read."""
    try:
        with tempfile.TemporaryDirectory(prefix="flashgen-sync-") as folder:
            database = Path(folder) / "collection.anki2"
            with (
                zipfile.ZipFile(path) as archive,
                archive.open("collection.anki2") as source,
                open(database, "wb") as out,
            ):
                shutil.copyfileobj(source, out)
            connection = sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True)
            try:
                rows = connection.execute("select guid, tags from notes").fetchall()
            finally:
                connection.close()
    except (OSError, KeyError, zipfile.BadZipFile, sqlite3.Error):
        return {}
    return {str(guid): tuple(str(tags).split()) for guid, tags in rows if guid in guids}


def _known_ids(state: Mapping[str, Mapping[str, object]]) -> dict[str, int]:
    known = {}
    for guid, entry in state.items():
        nid = entry.get("nid")
        if isinstance(nid, int) and not isinstance(nid, bool):
            known[guid] = nid
    return known


def _load_state(path: Path) -> dict[str, dict[str, object]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {str(k): dict(v) for k, v in data.items()} if isinstance(data, dict) else {}
    except (OSError, ValueError, TypeError, AttributeError):
        return {}
