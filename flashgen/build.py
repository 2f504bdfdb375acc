"""Build: the pipeline from notes to package, one named stage after another.

    read -> harvest (takeaways -> cards, note by note) -> identities -> package -> remember

`read` finds the notes and the last build's state; `harvest` makes each note's takeaways and
cards (see `harvest`); `identify` gives the cards their lasting identities against the lock file
(see `identity`); `write_deck` writes the package and the lock file; `remember` writes the state
the next build starts from (see `state`). `build` runs them and returns one `Report`, made in one
place (`report`) from what the stages `Made`. Two shortcuts are taken when the state allows:
nothing changed (the state is the answer), or a few notes changed (only they go through the
stages, see `incremental`). `sync` runs the same stages, and `watch` calls `build`.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import Options
from .errors import BusyError, NothingToBuild, OutputError, SourceError, SourceProblem
from .notes import NoteFile, find_notes
from .report import PLAN_ORDER, Change, Report
from .state import (
    Manifest,
    Signature,
    Stamp,
    StatePaths,
    Summary,
    keeping_database,
    known_texts,
    new_stamp,
    signature,
    state_paths,
)

# The stages are imported when a build has work to do: a build that finds nothing changed
# reads one small file and should not pay for loading the parsers.
if TYPE_CHECKING:
    from . import identity, llm, lock
    from .harvest import Harvest, Progress
    from .state import Cache
    from .takeaways import Takeaway

LOCK_TIMEOUT = 120.0  # seconds a build waits for another build of the same deck to finish


@dataclass(frozen=True)
class Sources:
    """What a build starts from (the stage `read`): the note files with their sizes and times,
    and the last build's state."""

    files: tuple[NoteFile, ...]
    signatures: dict[str, Signature | None]  # note file -> size and time
    paths: StatePaths
    stamp: Stamp | None
    notices: tuple[str, ...]  # why the state on disk was not used, if it was not


@dataclass(frozen=True)
class Made:
    """What the stages of one build made, as its `Report` counts it."""

    notes: int
    takeaways: int
    anki_notes: int
    anki_cards: int
    failures: tuple[SourceProblem, ...]
    warnings: tuple[SourceProblem, ...]
    without_takeaways: tuple[str, ...]
    silent: tuple[tuple[str, str], ...]
    plan: Mapping[str, int]
    changes: tuple[Change, ...] = ()
    reshaped: tuple[tuple[str, str, str], ...] = ()  # see identity.Plan.reshaped
    written: bool = False
    parsed: int = 0
    incremental: bool = False
    llm: Any = None  # llm.Stats, with generator: llm
    notices: tuple[str, ...] = ()


def build(options: Options, *, now: int | None = None, prune: bool = False, progress: Progress | None = None) -> Report:
    """Build the package and lock file for `options`; return what happened."""
    sources = read(options)
    made = (
        _up_to_date(options, sources, prune)
        or _changed_notes(options, sources, now, prune)
        or _all_notes(options, sources, now, prune, progress)
    )
    return report(options, sources, made)


def report(options: Options, sources: Sources, made: Made) -> Report:
    """The one place a build's `Report` is made."""
    return Report(
        notes=made.notes,
        takeaways=made.takeaways,
        anki_notes=made.anki_notes,
        anki_cards=made.anki_cards,
        failures=made.failures,
        warnings=made.warnings,
        without_takeaways=made.without_takeaways,
        silent=made.silent,
        plan=made.plan,
        changes=made.changes,
        reshaped=made.reshaped,
        package=options.package_path,
        lock=options.lock_path,
        written=made.written,
        dry_run=options.dry_run,
        parsed=made.parsed,
        llm=made.llm,
        incremental=made.incremental,
        notices=sources.notices + made.notices,
    )


# --- the stages ----------------------------------------------------------------------------------


def read(options: Options) -> Sources:
    """Stage 1: the note files, their sizes and times, and the last build's state."""
    files = tuple(find_notes(options.paths, options.output))
    paths = state_paths(options.output, options.name)
    stamp, notice = Stamp.load(paths)
    signatures = {str(f.path): signature(f.path) for f in files}
    return Sources(files, signatures, paths, stamp, (notice,) if notice else ())


def harvest(
    options: Options, files: Sequence[NoteFile], cache: Cache | None, progress: Progress | None = None
) -> tuple[Harvest, llm.Stats | None]:
    """Stages 2 and 3: each note's takeaways and their cards (unchanged notes from the cache), and
    with `generator: llm` the language model's cards where they pass the checks. Raises
    NothingToBuild when no note makes a card."""
    from .harvest import harvest as harvest_notes

    crop = harvest_notes(options, files, cache=cache, progress=progress)
    crop, llm_stats = refine(options, crop, progress)
    if not crop.cards and not crop.failures:
        if crop.takeaways:
            raise NothingToBuild(
                f"none of the {crop.takeaways} takeaways in {crop.notes} notes makes a card a learner would keep; "
                "`flashgen check` says why; write `question :: answer` or mark the key term in **bold**"
            )
        raise NothingToBuild(
            f"no takeaways found in {crop.notes} notes; mark them with a heading such as "
            "'Key takeaways' or write them as a bulleted list"
        )
    return crop, llm_stats


def identify(
    options: Options,
    crop: Harvest,
    previous: lock.Lock,
    sources: Sources,
    now: int | None,
    *,
    prune: bool = False,
    reserved: Sequence[str] = (),
) -> identity.Plan:
    """Stage 4: every card's lasting GUID, cloze numbers and time, matched against the lock file
    (`reserved` GUIDs are taken by notes this package never wrote, see `sync`)."""
    from . import identity

    stamp = sources.stamp
    return identity.assign(
        crop.cards,
        previous,
        int(time.time()) if now is None else now,
        prune=prune,
        keep=crop.failed_notes,
        reserved=(reserved, ()),
        namespace=options.name,
        texts=known_texts(stamp.manifest) if stamp is not None else {},
    )


def write_deck(options: Options, crop: Harvest, plan: identity.Plan, now: int | None) -> None:
    """Stage 5: the package (keeping its database for the next incremental build) and the lock
    file, in that order (a crash between the two leaves files the next build notices and rebuilds)."""
    from . import lock, package

    _remove_stale_temporaries(options)
    try:
        with keeping_database(state_paths(options.output, options.name)) as database:
            package.write(plan.identities, options.package_path, timestamp=now, database=database)
        lock.write_lines(options.lock_path, lock.lines(plan.records()))
    except OSError as exc:
        where = exc.filename2 or exc.filename or options.package_path  # os.replace: (temporary, final)
        raise OutputError.writing(where, exc) from None


def remember(
    options: Options,
    sources: Sources,
    made: Made,
    inputs: Mapping[str, Signature | None],
    digests: Mapping[str, str],
    manifest: Manifest,
    *,
    current: bool = True,
) -> None:
    """Stage 6: the state that lets the next build skip work: the sizes and times of the notes and
    images (`inputs`), of the outputs as now written, the report's counts, what each note held
    (`digests`) and made (`manifest`). `current`: the deck is up to date with `inputs` (a note that
    could not be looked at, or a language model to ask again, means it is not)."""

    def problems(found: Sequence[SourceProblem]) -> list[tuple[str, int, str]]:
        return [(str(p.path), p.line, p.message) for p in found]

    summary = Summary(
        made.notes,
        made.takeaways,
        made.anki_notes,
        made.anki_cards,
        problems(made.failures),
        problems(made.warnings),
        list(made.without_takeaways),
        [(rel, reason) for rel, reason in made.silent],
    )
    notes = dict(inputs)
    stamp = new_stamp(
        sources.paths,
        options.cache_key(),
        current=current and None not in notes.values(),
        notes=notes,
        outputs=_outputs(options),
        summary=summary,
        digests=dict(digests),
        manifest=manifest,
    )
    if stamp is None:
        Stamp.remove(sources.paths)
    else:
        stamp.save(sources.paths)


def made_by(crop: Harvest, plan: identity.Plan, *, written: bool, llm_stats: Any = None) -> Made:
    """What a run of the stages over `crop` made."""
    from . import package

    exported = plan.identities
    return Made(
        notes=crop.notes,
        takeaways=crop.takeaways,
        anki_notes=len(exported),
        anki_cards=sum(package.card_count(i) for i in exported),
        failures=crop.failures,
        warnings=crop.warnings,
        without_takeaways=crop.without_takeaways,
        silent=crop.silent,
        plan={k: plan.count(k) for k in PLAN_ORDER},  # type: ignore[arg-type]
        changes=tuple(_change(i) for i in plan.identities if i.status not in ("unchanged", "retired")),
        reshaped=plan.reshaped,
        written=written,
        parsed=crop.parsed,
        llm=llm_stats,
    )


def inputs_of(sources: Sources, crop: Harvest) -> tuple[dict[str, Signature | None], dict[str, str]]:
    """The inputs a full run of the stages read, for `remember`: the notes' and images' sizes and
    times, and the content hash of each note that made its cards and each image's media name (a
    file touched but not changed is then no change)."""
    media = {str(m.path): signature(m.path) for c in crop.cards for m in c.media}
    digests = {**crop.digests, **{str(m.path): m.name for c in crop.cards for m in c.media}}
    return {**sources.signatures, **media}, digests


# --- the three ways through them -----------------------------------------------------------------


def _all_notes(options: Options, sources: Sources, now: int | None, prune: bool, progress: Progress | None) -> Made:
    """Every stage over every note (notes unchanged since the last build come from the cache)."""
    from . import incremental, lock
    from .harvest import no_cycle_collection
    from .state import Cache

    cache = Cache.load(sources.paths, options.cache_key())
    crop, llm_stats = harvest(options, sources.files, cache, progress)
    notices = (cache.notice,) if cache.notice else ()
    # The package is written again unless the state vouches for it: it is the one this build
    # wrote last (a package copied or committed from elsewhere is never taken as up to date).
    stamp = sources.stamp
    vouched = stamp is not None and dict(stamp.outputs) == _outputs(options) and None not in stamp.outputs.values()
    with output_lock(options), no_cycle_collection():
        previous = lock.load(options.lock_path)
        plan = identify(options, crop, previous, sources, now, prune=prune)
        missing = not vouched or not options.package_path.exists() or not sources.paths.database.exists()
        outdated = previous.format != lock.LOCK_FORMAT  # rewritten in this version's format
        written = False
        if not options.dry_run and plan.identities and (plan.changed or missing or outdated):
            write_deck(options, crop, plan, now)
            written = True
        made = replace(made_by(crop, plan, written=written, llm_stats=llm_stats), notices=notices)
        if options.dry_run:
            cache.close()
        else:
            cache.save()
            inputs, digests = inputs_of(sources, crop)
            retry = llm_stats is not None and llm_stats.retry_later  # the model must be asked again
            remember(options, sources, made, inputs, digests, incremental.manifest(crop, plan), current=not retry)
    return made


def _usable(options: Options, sources: Sources, prune: bool) -> Stamp | None:
    """The last build's stamp, when this build may take a shortcut by it."""
    stamp = sources.stamp
    if stamp is None or options.dry_run or prune or not stamp.current or stamp.key != options.cache_key():
        return None
    return stamp


def _up_to_date(options: Options, sources: Sources, prune: bool) -> Made | None:
    """The last build's counts, when no note, option or output has changed since it."""
    stamp = _usable(options, sources, prune)
    if stamp is None:
        return None
    inputs = dict(sources.signatures)
    inputs.update({path: signature(Path(path)) for path in stamp.notes if path not in inputs})  # images
    if stamp.notes != inputs:
        return None
    if stamp.outputs != _outputs(options) or None in stamp.outputs.values():
        return None
    return _from_stamp(stamp)


def _changed_notes(options: Options, sources: Sources, now: int | None, prune: bool) -> Made | None:
    """The stages over the notes that changed only, when the last build's state allows it; None
    otherwise."""
    stamp = _usable(options, sources, prune)
    if stamp is None or options.generator != "rules" or None in stamp.outputs.values():
        return None
    from . import incremental

    notes = sources.signatures
    found = incremental.changes(sources.files, stamp.notes, notes, stamp.digests)
    if found is None:
        return None
    redo, vanished = found.redo, found.vanished
    with output_lock(options):
        if dict(stamp.outputs) != _outputs(options):
            return None  # someone changed the deck or its state since: build in full
        if not redo and not vanished:  # only touched (a sync, a checkout): the deck is up to date
            made = _from_stamp(stamp)
            remember(options, sources, made, {**stamp.notes, **notes, **found.images}, stamp.digests, stamp.manifest)
            return made
        import sqlite3

        from . import lock

        delta = incremental.rebuild(options, redo, vanished, int(time.time()) if now is None else now, stamp.manifest)
        if delta is None:
            return None
        plan = delta.plan
        written = plan.changed
        if written:
            _remove_stale_temporaries(options)
            try:
                incremental.write(options, delta)
                lock.write_lines(options.lock_path, delta.lock_lines())
            except sqlite3.DatabaseError:
                return None  # the saved database is damaged (a crash of the machine): nothing written, build in full
            except OSError as exc:
                where = exc.filename2 or exc.filename or options.package_path
                raise OutputError.writing(where, exc) from None
        entries = delta.manifest.values()
        counts = {k: plan.count(k) for k in PLAN_ORDER}  # type: ignore[arg-type]
        # Notes outside the redone ones are unchanged, but for those of takeaways removed earlier.
        counts["unchanged"] += sum(
            e.anki_notes - e.gone for rel, e in delta.manifest.items() if rel not in delta.affected
        )
        made = Made(
            notes=len(sources.files),
            takeaways=sum(e.takeaways for e in entries),
            anki_notes=sum(e.anki_notes for e in entries),
            anki_cards=sum(e.anki_cards for e in entries),
            failures=incremental.problems(delta.manifest, "failures"),
            warnings=incremental.problems(delta.manifest, "warnings"),
            without_takeaways=tuple(sorted(rel for rel, e in delta.manifest.items() if e.empty)),
            silent=tuple(sorted((rel, e.silent) for rel, e in delta.manifest.items() if e.silent)),
            plan=counts,
            changes=tuple(_change(i) for i in plan.identities if i.status not in ("unchanged", "retired")),
            reshaped=plan.reshaped,
            written=written,
            parsed=delta.crop.parsed,
            incremental=True,
        )
        media = {file: signature(Path(file)) for e in entries for _, file in e.media}
        # Content hashes: the last build's for notes not redone; for those redone, of what their
        # cards were made from (a note that failed gets none: it is read again next time).
        redone = {str(f.path) for f in redo}
        digests = {name: value for name, value in stamp.digests.items() if name in notes and name not in redone}
        digests.update(delta.crop.digests)
        digests.update((file, name) for e in entries for name, file in e.media)
        remember(options, sources, made, {**notes, **media}, digests, delta.manifest)
    return made


def _from_stamp(stamp: Stamp) -> Made:
    """What a build that finds the deck up to date made: the last build's counts, nothing to do."""
    summary = stamp.summary
    plan = {k: 0 for k in PLAN_ORDER}
    plan["unchanged"] = summary.anki_notes
    return Made(
        notes=summary.notes,
        takeaways=summary.takeaways,
        anki_notes=summary.anki_notes,
        anki_cards=summary.anki_cards,
        failures=_problems(summary.failures),
        warnings=_problems(summary.warnings),
        without_takeaways=tuple(summary.without_takeaways),
        silent=tuple((rel, reason) for rel, reason in summary.silent),
        plan=plan,
    )


def refine(options: Options, crop: Harvest, progress: Progress | None = None) -> tuple[Harvest, llm.Stats | None]:
    """With `generator: llm`, the language model's cards where they pass the checks."""
    if options.generator != "llm":
        return crop, None
    from . import llm

    settings = llm.Settings.from_environment(
        base_url=options.llm_base_url,
        model=options.llm_model,
        concurrency=options.llm_concurrency,
        timeout=options.llm_timeout,
        max_requests=options.llm_max_requests,
    )
    return llm.refine(crop, settings, options.output / f"{options.name}.llm.json", progress=progress)


def _outputs(options: Options) -> dict[str, Signature | None]:
    """The files a build writes, whose signatures tell whether anyone changed them since."""
    state = state_paths(options.output, options.name)
    return {str(p): signature(p) for p in (options.package_path, options.lock_path, state.database)}


def _problems(found: Sequence[tuple[str, int, str]]) -> tuple[SourceProblem, ...]:
    return tuple(SourceProblem(Path(path), line, message) for path, line, message in found)


@contextmanager
def output_lock(options: Options) -> Iterator[None]:
    """Serialise builds of one deck: a second build waits for the first, then refuses clearly."""
    import filelock  # here: a build that finds nothing changed takes no lock and need not load it

    try:
        options.output.mkdir(parents=True, exist_ok=True)
        guard = filelock.FileLock(options.output / f".{options.name}.build-lock")
        guard.acquire(timeout=LOCK_TIMEOUT)
    except filelock.Timeout:
        raise BusyError(
            f"another flashgen build has held {options.output} for {LOCK_TIMEOUT:.0f} s; try again when it has finished"
        ) from None
    except OSError as exc:
        raise OutputError(f"cannot write to {options.output}: {exc.strerror or exc}") from None
    try:
        yield
    finally:
        guard.release()


def _remove_stale_temporaries(options: Options) -> None:
    """Temporary files a killed build left behind (we hold the output lock: none is in use)."""
    for pattern in (f".{options.package_path.name}.*.tmp", f".{options.lock_path.name}.*.tmp"):
        for stale in options.output.glob(pattern):
            stale.unlink(missing_ok=True)
    # (with a `-journal` file that a build of an earlier version could leave beside one)
    for stale in state_paths(options.output, options.name).folder.glob(f".{options.name}.*.tmp*"):
        stale.unlink(missing_ok=True)


def _change(item: identity.Identity) -> Change:
    record = item.record
    words = record.text.split(maxsplit=10)  # ten words, and the rest in one piece if there is more
    text = " ".join(words[:10]) + (" …" if len(words) > 10 else "")
    return Change(item.status, f"{record.path}:{record.line}", record.role, text)


def recorded(options: Options) -> tuple[lock.Record, ...]:
    """The lock file's records, each active takeaway's with its line and whole text (the lock file
    keeps only the start of a text): from the state, or where the state does not know them, from
    the notes, matched to the lock file as a build matches them."""
    from . import lock

    found = lock.load(options.lock_path)
    stamp, _ = Stamp.load(state_paths(options.output, options.name))
    known = known_texts(stamp.manifest) if stamp is not None else {}
    unknown = {r.guid for r in found.records if r.status == "active" and r.takeaway not in known}
    current: dict[str, tuple[int, str]] = {}
    if unknown:
        from . import identity
        from .harvest import harvest

        crop = harvest(options)
        plan = identity.assign(crop.cards, found, 0, keep=crop.failed_notes, namespace=options.name)
        current = {i.guid: (i.record.line, i.record.text) for i in plan.identities if i.guid in unknown}
    records = []
    for record in found.records:
        if record.status == "active":
            line, text = known.get(record.takeaway) or current.get(record.guid) or (record.line, record.text)
            record = replace(record, line=line, text=text)
        records.append(record)
    return tuple(records)


def check(options: Options) -> tuple[Harvest, tuple[SourceProblem, ...]]:
    """Takeaways that make no card, each with why and what its author can write instead, as
    `path:line: message`; and takeaways too long to make good cards. A paragraph read only in
    case it holds a card (`Takeaway.guessed`) is named only with `prose`."""
    from . import notes, takeaways
    from .harvest import harvest

    crop = harvest(options)
    carded = {card.takeaway.location for card in crop.cards}
    problems = []
    failed = crop.failed_notes
    for file in notes.find_notes(options.paths, options.output):
        if file.rel in failed:
            continue
        try:
            note = notes.read_note(file)
        except SourceError:
            continue
        for takeaway in takeaways.extract(note, prose=options.prose):
            if takeaway.guessed and not options.prose and takeaway.location not in carded:
                continue  # a paragraph read in case it held a card: no advice is owed on it
            for message in _advice(takeaway, note.title, carded):
                problems.append(SourceProblem(note.path, takeaway.line, message))
    return crop, tuple(sorted(problems, key=lambda p: (str(p.path), p.line)))


def _advice(takeaway: Takeaway, title: str, carded: set[str]) -> list[str]:
    """What `check` says of one takeaway: why it makes no card and what to write instead."""
    from . import drafts, quality

    words = len(takeaway.text.split())
    out = []
    if words > quality.MAX_TAKEAWAY_WORDS:
        out.append(f"takeaway is {words} words long; one claim per bullet makes one good card per claim")
    if takeaway.location in carded:
        return out
    reasons = drafts.outcome(takeaway, title).reasons
    why = "; ".join(quality.advice_for(reasons[:2])) if reasons else ""
    out.append(
        "makes no card"
        + (f" ({why})" if why else "")
        + "; to have one, write `question :: answer` or mark the key term in **bold**"
    )
    return out


__all__: Sequence[str] = ("NothingToBuild", "build", "check", "recorded", "refine")
