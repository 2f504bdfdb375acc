"""Issue 17: the checker agrees with people, and the cards of the shared corpus keep what the
graded set taught.

The graded set (../shared/quality/graded-2026-12-01.jsonl) is 71 cards people graded by
RUBRIC.md. It is for development and regression checks; a fresh blind sample is the measure
(benchmarks/blind_sample.py). The tests skip when ../shared is not here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashgen import language, quality
from flashgen.cards import Card, probes_of
from flashgen.cli import main
from flashgen.config import load_options
from flashgen.harvest import harvest

from .conftest import SHARED, write_notes

GRADED = SHARED / "quality" / "graded-2026-12-01.jsonl"
CORPUS = SHARED / "corpus"
needs_graded = pytest.mark.skipif(not GRADED.is_file(), reason="../shared/quality is not here")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")


def _graded() -> list[dict[str, str]]:
    return [json.loads(line) for line in GRADED.read_text(encoding="utf-8").splitlines() if line.strip()]


def _probe(card: dict[str, str]) -> quality.Probe:
    """A graded card as the checker sees it: what the grader saw (front, back, title)."""
    return quality.Probe(
        "cloze" if card["kind"] == "cloze" else "qa", card["front"], card["back"], "", card["note_title"]
    )


@needs_graded
def test_the_checker_flags_what_people_reject_and_passes_what_they_keep() -> None:
    """At least 80% of the cards graded T0/T1 fall into a failure category, at most 10% of T2/T3."""
    cards = _graded()
    bad = [c for c in cards if c["tier"] in ("T0", "T1")]
    good = [c for c in cards if c["tier"] in ("T2", "T3")]
    flagged_bad = sum(bool(quality.judge(_probe(c)).failed) for c in bad) / len(bad)
    flagged_good = sum(bool(quality.judge(_probe(c)).failed) for c in good) / len(good)
    print(f"T0/T1 flagged {flagged_bad:.0%}, T2/T3 flagged {flagged_good:.0%}")
    assert flagged_bad >= 0.80
    assert flagged_good <= 0.10


@pytest.mark.parametrize(
    ("front", "back", "kind", "category"),
    [
        ("[...]: This is a noteworthy change.", "Modified Advantage Normalization", "cloze", "label-cloze"),
        ("Grammar emerges early in _____ and small models master it.", "LLMs", "qa", "trivial-target"),
        ("This approach was found to be very _____.", "inefficient", "qa", "no-context"),
        ("Sequence length (\\(s\\)): _____ tokens", "4k", "qa", "trivia-number"),
        ("Program-of-Thought (_____) for algorithmic solutions", "PoT", "qa", "leak"),
        ("What is meant by “Gradient Memory”?", "\\(13e9 \\times 2 = 26 GB\\)", "qa", "mismatched-question"),
        ("Early, members preferred the supervised [...] process.", "annotation", "cloze", "ambiguous"),
        ("The network learns the potential [...] between (token spaces.", "connections", "cloze", "broken-text"),
    ],
)
def test_each_category_has_a_general_rule(front: str, back: str, kind: str, category: str) -> None:
    """One illustrative card per category (made up in the shape of RUBRIC.md's examples)."""
    probe = quality.Probe("cloze" if kind == "cloze" else "qa", front, back, "", "Some title")
    assert category in quality.judge(probe).failed


def test_a_good_card_passes() -> None:
    for front, back in (
        ("What do signifiers communicate?", "where the action should take place"),
        ("[...] are gradually replacing software we believed had to be written by hand.", "Neural networks"),
        ("Why must feedback be immediate?", "people lose trust in a slow system"),
    ):
        assert not quality.judge(quality.Probe("qa", front, back, "", "The Design of Everyday Things")).failed


# ---------------------------------------------------------------- the corpus


@cache
def _corpus_cards() -> tuple[tuple[str, Card], ...]:
    out = []
    for folder in sorted(p for p in CORPUS.iterdir() if p.is_dir()):
        out.extend((folder.name, card) for card in harvest(load_options([folder])).cards)
    return tuple(out)


def _flat(text: str) -> str:
    return " ".join(re.sub(r"\[\.\.\.\]|_____", " ", text).lower().split())


@needs_graded
@needs_corpus
def test_no_card_graded_t0_comes_back() -> None:
    """Match on source file plus card text, whitespace and the gap's marker normalised."""
    made = {
        (f"{folder}/{card.takeaway.note.rel}", _flat(probe.prompt), _flat(probe.answer))
        for folder, card in _corpus_cards()
        for probe in probes_of(card)
    }
    for card in _graded():
        if card["tier"] != "T0":
            continue
        source = card["source"].rsplit(":", 1)[0]
        assert (source, _flat(card["front"]), _flat(card["back"])) not in made, card["id"]


@needs_corpus
def test_the_corpus_deck_is_without_confusion() -> None:
    """Within each note: no front with two answers, no card made twice; across the deck no fixed
    cue-less prompt reused, and no generated card leaves a bracket or a quote open."""
    cards = _corpus_cards()
    by_note: dict[str, list[quality.Probe]] = {}
    generated: list[quality.Probe] = []
    for folder, card in cards:
        probes = probes_of(card)
        by_note.setdefault(f"{folder}/{card.takeaway.note.rel}", []).extend(probes)
        if not card.role.startswith(("qa:explicit", "qa:term", "cloze:explicit", "cloze:emphasis")):
            generated.extend(probes)  # the author's own syntax (bold and highlight too) aside
    for note, probes in by_note.items():
        problems = quality.deck_problems(probes)
        assert not problems["same-front"], (note, [probes[i].prompt for i in problems["same-front"]])
        assert not problems["duplicate"], (note, [probes[i].prompt for i in problems["duplicate"]])
    prompts = Counter(p.prompt for p in generated)

    def cue_less(prompt: str) -> bool:  # "Recall this takeaway.": nothing in it names a subject
        words = [w for w in language.words(prompt) if w not in language.STOPWORDS]
        return all(w in quality.GENERIC or w in ("recall", "complete", "takeaway") for w in words)

    assert not [p for p, n in prompts.items() if n > 1 and cue_less(p)]
    for probe in generated:
        assert quality.balanced(probe.prompt) and quality.balanced(probe.answer), probe


# ---------------------------------------------------------------- preview


def test_preview_reads_well_in_80_columns(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "vault",
        {
            "a-rather-long-file-name-for-a-note.md": "- Signifiers communicate where the action should take place.\n"
            "- A **conceptual model** is the user's explanation of how something works.\n"
        },
    )
    result = CliRunner().invoke(main, ["preview", str(vault)], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert any("│ cloze │" in line for line in lines) and any("│ Q/A   │" in line for line in lines)
    assert "a-rather-long-file-name-for-a-note.md" in result.stdout  # the path whole, above its table
    for word in ("signifiers", "communicate", "conceptual"):  # words are wrapped, not cut
        assert word in result.stdout
