"""Prompt templates and user-facing messages, kept as data files beside this module.

``messages()`` returns the fixed sentences the service says (declines, notices)
per language from ``messages.toml``; ``template(name)`` returns a prompt
template's text.  Nothing here formats or sends anything.

Leaves out: filling templates (done by the generators in ``qa``).
"""

from __future__ import annotations

import functools
import tomllib
from importlib import resources


@functools.lru_cache(maxsize=1)
def messages() -> dict[str, dict[str, str]]:
    """``{message name: {language: text}}`` for en, zh-Hans and zh-Hant."""
    data = resources.files(__package__).joinpath("messages.toml").read_text(encoding="utf-8")
    return tomllib.loads(data)


def message(name: str, language: str) -> str:
    texts = messages()[name]
    return texts.get(language, texts["en"])


@functools.cache
def template(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
