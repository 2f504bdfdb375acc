"""Authored: the cards an author wrote in a note, in the syntax of the tools people come from.

`question :: answer` is exactly one card; `term ::: definition` is one card asked both ways;
inline `{{c1::...}}` clozes are kept as written. These are recognised before any card is
generated (see `drafts`): what the author wrote is not second-guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

_EXPLICIT_QA = re.compile(r"(?<!:)\s+::\s+(?!:)")
_BIDIRECTIONAL = re.compile(r"(?<!:)\s+:::\s+(?!:)")
_CLOZE = re.compile(r"\{\{c\d+::")
_CLOZE_DELETION = re.compile(r"\{\{c\d+::(.*?)(::[^}]*)?\}\}")


@dataclass(frozen=True)
class AuthoredCard:
    """A card as its author wrote it, in markdown. `role` names the syntax that made it."""

    kind: Literal["basic", "cloze"]
    role: str
    front: str
    back: str = ""
    reverse: bool = False


# Where a separator is only text: math, code spans, links and HTML tags (`map :: a -> b` in code
# is no question).
_ATOM = re.compile(r"\$\$.+?\$\$|\$[^$\n]+\$|\\\(.+?\\\)|\\\[.+?\\\]|`[^`]*`|!?\[[^\]]*\]\([^)]*\)|<[^>]+>", re.DOTALL)


def _split_once(pattern: re.Pattern[str], text: str) -> list[str]:
    """`text` split at the first match of `pattern` outside math, code, links and tags."""
    masked = _ATOM.sub(lambda m: "\x00" * len(m.group()), text) if any(c in text for c in "$\\`[<") else text
    match = pattern.search(masked)
    return [text[: match.start()], text[match.end() :]] if match else [text]


def question(text: str) -> AuthoredCard | None:
    """The card of a takeaway written `question :: answer` or `term ::: definition`, if it is one."""
    parts = _split_once(_BIDIRECTIONAL, text) if ":::" in text else [text]
    if len(parts) == 2 and all(p.strip() for p in parts):
        return AuthoredCard("basic", "qa:term", parts[0].strip(), parts[1].strip(), reverse=True)
    parts = _split_once(_EXPLICIT_QA, text) if "::" in text else [text]
    if len(parts) == 2 and all(p.strip() for p in parts):
        return AuthoredCard("basic", "qa:explicit", parts[0].strip(), parts[1].strip())
    return None


def cloze(text: str) -> AuthoredCard | None:
    """The cloze note of a takeaway with `{{c1::...}}` deletions in it, if it has any."""
    if _CLOZE.search(text):
        return AuthoredCard("cloze", "cloze:explicit", text)
    return None


def without_clozes(text: str) -> str:
    """The text with the author's cloze deletions shown (`{{c1::Paris::city}}` -> `Paris`)."""
    return _CLOZE_DELETION.sub(r"\1", text)
