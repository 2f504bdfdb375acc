"""Cards: what the rule-based generator makes of each takeaway, and the guarantees it keeps.

The golden cases in tests/golden/cards/ are the spec: each `NAME.md` note shows one strategy of
`flashgen.strategies` (or a guarantee) and sits next to a `NAME.yaml` listing, for every takeaway,
the cards expected from it: role, kind and, as plain text, the prompt (with its context lead) and
answer of each probe (one per question or cloze deletion); a takeaway that makes no card lists the
failure categories that dropped its candidates (`no card:`), which `flashgen check` turns into
advice. `FLASHGEN_UPDATE_GOLDEN=1 pytest tests/test_cards_golden.py` rewrites the .yaml
files from the current output; review the diff by hand before committing it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from flashgen import language
from flashgen.cards import Card, generate, probes_of
from flashgen.config import Options
from flashgen.notes import NoteFile, read_note
from flashgen.takeaways import extract

from .conftest import assert_golden

GOLDEN = Path(__file__).resolve().parent / "golden" / "cards"
CASES = sorted(GOLDEN.glob("*.md"))


@cache
def _cards(case: Path) -> tuple[Card, ...]:
    note = read_note(NoteFile(case, GOLDEN))
    return generate(note, extract(note), Options()).cards


def _card_record(card: Card) -> dict[str, Any]:
    record: dict[str, Any] = {"role": card.role, "kind": card.kind}
    if card.reverse:
        record["reverse"] = True
    record["probes"] = [
        {"prompt": f"{p.lead} {p.prompt}" if p.lead else p.prompt, "answer": p.answer} for p in probes_of(card)
    ]
    if card.deletions:
        record["deletions"] = list(card.deletions)
    return record


def _records(cards: tuple[Card, ...], case: Path | None = None) -> list[dict[str, Any]]:
    """The cards grouped by takeaway, in note order (nested items' cards sit with their parent);
    with the note's path, its takeaways that make no card too, with why."""
    from flashgen import drafts

    out: list[dict[str, Any]] = []
    by_line: dict[int, list[Card]] = {}
    for card in cards:
        by_line.setdefault(card.takeaway.line, []).append(card)
    takeaways = extract(read_note(NoteFile(case, GOLDEN))) if case else [c[0].takeaway for c in by_line.values()]
    note = read_note(NoteFile(case, GOLDEN)) if case else None
    for takeaway in takeaways:
        record: dict[str, Any] = {"takeaway": takeaway.text, "line": takeaway.line}
        made = by_line.get(takeaway.line, [])
        if made:
            record["cards"] = [_card_record(c) for c in made]
        elif note is not None:
            record["no card"] = list(drafts.outcome(takeaway, note.title).reasons)
        out.append(record)
    return out


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_golden(case: Path) -> None:
    found = _records(_cards(case), case)
    assert_golden(found, case.with_suffix(".yaml"))


def test_every_golden_note_has_its_expectations() -> None:
    assert CASES, "no golden cases found"
    assert {c.stem for c in CASES} == {y.stem for y in GOLDEN.glob("*.yaml")}


def test_every_golden_note_has_front_matter_and_takeaways() -> None:
    for case in CASES:
        note = read_note(NoteFile(case, GOLDEN))
        assert note.title and note.author and note.year and note.kind, case.name
        assert extract(note), case.name


# --- guarantees, over every golden note ---------------------------------------------------------

ALL_CARDS = [(case.stem, card) for case in CASES for card in _cards(case)]


def _id(item: tuple[str, Card]) -> str:
    return f"{item[0]}:{item[1].takeaway.line}:{item[1].role}"


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_every_takeaway_makes_a_card_or_says_why(case: Path) -> None:
    """Precision over recall, without losing takeaways silently: a takeaway that makes no card has
    a reason `check` can tell its author."""
    from flashgen import drafts

    note = read_note(NoteFile(case, GOLDEN))
    cards = _cards(case)
    for takeaway in extract(note):
        if not any(c.takeaway.line == takeaway.line for c in cards):
            assert drafts.outcome(takeaway, note.title).reasons, takeaway.location


@pytest.mark.parametrize("item", ALL_CARDS, ids=[_id(i) for i in ALL_CARDS])
def test_no_cloze_card_without_a_deletion(item: tuple[str, Card]) -> None:
    _, card = item
    if card.kind == "cloze":
        assert probes_of(card), card.front
        if card.role != "cloze:explicit":
            assert card.deletions and all(d.strip() for d in card.deletions)


@pytest.mark.parametrize("item", ALL_CARDS, ids=[_id(i) for i in ALL_CARDS])
def test_no_answer_empty_or_in_its_prompt(item: tuple[str, Card]) -> None:
    _, card = item
    for probe in probes_of(card):
        assert probe.answer.strip(), probe
        if card.reverse:
            continue  # both sides are shown in turn: neither is "the" answer of the other
        if card.takeaway.card is not None:
            continue  # the author's own deletion stays as written, even of a word said twice
        assert probe.answer.lower() not in probe.prompt.lower(), probe


@pytest.mark.parametrize("item", ALL_CARDS, ids=[_id(i) for i in ALL_CARDS])
def test_fields_are_html_with_text(item: tuple[str, Card]) -> None:
    _, card = item
    assert language.html_to_text(card.front)
    assert bool(card.back) == (card.kind == "basic")


def test_generating_twice_gives_the_same_cards() -> None:
    for case in CASES:
        runs = []
        for _ in range(2):
            note = read_note(NoteFile(case, GOLDEN))
            runs.append(generate(note, extract(note), Options()).cards)
        first, second = runs
        assert first == second, case.name
        assert [_card_record(c) for c in first] == [_card_record(c) for c in second]


def test_cards_do_not_depend_on_hash_seeds() -> None:
    """Another interpreter, with other string hashes (so other set orders), makes the same cards."""
    here = {c.stem: _records(_cards(c), c) for c in CASES}
    script = (
        "import json, tests.test_cards_golden as t\n"
        "print(json.dumps({c.stem: t._records(t._cards(c), c) for c in t.CASES}))"
    )
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", script], cwd=GOLDEN.parents[2], env=env, capture_output=True, text=True, check=True
        )
        assert json.loads(done.stdout) == here


def test_the_quick_check_agrees_with_the_full_verdict() -> None:
    """`quality.passes` (which stops at the first failing check) says what `judge` says, on every
    candidate the strategies propose for the golden notes, passing and failing ones alike."""
    from flashgen import drafts, quality, strategies

    seen = {True: 0, False: 0}
    for case in CASES:
        note = read_note(NoteFile(case, GOLDEN))
        for takeaway in extract(note):
            setting = drafts.setting_of(takeaway, note.title)
            source = drafts.plain(takeaway.full_text)
            for candidate in strategies._candidates(takeaway.text, setting):
                probe = strategies._probe(candidate, setting, source)
                variants = [
                    probe,
                    replace(probe, prompt=f"{probe.prompt} {probe.answer}"),  # leaks
                    replace(probe, prompt=f"It {probe.prompt}"),  # dangles
                    replace(probe, answer=source),  # too long
                ]
                for variant in variants:
                    verdict = quality.judge(variant)
                    assert quality.passes(variant) == verdict.passed, verdict
                    seen[verdict.passed] += 1
    assert seen[True] > 20 and seen[False] > 50


def test_a_deck_without_confusion() -> None:
    """Over every golden note: no two cards of a note with one front and two answers, no card made
    twice, no fixed cue-less prompt, no bracket or quote left open by a generated card."""
    from flashgen import quality

    probes = [p for _, card in ALL_CARDS for p in probes_of(card)]
    problems = quality.deck_problems(probes)
    assert problems == {"same-front": [], "duplicate": [], "fixed-prompt": []}, [
        (name, [probes[i].prompt for i in found]) for name, found in problems.items() if found
    ]
    for _, card in ALL_CARDS:
        if card.role.startswith(("qa:explicit", "qa:term", "cloze:explicit", "cloze:emphasis")):
            continue  # the author's own cards, as written (bold and highlight too)
        for probe in probes_of(card):
            assert quality.balanced(probe.prompt) and quality.balanced(probe.answer), probe
