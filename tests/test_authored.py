"""Issue 16: the card syntax people already write (Obsidian Spaced Repetition, flashcards-obsidian,
Obsidian_to_Anki), read as those tools document it; judged in a real Anki collection where the
card reaches the deck. The examples are our own, written from the tools' documentation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashgen import authored
from flashgen.authored import Syntax
from flashgen.config import load_options
from flashgen.errors import ConfigError
from flashgen.notes import NoteFile, read_note
from flashgen.takeaways import extract

from .conftest import Anki, Builder, write_notes


def cards(
    text: str, syntax: Syntax = authored.DEFAULT, *, marked: bool = True, heading: str = ""
) -> list[tuple[str, str, str, bool]]:
    """What one paragraph makes: (role, front, back, reverse) of each card."""
    found = authored.find(text, syntax, marked=marked, heading=heading)
    return [(f.card.role, f.card.front, f.card.back, f.card.reverse) for f in found if f.card is not None]


# ---------------------------------------------------------------- one-line cards


@pytest.mark.parametrize(
    "line", ["Capital of Peru::Lima", "Capital of Peru :: Lima", "Capital of Peru:: Lima", "Capital of Peru ::Lima"]
)
def test_one_line_card_with_or_without_spaces(line: str) -> None:
    assert cards(line) == [("qa:explicit", "Capital of Peru", "Lima", False)]


@pytest.mark.parametrize("line", ["Lima:::Capital of Peru", "Lima ::: Capital of Peru", "Lima::: Capital of Peru"])
def test_reversed_one_line_card(line: str) -> None:
    assert cards(line) == [("qa:term", "Lima", "Capital of Peru", True)]


def test_each_line_of_a_paragraph_is_its_own_card_and_other_lines_are_not() -> None:
    text = "Some capitals to know:\nPeru::Lima\nChile :: Santiago\nBolivia ::: Sucre"
    assert cards(text) == [
        ("qa:explicit", "Peru", "Lima", False),
        ("qa:explicit", "Chile", "Santiago", False),
        ("qa:term", "Bolivia", "Sucre", True),
    ]


def test_an_answer_that_starts_with_a_number_and_a_period_is_text() -> None:
    # markdown would read "2." as an empty ordered list: the period is escaped, so it shows
    assert cards("What is 1 + 1? :: 2.") == [("qa:explicit", "What is 1 + 1?", "2\\.", False)]
    found = cards("When was the web proposed? :: 1989. Tim Berners-Lee wrote the memo.")
    assert found[0][2] == "1989\\. Tim Berners-Lee wrote the memo."


def test_block_ids_and_deck_tags_are_not_part_of_the_card() -> None:
    assert cards("Capital of Peru :: Lima ^a1b2c3") == [("qa:explicit", "Capital of Peru", "Lima", False)]
    assert cards("#flashcards/geography Capital of Peru :: Lima") == [("qa:explicit", "Capital of Peru", "Lima", False)]
    assert cards("What is ^ in regex?\n?\nThe start of a line ^x9") == [
        ("qa:explicit", "What is ^ in regex?", "The start of a line", False)
    ]


@pytest.mark.parametrize(
    "line",
    [
        "Move it with `std::move` first.",
        "The rule is $a::b$ in this notation.",
        "See [the a::b docs](https://example.org/a::b) for more.",
        "Fetched from https://example.org/path::part today.",
        "Written as [[Namespaces::Paths]] in that vault.",
        "Rust's std::mem::swap swaps two values.",
        "Call Vec::new() to start.",
        "A Dataview field [rating:: 5] is metadata.",
        "The grammar uses a double colon ::.",
    ],
)
def test_no_separator_inside_code_math_links_urls_or_paths(line: str) -> None:
    assert cards(line) == []


def test_a_separator_outside_the_code_still_splits() -> None:
    assert cards("What does `std::move` do? :: It casts to an rvalue reference.") == [
        ("qa:explicit", "What does `std::move` do?", "It casts to an rvalue reference.", False)
    ]
    assert cards("$x::y$ :: the pair") == [("qa:explicit", "$x::y$", "the pair", False)]


# ---------------------------------------------------------------- multi-line cards


def test_multi_line_cards() -> None:
    text = "What are the two\nparts of a cell membrane?\n?\nA lipid bilayer\nand its proteins"
    assert cards(text) == [
        ("qa:explicit", "What are the two\nparts of a cell membrane?", "A lipid bilayer\nand its proteins", False)
    ]
    assert cards("Mitosis\n??\nOne cell becomes two identical cells") == [
        ("qa:term", "Mitosis", "One cell becomes two identical cells", True)
    ]


def test_a_multi_line_answer_can_be_a_list(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path,
        {"n.md": "# Cells\n\nWhich organelles make energy?\n?\n- mitochondria\n- chloroplasts\n\nOther text.\n"},
    )
    note = read_note(NoteFile(vault / "n.md", vault))
    found = [t for t in extract(note) if t.card is not None]
    assert [(t.card.front, t.card.back, t.line) for t in found if t.card] == [
        ("Which organelles make energy?", "- mitochondria\n- chloroplasts", 3)
    ]
    assert not [t for t in extract(note) if "mitochondria" in t.text and t.card is None]


# ---------------------------------------------------------------- clozes


def test_highlights_are_clozes_one_deletion_each() -> None:
    text = "The first female ==prime minister== of Australia was ==Julia Gillard=="
    assert cards(text) == [
        (
            "cloze:emphasis",
            "The first female {{c1::==prime minister==}} of Australia was {{c2::==Julia Gillard==}}",
            "",
            False,
        )
    ]


def test_anki_clozes_keep_their_numbers_and_hints() -> None:
    text = "{{c1::Canberra::city}} is the capital of {{c2::Australia}}, not {{c1::Sydney}}."
    assert cards(text) == [("cloze:explicit", text, "", False)]
    mixed = "{{c1::Canberra}} lies in the ==Australian Capital Territory==."
    assert cards(mixed)[0][1] == "{{c1::Canberra}} lies in the {{c2::==Australian Capital Territory==}}."


def test_marks_around_code_or_links_and_words_said_twice_are_still_clozes() -> None:
    assert cards("Print with ==`print()`== in Python.")[0][1] == "Print with {{c1::==`print()`==}} in Python."
    bold = Syntax(clozes=("highlight", "bold", "anki"))
    assert cards("Lima is the **[[capital|capital city]]** of Peru.", bold)[0][1] == (
        "Lima is the {{c1::**[[capital|capital city]]**}} of Peru."
    )
    assert cards("==RAM== is memory; RAM is fast.")[0][1] == "{{c1::==RAM==}} is memory; RAM is fast."


def test_a_deletion_holding_colons_or_braces_stays_whole() -> None:
    # Anki reads `::` in a deletion as the start of a hint: a word joiner keeps `std::vector` whole
    assert cards("The ==std::vector== grows as needed.")[0][1] == "The {{c1::==std:\u2060:vector==}} grows as needed."


def test_marks_inside_code_are_not_clozes_and_bold_is_not_one_by_default() -> None:
    assert cards("Compare with `a == b` here.") == []
    assert cards("This is **important** to know.") == []


def test_highlights_count_in_takeaways_and_in_notes_tagged_for_cards_only(tmp_path: Path) -> None:
    # the highlighted paragraphs of plain.md and in-code.md are not takeaways: their notes list theirs
    listed = "## Key takeaways\n\n- Heat flows from hot to cold bodies.\n\n"
    vault = write_notes(
        tmp_path,
        {
            "plain.md": f"{listed}# Gases\n\nTemperature is ==a measure of kinetic energy== of particles.\n",
            "tagged.md": "#flashcards/physics\n\nTemperature is ==a measure of kinetic energy== of particles.\n",
            "in-code.md": f"{listed}# Tags\n\nTag `#flashcards` marks decks.\n\n"
            "Temperature is ==a measure of kinetic energy==.\n",
            "listed.md": "Key takeaways:\n\n- Temperature is ==a measure of kinetic energy==.\n",
        },
    )

    def clozes(name: str) -> list[str]:
        note = read_note(NoteFile(vault / name, vault))
        return [t.card.front for t in extract(note) if t.card is not None and t.card.kind == "cloze"]

    assert clozes("plain.md") == [] and clozes("in-code.md") == []
    assert clozes("tagged.md") == ["Temperature is {{c1::==a measure of kinetic energy==}} of particles."]
    assert clozes("listed.md") == ["Temperature is {{c1::==a measure of kinetic energy==}}."]


# ---------------------------------------------------------------- custom separators


def test_custom_separators() -> None:
    arrows = Syntax(inline="→", inline_reversed="⇌", multiline="-?-", multiline_reversed="<->")
    assert cards("Capital of Peru → Lima", arrows) == [("qa:explicit", "Capital of Peru", "Lima", False)]
    assert cards("Lima ⇌ Capital of Peru", arrows) == [("qa:term", "Lima", "Capital of Peru", True)]
    assert cards("Front\n-?-\nBack", arrows) == [("qa:explicit", "Front", "Back", False)]
    assert cards("Capital of Peru :: Lima", arrows) == []  # the defaults no longer apply
    assert cards("Front\n?\nBack", arrows) == []


def test_the_separators_come_from_flashgen_yaml(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path,
        {
            "flashgen.yaml": "syntax:\n  inline: '::'\n  multiline: '→'\n  multiline_reversed: '⇌'\n",
            "n.md": "**Class 1**\n⇌\ndrive / drove / driven\n",
        },
    )
    options = load_options([vault])
    assert options.syntax == Syntax(multiline="→", multiline_reversed="⇌")
    note = read_note(NoteFile(vault / "n.md", vault))
    (found,) = extract(note, syntax=options.syntax)
    assert found.card == authored.AuthoredCard("basic", "qa:term", "**Class 1**", "drive / drove / driven", True)
    assert options.cache_key() != load_options([vault], syntax=Syntax()).cache_key()


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("syntax:\n  inline: ''\n", "separator 'inline' must not be empty"),
        ("syntax:\n  inline: '::'\n  inline_reversed: '::'\n", "'inline' and 'inline_reversed' are both '::'"),
        ("syntax:\n  multiline: '---'\n", "would be read as markdown structure"),
        ("syntax:\n  multiline: '- x'\n", "would be read as markdown structure"),
        ("syntax:\n  inline: 'to'\n", "must not contain letters or digits"),
        ("syntax:\n  inline: 3\n", "syntax option 'inline' must be a string, not int"),
        ("syntax:\n  clozes: [highlight, underline]\n", "unknown cloze mark(s) 'underline'"),
        ("syntax:\n  separator: '::'\n", "unknown syntax option 'separator'"),
        ("syntax: '::'\n", "option 'syntax' must be dict, not str"),
        ("syntax:\n  front_tag: 'card me'\n", "card tag 'card me' is not a tag"),
    ],
)
def test_bad_syntax_options_are_named(tmp_path: Path, yaml: str, message: str) -> None:
    (tmp_path / "flashgen.yaml").write_text(yaml, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_options([tmp_path])
    assert message in str(raised.value)
    assert "flashgen.yaml" in str(raised.value)


def test_every_problem_is_named_at_once(tmp_path: Path) -> None:
    (tmp_path / "flashgen.yaml").write_text("syntax:\n  inline: ''\n  multiline: '#'\n  clozes: [x]\n")
    with pytest.raises(ConfigError) as raised:
        load_options([tmp_path])
    text = str(raised.value)
    assert "'inline' must not be empty" in text and "'multiline'" in text and "'x'" in text


# ---------------------------------------------------------------- in Anki

NOTE = """\
---
title: Geography
---
#flashcards/geography

# Capitals

Capital of Peru::Lima
Capital of Chile :: Santiago <!--SR:!2024-01-01,3,250-->
Sucre ::: Constitutional capital of Bolivia ^bol123

What is 1 + 1? :: 2.
When was the web proposed? :: 1989. Tim Berners-Lee wrote the memo.

Which rivers meet at Manaus?
?
The Rio Negro
and the Solimões

The largest desert of Chile is the ==Atacama==, and its driest town is ==Arica==.

{{c1::Canberra::city}} is the capital of {{c2::Australia}}.

## Code

- How do you swap in Rust? :: With `std::mem::swap(&mut a, &mut b)`.
- A type signature in Haskell:

  ```haskell
  swap :: (a, b) -> (b, a)
  ```
"""


def test_the_syntax_reaches_anki_whole(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"geo.md": NOTE})
    report = run_build(vault)
    anki.import_package(report.package)
    qa = {n["Question"]: (n["Answer"], n["Reverse"]) for n in anki.notes('"note:flashgen Q/A"')}
    assert qa["Capital of Peru"] == ("Lima", "")
    assert qa["Capital of Chile"] == ("Santiago", "")
    assert qa["Sucre"] == ("Constitutional capital of Bolivia", "y")
    assert qa["What is 1 + 1?"] == ("2.", "")
    assert qa["When was the web proposed?"] == ("1989. Tim Berners-Lee wrote the memo.", "")
    rivers = next(a for q, (a, _) in qa.items() if "Which rivers meet at Manaus?" in q)
    assert "The Rio Negro" in rivers and "Solimões" in rivers and "?" not in rivers
    swap = next(a for q, (a, _) in qa.items() if "How do you swap in Rust?" in q)
    assert "<code>std::mem::swap(&amp;mut a, &amp;mut b)</code>" in swap
    # the code block is no card's front or back: nothing was torn at its `::`
    texts = [(re.sub(r"<[^>]+>", "", q).strip(), re.sub(r"<[^>]+>", "", a).strip()) for q, (a, _) in qa.items()]
    assert not any(q.endswith("swap") or a.startswith("(a, b)") for q, a in texts)
    clozes = [n["Text"] for n in anki.notes('"note:flashgen Cloze"')]
    assert any("{{c1::<mark>Atacama</mark>}}" in t and "{{c2::<mark>Arica</mark>}}" in t for t in clozes)
    assert any("{{c1::Canberra::city}}" in t and "{{c2::Australia}}" in t for t in clozes)
    every = " ".join(" ".join(n.fields[:3]) for n in anki.notes())
    assert "^bol123" not in every and "SR:" not in every and "#flashcards" not in every
    # each card the author wrote is that card alone: no generated card from the same lines
    sources = [n["Source"] for n in anki.notes()]
    for line in (8, 9, 10, 12, 13, 15, 20, 22, 26):
        assert sources.count(f"geo.md:{line}") == 1, line


# ---------------------------------------------------------------- flashcards-obsidian's #card


def test_a_heading_or_line_tagged_card_is_the_question_and_the_lines_below_the_answer() -> None:
    assert cards("The lines right under the heading.", heading="What is a heading card? #card") == [
        ("qa:explicit", "What is a heading card?", "The lines right under the heading.", False)
    ]
    assert cards("Asked both ways.", heading="Heading card #card-reverse") == [
        ("qa:term", "Heading card", "Asked both ways.", True)
    ]
    assert cards("Asked both ways.", heading="Heading card #card/reverse") == [
        ("qa:term", "Heading card", "Asked both ways.", True)
    ]
    assert cards("#card\nThe tag on its own line keeps the heading clean.", heading="A clean heading") == [
        ("qa:explicit", "A clean heading", "The tag on its own line keeps the heading clean.", False)
    ]
    assert cards("A line as the question #card #biology\nand its answer.") == [
        ("qa:explicit", "A line as the question", "and its answer.", False)
    ]


def test_card_tags_that_are_no_question() -> None:
    assert cards("A quote to see now and then #card-spaced") == []  # one-sided: nothing to ask
    assert cards("Write `#card` after a heading to make a card.\nLike this.") == []  # in code
    assert cards("Front #cards\nBack") == []  # another tag
    assert cards("Just text.", heading="A heading without the tag") == []


def test_heading_cards_in_a_note(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path,
        {"n.md": "# Biology\n\n## What do ribosomes make? #card\nProteins, from messenger RNA.\n\nOther text here.\n"},
    )
    note = read_note(NoteFile(vault / "n.md", vault))
    found = [t for t in extract(note) if t.card is not None]
    assert [(t.line, t.card.front, t.card.back) for t in found if t.card] == [
        (3, "What do ribosomes make?", "Proteins, from messenger RNA.")
    ]


def test_block_ids_are_in_no_takeaway(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path,
        {
            "n.md": "Key takeaways:\n\n- Spaced practice beats cramming for long-term recall. ^c0ffee\n"
            "- Sleep consolidates what was learned that day.\n  ^1607361487244\n"
        },
    )
    note = read_note(NoteFile(vault / "n.md", vault))
    assert [t.text for t in extract(note)] == [
        "Spaced practice beats cramming for long-term recall.",
        "Sleep consolidates what was learned that day.",
    ]


def test_the_readmes_syntax_example_is_valid(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(syntax:\n.*?)```", readme, flags=re.DOTALL)
    assert block is not None
    (tmp_path / "flashgen.yaml").write_text(block.group(1), encoding="utf-8")
    assert load_options([tmp_path]).syntax == authored.DEFAULT  # the example spells out the defaults


def test_bold_around_a_link_or_said_twice_is_still_the_generators_cloze(tmp_path: Path) -> None:
    """With bold left to the generator (the default), its cloze still takes the author's span."""
    from flashgen.cards import generate
    from flashgen.config import Options

    vault = write_notes(
        tmp_path,
        {
            # (claims long enough to carry their own setting: the checker drops a short one, bold or not)
            "n.md": "Key takeaways:\n\n- Lima is the **[[capital|capital city]]** of Peru and its largest city.\n"
            "- **RAM** is the fast working memory of a computer; RAM loses its data without power.\n"
        },
    )
    note = read_note(NoteFile(vault / "n.md", vault))
    made = generate(note, extract(note), Options()).cards
    deletions = {d for card in made if card.kind == "cloze" for d in card.deletions}
    assert {"capital city", "RAM"} <= deletions
