"""Candidates: what a strategy proposes, and the setting every strategy reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from .. import language, quality

Kind = Literal["basic", "cloze"]

# Headings that say where a takeaway stands in the note but nothing about its subject.
_GENERIC_SECTION = re.compile(
    r"^(?:key\s+)?(?:take-?aways?|summary|summaries|notes?|introduction|intro|overview|background|conclusions?"
    r"|results?|discussion|abstract|approach|methods?|methodology|setup|set-up|experiments?|motivation|misc"
    r"|miscellaneous|highlights?|thoughts?|my thoughts|lessons?(?: learned)?|learnings|ideas?|main ideas?"
    r"|key (?:points?|ideas?|insights?|concepts?|findings?)|insights?|tl;?dr|details?|general|other|questions?"
    r"|todo|to-?do|references?|links?|contents?|what i learned|quotes?|random|preface|epilogue|prologue"
    r"|ablations?|ablation stud(?:y|ies)|evaluations?|limitations?|future work|related work|implementation"
    r"|analysis|observations?|fix(?:es)?|solutions?|problems?|examples?|findings?|comments?|remarks?|aside"
    r"|まとめ|要点|感想|はじめに|概要|总结|小结|笔记|前言)$",
    re.IGNORECASE,
)
_NUMBERING = re.compile(
    r"^(?:(?:chapter|part|section|lecture|week|day|step|lesson)\s+[\dIVX]+[.):]?\s*|[\d.]+[.):]?\s+|[IVX]+[.)]\s+)",
    re.IGNORECASE,
)


@lru_cache(maxsize=4096)
def informative(section: str, title: str) -> str:
    """The heading as context for a card, or "" when it says nothing the title does not."""
    text = re.sub(
        r"!?\[\[([^\]]*)\]\]|\[([^\]]*)\]\([^)]*\)",
        lambda m: language.wikilink_label(m.group(1)) if m.group(1) is not None else m.group(2),
        section,
    )
    text = re.sub(r"[*_`#]+", "", text)
    text = _NUMBERING.sub("", text).strip(" :.-–—")
    text = re.sub(r"^[^\w(\"“]+", "", text).strip()  # a leading emoji or mark
    if len(text) < 3 or _GENERIC_SECTION.match(text) or text.lower() == title.lower().strip() or text.endswith("?"):
        return ""
    if len(text.split()) > 10 or ".md" in text or not quality.balanced(text):
        return ""
    found = re.findall(r"[A-Za-z][\w'-]*", text)
    title_case = all(w[:1].isupper() for w in found if language.zipf(w) < 6.0 or len(w) > 3)
    if not re.search(r"[^\x00-\x7f]", text) and not any(
        language.zipf(w) < 3.8 or (w[:1].isupper() and i > 0 and not title_case) for i, w in enumerate(found)
    ):
        return ""  # "Design Choices", "The Innovation": every word everyday, no name: no topic
    return text


@dataclass(frozen=True)
class Setting:
    """What the generator knows around a takeaway: the note's title (shown on every card), the
    heading it stands under and the item it is nested in (shown when a card needs them), and its
    language."""

    title: str
    section: str = ""  # informative heading, or ""
    parent: str = ""  # plain text of the parent item of a nested one
    language: str = "en"
    children: tuple[str, ...] = ()  # the markdown of the items nested under the takeaway


@dataclass(frozen=True)
class Candidate:
    """A card a strategy proposes. `front` is markdown; a cloze's deletion is written `{{c1::...}}`.
    `claim` is the sentence it tests (one card per claim); `rank` orders a takeaway's candidates."""

    kind: Kind
    role: str
    front: str
    back: str
    claim: int
    rank: float
    lead: str = ""  # context shown before the front (heading, parent item)
