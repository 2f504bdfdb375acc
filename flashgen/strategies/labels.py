"""Labels: a "**Label**: description" item. The label is the author's own name for the idea, so it is
shown, never hidden: the card gives the label (and its heading) and asks for the description. An
item whose description states no fact of its own ("This is a noteworthy change.") makes no card."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from .. import language
from . import definitions
from .candidates import Candidate, Setting
from .cjk import phrases
from .sentences import anaphoric, claims, has_verb, plain, prose

_LABEL = re.compile(
    r"^(?:\*\*|__)(?P<a>[^*_\n]{1,60}?)\s*(?:[:：]\s*(?:\*\*|__)\s*[:：]?|(?:\*\*|__)\s*(?:[:：]|\s[—–-]\s))\s*"
    r"(?P<ra>\S[\s\S]*)$"
    r"|^(?P<b>[^:：\n.!?\[\]()]{1,50}?)\s*(?:[:：]|\s[—–]\s|\s-\s)\s*(?P<rb>\S[\s\S]*)$"
    r"|^(?P<c>[^\n.!?:：]{1,40}?)[ \t]*(?:\\|  )?\n(?P<rc>\S[\s\S]*)$"
)
_LABEL_ASIDE = re.compile(
    r"^((?:\*\*|__)?[^:：\n()]{1,50}?)\s*\((?:[^()]{0,40}\d{4}[^()]{0,10}|[A-Z][A-Za-z]{0,3}|(?:from|in|aka|see|cf\.?)\s[^()]{1,30})\)"
    r"(?=\s*(?:\*\*|__)?\s*[:：]|\s*[:：])"
)
_LABEL_ASIDE_REPL = r"\1"
_ITALIC_LABEL = re.compile(r"^[*_](?![*_\s])([^*_\n:：]{1,50}?)[*_](?=\s*[:：])")
_NOT_A_TERM = re.compile(
    r"^(?:note|notes|example|examples|e\.g|eg|pros?|cons?|update|edit|source|sources|see|tip|tips|warning|caveat"
    r"|todo|q|a|why|how|what|when|who|where|result|results|summary|conclusion|idea|ideas|problem|solution|answer"
    r"|question|key idea|main idea|idea|takeaway|step \d+|phase \d+|part \d+|stage \d+|\d+|[ivx]+"
    r"|i|we|you|he|she|they|it|this|that"
    r"|.*\b(?:challenges?|solutions?|benefits?|problems?|advantages?|disadvantages?|overview|results?|examples?))$",
    re.IGNORECASE,
)
_VERB_IN_LABEL = re.compile(
    r"\b(?:is|are|was|were|be|has|have|had|do|does|did|can|could|should|will|would|must|may|might)\b", re.I
)
_DEFINITION_START = re.compile(r"^(?:a|an|the|one|any|also known as|aka|refers? to|means?|represents?)\b", re.I)
MAX_ANSWER_WORDS = 35


def _question(label: str, setting: Setting) -> str:
    if setting.language == "zh":
        return f"{label}是什么？" if "的" in label else f"什么是{label}？"
    if setting.language == "ja":
        return f"{label}とは？"
    last = label.split()[-1] if label.split() else label
    plural = last.lower().endswith("s") and not last.lower().endswith(("ss", "us", "is", "ics")) and last.isalpha()
    return f"What {'are' if plural else 'is'} {label}?"


def leftover(text: str) -> tuple[str, str] | None:
    """The label and the sentence of a "Label: sentence" item that makes no label card ("Ablations:
    ...", "Fix: ..."): the label is cut off the sentence (a heading left in a prompt reads as broken
    text) and returned to be shown as context only when it names something."""
    found = split_label(text)
    if found is None:
        return None
    label, rest = found
    label_plain = plain(label)
    if not label_plain or len(label_plain.split()) > 6 or _VERB_IN_LABEL.search(label_plain) or "\n" in label:
        return None
    if not re.match(r"^[\"“*_(\[A-Z0-9`$\\]", rest) or label_plain.endswith(("?", "？")):
        return None  # "as follows: the ..." goes on mid-sentence: not a label
    words = label_plain.split()
    if text.lstrip().startswith(("**", "__")) and not re.match(
        r"^\s*(?:\*\*|__)[^*_\n]+?(?:\*\*|__)\s*(?:\([^()]*\)\s*)?[:：]|^\s*(?:\*\*|__)[^*_\n]+?[:：]\s*(?:\*\*|__)",
        text,
    ):
        return None  # "**Harmless** math keeps working: ...": a sentence that opens with a bold word
    if words[0].lower() in language.STOPWORDS and words[0].lower() not in ("the", "a", "an"):
        return None  # "For **loading**: ...": a phrase, not a name
    if not text.lstrip().startswith(("**", "__")) and (
        len(words) > 4
        or re.search(r"\b\w{3,}ed\b", label_plain)
        or re.search(r"[.,;]", label_plain)
        or any(w.lower() in language.STOPWORDS and w.lower() not in ("of", "and", "for", "in", "vs") for w in words)
        or words[0].lower() in language.VERBS
        or words[0].lower().endswith(("en", "ing"))
        or has_verb(label_plain)
    ):
        return None  # "Kant defined the human dignity: ...": a sentence with a colon
    if not claims(rest):
        return None  # "**Plain** block:" over code: the label line is the only prose there is
    return label_plain, rest


def split_label(text: str) -> tuple[str, str] | None:
    """The label and the description of a "Label: description" item, if it is one."""
    # a citation or abbreviation between label and colon is not part of the term:
    # "FIRE position encodings (Li et al., 2023): ...", "**Read** (R): ..."
    text = _LABEL_ASIDE.sub(_LABEL_ASIDE_REPL, text.strip(), count=1)
    italic = _ITALIC_LABEL.match(text)
    if italic:
        text = f"**{italic.group(1)}**{text[italic.end(1) + 1 :]}"  # "*Empathy*: ..." reads as "**Empathy**: ..."
    match = _LABEL.match(text.strip())
    if not match:
        return None
    label = next(match.group(g) for g in ("a", "b", "c") if match.group(g) is not None)
    rest = next(match.group(g) for g in ("ra", "rb", "rc") if match.group(g) is not None)
    return label.strip().strip("\"'“”‘’*_`"), rest.strip()


def propose(text: str, setting: Setting) -> Iterator[Candidate]:
    found = split_label(text)
    if found is None:
        return
    label, rest = found
    label_plain = plain(label)
    cjk = setting.language in ("zh", "ja")
    if (
        not label_plain
        or re.search(r"[#@$%^&*=<>{}|~]", label_plain)
        or _NOT_A_TERM.match(label_plain)
        or "http" in label
        or label_plain.endswith(("?", "？"))
    ):
        return
    if cjk:
        before = text.strip()[: len(text.strip()) - len(rest)] if text.strip().endswith(rest) else text
        if len(label_plain) > 16 or not phrases.label(before, label_plain, rest, setting.language):
            return  # "CPUとcacheについて。" then a line break: a sentence, not a label; "`std::sync`": code
    else:
        if len(label_plain.split()) > 6 or _VERB_IN_LABEL.search(label_plain) or anaphoric(label_plain):
            return
        bold = label != label_plain or text.lstrip().startswith(("**", "__"))
        verbs = [w for w in label_plain.lower().split()[1:] if w[:-1] in language.VERBS or w[:-2] in language.VERBS]
        if not bold and (len(label_plain.split()) > 4 or re.search(r"\b\w{3,}ed\b", label_plain) or verbs):
            return  # "Kant defined the human dignity: ...": a sentence with a colon, not a label
        if not re.search(r"[A-Za-z]", label_plain) or re.search(r"\d", label_plain) or "\\" in label:
            return  # "Task 1", "Class 5", a formula: a numbered item, not a term
    first = label_plain.split()[0].lower() if label_plain.split() else ""
    if not cjk and first in language.STOPWORDS and first not in ("a", "an", "the"):
        return  # "At least somewhat predictive:": not a term
    if not cjk and (first in language.VERBS or first[:-1] in language.VERBS or first[:-2] in language.VERBS):
        return  # "Sense our own needs:": an instruction, not a term
    described = claims(rest)
    if not described:
        return
    description = prose(described[0].text)
    if not cjk:
        # "THOR: This is a 3D simulator ...": "This" is the label, and what follows defines it
        description = re.sub(
            r"^(?:(?:This|It|These|They)\s+)?(?:Is|is|Are|are)\s+(?=(?:a|an|the|one)\b)", "", description
        )
        if re.match(
            r"^(?:is|are|was|were|can|has|have|will|e\.g\.|for example|example|eg\b|see\b|the same|this|that"
            r"|it|these|those)\b",
            description,
            re.I,
        ):
            return  # a predicate without its subject, or an example: not what the label means
        if "`" in label or re.search(r"[A-Z]{2,}\s+[A-Z]{2,}", plain(description)[:20]):
            return  # code or a query: shown, not asked
        if len(plain(description).split()) <= 6 and re.search(
            r"\b(?:interesting|example|exception|case|thing|stuff|nice|cool|important)\b", plain(description), re.I
        ):
            return  # a judgement, not a description
    words = plain(description).split()
    if cjk:
        if len(plain(description)) < 8 or len(plain(description)) > 120:
            return
        if (len(described) > 1 and not described[0].plain.endswith("。")) or not phrases.description(
            label_plain, plain(description)
        ):
            return  # a list flattened into lines, an example, a formula, a claim about the label
    else:
        if len(words) < 4 or anaphoric(description):
            return  # "This is a noteworthy change.": no fact to ask for
        if len(words) > MAX_ANSWER_WORDS:
            return
        if not _DEFINITION_START.match(plain(description)) and not re.search(
            r"\b(?:is|are|was|were|can|has|have|uses?|makes?|gives?|lets?|allows?|\w+s|\w+ed)\b", plain(description)
        ):
            return  # neither a definition nor a claim: a list of words
        if len(label_plain.split()) == 1 and not label_plain.isupper() and language.zipf(label_plain) >= 3.5:
            return  # "Overhead:", "Fix:", "Bad:": an everyday word, not a term the description defines
        if re.match(r"^(?:i|we|my|our)\b", plain(description), re.IGNORECASE) or re.search(
            r"\b(?:above|below|here|the following)\b", plain(description), re.IGNORECASE
        ):
            return  # a personal remark, or a description that points elsewhere in the note
    first_word = (re.findall(r"[A-Za-z]+", plain(description)) or [""])[0].lower()
    if not cjk and first_word and first_word[:5] in {w.lower()[:5] for w in re.findall(r"[A-Za-z]+", label_plain)}:
        return  # "Success percentage: Percentage of ...": the description restates the label
    if not cjk and re.match(
        r"^(?:(?:because|though|although|however|but|so|in an?|if you|we|you|previously|while|with|to|inspired"
        r"|after|before|unlike|instead)\b|(?-i:[A-Z]{3,})\b)",
        plain(description),
        re.I,
    ):
        return  # a reason, a concession, advice or code ("SELECT * FROM"): not what the label is
    if not cjk and definitions.judgement(plain(description)):
        return  # "Top P Sampling: A Popular but Flawed Method": a verdict, not what it is
    if not cjk and not definitional(label_plain, plain(description)):
        return  # a claim about the label ("MiniMax suggested ..."): "What is X?" would not fit it
    answer = description.rstrip("。.") if not cjk else description
    yield Candidate("basic", "qa:label", _question(label, setting), answer, claim=0, rank=9.0, lead=setting.section)


_RELATIVE = re.compile(r"\b(?:that|which|who|whose|where|when|used|for|of|with|in|to)\b", re.IGNORECASE)
_FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|can|could|will|would|should|must|may|might|does|do|did)\b", re.IGNORECASE
)


def _main_verb(text: str) -> bool:
    """Whether a text has a verb in the present tense after its first word ("act", "collects"), or a
    negated auxiliary: the mark of a sentence, not of a noun phrase."""
    found = re.findall(r"[A-Za-z][a-z'’]+", text)
    for previous, word in itertools.pairwise(found):
        lower = word.lower()
        if re.search(r"n['’]t$", lower):
            return True
        if previous.lower() in language.STOPWORDS or previous.lower().endswith("ly"):
            continue
        if (lower.endswith("s") and (lower[:-1] in language.VERBS or lower[:-2] in language.VERBS)) or (
            lower in language.VERBS and previous.lower().endswith("s") and not previous.lower().endswith("ss")
        ):
            return True
    return False


def definitional(label: str, description: str) -> bool:
    """Whether a description says what the label is (a noun phrase, perhaps with a relative clause,
    or the label restated with "is/are") rather than making a claim about it."""
    words = description.split()
    if not words:
        return False
    head = _RELATIVE.split(description, maxsplit=1)[0]
    restated = re.match(rf"^(?:the |a |an )?{re.escape(label.lower())}s?\s+(?:is|are)\s", description.lower())
    if restated:
        return True
    subject = re.split(r"\b(?:is|are|was|were)\b", description, maxsplit=1)
    label_stems = {w[:4].lower() for w in re.findall(r"[A-Za-z]{4,}", label)}
    if (
        len(subject) == 2
        and len(subject[0].split()) <= 4
        and re.match(r"^(?:the|a|an)?\s*\w", subject[0], re.IGNORECASE)
        and not re.search(r"[,(]", subject[0])
        and re.match(r"^\s*\w+ed\b", subject[1])
    ):
        said = {w[:4].lower() for w in re.findall(r"[A-Za-z]{4,}", subject[0])}
        if said & label_stems:
            return True  # "Loss Normalization: The loss is normalized by ...": what the label does
    if re.match(r"^(?:the|a|an)\s|^\w+['’]s\s", description, re.IGNORECASE) and _main_verb(head):
        return False  # "The agent collects experience ...", "Mistral's version omits ...": a claim
    if words[0].lower() in ("a", "an", "the", "one", "any", "some"):
        return not _FINITE.search(head) and not re.search(r"\b\w+ed\b", head.split(",")[0][20:])
    first = words[0].lower()
    if first.endswith("ing") and len(first) > 5 and first not in ("using", "having", "being", "making", "doing"):
        # "Empathy: Understanding the other person's feelings": a gerund names an activity
        verbs = [
            w
            for w in re.findall(r"[a-z]+", description.lower())
            if w.endswith("s") and (w[:-1] in language.VERBS or w[:-2] in language.VERBS)
        ]
        return not _FINITE.search(description) and not verbs and not re.match(r"^\w+ing (?:that|with)\b", description)
    if first in language.VERBS or first.endswith(("ing", "ed")) or first[:-1] in language.VERBS:
        return False  # "Inspired by ...", "Using ...", "Observe ...": a clause, not what the label is
    return not _FINITE.search(head) and not re.search(r"\b[a-z]{3,}(?:ed)\b", head)
