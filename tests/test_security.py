"""Issue 15, security: nothing in a note makes Anki run, link, style, play or load anything.

Anki is the judge: the package is imported into a real collection, each card is rendered by
Anki (`card.question()`, `card.answer()`, its sound and text-to-speech tags, its LaTeX images)
and what MathJax would then read in it is checked.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashgen import render

from .conftest import Anki, Builder, write_notes

# What MathJax must never run from a card: links, styles, classes, ids, data attributes,
# extension loading and option setting, actions, and every way to define a command.
DENIED = {
    "href", "style", "class", "cssId", "data", "require", "unicode", "mmlToken", "texttip", "mathtip",
    "toggle", "setOptions", "def", "gdef", "edef", "let", "newcommand", "renewcommand", "newenvironment",
    "DeclareMathOperator", "Newextarrow", "csname", "DeclarePairedDelimiter",
}  # fmt: skip


def mathjax_commands(text: str) -> list[str]:
    """The commands MathJax reads in `text`, left to right: a backslash then ASCII letters, or
    a backslash and any one character (`\\\\href` is a line break, then letters)."""
    names = []
    position = 0
    while True:
        position = text.find("\\", position)
        if position < 0:
            return names
        match = re.match(r"[A-Za-z]+", text[position + 1 :])
        names.append(match.group() if match else text[position + 1 : position + 2])
        position += 1 + (len(match.group()) if match else 1)


def styled_bbox(text: str) -> bool:
    """A `\\bbox` whose options hold CSS (anything but colours and sizes)."""
    return any(not re.fullmatch(r"[\w#.,%\s-]*", options) for options in re.findall(r"\\bbox\s*\[([^\]]*)\]", text))


def _rendered(anki: Anki) -> list[str]:
    """Every side of every card as Anki renders it, and the fields themselves."""
    sides = []
    for note in anki.notes():
        sides.extend(note.fields)
        for card in note.cards():
            sides += [card.question(), card.answer()]
    return sides


def _assert_inert(anki: Anki) -> None:
    for note in anki.notes():
        for card in note.cards():
            assert card.question_av_tags() == [] and card.answer_av_tags() == [], note.fields
    for side in _rendered(anki):
        assert not {n for n in mathjax_commands(side)} & DENIED, side
        assert not styled_bbox(side), side
        assert "class=latex" not in side, side  # Anki made no LaTeX image
        assert not re.search(r"\[(sound|anki):", side), side


MATH_NOTE = r"""---
title: 'Tricks \(\href{javascript:alert(0)}{t}\)'
author: '\(\style{position:fixed}{x}\)'
---
Key takeaways:
- A link: $\href{javascript:alert(1)}{click}$ and \(\class{fg-removed}{x}\).
- Styles: $$\style{position:fixed;top:0;width:100%}{x}$$ and $\cssId{answer}{y}$ and $\data{a=b}{z}$.
- Loading: $\require{setoptions}\setOptions[tex]{x=1}$ and $\unicode[expression]{x41}$.
- Tokens: $\mmlToken{mi}[href="javascript:alert(2)"]{x}$ and $\texttip{a}{b}$ $\mathtip{a}{b}$ $\toggle{a}\endtoggle$.
- A styled box $\bbox[red,border:5px solid url(https://evil.example/)]{x}$, a coloured one $\bbox[yellow,5px]{k}$.
- Definitions: $\def\link{\hre} \link f{javascript:alert(3)}{x}$ and $\newcommand{\s}{\sty} \let\c=\class$.
- Escaped: \\(\href{javascript:alert(4)}{x}\\) and `\(\href{javascript:alert(5)}{x}\)` code.
- A character reference: &#92;href{javascript:alert(6)}{x} and **\href{javascript:alert(7)}{bold}**.
- Harmless math keeps working: $\frac{a}{b} \color{red}{c} \sqrt{d_k}$ and $\\href$ (a line break).
"""


def test_mathjax_links_styles_and_definitions_are_defused(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"math.md": MATH_NOTE})
    report = run_build(vault)
    assert report.failures == ()
    anki.import_package(report.package)
    assert len(anki.notes()) >= 9
    _assert_inert(anki)
    fields = "\n".join(f for n in anki.notes() for f in n.fields)
    # refused commands still show as written; harmless math is untouched
    assert "href{javascript:alert(1)}{click}" in fields
    assert r"\(\frac{a}{b} \color{red}{c} \sqrt{d_k}" in fields and r"\bbox[yellow,5px]{k}" in fields
    assert r"\\href" in fields
    warnings = [str(w) for w in report.warnings]
    assert any(re.search(r"math\.md:6: '\\href' is not allowed", w) for w in warnings), warnings
    assert any(re.search(r"math\.md:10: '\\bbox' with a style is not allowed", w) for w in warnings), warnings


def test_cloze_markup_cannot_glue_a_refused_command() -> None:
    r"""Older Ankis show a deletion that is not asked as its bare text: `\hr{{c1::ef}}` must not
    read `\href` there, nor `[{{c1::sound:x}}]` play a sound."""
    for text in (r"\hr{{c1::ef}}{javascript:x}{y}", r"\hr{{c1::e::hint}}f{javascript:x}{y}", "[{{c1::sound:x.mp3}}]"):
        html = render.markdown(text)
        shown = re.sub(r"\{\{c\d+::(.*?)(?:::.*?)?\}\}", r"\1", html)  # as an older Anki shows it
        assert "href" not in mathjax_commands(shown), html
        assert "[sound:" not in shown, html


ANKI_TAGS_NOTE = """---
title: 'Listen [sound:title.mp3]'
author: '[anki:tts lang=en_US]author[/anki:tts]'
type: '[latex]\\\\input{/etc/passwd}[/latex]'
year: '[$]x[/$]'
---
Key takeaways:
- A path out of the media folder: [sound:../../x] plays nothing.
- A sound file [sound:x.mp3] and a spoken one [anki:tts lang=en_US]hello[/anki:tts] play nothing.
- A play button of another card [anki:play:q:0] and LaTeX [latex]\\\\input{/etc/passwd}[/latex] stay text.
- Upper case [SOUND:y.mp3] and a **[sound:bold.mp3]** target are text too.
"""


def test_anki_sound_tts_and_latex_tags_from_notes_are_text(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"[sound:name.mp3].md": ANKI_TAGS_NOTE})
    report = run_build(vault)
    assert report.failures == ()
    anki.import_package(report.package)
    assert len(anki.notes()) >= 4
    _assert_inert(anki)
    # shown as written (the break is invisible)
    text = "\n".join(f for n in anki.notes() for f in n.fields).replace("\u200b", "")
    for written in ("[sound:../../x]", "[sound:x.mp3]", "[anki:tts lang=en_US]hello[/anki:tts]", "[anki:play:q:0]"):
        assert written in text, written
    assert "[sound:name.mp3].md:8" in text and "Listen [sound:title.mp3]" in text
    assert any("[sound:name.mp3].md:9: '[sound:' is shown as text" in str(w) for w in report.warnings), report.warnings


def test_links_reach_only_the_web(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """A relative link would open a file of Anki's media folder (an image packed from the notes)
    inside the card's webview: links keep only http(s) and mailto addresses."""
    vault = write_notes(
        tmp_path / "vault",
        {
            "links.md": """
                Key takeaways:
                - See [the picture](img/x.svg), [the page](https://example.org/a) and <a href="x.html">this</a>.
                - Write to [me](mailto:me@example.org) or open [a file](file:///etc/passwd).
                """
        },
    )
    anki.import_package(run_build(vault).package)
    hrefs = set(re.findall(r'href="([^"]*)"', "\n".join(_rendered(anki))))
    assert hrefs == {"https://example.org/a", "mailto:me@example.org"}, hrefs


@pytest.mark.parametrize(
    "text",
    [r"$\frac{a}{b}$", r"$\bbox[yellow]{x}$", "[see](https://example.org)", "[1] a reference", r"\\ a slash"],
)
def test_harmless_text_is_left_alone(text: str) -> None:
    assert "\u200b" not in render.markdown(text)


def test_a_long_line_of_markup_defuses_in_linear_time() -> None:
    import time

    def took(size: int) -> float:
        text = ("{{c1::a::" + "::" * size + "[" * size + "\\" * size + "}}") * 2
        start = time.perf_counter()
        render.defuse(text)
        return time.perf_counter() - start

    took(1000)
    assert took(400_000) < 8 * took(100_000) + 0.05


def test_a_cloze_that_sanitising_breaks_makes_no_broken_card(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """HTML the sanitiser drops with its content can take a deletion's end with it."""
    vault = write_notes(
        tmp_path / "vault",
        {"n.md": "- Working {{c1::memory<svg>}} holds seven items.\n- A {{c1::cache<script>x</script>}} here.\n"},
    )
    report = run_build(vault)
    anki.import_package(report.package)
    for note in anki.notes('"note:flashgen Cloze"'):
        for card in note.cards():
            assert "No cloze" not in card.question(), note.fields
    assert any("n.md:1: a cloze deletion lost its end" in str(w) for w in report.warnings), report.warnings
    assert any("{{c1::cache}}" in n.fields[0] for n in anki.notes('"note:flashgen Cloze"'))
