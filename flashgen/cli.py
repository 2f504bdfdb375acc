"""The `flashgen` command. Commands are thin: parse options, load config, call one core function, print."""

from __future__ import annotations

import gc
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from . import __version__
from .build import build as run_build
from .build import check as run_check
from .config import Options, load_options
from .errors import FlashgenError
from .report import Report

if TYPE_CHECKING:
    from .ankiconnect import AnkiConnect
    from .harvest import Progress

P = ParamSpec("P")
R = TypeVar("R")
F = TypeVar("F", bound=Callable[..., Any])


class _UserError(click.ClickException):
    """A FlashgenError, shown as `error: message` with exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _run(func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
    try:
        return func(*args, **kwargs)
    except FlashgenError as exc:
        raise _UserError(str(exc)) from None


def _print_report(report: Report, *, changes: bool = False, quiet: bool = False) -> None:
    if changes:
        for change in report.changes:
            click.echo(str(change))
    for problem in report.failures:
        click.echo(f"error: {problem}", err=True)
    for warning in (*report.notices, *map(str, report.warnings)):
        click.echo(f"warning: {warning}", err=True)
    if changes:
        for line in (*report.reshaped_lines(), *report.silent_lines()):
            click.echo(line)
    if not quiet:
        click.echo(report.summary())


@click.group()
@click.version_option(__version__, prog_name="flashgen")
def main() -> None:
    """Turn the takeaways in your notes into Anki flashcards that stay in sync with them."""


def run() -> None:
    """The `flashgen` program (`main` in a process of its own, not called in-process as tests do).

    Python's last cycle collection at exit walks every object still alive: after a build of
    10,000 notes that took seconds, to free memory the operating system takes back anyway.
    Frozen objects are left out of it (exit handlers still run and files are still closed).
    """
    try:
        main()
    finally:
        gc.freeze()


_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


def _output_options(func: F) -> F:
    """The options that say where a deck goes and what it is called (build, watch, sync)."""
    for option in reversed(
        (
            click.option(
                "-o", "--output", type=click.Path(path_type=Path), help="Folder for the package and lock file [decks]."
            ),
            click.option("--name", help="Package name (OUTPUT/NAME.apkg) [the notes folder's name]."),
            click.option("--deck", help="Deck name template, e.g. '{root}::{category}'."),
            click.option("--root", help="Top deck name [the package name]."),
            click.option(
                "--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), help="A flashgen.yaml."
            ),
            click.option("--generator", type=click.Choice(["rules", "llm"]), help="Who writes the cards [rules]."),
            click.option(
                "--prose/--no-prose", default=None, help="Also make cards from the paragraphs of headed sections [no]."
            ),
            click.option(
                "--max-requests", "llm_max_requests", type=int, help="With --generator llm: at most N requests."
            ),
        )
    ):
        func = option(func)
    return func


@contextmanager
def _progress(quiet: bool) -> Iterator[Progress | None]:
    """A progress bar on a terminal, for builds that take more than a moment; nothing otherwise."""
    if quiet or not sys.stderr.isatty():
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    with Bar(
        TextColumn("reading notes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True
    ) as bar:
        task = bar.add_task("notes", total=None, visible=False)

        def update(done: int, total: int) -> None:
            # Only show the bar when there is real work: cached notes are done at once.
            bar.update(task, completed=done, total=total, visible=total - done > 200 or bar.tasks[0].visible)

        yield update


@main.command()
@_paths
@_output_options
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--prune", is_flag=True, help="Forget cards removed from the notes (after deleting them in Anki).")
@click.option("-v", "--verbose", is_flag=True, help="List every card added, updated, moved or removed.")
@click.option("-q", "--quiet", is_flag=True, help="Print only errors and warnings.")
def build(
    paths: tuple[Path, ...],
    config_file: Path | None,
    dry_run: bool,
    prune: bool,
    verbose: bool,
    quiet: bool,
    **options: object,
) -> None:
    """Build OUTPUT/NAME.apkg from the notes in PATHS (files or folders).

    Re-importing the package into Anki updates the cards whose takeaways changed, in place,
    keeping their review history; see the README for removed takeaways.
    """
    opts = _run(load_options, paths, config_file=config_file, dry_run=dry_run, **options)
    with _progress(quiet) as progress:
        report = _run(run_build, opts, prune=prune, progress=progress)
    _print_report(report, changes=dry_run or verbose, quiet=quiet)
    sys.exit(report.exit_code)


@main.command()
@_paths
@_output_options
@click.option("-q", "--quiet", is_flag=True, help="Print only errors, warnings and one line a build.")
def watch(paths: tuple[Path, ...], config_file: Path | None, quiet: bool, **options: object) -> None:
    """Build, then rebuild whenever a note in PATHS changes (Ctrl-C stops)."""
    from .watch import watch as run_watch

    def load() -> Options:
        return load_options(paths, config_file=config_file, **options)

    def show(outcome: Report | FlashgenError) -> None:
        stamp = time.strftime("%H:%M:%S")
        if isinstance(outcome, FlashgenError):
            click.echo(f"[{stamp}] error: {outcome}", err=True)
            return
        for problem in outcome.failures:
            click.echo(f"error: {problem}", err=True)
        if not quiet:
            for warning in (*outcome.notices, *map(str, outcome.warnings)):
                click.echo(f"warning: {warning}", err=True)
        click.echo(f"[{stamp}] plan: {outcome.plan_line()}" + (f" -> {outcome.package}" if outcome.written else ""))

    _run(load)  # a bad configuration stops here, before watching
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):  # also when started in the background
        signal.signal(signum, lambda *_: stop.set())
    ready = lambda: click.echo(f"watching {', '.join(map(str, paths or ('.',)))} (Ctrl-C stops)")  # noqa: E731
    run_watch(load, show, stop=stop, ready=ready)
    click.echo("stopped")


@main.command()
@_paths
@click.option("--deck", help="Deck name template, e.g. '{root}::{category}'.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--prose/--no-prose", default=None, help="Also make cards from the paragraphs of headed sections.")
def preview(paths: tuple[Path, ...], fmt: str, deck: str | None, prose: bool | None) -> None:
    """Show the cards the notes in PATHS would make, without writing a deck."""
    from .cards import probes_of
    from .harvest import harvest

    opts = _run(load_options, paths, deck=deck, prose=prose)
    crop = _run(harvest, opts)
    rows: list[dict[str, object]] = [
        {
            "location": card.takeaway.location,
            "kind": card.kind,
            "role": card.role,
            "deck": card.deck,
            "tags": list(card.tags),
            "prompt": probe.prompt,
            "answer": probe.answer,
        }
        for card in crop.cards
        for probe in probes_of(card)
    ]
    if fmt == "json":
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        _print_table(rows)
    for problem in crop.failures:
        click.echo(f"error: {problem}", err=True)
    sys.exit(1 if crop.failures else 0)


def _print_table(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    # One table a note, titled with its path; the narrow columns (line, kind) never wrap and the
    # text columns wrap at word boundaries, so the cards read well in an 80-column terminal.
    console = Console()
    by_note: dict[str, list[dict[str, object]]] = {}
    for row in rows:
        path, _, line = str(row["location"]).rpartition(":")
        by_note.setdefault(path, []).append({**row, "line": line})
    for path, found in by_note.items():
        table = Table(title=Text(path), title_justify="left", show_lines=True, expand=True, padding=(0, 1))
        table.add_column("Line", no_wrap=True, justify="right")
        table.add_column("Kind", no_wrap=True)
        table.add_column("Prompt", ratio=3)
        table.add_column("Answer", ratio=2)
        for row in found:
            kind = "cloze" if row["kind"] == "cloze" else "Q/A"
            # Text, not str: a takeaway's "[/]" or "[bold]" is the author's text, not rich markup.
            table.add_row(Text(str(row["line"])), Text(kind), Text(str(row["prompt"])), Text(str(row["answer"])))
        console.print(table)
    click.echo(f"{len(rows)} cards")


@main.command()
@_paths
@click.option("--strict", is_flag=True, help="Exit with status 1 when any takeaway makes poor cards.")
@click.option("--prose/--no-prose", default=None, help="Also check the paragraphs of headed sections.")
def check(paths: tuple[Path, ...], strict: bool, prose: bool | None) -> None:
    """List takeaways in PATHS that make poor cards, as path:line: message, and the notes that
    make no card, with the reason."""
    opts = _run(load_options, paths, prose=prose)
    crop, problems = _run(run_check, opts)
    for problem in crop.failures:
        click.echo(f"error: {problem}", err=True)
    for problem in crop.warnings:
        click.echo(f"warning: {problem}", err=True)
    for problem in problems:
        click.echo(str(problem))
    for rel, reason in crop.silent:
        click.echo(f"{rel}: made no card: {reason}")
    flagged = len({(p.path, p.line) for p in problems})
    silent = f", {len(crop.silent)} notes made no card" if crop.silent else ""
    click.echo(f"{crop.takeaways} takeaways checked, {flagged} could make better cards{silent}", err=True)
    sys.exit(1 if crop.failures or (strict and problems) else 0)


@main.command()
@_paths
@_output_options
@click.option(
    "--collection",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write this collection file (Anki must be closed).",
)
@click.option("--ankiconnect", "url", help="AnkiConnect address [http://127.0.0.1:8765].")
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--delete/--no-delete", default=None, help="Delete the notes of removed takeaways [no].")
@click.option("--force", is_flag=True, help="Overwrite notes edited in Anki; delete beyond the safety threshold.")
@click.option("-v", "--verbose", is_flag=True, help="List every change.")
def sync(
    paths: tuple[Path, ...],
    config_file: Path | None,
    collection: Path | None,
    url: str | None,
    dry_run: bool,
    delete: bool | None,
    force: bool,
    verbose: bool,
    **options: object,
) -> None:
    """Apply the notes in PATHS straight to Anki: add, update in place, move, and (with --delete) delete.

    Talks to a running Anki through AnkiConnect, or writes a collection file with --collection.
    The AnkiConnect API key, if you set one, is read from FLASHGEN_ANKICONNECT_KEY.
    """
    from .collection import AnkiCollection
    from .sync import sync as run_sync

    opts = _run(load_options, paths, config_file=config_file, dry_run=dry_run, ankiconnect=url, **options)
    wants_delete = opts.sync_delete if delete is None else delete
    if collection is not None:
        with _Guard(), AnkiCollection(collection) as target:
            report = _run(run_sync, opts, target, delete=wants_delete, force=force, max_delete=opts.sync_max_delete)
    else:
        client = _ankiconnect(opts)
        report = _run(run_sync, opts, client, delete=wants_delete, force=force, max_delete=opts.sync_max_delete)
    if dry_run or verbose:
        for line in report.plan.lines():
            click.echo(line)
    for problem in report.failures:
        click.echo(f"error: {problem}", err=True)
    click.echo(report.summary())
    sys.exit(report.exit_code)


class _Guard:
    """Turns a FlashgenError raised while opening a target into the CLI's error."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if isinstance(value, FlashgenError):
            raise _UserError(str(value)) from None


@main.command()
@_paths
@click.option(
    "-o",
    "--output",
    "page",
    type=click.Path(path_type=Path, dir_okay=False),
    default=Path("report.html"),
    show_default=True,
    help="The HTML page to write.",
)
@click.option("--decks", type=click.Path(path_type=Path), help="Folder of the package and lock file [decks].")
@click.option("--name", help="Package name [the notes folder's name].")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), help="A flashgen.yaml.")
@click.option("--prose/--no-prose", default=None, help="Also make cards from the paragraphs of headed sections.")
@click.option(
    "--collection",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Add the study history from this collection file (read only; Anki may be open).",
)
@click.option("--anki", "from_anki", is_flag=True, help="Add the study history from a running Anki (AnkiConnect).")
def report(
    paths: tuple[Path, ...],
    page: Path,
    decks: Path | None,
    name: str | None,
    config_file: Path | None,
    prose: bool | None,
    collection: Path | None,
    from_anki: bool,
) -> None:
    """Write one self-contained HTML page showing every card the notes in PATHS make, with the checker's advice."""
    from .overview import write_page

    opts = _run(load_options, paths, config_file=config_file, output=decks, name=name, prose=prose)
    click.echo(_run(write_page, opts, page, collection, _ankiconnect(opts) if from_anki else None))


def _ankiconnect(opts: Options) -> AnkiConnect:
    """The running Anki the options name, with the API key from FLASHGEN_ANKICONNECT_KEY."""
    from .ankiconnect import AnkiConnect

    return AnkiConnect(opts.ankiconnect, os.environ.get("FLASHGEN_ANKICONNECT_KEY"))


@main.command()
@_paths
@_output_options
@click.option(
    "--collection",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read this collection file (a copy of it: Anki may be open). Without it, ask a running Anki.",
)
@click.option("--ankiconnect", "url", help="AnkiConnect address [http://127.0.0.1:8765].")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def stats(
    paths: tuple[Path, ...],
    config_file: Path | None,
    collection: Path | None,
    url: str | None,
    fmt: str,
    **options: object,
) -> None:
    """Read how studying the deck went and name the takeaways to look at, as path:line: why.

    Reads the collection file given, or else a running Anki through AnkiConnect; writes to neither.
    """
    from dataclasses import asdict

    from .statistics import checker_views, study

    opts = _run(load_options, paths, config_file=config_file, ankiconnect=url, **options)
    found = _run(study, opts, collection, None if collection else _ankiconnect(opts))
    _, problems = _run(run_check, opts)
    views = checker_views(found.findings, problems)
    if fmt == "json":
        rows = [{**asdict(f), "location": f.location, "checker": views.get(f.location, [])} for f in found.findings]
        click.echo(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for finding in found.findings:
            click.echo(f"{finding.location}: {', '.join(finding.reasons)}: {finding.detail}")
            for message in views.get(finding.location, []):
                click.echo(f"  checker: {message}")
    click.echo(
        f"{found.cards_found} cards studied, deck norm {found.lapse_rate:.0%} lapses a review;"
        f" {len(found.findings)} takeaways to look at",
        err=True,
    )
