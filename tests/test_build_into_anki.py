"""Issue 2: notes in, Anki deck out, judged by what a real Anki collection holds after import."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashgen import takeaways
from flashgen.build import check
from flashgen.cli import main
from flashgen.config import load_options
from flashgen.notes import discover, read_note

from .conftest import EXAMPLES, SHARED, Anki, Builder, write_notes


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html)).strip()


def test_examples_become_notes_cards_tags_and_decks(anki: Anki, run_build: Builder) -> None:
    report = run_build(EXAMPLES)
    assert report.failures == ()
    assert report.package is not None and report.package.exists()
    log = anki.import_package(report.package)
    assert len(log.new) == report.anki_notes  # type: ignore[attr-defined]

    expected = {f.rel: takeaways.extract(read_note(f)) for f in discover([EXAMPLES])}
    notes = anki.notes()
    sources = {n["Source"] for n in notes}
    _, explained = check(load_options([EXAMPLES]))
    said = {f"{p.path.name}:{p.line}" for p in explained if "makes no card" in p.message}
    found = [t for ts in expected.values() for t in ts]
    assert all(found for found in expected.values())
    for takeaway in found:
        # every takeaway became at least one note, or `check` says why it makes none
        assert (takeaway.location in sources) != (takeaway.location in said), takeaway.location
    for note in notes:
        fields = note.fields
        assert fields[0] and (note.note_type()["name"] != "flashgen Q/A" or note["Answer"])
    assert len({n["Source"] for n in notes}) >= 0.6 * len(found)  # precision first, but most take a card

    hamming = [n for n in notes if n["Source"].startswith("2023-03-14-hamming")]
    assert {"Research", "Career", "type::talk", "year::1986", "author::Richard_Hamming"} <= set(hamming[0].tags)
    assert {anki.deck_of(n) for n in hamming} == {"notes::Research"}
    # the "Further reading" links are not knowledge
    assert not any("Transcript of the talk" in n.fields[0] for n in hamming)
    # a Deep Learning note goes to its category's deck, with the context on it
    gpt = next(n for n in notes if "trained to predict the next token" in _plain(" ".join(n.fields)))
    assert anki.deck_of(gpt) == "notes::Deep Learning"
    assert "Let&#x27;s build GPT" in gpt["Context"] or "Let's build GPT" in gpt["Context"]
    assert "Andrej Karpathy" in gpt["Context"] and "2023" in gpt["Context"]
    assert 'href="https://www.youtube.com/watch?v=kCc8FmEb1nY"' in gpt["Context"]


def test_bold_and_highlight_become_cloze_cards(anki: Anki, run_build: Builder) -> None:
    report = run_build(EXAMPLES)
    anki.import_package(report.package)
    clozes = anki.notes('"note:flashgen Cloze"')
    assert clozes
    texts = {_plain(n["Text"]) for n in clozes}
    assert any("{{c1::compound interest}}" in t for t in texts)
    assert any("{{c1::decoder-only}}" in t for t in texts)  # ==highlight==
    for note in clozes:
        # never a cloze note without a deletion: every one has at least one card
        assert re.search(r"\{\{c\d+::", note["Text"])
        assert len(note.cards()) >= 1


def test_explicit_question_answer_is_exactly_that_card(anki: Anki, run_build: Builder) -> None:
    report = run_build(EXAMPLES)
    anki.import_package(report.package)
    [note] = anki.notes('"Question:*self-attention cost*"')
    assert _plain(note["Question"]) == "What does self-attention cost per layer?"
    assert note["Answer"].startswith("\\(O(n^2 \\cdot d)\\)")
    siblings = [n.id for n in anki.notes() if n["Source"] == note["Source"]]
    assert siblings == [note.id]


def test_short_nested_items_become_one_cloze_each(anki: Anki, run_build: Builder) -> None:
    report = run_build(EXAMPLES)
    anki.import_package(report.package)
    [note] = [n for n in anki.notes('"note:flashgen Cloze"') if "three skills" in n["Text"]]
    deletions = re.findall(r"\{\{c(\d+)::(.*?)\}\}", note["Text"])
    assert [(n, _plain(t)) for n, t in deletions] == [
        ("1", "writing clearly"),
        ("2", "giving formal talks"),
        ("3", "giving informal talks"),
    ]
    assert len(note.cards()) == 3


@pytest.mark.skipif(not (SHARED / "examples").is_dir(), reason="../shared/examples is not here")
def test_shared_example_every_takeaway_is_a_card(anki: Anki, run_build: Builder) -> None:
    source = SHARED / "examples"
    report = run_build(source, name="shared-example")
    anki.import_package(report.package)
    bullets = [
        line[2:].strip()
        for f in sorted(source.glob("*.md"))
        for line in f.read_text(encoding="utf-8").splitlines()
        if line.startswith("- ")
    ]
    assert len(bullets) >= 5
    shown = [" ".join(_plain(f) for f in n.fields) for n in anki.notes()]
    for bullet in bullets:  # every takeaway of the example note is a card (the full text in its extra)
        assert any(bullet[:60] in text for text in shown), bullet
    note = anki.notes()[0]
    assert {"Deep_Learning", "Data_Science", "type::podcast", "author::Lex_Fridman", "year::2022"} <= set(note.tags)
    assert anki.deck_of(note) == "shared-example::Deep Learning"


def test_one_broken_note_is_named_and_the_rest_still_build(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    notes = write_notes(
        tmp_path / "vault",
        {
            "good-one.md": """
                ---
                title: Good one
                ---
                Key takeaways:
                - The first good takeaway about **owls**.
                - What is the second good takeaway? :: this one
                """,
            "broken.md": """
                ---
                title: "unterminated
                categories: [a, b
                ---
                - lost
                """,
            "good-two.md": """
                # Good two

                - A takeaway under a **first-level heading**.
                """,
        },
    )
    (notes / "latin1.md").write_bytes("- caf\xe9 cr\xe8me\n".encode("latin-1"))
    report = run_build(notes)
    problems = {p.path.name: p for p in report.failures}
    assert set(problems) == {"broken.md", "latin1.md"}
    assert problems["broken.md"].line == 2
    assert "YAML" in problems["broken.md"].message
    assert problems["latin1.md"].line == 1 and "UTF-8" in problems["latin1.md"].message
    assert report.exit_code != 0
    anki.import_package(report.package)
    sources = {n["Source"].rsplit(":", 1)[0] for n in anki.notes()}
    assert sources == {"good-one.md", "good-two.md"}
    assert len(anki.notes()) == 3


def test_cli_build_reports_and_exits(tmp_path: Path) -> None:
    notes = write_notes(
        tmp_path / "My Notes",
        {"a.md": "- **Owls** can turn their heads 270 degrees.\n", "b.md": "---\ntitle: [\n---\n- x\n"},
    )
    result = CliRunner().invoke(main, ["build", str(notes), "-o", str(tmp_path / "out")])
    assert result.exit_code == 1, result.output
    assert f"error: {notes / 'b.md'}:2:" in result.stderr
    assert "2 notes read, 1 takeaways" in result.stdout
    assert (tmp_path / "out" / "My Notes.apkg").exists()

    result = CliRunner().invoke(main, ["build", str(notes / "a.md"), "-o", str(tmp_path / "out"), "--name", "backup-3"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "out" / "flashgen-backup-3.apkg").exists()


def test_empty_folder_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    result = CliRunner().invoke(main, ["build", str(tmp_path / "empty"), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "no notes" in result.stderr
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").glob("*.apkg"))


def test_deck_template_from_config_file(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    notes = write_notes(
        tmp_path / "kb",
        {
            "flashgen.yaml": "deck: 'Library::{type}::{year}'\nname: library\n",
            "n.md": "---\ntype: book\nyear: 2020\ncategories: x/y\n---\n- A takeaway about **decks**.\n",
        },
    )
    report = run_build(notes)
    assert report.package is not None and report.package.name == "library.apkg"
    anki.import_package(report.package)
    [note] = anki.notes()
    assert anki.deck_of(note) == "Library::book::2020"
    assert "x::y" in note.tags


def test_packages_are_compressed_and_import_whole(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """Issue 18: the package's database is deflated (it was stored: ~8x larger than needed); images,
    compressed already, are stored; Anki imports every note and the image."""
    import zipfile

    from flashgen.media import media_name

    from .test_rendering import PNG

    notes = write_notes(tmp_path / "notes", {"a.md": "- The diagram ![d](d.png) shows **owls**.\n"})
    (notes / "d.png").write_bytes(PNG)
    report = run_build(EXAMPLES, notes)
    with zipfile.ZipFile(report.package) as package:
        database = package.getinfo("collection.anki2")
        assert database.compress_type == zipfile.ZIP_DEFLATED
        assert database.compress_size * 3 < database.file_size
        names = {info.filename: info for info in package.infolist()}
        assert names["0"].compress_type == zipfile.ZIP_STORED  # the image
    anki.import_package(report.package)
    assert len(anki.notes()) == report.anki_notes
    assert anki.col.media.have(media_name(Path("d.png"), PNG))
