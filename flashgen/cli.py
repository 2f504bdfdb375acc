"""The `flashgen` command. Commands are thin: parse options, load config, call one core function, print."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import __version__
from .build import build as run_build
from .config import load_options
from .errors import FlashgenError
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
