"""Issue 18: worker processes are never forked from a process with other live threads (a lock such
a thread holds at the fork stays held forever in the child); they still make the same cards."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from flashgen import harvest
from flashgen.config import load_options

from .conftest import write_notes


def _notes(folder: Path, count: int) -> Path:
    return write_notes(
        folder,
        {
            f"n{i}.md": f"- Note {i}: the **Transformer** relies on attention, not recurrence, says paper {i}.\n"
            for i in range(count)
        },
    )


def test_no_fork_while_another_thread_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    notes = _notes(tmp_path / "notes", 12)
    options = load_options([notes], output=tmp_path / "decks")
    serial = harvest.harvest(options, jobs=1)

    monkeypatch.setattr(harvest, "PARALLEL_FROM", 2)
    stop = threading.Event()
    refresher = threading.Thread(target=stop.wait, name="like rich's refresh thread", daemon=True)
    refresher.start()
    try:
        context = harvest._context()
        assert context is not None and context.get_start_method() != "fork"
        parallel = harvest.harvest(options, jobs=2)
    finally:
        stop.set()
        refresher.join()
    assert [(c.takeaway.location, c.front, c.back) for c in parallel.cards] == [
        (c.takeaway.location, c.front, c.back) for c in serial.cards
    ]
    if threading.active_count() == 1:  # alone again: the quick start method is allowed
        alone = harvest._context()
        assert alone is not None and alone.get_start_method() == "fork"
