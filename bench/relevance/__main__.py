"""``python -m bench.relevance``: how well topic filters find what a team means, on judged days.

The judged set (``filters.json`` and ``judgments/<filter id>.jsonl``) was written by reading every
paper of the five recorded Hugging Face days in ``../shared/fixtures/hf`` against 33 filters a
research team would follow, before any matcher ran on them. Each (filter, paper) is ``must`` (the
team wants it), ``ok`` (fine either way), ``no`` or ``never`` (a false friend: same words, other
meaning), and each must/ok says how the paper expresses the topic (``evidence``: its own words,
another form or order, a synonym, a specific kind, meaning only, or an organization).

It prints, for each matcher (plain substring as other paper bots do, the word-level matcher, and the
word-level matcher with the semantic extra when installed):

* recall: the share of ``must`` papers matched;
* precision: the share of matched papers that are ``must`` or ``ok``;
* forbidden: matched ``never`` papers (and how many filters had one);

overall, per evidence kind (recall) and, with ``--per-filter``, per filter. ``--misses`` lists the
``must`` papers a matcher missed and the papers it matched wrongly, to study, not to tune against.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.feed.papers import Paper, parse_daily_list
from bot.filters import ChannelFilter, FilterIndex, parse_filter

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
EVIDENCE = ("words", "form", "synonym", "specific", "meaning", "org")


def shared_dir() -> Path:
    return Path(os.environ.get("PAPERS_BOT_SHARED_DIR") or REPO.parent / "shared")


@dataclass
class Judged:
    filter_id: str
    text: str
    labels: dict[tuple[str, str], str] = field(default_factory=dict)  # (day, paper id) -> label
    evidence: dict[tuple[str, str], str] = field(default_factory=dict)


def load_judged() -> list[Judged]:
    out = []
    for spec in json.loads((HERE / "filters.json").read_text()):
        path = HERE / "judgments" / f"{spec['id']}.jsonl"
        if not path.exists():
            continue
        judged = Judged(spec["id"], spec["filter"])
        for line in path.read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                key = (row["day"], row["paper"])
                judged.labels[key] = row["label"]
                judged.evidence[key] = row.get("evidence", "-")
        out.append(judged)
    return out


def load_days(folder: Path) -> dict[str, list[Paper]]:
    days = {}
    for path in sorted((folder / "fixtures" / "hf").glob("daily_papers_*.json")):
        day = path.stem.removeprefix("daily_papers_")
        days[day] = parse_daily_list(json.loads(path.read_text()))
    return days


# A matcher: (filter text, the day's papers) -> ids of the papers it lets through -> why.
Matcher = Callable[[str, Sequence[Paper]], dict[str, str]]


def substring_matcher(text: str, papers: Sequence[Paper]) -> dict[str, str]:
    """What most paper bots do: a case-insensitive substring of the topic in the title or abstract."""
    f = parse_filter(text)
    out = {}
    for p in papers:
        body = f"{p.title} {p.abstract}".casefold()
        org = f"{p.organization} {p.organization_id}".casefold()
        if f.topics and not any(t.casefold() in body for t in f.topics):
            continue
        if any(t.casefold() in body for t in f.excluded):
            continue
        if f.orgs and not any(o.casefold() in org for o in f.orgs):
            continue
        out[p.id] = "substring"
    return out


def index_matcher(related: object | None) -> Matcher:
    def match(text: str, papers: Sequence[Paper]) -> dict[str, str]:
        f: ChannelFilter = parse_filter(text)
        index = FilterIndex({"c": f}, related=related) if related is not None else FilterIndex({"c": f})
        return {p.id: result.explain() for p, result in index.match(papers)["c"]}

    return match


@dataclass
class Score:
    must: int = 0
    found: int = 0
    matched: int = 0
    good: int = 0
    forbidden: int = 0
    by_evidence: Counter[str] = field(default_factory=Counter)
    found_by_evidence: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    wrong: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in ("must", "found", "matched", "good", "forbidden"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.by_evidence.update(other.by_evidence)
        self.found_by_evidence.update(other.found_by_evidence)

    @property
    def recall(self) -> float:
        return self.found / self.must if self.must else 1.0

    @property
    def precision(self) -> float:
        return self.good / self.matched if self.matched else 1.0


def score(judged: Judged, days: dict[str, list[Paper]], matcher: Matcher) -> Score:
    s = Score()
    titles = {(day, p.id): p.title for day, papers in days.items() for p in papers}
    for day, papers in days.items():
        matched = matcher(judged.text, papers)
        for p in papers:
            key = (day, p.id)
            label = judged.labels.get(key, "no")
            hit = p.id in matched
            if label == "must":
                s.must += 1
                s.by_evidence[judged.evidence[key]] += 1
                if hit:
                    s.found += 1
                    s.found_by_evidence[judged.evidence[key]] += 1
                else:
                    s.misses.append(f"{p.id} [{judged.evidence[key]}] {titles[key][:90]}")
            if hit:
                s.matched += 1
                if label in ("must", "ok"):
                    s.good += 1
                else:
                    s.wrong.append(f"{p.id} [{label}] {titles[key][:70]}  <- {matched[p.id][:80]}")
                if label == "never":
                    s.forbidden += 1
    return s


def matchers(names: Iterable[str]) -> dict[str, Matcher]:
    out: dict[str, Matcher] = {}
    for name in names:
        if name == "substring":
            out[name] = substring_matcher
        elif name == "word":
            out[name] = index_matcher(None)
        elif name.partition("@")[0] == "semantic":  # semantic@0.5: at another threshold
            from bot.filters.semantic import load_related

            threshold = float(name.partition("@")[2]) if "@" in name else None
            related = load_related(threshold=threshold)
            if related is None:
                print("semantic: the `semantic` extra is not installed; skipped", file=sys.stderr)
                continue
            out[name] = index_matcher(related)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.relevance", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--matchers", default="substring,word,semantic", help="comma list; semantic@0.45 sets the threshold"
    )
    parser.add_argument("--per-filter", action="store_true")
    parser.add_argument("--misses", default="", help="a matcher name: list its misses and wrong matches")
    args = parser.parse_args(argv)
    folder = shared_dir()
    if not (folder / "fixtures" / "hf").is_dir():
        print(f"{folder}/fixtures/hf is absent: the judged days live there (set PAPERS_BOT_SHARED_DIR)")
        return 0
    days, judged = load_days(folder), load_judged()
    print(f"{len(judged)} filters x {sum(map(len, days.values()))} papers over {len(days)} days\n")
    print("| matcher | recall | precision | forbidden (filters) | " + " | ".join(EVIDENCE) + " |")
    print("|---|---|---|---|" + "---|" * len(EVIDENCE))
    per_filter: dict[str, dict[str, Score]] = defaultdict(dict)
    for name, matcher in matchers(args.matchers.split(",")).items():
        total = Score()
        bad_filters = 0
        for j in judged:
            s = score(j, days, matcher)
            per_filter[j.filter_id][name] = s
            total.add(s)
            bad_filters += s.forbidden > 0
        cells = [
            f"{total.found_by_evidence[e]}/{total.by_evidence[e]}" if total.by_evidence[e] else "-" for e in EVIDENCE
        ]
        print(
            f"| {name} | {total.recall:.2f} ({total.found}/{total.must}) | {total.precision:.2f} "
            f"({total.good}/{total.matched}) | {total.forbidden} ({bad_filters}) | " + " | ".join(cells) + " |"
        )
    if args.per_filter:
        print("\n| filter | " + " | ".join(f"{n} R / P / F" for n in next(iter(per_filter.values()), {})) + " |")
        for j in judged:
            scores = per_filter[j.filter_id]
            cells = [f"{s.recall:.2f} / {s.precision:.2f} / {s.forbidden}" for s in scores.values()]
            print(f"| `{j.text}` ({scores and next(iter(scores.values())).must} must) | " + " | ".join(cells) + " |")
    if args.misses:
        for j in judged:
            s = per_filter[j.filter_id].get(args.misses)
            if s is None or not (s.misses or s.wrong):
                continue
            print(f"\n## {j.text}")
            print("\n".join([*(f"  missed {m}" for m in s.misses), *(f"  wrong  {w}" for w in s.wrong)]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
