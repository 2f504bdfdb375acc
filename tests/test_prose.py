"""Issue 5: notes written as prose can opt in to cards from their headed sections."""

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

## Compute-optimal training

Chinchilla showed that parameters and training tokens should grow in equal proportion for a fixed compute budget.

Short caption.

## Data

Repeating data for up to four epochs is almost as good as fresh data, according to Muennighoff.

## Further reading

See the Kaplan paper and the Chinchilla paper for the details of every fitted curve.
"""


def test_prose_paragraphs_become_takeaways_only_when_asked() -> None:
    note = parse_note(PROSE, NoteFile(Path("scaling.md"), Path(".")))
    assert extract(note) == ()
    found = extract(note, prose=True)
    assert [(t.line, t.section) for t in found] == [(8, "Compute-optimal training"), (14, "Data")]
    assert found[0].text.startswith("Chinchilla showed")


def test_prose_option_on_the_command_line_and_in_the_config(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "blog", {"scaling.md": PROSE})
    runner = CliRunner()
    result = runner.invoke(main, ["preview", str(vault), "--format", "json"])
    assert result.exit_code == 0 and result.stdout.strip() == "[]"
    result = runner.invoke(main, ["preview", str(vault), "--format", "json", "--prose"])
    assert result.exit_code == 0 and "scaling.md:8" in result.stdout and "scaling.md:14" in result.stdout
    (vault / "flashgen.yaml").write_text("prose: true\n")
    result = runner.invoke(main, ["build", str(vault), "-o", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "1 notes read, 2 takeaways" in result.stdout
