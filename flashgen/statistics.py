"""Statistics: how the learner's study of flashgen's cards went, read back from Anki, and the
takeaways whose cards point at a problem in the note (or in the card).

Read-only by construction: a collection file is copied (SQLite's backup API, so Anki may have it
open) and the copy is opened; AnkiConnect is asked only read actions. flashgen's notes are found by
the GUIDs in the lock file, so a note the user made, or copied from one of flashgen's, is never
counted.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median
from typing import TYPE_CHECKING, Any, Literal

from .config import Options
from .errors import FlashgenError, SourceProblem
from .lock import Record

if TYPE_CHECKING:
    from .ankiconnect import AnkiConnect

# What makes a takeaway worth a look. Anki's own leech threshold is 8 lapses; these name the cards
# that are on their way there, or that the learner gave up on.
STRUGGLING_REVIEWS = 5  # reviews after which a card should have been answered well at least once...
STRUGGLING_RECENT = 4  # ...in its last this many answers
FAILING_FACTOR = 2.0  # a lapse rate this many times the deck's norm...
FAILING_MIN_LAPSES = 3  # ...and at least this many lapses

Reason = Literal["leech", "suspended", "deleted", "fails often", "never answered well"]


class StatsError(FlashgenError):
    """The study history cannot be read (no lock file, no collection, the anki package missing)."""


@dataclass(frozen=True, slots=True)
class CardStudy:
    """One card's study as Anki holds it."""

    guid: str
    ordinal: int  # the card's template or cloze number, from 1
    reviews: int
    lapses: int
    ease: int  # Anki's ease factor in per cent (250 = 2.5), 0 for a new card
    interval: int  # days
    suspended: bool
    leech: bool  # the note carries Anki's `leech` tag
    answers: tuple[int, ...] = ()  # the answer buttons pressed, oldest first (1 = Again ... 4 = Easy)


@dataclass(frozen=True, slots=True)
class Finding:
    """A takeaway to look at, and why."""

    path: str
    line: int
    takeaway: str  # the takeaway's markdown, as in the lock file
    reasons: tuple[Reason, ...]
    detail: str  # the figures behind the reasons, in words
    roles: tuple[str, ...]  # the kinds of card the takeaway made

    @property
    def location(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass(frozen=True)
class TakeawayStudy:
    """A takeaway's cards and their study, aggregated."""

    path: str
    line: int
    takeaway: str
    records: tuple[Record, ...]
    cards: tuple[CardStudy, ...]
    missing: tuple[str, ...] = ()  # GUIDs of its notes that Anki no longer holds

    @property
    def reviews(self) -> int:
        return sum(c.reviews for c in self.cards)

    @property
    def lapses(self) -> int:
        return sum(c.lapses for c in self.cards)


@dataclass(frozen=True)
class Study:
    """Everything `stats` found: per takeaway, the findings and the deck's norm."""

    takeaways: tuple[TakeawayStudy, ...]
    findings: tuple[Finding, ...]
    lapse_rate: float  # the deck's median lapses per review, over cards reviewed at least once
    cards_found: int
    notes_missing: int
    per_note: Mapping[str, tuple[int, int, int]] = field(default_factory=dict)  # path -> cards, reviews, lapses


# ---------------------------------------------------------------- reading Anki


def read_collection(path: Path, guids: Iterable[str]) -> dict[str, list[CardStudy]]:
    """The cards of the notes with these GUIDs in a collection file, read from a copy of it."""
    try:
        from anki.collection import Collection
    except ImportError:
        raise StatsError(
            "reading a collection file needs the anki package: pip install 'flashgen[collection]'"
        ) from None
    if not path.is_file():
        raise StatsError(f"{path}: no such Anki collection (collection.anki2 in your Anki profile folder)")
    wanted = set(guids)
    with tempfile.TemporaryDirectory(prefix="flashgen-stats-") as scratch:
        copy = Path(scratch) / "collection.anki2"
        _copy_database(path, copy)
        try:
            col = Collection(str(copy))
        except Exception as exc:
            raise StatsError(f"{path}: cannot open a copy of the collection: {exc}") from None
        try:
            return _cards_of(col, wanted)
        finally:
            col.close(downgrade=False)


def _copy_database(source: Path, target: Path) -> None:
    """A consistent copy of an SQLite database that another program may have open."""
    try:
        with sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    except sqlite3.Error:
        pass  # e.g. held in exclusive mode: a plain copy of the file (and its journal) is next best
    try:
        shutil.copyfile(source, target)
        wal = source.with_name(source.name + "-wal")
        if wal.is_file():
            shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    except OSError as exc:
        raise StatsError(f"{source}: cannot read the collection ({exc.strerror}); try --ankiconnect") from None


def _cards_of(col: Any, wanted: set[str]) -> dict[str, list[CardStudy]]:
    found: dict[str, list[CardStudy]] = {}
    rows = col.db.all(
        "select n.guid, c.id, c.ord, c.reps, c.lapses, c.factor, c.ivl, c.queue, n.tags"
        " from cards c join notes n on c.nid = n.id"
    )
    answers: dict[int, list[int]] = {}
    for cid, ease in col.db.all("select cid, ease from revlog where type < 4 order by id"):
        answers.setdefault(cid, []).append(ease)
    for guid, cid, ordinal, reps, lapses, factor, ivl, queue, tags in rows:
        if guid not in wanted:
            continue
        study = CardStudy(
            guid=guid,
            ordinal=ordinal + 1,
            reviews=reps,
            lapses=lapses,
            ease=factor // 10,
            interval=max(ivl, 0),
            suspended=queue == -1,
            leech="leech" in tags.lower().split(),
            answers=tuple(answers.get(cid, ())),
        )
        found.setdefault(guid, []).append(study)
    return found


def read_ankiconnect(client: AnkiConnect, guids: Iterable[str]) -> dict[str, list[CardStudy]]:
    """The same through a running Anki's AnkiConnect add-on. Only reading actions are sent; the
    notes are recognised by their GUID as sync recognises them, so a user's copy never counts."""
    notes = client.managed(set(guids))
    owner = {card_id: note.guid for note in notes.values() for card_id, _ in note.cards}
    leeches = {note.guid for note in notes.values() if "leech" in (t.lower() for t in note.tags)}
    card_ids = sorted(owner)
    infos: list[dict[str, Any]] = client.invoke("cardsInfo", cards=card_ids) if card_ids else []
    logs: dict[str, list[dict[str, Any]]] = client.invoke("getReviewsOfCards", cards=card_ids) if card_ids else {}
    found: dict[str, list[CardStudy]] = {}
    for info in infos:
        guid = owner.get(info.get("cardId", 0))
        if guid is None:
            continue
        answers = tuple(int(r["ease"]) for r in logs.get(str(info["cardId"]), []) if int(r.get("type", 0)) < 4)
        found.setdefault(guid, []).append(
            CardStudy(
                guid=guid,
                ordinal=int(info.get("ord", 0)) + 1,
                reviews=int(info.get("reps", 0)),
                lapses=int(info.get("lapses", 0)),
                ease=int(info.get("factor", 0)) // 10,
                interval=max(int(info.get("interval", 0)), 0),
                suspended=int(info.get("queue", 0)) == -1,
                leech=guid in leeches,
                answers=answers,
            )
        )
    return found


# ---------------------------------------------------------------- judging


def assess(records: Sequence[Record], held: Mapping[str, Sequence[CardStudy]]) -> Study:
    """Group the study of flashgen's active notes by takeaway and name the takeaways to look at."""
    active = [r for r in records if r.status == "active"]
    groups: dict[tuple[str, str], list[Record]] = {}
    for record in active:
        groups.setdefault((record.path, record.takeaway), []).append(record)
    imported = any(r.guid in held for r in active)  # with no note in Anki at all, none was deleted
    studies = []
    for members in groups.values():
        first = min(members, key=lambda r: r.line)
        cards = tuple(c for r in members for c in held.get(r.guid, ()))
        missing = tuple(r.guid for r in members if r.guid not in held) if imported else ()
        studies.append(TakeawayStudy(first.path, first.line, first.text, tuple(members), cards, missing))
    studies.sort(key=lambda s: (s.path, s.line))

    reviewed = [c for s in studies for c in s.cards if c.reviews]
    rate = median(c.lapses / c.reviews for c in reviewed) if reviewed else 0.0
    findings = [f for s in studies if (f := _finding(s, rate)) is not None]
    per_note: dict[str, tuple[int, int, int]] = {}
    for s in studies:
        count, reviews, lapses = per_note.get(s.path, (0, 0, 0))
        per_note[s.path] = (count + len(s.cards), reviews + s.reviews, lapses + s.lapses)
    return Study(
        takeaways=tuple(studies),
        findings=tuple(findings),
        lapse_rate=rate,
        cards_found=sum(len(s.cards) for s in studies),
        notes_missing=sum(len(s.missing) for s in studies),
        per_note=per_note,
    )


def _finding(study: TakeawayStudy, norm: float) -> Finding | None:
    reasons: list[Reason] = []
    details: list[str] = []
    if any(c.leech for c in study.cards):
        reasons.append("leech")
    if any(c.suspended for c in study.cards):
        reasons.append("suspended")
    if study.missing:
        reasons.append("deleted")
        details.append(f"{len(study.missing)} of its {len(study.records)} notes deleted in Anki")
    failing = [
        c
        for c in study.cards
        if c.reviews and c.lapses >= FAILING_MIN_LAPSES and c.lapses / c.reviews > FAILING_FACTOR * max(norm, 0.05)
    ]
    if failing:
        reasons.append("fails often")
    struggling = [
        c
        for c in study.cards
        if len(c.answers) >= STRUGGLING_REVIEWS and not any(a >= 3 for a in c.answers[-STRUGGLING_RECENT:])
    ]
    if struggling:
        reasons.append("never answered well")
    if not reasons:
        return None
    if study.cards:
        worst = max(study.cards, key=lambda c: (c.lapses, c.reviews))
        details.insert(
            0,
            f"{study.reviews} reviews, {study.lapses} lapses over {len(study.cards)} cards"
            f" (worst card: {worst.lapses} lapses in {worst.reviews} reviews, interval {worst.interval} d;"
            f" deck norm {norm:.0%} lapses a review)",
        )
    return Finding(
        path=study.path,
        line=study.line,
        takeaway=study.takeaway,
        reasons=tuple(reasons),
        detail="; ".join(details),
        roles=tuple(sorted({r.role for r in study.records})),
    )


def study(options: Options, collection: Path | None = None, client: AnkiConnect | None = None) -> Study:
    """Read the study of this deck's notes (the lock file names them) from a collection file, or
    else through AnkiConnect (`client`)."""
    from .build import recorded

    if not options.lock_path.is_file():
        raise StatsError(f"{options.lock_path}: no lock file; build the deck first (flashgen build)")
    records = recorded(options)
    guids = [r.guid for r in records if r.status == "active"]
    if collection is not None:
        held = read_collection(collection, guids)
    elif client is not None:
        held = read_ankiconnect(client, guids)
    else:
        raise StatsError("say where the study history is: --collection FILE, or a running Anki (AnkiConnect)")
    return assess(records, held)


def checker_views(findings: Sequence[Finding], problems: Iterable[SourceProblem]) -> dict[str, list[str]]:
    """The checker's advice on each finding's takeaway, keyed by location (`path:line`)."""
    wanted = {(f.path, f.line): f.location for f in findings}
    views: dict[str, list[str]] = {}
    for problem in problems:
        for (path, line), location in wanted.items():
            if problem.line == line and Path(problem.path).as_posix().endswith("/" + path.lstrip("/")):
                views.setdefault(location, []).append(problem.message)
    return views
