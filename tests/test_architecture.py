"""The dependency rules of the layout, checked on the source: a new import that breaks them fails here.

* ``bot/`` never imports ``handlers`` (listeners depend on the core, not the reverse), except the
  composition root (``bot/app.py``, ``bot/cli.py``).
* Slack's libraries stay at the edges: ``slack_sdk`` in ``bot/slack.py`` and ``bot/app.py``,
  ``slack_bolt`` in ``bot/app.py``, ``bot/cli.py`` and ``bot/server.py``; ``httpx`` only in ``bot/hf.py``.
* The pure core (parsing, matching, ranking, rendering, schedules) imports no I/O library at all.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py"}
ALLOWED = {
    "slack_sdk": {"bot/slack.py", "bot/app.py"},
    "slack_bolt": {"bot/app.py", "bot/cli.py", "bot/server.py"},
    "httpx": {"bot/hf.py"},
}
PURE = [
    "bot/papers.py",
    "bot/filters/__init__.py",
    "bot/filters/_terms.py",
    "bot/filters/_query.py",
    "bot/filters/_match.py",
    "bot/filter_edits.py",
    "bot/filter_replies.py",
    "bot/render.py",
    "bot/schedule.py",
    "bot/filters/selection.py",
    "bot/commands.py",
    "bot/settings_view.py",
    "bot/settings_form.py",
    "bot/access.py",
    "bot/replies.py",
    "bot/search.py",
    "bot/render_search.py",
    "bot/archive_files.py",
    "bot/filters/run_matcher.py",
]
IO_MODULES = {"slack_sdk", "slack_bolt", "httpx", "tinydb", "apscheduler", "socket", "subprocess", "requests"}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


BOT_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "bot").rglob("*.py"))


@pytest.mark.parametrize("name", BOT_FILES)
def test_core_modules_respect_the_dependency_rules(name: str) -> None:
    roots = imported_roots(ROOT / name)
    if name not in COMPOSITION_ROOT:
        assert "handlers" not in roots, f"{name} imports handlers: bot/ must not depend on listeners"
    for library, allowed in ALLOWED.items():
        if library in roots:
            assert name in allowed, f"{name} imports {library}; only {sorted(allowed)} may"


@pytest.mark.parametrize("name", [p for p in PURE if (ROOT / p).exists()])
def test_pure_modules_do_no_io(name: str) -> None:
    assert not imported_roots(ROOT / name) & IO_MODULES


HANDLER_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "handlers").rglob("*.py"))


@pytest.mark.parametrize("name", HANDLER_FILES)
def test_handlers_reach_slack_only_through_the_poster(name: str) -> None:
    """Listeners ack, parse, call and reply: the Web API is ``SlackPoster``'s job (errors as ``SlackError``)."""
    source = (ROOT / name).read_text()
    assert "slack_sdk" not in imported_roots(ROOT / name), f"{name} imports slack_sdk"
    assert ".client." not in source and "WebClient" not in source, f"{name} calls the Web API client directly"
