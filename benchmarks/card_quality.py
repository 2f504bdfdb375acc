"""Score the cards flashgen makes from a folder of notes with the checks in `flashgen.quality`.

    python benchmarks/card_quality.py examples/notes [../shared/corpus] [--json out.json] [--worst 20]
    python benchmarks/card_quality.py examples/notes --generator llm   # cards from a language model
        (FLASHGEN_LLM_BASE_URL, FLASHGEN_LLM_MODEL, FLASHGEN_LLM_API_KEY as for flashgen build)

Prints the share of cards (one per question or cloze deletion) in no failure category of
../shared/quality/RUBRIC.md, the count of each category, and the deck's confusions (one front with
two answers, duplicates, fixed prompts). This is a cheap filter, not the measure: a blind grading
(benchmarks/blind_sample.py) is.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from flashgen import quality
from flashgen.build import refine
from flashgen.cards import probes_of
from flashgen.config import load_options
from flashgen.harvest import harvest


def score_folder(
    folder: Path, generator: str = "rules", prose: bool = False
) -> tuple[quality.DeckScore, list[quality.Probe], int, int]:
    """Score the cards `generator` makes from `folder` (an LLM's answers are cached in a temp folder)."""
    with tempfile.TemporaryDirectory() as out:
        options = load_options([folder], name="quality", output=Path(out), generator=generator, prose=prose)
        crop, _ = refine(options, harvest(options))
    probes = [p for card in crop.cards for p in probes_of(card)]
    empty_clozes = sum(1 for c in crop.cards if c.kind == "cloze" and "{{c" not in c.front)
    leaked = sum(1 for p in probes if not p.answer.strip() or p.answer.strip().lower() in p.prompt.lower())
    return quality.score(probes), probes, empty_clozes, leaked


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--json", type=Path, help="also write the scores as JSON")
    parser.add_argument("--worst", type=int, default=0, help="print N failing cards per folder")
    parser.add_argument("--generator", choices=["rules", "llm"], default="rules", help="who writes the cards")
    parser.add_argument("--prose", action="store_true", help="also make cards from paragraphs of headed sections")
    args = parser.parse_args(argv)
    results = {}
    for folder in args.folders:
        if not folder.exists():
            print(f"{folder}: not here, skipped")
            continue
        deck, probes, empty_clozes, leaked = score_folder(folder, args.generator, args.prose)
        results[str(folder)] = {
            "cards": deck.probes,
            "takeaways_with_cards": deck.takeaways,
            "passing": round(deck.passing, 4),
            "categories": dict(deck.categories),
            "deck_problems": dict(deck.deck_problems),
            "cloze_notes_without_deletion": empty_clozes,
            "answers_empty_or_in_prompt": leaked,
        }
        print(f"\n{folder} ({args.generator}): {deck.takeaways} takeaways with cards, {deck.probes} cards")
        print(f"  in no failure category: {deck.passing:.1%}")
        for name, count in sorted(deck.categories.items(), key=lambda kv: -kv[1]):
            print(f"  {name:<24} {count}")
        print(f"  deck: {', '.join(f'{k} {v}' for k, v in deck.deck_problems.items())}")
        print(f"  cloze notes without a deletion: {empty_clozes}; answers empty or in their prompt: {leaked}")
        if args.worst:
            shown = 0
            for probe in probes:
                verdict = quality.judge(probe)
                if verdict.failed and shown < args.worst:
                    shown += 1
                    print(f"  - {probe.location} [{probe.role}] fails {','.join(verdict.failed)}")
                    print(f"      Q: {probe.prompt[:160]}")
                    print(f"      A: {probe.answer[:100]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
