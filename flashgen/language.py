"""Language helpers for making and judging cards: words, sentences, rarity. Offline and deterministic."""

from __future__ import annotations

import gzip
import html
import re
from collections.abc import Iterable, Iterator
from functools import cache, lru_cache
from importlib import resources
from typing import Any

STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "also",
        "am",
        "an",
        "and",
        "any",
        "are",
        "aren't",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "can't",
        "cannot",
        "could",
        "couldn't",
        "did",
        "didn't",
        "do",
        "does",
        "doesn't",
        "doing",
        "don't",
        "down",
        "during",
        "each",
        "either",
        "etc",
        "even",
        "ever",
        "every",
        "few",
        "for",
        "from",
        "further",
        "get",
        "gets",
        "got",
        "had",
        "hadn't",
        "has",
        "hasn't",
        "have",
        "haven't",
        "having",
        "he",
        "he'd",
        "he'll",
        "he's",
        "her",
        "here",
        "here's",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "how's",
        "however",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "if",
        "in",
        "into",
        "is",
        "isn't",
        "it",
        "it's",
        "its",
        "itself",
        "just",
        "least",
        "less",
        "let's",
        "lot",
        "lots",
        "may",
        "me",
        "might",
        "more",
        "most",
        "much",
        "must",
        "mustn't",
        "my",
        "myself",
        "need",
        "needs",
        "neither",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "often",
        "on",
        "once",
        "one",
        "only",
        "or",
        "other",
        "ought",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "per",
        "quite",
        "rather",
        "really",
        "same",
        "shan't",
        "she",
        "she'd",
        "she'll",
        "she's",
        "should",
        "shouldn't",
        "so",
        "some",
        "somewhat",
        "such",
        "than",
        "that",
        "that's",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "there's",
        "these",
        "they",
        "they'd",
        "they'll",
        "they're",
        "they've",
        "thing",
        "things",
        "this",
        "those",
        "though",
        "through",
        "thus",
        "to",
        "too",
        "under",
        "until",
        "up",
        "upon",
        "us",
        "use",
        "used",
        "uses",
        "using",
        "very",
        "via",
        "was",
        "wasn't",
        "way",
        "we",
        "we'd",
        "we'll",
        "we're",
        "we've",
        "well",
        "were",
        "weren't",
        "what",
        "what's",
        "when",
        "when's",
        "where",
        "where's",
        "whether",
        "which",
        "while",
        "who",
        "who's",
        "whom",
        "whose",
        "why",
        "why's",
        "will",
        "with",
        "within",
        "without",
        "won't",
        "would",
        "wouldn't",
        "yet",
        "you",
        "you'd",
        "you'll",
        "you're",
        "you've",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "actually",
        "basically",
        "simply",
        "still",
        "always",
        "never",
        "sometimes",
        "usually",
        "many",
        "several",
    ]
)
# Words that begin a sentence which cannot stand on its own.
DANGLING = frozenset(
    [
        "it",
        "it's",
        "its",
        "this",
        "that",
        "that's",
        "these",
        "those",
        "they",
        "they're",
        "them",
        "their",
        "he",
        "he's",
        "she",
        "she's",
        "his",
        "her",
        "such",
    ]
)
# Common English verbs in their base form: a label that starts with one is an instruction
# ("Sense your needs:"), not a term.
VERBS = frozenset(
    [
        "accept",
        "add",
        "allow",
        "apply",
        "ask",
        "automate",
        "avoid",
        "bake",
        "batch",
        "be",
        "become",
        "begin",
        "believe",
        "block",
        "break",
        "bring",
        "build",
        "buy",
        "call",
        "capture",
        "carry",
        "cause",
        "change",
        "check",
        "choose",
        "close",
        "combine",
        "come",
        "communicate",
        "compare",
        "compute",
        "connect",
        "consider",
        "continue",
        "control",
        "convert",
        "cook",
        "copy",
        "count",
        "cover",
        "create",
        "cut",
        "deal",
        "decide",
        "decode",
        "decrease",
        "define",
        "delay",
        "delegate",
        "deliver",
        "depend",
        "describe",
        "design",
        "determine",
        "develop",
        "digest",
        "divide",
        "do",
        "don't",
        "drink",
        "drop",
        "earn",
        "eat",
        "enable",
        "encode",
        "encourage",
        "end",
        "enjoy",
        "ensure",
        "enter",
        "estimate",
        "examine",
        "exchange",
        "exist",
        "expect",
        "explain",
        "fail",
        "fall",
        "feel",
        "fill",
        "find",
        "finish",
        "fit",
        "fix",
        "focus",
        "follow",
        "forget",
        "form",
        "gain",
        "get",
        "give",
        "go",
        "grow",
        "handle",
        "happen",
        "have",
        "hear",
        "help",
        "hide",
        "hire",
        "hit",
        "hold",
        "hunt",
        "identify",
        "imagine",
        "improve",
        "include",
        "increase",
        "install",
        "introduce",
        "invest",
        "join",
        "jump",
        "keep",
        "kill",
        "knead",
        "know",
        "land",
        "last",
        "lead",
        "learn",
        "leave",
        "let",
        "lie",
        "lift",
        "like",
        "limit",
        "link",
        "listen",
        "live",
        "load",
        "lock",
        "look",
        "lose",
        "lower",
        "maintain",
        "make",
        "manage",
        "map",
        "mark",
        "match",
        "mean",
        "measure",
        "meet",
        "mind",
        "miss",
        "mix",
        "model",
        "move",
        "name",
        "need",
        "note",
        "notice",
        "observe",
        "obtain",
        "occur",
        "offer",
        "open",
        "order",
        "organise",
        "organize",
        "outsource",
        "own",
        "package",
        "pass",
        "pay",
        "perform",
        "pick",
        "place",
        "plan",
        "plant",
        "play",
        "point",
        "pour",
        "practice",
        "predict",
        "prefer",
        "prepare",
        "present",
        "press",
        "prevent",
        "print",
        "produce",
        "promote",
        "protect",
        "prove",
        "provide",
        "publish",
        "pull",
        "push",
        "put",
        "raise",
        "reach",
        "read",
        "realize",
        "recall",
        "receive",
        "recognize",
        "record",
        "reduce",
        "refer",
        "reflect",
        "refuse",
        "regard",
        "reject",
        "relate",
        "release",
        "rely",
        "remain",
        "remember",
        "remove",
        "repeat",
        "replace",
        "report",
        "represent",
        "request",
        "require",
        "resist",
        "respond",
        "rest",
        "return",
        "reveal",
        "review",
        "rise",
        "rule",
        "run",
        "satisfy",
        "save",
        "say",
        "scale",
        "schedule",
        "score",
        "see",
        "seek",
        "sell",
        "send",
        "sense",
        "separate",
        "serve",
        "set",
        "settle",
        "shape",
        "share",
        "shift",
        "shoot",
        "show",
        "sign",
        "sing",
        "sit",
        "skip",
        "sleep",
        "slow",
        "solve",
        "sort",
        "speak",
        "spend",
        "split",
        "spread",
        "stand",
        "start",
        "state",
        "stay",
        "stop",
        "store",
        "strike",
        "study",
        "succeed",
        "suggest",
        "supply",
        "support",
        "suppose",
        "survive",
        "switch",
        "take",
        "talk",
        "teach",
        "tell",
        "tend",
        "test",
        "think",
        "throw",
        "touch",
        "track",
        "trade",
        "train",
        "transfer",
        "transform",
        "translate",
        "travel",
        "treat",
        "trust",
        "try",
        "turn",
        "understand",
        "use",
        "vary",
        "view",
        "visit",
        "vote",
        "wait",
        "walk",
        "want",
        "wash",
        "watch",
        "wear",
        "win",
        "wish",
        "wonder",
        "work",
        "worry",
        "write",
    ]
)
# Placeholder for the hidden part of a question built from a sentence.
BLANK = "_____"

# Latin words and numbers ("GPT-3", "don't", "3.5"), else runs of another script's letters (CJK has
# no spaces, so a run is a phrase; it still must not swallow a Latin word written inside it).
_LATIN = "0-9A-Za-z\u00c0-\u024f"
_WORD = re.compile(rf"[{_LATIN}](?:[{_LATIN}'’.-]*[{_LATIN}])?|[^\W{_LATIN}_]+", re.UNICODE)
_SENTENCE_END = re.compile(r"[\"”’)]*\s+(?=[\"“(\[]*[A-Z0-9*_=`$\[])")  # right after a full stop, ! or ?
_STOP = re.compile(r"[.!?]")
# Abbreviations whose period does not end a sentence.
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|al|cf|approx|fig|eq|no|mr|mrs|ms|dr|prof|st|jr|sr|inc|ltd)\.$", re.I
)


@lru_cache(maxsize=65536)
def words(text: str) -> tuple[str, ...]:
    """The words of plain text, lower-cased, apostrophes normalised, possessive 's dropped."""
    if text.isascii():  # the same words, lower-cased at once
        lower = text.lower()
        found = [word.strip(".") for word in _WORD.findall(lower)]
        return tuple(map(_possessive, found)) if "'s" in lower else tuple(found)
    return tuple(_normal(word) for word in _WORD.findall(text))


def first_words(text: str, count: int) -> tuple[str, ...]:
    """`words(text)[:count]`, without reading the rest of the text."""
    out: list[str] = []
    position = 0
    while len(out) < count:
        match = _WORD.search(text, position)
        if match is None:
            break
        out.append(_normal(match.group()))
        position = match.end()
    return tuple(out)


def _normal(word: str) -> str:
    return _possessive(word.lower().replace("’", "'").strip("."))


def _possessive(word: str) -> str:
    return word[:-2] if word.endswith("'s") and len(word) > 2 else word


@lru_cache(maxsize=65536)
def content_words(text: str) -> tuple[str, ...]:
    return tuple(w for w in words(text) if w not in STOPWORDS and (len(w) > 2 or any(c.isdigit() for c in w)))


@cache
def _frequencies() -> dict[str, float]:
    data = resources.files("flashgen").joinpath("data/words_en.txt.gz").read_bytes()
    table = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines():
        word, _, zipf = line.partition("\t")
        table[word] = float(zipf)
    return table


def zipf(word: str) -> float:
    """How common an English word is: about 7 for 'the', 3 for 'adenosine', 0 when unknown."""
    return _frequencies().get(word.lower().replace("’", "'"), 0.0)


def split_sentences(text: str) -> list[str]:
    """Split prose into sentences, keeping abbreviations like 'e.g.' and 'et al.' inside them."""
    if "." not in text and "!" not in text and "?" not in text:  # one sentence at most
        whole = text.strip()
        return [whole] if whole else []
    parts: list[str] = []
    start = 0
    for match in _sentence_ends(text):
        candidate = text[start : match.start()].rstrip()
        if _ABBREVIATIONS.search(candidate.rsplit(None, 1)[-1] if candidate.split() else ""):
            continue
        if _inside_math_or_code(text, match.start()):
            continue
        parts.append(candidate)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        parts.append(tail)
    return [p for p in (p.strip() for p in parts) if p]


def _sentence_ends(text: str) -> Iterator[re.Match[str]]:
    """The breaks between sentences: quotes, brackets and spaces after a full stop, ! or ?, before
    what can start a sentence."""
    return matches_at(_SENTENCE_END, text, (stop.end() for stop in _STOP.finditer(text)))


def matches_at(pattern: re.Pattern[str], text: str, starts: Iterable[int]) -> Iterator[re.Match[str]]:
    """`pattern.finditer(text)`, for a pattern that can match only at `starts` (in increasing
    order): tried there alone. For patterns that open with a lookbehind, which keeps the regular-
    expression engine from skipping ahead to where a match could start, so that it tries every
    character."""
    resume = 0
    for start in starts:
        if start >= resume:
            match = pattern.match(text, start)
            if match:
                yield match
                resume = match.end()


def _inside_math_or_code(text: str, position: int) -> bool:
    before = text[:position]
    return before.count("`") % 2 == 1 or (before.count("$") - before.count("\\$")) % 2 == 1


def wikilink_label(inner: str) -> str:
    """The text an Obsidian link `[[inner]]` shows: its alias (`[[page#heading|alias]]`), else the
    page's name and the heading it points to ("page › heading"; `[[#heading]]` in the same note:
    "heading"). A block reference (`#^a1b2c3`) and a folder path are not shown."""
    target, bar, alias = inner.partition("|")
    if bar and alias.strip():
        return alias.strip()
    page, _, anchor = target.partition("#")
    page = page.strip().rsplit("/", 1)[-1].strip()
    headings = [h.strip() for h in anchor.split("#") if h.strip() and not h.strip().startswith("^")]
    return " › ".join([page] * bool(page) + headings) or target.strip()


def html_to_text(fragment: str) -> str:
    """Plain text of an HTML field, for judging cards."""
    fragment = re.sub(r"<(br|/p|/li|/div|/tr|hr)[^>]*>", " ", fragment, flags=re.IGNORECASE)
    text = html.unescape(re.sub(r"<[^>]+>", "", fragment))
    return re.sub(r"\s+", " ", text).strip()


def normalise(text: str) -> str:
    return " ".join(words(text))


# --- languages other than English: which one a text is in, its sentences and its words -------------

_KANA = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff\uff66-\uff9f]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# A run of Chinese or Japanese script (Han, kana, the prolonged sound mark), which a segmenter splits.
# Its punctuation (、。「」！？) goes with it: the segmenters know where it belongs.
_CJK_RUN = re.compile(
    r"[\u3000-\u303f\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff01\uff08\uff09\uff0c"
    r"\uff1a\uff1b\uff1f\uff66-\uff9f]+"
)


def language_of(text: str) -> str:
    """The language of `text`: "ja" for text with kana, "zh" for Han characters without kana, else "en".

    Kana is written only in Japanese, and Japanese is hardly ever written without it, so the
    script tells the language well enough to pick a sentence splitter and a word segmenter.
    """
    if text.isascii():
        return "en"
    if _KANA.search(text):
        return "ja"
    return "zh" if _HAN.search(text) else "en"


_CJK_LETTER = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CODE_BLOCK = re.compile(r"^(`{3,}|~{3,}).*?^\1", re.MULTILINE | re.DOTALL)
CJK_SHARE = 0.15  # of a note's letters: a Japanese or Chinese note written with many English words


def written_in(text: str) -> str:
    """The language a whole note is written in: "ja" or "zh" when Chinese or Japanese characters
    are at least 15% of its letters outside code blocks (technical notes in these languages are
    full of English words, and each character says more than a Latin letter), else "en"."""
    if text.isascii():
        return "en"
    prose = _CODE_BLOCK.sub("", text)
    cjk = len(_CJK_LETTER.findall(prose))
    latin = sum(1 for c in prose if c.isascii() and c.isalpha())
    if not cjk or cjk < CJK_SHARE * (cjk + latin):
        return "en"
    return "ja" if _KANA.search(prose) else "zh"


# The author's own remark: what they think, felt, liked or want (not what the source says).
_REMARK = re.compile(
    r"思い?ます|思いました|思う|思っ|感じ|気にな|気がし|わかりやす|分かりやす|やすかった|おもしろ|面白|参考にな|印象的|ありがた|勉強にな"
    r"|嬉し|うれし|楽し|すごい|良かった|よかった|たいです|たかった|たい。|ほしい|欲しい|でしょうか|かな。|(?<!し)かも|らしい|みたい"
    r"|気がする|納得|理解しました|わかりました|知りました|学びました|読みました|読んで|読んだ|思え|だろう|ように見え"
    r"|ようです|ようだ|我觉得|我们?\S{0,3}认为|我推荐|我想|我希望|我感觉|我(?!们)|吧。|吗|呢"
)
# Chinese words of opinion and doubt, read as words (not "大概" inside "最大概率").
_ZH_HEDGES = frozenset(["觉得", "感觉", "也许", "大概", "好像", "似乎", "或许"])


def remark(text: str) -> bool:
    """Whether a Japanese or Chinese sentence is its author's own remark, feeling or hedge ("…と思いました",
    "参考になりました", "我觉得…") rather than what the source says: not knowledge to study."""
    if _REMARK.search(text):
        return True
    return language_of(text) == "zh" and any(word in _ZH_HEDGES for word in segments(text, "zh"))


# Markup that closes what a sentence's last word opened (`**Bold.**`, `_it._`, `[text.](url)`):
# a splitter that knows no markdown leaves it at the start of the next sentence.
_CLOSING_MARKUP = re.compile(r"^(?:\*\*|__|\*|_|~~|==|`|\]\([^)]*\)|\))+")
# A piece that starts with a lower-case letter or a comma goes on the sentence before it (a new
# sentence does not start that way), and so does one that starts with hiragana after a closing
# quote: 「引用。」を含む is one sentence.
_CONTINUATION = re.compile(r"^[a-z、，,;；:：]")
_AFTER_QUOTE = re.compile(r"[」』）)]$")
_HIRAGANA = re.compile(r"^[\u3040-\u309f]")
# ... and so does any piece after a quote inside a sentence (only a sentence that is all quote ends with 」).
_OPENING_QUOTE = re.compile(r"^[「『(（]")


def sentences(text: str, lang: str | None = None) -> list[str]:
    """The sentences of a paragraph of plain or markdown text, in English, Japanese or Chinese.

    Uses sentencex (Wikimedia's rule-based splitter: "John C. Maxwell", "e.g." and "3.14" stay
    whole; 。！？ end Japanese and Chinese sentences), then mends what it cannot know about
    markdown: emphasis or a link closed after a sentence's full stop stays with that sentence.
    `lang` is `language_of(text)` when not given.
    """
    text = text.strip()
    if not text:
        return []
    import sentencex  # here: only paragraphs need it

    pieces = [p for p in sentencex.segment(lang or language_of(text), text) if p.strip()]
    out: list[str] = []
    for piece in pieces:
        piece = piece.strip()
        closing = _CLOSING_MARKUP.match(piece)
        if out and closing:
            out[-1] += closing.group(0)
            piece = piece[closing.end() :].strip()
        if not piece:
            continue
        if out and (
            _CONTINUATION.match(piece)
            or (_AFTER_QUOTE.search(out[-1]) and (_HIRAGANA.match(piece) or not _OPENING_QUOTE.match(out[-1])))
            or _inside_math_or_code(out[-1], len(out[-1]))
        ):
            joiner = "" if _CJK_RUN.search(out[-1][-1:]) or _AFTER_QUOTE.search(out[-1]) else " "
            out[-1] += joiner + piece
        else:
            out.append(piece)
    return out


def segments(text: str, lang: str | None = None) -> list[str]:
    """`text` cut into words (Chinese) or phrases (Japanese); joined, they are `text` again.

    A part of a sentence that a card hides or asks for must start and end at a boundary between
    two segments, never inside a word: "人工智能" is one segment, so is "所有権は". Chinese is cut
    by rjieba (jieba's dictionary, in Rust), Japanese into phrases (bunsetsu) by BudouX; both work
    offline from data in their wheels. Latin words, numbers ("3.14") and spaces between runs of
    Chinese or Japanese are segments of their own, as `words` reads them. English text is cut at
    spaces, each word keeping the spaces after it.
    """
    lang = lang or language_of(text)
    out: list[str] = []
    position = 0
    if lang in ("ja", "zh"):
        for run in _CJK_RUN.finditer(text):
            out.extend(_latin_segments(text[position : run.start()]))
            out.extend(_cjk_segments(run.group(), lang))
            position = run.end()
    out.extend(_latin_segments(text[position:]))
    return out


def word_boundaries(text: str, lang: str | None = None) -> frozenset[int]:
    """The offsets in `text` where a hidden or asked-for part may start or end: 0, `len(text)`,
    and every boundary between two `segments`."""
    offsets = {0}
    position = 0
    for segment in segments(text, lang):
        position += len(segment)
        offsets.add(position)
    return frozenset(offsets)


def _latin_segments(text: str) -> list[str]:
    return re.findall(r"\S+\s*|\s+", text)


def _cjk_segments(run: str, lang: str) -> list[str]:
    if lang == "zh":
        import rjieba  # here: only Chinese text needs it (its dictionary loads on first use)

        return [str(word) for word in rjieba.cut(run)]
    return list(_japanese_parser().parse(run))


@cache
def _japanese_parser() -> Any:
    import budoux

    return budoux.load_default_japanese_parser()
