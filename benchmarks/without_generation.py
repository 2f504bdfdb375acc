"""What a cold build would cost if making cards cost nothing: the bound on the cold target.

The card generator (`drafts`: candidates ranked and judged by the quality checks) is the part of
a build that is flashgen's own idea; everything else (reading, front matter, finding takeaways,
rendering and sanitising, hashes, the traffic between processes, identities, the package, the
lock file) any tool of this kind must do. This script measures, in one run on one corpus:

- the floor (`floor.py`, as `run.py` runs it: a fresh process writing as many basic and cloze
  notes as the build made);
- a cold build, in this process (no interpreter start-up), with the workers `flashgen build` uses;
- the same cold build with every takeaway's drafts made beforehand (untimed) and handed out from
  memory, so that the timed build does everything but generate. The two builds must write the
  same lock file, byte for byte (checked), or the comparison is void.

    python benchmarks/without_generation.py                # 10,000 notes, about 3 minutes
    python benchmarks/without_generation.py --notes 1000

If the cold build without generation is already above a target ratio, no speed-up of the
generator alone can reach that target.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import generate  # noqa: E402

from flashgen import build as build_stage  # noqa: E402
from flashgen import drafts, harvest  # noqa: E402
from flashgen.config import load_options  # noqa: E402
from flashgen.notes import find_notes  # noqa: E402
from flashgen.takeaways import Takeaway  # noqa: E402

NAME = "bench"


def cold(notes: Path, out: Path, now: int) -> tuple[float, int, bytes]:
    """Seconds, Anki notes and lock file of a cold build of `notes` into the empty folder `out`."""
    shutil.rmtree(out, ignore_errors=True)
    options = load_options([notes], output=out)
    start = time.perf_counter()
    report = build_stage.build(options, now=now)
    seconds = time.perf_counter() - start
    return seconds, report.anki_notes, (out / f"{NAME}.lock.json").read_bytes()


def floor(basic: int, cloze: int, out: Path) -> float:
    start = time.perf_counter()
    cmd = [sys.executable, str(HERE / "floor.py"), "--basic", str(basic), "--cloze", str(cloze), "-o", str(out)]
    subprocess.run(cmd, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notes", type=int, default=10000, help="corpus size [10000]")
    parser.add_argument("--seed", type=int, default=1, help="corpus seed [1]")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement, best taken [2]")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="flashgen-nogen-"))
    try:
        notes = work / NAME
        generate(notes, args.notes, args.seed)
        now = int(time.time())
        runs = [cold(notes, work / "out", now) for _ in range(args.repeat)]
        full, anki_notes, lock = min(runs)
        basic = lock.count(b'"kind": "basic"')

        # Every takeaway's drafts, made once beforehand (the workers are forked, so they inherit them).
        made: dict[tuple[str, int, str, str], list[drafts.Draft]] = {}
        generator = drafts.drafts

        def remember(takeaway: Takeaway, cue: str, lead: str = "") -> list[drafts.Draft]:
            found = made[takeaway.note.rel, takeaway.line, takeaway.text, lead] = generator(takeaway, cue, lead)
            return found

        def recall(takeaway: Takeaway, cue: str, lead: str = "") -> list[drafts.Draft]:
            return made[takeaway.note.rel, takeaway.line, takeaway.text, lead]

        drafts.drafts = remember
        harvest._harvest_chunk(find_notes([notes], work / "none"), load_options([notes], output=work / "none"))
        drafts.drafts = recall
        free_runs = [cold(notes, work / "out", now) for _ in range(args.repeat)]
        drafts.drafts = generator
        free, free_notes, free_lock = min(free_runs)
        if free_lock != lock or free_notes != anki_notes:
            print("the build without generation wrote another lock file: no comparison", file=sys.stderr)
            return 1

        base = min(floor(basic, anki_notes - basic, work / f"floor{i}.apkg") for i in range(args.repeat))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"{args.notes:,} notes, {anki_notes:,} Anki notes ({basic:,} basic), best of {args.repeat}")
    print(f"floor (genanki only)            {base:7.2f} s   1.00x")
    print(f"cold build                      {full:7.2f} s   {full / base:.2f}x")
    print(f"cold build, generation free     {free:7.2f} s   {free / base:.2f}x")
    print(f"generation's share of the build {1 - free / full:7.0%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
