"""Takeaways: which list items of a note are takeaways, with their lines, sections and children.

The golden cases in tests/golden/takeaways/ are the spec: each `NAME.md` note sits next to a
`NAME.yaml` listing the takeaways expected from it. `FLASHGEN_UPDATE_GOLDEN=1 pytest
tests/test_takeaways.py` rewrites the .yaml files from the current output; review the diff by
hand before committing it.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashgen.notes import NoteFile, SourceNote, parse_note, read_note
from flashgen.takeaways import Takeaway, bullets, extract

from .conftest import assert_golden

GOLDEN = Path(__file__).resolve().parent / "golden" / "takeaways"
CASES = sorted(GOLDEN.glob("*.md"))


def _record(takeaway: Takeaway) -> dict[str, Any]:
    record: dict[str, Any] = {"text": takeaway.text, "line": takeaway.line, "section": takeaway.section}
    if takeaway.locator:
        record["locator"] = takeaway.locator
    if takeaway.children:
        record["children"] = [_record(c) for c in takeaway.children]
    return record


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    found = [_record(t) for t in extract(read_note(NoteFile(case, GOLDEN)))]
    assert_golden(found, case.with_suffix(".yaml"))


def test_every_golden_note_has_its_expectations() -> None:
    assert CASES, "no golden cases found"
    assert {c.stem for c in CASES} == {y.stem for y in GOLDEN.glob("*.yaml")}


# --- unit tests of details the golden cases do not show -----------------------------------------


def note(text: str, *, name: str = "note.md", line: int = 1) -> SourceNote:
    """A note whose body is `text` (dedented), starting on file line `line`."""
    body = "\n" * (line - 1) + textwrap.dedent(text).lstrip("\n")
    return parse_note(body, NoteFile(Path("/vault") / name, Path("/vault")))


def texts(takeaways: tuple[Takeaway, ...]) -> list[str]:
    return [t.text for t in takeaways]


def test_lines_are_file_lines_after_front_matter() -> None:
    found = extract(note("---\ntitle: t\n---\n\n\n- a\n- b\n"))
    assert [(t.text, t.line) for t in found] == [("a", 6), ("b", 7)]
    assert found[0].location == "note.md:6"


@pytest.mark.parametrize(
    "heading",
    ["Key takeaways", "Key Takeaways:", "Takeaways", "Lessons learned", "Lessons Learnt", "Summary", "TL;DR",
     "Highlights", "Conclusions", "Key insights", "Main ideas", "What I learned", "まとめ", "要点", "学び"],
)  # fmt: skip
def test_marker_headings(heading: str) -> None:
    found = extract(note(f"- context\n\n## {heading}\n\n- the takeaway\n"))
    assert texts(found) == ["the takeaway"]
    assert found[0].section == heading


@pytest.mark.parametrize(
    "heading",
    ["Reinforcement Learning", "Learning from mistakes", "Concluding remarks", "Observations", "Summarizing"],
)
def test_headings_that_are_not_markers(heading: str) -> None:
    assert texts(extract(note(f"- context\n\n## {heading}\n\n- item\n"))) == ["context", "item"]


@pytest.mark.parametrize(
    "lead_in",
    [
        "Key takeaways:",
        "Some context. Key takeaways from the talk:",
        "a couple of takeaways and things i found particularly interesting:",
        "**Takeaways**",
        "Summary",
        "_In summary_",
        "まとめ：",
        "Lessons learned:",
    ],
)
def test_lead_ins(lead_in: str) -> None:
    assert texts(extract(note(f"- context\n\n{lead_in}\n\n- the takeaway\n"))) == ["the takeaway"]


@pytest.mark.parametrize(
    "paragraph",
    [
        "The block structure can be summarized as:",
        "However, this conclusion is tentative and subject to several limitations:",
        "On a GPU performing deep learning, your time is split between three components:",
        "最初にzolaでできることの概要をまとめました。",
        "Here is a summary of the many things that the author discusses at length in the book",
    ],
)
def test_paragraphs_that_are_not_lead_ins(paragraph: str) -> None:
    assert texts(extract(note(f"- context\n\n{paragraph}\n\n- item\n"))) == ["context", "item"]


def test_a_marker_without_items_falls_back() -> None:
    assert texts(extract(note("## Summary\n\n-\n\n## Notes\n\n- kept\n"))) == ["kept"]


def test_link_only_lists_are_no_takeaways_even_when_marked() -> None:
    # A link alone makes no card whoever marked it; `check` says why (its knowledge lives on the
    # page it points to) instead of "made no card". A marked list with words around its links
    # stays (see the next test's "[a](...) by someone" under References for the other case).
    from flashgen.takeaways import explain

    links = note("## Key takeaways\n\n- [[spaced repetition]]\n- [Paper](https://x.example)\n")
    assert texts(extract(links)) == []
    assert "a list of links" in explain(links)
    worded = note("## Key takeaways\n\n- [[spaced repetition]] beats cramming for long-term recall\n")
    assert texts(extract(worded)) == ["[[spaced repetition]] beats cramming for long-term recall"]


def test_references_heading_inside_a_marker_scope() -> None:
    found = extract(
        note(
            """
            ## Key takeaways
            - kept
            ### References
            - [a](https://a.example) by someone
            ### More takeaways
            - kept too
            """
        )
    )
    assert texts(found) == ["kept", "kept too"]


def test_full_text_and_bullets_nest_children() -> None:
    [parent] = extract(note("- Three skills:\n  - writing\n  - talks\n    with a second line\n    - formal\n"))
    assert parent.full_text == "Three skills:\n\n- writing\n- talks\n  with a second line\n  \n  - formal"
    assert bullets(parent.children) == "- writing\n- talks\n  with a second line\n  \n  - formal"


def test_takeaway_equality_ignores_the_note() -> None:
    a = extract(note("- same\n", name="a.md"))
    b = extract(note("- same\n", name="b.md"))
    assert a == b and a[0].location != b[0].location


def test_crlf_and_front_matter_give_file_lines(tmp_path: Path) -> None:
    path = tmp_path / "win.md"
    path.write_bytes(b"\xef\xbb\xbf---\r\ntitle: w\r\n---\r\n\r\nKey takeaways:\r\n- one\r\n\r\n- two\n")
    found = extract(read_note(NoteFile(path, tmp_path)))
    assert [(t.text, t.line) for t in found] == [("one", 6), ("two", 8)]


def _depth(takeaway: Takeaway) -> int:
    return 1 + max((_depth(c) for c in takeaway.children), default=0)


def test_deep_nesting_is_kept() -> None:
    text = "".join("  " * i + f"- level {i}\n" for i in range(25))
    [top] = extract(note(text))
    assert _depth(top) == 25


def test_nesting_beyond_the_parser_limit_keeps_the_shallow_levels() -> None:
    text = "".join("  " * i + f"- level {i}\n" for i in range(200))
    [top] = extract(note(text))
    assert top.text == "level 0" and 20 < _depth(top) < 200


def test_long_notes_are_read_quickly() -> None:
    text = "## Key takeaways\n\n" + "".join(
        f"- item {i} with `code`, $x_{i}$ and a [[link {i}]]\n" for i in range(3000)
    )
    assert len(extract(note(text))) == 3000


# --- properties ---------------------------------------------------------------------------------

_TOKENS = [*"-*+1.) #>`~$=[]():!_\t\n\r ab", "Key takeaways", "<!-- x -->", "{{< y >}}", "[[link]]", "    "]
_MARKDOWNISH = st.lists(st.sampled_from(_TOKENS), max_size=80).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=_MARKDOWNISH, offset=st.integers(min_value=1, max_value=5))
def test_any_text_gives_takeaways_on_real_lines(body: str, offset: int) -> None:
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    source = SourceNote(NoteFile(Path("/vault/n.md"), Path("/vault")), "t", text, offset)
    lines = source.body.split("\n")
    for takeaway in _walk(extract(source)):
        assert source.body_line <= takeaway.line < source.body_line + len(lines)
        assert takeaway.text.strip()


def _walk(takeaways: tuple[Takeaway, ...]) -> list[Takeaway]:
    return [t for top in takeaways for t in (top, *_walk(top.children))]


# --- issue 16: takeaways in any shape, what is not knowledge, locators, text as the author sees it ---


def test_sentences_keep_names_abbreviations_and_decimals_whole() -> None:
    from flashgen.language import sentences

    assert sentences("John C. Maxwell wrote it. Use tools, e.g. a hammer. It is 3.5 m tall! Is it? Yes.") == [
        "John C. Maxwell wrote it.",
        "Use tools, e.g. a hammer.",
        "It is 3.5 m tall!",
        "Is it?",
        "Yes.",
    ]
    assert sentences("**Bold point.** Then another one.") == ["**Bold point.**", "Then another one."]
    assert sentences("これは文です。彼は「はい。」と言った。") == ["これは文です。", "彼は「はい。」と言った。"]
    assert sentences("圆周率约为3.14。它是无理数！") == ["圆周率约为3.14。", "它是无理数！"]


def test_segments_never_cut_a_word() -> None:
    from flashgen.language import language_of, segments, word_boundaries

    assert language_of("机器学习") == "zh" and language_of("所有権は難しい") == "ja" and language_of("plain") == "en"
    chinese = "机器学习是人工智能的一个分支"
    assert "人工智能" in segments(chinese)
    assert "".join(segments(chinese)) == chinese
    cuts = word_boundaries(chinese)
    assert chinese.index("人工智能") in cuts and chinese.index("工智能") not in cuts  # never 人|工智能
    japanese = "Rustの所有権は難しいが、GPT-4で学ぶ。"
    assert "".join(segments(japanese)) == japanese
    assert "所有権は" in segments(japanese) and "GPT-4" in segments(japanese)
    assert japanese.index("権") not in word_boundaries(japanese)  # never 所有|権


@pytest.mark.parametrize(
    ("item", "text", "locator"),
    [
        ("pg 19: Habits compound.", "Habits compound.", "p. 19"),
        ("p. 19 - Habits compound.", "Habits compound.", "p. 19"),
        ("(p. 19) Habits compound.", "Habits compound.", "p. 19"),
        ("Habits compound (p. 19).", "Habits compound.", "p. 19"),
        ("Habits compound - pp. 19-21", "Habits compound", "pp. 19–21"),
        ("loc 1234: Habits compound.", "Habits compound.", "loc. 1234"),
        ("Location 1234 - Habits compound.", "Habits compound.", "loc. 1234"),
        ("[12:34] Habits compound.", "Habits compound.", "12:34"),
        ("1:02:03 - Habits compound.", "Habits compound.", "1:02:03"),
        ("Page 2 of the report says habits compound.", "Page 2 of the report says habits compound.", ""),
        ("1:1 mappings are bijections.", "1:1 mappings are bijections.", ""),
    ],
)
def test_page_and_place_prefixes_are_locators(item: str, text: str, locator: str) -> None:
    [found] = extract(note(f"## Key takeaways\n\n- {item}\n"))
    assert (found.text, found.locator) == (text, locator)


def test_the_locator_is_on_the_back_never_asked(anki: Any, run_build: Any, tmp_path: Path) -> None:
    from .conftest import write_notes

    vault = write_notes(
        tmp_path / "book",
        {
            "habits.md": "## Key takeaways\n\n"
            "- pg 19: Small habits **compound** over the years like interest on savings.\n"
        },
    )
    report = run_build(vault)
    anki.import_package(report.package)
    found = anki.notes()
    assert found
    for card in found:  # a cloze and a question: neither asks for the page, both show it
        fields = dict(card.items())
        asked = fields.get("Text") or fields.get("Question", "")
        assert "19" not in asked and "pg" not in asked
        assert "p. 19" in fields["Extra"]


def test_marker_words_in_a_link_target_are_not_markers() -> None:
    found = extract(note("- context\n\n## [Reading](https://example.com/key-takeaways)\n\n- an item\n"))
    assert texts(found) == ["context", "an item"]  # both lists: no marker heading narrowed them
    marked = extract(note("- context\n\n## [Key takeaways](https://example.com/notes)\n\n- an item\n"))
    assert texts(marked) == ["an item"]


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("# Title\n\n## To write\n", "is empty"),
        ("- [Paper](https://a.example)\n- [Code](https://b.example)\n", "a list of links"),
        (
            "- [[alpha]] - the first letter of the Greek alphabet\n- [[beta]] - the second letter\n",
            "an index of other notes",
        ),
        ("- TBD\n- TODO\n", "a to-do or placeholder list"),
        ("- Author: James Clear\n- Pages: 320\n- Publisher: Avery\n", "a list of metadata"),
        ("## References\n\n- Smith, 2019. A paper.\n", "under 'References'"),
        ("Short.\n", "no takeaways found: looked for"),
    ],
)
def test_a_note_without_takeaways_says_why(body: str, reason: str) -> None:
    from flashgen.takeaways import explain

    assert extract(note(body)) == ()
    assert reason in explain(note(body))


def test_a_note_with_takeaways_has_no_reason() -> None:
    from flashgen.takeaways import explain

    assert explain(note("- A takeaway.\n")) == ""


def test_emoji_shortcodes_are_emoji_and_markers_are_gone() -> None:
    found = extract(note("## Key takeaways\n\n- :bulb: An idea :unknown_code_here: <!--more--> here.\n"))
    assert texts(found) == ["💡 An idea here."]


def test_no_silent_notes_in_build_check_and_verbose(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from flashgen.cli import main

    from .conftest import write_notes

    vault = write_notes(
        tmp_path / "vault",
        {
            "a.md": "- Alpha is the **first** letter of the Greek alphabet.\n",
            "draft.md": "# Draft\n",
            "links.md": "- [Paper](https://a.example)\n- [Code](https://b.example)\n",
        },
    )
    out = str(tmp_path / "out")
    runner = CliRunner()
    built = runner.invoke(main, ["build", str(vault), "-o", out])
    assert built.exit_code == 0, built.output
    assert "2 notes made no card: see flashgen check" in built.stdout
    checked = runner.invoke(main, ["check", str(vault)])
    assert "draft.md: made no card: is empty (a draft or a title only)" in checked.stdout
    assert (
        "links.md: made no card: holds no knowledge flashgen can ask about: a list of links (line 1)" in checked.stdout
    )
    # an incremental build (one note changed) and an up-to-date one still count and name them
    (vault / "a.md").write_text("- Beta is the **second** letter of the Greek alphabet.\n")
    verbose = runner.invoke(main, ["build", str(vault), "-o", out, "-v"])
    assert "draft.md: made no card: is empty" in verbose.stdout
    assert "2 notes made no card" in verbose.stdout
    again = runner.invoke(main, ["build", str(vault), "-o", out])
    assert "2 notes made no card: see flashgen check" in again.stdout


@pytest.mark.parametrize(
    "body",
    [
        "> The payoff matrix of the game is this one\n> $$\n> \\begin{array}{cc}\n> (1,1) & (0,3) \\\\\n"
        "> \\end{array}\n> $$\n",
        "People doubt the leaderboard. [This thread](https://example.com/a-long-address\n) caught my attention.\n",
    ],
)
def test_wrapped_lines_and_formulas_are_not_points(body: str) -> None:
    found = extract(note(body))
    assert found
    assert not any(t.text.startswith((")", "\\", "$")) for t in found), texts(found)


def test_check_names_the_authors_points_not_every_paragraph_read_in_case(tmp_path: Path) -> None:
    # A Japanese note's section paragraphs are read in case they hold a definition or a cause; the
    # ones that make no card are not the author's takeaways, and listing each (about 2,300 lines
    # on a real blog) would bury the advice that matters.
    from click.testing import CliRunner

    from flashgen.cli import main

    from .conftest import write_notes

    note = (
        "---\ntitle: 読書メモ\n---\n"
        "## まとめ\n\n"
        "- 今日も良い一日でした\n\n"
        "## 第1章 テスト\n\n"
        "この章では多くのことが紹介されていて、とても長い段落が続いていくのでその内容を読み進めていきます。\n\n"
        "凝集性とは要素同士の機能的な関連度のことである。\n"
    )
    vault = write_notes(tmp_path / "vault", {"a.md": note})
    runner = CliRunner()
    checked = runner.invoke(main, ["check", str(vault)])
    assert checked.exit_code == 0, checked.output
    paragraph_line = note.splitlines().index(next(x for x in note.splitlines() if x.startswith("この章"))) + 1
    assert "a.md:6: makes no card" in checked.stdout  # the author's point is named
    assert f"a.md:{paragraph_line}:" not in checked.stdout


def test_a_list_of_links_is_no_takeaway_even_under_a_marker_heading() -> None:
    # A book's title heading that says "Lessons" reads as a marker heading; the chapter index
    # under it is still only links, and its knowledge lives on the pages it points to.
    book = note(
        "# Software Engineering: Lessons Learned from Programming Over Time\n\n"
        "## Chapters\n\n"
        "* [Chapter 1 What is Software Engineering](01_What_is.md)\n"
        "* [Chapter 2 How to Work Well on Teams](02_Teams.md)\n"
        "* [Chapter 3 Knowledge Sharing](03_Sharing.md)\n"
    )
    assert [t.text for t in extract(book)] == []
    from flashgen.takeaways import explain

    assert "a list of links (line 5)" in explain(book)
