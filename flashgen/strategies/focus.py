"""Focus: cloze deletions on the part of a sentence that carries its claim. Each finder below reads
one kind of salience and proposes at most one deletion per sentence; the checker then drops those
whose hidden part is not the point after all.

- `emphasis`: what the author stressed inside a claim (bold, highlight; italics or quotes on a term
  being named, "known as *X*", or on the term that closes the claim).
- `contrast`: the new side of "formerly X, but now Y".
- `subject`: a named subject the rest of the sentence describes ("[...] are replacing hand-written software").
- `closing_list`: the short list a lead-in introduces ("Datasets need to be [...]").
- `extraposed`: the complement of "It's going to be an [...] to ...".
- `compound`: a compound term ("in-context learning"; not a generic head such as "cross-entropy loss",
  "task-specific model").
- `end_focus`: the noun phrase that closes a short claim (English puts new information last).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from .. import language, quality
from .candidates import Candidate, Setting
from .sentences import (
    AUX,
    EMPHASIS,
    IMPERATIVE_PROMPT,
    ITALIC,
    QUOTED,
    Sentence,
    cloze_safe,
    has_verb,
    inside,
    protected,
    unemphasised,
    wordset,
)

_TOKEN = re.compile(r"`[^`]+`|\$[^$]+\$|\\\(.+?\\\)|[\w][\w'’.-]*[\w]|[\w]|[^\w\s]")
_STOP = frozenset(language.STOPWORDS) | AUX | {"very", "really", "just", "also", "even", "much", "more", "most"}
# Words after which a noun phrase starts: determiners, prepositions, intensifiers of an adjective.
_INTRODUCERS = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "to",
        "for",
        "with",
        "by",
        "in",
        "on",
        "as",
        "from",
        "into",
        "towards",
        "toward",
        "like",
        "than",
        "about",
        "between",
        "via",
        "at",
        "its",
        "their",
        "our",
        "his",
        "her",
        "your",
        "very",
        "too",
        "so",
    ]
)
_EVALUATIVE = wordset(
    "common interesting good great important nice bad simple new popular standard useful key main"
    " big major typical basic general certain different"
)
_ADVERB_END = frozenset(
    [
        "later",
        "again",
        "today",
        "now",
        "instead",
        "anyway",
        "first",
        "last",
        "ago",
        "already",
        "soon",
        "yet",
        "though",
        "too",
    ]
)
_BEFORE = re.compile(
    r"\b(?:formerly|previously|used to|in the past|traditionally|originally|until recently|earlier|before"
    r"|once thought|we thought|initially|at first|back then|(?:around|in|until) (?:the )?(?:1[89]|20)\d\ds?)\b",
    re.IGNORECASE,
)
_AFTER = re.compile(r"\b(?:but|now|today|nowadays|these days|currently|instead|whereas)\b", re.IGNORECASE)
_NOT_A_NAME = (
    r"(?!(?:When|If|In|On|At|For|With|By|The|A|An|As|After|Before|During|While|Once|Since|Although|Though"
    r"|Because|Unlike|Like|From|To|Of|Under|Over|Even|Only|Then|Now|Today|Both|Each|Every|All|Most|Some|Many"
    r"|Few|Several|Other|Such|This|That|These|Those|Our|My|Their|His|Her|Its|It|There)\b)"
)
_REPLACES = re.compile(
    rf"^{_NOT_A_NAME}(?P<term>[A-Z][\w-]*(?: [\w-]+){{0,4}}?)\s+(?:(?:is|are|have|has)\s+)?(?:\w+ly\s+)?"
    r"(?:replac(?:es|ed|ing)|supersed(?:es|ed|ing)|outperform(?:s|ed|ing)?)\b"
)
_NAMED = re.compile(
    rf"^{_NOT_A_NAME}(?P<term>(?:[A-Z][\w-]*[A-Z0-9][\w-]*|[A-Z][a-z]+(?:[- ][A-Z][\w-]*)+|`[^`]+`)"
    r"(?:\s+\([^)]{1,30}\))?)\s+(?P<verb>\w+)\s+(?P<next>\w+)"
)
_PRESENT_OBJECT = frozenset(["a", "an", "the", "its", "their", "to", "on", "in", "that"])
_LIST = re.compile(
    r"(?<![\w'’])(?P<list>(?:[\w-]+(?: [\w-]+){0,2}, ){1,4}(?:[\w-]+(?: [\w-]+){0,2},? )(?:and|or) "
    r"[\w-]+(?: [\w-]+){0,2})"
    r"\s*[.!]?$"
)
_EXTRAPOSED = re.compile(
    r"^It(?:’s|'s| is| was| will be)(?: going to be)? (?:a|an|the) (?P<x>(?:[a-z-]+ ){0,2}[a-z-]+) (?:to|that|for)\b"
)
_COMPOUND = re.compile(
    r"\b(?:[a-z]+-){1,2}[a-z]+ (?:learning|attention|search|sampling"
    r"|decoding|tuning|inference|scaling|encoding|encodings|normalization|regularization"
    r"|descent|programming|testing)\b"
)
_PERSONAL = re.compile(r"\b(?:I|I'm|I’m|my|me)\b")


def _cloze(text: str, start: int, end: int) -> str:
    return f"{text[:start]}{{{{c1::{cloze_safe(text[start:end])}}}}}{text[end:]}"


def _candidate(role: str, text: str, span: tuple[int, int], sentence: Sentence, rank: float, lead: str) -> Candidate:
    return Candidate("cloze", role, _cloze(text, *span), text[span[0] : span[1]], sentence.index, rank, lead)


def _worth_hiding(phrase: str) -> bool:
    """A term worth recalling: code, or a word rarer than everyday English."""
    words = re.findall(r"[A-Za-z][\w'-]*", phrase)
    if words and words[-1].lower() in _ADVERB_END:
        return False
    if not words:
        return phrase.startswith("`")
    threshold = 3.0 if len(words) == 1 else 3.4
    return phrase.startswith("`") or any(language.zipf(w) < threshold for w in words)


def _content(phrase: str) -> bool:
    words = re.findall(r"[A-Za-z][\w'-]*", phrase)
    return bool(words) and any(w.lower() not in quality.GENERIC and language.zipf(w) < 5.0 for w in words)


def _verb_form(word: str) -> bool:
    lower = word.lower()
    return lower in language.VERBS or (
        lower.endswith("s") and (lower[:-1] in language.VERBS or lower[:-2] in language.VERBS)
    )


def _end_phrase(text: str, after: int = 0) -> tuple[int, int] | None:
    """The span of the noun phrase that ends the clause (after `after`): its end focus."""
    body = text.rstrip()
    while body and body[-1] in ".!?;:":
        body = body[:-1].rstrip()
    tokens = [m for m in _TOKEN.finditer(body) if m.start() >= after]
    kept: list[re.Match[str]] = []
    for token in reversed(tokens):
        word = token.group()
        if not (word[0].isalnum() or word[0] in "`$\\") or word.lower() in _STOP:
            break
        kept.append(token)
        if len(kept) == 4:
            break
    if not kept:
        return None
    kept.reverse()
    if any(_verb_form(t.group()) for t in kept):
        return None  # "to [reduce mismatches]": a verb phrase, not the new information's noun
    before = [t.group().lower() for t in tokens if t.end() <= kept[0].start()]
    if not before or before[-1] not in _INTRODUCERS:
        return None  # not a noun phrase after a determiner or preposition: a verb, a clause's tail
    if any(re.search(r"(?:ed|ly)$", t.group()) for t in kept) or kept[0].group().lower() in _EVALUATIVE:
        return None  # a verb form or an adverb; or a judgement ("a common technique")
    return kept[0].start(), kept[-1].end()


# ---------------------------------------------------------------- the finders


def emphasis(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    """Bold and highlight are the author's cloze syntax: every such span of the sentence becomes a
    deletion of one note. Italics and quotes stress a term: one deletion, when the term is rare."""
    text = sentence.text
    atoms = protected(text)
    marked = [
        m
        for m in EMPHASIS.finditer(text)
        if not inside(m.span(), atoms)
        and not _label(text, m)
        and not _inside_word(text, m)
        and not _not_a_target(text, m)
        and next(g for g in m.groups() if g is not None).lower() not in language.STOPWORDS
    ]
    if text.lstrip().startswith(("#", "/", "`")):
        return  # a tag or command glossary line: the author's notation, not a claim
    if marked:
        pieces, last = [], 0
        for number, match in enumerate(marked, start=1):
            # The deletion keeps the author's markup ("{{c1::==Merge sort==}}" shows highlighted).
            pieces.append(unemphasised(text[last : match.start()]) + f"{{{{c{number}::{cloze_safe(match.group())}}}}}")
            last = match.end()
        pieces.append(unemphasised(text[last:]))
        answers = " · ".join(next(g for g in m.groups() if g is not None) for m in marked)
        yield Candidate("cloze", "cloze:emphasis", "".join(pieces), answers, sentence.index, 9.5, setting.section)
        return
    for pattern in (ITALIC, QUOTED):
        for match in pattern.finditer(text):
            inner = next(g for g in match.groups() if g is not None)
            if inside(match.span(), atoms) or match.start() == 0 or len(inner.split()) > 5:
                continue
            if not _worth_hiding(inner) or not re.search(r"[^\W\d_]{3}", inner):
                continue  # an italic or quoted everyday word ("buy", "new") or a symbol: not a term
            if re.search(r"(?:e\.g\.|i\.e\.|such as|like)\s*$", text[: match.start()]) or re.match(
                r"^\W*\s*(?:or|and|,)\s", text[match.end() :]
            ):
                continue  # one example among others: many answers fit
            if re.search(r"[-=<>]>|[(){}\[\]]", inner):
                continue  # code or a formula: shown, not recalled word by word
            named = _NAMING.search(text[: match.start()])
            closing = pattern is ITALIC and not text[match.end() :].strip(' .!"”’)')
            defined = pattern is ITALIC and re.match(r"^\s*[:—–]\s+\w", text[match.end() :])  # "*satisfice*: they"
            if not (named or closing or defined):
                continue  # a quotation, a title or an example in quotes: stress, not the claim
            start, end = match.span()
            if pattern is QUOTED:
                start, end = start + 1, end - 1
            front = unemphasised(text[:start]) + "{{c1::" + cloze_safe(inner) + "}}" + unemphasised(text[end:])
            yield Candidate("cloze", "cloze:stress", front, inner, sentence.index, 7.0, setting.section)
            return


# A term being named: the stressed word after these is the name the rest of the sentence defines.
_NAMING = re.compile(
    r"\b(?:called|known as|termed|dubbed|referred to as|the term|the word|coined|named)\s*[\"“*_]*$", re.IGNORECASE
)


def _label(text: str, match: re.Match[str]) -> bool:
    """A leading span not followed by the rest of its clause (a lower-case word) is a label; so is a
    span anywhere that a colon follows ("_**Ed**: I'm skeptical_", "**Note:** ...")."""
    opens = not text[: match.start()].rstrip(" _*([") or text[: match.start()].rstrip(" _*([").endswith((".", "!", "?"))
    if opens and (
        match.group().rstrip("*_=").endswith((":", "：")) or re.match(r"^[*_]{0,2}\s*[:：]", text[match.end() :])
    ):
        return True
    return match.start() == 0 and not re.match(r"\s+[a-z]", text[match.end() :])


def _inside_word(text: str, match: re.Match[str]) -> bool:
    """A span that starts or ends inside a word ("**C**harles"): hiding it leaves the rest of the
    word as the answer's cue. (Latin script only: Chinese and Japanese words are not spaced.)"""
    before = text[match.start() - 1 : match.start()]
    after = text[match.end() : match.end() + 1]
    return bool(re.match(r"[A-Za-z0-9\u00c0-\u024f]", before) or re.match(r"[A-Za-z0-9\u00c0-\u024f]", after))


def _not_a_target(text: str, match: re.Match[str]) -> bool:
    """A span no learner should recall: a panel or figure label in brackets ("(**Left**)"), an
    arrow diagram, a symbol, or a function word ("shift their focus **towards** the data")."""
    inner = next(g for g in match.groups() if g is not None)
    if text[match.start() - 1 : match.start()] in ("(", "[") and text[match.end() : match.end() + 1] in (")", "]"):
        return True
    if re.search(r"→|->|=>|<-|←", inner):
        return True
    if not re.search(r"[^\W\d_]{2}|\d", inner):
        return True  # a symbol ("s\\y", "M"): notation, not a term
    if text[: match.start()].count("(") > text[: match.start()].count(")"):
        return True  # inside an aside ("(**PIE strong cases**, sg. active indicative)")
    return inner.lower() in _STOP or inner.lower() in _INTRODUCERS


def contrast(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    before = _BEFORE.search(text)
    after = next((m for m in _AFTER.finditer(text) if m.start() > before.end()), None) if before else None
    if after is not None:
        span = _end_phrase(text, after.end())
        # The structure says this is the point: any phrase that is not an everyday generic word.
        if span and not inside(span, protected(text)) and _content(text[span[0] : span[1]]):
            yield _candidate("cloze:contrast", text, span, sentence, 7.5, setting.section)


def subject(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    """What a thing is or does (present tense), not who did what when."""
    replaces = _REPLACES.match(text)
    named = _NAMED.match(text)
    if replaces:
        term = replaces.group("term")
    elif named and (
        named.group("verb").lower() in ("is", "are", "can", "does", "has")
        or (re.fullmatch(r"[a-z]{3,}(?<!s)s", named.group("verb")) and named.group("next").lower() in _PRESENT_OBJECT)
    ):
        term = named.group("term")
    else:
        return
    predicate = text[len(term) :]
    if re.match(
        r"^\s+(?:is|are)\s+(?:a|an|the)\s+(?:\w+\s+){0,2}(?:technique|method|approach|way|tool|example|idea"
        r"|option|choice|thing|model|system)\b",
        predicate,
    ):
        return  # "[...] is a common technique for ...": many answers fit
    if len(sentence.words) >= 8:
        yield _candidate("cloze:subject", text, (0, len(term)), sentence, 6.0, setting.section)


def closing_list(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    match = _LIST.search(text) if ", " in text and (" and " in text or " or " in text) else None
    if not match:
        return
    start, listed = match.start("list"), match.group("list")
    while listed.split() and (listed.split()[0].lower() in _STOP or _verb_form(listed.split()[0])):
        first = listed.split()[0]
        start += len(first) + 1
        listed = listed[len(first) + 1 :]
    items = re.split(r",\s*(?:and\s+|or\s+)?|\s+(?:and|or)\s+", listed)
    lead_in = text[:start]
    if not 3 <= len(items) <= 4 or len(lead_in.split()) < 3 or not has_verb(lead_in):
        return
    if any(w.lower() in _STOP for item in items for w in item.split()):
        return
    before = lead_in.split()[-1].lower()
    if not (before in _STOP or before in _INTRODUCERS or before.endswith((":", ",")) or _verb_form(before)):
        return  # "such as model [size, compute and data]": the list starts inside a noun phrase
    if _OPINION.search(text):
        return  # "there was quite little innovation when it comes to ...": a view, not a fact to recall
    yield _candidate("cloze:list", text, (start, start + len(listed)), sentence, 6.5, setting.section)


def extraposed(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    match = _EXTRAPOSED.match(text)
    if match and match.group("x").split()[0] not in _EVALUATIVE:
        yield _candidate("cloze:focus", text, match.span("x"), sentence, 6.5, setting.section)


def compound(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    atoms = protected(text)
    for match in _COMPOUND.finditer(text):
        following = [w.strip(".,;:!?") for w in text[match.end() :].split()[:1]]
        noun_goes_on = (
            bool(following)
            and following[0].isalpha()
            and following[0].lower() not in _STOP
            and not following[0].endswith(("ing", "ed"))
            and not _verb_form(following[0])
        )
        if not inside(match.span(), atoms) and match.start() > 0 and not noun_goes_on:
            yield _candidate("cloze:term", text, match.span(), sentence, 5.5, setting.section)
            return


_COMPARED = re.compile(
    r"\b(?:than|compared (?:to|with)|from|over|versus|vs\.?|relative to|unlike|such as|like)\s+(?:the\s+)?$",
    re.IGNORECASE,
)
_OPINION = re.compile(
    r"\b(?:beauty|beautiful|believe|seems?|seemingly|might|quite|perhaps|probably|interesting|impressive"
    r"|unfortunately|arguably|I think|in my opinion|led to believe)\b",
    re.IGNORECASE,
)
_POINTING = re.compile(r"\b(?:this|these|those|they|them|their|such)\b", re.IGNORECASE)


def end_focus(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if not 8 <= len(sentence.words) <= 25:
        return
    span = _end_phrase(text)
    if not span or span[0] <= len(text) // 3 or inside(span, protected(text)) or not _worth_hiding(text[slice(*span)]):
        return
    hidden = text[span[0] : span[1]]
    name = hidden[:1].isupper() and not re.match(r"^[A-Z]{2,}\b", hidden)  # a name, not an acronym ("MCTS")
    if _COMPARED.search(text[: span[0]]) or re.search(r"\d", hidden) or name:
        return  # "more truthful than [...]", "introduced in [...]", a number or a name: not the claim
    if _POINTING.search(text[: span[0]]) or _OPINION.search(text):
        return  # "To manage this volume, ...": the claim rests on a sentence the card does not show
    if not re.search(r"\b(?:according to|by|said|says)\s*$", text[: span[0]]):  # who said it: not the point
        yield _candidate("cloze:end", text, span, sentence, 5.0, setting.section)


_STRUCTURAL: tuple[Callable[[str, Sentence, Setting], Iterator[Candidate]], ...] = (
    contrast,
    subject,
    closing_list,
    extraposed,
    compound,
    end_focus,
)


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if sentence.text.rstrip().endswith(("?", "？")):
        return
    yield from emphasis(sentence, setting)  # the author's choice, in any language and any length
    if setting.language != "en" or len(sentence.words) < 6:
        return
    text = unemphasised(sentence.text)
    if not has_verb(text) or IMPERATIVE_PROMPT.match(text) or _PERSONAL.search(text):
        return  # no claim, an exercise ("Describe ..."), or the author's own story
    if text.split()[0].lower() in language.VERBS:
        return  # an instruction ("Build compact vectors for the indexer"): its purpose is the point
    if sentence.anaphoric and not setting.section:
        return
    for finder in _STRUCTURAL:
        yield from finder(text, sentence, setting)
