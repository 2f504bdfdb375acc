"""Harvest: the text stages (notes -> takeaways -> cards) over a whole folder.

Each note is read, its takeaways found and its cards made independently of every other note, so
the work is spread over the machine's cores when there is enough of it, and notes whose result is
in the cache are not read again. One note that fails is reported; the rest go on.
"""

from __future__ import annotations

import gc
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing import get_all_start_methods, get_context
from multiprocessing.context import BaseContext
from pathlib import Path

from . import cards as cards_stage
from . import notes, takeaways
from .config import Options
from .errors import SourceError, SourceProblem
from .notes import find_notes
from .state import Cache, decode_result, digest, encode_result

PARALLEL_FROM = 400  # notes to parse before a second process pays for its start
AHEAD = 3  # chunks of 50 notes in flight for each worker process
Progress = Callable[[int, int], None]  # (notes done, notes in all)


@dataclass(frozen=True)
class NoteResult:
    """What one note made: its cards, or the reason it could not be read."""

    rel: str
    cards: tuple[cards_stage.Card, ...] = ()
    takeaways: int = 0
    failure: SourceProblem | None = None
    warnings: tuple[SourceProblem, ...] = ()
    media: tuple[Path, ...] = ()  # images the cards show: a change to one invalidates the result
    silence: str = ""  # why a note that was read made no card ("" when it made some)


@dataclass(frozen=True)
class Harvest:
    """What the text stages made of all the notes."""

    cards: tuple[cards_stage.Card, ...]
    notes: int
    takeaways: int
    failures: tuple[SourceProblem, ...]
    without_takeaways: tuple[str, ...]
    warnings: tuple[SourceProblem, ...] = ()
    parsed: int = 0  # notes read and parsed in this run (the rest came from the cache)
    takeaways_by_note: dict[str, int] = field(default_factory=dict)  # note path -> takeaways
    failure_notes: tuple[str, ...] = ()  # the note path of each failure
    warning_notes: tuple[tuple[SourceProblem, str], ...] = ()  # each warning with its note path
    digests: dict[str, str] = field(default_factory=dict)  # note file -> `digest` of the content its
    # cards were made from, for every note that made them (from the cache or read in this run)
    silent: tuple[tuple[str, str], ...] = ()  # (note path, why it made no card) for each note read that made none

    @property
    def failed_notes(self) -> frozenset[str]:
        """Paths, relative to the notes folder, of the notes that failed."""
        return frozenset(self.failure_notes)


def harvest_note(file: notes.NoteFile, options: Options, data: bytes | None = None) -> NoteResult:
    """Read one note and make its cards. Never raises for what is in the note."""
    try:
        raw = notes.read_bytes(file) if data is None else data
        note = notes.parse_note(notes.decode(raw, file.path), file)
        found, reason = takeaways.extract_explained(note, prose=options.prose, syntax=options.syntax)
        made = cards_stage.generate(note, found, options)
    except SourceError as exc:
        return NoteResult(file.rel, failure=exc.problem)
    except RecursionError:
        return NoteResult(file.rel, failure=SourceProblem(file.path, 1, "is nested too deeply to read"))
    except Exception as exc:  # a bug met on one note must not stop the others: report it as that note's
        message = (
            f"could not be read: flashgen failed on it ({type(exc).__name__}: {str(exc)[:200]}); please report this"
        )
        return NoteResult(file.rel, failure=SourceProblem(file.path, 0, message))
    media = tuple(sorted({m.path for card in made.cards for m in card.media}))
    if made.cards:
        reason = ""
    elif found:
        reason = f"its {len(found)} takeaways made no card (each was too short, too long or unclear to ask about)"
    return NoteResult(file.rel, made.cards, len(found), None, (*note.problems, *made.problems), media, reason)


def _harvest_chunk(files: Sequence[notes.NoteFile], options: Options) -> list[tuple[NoteResult, str | None]]:
    """Each note's result, and the digest of the content it was made from (None if unreadable)."""
    out = []
    for file in files:
        try:
            data: bytes | None = notes.read_bytes(file)
        except SourceError:
            data = None
        out.append((harvest_note(file, options, data), digest(data) if data is not None else None))
    return out


Sent = tuple[bytes | NoteResult, str | None]  # a result from a worker process, and its digest


def _harvest_encoded(files: Sequence[notes.NoteFile], options: Options) -> list[Sent]:
    """`_harvest_chunk` in a worker process: each result encoded as the cache stores it, so that
    the cache can write the bytes as they came rather than encode the cards again."""
    out: list[Sent] = []
    for result, made_from in _harvest_chunk(files, options):
        try:
            out.append((encode_result(result), made_from))
        except UnicodeEncodeError:  # a file name that is not UTF-8: sent pickled, not cached
            out.append((result, made_from))
    return out


def harvest(
    options: Options,
    files: Sequence[notes.NoteFile] | None = None,
    *,
    cache: Cache | None = None,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> Harvest:
    """Make the cards of every note, from the cache where it is still valid."""
    files = find_notes(options.paths, options.output) if files is None else files
    results: dict[int, NoteResult] = {}
    digests: dict[str, str] = {}
    todo: list[int] = []
    for index, file in enumerate(files):
        cached = cache.get(file.path) if cache is not None else None
        if cache is not None and cached is not None:
            results[index] = cached
            digests[str(file.path)] = cache.digest_of(file.path)
        else:
            todo.append(index)
    done = len(results)
    if progress:
        progress(done, len(files))

    def collect(index: int, result: NoteResult, made_from: str | None, stored: bytes | None = None) -> None:
        nonlocal done
        results[index] = result
        if made_from is not None and result.failure is None:
            digests[str(files[index].path)] = made_from
        if cache is not None and made_from is not None and result.failure is None:
            cache.put(files[index].path, made_from, result.media, result, stored)
        done += 1
        if progress:
            progress(done, len(files))

    workers = min(jobs or os.cpu_count() or 1, 8)
    if workers > 1 and len(todo) >= PARALLEL_FROM:
        chunks = [todo[i : i + 50] for i in range(0, len(todo), 50)]
        # The workers parse (their collector runs); this process only gathers their acyclic results.
        with no_cycle_collection(), ProcessPoolExecutor(workers, _context(), initializer=gc.enable) as pool:
            # A few chunks ahead of the one gathered, not all: results waiting to be read cost memory.
            pending: deque[tuple[list[int], Future[list[Sent]]]] = deque()
            for chunk in chunks:
                pending.append((chunk, pool.submit(_harvest_encoded, [files[i] for i in chunk], options)))
                if len(pending) > AHEAD * workers:
                    _gather(*pending.popleft(), collect)
            while pending:
                _gather(*pending.popleft(), collect)
    else:
        for index in todo:
            [(result, made_from)] = _harvest_chunk([files[index]], options)
            collect(index, result, made_from)

    ordered = [results[i] for i in range(len(files))]
    return Harvest(
        cards=tuple(c for r in ordered for c in r.cards),
        notes=len(files),
        takeaways=sum(r.takeaways for r in ordered),
        failures=tuple(r.failure for r in ordered if r.failure is not None),
        without_takeaways=tuple(r.rel for r in ordered if r.failure is None and not r.takeaways),
        warnings=tuple(w for r in ordered for w in r.warnings),
        parsed=len(todo),
        takeaways_by_note={r.rel: r.takeaways for r in ordered if r.failure is None},
        failure_notes=tuple(r.rel for r in ordered if r.failure is not None),
        warning_notes=tuple((w, r.rel) for r in ordered for w in r.warnings),
        digests=digests,
        silent=tuple((r.rel, r.silence) for r in ordered if r.failure is None and r.silence),
    )


def _gather(
    chunk: list[int],
    future: Future[list[Sent]],
    collect: Callable[[int, NoteResult, str | None, bytes | None], None],
) -> None:
    for index, (sent, made_from) in zip(chunk, future.result(), strict=True):
        if isinstance(sent, bytes):
            collect(index, decode_result(sent), made_from, sent)
        else:
            collect(index, sent, made_from, None)


@contextmanager
def no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector while a build holds hundreds of thousands of cards.

    The cards, identities and records are acyclic (reference counting frees them), but every
    few thousand allocations the collector walks all of them: about 40% of the time identities
    and packages took on 10,000 notes. Parsing, which makes cyclic syntax trees, runs with it on.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _context() -> BaseContext | None:
    """How worker processes start. fork starts them in milliseconds and shares the loaded modules,
    but only a process with no other thread may fork: a lock another thread held at that moment
    (rich's refresh thread, watchfiles, an AnkiConnect call) stays held forever in the child. With
    other threads alive, the workers come from a fork server, a fresh single-threaded process that
    has loaded flashgen's text stages once."""
    methods = get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return get_context("fork")
    if "forkserver" in methods:
        context = get_context("forkserver")
        context.set_forkserver_preload(["flashgen.harvest"])
        return context
    return None
