"""HTTP mode: Bolt's ``POST /slack/events`` and ``GET /healthz`` on a threaded stdlib server.

Bolt's own ``app.start()`` server handles one request at a time; slash commands must be acked within
three seconds even when many arrive together, so each connection gets its own thread here: an idle
one from earlier connections when there is one, else a new one (never a queue, so a slow client
cannot hold up another's acknowledgement). Reusing threads matters: starting one makes the accept
loop wait for the new thread to get the GIL, and in a burst of 20 commands that wait was a third of
the slowest acknowledgement (``bench/bench_ack.py``).

With an ``InFlight``, a request counts from the moment its connection is accepted until its response
is written (or the connection ends); the listeners' work after ``ack()`` waits for that count to
reach zero (``handlers/later.py``), so a burst is acknowledged before it is answered.

Without an app (Socket Mode, ``worker``) the same server answers only ``GET /healthz``, so a
container's or an uptime service's health check works in every mode. ``/healthz`` answers 503 when
the process cannot do its job (``health_report``): a check that always said 200 would keep a bot
that posts nothing looking alive.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from slack_bolt import App, BoltRequest

from bot.slack.in_flight import InFlight
from bot.slack.oauth import InstallSite, WebResponse

__all__ = ["SlackHTTPServer", "health_report"]

logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # Slack payloads are small; refuse anything absurd
REPLAY_WINDOW = 6 * 60.0  # Slack's verifier accepts a request for 5 minutes; remember a little longer


class ReplayGuard:
    """The signed requests answered in the last ``REPLAY_WINDOW`` seconds, and the Events API events.

    Why: a signed request stays valid for five minutes, so the same bytes sent again (a replay, or a
    client retrying) would run the command twice: two subscribe notices, a paper shared twice. Slack
    itself retries an event it thinks was not acknowledged (``X-Slack-Retry-Num``) with a new
    signature but the same ``event_id``. Either repeat is acknowledged and not run again.
    """

    def __init__(self, window: float = REPLAY_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self._window = window
        self._clock = clock
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def first_time(self, key: str) -> bool:
        """True the first time ``key`` is seen within the window (and remembers it)."""
        now = self._clock()
        with self._lock:
            if len(self._seen) > 20_000:  # drop expired keys now and then; bounded memory under a flood
                self._seen = {k: t for k, t in self._seen.items() if t > now}
            if self._seen.get(key, 0.0) > now:
                return False
            self._seen[key] = now + self._window
            return True

    def forget(self, key: str) -> None:
        """The request was refused (bad signature): a genuine one with that key may still come."""
        with self._lock:
            self._seen.pop(key, None)


def malformed(body: str) -> str:
    """Why a request body cannot be one of Slack's (a JSON event that is not an object, a form
    ``payload`` that is not a JSON object), or "": such a request is refused with a 400 and one log
    line, before Bolt would fail on it with a traceback and no answer."""
    text = body.lstrip()
    if text.startswith("{"):
        try:
            data = json.loads(text)
        except ValueError:
            return "the JSON body does not parse"
        if data.get("type") == "event_callback" and not isinstance(data.get("event"), dict):
            return "an event_callback without an event object"
        return ""
    if "payload=" in body:
        values = parse_qs(body).get("payload") or [""]
        try:
            payload = json.loads(values[0])
        except ValueError:
            return "the form payload is not JSON"
        if not isinstance(payload, dict):
            return "the form payload is not a JSON object"
    return ""


def _event_id(body: str) -> str:
    if '"event_id"' not in body:
        return ""
    try:
        value = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        return ""
    return value if isinstance(value, str) else ""


def health_report(mode: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """``/healthz``'s body from the scheduler's ``state()``: ``ok`` is false, and ``problems`` says
    why, when this process cannot do its job, so the answer is a 503 a platform or uptime check acts on.

    * the post scheduler is not running: no post would go out from this process;
    * Slack rejected the bot token mid-run: the runner stops calling Slack until a restart (which
      re-checks the token and stops with one line if it is still dead), so only a restart helps;
    * the scheduler is stuck: no tick for 6 minutes, or one post run going for over 2 hours.

    A PostgreSQL standby (``leader: false``) is healthy: another process runs the posts.
    """
    problems = []
    if not state.get("running"):
        problems.append("the post scheduler is not running")
    if state.get("token_rejected"):
        problems.append(
            f"Slack rejected the bot token ({state['token_rejected']}); nothing is posted until a restart "
            "with a working SLACK_BOT_TOKEN"
        )
    if state.get("stuck"):
        problems.append(f"the post scheduler is stuck: {state['stuck']}")
    return {"ok": not problems, "problems": problems, "mode": mode, **state}


class Connection:
    """One accepted connection's state: waiting for its request since when (``waiting_since``, None
    while a request is being answered), so overdue and surplus connections can be closed."""

    __slots__ = ("served", "sock", "waiting_since")

    def __init__(self, sock: Any) -> None:
        self.sock = sock
        self.waiting_since: float | None = time.monotonic()
        self.served = 0  # requests answered on it; a kept-alive connection waits for its next one

    @property
    def answering(self) -> bool:
        return self.waiting_since is None

    def cut(self) -> None:
        """Its handler's pending read (or write) fails at once, and the handler closes it."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


class _Server(ThreadingHTTPServer):
    """A listen backlog of 128 instead of socketserver's 5: when Slack delivers a burst of commands
    (20 at once in bench/bench_ack.py), a full backlog drops connection attempts and the client's
    retransmit waits a whole second, a third of Slack's 3-second budget.

    A connection goes to an idle connection thread, or to a new one when none is idle; a thread
    idle for ``idle_timeout`` seconds ends. ``server_close`` waits for every thread, as
    ``ThreadingMixIn`` does.

    Hostile clients (slow-loris: many connections that trickle a request and never finish it) are
    bounded two ways, so they can neither hold threads and descriptors without limit nor starve
    Slack's requests. A request must arrive whole (request line, headers, body) within
    ``request_deadline`` seconds of the connection waiting for it: Slack sends its small requests in
    milliseconds, and an idle keep-alive connection is closed after the same time. At most
    ``max_connections`` are open: one more closes the connection that has waited longest for its
    request (the slowest sender, never a request being answered), and only when every connection is
    being answered is the newcomer refused with a 503 (``bench/bench_ack.py`` measures the
    acknowledgements under 1,500 such connections)."""

    request_queue_size = 128
    idle_timeout = 60.0
    max_connections = 256
    request_deadline = 10.0
    in_flight: InFlight | None = None

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        # Before binding: a failed bind (port in use) calls server_close, which needs these; set after,
        # they turned the bind's OSError into an AttributeError.
        self._connections: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0  # threads waiting for a connection that none has been promised to yet
        self._workers: set[threading.Thread] = set()
        self.closing = threading.Event()  # set by server_close: answers say "Connection: close"
        self.open_connections: dict[Any, Connection] = {}  # socket -> its state, from accept to close
        self._last_sweep = 0.0
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        """Counted in flight at accept (on this thread), before a thread even picks it up."""
        if not self._make_room():
            self._refuse(request)
            return
        if self.in_flight is not None:
            self.in_flight.enter()
        try:
            with self._lock:
                self.open_connections[request] = Connection(request)
            with self._lock:
                if self._idle:
                    self._idle -= 1
                    self._connections.put((request, client_address))
                    return
            thread = threading.Thread(
                target=self._serve_connections, args=(request, client_address), name="http-request", daemon=True
            )
            with self._lock:
                self._workers.add(thread)
            try:
                thread.start()
            except BaseException:
                with self._lock:
                    self._workers.discard(thread)
                raise
        except BaseException:
            with self._lock:
                self.open_connections.pop(request, None)
            if self.in_flight is not None:
                self.in_flight.leave()
            raise

    def _make_room(self) -> bool:
        """Below ``max_connections``, or made so by closing the connection that has waited longest for
        its request; False when every open connection is being answered."""
        with self._lock:
            if len(self.open_connections) < self.max_connections:
                return True
            waiting = [c for c in self.open_connections.values() if c.waiting_since is not None]
            if not waiting:
                return False
            slowest = min(waiting, key=lambda c: c.waiting_since or 0.0)
            del self.open_connections[slowest.sock]
        slowest.cut()
        return True

    def _refuse(self, request: Any) -> None:
        logger.warning("refused a connection: all %d are being answered", self.max_connections)
        with contextlib.suppress(OSError):
            request.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        self.shutdown_request(request)

    def service_actions(self) -> None:
        """Called by ``serve_forever`` between accepts: close connections whose request is overdue."""
        now = time.monotonic()
        if now - self._last_sweep < 0.5:
            return
        self._last_sweep = now
        with self._lock:
            overdue = [
                c
                for c in self.open_connections.values()
                if c.waiting_since is not None and now - c.waiting_since > self.request_deadline
            ]
            for connection in overdue:
                del self.open_connections[connection.sock]
        for connection in overdue:
            connection.cut()

    def _cut_waiting(self, grace: float) -> None:
        """End the connections that wait for a request: a kept-alive one at once (its pending read returns
        and the handler ends), a new one once it has waited ``grace`` seconds, since a request whose
        bytes are on their way was accepted and is answered."""
        start = time.monotonic()
        while True:
            now = time.monotonic()
            with self._lock:
                waiting = [c for c in self.open_connections.values() if c.waiting_since is not None]
            for connection in waiting:
                if connection.served or now - start >= grace or now - (connection.waiting_since or now) >= grace:
                    connection.cut()
            if not waiting or now - start >= grace:
                return
            time.sleep(0.02)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """One line, not socketserver's traceback on stderr: a client that hangs up or is cut off is
        ordinary on an open port."""
        error = sys.exc_info()[1]
        if isinstance(error, OSError):
            logger.info("a connection ended early (%s)", type(error).__name__)
        else:
            logger.exception("unexpected error while answering a connection")

    def close_request(self, request: Any) -> None:
        with self._lock:
            self.open_connections.pop(request, None)
        super().close_request(request)

    def _serve_connections(self, request: Any, client_address: Any) -> None:
        try:
            connection: tuple[Any, Any] | None = (request, client_address)
            while connection is not None:
                self.process_request_thread(*connection)  # handles errors and closes the socket
                connection = self._next_connection()
        finally:
            with self._lock:
                self._workers.discard(threading.current_thread())

    def _next_connection(self) -> tuple[Any, Any] | None:
        """The next connection for this thread, or None when it should end (idle too long, closing)."""
        with self._lock:
            self._idle += 1
        while True:
            try:
                return self._connections.get(timeout=self.idle_timeout)
            except queue.Empty:
                with self._lock:
                    if self._idle:  # no connection is on its way to this thread: end it
                        self._idle -= 1
                        return None
                # process_request promised a connection to an idle thread just now: take it

    def server_close(self, timeout: float = 10.0) -> None:
        """Stop listening, end every connection that waits for its next request (a kept-alive one would
        otherwise hold its thread until the client hangs up), let the ones being answered finish, and
        wait for their threads up to ``timeout``."""
        self.closing.set()
        super().server_close()
        with self._lock:
            workers = list(self._workers)
        self._cut_waiting(grace=min(1.0, timeout))
        for _ in workers:
            self._connections.put(None)
        deadline = time.monotonic() + timeout
        for thread in workers:
            thread.join(max(0.0, deadline - time.monotonic()))


class SlackHTTPServer:
    """``POST /slack/events`` to ``app`` and ``GET /healthz``; with ``app=None``, only the health check.

    ``health`` returns the body; its ``ok`` chooses 200 or 503. Binding happens here, so a port in
    use raises ``OSError`` before anything else starts."""

    def __init__(
        self,
        app: App | None,
        *,
        port: int,
        host: str = "0.0.0.0",
        health: Callable[[], dict[str, Any]] | None = None,
        in_flight: InFlight | None = None,
    ) -> None:
        self.app = app
        # OAuth mode: "/", "/slack/install" and "/slack/oauth_redirect" (bot/slack/oauth.py)
        self.pages = InstallSite(app.oauth_flow).handle if app is not None and app.oauth_flow is not None else None
        self.replays = ReplayGuard()
        self.health = health or (lambda: {"ok": True})
        self.in_flight = in_flight
        handler = _make_handler(self)
        self.httpd = _Server((host, port), handler)
        self.httpd.in_flight = in_flight
        self._thread: threading.Thread | None = None

    def page(self, path: str, query: str, headers: Any) -> WebResponse | None:
        """One of OAuth mode's pages, or None; a failure behind it (the database) is a 503, not a
        dropped connection, and its details stay in the log."""
        assert self.pages is not None
        try:
            return self.pages(path, query, {k: v for k, v in headers.items()})
        except Exception:
            logger.exception("the page %s failed", path)
            return WebResponse(503, b"papers-bot is temporarily unavailable; please try again.", {})

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.25)

    def start_background(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop accepting, end idle connections, let requests being answered finish (``timeout``)."""
        self.httpd.shutdown()
        self.httpd.server_close(timeout)


def _make_handler(server: SlackHTTPServer) -> type[BaseHTTPRequestHandler]:
    in_flight = server.in_flight

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Every read on the socket (request line, headers, body) gives up after this long: a client
        # that trickles its request (slow-loris) or keeps an idle connection frees its thread.
        timeout = 30
        _unanswered = False  # this connection's request is counted in ``in_flight``

        def setup(self) -> None:
            self._unanswered = in_flight is not None  # the server counted it at accept
            try:
                super().setup()
            except BaseException:
                self._answered()
                raise

        def parse_request(self) -> bool:
            if in_flight is not None and not self._unanswered:  # a further request on a kept-alive connection
                in_flight.enter()
                self._unanswered = True
            return super().parse_request()

        def _waiting(self, waiting: bool) -> None:
            """The connection waits for a request (closable when overdue), or has one to answer."""
            connection = server.httpd.open_connections.get(self.connection)
            if connection is not None:
                connection.waiting_since = time.monotonic() if waiting else None
                if waiting:
                    connection.served += 1

        def finish(self) -> None:
            try:
                super().finish()
            finally:
                self._answered()

        def _answered(self) -> None:
            if self._unanswered and in_flight is not None:
                self._unanswered = False
                in_flight.leave()

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("%s %s", self.address_string(), format % args)

        def _send(self, status: int, body: bytes, headers: Mapping[str, Sequence[str]] | None = None) -> None:
            self.send_response(status)
            if server.httpd.closing.is_set():
                self.send_header("Connection", "close")  # shutting down: this answer is the last one
            for name, values in (headers or {}).items():
                if name.lower() == "content-length":
                    continue
                for value in values:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            self._answered()
            self._waiting(True)  # a kept-alive connection has ``request_deadline`` for its next request

        def do_GET(self) -> None:
            self._waiting(False)
            parts = urlsplit(self.path)
            path = parts.path
            if path in ("/healthz", "/health"):
                state = server.health()
                body = json.dumps(state).encode()
                self._send(200 if state.get("ok") else 503, body, {"Content-Type": ["application/json"]})
                return
            page = server.page(path, parts.query, self.headers) if server.pages is not None else None
            if page is not None:
                self._send(page.status, page.body, page.headers)
            else:
                self._send(404, b"not found", {"Content-Type": ["text/plain"]})

        def do_POST(self) -> None:
            parts = urlsplit(self.path)
            if server.app is None or parts.path != "/slack/events":
                self._send(404, b"not found", {"Content-Type": ["text/plain"]})
                return
            declared = (self.headers.get("Content-Length") or "0").strip()
            if not declared.isdigit() or len(self.headers.get_all("Content-Length") or []) > 1:
                # "-1" would read until the client closes (unbounded memory); junk would be a 500.
                self.close_connection = True
                self._send(400, b"bad content-length", {"Content-Type": ["text/plain"]})
                return
            length = int(declared)
            if length > MAX_BODY:
                self.close_connection = True
                self._send(413, b"payload too large", {"Content-Type": ["text/plain"]})
                return
            body = self.rfile.read(length).decode("utf-8", errors="replace")
            self._waiting(False)
            timestamp = self.headers.get("X-Slack-Request-Timestamp")
            if timestamp is not None and not timestamp.strip().isdigit():
                # slack_sdk's verifier raises on a non-numeric timestamp (a 500); it is a forgery: 401.
                self._send(401, b"invalid request", {"Content-Type": ["text/plain"]})
                return
            problem = malformed(body)
            if problem:
                logger.info("refused a malformed request: %s", problem)
                self._send(400, b"malformed request", {"Content-Type": ["text/plain"]})
                return
            keys = [k for k in (self.headers.get("X-Slack-Signature", ""), _event_id(body)) if k]
            if not all([server.replays.first_time(k) for k in keys]):  # a list: every key is remembered
                # Answered before: acknowledge again (Slack stops retrying) and do nothing more.
                logger.info("a repeated request (replay or Slack retry) was acknowledged and not run again")
                self._send(200, b"", {"Content-Type": ["text/plain"]})
                return
            headers: dict[str, str | Sequence[str]] = {k.lower(): [v] for k, v in self.headers.items()}
            try:
                response = server.app.dispatch(BoltRequest(body=body, query=parts.query, headers=headers))
            except Exception as exc:  # a body Bolt cannot read: one line and an answer, never a dropped socket
                logger.warning("refused a request Bolt could not read (%s)", type(exc).__name__)
                self._send(400, b"malformed request", {"Content-Type": ["text/plain"]})
                return
            if response.status == 401:
                for key in keys:
                    server.replays.forget(key)
            self._send(response.status, (response.body or "").encode(), response.headers)

    return Handler
