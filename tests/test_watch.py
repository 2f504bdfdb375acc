"""Issue 7: watch rebuilds on change, reports failures and goes on, and stops cleanly."""

from __future__ import annotations

import queue
import threading
from pathlib import Path

import pytest

from flashgen.config import load_options
from flashgen.errors import FlashgenError
from flashgen.report import Report
from flashgen.watch import watch

from .conftest import lock_cards, write_notes


def _next(outcomes: queue.Queue[Report | FlashgenError], timeout: float = 10.0) -> Report | FlashgenError:
    return outcomes.get(timeout=timeout)


def test_watch_rebuilds_reports_failures_and_stops(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"a.md": "- Owls hunt at **night**.\n"})
    out = tmp_path / "out"
    outcomes: queue.Queue[Report | FlashgenError] = queue.Queue()
    stop = threading.Event()
    ready = threading.Event()
    thread = threading.Thread(
        target=watch,
        args=(lambda: load_options([vault], output=out), outcomes.put),
        kwargs={"stop": stop, "ready": ready.set},
    )
    thread.start()
    try:
        first = _next(outcomes)
        assert isinstance(first, Report) and first.written and first.plan["added"] >= 1
        assert ready.wait(10)

        (vault / "b.md").write_text("- Sloths sleep up to **15 hours** a day.\n", encoding="utf-8")
        second = _next(outcomes)
        assert isinstance(second, Report) and second.written and second.plan["added"] >= 1
        assert second.parsed == 1  # the unchanged note came from the cache
        texts = {c["text"] for c in lock_cards(out / "vault.lock.json")}
        assert "Sloths sleep up to **15 hours** a day." in texts

        (vault / "c.md").write_text("---\ntitle: [\n---\n- broken\n", encoding="utf-8")
        third = _next(outcomes)
        assert isinstance(third, Report) and [p.path.name for p in third.failures] == ["c.md"]

        (vault / "c.md").write_text("- Fixed now, with a **term**.\n", encoding="utf-8")
        fourth = _next(outcomes)
        assert isinstance(fourth, Report) and not fourth.failures and fourth.plan["added"] >= 1

        (out / "ignored.md").parent.mkdir(exist_ok=True)
        (out / "ignored.md").write_text("- In the output folder: **not** a note.\n", encoding="utf-8")
        (vault / "notes.txt").write_text("not a note")  # not relevant: no rebuild
        with pytest.raises(queue.Empty):  # neither file starts a build
            _next(outcomes, timeout=2.0)
        (vault / "d.md").write_text("- Bees can see **ultraviolet** light.\n", encoding="utf-8")
        fifth = _next(outcomes)
        assert isinstance(fifth, Report) and fifth.plan["added"] >= 1
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()
    assert outcomes.empty()


def test_a_changed_image_rebuilds_even_when_no_note_changed(tmp_path: Path) -> None:
    from flashgen.build import build

    from .test_rendering import PNG

    vault = write_notes(tmp_path / "vault", {"a.md": "- The diagram: ![d](d.png) shows **owls**.\n"})
    (vault / "d.png").write_bytes(PNG)
    options = load_options([vault], output=tmp_path / "out")
    assert build(options).written
    assert not build(options).written  # nothing changed
    (vault / "d.png").write_bytes(PNG + b"changed")
    report = build(options)
    assert report.written and report.plan["updated"] >= 1
