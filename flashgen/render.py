"""Rendering: takeaway markdown to the sanitised HTML stored in Anki fields.

Anki runs the HTML and JavaScript it finds in cards, and notes may come from
anyone, so every string that reaches a field passes through `sanitise`.
Math is handed to Anki's MathJax as `\\(...\\)` and `\\[...\\]`, untouched by
the markdown parser.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import nh3
from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict
from mdit_py_plugins.dollarmath import dollarmath_plugin

_TAGS = {
    "a", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "i", "img", "kbd", "li", "mark", "ol", "p", "pre", "s", "span", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul",
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
_URL_SCHEMES = {"http", "https", "mailto"}


def sanitise(fragment: str) -> str:
    """Keep only harmless HTML: no script, style, frames, handlers or javascript: URLs."""
    return nh3.clean(
        fragment,
        tags=_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        clean_content_tags={"script", "style", "iframe", "object", "embed", "template", "noscript", "svg", "math"},
        link_rel="noopener noreferrer",
    )


def escape(text: str) -> str:
    """Plain text (front matter values, file names) as HTML."""
    return html.escape(text, quote=True)


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


_WIKILINK = re.compile(r"\[\[([^\[\]\n]+?)\]\]")


def _wikilink_rule(state: StateInline, silent: bool) -> bool:
    """Obsidian `[[target|alias]]` links, shown as their text (Anki cannot follow them)."""
    if not state.src.startswith("[[", state.pos):
        return False
    match = _WIKILINK.match(state.src, state.pos, state.posMax)
    if not match:
        return False
    if not silent:
        target, _, alias = match.group(1).partition("|")
        label = alias or target.split("#")[0].rsplit("/", 1)[-1] or target
        token = state.push("wikilink", "span", 0)
        token.content = label.strip()
    state.pos = match.end()
    return True


def _render_wikilink(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return f'<span class="wikilink">{escape(tokens[idx].content)}</span>'


def _render_math_inline(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "\\(" + escape(tokens[idx].content) + "\\)"


def _render_math_block(self: Any, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    return "\\[" + escape(tokens[idx].content.strip()) + "\\]\n"


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True, "breaks": False}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    md.inline.ruler.before("emphasis", "mark", _mark_rule)
    md.inline.ruler.before("link", "wikilink", _wikilink_rule)
    md.add_render_rule("wikilink", _render_wikilink)
    md.add_render_rule("math_inline", _render_math_inline)
    md.add_render_rule("math_inline_double", _render_math_block)
    md.add_render_rule("math_block", _render_math_block)
    md.add_render_rule("math_block_label", _render_math_block)
    return md


_MD = _make_parser()


def markdown(text: str) -> str:
    """Render markdown to sanitised HTML; a single paragraph loses its `<p>` wrapper."""
    rendered = _MD.render(text).strip()
    if rendered.count("<p>") == 1 and rendered.startswith("<p>") and rendered.endswith("</p>"):
        rendered = rendered[3:-4]
    return sanitise(rendered)


def inline_tokens(text: str) -> list[Token]:
    """The block tokens of `text`, for stages that look at its structure (emphasis spans)."""
    return _MD.parse(text)


def render_tokens(tokens: Sequence[Token]) -> str:
    """Render tokens from `inline_tokens` (possibly rewritten) to sanitised HTML."""
    rendered = _MD.renderer.render(tokens, _MD.options, {}).strip()
    if rendered.count("<p>") == 1 and rendered.startswith("<p>") and rendered.endswith("</p>"):
        rendered = rendered[3:-4]
    return sanitise(rendered)
