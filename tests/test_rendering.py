"""Issue 4: markdown, math, code and images rendered right; nothing executable reaches Anki."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flashgen import language, render

from .conftest import EXAMPLES, Anki, Builder, write_notes

# A 1x1 PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f80f0000010101005a4d6e1c0000000049454e44ae426082"
)


def _all_fields(anki: Anki) -> str:
    return "\n".join("\x1f".join(n.fields) for n in anki.notes())


def test_math_reaches_mathjax_untouched(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "vault",
        {
            "math.md": r"""
                Key takeaways:
                - The **loss** is $L = \sum_i y_i * \log p_i$ where $p_i$ is a *probability*.
                - Attention **divides** by $$\sqrt{d_k}$$ inside the softmax.
                - Written the **LaTeX** way: \(a_1 * b_1\) and \[E = mc^2\].
                - A **display** equation:

                  $$
                  \frac{a}{b} = c_{ij}
                  $$
                """
        },
    )
    anki.import_package(run_build(vault).package)
    fields = _all_fields(anki)
    assert r"\(L = \sum_i y_i * \log p_i\)" in fields  # underscores and asterisks survive
    assert r"\(p_i\)" in fields and "<em>probability</em>" in fields
    assert r"\(\sqrt{d_k}\)" in fields  # $$ inside a sentence is inline math
    assert r"\(a_1 * b_1\)" in fields and r"\[E = mc^2\]" in fields
    assert r"\[\frac{a}{b} = c_{ij}\]" in fields
    assert "$" not in fields


def test_code_blocks_are_highlighted_and_preserved(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "vault",
        {
            "code.md": """
                Key takeaways:
                - Use `Vec<T>` when the **size** is unknown; compare with a < b.
                - What does `Vec<T>` hold? :: a growable list of `T`
                - A **list comprehension** filters in one line:

                  ```python
                  evens = [x for x in range(10) if x % 2 == 0]  # <b>not bold</b>
                  ```
                - A block without a language is shown as **plain** text:

                  ```
                  if a < b && c > d { return; }
                  ```
                """
        },
    )
    anki.import_package(run_build(vault).package)
    fields = [f for n in anki.notes() for f in n.fields if "comprehension" in f and "<pre" in f]
    assert fields
    answer = fields[0]
    assert '<pre class="fg-code"><code class="language-python">' in answer
    assert '<span class="k">if</span>' in answer  # highlighted
    text = re.sub(r"<[^>]+>", "", answer)
    assert "evens = [x for x in range(10) if x % 2 == 0]  # &lt;b&gt;not bold&lt;/b&gt;" in text
    fields = _all_fields(anki)
    assert "<code>Vec&lt;T&gt;</code>" in fields and "a &lt; b" in fields
    assert "if a &lt; b &amp;&amp; c &gt; d { return; }" in fields
    # the note type carries light and night colours for the highlighting
    css = anki.col.models.by_name("flashgen Q/A")["css"]  # type: ignore[index]
    assert ".fg-code .k" in css and ".nightMode .fg-code .k" in css


def test_tables_wikilinks_and_highlights(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "vault",
        {
            "t.md": """
                Key takeaways:
                - Sorting **complexities**, see [[Big O notation|Big-O]] and [[algorithms/sorting]]:

                  | Algorithm | Average |
                  |-----------|---------|
                  | Quicksort | $n \\log n$ |
                - ==Merge sort== is stable.
                """
        },
    )
    anki.import_package(run_build(vault).package)
    fields = _all_fields(anki)
    assert "<table>" in fields and "<td>Quicksort</td>" in fields and r"\(n \log n\)" in fields
    assert '<span class="wikilink">Big-O</span>' in fields and '<span class="wikilink">sorting</span>' in fields
    assert "<mark>Merge sort</mark>" in fields
    assert "{{c1::<mark>Merge sort</mark>}}" in fields


def test_wikilinks_to_a_heading_keep_the_heading(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """`[[page#heading]]` shows the page and the heading it points to; an alias wins; a block
    reference (`#^id`) and a folder are not shown."""
    vault = write_notes(
        tmp_path / "vault",
        {
            "t.md": """
                Key takeaways:
                - **Heaps** keep their order, see [[Data structures#Binary heap]] and [[#Sift down]].
                - **Tries** share prefixes, see [[Data structures#Trie|prefix trees]] and [[cs/Strings#Search#Suffix arrays]].
                - **Skip lists** are probabilistic, see [[Lists#^a1b2c3]].
                """
        },
    )
    anki.import_package(run_build(vault).package)
    fields = _all_fields(anki)
    for shown in (
        "Data structures › Binary heap",
        "Sift down",
        "prefix trees",
        "Strings › Search › Suffix arrays",
        "Lists",
    ):
        assert f'<span class="wikilink">{shown}</span>' in fields
    assert "#" not in re.sub(r"<[^>]+>", "", fields).replace("&#", "")
    assert language.wikilink_label("cs/Strings#Search#^b1|") == "Strings › Search"


def test_images_are_packed_safely(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    outside = tmp_path / "secret.png"
    outside.write_bytes(PNG + b"secret")
    vault = write_notes(
        tmp_path / "vault",
        {
            "a/diagram-note.md": """
                Key takeaways:
                - The **architecture** is shown here: ![diagram](img/diagram.png)
                - Images from the web stay **remote** links ![logo](https://example.org/logo.png)
                - A path **escaping** the folder is refused: ![x](../../secret.png) ![y](/etc/passwd) ![z](img/link.png)
                - A **missing** one is a warning: ![gone](img/missing.png)
                - An **Obsidian** embed: ![[img/diagram.png]]
                """,
            "b/other-note.md": """
                Key takeaways:
                - Another **diagram** with the same file name: ![d](img/diagram.png)
                """,
        },
    )
    (vault / "a/img").mkdir()
    (vault / "a/img/diagram.png").write_bytes(PNG)
    os.symlink(outside, vault / "a/img/link.png")
    (vault / "b/img").mkdir()
    (vault / "b/img/diagram.png").write_bytes(PNG + b"different")

    report = run_build(vault)
    warnings = [str(w) for w in report.warnings]
    assert any("diagram-note.md:4: image '../../secret.png' refused" in w for w in warnings), warnings
    assert any("image '/etc/passwd'" in w for w in warnings)
    assert any("image 'img/link.png' refused: it is outside the notes folder" in w for w in warnings)
    assert any("diagram-note.md:5: image 'img/missing.png' not found" in w for w in warnings)

    anki.import_package(report.package)
    media = sorted(os.listdir(anki.col.media.dir()))
    assert len(media) == 2, media  # two different diagram.png files, neither overwriting the other
    assert all(re.fullmatch(r"diagram-[0-9a-f]{10}\.png", m) for m in media)
    contents = {(Path(anki.col.media.dir()) / m).read_bytes() for m in media}
    assert contents == {PNG, PNG + b"different"}
    fields = _all_fields(anki)
    for name in media:
        assert f'src="{name}"' in fields
    assert 'src="https://example.org/logo.png"' in fields
    assert "secret" not in "".join(media) and "passwd" not in fields.replace("/etc/passwd", "")


HOSTILE = """
Key takeaways:
- A **tap** <script>alert(1)</script>Click <a href="javascript:alert(2)">here</a> <img src=x onerror="alert(3)">
- A **styled** <iframe src="https://evil.example"></iframe><style>body{display:none}</style>frame shows as text
- The **links** [link](javascript:alert(4)) and [data](data:text/html;base64,PHNjcmlwdD4=) and <a href="JaVaScRiPt:alert(5)">x</a>
- The <div onclick="alert(6)" onmouseover="alert(7)">**Hover** me</div>
- An **SVG** <svg onload="alert(8)"><script>alert(9)</script></svg><object data="x"></object><embed src="x">
- Some **math** <math><mi xlink:href="javascript:alert(10)">x</mi></math> <form action="javascript:alert(11)"><button>go</button></form>
"""


def test_hostile_html_never_reaches_anki(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "vault",
        {
            "evil.md": "---\ntitle: '<script>alert(\"t\")</script>Evil'\ncategories: ['<b>x</b>', 'a\"b']\n"
            "author: '<img src=x onerror=alert(1)>'\nexturl: 'javascript:alert(12)'\n---\n" + HOSTILE,
        },
    )
    report = run_build(vault)
    anki.import_package(report.package)
    stored = _all_fields(anki).lower()
    tags = " ".join(t for n in anki.notes() for t in n.tags).lower()
    decks = " ".join(d.name for d in anki.col.decks.all_names_and_ids()).lower()
    assert "<" not in tags and "<" not in decks
    for text in (stored, tags, decks):
        # Judge the real tags; the escaped text of a refused construct (`&lt;script&gt;`) is harmless.
        for tag in re.findall(r"<[a-z][^>]*>", text):
            assert "javascript" not in tag and "data:text" not in tag, tag
            assert not re.search(r"\son\w+\s*=", tag), tag
            name = re.match(r"<([a-z0-9]+)", tag).group(1)  # type: ignore[union-attr]
            assert name not in {"script", "iframe", "style", "svg", "object", "embed", "form", "math", "button"}
    assert "&lt;script&gt;" in stored  # front matter values are escaped, shown as text
    assert "hover" in stored and "styled" in stored
    assert len(anki.notes()) >= 6


@pytest.mark.parametrize(
    ("markdown", "expected"),
    [
        ("a < b and b > c", "a &lt; b and b &gt; c"),
        ("`Vec<T>` and Vec<T>", "<code>Vec&lt;T&gt;</code> and Vec&lt;T&gt;"),
        ("x <br> y", "x <br> y"),
        ("<!-- hidden --> shown", "shown"),
        ("H<sub>2</sub>O", "H<sub>2</sub>O"),
        ("5 * 3 * 2", "5 * 3 * 2"),
        ("<https://example.org>", '<a href="https://example.org" rel="noopener noreferrer">https://example.org</a>'),
    ],
)
def test_text_that_looks_like_html_shows_as_written(markdown: str, expected: str) -> None:
    assert render.markdown(markdown).strip() == expected


# ---------------------------------------------------------------- the fast path agrees with markdown-it

_PIECES = [*"ab c*`$_\\<>&[]()!=~#|:.'\"é\u00a0-1\n\x00", "**", "_____", "  ", "“", "\u2003", "x^2", "{{c1::", "}}"]


def _full_parser(text: str) -> str:
    return render.sanitise(render._unwrap(render._MD.render(text)))


@given(st.lists(st.sampled_from(_PIECES), max_size=16).map("".join))
@settings(max_examples=3000, deadline=None)
def test_fast_rendering_equals_the_full_parser(text: str) -> None:
    """Lines rendered without markdown-it (plain text, emphasis, code, `$` math) come out exactly
    as markdown-it and the sanitiser would make them."""
    assert render.markdown(text) == _full_parser(text)


def test_fast_rendering_on_the_example_notes() -> None:
    """Every line and sentence of the bundled and shared example notes, and the prompts the
    generator makes of them, render the same on both paths; most take the fast one."""
    from flashgen import drafts, language
    from flashgen.notes import NoteFile, read_note
    from flashgen.takeaways import extract

    roots = [EXAMPLES, Path(__file__).parent.parent.parent / "shared" / "examples"]
    texts: set[str] = set()
    for root in roots:
        for path in root.glob("**/*.md") if root.is_dir() else ():
            for line in path.read_text(encoding="utf-8").splitlines():
                body = line.lstrip("-* ").strip()
                texts.add(body)
                texts.update(language.split_sentences(body))
            note = read_note(NoteFile(path, root))
            for takeaway in extract(note):
                for draft in drafts.drafts(takeaway, note.title):
                    texts.update((draft.front, draft.back))
    fast = [t for t in texts if t and render._inline(t) is not None]
    assert len(fast) > len(texts) / 3
    for text in texts:
        assert render.markdown(text) == _full_parser(text), text
