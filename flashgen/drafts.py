"""Drafts: the rule-based card generator. Overgenerates candidate cards from a takeaway, ranks them
with the checks in `quality`, and keeps the best few. Works on markdown; `cards` renders the result.

The rules, strongest first:
1. The author's syntax, recognised by `authored` first: `question :: answer` is exactly one card;
   `term ::: definition` is one card in both directions; inline `{{c1::...}}` clozes are kept as
   written; `**bold**` and `==highlight==` spans are cloze deletions.
2. Definitions: `Term: ...`, `Term — ...`, "X is a/the ...", "X refers to ...", "X means ...".
3. Recall targets in each sentence: numbers and years, acronyms and named terms, rare words
   (by a word-frequency list). A question hides the best target of a sentence; a cloze deletes
   another, so the two never test the same thing.
4. Enumerations of three or more items become one cloze deletion per item, never "name the four".
5. Long takeaways are split into sentences (and long sentences at clause breaks): one fact a card.
6. Nested items: short ones are an enumeration of their parent; longer ones make cards of their own.
Every takeaway gets at least one question/answer card; when nothing above applies, the card asks
to complete the takeaway from its opening words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Literal, NamedTuple

from . import authored, language, quality
from .language import BLANK, DANGLING, STOPWORDS
from .takeaways import Takeaway, bullets

Kind = Literal["basic", "cloze"]
MAX_QA = 2  # question/answer cards per takeaway (nested items aside)
MAX_CARDS = 3  # cards per takeaway made from found targets: one per fact (sentence), at most this many
# (the author's own clozes are all kept)


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


# ---------------------------------------------------------------- markdown atoms and plain text

# Spans that are never cut and never become targets: math, code, links, wiki links, HTML tags.
_ATOM = re.compile(
    # (each bounded: from an opener with no closer, an unbounded match would search the rest of the
    # text, and a thousand openers would take quadratic time)
    r"\$\$.{1,4000}?\$\$|\$[^$\n]{1,4000}\$|\\\(.{1,4000}?\\\)|\\\[.{1,4000}?\\\]|`[^`]{0,4000}`"
    r"|!?\[[^\]]{0,4000}\]\([^)]{0,4000}\)|!?\[\[[^\]]{0,4000}\]\]|<[^>]{1,4000}>|\{\{c\d+::.{0,4000}?\}\}",
    re.DOTALL,
)
_EMPHASIS = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__|==(?=\S)(.+?)(?<=\S)==", re.DOTALL)


# Each step runs only when the text still holds what it looks for.
_PLAIN_STEPS = tuple(
    (triggers, re.compile(pattern), replacement)
    for triggers, pattern, replacement in (
        (("[[",), r"!?\[\[([^\]|]*\|)?([^\]]*)\]\]", r"\2"),
        (("](",), r"!?\[([^\]]*)\]\([^)]*\)", r"\1"),
        (("{{",), r"\{\{c\d+::(.*?)(::[^}]*)?\}\}", r"\1"),
        (("<",), r"<[^>]+>", ""),
        (("**", "__", "==", "`"), r"(\*\*|__|==|`)", ""),
        (("*", "_"), r"(?<!\w)[*_](?=\S)(.+?)(?<=\S)[*_](?!\w)", r"\1"),
    )
)
_MARKUP = re.compile(r"[\[\]{}<>*_=`]")


@lru_cache(maxsize=16384)
def plain(markdown: str) -> str:
    """A cheap plain-text view of inline markdown, for judging candidates."""
    if not _MARKUP.search(markdown):
        return " ".join(markdown.split())
    text = markdown
    for triggers, pattern, replacement in _PLAIN_STEPS:
        for trigger in triggers:
            if trigger in text:
                text = pattern.sub(replacement, text)
                break
    return " ".join(text.split())


_ATOM_START = re.compile(r"[$\\`\[<{]")  # where an atom could begin


@lru_cache(maxsize=4096)
def _protected(text: str) -> tuple[tuple[int, int], ...]:
    if not _ATOM_START.search(text):
        return ()
    return tuple(m.span() for m in _ATOM.finditer(text))


def _overlaps(span: tuple[int, int], spans: Sequence[tuple[int, int]]) -> bool:
    start, end = span
    for a, b in spans:  # noqa: SIM110 (a loop: no generator object on this hot path)
        if start < b and a < end:
            return True
    return False


# ---------------------------------------------------------------- targets


class Target(NamedTuple):
    """A span of a sentence worth recalling."""

    start: int
    end: int
    answer: str  # markdown of what is recalled (emphasis markers dropped)
    kind: str
    weight: float


_NUMBER = re.compile(
    r"(?<![\w.$\\-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(?:to|-|–)\s?\d+(?:\.\d+)?)?"
    r"(?:(\s?%)|(\s?[a-zA-Zµ°][\w°-]*))?(?![\w$])"
)
_ACRONYM = re.compile(r"(?<![\w-])(?:[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*s?|[A-Z][a-z]+[A-Z]\w*)(?![\w-])")
# Capitalised names: several capitalised words anywhere, or one that does not start the sentence.
_NAMED = re.compile(
    r"(?<![\w-])(?!(?:The|A|An|In|On|At|For|With|By)\s)[A-Z][a-z]+(?:\s+(?:of\s+|the\s+)?[A-Z][a-z]+)+(?![\w-])"
    r"|(?<=[a-z0-9,;:)]\s)[A-Z][a-z]+(?![\w-])"
)
_WORDS = re.compile(r"[A-Za-z][A-Za-z'’-]*[A-Za-z]")


_DIGIT = re.compile(r"\d")
_CAPITAL = re.compile(r"[A-Z]")
_YEAR = re.compile(r"1[5-9]\d\d|20\d\d")


def _at(starts: re.Pattern[str], pattern: re.Pattern[str], sentence: str) -> Iterator[re.Match[str]]:
    """The matches of `pattern`, every one of which starts with a character `starts` matches."""
    return language.matches_at(pattern, sentence, (m.start() for m in starts.finditer(sentence)))


# A "sentence" longer than this is a run-on paste, not a fact to recall: it offers no targets (the
# choice below compares each target with the whole sentence, which would take quadratic time).
MAX_TARGET_SENTENCE = 2_000


def targets(sentence: str) -> list[Target]:
    """Recall targets of a sentence, best first, not overlapping each other or any atom."""
    if len(sentence) > MAX_TARGET_SENTENCE:
        return []
    protected = _protected(sentence)
    found: list[Target] = []
    if "**" in sentence or "__" in sentence or "==" in sentence:
        for m in _EMPHASIS.finditer(sentence):
            if not _overlaps(m.span(), protected):
                inner = next(g for g in m.groups() if g is not None)
                found.append(Target(m.start(), m.end(), inner, "emphasis", 10.0))
    if _DIGIT.search(sentence):
        for m in _at(_DIGIT, _NUMBER, sentence):
            end = m.end()
            if m.group(3) and m.group(3).strip().lower() in STOPWORDS:
                end = m.start(3)
            is_year = end == m.end(1) and _YEAR.fullmatch(m.group(1)) is not None
            found.append(Target(m.start(), end, sentence[m.start() : end], "year" if is_year else "number", 7.0))
    if _CAPITAL.search(sentence):
        for m in _at(_CAPITAL, _ACRONYM, sentence):
            found.append(Target(m.start(), m.end(), m.group(), "acronym", 6.5))
        for m in _at(_CAPITAL, _NAMED, sentence):
            name = m.group()
            words = len(name.split())
            if words <= 4 and name.lower() not in STOPWORDS and name.lower() not in DANGLING:
                found.append(Target(m.start(), m.end(), name, "named", 6.0 + 0.2 * words))
    found.extend(_rare_runs(sentence))
    chosen: list[Target] = []
    taken: list[tuple[int, int]] = []
    whole = plain(sentence)
    limit = 0.6 * len(whole)
    lower = whole.lower()
    for target in sorted(found, key=lambda t: (-t.weight, t.start)):
        span = (target.start, target.end)
        if target.kind != "emphasis" and _overlaps(span, protected):
            continue
        if _overlaps(span, taken):
            continue
        answer = plain(target.answer)
        if len(answer) > limit or lower.count(answer.lower()) > 1:
            continue  # hiding it would leave nothing to cue it, or the sentence says it again
        chosen.append(target)
        taken.append(span)
    return chosen


@lru_cache(maxsize=65536)
def _word_class(word: str) -> tuple[bool, bool, float]:
    """Whether a word is rare enough to recall, whether it is a content word, and its frequency."""
    lower = word.lower()
    plain_word = lower not in STOPWORDS and not lower.endswith("ly")
    rare = plain_word and language.is_rare(word)
    content = plain_word and lower not in DANGLING and len(word) >= 4
    return rare, content, language.zipf(word)


def _rare_runs(sentence: str) -> list[Target]:
    """Rare words, adjacent ones joined ("positional encodings"), and the rarest content words."""
    classed = [(_word_class(m.group()), m.start(), m.end()) for m in _WORDS.finditer(sentence)]
    found: list[Target] = []
    run: list[tuple[int, int, int, float]] = []  # word index, start, end, frequency

    def flush() -> None:
        rarity = max(0.0, 3.3 - min(r[3] for r in run))
        weight = 4.0 + min(1.5, rarity / 2) + 0.3 * (len(run) - 1)
        found.append(Target(run[0][1], run[-1][2], sentence[run[0][1] : run[-1][2]], "rare", weight))
        run.clear()

    for index, ((rare, _, frequency), start, end) in enumerate(classed):
        if not rare:
            continue
        # A run goes on while rare words follow each other, apart by a space or a hyphen.
        if run and (run[-1][0] != index - 1 or sentence[run[-1][2] : start] not in (" ", "-")):
            flush()
        run.append((index, start, end, frequency))
    if run:
        flush()
    # The rarest content words, as a last resort (several, in case the rarest is said twice).
    content = sorted((frequency, start, end) for (_, is_content, frequency), start, end in classed if is_content)
    for rank, (_, start, end) in enumerate(content[:3]):
        found.append(Target(start, end, sentence[start:end], "keyword", 2.0 - 0.1 * rank))
    return found


# ---------------------------------------------------------------- sentences


class _Sentence(NamedTuple):
    number: int  # its place among the takeaway's sentences
    text: str  # markdown
    lead: str  # the sentence before it, when this one starts with "It ..." and needs it
    targets: tuple[Target, ...]


def _sentences(text: str, lead: str = "") -> list[_Sentence]:
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]
    pieces: list[str] = []
    for paragraph in paragraphs:
        if paragraph.startswith(("```", "~~~", "|", ">", "$$", "<")) or "\n|" in paragraph:
            continue  # code, tables, quotes, display math, HTML: shown in the extra, not asked
        for sentence in language.split_sentences(" ".join(paragraph.split())):
            pieces.extend(_clauses(sentence))
    out = []
    for index, piece in enumerate(pieces):
        first = (language.first_words(plain(piece), 1) or ("",))[0]
        before = pieces[index - 1] if index else lead
        lead_text = before if first in DANGLING else ""
        said = plain(lead_text).lower()  # a target the lead says already would be given away
        found = tuple(t for t in targets(piece) if plain(t.answer).lower() not in said)
        out.append(_Sentence(index, piece, lead_text, found))
    return out


def _clauses(sentence: str) -> list[str]:
    """A long sentence split at a clause break (";", ", but", ", which", ...): one fact a card."""
    if len(sentence.split()) <= 30 or _protected(sentence):
        return [sentence]
    for separator in (";", ", but ", " — ", ", and ", " but "):
        head, found, tail = sentence.partition(separator)
        if found and len(head.split()) >= 5 and len(tail.split()) >= 5:
            head = head.strip() if head.strip().endswith((".", "!", "?")) else head.strip() + "."
            tail = tail.strip()
            return _clauses(head) + _clauses(tail[:1].upper() + tail[1:])
    return [sentence]


# ---------------------------------------------------------------- candidates


class _Candidate:
    """A card the generator might make, with what it asks; made and judged only when a choice
    needs it (most candidates are ranked out before either)."""

    __slots__ = ("_failures", "_made", "_passes", "answers", "make", "priority", "role", "sentence")

    def __init__(
        self,
        role: str,
        make: Callable[[], tuple[Draft, tuple[_Probe, ...]]],
        priority: float,
        sentence: int,
        answers: tuple[str, ...],
    ) -> None:
        self.role, self.make, self.priority, self.sentence, self.answers = role, make, priority, sentence, answers
        self._made: tuple[Draft, tuple[_Probe, ...]] | None = None
        self._failures: int | None = None
        self._passes: bool | None = None

    @classmethod
    def made(
        cls, draft: Draft, probes: tuple[_Probe, ...], priority: float, sentence: int, answers: tuple[str, ...]
    ) -> _Candidate:
        return cls(draft.role, lambda: (draft, probes), priority, sentence, answers)

    @property
    def draft(self) -> Draft:
        if self._made is None:
            self._made = self.make()
        return self._made[0]

    @property
    def probes(self) -> tuple[_Probe, ...]:
        if self._made is None:
            self._made = self.make()
        return self._made[1]

    @property
    def failures(self) -> int:
        """Checks failed, over all its probes."""
        if self._failures is None:
            self._failures = sum(len(quality.judge(p.probe()).failed) for p in self.probes)
        return self._failures

    @property
    def passes(self) -> bool:
        """Whether every probe passes every check (cheaper than counting what fails)."""
        if self._passes is None:
            self._passes = all(quality.passes(p.probe()) for p in self.probes)
        return self._passes


class _Probe(NamedTuple):
    """What a candidate asks, in markdown: turned into a `quality.Probe` only if it is judged."""

    kind: str
    prompt: str
    answer: str
    source: str
    cue: str
    role: str
    lead: str = ""

    def probe(self) -> quality.Probe:
        return quality.Probe(
            self.kind, plain(self.prompt), plain(self.answer), self.source, self.cue, self.role, lead=plain(self.lead)
        )


def _with_lead(lead: str, text: str) -> str:
    """A sentence shown after the one it refers back to ("It ...", "This ..."), which is set apart."""
    return f'<span class="fg-lead">{lead}</span> {text}' if lead else text


_TERM_COLON = re.compile(
    r"^(?P<bold2>\*\*|__)(?P<term2>[^*_:\n$`\[\x00]{1,60}?)\s*:\s*(?P=bold2)\s*(?P<rest2>\S.*)$"  # **Term:** rest
    r"|^(?P<bold>\*\*|__)?(?P<term>[^*_:\n$`\[\x00]{1,60}?)(?P=bold)?\s*(?::|\s[—–]\s|\s-\s)\s*(?P<rest>\S.*)$",
    re.DOTALL,
)
_TERM_VERB = re.compile(
    r"^(?P<term>(?:(?:The|A|An)\s+)?[A-Za-z][\w'’-]*(?:\s+[\w'’-]+){0,3}?)\s+"
    r"(?P<verb>is|are|refers to|refer to|means|mean|describes|denotes)\s+(?P<rest>.+?)[.!]?$",
    re.DOTALL,
)
_DEFINING_VERBS = frozenset({"is", "are", "refers", "refer", "means", "mean", "describes", "denotes"})
_DEFINING = re.compile(r"^(?:a|an|the|one|any|some|each|every|how|when|where|what)\b", re.IGNORECASE)
_TERM_GLUE = frozenset({"of", "and", "the", "a", "an", "in", "for", "to"})


def _masked(text: str) -> str:
    """`text` with its math, code, links and HTML tags blanked out (as NULs, which markdown-it
    never passes on), so that a separator is never found inside one: `\\(\\{x : x > 0\\}\\)` holds
    no definition and `` `map :: a -> b` `` no question. Positions are those of `text`."""
    spans = _protected(text)
    if not spans:
        return text
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\x00" * (end - start)
    return "".join(chars)


def drafts(takeaway: Takeaway, cue: str, lead: str = "") -> list[Draft]:
    """The cards of one takeaway, as markdown drafts. `lead` is what a first sentence that
    starts with "It" or "This" refers to (for a nested item, its parent)."""
    text = takeaway.text
    written = authored.question(text)  # rule 1: the author's own cards come first
    if written is not None:
        return [_draft(written)]

    source = plain(takeaway.full_text)
    out: list[Draft] = []
    written = authored.cloze(takeaway.full_text)
    if written is not None:
        out.append(_draft(written))
        text = authored.without_clozes(text)
    sentences = _sentences(text, lead)
    extra = takeaway.full_text
    questions = _best_questions(sentences, source, cue, extra)
    out.extend(c.draft for c in questions)
    if not any(d.kind == "cloze" for d in out):
        # One card a fact: clozes for the sentences no question asks about (the author's emphasis aside).
        asked = {c.sentence for c in questions}
        room = max(0, min(MAX_CARDS, len(sentences)) - len(questions))
        out.extend(_clozes(sentences, source, cue, extra, asked, room))
    out.extend(_children(takeaway, cue))
    if not any(d.kind == "basic" for d in out):
        out.append(_completion(text, extra))
    return number_roles(out)


def _draft(card: authored.AuthoredCard) -> Draft:
    return Draft(card.kind, card.role, card.front, card.back, reverse=card.reverse)


def _definition(sentence: _Sentence, source: str, cue: str, extra: str) -> _Candidate | None:
    """`Term: definition`, or "X is a ...", asked as "What is meant by “Term”?" / "What is X?"."""
    prompt = ""
    head = sentence.text[:80]  # a term and its separator come first
    match = _TERM_COLON.match(_masked(sentence.text)) if any(c in head for c in ":—–-") else None
    if match:
        bold = match.group("bold") or match.group("bold2")
        term = (match.group("term") or match.group("term2")).strip().strip("\"'“”‘’")  # no atom: as written
        words = language.words(term)
        looks_like_term = bool(bold) or (
            0 < len(words) <= 4 and all(w not in STOPWORDS or w in _TERM_GLUE for w in words)
        )
        if words and looks_like_term:
            prompt = f"What is meant by “{term}”?"
            rest_group = "rest" if match.group("rest") else "rest2"
            rest = sentence.text[match.start(rest_group) : match.end(rest_group)]
    if not prompt:
        text = plain(sentence.text)
        if _DEFINING_VERBS.isdisjoint(text.split(None, 7)[1:7]):  # the verb follows a term of 1-5 words
            return None
        match = _TERM_VERB.match(text)
        if not match:
            return None
        term, verb, rest = match.group("term").strip(), match.group("verb"), match.group("rest")
        words = language.words(term)
        if not words or words[0] in DANGLING or any(w in STOPWORDS and w not in _TERM_GLUE for w in words):
            return None
        if verb in ("is", "are") and not _DEFINING.match(rest):
            return None  # "X is gradually replacing ..." says something of X but does not define it
        first, _, others = term.partition(" ")
        common = language.zipf(first) >= 3.0 and first[1:].islower() and not any(c.isupper() for c in others)
        if first in ("The", "A", "An") or common:  # a capital that only starts the sentence
            term = f"{first[:1].lower()}{first[1:]} {others}".strip()
        prompt = {
            "is": f"What is {term}?",
            "are": f"What are {term}?",
            "means": f"What does {term} mean?",
            "mean": f"What do {term} mean?",
            "describes": f"What does {term} describe?",
            "denotes": f"What does {term} denote?",
        }.get(verb, f"What does {term} refer to?")
    rest = rest.strip().rstrip(".").split(";")[0].strip()
    if not rest or len(rest.split()) > quality.MAX_DEFINITION_WORDS:
        return None
    probe = _Probe("qa", prompt, rest, source, cue, "qa:definition")
    return _Candidate.made(
        Draft("basic", "qa:definition", prompt, rest, extra), (probe,), 9.0, sentence.number, (plain(rest),)
    )


def _blank_questions(sentence: _Sentence, source: str, cue: str, extra: str) -> Iterator[_Candidate]:
    """The sentence as a question with its best targets hidden, one at a time."""
    for rank, target in enumerate(sentence.targets[:3]):
        make = partial(_blank_question, sentence, target, source, cue, extra)
        yield _Candidate("qa:blank", make, target.weight - rank, sentence.number, (plain(target.answer),))


def _blank_question(
    sentence: _Sentence, target: Target, source: str, cue: str, extra: str
) -> tuple[Draft, tuple[_Probe, ...]]:
    answer = target.answer.rstrip(":") if target.kind == "emphasis" else target.answer
    gap = BLANK + (":" if answer != target.answer else "")
    prompt = sentence.text[: target.start] + gap + sentence.text[target.end :]
    probe = _Probe("qa", prompt, answer, source, cue, "qa:blank", sentence.lead)
    return Draft("basic", "qa:blank", _with_lead(sentence.lead, prompt), answer, extra), (probe,)


def _best_questions(sentences: Sequence[_Sentence], source: str, cue: str, extra: str) -> list[_Candidate]:
    candidates: list[_Candidate] = []
    for sentence in sentences:
        definition = _definition(sentence, source, cue, extra)
        if definition is not None:
            candidates.append(definition)
        candidates.extend(_blank_questions(sentence, source, cue, extra))
    emphasised = {plain(t.answer) for s in sentences for t in s.targets if t.kind == "emphasis"}

    def redundant(c: _Candidate) -> bool:  # the author's emphasis is tested by its cloze already
        return c.role == "qa:blank" and bool(set(c.answers) & emphasised)

    # The best candidates that pass every check, by priority; judging stops once enough are found.
    chosen: list[_Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-c.priority, c.sentence)):
        if redundant(candidate) or any(c.sentence == candidate.sentence for c in chosen):
            continue
        if candidate.passes:
            chosen.append(candidate)
            if len(chosen) == MAX_QA:
                break
    if not chosen and candidates:  # none passes everything: the least bad one
        chosen.append(min(candidates, key=lambda c: (c.failures + redundant(c), -c.priority, c.sentence)))
    return chosen


Span = tuple[int, int, str]  # start, end, and the markdown a cloze deletion shows


# Inside a cloze deletion Anki reads `::` as the start of a hint and `}}` as the end: text that
# holds them (`std::vector`, `{x | x > 0}}`) gets an invisible word joiner between the two
# characters. Math is left alone (the renderer spaces its braces), and so are link targets and tags.
_CLOZE_SKIP = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]|\]\([^)]*\)|<[^>]+>", re.DOTALL)
_CLOZE_PAIR = re.compile(r"(?<=:)(?=:)|(?<=\})(?=\})|(?<=\{)(?=\{)")
JOINER = "\u2060"


def cloze_safe(markdown: str) -> str:
    """The markdown of a cloze deletion's text, safe to put between `{{cN::` and `}}`."""
    if not any(c in markdown for c in ":{}"):
        return markdown
    out, last = [], 0
    for match in _CLOZE_SKIP.finditer(markdown):
        out.append(_CLOZE_PAIR.sub(JOINER, markdown[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(_CLOZE_PAIR.sub(JOINER, markdown[last:]))
    safe = "".join(out)
    # `{{c1::x}` + `}}` would close after `x`; `{{c1::` + `:x` would read as a hint.
    return (JOINER if safe.startswith(":") else "") + safe + (JOINER if safe.endswith("}") else "")


def _wrap(text: str, spans: Sequence[Span]) -> str:
    """`text` with each span replaced by a numbered cloze deletion."""
    out, last = [], 0
    for number, (start, end, answer) in enumerate(sorted(spans), start=1):
        original = text[start:end]
        emphasis = _EMPHASIS.fullmatch(original)
        if emphasis and answer.endswith(":"):  # **Term:** -> **{{c1::Term}}:**
            marker = original[:2]
            body = f"{marker}{{{{c{number}::{cloze_safe(answer[:-1].rstrip())}}}}}:{marker}"
        elif emphasis:
            body = f"{{{{c{number}::{cloze_safe(original)}}}}}"
        else:
            body = f"{{{{c{number}::{cloze_safe(answer)}}}}}"
        out.append(text[last:start] + body)
        last = end
    out.append(text[last:])
    return "".join(out)


_ITEM = r"[\w'’-]+(?: [\w'’-]+){0,3}"
# Starting only where a word starts changes no match (one found inside a word would also match
# from its start) and spares the search a try at every letter.
_LIST_RUN = re.compile(rf"(?<![\w'’-])({_ITEM}(?:, {_ITEM})+,? (?:and|or) {_ITEM})")


def _enumeration(sentence: _Sentence) -> list[Span]:
    """Items of a list written in a sentence ("expansive, clean and diverse"), each as a span.

    An item is a run of up to four words with no stopword in it: the first item starts after the
    last stopword before it ("... are ridge, lasso"), the last ends before the first one after it
    ("... and dropout all reduce")."""
    text = sentence.text
    if ", " not in text or (" and " not in text and " or " not in text) or _protected(text):
        return []
    match = _LIST_RUN.search(text)
    if not match:
        return []
    run_start = match.start(1)
    parts: list[tuple[int, list[Span]]] = []  # each item's offset in the sentence, and its words
    for piece in re.finditer(r"[^,]+", match.group(1)):
        for part in re.split(r"\s(?:and|or)\s", piece.group()):
            offset = run_start + piece.start() + piece.group().index(part)
            words = [(m.start(), m.end(), m.group()) for m in re.finditer(r"[\w'’-]+", part)]
            parts.append((offset, words))
    items: list[Span] = []
    for index, (offset, words) in enumerate(parts):
        kept = list(words)
        if index == 0:  # trim leading words up to the last stopword
            while kept and any(w[2].lower() in STOPWORDS for w in kept):
                kept.pop(0)
        elif index == len(parts) - 1:  # trim from the first stopword on
            cut = next((i for i, w in enumerate(kept) if w[2].lower() in STOPWORDS), len(kept))
            kept = kept[:cut]
        if not kept or any(w[2].lower() in STOPWORDS for w in kept):
            return []
        start, end = offset + kept[0][0], offset + kept[-1][1]
        items.append((start, end, sentence.text[start:end]))
    return items if len(items) >= 3 else []


def _clozes(
    sentences: Sequence[_Sentence], source: str, cue: str, extra: str, asked: set[int], room: int
) -> list[Draft]:
    """Cloze notes: the author's emphasis, else (up to `room`) enumerations and targets of the
    sentences no question asks about."""
    keep_extra = "" if len(sentences) == 1 else extra
    authored = [s for s in sentences if any(t.kind == "emphasis" for t in s.targets)]
    if authored:
        return [
            _cloze_draft(s, [(t.start, t.end, t.answer) for t in s.targets if t.kind == "emphasis"], keep_extra)
            for s in authored
        ]
    if room <= 0:
        return []
    candidates: list[_Candidate] = []
    for sentence in sentences:
        if sentence.number in asked:
            continue
        items = _enumeration(sentence)
        if items:
            probes = tuple(
                _Probe(
                    "cloze", _cloze_prompt(sentence, items, i), items[i][2], source, cue, "cloze:list", sentence.lead
                )
                for i in range(len(items))
            )
            draft = replace(_cloze_draft(sentence, items, keep_extra), role="cloze:list")
            candidates.append(_Candidate.made(draft, probes, 8.0, sentence.number, tuple(i[2] for i in items)))
            continue
        for target in sentence.targets[:3]:
            spans = [(target.start, target.end, target.answer)]
            probe = _Probe(
                "cloze", _cloze_prompt(sentence, spans, 0), target.answer, source, cue, "cloze", sentence.lead
            )
            draft = _cloze_draft(sentence, spans, keep_extra)
            candidates.append(_Candidate.made(draft, (probe,), target.weight, sentence.number, (plain(target.answer),)))
            break
    chosen: list[Draft] = []
    for candidate in sorted(candidates, key=lambda c: (-c.priority, c.sentence)):
        if candidate.passes:
            chosen.append(candidate.draft)
            if len(chosen) >= room:
                break
    return chosen


def _cloze_prompt(sentence: _Sentence, spans: Sequence[Span], hidden: int) -> str:
    start, end, _ = sorted(spans)[hidden]
    prompt = sentence.text[:start] + "[...]" + sentence.text[end:]
    return prompt


def _cloze_draft(sentence: _Sentence, spans: Sequence[Span], extra: str) -> Draft:
    front = _wrap(sentence.text, spans)
    return Draft("cloze", "cloze", _with_lead(sentence.lead, front), "", extra)


def _children(takeaway: Takeaway, cue: str) -> list[Draft]:
    """Nested items: three or more short ones are an enumeration; longer ones make cards of their own."""
    children = takeaway.children
    if not children:
        return []
    short = all(len(plain(c.full_text).split()) <= 6 for c in children)
    if short and len(children) >= 3:
        items = "\n".join(f"- {{{{c{i}::{cloze_safe(c.full_text)}}}}}" for i, c in enumerate(children, start=1))
        return [Draft("cloze", "cloze:items", f"{takeaway.text}\n\n{items}")]
    if short:
        return [Draft("basic", "qa:items", takeaway.text, bullets(children))]
    out: list[Draft] = []
    parent = (language.split_sentences(" ".join(takeaway.text.split())) or [""])[-1]
    for index, child in enumerate(children, start=1):
        for draft in drafts(child, cue, parent):
            extra = f"{takeaway.text}\n\n{draft.extra or child.full_text}"
            out.append(replace(draft, role=f"item{index}:{draft.role}", extra=extra))
    return out


_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_CUE_ATOM = re.compile(
    r"\$\$.{0,4000}?\$\$|\$[^$\n]{1,4000}\$|`[^`]{0,4000}`|!?\[[^\]]{0,4000}\]\([^)]{0,4000}\)"
    r"|\[\[[^\]]{0,4000}\]\]|<[^>]{0,4000}>|\S+"
)


def _cjk_cut(text: str) -> int:
    """Where to cut unspaced text for a cue, near a third: between two words (Chinese) or phrases
    (Japanese), never inside one (`language.word_boundaries`)."""
    start = max(1, len(text) // 3)
    cuts = sorted(language.word_boundaries(text))
    later = [i for i in cuts if start <= i < len(text) - 1]
    earlier = [i for i in cuts if 0 < i < start]
    return later[0] if later else earlier[-1] if earlier else start


def _completion(text: str, extra: str) -> Draft:
    """The last resort: complete the takeaway from its opening words (or characters, in scripts
    written without spaces), never showing so much that nothing is left to recall."""
    first = (language.split_sentences(" ".join(text.split())) or [text])[0]
    atoms = _CUE_ATOM.findall(first)
    if len(atoms) >= 2:
        shown = max(1, min(len(atoms) // 2, 12))
        cue, rest = " ".join(atoms[:shown]), " ".join(atoms[shown:])
    elif len(first) >= 6 and _UNSPACED.search(first):  # Chinese or Japanese: cut by characters
        cut = _cjk_cut(first)
        cue, rest = first[:cut], first[cut:]
    else:
        cue, rest = "", first
    prompt = f"Complete: {cue} …" if cue else "Recall this takeaway."
    return Draft("basic", "qa:complete", prompt, f"… {rest}" if cue else rest, extra)


def number_roles(found: Sequence[Draft]) -> list[Draft]:
    """A role that recurs in one takeaway gets an index: "qa:blank", "qa:blank:2", ..."""
    counts: dict[str, int] = {}
    out = []
    for draft in found:
        counts[draft.role] = counts.get(draft.role, 0) + 1
        n = counts[draft.role]
        out.append(draft if n == 1 else replace(draft, role=f"{draft.role}:{n}"))
    return out
