"""Issue 16: a real Obsidian vault's own flashcards, in Anki, whole.

../shared/corpus/jajaperson-pkm is part of a vault written for Obsidian Spaced Repetition with
custom separators (`:: `, `:::`, `→` and `⇌` on a line of their own, highlights as clozes; see
the corpus's SOURCES.md). This test reads the vault's cards itself, line by line as that plugin
documents them (independently of flashgen's parser), builds the vault in place with those
separators, imports the package into a real Anki collection and checks that every card is
there with its question and answer whole, and that the look-alikes (Mermaid's `:::class`,
Haskell's `::` in code, arrows in running text, a highlight in a note that only names the deck
tag in code) are not cards. Skipped when the corpus is absent.
"""

from __future__ import annotations

import html
import re
import unicodedata
from pathlib import Path
from typing import NamedTuple

import pytest

from flashgen.authored import Syntax

from .conftest import SHARED, Anki, Builder

VAULT = SHARED / "corpus" / "jajaperson-pkm"
SEPARATORS = Syntax(inline=":: ", inline_reversed=":::", multiline="→", multiline_reversed="⇌", clozes=("highlight",))

pytestmark = pytest.mark.skipif(not VAULT.is_dir(), reason="the shared corpus is not here")


class Expected(NamedTuple):
    note: str
    line: int
    kind: str  # "basic" or "cloze"
    front: str  # letters of the question (or of the cloze text)
    back: str  # letters of the answer (or of the deletions, joined by "|")
    reverse: bool


def letters(markup: str) -> str:
    """The letters and digits of a field or of markdown, lower-cased: what a reader sees, with
    markup, spacing and punctuation aside (so HTML and markdown can be compared)."""
    text = re.sub(r"<!--.*?-->", "", markup, flags=re.DOTALL)
    # a wiki link shows its alias, else its page's name and the heading it points to (not a block id)
    text = re.sub(r"\[\[([^\]|#]*)(?:#[^\]|]*)?\|([^\]]*)\]\]", r"\2", text)
    text = re.sub(
        r"\[\[([^\]|]*)\]\]", lambda m: re.sub(r"#\^[^#]*", "", m.group(1)).rsplit("/", 1)[-1].replace("#", " "), text
    )
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = re.sub(r"<[^>]+>", "", text)
    text = unicodedata.normalize("NFC", html.unescape(text))
    return "".join(c for c in text.lower() if c.isalnum() or unicodedata.category(c).startswith("M"))


_MARKER = re.compile(r"^\s*(?:>\s*)*(?:[-*+]\s+|\d+[.)]\s+)?")
_SCHEDULE = re.compile(r"\s*<!--SR:.*?-->")


def _blocks(text: str) -> list[tuple[int, list[str]]]:
    """Runs of non-blank lines outside fenced code, each with its first line's number."""
    lines = text.split("\n")
    start = 0
    if lines and lines[0] == "---":
        start = lines.index("---", 1) + 1
    blocks: list[tuple[int, list[str]]] = []
    current: list[str] = []
    first = 0
    fenced = False
    for number, line in enumerate(lines[start:], start=start + 1):
        if line.strip().startswith(("```", "~~~")):
            fenced = not fenced
            if current:
                blocks.append((first, current))
            current = []
            continue
        if fenced or not line.strip() or line.startswith("#"):  # a heading ends a run too
            if current:
                blocks.append((first, current))
            current = []
            continue
        if not current:
            first = number
        current.append(line)
    if current:
        blocks.append((first, current))
    return blocks


def vault_cards(path: Path) -> list[Expected]:
    """The cards of one note, read as the plugin reads them with the vault's separators."""
    text = path.read_text(encoding="utf-8")
    without_code = re.sub(r"`[^`\n]*`", "", text)
    tagged = re.search(r"(?<![\w#])#flashcards\b", without_code) is not None
    found = []
    for first, block in _blocks(text):
        lines = [_SCHEDULE.sub("", line).rstrip() for line in block]
        lines = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
        bare = [line.strip() for line in lines]
        separator = next((i for i, line in enumerate(bare) if line in ("→", "⇌")), None)
        if separator is not None:
            front = " ".join(_MARKER.sub("", line) for line in lines[:separator])
            back = " ".join(_MARKER.sub("", line) for line in lines[separator + 1 :])
            reverse = bare[separator] == "⇌"
            found.append(Expected(path.name, first, "basic", letters(front), letters(back), reverse))
            continue
        cards = []
        for offset, line in enumerate(block):
            line = _SCHEDULE.sub("", line)
            content = _MARKER.sub("", line)
            for sep, reverse in ((":::", True), (":: ", False)):
                if sep in content and not (sep == ":: " and ":::" in content):
                    front, back = content.split(sep, 1)
                    cards.append(Expected(path.name, first + offset, "basic", letters(front), letters(back), reverse))
                    break
        if cards:
            found.extend(cards)
            continue
        if not tagged:
            continue
        # A cloze is a paragraph or a list item (where the plugin takes the whole run of lines).
        units: list[list[str]] = []
        for line in lines:
            if not units or re.match(r"\s*(?:[-*+]|\d+[.)])\s", line):
                units.append([])
            units[-1].append(line)
        for unit in units:
            joined = "\n".join(unit)
            if re.search(r"==[^=\s]", joined):
                deletions = "|".join(letters(d) for d in re.findall(r"==(.+?)==", joined, flags=re.DOTALL))
                line = first + block.index(unit[0]) if unit[0] in block else first
                found.append(Expected(path.name, line, "cloze", letters(_MARKER.sub("", joined)), deletions, False))
    return found


def anki_cards(anki: Anki) -> set[tuple[str, str, str, bool]]:
    out = set()
    for note in anki.notes():
        source = note["Source"]
        name = html.unescape(re.sub(r"<[^>]+>", "", source)).split(":")[0]
        if note.note_type()["name"] == "flashgen Cloze":
            text = note["Text"]
            deletions = re.findall(r"\{\{c\d+::(.*?)\}\}", text, flags=re.DOTALL)
            plain = re.sub(r"\{\{c\d+::(.*?)\}\}", r"\1", text, flags=re.DOTALL)
            out.add((name, letters(plain), "|".join(letters(d) for d in deletions), False))
        else:
            out.add((name, letters(note["Question"]), letters(note["Answer"]), bool(note["Reverse"])))
    return out


def test_the_vaults_own_cards_are_made_whole(anki: Anki, run_build: Builder) -> None:
    expected = [card for path in sorted(VAULT.glob("*.md")) for card in vault_cards(path)]
    qa = [c for c in expected if c.kind == "basic"]
    clozes = [c for c in expected if c.kind == "cloze"]
    assert len(qa) >= 250 and len(clozes) >= 15, (len(qa), len(clozes))  # the oracle reads the vault

    report = run_build(VAULT, syntax=SEPARATORS)
    assert report.package is not None
    anki.import_package(report.package)
    made = anki_cards(anki)

    missing = [c for c in expected if (c.note, c.front, c.back, c.reverse) not in made]
    whole = len(expected) - len(missing)
    print(f"\n{whole} of {len(expected)} cards whole ({len(qa)} question/answer, {len(clozes)} cloze)")
    for card in missing:
        print("  missing:", card)
    assert not missing


def test_look_alikes_in_the_vault_are_not_cards(anki: Anki, run_build: Builder) -> None:
    report = run_build(VAULT, syntax=SEPARATORS)
    assert report.package is not None
    anki.import_package(report.package)
    fields = [" ".join(note.fields[:2]) for note in anki.notes()]
    # Mermaid's class syntax and arrows, Haskell's type signatures: all in fenced code
    assert not any("internal-link" in f for f in fields)
    assert not any("Integral a" in f or "Void -&gt; a" in f or "Void -> a" in f for f in fields)
    # a highlighted paragraph that is no takeaway is a cloze only in a note tagged for cards, not
    # where the tag is only named in code (Tag Glossary.md)
    shown = (re.sub(r"\{\{c\d+::(.*?)\}\}", r"\1", n["Text"]) for n in anki.notes('"note:flashgen Cloze"'))
    clozes = [letters(text) for text in shown]
    assert not any(letters("refers to a tag with child-tags") in text for text in clozes)
    assert any(letters("represented direct address") in text for text in clozes)  # PIE case.md, tagged


def test_without_its_separators_the_arrows_are_not_cards(anki: Anki, run_build: Builder) -> None:
    """OSR's defaults (`?`, `??`) do not read `→`/`⇌` lines as separators, so neither does flashgen."""
    report = run_build(VAULT)
    assert report.package is not None
    anki.import_package(report.package)
    fronts = {letters(n["Question"]) for n in anki.notes('"note:flashgen Q/A"')}
    assert "class1" not in fronts
    # the one-line cards use the default separators and are still made
    assert letters('<span class="narrow">ɨ</span>') in fronts
