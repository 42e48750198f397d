"""A fake Slack Web API (and ``response_url`` endpoint) served over real HTTP on 127.0.0.1.

Why a real server and not a mocked ``WebClient``: the app reaches Slack only through slack_sdk's
``WebClient`` and bolt's ``respond`` (``WebhookClient``). Pointing those at a local port keeps Slack's
own request encoding, retry handlers and error mapping in the loop, which a mock would silently skip.

Why the checks come from third-party data: a fake that only echoes our assumptions back proves
nothing. Arguments are checked against the method catalog scraped from docs.slack.dev, blocks against
Slack's own ``slack_sdk.models`` validators and (when ``jsonschema`` is installed) the community
Block Kit JSON Schema, and the documented payload limits (50 blocks, 3000/150 characters, 12k total).
See ``shared/research/slack.md`` §3, §4 and §7. The ``shared/`` folder is optional: without it the
catalog and schema checks are skipped and the fake still answers.

``HTTPFake`` (the threaded server plumbing) is shared with ``tests/fakes/hf.py``.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import html
import json
import logging
import math
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

__all__ = [
    "DEFAULT_BLOCK_KIT_SCHEMA",
    "DEFAULT_CATALOG_DIR",
    "Call",
    "FakeSlack",
    "HTTPFake",
    "Reply",
    "check_blocks",
]

logger = logging.getLogger(__name__)

# <repo>/../shared: a sibling of the repository on developer machines and in CI, absent for users.
_SHARED_DIR = Path(os.environ.get("PAPERS_BOT_SHARED_DIR") or Path(__file__).resolve().parents[3] / "shared")
DEFAULT_CATALOG_DIR = _SHARED_DIR / "specs" / "slack" / "web-api-method-catalog" / "methods"
DEFAULT_BLOCK_KIT_SCHEMA = _SHARED_DIR / "specs" / "slack" / "block-kit-schema" / "slack-block-kit.schema.json"

MESSAGE_MAX_BLOCKS = 50
VIEW_MAX_BLOCKS = 100
SECTION_TEXT_MAX = 3000
SECTION_FIELD_MAX = 2000
HEADER_TEXT_MAX = 150
TOTAL_TEXT_MAX = 12_000
RESPONSE_URL_MAX_USES = 5

# Keys a response_url payload may carry (WebhookClient.send and bolt's respond()).
_RESPONSE_URL_KEYS = frozenset(
    {
        "text",
        "blocks",
        "attachments",
        "response_type",
        "replace_original",
        "delete_original",
        "unfurl_links",
        "unfurl_media",
        "thread_ts",
        "metadata",
        "mrkdwn",
    }
)
# Accepted by every method but absent from the per-method catalog: ``token`` (may travel in the body) and
# ``team_id``, which slack_sdk adds to every call of a ``WebClient(team_id=…)``, the client bolt hands
# each listener (org-wide installs need it; the catalog's ``team_not_found`` errors refer to it).
_ANY_METHOD_ARGS = frozenset({"token", "team_id"})
# Arguments that Slack documents as "a JSON … presented as a URL-encoded string".
_JSON_ARGS = ("blocks", "attachments", "view", "metadata", "unfurls")
_MESSAGE_METHODS = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update"})
_VIEW_METHODS = frozenset({"views.open", "views.update", "views.publish", "views.push"})


# --------------------------------------------------------------------------------------------------
# Shared server plumbing
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Incoming:
    """One HTTP request as the fake's ``serve`` sees it (headers with lower-case names)."""

    verb: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class Reply:
    """What to answer; ``drop`` closes the socket without answering (a connection reset)."""

    status: int = 200
    body: bytes = b""
    content_type: str = "application/json; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False

    @classmethod
    def json(cls, obj: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> Reply:
        return cls(status=status, body=json.dumps(obj).encode(), headers=dict(headers or {}))


class _Handler(BaseHTTPRequestHandler):
    """Turns raw HTTP into ``Incoming``/``Reply``; keep-alive (HTTP/1.1) like the real services."""

    protocol_version = "HTTP/1.1"
    fake: HTTPFake  # set on the per-server subclass

    def setup(self) -> None:
        super().setup()
        self.fake._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            with contextlib.suppress(OSError):
                super().finish()
        finally:
            self.fake._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; the fakes record requests themselves."""

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, verb: str) -> None:
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        incoming = Incoming(
            verb=verb,
            path=unquote(split.path),
            query=dict(parse_qsl(split.query, keep_blank_values=True)),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        try:
            reply = self.fake.serve(incoming)
        except Exception as exc:  # a bug in the fake must not look like an app failure
            logger.exception("fake server error on %s %s", verb, self.path)
            self.fake.internal_errors.append(f"{verb} {self.path}: {exc!r}")
            reply = Reply.json({"ok": False, "error": "fake_internal_error"}, status=500)
        if reply.drop or self.fake.stopping:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except OSError:  # the client gave up (timeout) before we answered
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    """A listen backlog of 128, not socketserver's 5: a fan-out opens dozens of connections at once,
    and a full backlog resets them (``ECONNRESET``), which the app must treat as a possible post."""

    request_queue_size = 128


class HTTPFake:
    """A ``ThreadingHTTPServer`` on 127.0.0.1:<ephemeral> in a daemon thread.

    Subclasses implement ``serve(Incoming) -> Reply``. ``stop()`` never hangs: in-flight delays wait
    on an event that ``stop()`` sets, handler threads are daemons, and open keep-alive connections
    are shut so a pooled client cannot keep talking to a "stopped" service.
    """

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stop_event = threading.Event()
        self._conns: set[socket.socket] = set()
        self._conns_lock = threading.Lock()
        self.port = 0
        self.internal_errors: list[str] = []

    # lifecycle ------------------------------------------------------------------------------------
    def start(self) -> Self:
        if self._server is not None:
            raise RuntimeError(f"{type(self).__name__} already started")
        handler = type(f"{type(self).__name__}Handler", (_Handler,), {"fake": self})
        server = _Server(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stop_event.set()
        server.shutdown()
        server.server_close()
        with self._conns_lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=2.0)

    def __enter__(self) -> Self:
        return self.start() if self._server is None else self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # helpers for subclasses --------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        if not self.port:
            raise RuntimeError(f"{type(self).__name__} not started")
        return f"http://127.0.0.1:{self.port}"

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set()

    def sleep(self, seconds: float) -> None:
        """Latency that ends early when the server stops (so shutdown never waits on it)."""
        if seconds > 0:
            self._stop_event.wait(seconds)

    def serve(self, request: Incoming) -> Reply:
        raise NotImplementedError

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._conns_lock:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)


# --------------------------------------------------------------------------------------------------
# Third-party oracles: the method catalog and the Block Kit schema (both optional)
# --------------------------------------------------------------------------------------------------


@functools.cache
def _load_catalog(directory: Path) -> dict[str, dict[str, Any]] | None:
    """Method name -> catalog entry, or None when shared/ is not beside the repo."""
    if not directory.is_dir():
        return None
    catalog: dict[str, dict[str, Any]] = {}
    for path in directory.glob("*.json"):
        try:
            catalog[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            logger.warning("skipping unreadable catalog entry %s", path)
    return catalog or None


@dataclass(frozen=True)
class _Schema:
    block: Any  # jsonschema validators
    views: dict[str, Any]


@functools.cache
def _load_schema(path: Path) -> _Schema | None:
    """Validators for one block and for modal/home views, or None (no file or no jsonschema)."""
    try:
        from jsonschema import Draft202012Validator
    except ImportError:
        return None
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None

    def for_def(name: str) -> Any:
        return Draft202012Validator({"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{name}"})

    views = {kind: for_def(f"{kind}_view") for kind in ("modal", "home") if f"{kind}_view" in schema["$defs"]}
    return _Schema(block=for_def("block"), views=views)


def _schema_problem(validator: Any, instance: Any) -> str | None:
    from jsonschema.exceptions import best_match

    error = best_match(validator.iter_errors(instance))
    if error is None:
        return None
    where = "/".join(str(p) for p in error.absolute_path) or "(root)"
    return f"schema: at {where}: {_short(error.message)}"


def _short(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text_chars(node: Any) -> int:
    """Characters of every ``text`` string anywhere in the payload (Slack's aggregate limit)."""
    if isinstance(node, list):
        return sum(_text_chars(x) for x in node)
    if isinstance(node, dict):
        total = 0
        for key, value in node.items():
            if key == "text" and isinstance(value, str):
                total += len(value)
            else:
                total += _text_chars(value)
        return total
    return 0


def _text_of(obj: Any) -> str:
    return obj.get("text", "") if isinstance(obj, dict) and isinstance(obj.get("text"), str) else ""


def _text_object_problems(value: Any) -> list[str]:
    """Text objects must be ``plain_text`` or ``mrkdwn``; checked here so it holds without the schema."""
    found: list[str] = []
    if isinstance(value, dict):
        text = value.get("text")
        if isinstance(text, dict) and "type" in text and text["type"] not in ("plain_text", "mrkdwn"):
            found.append(f"unknown text object type {text['type']!r}")
        for item in value.values():
            if isinstance(item, dict | list):
                found.extend(_text_object_problems(item))
    elif isinstance(value, list):
        for item in value:
            found.extend(_text_object_problems(item))
    return found


def check_blocks(
    blocks: Any, *, max_blocks: int = MESSAGE_MAX_BLOCKS, schema_path: Path | None = DEFAULT_BLOCK_KIT_SCHEMA
) -> tuple[list[str], str | None]:
    """Check a ``blocks`` value the way Slack would; returns (problems, Slack error code or None).

    Public so unit tests of the renderer can run the same checks without a server.
    """
    if isinstance(blocks, str):
        try:
            blocks = json.loads(blocks)
        except ValueError:
            return ["blocks is not valid JSON"], "invalid_blocks_format"
    if not isinstance(blocks, list):
        return [f"blocks must be a JSON array, got {type(blocks).__name__}"], "invalid_blocks_format"
    problems: list[str] = []
    if len(blocks) > max_blocks:
        problems.append(f"{len(blocks)} blocks (max {max_blocks})")
    schema = _load_schema(schema_path) if schema_path is not None else None
    block_ids: set[str] = set()
    for i, raw in enumerate(blocks):
        if not isinstance(raw, dict):
            problems.append(f"block {i}: not an object")
            continue
        label = f"block {i} ({raw.get('type')})"
        try:
            parsed = Block.parse(raw)
            if parsed is None:
                problems.append(f"{label}: unknown block type")
            else:
                unknown = sorted(set(raw) - set(parsed.attributes))
                if unknown:
                    problems.append(f"{label}: unknown keys {unknown}")
                parsed.validate_json()
                parsed.to_dict()  # validates nested elements and text objects too
        except SlackObjectFormationError as exc:
            problems.append(f"{label}: {exc}")
        except Exception as exc:  # malformed input can break the SDK constructors
            problems.append(f"{label}: slack_sdk could not parse it: {exc!r}")
        block_id = raw.get("block_id")
        if isinstance(block_id, str):
            if block_id in block_ids:
                problems.append(f"{label}: duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        problems.extend(f"{label}: {p}" for p in _text_object_problems(raw))
        kind = raw.get("type")
        if kind == "section":
            if len(_text_of(raw.get("text"))) > SECTION_TEXT_MAX:
                problems.append(f"{label}: text longer than {SECTION_TEXT_MAX} characters")
            fields = raw.get("fields") or []
            if isinstance(fields, list):
                if len(fields) > 10:
                    problems.append(f"{label}: {len(fields)} fields (max 10)")
                if any(len(_text_of(f)) > SECTION_FIELD_MAX for f in fields):
                    problems.append(f"{label}: a field is longer than {SECTION_FIELD_MAX} characters")
        elif kind == "header" and len(_text_of(raw.get("text"))) > HEADER_TEXT_MAX:
            problems.append(f"{label}: header text longer than {HEADER_TEXT_MAX} characters")
        if schema is not None:
            problem = _schema_problem(schema.block, raw)
            if problem:
                problems.append(f"{label}: {problem}")
    total = _text_chars(blocks)
    if total > TOTAL_TEXT_MAX:
        problems.append(f"blocks hold {total} text characters (max {TOTAL_TEXT_MAX})")
        if len(problems) == 1:
            return problems, "msg_blocks_too_long"
    return problems, ("invalid_blocks" if problems else None)


# --------------------------------------------------------------------------------------------------
# FakeSlack
# --------------------------------------------------------------------------------------------------


@dataclass
class Call:
    """One Web API call as the fake received it.

    ``args`` merges query string and body (form or JSON); JSON-in-a-string arguments (``blocks``,
    ``attachments``, ``view``, ``metadata``) are decoded. ``headers`` have lower-case names.
    ``at`` is ``time.monotonic()`` (immune to time-machine), for measuring gaps between calls.
    ``failed`` is True whenever the answer was not ``ok: true`` (fault, auth, validation, rate limit).
    """

    method: str
    args: dict[str, Any]
    headers: dict[str, str]
    at: float
    failed: bool = False
    error: str | None = None
    status: int = 200
    verb: str = "POST"
    team: str = "T0001"  # the workspace of the token that made the call (``FakeSlack.install``)

    @property
    def channel(self) -> str | None:
        value = self.args.get("channel")
        return value if isinstance(value, str) else None

    @property
    def ok(self) -> bool:
        return not self.failed


@dataclass
class _Fault:
    key: str  # Web API method, or "response_url"
    status: int
    error: str
    retry_after: float | None
    channel: str | None  # channel for methods, name for response_url
    remaining: int
    drop: bool
    drop_after: bool = False  # do the call (store the message), then close the socket unanswered
    skip: int = 0  # matching calls to let through first (e.g. fail only the 2nd message of a digest)


@dataclass
class _Delay:
    method: str
    seconds: float
    remaining: int | None


Handler = Callable[[Call], Mapping[str, Any]]


# --------------------------------------------------------------------------------------------------
# OAuth v2 ("Add to Slack"): the authorize page and oauth.v2.access
# --------------------------------------------------------------------------------------------------


def _oauth_page(title: str, body: str) -> bytes:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body><main>{body}</main></body></html>"
    ).encode()


class _SlackOAuth:
    """Slack's side of "Add to Slack" for ``FakeSlack``: the authorize page (Allow / Cancel) and
    ``oauth.v2.access``, which turns a code into a bot token of the workspace that allowed; every
    token issued is remembered with its workspace, so the fake knows whose token each call carries."""

    _cond: threading.Condition
    oauth_client: tuple[str, str] | None
    oauth_redirect_uri: str
    token_rotation: bool
    token_lifetime: int
    installing_team: tuple[str, str]
    teams: dict[str, str]
    tokens: dict[str, str]
    refresh_tokens: dict[str, str]
    revoked_tokens: set[str]
    _codes: dict[str, tuple[str, str]]
    _issued: int

    def configure_oauth(
        self, client_id: str, client_secret: str, redirect_uri: str, *, token_rotation: bool = False
    ) -> None:
        """The app as registered with Slack: its credentials and Redirect URL."""
        self.oauth_client = (client_id, client_secret)
        self.oauth_redirect_uri = redirect_uri
        self.token_rotation = token_rotation

    def install_as(self, team_id: str, team_name: str) -> None:
        """The next visitor of the authorize page is signed in to this workspace."""
        with self._cond:
            self.installing_team = (team_id, team_name)
            self.teams[team_id] = team_name

    def revoke(self, team_id: str) -> None:
        """Uninstall: every token issued to the workspace stops working (``token_revoked``)."""
        with self._cond:
            self.revoked_tokens.update(t for t, team in self.tokens.items() if team == team_id)

    def tokens_of(self, team_id: str) -> list[str]:
        with self._cond:
            return [t for t, team in self.tokens.items() if team == team_id]

    def _serve_authorize(self, request: Incoming) -> Reply:
        """Slack's consent screen: which app, which scopes, Allow or Cancel (plain forms, no script)."""
        query = request.query
        problems = []
        if self.oauth_client is None or query.get("client_id") != self.oauth_client[0]:
            problems.append("unknown client_id")
        redirect = query.get("redirect_uri") or self.oauth_redirect_uri
        if self.oauth_redirect_uri and redirect != self.oauth_redirect_uri:
            problems.append("redirect_uri does not match the app's Redirect URL")
        if problems:
            return Reply(
                400, _oauth_page("Error", f"<h1>Invalid request</h1><p>{'; '.join(problems)}</p>"), "text/html"
            )
        team_id, team_name = self.installing_team
        scopes = [s for s in (query.get("scope") or "").split(",") if s]
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v, quote=True)}">'
            for k, v in (("state", query.get("state", "")), ("redirect_uri", redirect), ("team", team_id))
        )
        items = "".join(f"<li>{html.escape(s)}</li>" for s in scopes)
        body = (
            f"<h1>papers-bot is requesting permission to access the {html.escape(team_name)} Slack workspace</h1>"
            f"<ul>{items}</ul>"
            f'<form method="post" action="/oauth/v2/decide">{hidden}'
            '<button type="submit" name="decision" value="allow">Allow</button> '
            '<button type="submit" name="decision" value="cancel">Cancel</button></form>'
        )
        return Reply(200, _oauth_page("Slack: allow papers-bot", body), "text/html; charset=utf-8")

    def _serve_decision(self, request: Incoming) -> Reply:
        form = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        state, redirect, team_id = form.get("state", ""), form.get("redirect_uri", ""), form.get("team", "")
        if form.get("decision") == "allow":
            with self._cond:
                self._issued += 1
                code = f"code-{team_id}-{self._issued}"
                self._codes[code] = (team_id, redirect)
            params = {"code": code, "state": state}
        else:
            params = {"error": "access_denied", "state": state}
        location = f"{redirect}?{urlencode(params)}"
        return Reply(302, b"", "text/html", headers={"Location": location})

    def _issue_token(self, team_id: str) -> dict[str, Any]:
        self._issued += 1
        token = f"xoxb-{team_id.lower()}-{self._issued:04d}-{os.urandom(6).hex()}"
        if self.token_rotation:
            token = f"xoxe.{token}"
        self.tokens[token] = team_id
        answer: dict[str, Any] = {"access_token": token, "token_type": "bot"}
        if self.token_rotation:
            refresh = f"xoxe-1-{team_id.lower()}-{self._issued:04d}-{os.urandom(6).hex()}"
            self.refresh_tokens[refresh] = team_id
            answer.update(refresh_token=refresh, expires_in=self.token_lifetime)
        return answer

    def _oauth_v2_access(self, call: Call) -> dict[str, Any]:
        """The code (or, with rotation, a refresh token) for a bot token of the workspace that allowed."""
        args = call.args
        client = (args.get("client_id"), args.get("client_secret"))
        auth = call.headers.get("authorization", "")
        if auth.startswith("Basic "):  # slack_sdk sends the app's credentials as HTTP Basic auth
            client_id, _, secret = base64.b64decode(auth[len("Basic ") :]).decode().partition(":")
            client = (client_id, secret)
        if self.oauth_client is None or client != self.oauth_client:
            return {"ok": False, "error": "invalid_client_id" if self.oauth_client else "invalid_client"}
        if args.get("grant_type") == "refresh_token":
            team_id = self.refresh_tokens.pop(str(args.get("refresh_token", "")), "")
            if not team_id:
                return {"ok": False, "error": "invalid_refresh_token"}
            return {
                "ok": True,
                "team": {"id": team_id, "name": self.teams.get(team_id, "")},
                **self._issue_token(team_id),
            }
        granted = self._codes.pop(str(args.get("code", "")), None)
        if granted is None:
            return {"ok": False, "error": "invalid_code"}
        team_id, redirect = granted
        if args.get("redirect_uri", redirect) != redirect:
            return {"ok": False, "error": "bad_redirect_uri"}
        return {
            "ok": True,
            "app_id": "A0001",
            "authed_user": {"id": "U0INSTALLER"},
            "scope": "commands,chat:write,chat:write.public,users:read,channels:history,groups:history",
            "bot_user_id": "UBOT",
            "team": {"id": team_id, "name": self.teams.get(team_id, "")},
            "enterprise": None,
            "is_enterprise_install": False,
            **self._issue_token(team_id),
        }


class FakeSlack(_SlackOAuth, HTTPFake):
    """Slack's Web API for ``WebClient(token="xoxb-…", base_url=fake.api_url)``, plus response URLs.

    Configure who is who with the mutable sets ``private_channels``, ``archived_channels``,
    ``missing_channels`` (→ ``channel_not_found``), ``not_member_channels`` (posting →
    ``not_in_channel`` until ``conversations.join``), ``admins`` and ``owners``; ``users[uid]`` dicts
    are merged into ``users.info`` answers. ``scopes`` (when not None) are the bot's granted scopes:
    a method whose catalog bot scopes are all missing is a violation answered ``missing_scope``.

    Posting limits (``enforce_rate_limits=True``; Slack's ``chat.postMessage`` "Rate limiting": about
    one message per second per channel, "several hundred messages per minute" per workspace, bursts
    allowed): ``per_channel_per_sec`` with ``channel_burst``; the workspace either as
    ``workspace_per_min`` (a sliding 60 s window) or as a token bucket of ``workspace_per_sec`` with
    ``workspace_burst``, which keeps the shape when a benchmark scales the cap up. Beyond them the
    post is refused with 429 ``ratelimited`` and an integer ``Retry-After``, as Slack does; refused
    posts do not use up the budget.
    """

    def __init__(
        self,
        *,
        private_channels: Iterable[str] = (),
        archived_channels: Iterable[str] = (),
        missing_channels: Iterable[str] = (),
        not_member_channels: Iterable[str] = (),
        admins: Iterable[str] = (),
        owners: Iterable[str] = (),
        scopes: Iterable[str] | None = None,
        enforce_rate_limits: bool = False,
        per_channel_per_sec: float = 1.0,
        workspace_per_min: int | None = None,
        latency: float = 0.0,
        channel_burst: int = 1,
        workspace_per_sec: float | None = None,
        workspace_burst: int = 1,
        catalog_dir: Path | None = DEFAULT_CATALOG_DIR,
        schema_path: Path | None = DEFAULT_BLOCK_KIT_SCHEMA,
        unfurls_per_minute: int | None = None,
    ) -> None:
        super().__init__()
        # chat.unfurl's Tier 3 ("50+ per minute" per workspace), as a sliding 60 s window when set.
        self.unfurls_per_minute = unfurls_per_minute
        self._unfurl_calls: dict[str, list[float]] = {}  # per team: its chat.unfurl calls of the last minute
        self.private_channels: set[str] = set(private_channels)
        self.archived_channels: set[str] = set(archived_channels)
        self.missing_channels: set[str] = set(missing_channels)
        self.not_member_channels: set[str] = set(not_member_channels)
        self.admins: set[str] = set(admins)
        self.owners: set[str] = set(owners)
        self.users: dict[str, dict[str, Any]] = {}
        self.scopes: set[str] | None = set(scopes) if scopes is not None else None
        self.enforce_rate_limits = enforce_rate_limits
        self.per_channel_per_sec = per_channel_per_sec
        self.workspace_per_min = workspace_per_min
        self.latency = latency
        self.channel_burst = channel_burst
        self.workspace_per_sec = workspace_per_sec
        self.workspace_burst = workspace_burst
        self.catalog: dict[str, dict[str, Any]] | None = _load_catalog(catalog_dir) if catalog_dir is not None else None
        self.schema_path = schema_path
        self.violations: list[str] = []
        self.unknown_calls: list[Call] = []
        self.views: dict[str, dict[str, Any]] = {}  # view id -> last view sent
        self.home_views: dict[str, dict[str, Any]] = {}  # user id -> published Home tab
        # Link cards: the links each shared message holds (``share_links``), and every accepted unfurl.
        self._shared_links: dict[tuple[str, str], set[str]] = {}
        self._unfurls: list[tuple[tuple[str, str], str, dict[str, Any], float]] = []  # (target, url, unfurl, at)
        self._calls: list[Call] = []
        self._responses: list[tuple[str, dict[str, Any], float]] = []
        self._response_uses: dict[str, int] = {}
        self._messages: dict[tuple[str, str], dict[str, Any]] = {}
        # OAuth ("Add to Slack"): the app's credentials, the workspace whose user is at the authorize
        # page, codes handed out, and every token issued -> its workspace (see ``_serve_authorize``).
        self.oauth_client: tuple[str, str] | None = None
        self.oauth_redirect_uri = ""  # the Redirect URL registered in the app's settings
        self.token_rotation = False  # issue expiring tokens with refresh tokens (12 h, as Slack)
        self.token_lifetime = 43200  # seconds a rotating token lives (``expires_in``)
        self.installing_team: tuple[str, str] = ("T0001", "Test Team")
        self.teams: dict[str, str] = {"T0001": "Test Team"}  # team id -> name
        self.tokens: dict[str, str] = {}  # bot token -> team id
        self.refresh_tokens: dict[str, str] = {}  # refresh token -> team id
        self.revoked_tokens: set[str] = set()
        self._codes: dict[str, tuple[str, str]] = {}  # code -> (team id, redirect_uri)
        self._issued = 0
        # conversations.history for apps outside Slack's Marketplace (since 2025-05-29): one request a
        # minute per workspace, at most 15 messages. None: unlimited (the fake's default).
        self.history_per_minute: float | None = None
        self.history_max_messages: int | None = None
        self.history_clock: Callable[[], float] = time.monotonic
        self._history_at: dict[str, float] = {}  # team -> time of its last answered history request
        self._faults: list[_Fault] = []
        self._delays: list[_Delay] = []
        self._custom: dict[str, Handler | Mapping[str, Any]] = {}
        # Slack's limits are per workspace: each workspace (the team of the token) has its own buckets.
        self._post_times: dict[tuple[str, str], float] = {}  # per (team, channel): GCRA theoretical arrival time
        self._workspace_posts: dict[str, list[float]] = {}
        self._workspace_tats: dict[str, float] = {}  # per team: GCRA theoretical arrival time of its bucket
        self._ts_counter = 0
        self._view_counter = 0
        # Files (files_upload_v2): file id -> what getUploadURLExternal was told, the bytes that reached
        # the upload URL it handed out, and the completeUploadExternal call that shared it.
        self.uploads: dict[str, dict[str, Any]] = {}
        self.uploads_disabled = False  # the workspace forbids uploads: file_uploads_disabled
        self.user_channels: dict[str, list[str]] = {}  # users.conversations: user id -> channel ids
        self._file_counter = 0
        self._cond = threading.Condition()
        self._handlers: dict[str, Callable[[Call], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.getPermalink": self._chat_get_permalink,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "conversations.info": self._conversations_info,
            "conversations.join": self._conversations_join,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "oauth.v2.access": self._oauth_v2_access,
            "conversations.replies": self._conversations_replies,
            "chat.unfurl": self._chat_unfurl,
            "conversations.open": self._conversations_open,
            "users.conversations": self._users_conversations,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # URLs ------------------------------------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """``base_url`` for ``WebClient``: it appends the method name."""
        return f"{self.base_url}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A ``response_url`` to put in slash-command/interaction payloads; posts land in ``responses``."""
        return f"{self.base_url}/response/{name}"

    # inspection ------------------------------------------------------------------------------------
    def calls(self, method: str | None = None, channel: str | None = None, *, team: str | None = None) -> list[Call]:
        with self._cond:
            return [
                c
                for c in self._calls
                if (method is None or c.method == method)
                and (channel is None or c.channel == channel)
                and (team is None or c.team == team)
            ]

    def posts(self, channel: str | None = None, *, include_failed: bool = False, team: str | None = None) -> list[Call]:
        """``chat.postMessage`` calls that were answered ok (all of them with ``include_failed``);
        ``team``: only those made with that workspace's token."""
        return [c for c in self.calls("chat.postMessage", channel, team=team) if include_failed or c.ok]

    def responses(self, name: str | None = None) -> list[dict[str, Any]]:
        """Parsed JSON bodies posted to ``response_url(name)`` (every name when None), in order."""
        with self._cond:
            return [body for n, body, _ in self._responses if name is None or n == name]

    def message(self, channel: str, ts: str) -> dict[str, Any] | None:
        """The message as it stands now (after any ``chat.update``)."""
        with self._cond:
            return self._messages.get((channel, ts))

    def share_links(self, target: tuple[str, str], urls: Iterable[str]) -> None:
        """Say that the message at ``target`` (``(channel, ts)`` or ``("composer", unfurl_id)``) holds these
        links, as Slack knows when it sends ``link_shared``: ``chat.unfurl`` for any other URL there is
        refused with ``cannot_unfurl_url``."""
        with self._cond:
            self._shared_links.setdefault(target, set()).update(urls)

    def unfurled(self, url: str | None = None) -> list[dict[str, Any]]:
        """Every card Slack accepted for ``url`` (exactly that string; every URL when None), in order."""
        with self._cond:
            return [unfurl for _, u, unfurl, _ in self._unfurls if url is None or u == url]

    def unfurl_times(self) -> dict[str, float]:
        """``time.monotonic()`` of each accepted unfurl's arrival, by target (for latency figures)."""
        with self._cond:
            return {f"{target[0]}/{target[1]}": at for target, _, _, at in self._unfurls}

    def wait_for_calls(self, method: str, n: int = 1, timeout: float = 15.0) -> list[Call]:
        """Block until ``n`` calls of ``method`` were recorded (the app works after ``ack``)."""
        return self._wait(lambda: self.calls(method), n, timeout, f"{method} calls")

    def wait_for_responses(self, n: int = 1, name: str | None = None, timeout: float = 15.0) -> list[dict[str, Any]]:
        """Block until ``n`` response_url posts arrived (bolt's ``respond`` runs after ``ack``)."""
        return self._wait(lambda: self.responses(name), n, timeout, f"responses to {name or 'any name'}")

    def _wait(self, get: Callable[[], list[Any]], n: int, timeout: float, what: str) -> list[Any]:
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(got := get()) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(f"waited {timeout}s for {n} {what}, got {len(got)}; calls so far: {seen}")
                self._cond.wait(left)
            return got

    def reset(self) -> None:
        """Forget calls, responses, violations, faults and delays; keep channel/user configuration."""
        with self._cond:
            self._calls.clear()
            self._responses.clear()
            self._response_uses.clear()
            self._faults.clear()
            self._delays.clear()
            self._post_times.clear()
            self._workspace_posts.clear()
            self._workspace_tats.clear()
            self._unfurl_calls.clear()
            self.violations.clear()
            self.unknown_calls.clear()
            self.internal_errors.clear()
            self._unfurls.clear()

    # fault injection -------------------------------------------------------------------------------
    def fail(
        self,
        method: str,
        error: str = "ratelimited",
        *,
        status: int = 200,
        retry_after: float | None = None,
        channel: str | None = None,
        times: int = 1,
        drop_connection: bool = False,
        drop_after_answer: bool = False,
        after: int = 0,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (for ``channel`` only, if given) with an error.

        Use ``status=429, retry_after=1`` for a rate limit; ``drop_connection=True`` closes the socket
        before the call has any effect; ``drop_after_answer=True`` carries the call out (a message is
        stored and visible in history) and then closes the socket: the answer is lost on the way back.
        ``after=n`` lets the first ``n`` matching calls succeed.
        """
        with self._cond:
            self._faults.append(
                _Fault(method, status, error, retry_after, channel, times, drop_connection, drop_after_answer, after)
            )

    def fail_response(
        self,
        name: str | None = None,
        *,
        status: int = 404,
        error: str = "expired_url",
        times: int = 1,
        drop_connection: bool = False,
    ) -> None:
        """Make the next ``times`` posts to ``response_url(name)`` fail with a text body, as Slack does."""
        with self._cond:
            self._faults.append(_Fault("response_url", status, error, None, name, times, drop_connection))

    def delay(self, method: str, seconds: float, *, times: int | None = None) -> None:
        """Add latency to ``method`` (all future calls, or the next ``times``); ``"response_url"`` works too."""
        with self._cond:
            self._delays.append(_Delay(method, seconds, times))

    def on(self, method: str, answer: Handler | Mapping[str, Any]) -> None:
        """Answer ``method`` with a fixed dict or ``answer(call)``: for methods the fake doesn't know."""
        self._custom[method] = answer

    # serving ---------------------------------------------------------------------------------------
    def files(self, channel: str | None = None) -> list[dict[str, Any]]:
        """Files shared by ``files.completeUploadExternal`` (in ``channel`` only, if given), oldest first:
        each with ``filename``, ``title``, ``alt_txt``, ``data`` (the bytes the upload URL received),
        ``channel_id``, ``thread_ts`` and ``initial_comment``."""
        with self._cond:
            return [
                dict(f)
                for f in self.uploads.values()
                if f.get("shared") and (channel is None or f.get("channel_id") == channel)
            ]

    def serve(self, request: Incoming) -> Reply:
        if request.path == "/oauth/v2/authorize":
            return self._serve_authorize(request)
        if request.path == "/oauth/v2/decide" and request.verb == "POST":
            return self._serve_decision(request)
        if request.path.startswith("/upload/") and request.verb == "POST":
            return self._serve_upload(request, request.path[len("/upload/") :])
        if request.path.startswith("/api/"):
            return self._serve_api(request, request.path[len("/api/") :].strip("/"))
        if request.path.startswith("/response/") and request.verb == "POST":
            return self._serve_response_url(request, request.path[len("/response/") :])
        return Reply.json({"ok": False, "error": "not_found"}, status=404)

    def _serve_api(self, request: Incoming, method: str) -> Reply:
        at = time.monotonic()
        args = _decode_args(request)
        call = Call(method, args, dict(request.headers), at, verb=request.verb)
        problems: list[str] = []
        error: str | None = None
        extra: dict[str, Any] = {}

        auth = request.headers.get("authorization", "")
        token = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else args.get("token")
        known = method in self._handlers or method in self._custom
        wanted = "xapp-" if method == "apps.connections.open" else "xoxb-"  # Socket Mode: app-level token
        with self._cond:
            call.team = self.tokens.get(str(token), "T0001") if token else "T0001"
            revoked = token in self.revoked_tokens
        if method == "oauth.v2.access":  # authenticated by the client id and secret, not a token
            error = None
        elif not token:
            error = "not_authed"
        elif token in ("xoxb-invalid", "xapp-invalid"):
            error = "invalid_auth"
        elif revoked:
            error = "token_revoked"
        elif not str(token).removeprefix("xoxe.").startswith(wanted):  # xoxe.xoxb-…: a rotating bot token
            error = "not_allowed_token_type"
        else:
            catalog_problems, catalog_error = self._check_catalog(method, args)
            problems += catalog_problems
            error = catalog_error if known else "unknown_method"
        if method in _MESSAGE_METHODS:
            msg_problems, msg_error = self._check_message(method, args)
            problems += msg_problems
            error = error or msg_error
        elif method in _VIEW_METHODS:
            view_problems, view_error = self._check_view(args.get("view"))
            problems += view_problems
            error = error or view_error
        if problems and error in ("invalid_blocks", "invalid_arguments", "invalid_blocks_format"):
            extra["response_metadata"] = {"messages": [f"[ERROR] {p}" for p in problems]}

        status = 200
        headers: dict[str, str] = {}
        with self._cond:
            self.violations.extend(f"{method}: {p}" for p in problems)
            fault = self._take_fault(method, call.channel)
            drop_after = fault is not None and fault.drop_after
            if drop_after:
                fault = None
            if fault is not None:
                if fault.drop:
                    call.failed, call.error, call.status = True, "connection_dropped", 0
                    self._record(call)
                    return Reply(drop=True)
                status, error = fault.status, fault.error
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(math.ceil(fault.retry_after))
            elif (
                error is None
                and method == "conversations.history"
                and ((history_wait := self.history_retry_after(call.team)) is not None)
            ):
                status, error = 429, "ratelimited"
                headers["Retry-After"] = str(history_wait)
            elif error is None and self.enforce_rate_limits and method == "chat.postMessage":
                retry_after = self._rate_limit(call.channel or "", at, call.team)
                if retry_after is not None:
                    status, error = 429, "ratelimited"
                    headers["Retry-After"] = str(retry_after)
            elif error is None and method == "chat.unfurl" and self.unfurls_per_minute is not None:
                retry_after = self._unfurl_rate_limit(at, call.team)
                if retry_after is not None:
                    status, error = 429, "ratelimited"
                    headers["Retry-After"] = str(retry_after)
            if error is None:
                answer = self._answer(call)
                error = None if answer.get("ok") else str(answer.get("error", "unknown_error"))
            else:
                answer = {"ok": False, "error": error, **extra}
                if error == "missing_scope":
                    answer.update(self._scope_info(method))
            call.failed, call.error, call.status = error is not None, error, status
            if error == "unknown_method":
                self.unknown_calls.append(call)
            self._record(call)
            delay = self.latency + self._take_delay(method)
        self.sleep(delay)
        if drop_after:
            return Reply(drop=True)
        if self.scopes is not None:
            headers.setdefault("x-oauth-scopes", ",".join(sorted(self.scopes)))
        return Reply.json(answer, status=status, headers=headers)

    def _serve_response_url(self, request: Incoming, name: str) -> Reply:
        at = time.monotonic()
        problems: list[str] = []
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            problems.append("body is not a JSON object")
            body = {"_raw": request.body.decode("utf-8", "replace")}
        else:
            unknown = sorted(set(body) - _RESPONSE_URL_KEYS)
            if unknown:
                problems.append(f"unknown keys {unknown}")
            if body.get("response_type") not in (None, "ephemeral", "in_channel"):
                problems.append(f"response_type {body.get('response_type')!r}")
            msg_problems, _ = self._check_message_body(body)
            problems += msg_problems
        with self._cond:
            uses = self._response_uses[name] = self._response_uses.get(name, 0) + 1
            if uses > RESPONSE_URL_MAX_USES:
                problems.append(f"used {uses} times (Slack allows {RESPONSE_URL_MAX_USES})")
            self.violations.extend(f"response_url {name}: {p}" for p in problems)
            self._responses.append((name, body, at))
            self._cond.notify_all()
            fault = self._take_fault("response_url", name)
            delay = self._take_delay("response_url")
        self.sleep(delay)
        if fault is not None:
            if fault.drop:
                return Reply(drop=True)
            return Reply(status=fault.status, body=fault.error.encode(), content_type="text/html")
        if problems:
            return Reply(status=400, body=b"invalid_blocks", content_type="text/html")
        return Reply(status=200, body=b"ok", content_type="text/html")

    # checks ----------------------------------------------------------------------------------------
    def _check_catalog(self, method: str, args: Mapping[str, Any]) -> tuple[list[str], str | None]:
        if self.catalog is None:
            return [], None
        entry = self.catalog.get(method)
        if entry is None:
            return ["method is not in Slack's method catalog"], "unknown_method"
        spec: dict[str, Any] = entry.get("args") or {}
        problems: list[str] = []
        error: str | None = None
        missing = [name for name, a in spec.items() if a.get("required") and name not in args]
        if missing:
            problems.append(f"missing required args {missing}")
            error = "invalid_arguments"
        unknown = sorted(set(args) - set(spec) - _ANY_METHOD_ARGS)
        if unknown:
            problems.append(f"args unknown to the method catalog {unknown}")
        if self.scopes is not None:
            needed = self._bot_scopes(method)
            if needed and not (set(needed) & self.scopes):
                problems.append(f"needs one of the bot scopes {needed}, granted {sorted(self.scopes)}")
                error = error or "missing_scope"
        return problems, error

    def _bot_scopes(self, method: str) -> list[str]:
        entry = (self.catalog or {}).get(method) or {}
        bot = (entry.get("scopes") or {}).get("bot") or []
        return [s["name"] for s in bot if isinstance(s, dict) and "name" in s]

    def _scope_info(self, method: str) -> dict[str, str]:
        return {"needed": ",".join(self._bot_scopes(method)), "provided": ",".join(sorted(self.scopes or ()))}

    def _check_message(self, method: str, args: Mapping[str, Any]) -> tuple[list[str], str | None]:
        problems, error = self._check_message_body(args)
        has_content = any(args.get(k) for k in ("text", "blocks", "attachments", "markdown_text"))
        if not has_content and method != "chat.update":
            problems.append("no text, blocks, attachments or markdown_text")
            error = error or "no_text"
        return problems, error

    def _check_message_body(self, body: Mapping[str, Any]) -> tuple[list[str], str | None]:
        blocks = body.get("blocks")
        if blocks is None:
            return [], None
        problems, error = check_blocks(blocks, max_blocks=MESSAGE_MAX_BLOCKS, schema_path=self.schema_path)
        text = body.get("text")
        if not (isinstance(text, str) and text.strip()):
            problems.append("blocks without a non-empty top-level text fallback")
            error = error or "invalid_blocks"
        return problems, error

    def _check_view(self, view: Any) -> tuple[list[str], str | None]:
        if not isinstance(view, dict):
            return [f"view must be a JSON object, got {type(view).__name__}"], "invalid_arguments"
        problems, _ = check_blocks(view.get("blocks") or [], max_blocks=VIEW_MAX_BLOCKS, schema_path=self.schema_path)
        try:
            View(**view).validate_json()
        except SlackObjectFormationError as exc:
            problems.append(f"view: {exc}")
        except Exception as exc:
            problems.append(f"view: slack_sdk could not parse it: {exc!r}")
        schema = _load_schema(self.schema_path) if self.schema_path is not None else None
        validator = schema.views.get(str(view.get("type"))) if schema is not None else None
        if validator is not None:
            problem = _schema_problem(validator, view)
            if problem:
                problems.append(f"view: {problem}")
        return problems, ("invalid_arguments" if problems else None)

    # bookkeeping (callers hold self._cond) ---------------------------------------------------------
    def _record(self, call: Call) -> None:
        self._calls.append(call)
        self._cond.notify_all()

    def _take_fault(self, key: str, channel: str | None) -> _Fault | None:
        for fault in self._faults:
            if fault.key == key and fault.remaining > 0 and fault.channel in (None, channel):
                if fault.skip > 0:
                    fault.skip -= 1
                    continue
                fault.remaining -= 1
                return fault
        return None

    def _take_delay(self, key: str) -> float:
        total = 0.0
        for d in self._delays:
            if d.method == key and (d.remaining is None or d.remaining > 0):
                total += d.seconds
                if d.remaining is not None:
                    d.remaining -= 1
        return total

    def rate_limited_count(self) -> int:
        """How many calls were answered 429 (by the enforced limits or an injected fault)."""
        with self._cond:
            return sum(1 for c in self._calls if c.status == 429)

    def _rate_limit(self, channel: str, now: float, team: str = "T0001") -> int | None:
        """Seconds to wait if this post breaks the per-channel or workspace limit, else None.

        Both limits are GCRA token buckets: a post at ``now`` conforms when ``now >= tat - (burst-1)·T``
        for the bucket's interval ``T``; a conforming post moves ``tat`` to ``max(tat, now) + T``. Each
        workspace (``team``, the token's) has its own buckets, as Slack counts limits per workspace.
        """
        gap = 1.0 / self.per_channel_per_sec if self.per_channel_per_sec > 0 else 0.0
        channel_tat = self._post_times.get((team, channel), -math.inf)
        channel_ready = channel_tat - (max(1, self.channel_burst) - 1) * gap
        if now < channel_ready:
            return max(1, math.ceil(channel_ready - now))
        if self.workspace_per_sec is not None and self.workspace_per_sec > 0:
            interval = 1.0 / self.workspace_per_sec
            tat = self._workspace_tats.get(team, -math.inf)
            ready = tat - (max(1, self.workspace_burst) - 1) * interval
            if now < ready:
                return max(1, math.ceil(ready - now))
            self._workspace_tats[team] = max(tat, now) + interval
        if self.workspace_per_min is not None:
            posts = self._workspace_posts[team] = [t for t in self._workspace_posts.get(team, []) if now - t < 60.0]
            if len(posts) >= self.workspace_per_min:
                return max(1, math.ceil(60.0 - (now - posts[0])))
            posts.append(now)
        self._post_times[(team, channel)] = max(channel_tat, now) + gap
        return None

    def _unfurl_rate_limit(self, now: float, team: str = "T0001") -> int | None:
        """Seconds to wait when this ``chat.unfurl`` would be the window's (``unfurls_per_minute`` + 1)th
        of the workspace (Tier 3 counts per workspace, like every Slack limit)."""
        assert self.unfurls_per_minute is not None
        calls = self._unfurl_calls[team] = [t for t in self._unfurl_calls.get(team, []) if now - t < 60.0]
        if len(calls) >= self.unfurls_per_minute:
            return max(1, math.ceil(60.0 - (now - calls[0])))
        calls.append(now)
        return None

    def _next_ts(self) -> str:
        self._ts_counter += 1
        return f"{1700000000 + self._ts_counter // 10000}.{(self._ts_counter % 10000) * 100:06d}"

    # answers (callers hold self._cond) -------------------------------------------------------------
    def _answer(self, call: Call) -> dict[str, Any]:
        custom = self._custom.get(call.method)
        if custom is not None:
            return dict(custom(call) if callable(custom) else custom)
        return self._handlers[call.method](call)

    def _channel_error(self, channel: str | None, *, posting: bool = False) -> dict[str, Any] | None:
        if not channel or channel in self.missing_channels:
            return {"ok": False, "error": "channel_not_found"}
        if posting and channel in self.archived_channels:
            return {"ok": False, "error": "is_archived"}
        if posting and channel in self.not_member_channels:
            return {"ok": False, "error": "not_in_channel"}
        return None

    def _auth_test(self, call: Call) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{call.team.lower()}.slack.com/",
            "team": self.teams.get(call.team, "Test Team"),
            "user": "papersbot",
            "team_id": call.team,
            "user_id": "UBOT",
            "bot_id": "BBOT",
            "is_enterprise_install": False,
        }

    def _message(self, call: Call, ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": "UBOT",
            "bot_id": "BBOT",
            "app_id": "A0001",
            "team": call.team,
            "text": call.args.get("text", ""),
            "ts": ts,
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if call.args.get(key) is not None:
                message[key] = call.args[key]
        return message

    def _chat_post_message(self, call: Call) -> dict[str, Any]:
        channel = call.channel
        if (err := self._channel_error(channel, posting=True)) is not None:
            return err
        assert channel is not None
        ts = self._next_ts()
        message = self._message(call, ts)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _chat_post_ephemeral(self, call: Call) -> dict[str, Any]:
        if (err := self._channel_error(call.channel)) is not None:
            return err
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, call: Call) -> dict[str, Any]:
        channel, ts = call.channel, str(call.args.get("ts", ""))
        if (err := self._channel_error(channel)) is not None:
            return err
        assert channel is not None
        old = self._messages.get((channel, ts))
        if old is None:
            return {"ok": False, "error": "message_not_found"}
        message = {**old, **self._message(call, ts), "edited": {"user": "UBOT", "ts": self._next_ts()}}
        if "blocks" not in call.args:
            message.pop("blocks", None)
        self._messages[(channel, ts)] = message
        return {"ok": True, "channel": channel, "ts": ts, "text": message["text"], "message": message}

    def _chat_unfurl(self, call: Call) -> dict[str, Any]:
        """Cards for a shared message's links: ``channel`` + ``ts`` or ``unfurl_id`` + ``source`` (the catalog:
        one pair or the other), ``unfurls`` a JSON map of URL -> ``{"blocks": [...]}`` whose blocks are
        checked like a message's; a URL the message does not hold (when known) is ``cannot_unfurl_url``."""
        args = call.args
        if args.get("unfurl_id") or args.get("source"):
            if not (args.get("unfurl_id") and args.get("source")):
                return {"ok": False, "error": "missing_unfurl_id" if args.get("source") else "missing_source"}
            if args["source"] not in ("composer", "conversations_history"):
                return {"ok": False, "error": "invalid_source"}
            target = ("composer", str(args["unfurl_id"]))
        else:
            if not args.get("channel"):
                return {"ok": False, "error": "missing_channel"}
            if not args.get("ts"):
                return {"ok": False, "error": "missing_ts"}
            if (err := self._channel_error(call.channel)) is not None:
                return {"ok": False, "error": "cannot_find_channel"} if err["error"] == "channel_not_found" else err
            target = (str(args["channel"]), str(args["ts"]))
        unfurls = args.get("unfurls")
        if not isinstance(unfurls, dict) or not unfurls or not all(isinstance(v, dict) for v in unfurls.values()):
            self.violations.append("chat.unfurl: unfurls is not a JSON map of URL -> attachment")
            return {"ok": False, "error": "invalid_unfurls_format"}
        known = self._shared_links.get(target)
        for url, unfurl in unfurls.items():
            if known is not None and url not in known:
                self.violations.append(f"chat.unfurl: {url!r} is not a link of {target}")
                return {"ok": False, "error": "cannot_unfurl_url"}
            if "blocks" in unfurl:
                problems, _ = check_blocks(unfurl["blocks"], schema_path=self.schema_path)
                if problems:
                    self.violations.extend(f"chat.unfurl {url}: {p}" for p in problems)
                    return {"ok": False, "error": "cannot_parse_attachment"}
        at = time.monotonic()
        self._unfurls.extend((target, url, unfurl, at) for url, unfurl in unfurls.items())
        return {"ok": True}

    def _chat_get_permalink(self, call: Call) -> dict[str, Any]:
        channel, ts = call.channel, str(call.args.get("message_ts", ""))
        if (err := self._channel_error(channel)) is not None:
            return err
        return {
            "ok": True,
            "channel": channel,
            "permalink": f"https://test.slack.com/archives/{channel}/p{ts.replace('.', '')}",
        }

    def _store_view(self, call: Call, view_id: str | None = None) -> dict[str, Any]:
        view = call.args.get("view")
        view = dict(view) if isinstance(view, dict) else {}
        if view_id is None:
            self._view_counter += 1
            view_id = f"V{self._view_counter:08d}"
        stored = {
            "id": view_id,
            "team_id": "T0001",
            "app_id": "A0001",
            "bot_id": "BBOT",
            "state": {"values": {}},
            "hash": f"{int(time.time())}.{view_id}",
            "root_view_id": view_id,
            "previous_view_id": None,
            "private_metadata": "",
            "callback_id": "",
            "external_id": "",
            **view,
        }
        self.views[view_id] = stored
        return stored

    def _views_open(self, call: Call) -> dict[str, Any]:
        return {"ok": True, "view": self._store_view(call)}

    def _views_update(self, call: Call) -> dict[str, Any]:
        view_id = call.args.get("view_id")
        if view_id is None and call.args.get("external_id"):
            view_id = next(
                (vid for vid, v in self.views.items() if v.get("external_id") == call.args["external_id"]), None
            )
        if not isinstance(view_id, str) or view_id not in self.views:
            return {"ok": False, "error": "not_found"}
        return {"ok": True, "view": self._store_view(call, view_id)}

    def _views_publish(self, call: Call) -> dict[str, Any]:
        user_id = str(call.args.get("user_id", ""))
        previous = self.home_views.get(user_id)
        view = self._store_view(call, previous["id"] if previous else None)
        self.home_views[user_id] = view
        return {"ok": True, "view": view}

    def _channel_object(self, channel: str) -> dict[str, Any]:
        private = channel in self.private_channels
        return {
            "id": channel,
            "name": f"channel-{channel.lower()}",
            "is_channel": not private,
            "is_group": private,
            "is_im": channel.startswith("D"),
            "is_mpim": False,
            "is_private": private,
            "is_archived": channel in self.archived_channels,
            "is_general": False,
            "is_member": channel not in self.not_member_channels,
            "created": 1700000000,
            "creator": "U0001",
            "context_team_id": "T0001",
        }

    def _conversations_info(self, call: Call) -> dict[str, Any]:
        if (err := self._channel_error(call.channel)) is not None:
            return err
        assert call.channel is not None
        return {"ok": True, "channel": self._channel_object(call.channel)}

    def _conversations_join(self, call: Call) -> dict[str, Any]:
        channel = call.channel
        if (err := self._channel_error(channel)) is not None:
            return err
        assert channel is not None
        if channel in self.private_channels:
            return {"ok": False, "error": "method_not_supported_for_channel_type"}
        if channel in self.archived_channels:
            return {"ok": False, "error": "is_archived"}
        self.not_member_channels.discard(channel)
        return {"ok": True, "channel": self._channel_object(channel)}

    def _conversations_history(self, call: Call) -> dict[str, Any]:
        """Every message the fake accepted in the channel (of the caller's workspace), newest first, in
        pages of ``limit`` (``cursor`` goes on); metadata only with ``include_all_metadata`` (as Slack
        does). The fake's ``ts`` are counters, not times, so ``oldest``/``latest`` cannot be honoured
        and are ignored (callers filter what they look for anyway).

        With ``history_per_minute``/``history_max_messages`` set, Slack's limits for apps outside its
        Marketplace hold: a second request within the minute is refused (429 is answered by
        ``_serve_api`` via ``history_retry_after``), and a page has at most that many messages; asking
        for more is recorded as a violation (Slack would silently return fewer)."""
        channel = call.channel
        if (err := self._channel_error(channel, posting=True)) is not None:
            return err  # like Slack, reading needs membership (not_in_channel) and an existing channel
        with_metadata = str(call.args.get("include_all_metadata", "")).lower() in ("1", "true")
        messages = [
            {k: v for k, v in m.items() if with_metadata or k != "metadata"}
            for (c, _ts), m in self._messages.items()
            if c == channel
            and m.get("team", "T0001") == call.team
            and m.get("thread_ts", m["ts"]) == m["ts"]  # thread replies stay in their thread
        ]
        messages.sort(key=lambda m: float(m["ts"]), reverse=True)
        limit = int(call.args.get("limit") or 100)
        if self.history_max_messages is not None:
            if limit > self.history_max_messages:
                self.violations.append(
                    f"conversations.history: limit={limit}, but this app may read {self.history_max_messages}"
                )
            limit = min(limit, self.history_max_messages)
        cursor = str(call.args.get("cursor") or "")
        start = int(cursor.removeprefix("offset:")) if cursor.startswith("offset:") else 0
        page = messages[start : start + limit]
        more = start + limit < len(messages)
        return {
            "ok": True,
            "messages": page,
            "has_more": more,
            "response_metadata": {"next_cursor": f"offset:{start + limit}" if more else ""},
        }

    def add_message(self, channel: str, text: str, *, user: str = "U0001", team: str = "T0001") -> str:
        """A message someone else wrote in ``channel`` (it shows in the channel's history); its ``ts``."""
        with self._cond:
            ts = self._next_ts()
            self._messages[(channel, ts)] = {"type": "message", "user": user, "team": team, "text": text, "ts": ts}
        return ts

    def history_retry_after(self, team: str) -> int | None:
        """Seconds until the workspace may read history again, or None (callers hold self._cond)."""
        if self.history_per_minute is None:
            return None
        now = self.history_clock()
        last = self._history_at.get(team)
        interval = 60.0 / self.history_per_minute
        if last is not None and now - last < interval:
            return max(1, math.ceil(interval - (now - last)))
        self._history_at[team] = now
        return None

    def _conversations_replies(self, call: Call) -> dict[str, Any]:
        """A thread: its parent, then its replies oldest first (Slack's order); metadata only with
        ``include_all_metadata``; no paging (the fake's threads are short)."""
        channel, ts = call.channel, str(call.args.get("ts", ""))
        if (err := self._channel_error(channel, posting=True)) is not None:
            return err
        if (channel, ts) not in self._messages:
            return {"ok": False, "error": "thread_not_found"}
        with_metadata = str(call.args.get("include_all_metadata", "")).lower() in ("1", "true")
        thread = [
            {k: v for k, v in m.items() if with_metadata or k != "metadata"}
            for (c, _ts), m in self._messages.items()
            if c == channel and (m["ts"] == ts or m.get("thread_ts") == ts) and m.get("team", "T0001") == call.team
        ]
        thread.sort(key=lambda m: float(m["ts"]))
        return {"ok": True, "messages": thread, "has_more": False, "response_metadata": {"next_cursor": ""}}

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """The replies in the thread of ``ts`` (not the parent), oldest first, metadata included."""
        with self._cond:
            replies = [m for (c, _), m in self._messages.items() if c == channel and m.get("thread_ts") == ts]
        return sorted((m for m in replies if m["ts"] != ts), key=lambda m: float(m["ts"]))

    def _conversations_open(self, call: Call) -> dict[str, Any]:
        users = str(call.args.get("users") or "")
        if not users or "," in users:
            return {"ok": False, "error": "users_list_not_supplied" if not users else "not_enough_users"}
        return {"ok": True, "channel": {"id": "D" + users.lstrip("UW")}}

    def _users_conversations(self, call: Call) -> dict[str, Any]:
        user = str(call.args.get("user") or "")
        channels = [self._channel_object(c) for c in self.user_channels.get(user, [])]
        return {"ok": True, "channels": channels, "response_metadata": {"next_cursor": ""}}

    def _files_get_upload_url(self, call: Call) -> dict[str, Any]:
        """Slack's step 1: a file id and an upload URL (here, on this server, so the bytes are seen)."""
        if self.uploads_disabled:
            return {"ok": False, "error": "file_uploads_disabled"}
        filename, length = call.args.get("filename"), str(call.args.get("length") or "")
        if not filename or not length.isdigit():
            return {"ok": False, "error": "invalid_arguments"}
        self._file_counter += 1
        file_id = f"F{self._file_counter:08d}"
        self.uploads[file_id] = {
            "id": file_id,
            "filename": filename,
            "length": int(length),
            "alt_txt": call.args.get("alt_txt"),
            "team": call.team,  # the workspace of the token that asked for the upload
            "data": None,
            "shared": False,
        }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _serve_upload(self, request: Incoming, file_id: str) -> Reply:
        """Slack's step 2: the bytes, POSTed to the URL step 1 handed out (no token; the URL is the secret)."""
        with self._cond:
            upload = self.uploads.get(file_id)
            if upload is None:
                self.violations.append(f"upload to an unknown URL {request.path}")
                return Reply(status=404, body=b"not found", content_type="text/plain")
            if len(request.body) != upload["length"]:
                self.violations.append(f"upload {file_id}: {len(request.body)} bytes, announced {upload['length']}")
            upload["data"] = request.body
            self._cond.notify_all()
        return Reply(status=200, body=f"OK - {len(request.body)}".encode(), content_type="text/plain")

    def _files_complete_upload(self, call: Call) -> dict[str, Any]:
        """Slack's step 3: share the uploaded files in a channel (or a thread of it)."""
        try:
            files = call.args.get("files")
            files = json.loads(files) if isinstance(files, str) else files
        except ValueError:
            files = None
        if not isinstance(files, list) or not files:
            return {"ok": False, "error": "invalid_arguments"}
        channel = call.args.get("channel_id")
        if channel is not None and (err := self._channel_error(str(channel), posting=True)) is not None:
            return err
        thread_ts = call.args.get("thread_ts")
        if thread_ts and (str(channel), str(thread_ts)) not in self._messages:
            return {"ok": False, "error": "invalid_thread_ts"}
        done = []
        for item in files:
            upload = self.uploads.get(str(item.get("id")))
            if upload is None or upload["data"] is None:
                return {"ok": False, "error": "file_not_found"}
            upload.update(
                shared=True,
                title=item.get("title"),
                channel_id=channel,
                thread_ts=thread_ts,
                initial_comment=call.args.get("initial_comment"),
            )
            done.append({"id": upload["id"], "name": upload["filename"], "title": item.get("title")})
        return {"ok": True, "files": done}

    def _users_info(self, call: Call) -> dict[str, Any]:
        user_id = call.args.get("user")
        if not isinstance(user_id, str) or not user_id:
            return {"ok": False, "error": "user_not_found"}
        user = {
            "id": user_id,
            "team_id": "T0001",
            "name": f"user-{user_id.lower()}",
            "real_name": f"User {user_id}",
            "deleted": False,
            "is_bot": False,
            "is_admin": user_id in self.admins or user_id in self.owners,
            "is_owner": user_id in self.owners,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "tz": "UTC",
            "tz_label": "Coordinated Universal Time",
            "tz_offset": 0,
            "profile": {"display_name": f"user-{user_id.lower()}", "real_name": f"User {user_id}"},
            **self.users.get(user_id, {}),
        }
        return {"ok": True, "user": user}


def _decode_args(request: Incoming) -> dict[str, Any]:
    """Query string + form or JSON body; JSON-encoded string arguments are decoded in place."""
    args: dict[str, Any] = dict(request.query)
    content_type = request.headers.get("content-type", "")
    if request.body:
        if "json" in content_type:
            try:
                data = json.loads(request.body)
            except ValueError:
                data = None
            if isinstance(data, dict):
                args.update(data)
            else:
                args["_invalid_json_body"] = request.body.decode("utf-8", "replace")
        else:
            args.update(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
    for key in _JSON_ARGS:
        value = args.get(key)
        if isinstance(value, str) and value.strip()[:1] in ("[", "{"):
            with contextlib.suppress(ValueError):
                args[key] = json.loads(value)
    return args
