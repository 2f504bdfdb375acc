"""Issue 5: notes written as prose can opt in to cards from their headed sections; issue 16: a
note with nothing else (no list, no marker heading) falls back to its paragraphs."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from flashgen.cli import main
from flashgen.notes import NoteFile, parse_note
from flashgen.takeaways import extract

from .conftest import write_notes

PROSE = """---
title: Scaling laws
---
An introduction that says what the post is about, before any heading at all.

- A **list**, so that the note has takeaways without its prose.

## Compute-optimal training

Chinchilla showed that parameters and training tokens should grow in **equal proportion** for a fixed compute budget.

Short caption.

## Data

Repeating data for up to **four epochs** is almost as good as fresh data, according to Muennighoff.

## Further reading

See the Kaplan paper and the Chinchilla paper for the details of every fitted curve.
"""


def test_prose_paragraphs_become_takeaways_only_when_asked() -> None:
    note = parse_note(PROSE, NoteFile(Path("scaling.md"), Path(".")))
    assert [t.line for t in extract(note)] == [6]
    found = extract(note, prose=True)
    assert [(t.line, t.section) for t in found] == [(6, ""), (10, "Compute-optimal training"), (16, "Data")]
    assert found[1].text.startswith("Chinchilla showed")


def test_a_note_of_prose_alone_falls_back_to_its_paragraphs() -> None:
    only_prose = PROSE.replace("- A **list**, so that the note has takeaways without its prose.\n", "")
    found = extract(parse_note(only_prose, NoteFile(Path("scaling.md"), Path("."))))
    # the introduction too, but not the caption or the further reading
    assert [(t.line, t.section) for t in found] == [(4, ""), (9, "Compute-optimal training"), (15, "Data")]


def test_prose_option_on_the_command_line_and_in_the_config(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "blog", {"scaling.md": PROSE})
    runner = CliRunner()
    result = runner.invoke(main, ["preview", str(vault), "--format", "json"])
    assert result.exit_code == 0 and "scaling.md:10" not in result.stdout
    result = runner.invoke(main, ["preview", str(vault), "--format", "json", "--prose"])
    assert result.exit_code == 0 and "scaling.md:10" in result.stdout and "scaling.md:16" in result.stdout
    (vault / "flashgen.yaml").write_text("prose: true\n")
    result = runner.invoke(main, ["build", str(vault), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 notes read, 3 takeaways" in result.stdout
