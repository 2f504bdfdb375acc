"""Authored: the cards an author wrote in a note, in the syntax of the tools people come from.

Obsidian Spaced Repetition (OSR), flashcards-obsidian and Obsidian_to_Anki share most of it:

- `question :: answer` on one line is one card, `term ::: definition` one card asked both ways
  (spaces around the separator are optional);
- a line holding only `?` (or `??`, both ways) between lines of a paragraph: the lines above are
  the question, the lines below the answer;
- `==highlight==` spans and Anki's `{{c1::answer}}` / `{{c1::answer::hint}}` deletions make a
  cloze note of the paragraph they are in (`**bold**` too, when configured).

Every separator can be changed (`Syntax`), as OSR's settings allow. A separator is never
found inside code, math, links or URLs. What the author wrote is not second-guessed: such a
paragraph makes exactly these cards, and no generated ones.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, NamedTuple

CLOZE_MARKS = ("highlight", "bold", "anki")


@dataclass(frozen=True)
class Syntax:
    """The separators and cloze marks the author writes cards with (OSR's defaults).

    `clozes` names the marks that are the author's cloze deletions: `highlight` (`==x==`),
    `bold` (`**x**`) and `anki` (`{{c1::x}}`). Highlight and bold clozes count in takeaways and
    in notes tagged with one of `card_tags` (`#flashcards`, `#flashcards/deck`), where OSR reads
    them; elsewhere a highlight is only emphasis. Anki's clozes count everywhere.
    """

    inline: str = "::"
    inline_reversed: str = ":::"
    multiline: str = "?"
    multiline_reversed: str = "??"
    clozes: tuple[str, ...] = ("highlight", "anki")
    card_tags: tuple[str, ...] = ("flashcards",)
    front_tag: str = "card"  # flashcards-obsidian: `Question #card` (a line or a heading), the answer below

    @property
    def separators(self) -> tuple[str, str, str, str]:
        return (self.inline, self.inline_reversed, self.multiline, self.multiline_reversed)


DEFAULT = Syntax()
MAX_CARD_CHARS = 20_000  # a longer paragraph is read as text, not searched for cards
SEPARATOR_FIELDS = ("inline", "inline_reversed", "multiline", "multiline_reversed")

# A separator line markdown would read as structure (a list, a heading, a quote, a fence, a rule).
_STRUCTURAL = re.compile(r"^(?:[-*+]\s|\d{1,9}[.)]\s|#|>|```|~~~|[-=_*\s]+$|\|)")


def problems(syntax: Syntax) -> list[str]:
    """What is wrong with a syntax: each problem in a sentence (none when it can be used)."""
    found = []
    values = {name: getattr(syntax, name) for name in SEPARATOR_FIELDS}
    for name, value in values.items():
        if not value.strip():
            found.append(f"separator '{name}' must not be empty")
        elif "\n" in value or "\r" in value:
            found.append(f"separator '{name}' must fit on one line")
        elif name.startswith("multiline") and _STRUCTURAL.match(value.strip() + " "):
            found.append(f"separator '{name}' ({value.strip()!r}) would be read as markdown structure, not text")
        elif not name.startswith("multiline") and re.search(r"\w", value):
            found.append(f"separator '{name}' ({value.strip()!r}) must not contain letters or digits")
    stripped = [v.strip() for v in values.values()]
    for i, name in enumerate(SEPARATOR_FIELDS):
        for j in range(i):
            if stripped[i] and stripped[i] == stripped[j]:
                found.append(f"separators '{SEPARATOR_FIELDS[j]}' and '{name}' are both {stripped[i]!r}")
    unknown = [m for m in syntax.clozes if m not in CLOZE_MARKS]
    if unknown:
        found.append(f"unknown cloze mark(s) {', '.join(map(repr, unknown))} (known: {', '.join(CLOZE_MARKS)})")
    for tag in (*syntax.card_tags, syntax.front_tag):
        if not re.fullmatch(r"#?[\w/-]+", tag):
            found.append(f"card tag {tag!r} is not a tag")
    return found


@dataclass(frozen=True)
class AuthoredCard:
    """A card as its author wrote it, in markdown. `role` names the syntax that made it.

    A cloze card's `front` holds its deletions as `{{cN::...}}`, numbered from 1."""

    kind: Literal["basic", "cloze"]
    role: str
    front: str
    back: str = ""
    reverse: bool = False


class Found(NamedTuple):
    """A card found in a paragraph: its first line (counted from the paragraph's), the author's
    text of it (what the takeaway holds), and whether its answer is the block that follows.
    Without a card, the paragraph is the author's but asks nothing (`#card-spaced`): no card."""

    offset: int
    text: str
    card: AuthoredCard | None
    took_following: bool = False


# ---------------------------------------------------------------- spans that hold no syntax

# Code spans, math, wiki links, links, autolinks and bare URLs, HTML tags, Dataview's
# bracketed inline fields (`[key:: value]`), Anki's cloze deletions: a separator or a cloze
# mark in them is text.
_URL = r"|\b[A-Za-z][\w+.-]{0,30}://[^\s<>]{0,1000}[^\s<>.,;:!?)\]]"
_ATOM_TEXT = (  # every span bounded (an opener with no closer is tried against so much text only)
    r"`(?P<ticks>`*).{1,1000}?`(?P=ticks)"
    r"|\$\$.{1,2000}?\$\$|\$(?<![\\$\w]\$)(?=\S)[^$\n]{0,1000}?(?<=[^\s\\])\$(?![\d$])"
    r"|\\\(.{1,2000}?\\\)|\\\[.{1,2000}?\\\]"
    r"|!\[\[[^\]\n]{0,500}\]\]|\[\[[^\]\n]{0,500}\]\]|!\[[^\]\n]{0,500}\]\([^)\n]{0,1000}\)|\[[^\]\n]{0,500}\]\([^)\n]{0,1000}\)"
    r"|<[A-Za-z][\w+.-]{0,30}:[^>\s]{0,1000}>"
    + _URL
    + r"|</?[A-Za-z][\w-]{0,30}(?:\s[^<>\n]{0,1000})?/?>|<!--.{0,2000}?-->"
    r"|\[[\w .-]{1,100}::[^\]\n]{0,500}\]|\([\w .-]{1,100}::[^)\n]{0,500}\)"
)
_CLOZE_ATOM = r"|\{\{c\d+::.{0,2000}?\}\}"
_ATOM = re.compile(_ATOM_TEXT + _CLOZE_ATOM, re.DOTALL)
_ATOM_BUT_CLOZES = re.compile(_ATOM_TEXT, re.DOTALL)  # where Anki's own clozes are looked for
# The same without bare URLs, for text without `://`, where they cannot match. Every other branch
# starts with a character of its own (which is why the code span starts with one backtick, and
# `!?[` is written as two branches), so the regex engine skips from one such character to the
# next instead of trying every branch at every position: about 10x faster on a line of prose.
_WITHOUT_URLS = {
    _ATOM: re.compile(_ATOM_TEXT.replace(_URL, "") + _CLOZE_ATOM, re.DOTALL),
    _ATOM_BUT_CLOZES: re.compile(_ATOM_TEXT.replace(_URL, ""), re.DOTALL),
}
_HOLE = "\x00"  # what an atom is replaced with while syntax is looked for: matches no separator


@lru_cache(maxsize=4096)
def _masked(text: str, atoms: re.Pattern[str] = _ATOM) -> str:
    """`text` with every atom blanked out (same length), so positions still match the original."""
    if not re.search(r"[`$\\\[<(:/]", text):
        return text
    if "://" not in text:
        atoms = _WITHOUT_URLS.get(atoms, atoms)
    return atoms.sub(lambda m: _HOLE * len(m.group()), text)


# ---------------------------------------------------------------- clean text

_BLOCK_ID = re.compile(r"(?:^|[ \t]+)\^[A-Za-z0-9-]+[ \t]*$")  # Obsidian's `^abc123` at a line's end
_ORDERED = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")


def _clean_line(line: str) -> str:
    return (_BLOCK_ID.sub("", line) if "^" in line else line).rstrip()


@lru_cache(maxsize=16)
def _tags_pattern(syntax: Syntax) -> re.Pattern[str]:
    names = "|".join(re.escape(t.lstrip("#")) for t in syntax.card_tags) or r"(?!)"
    return re.compile(rf"(?<![\w#/&`])#(?:{names})(?:/[\w/-]*)?(?![\w-])", re.IGNORECASE)


def _without_tags(text: str, syntax: Syntax) -> str:
    """The card without the deck tags written on it (`#flashcards/deck Question::Answer`)."""
    if "#" not in text:
        return text
    return re.sub(r"[ \t]{2,}", " ", _tags_pattern(syntax).sub("", text)).strip()


def _as_text(side: str) -> str:
    """One side of a one-line card, which markdown must not read as a list: `2.` is the answer 2."""
    side = side.strip()
    return _ORDERED.sub(r"\1\\\2", side) if side[:1].isdecimal() else side


def tagged(tags: Iterable[str], body: str, syntax: Syntax) -> bool:
    """Whether a note carries one of the card tags, in its front matter or as an inline `#tag`
    (not inside code), as OSR reads a note's deck."""
    wanted = {t.lstrip("#").lower() for t in syntax.card_tags}
    for tag in tags:
        tag = tag.lstrip("#").lower()
        if tag in wanted or tag.split("/", 1)[0] in wanted:
            return True
    if "#" not in body:
        return False
    pattern = _tags_pattern(syntax)
    return any(
        pattern.search(_masked(line)) for line in body.split("\n") if "#" in line and len(line) <= MAX_CARD_CHARS
    )


def mentions(body: str, syntax: Syntax) -> bool:
    """Whether a note could hold an authored card at all (a cheap test before looking)."""
    if syntax.inline.strip() in body or syntax.inline_reversed.strip() in body:
        return True
    if any(mark in body for mark in _cloze_openers(syntax)):
        return True
    if "#" + syntax.front_tag.lstrip("#") in body:
        return True
    return _separator_line(syntax.multiline, syntax.multiline_reversed).search(body) is not None


@lru_cache(maxsize=16)
def _separator_line(*separators: str) -> re.Pattern[str]:
    """A line holding only one of the multi-line separators (in a list item or a quote too)."""
    alternatives = "|".join(re.escape(s.strip()) for s in separators)
    return re.compile(rf"^[ \t>]*(?:{alternatives})[ \t]*$", re.MULTILINE)


def _cloze_openers(syntax: Syntax) -> tuple[str, ...]:
    return tuple({"highlight": "==", "bold": "**", "anki": "{{c"}[m] for m in syntax.clozes if m in CLOZE_MARKS)


# ---------------------------------------------------------------- finding cards


@lru_cache(maxsize=64)
def _separator(separator: str) -> re.Pattern[str]:
    """A one-line separator, not part of a longer run of its own characters (`::` in `:::`)."""
    sep = separator.strip()
    return re.compile(rf"(?<!{re.escape(sep[-1])}){re.escape(sep)}(?!{re.escape(sep[0])})")


# `std::max`, `io::Result`, `std::sync::Arc`, `Vec::new()` written outside backticks: code, not a card.
_NAMESPACES = frozenset({"std", "core", "alloc", "crate", "self", "super", "boost", "io", "fmt", "os", "Self"})
_CODE_PATH = re.compile(r"(?:\w+::)+\w+\s*[(<]|\w+::\w+::")


def _code_path(line: str, start: int) -> bool:
    """Whether the tight separator at `start` joins the parts of a path in code."""
    left = re.search(r"\w+$", line[:start])
    if left is None:
        return False
    if left.group() in _NAMESPACES or line[: left.start()].endswith("::"):
        return True
    return _CODE_PATH.match(line, left.start()) is not None


def _split(line: str, separator: str) -> tuple[str, str] | None:
    """A line's question and answer around the first separator outside any atom."""
    masked = _masked(line)
    for match in _separator(separator).finditer(masked):
        start, end = match.span()
        front, back = line[:start].strip(), line[end:].strip()
        tight = start > 0 and end < len(line) and not line[start - 1].isspace() and not line[end].isspace()
        if tight and separator.strip() == "::" and _code_path(line, start):
            continue
        if re.search(r"\w", front) and re.search(r"\w", back):
            return front, back
        return None
    return None


def find(
    text: str, syntax: Syntax = DEFAULT, *, marked: bool = True, following: str = "", heading: str = ""
) -> list[Found]:
    """The cards written in one paragraph (its inline text, a line per source line).

    `marked`: whether highlight and bold clozes count here (in a takeaway, or a note tagged for
    cards). `following`: the source of the block right after the paragraph, without a blank line
    between, which is the answer when a multi-line separator ends the paragraph (a list).
    `heading`: the text of a heading right above the paragraph, which is the question when it
    (or the paragraph's first line alone) carries the front tag (`## Question #card`).
    """
    if len(text) > MAX_CARD_CHARS or not (mentions(text, syntax) or (heading and mentions(heading, syntax))):
        return []  # (a "card" of tens of thousands of characters is a dump, not a card)
    lines = [_clean_line(line) for line in text.split("\n")]
    tagged_front = _tagged_front(lines, syntax, heading)
    if tagged_front is not None:
        return [tagged_front]
    multi = _multiline(lines, syntax, following)
    if multi is not None:
        return [multi]
    found = []
    for offset, line in enumerate(lines):
        card = _one_line(line, syntax)
        if card is not None:
            found.append(Found(offset, _without_tags(line, syntax), card))
    if found:
        return found
    whole = "\n".join(line for line in lines if line.strip())
    cloze = _cloze(_without_tags(whole, syntax), syntax, marked=marked)
    return [Found(0, _without_tags(whole, syntax), cloze)] if cloze else []


@lru_cache(maxsize=16)
def _front_tag(tag: str) -> re.Pattern[str]:
    """`#card`, `#card-reverse` or `#card/reverse` (and `-spaced`), then only other tags, to the line's end."""
    name = re.escape(tag.lstrip("#"))
    return re.compile(rf"(?:^|\s)#{name}(?:[-/](?P<kind>reverse|spaced))?(?P<rest>(?:\s+#[\w/-]+)*)\s*$")


def _tagged_front(lines: Sequence[str], syntax: Syntax, heading: str) -> Found | None:
    """flashcards-obsidian's card: a line or heading tagged `#card` is the question, the lines
    below it the answer (`#card-reverse`: both ways). A card tagged `-spaced` (a reminder to
    reread) has no answer to ask for: it is the author's, and no card."""
    mark = "#" + syntax.front_tag.lstrip("#")
    if mark not in heading and (not lines or mark not in lines[0]):
        return None  # (each pattern below needs the tag)
    pattern = _front_tag(syntax.front_tag)
    if heading and (m := pattern.search(_masked(heading))) is not None:
        front, back, offset = heading[: m.start()].strip(), "\n".join(lines).strip(), -1
    elif heading and lines and (m := pattern.fullmatch(lines[0].strip())) is not None:
        front, back, offset = heading.strip(), "\n".join(lines[1:]).strip(), -1
    elif lines and (m := pattern.search(_masked(lines[0]))) is not None and lines[0][: m.start()].strip():
        front, back, offset = lines[0][: m.start()].strip(), "\n".join(lines[1:]).strip(), 0
    else:
        return None
    if m.group("kind") == "spaced":
        return Found(0, "", None)
    if not re.search(r"\w", front) or not re.search(r"\w", back):
        return None
    reverse = m.group("kind") == "reverse"
    role = "qa:term" if reverse else "qa:explicit"
    text = f"{front}\n{back}"
    return Found(offset, text, AuthoredCard("basic", role, front, back, reverse=reverse))


def _multiline(lines: Sequence[str], syntax: Syntax, following: str) -> Found | None:
    for index, line in enumerate(lines):
        stripped = line.strip()
        if stripped not in (syntax.multiline.strip(), syntax.multiline_reversed.strip()):
            continue
        reverse = stripped == syntax.multiline_reversed.strip()
        front = "\n".join(lines[:index]).strip()
        back_lines = list(lines[index + 1 :])
        took = not "\n".join(back_lines).strip() and bool(following.strip())
        if took:
            back_lines = textwrap.dedent(following).rstrip("\n").split("\n")
        back = "\n".join(_clean_line(b) for b in back_lines).strip()
        front = _without_tags(front, syntax)
        if not re.search(r"\w", front) or not re.search(r"\w", back):
            return None
        role = "qa:term" if reverse else "qa:explicit"
        text = f"{front}\n{stripped}\n{back}"
        return Found(0, text, AuthoredCard("basic", role, front, back, reverse=reverse), took)
    return None


def _one_line(line: str, syntax: Syntax) -> AuthoredCard | None:
    if syntax.inline_reversed.strip() in line:
        parts = _split(line, syntax.inline_reversed)
        if parts is not None:
            front, back = parts
            front = _as_text(_without_tags(front, syntax))
            return AuthoredCard("basic", "qa:term", front, _as_text(back), reverse=True)
    if syntax.inline.strip() in line:
        parts = _split(line, syntax.inline)
        if parts is not None:
            front, back = parts
            return AuthoredCard("basic", "qa:explicit", _as_text(_without_tags(front, syntax)), _as_text(back))
    return None


# ---------------------------------------------------------------- clozes

_ANKI = re.compile(r"\{\{c(\d+)::(.{0,2000}?)(?:::([^{}]{0,500}?))?\}\}", re.DOTALL)
_MARKS = {
    "highlight": re.compile(r"==(?=[^\s=])(.{1,2000}?)(?<=[^\s=])==(?!=)", re.DOTALL),
    "bold": re.compile(
        r"(?<!\*)\*\*(?=[^\s*])(.{1,2000}?)(?<=[^\s*])\*\*(?!\*)|(?<!_)__(?=[^\s_])(.{1,2000}?)(?<=[^\s_])__(?!_)",
        re.DOTALL,
    ),
}


_GLOSSARY_ENTRY = re.compile(r"\s*(?:`[^`\n]{1,80}`|#[\w/-]+)\s*")  # an entry's name in code or as a tag


def _cloze(text: str, syntax: Syntax, *, marked: bool) -> AuthoredCard | None:
    """The paragraph as a cloze note, its marked spans as deletions; None if it marks none.

    Anki's own deletions keep their numbers (and hints); each highlight (or bold) span gets
    the next free number, so every span is a card of its own, as in OSR."""
    # Atoms are blanked out, so a `==` inside code is no mark; a mark that wraps an atom whole
    # (`==`code`==`, `**[[capital|capital city]]**`) still is.
    from .strategies.sentences import cloze_safe  # (`std::vector` in a deletion would end it early)

    masked = _masked(text)
    spans: list[tuple[int, int, str]] = []  # start, end, replacement
    # Anki's clozes outside code, math and links (`{{c1::text}}` in backticks shows the syntax)
    anki = list(_ANKI.finditer(_masked(text, _ATOM_BUT_CLOZES))) if "anki" in syntax.clozes and "{{c" in text else []
    taken = [(m.start(), m.end()) for m in anki]
    used = {int(m.group(1)) for m in anki}
    for m in anki:
        spans.append((m.start(), m.end(), text[m.start() : m.end()]))
    if marked:
        number = max(used, default=0)
        for mark in ("highlight", "bold"):
            if mark not in syntax.clozes:
                continue
            for m in _MARKS[mark].finditer(masked):
                if any(m.start() < b and a < m.end() for a, b in taken):
                    continue
                if _GLOSSARY_ENTRY.fullmatch(text[: m.start()]):
                    continue  # "`#m` ==ABSTRACT== — Formal maths": a marker on a glossary entry, not a deletion
                number += 1  # the mark stays inside the deletion: the answer shows as the author marked it
                spans.append((m.start(), m.end(), f"{{{{c{number}::{cloze_safe(text[m.start() : m.end()])}}}}}"))
                taken.append((m.start(), m.end()))
    if not spans:
        return None
    out, last = [], 0
    for start, end, replacement in sorted(spans):
        out.append(text[last:start] + replacement)
        last = end
    out.append(text[last:])
    front = "".join(out)
    role = "cloze:explicit" if anki and len(spans) == len(anki) else "cloze:emphasis"
    return AuthoredCard("cloze", role, front)
