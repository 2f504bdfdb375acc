"""Draw a blind sample of cards from the shared corpus, for a grader who sees only the cards.

    python benchmarks/blind_sample.py --seed 7 [--n 60] [--corpus ../shared/corpus] [--out /work/blind]

Builds the cards of every folder of the corpus in memory (the `preview` path: no deck, no Anki),
draws N cards at random with the seed (at most two per takeaway), shuffles them and writes
OUT/seed-S/cards.jsonl with only what the grader may see ({"id", "kind", "front", "back",
"note_title"}; a cloze deletion is shown as "[...]" in the front and its text as the back) and
OUT/seed-S/key.jsonl with each id's source (folder/path:line), role and the commit of the
generator. Grade it by ../shared/quality/RUBRIC.md; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
from pathlib import Path

from flashgen.cards import Card, probes_of
from flashgen.config import load_options
from flashgen.harvest import harvest

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_cards(corpus: Path) -> list[tuple[str, Card]]:
    """Every card of every folder of the corpus, with its folder's name."""
    out = []
    for folder in sorted(p for p in corpus.iterdir() if p.is_dir()):
        crop = harvest(load_options((folder,)))
        out.extend((folder.name, card) for card in crop.cards)
    return out


def shown(card: Card) -> list[tuple[str, str, str]]:
    """What a learner sees of each card of an Anki note: kind, front (context lead included), back."""
    kind = "cloze" if card.kind == "cloze" else "basic"
    rows = []
    for probe in probes_of(card):
        front = f"{probe.lead} {probe.prompt}".strip() if probe.lead else probe.prompt
        rows.append((kind, front, probe.answer))
        if card.reverse:
            rows.append((kind, probe.answer, probe.prompt))
    return rows


def draw(cards: list[tuple[str, Card]], n: int, seed: int) -> list[tuple[str, Card, tuple[str, str, str]]]:
    """N cards at random, at most two from one takeaway, shuffled."""
    every = [(folder, card, row) for folder, card in cards for row in shown(card)]
    rng = random.Random(seed)
    rng.shuffle(every)
    taken: dict[tuple[str, str], int] = {}
    sample = []
    for folder, card, row in every:
        key = (folder, card.takeaway.location)
        if taken.get(key, 0) >= 2:
            continue
        taken[key] = taken.get(key, 0) + 1
        sample.append((folder, card, row))
        if len(sample) == n:
            break
    rng.shuffle(sample)
    return sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--n", type=int, default=60)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=Path("/work/blind"))
    args = parser.parse_args()
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = bool(
        subprocess.run(
            ["git", "status", "--porcelain", "flashgen"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    )
    cards = corpus_cards(args.corpus)
    sample = draw(cards, args.n, args.seed)
    out = args.out / f"seed-{args.seed}"
    out.mkdir(parents=True, exist_ok=True)
    with (
        (out / "cards.jsonl").open("w", encoding="utf-8") as shown_file,
        (out / "key.jsonl").open("w", encoding="utf-8") as key_file,
    ):
        for number, (folder, card, (kind, front, back)) in enumerate(sample, start=1):
            card_id = f"S{args.seed}-{number}"
            shown_file.write(
                json.dumps(
                    {"id": card_id, "kind": kind, "front": front, "back": back, "note_title": card.takeaway.note.title},
                    ensure_ascii=False,
                )
                + "\n"
            )
            key_file.write(
                json.dumps(
                    {
                        "id": card_id,
                        "source": f"{folder}/{card.takeaway.location}",
                        "role": card.role,
                        "commit": commit + ("-dirty" if dirty else ""),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    print(f"{len(sample)} of {sum(len(shown(c)) for _, c in cards)} cards written to {out}")


if __name__ == "__main__":
    main()
