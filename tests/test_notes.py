"""Notes: front matter, titles, decoding and discovery, tested on text in, records out."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashgen.errors import SourceError
from flashgen.notes import NoteFile, SourceNote, decode, discover, parse_note, read_note


def parse(text: str, name: str = "note.md") -> SourceNote:
    """Parse dedented text as if it were the file `name`."""
    path = Path("/notes") / name
    return parse_note(textwrap.dedent(text).lstrip("\n"), NoteFile(path, Path("/notes")))


def error(text: str, name: str = "note.md") -> SourceError:
    with pytest.raises(SourceError) as caught:
        parse(text, name)
    return caught.value


# --- front matter -------------------------------------------------------------------------------


def test_yaml_front_matter_fields() -> None:
    note = parse(
        """
        ---
        layout: post
        title: "Andrej Karpathy: Tesla AI | Lex Fridman"
        categories: [Deep Learning, Data Science]
        tags: [ai, podcasts]
        year: 2022
        type: podcast
        author: Lex Fridman
        exturl: https://www.youtube.com/watch?v=cdiD-9MMpb0
        id: karpathy-lex
        ---
        Key takeaways:
        - one
        """
    )
    assert note.title == "Andrej Karpathy: Tesla AI | Lex Fridman"
    assert note.categories == ("Deep Learning", "Data Science")
    assert note.tags == ("ai", "podcasts")
    assert (note.year, note.kind, note.author) == ("2022", "podcast", "Lex Fridman")
    assert note.url == "https://www.youtube.com/watch?v=cdiD-9MMpb0"
    assert note.note_id == "karpathy-lex"
    assert note.body == "Key takeaways:\n- one\n"
    assert note.body_line == 12
    assert note.rel == "note.md"


def test_toml_front_matter_with_zola_taxonomies() -> None:
    note = parse(
        """
        +++
        title = "📗 ハロー\\"Hello, World\\" OSと標準ライブラリ"
        slug = "helloworld-book"
        date = "2023-05-06"
        draft = false
        [taxonomies]
        tags = ["book", "os"]
        categories = ["reading"]
        [extra]
        image = "images/emoji/green_book.png"
        +++

        ## まとめ
        """
    )
    assert note.title == '📗 ハロー"Hello, World" OSと標準ライブラリ'
    assert note.tags == ("book", "os")
    assert note.categories == ("reading",)
    assert note.year == "2023"
    assert note.body == "## まとめ\n"  # blank lines after the fence are not part of the body
    assert note.body_line == 13


def test_toml_dates_and_top_level_tags() -> None:
    note = parse(
        """
        +++
        title = "T"
        date = 2021-03-04
        tags = ["a"]
        [taxonomies]
        tags = ["b", "a"]
        +++
        """
    )
    assert note.year == "2021"
    assert note.tags == ("a", "b")


def test_no_front_matter() -> None:
    note = parse("Just a line.\n\n- a takeaway\n")
    assert note.body == "Just a line.\n\n- a takeaway\n"
    assert note.body_line == 1
    assert (note.categories, note.tags, note.author, note.year, note.kind, note.url) == ((), (), "", "", "", "")


def test_a_leading_horizontal_rule_without_closing_fence_is_unclosed_front_matter() -> None:
    problem = error("---\n\nSome text.\n")
    assert problem.line == 1
    assert "never closed" in problem.problem.message


@pytest.mark.parametrize(
    ("front", "categories"),
    [
        ("categories: [Deep Learning, NLP]", ("Deep Learning", "NLP")),
        ("categories:\n  - a\n  - b", ("a", "b")),
        ("categories: books reading", ("books", "reading")),  # Jekyll: space-separated
        ("categories: books, reading", ("books", "reading")),
        ("category: Books", ("Books",)),
        ("categories: [a, b]\ncategory: a", ("a", "b")),
        ("categories: [' a ', '', null, 7]", ("a", "7")),
        ("categories: x/y", ("x/y",)),
        ("categories:", ()),
        ("categories: []", ()),
        ("categories: ''", ()),
        ("categories: null", ()),
    ],
)
def test_categories(front: str, categories: tuple[str, ...]) -> None:
    assert parse(f"---\n{front}\n---\n").categories == categories


@pytest.mark.parametrize(
    ("front", "tags"),
    [
        ("tags: [a, b]", ("a", "b")),
        ("tags: a b", ("a", "b")),
        (
            'tags:\n  - math/LinearAlgebra\n  - "#memory/spaced_repetition"',
            ("math/LinearAlgebra", "#memory/spaced_repetition"),
        ),
        ("tags: ['2017', AI, Multi Modal, 'ICCV 2015']", ("2017", "AI", "Multi Modal", "ICCV 2015")),
        ("tags: [2017, a, a]", ("2017", "a")),
        ("tags:", ()),
    ],
)
def test_tags(front: str, tags: tuple[str, ...]) -> None:
    # A leading `#` (Obsidian) is kept here; the card stage decides what a tag looks like in Anki.
    assert parse(f"---\n{front}\n---\n").tags == tags


def test_empty_and_null_values_are_defaults() -> None:
    note = parse(
        """
        ---
        title:
        author: ""
        year: null
        type:
        tags: []
        excerpt:
        comments: True
        ---
        # From the heading
        """
    )
    assert note.title == "From the heading"
    assert (note.author, note.year, note.kind, note.tags) == ("", "", "", ())


def test_empty_front_matter() -> None:
    note = parse("---\n---\nbody\n", name="2020-01-01-empty.md")
    assert note.title == "empty"
    assert (note.body, note.body_line) == ("body\n", 3)


def test_numbers_and_dates_become_text() -> None:
    note = parse(
        """
        ---
        title: 1984
        year: 2020
        id: 42
        author: [Ada Lovelace, Charles Babbage]
        ---
        """
    )
    assert (note.title, note.year, note.note_id) == ("1984", "2020", "42")
    assert note.author == "Ada Lovelace, Charles Babbage"
    assert parse("---\ntitle: 2020-01-02\n---\n").title == "2020-01-02"
    assert parse("---\ntitle: 3.5\n---\n").title == "3.5"


@pytest.mark.parametrize(
    ("front", "year"),
    [
        ("date: 2019-08-01", "2019"),
        ('date: "2019-08-01"', "2019"),
        ("date: 2019-08-01T10:00:00Z", "2019"),
        ("date: sometime", ""),
        ("year: 1986\ndate: 2023-03-14", "1986"),
    ],
)
def test_year_from_date(front: str, year: str) -> None:
    assert parse(f"---\n{front}\n---\n").year == year


def test_url_comes_from_exturl_link_or_source() -> None:
    assert parse("---\nlink: https://a.example\nsource: https://b.example\n---\n").url == "https://a.example"
    assert parse("---\nsource: https://b.example\n---\n").url == "https://b.example"


def test_quirky_yaml_that_is_valid() -> None:
    # A double-quoted title wrapped onto a second line (leonericsson), a doubled '' escape
    # (mtlynch), a comment inside a block list, a blank line before the closing fence.
    note = parse(
        """
        ---
        title: "XLNet: Generalized Autoregressive Pretraining for Language
          Understanding"
        author: 'Charles Marohn''s talk'
        aliases:
          # an old address
          - /old/
        categories:

        ---
        - item
        """
    )
    assert note.title == "XLNet: Generalized Autoregressive Pretraining for Language Understanding"
    assert note.author == "Charles Marohn's talk"
    assert note.categories == ()
    assert note.body_line == 11


# --- titles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "title"),
    [
        ("# The Title\n\n## Not this\n", "The Title"),
        ("Intro\n\n## Section\n\n# Late title #\n", "Late title"),
        ("# Learn C#\n", "Learn C#"),
        ("  # Indented a little\n", "Indented a little"),
        ("Setext Title\n===\n\nbody\n", "Setext Title"),
        ("```md\n# in a fence\n```\n\n# Real\n", "Real"),
        ("~~~~\n# in a tilde fence\n```\n# still fenced\n~~~~\n# After\n", "After"),
        ("#tag is not a heading\n\n# Heading\n", "Heading"),
        ("    # indented code\n\n# Heading\n", "Heading"),
        ("## Only level two\n", None),
    ],
)
def test_title_from_first_level_one_heading(body: str, title: str | None) -> None:
    assert parse(body, name="file-name.md").title == (title or "file name")


def test_front_matter_title_wins_over_heading() -> None:
    assert parse("---\ntitle: From front matter\n---\n# From heading\n").title == "From front matter"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("2022-11-20-andrej.md", "andrej"),
        ("2025-01-2-mla.md", "mla"),
        ("my_note-name.md", "my note name"),
        ("again/index.md", "again"),
        ("book-reports/the-mom-test/index.md", "the mom test"),
        ("section/_index.md", "section"),
        ("README.md", "notes"),  # a folder's README names the folder
        ("2019-03-16-To Tune or Not to Tune? Adapting.md", "To Tune or Not to Tune? Adapting"),
    ],
)
def test_title_from_file_name(name: str, title: str) -> None:
    assert parse("- a takeaway\n", name=name).title == title


def test_title_whitespace_is_collapsed() -> None:
    assert parse('+++\ntitle = "🛩  RustConf 2019"\n+++\n').title == "🛩 RustConf 2019"


# --- errors -------------------------------------------------------------------------------------


def test_unclosed_quote_points_at_its_line() -> None:
    problem = error(
        """
        ---
        title: ok
        author: "unterminated
        categories: [a, b]
        ---
        - lost
        """
    )
    assert problem.line == 3
    assert "YAML" in problem.problem.message and "quoted scalar" in problem.problem.message
    assert problem.path == Path("/notes/note.md")


@pytest.mark.parametrize("after", ["", "author: x\n"])
def test_unclosed_bracket_points_at_its_line(after: str) -> None:
    problem = error(f"---\ntitle: ok\ncategories: [a, b\n{after}---\n")
    assert problem.line == 3
    assert "flow sequence" in problem.problem.message


@pytest.mark.parametrize(
    ("front", "line", "words"),
    [
        ("title: x\n\ttags: a", 3, "'\\t'"),
        ("title: x\n  bad: indent", 3, "mapping values"),
        ("title: x\ndate: 2023-02-30", 3, "2023-02-30"),  # PyYAML raises a bare ValueError here
        ("title: x\nyear: !!int abc", 3, "abc"),
        ("title: x\nyear: !!int", 3, "invalid value"),  # PyYAML raises an IndexError here
        ("title: x\nauthor: a\x07b", 3, "#x0007"),
        ("title: x\nrun: !!python/name:os.system", 3, "constructor"),
    ],
)
def test_invalid_yaml_names_the_line(front: str, line: int, words: str) -> None:
    problem = error(f"---\n{front}\n---\n")
    assert problem.line == line
    assert problem.problem.message.startswith("invalid YAML front matter")
    assert words in problem.problem.message


@pytest.mark.parametrize(
    ("front", "line"),
    [
        ('title = "x"\nauthor = y', 3),
        ('title = "x"\n[taxonomies]\ntags = "a"\n[taxonomies.tags]', 5),
        ('title = "x"\ntags = [', 3),  # reported "at end of document"
    ],
)
def test_invalid_toml_names_the_line(front: str, line: int) -> None:
    problem = error(f"+++\n{front}\n+++\n")
    assert problem.line == line
    assert problem.problem.message.startswith("invalid TOML front matter")
    assert "at line" not in problem.problem.message and "end of document" not in problem.problem.message


@pytest.mark.parametrize(
    ("front", "kind", "line"),
    [("- a\n- b", "list", 2), ("just text", "string", 2), ("\n\n42", "number", 4)],
)
def test_front_matter_must_be_a_mapping(front: str, kind: str, line: int) -> None:
    problem = error(f"---\n{front}\n---\n")
    assert problem.line == line
    assert problem.problem.message == f"front matter must be a mapping of keys to values, not a {kind}"


def test_a_field_flashgen_cannot_use_is_a_warning_naming_its_line_and_the_note_builds() -> None:
    note = parse("---\ntitle: x\ncategories:\n  science: [physics]\ntags: [a]\n---\n- A takeaway.\n")
    [problem] = note.problems
    assert problem.line == 3 and problem.path.name == "note.md"
    assert "'categories'" in problem.message and "mapping" in problem.message and "left out" in problem.message
    assert (note.title, note.categories, note.tags, note.body) == ("x", (), ("a",), "- A takeaway.\n")

    [problem] = parse('+++\ntitle = "x"\n\n[taxonomies]\ntags = {a = 1}\n+++\n').problems
    assert problem.line == 5
    assert "'taxonomies.tags'" in problem.message

    note = parse("---\ntitle: [a, {b: c}]\n---\n# Heading title\n")
    [problem] = note.problems
    assert problem.line == 2 and "'title'" in problem.message
    assert note.title == "Heading title"


def test_a_warning_about_a_field_is_printed_and_the_note_makes_cards(tmp_path: Path) -> None:
    from flashgen.config import Options
    from flashgen.harvest import harvest

    (tmp_path / "n.md").write_text("---\ncategories:\n  a: b\n---\n- Alpha is the **first** letter.\n")
    crop = harvest(Options(paths=(tmp_path,)))
    assert crop.cards and not crop.failures
    assert [(w.line, "'categories'" in w.message) for w in crop.warnings] == [(2, True)]


@pytest.mark.parametrize(
    ("text", "tags"),
    [
        ("---\ntags: [a, b]\n---\n", ("a", "b")),  # Jekyll, Hugo, Obsidian
        ("---\ntags: a b\n---\n", ("a", "b")),  # Jekyll's space-separated string
        ("---\ntag: a\n---\n", ("a",)),  # Obsidian also reads `tag`
        ("---\ntopics: [rust, wasm]\ntype: tech\n---\n", ("rust", "wasm")),  # Zenn
        ("---\nseries: [Rust book]\n---\n", ("Rust book",)),  # Hugo series
        ('+++\ntitle = "t"\n[taxonomies]\ntags = ["x"]\nseries = ["s"]\n+++\n', ("x", "s")),  # Zola, TOML
        ("Text with #idea and #area/ml, not `#code`, [x](#anchor) or <p style='color: #CCC'>.\n", ("idea", "area/ml")),
        ("Tags: [[Machine learning]], [[Stats|statistics]]\n\n# Title\n", ("Machine learning", "Stats")),
        ("**Tags**: ml, stats\n", ("ml", "stats")),
        ("```\n#include <stdio.h>\n```\nIssue #12 and C# and x#y.\n", ()),
    ],
)
def test_every_tag_convention(text: str, tags: tuple[str, ...]) -> None:
    assert parse(text).tags == tags


@pytest.mark.parametrize("fence", ["---", "+++"])
def test_unclosed_front_matter(fence: str) -> None:
    problem = error(f"{fence}\ntitle: x\n\n- a takeaway\n")
    assert problem.line == 1
    assert f"opened with '{fence}' is never closed" in problem.problem.message


# --- decoding -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "line", "byte"),
    [
        (b"\xff- first line\n", 1, "0xff"),
        (b"ok\nok\ncaf\xe9 cr\xe8me\n", 3, "0xe9"),
        (b"\xef\xbb\xbfok\nok\ncaf\xe9\n", 3, "0xe9"),  # after a byte-order mark
        (b"ok\r\nok\r\ncaf\xe9\r\n", 3, "0xe9"),
        (b"ok\rok\rcaf\xe9\r", 3, "0xe9"),  # classic Mac line endings
        (b"ok\r\nok\ncaf\xe9", 3, "0xe9"),
    ],
)
def test_invalid_utf8_names_the_line_and_byte(data: bytes, line: int, byte: str) -> None:
    with pytest.raises(SourceError) as caught:
        decode(data, Path("latin1.md"))
    assert caught.value.line == line
    assert f"is not valid UTF-8 (byte {byte})" in caught.value.problem.message


def test_bom_and_line_endings_are_normal_input() -> None:
    text = decode(b"\xef\xbb\xbf---\r\ntitle: Windows\r\n---\r\n- a\r\n- b\n- c\r- d", Path("x.md"))
    assert text == "---\ntitle: Windows\n---\n- a\n- b\n- c\n- d"
    note = parse_note(text, NoteFile(Path("x.md"), Path(".")))
    assert (note.title, note.body_line) == ("Windows", 4)
    assert note.body.split("\n")[0] == "- a"


def test_non_ascii_text_and_odd_spaces_survive() -> None:
    text = decode("---\ntitle: Poincaré\u00a0embeddings\n---\n- 全角\u3000スペース\u200b\n".encode(), Path("x.md"))
    note = parse_note(text, NoteFile(Path("x.md"), Path(".")))
    assert note.title == "Poincaré embeddings"
    assert note.body == "- 全角\u3000スペース\u200b\n"


# --- body line ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body", "line"),
    [
        ("---\ntitle: x\n---\nfirst\n", "first\n", 4),
        ("---\ntitle: x\n---\n\n\nfirst\n", "first\n", 6),
        ("---\ntitle: x\n---   \nfirst\n", "first\n", 4),
        ("---\n\ntitle: x\n\n---\nfirst", "first", 6),
        ("---\ntitle: x\n---\n---\n\nAfter a rule\n", "---\n\nAfter a rule\n", 4),
        ("+++\ntitle = 'x'\n+++\nfirst\n", "first\n", 4),
        ("---\ntitle: x\n---", "", 4),
        ("no front matter\n", "no front matter\n", 1),
    ],
)
def test_body_line_is_the_file_line_of_the_body_start(text: str, body: str, line: int) -> None:
    note = parse_note(text, NoteFile(Path("x.md"), Path(".")))
    assert (note.body, note.body_line) == (body, line)
    if body.strip():
        # the first line of the body with text is where the file says it is
        offset = next(i for i, b in enumerate(body.split("\n")) if b.strip())
        assert text.split("\n")[line - 1 + offset] == body.split("\n")[offset]


# --- reading and discovering files --------------------------------------------------------------


def test_read_note_reports_missing_files_and_folders(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no such file"):
        read_note(NoteFile(tmp_path / "gone.md", tmp_path))
    with pytest.raises(SourceError, match="is a folder"):
        read_note(NoteFile(tmp_path, tmp_path))


def test_read_note_decodes_and_parses(tmp_path: Path) -> None:
    (tmp_path / "2023-01-01-crlf.md").write_bytes(b"\xef\xbb\xbf# Title\r\n\r\n- a\r\n")
    note = read_note(NoteFile(tmp_path / "2023-01-01-crlf.md", tmp_path))
    assert (note.title, note.body, note.rel) == ("Title", "# Title\n\n- a\n", "2023-01-01-crlf.md")


def _tree(root: Path, names: list[str]) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("- x\n", encoding="utf-8")


def test_discover_walks_folders_for_markdown_only(tmp_path: Path) -> None:
    notes = tmp_path / "notes"
    _tree(
        notes,
        [
            "b.md",
            "a.markdown",
            "C.MD",
            "sub/deeper/d.md",
            "sub/e.txt",
            "sub/notes.md.bak",
            ".hidden.md",
            ".obsidian/workspace.md",
            ".git/x.md",
            ".trash/old.md",
            "node_modules/pkg/readme.md",
            "decks/out.md",
            "with space/f g.md",
        ],
    )
    found = discover([notes], exclude=[notes / "decks"])
    assert [f.rel for f in found] == ["C.MD", "a.markdown", "b.md", "sub/deeper/d.md", "with space/f g.md"]
    assert all(f.root == notes for f in found)


def test_discover_takes_a_file_given_directly_whatever_its_suffix(tmp_path: Path) -> None:
    _tree(tmp_path, ["folder/a.md", "notes.txt", "b.md"])
    found = discover([tmp_path / "notes.txt", tmp_path / "folder", tmp_path / "b.md", tmp_path / "missing.md"])
    assert sorted(f.path.name for f in found) == ["a.md", "b.md", "missing.md", "notes.txt"]
    given = next(f for f in found if f.path.name == "notes.txt")
    assert given.root == tmp_path and given.rel == "notes.txt"


def test_discover_lists_each_file_once(tmp_path: Path) -> None:
    _tree(tmp_path, ["n/a.md", "n/sub/b.md"])
    found = discover([tmp_path / "n", tmp_path / "n" / "sub", tmp_path / "n" / "a.md"])
    assert sorted(f.path.name for f in found) == ["a.md", "b.md"]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symbolic links here")
def test_discover_survives_a_symlink_loop(tmp_path: Path) -> None:
    _tree(tmp_path, ["n/a.md", "n/sub/b.md"])
    try:
        (tmp_path / "n" / "sub" / "loop").symlink_to(tmp_path / "n", target_is_directory=True)
        (tmp_path / "n" / "alias.md").symlink_to(tmp_path / "n" / "a.md")
    except OSError:
        pytest.skip("cannot create symbolic links")
    found = discover([tmp_path / "n"])
    assert [f.rel for f in found] == ["a.md", "sub/b.md"]  # the link to a.md is the same note


def test_discover_is_sorted_by_relative_path(tmp_path: Path) -> None:
    _tree(tmp_path, ["z.md", "a/z.md", "a/b.md", "m.md"])
    assert [f.rel for f in discover([tmp_path])] == ["a/b.md", "a/z.md", "m.md", "z.md"]


# --- properties ---------------------------------------------------------------------------------

_FRONT_TOKENS = [*"-+:=[]{}\"'#!&*|>?,@`% \t\nabc123", "title", "tags", "categories", "\x07", "2023-02-30", "!!int "]
_FRONT = st.lists(st.sampled_from(_FRONT_TOKENS), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(fence=st.sampled_from(["---", "+++"]), front=_FRONT, body=st.text(max_size=20))
def test_any_front_matter_is_a_note_or_a_source_error(fence: str, front: str, body: str) -> None:
    text = f"{fence}\n{front}\n{fence}\n{body}"
    try:
        note = parse_note(text, NoteFile(Path("x.md"), Path(".")))
    except SourceError as exc:
        assert 1 <= exc.line <= text.count("\n") + 1
    else:
        assert isinstance(note.title, str) and all(isinstance(t, str) for t in note.tags + note.categories)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=40))
def test_any_bytes_decode_or_fail_with_a_line(data: bytes) -> None:
    try:
        text = decode(data, Path("x.md"))
    except SourceError as exc:
        assert 1 <= exc.line <= len(data) + 1
    else:
        assert "\r" not in text


def test_tags_from_the_folder_path_when_asked(anki: Any, run_build: Any, tmp_path: Path) -> None:
    vault = tmp_path / "vault"
    (vault / "books" / "psychology").mkdir(parents=True)
    (vault / "books" / "psychology" / "habits.md").write_text("---\ntopics: [habits]\n---\n- Habits **compound**.\n")
    report = run_build(vault, folder_tags=True)
    anki.import_package(report.package)
    assert anki.notes()
    for note in anki.notes():
        assert {"habits", "books::psychology"} <= set(note.tags)
