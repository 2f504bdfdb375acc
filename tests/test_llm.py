"""Issue 9: cards from a language model, validated, cached, with fallbacks; against a loopback
chat-completions server with recorded answers."""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashgen.build import build
from flashgen.cli import main
from flashgen.config import load_options

from .chat_server import ChatServer, Reply, ScriptedResponder
from .conftest import Anki, lock_cards, write_notes

KEY = "sk-test-do-not-leak-4242"

NOTE = """
---
title: The Cell
author: Alberts
type: book
---
Key takeaways:
- Mitochondria make most of the cell's ATP through oxidative phosphorylation.
- Ribosomes translate messenger RNA into proteins.
- The nucleus stores the cell's DNA inside a double membrane.
- Lysosomes digest worn-out organelles with acid hydrolases.
- Centrioles organise the spindle during cell division.
- The Golgi apparatus packages proteins into vesicles.
- Chloroplasts capture light energy in plant cells.
"""

GOOD = {
    "cards": [
        {"type": "qa", "question": "Which organelle makes most of a cell's ATP?", "answer": "Mitochondria"},
        {"type": "cloze", "text": "Mitochondria make ATP through {{c1::oxidative phosphorylation}}."},
    ]
}


def _responder() -> ScriptedResponder:
    return ScriptedResponder(
        {
            "Mitochondria make": Reply.ok(GOOD),
            "Ribosomes translate": Reply.ok("Sure! Here are some great cards about ribosomes."),
            "Chloroplasts capture": Reply.malformed(),  # a broken HTTP body
            "The nucleus stores": Reply.ok({"cards": "none"}),  # schema violation
            "Lysosomes digest": Reply.ok(  # the question leaks its answer
                {
                    "cards": [
                        {
                            "type": "qa",
                            "question": "What do lysosomes digest with acid hydrolases?",
                            "answer": "acid hydrolases",
                        }
                    ]
                }
            ),
            "Centrioles organise": [
                Reply.rate_limited(0),
                Reply.ok(
                    {
                        "cards": [
                            {
                                "type": "qa",
                                "question": "What do centrioles organise in cell division?",
                                "answer": "the spindle",
                            }
                        ]
                    }
                ),
            ],
            "Golgi apparatus": Reply.slow(3.0, GOOD),  # longer than the client waits
        }
    )


def _options(vault: Path, out: Path, server: ChatServer, **more: object):  # type: ignore[no-untyped-def]
    more.setdefault("llm_timeout", 0.5)
    return load_options(
        [vault], output=out, generator="llm", llm_base_url=server.base_url, llm_model="test-model", **more
    )


def test_llm_cards_validated_cached_and_imported(tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLASHGEN_LLM_API_KEY", KEY)
    vault = write_notes(tmp_path / "vault", {"cell.md": NOTE})
    out = tmp_path / "out"
    with ChatServer(_responder(), api_key=KEY) as server:
        report = build(_options(vault, out, server))
        requests = server.chat_requests
        assert all(r["headers"]["Authorization"] == f"Bearer {KEY}" for r in requests)
        assert all(r["body"]["temperature"] == 0 and r["body"]["model"] == "test-model" for r in requests)
        assert all("response_format" in r["body"] for r in requests)
        # the rate-limited takeaway was retried; the slow one timed out and was retried too
        assert sum("Centrioles" in json.dumps(r["body"]) for r in requests) == 2
        assert sum("Golgi" in json.dumps(r["body"]) for r in requests) == 3

        assert report.llm.generated == 2 and report.llm.fallbacks == 5
        warned = {re.sub(r".*:(\d+): .*", r"\1", str(w)): str(w) for w in report.warnings}
        assert "was not JSON" in warned["8"] and "schema" in warned["9"]  # Ribosomes, nucleus
        assert "leak" in warned["10"] and "after 3 attempts" in warned["12"]  # Lysosomes, Golgi
        assert "not a chat completion" in warned["13"]  # Chloroplasts

        anki.import_package(report.package)
        fields = [" ".join(n.fields) for n in anki.notes()]
        assert any("Which organelle makes most of a cell" in f for f in fields)
        assert any("{{c1::oxidative phosphorylation}}" in f for f in fields)
        assert any("What do centrioles organise" in f for f in fields)
        assert not any("What do lysosomes digest with acid hydrolases?" in f for f in fields)
        assert any("Lysosomes" in f for f in fields)  # rule-made cards instead
        for text in fields + [str(w) for w in report.warnings] + [report.summary()]:
            assert KEY not in text
        for path in out.iterdir():
            if path.is_file():
                assert KEY.encode() not in path.read_bytes(), path

        # Second build: unchanged notes send no request, except the takeaways whose request
        # failed (timed out, a broken body): failures are never cached.
        server.reset()
        again = build(_options(vault, out, server, llm_timeout=5.0))
        asked = [json.loads(r["body"]["messages"][1]["content"])["takeaway"] for r in server.chat_requests]
        assert sorted(asked) == [
            "Chloroplasts capture light energy in plant cells.",
            "The Golgi apparatus packages proteins into vesicles.",
        ]
        assert again.llm.cached == 5
        server.reset()
        third = build(_options(vault, out, server))
        asked = [json.loads(r["body"]["messages"][1]["content"])["takeaway"] for r in server.chat_requests]
        assert asked == ["Chloroplasts capture light energy in plant cells."]  # still broken
        assert third.plan["added"] == 0 and third.plan["updated"] == 0


def test_llm_cards_keep_their_identity_when_regenerated(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": "- Mitochondria make most of the cell's **ATP**.\n"})
    out = tmp_path / "out"
    answers = {
        "Mitochondria make most": Reply.ok(GOOD),
        "Mitochondria produce most": Reply.ok(
            {
                "cards": [
                    {
                        "type": "qa",
                        "question": "Which organelle produces most of a cell's ATP?",
                        "answer": "Mitochondria",
                    }
                ]
            }
        ),
    }
    with ChatServer(ScriptedResponder(answers)) as server:
        build(_options(vault, out, server))
        first = {c["role"]: c["guid"] for c in lock_cards(out / "vault.lock.json")}
        (vault / "cell.md").write_text("- Mitochondria produce most of the cell's **ATP**.\n")
        report = build(_options(vault, out, server))
        second = {
            c["role"]: c["guid"]
            for c in lock_cards(out / "vault.lock.json")
            if c["status"] == "active"
        }
    assert second["llm:qa"] == first["llm:qa"] and report.plan["updated"] >= 1


def test_request_budget_and_unreachable_endpoint(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": NOTE})
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD))) as server:
        report = build(_options(vault, tmp_path / "out", server, llm_max_requests=2))
        assert len(server.chat_requests) == 2
        assert any("request budget of 2 spent; 5 takeaways kept" in str(w) for w in report.warnings)

    result = CliRunner().invoke(
        main,
        ["build", str(vault), "-o", str(tmp_path / "out2"), "--generator", "llm"],
        env={"FLASHGEN_LLM_BASE_URL": "http://127.0.0.1:9/v1", "FLASHGEN_LLM_API_KEY": KEY},
    )
    assert result.exit_code == 2
    assert "cannot reach the language model at http://127.0.0.1:9/v1" in result.stderr
    assert KEY not in result.output + result.stderr


def test_card_quality_benchmark_scores_llm_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "card_quality", Path(__file__).parent.parent / "benchmarks" / "card_quality.py"
    )
    assert spec and spec.loader
    card_quality = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(card_quality)
    vault = write_notes(tmp_path / "vault", {"cell.md": "- Mitochondria make most of the cell's **ATP**.\n"})
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD))) as server:
        monkeypatch.setenv("FLASHGEN_LLM_BASE_URL", server.base_url)
        deck, probes, empty, leaked = card_quality.score_folder(vault, "llm")
        assert server.chat_requests
    # the cloze ("oxidative phosphorylation") is not in this takeaway's words: dropped as unfaithful
    assert {p.role for p in probes} == {"llm:qa"}
    assert deck.takeaways == 1 and deck.passing == 1.0 and empty == 0 and leaked == 0
    _, rule_probes, _, _ = card_quality.score_folder(vault, "rules")
    assert not any(p.role.startswith("llm") for p in rule_probes)


# ---------------------------------------------------------------- issue 15: what a hostile or broken server can do

ONE = "- Mitochondria make most of the cell's **ATP** through oxidative phosphorylation.\n"


def _everything_written(out: Path) -> list[tuple[Path, bytes]]:
    return [(p, p.read_bytes()) for p in sorted(out.rglob("*")) if p.is_file()]


def _assert_key_nowhere(out: Path, anki: Anki, report: object, key: str = KEY) -> None:
    for path, data in _everything_written(out):  # the package, the lock, NAME.llm.json, the state folder
        assert key.encode() not in data, path
        assert key.encode("utf-16-le") not in data, path
    for note in anki.notes():
        for text in note.fields:
            assert key not in text and key not in re.sub(r"<[^>]+>|\u200b", "", text), text
    for text in [str(w) for w in report.warnings] + [report.summary()]:  # type: ignore[attr-defined]
        assert key not in text


def test_an_answer_that_holds_the_api_key_reaches_no_output(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLASHGEN_LLM_API_KEY", KEY)
    vault = write_notes(
        tmp_path / "vault",
        {
            "cell.md": ONE
            + "- Ribosomes translate messenger RNA into proteins.\n"
            + "- Lysosomes digest worn-out organelles with acid hydrolases.\n"
        },
    )
    out = tmp_path / "out"
    echoed = {
        "cards": [
            {"type": "qa", "question": "Which organelle makes most of a cell's ATP?", "answer": f"Mitochondria {KEY}"},
        ]
    }
    escaped = json.dumps(
        {"cards": [{"type": "qa", "question": "What do ribosomes translate into proteins?", "answer": f"*{KEY}*"}]}
    ).replace(KEY[:4], "".join(f"\\u{ord(c):04x}" for c in KEY[:4]))  # the key as JSON escapes
    responder = ScriptedResponder(
        {
            "Mitochondria make": Reply.ok(echoed),
            "Ribosomes translate": Reply.ok(escaped),
            "Lysosomes digest": Reply.error(400, f"bad key {KEY}"),
        }
    )
    with ChatServer(responder, api_key=KEY) as server:
        report = build(_options(vault, out, server))
    anki.import_package(report.package)
    _assert_key_nowhere(out, anki, report)
    warned = " ".join(str(w) for w in report.warnings)
    assert warned.count("held the API key; refused") == 2, warned
    assert report.llm.generated == 0 and len(anki.notes()) >= 3  # the rule-made cards instead


def test_a_cached_answer_that_holds_the_api_key_is_removed(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cache written by an older flashgen, or committed by someone else, may hold the key."""
    monkeypatch.setenv("FLASHGEN_LLM_API_KEY", KEY)
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    out = tmp_path / "out"
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD)), api_key=KEY) as server:
        build(_options(vault, out, server))
        cache = out / "vault.llm.json"
        data = json.loads(cache.read_text())
        [key] = data["responses"]
        data["responses"][key] = {"content": json.dumps({"cards": [{"type": "qa", "question": "Q?", "answer": KEY}]})}
        cache.write_text(json.dumps(data))
        (vault / "cell.md").write_text(ONE + "- Ribosomes translate messenger RNA into proteins.\n")
        report = build(_options(vault, out, server))
    anki.import_package(report.package)
    _assert_key_nowhere(out, anki, report)
    assert any("vault.llm.json" in str(w) and "held the API key; removed" in str(w) for w in report.warnings)


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_to_another_origin_gets_no_key_and_is_not_used(
    tmp_path: Path, anki: Anki, monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    monkeypatch.setenv("FLASHGEN_LLM_API_KEY", KEY)
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    elsewhere_says = {"cards": [{"type": "qa", "question": "Which organelle makes ATP?", "answer": "Mitochondria"}]}
    with (
        ChatServer(Reply.ok(elsewhere_says)) as elsewhere,
        ChatServer(Reply.redirect(elsewhere.base_url + "/chat/completions", status), api_key=KEY) as server,
    ):
        report = build(_options(vault, tmp_path / "out", server))
        assert server.chat_requests  # asked the configured server
        assert not any("Authorization" in r["headers"] for r in elsewhere.requests)
        assert elsewhere.requests == []  # redirects are not followed at all
    anki.import_package(report.package)
    assert not any("Which organelle makes ATP?" in " ".join(n.fields) for n in anki.notes())
    assert any(f"cell.md:1: the language model failed (the server answered HTTP {status}, a redirect" in str(w)
               for w in report.warnings), report.warnings  # fmt: skip


def test_a_server_dripping_bytes_cannot_outlast_the_timeout(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    finished: list[object] = []
    with ChatServer(Reply.dripping(0.1, GOOD)) as server:  # about 40 s for the whole answer
        started = time.monotonic()
        worker = threading.Thread(
            target=lambda: finished.append(build(_options(vault, tmp_path / "out", server, llm_timeout=0.5))),
            daemon=True,
        )
        worker.start()
        worker.join(30)
        took = time.monotonic() - started
    assert finished, "the build waited for the server"
    # three attempts of 0.5 s each and the waits between them (0.5 s, 1 s, 2 s)
    assert took < 15, took
    assert any("timed out after 0.5 s after 3 attempts" in str(w) for w in finished[0].warnings)  # type: ignore[attr-defined]


def test_a_body_shorter_than_its_length_is_a_warning(tmp_path: Path, anki: Anki) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    with ChatServer(Reply.cut_short(GOOD)) as server:
        report = build(_options(vault, tmp_path / "out", server))
    assert any("cell.md:1:" in str(w) and "broke off (IncompleteRead) after 3 attempts" in str(w)
               for w in report.warnings), report.warnings  # fmt: skip
    anki.import_package(report.package)
    assert anki.notes()  # the rule-made cards


@pytest.mark.parametrize(
    "responses",
    [
        {"a": 5, "b": "text", "c": {"content": 3}, "d": [1], "e": {"content": "x", "more": 1}},
        [1, 2],
        None,
    ],
)
def test_a_damaged_cache_is_ignored_with_a_warning_naming_it(tmp_path: Path, responses: object) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    out = tmp_path / "out"
    out.mkdir()
    cache = out / "vault.llm.json"
    cache.write_text(json.dumps({"format": 1, "responses": responses}, indent=1) if responses else "{broken")
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD))) as server:
        report = build(_options(vault, out, server))
        assert len(server.chat_requests) == 1
    assert report.llm.generated == 1
    warned = [str(w) for w in report.warnings if "vault.llm.json" in str(w)]
    assert warned, report.warnings
    if isinstance(responses, dict):
        assert len(warned) == len(responses) and all("damaged entry" in w for w in warned)
        assert re.match(r".*vault\.llm\.json:4: damaged entry 'a' ignored", warned[0]), warned
    # the cache is whole again
    assert [set(v) for v in json.loads(cache.read_text())["responses"].values()] == [{"content"}]


def test_a_cloze_that_sanitising_breaks_is_not_used(tmp_path: Path, anki: Anki) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    broken = {
        "cards": [
            {"type": "qa", "question": "Which organelle makes most of a cell's ATP?", "answer": "Mitochondria"},
            {"type": "cloze", "text": "Mitochondria make ATP through {{c1::oxidative phosphorylation<svg>}}."},
        ]
    }
    with ChatServer(Reply.ok(broken)) as server:
        report = build(_options(vault, tmp_path / "out", server))
    anki.import_package(report.package)
    for note in anki.notes('"note:flashgen Cloze"'):
        for card in note.cards():
            assert "No cloze" not in card.question() and "{{c" not in card.question(), note.fields
    assert any("Which organelle makes most" in " ".join(n.fields) for n in anki.notes())
    assert report.llm.generated == 1


def test_math_in_answers_is_defused_too(tmp_path: Path, anki: Anki) -> None:
    from .test_security import DENIED, mathjax_commands

    vault = write_notes(tmp_path / "vault", {"loss.md": "- The loss $L$ is minimised by **gradient descent**.\n"})
    answer = {
        "cards": [
            {
                "type": "qa",
                "question": r"What minimises the loss $\href{javascript:alert(1)}{L}$ \(\style{color:red}{L}\)?",
                "answer": r"gradient descent",
            }
        ]
    }
    with ChatServer(Reply.ok(answer)) as server:
        report = build(_options(vault, tmp_path / "out", server))
    anki.import_package(report.package)
    assert report.llm.generated == 1, report.warnings
    sides = [s for n in anki.notes() for c in n.cards() for s in (c.question(), c.answer())]
    assert any("gradient descent" in s for s in sides)
    for side in sides:
        assert not set(mathjax_commands(side)) & DENIED, side


def test_an_api_key_no_header_can_carry_is_an_error_before_any_request(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": ONE})
    out = tmp_path / "out"
    bad = "sk-first-line\nsecond-line-secret"
    with ChatServer(Reply.ok(GOOD)) as server:
        result = CliRunner().invoke(
            main,
            ["build", str(vault), "-o", str(out), "--generator", "llm"],
            env={"FLASHGEN_LLM_BASE_URL": server.base_url, "FLASHGEN_LLM_API_KEY": bad},
        )
        assert server.chat_requests == []
    assert result.exit_code == 2, result.output
    assert "API key" in result.stderr and "line break" in result.stderr
    assert "second-line-secret" not in result.output + result.stderr
    cache = out / "vault.llm.json"
    assert not cache.exists() or "error" not in cache.read_text()


def test_cards_the_author_wrote_are_not_sent_to_the_model(tmp_path: Path, anki: Anki) -> None:
    """A `question :: answer` line or a highlighted cloze is the author's card: the model is not
    asked to rewrite it, and it is in the deck as written."""
    vault = write_notes(
        tmp_path / "vault",
        {
            "cell.md": """
            Key takeaways:
            - Mitochondria make most of the cell's ATP through oxidative phosphorylation.
            - Where are proteins made? :: On the ribosomes.
            - The ==nucleus== stores the cell's DNA.
            """
        },
    )
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD))) as server:
        report = build(_options(vault, tmp_path / "out", server))
        asked = [json.loads(r["body"]["messages"][1]["content"])["takeaway"] for r in server.chat_requests]
    assert asked == ["Mitochondria make most of the cell's ATP through oxidative phosphorylation."]
    assert report.llm.generated == 1 and report.llm.fallbacks == 0
    anki.import_package(report.package)
    fields = {n.fields[0]: n.fields[1] for n in anki.notes()}
    assert fields["Where are proteins made?"] == "On the ribosomes."
    assert any("{{c1::<mark>nucleus</mark>}}" in text for text in fields)
