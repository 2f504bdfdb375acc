"""Takeaways: the parts of a note that hold what its author wants to remember.

A note names its takeaways with a heading or a lead-in paragraph ("Key
takeaways", "Lessons learned:", "Summary", "TL;DR", "まとめ", "总结", ...): the
lists that follow it are the takeaways, and so are its points written one per
line without list markers (or numbered `1.item`, as Chinese notes often are),
and the sentences of its paragraphs. A note without a marked list falls back to
its top-level lists, except lists that are not knowledge: references and links
("Further reading", "参考文献"), authors, to-do and to-read lists, metadata
("Author: ... Pages: ..."), equipment, index lists whose every item starts with
a link (a map of other notes), and items that are nothing but a link. A note
with none of these falls back to its points and paragraphs. Nested items stay
attached to their parent.

A page or place in the source written before a point (`pg 19:`, `p. 19`,
`(p. 19)`, `loc 1234`, `12:34` in talk notes) is its `locator`, not its text.
HTML comments, Hugo/Zola shortcodes and emoji shortcodes (`:bulb:`, rendered as
the emoji) are not left in a takeaway's text. `explain` says why a note has no
takeaway and where flashgen looked.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from . import authored, language
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
    locator: str = ""  # where in the source the author found it: "p. 19", "loc. 1234", "12:34"
    card: authored.AuthoredCard | None = None  # the card the author wrote, when the takeaway is one
    # Read from a paragraph in case it holds a definition or a cause (the sections of a Japanese or
    # Chinese note), not marked by the author: `check` does not list it when it makes no card.
    guessed: bool = False

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
    r"|takeaways?|take-aways?|lessons?\s+learn[et]d?|learnings|main\s+(?:points?|ideas?)|tl;?\s?dr"
    r"|what\s+i(?:'ve|\s+have)?\s+learn[et]d?)\b"
    r"|まとめ|要点|要約|学び|学んだこと|教訓|总结|總結|小结|小結|要点|重点|重點|心得|收获|收穫|启示|啟示",
    re.IGNORECASE,
)
_WEAK = re.compile(
    r"\b(?:lessons?|summary|summari[sz]ed|highlights|conclusions?|insights|in\s+short|bottom\s+line)\b|结论|結論|結び",
    re.IGNORECASE,
)
# Headings (and lead-ins) whose lists are not knowledge: references, links, authors, to-do and
# to-read lists, metadata, equipment.
_NOT_KNOWLEDGE = re.compile(
    r"^\W*(?:further\s+reading|reading\s+list|references?|links?|resources?|see\s+also|sources?|related"
    r"|bibliography|footnotes?|(?:table\s+of\s+)?contents|credits|acknowledge?ments?|tags|backlinks)\b"
    r"|^\W*(?:参考|参照|関連|リンク|出典|目次|相关|相關|链接|連結|延伸阅读|延伸閱讀)"
    # these words only as the whole heading: "Index funds", "Setup costs" and "People skills" are topics
    r"|^\W*(?:authors?|contributors|people|speakers?|to\s*-?\s*dos?|tbd|to[\s-]+read|reading\s+queue|backlog"
    r"|(?:book\s+|general\s+|basic\s+)?(?:info|information|metadata)|about\s+(?:the\s+)?(?:book|author)"
    r"|equipment|gear|my\s+(?:setup|gear|tools)|hardware|what\s+i\s+use|index|navigation|pages|notes\s+index"
    r"|recommended\s+(?:reading|books|resources)|作者|著者|书籍信息|書籍情報|基本信息|基本情報|待读|待辦|待办|積読"
    # the book read, how the author came to it, their impressions, the venue of an event
    r"|読んだ本|読んだもの|読んだ本\W*|きっかけ|[^\s]{0,8}のきっかけ|感想|おわりに|最後に|次回|会場|懇談会|自己紹介)\W*$",
    re.IGNORECASE,
)
# (bounded: from a `[` with no `]`, an unbounded match would search the rest of the text; a thousand
# of them would take quadratic time)
_LINK = r"!?\[[^\]]{0,4000}\]\([^)]{0,4000}\)|\[\[[^\]]{0,4000}\]\]|<[a-z]+://[^>]{0,4000}>|\b[a-z]+://\S+"
_LINKS = re.compile(_LINK, re.IGNORECASE)
_LEADING_LINK = re.compile(rf"^[\s*_~\"'(]*(?:{_LINK})", re.IGNORECASE)
# Not part of the text: HTML comments, Obsidian block ids, Hugo shortcodes (`{{< img >}}`, `{{% note %}}`) and Zola
# shortcodes (`{{ figure(...) }}`, `{% quote() %}...{% end %}`). Code spans are matched first so
# that a shortcode quoted in backticks stays.
_NOISE = re.compile(
    r"(?P<code>`+).{1,4000}?(?P=code)"
    r"|<!--.*?-->"
    r"|\{\{<.*?>\}\}|\{\{%.*?%\}\}"
    r"|\{\{\s*[A-Za-z_][\w-]*\s*\(.*?\)\s*\}\}|\{%-?\s*(?:end\b|[A-Za-z_][\w-]*\s*\().*?-?%\}"
    r"|(?m:(?:(?<=[ \t])|^)\^[A-Za-z0-9-]+[ \t]*$)",  # an Obsidian block id (`^abc123`) ending a line
    re.DOTALL,
)
# Emoji shortcodes (`:bulb:`, `:+1:`), outside code and math; their neighbours are not letters or
# colons, so `std::vector`, `a:b:c` and times stay. (Every branch starts with its character and the
# neighbour before the colon is checked after it, `:(?<![\w:]:)`: the regex engine then skips
# straight to the next backtick, dollar or colon instead of trying every position.)
_SHORTCODE = re.compile(r"(?P<code>`+).+?(?P=code)|\$[^$\n]+\$|:(?<![\w:]:)[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])")
_SHORTCODE_NAME = re.compile(r":(?<![\w:]:)[a-z0-9_+-]*[a-z][a-z0-9_+-]*:(?![\w:])")  # its last branch alone
_LIST_TYPES = ("bullet_list", "ordered_list")

# A page or place in the source before a point (`pg 19:`, `p. 19 -`, `(p. 19)`, `pp. 3-5`,
# `loc 1234`, `Location 1234`, `[12:34]`, `1:02:03 -`), or after it in brackets or after a dash.
_PAGE = (
    r"(?P<kind>pp?\.?|pgs?\.?|pages?|loc\.?|locations?|kindle\s+loc(?:ation)?\.?)\s*(?P<place>\d+(?:\s*[-–]\s*\d+)?)"
)
_TIME = r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?)"
_LOCATOR_BEFORE = re.compile(
    rf"^(?P<open>[(\[])?\s*(?:{_PAGE}|{_TIME})\s*(?(open)[)\]])\s*(?:[:：\-–—|]\s*|\s+(?=\S))", re.IGNORECASE
)
_LOCATOR_AFTER = re.compile(
    rf"\s*(?:(?P<open>[(\[])|[-–—,]\s+)\s*{_PAGE}\s*(?(open)[)\]])\s*(?P<stop>[.。]?)$", re.IGNORECASE
)

# A point numbered without a space (`1.item`, `2、item`, `3)item`): not a list for markdown.
_NUMBERED_LINE = re.compile(r"^\s*(?:\d{1,3}|[a-zA-Z])(?:[.．、)）]|\s*[、.．])\s*(?=\S)")
# Placeholders and tasks, not knowledge: "TBD", "TODO: read", "- [ ] read the book", "…".
_PLACEHOLDER = re.compile(
    r"^\W*(?:tbd|tbc|todo|to\s*do|wip|tk|coming\s+soon|fill\s+in(?:\s+later)?|待补充|待完成|未完成|準備中|作成中)\b.*$"
    r"|^\s*\[[ xX\-/>]?\]\s|^\W*$",
    re.IGNORECASE,
)
# A metadata line: a short key from the vocabulary of book and page information, then its value.
_METADATA = re.compile(
    r"^\W*(?:author|authors|by|title|subtitle|pages?|publisher|published|publication\s+date|isbn(?:-1[03])?|year"
    r"|date|dates?\s+read|read|finished|started|rating|stars|genre|language|edition|format|source|link|url|tags?"
    r"|categor(?:y|ies)|status|type|aliases|up|related|topics?|series|translator|length|duration|speaker|event"
    r"|venue|conference|journal|doi|arxiv|recommended\s+by|how\s+i\s+found\s+it|著者|作者|出版社|出版|ページ数?"
    r"|页数|頁數|评分|評価|発行|发行|译者|訳者|タグ|标签|日期|日付)\W*\s*(?:[:：=]|::)\s*\S",
    re.IGNORECASE,
)


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

    __slots__ = ("children", "content", "map", "tag", "text", "type")

    def __init__(self, kind: str, tag: str, where: list[int] | None, content: str = "") -> None:
        self.type, self.tag, self.map, self.content = kind, tag, where, content
        self.children: list[_Block] = []
        self.text: str | None = None  # `_inline_text`, once it was asked for

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


def extract(
    note: SourceNote, *, prose: bool = False, syntax: authored.Syntax = authored.DEFAULT
) -> tuple[Takeaway, ...]:
    """The takeaways of a note, in document order. With `prose`, the paragraphs of headed
    sections are takeaways too (for notes written as prose rather than bullets). Cards the
    author wrote (`syntax`) are takeaways wherever they are in the note."""
    return _Extraction(note, prose, syntax).found


def explain(note: SourceNote, *, prose: bool = False, syntax: authored.Syntax = authored.DEFAULT) -> str:
    """Why a note has no takeaway, and where flashgen looked; "" when it has some."""
    return _Extraction(note, prose, syntax).reason()


def extract_explained(
    note: SourceNote, *, prose: bool = False, syntax: authored.Syntax = authored.DEFAULT
) -> tuple[tuple[Takeaway, ...], str]:
    """`extract` and `explain` at once, reading the note once."""
    found = _Extraction(note, prose, syntax)
    return found.found, found.reason()


def _walk(found: Sequence[Takeaway]) -> Iterator[Takeaway]:
    for takeaway in found:
        yield takeaway
        yield from _walk(takeaway.children)


def _with_authored(
    found: tuple[Takeaway, ...], root: _Block, note: SourceNote, owner: SourceNote, syntax: authored.Syntax
) -> tuple[Takeaway, ...]:
    """The takeaways with the cards the author wrote in any paragraph of the note: a takeaway
    that holds one becomes it (keeping its nested items), and no card is made twice."""
    lines = note.body.split("\n")
    tagged = authored.tagged(note.tags, note.body, syntax)
    in_takeaways = sorted(t.line for t in _walk(found))
    written: dict[int, list[Takeaway]] = {}  # by the line of the paragraph they are written in
    covered: list[tuple[int, int]] = []  # lines of the paragraphs that hold cards, and of the blocks taken as answers
    for paragraph, before, after, section in _paragraphs(root):
        assert paragraph.map is not None
        start, end = note.body_line + paragraph.map[0], note.body_line + paragraph.map[1]
        following = heading = ""
        if after is not None and after.map is not None and after.map[0] == paragraph.map[1]:
            following = "\n".join(_until_blank(lines[after.map[0] : after.map[1]]))
        if before is not None and before.type == "heading" and before.map and before.map[1] == paragraph.map[0]:
            heading = _inline_text(before)
        taken = any(start <= line < end for line in in_takeaways)  # (a paragraph read as sentences too)
        found_here = authored.find(
            _inline_text(paragraph), syntax, marked=tagged or taken, following=following, heading=heading
        )
        for card in found_here:
            if card.card is not None:
                line = start + card.offset
                written.setdefault(start, []).append(Takeaway(owner, card.text, line, section, card=card.card))
        if found_here:
            covered.append((start, end))
        if found_here and found_here[0].took_following:
            covered.append((end, end + following.count("\n") + 1))
    if not covered:
        return found

    hoisted: list[Takeaway] = []  # cards written in nested items: cards of their own, not items of their parent

    def merged(takeaway: Takeaway) -> list[Takeaway]:
        children: list[Takeaway] = []
        for child in takeaway.children:
            for made in merged(child):
                (hoisted if made.card is not None else children).append(made)
        cards = written.pop(takeaway.line, None)
        if cards is not None:
            if len(cards) == 1 and cards[0].line == takeaway.line:
                return [replace(cards[0], section=takeaway.section, children=tuple(children))]
            return [*cards, *children]
        if any(a <= takeaway.line < b for a, b in covered):
            return children
        if len(children) == len(takeaway.children) and all(map(operator.is_, children, takeaway.children)):
            return [takeaway]
        return [replace(takeaway, children=tuple(children))]

    out = [t for takeaway in found for t in merged(takeaway)]
    out.extend(hoisted)
    out.extend(t for cards in written.values() for t in cards)
    return tuple(sorted(out, key=lambda t: t.line))


def _paragraphs(root: _Block) -> Iterator[tuple[_Block, _Block | None, _Block | None, str]]:
    """Every paragraph of the note (in lists and quotes too), the blocks right before and after
    it, and the heading it stands under."""
    section = ""

    def walk(block: _Block) -> Iterator[tuple[_Block, _Block | None, _Block | None, str]]:
        nonlocal section
        for index, child in enumerate(block.children):
            if child.type == "heading":
                section = _inline_text(child)
            elif child.type == "paragraph" and child.map is not None:
                before = block.children[index - 1] if index else None
                after = block.children[index + 1] if index + 1 < len(block.children) else None
                yield child, before, after, section
            elif child.children and child.type != "inline":
                yield from walk(child)

    yield from walk(root)


def _until_blank(lines: Sequence[str]) -> list[str]:
    out = []
    for line in lines:
        if not line.strip():
            break
        out.append(line)
    return out


# A term in bold at the start of a sentence, then what it is: "A **monomorphism** is ...", "The
# **standard deviation** of a distribution is ...", "**Anki** is ...".
_DEFINING = re.compile(
    r"^(?:(?:a|an|the)\s+)?(?:\*\*|__)[^*_\n]{2,60}(?:\*\*|__)(?:\s+(?:of|in|for)\s+(?:a|an|the)\s+\w+)?"
    r"(?:\s+(?:or|also called|\()[^.]{0,80}?)?\s+(?:is|are|refers?\s+to|means|denotes)\s+\S",
    re.IGNORECASE,
)
PROSE_MIN_WORDS = 8  # a shorter paragraph is a caption or a transition, not a takeaway
PROSE_MIN_CHARS = 20  # ... or, in Chinese and Japanese, which have no spaces, a shorter one


class _Extraction:
    """The takeaways of one note, and what was passed over on the way (for `explain`)."""

    def __init__(self, note: SourceNote, prose: bool, syntax: authored.Syntax = authored.DEFAULT) -> None:
        root = _Block.tree(_MD.parse(note.body))
        self.blocks = [b for b in root.children if not _is_noise(b)]
        # The takeaways hold their note without its body: each has its own text, and the body would
        # otherwise travel with every card (between processes, into the cache).
        self.owner = replace(note, body="")
        self.lines = note.body.split("\n")
        self.skipped: list[tuple[int, str]] = []  # (file line, why a list or paragraph made no takeaway)
        self.markers: list[str] = []  # the marker headings and lead-ins found
        self.used: set[int] = set()  # first lines of the paragraphs read for takeaways
        marked = _Reader(self.owner, note.body, drop_links=False)
        found: list[Takeaway] = []
        paragraphs: list[Takeaway] = []
        for block, section in _marked_blocks(self.blocks, self.markers):
            if block.type in _LIST_TYPES:
                if self._knowledge(block, section):
                    found.extend(marked.items(block, section))
            else:
                paragraphs.extend(self._paragraph(block, section, sentences=True))
        if not found:
            fallback = _Reader(self.owner, note.body, drop_links=True)
            for lst, section in _fallback_lists(self.blocks, self.skipped, note.body_line):
                if self._knowledge(lst, section):
                    found.extend(fallback.items(lst, section))
        found = sorted([*found, *paragraphs], key=lambda t: t.line)
        if prose:
            more = [t for t in _prose(self.blocks, self.owner) if t.line not in self.used]
            found = sorted([*found, *more], key=lambda t: t.line)
        elif not found:
            found = list(self._points_and_paragraphs())
        elif language.written_in(note.body) != "en":
            # Japanese and Chinese notes keep their knowledge in the paragraphs of each chapter's
            # section; a まとめ or 总结 section mostly holds the author's impressions.
            found = sorted([*found, *self._section_paragraphs()], key=lambda t: t.line)
        else:  # a note of lists: the sentences that define a term the author set in bold are takeaways too
            found = sorted([*found, *self._definitions()], key=lambda t: t.line)
        self.found = tuple(found)
        if authored.mentions(note.body, syntax):
            self.found = _with_authored(self.found, root, note, self.owner, syntax)

    def _knowledge(self, lst: _Block, section: str) -> bool:
        """Whether a list holds knowledge: not a list of placeholders, tasks or metadata."""
        items = [text for text in (_item_text(item) for item in _items(lst)) if text.strip()]
        why = ""
        if items and len(items) == len(_items(lst)) and all(_PLACEHOLDER.match(text) for text in items):
            why = "a to-do or placeholder list (TBD, TODO, [ ])"
        elif len(items) >= 2 and sum(bool(_METADATA.match(text)) for text in items) * 2 > len(items):
            why = "a list of metadata (Author: ..., Pages: ...)"
        elif items and _only_links(lst):
            # Even under a marker heading ("Lessons Learned" in a book's title): a link alone
            # says nothing to remember; its knowledge lives on the page it points to.
            why = "a list of links"
        if why and lst.map is not None:
            self.skipped.append((self.owner.body_line + lst.map[0], why))
        return not why

    def _paragraph(self, block: _Block, section: str, *, sentences: bool) -> Iterator[Takeaway]:
        """The takeaways of a paragraph: its lines when it is written one point per line (or
        numbered `1.item`), else its sentences (or, without `sentences`, the paragraph)."""
        if block.map is None:
            return
        first = self.owner.body_line + block.map[0]
        self.used.add(first)
        text = _inline_text(block)
        if not text or _is_link(text, 3):
            if text:
                self.skipped.append((first, "only a link"))
            return
        lines = text.split("\n")
        if text.startswith("[^"):
            self.skipped.append((first, "a footnote (a reference)"))
            return
        if _metadata_paragraph(lines):
            self.skipped.append((first, "metadata lines (Author: ..., Tags: ...)"))
            return
        if all(_PLACEHOLDER.match(line) for line in lines):
            self.skipped.append((first, "a placeholder (TBD, TODO)"))
            return
        source_lines = self.lines[block.map[0] : block.map[1]]
        if not text.isascii() and _impressions(language.sentences(" ".join(text.split()))):
            self.skipped.append((first, "the author's impressions (…と思いました, 我觉得…), not knowledge"))
            return
        if _points(lines):
            for line in _joined_definitions(lines):
                point = _NUMBERED_LINE.sub("", line, count=1).strip()
                if not point.isascii() and _impressions(language.sentences(point)):
                    continue  # "とても参考になりました。"
                if point and not _PLACEHOLDER.match(point) and not _is_link(point):
                    yield _takeaway(self.owner, point, first + _line_of(source_lines, line), section)
            return
        if not sentences:
            yield _takeaway(self.owner, text, first + _line_of(source_lines, text), section)
            return
        for sentence in language.sentences(" ".join(text.split())):
            if not _is_link(sentence, 1) and not _PLACEHOLDER.match(sentence) and not _impressions([sentence]):
                yield _takeaway(self.owner, sentence, first + _line_of(source_lines, sentence), section)

    def _section_paragraphs(self) -> Iterator[Takeaway]:
        """The paragraphs under headings not read yet (not the intro before the first heading, not
        lead-ins to a list, not "参考" sections), each one takeaway (or its points, one a line)."""
        for block, section, excluded in _sections(self.blocks):
            if block.type != "paragraph" or not section or excluded or block.map is None:
                continue
            if self.owner.body_line + block.map[0] in self.used:
                continue
            text = _inline_text(block)
            if _substantial(text) and not _is_lead_in(block) and not text.endswith((":", "：")):
                yield from (replace(t, guessed=True) for t in self._paragraph(block, section, sentences=False))

    def _points_and_paragraphs(self) -> Iterator[Takeaway]:
        """A note without lists or marker headings: its points and paragraphs (not the
        lead-ins, captions, links or sections of references)."""
        for outer, section, excluded in _sections(self.blocks):
            # An Obsidian callout (`> [!definition] Router`) or a quote holds paragraphs too.
            inner = outer.children if outer.type == "blockquote" else [outer]
            for block in inner:
                if block.type == "paragraph" and block.map is not None:
                    yield from self._free_paragraph(block, section, excluded)

    def _free_paragraph(self, block: _Block, section: str, excluded: bool) -> Iterator[Takeaway]:
        """A paragraph outside marker headings, read when the note has nothing else."""
        assert block.map is not None
        line = self.owner.body_line + block.map[0]
        if excluded:
            self.skipped.append((line, f"under '{section}', which holds references rather than knowledge"))
            return
        text = _inline_text(block)
        lines = text.split("\n")
        if text.endswith((":", "：")):
            return  # it introduces what follows: not a takeaway of its own
        if _points(lines) or (_substantial(text) and not _is_lead_in(block)):
            yield from self._paragraph(block, section, sentences=False)
        elif _is_link(text, 3):
            self.skipped.append((line, "only a link"))

    def _definitions(self) -> Iterator[Takeaway]:
        """The sentences of paragraphs (or callouts) outside the lists that define a term set in
        bold ("A **monomorphism** is a left-cancellable morphism."): the wiki convention for the
        term a note is about, and its most important sentence."""
        for outer, section, excluded in _sections(self.blocks):
            inner = outer.children if outer.type == "blockquote" else [outer]
            for block in inner:
                if excluded or block.type != "paragraph" or block.map is None:
                    continue
                first = self.owner.body_line + block.map[0]
                text = _inline_text(block)
                if first in self.used or ("**" not in text and "__" not in text):
                    continue
                for sentence in language.sentences(" ".join(text.split())):
                    if _DEFINING.search(sentence) and len(sentence.split()) >= PROSE_MIN_WORDS:
                        source_lines = self.lines[block.map[0] : block.map[1]]
                        yield _takeaway(self.owner, sentence, first + _line_of(source_lines, sentence), section)
                        break

    def reason(self) -> str:
        if self.found:
            return ""
        if not any(_content(block) for block in self.blocks):
            return "is empty (a draft or a title only)"
        kinds = {block.type for block in self.blocks}
        why = sorted({why for _, why in self.skipped})
        if why:
            passed = "; ".join(f"{w} (line {min(line for line, x in self.skipped if x == w)})" for w in why)
            return f"holds no knowledge flashgen can ask about: {passed}"
        looked = (
            "lists and paragraphs under marker headings (Key takeaways, Summary, TL;DR, まとめ, 总结, ...), "
            "its lists, points written one per line, and paragraphs of at least "
            f"{PROSE_MIN_WORDS} words"
        )
        if self.markers:
            looked = f"under {', '.join(repr(m) for m in self.markers)}, and in " + looked
        if kinds <= {"heading", "fence", "code_block", "html_block", "table", "math_block", "hr"}:
            return f"has only headings, code, tables or math, no takeaway: looked for {looked}"
        return f"no takeaways found: looked for {looked}"


def _content(block: _Block) -> bool:
    """Whether a block says something: not a heading, a rule, or front-matter-like lines (`tags: #stub`)."""
    if block.type in ("heading", "hr"):
        return False
    return block.type != "paragraph" or not _metadata_paragraph(_inline_text(block).split("\n"))


def _takeaway(note: SourceNote, text: str, line: int, section: str) -> Takeaway:
    text, locator = locate(text)
    return Takeaway(note, text, line, section, locator=locator)


def locate(text: str) -> tuple[str, str]:
    """A takeaway's text without the page or place the author wrote before (or after) it, and
    that place as a locator: ("The point.", "p. 19") from "pg 19: The point." """
    first, newline, rest = text.partition("\n")
    match = _LOCATOR_BEFORE.match(first)
    if match is None:
        match = _LOCATOR_AFTER.search(first) if _ends_with_number(first) else None
        if match is None or not first[: match.start()].strip():
            return text, ""
        first = first[: match.start()] + match.group("stop")
    else:
        kind = match.groupdict().get("kind") or ""
        marked = match.group(0).rstrip()[-1] in ":：-–—|)]"
        if not first[match.end() :].strip() or (kind and not marked and kind.lower() not in _SHORT_PAGE):
            return text, ""  # "Page 2 of the report ..." is a sentence, not a place before a point
        first = first[match.end() :]
    time = match.groupdict().get("time")
    locator = time or _page(match.group("kind"), match.group("place"))
    return first + newline + rest, locator


def _ends_with_number(line: str) -> bool:
    """Whether a line ends as a place after a point does: a number, then perhaps a closing bracket
    and a full stop (`_LOCATOR_AFTER` can match only then; checked first, as that search tries
    every position of the line)."""
    end = line[:-1] if line.endswith((".", "。")) else line
    end = end.rstrip()
    if end.endswith((")", "]")):
        end = end[:-1].rstrip()
    return end[-1:].isdecimal()


# Before a point without a colon or dash, only these say "page" for sure ("pg 19 Habits ...").
_SHORT_PAGE = frozenset({"p.", "pp.", "pg", "pg.", "pgs", "pgs.", "loc", "loc."})


def _page(kind: str, place: str) -> str:
    place = re.sub(r"\s*[-–]\s*", "–", place)
    if kind.lower().startswith(("l", "k")):
        return f"loc. {place}"
    return f"pp. {place}" if "–" in place else f"p. {place}"


def _line_of(source_lines: Sequence[str], text: str) -> int:
    """The offset of the source line on which `text` (a sentence or line of a paragraph) starts."""
    flat = " ".join(text.split())
    for size in (12, 6, 3):  # shorter probes for a point joined from two lines
        probe = flat[:size]
        for offset, line in enumerate(source_lines):
            if probe and probe in " ".join(line.split()):
                return offset
    return 0


def _joined_definitions(lines: Sequence[str]) -> list[str]:
    """Points one a line, with a line that ends in a colon joined to the next ("一傅众咻：" then its meaning)."""
    out: list[str] = []
    for line in lines:
        if out and out[-1].rstrip().endswith((":", "：")):
            out[-1] = out[-1].rstrip() + ("" if out[-1].rstrip().endswith("：") else " ") + line.strip()
        else:
            out.append(line)
    return out


def _points(lines: Sequence[str]) -> bool:
    """Whether the lines of a paragraph are points, one a line (not prose wrapped at a width):
    every line numbered, or no line running on into the next."""
    if len(lines) < 2 or any("$$" in line or "\\begin" in line or line.rstrip().endswith("\\\\") for line in lines):
        return False  # a formula over several lines is one
    if all(_NUMBERED_LINE.match(line) for line in lines):
        return True
    for line, after in itertools.pairwise(lines):
        stripped = line.rstrip()
        if (
            not after.strip()
            or re.match(r"^\s*[a-z()\]}.,;:!?]", after)
            or re.search(r"[,;(\-–—/&]$|\b(?:a|an|the|and|or|of|to|in|for|with|is|are)$", stripped, re.IGNORECASE)
        ):
            return False
    return True


_TAGS_ONLY = re.compile(r"(?:\s*[|,·]?\s*#[\w/-]+)+\s*")


def _metadata_paragraph(lines: Sequence[str]) -> bool:
    """Lines of metadata (`Author: ...`, `Tags: [[Topic]]`) or of tags alone (`#state/tidy | #lang/en`)."""
    if all(_TAGS_ONLY.fullmatch(line) for line in lines):
        return True
    return sum(bool(_METADATA.match(line)) for line in lines) * 2 > len(lines) or (
        len(lines) == 1
        and bool(re.match(r"^\W*(?:tags?|links?|up|related|source|aliases)\W*\s*::?\s*\S", lines[0], re.I))
    )


def _impressions(sentences: Sequence[str]) -> bool:
    """Japanese or Chinese sentences that are all their author's remarks ("参考になりました", "我觉得…")."""
    said = [s for s in sentences if language.language_of(s) != "en" or len(s) > 30]  # not "(`Task` trait)"
    return bool(said) and all(language.language_of(s) != "en" and language.remark(s) for s in said)


def _substantial(text: str) -> bool:
    """A paragraph long enough to be a takeaway: words in English, characters in Chinese or Japanese."""
    if len(text.split()) >= PROSE_MIN_WORDS:
        return True
    return language.language_of(text) != "en" and len(re.sub(r"\W", "", text)) >= PROSE_MIN_CHARS


def _prose(blocks: Sequence[_Block], note: SourceNote) -> Iterator[Takeaway]:
    """The paragraphs under headings (not the intro before the first heading, not lead-ins to a
    list, not "Further reading" sections)."""
    for block, section, excluded in _sections(blocks):
        if block.type != "paragraph" or not section or excluded or block.map is None:
            continue
        text = _inline_text(block)
        if len(text.split()) >= PROSE_MIN_WORDS and not _is_lead_in(block) and not _is_link(text, 3):
            yield _takeaway(note, text, note.body_line + block.map[0], section)


def _items(lst: _Block) -> list[_Block]:
    return [c for c in lst.children if c.type == "list_item"]


def _heading_level(node: _Block) -> int:
    return int(node.tag[1]) if node.type == "heading" else 0


def _inline_text(node: _Block) -> str:
    if node.text is not None:  # (a block's text is read for several purposes)
        return node.text
    text = " ".join(_readable(c.content) for c in node.children if c.type == "inline").strip()
    if text.startswith("[!"):  # an Obsidian callout's first line, `[!note] Title`, is its frame
        text = _CALLOUT.sub("", text, count=1).strip()
    node.text = text
    return text


_CALLOUT = re.compile(r"^\[![\w-]+\][+-]?[^\n]*(?:\n|$)")


def _readable(text: str) -> str:
    """Text as its author sees it: without comments and shortcodes, emoji shortcodes as emoji."""
    text = _without_noise(text)
    if ":" in text:
        if _SHORTCODE_NAME.search(text):  # (else the substitution below would change nothing)
            text = _SHORTCODE.sub(_emoji, text)
        if "\0" in text:  # unknown shortcodes, dropped with the space before them
            text = re.sub(r"[ \t]*\0", "", text).strip()
    return text


def _emoji(match: re.Match[str]) -> str:
    if match.group("code") or match.group(0).startswith("$"):
        return match.group(0)
    import emoji  # here: only text with a shortcode needs it

    shown = emoji.emojize(match.group(0), language="alias")
    return "\0" if shown == match.group(0) else shown  # an unknown shortcode is dropped, never shown as `:name:`


def _without_noise(text: str) -> str:
    if "<!--" not in text and "{{" not in text and "{%" not in text and "^" not in text:
        return text  # no comment, shortcode or block id (code spans alone are kept as they are)
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


def _marker_text(heading: str) -> str:
    """A heading's words: link targets and addresses are not read for marker words."""
    heading = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    heading = re.sub(r"\[\[[^\]|]*\|([^\]]*)\]\]", r"\1", heading)
    return re.sub(r"<?\b[a-z][\w+.-]*://\S+|\bwww\.\S+", " ", heading, flags=re.IGNORECASE)


def _is_marker(text: str) -> bool:
    words = _marker_text(text)
    return bool(_STRONG.search(words) or _WEAK.search(words))


def _marked_blocks(blocks: Sequence[_Block], markers: list[str]) -> Iterator[tuple[_Block, str]]:
    """Lists and paragraphs under a marker heading (until the next heading of the same or a
    higher level), and lists right after a marker lead-in paragraph. The markers found are
    added to `markers`.

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
        following = blocks[i + 1] if i + 1 < len(blocks) else None
        if level:
            section = _inline_text(block)
            if in_scope and level <= scope_end:
                in_scope, excluded_level = False, 0
            if excluded_level and level <= excluded_level:
                excluded_level = 0
            if not in_scope and _is_marker(section):
                markers.append(section)
                in_scope = True
                divider = following is not None and _heading_level(following) == level
                scope_end = level - 1 if divider else level
            elif in_scope and not excluded_level and _NOT_KNOWLEDGE.search(_marker_text(section)):
                excluded_level = level
        elif block.type in _LIST_TYPES:
            if previous is not None and _is_lead_in(previous):
                markers.append(_inline_text(previous))
                yield block, section
            elif in_scope and not excluded_level and not (previous is not None and _lists_not_knowledge(previous)):
                yield block, section
        elif block.type == "paragraph" and in_scope and not excluded_level and section:
            # A lead-in to the list after it ("The three rules:") is not a takeaway of its own.
            introduces = (
                following is not None and following.type in _LIST_TYPES and _inline_text(block).endswith((":", "："))
            )
            if not introduces and not _is_lead_in(block) and not _lists_not_knowledge(block):
                yield block, section
        previous = block


def _lists_not_knowledge(block: _Block) -> bool:
    """A paragraph that introduces references or other lists without knowledge ("References:", "参考文献：")."""
    if block.type != "paragraph":
        return False
    text = _inline_text(block).strip("*_ \t")
    return len(text) < 60 and text.endswith((":", "：")) and bool(_NOT_KNOWLEDGE.search(text))


def _is_lead_in(block: _Block) -> bool:
    """A paragraph that announces takeaways: "Key takeaways from the talk:", "**Summary**", "まとめ"."""
    if block.type != "paragraph":
        return False
    sentences = [s for s in re.split(r"(?<=[.!?])\s+|(?<=[。！？])", _marker_text(_inline_text(block))) if s.strip()]
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
        if not excluded_level and _NOT_KNOWLEDGE.search(_marker_text(section)):
            excluded_level = level


def _fallback_lists(
    blocks: Sequence[_Block], skipped: list[tuple[int, str]], body_line: int
) -> Iterator[tuple[_Block, str]]:
    """The lists of a note without marked ones, but for those that are not knowledge (noted in `skipped`)."""
    previous: _Block | None = None
    for block, section, excluded in _sections(blocks):
        if block.type in _LIST_TYPES and block.map is not None:
            why = ""
            if excluded:
                why = f"under '{section}', which holds references rather than knowledge"
            elif previous is not None and _lists_not_knowledge(previous):
                why = f"after '{_inline_text(previous)}', which introduces references rather than knowledge"
            elif _only_links(block):
                why = "a list of links"
            elif _is_index(block):
                why = "an index of other notes (every item starts with a link)"
            if why:
                skipped.append((body_line + block.map[0], why))
            else:
                yield block, section
        previous = block


def _item_text(item: _Block) -> str:
    return " ".join(_inline_text(c) for c in item.children if c.type == "paragraph")


def _is_link(text: str, words: int = 0) -> bool:
    """Text that is a link with at most `words` words around it."""
    rest, links = _LINKS.subn(" ", text)
    return bool(links) and len(re.findall(r"\w+", rest)) <= words


def _only_links(lst: _Block) -> bool:
    """A list each of whose items is a link with at most a few words around it ("See [this](...)"),
    and nothing nested under it."""
    return all(_is_link(_item_text(item), words=3) and not _explained(item) for item in _items(lst))


def _is_index(lst: _Block) -> bool:
    """A list each of whose items starts with a link (`[[fallacy]] - what it is`): a map of other
    notes or pages, whose knowledge lives there. An item with points nested under it explains its
    link here (`[[radiant flux]]` then "- Energy per second"): that list is knowledge."""
    return all(_LEADING_LINK.match(_item_text(item)) and not _explained(item) for item in _items(lst))


def _explained(item: _Block) -> bool:
    """Whether an item has a nested list that is neither links nor an index in its turn."""
    return any(block.type in _LIST_TYPES and not _is_index(block) for block in item.children)


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
        if not children and _PLACEHOLDER.match(text):
            return (), False  # "TBD", "- [ ] read it": nothing to remember yet
        if not children and not text.isascii() and _impressions(language.sentences(" ".join(text.split()))):
            return (), False  # "参考になりました": the author's impression of the book, not its knowledge
        if self.drop_links and not children and ((nested_links and all(nested_links)) or _is_link(text)):
            return (), True
        if not text:
            # An item that is only a nested list: its items are the takeaways.
            return tuple(children), False
        assert item.map is not None
        line = self.note.body_line + item.map[0]
        text, locator = locate(text)
        return (Takeaway(self.note, text, line, section, tuple(children), locator),), False

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
