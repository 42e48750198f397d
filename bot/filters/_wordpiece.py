"""BERT's uncased WordPiece tokenizer: text -> token ids the encoder was trained on. Pure.

It must split text exactly as the model's own tokenizer did in training, or the vectors drift: the
steps are BERT's (``BertNormalizer`` + ``BertPreTokenizer`` + ``WordPiece`` in Hugging Face
``tokenizers``): drop control characters, surround CJK ideographs with spaces, lowercase, strip
accents, split on whitespace and on every punctuation character, then split each word into the
longest vocabulary pieces from the left (``##`` marks a piece inside a word), ``[UNK]`` for a word
that cannot be split or is longer than 100 characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence

__all__ = ["WordPiece"]

_MAX_WORD_CHARS = 100


def _is_punctuation(ch: str) -> bool:
    code = ord(ch)
    # ASCII symbols count as punctuation for BERT even where Unicode says "symbol" ($, +, ^, `).
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(code: int) -> bool:
    return (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0x20000 <= code <= 0x2A6DF
        or 0x2A700 <= code <= 0x2B73F
        or 0x2B740 <= code <= 0x2B81F
        or 0x2B820 <= code <= 0x2CEAF
        or 0xF900 <= code <= 0xFAFF
        or 0x2F800 <= code <= 0x2FA1F
    )


def _normalise(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if code == 0 or code == 0xFFFD:
            continue
        category = unicodedata.category(ch)
        if ch in "\t\n\r" or category == "Zs":
            out.append(" ")
        elif category.startswith("C"):
            continue
        elif _is_cjk(code):
            out.append(f" {ch} ")
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out).lower())
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


def _words(text: str) -> Iterable[str]:
    for chunk in text.split():
        start = 0
        for i, ch in enumerate(chunk):
            if _is_punctuation(ch):
                if i > start:
                    yield chunk[start:i]
                yield ch
                start = i + 1
        if start < len(chunk):
            yield chunk[start:]


class WordPiece:
    """A vocabulary (one token per line, the line number is its id) and the splitting rules above."""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self._ids = {token: i for i, token in enumerate(vocabulary)}
        for special in ("[UNK]", "[CLS]", "[SEP]"):
            if special not in self._ids:
                raise ValueError(f"the vocabulary has no {special} token")
        self.unk, self.cls, self.sep = self._ids["[UNK]"], self._ids["[CLS]"], self._ids["[SEP]"]
        self.pad = self._ids.get("[PAD]", 0)

    def __len__(self) -> int:
        return len(self._ids)

    def encode(self, text: str, max_length: int) -> list[int]:
        """``[CLS] pieces… [SEP]``, at most ``max_length`` ids (the text is cut, the markers kept)."""
        ids = [self.cls]
        budget = max_length - 1
        for word in _words(_normalise(text)):
            ids.extend(self._pieces(word))
            if len(ids) >= budget:
                del ids[budget:]
                break
        ids.append(self.sep)
        return ids

    def _pieces(self, word: str) -> list[int]:
        if len(word) > _MAX_WORD_CHARS:
            return [self.unk]
        out, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                found = self._ids.get(piece)
                if found is not None:
                    out.append(found)
                    break
                end -= 1
            else:
                return [self.unk]
            start = end
        return out
