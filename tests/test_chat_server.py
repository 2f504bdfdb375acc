"""The loopback chat-completions server: OpenAI-shaped replies and scripted failures, over real HTTP."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.chat_server import CHAT_PATH, ChatServer, Reply, ScriptedResponder, user_text


def chat_body(text: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "test-model",
        "temperature": 0,
        "response_format": {"type": "json_object"},
        "messages": [{"role": "system", "content": "Write flashcards."}, {"role": "user", "content": text}],
        **extra,
    }


def call(
    server: ChatServer,
    payload: Any,
    *,
    path: str = "/chat/completions",
    api_key: str | None = "sk-test",
    timeout: float = 5,
    method: str = "POST",
) -> tuple[int, dict[str, str], bytes]:
    """Send one request with urllib; return (status, headers, body) for success and HTTP errors alike."""
    data = None if payload is None else payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    headers = {"Content-Type": "application/json"}
    if api_key is not None:
        headers["Authorization"] = f"Bearer {api_key}"
    request = urllib.request.Request(server.base_url + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers.items()), e.read()


def content_of(body: bytes) -> str:
    return json.loads(body)["choices"][0]["message"]["content"]  # type: ignore[no-any-return]


@pytest.fixture
def echo() -> Iterator[ChatServer]:
    with ChatServer(lambda body, attempt: Reply.ok(f"echo {user_text(body)} #{attempt}")) as server:
        yield server


def test_completion_has_the_openai_shape(echo: ChatServer) -> None:
    assert echo.base_url.startswith("http://127.0.0.1:") and echo.base_url.endswith("/v1")
    status, headers, body = call(echo, chat_body("Mitochondria make ATP."))
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    completion = json.loads(body)
    assert completion["id"].startswith("chatcmpl-")
    assert completion["object"] == "chat.completion"
    assert isinstance(completion["created"], int)
    assert completion["model"] == "test-model"
    [choice] = completion["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == "echo Mitochondria make ATP. #0"
    assert choice["finish_reason"] == "stop"
    usage = completion["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0

    [recorded] = echo.requests
    assert recorded["method"] == "POST" and recorded["path"] == CHAT_PATH
    assert recorded["headers"]["Authorization"] == "Bearer sk-test"
    assert recorded["headers"]["authorization"] == "Bearer sk-test"  # any case
    assert "AUTHORIZATION" in recorded["headers"]
    assert recorded["body"] == chat_body("Mitochondria make ATP.")
    assert recorded["attempt"] == 0
    assert echo.bodies == [chat_body("Mitochondria make ATP.")]


def test_ok_serialises_json_content_and_finish_reason() -> None:
    cards = {"cards": [{"front": "Q", "back": "A"}]}
    with ChatServer(Reply.ok(cards, finish_reason="length")) as server:
        _, _, body = call(server, chat_body("x"))
    assert json.loads(content_of(body)) == cards
    assert json.loads(body)["choices"][0]["finish_reason"] == "length"


def test_models_list(echo: ChatServer) -> None:
    status, _, body = call(echo, None, path="/models", method="GET")
    assert status == 200
    listing = json.loads(body)
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["test-model"]
    assert all(m["object"] == "model" for m in listing["data"])
    assert echo.chat_requests == []  # recorded in .requests, but not a chat request
    assert [r["path"] for r in echo.requests] == ["/v1/models"]


def test_malformed_body_is_sent_verbatim() -> None:
    with ChatServer(Reply.malformed()) as server:
        status, _, body = call(server, chat_body("x"))
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(body)
    with ChatServer(Reply.malformed(b"not json at all")) as server:
        assert call(server, chat_body("x"))[2] == b"not json at all"


def test_rate_limited_reply_has_retry_after() -> None:
    with ChatServer(Reply.rate_limited(retry_after=2)) as server:
        status, headers, body = call(server, chat_body("x"))
    assert status == 429
    assert headers["Retry-After"] == "2"
    assert headers["retry-after-ms"] == "2000"
    error = json.loads(body)["error"]
    assert error["code"] == "rate_limit_exceeded"
    assert error["type"] == "requests"
    assert Reply.rate_limited().headers["Retry-After"] == "0"


def test_error_reply_is_openai_error_json() -> None:
    with ChatServer(Reply.error(503, "The engine is currently overloaded")) as server:
        status, _, body = call(server, chat_body("x"))
    assert status == 503
    assert json.loads(body) == {
        "error": {"message": "The engine is currently overloaded", "type": "server_error", "param": None, "code": None}
    }
    assert json.loads(Reply.error(400, "bad", code="x").raw or b"")["error"]["type"] == "invalid_request_error"


def test_slow_reply_times_out_the_client_and_shutdown_is_quick() -> None:
    server = ChatServer(Reply.slow(30, "too late")).start()
    try:
        started = time.monotonic()
        with pytest.raises((TimeoutError, urllib.error.URLError)) as excinfo:
            call(server, chat_body("x"), timeout=0.2)
        if isinstance(excinfo.value, urllib.error.URLError):
            assert isinstance(excinfo.value.reason, TimeoutError)
        assert time.monotonic() - started < 2
        assert len(server.chat_requests) == 1  # recorded before the delay
    finally:
        stopping = time.monotonic()
        server.stop()
    assert time.monotonic() - stopping < 1


def test_slow_reply_arrives_when_the_client_waits() -> None:
    with ChatServer(Reply.slow(0.1, "done")) as server:
        started = time.monotonic()
        _, _, body = call(server, chat_body("x"), timeout=5)
    assert time.monotonic() - started >= 0.1
    assert content_of(body) == "done"


def test_concurrent_requests_are_served_in_parallel_and_recorded() -> None:
    n = 8
    barrier = threading.Barrier(n, timeout=3)

    def responder(body: dict[str, Any], attempt: int) -> Reply:
        barrier.wait()  # only passes if all n requests are in flight at once
        return Reply.ok(user_text(body).upper())

    results: dict[int, bytes] = {}

    with ChatServer(responder) as server:

        def worker(i: int) -> None:
            results[i] = call(server, chat_body(f"takeaway {i}"))[2]

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(5)
        recorded = server.chat_requests

    assert {i: content_of(body) for i, body in results.items()} == {i: f"TAKEAWAY {i}" for i in range(n)}
    assert sorted(user_text(r["body"]) for r in recorded) == sorted(f"takeaway {i}" for i in range(n))
    assert all(r["attempt"] == 0 for r in recorded)


def test_attempts_count_requests_with_the_same_messages(echo: ChatServer) -> None:
    same = chat_body("Ribosomes build proteins.")
    replies = [content_of(call(echo, same)[2]) for _ in range(3)]
    assert replies == [f"echo Ribosomes build proteins. #{i}" for i in range(3)]
    # Other parameters do not matter, other messages do.
    assert content_of(call(echo, {**same, "temperature": 0.7})[2]).endswith("#3")
    assert content_of(call(echo, chat_body("Something else."))[2]).endswith("#0")
    assert [r["attempt"] for r in echo.chat_requests] == [0, 1, 2, 3, 0]
    echo.reset()
    assert echo.requests == []
    assert content_of(call(echo, same)[2]).endswith("#0")


def test_scripted_responder_fails_first_then_succeeds_and_repeats_last() -> None:
    responder = ScriptedResponder(
        {"Mitochondria": [Reply.error(500, "boom"), Reply.rate_limited(), Reply.ok("cards")]},
        default=Reply.ok("default"),
    )
    with ChatServer(responder) as server:
        statuses = [call(server, chat_body("Mitochondria make ATP."))[0] for _ in range(4)]
        last = call(server, chat_body("Mitochondria make ATP."))[2]
        other = call(server, chat_body("Golgi ships proteins."))[2]
    assert statuses == [500, 429, 200, 200]
    assert content_of(last) == "cards"
    assert content_of(other) == "default"
    assert responder.unmatched == ["Golgi ships proteins."]


def test_scripted_responder_matching_rules() -> None:
    responder = ScriptedResponder({"cell": Reply.ok("short")}).add("cell membrane", Reply.ok("long"))
    parts = {"role": "user", "content": [{"type": "text", "text": "The cell membrane is a lipid bilayer."}]}
    system_only = {"model": "m", "messages": [{"role": "system", "content": "cell"}, {"role": "user", "content": "?"}]}
    with ChatServer(responder) as server:
        assert content_of(call(server, chat_body("A cell divides."))[2]) == "short"
        assert content_of(call(server, {"model": "m", "messages": [parts]})[2]) == "long"  # longest match wins
        status, _, body = call(server, system_only)  # only user messages are matched; no default
    assert status == 500
    assert "no script entry matches" in json.loads(body)["error"]["message"]

    per_attempt = ScriptedResponder(default=[Reply.error(502, "bad gateway"), Reply.ok("fine")])
    with ChatServer(per_attempt) as server:
        assert [call(server, chat_body("x"))[0] for _ in range(3)] == [502, 200, 200]


def test_api_key_is_enforced_when_given() -> None:
    with ChatServer(Reply.ok("hi"), api_key="sk-right") as server:
        assert call(server, chat_body("x"), api_key="sk-right")[0] == 200
        status, _, body = call(server, chat_body("x"), api_key="sk-wrong")
        assert status == 401
        assert json.loads(body)["error"]["code"] == "invalid_api_key"
        assert call(server, chat_body("x"), api_key=None)[0] == 401


def test_invalid_requests_and_unknown_paths(echo: ChatServer) -> None:
    assert call(echo, b"{not json")[0] == 400
    assert call(echo, {"messages": [{"role": "user", "content": "x"}]})[0] == 400  # no model
    assert call(echo, {"model": "m", "messages": []})[0] == 400
    assert call(echo, chat_body("x", stream=True))[0] == 400
    # A client that forgot the /v1 of the base URL:
    request = urllib.request.Request(f"http://127.0.0.1:{echo.port}/chat/completions", data=b"{}", method="POST")
    with pytest.raises(urllib.error.HTTPError) as excinfo:
        urllib.request.urlopen(request, timeout=5)
    with excinfo.value as error:
        status, body = error.code, error.read()
    assert status == 404
    assert json.loads(body)["error"]["code"] == "unknown_url"
    assert len(echo.requests) == 5
    assert echo.requests[0]["body"] is None and echo.requests[0]["raw"] == b"{not json"


def test_responder_exception_becomes_500_and_is_kept() -> None:
    def broken(body: dict[str, Any], attempt: int) -> Reply:
        raise RuntimeError("scripting bug")

    with ChatServer(broken) as server:
        status, _, body = call(server, chat_body("x"))
    assert status == 500
    assert "scripting bug" in json.loads(body)["error"]["message"]
    assert [str(e) for e in server.errors] == ["scripting bug"]


def test_hostile_replies_drip_cut_short_and_redirect() -> None:
    """The replies issue 15's client tests need: a body one byte at a time, a body shorter than its
    Content-Length, and a redirect to another server."""
    import http.client

    with ChatServer(Reply.dripping(0.01, "slow")) as server:
        started = time.monotonic()
        status, _, body = call(server, chat_body("x"))
        assert status == 200 and content_of(body) == "slow"
        assert time.monotonic() - started >= 0.01 * len(body) * 0.8
    with ChatServer(Reply.cut_short("short", missing=7)) as server:
        payload = json.dumps(chat_body("x")).encode()
        request = urllib.request.Request(server.base_url + "/chat/completions", data=payload)
        with urllib.request.urlopen(request, timeout=5) as response:
            announced = int(response.headers["Content-Length"])
            with pytest.raises(http.client.IncompleteRead) as cut:
                response.read()
        assert len(cut.value.partial) == announced - 7
    with ChatServer(Reply.redirect("http://127.0.0.1:9/v1/chat/completions", 307)) as server:
        status, headers, _ = call(server, chat_body("x"))
        assert status == 307 and headers["Location"] == "http://127.0.0.1:9/v1/chat/completions"
