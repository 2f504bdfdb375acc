"""Issue 15, security: nothing in a note makes Anki run, link, style, play or load anything.

Anki is the judge: the package is imported into a real collection, each card is rendered by
Anki (`card.question()`, `card.answer()`, its sound and text-to-speech tags, its LaTeX images)
and what MathJax would then read in it is checked.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

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
    # flashgen's own break (a zero-width space, put into `[latex]` and the like) is not CSS
    return any(
        not re.fullmatch(r"[\w#.,%\s-]*", options.replace("\u200b", ""))
        # a command as MathJax reads it: `\\bbox` is a line break and the word "bbox"
        for options in re.findall(r"(?<!\\)(?:\\\\)*\\bbox\s*\[([^\]]*)\]", text)
    )


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
- A **link**: $\href{javascript:alert(1)}{click}$ and \(\class{fg-removed}{x}\).
- Some **styles**: $$\style{position:fixed;top:0;width:100%}{x}$$ and $\cssId{answer}{y}$ and $\data{a=b}{z}$.
- For **loading**: $\require{setoptions}\setOptions[tex]{x=1}$ and $\unicode[expression]{x41}$.
- The **tokens**: $\mmlToken{mi}[href="javascript:alert(2)"]{x}$ and $\texttip{a}{b}$ $\mathtip{a}{b}$ $\toggle{a}\endtoggle$.
- A styled **box** $\bbox[red,border:5px solid url(https://evil.example/)]{x}$, a coloured one $\bbox[yellow,5px]{k}$.
- The **definitions**: $\def\link{\hre} \link f{javascript:alert(3)}{x}$ and $\newcommand{\s}{\sty} \let\c=\class$.
- The **escaped** ones: \\(\href{javascript:alert(4)}{x}\\) and `\(\href{javascript:alert(5)}{x}\)` code.
- A character reference: &#92;href{javascript:alert(6)}{x} and **\href{javascript:alert(7)}{bold}**.
- Harmless math keeps **working**: $\frac{a}{b} \color{red}{c} \sqrt{d_k}$ and $\\href$ (a line break).
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
title: 'Listen [sound:title.mp3] \\[sound:escaped.mp3]'
author: '[anki:tts lang=en_US]author[/anki:tts]'
type: '[latex]\\\\input{/etc/passwd}[/latex]'
year: '[$]x[/$]'
---
Key takeaways:
- A **path** out of the media folder: [sound:../../x] plays nothing.
- An **audio** file [sound:x.mp3] and a spoken one [anki:tts lang=en_US]hello[/anki:tts] play nothing.
- A **button** of another card [anki:play:q:0] and LaTeX [latex]\\\\input{/etc/passwd}[/latex] stay text.
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
                - See the **pictures** [the picture](img/x.svg), [the page](https://example.org/a) and <a href="x.html">this</a>.
                - Write to [me](mailto:me@example.org) or open a **document** [a file](file:///etc/passwd).
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
    """A scaling ratio, not an absolute time: four times the text takes about four times as long
    (a quadratic scan would take sixteen)."""
    import time

    def took(size: int) -> float:
        text = ("{{c1::a::" + "::" * size + "[" * size + "\\" * size + "}}") * 2
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            render.defuse(text)
            best = min(best, time.perf_counter() - start)
        return best

    took(1000)
    assert took(200_000) < 8 * took(50_000) + 0.05


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


# ---------------------------------------------------------------- SVG images and linked notes

INERT_SVG = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 10 10">
  <defs><linearGradient id="g"><stop offset="0" stop-color="#c00"/></linearGradient></defs>
  <style>rect { stroke: black; }</style>
  <rect width="10" height="10" fill="url(#g)"/><use xlink:href="#g"/><a href="https://example.org"><text>x</text></a>
</svg>"""

HOSTILE_SVGS = {
    "script.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
    "onload.svg": b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>',
    "xhtml.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><h:script xmlns:h="http://www.w3.org/1999/xhtml">'
    b"alert(1)</h:script></svg>",
    "link.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><a href="&#106;avascript:alert(1)"><rect/></a></svg>',
    "animate.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><a><set attributeName="href" to="javascript:x"/></a>'
    b"</svg>",
    "foreign.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject><iframe xmlns="http://www.w3.org/1999/'
    b'xhtml" src="javascript:alert(1)"/></foreignObject></svg>',
    "entities.svg": b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg">'
    b"<text>&x;</text></svg>",
    "stylesheet.svg": b'<?xml-stylesheet href="https://evil.example/x.css"?><svg xmlns="http://www.w3.org/2000/svg"/>',
    "import.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://evil.example/x.css);</style></svg>',
    "tracker.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><image href="https://evil.example/t.png"/></svg>',
    "fill.svg": b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill: url( https://evil.example/p )"/></svg>',
    "utf16.svg": '<?xml version="1.0" encoding="UTF-16"?><svg xmlns="http://www.w3.org/2000/svg"><script>x</script>'
    "</svg>".encode("utf-16"),
}


def test_only_inert_svg_images_are_packed(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """Policy: an SVG is packed as it is when it is an inert drawing; one that could run a script,
    follow a link or load anything is refused with a warning naming the takeaway and the reason."""
    lines = ["- The cell **membrane** is drawn here ![ok](img/ok.svg) in red."]
    lines += [f"- Diagram number {i} of the cell shows its **parts** ![x](img/{n})" for i, n in enumerate(HOSTILE_SVGS)]
    vault = write_notes(tmp_path / "vault", {"svg.md": "\n".join(lines) + "\n"})
    (vault / "img").mkdir()
    (vault / "img/ok.svg").write_bytes(INERT_SVG)
    for name, data in HOSTILE_SVGS.items():
        (vault / "img" / name).write_bytes(data)
    report = run_build(vault)
    warnings = [str(w) for w in report.warnings]
    for line, name in enumerate(HOSTILE_SVGS, start=2):
        assert any(f"svg.md:{line}: image 'img/{name}' refused: the SVG " in w for w in warnings), (name, warnings)
    assert not any("ok.svg" in w for w in warnings)
    anki.import_package(report.package)
    media = os.listdir(anki.col.media.dir())
    assert len(media) == 1 and media[0].startswith("ok-") and media[0].endswith(".svg"), media
    assert (Path(anki.col.media.dir()) / media[0]).read_bytes() == INERT_SVG  # packed unchanged
    fields = "\n".join(f for n in anki.notes() for f in n.fields)
    assert f'src="{media[0]}"' in fields
    assert not any(name in fields for name in HOSTILE_SVGS)


def test_a_linked_note_outside_the_notes_folder_is_not_read(anki: Anki, run_build: Builder, tmp_path: Path) -> None:
    """Policy: a note that is a symbolic link to a file outside the notes folder is refused (a
    located error naming the link; the other notes build); a link inside the folder is read once."""
    secret = tmp_path / "secret.md"
    secret.write_text("- The launch code is 0000-SECRET-1234.\n")
    vault = write_notes(tmp_path / "vault", {"real.md": "- Mitochondria make **ATP**.\n"})
    os.symlink(secret, vault / "link-out.md")
    os.symlink(vault / "real.md", vault / "link-in.md")
    (vault / "sub").mkdir()
    (tmp_path / "other.md").write_text("- The other code is 9999-SECRET-0000.\n")
    os.symlink("../../other.md", vault / "sub" / "relative-out.md")
    report = run_build(vault)
    failures = {str(p.path.name): p.message for p in report.failures}
    assert set(failures) == {"link-out.md", "relative-out.md"}, failures
    for message in failures.values():
        assert "symbolic link to" in message and "outside the notes folder" in message and "not read" in message
    anki.import_package(report.package)
    fields = "\n".join(f for n in anki.notes() for f in n.fields)
    assert "Mitochondria" in fields and "SECRET" not in fields
    for path in (tmp_path / "decks").rglob("*"):
        assert not path.is_file() or b"SECRET" not in path.read_bytes(), path


def _as_older_ankis_show(html: str) -> str:
    """Each cloze deletion as its bare answer (hint dropped), innermost first."""
    innermost = re.compile(r"\{\{c\d+::((?:(?!\{\{c\d+::|\}\}).)*?)\}\}", re.DOTALL)
    while True:
        shown = innermost.sub(lambda m: m.group(1).split("::")[0], html)
        if shown == html:
            return shown
        html = shown


_HOSTILE_PIECES = [
    "\\", "\\\\", "href", "hr", "ef", "style", "def", "bbox", "[", "]", "{", "}", "{{c1::", "{{c2::", "}}", "::",
    "sound:", "anki:", "latex]", "$", "$$", "\\(", "\\)", "<b>", "</b>", "<!-- -->", "&#92;", "&#91;", " ", "x", "\n",
    "**", "`", "border:1px",
]  # fmt: skip


@given(st.lists(st.sampled_from(_HOSTILE_PIECES), max_size=14).map("".join))
@example("\\\\bbox[\\]")  # found by hypothesis: a line break and the word bbox, no command
@example("\\bbox&#91;latex]")  # found by hypothesis: flashgen's break inside the options is no CSS
@example("\\{{c1::\\{{c1::href}}")  # found by hypothesis: an unclosed opener stays text (`\{{c1::\href`)
@settings(max_examples=1500, deadline=None)
def test_no_arrangement_of_markup_gets_a_refused_command_through(text: str) -> None:
    for html in (render.markdown(text), render.escape(text), render.sanitise(text)):
        for shown in (html, _as_older_ankis_show(html)):
            assert not set(mathjax_commands(shown)) & DENIED, (text, html)
            assert not styled_bbox(shown), (text, html)
            assert not re.search(r"\[(?:sound:|/?anki:|/?latex\]|/?\$\$?\])", shown, re.IGNORECASE), (text, html)
