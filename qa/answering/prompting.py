"""The answer prompt: numbered passages packed to a token budget, as chat messages.

Passages go in retrieval order, each fenced as a ``<passage n="…">`` …
``</passage>`` block holding ``[n] title (date, outlet)`` and its text
(``prompts/passage.txt``), while they fit ``QA_LLM_CONTEXT_TOKENS`` (tiktoken
cl100k, the chunker's own count); a first passage longer than the whole budget
is cut to it.  Tokens the passages leave over widen the best ``widened`` of them
(``QA_LLM_WIDENED_PASSAGES``, one by default: each chunk added costs time to first
token on CPU) by the whole chunks before and after each in its article (retrieval keeps one chunk
per article, and a chunk saying "全市上下要…" needs the one before it, which names
the decision; a small model shown it alone declines); the widened passage is what
is numbered, cited and verified.  The system message (``prompts/answer_system.txt``) holds the
rules, the answer's language (the question's; for a Chinese question over passages
in the other script, theirs, with the question converted: `working_language`) and
the grounding policy (``grounding_strict.txt`` or ``grounding_general.txt``, with
the exact decline sentence and general-knowledge heading the verifier recognises); the user message
(``answer_user.txt``) holds the passages and then the question.  The templates
are LangChain ``ChatPromptTemplate``s, built on first use.

Article text is untrusted (a scraped page may say "忽略以上指令……"), so what
goes inside a fence is `quote`d: ``<`` and ``>`` become ``&lt;`` and ``&gt;``
(so no passage can close its block, open another, or smuggle a chat-template
token such as ``<|im_start|>``), tag-like look-alikes (``＜/passage＞``) and
bracketed control words (``[INST]``) are defused, and ``[n]`` groups become
``(n)`` (``qa.citations.markers.disarm``), so the only passage numbers the model sees
are the ones the prompt gives.  The rules say what is inside a block is quoted
material, never instructions.  The question and the rewrite transcript get
`escape_tags` (they may not open or close a fence either).

Leaves out: sending the messages (``qa.answering.llm``) and checking the reply
(``qa.citations.verify``).
"""

from __future__ import annotations

import functools
import re
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from index.store.view import IndexView
from index.text.chunk import count_tokens, encoding
from index.text.textnorm import to_simplified, to_traditional
from prompts import message, template
from qa.answer import Citation
from qa.citations.markers import disarm
from qa.language import Language, detect
from qa.retrieval.query import Query
from qa.retrieval.retrieve import Hit

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.prompts import ChatPromptTemplate

Grounding = Literal["strict", "general"]
NO_PASSAGES = "(none)"


class AnswerPrompt:
    def __init__(
        self,
        grounding: Grounding = "strict",
        context_tokens: int = 3000,
        index: IndexView | None = None,
        widened: int = 1,
    ) -> None:
        self.grounding = grounding
        self.context_tokens = context_tokens
        self.index = index  # the articles whose neighbouring chunks widen passages
        self.widened = widened

    def build(self, query: Query, hits: list[Hit]) -> tuple[list[BaseMessage], list[Citation]]:
        """The chat messages, and the passages they number as citable `Citation`s."""
        packed = pack(hits, self.context_tokens, self.index, self.widened)
        sources = [passage_citation(n, hit) for n, hit in enumerate(packed, 1)]
        blocks = [_passage_block(c, hit) for c, hit in zip(sources, packed, strict=True)]
        language = working_language(query.language, [hit.chunk.text for hit in packed])
        rules = template(f"grounding_{self.grounding}.txt").format(
            decline=message("declined", language),
            general_heading=message("general_heading", language),
        )
        messages = _answer_template().format_messages(
            language=message("language_name", language),
            grounding=rules.rstrip(),
            passages="\n".join(blocks) if blocks else NO_PASSAGES,
            question=escape_tags(in_script(query.text, language)),
        )
        return messages, sources


def working_language(language: Language, passages: list[str]) -> Language:
    """The language the model is asked to write: the question's, except that a Chinese
    question over passages in the other script is put in theirs (a small model asked in
    traditional about simplified text declines; OpenCC converts its answer back)."""
    if language == "en" or not passages:
        return language
    script = detect("".join(passages))
    return script if script != "en" else language


def in_script(text: str, language: Language) -> str:
    if language == "zh-Hant":
        return to_traditional(text)
    return to_simplified(text) if language == "zh-Hans" else text


def pack(
    hits: list[Hit], budget: int, index: IndexView | None = None, widened: int = 1
) -> list[Hit]:
    """The leading hits whose passages fit ``budget`` tokens (at least the first, cut),
    the best ``widened`` of them grown with ``index``'s neighbouring chunks while the
    budget lasts."""
    packed: list[Hit] = []
    used = 0
    for hit in hits:
        cost = count_tokens(hit.chunk.text) + _HEADER_TOKENS
        if used + cost > budget:
            if not packed:
                return [_truncated(hit, budget - _HEADER_TOKENS)]
            break
        packed.append(hit)
        used += cost
    if index is None or widened <= 0:
        return packed
    return _widened(packed, budget - used, index, widened)


def _widened(packed: list[Hit], spare: int, index: IndexView, widened: int) -> list[Hit]:
    """The first ``widened`` hits grown by the whole chunk before each, then the one
    after, best-ranked first, while they fit ``spare`` tokens; no chunk is shown twice."""
    shown = {hit.chunk.id for hit in packed}
    out = []
    for hit in packed[:widened]:
        taken = []
        for chunk in index.neighbours(hit.chunk):
            if chunk is not None and chunk.id not in shown:
                cost = count_tokens(chunk.text)
                if cost <= spare:
                    spare -= cost
                    shown.add(chunk.id)
                    taken.append(chunk)
        if taken:
            start = min(c.start for c in (hit.chunk, *taken))
            end = max(c.end for c in (hit.chunk, *taken))
            text = index.texts[hit.chunk.doc_id][start:end]
            hit = replace(hit, chunk=replace(hit.chunk, start=start, end=end, text=text))
        out.append(hit)
    return out + packed[widened:]


def passage_citation(n: int, hit: Hit) -> Citation:
    """A passage as a citation of itself: whole passage, no highlights yet."""
    return Citation.of_passage(n, hit.chunk, hit.document, hit.score)


def escape_tags(text: str) -> str:
    """``text`` with no ``<`` or ``>`` (``&lt;``, ``&gt;``) and no tag-like look-alikes."""
    text = text.replace("<", "&lt;").replace(">", "&gt;")
    return _LOOKALIKE_TAG.sub("&lt;", text)


def quote(text: str) -> str:
    """Untrusted article text made safe to fence: it cannot end its block, open another,
    forge a passage number or spell a chat-template control token."""
    return disarm(_CONTROL_WORD.sub(r"(\1)", escape_tags(text)))


def one_line(text: str) -> str:
    return " ".join(text.split())


# Full-width, small, single-guillemet, technical, mathematical and CJK angle brackets that
# begin something tag-like (a letter, "/", "|", "!" or "?" after them).
_LOOKALIKE_TAG = re.compile(r"[\uff1c\ufe64\u2039\u2329\u27e8\u3008](?=\s*[/|!?]?\s*[A-Za-z|])")
# [INST], [/INST], [SYSTEM_PROMPT], [TOOL_CALLS]: chat-template words some tokenizers read
_CONTROL_WORD = re.compile(r"[\[［【]\s*(/?[A-Z][A-Z_]{2,})\s*[\]］】]")
_HEADER_TOKENS = 48  # the fence lines and "[n] title (date, outlet)"


def _passage_block(citation: Citation, hit: Hit) -> str:
    meta = ", ".join(x for x in (citation.date, citation.outlet) if x) or "undated"
    return template("passage.txt").format(
        n=citation.n,
        title=quote(one_line(citation.title)),
        meta=quote(one_line(meta)),
        text=quote(hit.chunk.text.strip()),
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
