"""Going through "Add to Slack" over HTTP, as a browser would: the app's /slack/install, the fake
Slack's authorize page (Allow or Cancel), the app's /slack/oauth_redirect.

Why by hand and not with httpx's cookie jar: the state cookie is ``Secure`` (as Bolt sets it), which
a cookie jar rightly keeps off plain-HTTP requests; browsers treat 127.0.0.1 as secure, so this
carries it the way the browser tests' Chromium does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.fakes import FakeSlack

__all__ = ["Installer", "Started"]


@dataclass
class Started:
    authorize_url: str
    cookie: str  # "slack-app-oauth-state=<state>"

    @property
    def state(self) -> str:
        return parse_qs(urlsplit(self.authorize_url).query)["state"][0]


class Installer:
    def __init__(self, bot_url: str, fake_slack: FakeSlack) -> None:
        self.bot = httpx.Client(base_url=bot_url, timeout=30)
        self.slack = httpx.Client(timeout=30)
        self.fake_slack = fake_slack

    def close(self) -> None:
        self.bot.close()
        self.slack.close()

    def start(self) -> Started:
        response = self.bot.get("/slack/install")
        assert response.status_code == 302, response.text
        cookie = response.headers["set-cookie"].split(";")[0]
        return Started(response.headers["location"], cookie)

    def decide(self, started: Started, *, allow: bool = True) -> str:
        """The installer's click on the authorize page; returns where Slack sends the browser."""
        page = self.slack.get(started.authorize_url)
        assert page.status_code == 200, page.text
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page.text))
        fields["decision"] = "allow" if allow else "cancel"
        form = self.slack.post(f"{self.fake_slack.base_url}/oauth/v2/decide", data=fields)
        assert form.status_code == 302
        return form.headers["location"]

    def finish(self, redirect_url: str, cookie: str | None) -> httpx.Response:
        path = urlsplit(redirect_url)
        headers = {"Cookie": cookie} if cookie else {}
        return self.bot.get(f"{path.path}?{path.query}", headers=headers)

    def install(self, team_id: str, team_name: str, *, allow: bool = True) -> httpx.Response:
        self.fake_slack.install_as(team_id, team_name)
        started = self.start()
        return self.finish(self.decide(started, allow=allow), started.cookie)
