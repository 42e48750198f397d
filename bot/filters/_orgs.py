"""``org:`` matching on word tokens. Pure.

Hugging Face organizations have handles like ``AlibabaTongyiLab`` or ``alibaba-multimodal-industrial-ai``
and full names like "Alibaba Tongyi Lab"; a team types ``org:alibaba``. So both the handle (camelCase,
hyphens and underscores split) and the full name become word tokens, and the filter matches when its
words are a run of whole tokens of either, compared without spaces (``DeepMind`` = ``deepmind``;
``org:ali`` is not Alibaba), or the name of a company whose labs
publish under another name (``ORG_FAMILIES``: Qwen and Tongyi are Alibaba, DeepMind is Google).
"""

from __future__ import annotations

import re

from bot.filters._terms import words_of
from bot.filters._vocab import ORG_FAMILIES

__all__ = ["org_keys", "org_query"]

_CAMEL_RE = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+|[^\W\d_]+")
_FAMILY_OF = {"".join(words_of(member)): company for company, members in ORG_FAMILIES.items() for member in members}


def _tokens(name: str) -> list[str]:
    out: list[str] = []
    for part in re.split(r"[\s\-_./]+", name):
        if part:
            out.extend(" ".join(words_of(p)) for p in _CAMEL_RE.findall(part))
    return [t for t in out if t]


def org_query(value: str) -> str:
    """The key of an ``org:`` value: its word tokens run together (``google-deepmind``, ``Google DeepMind``
    and ``GoogleDeepMind`` are one key)."""
    return "".join(_tokens(value))


def org_keys(handle: str, fullname: str) -> set[str]:
    """Every run of whole tokens of the handle and the full name, run together, and the companies they
    belong to."""
    keys: set[str] = set()
    for name in (handle, fullname):
        tokens = _tokens(name)
        for i in range(len(tokens)):
            for j in range(i + 1, len(tokens) + 1):
                keys.add("".join(tokens[i:j]))
    keys.update(company for key in list(keys) if (company := _FAMILY_OF.get(key)))
    return keys
