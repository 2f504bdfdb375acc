"""The `flashgen` command. Commands are thin: parse options, load config, call one core function, print."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from . import __version__
from .build import build as run_build
from .build import check as run_check
from .cards import probes_of
from .config import load_options
from .errors import FlashgenError
from .harvest import harvest
from .report import Report


class _UserError(click.ClickException):
    """A FlashgenError, shown as `error: message` with exit status 2."""

    exit_code = 2

    def show(self, file: object = None) -> None:
        click.echo(f"error: {self.message}", err=True)


def _run(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    try:
        return func(*args, **kwargs)
    except FlashgenError as exc:
        raise _UserError(str(exc)) from None


def _print_report(report: Report, *, changes: bool = False) -> None:
    if changes:
        for change in report.changes:
            click.echo(str(change))
    for problem in report.failures:
        click.echo(f"error: {problem}", err=True)
    for problem in report.warnings:
        click.echo(f"warning: {problem}", err=True)
    click.echo(report.summary())


@click.group()
@click.version_option(__version__, prog_name="flashgen")
def main() -> None:
    """Turn the takeaways in your notes into Anki flashcards that stay in sync with them."""


_paths = click.argument("paths", nargs=-1, type=click.Path(path_type=Path))


@main.command()
@_paths
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Folder for the package and lock file [decks].")
@click.option("--name", help="Package name (OUTPUT/NAME.apkg) [the notes folder's name].")
@click.option("--deck", help="Deck name template, e.g. '{root}::{category}'.")
@click.option("--root", help="Top deck name [the package name].")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False), help="A flashgen.yaml.")
@click.option("-n", "--dry-run", is_flag=True, help="Print the plan; write nothing.")
@click.option("--prune", is_flag=True, help="Forget cards removed from the notes (after deleting them in Anki).")
@click.option("-v", "--verbose", is_flag=True, help="List every card added, updated, moved or removed.")
def build(
    paths: tuple[Path, ...], config_file: Path | None, dry_run: bool, prune: bool, verbose: bool, **options: object
) -> None:
    """Build OUTPUT/NAME.apkg from the notes in PATHS (files or folders).

    Re-importing the package into Anki updates the cards whose takeaways changed, in place,
    keeping their review history; see the README for removed takeaways.
    """
    opts = _run(load_options, paths, config_file=config_file, dry_run=dry_run, **options)
    report = _run(run_build, opts, prune=prune)
    _print_report(report, changes=dry_run or verbose)
    sys.exit(report.exit_code)


@main.command()
@_paths
@click.option("--deck", help="Deck name template, e.g. '{root}::{category}'.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def preview(paths: tuple[Path, ...], fmt: str, deck: str | None) -> None:
    """Show the cards the notes in PATHS would make, without writing a deck."""
    opts = _run(load_options, paths, deck=deck)
    crop = _run(harvest, opts)
    rows = [
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

    table = Table(show_lines=True, expand=True)
    for name, ratio in (("Takeaway", 2), ("Card", 1), ("Prompt", 5), ("Answer", 3)):
        table.add_column(name, ratio=ratio, overflow="fold")
    for row in rows:
        table.add_row(str(row["location"]), str(row["role"]), str(row["prompt"]), str(row["answer"]))
    Console().print(table)
    click.echo(f"{len(rows)} cards")


@main.command()
@_paths
@click.option("--strict", is_flag=True, help="Exit with status 1 when any takeaway makes poor cards.")
def check(paths: tuple[Path, ...], strict: bool) -> None:
    """List takeaways in PATHS that make poor cards, as path:line: message."""
    opts = _run(load_options, paths)
    crop, problems = _run(run_check, opts)
    for problem in crop.failures:
        click.echo(f"error: {problem}", err=True)
    for problem in problems:
        click.echo(str(problem))
    flagged = len({(p.path, p.line) for p in problems})
    click.echo(f"{crop.takeaways} takeaways checked, {flagged} could make better cards", err=True)
    sys.exit(1 if crop.failures or (strict and problems) else 0)
