"""BibTeX entries for saved and posted papers. Pure.

What a reference manager needs from an arXiv paper, as arXiv's own export writes it: ``@misc`` with
``title``, ``author`` (in the paper's order, joined by ``and``), ``year``, ``eprint`` (the id without
version), ``archivePrefix = {arXiv}`` and ``url``. Text is made safe for (La)TeX: the ten special
characters are escaped and accented letters become their TeX accent commands (``é`` -> ``{\\'e}``),
so the file works with classic BibTeX as well as with Biber; letters TeX has no command for (Greek,
CJK) stay as UTF-8, which Biber and ``inputenc`` read.

Keys are stable: made from the paper alone (first author's family name, year, first significant
title word: ``lovelace2026speculative``), so exporting again gives the same keys and citations in a
document keep working. Two different papers of one file that would share a key both get their arXiv
id appended (``lovelace2026speculative_2608.00001``), the only case where a key depends on the file.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date

from bot.feed.papers import ARXIV_ID_RE
from bot.models import PaperRef

__all__ = ["bibtex_entry", "bibtex_file", "bibtex_key", "latex_escape"]

_SPECIAL = {
    "\\": r"\textbackslash{}",
    "{": r"\{",
    "}": r"\}",
    "$": r"\$",
    "&": r"\&",
    "%": r"\%",
    "#": r"\#",
    "_": r"\_",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
}
# Combining marks (what NFD splits an accented letter into) and TeX's accent command for each.
_ACCENTS = {
    "\u0300": "`",
    "\u0301": "'",
    "\u0302": "^",
    "\u0303": "~",
    "\u0304": "=",
    "\u0306": "u",
    "\u0307": ".",
    "\u0308": '"',
    "\u030a": "r",
    "\u030b": "H",
    "\u030c": "v",
    "\u0323": "d",
    "\u0327": "c",
    "\u0328": "k",
    "\u0331": "b",
}
_LETTER_ACCENTS = frozenset("`'^~=.\"")  # written \'e; the others take a group: \c{c}
# Letters that are not a base letter plus an accent.
_LETTERS = {
    "ø": r"{\o}",
    "Ø": r"{\O}",
    "æ": r"{\ae}",
    "Æ": r"{\AE}",
    "œ": r"{\oe}",
    "Œ": r"{\OE}",
    "ß": r"{\ss}",
    "ł": r"{\l}",
    "Ł": r"{\L}",
    "å": r"{\aa}",
    "Å": r"{\AA}",
    "ı": r"{\i}",
    "đ": r"{\dj}",
    "Đ": r"{\DJ}",
    "–": "--",
    "—": "---",
    "“": "``",
    "”": "''",
    "‘": "`",
    "’": "'",
}
_STOP_WORDS = frozenset(
    {"a", "an", "the", "on", "of", "in", "for", "to", "and", "with", "from", "by", "via", "is", "are", "towards"}
    | {"toward", "beyond", "when", "what", "how", "why", "do", "does"}
)
_ASCII_WORD = re.compile(r"[a-z0-9]+")


def latex_escape(text: str) -> str:
    """``text`` safe inside a BibTeX field: specials escaped, accents as TeX commands, whitespace folded."""
    out: list[str] = []
    for char in unicodedata.normalize("NFC", " ".join(text.split())):
        if char in _SPECIAL:
            out.append(_SPECIAL[char])
        elif char in _LETTERS:
            out.append(_LETTERS[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(_accented(char))
    return "".join(out)


def _accented(char: str) -> str:
    """``é`` -> ``{\\'e}``, ``ç`` -> ``{\\c{c}}``, ``ǘ`` -> ``{\\'{\\"u}}``; other characters unchanged."""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if not marks or not all(m in _ACCENTS for m in marks) or not base.isascii():
        return char
    text = r"\i" if base == "i" and marks else base  # a dotless i under the accent, as TeX wants
    for mark in marks:
        command = _ACCENTS[mark]
        text = f"\\{command}{text}" if command in _LETTER_ACCENTS and len(text) == 1 else f"\\{command}{{{text}}}"
    return "{" + text + "}"


def _ascii_fold(text: str) -> str:
    """Lower-case ASCII letters and digits of ``text`` (``Łukasz Müller`` -> ``lukaszmuller``)."""
    folded = "".join(_LETTERS.get(c, c) for c in text).replace("{", "").replace("}", "").replace("\\", "")
    plain = unicodedata.normalize("NFKD", folded).encode("ascii", "ignore").decode().lower()
    return "".join(_ASCII_WORD.findall(plain))


def _year(paper: PaperRef) -> str:
    """The arXiv v1 year; else the Daily-Papers day's; else the id's (``2608.…`` -> 2026)."""
    when: date | None = paper.published or paper.day
    if when is not None:
        return str(when.year)
    match = ARXIV_ID_RE.match(paper.key)
    return f"20{paper.key[:2]}" if match else ""


def bibtex_key(paper: PaperRef) -> str:
    """``lovelace2026speculative``: first author's family name, year, first significant title word."""
    family = _ascii_fold(paper.authors[0].split()[-1]) if paper.authors and paper.authors[0].split() else ""
    words = [w for w in (_ascii_fold(w) for w in paper.title.split()) if w.isalnum() and not w.isdigit()]
    words = [w for w in words if w not in _STOP_WORDS]
    key = f"{family or 'arxiv'}{_year(paper)}{words[0] if words else ''}"
    return key[:60] or _ascii_fold(paper.key) or "paper"


def _author(name: str) -> str:
    """One author as BibTeX reads names: braced when its own text would be misread (a comma, "and")."""
    escaped = latex_escape(name)
    if "," in name or re.search(r"\band\b", name, re.IGNORECASE):
        return "{" + escaped + "}"
    return escaped


def bibtex_entry(paper: PaperRef, key: str | None = None) -> str:
    """One ``@misc`` entry; ``key`` overrides the paper's own (a collision in a file)."""
    fields = [("title", "{" + latex_escape(paper.title or f"arXiv {paper.key}") + "}")]
    if paper.authors:
        fields.append(("author", " and ".join(_author(name) for name in paper.authors)))
    if year := _year(paper):
        fields.append(("year", year))
    if ARXIV_ID_RE.match(paper.key):
        fields += [
            ("eprint", paper.key),
            ("archivePrefix", "arXiv"),
            ("url", f"https://arxiv.org/abs/{paper.key}"),
        ]
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{key or bibtex_key(paper)},\n{body}\n}}\n"


def bibtex_file(papers: Iterable[PaperRef], *, header: Sequence[str] = ()) -> str:
    """A whole ``.bib``: one entry per paper (each paper once, in the order given), unique keys.

    ``header`` lines become ``%`` comments at the top (what the file is, when it was made)."""
    unique = list({paper.key: paper for paper in papers}.values())
    counts = Counter(bibtex_key(paper) for paper in unique)
    lines = [f"% {line}" for line in header]
    entries = []
    for paper in unique:
        key = bibtex_key(paper)
        entries.append(bibtex_entry(paper, f"{key}_{paper.key}" if counts[key] > 1 else key))
    return "\n".join(lines) + ("\n\n" if lines else "") + "\n".join(entries)
