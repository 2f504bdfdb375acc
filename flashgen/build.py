"""Build: the pipeline from notes to package, one stage after another.

notes -> takeaways -> cards -> identities -> package (and lock file).
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

import filelock

from . import cards as cards_stage
from . import drafts, identity, lock, notes, package, quality, takeaways
from .config import Options
from .errors import BusyError, FlashgenError, OutputError, SourceError, SourceProblem
from .identity import Plan
from .report import PLAN_ORDER, Change, Report

LOCK_TIMEOUT = 120.0  # seconds a build waits for another build of the same deck to finish


class NothingToBuild(FlashgenError):
    """No notes, or no takeaways in any note."""


@dataclass(frozen=True)
class Harvest:
    """What the text stages made of the notes: cards, and the notes that could not be read."""

    cards: tuple[cards_stage.Card, ...]
    notes: int
    takeaways: int
    failures: tuple[SourceProblem, ...]
    failed_notes: frozenset[str]  # paths, relative to the notes folder, of the notes that failed
    without_takeaways: tuple[str, ...]
    warnings: tuple[SourceProblem, ...] = ()


def harvest(options: Options) -> Harvest:
    """Read every note and make its cards; a note that fails is reported, the rest go on."""
    files = notes.discover(options.paths, exclude=[options.output])
    if not files:
        shown = ", ".join(str(p) for p in options.paths)
        raise NothingToBuild(f"no notes (.md, .markdown) found in {shown}")
    made: list[cards_stage.Card] = []
    warnings: list[SourceProblem] = []
    failures: list[SourceProblem] = []
    failed: set[str] = set()
    without: list[str] = []
    count = 0
    for file in files:
        try:
            note = notes.read_note(file)
            found = takeaways.extract(note)
            result = cards_stage.generate(note, found, options)
            made.extend(result.cards)
            warnings.extend(result.problems)
        except SourceError as exc:
            failures.append(exc.problem)
            failed.add(file.rel)
            continue
        except RecursionError:
            failures.append(SourceProblem(file.path, 1, "is nested too deeply to read"))
            failed.add(file.rel)
            continue
        count += len(found)
        if not found:
            without.append(file.rel)
    return Harvest(tuple(made), len(files), count, tuple(failures), frozenset(failed), tuple(without), tuple(warnings))


def build(options: Options, *, now: int | None = None, prune: bool = False) -> Report:
    """Build the package and lock file for `options`; return what happened."""
    crop = harvest(options)
    if not crop.cards and not crop.failures:
        raise NothingToBuild(
            f"no takeaways found in {crop.notes} notes; mark them with a heading such as "
            "'Key takeaways' or write them as a bulleted list"
        )
    options.output.mkdir(parents=True, exist_ok=True)
    guard = filelock.FileLock(options.output / f".{options.name}.build-lock")
    try:
        with guard.acquire(timeout=LOCK_TIMEOUT):
            return _under_lock(options, crop, now, prune)
    except filelock.Timeout:
        raise BusyError(
            f"another flashgen build has held {options.output} for {LOCK_TIMEOUT:.0f} s; "
            "try again when it has finished"
        ) from None


def _under_lock(options: Options, crop: Harvest, now: int | None, prune: bool) -> Report:
    previous = lock.load(options.lock_path)
    clock = int(time.time()) if now is None else now
    plan = identity.assign(crop.cards, previous, clock, prune=prune, keep=crop.failed_notes)
    exported = plan.identities
    written = False
    if not options.dry_run and exported and (plan.changed or not options.package_path.exists()):
        try:
            package.write(exported, options.package_path, timestamp=now)
            lock.write_atomic(options.lock_path, lock.dumps(plan.records()))
        except OSError as exc:
            raise OutputError(f"cannot write {options.package_path}: {exc.strerror or exc}") from None
        written = True
    return Report(
        notes=crop.notes,
        takeaways=crop.takeaways,
        anki_notes=len(exported),
        anki_cards=sum(_card_count(i) for i in exported),
        failures=crop.failures,
        warnings=crop.warnings,
        without_takeaways=crop.without_takeaways,
        plan={k: plan.count(k) for k in PLAN_ORDER},
        changes=tuple(_change(i) for i in plan.identities if i.status not in ("unchanged", "retired")),
        package=options.package_path,
        lock=options.lock_path,
        written=written,
        dry_run=options.dry_run,
    )


def _change(item: identity.Identity) -> Change:
    record = item.record
    words = record.text.split()
    text = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return Change(item.status, f"{record.path}:{record.line}", record.role, text)


_CLOZE = re.compile(r"\{\{c(\d+)::")


def _card_count(item: identity.Identity) -> int:
    if item.card.kind == "cloze":
        return len(set(_CLOZE.findall(item.front))) or 1
    return 2 if item.card.reverse else 1


def check(options: Options) -> tuple[Harvest, tuple[SourceProblem, ...]]:
    """Takeaways that make poor cards, each with advice for its author, as `path:line: message`."""
    crop = harvest(options)
    by_takeaway: dict[int, list[cards_stage.Card]] = {}
    for card in crop.cards:
        by_takeaway.setdefault(id(card.takeaway), []).append(card)
    problems = []
    for made in by_takeaway.values():
        takeaway = made[0].takeaway
        verdicts = [quality.judge(p) for card in made for p in cards_stage.probes_of(card)]
        for message in quality.advice(drafts.plain(takeaway.full_text), verdicts):
            problems.append(SourceProblem(takeaway.note.path, takeaway.line, f"takeaway {message}"))
    return crop, tuple(sorted(problems, key=lambda p: (str(p.path), p.line)))


def plan_only(options: Options, *, now: int | None = None) -> tuple[Harvest, Plan]:
    """The plan of a build without writing anything (for previews and sync)."""
    crop = harvest(options)
    previous = lock.load(options.lock_path)
    clock = int(time.time()) if now is None else now
    return crop, identity.assign(crop.cards, previous, clock, keep=crop.failed_notes)


__all__: Sequence[str] = ("build", "check", "harvest", "plan_only", "Harvest", "NothingToBuild")
