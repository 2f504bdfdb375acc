"""The speed-ups of the text stages give the same results as the plain searches they replace.

Some patterns are written so that the regex engine can skip through a text (each branch starts
with its own character; a lookbehind is checked after the character it guards), and some searches
are skipped when the text lacks what they need. Each is compared here with the plain form, on
texts built from the characters and pieces that matter to it.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from flashgen import authored, language, notes, takeaways
from flashgen.strategies import causes, sentences


def _texts(pieces: list[str], chars: str, size: int = 12) -> st.SearchStrategy[str]:
    return st.lists(st.one_of(st.sampled_from(pieces), st.sampled_from(list(chars))), max_size=size).map("".join)


def _matches(pattern: re.Pattern[str], text: str) -> list[tuple[object, ...]]:
    return [(m.span(), m.groups()) for m in pattern.finditer(text)]


# ---------------------------------------------------------------- inline tags (notes)

_TAG_PLAIN = re.compile(r"(?:(?<=\s)|(?<=^)|(?<=[,|]))#([\w/-]*[^\W\d][\w/-]*)", re.MULTILINE)
_TAG_TEXT = _texts(["#tag", "#1", "# ", "`#x`", "<a #b>", "](#c)", "```\n#d\n```", "~~~"], "#a1 ,|\n/-_\t.é`")


@settings(max_examples=200, deadline=None)
@given(text=_TAG_TEXT)
def test_inline_tags_as_with_lookbehinds_first(text: str) -> None:
    assert _matches(notes._INLINE_TAG, text) == _matches(_TAG_PLAIN, text)


def _body_tags_plain(body: str) -> list[str]:
    """`notes.body_tags` with code always blanked out and the plain tag pattern."""
    if "#" not in body and "tag" not in body[:2000].lower():
        return []
    found = [m.group(1).strip("/") for m in _TAG_PLAIN.finditer(notes._CODE.sub(" ", body))]
    for line in body.split("\n")[:10]:
        match = notes._TAGS_LINE.match(line.strip())
        if match:
            value = match.group(1)
            topics = re.findall(r"\[\[([^\]|#]+)(?:[^\]]*)\]\]", value)
            if not topics and "#" not in value:
                topics = [t.strip() for t in re.split(r"[,;]", value)]
            found += [t.strip() for t in topics if t.strip()]
    return [tag for tag in found if tag]


@settings(max_examples=200, deadline=None)
@given(text=_TAG_TEXT)
def test_body_tags_as_with_code_always_blanked(text: str) -> None:
    assert notes.body_tags(text) == _body_tags_plain(text)


# ---------------------------------------------------------------- spans without syntax (authored)

_ATOM_PLAIN_TEXT = (
    r"(?P<ticks>`+).{1,1000}?(?P=ticks)"
    r"|\$\$.{1,2000}?\$\$|(?<![\\$\w])\$(?=\S)[^$\n]{0,1000}?(?<=[^\s\\])\$(?![\d$])"
    r"|\\\(.{1,2000}?\\\)|\\\[.{1,2000}?\\\]"
    r"|!?\[\[[^\]\n]{0,500}\]\]|!?\[[^\]\n]{0,500}\]\([^)\n]{0,1000}\)"
    r"|<[A-Za-z][\w+.-]{0,30}:[^>\s]{0,1000}>|\b[A-Za-z][\w+.-]{0,30}://[^\s<>]{0,1000}[^\s<>.,;:!?)\]]"
    r"|</?[A-Za-z][\w-]{0,30}(?:\s[^<>\n]{0,1000})?/?>|<!--.{0,2000}?-->"
    r"|\[[\w .-]{1,100}::[^\]\n]{0,500}\]|\([\w .-]{1,100}::[^)\n]{0,500}\)"
)
_ATOM_PLAIN = re.compile(_ATOM_PLAIN_TEXT + r"|\{\{c\d+::.{0,2000}?\}\}", re.DOTALL)
_ATOM_PLAIN_BUT_CLOZES = re.compile(_ATOM_PLAIN_TEXT, re.DOTALL)
_ATOM_TEXT = _texts(
    ["http://a.b/c", "`x`", "``", "$x$", "$$y$$", "[[w]]", "![[w]]", "[a](b)", "![a](b)", "<a href=x>", "</b>",
     "{{c1::y}}", "[k:: v]", "(k:: v)", "\\(x\\)", "\\[x\\]", "<!-- c -->", "https://", "::", "<b:c>", "$ "],
    "a1 $\\`[]()<>!:/{}c-.\n_x",
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=_ATOM_TEXT)
def test_masked_as_with_every_branch_tried_everywhere(text: str) -> None:
    def hole(m: re.Match[str]) -> str:
        return "\0" * len(m.group())

    assert authored._masked.__wrapped__(text) == _ATOM_PLAIN.sub(hole, text)
    assert authored._masked.__wrapped__(text, authored._ATOM_BUT_CLOZES) == _ATOM_PLAIN_BUT_CLOZES.sub(hole, text)


@settings(max_examples=150, deadline=None)
@given(
    text=_texts(["#card", "#card-reverse", "#cards", " #x", "Q", "A"], "# \n-/c"),
    heading=st.sampled_from(["", "H #card", "H"]),
)
def test_tagged_front_needs_its_tag(text: str, heading: str) -> None:
    lines = text.split("\n")
    pattern = authored._front_tag("card")
    found = authored._tagged_front(lines, authored.DEFAULT, heading)
    could = bool(pattern.search(heading) or (lines and pattern.search(lines[0])))
    assert found is None or could


# ---------------------------------------------------------------- shortcodes and places (takeaways)

_SHORTCODE_PLAIN = re.compile(
    r"(?P<code>`+).+?(?P=code)|\$[^$\n]+\$|(?<![\w:]):[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])"
)


def _readable_plain(text: str) -> str:
    """`takeaways._readable` with every substitution made."""
    text = takeaways._without_noise(text)
    if ":" in text:
        text = _SHORTCODE_PLAIN.sub(takeaways._emoji, text)
        if "\0" in text:
            text = re.sub(r"[ \t]*\0", "", text).strip()
    return text


@settings(max_examples=200, deadline=None)
@given(
    text=_texts(
        [":bulb:", ":+1:", ":thumbs_up:", ":x-1:", "::", "`:x:`", "$:y:$", "std::vector", "a:b:c", "12:30", ":nope:"],
        "ab:_ +-`$\n1x",
    )
)
def test_shortcodes_as_with_the_lookbehind_first(text: str) -> None:
    assert _matches(takeaways._SHORTCODE, text) == _matches(_SHORTCODE_PLAIN, text)
    assert takeaways._readable(text) == _readable_plain(text)


@settings(max_examples=200, deadline=None)
@given(text=_texts(["p. 12", "pp. 3-5", "(p. 4)", "[loc 12]", " - page 7", ", pg 3", "12", "٣"], ".。 )](a\u2003-–"))
def test_a_place_after_the_point_ends_with_a_number(text: str) -> None:
    if takeaways._LOCATOR_AFTER.search(text):
        assert takeaways._ends_with_number(text)


# ---------------------------------------------------------------- sentences and causes (strategies)

_LINK_PLAIN = re.compile(r"(?<!!)\[([^\[\]]{0,4000})\]\([^()]{0,4000}\)")
_WIKI_PLAIN = re.compile(r"(?<!!)\[\[([^\]]{0,4000})\]\]")
_ITALIC_PLAIN = re.compile(
    r"(?<![\w*])\*(?=[^\s*])([^*]{1,400}?)(?<=\S)\*(?![\w*])|(?<![\w_])_(?=[^\s_])([^_]{1,400}?)(?<=\S)_(?![\w_])"
)
_MARKDOWN = _texts(
    ["![a](b)", "[a](b)", "[[x|y]]", "![[x]]", "[[z]]", "*i*", "**b**", "_u_", "__v__", "(e.g. foo)", "(x, etc.)",
     "https://x.y/z", "<http://a>", "[^1]"],
    " a![]()*_\n,.w",
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(text=_MARKDOWN)
def test_sentence_patterns_as_with_the_lookbehind_first(text: str) -> None:
    assert _matches(sentences._LINK, text) == _matches(_LINK_PLAIN, text)
    assert _matches(sentences._WIKI, text) == _matches(_WIKI_PLAIN, text)
    assert _matches(sentences.ITALIC, text) == _matches(_ITALIC_PLAIN, text)


def _prose_plain(markdown: str) -> str:
    """`sentences.prose` with every substitution made, with the plain patterns."""
    text = _LINK_PLAIN.sub(lambda m: m.group(1) or "", markdown)
    text = _WIKI_PLAIN.sub(lambda m: language.wikilink_label(m.group(1)), text)
    text = sentences._FOOTNOTE.sub("", text)
    text = sentences._BARE_URL.sub("", text)
    text = sentences._ASIDE.sub("", text)
    return " ".join(text.split())


def _plain_plain(markdown: str) -> str:
    """`sentences.plain` with every substitution made, with the plain patterns."""
    image = r"!\[[^\]]*\]\([^)]*\)|!\[\[[^\]]*\]\]"
    text = re.sub(rf"\s*(?:{image})(?=\s*[,.;:!?])|(?:{image})", "", _prose_plain(markdown))
    text = sentences.EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = _ITALIC_PLAIN.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())


@settings(max_examples=200, deadline=None)
@given(text=_MARKDOWN)
def test_prose_and_plain_as_with_every_search_made(text: str) -> None:
    assert sentences.prose.__wrapped__(text) == _prose_plain(text)
    assert sentences.plain.__wrapped__(text) == _plain_plain(text)


@settings(max_examples=150, deadline=None)
@given(text=_texts(["because", "since", "due to", "thanks to", "hence", "so", "thus", "therefore"], " abcdefghij,.;—"))
def test_cause_patterns_need_their_words(text: str) -> None:
    if causes._EFFECT_FIRST.match(text):
        assert any(w in text for w in causes._EFFECT_WORDS)
    if causes._CAUSE_FIRST.match(text):
        assert any(w in text for w in causes._CAUSE_WORDS)


# ---------------------------------------------------------------- code and math spans (render), lists (focus)

_CODE_OR_MATH_PLAIN = re.compile(r"`+|\$+")
_LONE_BACKTICK_PLAIN = re.compile(r"(?<!`)`(?!`)")


@settings(max_examples=200, deadline=None)
@given(text=_texts(["`x`", "``y``", "$m$", "$$d$$", "\\`"], "`$a \n\\"), start=st.integers(0, 12))
def test_code_and_math_openers_as_with_the_run_first(text: str, start: int) -> None:
    from flashgen import render

    assert _matches(render._CODE_OR_MATH, text) == _matches(_CODE_OR_MATH_PLAIN, text)
    found, plain = render._LONE_BACKTICK.search(text, start), _LONE_BACKTICK_PLAIN.search(text, start)
    assert (found and found.span()) == (plain and plain.span())


@settings(max_examples=200, deadline=None)
@given(text=_texts(["a", "b c", ", ", " and ", " or ", "x-y", ",", "and", "or"], " .!'’"))
def test_a_closing_list_needs_a_comma_and_a_conjunction(text: str) -> None:
    from flashgen.strategies import focus

    if focus._LIST.search(text):
        assert ", " in text and (" and " in text or " or " in text)
