"""LLM: better questions from a language model, when the user has one.

For each takeaway, an OpenAI-compatible chat-completions endpoint (Ollama, llama.cpp, vLLM, a
hosted API) is asked for cards in a JSON schema, at temperature 0. Every answer is validated:
the schema, the quality checks of the rule generator (faithful, answer not leaked, not too long,
short) and, when rendered, the sanitiser. A takeaway whose answer fails, or whose request
fails, keeps its rule-made cards, with a warning.

Responses are cached beside the lock file (`NAME.llm.json`, keyed by model, prompt version and
the takeaway), so users can commit them: rebuilding unchanged notes sends no request and gives
identical cards. Only answers are cached, never a failure: a takeaway whose request failed is
asked again on the next build. The cache is read like any input: a damaged entry is ignored
with a warning naming the file.

The API key is sent in a header to the configured address and appears nowhere else: redirects
are not followed (the key would go with them), an answer that holds the key is refused, and
every error message is scrubbed of it. Each request has an overall deadline (`timeout`): a
server that sends one byte a second cannot hold a build.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import http.client
import json
import os
import random
import re
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from . import cards as cards_stage
from . import quality, render
from .drafts import Draft, number_roles, plain
from .errors import FlashgenError, SourceProblem
from .harvest import Harvest
from .lock import write_atomic

PROMPT_VERSION = "1"
CACHE_FORMAT = 1
REQUIRED_CHECKS = ("leak", "broken-text", "too-long", "fragment", "mismatched-question")
DEFAULT_BASE_URL = "http://localhost:11434/v1"  # Ollama's OpenAI-compatible endpoint
DEFAULT_MODEL = "llama3.1"

SYSTEM_PROMPT = """\
You write Anki flashcards from one takeaway of a person's notes. Follow these rules:
- Use only facts stated in the takeaway; copy its key words.
- One fact per card. Answers are short: a few words, a name, a term or a number.
- A question must not contain its answer, must not be answerable with yes or no, and must make
  sense on its own weeks later (name the subject; never start with "It" or "This").
- Never ask for a list; make one card per item instead.
- 1 to 3 cards. At least one card is a question/answer card. A cloze card marks the hidden
  words as {{c1::words}} inside a sentence copied from the takeaway.
Reply with JSON only, matching the given schema."""

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "cards": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "properties": {
                    "type": {"type": "string", "enum": ["qa", "cloze"]},
                    "question": {"type": "string"},
                    "answer": {"type": "string"},
                    "text": {"type": "string"},
                },
                "required": ["type"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["cards"],
    "additionalProperties": False,
}


class LLMError(FlashgenError):
    """The language model cannot be reached at all."""


@dataclass(frozen=True)
class Settings:
    base_url: str = DEFAULT_BASE_URL
    model: str = DEFAULT_MODEL
    api_key: str = field(default="", repr=False)
    concurrency: int = 4
    timeout: float = 60.0
    retries: int = 3
    max_requests: int | None = None

    @classmethod
    def from_environment(cls, **values: Any) -> Settings:
        """Settings from explicit values, else FLASHGEN_LLM_* variables (OPENAI_API_KEY for the key)."""
        env = os.environ
        base = values.get("base_url") or env.get("FLASHGEN_LLM_BASE_URL") or DEFAULT_BASE_URL
        model = values.get("model") or env.get("FLASHGEN_LLM_MODEL") or DEFAULT_MODEL
        key = env.get("FLASHGEN_LLM_API_KEY") or env.get("OPENAI_API_KEY") or ""
        rest = {k: v for k, v in values.items() if k not in ("base_url", "model") and v is not None}
        return cls(base_url=base, model=model, api_key=key, **rest)


@dataclass
class Stats:
    requests: int = 0  # HTTP requests sent, retries included
    cached: int = 0  # takeaways answered from the cache
    generated: int = 0  # takeaways whose cards came from the model this run
    fallbacks: int = 0  # takeaways that kept their rule-made cards
    retry_later: int = 0  # of those, the ones whose request failed for now (asked again next build)


Progress = Callable[[int, int], None]


def cache_key(settings: Settings, takeaway_text: str, title: str) -> str:
    data = "\x1f".join((settings.model, PROMPT_VERSION, title, takeaway_text))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]


def refine(
    crop: Harvest, settings: Settings, cache_path: Path, *, progress: Progress | None = None
) -> tuple[Harvest, Stats]:
    """Replace each takeaway's rule-made cards with the model's, where the model's pass the checks."""
    _check(settings)
    groups: dict[int, list[cards_stage.Card]] = {}
    for card in crop.cards:
        groups.setdefault(id(card.takeaway), []).append(card)
    cache, warnings = _load_cache(cache_path, settings.api_key)
    warnings[:0] = crop.warnings
    stats = Stats()
    keys = {
        g: cache_key(settings, made[0].takeaway.full_text, made[0].takeaway.note.title) for g, made in groups.items()
    }
    # A card the author wrote is kept as written: the model is not asked about it.
    written = {g for g, made in groups.items() if made[0].takeaway.card is not None}
    misses = [g for g in groups if g not in written and keys[g] not in cache]
    stats.cached = len(groups) - len(written) - len(misses)
    budget = len(misses) if settings.max_requests is None else max(0, settings.max_requests)
    asked, skipped = misses[:budget], misses[budget:]
    client = _Client(settings, stats)
    answers = dict(zip(asked, client.ask_all([_messages(groups[g]) for g in asked], progress), strict=True))
    for group, answer in answers.items():
        if "content" in answer:  # never a failure: the next build asks again
            cache[keys[group]] = answer
    made: list[cards_stage.Card] = []
    for group, rule_cards in groups.items():
        takeaway = rule_cards[0].takeaway
        if group in written:
            made.extend(rule_cards)
            continue
        kept = [c for c in rule_cards if c.role != cards_stage.STAND_IN]  # a stand-in never reaches a deck
        found = answers.get(group) or cache.get(keys[group])
        if found is None:  # over the request budget
            stats.fallbacks += 1
            stats.retry_later += 1
            made.extend(kept)
            continue
        cards, problem = _validated(found, rule_cards, settings.api_key)
        if problem:
            stats.fallbacks += 1
            stats.retry_later += "error" in found
            warnings.append(SourceProblem(takeaway.note.path, takeaway.line, f"{problem}; kept the rule-made cards"))
            made.extend(kept)
        else:
            stats.generated += group in asked
            made.extend(cards)
    if skipped:
        first = groups[skipped[0]][0].takeaway
        warnings.append(
            SourceProblem(
                first.note.path,
                first.line,
                f"request budget of {settings.max_requests} spent; {len(skipped)} takeaways kept their rule-made cards",
            )
        )
    _save_cache(cache_path, cache)
    return replace(crop, cards=tuple(made), warnings=tuple(warnings)), stats


def _check(settings: Settings) -> None:
    """Settings no request could be sent with: an error before any is tried (never a failure per
    takeaway, and never the key in a message)."""
    if not re.match(r"https?://[^/?#\s]", settings.base_url, re.IGNORECASE):
        raise LLMError(f"the language model's base URL must start with http:// or https:// (not {settings.base_url!r})")
    key = settings.api_key
    if re.search(r"[\x00-\x1f\x7f]", key) or not key.isascii():
        raise LLMError(
            "the API key (FLASHGEN_LLM_API_KEY or OPENAI_API_KEY) holds a line break, a control or a "
            "non-ASCII character, which no HTTP header can carry; check the variable"
        )


def _messages(cards: Sequence[cards_stage.Card]) -> list[dict[str, str]]:
    takeaway = cards[0].takeaway
    note = takeaway.note
    context = {
        "title": note.title,
        "author": note.author,
        "type": note.kind,
        "section": takeaway.section,
        "takeaway": takeaway.full_text,
    }
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": json.dumps(context, ensure_ascii=False)},
    ]


def _validated(
    answer: dict[str, Any], rule_cards: Sequence[cards_stage.Card], api_key: str = ""
) -> tuple[tuple[cards_stage.Card, ...], str]:
    """The model's cards for one takeaway, or why they cannot be used."""
    if "error" in answer:
        return (), f"the language model failed ({answer['error']})"
    takeaway = rule_cards[0].takeaway
    drafts, problem = _drafts(answer.get("content", ""))
    if problem:
        return (), f"the language model's answer {problem}"
    source = plain(takeaway.full_text)
    cue = takeaway.note.title
    kept: list[Draft] = []
    rejected: list[str] = []
    for draft in drafts:
        failed = _failed_checks(draft, source, cue)
        if failed:
            rejected.append(",".join(failed))
        else:
            kept.append(draft)
    if not any(d.kind == "basic" for d in kept):
        reason = f"failed the checks ({'; '.join(rejected)})" if rejected else "had no question/answer card"
        return (), f"the language model's cards {reason}"
    made = cards_stage.from_drafts(rule_cards[0], number_roles(kept))
    # What is checked is what Anki will get: the fields once rendered and sanitised.
    if any(_holds_key(text, api_key) for c in made for text in (c.front, c.back, c.extra)):
        return (), "the language model's answer held the API key; refused"
    cards = tuple(c for c in made if c.kind == "basic" or render.cloze_numbers(c.front))
    if not any(c.kind == "basic" for c in cards):
        return (), "the language model's cards were empty once sanitised"
    return cards, ""


_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::[^}]*)?\}\}", re.DOTALL)


def _drafts(content: str) -> tuple[list[Draft], str]:
    text = content.strip()
    fenced = re.match(r"^```(?:json)?\s*(.*?)\s*```$", text, re.DOTALL)
    if fenced:
        text = fenced.group(1)
    try:
        data = json.loads(text)
    except ValueError:
        return [], "was not JSON"
    if not isinstance(data, dict) or not isinstance(data.get("cards"), list) or not data["cards"]:
        return [], "did not match the schema (no cards list)"
    drafts: list[Draft] = []
    for item in data["cards"][:3]:
        if not isinstance(item, dict) or item.get("type") not in ("qa", "cloze"):
            return [], "did not match the schema (a card without a type)"
        if item["type"] == "qa":
            question, answer = item.get("question"), item.get("answer")
            if (
                not isinstance(question, str)
                or not isinstance(answer, str)
                or not question.strip()
                or not answer.strip()
            ):
                return [], "did not match the schema (a question without an answer)"
            drafts.append(Draft("basic", "llm:qa", question.strip(), answer.strip()))
        else:
            text_ = item.get("text")
            if not isinstance(text_, str) or not _CLOZE.search(text_):
                return [], "did not match the schema (a cloze without a deletion)"
            drafts.append(Draft("cloze", "llm:cloze", text_.strip()))
    return drafts, ""


def _failed_checks(draft: Draft, source: str, cue: str) -> list[str]:
    if draft.kind == "basic":
        probes = [quality.Probe("qa", plain(draft.front), plain(draft.back), source, cue, draft.role)]
    else:
        probes = []
        for match in _CLOZE.finditer(draft.front):
            number = match.group(1)
            prompt = _CLOZE.sub(_hide(number), draft.front)
            probes.append(quality.Probe("cloze", plain(prompt), plain(match.group(2)), source, cue, draft.role))
    failed = {name for p in probes for name in quality.judge(p).failed if name in REQUIRED_CHECKS}
    if any(quality.unfaithful(p) for p in probes):
        failed.add("faithful")
    return sorted(failed)


def _hide(number: str) -> Callable[[re.Match[str]], str]:
    """A substitution showing every deletion but `number`, which becomes the gap."""

    def shown(match: re.Match[str]) -> str:
        return "[...]" if match.group(1) == number else match.group(2)

    return shown


class _Client:
    """Sends chat-completion requests: in parallel, with timeouts, retries and backoff."""

    def __init__(self, settings: Settings, stats: Stats) -> None:
        self.settings = settings
        self.stats = stats
        self.lock = threading.Lock()
        self.unreachable: str = ""

    def ask_all(self, conversations: Sequence[list[dict[str, str]]], progress: Progress | None) -> list[dict[str, Any]]:
        if not conversations:
            return []
        done = 0
        answers: list[dict[str, Any]] = []

        def one(messages: list[dict[str, str]]) -> dict[str, Any]:
            nonlocal done
            result = self.ask(messages)
            with self.lock:
                done += 1
                if progress:
                    progress(done, len(conversations))
            return result

        with ThreadPoolExecutor(max(1, self.settings.concurrency)) as pool:
            answers = list(pool.map(one, conversations))
        if self.unreachable and all("error" in a for a in answers):
            raise LLMError(
                f"cannot reach the language model at {self.settings.base_url} ({self.unreachable}); "
                "is the server (for example Ollama) running? Set FLASHGEN_LLM_BASE_URL or llm_base_url to change it"
            )
        return answers

    def ask(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        """One takeaway's answer: {"content": ...} or {"error": ...}, with no trace of the API key."""
        answer = self._ask(messages)
        key = self.settings.api_key
        if "content" in answer and _holds_key(answer["content"], key):
            return {"error": "the answer held the API key; refused"}
        if "error" in answer and key:
            answer["error"] = str(answer["error"]).replace(key, "[API key]")
        return answer

    def _ask(self, messages: list[dict[str, str]]) -> dict[str, Any]:
        body = {
            "model": self.settings.model,
            "messages": messages,
            "temperature": 0,
            "response_format": {"type": "json_schema", "json_schema": {"name": "flashcards", "schema": SCHEMA}},
        }
        payload = json.dumps(body).encode("utf-8")
        headers = {"Content-Type": "application/json"}
        if self.settings.api_key:
            headers["Authorization"] = f"Bearer {self.settings.api_key}"
        url = self.settings.base_url.rstrip("/") + "/chat/completions"
        timeout = self.settings.timeout
        last = "no answer"
        for attempt in range(self.settings.retries):
            if self.unreachable:
                return {"error": "unreachable", "transient": True}
            with self.lock:
                self.stats.requests += 1
            try:
                reply = json.loads(_post(url, payload, headers, timeout).decode("utf-8"))
                content = reply["choices"][0]["message"]["content"]
                if not isinstance(content, str):
                    raise ValueError("no message content")
                return {"content": content}
            except urllib.error.HTTPError as exc:
                exc.close()
                last = f"HTTP {exc.code}"
                if 300 <= exc.code < 400:
                    return {
                        "error": f"the server answered HTTP {exc.code}, a redirect; flashgen follows none (the API "
                        "key would go with it): set the base URL to the address the server means"
                    }
                if exc.code not in (408, 409, 429) and exc.code < 500:
                    return {"error": last}  # the model refuses this request: asking again will not help
                _sleep(attempt, exc.headers.get("Retry-After"))
            except TimeoutError:
                last = f"timed out after {timeout:g} s"
                _sleep(attempt, None)
            except urllib.error.URLError as exc:
                reason = getattr(exc, "reason", exc)
                if isinstance(reason, ConnectionRefusedError) or "refused" in str(reason).lower():
                    self.unreachable = str(reason)
                    return {"error": "unreachable", "transient": True}
                last = f"{reason}"
                _sleep(attempt, None)
            except http.client.HTTPException as exc:  # a broken answer: cut short, a bad status line
                last = f"the answer broke off ({type(exc).__name__})"
                _sleep(attempt, None)
            except OSError as exc:
                last = str(exc.strerror or exc)
                _sleep(attempt, None)
            except (ValueError, KeyError, IndexError, TypeError):
                return {"error": "the reply was not a chat completion"}
        return {"error": f"{last} after {self.settings.retries} attempts", "transient": True}


def _holds_key(text: str, key: str) -> bool:
    """Whether `text` shows the API key: as it is, once HTML or JSON escapes are read, or once
    markup is stripped."""
    if not key:
        return False
    if key in text or key in html.unescape(text) or key in render.plain_text(text):
        return True
    try:
        decoded = json.loads(text)
    except ValueError:
        return False
    return any(_holds_key(s, key) for s in _strings(decoded))


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(k)
            yield from _strings(v)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _post(url: str, payload: bytes, headers: dict[str, str], timeout: float) -> bytes:
    """POST `payload` and read the whole answer within `timeout` seconds overall; redirects are
    not followed (urllib would send the Authorization header to wherever they point)."""
    deadline = _Deadline(timeout)
    opener = urllib.request.build_opener(_HTTP(deadline), _HTTPS(deadline), _NoRedirect())
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    with deadline:
        try:
            with opener.open(request, timeout=timeout) as response:
                body: bytes = response.read()
        except (OSError, http.client.HTTPException):
            if deadline.expired:
                raise TimeoutError from None
            raise
    if deadline.expired:
        raise TimeoutError
    return body


class _Deadline:
    """Shuts the sockets of one request down when its time is up: a socket timeout bounds each
    read, not the sum of them, so a server sending one byte a second would otherwise never end."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.001), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._timer.cancel()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shut(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shut(sock)


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], deadline: _Deadline) -> type[http.client.HTTPConnection]:
    class Watched(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            deadline.watch(self.sock)

    return Watched


class _HTTP(urllib.request.HTTPHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPConnection, self.deadline), req)


class _HTTPS(urllib.request.HTTPSHandler):
    def __init__(self, deadline: _Deadline) -> None:
        super().__init__()
        self.deadline = deadline

    def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        return self.do_open(_watched(http.client.HTTPSConnection, self.deadline), req)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx answer is then an HTTPError


def _sleep(attempt: int, retry_after: str | None) -> None:
    try:
        wait = float(retry_after) if retry_after is not None else 0.5 * 2**attempt
    except ValueError:
        wait = 0.5 * 2**attempt
    time.sleep(min(wait, 10.0) + random.uniform(0, 0.05))


def _load_cache(path: Path, api_key: str = "") -> tuple[dict[str, dict[str, Any]], list[SourceProblem]]:
    """The cached answers, each an object with the model's text; what is damaged is left out,
    with a warning naming the file (and the line of the entry)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, []
    except (OSError, ValueError) as exc:
        return {}, [SourceProblem(path, 0, f"cannot read the language model's cache ({exc}); ignored")]
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return {}, [SourceProblem(path, 0, "damaged language model cache (not JSON); ignored, answers are asked again")]
    if not isinstance(data, dict) or data.get("format") != CACHE_FORMAT or not isinstance(data.get("responses"), dict):
        return {}, [SourceProblem(path, 0, f"not a language model cache of format {CACHE_FORMAT}; ignored")]
    kept: dict[str, dict[str, Any]] = {}
    problems: list[SourceProblem] = []
    for key, entry in data["responses"].items():
        if isinstance(entry, dict) and set(entry) == {"content"} and isinstance(entry["content"], str):
            if _holds_key(entry["content"], api_key):
                problems.append(SourceProblem(path, _line_of(text, key), "an answer held the API key; removed"))
            else:
                kept[key] = {"content": entry["content"]}
        elif not (isinstance(entry, dict) and "error" in entry):  # a failure an older flashgen kept
            problems.append(SourceProblem(path, _line_of(text, key), f"damaged entry {key!r} ignored"))
    return kept, problems


def _line_of(text: str, key: str) -> int:
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 0


def _save_cache(path: Path, cache: dict[str, dict[str, Any]]) -> None:
    text = json.dumps({"format": CACHE_FORMAT, "responses": cache}, indent=1, sort_keys=True, ensure_ascii=False)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text + "\n")
    except OSError:
        pass
