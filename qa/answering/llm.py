"""The LLM edge: a LangChain chat model for any OpenAI-compatible server, and its two uses.

`chat_model` builds ``langchain_openai.ChatOpenAI`` for a base URL, model name
and optional key, with separate connect and read timeouts and bounded
retries; it is imported only when an LLM is configured (it takes over a
second to import).  `LLMGenerator` sends the answer prompt (``qa.answering.prompting``)
and returns, or streams, the model's raw reply; `LLMRewriter` asks it for a
standalone version of a follow-up question (``prompts/rewrite.txt``, the
conversation fenced and its tags escaped like the answer prompt's passages).  Any
failure — connection refused, timeout, an error status, an empty or
malformed reply, one of only citation markers ("[1][3]") — raises
`GenerationError` from the generator, while the rewriter falls back to the
heuristic with a notice.  A ``<think>…</think>``
preamble (reasoning models served raw) is dropped.  Any LangChain
``BaseChatModel`` works, which is how tests use LangChain's fake chat models.

Leaves out: checking the reply (``qa.citations.verify``) and falling back to extractive
answers (``qa.service``).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from index.text.textnorm import to_simplified, to_traditional
from prompts import message, template
from qa.answer import Draft, GenerationError, Notice, Sources
from qa.answering.conversation import Message, Rewrite, Rewriter
from qa.answering.prompting import AnswerPrompt, escape_tags
from qa.citations.markers import strip_markers
from qa.language import detect
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel
    from langchain_core.prompts import ChatPromptTemplate
    from pydantic import SecretStr

log = logging.getLogger("article_qa.llm")
_THINK = re.compile(r"^\s*<think>.*?</think>\s*", re.DOTALL)
_WORD = re.compile(r"[^\W_]", re.UNICODE)
MAX_TURN_CHARS = 400


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str
    api_key: SecretStr | None = None
    timeout: float = 60.0
    connect_timeout: float = 5.0
    max_retries: int = 1
    temperature: float = 0.0
    max_tokens: int = 800


def chat_model(config: LLMConfig) -> BaseChatModel:
    import openai
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=config.model,
        base_url=config.base_url,
        api_key=config.api_key or "not-needed",  # local servers accept any key
        # openai.Timeout is the timeout class of the HTTP library the installed client uses
        # (httpx for openai 1.x, httpx2 for 3.x); another library's class is refused.
        timeout=openai.Timeout(config.timeout, connect=config.connect_timeout),
        max_retries=config.max_retries,
        temperature=config.temperature,
        max_completion_tokens=config.max_tokens,
        stream_usage=False,
    )


class LLMGenerator:
    def __init__(self, model: BaseChatModel, prompt: AnswerPrompt) -> None:
        self.model = model
        self.prompt = prompt

    def generate(self, query: Query, hits: list[Hit]) -> Draft:
        messages, sources = self.prompt.build(query, hits)
        try:
            reply = self.model.invoke(messages)
        except Exception as exc:
            raise GenerationError(_describe(exc)) from exc
        return Draft(_with_words(_without_thinking(reply_text(reply))), sources, mode="llm")

    def stream(self, query: Query, hits: list[Hit]) -> Iterator[Sources | str | Draft]:
        messages, sources = self.prompt.build(query, hits)
        yield Sources(sources, "llm")
        chunks = iter(self.model.stream(messages))
        thinking = _ThinkFilter()
        parts: list[str] = []
        try:
            while (chunk := _next(chunks)) is not None:
                text = thinking.feed(reply_text(chunk, allow_empty=True))
                if text:
                    parts.append(text)
                    yield text
            if rest := thinking.rest():
                parts.append(rest)
                yield rest
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()  # stops the HTTP stream when the client has gone
        if not "".join(parts).strip():
            raise GenerationError("The model returned an empty reply.")
        yield Draft(_with_words("".join(parts)), sources, mode="llm")


class LLMRewriter:
    """Standalone follow-up questions from the LLM; the heuristic when it fails."""

    def __init__(self, model: BaseChatModel, fallback: Rewriter, history_messages: int = 6):
        self.model = model
        self.fallback = fallback
        self.history_messages = history_messages

    def rewrite(self, question: str, history: Sequence[Message]) -> Rewrite:
        recent = list(history)[-self.history_messages :] if self.history_messages else []
        if not any(turn.role == "user" for turn in recent):
            return self.fallback.rewrite(question, history)
        try:
            prompt = _rewrite_template().format_messages(
                history=_transcript(recent), question=escape_tags(question)
            )
            line = _standalone_line(reply_text(self.model.invoke(prompt)), question)
            return Rewrite(_in_script_of(question, line))
        except Exception as exc:
            log.warning("follow-up rewrite by the LLM failed (%s); using the heuristic", exc)
            notice = Notice(
                "rewrite_fallback", message("notice_rewrite_fallback", detect(question))
            )
            fallback = self.fallback.rewrite(question, history)
            return Rewrite(fallback.query, (*fallback.notices, notice))


def reply_text(reply: Any, *, allow_empty: bool = False) -> str:
    """The text of a chat message or chunk; `GenerationError` if there is none."""
    content = getattr(reply, "content", None)
    if isinstance(content, list):
        content = "".join(
            b if isinstance(b, str) else str(b.get("text", "")) if isinstance(b, dict) else ""
            for b in content
        )
    if not isinstance(content, str):
        raise GenerationError(f"The model's reply is malformed: {type(reply).__name__}.")
    if not allow_empty and not content.strip():
        raise GenerationError("The model returned an empty reply.")
    return content


class _ThinkFilter:
    """Drops a leading ``<think>…</think>`` block from a stream of text deltas."""

    def __init__(self) -> None:
        self.buffer: str | None = ""

    def feed(self, delta: str) -> str:
        if self.buffer is None:
            return delta
        self.buffer += delta
        head = self.buffer.lstrip()
        if "<think>".startswith(head) and len(head) < len("<think>"):
            return ""
        if head.startswith("<think>"):
            if "</think>" not in head:
                return ""
            head = head.split("</think>", 1)[1].lstrip()
        self.buffer = None
        return head

    def rest(self) -> str:
        """What is still held back when the stream ends (unless it is unfinished reasoning)."""
        held, self.buffer = self.buffer, None
        return "" if not held or held.lstrip().startswith("<think>") else held


def _next(chunks: Iterator[Any]) -> Any | None:
    try:
        return next(chunks)
    except StopIteration:
        return None
    except Exception as exc:
        raise GenerationError(_describe(exc)) from exc


def _without_thinking(text: str) -> str:
    stripped = _THINK.sub("", text, count=1)
    if not stripped.strip():
        raise GenerationError("The model returned only its reasoning, no answer.")
    return stripped


def _with_words(text: str) -> str:
    """``text``, unless it is only markers ("[1][3]": a small model's reply that says
    nothing), which is a failed generation.  A bare number ("3[3]") is an answer."""
    if not _WORD.search(strip_markers(text)):
        raise GenerationError(f"The model's reply has no words: {text[:80]!r}.")
    return text


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def _transcript(turns: list[Message]) -> str:
    lines = []
    for turn in turns:
        text = escape_tags(" ".join(strip_markers(turn.content).split()))
        if len(text) > MAX_TURN_CHARS:
            text = text[:MAX_TURN_CHARS] + "…"
        lines.append(f"{'User' if turn.role == 'user' else 'Assistant'}: {text}")
    return "\n".join(lines)


def _standalone_line(reply: str, question: str) -> str:
    lines = [line.strip() for line in _without_thinking(reply).splitlines() if line.strip()]
    line = re.sub(
        r"^(?:standalone question|rewritten question|question)\s*[:：]\s*", "", lines[0], flags=re.I
    )
    line = line.strip("\"'“”「」 ")
    if not line or len(line) > max(4 * len(question), 300):
        raise GenerationError("The rewrite is empty or too long.")
    return line


def _in_script_of(question: str, text: str) -> str:
    language = detect(question)
    if language == "zh-Hant":
        return to_traditional(text)
    return to_simplified(text) if language == "zh-Hans" else text


@functools.cache
def _rewrite_template() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages([("human", template("rewrite.txt"))])
