"""Drafts: the cards of a takeaway, in markdown. The author's own card syntax comes first
(`question :: answer`, `term ::: definition`, `{{c1::...}}`: see `authored`); everything else is made from the
takeaway's prose by the strategies in `flashgen.strategies` (one module per shape of takeaway),
each candidate judged by `flashgen.quality`, and no card at all rather than a poor one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

from . import authored, strategies
from .strategies.sentences import JOINER, Sentence, cloze_safe, prose
from .strategies.sentences import claims as split_claims
from .strategies.sentences import plain as plain_text
from .takeaways import Takeaway, bullets

Kind = Literal["basic", "cloze"]


@dataclass(frozen=True)
class Draft:
    """A card in markdown. Cloze deletions in `front` are written `{{cN::...}}`, numbered 1..n.

    `role` names the rule that made it ("qa:definition", "cloze:list", ...); the quality checks
    read it, and with the takeaway it identifies the card across rebuilds.
    """

    kind: Kind
    role: str
    front: str
    back: str = ""
    extra: str = ""
    reverse: bool = False


def plain(markdown: str) -> str:
    """A cheap plain-text view of inline markdown, for judging candidates."""
    return plain_text(markdown)


MAX_CHILD_CARDS = 1  # cards from each nested item


def _with_lead(lead: str, text: str) -> str:
    """A front shown after its context (heading, parent item, the sentence "It ..." refers to)."""
    if not lead:
        return text
    mark = "" if lead.rstrip().endswith((".", "!", "?", ":", "。", "？", "：")) else ":"
    return f'<span class="fg-lead">{lead}{mark}</span> {text}'


def setting_of(takeaway: Takeaway, cue: str, parent: str = "") -> strategies.Setting:
    return strategies.Setting(
        title=cue,
        section=strategies.informative(takeaway.section, cue),
        parent=parent,
        language=strategies.language_of(takeaway.full_text),
        children=tuple(child.text for child in takeaway.children),
    )


def outcome(takeaway: Takeaway, cue: str, parent: str = "") -> strategies.Outcome:
    """What the strategies make of a takeaway's own text (not its nested items)."""
    return strategies.propose(takeaway.text, setting_of(takeaway, cue, parent))


def drafts(takeaway: Takeaway, cue: str, lead: str = "") -> list[Draft]:
    """The cards of one takeaway, as markdown drafts. `lead` is the text of the item a nested
    takeaway sits under."""
    if takeaway.card is not None:  # a card the author wrote (found by `authored`) is that card, and no other
        return [_draft(takeaway.card, takeaway)]
    out: list[Draft] = []
    extra = takeaway.full_text
    found = outcome(takeaway, cue, lead)
    for card in strategies.deduplicated(found.cards):
        back = card.back if card.kind == "basic" else ""  # a cloze's answer is its deletion
        out.append(Draft(card.kind, card.role, _with_lead(card.lead, card.front), back, extra))
    out.extend(_children(takeaway, cue))
    return number_roles(out)


def _draft(card: authored.AuthoredCard, takeaway: Takeaway) -> Draft:
    """The author's card; nested items under it are shown with its answer."""
    extra = bullets(takeaway.children) if takeaway.children else ""
    return Draft(card.kind, card.role, card.front, card.back, extra, reverse=card.reverse)


MAX_ITEMS = 5
MAX_ITEM_WORDS = 6


def _items(takeaway: Takeaway, claims: Sequence[Sentence]) -> Draft | None:
    """A lead-in sentence ending in ":" over a few short items: one cloze deletion per item, each
    shown with the lead-in and the other items (a list is recalled in its setting, not bare)."""
    children = takeaway.children
    if not claims or not claims[-1].plain.endswith(":") or not 2 <= len(children) <= MAX_ITEMS:
        return None
    if any(c.children or len(plain(c.text).split()) > MAX_ITEM_WORDS or not plain(c.text) for c in children):
        return None
    lead_in = " ".join(c.plain for c in claims)
    if len(lead_in.split()) < 4 or (claims[0].anaphoric and len(claims) == 1):
        return None
    if strategies.language_of(takeaway.full_text) != "en" or not re.search(
        r"\b(?:is|are|was|were|include|includes"
        r"|\w+s)\b",
        lead_in,
    ):
        return None
    items = "\n".join(f"- {{{{c{i}::{cloze_safe(prose(c.text))}}}}}" for i, c in enumerate(children, 1))
    return Draft("cloze", "cloze:items", f"{' '.join(c.text for c in claims)}\n\n{items}", "", takeaway.full_text)


def _children(takeaway: Takeaway, cue: str) -> list[Draft]:
    """Nested items make cards of their own, with their parent item as context."""
    if not takeaway.children:
        return []
    claims = split_claims(takeaway.text)
    parent = claims[-1].plain if claims else ""
    listed = _items(takeaway, claims)
    if listed is not None:
        return [listed]
    out: list[Draft] = []
    for index, child in enumerate(takeaway.children, start=1):
        made = [d for d in drafts(child, cue, parent) if d.role.count("item") < 2]
        for draft in made[:MAX_CHILD_CARDS]:
            extra = f"{takeaway.text}\n\n{child.full_text}"
            out.append(replace(draft, role=f"item{index}:{draft.role}", extra=extra))
    return out


def number_roles(found: Sequence[Draft]) -> list[Draft]:
    """A role that recurs in one takeaway gets an index: "qa:blank", "qa:blank:2", ..."""
    counts: dict[str, int] = {}
    out = []
    for draft in found:
        counts[draft.role] = counts.get(draft.role, 0) + 1
        n = counts[draft.role]
        out.append(draft if n == 1 else replace(draft, role=f"{draft.role}:{n}"))
    return out


__all__ = ["JOINER", "Draft", "cloze_safe", "drafts", "number_roles", "outcome", "plain", "setting_of"]
