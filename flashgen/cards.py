"""Cards: the question/answer and cloze cards made from each takeaway.

Every takeaway yields at least one question/answer card. The author's own
syntax wins: `question :: answer` is exactly one card, and inline
`{{c1::...}}` clozes are kept as written. Otherwise `**bold**` and
`==highlight==` spans become cloze deletions, nested items answer their
parent, and `Term: definition` asks for the definition.
"""

from __future__ import annotations

import re
from pathlib import Path
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from markdown_it.token import Token

from . import render
from .config import Options
from .errors import SourceProblem
from .lock import Record
from .media import MediaFile, MediaResolver
from .notes import NoteFile, SourceNote
from .takeaways import Takeaway, bullets

Kind = Literal["basic", "cloze"]


@dataclass(frozen=True)
class Card:
    """One Anki note to be: its fields as sanitised HTML, where it goes and how it is tagged.

    `role` names the rule that made the card; with the takeaway it identifies
    the card across rebuilds. Cloze deletions are numbered 1..n in `front`, in
    the order of `deletions`; the identity stage gives them their lasting numbers.
    """

    takeaway: Takeaway = field(compare=False, repr=False)
    kind: Kind
    role: str
    front: str
    back: str = ""
    extra: str = ""
    reverse: bool = False
    deletions: tuple[str, ...] = ()
    deck: str = ""
    tags: tuple[str, ...] = ()
    context: str = ""
    source: str = ""
    media: tuple[MediaFile, ...] = ()


@dataclass(frozen=True)
class NoteCards:
    """The cards of one note, and the problems met making them (missing or refused images)."""

    cards: tuple[Card, ...]
    problems: tuple[SourceProblem, ...] = ()


@dataclass(frozen=True)
class _Placement:
    """What every card of one note shares."""

    deck: str
    tags: tuple[str, ...]
    context: str


def generate(note: SourceNote, takeaways: Iterable[Takeaway], options: Options) -> NoteCards:
    """The cards of one note's takeaways."""
    placement = _Placement(deck_name(note, options), note_tags(note), context_html(note))
    made: list[Card] = []
    problems: list[SourceProblem] = []
    for takeaway in takeaways:
        resolver = MediaResolver(note.path, note.file.root, takeaway.line)
        with render.images(resolver):
            made.extend(_cards(takeaway, placement, resolver))
        problems.extend(SourceProblem(note.path, line, message) for line, message in resolver.problems)
    return NoteCards(tuple(made), tuple(problems))


def _cards(takeaway: Takeaway, placement: _Placement, media: MediaResolver) -> Iterator[Card]:
    def card(kind: Kind, role: str, front: str, back: str = "", **more: object) -> Card:
        return Card(
            takeaway,
            kind,
            role,
            front,
            back,
            deck=placement.deck,
            tags=placement.tags,
            context=placement.context,
            source=takeaway.location,
            media=tuple(media.files.values()),
            **more,  # type: ignore[arg-type]
        )

    text = takeaway.text
    whole = takeaway.full_text
    explicit = _EXPLICIT_QA.split(text, maxsplit=1)
    if len(explicit) == 2 and explicit[0].strip() and explicit[1].strip():
        yield card("basic", "qa:explicit", render.markdown(explicit[0].strip()), render.markdown(explicit[1].strip()))
        return
    if _AUTHOR_CLOZE.search(whole):
        yield card("cloze", "cloze:explicit", render.markdown(whole))
    else:
        cloze, deletions = _cloze(whole)
        if deletions:
            yield card("cloze", "cloze", cloze, deletions=deletions)
    extra = render.markdown(whole)
    if takeaway.children:
        answer = render.markdown(bullets(takeaway.children))
        yield card("basic", "qa:children", render.markdown(text), answer, extra=extra)
        return
    definition = _DEFINITION.match(text)
    if definition and _plausible_term(definition.group("term")):
        term = definition.group("term").strip()
        yield card(
            "basic",
            "qa:definition",
            f"Explain: <strong>{render.markdown(term)}</strong>",
            render.markdown(definition.group("rest").strip()),
            extra=extra,
        )
        return
    yield card("basic", "qa:complete", f"Complete: {render.markdown(_lead(text))} …", extra, extra="")


_EXPLICIT_QA = re.compile(r"(?<!:)\s+::\s+(?!:)")
_AUTHOR_CLOZE = re.compile(r"\{\{c\d+::")
_DEFINITION = re.compile(
    r"^(?:\*\*|__)?(?P<term>[^*_:\n]{1,60}?)(?:\*\*|__)?\s*(?::|\s[—–]\s)\s*(?P<rest>\S.*)$", re.DOTALL
)


def _plausible_term(term: str) -> bool:
    words = term.split()
    return 0 < len(words) <= 6 and not term.strip().endswith(("http", "https")) and "`" not in term


# Spans a cue must not cut in two: math, code, links and HTML tags count as one word.
_ATOM = re.compile(r"\$\$.*?\$\$|\$[^$\n]+\$|`[^`]*`|!?\[[^\]]*\]\([^)]*\)|\[\[[^\]]*\]\]|<[^>]*>|\S+", re.DOTALL)


def _lead(text: str) -> str:
    """The opening words of a takeaway, as the cue of a completion card."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    words = _ATOM.findall(first)
    cut = max(3, min(len(words) // 2, 12))
    return " ".join(words[:cut])


def _cloze(text: str) -> tuple[str, tuple[str, ...]]:
    """`text` with its bold and highlighted spans as cloze deletions numbered in order."""
    tokens = render.parse(text)
    deletions: list[str] = []
    plain_all: list[str] = []
    for token in tokens:
        if token.type != "inline" or not token.children:
            continue
        token.children = list(_delete_spans(token.children, deletions, plain_all))
    if not deletions:
        return "", ()
    whole = "".join(plain_all).strip()
    if len(deletions) == 1 and deletions[0].strip() == whole:
        return "", ()  # the whole takeaway is bold: nothing would be left to cue it
    return render.render_tokens(tokens), tuple(deletions)


_SPANS = {"strong_open": "strong_close", "mark_open": "mark_close"}


def _delete_spans(children: list[Token], deletions: list[str], plain_all: list[str]) -> Iterator[Token]:
    closing = ""
    depth = 0
    span: list[str] = []
    pending: list[Token] = []
    for child in children:
        if child.type in ("text", "code_inline", "math_inline"):
            plain_all.append(child.content)
        if closing:
            if child.type == closing and depth == 0:
                deletion = "".join(span).strip()
                if deletion:
                    deletions.append(deletion)
                    yield _text(f"{{{{c{len(deletions)}::")
                    yield from pending
                    yield _text("}}")
                else:
                    yield from pending
                closing = ""
                continue
            if child.type == _OPENING.get(closing):
                depth += 1
            elif child.type == closing:
                depth -= 1
            if child.type in ("text", "code_inline", "math_inline"):
                span.append(child.content)
            pending.append(child)
            continue
        if child.type in _SPANS:
            closing, depth, span, pending = _SPANS[child.type], 0, [], []
            continue
        yield child
    if closing:  # an unclosed span: keep its content as it was
        yield from pending


_OPENING = {v: k for k, v in _SPANS.items()}


def _text(content: str) -> Token:
    return Token("text", "", 0, content=content)


def note_tags(note: SourceNote) -> tuple[str, ...]:
    """Anki tags for a note: its categories and tags, and `type::`, `year::`, `author::` tags."""
    tags = [_tag(c) for c in (*note.categories, *note.tags)]
    for prefix, value in (("type", note.kind), ("year", note.year), ("author", note.author)):
        if value:
            tags.append(f"{prefix}::{_tag(value)}")
    return tuple(t for t in dict.fromkeys(tags) if t)


def _tag(value: str) -> str:
    """Anki tags hold no spaces; `/` is written as Anki's hierarchy separator `::`."""
    value = value.strip().lstrip("#")
    value = re.sub(r"\s*/\s*", "::", value)
    value = re.sub(r"[\s\u3000]+", "_", value)
    value = re.sub(r"[\"'<>&;`]", "", value)
    return re.sub(r":{3,}", "::", value).strip(":")


def deck_name(note: SourceNote, options: Options) -> str:
    """Expand the deck template (`{root}::{category}`) for a note; empty parts are dropped."""
    folder = note.rel.rsplit("/", 1)[0] if "/" in note.rel else ""
    values = {
        "root": options.deck_root,
        "category": note.categories[0] if note.categories else "",
        "categories": "::".join(note.categories),
        "type": note.kind,
        "year": note.year,
        "author": note.author,
        "title": note.title,
        "folder": folder.replace("/", "::"),
    }
    expanded = re.sub(r"\{(\w+)\}", lambda m: _deck_part(values.get(m.group(1), "")), options.deck)
    parts = [p.strip() for p in expanded.split("::")]
    return "::".join(p for p in parts if p) or options.deck_root


def _deck_part(value: str) -> str:
    value = re.sub(r"\s*/\s*", "::", value)
    return re.sub(r"[\x00-\x1f\"<>]", "", value)


def context_html(note: SourceNote) -> str:
    """Title (linked to the source), author, year and type: the card's context line."""
    title = render.escape(note.title)
    if re.match(r"https?://", note.url):
        title = f'<a href="{render.escape(note.url)}">{title}</a>'
    details = " · ".join(render.escape(v) for v in (note.author, note.year, note.kind) if v)
    html = f'<span class="fg-title">{title}</span>'
    if details:
        html += f' <span class="fg-details">{details}</span>'
    return render.sanitise(html)


_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")


def renumber(front: str, numbers: Iterable[int]) -> str:
    """Give the cloze deletions of `front`, in order, the given numbers."""
    counter = iter(numbers)
    return _CLOZE_NUMBER.sub(lambda m: f"{{{{c{next(counter, m.group(1))}::", front)


REMOVED_TAG = "flashgen::removed"
_REMOVED_BANNER = '<div class="fg-removed">Removed from your notes</div>'


def retired(record: Record) -> Card:
    """The card of a takeaway that is gone from the notes, as re-exported with the `flashgen::removed` tag."""
    note = SourceNote(NoteFile(Path(record.path), Path(".")), record.title, "", 1)
    takeaway = Takeaway(note, record.text, record.line)
    common = {
        "deck": record.deck,
        "tags": (REMOVED_TAG,),
        "context": render.sanitise(f'<span class="fg-title">{render.escape(record.title)}</span>'),
        "source": f"{record.path}:{record.line}",
    }
    if record.kind != "cloze":
        return Card(takeaway, "basic", record.role, _REMOVED_BANNER + render.markdown(record.text), **common)
    if _AUTHOR_CLOZE.search(record.text):
        front = render.markdown(record.text)
    else:
        front, deletions = _cloze(record.text)
        numbers = dict((text, n) for n, text in record.clozes)
        if deletions:
            front = renumber(front, [numbers.get(d, record.cloze_max + i + 1) for i, d in enumerate(deletions)])
        else:
            first = min((n for n, _ in record.clozes), default=1)
            front = f"{{{{c{first}::{render.markdown(record.text)}}}}}"
    return Card(takeaway, "cloze", record.role, _REMOVED_BANNER + front, **common)  # type: ignore[arg-type]
