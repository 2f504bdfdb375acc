"""Takeaways: the list items of a note that hold what its author wants to remember.

A note names its takeaways with a heading or a lead-in paragraph ("Key
takeaways", "Lessons learned:", "Summary", ...); the lists that follow it are
the takeaways. A note without such a marker (or whose marked lists are empty)
falls back to its top-level lists, except lists under headings such as "Further
reading", lists made only of links, index lists whose every item starts with a
link (a map of other notes), and items that are nothing but a link. Nested
items stay attached to their parent. HTML comments and Hugo/Zola shortcodes are
not part of a takeaway's text.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .notes import SourceNote
from .records import by_value


@by_value
@dataclass(frozen=True, slots=True)
class Takeaway:
    """One takeaway: the markdown of a list item, where it came from, and its nested items."""

    note: SourceNote = field(compare=False, repr=False)
    text: str
    line: int  # 1-based line in the note file
    section: str = ""  # the heading the takeaway stands under
    children: tuple[Takeaway, ...] = ()

    @property
    def location(self) -> str:
        return f"{self.note.rel}:{self.line}"

    @property
    def full_text(self) -> str:
        """The takeaway's markdown with its nested items as a bulleted list."""
        if not self.children:
            return self.text
        return self.text + "\n\n" + bullets(self.children)


def bullets(items: Sequence[Takeaway]) -> str:
    """Takeaways as a markdown bulleted list, nested items indented under their parent."""
    return "\n".join("- " + item.full_text.replace("\n", "\n  ") for item in items)


# What a heading or lead-in paragraph says when the list after it holds takeaways. Strong words
# name takeaways even inside a sentence ("Key takeaways from the talk:"); weak ones only in a
# heading or a lead-in that is little more than the word ("**Summary**"), because in a sentence
# they mostly mean something else ("this conclusion is tentative:", "can be summarized as:").
_STRONG = re.compile(
    r"\b(?:key\s+(?:takeaways?|take-aways?|points?|ideas?|insights?|lessons?|learnings?|findings?|facts?|concepts?)"
    r"|takeaways?|take-aways?|lessons?\s+learn[et]d?|learnings|main\s+(?:points?|ideas?)|tl;?dr"
    r"|what\s+i(?:'ve|\s+have)?\s+learn[et]d?)\b"
    r"|まとめ|要点|学び|学んだこと|教訓",
    re.IGNORECASE,
)
_WEAK = re.compile(r"\b(?:lessons?|summary|summari[sz]ed|highlights|conclusions?|insights)\b", re.IGNORECASE)
# Headings whose lists are references, not knowledge.
_NOT_KNOWLEDGE = re.compile(
    r"^\W*(?:further\s+reading|reading\s+list|references?|links?|resources?|see\s+also|sources?|related"
    r"|bibliography|footnotes?|(?:table\s+of\s+)?contents|credits|acknowledge?ments?|tags|backlinks)\b"
    r"|^\W*(?:参考|参照|関連|リンク|出典|目次)",
    re.IGNORECASE,
)
_LINK = r"!?\[[^\]]*\]\([^)]*\)|\[\[[^\]]*\]\]|<[a-z]+://[^>]*>|\b[a-z]+://\S+"
_LINKS = re.compile(_LINK, re.IGNORECASE)
_LEADING_LINK = re.compile(rf"^[\s*_~\"'(]*(?:{_LINK})", re.IGNORECASE)
# Not part of the text: HTML comments, Hugo shortcodes (`{{< img >}}`, `{{% note %}}`) and Zola
# shortcodes (`{{ figure(...) }}`, `{% quote() %}...{% end %}`). Code spans are matched first so
# that a shortcode quoted in backticks stays.
_NOISE = re.compile(
    r"(?P<code>`+).+?(?P=code)"
    r"|<!--.*?-->"
    r"|\{\{<.*?>\}\}|\{\{%.*?%\}\}"
    r"|\{\{\s*[A-Za-z_][\w-]*\s*\(.*?\)\s*\}\}|\{%-?\s*(?:end\b|[A-Za-z_][\w-]*\s*\().*?-?%\}",
    re.DOTALL,
)
_LIST_TYPES = ("bullet_list", "ordered_list")


def _parser() -> MarkdownIt:
    # markdown-it silently drops what is nested deeper than `maxNesting` (20 in CommonMark mode,
    # about ten list levels); allow more, well within Python's recursion limit.
    md = MarkdownIt("commonmark", {"html": True, "maxNesting": 64}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=True, double_inline=True)
    # Only the block structure is read: inline markup is left as text, for the cards to render.
    return md.disable("inline")


_MD = _parser()


class _Block:
    """A block of the note (a heading, paragraph, list, item, code, ...) and the blocks inside it:
    markdown-it's syntax tree, kept to what the takeaways are read from, with plain attributes."""

    __slots__ = ("children", "content", "map", "tag", "type")

    def __init__(self, kind: str, tag: str, where: list[int] | None, content: str = "") -> None:
        self.type, self.tag, self.map, self.content = kind, tag, where, content
        self.children: list[_Block] = []

    @classmethod
    def tree(cls, tokens: Sequence[Token]) -> _Block:
        """The root block of a token stream: a container per opening token, a leaf per other one."""
        root = cls("root", "", None)
        stack = [root]
        for token in tokens:
            if token.nesting == 1:
                block = cls(token.type.removesuffix("_open"), token.tag, token.map)
                stack[-1].children.append(block)
                stack.append(block)
            elif token.nesting == -1:
                stack.pop()
            else:
                stack[-1].children.append(cls(token.type, token.tag, token.map, token.content))
        return root


def extract(note: SourceNote, *, prose: bool = False) -> tuple[Takeaway, ...]:
    """The takeaways of a note, in document order. With `prose`, the paragraphs of headed
    sections are takeaways too (for notes written as prose rather than bullets)."""
    root = _Block.tree(_MD.parse(note.body))
    blocks = [b for b in root.children if not _is_noise(b)]
    # The takeaways hold their note without its body: each has its own text, and the body would
    # otherwise travel with every card (between processes, into the cache).
    owner = replace(note, body="")
    marked = _Reader(owner, note.body, drop_links=False)
    found = tuple(t for lst, section in _marked_lists(blocks) for t in marked.items(lst, section))
    if not found:
        fallback = _Reader(owner, note.body, drop_links=True)
        found = tuple(t for lst, section in _fallback_lists(blocks) for t in fallback.items(lst, section))
    if prose:
        found = tuple(sorted((*found, *_prose(blocks, owner)), key=lambda t: t.line))
    return found


PROSE_MIN_WORDS = 8  # a shorter paragraph is a caption or a transition, not a takeaway


def _prose(blocks: Sequence[_Block], note: SourceNote) -> Iterator[Takeaway]:
    """The paragraphs under headings (not the intro before the first heading, not lead-ins to a
    list, not "Further reading" sections)."""
    for block, section, excluded in _sections(blocks):
        if block.type != "paragraph" or not section or excluded or block.map is None:
            continue
        text = _inline_text(block)
        if len(text.split()) >= PROSE_MIN_WORDS and not _is_lead_in(block) and not _is_link(text, 3):
            yield Takeaway(note, text, note.body_line + block.map[0], section)


def _items(lst: _Block) -> list[_Block]:
    return [c for c in lst.children if c.type == "list_item"]


def _heading_level(node: _Block) -> int:
    return int(node.tag[1]) if node.type == "heading" else 0


def _inline_text(node: _Block) -> str:
    return " ".join(_without_noise(c.content) for c in node.children if c.type == "inline").strip()


def _without_noise(text: str) -> str:
    if "<!--" not in text and "{{" not in text and "{%" not in text:
        return text  # no comment or shortcode (code spans alone are kept as they are)
    marked = _NOISE.sub(lambda m: m.group(0) if m.group("code") else "\0", text)  # markdown-it has no NULs
    if marked == text:
        return text
    lines = []
    for line in marked.split("\n"):
        if "\0" in line:
            line = re.sub(r"[ \t]*(?:\0[ \t]*)+", " ", line).strip(" ")
        if line.strip():
            lines.append(line)
    return "\n".join(lines).strip()


def _is_noise(block: _Block) -> bool:
    """A block that says nothing to a reader: an HTML comment, a shortcode (a figure), an empty paragraph."""
    if block.type == "html_block":
        return not _without_noise(block.content).strip()
    return block.type == "paragraph" and not _inline_text(block)


def _marked_lists(blocks: Sequence[_Block]) -> Iterator[tuple[_Block, str]]:
    """Lists under a marker heading (until the next heading of the same or a higher level)
    and lists right after a marker lead-in paragraph.

    A marker heading directly followed by a heading of its own level is a divider ("## Key
    takeaways", then "## Topic one", "## Topic two"): it covers those headings, until one of a
    higher level.
    """
    in_scope = False
    scope_end = 0  # a heading of this level or a higher one (a smaller number) ends the scope
    excluded_level = 0  # level of a "References" heading inside the scope; 0 = none
    section = ""
    previous: _Block | None = None
    for i, block in enumerate(blocks):
        level = _heading_level(block)
        if level:
            section = _inline_text(block)
            if in_scope and level <= scope_end:
                in_scope, excluded_level = False, 0
            if excluded_level and level <= excluded_level:
                excluded_level = 0
            if not in_scope and (_STRONG.search(section) or _WEAK.search(section)):
                in_scope = True
                divider = i + 1 < len(blocks) and _heading_level(blocks[i + 1]) == level
                scope_end = level - 1 if divider else level
            elif in_scope and not excluded_level and _NOT_KNOWLEDGE.search(section):
                excluded_level = level
        elif block.type in _LIST_TYPES and (
            (in_scope and not excluded_level) or (previous is not None and _is_lead_in(previous))
        ):
            yield block, section
        previous = block


def _is_lead_in(block: _Block) -> bool:
    """A paragraph that announces takeaways: "Key takeaways from the talk:", "**Summary**", "まとめ"."""
    if block.type != "paragraph":
        return False
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|(?<=[。！？])", _inline_text(block)) if s.strip()]
    if not sentences:
        return False
    plain = sentences[-1].strip("*_ \t")
    if plain.endswith((":", "：")) and _STRONG.search(plain):
        return True
    rest = _WEAK.sub(" ", _STRONG.sub(" ", plain))
    return rest != plain and len(re.findall(r"\w+", rest)) <= 2 and len(re.sub(r"\W", "", rest)) <= 12


def _sections(blocks: Sequence[_Block]) -> Iterator[tuple[_Block, str, bool]]:
    """Each block that is not a heading, with the heading it stands under and whether that
    section holds references ("Further reading", ...) rather than knowledge."""
    excluded_level = 0
    section = ""
    for block in blocks:
        level = _heading_level(block)
        if not level:
            yield block, section, bool(excluded_level)
            continue
        section = _inline_text(block)
        if excluded_level and level <= excluded_level:
            excluded_level = 0
        if not excluded_level and _NOT_KNOWLEDGE.search(section):
            excluded_level = level


def _fallback_lists(blocks: Sequence[_Block]) -> Iterator[tuple[_Block, str]]:
    for block, section, excluded in _sections(blocks):
        if block.type in _LIST_TYPES and not excluded and not _only_links(block) and not _is_index(block):
            yield block, section


def _item_text(item: _Block) -> str:
    return " ".join(_inline_text(c) for c in item.children if c.type == "paragraph")


def _is_link(text: str, words: int = 0) -> bool:
    """Text that is a link with at most `words` words around it."""
    rest, links = _LINKS.subn(" ", text)
    return bool(links) and len(re.findall(r"\w+", rest)) <= words


def _only_links(lst: _Block) -> bool:
    """A list each of whose items is a link with at most a few words around it ("See [this](...)")."""
    return all(_is_link(_item_text(item), words=3) for item in _items(lst))


def _is_index(lst: _Block) -> bool:
    """A list each of whose items starts with a link (`[[fallacy]] - what it is`): a map of other
    notes or pages, whose knowledge lives there."""
    return all(_LEADING_LINK.match(_item_text(item)) for item in _items(lst))


class _Reader:
    """Turns list items into takeaways, keeping their markdown source.

    With `drop_links` (lists found without a marker) an item that is nothing but a link, or whose
    nested items all were, is dropped: it points to knowledge rather than holding it.
    """

    def __init__(self, note: SourceNote, body: str, *, drop_links: bool) -> None:
        self.note = note  # the takeaways' note
        self.lines = body.split("\n")
        self.drop_links = drop_links

    def items(self, lst: _Block, section: str) -> Iterator[Takeaway]:
        for item in _items(lst):
            yield from self.item(item, section)[0]

    def item(self, item: _Block, section: str) -> tuple[tuple[Takeaway, ...], bool]:
        """The takeaways an item makes (itself, or its nested items when it has no text of its
        own) and whether it was dropped for being a link."""
        parts: list[str] = []
        children: list[Takeaway] = []
        nested_links: list[bool] = []
        for block in item.children:
            if block.type in _LIST_TYPES:
                for sub in _items(block):
                    found, link = self.item(sub, section)
                    children.extend(found)
                    nested_links.append(link)
            elif block.type == "paragraph":
                parts.append(_inline_text(block))
            elif not _is_noise(block):
                parts.append(self._source(block, item))
        text = "\n\n".join(p for p in parts if p.strip()).strip()
        if self.drop_links and not children and ((nested_links and all(nested_links)) or _is_link(text)):
            return (), True
        if not text:
            # An item that is only a nested list: its items are the takeaways.
            return tuple(children), False
        assert item.map is not None
        line = self.note.body_line + item.map[0]
        return (Takeaway(self.note, text, line, section, tuple(children)),), False

    def _source(self, block: _Block, item: _Block) -> str:
        """The source lines of a non-paragraph block inside an item (code, quote, table), dedented."""
        if block.map is None:
            return ""
        start, end = block.map
        lines = self.lines[start:end]
        indent = _content_indent(self.lines[item.map[0]] if item.map else "")
        if item.map and start == item.map[0]:
            lines[0] = lines[0][indent:]
        out = []
        for line in lines:
            strip = min(indent, len(line) - len(line.lstrip(" ")))
            out.append(line[strip:])
        return "\n".join(out).rstrip()


_ITEM_START = re.compile(r"^(\s*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+|$))")


def _content_indent(line: str) -> int:
    match = _ITEM_START.match(line)
    return len(match.group(1)) if match else 0
