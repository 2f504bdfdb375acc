"""Make a synthetic notes folder in our users' style, for benchmarks.

Deterministic: the same `--notes` and `--seed` give byte-identical files on
every machine (no downloads, no clock, no locale). Each note has YAML front
matter, an intro paragraph, a "Key takeaways" lead-in or heading, 4-8 takeaway
bullets of 15-60 words (some with **bold** terms, inline code, `$x^2$` math or
nested sub-bullets) and sometimes a "Further reading" list of links.

    python benchmarks/make_corpus.py OUT_DIR --notes 10000 --seed 1
"""

from __future__ import annotations

import argparse
import random
import re
from pathlib import Path

FOLDERS = ("", "podcasts", "papers", "talks/2023", "talks/2024", "books", "archive/old-notes")
TYPES = ("podcast", "paper", "talk", "book", "video")
LAYOUTS = ("post", "post", "post", "note")
CATEGORIES = (
    "Deep Learning", "Machine Learning", "Distributed Systems", "Databases", "Programming Languages",
    "Health", "Neuroscience", "Career", "Research", "Productivity", "Security", "Economics",
    "Statistics", "Compilers", "Operating Systems", "Networking", "Leadership", "Writing",
)  # fmt: skip
FIRST_NAMES = (
    "Andrej", "Barbara", "Leslie", "Grace", "Richard", "Donald", "Edsger", "Margaret", "Jeff", "Sanjay",
    "Martin", "Ada", "Yann", "Fei-Fei", "Andrew", "Julia", "Rich", "Sophie", "Kenji", "Amara",
)  # fmt: skip
LAST_NAMES = (
    "Karpathy", "Liskov", "Lamport", "Hopper", "Hamming", "Knuth", "Dijkstra", "Hamilton", "Dean", "Ghemawat",
    "Kleppmann", "Lovelace", "LeCun", "Li", "Huberman", "Evans", "Hickey", "Wilson", "Tanaka", "Okafor",
)  # fmt: skip
HOSTS = ("www.youtube.com/watch?v=", "arxiv.org/abs/", "www.infoq.com/presentations/", "podcasts.example.org/ep/")

TERMS = (
    "gradient descent", "backpropagation", "attention", "self-attention", "residual connection",
    "layer normalisation", "dropout", "batch size", "learning rate", "weight decay", "tokenizer",
    "embedding", "transformer", "convolution", "overfitting", "regularisation", "cross-entropy",
    "consensus", "linearizability", "eventual consistency", "quorum", "leader election", "write-ahead log",
    "B-tree", "LSM tree", "compaction", "snapshot isolation", "two-phase commit", "idempotency", "backpressure",
    "tail latency", "cache invalidation", "sharding", "replication lag", "vector clock", "Raft", "Paxos",
    "garbage collection", "escape analysis", "type inference", "borrow checker", "monomorphisation",
    "circadian rhythm", "adenosine", "dopamine", "sleep pressure", "working memory", "spaced repetition",
    "deliberate practice", "compound interest", "opportunity cost", "comparative advantage", "Bayes' rule",
    "confidence interval", "p-value", "statistical power", "selection bias", "survivorship bias",
    "threat model", "least privilege", "defence in depth", "side channel", "feedback loop", "bus factor",
)  # fmt: skip
VERBS = (
    "reduces", "increases", "dominates", "explains", "bounds", "hides", "amplifies", "stabilises",
    "trades off against", "depends on", "is limited by", "compounds with", "predicts", "masks",
    "replaces", "complements", "undermines", "simplifies", "determines", "interacts with",
)  # fmt: skip
ADJECTIVES = (
    "small", "large", "stable", "noisy", "sparse", "dense", "expensive", "cheap", "robust", "fragile",
    "deterministic", "stochastic", "local", "global", "incremental", "asynchronous", "implicit", "explicit",
)  # fmt: skip
NOUNS = (
    "throughput", "latency", "memory footprint", "variance", "the error rate", "convergence", "recall",
    "the tail", "the hot path", "the working set", "the search space", "the critical section", "the budget",
    "the baseline", "the training loss", "the validation set", "each request", "every replica", "the team",
)  # fmt: skip
QUALIFIERS = (
    "in practice", "at scale", "for most workloads", "in the long run", "on modern hardware",
    "when the data is skewed", "under contention", "after a few weeks", "unless you measure it",
    "as the speaker pointed out", "which surprised me", "according to the authors", "in their experiments",
)  # fmt: skip
CODE = (
    "fsync()", "torch.no_grad()", "git bisect", "O(n log n)", "SELECT ... FOR UPDATE", "perf record",
    "asyncio.gather", "mmap", "EXPLAIN ANALYZE", "std::move", "kubectl rollout", "@lru_cache", "--release",
)  # fmt: skip
MATH = (
    "$x^2$", "$O(n^2)$", "$\\sqrt{d_k}$", "$p < 0.05$", "$e^{-\\lambda t}$", "$\\nabla L$", "$n \\log n$",
    "$1/\\sqrt{n}$", "$\\alpha = 0.9$", "$\\sum_i w_i x_i$",
)  # fmt: skip
LEAD_INS = (
    "Key takeaways from the talk:",
    "Key takeaways:",
    "What I learned:",
    "Lessons learned:",
)
INTROS = (
    "A {kind} by {author} on {topic}, with a lot of practical detail.",
    "{author} walks through {topic} and why it matters more than it seems.",
    "Notes from a {kind} I {verb} last week; {author} covers {topic} end to end.",
    "An overview of {topic}. {author} is opinionated but mostly convincing.",
)


TEMPLATES = (
    "{A} {adj} {term} {verb} {noun}",
    "{Term} {verb} {noun}",
    "If you care about {noun}, {term} {verb} it",
    "Prefer {term} over {term2} when {noun} matters",
    "Measure {noun} before blaming {term}",
    "Most of the time {term} {verb} {noun}",
)


def _article(word: str) -> str:
    return "An" if word[:1].lower() in "aeiou" else "A"


def _sentence(rng: random.Random, bold: bool, code: bool, math: bool) -> str:
    term = rng.choice(TERMS)
    term2 = rng.choice(TERMS)
    adj = rng.choice(ADJECTIVES)
    sentence = rng.choice(TEMPLATES).format(
        A=_article(adj),
        adj=adj,
        term=f"**{term}**" if bold else term,
        Term=f"**{term[0].upper()}{term[1:]}**" if bold else term[0].upper() + term[1:],
        term2=term2,
        verb=rng.choice(VERBS),
        noun=rng.choice(NOUNS),
    )
    if code:
        sentence += f" (see `{rng.choice(CODE)}`)"
    if math:
        sentence += f", roughly as {rng.choice(MATH)}"
    if rng.random() < 0.5:
        sentence += " " + rng.choice(QUALIFIERS)
    return sentence


def takeaway_text(rng: random.Random) -> str:
    """One takeaway of 15-60 words: a few sentences, perhaps a bold term, code or math."""
    target = rng.randint(15, 60)
    bold_at = rng.randrange(3) if rng.random() < 0.65 else -1
    code_at = rng.randrange(3) if rng.random() < 0.2 else -1
    math_at = rng.randrange(3) if rng.random() < 0.12 else -1
    sentences = []
    if rng.random() < 0.12:  # a definition: "Term: what it is"
        sentences.append(f"{rng.choice(TERMS).capitalize()}: the {rng.choice(ADJECTIVES)} part of {rng.choice(NOUNS)}")
    words = sum(len(s.split()) for s in sentences)
    index = 0
    while words < target:
        sentence = _sentence(rng, index == bold_at, index == code_at, index == math_at)
        sentences.append(sentence)
        words += len(sentence.split())
        index += 1
    tokens = ". ".join(sentences).split(" ")
    # At most 60 words, without cutting inside **bold**, `code` or $math$.
    cut = min(60, len(tokens))
    while cut < len(tokens) and not _balanced(tokens[:cut]):
        cut += 1
    return " ".join(tokens[:cut]).rstrip(",;.") + "."


def _balanced(tokens: list[str]) -> bool:
    text = " ".join(tokens)
    return text.count("**") % 2 == 0 and text.count("`") % 2 == 0 and len(re.findall(r"(?<!\\)\$", text)) % 2 == 0


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40]


def make_note(rng: random.Random, index: int) -> tuple[str, str]:
    """The relative path and text of note number `index`."""
    kind = rng.choice(TYPES)
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    topic = rng.choice(TERMS)
    title = f"{topic.capitalize()} and {rng.choice(TERMS)}: {rng.choice(ADJECTIVES)} ideas, part {index % 7 + 1}"
    categories = rng.sample(CATEGORIES, rng.choice((1, 1, 2, 3)))
    year = rng.randint(1986, 2025)
    url = f"https://{rng.choice(HOSTS)}{rng.getrandbits(40):010x}"
    front = [
        "---",
        f"layout: {rng.choice(LAYOUTS)}",
        f'title: "{title}"',
        "categories: [" + ", ".join(categories) + "]",
        f"year: {year}",
        f"type: {kind}",
        f"author: {author}",
        f"exturl: {url}",
        "---",
        "",
    ]
    intro = rng.choice(INTROS).format(kind=kind, author=author, topic=topic, verb=rng.choice(("read", "heard")))
    body: list[str] = []
    if rng.random() < 0.5:
        body += [f"{intro} {rng.choice(LEAD_INS)}", ""]
    else:
        body += [intro, "", "## Key takeaways", ""]
    for _ in range(rng.randint(4, 8)):
        body.append(f"- {takeaway_text(rng)}")
        if rng.random() < 0.03:  # nested sub-bullets answer their parent
            for _ in range(rng.randint(2, 3)):
                body.append(f"  - {rng.choice(ADJECTIVES)} {rng.choice(TERMS)} {rng.choice(QUALIFIERS)}")
    if rng.random() < 0.15:
        body += ["", "## Further reading", ""]
        for _ in range(rng.randint(1, 3)):
            body.append(f"- [{rng.choice(TERMS).capitalize()}](https://example.org/{rng.getrandbits(32):08x})")
    folder = FOLDERS[index % len(FOLDERS)]
    name = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}-{_slug(title)}-{index:05d}.md"
    rel = f"{folder}/{name}" if folder else name
    return rel, "\n".join(front + body) + "\n"


def generate(out: Path, notes: int, seed: int = 1) -> list[Path]:
    """Write `notes` notes below `out`; return their paths in index order."""
    rng = random.Random(seed)
    paths = []
    for index in range(notes):
        rel, text = make_note(rng, index)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="folder to write the notes into (created)")
    parser.add_argument("--notes", type=int, default=1000, help="number of notes [1000]")
    parser.add_argument("--seed", type=int, default=1, help="random seed [1]")
    args = parser.parse_args()
    paths = generate(args.out, args.notes, args.seed)
    print(f"wrote {len(paths)} notes to {args.out}")


if __name__ == "__main__":
    main()
