"""The app manifest (``manifest.json``, what an operator pastes into api.slack.com) declares what the
code uses: the slash command, every event a listener subscribes to, and every bot scope the Web API
methods the code calls require (from Slack's method catalog in ``../shared``). A listener added
without its event, or a method without its scope, would work in tests and fail in a real workspace."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from bot.ui.ids import SLASH_COMMAND
from tests.conftest import SHARED

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = json.loads((ROOT / "manifest.json").read_text())
CATALOG = SHARED / "specs" / "slack" / "web-api-method-catalog" / "methods"
SOURCES = sorted([*(ROOT / "bot").rglob("*.py"), *(ROOT / "handlers").rglob("*.py")])


def _calls() -> list[ast.Call]:
    out = []
    for path in SOURCES:
        out.extend(n for n in ast.walk(ast.parse(path.read_text())) if isinstance(n, ast.Call))
    return out


def _decorator_args(name: str) -> set[str]:
    """String arguments of ``app.<name>("…")`` anywhere in the code."""
    found = set()
    for call in _calls():
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == name and call.args:
            arg = call.args[0]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                found.add(arg.value)
            elif isinstance(arg, ast.Name) and arg.id == "SLASH_COMMAND":
                found.add(SLASH_COMMAND)
    return found


def _web_api_methods() -> set[str]:
    """``client.chat_postMessage(…)`` or ``self._call("chat_postMessage", …)`` -> ``chat.postMessage``."""
    methods = set()
    for call in _calls():
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "_call" and call.args:  # SlackPoster._call("views_open")
            name = call.args[0]
            if isinstance(name, ast.Constant) and isinstance(name.value, str) and "_" in name.value:
                family, _, method = name.value.partition("_")
                methods.add(f"{family}.{method}")
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute | ast.Name):
            owner = func.value.attr if isinstance(func.value, ast.Attribute) else func.value.id
            if owner == "client" and func.attr == "files_upload_v2":  # slack_sdk's three steps, two of them methods
                methods |= {"files.getUploadURLExternal", "files.completeUploadExternal"}
            elif owner == "client" and "_" in func.attr:
                family, _, method = func.attr.partition("_")
                methods.add(f"{family}.{method}")
    return methods


def test_the_slash_command_is_declared() -> None:
    assert _decorator_args("command") == {SLASH_COMMAND}
    assert [c["command"] for c in MANIFEST["features"]["slash_commands"]] == [SLASH_COMMAND]


def test_every_shortcut_a_listener_handles_is_declared() -> None:
    from bot.ui.ids import SAVE_SHORTCUT

    declared = {(s["callback_id"], s["type"]) for s in MANIFEST["features"].get("shortcuts", [])}
    assert (SAVE_SHORTCUT, "message") in declared
    assert {callback for callback, _ in declared} == {SAVE_SHORTCUT}


def test_every_event_a_listener_handles_is_subscribed() -> None:
    handled = _decorator_args("event")
    assert handled, "no event listeners found: the scan is broken"
    assert handled <= set(MANIFEST["settings"]["event_subscriptions"]["bot_events"])
    if "app_home_opened" in handled:
        assert MANIFEST["features"]["app_home"]["home_tab_enabled"]


def test_interactivity_is_on_when_the_code_listens_for_actions_or_views() -> None:
    assert _decorator_args("view") or any(
        isinstance(c.func, ast.Call) and isinstance(c.func.func, ast.Attribute) and c.func.func.attr == "action"
        for c in _calls()
    )
    assert MANIFEST["settings"]["interactivity"]["is_enabled"]


def test_every_web_api_method_called_has_its_bot_scope() -> None:
    if not CATALOG.is_dir():
        pytest.skip(f"Slack's method catalog is not at {CATALOG} (../shared is absent on a user's clone)")
    methods = {m for m in _web_api_methods() if (CATALOG / f"{m}.json").exists()}  # not our HF client's
    assert {"chat.postMessage", "views.open", "auth.test"} <= methods, f"the scan found {sorted(methods)}"
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    missing = {}
    for method in sorted(methods):
        spec = json.loads((CATALOG / f"{method}.json").read_text())
        bot_scopes = [s["name"] for s in spec.get("scopes", {}).get("bot", [])]
        if bot_scopes and not set(bot_scopes) & declared:  # any one of a method's scopes is enough
            missing[method] = bot_scopes
    assert missing == {}


def test_add_to_slack_asks_for_exactly_the_scopes_the_manifest_declares() -> None:
    """The install page lists, and the OAuth flow requests, the manifest's bot scopes: no more, no fewer."""
    from bot.web.pages import BOT_SCOPES

    assert [name for name, _why in BOT_SCOPES] == MANIFEST["oauth_config"]["scopes"]["bot"]
    assert all(len(why) > 10 for _name, why in BOT_SCOPES)  # each one says why


EVENTS_SPEC = SHARED / "specs" / "slack" / "slack-api-specs" / "events-api" / "slack_events_api_async_v1.json"


def test_every_event_a_listener_handles_has_its_scope() -> None:
    """Slack's Events API catalog names the scope each event needs (``link_shared``: ``links:read``)."""
    if not EVENTS_SPEC.exists():
        pytest.skip(f"Slack's events catalog is not at {EVENTS_SPEC} (../shared is absent on a user's clone)")
    topics = json.loads(EVENTS_SPEC.read_text())["topics"]
    declared = set(MANIFEST["oauth_config"]["scopes"]["bot"])
    missing = {}
    for event in sorted(_decorator_args("event")):
        needed = topics.get(event.replace("_", "."), {}).get("subscribe", {}).get("x-scopes-required", [])
        if needed and not set(needed) & declared:
            missing[event] = needed
    assert missing == {}


def test_link_cards_are_declared_for_every_domain_the_code_recognises() -> None:
    from bot.unfurl.links import paper_id_of

    domains = MANIFEST["features"]["unfurl_domains"]
    assert {"links:read", "links:write"} <= set(MANIFEST["oauth_config"]["scopes"]["bot"])
    for url in (
        "https://arxiv.org/abs/2608.12345",
        "https://huggingface.co/papers/2608.12345",
        "https://hf.co/papers/2608.12345",
    ):
        assert paper_id_of(url) == "2608.12345"
        assert url.split("/")[2] in domains


def test_the_messages_tab_is_on_since_the_bot_writes_to_dms() -> None:
    """``.bib`` exports (and some confirmations) go to the person's DM with the bot; Slack refuses
    those with ``messages_tab_disabled`` unless the App Home's Messages tab is on. Read-only: people
    cannot write to the bot there."""
    assert "conversations.open" in _web_api_methods()
    home = MANIFEST["features"]["app_home"]
    assert home["messages_tab_enabled"] and home["messages_tab_read_only_enabled"]
