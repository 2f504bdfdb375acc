"""Watch: build once, then again whenever the notes change.

The watcher only notices changes and waits for them to settle; each rebuild is the same `build`
as `flashgen build` (so unchanged notes come from the cache). A failing rebuild is reported and
watching goes on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import watchfiles

from .build import build
from .config import CONFIG_NAME, Options
from .errors import FlashgenError
from .media import IMAGE_SUFFIXES
from .notes import NOTE_SUFFIXES
from .report import Report

Outcome = Report | FlashgenError
STEP_MS = 30  # a change is taken once no other change has come for this long
DEBOUNCE_MS = 1000  # ... or once changes have kept coming for this long
RUST_TIMEOUT_MS = 1000  # how often the watcher wakes up with no change (to notice `stop`)


def relevant(path: Path, options: Options) -> bool:
    """Whether a change to `path` can change the deck: a note, an image or the configuration."""
    try:
        path.resolve().relative_to(options.output.resolve())
        return False  # our own output
    except ValueError:
        pass
    if any(part.startswith(".") for part in path.parts[-3:-1]):
        return False
    name = path.name.lower()
    return name.endswith(NOTE_SUFFIXES) or name == CONFIG_NAME or path.suffix.lower() in IMAGE_SUFFIXES


def watch(
    load: Callable[[], Options],
    report: Callable[[Outcome], None],
    *,
    stop: threading.Event | None = None,
    ready: Callable[[], None] | None = None,
) -> None:
    """Build, then rebuild on every relevant change until `stop` is set (or Ctrl-C)."""
    options = _rebuild(load, report)
    roots = [p for p in (options.paths if options else ()) if p.exists()] or [Path(".")]
    watching = False
    for changes in watchfiles.watch(
        *roots,
        stop_event=stop,
        step=STEP_MS,
        debounce=DEBOUNCE_MS,
        raise_interrupt=False,
        watch_filter=None,
        rust_timeout=RUST_TIMEOUT_MS,
        yield_on_timeout=True,
    ):
        if not watching:
            # The watcher runs from here on. Notes saved during the first build were not seen by
            # it: build once more (when nothing changed, that costs one look at the stamp).
            watching = True
            options = _rebuild(load, report, quiet_when_unchanged=True) or options
            if ready:
                ready()
        if not changes:
            continue
        current = options or _safe_load(load, report)
        if current is None or not any(relevant(Path(p), current) for _, p in changes):
            continue
        options = _rebuild(load, report) or options


def _safe_load(load: Callable[[], Options], report: Callable[[Outcome], None]) -> Options | None:
    try:
        return load()
    except FlashgenError as exc:
        report(exc)
        return None
    except Exception as exc:  # as in `_rebuild`
        report(FlashgenError(f"the configuration could not be read ({type(exc).__name__}: {exc})"))
        return None


def _rebuild(
    load: Callable[[], Options], report: Callable[[Outcome], None], *, quiet_when_unchanged: bool = False
) -> Options | None:
    options = _safe_load(load, report)
    if options is None:
        return None
    try:
        result = build(options)
        if not (quiet_when_unchanged and not result.written and not result.failures):
            report(result)
    except FlashgenError as exc:
        report(exc)
    except Exception as exc:  # a bug must not end the watch: the next save may build
        report(FlashgenError(f"the build failed unexpectedly ({type(exc).__name__}: {exc}); watching goes on"))
    return options
