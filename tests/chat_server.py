"""A loopback OpenAI-compatible chat-completions server that answers with scripted replies.

Tests of code that calls ``POST {base_url}/chat/completions`` (OpenAI, Ollama's ``/v1``,
llama.cpp server, vLLM) start one of these and point the client at ``.base_url``::

    responder = ScriptedResponder(
        {"Mitochondria": [Reply.error(500, "overloaded"), Reply.ok('{"cards": []}')]},
        default=Reply.ok('{"cards": []}'),
    )
    with ChatServer(responder, api_key="sk-test") as server:
        generate(base_url=server.base_url, api_key="sk-test", ...)   # the code under test
        first, retry = server.chat_requests
        assert retry["attempt"] == 1
        assert first["headers"]["Authorization"] == "Bearer sk-test"
        assert first["body"]["temperature"] == 0

Every reply comes from ``responder(request_body, attempt) -> Reply``; ``attempt`` is how many
chat requests with the same ``messages`` arrived before this one (0 for the first), so a
responder can fail a first attempt and let the client's retry succeed.

Routes: ``POST /v1/chat/completions`` and ``GET /v1/models``; anything else gets an
OpenAI-style 404. A chat request that is not a JSON object with a string ``model`` and a
non-empty list ``messages``, or that asks for ``stream``, gets a 400 without reaching the
responder (it is still recorded). When ``api_key`` is given, requests without
``Authorization: Bearer <api_key>`` get OpenAI's 401. Every response carries
``Connection: close``, so no pooled keep-alive connection outlives a request.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"
MODELS_PATH = "/v1/models"
DEFAULT_MODELS = ("test-model",)
_SLEEP_STEP = 0.02  # how often a delayed reply checks whether the server is closing


def _error_body(message: str, type: str, code: str | None) -> bytes:
    return json.dumps({"error": {"message": message, "type": type, "param": None, "code": code}}).encode("utf-8")


@dataclass
class Reply:
    """One scripted HTTP answer to a chat-completions request.

    ``content`` is the assistant message; the server wraps it in a full ``chat.completion``
    object (with ``finish_reason``). ``raw``, when set, is sent verbatim instead (and wins
    over ``content``). ``delay`` seconds pass before anything is sent; if the server stops
    meanwhile the connection is simply closed. ``headers`` are added to the response.
    ``drip`` seconds pass between the bytes of the body (a server that never times out a
    client's socket read but takes forever); ``length``, when set, is the Content-Length
    announced whatever the body's size (a body cut short).
    """

    status: int = 200
    content: str | None = None
    raw: bytes | None = None
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    finish_reason: str = "stop"
    drip: float = 0.0
    length: int | None = None

    @classmethod
    def ok(cls, content: Any = "", *, finish_reason: str = "stop") -> Reply:
        """A 200 completion; ``content`` that is not a string is sent as its JSON text."""
        text = content if isinstance(content, str) else json.dumps(content)
        return cls(content=text, finish_reason=finish_reason)

    @classmethod
    def error(cls, status: int, message: str, *, type: str | None = None, code: str | None = None) -> Reply:
        """An OpenAI-style error: ``{"error": {"message", "type", "param", "code"}}``."""
        if type is None:
            type = "invalid_request_error" if 400 <= status < 500 else "server_error"
        return cls(status=status, raw=_error_body(message, type, code))

    @classmethod
    def rate_limited(cls, retry_after: float = 0) -> Reply:
        """OpenAI's 429, with ``Retry-After`` (seconds) and ``retry-after-ms``."""
        seconds = int(retry_after) if float(retry_after).is_integer() else retry_after
        reply = cls.error(429, "Rate limit reached for requests", type="requests", code="rate_limit_exceeded")
        reply.headers = {"Retry-After": str(seconds), "retry-after-ms": str(int(retry_after * 1000))}
        return reply

    @classmethod
    def malformed(cls, body: bytes = b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [') -> Reply:
        """A 200 whose body is not valid JSON (truncated by default)."""
        return cls(raw=body)

    @classmethod
    def dripping(cls, seconds_per_byte: float, content: Any = "") -> Reply:
        """A 200 completion whose body comes one byte every ``seconds_per_byte``."""
        reply = cls.ok(content)
        reply.drip = seconds_per_byte
        return reply

    @classmethod
    def cut_short(cls, content: Any = "", missing: int = 10) -> Reply:
        """A 200 completion whose Content-Length announces ``missing`` bytes more than are sent."""
        reply = cls.ok(content)
        reply.length = -missing  # relative: resolved against the body when it is sent
        return reply

    @classmethod
    def redirect(cls, location: str, status: int = 302) -> Reply:
        """A redirect to ``location`` (another server, another origin)."""
        return cls(status=status, raw=b"", headers={"Location": location})

    @classmethod
    def slow(cls, seconds: float, content: Any = "") -> Reply:
        """A 200 completion sent only after ``seconds`` (to make a client time out)."""
        reply = cls.ok(content)
        reply.delay = seconds
        return reply


Responder = Callable[[dict[str, Any], int], Reply]


def user_text(body: Mapping[str, Any]) -> str:
    """The text of every ``user`` message in a request body, joined by newlines.

    Handles both string content and the list-of-parts form (``{"type": "text", "text": ...}``).
    """
    texts: list[str] = []
    for message in body.get("messages") or []:
        if not isinstance(message, Mapping) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts.extend(p["text"] for p in content if isinstance(p, Mapping) and isinstance(p.get("text"), str))
    return "\n".join(texts)


def _pick(replies: Sequence[Reply], attempt: int) -> Reply:
    return replies[min(attempt, len(replies) - 1)]


def _as_replies(value: Reply | Iterable[Reply]) -> list[Reply]:
    replies = [value] if isinstance(value, Reply) else list(value)
    if not replies:
        raise ValueError("a script entry needs at least one Reply")
    return replies


class ScriptedResponder:
    """Answers by the user message: ``{substring: [reply for attempt 0, attempt 1, ...]}``.

    The entry whose substring occurs in the user message text (see :func:`user_text`) is
    used; if several occur, the longest substring wins (then the first added). Its replies
    are taken by ``attempt``, the last one repeating. Unmatched requests get ``default``
    (a Reply, a list of Replies per attempt, or a responder callable); without a default
    they get a 500 error naming the unmatched text, so a missing script entry fails loudly.
    Unmatched user texts are collected in ``.unmatched``.
    """

    def __init__(
        self,
        script: Mapping[str, Reply | Iterable[Reply]] | None = None,
        *,
        default: Reply | Iterable[Reply] | Responder | None = None,
    ) -> None:
        self.script: dict[str, list[Reply]] = {}
        for substring, replies in (script or {}).items():
            self.add(substring, *_as_replies(replies))
        self.default: list[Reply] | Responder | None = (
            None if default is None else default if callable(default) else _as_replies(default)
        )
        self.unmatched: list[str] = []
        self._lock = threading.Lock()

    def add(self, substring: str, *replies: Reply) -> ScriptedResponder:
        """Script (or re-script) the replies for user messages containing ``substring``."""
        if not substring:
            raise ValueError("the substring must not be empty")
        self.script[substring] = _as_replies(replies)
        return self

    def __call__(self, body: dict[str, Any], attempt: int) -> Reply:
        text = user_text(body)
        matches = [key for key in self.script if key in text]
        if matches:
            return _pick(self.script[max(matches, key=len)], attempt)
        with self._lock:
            self.unmatched.append(text)
        if self.default is None:
            return Reply.error(500, f"ScriptedResponder: no script entry matches the user message {text[:200]!r}")
        if callable(self.default):
            return self.default(body, attempt)
        return _pick(self.default, attempt)


class _Closed(Exception):
    """The server stopped while a delayed reply was waiting."""


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        owner = self.server.owner
        raw = self._read_body()
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        try:
            reply = owner._respond(method, path, dict(self.headers.items()), raw)
            self._wait(reply.delay)
        except _Closed:
            self.close_connection = True
            return
        self._send(reply)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _wait(self, seconds: float) -> None:
        closing = self.server.owner._closing
        deadline = time.monotonic() + seconds
        while True:
            if closing.is_set():
                raise _Closed
            left = deadline - time.monotonic()
            if left <= 0:
                return
            closing.wait(min(left, _SLEEP_STEP))

    def _send(self, reply: Reply) -> None:
        body = reply.raw if reply.raw is not None else b""
        self.send_response(reply.status)
        headers = {"Content-Type": "application/json", **reply.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        length = len(body) if reply.length is None else reply.length
        self.send_header("Content-Length", str(len(body) - length if length < 0 else length))
        self.send_header("Connection", "close")
        self.close_connection = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up first
            self.end_headers()
            if not reply.drip:
                self.wfile.write(body)
                return
            self.wfile.flush()
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                try:
                    self._wait(reply.drip)
                except _Closed:
                    return


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default 5 makes bursts of concurrent clients wait for SYN retries

    def __init__(self, owner: ChatServer) -> None:
        self.owner = owner
        super().__init__(("127.0.0.1", 0), _RequestHandler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-reply is expected in timeout tests


class _Headers(dict[str, str]):
    """Request headers; lookups ignore case (``h["authorization"] == h["Authorization"]``)."""

    def __init__(self, items: Mapping[str, str]) -> None:
        super().__init__((k.lower(), v) for k, v in items.items())

    def __getitem__(self, key: str) -> str:
        return super().__getitem__(key.lower())

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and super().__contains__(key.lower())

    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key.lower(), default)


class ChatServer:
    """An OpenAI-compatible chat-completions API on an ephemeral loopback port.

    ``responder(body, attempt) -> Reply`` answers chat requests; a plain :class:`Reply`
    is answered to every request; the default answers ``Reply.ok("")``. A responder that
    raises produces a 500 and the exception is kept in ``.errors``.

    ``.requests`` is a snapshot of every request received, in arrival order, as dicts
    ``{"method", "path", "headers", "body", "raw", "attempt"}``: ``headers`` is a
    case-insensitive dict, ``body`` the decoded JSON (``None`` if absent or invalid),
    ``raw`` the bytes, ``attempt`` the count passed to the responder (``None`` for
    non-chat requests). ``.chat_requests`` holds only the chat-completions ones and
    ``.bodies`` their JSON bodies.
    """

    def __init__(
        self,
        responder: Responder | Reply | None = None,
        *,
        api_key: str | None = None,
        models: Iterable[str] = DEFAULT_MODELS,
    ) -> None:
        if responder is None:
            responder = Reply.ok("")
        if isinstance(responder, Reply):
            fixed = responder
            responder = lambda body, attempt: fixed  # noqa: E731
        self.responder: Responder = responder
        self.api_key = api_key
        self.models = list(models)
        self.errors: list[BaseException] = []
        self._requests: list[dict[str, Any]] = []
        self._attempts: dict[str, int] = {}
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._counter = 0
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------

    def start(self) -> ChatServer:
        if self._httpd is not None:
            raise RuntimeError("server already started")
        self._closing.clear()
        self._httpd = _HTTPServer(self)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="chat-http", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed replies still waiting are abandoned (their connections closed)."""
        if self._httpd is None:
            return
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        assert self._thread is not None
        self._thread.join()
        self._httpd = self._thread = None

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("server not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    # -- what was received -----------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._requests)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        return [r for r in self.requests if r["path"] == CHAT_PATH and r["method"] == "POST"]

    @property
    def bodies(self) -> list[Any]:
        return [r["body"] for r in self.chat_requests]

    def reset(self) -> None:
        """Forget recorded requests, errors and attempt counts."""
        with self._lock:
            self._requests.clear()
            self._attempts.clear()
            self.errors.clear()

    # -- request handling ------------------------------------------------------------

    def _respond(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Reply:
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = None
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "headers": _Headers(headers),
            "body": body,
            "raw": raw,
            "attempt": None,
        }
        is_chat = method == "POST" and path == CHAT_PATH
        problem = self._validate(body) if is_chat else None
        with self._lock:
            if is_chat and problem is None:
                key = json.dumps(body["messages"], sort_keys=True)
                entry["attempt"] = self._attempts.get(key, 0)
                self._attempts[key] = entry["attempt"] + 1
            self._requests.append(entry)

        if self.api_key is not None and entry["headers"].get("Authorization") != f"Bearer {self.api_key}":
            return Reply(
                status=401,
                raw=_error_body(
                    "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
                    "invalid_request_error",
                    "invalid_api_key",
                ),
            )
        if method == "GET" and path == MODELS_PATH:
            data = [
                {"id": m, "object": "model", "created": 1700000000, "owned_by": "flashgen-tests"} for m in self.models
            ]
            return Reply(raw=json.dumps({"object": "list", "data": data}).encode("utf-8"))
        if not is_chat:
            return Reply.error(404, f"Invalid URL ({method} {path})", code="unknown_url")
        if problem is not None:
            return Reply.error(400, problem)
        try:
            reply = self.responder(body, entry["attempt"])
            if not isinstance(reply, Reply):
                raise TypeError(f"the responder returned {reply!r}, not a Reply")
        except Exception as e:
            with self._lock:
                self.errors.append(e)
            return Reply.error(500, f"test responder failed: {e!r}")
        if reply.raw is None and (reply.status == 200 or reply.content is not None):
            return replace(reply, raw=self._completion(body, reply))
        return reply

    @staticmethod
    def _validate(body: Any) -> str | None:
        if not isinstance(body, dict):
            return "We could not parse the JSON body of your request."
        if not isinstance(body.get("model"), str) or not body["model"]:
            return "you must provide a model parameter"
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return "'messages' must be a non-empty array"
        if body.get("stream"):
            return "this test server does not stream; send stream=false"
        return None

    def _completion(self, body: dict[str, Any], reply: Reply) -> bytes:
        content = reply.content if reply.content is not None else ""
        with self._lock:
            self._counter += 1
            number = self._counter
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in body["messages"] if isinstance(m, dict))
        completion_tokens = len(content.split())
        completion = {
            "id": f"chatcmpl-test{number:06d}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body["model"],
            "system_fingerprint": "fp_flashgen_test",
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content, "refusal": None},
                    "logprobs": None,
                    "finish_reason": reply.finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        }
        return json.dumps(completion).encode("utf-8")


__all__ = ["CHAT_PATH", "MODELS_PATH", "ChatServer", "Reply", "Responder", "ScriptedResponder", "user_text"]
