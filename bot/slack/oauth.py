"""OAuth mode's web side: Bolt's ``OAuthFlow`` behind ``/slack/install`` and ``/slack/oauth_redirect``,
with our own pages (``bot/web/pages.py``) for the landing page, success and failure.

Why Bolt's flow and not our own: the state (issued, set as an ``HttpOnly`` cookie, checked against the
browser and consumed once from the state store within ten minutes), the code exchange
(``oauth.v2.access``) and token rotation are exactly what Slack documents and what Bolt already
tests; we only decide what the installer reads. A tampered, replayed or expired state never reaches
the code exchange: the failure page comes first and nothing is stored.

``SLACK_AUTHORIZE_URL`` and ``SLACK_API_URL`` point the whole flow elsewhere (the tests' fake Slack).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from slack_bolt import BoltRequest, BoltResponse
from slack_bolt.authorization.authorize import InstallationStoreAuthorize
from slack_bolt.oauth import OAuthFlow
from slack_bolt.oauth.callback_options import CallbackOptions, FailureArgs, SuccessArgs
from slack_bolt.oauth.oauth_settings import OAuthSettings
from slack_sdk import WebClient

from bot.config import Settings
from bot.errors import StoreError
from bot.installs import Installs
from bot.slack.installations import STATE_EXPIRATION_SECONDS, OAuthStores
from bot.web.pages import BOT_SCOPES, Page, continue_page, failure_page, landing_page, success_page

__all__ = ["INSTALL_PATH", "REDIRECT_PATH", "InstallSite", "WebResponse", "build_oauth"]

logger = logging.getLogger(__name__)

INSTALL_PATH = "/slack/install"
REDIRECT_PATH = "/slack/oauth_redirect"
TOKEN_ROTATION_MINUTES = 120  # rotate a rotating token this long before it expires (Bolt's default)

# Pages with nothing to load from elsewhere: no script at all, inline styles only, no framing.
_SECURITY_HEADERS = {
    "Content-Security-Policy": [
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'none'"
    ],
    "X-Content-Type-Options": ["nosniff"],
    "Referrer-Policy": ["no-referrer"],  # the redirect's URL carries the code and state
    "Cache-Control": ["no-store"],
}


@dataclass(frozen=True)
class WebResponse:
    status: int
    body: bytes
    headers: dict[str, list[str]] = field(default_factory=dict)


def _html(page: Page, extra: Mapping[str, list[str]] | None = None) -> WebResponse:
    headers = {"Content-Type": ["text/html; charset=utf-8"], **_SECURITY_HEADERS, **(extra or {})}
    return WebResponse(page.status, page.html.encode(), headers)


def build_oauth(
    settings: Settings, stores: OAuthStores, installs: Installs
) -> tuple[OAuthFlow, InstallationStoreAuthorize]:
    """Bolt's flow with our stores and pages, and the ``authorize`` that gives each request its
    workspace's token (looked up by team, rotated when due, the ``auth.test`` answer cached per token)."""
    client = WebClient(base_url=settings.slack_api_url, timeout=30)

    def on_success(args: SuccessArgs) -> BoltResponse:
        installation = args.installation
        team_id, team_name = installation.team_id or "", installation.team_name or ""
        try:
            installs.installed(team_id, team_name)
        except StoreError as exc:
            logger.error("workspace %s installed, but its record could not be saved (%s); undone", team_id, exc)
            stores.installations.delete_all(enterprise_id=installation.enterprise_id, team_id=installation.team_id)
            return _bolt(failure_page("storage_error", status=500), args.settings)
        return _bolt(success_page(team_name, team_id), args.settings)

    def on_failure(args: FailureArgs) -> BoltResponse:
        logger.info("an installation did not complete: %s", args.reason)
        return _bolt(failure_page(args.reason, status=args.suggested_status_code), args.settings)

    oauth_settings = OAuthSettings(
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        scopes=[name for name, _ in BOT_SCOPES],
        user_scopes=[],
        redirect_uri=settings.slack_redirect_uri or None,
        install_path=INSTALL_PATH,
        install_page_rendering_enabled=False,  # "/" is the install page; /slack/install goes straight to Slack
        redirect_uri_path=REDIRECT_PATH,
        callback_options=CallbackOptions(success=on_success, failure=on_failure),
        authorization_url=settings.slack_authorize_url,
        installation_store=stores.installations,
        installation_store_bot_only=True,
        token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
        state_store=stores.states,
        state_expiration_seconds=STATE_EXPIRATION_SECONDS,
    )
    authorize = InstallationStoreAuthorize(
        logger=logging.getLogger("slack_bolt.authorize"),
        installation_store=stores.installations,
        client_id=settings.slack_client_id,
        client_secret=settings.slack_client_secret,
        token_rotation_expiration_minutes=TOKEN_ROTATION_MINUTES,
        bot_only=True,
        cache_enabled=True,  # one auth.test per token, not one per slash command
        client=client,  # token rotation goes to SLACK_API_URL too
    )
    return OAuthFlow(client=client, settings=oauth_settings), authorize


def _bolt(page: Page, oauth_settings: OAuthSettings) -> BoltResponse:
    """A page as Bolt's callback answer; the state cookie is deleted whatever happened."""
    cookie = oauth_settings.state_utils.build_set_cookie_for_deletion()
    return BoltResponse(
        status=page.status,
        body=page.html,
        headers={"Content-Type": "text/html; charset=utf-8", "Set-Cookie": [cookie]},
    )


class InstallSite:
    """The GET pages of OAuth mode: ``/``, ``/slack/install``, ``/slack/oauth_redirect``."""

    def __init__(self, flow: OAuthFlow) -> None:
        self.flow = flow

    def handle(self, path: str, query: str, headers: Mapping[str, str]) -> WebResponse | None:
        """The answer for ``path``, or ``None`` when it is not one of these pages."""
        if path in ("/", "/index.html"):
            return _html(landing_page(INSTALL_PATH))
        if path not in (INSTALL_PATH, REDIRECT_PATH):
            return None
        request = BoltRequest(body="", query=query, headers={k.lower(): v for k, v in headers.items()})
        if path == INSTALL_PATH:
            response = self.flow.handle_installation(request)
            location = response.first_headers().get("location", "")
            extra = {"Location": [location]} if location else {}
            cookies = list(response.headers.get("set-cookie", []))
            if cookies:
                extra["Set-Cookie"] = cookies
            return _html(continue_page(location), extra)
        response = self.flow.handle_callback(request)
        return WebResponse(
            response.status,
            response.body.encode(),
            {**_SECURITY_HEADERS, **{_title(k): list(v) for k, v in response.headers.items()}},
        )


def _title(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))
