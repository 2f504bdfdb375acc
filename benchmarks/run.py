"""Benchmark flashgen against the floor (a plain genanki script) on generated notes.

For each size it generates a corpus (`make_corpus.py`) in a temporary folder and
times, each in a fresh process so that peak memory is per measurement:

- cold:       `flashgen build` with no lock file and no package;
- unchanged:  a rebuild with nothing changed;
- one-change: a rebuild after appending a word to one takeaway;
- touched:    a rebuild after every note got a new modification time, its content unchanged
              (what sync tools and git checkouts do);
- floor:      `floor.py` writing as many basic and cloze Anki notes as the build made;
- watch:      (only if `flashgen watch` exists) seconds from editing one note until
              the package is rewritten, median of `--watch-repeats` edits.

    python benchmarks/run.py --sizes 1000,10000 --json results.json

Run it with the Python that has flashgen installed (the project's virtualenv).
Times are wall-clock seconds around the whole subprocess, start-up included.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import platform
import re
import resource
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_corpus import generate  # noqa: E402

NAME = "bench"  # the notes folder's name, and so the package's: OUT/bench.apkg, OUT/bench.lock.json
CHILD_TIMEOUT = 900.0  # seconds before a measured process is killed
BUDGET = 30.0  # seconds: no further repeats of a measurement once its runs took this long
WORDS = ("indeed", "mostly", "again", "roughly", "usually", "often", "arguably", "notably", "clearly")

# (measurement, notes, limit, kind): kind "floor" compares seconds with the floor's, "seconds" is absolute.
TARGETS = (
    ("cold", 10000, 2.0, "floor"),
    ("one-change", 10000, 1.2, "floor"),
    ("unchanged", 10000, 0.5, "seconds"),
    ("watch", 1000, 0.5, "seconds"),
)
MEMORY_TARGET = (10000, 500.0)  # notes, MB of peak RSS for every flashgen measurement


@dataclass
class Run:
    """One process: its wall time, peak memory and outcome."""

    seconds: float
    rss_mb: float
    returncode: int
    stdout: str = ""
    stderr: str = ""
    cpu: float = 0.0  # user + system seconds of the process and the children it waited for


@dataclass
class Result:
    measurement: str
    notes: int  # notes in the corpus
    anki_notes: int | None  # Anki notes in the package
    seconds: float | None  # best of the runs (the median for watch)
    runs: list[float] = field(default_factory=list)
    ratio: float | None = None  # seconds / the floor's seconds for the same corpus size
    rss_mb: float | None = None  # the highest peak RSS of the runs
    detail: str = ""  # the tool's summary line, or what went wrong
    ok: bool = True


def _rss_mb(maxrss: int) -> float:
    # ru_maxrss is in kilobytes on Linux, bytes on macOS.
    return maxrss / (1024 * 1024) if sys.platform == "darwin" else maxrss / 1024


def run_child(cmd: Sequence[str], cwd: Path, timeout: float = CHILD_TIMEOUT) -> Run:
    """Run `cmd` to completion; its wall time and its own peak RSS (from wait4, not RUSAGE_CHILDREN)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(list(cmd), cwd=cwd, stdout=out, stderr=err)
        timer = threading.Timer(timeout, proc.kill)
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(
            seconds,
            _rss_mb(usage.ru_maxrss),
            proc.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
            usage.ru_utime + usage.ru_stime,
        )


def append_word(path: Path, word: str) -> None:
    """Append `word` to the first takeaway of a generated note (its first top-level bullet that is not a link)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    for i, line in enumerate(lines):
        if line.startswith("- ") and "](" not in line:
            body = line.rstrip()
            end = body[-1] if body[-1] in ".!?" else ""
            lines[i] = (body[:-1] if end else body) + f" {word}{end}"
            break
    else:
        raise ValueError(f"{path}: no takeaway to edit")
    path.write_text("\n".join(lines), encoding="utf-8")


def touch_all(files: Sequence[Path], seconds: int) -> None:
    """Every note a new modification time, its bytes unchanged: what a sync tool or a checkout does."""
    for path in files:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + seconds * 1_000_000_000))


_COUNT_KINDS = """
import collections, json, sys
from pathlib import Path
from flashgen import lock
print(json.dumps(collections.Counter(record.kind for record in lock.load(Path(sys.argv[1])).records)))
"""


def lock_kinds(out: Path) -> collections.Counter[str]:
    """Anki notes in the lock file by kind ("basic", "cloze"): one record per Anki note.

    Read in a separate process: a child's ru_maxrss starts from its parent's resident size at
    fork/exec, so this process must stay small or every later measurement would inherit its memory.
    """
    done = subprocess.run(
        [sys.executable, "-c", _COUNT_KINDS, str(out / f"{NAME}.lock.json")], capture_output=True, text=True, check=True
    )
    return collections.Counter(json.loads(done.stdout))


def _summary(run: Run) -> str:
    text = (run.stdout + "\n" + run.stderr).strip()
    if run.returncode != 0:
        tail = " | ".join(text.splitlines()[-3:])
        return f"exit {run.returncode}: {tail}"
    lines = [line for line in text.splitlines() if line.startswith("plan:")]
    return lines[-1] if lines else (text.splitlines()[-1] if text else "")


def _result(measurement: str, notes: int, anki: int | None, runs: list[Run]) -> Result:
    ok = all(r.returncode == 0 for r in runs)
    good = [r.seconds for r in runs if r.returncode == 0]
    return Result(
        measurement,
        notes,
        anki,
        min(good) if good else None,
        [round(r.seconds, 4) for r in runs],
        rss_mb=max(r.rss_mb for r in runs) if runs else None,
        detail=_summary(runs[-1]) if ok else next(_summary(r) for r in runs if r.returncode != 0),
        ok=ok,
    )


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _spent(runs: list[Run], budget: float) -> bool:
    return sum(r.seconds for r in runs) >= budget


def _repeated(cmd: Sequence[str], cwd: Path, repeat: int, budget: float) -> list[Run]:
    """Up to `repeat` runs of `cmd`, fewer once they took `budget` seconds in all."""
    runs: list[Run] = []
    while len(runs) < repeat and not _spent(runs, budget):
        runs.append(run_child(cmd, cwd))
    return runs


def measure_size(
    flashgen: list[str], work: Path, notes: int, repeat: int, seed: int, budget: float = BUDGET
) -> tuple[list[Result], Path]:
    """Cold build, unchanged and one-change rebuilds, and the floor, for one corpus size."""
    corpus = work / f"n{notes}" / NAME
    out = work / f"n{notes}" / "out"
    start = time.perf_counter()
    files = sorted(generate(corpus, notes, seed))
    _log(f"[{notes}] corpus of {notes} notes generated in {time.perf_counter() - start:.1f} s")
    build = [*flashgen, "build", str(corpus), "-o", str(out)]
    results = []

    runs = []
    for _ in range(repeat):
        shutil.rmtree(out, ignore_errors=True)
        runs.append(run_child(build, work))
        if _spent(runs, budget):
            break
    kinds = lock_kinds(out) if (out / f"{NAME}.lock.json").exists() else collections.Counter()
    anki = sum(kinds.values()) or None
    results.append(_result("cold", notes, anki, runs))
    _log(f"[{notes}] cold: {_fmt_runs(runs)}")

    runs = _repeated(build, work, repeat, budget)
    results.append(_result("unchanged", notes, anki, runs))
    _log(f"[{notes}] unchanged: {_fmt_runs(runs)}")

    runs = []
    victim = files[len(files) // 2]
    for i in range(repeat):
        append_word(victim, WORDS[i % len(WORDS)])
        runs.append(run_child(build, work))
        if _spent(runs, budget):
            break
    results.append(_result("one-change", notes, anki, runs))
    _log(f"[{notes}] one-change ({victim.relative_to(corpus)}): {_fmt_runs(runs)}")

    runs = []
    for i in range(repeat):
        touch_all(files, i + 1)
        runs.append(run_child(build, work))
        if _spent(runs, budget):
            break
    results.append(_result("touched", notes, anki, runs))
    _log(f"[{notes}] touched: {_fmt_runs(runs)}")

    if anki:
        floor = [sys.executable, str(HERE / "floor.py"), "--basic", str(kinds["basic"]), "--cloze", str(kinds["cloze"])]
        floor += ["-o", str(work / f"n{notes}" / "floor.apkg")]
        runs = _repeated(floor, work, repeat, budget)
        results.append(_result("floor", notes, anki, runs))
        results[-1].detail = f"{kinds['basic']} basic + {kinds['cloze']} cloze"
        _log(f"[{notes}] floor: {_fmt_runs(runs)}")
    return results, corpus


def _fmt_runs(runs: list[Run]) -> str:
    return ", ".join(f"{r.seconds:.2f} s" + ("" if r.returncode == 0 else f" (exit {r.returncode})") for r in runs)


def watch_available(flashgen: list[str], cwd: Path) -> bool:
    try:
        return subprocess.run([*flashgen, "watch", "--help"], cwd=cwd, capture_output=True).returncode == 0
    except OSError:
        return False


def _stamp(path: Path) -> tuple[int, int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def measure_watch(flashgen: list[str], work: Path, corpus: Path, repeats: int, timeout: float = 120.0) -> Result:
    """Start `flashgen watch`, wait for its first build, then time edit -> new package, `repeats` times."""
    out = work / "watch-out"
    shutil.rmtree(out, ignore_errors=True)
    package = out / f"{NAME}.apkg"
    files = sorted(corpus.rglob("*.md"))
    notes = len(files)
    log = work / "watch.log"
    latencies: list[float] = []
    detail = ""
    with log.open("wb") as sink:
        proc = subprocess.Popen([*flashgen, "watch", str(corpus), "-o", str(out)], cwd=work, stdout=sink, stderr=sink)
        try:
            if not _wait_ready(proc, package, log, timeout):
                detail = "no package after the first build" if proc.poll() is None else f"exited {proc.returncode}"
            else:
                tried = 0
                while len(latencies) < repeats and tried < 3 * repeats:
                    before = _stamp(package)
                    plans = _plans(log)
                    victim = files[(tried * 7919 + notes // 3) % notes]
                    tried += 1
                    start = time.perf_counter()
                    append_word(victim, WORDS[tried % len(WORDS)])
                    unchanged = False
                    while _stamp(package) == before and proc.poll() is None and time.perf_counter() - start < timeout:
                        time.sleep(0.002)
                        # A word added to a takeaway that makes no card changes no card: the watcher
                        # says so (a plan of nothing) and leaves the package as it is. Not timed.
                        if any(_nothing_planned(line) for line in _plans(log)[len(plans) :]):
                            unchanged = True
                            break
                    if unchanged:
                        _settle([log, out / f"{NAME}.lock.json"], quiet=0.5, minimum=1.0)
                        continue
                    if _stamp(package) == before:
                        detail = f"package not rewritten within {timeout:.0f} s of edit {tried}"
                        break
                    latencies.append(time.perf_counter() - start)
                    # The next edit waits for this rebuild to finish (lock file, log line), so it is timed alone.
                    _settle([log, out / f"{NAME}.lock.json"], quiet=0.5, minimum=1.0)
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                try:
                    _, _, usage = _wait4(proc, 10.0)
                except TimeoutError:
                    proc.kill()
                    _, _, usage = _wait4(proc, None)
            else:
                usage = None
    ok = len(latencies) == repeats
    if not detail:
        detail = f"median of {len(latencies)} edits: " + ", ".join(f"{s:.3f}" for s in latencies)
    if not ok:
        detail += " | log: " + " | ".join(log.read_text(errors="replace").splitlines()[-3:])
    return Result(
        "watch",
        notes,
        None,
        statistics.median(latencies) if latencies else None,
        [round(s, 4) for s in latencies],
        rss_mb=_rss_mb(usage.ru_maxrss) if usage else None,
        detail=detail,
        ok=ok,
    )


def _plans(log: Path) -> list[str]:
    return [line for line in log.read_text(errors="replace").splitlines() if "plan:" in line]


def _nothing_planned(line: str) -> bool:
    """A plan line that changes nothing: `plan: 0 added, 0 updated, 0 moved, N unchanged, 0 removed`."""
    counts = dict((kind, int(n)) for n, kind in re.findall(r"(\d+) (added|updated|moved|removed)", line))
    return bool(counts) and not any(counts.values())


def _settle(paths: Sequence[Path], quiet: float, minimum: float, limit: float = 60.0) -> None:
    """Return once none of `paths` has changed for `quiet` seconds, and at least `minimum` seconds passed."""
    start = last_change = time.monotonic()
    last = [_stamp(p) for p in paths]
    while time.monotonic() - start < limit:
        time.sleep(0.05)
        now = [_stamp(p) for p in paths]
        if now != last:
            last, last_change = now, time.monotonic()
        if time.monotonic() - last_change >= quiet and time.monotonic() - start >= minimum:
            return


def _wait_ready(proc: subprocess.Popen[bytes], package: Path, log: Path, timeout: float) -> bool:
    """Wait until the watcher's first build is done and it watches: the package exists, and the
    watcher said it is watching or its output and the package have been still for 3 s."""
    deadline = time.monotonic() + timeout
    last, still_since = None, time.monotonic()
    while proc.poll() is None and time.monotonic() < deadline:
        text = log.read_text(errors="replace")
        state = (_stamp(package), len(text))
        if state != last:
            last, still_since = state, time.monotonic()
        if state[0] is not None and ("watching" in text or time.monotonic() - still_since > 3.0):
            time.sleep(1.0)  # an edit made before the watcher has armed would go unseen
            return True
        time.sleep(0.05)
    return False


def _wait4(proc: subprocess.Popen[bytes], timeout: float | None) -> tuple[int, int, resource.struct_rusage | None]:
    """wait4 on `proc` with a timeout (None: wait for ever); the process is reaped and its rusage returned."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, 0 if deadline is None else os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return pid, status, usage
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.05)


def add_ratios(results: list[Result]) -> None:
    floors = {r.notes: r.seconds for r in results if r.measurement == "floor" and r.seconds}
    for r in results:
        if r.seconds is not None and r.notes in floors:
            r.ratio = r.seconds / floors[r.notes]


def check_targets(results: list[Result]) -> list[dict[str, object]]:
    by_key = {(r.measurement, r.notes): r for r in results}
    checks: list[dict[str, object]] = []
    for measurement, notes, limit, kind in TARGETS:
        r = by_key.get((measurement, notes))
        value = None if r is None else (r.ratio if kind == "floor" else r.seconds)
        text = f"{measurement} {notes:,} notes: " + (f"<= {limit}x floor" if kind == "floor" else f"< {limit} s")
        met = None if value is None else value <= limit
        checks.append({"target": text, "value": value, "limit": limit, "met": met})
    notes, limit = MEMORY_TARGET
    peaks = [r.rss_mb for r in results if r.notes == notes and r.measurement != "floor" and r.rss_mb is not None]
    value = max(peaks) if peaks else None
    checks.append(
        {
            "target": f"peak RSS {notes:,} notes: < {limit:.0f} MB",
            "value": value,
            "limit": limit,
            "met": None if value is None else value < limit,
        }
    )
    return checks


def print_table(results: list[Result], checks: list[dict[str, object]]) -> None:
    header = f"{'measurement':<12} {'N':>7} {'anki notes':>10} {'seconds':>9} {'x floor':>8} {'peak MB':>8}  detail"
    print(header)
    print("-" * len(header))
    for r in results:
        seconds = f"{r.seconds:9.3f}" if r.seconds is not None else f"{'-':>9}"
        ratio = f"{r.ratio:8.2f}" if r.ratio is not None else f"{'-':>8}"
        rss = f"{r.rss_mb:8.0f}" if r.rss_mb is not None else f"{'-':>8}"
        anki = f"{r.anki_notes:10,}" if r.anki_notes else f"{'-':>10}"
        flag = "" if r.ok else "FAILED: "
        print(f"{r.measurement:<12} {r.notes:7,} {anki} {seconds} {ratio} {rss}  {flag}{r.detail}")
    print()
    for check in checks:
        value = check["value"]
        shown = "not measured" if value is None else f"{value:.2f}"
        verdict = {True: "met", False: "MISSED", None: "-"}[check["met"]]  # type: ignore[index]
        print(f"target {check['target']:<42} {shown:>12}  {verdict}")


def _git_head() -> str:
    try:
        done = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True)
        return done.stdout.strip()
    except OSError:
        return ""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes in notes [1000,10000]")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, fewer past --budget [3]")
    parser.add_argument(
        "--budget", type=float, default=BUDGET, help=f"stop repeating a measurement after this many s [{BUDGET:.0f}]"
    )
    parser.add_argument("--seed", type=int, default=1, help="corpus seed [1]")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this file")
    parser.add_argument("--watch-notes", type=int, default=1000, help="corpus size for the watch latency [1000]")
    parser.add_argument("--watch-repeats", type=int, default=5, help="edits timed in watch mode [5]")
    parser.add_argument("--no-watch", action="store_true", help="skip the watch latency")
    parser.add_argument("--flashgen", default=f"{shlex.quote(sys.executable)} -m flashgen", help="the flashgen command")
    parser.add_argument("--workdir", type=Path, help="folder for corpora and outputs [a temporary one, removed after]")
    args = parser.parse_args()

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    flashgen = shlex.split(args.flashgen)
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="flashgen-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[Result] = []
    corpora: dict[int, Path] = {}
    try:
        for notes in sizes:
            repeat = args.repeat
            measured, corpora[notes] = measure_size(flashgen, work, notes, repeat, args.seed, args.budget)
            results += measured
        if args.no_watch:
            pass
        elif not watch_available(flashgen, work):
            print("watch: not available", flush=True)
        else:
            corpus = corpora.get(args.watch_notes)
            if corpus is None:
                corpus = work / f"n{args.watch_notes}" / NAME
                generate(corpus, args.watch_notes, args.seed)
            results.append(measure_watch(flashgen, work, corpus, args.watch_repeats))
            _log(f"[{args.watch_notes}] watch: {results[-1].detail}")
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    add_ratios(results)
    checks = check_targets(results)
    total = time.perf_counter() - started
    print()
    print_table(results, checks)
    print(f"\ntotal {total:.0f} s")
    if args.json:
        meta = {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "commit": _git_head(),
            "flashgen": args.flashgen,
            "sizes": sizes,
            "seed": args.seed,
            "total_seconds": round(total, 1),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        }
        payload = {"meta": meta, "results": [asdict(r) for r in results], "targets": checks}
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
