"""Strategies: how cards are made from a takeaway's prose, one small module per shape of takeaway.

Each strategy reads a takeaway (or one of its sentences) and proposes candidates in the form that
fits it; the checker (`flashgen.quality`) drops every candidate a person would grade as a failure,
and the best remaining candidate of each claim is kept (at most `MAX_CARDS` a takeaway). When
none is left the takeaway makes no card, and `reasons` says why, for `flashgen check`.

In order of preference:
- `questions`: the author asked a question and answered it.
- `labels`: "**Label**: description" — the label is shown and the description asked for.
- `definitions`: "X is a ..." — "What is X?".
- `causes`: "A because B" — "Why A?".
- `focus`: cloze deletions on the point of a sentence (the author's emphasis, the new side of a
  contrast, a named subject, a closing list, the end focus of a short claim).
- `cjk`: the same shapes in Japanese and Chinese (definitions and names, causes, contrasts).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from .. import language, quality
from . import (
    advice,
    causes,
    cjk,
    consequences,
    definitions,
    focus,
    glossary,
    labels,
    mechanisms,
    predicates,
    questions,
    relations,
)
from .candidates import Candidate, Setting, informative
from .sentences import anaphoric, claims, language_of, plain

MAX_CARDS = 2  # cards from a takeaway's own text
MAX_LEAD_WORDS = 24
MAX_LED_CLOZE_WORDS = 30  # a cloze shown after the sentence it refers to: both read at a glance
_DEMONSTRATIVE = re.compile(
    r"\b(?:this|these|those|such)\s+(?!is\b|are\b|was\b|as\b|it\b|the\b|a\b|an\b|they\b|we\b)"
    r"[a-z]+\b",
    re.IGNORECASE,
)
# What the author's choice settles: bold and highlight name the target (the author's cloze syntax),
# italics and quotes stress a term the author thought worth stressing.
# Categories the generator does not hold against a card of these roles: the author chose the span
# (bold or highlight), so the checker's view is shown (report page) but not acted on.
# Bold is the author's pointer at the target, not a card the author wrote: the span is taken as the
# point (its leak is judged by the prompt saying it again, its shape by `focus.emphasis`), but a
# deletion in a prompt too long to read, a label, a number, a sentence that needs the one before it
# or leftover markup is dropped as any.
AUTHOR_CHOSEN = {
    "cloze:emphasis": ("ambiguous", "trivial-target", "leak", "fragment"),
    "cloze:stress": ("ambiguous", "trivial-target"),
}

__all__ = ["Candidate", "Outcome", "Setting", "informative", "language_of", "propose"]


@dataclass(frozen=True)
class Outcome:
    """The cards chosen for a takeaway's own text, and the failure categories of the candidates
    dropped (empty cards and non-empty reasons: the takeaway makes no card, and why)."""

    cards: tuple[Candidate, ...]
    reasons: tuple[str, ...] = ()


_MAPPING = re.compile(r"(?:→|->|=>)\s*\[\.\.\.\]\s*$")
_DELETION = re.compile(r"\{\{c(\d+)::(.*?)\}\}")


def _probe(candidate: Candidate, setting: Setting, source: str, number: str = "") -> quality.Probe:
    """The candidate as the checker sees it: one deletion hidden (the first, or `number`)."""
    if not number:
        first = re.search(r"\{\{c(\d+)::", candidate.front)
        number = first.group(1) if first else "1"

    def shown(match: re.Match[str]) -> str:  # the first deletion hidden, the others shown
        return "[...]" if match.group(1) == number else match.group(2)

    front = plain(_DELETION.sub(shown, candidate.front))
    answer = candidate.back
    if candidate.kind == "cloze":
        answer = " ".join(m.group(2) for m in _DELETION.finditer(candidate.front) if m.group(1) == number)
    kind = "cloze" if candidate.kind == "cloze" else "qa"
    return quality.Probe(kind, front, plain(answer), source, setting.title, candidate.role, lead=plain(candidate.lead))


def _failures(candidate: Candidate, setting: Setting, source: str, number: str = "") -> list[str]:
    """The categories a candidate (or one of its deletions) fails, after what its role overrules."""
    probe = _probe(candidate, setting, source, number)
    failed = [name for name in quality.judge(probe).failed if name not in overruled(candidate.role)]
    if candidate.role == "cloze:emphasis" and _MAPPING.search(probe.prompt):
        # "binden / band / gebunden → [...]": the author's own mapping, asked from its left side
        failed = [name for name in failed if name not in ("fragment", "trivia-number")]
    if candidate.role == "cloze:emphasis" and "trivia-number" in failed and _the_number(probe):
        failed.remove("trivia-number")  # "Water boils at **100 degrees** at sea level.": the number is the claim
    if candidate.role == "cloze:emphasis" and quality.short_claim(probe):
        # "**Merge sort** is stable.": a short claim whose term the author marked reads on its own
        failed = [name for name in failed if name != "no-context"]
    if candidate.role != "cloze:emphasis" and not (
        quality.balanced(plain(candidate.front)) and quality.balanced(plain(candidate.back))
    ):
        failed.append("broken-text")  # a bracket or quote left open, as rendered
    if candidate.role == "cloze:emphasis" and re.search(
        rf"(?<!\w){re.escape(probe.answer)}(?!\w)", probe.prompt, re.IGNORECASE
    ):
        failed.append("leak")  # the author chose it: only a prompt that says it again fails
    if candidate.role == "cloze:emphasis" and _titled(probe.answer, setting.title):
        failed.append("leak")  # ... or the title shown on every card (the definition card takes its place)
    return failed


def _passing_deletions(candidate: Candidate, setting: Setting, source: str) -> tuple[Candidate | None, list[str]]:
    """A cloze of several deletions keeps those that pass the checker (renumbered); the others are
    shown as text. None when none passes, with the categories they failed."""
    numbers = list(dict.fromkeys(m.group(1) for m in _DELETION.finditer(candidate.front)))
    if len(numbers) < 2:
        failed = _failures(candidate, setting, source)
        return (None, failed) if failed else (candidate, [])
    reasons: list[str] = []
    keep: list[str] = []
    for number in numbers:
        failed = _failures(candidate, setting, source, number)
        reasons.extend(failed)
        if not failed:
            keep.append(number)
    if not keep:
        return None, reasons
    if len(keep) == len(numbers):
        return candidate, []

    def renumbered(match: re.Match[str]) -> str:
        if match.group(1) not in keep:
            return match.group(2)
        return f"{{{{c{keep.index(match.group(1)) + 1}::{match.group(2)}}}}}"

    front = _DELETION.sub(renumbered, candidate.front)
    back = " · ".join(m.group(2) for m in _DELETION.finditer(front))
    return replace(candidate, front=front, back=back), []


def overruled(role: str) -> tuple[str, ...]:
    """The checker's categories that a card of this role is kept despite (nested items' roles
    carry an `itemN:` prefix)."""
    return tuple(AUTHOR_CHOSEN.get(re.sub(r"^(?:item\d+:)+", "", role), ()))


def _candidates(text: str, setting: Setting) -> Iterator[Candidate]:
    yield from questions.propose(text, setting)
    labelled = list(labels.propose(text, setting))
    if labelled:
        yield from labelled
        return  # a label's description is asked for by the label card, never blanked
    yield from glossary.propose(text, setting)  # a term described otherwise than by a definition
    yield from advice.reasoned(text, setting)  # an instruction and the reason nested under it
    yield from consequences.propose(text, setting)  # a claim, and "This is because ..." after it
    base = setting.section
    cut = labels.leftover(text) if setting.language == "en" else None
    if cut is not None:
        label, text = cut
        # the label shown as context when it names a topic ("Decoupled Clipping"), else dropped ("Fix")
        base = informative(label, setting.title) or setting.section
    found = claims(text)
    for index, sentence in enumerate(found):
        if setting.language in cjk.LANGUAGES and cjk.phrases.remark(sentence.plain):
            continue  # "…がおもしろいと思いました": the author's impression, in no form a card
        lead = base
        pointing = _DEMONSTRATIVE.search(sentence.plain)
        if sentence.anaphoric or (pointing and pointing.start() < 0.4 * len(sentence.plain)):
            # "It ...", "This approach ...", "the solution to this dilemma": shown after what it
            # refers to, or not asked at all.
            before = found[index - 1].plain if index else setting.parent
            if not before or anaphoric(before) or len(before.split()) > MAX_LEAD_WORDS or before.endswith("?"):
                continue
            lead = before
        elif setting.parent and len(setting.parent.split()) <= MAX_LEAD_WORDS and _names(setting.parent, setting):
            lead = setting.parent  # a nested item is read under its parent
        local = replace(setting, section=lead)
        for strategy in (definitions, causes, mechanisms, predicates, advice, relations, focus, cjk):
            for candidate in strategy.propose(sentence, local):
                if candidate.kind == "cloze" and cut is not None and candidate.lead == base:
                    candidate = replace(candidate, lead="")  # a label before a cloze reads as leftover text
                yield candidate


def _the_number(probe: quality.Probe) -> bool:
    """Whether the number the author marked is what a short claim says: the only number in a
    sentence of a few words, no other setting shown."""
    return not re.search(r"\d", probe.prompt + probe.lead) and len(probe.prompt.split()) <= 15


def _sentence_lead(candidate: Candidate, setting: Setting) -> bool:
    """Whether a candidate is shown after the sentence it refers to (not a heading or a parent)."""
    return bool(candidate.lead) and candidate.lead not in (setting.section, setting.parent)


def _names(parent: str, setting: Setting) -> bool:
    """Whether a parent item says something as context: not a bare generic label ("Ablations:")."""
    label = parent.strip().rstrip(":：").strip()
    return len(label.split()) > 4 or bool(informative(label, setting.title))


def propose(text: str, setting: Setting) -> Outcome:
    """The best cards for a takeaway's own text (markdown), after the checker."""
    source = plain(text)
    kept: list[Candidate] = []
    reasons: list[str] = []
    for candidate in sorted(_candidates(text, setting), key=lambda c: (-c.rank, c.claim)):
        if candidate.lead and _repeats(candidate.lead, candidate.front):
            candidate = replace(candidate, lead="")  # "Shoe dog: What is "Shoe dog"?"
        if candidate.kind == "cloze" and candidate.lead == setting.section:
            # A heading before a sentence reads as a leftover label; a cloze keeps only the context
            # it needs to be understood (the sentence or item it refers to).
            candidate = replace(candidate, lead="")
        if any(k.claim == candidate.claim for k in kept) or len(kept) >= MAX_CARDS:
            continue
        if (
            candidate.kind == "cloze"
            and _sentence_lead(candidate, setting)
            and (len(plain(candidate.lead).split()) + len(plain(candidate.front).split()) > MAX_LED_CLOZE_WORDS)
        ):
            reasons.append("too-long")  # two sentences to read before the blank: too long for a cloze
            continue
        judged, failed = _passing_deletions(candidate, setting, source)
        if judged is None:
            reasons.extend(failed)
            continue
        kept.append(judged)
    kept.sort(key=lambda c: c.claim)
    return Outcome(tuple(kept), () if kept else tuple(dict.fromkeys(reasons)) or ("no-claim",))


def _titled(hidden: str, title: str) -> bool:
    """Whether the note's title, shown on every card, says a cloze's hidden term: the term
    the title starts with ("Anki", "Flashcard" in "flashcards", "Velocity selector" in "Velocity
    selector for charged particles") or most of the title ("standard deviation" in "variance and
    standard deviation"). A letter, a word inside another word, or a word the title mentions in
    passing ("principle" in "Inventing on Principle") does not count."""
    named = [w for w in _words(title) if w not in language.STOPWORDS]
    said = [w for w in _words(plain(hidden)) if w not in language.STOPWORDS]
    if not said or (len(said) == 1 and len(said[0]) < 3) or not set(said) <= set(named):
        return False
    return named[: len(said)] == said or len(said) * 3 >= len(named) * 2


def _words(text: str) -> list[str]:
    return [re.sub(r"(?<=\w{3})(?:s|es|ing)$", "", w) for w in re.findall(r"\w+", text.lower())]


def _repeats(lead: str, front: str) -> bool:
    """Whether a heading only repeats the term the front asks about."""
    said = set(plain(front).lower().replace("“", " ").replace("”", " ").replace('"', " ").split())
    return bool(said) and set(plain(lead).lower().split()) <= said


def deduplicated(cards: Sequence[Candidate]) -> list[Candidate]:
    """Cards with a front already asked (with any answer) dropped: one front, one answer."""
    seen: set[str] = set()
    out = []
    for card in cards:
        key = " ".join(plain(card.lead + " " + card.front).lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(card)
    return out
