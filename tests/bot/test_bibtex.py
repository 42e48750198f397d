"""BibTeX entries (``bot/ui/bibtex.py``): valid for a real parser, authors in order, TeX specials and
accents escaped, arXiv fields set, keys stable."""

from __future__ import annotations

from datetime import date

import bibtexparser
import pytest
from bibtexparser.middlewares import LatexDecodingMiddleware

from bot.models import PaperRef
from bot.ui.bibtex import bibtex_entry, bibtex_file, bibtex_key, latex_escape

HOSTILE = PaperRef(
    "2608.00001",
    "50% of {LLMs} & $\\alpha$-agents_v2 ~ #1 ^ back\\slash — “quoted”",
    ("Łukasz Müller", "José García-Núñez", "Zoë Ørsted", "Ahmet Çelik", "Dvořák, Jr.", "Jane Anderson", "李 小龙"),
    date(2025, 12, 31),
)


def parse(text: str) -> bibtexparser.Library:
    library = bibtexparser.parse_string(text)
    assert library.failed_blocks == [], [b.error for b in library.failed_blocks]
    return library


def test_an_entry_parses_back_with_every_field() -> None:
    [entry] = parse(bibtex_entry(HOSTILE)).entries
    assert entry.entry_type == "misc" and entry.key == "muller2025llms"
    assert entry["eprint"] == "2608.00001" and entry["archivePrefix"] == "arXiv"
    assert entry["url"] == "https://arxiv.org/abs/2608.00001" and entry["year"] == "2025"


def test_latex_specials_and_accents_decode_back_to_the_original_text() -> None:
    decoded = bibtexparser.parse_string(bibtex_entry(HOSTILE), append_middleware=[LatexDecodingMiddleware()])
    [entry] = decoded.entries
    names = [n.strip() for n in entry["author"].split(" and ")]
    assert names[:4] == ["Łukasz Müller", "José García-Núñez", "Zoë Ørsted", "Ahmet Çelik"]  # the paper's order
    assert names[4:] == ["Dvořák, Jr.", "Jane Anderson", "李 小龙"]
    title = entry["title"]
    for piece in ("50% of {LLMs} & $\\alpha$-agents_v2", "#1", "back\\slash"):
        assert piece in title.replace("{{", "{").replace("}}", "}") or piece.replace("\\", "") in title


@pytest.mark.parametrize(
    ("text", "escaped"),
    [
        ("a & b", "a \\& b"),
        ("100%", "100\\%"),
        ("x_1", "x\\_1"),
        ("$x$", "\\$x\\$"),
        ("#{}", "\\#\\{\\}"),
        ("é", "{\\'e}"),
        ("ç", "{\\c{c}}"),
        ("ß", "{\\ss}"),
        ("a\nb   c", "a b c"),
    ],
)
def test_latex_escape(text: str, escaped: str) -> None:
    assert latex_escape(text) == escaped


def test_keys_are_stable_and_unique_in_a_file() -> None:
    a = PaperRef("2608.00001", "Speculative decoding", ("Ada Lovelace",), date(2026, 8, 1))
    b = PaperRef("2608.00002", "Speculative sampling", ("Ada Lovelace",), date(2026, 8, 2))
    c = PaperRef("2608.00003", "The Art of Scaling", ("Alan Turing",), None, date(2026, 8, 3))
    assert bibtex_key(a) == "lovelace2026speculative" == bibtex_key(a)
    assert bibtex_key(c) == "turing2026art"  # "The" is no key word; the year from the day
    keys = [e.key for e in parse(bibtex_file([a, b, c, a])).entries]  # a listed twice: one entry
    assert keys == ["lovelace2026speculative_2608.00001", "lovelace2026speculative_2608.00002", "turing2026art"]
    assert [e.key for e in parse(bibtex_file([a, c])).entries] == ["lovelace2026speculative", "turing2026art"]


def test_a_paper_known_only_by_id_still_gives_a_citable_entry() -> None:
    [entry] = parse(bibtex_entry(PaperRef("2401.04088"))).entries
    assert entry.key == "arxiv2024" and entry["title"] == "{arXiv 2401.04088}" and entry["year"] == "2024"
    assert "author" not in entry.fields_dict
