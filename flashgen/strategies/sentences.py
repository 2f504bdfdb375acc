"""Sentences: a takeaway's prose cut into claims, each with what the generator needs to know about
it before it chooses what to ask (its language, whether it opens with an anaphor, where its verb
is, what the author emphasised). Pure functions over text; no parser model (see README: a POS
tagger cost more build time than the cards gained)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .. import language

# Spans never cut and never hidden: math, code, HTML.
# (each bounded: from an opener with no closer an unbounded match searches the rest of the text, and
# a thousand openers would take quadratic time)
ATOM = re.compile(
    r"\$\$.{1,4000}?\$\$|\$[^$\n]{1,4000}\$|\\\(.{1,4000}?\\\)|\\\[.{1,4000}?\\\]|`[^`]{0,4000}`|<[^>]{1,4000}>",
    re.DOTALL,
)
_LINK = re.compile(r"\[(?<!!\[)([^\[\]]{0,4000})\]\([^()]{0,4000}\)")  # no nested brackets: linear on "[a [a [a ..."
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_WIKI = re.compile(r"\[(?<!!\[)\[([^\]]{0,4000})\]\]")
_FOOTNOTE = re.compile(r"\[\^[^\]]{0,400}\]")
_ASIDE = re.compile(
    r"\s*\((?:(?:e\.g\.|eg\.|i\.e\.|see|cf\.|via|source)\s[^()]{0,400}|[^()]{0,400}\bet al\b[^()]{0,400}"
    r"|[^()]{0,400},\s*etc\.?)\)",
    re.IGNORECASE,
)
_BARE_URL = re.compile(r"(?<![(\"'=])<?https?://[^\s)\"'<>]+>?")  # not an image's or an attribute's address
EMPHASIS = re.compile(r"\*\*(?=\S)(.{1,400}?)(?<=\S)\*\*|__(?=\S)(.{1,400}?)(?<=\S)__|==(?=\S)(.{1,400}?)(?<=\S)==")
ITALIC = re.compile(
    r"\*(?<![\w*]\*)(?=[^\s*])([^*]{1,400}?)(?<=\S)\*(?![\w*])|_(?<![\w_]_)(?=[^\s_])([^_]{1,400}?)(?<=\S)_(?![\w_])"
)
QUOTED = re.compile(r"[“\"]([^”\"]{3,40})[”\"]")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_KANA = re.compile(r"[\u3040-\u30ff]")
_HIRAGANA = re.compile(r"[\u3040-\u309f]")

_EN = frozenset(
    [
        "the",
        "a",
        "an",
        "of",
        "and",
        "to",
        "in",
        "is",
        "are",
        "that",
        "for",
        "with",
        "on",
        "as",
        "it",
        "this",
        "by",
        "be",
        "from",
        "or",
        "not",
        "have",
        "was",
        "were",
    ]
)
# German, French, Spanish and Dutch function words
_OTHER = frozenset(
    [
        "der",
        "die",
        "das",
        "und",
        "ist",
        "nicht",
        "ein",
        "eine",
        "mit",
        "für",
        "auf",
        "dem",
        "den",
        "des",
        "sind",
        "zu",
        "von",
        "im",
        "le",
        "la",
        "les",
        "et",
        "est",
        "une",
        "des",
        "du",
        "dans",
        "pour",
        "que",
        "qui",
        "sur",
        "pas",
        "el",
        "los",
        "las",
        "y",
        "es",
        "un",
        "una",
        "del",
        "por",
        "para",
        "con",
        "que",
        "se",
        "het",
        "een",
        "en",
        "van",
        "de",
        "is",
        "niet",
        "op",
        "voor",
    ]
)


@lru_cache(maxsize=8192)
def language_of(text: str) -> str:
    """ "ja", "zh", "en" or "other": which templates and rules fit a text."""
    if _CJK.search(text):
        if len(_HIRAGANA.findall(text)) >= 2:
            return "ja"  # Japanese grammar ("signalはparticular form of telemetry"), however many English words
        cjk = len(_CJK.findall(text))
        latin = len(re.findall(r"[A-Za-z]", text))
        if cjk * 3 >= latin or cjk >= 8:
            return "ja" if _KANA.search(text) else "zh"
    found = re.findall(r"[a-zäöüßéèàç]+", text.lower())
    english = sum(w in _EN for w in found)
    other = sum(w in _OTHER for w in found)
    return "other" if other > english else "en"


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one string (lists of words read better so)."""
    return frozenset(words.split())


@lru_cache(maxsize=8192)
def prose(markdown: str) -> str:
    """Markdown for a card front: links reduced to their text, footnote marks, bare addresses and
    citation asides dropped, emphasis markers kept for the strategies to read."""
    text = _LINK.sub(lambda m: m.group(1) or "", markdown)
    text = _WIKI.sub(lambda m: language.wikilink_label(m.group(1)), text)
    text = _FOOTNOTE.sub("", text)
    if "://" in text:  # (each of these two searches would otherwise try every position)
        text = _BARE_URL.sub("", text)
    if "(" in text:
        text = _ASIDE.sub("", text)
    return " ".join(text.split())


@lru_cache(maxsize=16384)
def plain(markdown: str) -> str:
    """Plain text of inline markdown, emphasis markers dropped (for judging, not for showing)."""
    image = r"!\[[^\]]*\]\([^)]*\)|!\[\[[^\]]*\]\]"
    text = prose(markdown)
    if "![" in text:
        text = re.sub(rf"\s*(?:{image})(?=\s*[,.;:!?])|(?:{image})", "", text)
    text = EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = ITALIC.sub(lambda m: next(g for g in m.groups() if g is not None), text)
    text = re.sub(r"<[^>]+>", "", text)
    return " ".join(text.split())


@lru_cache(maxsize=16384)
def unemphasised(markdown: str) -> str:
    """Markdown with bold/highlight/italic markers dropped (their text kept)."""
    text = EMPHASIS.sub(lambda m: next(g for g in m.groups() if g is not None), markdown)
    return ITALIC.sub(lambda m: next(g for g in m.groups() if g is not None), text)


_ANAPHOR = re.compile(
    r"^(?:(?:and|but|so|also|then|thus|hence|however|therefore|as a (?:response|result) to this|during this \w+"
    r"|in this \w+|for this \w+|with this \w+|after this \w+|at this \w+|instead|similarly|moreover"
    r"|furthermore|additionally|in addition|in contrast|on the other hand)\b[ ,]*)*"
    r"(?:it|its|this|that|these|those|they|them|their|he|she|his|her|such|here|there|the former|the latter"
    r"|the (?:above|following|same|previous|latter|former)|we(?:'ve| have) had this)\b",
    re.IGNORECASE,
)
_EXPLETIVE = re.compile(
    r"^(?:it(?:'s|’s| is| was| will be| can be| would be| may be| might be)"
    r" (?:\w+ ){0,3}?(?:to|that|whether|how|when|why)\b|it(?:'s|’s| is) going to be\b|there (?:is|are|was|were)\b)",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def anaphoric(text: str) -> bool:
    """Whether a sentence opens with a word that points back at text the card will not show."""
    text = plain(text)
    return bool(_ANAPHOR.match(text)) and not _EXPLETIVE.match(text)


@lru_cache(maxsize=16384)
def has_verb(text: str) -> bool:
    """Whether a text has a finite verb, by word class alone: an auxiliary, a common verb in a
    regular form, or a past form ("status" and other plural-looking nouns are not verbs)."""
    for word in re.findall(r"[A-Za-z][a-z']+", text):
        lower = word.lower()
        if lower in AUX or lower in language.VERBS:
            return True
        if lower.endswith("s") and (lower[:-1] in language.VERBS or lower[:-2] in language.VERBS):
            return True
        if lower.endswith("ed") and len(lower) > 5:
            return True
    return False


IMPERATIVE_PROMPT = re.compile(
    r"^(?:describe|explain|discuss|compare|list|define|name|state|give|show|prove|derive)\b", re.IGNORECASE
)


AUX = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "can",
        "could",
        "should",
        "will",
        "would",
        "must",
        "may",
        "might",
        "does",
        "do",
        "did",
        "has",
        "have",
        "had",
        "shall",
    ]
)
_MAIN_VERB = re.compile(r"\b\w{3,}(?:s|ed)\b")


@dataclass(frozen=True)
class Sentence:
    """One claim of a takeaway, as markdown ready for a card (`text`) and as plain text."""

    index: int
    text: str
    plain: str

    @property
    def words(self) -> tuple[str, ...]:
        return tuple(self.plain.split())

    @property
    def anaphoric(self) -> bool:
        return anaphoric(self.plain)


MAX_CLAIM = 2_000  # a "sentence" longer than this is a run-on paste, not a claim to ask about


@lru_cache(maxsize=8192)
def claims(markdown: str) -> tuple[Sentence, ...]:
    """The sentences of a takeaway's own text (not its nested items), code, tables, quotes and
    display math left out."""
    out: list[Sentence] = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        paragraph = paragraph.strip()
        if not paragraph or paragraph.startswith(("```", "~~~", "|", ">", "$$", "<")) or "\n|" in paragraph:
            continue
        text = prose(paragraph)
        for piece in _split(text):
            piece = piece.strip()
            if piece and len(piece) <= MAX_CLAIM:
                out.append(Sentence(len(out), piece, plain(piece)))
    return tuple(out)


def _split(text: str) -> list[str]:
    found = language.sentences(text)  # sentencex: abbreviations, decimals, 。！？
    if _CJK.search(text):
        return found
    out = []
    for sentence in found:
        out.extend(_clauses(sentence))
    return out


def _clauses(sentence: str) -> list[str]:
    """A sentence of two claims joined by ";" as two claims, each long enough to stand alone."""
    if ";" not in sentence or ATOM.search(sentence):
        return [sentence]
    head, _, tail = sentence.partition("; ")
    if len(head.split()) < 4 or len(tail.split()) < 4:
        return [sentence]
    return [finish(head), *_clauses(tail[:1].upper() + tail[1:])]


def finish(text: str) -> str:
    """A clause as a sentence: trimmed, its final stop restored."""
    text = text.strip().rstrip(",;:")
    return text if text.endswith((".", "!", "?", "。", "？", "！")) else text + "."


def lower_first(text: str) -> str:
    """`text` with its first word lower-cased when that capital only starts the sentence
    ("Affordances are ..." -> "affordances"; not "Swish", "Neural Networks", "GPT-3")."""
    first, _, rest = text.partition(" ")
    if first in ("A", "An", "The"):
        return first.lower() + (" " + lower_first(rest) if rest else "")
    if not first or not first[:1].isupper() or not first[1:].islower():
        return text
    if rest[:1].isupper():
        return text  # a name of several words ("Neural Networks")
    lower = first.lower()
    known = language.zipf(lower) >= 4.8 or (lower.endswith("s") and language.zipf(lower[:-1]) >= 2.0)
    if not known and not (lower.endswith("s") and "-" not in lower):
        return text  # a name ("Swish", "Kant")
    return lower + (" " + rest if rest else "")


def protected(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in ATOM.finditer(text)]


def inside(span: tuple[int, int], spans: list[tuple[int, int]]) -> bool:
    return any(a < span[1] and span[0] < b for a, b in spans)


CLOZE_SKIP = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]|\]\([^)]*\)|<[^>]+>", re.DOTALL)
CLOZE_PAIR = re.compile(r"(?<=:)(?=:)|(?<=\})(?=\})|(?<=\{)(?=\{)")
JOINER = "\u2060"


def cloze_safe(markdown: str) -> str:
    """The markdown of a cloze deletion's text, safe to put between `{{cN::` and `}}`."""
    if not any(c in markdown for c in ":{}"):
        return markdown
    out, last = [], 0
    for match in CLOZE_SKIP.finditer(markdown):
        out.append(CLOZE_PAIR.sub(JOINER, markdown[last : match.start()]))
        out.append(match.group())
        last = match.end()
    out.append(CLOZE_PAIR.sub(JOINER, markdown[last:]))
    safe = "".join(out)
    # `{{c1::x}` + `}}` would close after `x`; `{{c1::` + `:x` would read as a hint.
    return (JOINER if safe.startswith(":") else "") + safe + (JOINER if safe.endswith("}") else "")


def clear_caches() -> None:
    """Forget every cached analysis (for measurements from cold caches)."""
    for cached in (prose, plain, unemphasised, anaphoric, has_verb, language_of, claims):
        cached.cache_clear()
