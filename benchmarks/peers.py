"""flashgen against its fastest peer, ankdown, and the genanki floor, on the same generated notes.

ankdown (https://github.com/benwr/ankdown, MIT) is installed from PyPI into a virtualenv of its
own under the work folder (`WORK/ankdown-venv`, kept between runs when `--workdir` is given), so
its dependencies (misaka, an old genanki API) never meet flashgen's. For each size N it writes:

- `ankdown/`: N files in ankdown's format, each card `front`, a line `%`, `back`, a line `---`;
- `author/`:  the same N notes for flashgen, each card the author's `- front :: back` bullet
  under a `## Key takeaways` heading (same fronts, same backs, same folders);
- `plain/`:   the same notes with the backs as plain takeaway bullets and no `::`, so flashgen
  makes its own cards (the number differs: what the generator finds worth asking).

and then times, each a cold run in a fresh process, interleaved round by round (floor, ankdown,
flashgen on the author's cards, flashgen generating; `--repeat` rounds, 3 by default), and
prints the median seconds of each and the ratios from the same run: flashgen / ankdown,
generating / author cards, and each against the floor (`floor.py` writing as many basic notes as
ankdown's package holds). Both tools' packages are opened after the first round to check they
hold the same number of notes and cards.

    python benchmarks/peers.py                        # sizes 1000 and 10000, 3 rounds
    python benchmarks/peers.py --sizes 1000 --repeat 5 --workdir /tmp/peers --json peers.json
    python benchmarks/peers.py --baseline 3c61efb      # and flashgen at that commit, in the same rounds
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import FOLDERS, NOUNS, TERMS, takeaway_text  # noqa: E402
from run import Run, run_child  # noqa: E402

ANKDOWN = "ankdown==0.7.1"
CARDS_PER_NOTE = 6  # 60,000 cards from 10,000 notes, as in issue 18

_COUNT = """
import json, sqlite3, sys, tempfile, zipfile, os
with zipfile.ZipFile(sys.argv[1]) as z, tempfile.TemporaryDirectory() as tmp:
    path = z.extract("collection.anki2", tmp)
    db = sqlite3.connect(path)
    notes = db.execute("select count(*) from notes").fetchone()[0]
    cards = db.execute("select count(*) from cards").fetchone()[0]
    db.close()
print(json.dumps([notes, cards]))
"""


def write_notes(root: Path, notes: int, seed: int) -> int:
    """The three folders of N notes (ankdown/, author/, plain/); returns the cards each holds."""
    rng = random.Random(seed)
    for name in ("ankdown", "author", "plain"):
        shutil.rmtree(root / name, ignore_errors=True)
    cards = 0
    for index in range(notes):
        pairs = []
        for k in range(CARDS_PER_NOTE):
            term = rng.choice(TERMS)
            front = f"Why does {term} matter for {rng.choice(NOUNS)} (note {index}, point {k + 1})?"
            pairs.append((front, takeaway_text(rng)))
        cards += len(pairs)
        folder = FOLDERS[index % len(FOLDERS)]
        rel = Path(folder) / f"note-{index:05d}.md"
        title = f"# Note {index}\n\n"
        texts = {
            "ankdown": "".join(f"{front}\n\n%\n\n{back}\n\n---\n\n" for front, back in pairs),
            "author": title + "## Key takeaways\n\n" + "".join(f"- {front} :: {back}\n" for front, back in pairs),
            "plain": title + "## Key takeaways\n\n" + "".join(f"- {back}\n" for _, back in pairs),
        }
        for name, text in texts.items():
            path = root / name / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    return cards


def ankdown_python(work: Path) -> Path:
    """The Python of a virtualenv holding ankdown, made (and ankdown installed) if missing."""
    venv = work / "ankdown-venv"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", ANKDOWN], check=True)
    return python


def count(package: Path) -> tuple[int, int]:
    """(notes, cards) in an .apkg, read in a helper process so that this one stays small."""
    done = subprocess.run([sys.executable, "-c", _COUNT, str(package)], capture_output=True, text=True, check=True)
    notes, cards = json.loads(done.stdout)
    return notes, cards


def commands(
    flashgen: list[str], ankdown: Path, size: Path, cards: int, baseline: list[str] | None = None
) -> dict[str, tuple[list[str], Path]]:
    """Each tool's command and the package it writes."""
    out = size / "out"
    found = {
        "floor": (
            [
                sys.executable,
                str(HERE / "floor.py"),
                "--basic",
                str(cards),
                "--cloze",
                "0",
                "-o",
                str(out / "floor.apkg"),
            ],
            out / "floor.apkg",
        ),
        "ankdown": (
            [str(ankdown), "-m", "ankdown.ankdown", "-r", str(size / "ankdown"), "-p", str(out / "ankdown.apkg")],
            out / "ankdown.apkg",
        ),
        "author": (
            [*flashgen, "build", str(size / "author"), "-o", str(out / "author")],
            out / "author" / "author.apkg",
        ),
        "generating": (
            [*flashgen, "build", str(size / "plain"), "-o", str(out / "generating")],
            out / "generating" / "plain.apkg",
        ),
    }
    if baseline is not None:
        found["author@base"] = (
            [*baseline, "build", str(size / "author"), "-o", str(out / "author-base")],
            out / "author-base" / "author.apkg",
        )
        found["generating@base"] = (
            [*baseline, "build", str(size / "plain"), "-o", str(out / "generating-base")],
            out / "generating-base" / "plain.apkg",
        )
    return found


def baseline_command(work: Path, commit: str) -> list[str]:
    """flashgen as it was at `commit`: its package exported from git under the work folder and run
    with it first on the path (the installed dependencies are shared)."""
    source = work / "baseline"
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(HERE.parent), "archive", commit, "flashgen"], capture_output=True, check=True
    )
    subprocess.run(["tar", "-x", "-C", str(source)], input=archive.stdout, check=True)
    return ["env", f"PYTHONPATH={source}", sys.executable, "-m", "flashgen"]


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(
    flashgen: list[str],
    ankdown: Path,
    work: Path,
    notes: int,
    repeat: int,
    seed: int,
    baseline: list[str] | None = None,
) -> dict[str, object]:
    size = work / f"n{notes}"
    start = time.perf_counter()
    cards = write_notes(size, notes, seed)
    _log(f"[{notes}] notes written ({cards} cards each way) in {time.perf_counter() - start:.1f} s")
    plan = commands(flashgen, ankdown, size, cards, baseline)
    tools = tuple(plan)
    runs: dict[str, list[Run]] = {tool: [] for tool in tools}
    counts: dict[str, tuple[int, int]] = {}
    for round_ in range(repeat):
        # Rotate the order each round, so that no tool always runs right after the same one.
        order = tools[round_ % len(tools) :] + tools[: round_ % len(tools)]
        for tool in order:
            cmd, package = plan[tool]
            # A cold run: no package, and for flashgen no lock file, state or cache either.
            if tool not in ("floor", "ankdown"):
                shutil.rmtree(package.parent, ignore_errors=True)
            package.unlink(missing_ok=True)
            package.parent.mkdir(parents=True, exist_ok=True)
            run = run_child(cmd, size)
            if run.returncode != 0:
                tail = " | ".join((run.stdout + run.stderr).strip().splitlines()[-3:])
                raise SystemExit(f"{tool} failed (exit {run.returncode}): {tail}")
            runs[tool].append(run)
            if tool not in counts:
                counts[tool] = count(package)
        _log(f"[{notes}] round {round_ + 1}: " + ", ".join(f"{t} {runs[t][-1].seconds:.2f} s" for t in order))
    median = {tool: statistics.median(r.seconds for r in runs[tool]) for tool in tools}
    return {
        "notes": notes,
        "cards": cards,
        "counts": counts,
        "seconds": median,
        "cpu": {tool: statistics.median(r.cpu for r in runs[tool]) for tool in tools},
        "runs": {tool: [round(r.seconds, 3) for r in runs[tool]] for tool in tools},
        "cpu_runs": {tool: [round(r.cpu, 3) for r in runs[tool]] for tool in tools},
        "peak_mb": {tool: round(max(r.rss_mb for r in runs[tool]), 1) for tool in tools},
        "same_cards": counts["ankdown"] == counts["author"],
    }


def print_table(sizes: list[dict[str, object]]) -> None:
    header = (
        f"{'N notes':>8} {'tool':<15} {'anki notes':>10} {'cards':>7} {'median s':>9} {'x floor':>8}"
        f" {'cpu s':>7} {'x floor':>8} {'peak MB':>8}"
    )
    print(header)
    print("-" * len(header))
    for size in sizes:
        seconds: dict[str, float] = size["seconds"]  # type: ignore[assignment]
        counts: dict[str, tuple[int, int]] = size["counts"]  # type: ignore[assignment]
        peaks: dict[str, float] = size["peak_mb"]  # type: ignore[assignment]
        cpu: dict[str, float] = size["cpu"]  # type: ignore[assignment]
        for tool in seconds:
            notes, cards = counts[tool]
            print(
                f"{size['notes']:8,} {tool:<15} {notes:10,} {cards:7,} {seconds[tool]:9.2f}"
                f" {seconds[tool] / seconds['floor']:8.2f} {cpu[tool]:7.2f} {cpu[tool] / cpu['floor']:8.2f}"
                f" {peaks[tool]:8.0f}"
            )
        same = "same" if size["same_cards"] else "DIFFERENT"
        print(
            f"{'':8} flashgen (author cards) / ankdown {seconds['author'] / seconds['ankdown']:.2f}x"
            f" (cpu {cpu['author'] / cpu['ankdown']:.2f}x); generating / author cards"
            f" {seconds['generating'] / seconds['author']:.2f}x (cpu {cpu['generating'] / cpu['author']:.2f}x)\n"
            f"{'':8} ankdown and flashgen made the {same} number of notes and cards"
        )
        if "author@base" in seconds:
            print(
                f"{'':8} against the baseline: author cards {seconds['author'] / seconds['author@base']:.2f}x"
                f" (cpu {cpu['author'] / cpu['author@base']:.2f}x), generating"
                f" {seconds['generating'] / seconds['generating@base']:.2f}x"
                f" (cpu {cpu['generating'] / cpu['generating@base']:.2f}x); baseline flashgen / ankdown"
                f" {seconds['author@base'] / seconds['ankdown']:.2f}x, its generating / author cards"
                f" {seconds['generating@base'] / seconds['author@base']:.2f}x"
            )
        print()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated numbers of notes [1000,10000]")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds; medians are reported [3]")
    parser.add_argument("--seed", type=int, default=1, help="seed of the generated notes [1]")
    parser.add_argument("--flashgen", default=f"{shlex.quote(sys.executable)} -m flashgen", help="the flashgen command")
    parser.add_argument("--workdir", type=Path, help="folder for notes, packages and ankdown's venv [temporary]")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument(
        "--baseline", help="also time flashgen at this git commit (its package exported into the work folder)"
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="flashgen-peers-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    flashgen = shlex.split(args.flashgen)
    started = time.perf_counter()
    try:
        ankdown = ankdown_python(work)
        baseline = None if args.baseline is None else baseline_command(work, args.baseline)
        sizes = [
            measure(flashgen, ankdown, work, int(n), args.repeat, args.seed, baseline) for n in args.sizes.split(",")
        ]
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print_table(sizes)
    print(f"total {time.perf_counter() - started:.0f} s, {os.cpu_count()} cpus, Python {platform.python_version()}")
    if args.json:
        meta = {"python": platform.python_version(), "platform": platform.platform(), "cpus": os.cpu_count()}
        args.json.write_text(json.dumps({"meta": meta, "sizes": sizes}, indent=1) + "\n", encoding="utf-8")
    return 0 if all(s["same_cards"] for s in sizes) else 1


if __name__ == "__main__":
    sys.exit(main())
