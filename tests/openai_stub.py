"""A tiny OpenAI-compatible chat server for tests and smoke runs (not an LLM).

``POST /v1/chat/completions`` (plain and ``stream: true``) and ``GET /v1/models``.
The model name picks a behaviour:

* ``stub-echo``: answers from the prompt's first passage: its first sentence
  and ``[1]`` (for an English answer, a short English sentence quoting the
  passage's title and opening); for a traditional-Chinese answer it answers
  in simplified Chinese on purpose (the drift article-qa must correct);
  rewrite requests get the last question back;
* ``stub-500``: HTTP 500; ``stub-garbage``: 200 with a body that is not JSON;
  ``stub-slow``: waits ``SLOW_SECONDS`` before answering.

Run it as a process with ``python -m tests.openai_stub --port 8011``; in
tests, `running_stub()` serves it from a thread on a free port.  It is a
protocol stub for smoke checks, not a substitute for a real LLM server.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SLOW_SECONDS = 3.0
_PASSAGE = re.compile(r"^\[1\] (?P<title>.*?) \(.*?\)\n(?P<text>.+?)$", re.M)
_SENTENCE = re.compile(r".+?[。！？!?]")


def reply_for(body: dict) -> str:
    messages = body.get("messages", [])
    system = next((m["content"] for m in messages if m.get("role") == "system"), "")
    user = next((m["content"] for m in reversed(messages) if m.get("role") == "user"), "")
    if "Rewrite the last question" in user:
        return user.rsplit("Last question:", 1)[-1].strip()
    match = _PASSAGE.search(user)
    if match is None:
        return "The articles do not contain an answer to this question."
    first = _SENTENCE.match(match["text"])
    sentence = first.group() if first else match["text"][:60]
    if "Write the whole answer in English" in system:
        title, quote = match["title"][:8], sentence[:10]
        return f"According to the first passage, the article “{title}” reports that “{quote}” [1]."
    return f"{sentence}[1]"  # simplified, even when traditional was asked for


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "stub-echo", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("content-length", 0))
        body = json.loads(self.rfile.read(length) or b"{}")
        model = body.get("model", "")
        if model == "stub-500":
            self._json(500, {"error": {"message": "the model crashed", "type": "server_error"}})
            return
        if model == "stub-garbage":
            self._raw(200, b"<html>this is not json", "application/json")
            return
        if model == "stub-slow":
            time.sleep(SLOW_SECONDS)
        text = reply_for(body)
        if body.get("stream"):
            self._stream(model, text)
        else:
            self._json(200, _completion(model, text))

    def _stream(self, model: str, text: str) -> None:
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("connection", "close")
        self.end_headers()
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
        try:
            for i, piece in enumerate(pieces):
                delta = {"role": "assistant", "content": piece} if i == 0 else {"content": piece}
                self._event(_chunk(model, delta, None))
            self._event(_chunk(model, {}, "stop"))
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass
        self.close_connection = True

    def _event(self, data: dict) -> None:
        self.wfile.write(f"data: {json.dumps(data, ensure_ascii=False)}\n\n".encode())
        self.wfile.flush()

    def _json(self, status: int, data: dict) -> None:
        self._raw(status, json.dumps(data, ensure_ascii=False).encode(), "application/json")

    def _raw(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("content-type", content_type)
        self.send_header("content-length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def _completion(model: str, text: str) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }


def _chunk(model: str, delta: dict, finish: str | None) -> dict:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # clients that time out and hang up are part of the tests


@contextlib.contextmanager
def running_stub() -> Iterator[str]:
    """Serve the stub on a free loopback port; yields its base URL (``…/v1``)."""
    server = _Server(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8011)
    args = parser.parse_args()
    server = _Server(("127.0.0.1", args.port), _Handler)
    print(f"OpenAI-compatible stub on http://127.0.0.1:{args.port}/v1", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
