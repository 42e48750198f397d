"""Slash-command routes called directly with an in-memory store: fast checks of what a user reads and
what is stored, beside the HTTP scenarios (tests/scenarios) that prove the same through signed
requests. Nothing here opens a socket: these routes reach neither Slack nor Hugging Face."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.channels.access import ConfigAccess
from bot.config import Settings
from bot.errors import NotAllowedError, UserInputError
from bot.services import Services, build_services
from bot.store.tinydb_store import TinyStore
from bot.ui.commands import parse_command
from handlers.commands import ROUTES as COMMAND_ROUTES
from handlers.filters import ROUTES as FILTER_ROUTES
from handlers.routing import Invocation, Reply

ROUTES = {**COMMAND_ROUTES, **FILTER_ROUTES}
NOW = datetime(2026, 8, 21, 9, 0, tzinfo=UTC)
UNREACHABLE = "http://127.0.0.1:9/"  # discard port: a route that called out would fail loudly


@pytest.fixture
def services() -> Iterator[Services]:
    settings = Settings(slack_api_url=UNREACHABLE, hf_endpoint=UNREACHABLE.rstrip("/"), timezone="Europe/Berlin")
    built = build_services(settings, store=TinyStore(None), clock=lambda: NOW, related=None)
    built.home_team = "T0001"  # what auth.test would have said
    yield built.for_team("T0001")  # what every listener gets: its workspace's view
    built.close()


def run(services: Services, text: str, *, user: str = "U0001", channel: str = "C0001") -> Reply:
    command = parse_command(text)
    return ROUTES[command.name](services, Invocation(channel, user, "T0001", command))


def test_follow_stores_the_topics_and_says_what_changed(services: Services) -> None:
    reply = run(services, "follow LLM agents, reward model, -survey")
    assert "LLM agents" in reply.text and "reward model" in reply.text
    stored = services.store.get_channel("C0001")
    assert stored is not None and stored.filter_text == "LLM agents, reward model, -survey"
    assert stored.timezone == "Europe/Berlin" and stored.team_id == "T0001"
    assert [h.user_id for h in stored.history] == ["U0001"]


def test_unfollow_names_what_was_not_followed_and_changes_nothing(services: Services) -> None:
    run(services, "follow robotics")
    before = services.store.get_channel("C0001")
    with pytest.raises(UserInputError, match="diffusion"):
        run(services, "unfollow diffusion")
    assert services.store.get_channel("C0001") == before


def test_set_related_off_is_stored_and_shown_in_topics(services: Services) -> None:
    run(services, "follow LLM agents")
    run(services, "set related off")
    stored = services.store.get_channel("C0001")
    assert stored is not None and not stored.related
    assert "Related papers" in run(services, "topics").text


def test_exclude_then_include_round_trips(services: Services) -> None:
    run(services, "follow diffusion")
    run(services, "exclude medical, survey")
    assert services.store.get_channel("C0001").filter_text == "diffusion, -medical, -survey"
    run(services, "include survey")
    assert services.store.get_channel("C0001").filter_text == "diffusion, -medical"


def test_a_typo_in_a_setting_is_answered_with_a_suggestion(services: Services) -> None:
    with pytest.raises(UserInputError, match="Did you mean `max-papers`"):
        run(services, "set max-paper 5")
    assert services.store.get_channel("C0001") is None


def test_only_listed_people_may_change_a_filter_when_admins_are_set(services: Services) -> None:
    services.access = ConfigAccess(("U0ADMIN",), lambda _user: False)
    with pytest.raises(NotAllowedError):
        run(services, "follow robotics", user="U0001")
    assert services.store.get_channel("C0001") is None
    run(services, "follow robotics", user="U0ADMIN")
    assert services.store.get_channel("C0001").filter_text == "robotics"
    assert "robotics" in run(services, "topics", user="U0001").text  # reading stays open to all


def test_status_of_a_channel_never_subscribed_says_how_to_start(services: Services) -> None:
    assert "/papers subscribe" in run(services, "status").text


@pytest.mark.parametrize("channel", ["", "general", "#general", "C0001; DROP", "c0001"])
def test_an_edit_that_names_no_real_channel_is_refused_and_writes_nothing(services: Services, channel: str) -> None:
    with pytest.raises(UserInputError, match="which channel"):
        services.editor.follow_topics(channel, "U0001", ["robotics"])
    assert services.store.channels() == []


def test_a_full_disk_refuses_the_change_says_so_and_keeps_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from bot.errors import StoreFullError
    from bot.ui.errors import error_text

    settings = Settings(slack_api_url=UNREACHABLE, hf_endpoint=UNREACHABLE.rstrip("/"))
    db = tmp_path / "papers-bot.json"
    built = build_services(settings, store=TinyStore(db), clock=lambda: NOW, related=None)
    try:
        run(built, "follow robotics")
        before = db.read_bytes()

        def disk_full(self: object, chunks: list[bytes]) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr("bot.store.tinydb_store.AtomicJSONStorage._replace_with", disk_full)
        with pytest.raises(StoreFullError) as refused:
            run(built, "follow diffusion")
        assert "disk" in (error_text(refused.value) or "") and "Nothing was changed" in (
            error_text(refused.value) or ""
        )
        assert db.read_bytes() == before
        assert built.store.get_channel("C0001").filter_text == "robotics"
    finally:
        built.close()
