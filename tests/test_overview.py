"""Issue 19: the card report page, opened offline in a real browser (Chromium through Playwright).

It must show every card Anki makes from the same notes, load nothing from the network, run no
script from a note, and its own filter must work under its Content-Security-Policy.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from anki.scheduler.v3 import CardAnswer
from click.testing import CliRunner

from flashgen.cli import main

from .conftest import Anki, Builder, write_notes
from .test_statistics import _answer, _guids_by_line, _lapse

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None and not os.environ.get("CI"), reason="Chromium is not installed (apt-get install chromium)"
)

HOSTILE = """\
---
title: "<script>window.pwned = 'title'</script>"
categories: ["<img src=x onerror=\\"window.pwned='tag'\\">"]
---
Key takeaways:
- An image <img src=x onerror="window.pwned = 'img'"> with a **handler**.
- A <script>window.pwned = 'script'</script> script in a **takeaway**.
- A [link](javascript:window.pwned='link') with a **javascript** URL.
- <svg onload="window.pwned = 'svg'"><circle r="4"/></svg> An **inline SVG** with a handler.
- Math with a link: $\\href{javascript:window.pwned='math'}{x}$ is **neutralised**.
- <iframe src="https://example.com/"></iframe> A frame to a **remote page**.
- A remote ![image](https://example.com/pixel.png) that must **not load**.
"""
PLAIN = """\
---
title: Owls
---
Key takeaways:
- Owls fly almost silently thanks to the **serrated edges** of their flight feathers.
- Honey bees tell each other where food is with the **waggle dance**, a figure-eight walk.
- What is a group of owls called? :: A parliament.
"""


def _open(page_path: Path):  # type: ignore[no-untyped-def]
    manager = playwright.sync_playwright().start()
    browser = manager.chromium.launch(
        executable_path=CHROMIUM,
        args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    )
    context = browser.new_context(offline=True)
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(page_path.as_uri())
    page.wait_for_load_state("load")
    return manager, browser, page, requests, dialogs


def test_the_page_shows_every_card_offline_and_runs_no_note_script(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    notes = write_notes(tmp_path / "notes", {"hostile.md": HOSTILE, "owls.md": PLAIN})
    out = tmp_path / "decks"
    run_build(notes, output=out)
    anki.import_package(out / "notes.apkg")
    cards_in_anki = anki.col.card_count()
    assert cards_in_anki >= 8

    # Study: every card learned, one failed again and again, so the page has a takeaway to flag.
    _answer(anki.col, {}, CardAnswer.EASY)
    _lapse(anki.col, _guids_by_line(out / "notes.lock.json", "owls.md")[5][0], 4)

    page_path = tmp_path / "report.html"
    command = ["report", str(notes), "-o", str(page_path), "--decks", str(out), "--collection", anki.col.path]
    result = CliRunner().invoke(main, command)
    assert result.exit_code == 0, result.output
    text = page_path.read_text(encoding="utf-8")
    assert "<script>window.pwned" not in text and 'href="javascript' not in text.lower()

    manager, browser, page, requests, dialogs = _open(page_path)
    try:
        assert page.evaluate("typeof window.pwned") == "undefined"
        assert dialogs == []
        assert all(url.startswith(("file:", "data:")) for url in requests), requests
        assert page.locator(".face").count() == cards_in_anki  # every card Anki makes, once
        assert page.locator("details.note").count() == 2
        shown = page.locator("main").inner_text()
        assert "serrated edges" in shown and "A parliament." in shown

        # The page's own script runs (its nonce), and its filter hides unflagged takeaways.
        takeaways = page.locator(".takeaway")
        flagged = page.locator(".takeaway.flagged").count()
        assert 0 < flagged < takeaways.count()
        assert "fails often" in page.locator(".takeaway.flagged").first.inner_text() or "fails often" in shown
        page.check("#only-flagged")
        visible = sum(1 for i in range(takeaways.count()) if takeaways.nth(i).is_visible())
        assert visible == flagged
        assert page.evaluate("typeof window.pwned") == "undefined"
    finally:
        browser.close()
        manager.stop()


def test_the_page_names_the_notes_that_made_no_card_and_why(tmp_path: Path) -> None:
    notes = write_notes(
        tmp_path / "notes",
        {"owls.md": PLAIN, "draft.md": "---\ntitle: Draft\n---\n", "todo.md": "# To do\n\n- [ ] read the owl paper\n"},
    )
    page_path = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(notes), "-o", str(page_path), "--decks", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    text = page_path.read_text(encoding="utf-8")
    assert "Notes that made no card (2)" in text
    assert "draft.md: " in text and "todo.md: " in text


def test_the_page_says_when_a_card_is_kept_despite_the_checker(tmp_path: Path) -> None:
    """The generator keeps a cloze on the author's own emphasis whatever the checker says; the
    page shows the checker's view and that the card was kept for that reason, the way the
    generator decided it, not as a failure the generator ignored."""
    notes = write_notes(
        tmp_path / "notes",
        {
            "a.md": "---\ntitle: Attention Is All You Need\n---\nKey takeaways:\n"
            "- The **Transformer** drops recurrence and convolutions entirely and relies only on attention.\n"
        },
    )
    page_path = tmp_path / "report.html"
    result = CliRunner().invoke(main, ["report", str(notes), "-o", str(page_path), "--decks", str(tmp_path / "d")])
    assert result.exit_code == 0, result.output
    text = page_path.read_text(encoding="utf-8")
    assert "cloze:emphasis" in text
    assert "kept despite trivial-target: the author emphasised it" in text
    assert 'class="bad">checker:' not in text
