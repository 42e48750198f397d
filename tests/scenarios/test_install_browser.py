""" "Add to Slack" in a real browser: Debian's Chromium driven by Playwright against the running app and
the fake Slack (which serves the authorize page with Allow and Cancel).

What a person does and sees: open ``/``, press "Add to Slack" (from the keyboard), allow (or cancel)
on Slack's page, arrive at the success (or failure) page; and what is stored afterwards. The pages
are also checked as a phone shows them (360 pixels, no sideways scrolling) and for contrast. A
screenshot of every page goes to ``test-artifacts/screenshots/`` (``$PAPERS_BOT_TEST_ARTIFACTS``).

Playwright's own browser download cannot be reached from these machines, so the tests use
``/usr/bin/chromium`` (``apt-get install chromium``; ``.ci/run`` installs it) and skip, saying why,
where it is missing.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningBot
from tests.fakes import FakeSlack

CHROMIUM = Path(os.environ.get("PAPERS_BOT_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("PAPERS_BOT_TEST_ARTIFACTS") or Path(__file__).resolve().parents[2] / "test-artifacts")
PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}

playwright_api = pytest.importorskip("playwright.sync_api", reason="Playwright is in the dev extra")
if not CHROMIUM.exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)", allow_module_level=True)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as p:
        try:
            launched = p.chromium.launch(executable_path=str(CHROMIUM))
        except Exception as exc:  # e.g. a Chromium too old for this Playwright
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {exc}")
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    yield opened
    context.close()


def shot(page: Any, request: pytest.FixtureRequest, step: str) -> Path:
    """A full-page screenshot as a test artifact."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)
    path = ARTIFACTS / "screenshots" / f"{name}-{step}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 1000
    return path


def stored_token(bot: RunningBot, team_id: str) -> str | None:
    assert bot.services.oauth is not None
    found = bot.services.oauth.installations.find_bot(enterprise_id=None, team_id=team_id)
    return found.bot_token if found else None


def fits_a_phone(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def _luminance(rgb: tuple[float, ...]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(page: Any, selector: str) -> float:
    """WCAG contrast ratio of an element's text against the nearest opaque background, as rendered."""
    colours = page.evaluate(
        """(selector) => {
            const el = document.querySelector(selector);
            let bg = el, background = 'rgb(255, 255, 255)';
            while (bg) {
                const c = getComputedStyle(bg).backgroundColor;
                if (c && c !== 'transparent' && !c.startsWith('rgba(0, 0, 0, 0)')) { background = c; break; }
                bg = bg.parentElement;
            }
            return [getComputedStyle(el).color, background];
        }""",
        selector,
    )
    fg, bg = (tuple(float(x) for x in re.findall(r"[\d.]+", c)) for c in colours)
    light, dark = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def press_until_focused(page: Any, element_id: str, limit: int = 30) -> None:
    """Tab through the page as a keyboard user does, until ``element_id`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
    raise AssertionError(f"#{element_id} cannot be reached with the keyboard")


def test_add_to_slack_allow_installs_and_the_success_page_names_the_workspace(
    oauth_bot: RunningBot, fake_slack: FakeSlack, page: Any, request: pytest.FixtureRequest
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    page.goto(f"{oauth_bot.url}/")
    assert page.title() == "papers-bot: Add to Slack"
    assert page.get_by_role("heading", level=1).inner_text().startswith("papers-bot")
    assert page.get_by_role("main").count() == 1
    assert fits_a_phone(page)
    assert contrast(page, "main p") >= 7 and contrast(page, "#add-to-slack") >= 7
    shot(page, request, "1-landing-phone")
    page.set_viewport_size(DESKTOP)
    shot(page, request, "1-landing-desktop")
    page.set_viewport_size(PHONE)

    press_until_focused(page, "add-to-slack")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"  # the focused button shows where the keyboard is
    page.keyboard.press("Enter")

    page.wait_for_url(f"{fake_slack.base_url}/oauth/v2/authorize**")
    assert "Alpha Lab" in page.get_by_role("heading", level=1).inner_text()
    shot(page, request, "2-slack-authorize")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{oauth_bot.url}/slack/oauth_redirect**")
    assert page.get_by_role("heading", level=1).inner_text() == "papers-bot is installed in Alpha Lab"
    assert page.get_by_role("status").inner_text() == "Installation complete."
    assert "/papers subscribe" in page.get_by_role("main").inner_text()
    assert fits_a_phone(page)
    shot(page, request, "3-success")
    assert stored_token(oauth_bot, "T0A1") == fake_slack.tokens_of("T0A1")[0]
    assert oauth_bot.store.get_workspace("T0A1") is not None
    cookies = [c for c in page.context.cookies() if c["name"] == "slack-app-oauth-state"]
    assert cookies == []  # the one-time state is gone from the browser too


def test_cancel_shows_the_failure_page_stores_nothing_and_try_again_starts_over(
    oauth_bot: RunningBot, fake_slack: FakeSlack, page: Any, request: pytest.FixtureRequest
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    page.goto(f"{oauth_bot.url}/")
    page.get_by_role("link", name="Add to Slack").click()
    page.wait_for_url(f"{fake_slack.base_url}/oauth/v2/authorize**")
    page.get_by_role("button", name="Cancel").click()

    page.wait_for_url(f"{oauth_bot.url}/slack/oauth_redirect**")
    assert page.get_by_role("heading", level=1).inner_text() == "The installation was cancelled"
    assert page.get_by_role("alert").inner_text() == "papers-bot was not installed."
    assert fits_a_phone(page)
    assert contrast(page, "[role=alert]") >= 7
    shot(page, request, "failure-cancelled")
    assert stored_token(oauth_bot, "T0A1") is None and oauth_bot.store.get_workspace("T0A1") is None

    page.get_by_role("link", name="Try again").click()
    page.wait_for_url(f"{fake_slack.base_url}/oauth/v2/authorize**")
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{oauth_bot.url}/slack/oauth_redirect**")
    assert page.get_by_role("heading", level=1).inner_text() == "papers-bot is installed in Alpha Lab"


def test_a_tampered_state_shows_the_failure_page_and_stores_nothing(
    oauth_bot: RunningBot, fake_slack: FakeSlack, page: Any, request: pytest.FixtureRequest
) -> None:
    fake_slack.install_as("T0A1", "Alpha Lab")
    page.goto(f"{oauth_bot.url}/slack/install")
    page.wait_for_url(f"{fake_slack.base_url}/oauth/v2/authorize**")
    page.evaluate("document.querySelector('input[name=state]').value = 'forged-' + Date.now()")
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{oauth_bot.url}/slack/oauth_redirect**")
    assert page.get_by_role("heading", level=1).inner_text() == "This install link has expired"
    assert page.get_by_role("link", name="Try again").get_attribute("href") == "/slack/install"
    shot(page, request, "failure-tampered")
    assert stored_token(oauth_bot, "T0A1") is None and oauth_bot.store.get_workspace("T0A1") is None
    assert fake_slack.calls("oauth.v2.access") == []
