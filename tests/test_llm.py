"""Issue 9: cards from a language model, validated, cached, with fallbacks; against a loopback
chat-completions server with recorded answers."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashgen.build import build
from flashgen.cli import main
from flashgen.config import load_options

from .chat_server import ChatServer, Reply, ScriptedResponder
from .conftest import Anki, write_notes

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
        assert "no_leak" in warned["10"] and "after 3 attempts" in warned["12"]  # Lysosomes, Golgi
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

        # Second build: unchanged notes send no request, except the takeaway that timed out.
        server.reset()
        again = build(_options(vault, out, server, llm_timeout=5.0))
        asked = [json.loads(r["body"]["messages"][1]["content"])["takeaway"] for r in server.chat_requests]
        assert asked == ["The Golgi apparatus packages proteins into vesicles."]
        assert again.llm.cached == 6
        server.reset()
        third = build(_options(vault, out, server))
        assert server.chat_requests == [] and third.plan["added"] == 0 and third.plan["updated"] == 0


def test_llm_cards_keep_their_identity_when_regenerated(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"cell.md": "- Mitochondria make most of the cell's ATP.\n"})
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
        first = {c["role"]: c["guid"] for c in json.loads((out / "vault.lock.json").read_text())["cards"]}
        (vault / "cell.md").write_text("- Mitochondria produce most of the cell's ATP.\n")
        report = build(_options(vault, out, server))
        second = {
            c["role"]: c["guid"]
            for c in json.loads((out / "vault.lock.json").read_text())["cards"]
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
    vault = write_notes(tmp_path / "vault", {"cell.md": "- Mitochondria make most of the cell's ATP.\n"})
    with ChatServer(ScriptedResponder({}, default=Reply.ok(GOOD))) as server:
        monkeypatch.setenv("FLASHGEN_LLM_BASE_URL", server.base_url)
        deck, probes, empty, leaked = card_quality.score_folder(vault, "llm")
        assert server.chat_requests
    # the cloze ("oxidative phosphorylation") is not in this takeaway's words: dropped as unfaithful
    assert {p.role for p in probes} == {"llm:qa"}
    assert deck.takeaways == 1 and deck.takeaways_with_a_good_card == 1.0 and empty == 0 and leaked == 0
    _, rule_probes, _, _ = card_quality.score_folder(vault, "rules")
    assert not any(p.role.startswith("llm") for p in rule_probes)
