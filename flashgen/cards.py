"""Cards: each takeaway's drafts (see `drafts`) rendered into the sanitised fields of Anki notes,
with the deck, tags and context every card of a note shares.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import drafts as drafts_stage
from . import language, quality, render
from .config import Options
from .drafts import Kind
from .errors import SourceProblem
from .lock import REMOVED_TAG, Record
from .media import MediaFile, MediaResolver
from .notes import NoteFile, SourceNote
from .records import by_value
from .takeaways import Takeaway


@by_value
@dataclass(frozen=True, slots=True)
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
    hashes: tuple[str, str] | None = None  # `content_hash` and `fields_hash` of the card as made


def digest(*parts: str) -> bytes:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()


def content_hash(
    kind: str, front: str, back: str, extra: str, context: str, tags: tuple[str, ...], reverse: bool
) -> str:
    """What decides whether Anki's copy must be updated: the fields and tags.

    The Source field's file and line are left out on purpose: inserting a
    takeaway or renaming a file would otherwise update every card below it and
    replace the tags the user added to them in Anki. Source is refreshed with
    the card's next real change.
    """
    return digest(kind, front, back, extra, context, " ".join(tags), "reverse" if reverse else "").hex()[:20]


def fields_hash(kind: str, front: str, back: str, extra: str, context: str) -> str:
    """The fields flashgen owns in an Anki note (not Source or ID, which only describe it).
    Sync compares it with what Anki holds to tell the user's edits from flashgen's."""
    return digest("fields", kind, front, back if kind == "basic" else "", extra, context).hex()[:20]


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
    cue: str  # what tells a card's subject out of its note: the title


def generate(note: SourceNote, takeaways: Iterable[Takeaway], options: Options) -> NoteCards:
    """The cards of one note's takeaways."""
    tags, problems = _tags_and_problems(note, options.folder_tags)
    placement = _Placement(
        field_text(deck_name(note, options)), tuple(field_text(t) for t in tags), context_html(note), note.title
    )
    made: list[Card] = []
    images: set[str] = set()  # an image is reported once a note, however many cards or takeaways show it
    asked: set[tuple[str, str]] = set()  # one front, one card: two takeaways asking alike confuse
    for takeaway in takeaways:
        if len(takeaway.full_text) > MAX_TAKEAWAY_CHARS:
            problems.append(
                SourceProblem(
                    note.path,
                    takeaway.line,
                    f"takeaway skipped: it is {len(takeaway.full_text):,} characters long, more than a card can "
                    f"hold ({MAX_TAKEAWAY_CHARS:,}); split it into shorter takeaways",
                )
            )
            continue
        resolver = MediaResolver(note.path, note.file.root, takeaway.line)
        with render.images(resolver):
            found = list(_cards(takeaway, placement, resolver, problems))
            if not found and options.generator == "llm":
                # No rule-made card: a stand-in that only carries the takeaway to the language
                # model (`llm.refine` replaces it or drops it; it never reaches a deck).
                stand_in = [drafts_stage.Draft("basic", STAND_IN, takeaway.text, "-")]
                found = list(_rendered(takeaway, stand_in, placement, resolver, problems))
            for card in found:
                key = (card.kind, language.html_to_text(card.front).lower())
                if key in asked and card.role != STAND_IN:
                    continue
                asked.add(key)
                made.append(card)
        for line, message in resolver.problems:
            if message.startswith("image "):  # `image 'x.png' not found`, `image '...' refused: ...`
                if message in images:
                    continue
                images.add(message)
            problems.append(SourceProblem(note.path, line, message))
    # Each problem once: a takeaway's cards share its text, and each card met it again.
    return NoteCards(tuple(made), tuple(dict.fromkeys(problems)))


# A takeaway longer than this is a pasted document, not something to recall; its cards would take
# the card generator and Anki time out of proportion to their use.
MAX_TAKEAWAY_CHARS = 50_000
# Anki numbers a cloze note's cards by a 16-bit ordinal: `{{c1::` is card 0, `{{c65536::` the last.
MAX_CLOZE = 65536

STAND_IN = "llm:stand-in"  # the role of a takeaway's stand-in card for the language model
_CLOZE_NUMBER = re.compile(r"\{\{c(\d+)::")
_DELETION = re.compile(r"\{\{c\d+::(.*?)\}\}", re.DOTALL)


def _cards(
    takeaway: Takeaway, placement: _Placement, media: MediaResolver, problems: list[SourceProblem]
) -> Iterator[Card]:
    return _rendered(takeaway, drafts_stage.drafts(takeaway, placement.cue), placement, media, problems)


def from_drafts(like: Card, found: Iterable[drafts_stage.Draft]) -> tuple[Card, ...]:
    """Cards for drafts made by another generator, placed like `like` (a card of the same takeaway)."""
    placement = _Placement(like.deck, like.tags, like.context, like.takeaway.note.title)
    note = like.takeaway.note
    media = MediaResolver(note.path, note.file.root, like.takeaway.line)
    with render.images(media):
        return tuple(_rendered(like.takeaway, found, placement, media, []))


# What cannot stand in an Anki field: control characters (U+001F separates a note's fields; none is
# shown) and lone surrogates (SQLite and Anki take only valid UTF-8). Tab and newline are kept.
_NOT_IN_FIELDS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def field_text(text: str) -> str:
    """`text` fit for an Anki field, tag or deck name: no control characters, no lone surrogates."""
    if not _NOT_IN_FIELDS.search(text):
        return text
    return _NOT_IN_FIELDS.sub(lambda m: "\ufffd" if "\ud800" <= m.group() <= "\udfff" else "", text)


# An image the resolver refused or could not find keeps no `src`: it is shown as its alt text,
# not as a broken image. (The sanitiser writes attributes double-quoted and escaped.)
_IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)([^>]*)>")
_ALT = re.compile(r'\salt="([^"]*)"')


def _without_broken_images(html: str) -> str:
    if "<img" not in html:
        return html

    def alt_text(match: re.Match[str]) -> str:
        alt = _ALT.search(match.group(1))
        return f'<span class="fg-missing-image">[{alt.group(1)}]</span>' if alt and alt.group(1) else ""

    return _IMAGE_WITHOUT_SOURCE.sub(alt_text, html)


# The author's own cloze deletion, shown by Anki only in a cloze note's Text field; anywhere else
# (a question card's fields, the extra) it is shown as written, so there it stands as its text.
# (Code is left as written: there the markup is the subject.)
_AUTHOR_DELETION = re.compile(
    r"(?P<code><code\b.*?</code>)|\{\{c\d+::(?P<text>(?:(?!\}\}).)*?)(?:::(?:(?!\}\}).)*)?\}\}", re.DOTALL
)


def _unclozed(html: str) -> str:
    if "{{c" not in html:
        return html
    return _AUTHOR_DELETION.sub(lambda m: m.group("code") or m.group("text"), html)


def _field(html: str) -> str:
    return field_text(_without_broken_images(html))


def _refusal(kind: str, front: str) -> str | None:
    """Why Anki would refuse a note whose first field is `front`, or None."""
    if kind != "cloze":
        return None
    numbers = {int(n) for n in _CLOZE_NUMBER.findall(front)}
    bad = sorted(n for n in numbers if not 1 <= n <= MAX_CLOZE)
    if bad:
        return f"cloze number c{bad[0]} is outside Anki's range (c1 to c{MAX_CLOZE}); the card is left out"
    return None


def _rendered(
    takeaway: Takeaway,
    found: Iterable[drafts_stage.Draft],
    placement: _Placement,
    media: MediaResolver,
    problems: list[SourceProblem],
) -> Iterator[Card]:
    rendered: dict[str, str] = {}

    def html(markdown: str) -> str:  # a takeaway's cards share much of their text (the extra)
        if markdown not in rendered:
            rendered[markdown] = _field(render.markdown(markdown)) if markdown else ""
        return rendered[markdown]

    for draft in found:
        front = html(draft.front)
        deletions: tuple[str, ...] = ()
        if draft.kind == "cloze":
            if not render.cloze_numbers(front):
                if _CLOZE_NUMBER.search(front):  # sanitising removed the end of a deletion
                    media.warn("a cloze deletion lost its end once its HTML was sanitised; no cloze card made")
                continue  # never a cloze note without a whole deletion: Anki would answer "No cloze found"
            refusal = _refusal(draft.kind, front)
            if refusal:
                problems.append(SourceProblem(takeaway.note.path, takeaway.line, refusal))
                continue
            if draft.role != "cloze:explicit":
                deletions = tuple(
                    language.html_to_text(d).replace(drafts_stage.JOINER, "") for d in _DELETION.findall(front)
                )
        else:
            front = _unclozed(front)
        back, extra = _unclozed(html(draft.back)), _unclozed(html(draft.extra))
        if takeaway.locator:  # where in the source the author found it ("p. 19"): shown on the back, never asked
            extra += f'<p class="fg-locator">{field_text(render.escape(takeaway.locator))}</p>'
        hashes = (
            content_hash(draft.kind, front, back, extra, placement.context, placement.tags, draft.reverse),
            fields_hash(draft.kind, front, back, extra, placement.context),
        )
        yield Card(
            takeaway,
            draft.kind,
            draft.role,
            front,
            back,
            extra,
            reverse=draft.reverse,
            deletions=deletions,
            deck=placement.deck,
            tags=placement.tags,
            context=placement.context,
            source=field_text(render.escape(takeaway.location)),  # a file may be named like HTML
            media=tuple(media.files.values()),
            hashes=hashes,
        )


def probes_of(card: Card, front: str | None = None) -> list[quality.Probe]:
    """What a card asks, as plain-text probes for the quality checks: one per cloze deletion."""
    front = card.front if front is None else front
    source = language.html_to_text(render.markdown(card.takeaway.full_text)) if card.takeaway.text else ""
    cue = card.takeaway.note.title
    location = card.takeaway.location
    lead = ""
    match = _LEAD.search(front)
    if match:
        lead, front = language.html_to_text(match.group(1)), front[: match.start()] + front[match.end() :]
    if card.kind == "basic":
        prompt, answer = language.html_to_text(front), language.html_to_text(card.back)
        return [quality.Probe("qa", prompt, answer, source, cue, card.role, location, lead)]
    out = []
    for number in sorted({int(n) for n in _CLOZE_NUMBER.findall(front)}):
        answers = [language.html_to_text(a) for n, a in _NUMBERED_DELETION.findall(front) if int(n) == number]

        def shown(match: re.Match[str], number: int = number) -> str:
            return "[...]" if int(match.group(1)) == number else match.group(2)

        prompt = language.html_to_text(_NUMBERED_DELETION.sub(shown, front))
        out.append(quality.Probe("cloze", prompt, " ".join(answers), source, cue, card.role, location, lead))
    return out


_LEAD = re.compile(r'<span class="fg-lead">(.*?)</span>\s*', re.DOTALL)
_NUMBERED_DELETION = re.compile(r"\{\{c(\d+)::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)


RESERVED_NAMESPACE = "flashgen"  # tags `flashgen::...` are flashgen's markers, never a note's


def reserved(tag: str) -> bool:
    """Whether a tag is in flashgen's namespace, as Anki reads tags (ignoring case)."""
    return tag.casefold().startswith(RESERVED_NAMESPACE + "::")


def _tags_and_problems(note: SourceNote, folder_tags: bool = False) -> tuple[tuple[str, ...], list[SourceProblem]]:
    """The note's tags, and a warning for each left out because it is in flashgen's namespace."""
    found = [(_tag(value), value) for value in (*note.categories, *note.tags)]
    if folder_tags and "/" in note.rel:
        folder = note.rel.rsplit("/", 1)[0]
        found.append((_tag(folder), ""))
    for prefix, value in (("type", note.kind), ("year", note.year), ("author", note.author)):
        if value:
            found.append((f"{prefix}::{_tag(value)}", value))
    tags: list[str] = []
    problems: list[SourceProblem] = []
    for tag, value in found:
        if not reserved(tag):
            tags.append(tag)
            continue
        where = f"tag '{tag}'" if value else f"the folder tag '{tag}'"
        problems.append(
            SourceProblem(
                note.path,
                _line_of(note, value) if value else 0,
                f"{where} is left out: tags '{RESERVED_NAMESPACE}::...' are reserved for flashgen's own "
                f"markers (such as {REMOVED_TAG}); rename it",
            )
        )
    return tuple(t for t in dict.fromkeys(tags) if t), problems


def _line_of(note: SourceNote, value: str) -> int:
    """The first line of the note that holds `value` (read again: this is rare), else the line of
    its `tags` or `categories` key, else 1."""
    try:
        lines = note.path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError:
        return 1
    wanted = value.strip().casefold()
    for number, text in enumerate(lines, 1):
        if wanted and wanted in text.casefold():
            return number
    for number, text in enumerate(lines[: max(note.body_line - 1, 0)], 1):
        if re.match(r"\s*(tags|categories|category)\s*[:=]", text):
            return number
    return 1


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
    return field_text(render.sanitise(html))


def renumber(front: str, numbers: Iterable[int]) -> str:
    """Give the cloze deletions of `front`, in order, the given numbers."""
    counter = iter(numbers)
    return _CLOZE_NUMBER.sub(lambda m: f"{{{{c{next(counter, m.group(1))}::", front)


_REMOVED_BANNER = '<div class="fg-removed">Removed from your notes</div>'


def retired(record: Record) -> Card:
    """The card of a takeaway that is gone from the notes, as re-exported with the `flashgen::removed` tag."""
    note = SourceNote(NoteFile(Path(record.path), Path(".")), record.title, "", 1)
    takeaway = Takeaway(note, record.text, record.line)
    context = render.sanitise(f'<span class="fg-title">{render.escape(record.title)}</span>')
    source = render.escape(f"{record.path}:{record.line}")

    def card(kind: Kind, front: str) -> Card:
        return Card(
            takeaway, kind, record.role, front, deck=record.deck, tags=(REMOVED_TAG,), context=context, source=source
        )

    if record.kind != "cloze":
        return card("basic", _REMOVED_BANNER + render.markdown(record.text))
    numbers = sorted(n for n, _ in record.clozes)
    if not numbers:  # the author's own clozes, kept as written
        front = render.markdown(record.text)
    else:
        # Every cloze number the note had keeps a deletion, so none of its cards turns empty.
        deletions = " · ".join(f"{{{{c{n}::{render.escape(text)}}}}}" for n, text in sorted(record.clozes))
        front = f"{render.markdown(record.text)}<div>{deletions}</div>"
    return card("cloze", _REMOVED_BANNER + front)
