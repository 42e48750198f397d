"""The dependency rules of the layout, per package, checked on the source: a new import that breaks
them fails here.

* ``bot/`` never imports ``handlers`` (listeners depend on the core, not the reverse), except the
  composition root (``bot/app.py``, ``bot/cli.py``).
* Slack's libraries stay at the edge: ``slack_sdk`` only in ``bot/slack/`` and ``bot/app.py``,
  ``slack_bolt`` only in ``bot/app.py``, ``bot/cli.py``, ``bot/slack/server.py`` and ``bot/slack/oauth.py``
  (Bolt's OAuth flow); ``httpx`` only in ``bot/feed/hf.py`` and ``bot/feed/arxiv.py`` (the two upstream
  clients). Handlers reach Slack through ``SlackPoster``, never the Web API client.
* The pure packages (``ui``, ``filters``, ``web``, and ``channels`` and ``search`` but for their use cases
  ``editor.py`` and ``finder.py``) import no I/O library, and from ``bot`` only each other and the plain records
  (``models``, ``errors``, ``feed.papers``).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COMPOSITION_ROOT = {"bot/app.py", "bot/cli.py"}
ALLOWED = {
    "slack_sdk": ("bot/slack/", "bot/app.py"),
    "slack_bolt": ("bot/app.py", "bot/cli.py", "bot/slack/server.py", "bot/slack/oauth.py"),
    "httpx": ("bot/feed/hf.py", "bot/feed/arxiv.py"),
}
PURE_PACKAGES = ("bot/ui", "bot/filters", "bot/web")
PURE_FILES = (
    *("bot/feed/papers.py", "bot/feed/archive_files.py", "bot/models.py", "bot/errors.py"),
    # bot/channels/ is pure but for editor.py, the configuration use case, which writes through the Store
    *("bot/channels/edits.py", "bot/channels/access.py", "bot/channels/schedule.py", "bot/channels/timezones.py"),
    "bot/search/query.py",  # bot/search/finder.py is the search use case: it calls Hugging Face
    "bot/unfurl/links.py",  # what a link_shared event names; bot/unfurl/unfurler.py is the use case
    "bot/posting/follow_up_plan.py",  # the follow-up rules; bot/posting/follow_ups.py is the use case
    # bot/team/ is pure but for library.py, the team layer's use case, which writes through the Store
    *("bot/team/links.py", "bot/team/picks.py"),
)
PURE_MAY_IMPORT = (
    "bot.ui",
    "bot.filters",
    "bot.web",
    "bot.channels",
    "bot.search",
    "bot.models",
    "bot.errors",
    "bot.feed.papers",
    "bot.store.ledger_rules",  # the ledger's rules are pure too (written once for every backend)
)
IO_MODULES = {
    "slack_sdk",
    "slack_bolt",
    "httpx",
    "tinydb",
    "apscheduler",
    "socket",
    "subprocess",
    "requests",
    "sqlite3",
}
PURE = sorted(
    [p.relative_to(ROOT).as_posix() for pkg in PURE_PACKAGES for p in (ROOT / pkg).rglob("*.py")] + list(PURE_FILES)
)


def imported_modules(path: Path) -> set[str]:
    """Every module an absolute import names (``from bot.ui.render import x`` -> ``bot.ui.render``)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


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
            assert name.startswith(allowed), f"{name} imports {library}; only {list(allowed)} may"


@pytest.mark.parametrize("name", PURE)
def test_pure_modules_do_no_io_and_depend_only_on_the_pure_core(name: str) -> None:
    assert not imported_roots(ROOT / name) & IO_MODULES, f"{name} imports an I/O library"
    core = {m for m in imported_modules(ROOT / name) if m == "bot" or m.startswith("bot.")}
    impure = sorted(m for m in core if not m.startswith(PURE_MAY_IMPORT))
    assert impure == [], f"{name} (pure) imports {impure}"


def test_every_package_says_what_it_is_for() -> None:
    for init in sorted((ROOT / "bot").glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 30, f"{init.relative_to(ROOT)} needs a docstring naming its job"


HANDLER_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "handlers").rglob("*.py"))


@pytest.mark.parametrize("name", HANDLER_FILES)
def test_handlers_reach_slack_only_through_the_poster(name: str) -> None:
    """Listeners ack, parse, call and reply: the Web API is ``SlackPoster``'s job (errors as ``SlackError``)."""
    source = (ROOT / name).read_text()
    assert "slack_sdk" not in imported_roots(ROOT / name), f"{name} imports slack_sdk"
    assert ".client." not in source and "WebClient" not in source, f"{name} calls the Web API client directly"


# A channel id is unique only within its workspace: code that reads or writes a channel's records
# names the workspace. Listeners do it by working through their workspace's view (``Services.for_team``,
# a ``TeamStore``), and so do the use cases they call; everything else in bot/ passes ``team_id=``.
CHANNEL_KEYED = {"get_channel", "update_channel", "posted_keys", "get_run", "get_entry", "get_runs", "open_runs"}
GIVEN_A_VIEW = ("bot/store/", "bot/channels/editor.py", "bot/search/finder.py")


@pytest.mark.parametrize("name", [n for n in BOT_FILES if not n.startswith(GIVEN_A_VIEW)])
def test_the_core_names_the_workspace_of_every_channel_it_touches(name: str) -> None:
    tree = ast.parse((ROOT / name).read_text())
    unnamed = [
        f"line {node.lineno}: .{node.func.attr}(…)"
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in CHANNEL_KEYED
        and not any(k.arg == "team_id" for k in node.keywords)
    ]
    assert unnamed == [], f"{name} reads or writes a channel without its workspace: {unnamed}"


@pytest.mark.parametrize("name", [n for n in HANDLER_FILES if "@app." in (ROOT / n).read_text()])
def test_every_listener_module_serves_a_request_as_its_workspace(name: str) -> None:
    """A listener that is handed ``services`` must narrow them to the request's workspace first."""
    source = (ROOT / name).read_text()
    assert "for_team(" in source, f"{name} registers listeners but never calls services.for_team(…)"
