"""Build: the pipeline from notes to package, one stage after another.

notes -> takeaways -> cards (see `harvest`) -> identities -> package and lock file.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

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
    known_texts,
    new_stamp,
    prepare,
    signature,
    state_paths,
)

# The stages are imported when a build has work to do: a build that finds nothing changed
# reads one small file and should not pay for loading the parsers.
if TYPE_CHECKING:
    from . import identity, llm, lock
    from .harvest import Harvest, Progress
    from .takeaways import Takeaway

LOCK_TIMEOUT = 120.0  # seconds a build waits for another build of the same deck to finish


def build(options: Options, *, now: int | None = None, prune: bool = False, progress: Progress | None = None) -> Report:
    """Build the package and lock file for `options`; return what happened."""
    files = find_notes(options.paths, options.output)
    paths = state_paths(options.output, options.name)
    note_signatures = {str(f.path): signature(f.path) for f in files}
    stamp, notice = Stamp.load(paths)
    notices = [notice] if notice else []
    if stamp is not None and not options.dry_run and not prune and stamp.current and stamp.key == options.cache_key():
        unchanged = _unchanged(options, stamp, note_signatures)
        if unchanged is not None:
            return unchanged
        if options.generator == "rules":
            report = _incremental(options, stamp, paths, files, note_signatures, now)
            if report is not None:
                return report
    from .harvest import harvest, no_cycle_collection
    from .state import Cache

    cache = Cache.load(paths, options.cache_key())
    crop = harvest(options, files, cache=cache, progress=progress)
    if cache.notice:
        notices.append(cache.notice)
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
    # The package is written again unless the state vouches for it: it is the one this build
    # wrote last (a package copied or committed from elsewhere is never taken as up to date).
    vouched = stamp is not None and dict(stamp.outputs) == _outputs(options) and None not in stamp.outputs.values()
    with _output_lock(options), no_cycle_collection():
        texts = known_texts(stamp.manifest) if stamp is not None else {}
        report, manifest = _under_lock(options, crop, now, prune, vouched, texts)
        report = replace(report, notices=tuple(notices))
        if llm_stats is not None:
            report = replace(report, llm=llm_stats)
        if not options.dry_run:
            cache.save()
            # The images the cards show are inputs too: a changed image must rebuild.
            media = {str(m.path): signature(m.path) for c in crop.cards for m in c.media}
            # What each note that made its cards held, and each image's content (which its
            # media name tells): a file touched but not changed is then no change.
            digests = {**crop.digests, **{str(m.path): m.name for c in crop.cards for m in c.media}}
            retry = llm_stats is not None and llm_stats.retry_later  # the model must be asked again
            _stamp(options, paths, {**note_signatures, **media}, report, digests, manifest, current=not retry)
        else:
            cache.close()
    return report


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


def _incremental(
    options: Options,
    stamp: Stamp,
    paths: StatePaths,
    files: Sequence[NoteFile],
    notes: dict[str, Signature | None],
    now: int | None,
) -> Report | None:
    """Redo only the notes that changed, when the last build's state allows it; None otherwise."""
    if None in stamp.outputs.values():
        return None
    from . import incremental

    found = incremental.changes(files, stamp.notes, notes, stamp.digests)
    if found is None:
        return None
    redo, vanished = found.redo, found.vanished
    with _output_lock(options):
        if dict(stamp.outputs) != _outputs(options):
            return None  # someone changed the deck or its state since: build in full
        if not redo and not vanished:  # only touched (a sync, a checkout): the deck is up to date
            report = _from_stamp(options, stamp)
            notes = {**stamp.notes, **notes, **found.images}
            _stamp(options, paths, notes, report, stamp.digests, stamp.manifest)
            return report
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
        report = Report(
            notes=len(files),
            takeaways=sum(e.takeaways for e in entries),
            anki_notes=sum(e.anki_notes for e in entries),
            anki_cards=sum(e.anki_cards for e in entries),
            failures=incremental.problems(delta.manifest, "failures"),
            warnings=incremental.problems(delta.manifest, "warnings"),
            without_takeaways=tuple(sorted(rel for rel, e in delta.manifest.items() if e.empty)),
            silent=tuple(sorted((rel, e.silent) for rel, e in delta.manifest.items() if e.silent)),
            plan=counts,
            changes=tuple(_change(i) for i in plan.identities if i.status not in ("unchanged", "retired")),
            package=options.package_path,
            lock=options.lock_path,
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
        _stamp(options, paths, {**notes, **media}, report, digests, delta.manifest)
    return report


def _unchanged(options: Options, stamp: Stamp, notes: dict[str, Signature | None]) -> Report | None:
    """The last build's report, when no note, option or output has changed since it."""
    inputs = dict(notes)
    inputs.update({path: signature(Path(path)) for path in stamp.notes if path not in notes})  # images
    if stamp.notes != inputs:
        return None
    if stamp.outputs != _outputs(options) or None in stamp.outputs.values():
        return None
    return _from_stamp(options, stamp)


def _from_stamp(options: Options, stamp: Stamp) -> Report:
    """The report of a build that finds the deck up to date: the last build's, nothing to do."""
    summary = stamp.summary
    plan = {k: 0 for k in PLAN_ORDER}
    plan["unchanged"] = summary.anki_notes
    return Report(
        notes=summary.notes,
        takeaways=summary.takeaways,
        anki_notes=summary.anki_notes,
        anki_cards=summary.anki_cards,
        failures=_problems(summary.failures),
        warnings=_problems(summary.warnings),
        without_takeaways=tuple(summary.without_takeaways),
        silent=tuple((rel, reason) for rel, reason in summary.silent),
        plan=plan,
        package=options.package_path,
        lock=options.lock_path,
    )


def _problems(found: Sequence[tuple[str, int, str]]) -> tuple[SourceProblem, ...]:
    return tuple(SourceProblem(Path(path), line, message) for path, line, message in found)


def _stamp(
    options: Options,
    paths: StatePaths,
    notes: dict[str, Signature | None],
    report: Report,
    digests: Mapping[str, str],
    manifest: Manifest,
    *,
    current: bool = True,
) -> None:
    """Write the state that lets the next build skip work (`current`: the deck is up to date with
    `notes`; a note that could not be looked at means it is not)."""

    def problems(found: Sequence[SourceProblem]) -> list[tuple[str, int, str]]:
        return [(str(p.path), p.line, p.message) for p in found]

    summary = Summary(
        report.notes,
        report.takeaways,
        report.anki_notes,
        report.anki_cards,
        problems(report.failures),
        problems(report.warnings),
        list(report.without_takeaways),
        [(rel, reason) for rel, reason in report.silent],
    )
    stamp = new_stamp(
        paths,
        options.cache_key(),
        current=current and None not in notes.values(),
        notes=notes,
        outputs=_outputs(options),
        summary=summary,
        digests=dict(digests),
        manifest=manifest,
    )
    if stamp is None:
        Stamp.remove(paths)
    else:
        stamp.save(paths)


@contextmanager
def _output_lock(options: Options) -> Iterator[None]:
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


def _under_lock(
    options: Options, crop: Harvest, now: int | None, prune: bool, vouched: bool, texts: Mapping[str, tuple[int, str]]
) -> tuple[Report, Manifest]:
    from . import identity, incremental, lock, package

    previous = lock.load(options.lock_path)
    clock = int(time.time()) if now is None else now
    plan = identity.assign(
        crop.cards, previous, clock, prune=prune, keep=crop.failed_notes, namespace=options.name, texts=texts
    )
    exported = plan.identities
    written = False
    state = state_paths(options.output, options.name)
    missing = not vouched or not options.package_path.exists() or not state.database.exists()
    outdated = previous.format != lock.LOCK_FORMAT  # rewritten in this version's format
    if not options.dry_run and exported and (plan.changed or missing or outdated):
        write_deck(options, crop, plan, now)
        written = True
    report = Report(
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
        package=options.package_path,
        lock=options.lock_path,
        written=written,
        dry_run=options.dry_run,
        parsed=crop.parsed,
    )
    return report, incremental.manifest(crop, plan)


def write_deck(options: Options, crop: Harvest, plan: identity.Plan, now: int | None) -> None:
    """Write the package (keeping its database for the next incremental build) and the lock file,
    in that order (a crash between the two leaves files the next build notices and rebuilds)."""
    from . import lock, package

    _remove_stale_temporaries(options)
    try:
        paths = state_paths(options.output, options.name)
        prepare(paths)
        package.write(plan.identities, options.package_path, timestamp=now, keep_database=paths.database)
        lock.write_lines(options.lock_path, lock.lines(plan.records()))
    except OSError as exc:
        where = exc.filename2 or exc.filename or options.package_path  # os.replace: (temporary, final)
        raise OutputError.writing(where, exc) from None


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
    from dataclasses import replace as with_values

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
            record = with_values(record, line=line, text=text)
        records.append(record)
    return tuple(records)


def check(options: Options) -> tuple[Harvest, tuple[SourceProblem, ...]]:
    """Takeaways that make no card, each with why and what its author can write instead, as
    `path:line: message`; and takeaways too long to make good cards."""
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
