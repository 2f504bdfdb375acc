"""How often `flashgen.quality` agrees with people on the graded cards of ../shared/quality.

    python benchmarks/checker_agreement.py [../shared/quality/graded-2026-12-01.jsonl] [-v]

Prints the share of T0/T1 cards the checker flags (want >= 80%) and of T2/T3 cards it flags
(want <= 10%). The graded set is for development; a fresh blind sample is the measure.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flashgen import quality

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "quality" / "graded-2026-12-01.jsonl"


def probe_of(card: dict[str, str]) -> quality.Probe:
    """A graded card as the checker sees it: the front with its gap, the back, the title."""
    kind = "cloze" if card["kind"] == "cloze" else "qa"
    return quality.Probe(kind, card["front"], card["back"], "", card.get("note_title", ""))


def rates(path: Path) -> tuple[float, float, list[tuple[dict[str, str], tuple[str, ...]]]]:
    cards = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    judged = [(c, quality.judge(probe_of(c)).failed) for c in cards]
    bad = [f for c, f in judged if c["tier"] in ("T0", "T1")]
    good = [f for c, f in judged if c["tier"] in ("T2", "T3")]
    return sum(bool(f) for f in bad) / len(bad), sum(bool(f) for f in good) / len(good), judged


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "-v"]
    path = Path(args[0]) if args else DEFAULT
    flagged_bad, flagged_good, judged = rates(path)
    if "-v" in sys.argv:
        for card, failed in judged:
            print(card["id"], card["tier"], card["category"], "->", ",".join(failed) or "-", "|", card["front"][:90])
    print(f"T0/T1 flagged: {100 * flagged_bad:.0f}%   T2/T3 flagged: {100 * flagged_good:.0f}%")


if __name__ == "__main__":
    main()
