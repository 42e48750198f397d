"""HTTP mode: Bolt's ``POST /slack/events`` and ``GET /healthz`` on a threaded stdlib server.

Bolt's own ``app.start()`` server handles one request at a time; slash commands must be acked within
three seconds even when many arrive together, so each request gets its own thread here.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from slack_bolt import App, BoltRequest

__all__ = ["SlackHTTPServer"]

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack payloads are small; refuse anything absurd


class _Server(ThreadingHTTPServer):
    """A listen backlog of 128 instead of socketserver's 5: when Slack delivers a burst of commands
    (20 at once in bench/bench_ack.py), a full backlog drops connection attempts and the client's
    retransmit waits a whole second, a third of Slack's 3-second budget."""

    request_queue_size = 128


class SlackHTTPServer:
    def __init__(
        self,
        app: App,
        *,
        port: int,
        host: str = "0.0.0.0",
        health: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.app = app
        self.health = health or (lambda: {"ok": True})
        handler = _make_handler(self)
        self.httpd = _Server((host, port), handler)
        self.httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.25)

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()

    def shutdown(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _make_handler(server: SlackHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, headers: dict[str, list[str]] | None = None) -> None:
            self.send_response(status)
            for name, values in (headers or {}).items():
                if name.lower() == "content-length":
                    continue
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path in ("/healthz", "/health"):
                state = server.health()
                body = json.dumps(state).encode()
                self._send(200, body, {"Content-Type": ["application/json"]})
            else:
                self._send(404, b"not found", {"Content-Type": ["text/plain"]})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if parts.path != "/slack/events":
                self._send(404, b"not found", {"Content-Type": ["text/plain"]})
                return
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._send(413, b"payload too large", {"Content-Type": ["text/plain"]})
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            timestamp = self.headers.get("X-Slack-Request-Timestamp")
            if timestamp is not None and not timestamp.strip().isdigit():
                # slack_sdk's verifier raises on a non-numeric timestamp (a 500); it is a forgery: 401.
                self._send(401, b"invalid request", {"Content-Type": ["text/plain"]})
                return
            headers = {k.lower(): [v] for k, v in self.headers.items()}
            response = server.app.dispatch(BoltRequest(body=body, query=parts.query, headers=headers))
            self._send(response.status, (response.body or "").encode(), response.headers)

    return Handler
