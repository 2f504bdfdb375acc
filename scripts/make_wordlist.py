"""Regenerate flashgen/data/words_en.txt.gz from the wordfreq package (a developer tool, not run by flashgen).

    python -m venv /tmp/wf && /tmp/wf/bin/pip install wordfreq==3.1.1 && /tmp/wf/bin/python scripts/make_wordlist.py

The list holds the 40,000 most frequent English words with their Zipf frequency
(log10 of occurrences per billion words), one `word<TAB>zipf` per line, most
frequent first. Its data is derived from wordfreq and so licensed CC BY-SA 4.0.
"""

import gzip
import re
from pathlib import Path

import wordfreq  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "flashgen" / "data" / "words_en.txt.gz"
WORD = re.compile(r"^[a-z][a-z'-]*$")

lines = []
for word in wordfreq.top_n_list("en", 60000, wordlist="large"):
    if WORD.match(word):
        lines.append(f"{word}\t{wordfreq.zipf_frequency(word, 'en', wordlist='large'):.1f}")
    if len(lines) == 40000:
        break
with gzip.GzipFile(OUT, "wb", mtime=0) as out:
    out.write(("\n".join(lines) + "\n").encode())
print(f"wrote {len(lines)} words to {OUT}")
