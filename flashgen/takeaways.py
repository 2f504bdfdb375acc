"""Takeaways: the list items of a note that hold what its author wants to remember.

A note names its takeaways with a heading or a lead-in paragraph ("Key
takeaways", "Lessons learned:", "Summary", ...); the lists that follow it are
the takeaways. A note without such a marker falls back to its top-level lists,
except lists made only of links and lists under headings such as "Further
reading". Nested items stay attached to their parent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.tree import SyntaxTreeNode
from mdit_py_plugins.dollarmath import dollarmath_plugin

from .notes import SourceNote


@dataclass(frozen=True)
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


# What a heading or lead-in paragraph says when the list after it holds takeaways.
_MARKER = re.compile(
    r"\b(?:key\s+(?:takeaways?|take-aways?|points?|ideas?|insights?|lessons?|learnings?|findings?|facts?|concepts?)"
    r"|takeaways?|take-aways?|lessons?(?:\s+learn[et]d?)?|learnings?|main\s+(?:points?|ideas?)"
    r"|summary|summari[sz]ed|tl;?dr|highlights|what\s+i\s+learn[et]d?|conclusions?|insights)\b"
    r"|まとめ|要点|学び",
    re.IGNORECASE,
)
# Headings whose lists are references, not knowledge.
_NOT_KNOWLEDGE = re.compile(
    r"^\W*(?:further\s+reading|reading\s+list|references?|links?|resources?|see\s+also|sources?|related"
    r"|bibliography|footnotes?|(?:table\s+of\s+)?contents|credits|acknowledge?ments?|tags|backlinks)\b",
    re.IGNORECASE,
)
_LINKS = re.compile(r"!?\[[^\]]*\]\([^)]*\)|\[\[[^\]]*\]\]|<[a-z]+://[^>]*>|\b[a-z]+://\S+", re.IGNORECASE)
_LIST_TYPES = ("bullet_list", "ordered_list")


def _parser() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md.use(dollarmath_plugin, allow_space=True, double_inline=True)


_MD = _parser()


def extract(note: SourceNote) -> tuple[Takeaway, ...]:
    """The takeaways of a note, in document order."""
    root = SyntaxTreeNode(_MD.parse(note.body))
    reader = _Reader(note)
    blocks = list(root.children)
    marked = list(_marked_lists(blocks))
    lists = marked if any(_items(lst) for lst, _ in marked) else list(_fallback_lists(blocks))
    return tuple(t for lst, section in lists for t in reader.items(lst, section))


def _items(lst: SyntaxTreeNode) -> list[SyntaxTreeNode]:
    return [c for c in lst.children if c.type == "list_item"]


def _heading_level(node: SyntaxTreeNode) -> int:
    return int(node.tag[1]) if node.type == "heading" else 0


def _inline_text(node: SyntaxTreeNode) -> str:
    return " ".join(c.content for c in node.children if c.type == "inline").strip()


def _marked_lists(blocks: Sequence[SyntaxTreeNode]) -> Iterator[tuple[SyntaxTreeNode, str]]:
    """Lists under a marker heading (until the next heading of the same or a higher level)
    and lists right after a marker lead-in paragraph."""
    scope_level = 0  # level of the marker heading whose scope we are in; 0 = none
    section = ""
    previous: SyntaxTreeNode | None = None
    for block in blocks:
        level = _heading_level(block)
        if level:
            section = _inline_text(block)
            if scope_level and level <= scope_level:
                scope_level = 0
            if not scope_level and _MARKER.search(section):
                scope_level = level
        elif block.type in _LIST_TYPES:
            if scope_level or (previous is not None and _is_lead_in(previous)):
                yield block, section
        previous = block


def _is_lead_in(block: SyntaxTreeNode) -> bool:
    if block.type != "paragraph":
        return False
    text = _inline_text(block)
    last = re.split(r"(?<=[.!?])\s+", text)[-1]
    plain = last.strip("*_ ")
    return bool(_MARKER.search(last)) and (plain.endswith(":") or len(plain.split()) <= 4)


def _fallback_lists(blocks: Sequence[SyntaxTreeNode]) -> Iterator[tuple[SyntaxTreeNode, str]]:
    excluded_level = 0
    section = ""
    for block in blocks:
        level = _heading_level(block)
        if level:
            section = _inline_text(block)
            if excluded_level and level <= excluded_level:
                excluded_level = 0
            if not excluded_level and _NOT_KNOWLEDGE.search(section):
                excluded_level = level
        elif block.type in _LIST_TYPES and not excluded_level and not _only_links(block):
            yield block, section


def _only_links(lst: SyntaxTreeNode) -> bool:
    """A list each of whose items is a link with at most a few words around it."""
    for item in _items(lst):
        text = " ".join(_inline_text(c) for c in item.children if c.type == "paragraph")
        rest, links = _LINKS.subn(" ", text)
        if not links or len(re.findall(r"\w+", rest)) > 3:
            return False
    return True


class _Reader:
    """Turns list items into takeaways, keeping their markdown source."""

    def __init__(self, note: SourceNote) -> None:
        self.note = note
        self.lines = note.body.split("\n")

    def items(self, lst: SyntaxTreeNode, section: str) -> Iterator[Takeaway]:
        for item in _items(lst):
            takeaway = self.item(item, section)
            if takeaway is not None:
                yield takeaway

    def item(self, item: SyntaxTreeNode, section: str) -> Takeaway | None:
        parts: list[str] = []
        children: list[Takeaway] = []
        for block in item.children:
            if block.type in _LIST_TYPES:
                children.extend(self.items(block, section))
            elif block.type == "paragraph":
                parts.append(_inline_text(block))
            else:
                parts.append(self._source(block, item))
        text = "\n\n".join(p for p in parts if p.strip()).strip()
        if not text:
            if not children:
                return None
            # An item that is only a nested list: its children are the takeaways.
            first, *rest = children
            return Takeaway(self.note, first.text, first.line, section, first.children + tuple(rest))
        assert item.map is not None
        return Takeaway(self.note, text, self.note.body_line + item.map[0], section, tuple(children))

    def _source(self, block: SyntaxTreeNode, item: SyntaxTreeNode) -> str:
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
