"""Instructions per note: what making cards costs, counted, not timed.

Wall-clock times on a shared machine move by 10-20% from one run to the next, which hides
the effect of any one change to the card generator. Valgrind's callgrind counts the machine
instructions a process executes, and that count barely moves between runs. This script counts
them for the text stages (read, find takeaways, make and render cards: `harvest`, in one
process) over N generated notes, for the working tree and for a baseline commit, in the same
run, and prints both and their ratio.

    python benchmarks/instructions.py                    # baseline: HEAD
    python benchmarks/instructions.py --baseline 28d1c59 --notes 100
    python benchmarks/instructions.py --baseline main --folder /tmp/peers/n1000/plain   # peers.py's notes

Each version is run twice, over a few notes and over those plus N more, and the difference is
divided by N, so interpreter start-up and imports cancel out. Needs `valgrind` (Debian:
`apt-get install valgrind`) and git; a run takes a minute or two per version.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from make_corpus import generate  # noqa: E402

WARM = 20  # notes in the first run: start-up, imports and the first notes' cold caches

_HARVEST = """
import sys
from pathlib import Path
from flashgen.config import Options
from flashgen.harvest import harvest
from flashgen.notes import find_notes
folder, count = Path(sys.argv[1]), int(sys.argv[2])
options = Options(paths=(folder,), output=folder.parent / "out", name="bench")
crop = harvest(options, find_notes(options.paths, options.output)[:count], jobs=1)
print(len(crop.cards))
"""


def instructions(source: Path, notes: Path, count: int) -> tuple[int, int]:
    """Instructions executed, and cards made, harvesting the first `count` notes with the
    flashgen package found in `source`."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "callgrind.out"
        valgrind = ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"]
        run = subprocess.run(
            [*valgrind, sys.executable, "-c", _HARVEST, str(notes), str(count)],
            env={**os.environ, "PYTHONPATH": str(source), "PYTHONHASHSEED": "0"},
            cwd=scratch,  # not the project folder, whose flashgen `python -c` would import first
            capture_output=True,
            text=True,
            check=True,
        )
    match = re.search(r"Collected\s*:\s*(\d+)", run.stderr)
    if match is None:
        raise SystemExit(f"no instruction count in valgrind's output:\n{run.stderr[-2000:]}")
    return int(match.group(1)), int(run.stdout.split()[-1])


def per_note(source: Path, notes: Path, count: int) -> tuple[float, float]:
    """Instructions per note and cards per note over `count` notes, start-up excluded."""
    warm, warm_cards = instructions(source, notes, WARM)
    full, full_cards = instructions(source, notes, WARM + count)
    return (full - warm) / count, (full_cards - warm_cards) / count


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--baseline", default="HEAD", help="the git commit to compare with (default: HEAD)")
    parser.add_argument("--notes", type=int, default=100, help="notes counted (default: 100)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--folder", type=Path, help="count over this notes folder (e.g. peers.py's author/ or plain/) [generated]"
    )
    parser.add_argument(
        "--source",
        type=Path,
        help="count this copy of the code (a folder holding flashgen/, e.g. from git archive) instead of the "
        "working tree, which must then not change during the run",
    )
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind (Debian: apt-get install valgrind)")

    with tempfile.TemporaryDirectory(prefix="flashgen-instructions-") as scratch:
        folder = Path(scratch)
        notes = folder / "bench"
        if args.folder is not None:
            notes = args.folder.resolve()
        else:
            generate(notes, WARM + args.notes, args.seed)
        baseline = folder / "baseline"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "--quiet", str(baseline), args.baseline], check=True
        )
        try:
            results = {}
            current = ("working tree", ROOT) if args.source is None else (str(args.source), args.source.resolve())
            for label, source in ((f"baseline {args.baseline}", baseline), current):
                results[label] = per_note(source, notes, args.notes)
                print(
                    f"{label:>24}: {results[label][0] / 1e6:8.2f} M instructions a note ({results[label][1]:.1f} cards)"
                )
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(baseline)], check=False)
    (base, _), (now, _) = results.values()
    print(f"{'working tree / baseline':>24}: {now / base:8.2f}")


if __name__ == "__main__":
    main()
