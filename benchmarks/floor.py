"""The floor: the least a build can cost, a plain genanki script writing the same Anki notes.

It writes `--basic` notes of a 7-field question/answer note type (two card
templates, like flashgen's) and `--cloze` notes of a 5-field cloze note type to
an .apkg, from text that is already extracted: the field strings are made up
front from a small pool, so no markdown is parsed and no HTML is rendered. Notes
carry fixed GUIDs, a few tags and are spread over 18 decks, as flashgen's are.
No fsync, no lock file, no atomic rename: whatever flashgen costs beyond this
is its own.

    python benchmarks/floor.py --basic 6000 --cloze 4000 -o /tmp/floor.apkg
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import genanki

QA_FIELDS = ("Question", "Answer", "Extra", "Context", "Source", "Reverse", "ID")
CLOZE_FIELDS = ("Text", "Extra", "Context", "Source", "ID")
DECKS = 18
CSS = ".card { font-family: sans-serif; font-size: 20px; text-align: left; }\n.cloze { font-weight: 600; }\n"

_WORDS = [
    *("attention", "residual", "gradient", "quorum", "replica", "latency", "throughput", "compaction"),
    *("snapshot", "tokenizer", "embedding", "dropout", "variance", "convergence", "working", "memory"),
    *("circadian", "adenosine", "backpressure", "idempotency", "sharding", "the", "a", "of", "to", "in"),
    *("is", "that", "for", "with", "on", "as", "by", "when", "it", "its", "which"),
]


def _pool(size: int, words: int) -> list[str]:
    """`size` distinct sentences of about `words` words, made without randomness."""
    n = len(_WORDS)
    return [" ".join(_WORDS[(i * 7 + j * (i % 5 + 1)) % n] for j in range(words)) for i in range(size)]


def models() -> tuple[genanki.Model, genanki.Model]:
    qa = genanki.Model(
        1_607_392_001,
        "floor Q/A",
        fields=[{"name": n} for n in QA_FIELDS],
        templates=[
            {"name": "Forward", "qfmt": "{{Context}}<br>{{Question}}", "afmt": "{{FrontSide}}<hr id=answer>{{Answer}}"},
            {
                "name": "Reverse",
                "qfmt": "{{#Reverse}}{{Context}}<br>{{Answer}}{{/Reverse}}",
                "afmt": "{{FrontSide}}<hr id=answer>{{Question}}",
            },
        ],
        css=CSS,
    )
    cloze = genanki.Model(
        1_607_392_002,
        "floor Cloze",
        fields=[{"name": n} for n in CLOZE_FIELDS],
        templates=[{"name": "Cloze", "qfmt": "{{Context}}<br>{{cloze:Text}}", "afmt": "{{cloze:Text}}<br>{{Extra}}"}],
        css=CSS,
        model_type=genanki.Model.CLOZE,
    )
    return qa, cloze


def fields(basic: int, cloze: int) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Field values of every basic and cloze note, and each note's tags: the 'extracted text'."""
    short, long = _pool(997, 12), _pool(1009, 40)
    contexts = [
        f'<span class="fg-title"><a href="https://example.org/{i}">{short[i]}</a></span>'
        f' <span class="fg-details">Author {i} · {1990 + i % 35} · talk</span>'
        for i in range(len(short))
    ]
    qa: list[tuple[str, ...]] = [
        (
            f"Complete: {short[i % 997]} …",
            f"<p>{long[i % 1009]} <code>fsync()</code> {i}.</p>",
            "",
            contexts[i % 997],
            f"talks/2023/note-{i // 6:05d}.md:{12 + i % 6}",
            "",
            f"fgQ{i:010d}",
        )
        for i in range(basic)
    ]
    cz: list[tuple[str, ...]] = [
        (
            f"<p>{long[i % 1009][:120]} {{{{c1::<strong>{short[i % 997][:30]}</strong>}}}} {i}"
            + (f" and {{{{c2::{short[(i + 1) % 997][:20]}}}}}" if i % 4 == 0 else "")
            + ".</p>",
            "",
            contexts[i % 997],
            f"papers/note-{i // 3:05d}.md:{12 + i % 6}",
            f"fgC{i:010d}",
        )
        for i in range(cloze)
    ]
    tags: list[tuple[str, ...]] = [
        (f"Category_{i % DECKS}", "type::talk", f"year::{1990 + i % 35}", f"author::Author_{i % 97}") for i in range(97)
    ]
    return qa, cz, tags


def write(basic: int, cloze: int, path: Path, timestamp: float = 1_700_000_000) -> None:
    qa_model, cloze_model = models()
    qa_fields, cloze_fields, tags = fields(basic, cloze)
    decks = [genanki.Deck(2_059_400_000 + d, f"floor::Category {d}") for d in range(DECKS)]
    for model, notes in ((qa_model, qa_fields), (cloze_model, cloze_fields)):
        for i, values in enumerate(notes):
            note = genanki.Note(model=model, fields=list(values), tags=list(tags[i % 97]), guid=values[-1])
            decks[i % DECKS].add_note(note)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        genanki.Package(decks).write_to_file(str(path), timestamp=timestamp)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--basic", type=int, default=None, help="question/answer notes [60%% of --notes]")
    parser.add_argument("--cloze", type=int, default=None, help="cloze notes [40%% of --notes]")
    parser.add_argument("--notes", type=int, default=10000, help="total notes when --basic/--cloze are not given")
    parser.add_argument("-o", "--output", type=Path, default=Path("floor.apkg"))
    args = parser.parse_args()
    basic = args.basic if args.basic is not None else round(args.notes * 0.6)
    cloze = args.cloze if args.cloze is not None else args.notes - basic
    start = time.perf_counter()
    write(basic, cloze, args.output)
    elapsed = time.perf_counter() - start
    rate = (basic + cloze) / elapsed if elapsed else 0.0
    print(f"wrote {basic + cloze} notes ({basic} basic, {cloze} cloze) to {args.output} in {elapsed:.2f} s "
          f"({rate:,.0f} notes/s)", file=sys.stderr)  # fmt: skip


if __name__ == "__main__":
    main()
