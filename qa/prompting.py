"""The answer prompt: numbered passages packed to a token budget, as chat messages.

Passages go in retrieval order, each as ``[n] title (date, outlet)`` followed
by its text (``prompts/passage.txt``), while they fit ``QA_LLM_CONTEXT_TOKENS``
(tiktoken cl100k, the chunker's own count); a first passage longer than the
whole budget is cut to it.  The system message (``prompts/answer_system.txt``)
holds the rules, the answer's language and the grounding policy
(``grounding_strict.txt`` or ``grounding_general.txt``, with the exact decline
sentence and general-knowledge heading the verifier recognises); the user
message (``answer_user.txt``) holds the passages and the question.  The
templates are LangChain ``ChatPromptTemplate``s, built on first use.

Leaves out: sending the messages (``qa.llm``) and checking the reply (``qa.verify``).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from index.chunk import count_tokens, encoding
from prompts import message, template
from qa.answer import Citation
from qa.query import Query
from qa.retrieve import Hit

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

Grounding = Literal["strict", "general"]
NO_PASSAGES = "(none)"


class AnswerPrompt:
    def __init__(self, grounding: Grounding = "strict", context_tokens: int = 3000) -> None:
        self.grounding = grounding
        self.context_tokens = context_tokens

    def build(self, query: Query, hits: list[Hit]) -> tuple[list[BaseMessage], list[Citation]]:
        """The chat messages, and the passages they number as citable `Citation`s."""
        packed = pack(hits, self.context_tokens)
        sources = [passage_citation(n, hit) for n, hit in enumerate(packed, 1)]
        blocks = [_passage_block(c, hit) for c, hit in zip(sources, packed, strict=True)]
        language = query.language
        rules = template(f"grounding_{self.grounding}.txt").format(
            decline=message("declined", language),
            general_heading=message("general_heading", language),
        )
        messages = _answer_template().format_messages(
            language=message("language_name", language),
            grounding=rules.rstrip(),
            passages="\n".join(blocks) if blocks else NO_PASSAGES,
            question=query.text,
        )
        return messages, sources


def pack(hits: list[Hit], budget: int) -> list[Hit]:
    """The leading hits whose passages fit ``budget`` tokens (at least the first, cut)."""
    packed: list[Hit] = []
    used = 0
    for hit in hits:
        cost = count_tokens(hit.chunk.text) + _HEADER_TOKENS
        if used + cost > budget:
            if not packed:
                packed.append(_truncated(hit, budget - _HEADER_TOKENS))
            break
        packed.append(hit)
        used += cost
    return packed


def passage_citation(n: int, hit: Hit) -> Citation:
    """A passage as a citation of itself: whole passage, no highlights yet."""
    return Citation.of_passage(n, hit.chunk, hit.document, hit.score)


_HEADER_TOKENS = 40


def _passage_block(citation: Citation, hit: Hit) -> str:
    meta = ", ".join(x for x in (citation.date, citation.outlet) if x) or "undated"
    return template("passage.txt").format(
        n=citation.n, title=citation.title, meta=meta, text=hit.chunk.text.strip()
    )


def _truncated(hit: Hit, tokens: int) -> Hit:
    ids = encoding().encode(hit.chunk.text, disallowed_special=())
    text = encoding().decode(ids[: max(tokens, 1)]).rstrip("\ufffd")
    chunk = replace(hit.chunk, text=text, end=hit.chunk.start + len(text))
    return replace(hit, chunk=chunk)


@functools.cache
def _answer_template() -> ChatPromptTemplate:
    from langchain_core.prompts import ChatPromptTemplate

    return ChatPromptTemplate.from_messages(
        [
            ("system", template("answer_system.txt")),
            ("human", template("answer_user.txt")),
        ]
    )
