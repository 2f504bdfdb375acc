"""Rendering: takeaway markdown to the sanitised HTML stored in Anki fields.

Anki runs the HTML and JavaScript it finds in cards, and notes may come from
anyone, so every string that reaches a field passes through `sanitise`,
`markdown` or `escape`, and each of them ends with `defuse`: the one guard
against what Anki itself makes of text (MathJax commands that make links,
styles or definitions, and Anki's sound, text-to-speech and LaTeX tags).
Math (`$...$`, `$$...$$`, `\\(...\\)`, `\\[...\\]`) is handed to Anki's MathJax
as `\\(...\\)` and `\\[...\\]`, untouched by the markdown parser. Code is
highlighted with Pygments into classes the note type's CSS colours for light
and night mode. Local images are resolved by a `MediaResolver`.
"""

from __future__ import annotations

import bisect
import html
import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin
from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

from .language import wikilink_label
from .media import MediaResolver

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "code", "dd", "del", "details", "div", "dl", "dt", "em",
    "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "mark",
    "ol", "p", "pre", "q", "s", "samp", "small", "span", "strike", "strong", "sub", "summary", "sup", "table",
    "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul", "var",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    "td": {"align", "colspan", "rowspan"},
    "th": {"align", "colspan", "rowspan"},
    "span": {"class"},
    "code": {"class"},
    "pre": {"class"},
    "div": {"class"},
}
# Tags removed with everything inside them.
_DROPPED = {
    "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "template", "noscript",
    "svg", "math", "title", "textarea", "select", "button", "form", "input", "link", "meta", "base",
}  # fmt: skip
# Every tag name HTML knows; `<Foo>` or `Vec<T>` that is not one of them is text, shown as written.
_HTML_TAGS = _TAGS | _DROPPED | {
    "address", "area", "article", "aside", "audio", "bdi", "bdo", "big", "body", "canvas", "center", "cite",
    "col", "colgroup", "data", "datalist", "dfn", "dialog", "fieldset", "font", "footer", "head", "header",
    "hgroup", "html", "label", "legend", "main", "map", "marquee", "menu", "meter", "nav", "optgroup", "option",
    "output", "param", "picture", "portal", "progress", "rp", "rt", "ruby", "search", "section", "slot",
    "source", "track", "tt", "video", "wbr", "image", "xmp", "plaintext", "listing", "noembed", "noframes",
}  # fmt: skip

_media: ContextVar[MediaResolver | None] = ContextVar("flashgen_media", default=None)


def _filter_attribute(tag: str, attribute: str, value: str) -> str | None:
    if tag == "img" and attribute == "src":
        resolver = _media.get()
        if resolver is not None:
            return resolver.resolve(value)
        return value if re.match(r"(https?:|data:image/(png|jpe?g|gif|webp);)", value, re.IGNORECASE) else None
    if attribute in ("href", "src") and value.strip().lower().startswith("data:"):
        return None  # data: URLs only as images
    if tag == "a" and attribute == "href" and not _LINK.match(value):
        # A relative link would open a file of Anki's media folder (an SVG with a script) in
        # the card's webview; a card has no other page to link to.
        return None
    return value


_LINK = re.compile(r"\s*(?:https?://|mailto:)", re.IGNORECASE)


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROPPED,
    attributes=_ATTRIBUTES,
    attribute_filter=_filter_attribute,
    url_schemes={"http", "https", "mailto", "data"},
    link_rel="noopener noreferrer",
)


def sanitise(fragment: str) -> str:
    """Keep only harmless HTML: no script, style, frames, event handlers or javascript: URLs,
    and nothing Anki would turn into one (see `defuse`)."""
    return defuse(_CLEANER.clean(fragment))


def escape(text: str) -> str:
    """Plain text (front matter values, file names) as HTML."""
    return defuse(html.escape(text, quote=True))


# ---------------------------------------------------------------- what Anki makes of text
#
# Anki does not show a field as the browser would: it plays `[sound:...]` and `[anki:tts]`
# tags, turns `[latex]`, `[$]` and `[$$]` into LaTeX images, and typesets `\(...\)` and
# `\[...\]` with MathJax, which loads its extensions on demand (autoload, `\require`).
# MathJax's commands are presentational except for a few that write attributes (`\href`
# makes a javascript: link, `\style`, `\class`, `\cssId`, `\data`, `\mmlToken` and `\bbox`
# with a style write CSS or ids), load code (`\require`, `\setOptions`) or define commands
# (`\def`, `\newcommand`, `\let`, ...). With every definition refused, a command can only be
# named literally, so a deny list of those names is complete: it is checked on the final HTML,
# as MathJax reads it (a backslash and ASCII letters, left to right; the sanitiser's output
# holds no character references to hide one), wherever it is (MathJax finds math in any text,
# not only in what flashgen wrote as math). A refused command or tag is broken by a zero-width
# space after its first character: it shows as written and does nothing; it stays broken
# when the note is edited in Anki.

_MATH_DENIED = frozenset(
    {
        # attributes: links, styles, classes, ids (MathJax's html extension, KaTeX's equivalents)
        "href", "style", "class", "cssid", "data", "htmlclass", "htmlid", "htmlstyle", "htmldata",
        "url", "includegraphics", "mmltoken", "unicode",
        # loading code or changing options
        "require", "setoptions", "mathtoolsset", "usepackage", "requirepackage", "input", "include",
        "write", "immediate", "openin", "openout", "read", "special",
        # actions (tooltips, toggles)
        "texttip", "mathtip", "toggle", "endtoggle",
        # definitions: with them any refused command could be rebuilt under another name
        "def", "gdef", "edef", "xdef", "let", "futurelet", "global", "long", "outer", "csname",
        "endcsname", "expandafter", "noexpand", "catcode", "newcommand", "renewcommand",
        "providecommand", "declarerobustcommand", "newenvironment", "renewenvironment",
        "declaremathoperator", "declarepaireddelimiter", "declarepaireddelimiterx",
        "declarepaireddelimiterxpp", "newextarrow", "newtagform", "renewtagform", "newgathered",
        "renewgathered",
    }
)  # fmt: skip
# A backslash and the command MathJax reads (ASCII letters, or any one character).
_COMMAND = re.compile(r"\\(?:([A-Za-z]+)|[\s\S])")
# The `[` of one of Anki's tags (found whatever precedes it: Anki knows no escape).
_ANKI_TAG = re.compile(r"\[(?=(sound:|/?anki:|/?latex\]|/?\$\$?\]))", re.IGNORECASE)
# `\bbox[...]`: colours and sizes only; anything else in its options is CSS.
_BBOX_OPTIONS = re.compile(r"\s*(?:\[([^\]]{0,200})\])?")
_BBOX_SAFE = re.compile(r"[\w#.,%\s-]*")
_CLOZE_MARKUP = re.compile(r"\{\{c\d+::|::|\}\}")
_BREAK = "\u200b"


def defuse(fragment: str) -> str:
    """Break every MathJax command that could make a link, a style or a definition, and every
    Anki sound, text-to-speech or LaTeX tag, so that each shows as written and does nothing."""
    if "\\" not in fragment and "[" not in fragment:
        return fragment
    refused = dict(_refused(fragment))
    if "{{c" in fragment:
        # Older Ankis show a cloze that is not being asked as its bare text, so `\hr{{c1::ef}}`
        # reads `\href` there: the text as shown without the cloze markup is checked too, with
        # an opener that nothing closes read both as markup and as the text Anki leaves it
        # (`\{{c1::\{{c1::href}}` shows `\{{c1::\href`).
        for unclosed_as_text in (False, True):
            shown, origin = _without_clozes(fragment, unclosed_as_text)
            for start, found in _refused(shown):
                refused.setdefault(origin(start), found)
    if not refused:
        return fragment
    resolver = _media.get()
    if resolver is not None:
        for found in dict.fromkeys(refused.values()):
            resolver.warn(_refusal(found))
    pieces = []
    last = 0
    for start in sorted(refused):
        pieces.append(fragment[last : start + 1])
        pieces.append(_BREAK)
        last = start + 1
    pieces.append(fragment[last:])
    return "".join(pieces)


_CLOZE_TOKEN = re.compile(r"\{\{c(\d+)::|\}\}")


def cloze_numbers(fragment: str) -> tuple[int, ...]:
    """The numbers of the cloze deletions in `fragment`, as Anki reads them; none when one is
    opened and never closed (sanitising dropped its end: Anki would answer "No cloze found")."""
    opened: list[int] = []
    found: set[int] = set()
    for match in _CLOZE_TOKEN.finditer(fragment):
        if match.group(1) is not None:
            opened.append(int(match.group(1)))
        elif opened:
            found.add(opened.pop())
    return () if opened else tuple(sorted(found))


def plain_text(fragment: str) -> str:
    """The text a field shows, without its markup (and without the breaks `defuse` adds)."""
    return html.unescape(re.sub(r"<[^>]*>", "", fragment)).replace(_BREAK, "")


def _refused(text: str) -> Iterator[tuple[int, str]]:
    """Where each refused command or tag starts in `text`, and what it is."""
    if "[" in text:
        for match in _ANKI_TAG.finditer(text):
            yield match.start(), "[" + match.group(1)
    if "\\" not in text:
        return
    for match in _COMMAND.finditer(text):
        name = match.group(1)
        if not name:
            continue
        lowered = name.lower()
        if lowered in _MATH_DENIED:
            yield match.start(), "\\" + name
        elif lowered == "bbox":
            options = _BBOX_OPTIONS.match(text, match.end())
            inside = options.group(1) if options else None
            closed = options is not None and (inside is not None or text[options.end() : options.end() + 1] != "[")
            if not closed or (inside is not None and not _BBOX_SAFE.fullmatch(inside)):
                yield match.start(), "\\bbox"


def _refusal(found: str) -> str:
    if found.startswith("["):
        return f"'{found}' is shown as text: flashgen never makes Anki sound, text-to-speech or LaTeX tags from notes"
    what = "with a style " if found == "\\bbox" else ""
    return (
        f"'{found}' {what}is not allowed in a card (Anki's MathJax would make a link, a style or a "
        "definition of it); it is shown as written"
    )


def _without_clozes(text: str, unclosed_as_text: bool = False) -> tuple[str, Callable[[int], int]]:
    """`text` as Anki shows a cloze deletion that is not being asked (its answer, without the
    hint), and a map from a position in it to the position in `text`. With `unclosed_as_text`,
    an opener that no `}}` closes (a `}}` closes the latest opener still open) is text."""
    tokens = list(_CLOZE_MARKUP.finditer(text))
    unclosed: set[int] = set()
    if unclosed_as_text:
        still_open: list[int] = []
        for index, match in enumerate(tokens):
            if match.group() == "}}":
                if still_open:
                    still_open.pop()
            elif match.group() != "::":
                still_open.append(index)
        unclosed = set(still_open)
    kept: list[str] = []
    starts: list[int] = []  # where each kept piece starts in the shown text
    sources: list[int] = []  # and in `text`
    depth = 0
    hint_depth = 0  # the depth of the cloze whose hint is being read (0: none)
    shown = 0
    last = 0

    def keep(until: int) -> None:
        nonlocal shown
        if not hint_depth and until > last:
            kept.append(text[last:until])
            starts.append(shown)
            sources.append(last)
            shown += until - last

    for index, match in enumerate(tokens):
        token = match.group()
        if index in unclosed:
            continue  # text
        if token == "::" and (not depth or hint_depth):
            continue  # text
        if token == "}}" and not depth:
            continue
        keep(match.start())
        if token == "::":
            hint_depth = depth
        elif token == "}}":
            if hint_depth == depth:
                hint_depth = 0
            depth -= 1
        else:
            depth += 1
        last = match.end()
    keep(len(text))

    def origin(position: int) -> int:
        index = bisect.bisect_right(starts, position) - 1
        return sources[index] + position - starts[index]

    return "".join(kept), origin


@contextmanager
def images(resolver: MediaResolver | None) -> Iterator[None]:
    """Resolve the images of what is rendered inside the block with `resolver`."""
    token = _media.set(resolver)
    try:
        yield
    finally:
        _media.reset(token)


# ---------------------------------------------------------------- parser rules


def _mark_rule(state: StateInline, silent: bool) -> bool:
    """`==highlight==` (Obsidian, markdown-it-mark) as `<mark>`."""
    start = state.pos
    src = state.src
    if not src.startswith("==", start):
        return False
    end = src.find("==", start + 2, state.posMax)
    if end <= start + 2 or src[start + 2].isspace() or src[end - 1].isspace():
        return False
    if not silent:
        state.push("mark_open", "mark", 1).markup = "=="
        old_max = state.posMax
        state.pos, state.posMax = start + 2, end
        state.md.inline.tokenize(state)
        state.posMax = old_max
        state.push("mark_close", "mark", -1).markup = "=="
    state.pos = end + 2
    return True


_WIKILINK = re.compile(r"(!?)\[\[([^\[\]\n]+?)\]\]")


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    """Obsidian `[[target|alias]]` links, shown as their text, and `![[image.png]]` embeds, shown as images."""
    if not state.src.startswith(("[[", "![["), state.pos):
        return False
    match = _WIKILINK.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    if not silent:
        target, _, alias = match.group(2).partition("|")
        if match.group(1):
            token = state.push("wikiembed", "img", 0)
            token.attrs = {"src": target.strip(), "alt": alias.strip() if not alias.strip().isdigit() else ""}
        else:
            state.push("wikilink", "span", 0).content = wikilink_label(match.group(2))
    state.pos = match.end()
    return True


def _bracket_math_rule(state: StateInline, silent: bool) -> bool:
    r"""LaTeX-style `\(...\)` and `\[...\]`, before the markdown escape rule eats the backslash."""
    src = state.src
    if src[state.pos : state.pos + 2] not in ("\\(", "\\["):
        return False
    closer = "\\)" if src[state.pos + 1] == "(" else "\\]"
    # Where the text's last closer is, found once a text: `\\(` after it is no math, and each of a
    # thousand such openers would otherwise search the rest of the text (quadratic time).
    last: dict[tuple[str, str], int] = state.env.setdefault("flashgen_last_closer", {})
    key = (closer, src)
    if key not in last:
        last[key] = src.rfind(closer)
    if last[key] < state.pos + 2:
        return False
    end = src.find(closer, state.pos + 2, state.posMax)
    if end < 0:
        return False
    if not silent:
        token = state.push("math_inline" if closer == "\\)" else "math_block_inline", "math", 0)
        token.content = src[state.pos + 2 : end]
        token.markup = closer
    state.pos = end + 2
    return True


# ---------------------------------------------------------------- renderers


def _render_wikilink(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<span class="wikilink">{escape(tokens[idx].content)}</span>'


def _render_wikiembed(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    attrs = tokens[idx].attrs
    return f'<img src="{escape(str(attrs["src"]))}" alt="{escape(str(attrs.get("alt", "")))}">'


def _math(content: str) -> str:
    # `}}` would end a cloze deletion early; MathJax ignores the space. Escaped as the sanitiser
    # writes text, so that the fast path (`_holes`) can use it as it is.
    # `::` would start a cloze's hint: TeX sets `:{}:` as it sets `::`.
    text = _text(content.strip())
    return re.sub(r"(?<=:)(?=:)", "{}", re.sub(r"(?<=\})(?=\})", " ", text)) if ("}}" in text or "::" in text) else text


def _render_math_inline(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "\\(" + _math(tokens[idx].content) + "\\)"


def _render_math_display(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "\\[" + _math(tokens[idx].content) + "\\]"


def _render_math_double(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # `$$...$$` inside a sentence (kramdown style) is inline math; alone, it is display math.
    alone = all(
        t.type == "softbreak" or (t.type == "text" and not t.content.strip()) for i, t in enumerate(tokens) if i != idx
    )
    return (
        _render_math_display(self, tokens, idx, options, env)
        if alone
        else _render_math_inline(self, tokens, idx, options, env)
    )


def _render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "<p>\\[" + _math(tokens[idx].content) + "\\]</p>\n"


_HTML_TAG_NAME = re.compile(r"<\s*/?\s*([A-Za-z][\w:-]*)")


def _raw_or_text(content: str) -> str:
    """Raw HTML passes (to be sanitised) only when it is HTML; `Vec<T>` or `<Foo>` is text."""
    content = re.sub(r"<!--.*?(-->|$)", "", content, flags=re.DOTALL)
    names = _HTML_TAG_NAME.findall(content)
    if names and all(n.lower() in _HTML_TAGS for n in names):
        return content
    return escape(content)


def _render_html_inline(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return _raw_or_text(tokens[idx].content)


def _render_html_block(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return _raw_or_text(tokens[idx].content)


_FORMATTER = HtmlFormatter(nowrap=True)


def _render_fence(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    token = tokens[idx]
    language = token.info.strip().split()[0].lower() if token.info.strip() else ""
    try:
        lexer = get_lexer_by_name(language) if language else None
    except ClassNotFound:
        lexer = None
    body = highlight(token.content, lexer, _FORMATTER) if lexer is not None else escape(token.content)
    css_class = f' class="language-{escape(language)}"' if language else ""
    return f'<pre class="fg-code"><code{css_class}>{body}</code></pre>\n'


def code_css() -> str:
    """Pygments colours for code, light by default and dark under Anki's night mode."""
    light = HtmlFormatter(style="friendly").get_style_defs(".fg-code")
    dark = HtmlFormatter(style="monokai").get_style_defs([".nightMode .fg-code", ".night_mode .fg-code"])
    keep = re.compile(r"^\S.*\{.*\}\s*(/\*.*\*/)?$")
    lines = [line for line in (light + "\n" + dark).splitlines() if keep.match(line) and "background" not in line]
    return "\n".join(lines) + "\n"


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": False}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    md.inline.ruler.before("escape", "bracket_math", _bracket_math_rule)
    md.inline.ruler.before("emphasis", "mark", _mark_rule)
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("wikiembed", _render_wikiembed)
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_block_inline", _render_math_display)
    md.add_render_rule("math_inline_double", _render_math_double)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_label", _render_math_block)
    md.add_render_rule("html_inline", _render_html_inline)
    md.add_render_rule("html_block", _render_html_block)
    md.add_render_rule("fence", _render_fence)
    return md


_MD = _make_parser()


def _unwrap(rendered: str) -> str:
    rendered = rendered.strip()
    if rendered.count("<p>") == 1 and rendered.startswith("<p>") and rendered.endswith("</p>"):
        rendered = rendered[3:-4]
    return rendered


# Text without any of these is rendered by escaping it: most sentences, at a fraction of the cost.
_MARKUP_CHARS = re.compile(r"[\x00\\`*_\[\]<>!$=~#|&\n]")
_MARKUP_START = re.compile(r"\s|(?:\d+[.)]|[-+>])")  # a list item or quote, or space a block could start with


def _plain_text(text: str) -> bool:
    """Whether `text` is one line with nothing markdown would read as markup."""
    return not (_MARKUP_CHARS.search(text) or _MARKUP_START.match(text) or (text[-1:].isspace()))


def markdown(text: str) -> str:
    """Render markdown to sanitised HTML; a single paragraph loses its `<p>` wrapper."""
    # The blank of a question is plain text too, but two could pair up as emphasis.
    if _plain_text(text.replace("_____", "", 1)) and text != "_____":  # alone, it is a rule
        return defuse(_text(text))
    fast = _inline(text)
    if fast is not None:
        return defuse(fast)
    return sanitise(_unwrap(_MD.render(_flattened(text))))


# Nesting deeper than this is no structure a card can show, and parsing it costs time that grows
# with the square of the depth (markdown-it's link labels, html5ever's stack of open elements):
# brackets and HTML tags nested deeper are read as text.
MAX_NESTING = 16
# (a code span and an escaped character are skipped: what is in code is shown as written)
_NESTING_TOKEN = re.compile(r"(?P<code>`+)[^`]{0,4000}?(?P=code)|\\.|\[|\]|<(/?)([A-Za-z][\w-]*)(?:\s[^<>]*)?(/?)>")
_VOID = frozenset({"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def _flattened(text: str) -> str:
    """`text` with what is nested deeper than `MAX_NESTING` escaped, and brackets that close nothing
    (markdown-it would search the rest of the text for each), so that it renders in linear time."""
    if text.count("[") <= MAX_NESTING and text.count("<") <= 2 * MAX_NESTING:
        return text
    tokens = [m for m in _NESTING_TOKEN.finditer(text) if m.group()[0] not in "\\`"]
    escaped: set[int] = set()  # indexes into `tokens`
    # Brackets that pair up; the others close nothing.
    opened: list[int] = []
    for index, match in enumerate(tokens):
        if match.group() == "[":
            opened.append(index)
        elif match.group() == "]":
            if opened:
                opened.pop()
            else:
                escaped.add(index)
    escaped.update(opened)
    depth = tags = 0
    for index, match in enumerate(tokens):
        token = match.group()
        if index in escaped:
            continue
        if token == "[":
            depth += 1
            if depth > MAX_NESTING:
                escaped.add(index)
        elif token == "]":
            if depth > MAX_NESTING:
                escaped.add(index)
            depth -= 1
        elif match.group(2):  # a closing tag
            if tags > MAX_NESTING:
                escaped.add(index)
            tags = max(0, tags - 1)
        elif match.group(4) or match.group(3).lower() in _VOID:
            if tags >= MAX_NESTING:
                escaped.add(index)
        else:
            tags += 1
            if tags > MAX_NESTING:
                escaped.add(index)
    if not escaped:
        return text
    out: list[str] = []
    last = 0
    for index in sorted(escaped):
        match = tokens[index]
        token = match.group()
        out.append(text[last : match.start()])
        # As entities: text to markdown, never syntax (`\\[` would open display math).
        out.append({"[": "&#91;", "]": "&#93;"}.get(token) or "&lt;" + token[1:])
        last = match.end()
    out.append(text[last:])
    return "".join(out)


# ---------------------------------------------------------------- the fast path for simple lines
#
# Most takeaways are one line of text with a few **bold** or *emphasised* words, `code` and $math$.
# `_inline` renders exactly that subset itself, to the same HTML markdown-it and the sanitiser
# give (tests/test_rendering.py compares the two on every line of the example notes and on
# generated text), and returns None for anything else. Its output needs no sanitising: every
# character of the note is escaped, and the only tags are the ones written here.

_LEAD_OPEN, _LEAD_CLOSE = '<span class="fg-lead">', "</span> "  # a lead sentence the generator wrote
_CODE_OR_MATH = re.compile(r"``*|\$\$*")  # `+ and $+, each starting with its character (searched for first)
_LONE_BACKTICK = re.compile(r"`(?<!``)(?!`)")  # what closes a code span opened by one backtick
_STARS = re.compile(r"\*+")
_HOLE = "\x00"  # stands for a code span or math while emphasis is matched; punctuation to the rules
_ASCII_PUNCT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~" + _HOLE)
# Block syntax a line could start with (lists, quotes, headings, rules, fences) or be made of.
_BLOCK_START = re.compile(r"(?:\d{1,9}[.)]|[-+*])(?:\s|$)|[>#<\s]|[-_*=~`\s]+$|~~~|```")
# Plain text: none of markdown's inline syntax, no HTML, no entities, no control or invisible characters.
_PLAIN = re.compile(r"[^\\*_\[\]<>$&\n`\x00-\x1f\x7f-\xa0\u2000-\u200f\u2028-\u202f\u205f-\u206f]*")
_TAGS_WRITTEN = re.compile(r"</?(?:strong|em)>")


def _text(text: str) -> str:
    return html.escape(text, quote=False).replace("\xa0", "&nbsp;")


def _inline(text: str) -> str | None:
    """`text` rendered, if it is a single line of plain text, emphasis, code spans and `$` math."""
    if text.startswith(_LEAD_OPEN):
        lead, found, rest = text[len(_LEAD_OPEN) :].partition(_LEAD_CLOSE)
        if not found or "<" in lead:
            return None
        first, second = _inline(lead), _inline(rest)
        return None if first is None or second is None else f"{_LEAD_OPEN}{first}{_LEAD_CLOSE}{second}"
    if not text or "\n" in text or _HOLE in text or text != text.strip() or _BLOCK_START.match(text):
        return None
    holes, outside = _holes(text)
    if outside is None:
        return None
    marked = _emphasis(outside)
    if marked is None or marked.count("_____") > 1:
        return None
    # What is left must be plain text (the tags written above aside).
    for chunk in _TAGS_WRITTEN.split(marked):
        chunk = chunk.replace("_____", "", 1).replace(_HOLE, "")
        if "==" in chunk or "~~" in chunk or not _PLAIN.fullmatch(chunk):
            return None
    filled = iter(holes)
    return re.sub(_HOLE, lambda _: next(filled), marked)


def _holes(text: str) -> tuple[list[str], str | None]:
    """Code spans and `$` math rendered, each replaced by a hole in the text (they take precedence
    over emphasis and are read left to right, as markdown-it reads them); None for what it leaves."""
    holes: list[str] = []
    parts: list[str] = []
    position = 0
    for match in _CODE_OR_MATH.finditer(text):
        if match.start() < position:
            continue
        opener = match.group()
        if opener == "`":
            closer = _LONE_BACKTICK.search(text, match.end())
            end = closer.start() if closer else -1
        elif opener == "$":
            end = text.find("$", match.end())
        else:
            return holes, None  # ``double`` code, $$display$$ math: markdown-it's business
        if end < 0:
            return holes, None
        content = text[match.end() : end]
        if not content.strip() or content.endswith("\\"):
            return holes, None
        if opener == "`":
            if content.startswith(" ") and content.endswith(" "):
                content = content[1:-1]
            holes.append(f"<code>{_text(content)}</code>")
        else:
            holes.append("\\(" + _math(content) + "\\)")
        parts.append(text[position : match.start()])
        parts.append(_HOLE)
        position = end + 1
    parts.append(text[position:])
    return holes, "".join(parts)


def _emphasis(text: str) -> str | None:
    """`*em*` and `**strong**` as tags, when every run of stars plainly opens or closes and they
    pair in order without nesting; None otherwise."""
    pieces: list[str] = []
    position = 0
    open_run = ""
    for match in _STARS.finditer(text):
        run = match.group()
        before = text[match.start() - 1] if match.start() else " "
        after = text[match.end()] if match.end() < len(text) else " "
        if len(run) > 2 or not (before.isascii() and after.isascii()):
            return None
        left = not after.isspace() and (after not in _ASCII_PUNCT or before.isspace() or before in _ASCII_PUNCT)
        right = not before.isspace() and (before not in _ASCII_PUNCT or after.isspace() or after in _ASCII_PUNCT)
        if left == right or left != (not open_run) or (right and run != open_run):
            return None  # could both open and close, or neither, or does not pair: the full parser decides
        pieces.append(text[position : match.start()])
        pieces.append(("<strong>" if run == "**" else "<em>") if left else ("</strong>" if run == "**" else "</em>"))
        open_run = run if left else ""
        position = match.end()
    if open_run:
        return None
    pieces.append(text[position:])
    return "".join(pieces)
