"""The acknowledgement path: the HTTP server's in-flight count, its reused connection threads, and
``later`` letting a burst's acknowledgements go before the answers (``bench/bench_ack.py`` measures it)."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from slack_bolt import App

from bot.slack.in_flight import InFlight
from bot.slack.server import SlackHTTPServer
from handlers.later import on_pool


class Health:
    """A ``/healthz`` that can be held open, so a request stays in flight as long as a test wants."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.release.set()
        self.entered = threading.Event()
        self.threads: list[int] = []

    def __call__(self) -> dict[str, Any]:
        self.threads.append(threading.get_ident())
        self.entered.set()
        self.release.wait(5)
        return {"ok": True}


@pytest.fixture
def in_flight() -> InFlight:
    return InFlight()


@pytest.fixture
def health() -> Health:
    return Health()


@pytest.fixture
def server(in_flight: InFlight, health: Health) -> Iterator[SlackHTTPServer]:
    app = App(token="xoxb-test", signing_secret="secret", token_verification_enabled=False)
    running = SlackHTTPServer(app, port=0, host="127.0.0.1", health=health, in_flight=in_flight)
    running.start_background()
    yield running
    health.release.set()
    running.shutdown()


def url(server: SlackHTTPServer) -> str:
    return f"http://127.0.0.1:{server.port}/healthz"


def wait_until(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def test_a_request_is_in_flight_until_its_response_is_written(
    server: SlackHTTPServer, in_flight: InFlight, health: Health
) -> None:
    health.release.clear()
    answers: list[int] = []
    client = threading.Thread(target=lambda: answers.append(httpx.get(url(server), timeout=5).status_code))
    client.start()
    assert health.entered.wait(5)
    assert in_flight.count == 1
    assert not in_flight.wait_idle(0.05)
    health.release.set()
    client.join(5)
    assert answers == [200]
    assert in_flight.wait_idle(2)


def test_an_idle_kept_alive_connection_is_not_in_flight(server: SlackHTTPServer, in_flight: InFlight) -> None:
    with httpx.Client(timeout=5) as client:  # keep-alive: the connection stays open between requests
        assert client.get(url(server)).status_code == 200
        assert in_flight.wait_idle(2)
        assert client.get(url(server)).status_code == 200
        assert in_flight.wait_idle(2)
        assert in_flight.count == 0


def test_a_connection_closed_without_a_request_leaves_nothing_in_flight(
    server: SlackHTTPServer, in_flight: InFlight
) -> None:
    with socket.create_connection(("127.0.0.1", server.port)):
        pass
    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        sock.sendall(b"NONSENSE\r\n\r\n")  # an error page, written by the stdlib and not by our handler
        assert sock.recv(100)
    assert in_flight.wait_idle(2)


def test_connection_threads_are_reused_and_end_with_the_server(
    in_flight: InFlight, health: Health, server: SlackHTTPServer
) -> None:
    for _ in range(5):
        with httpx.Client(timeout=5) as client:
            assert client.get(url(server)).status_code == 200
        wait_until(lambda: server.httpd._idle == 1)  # the thread went back to wait for a connection
    assert len(set(health.threads)) == 1
    server.shutdown()
    assert not [t for t in threading.enumerate() if t.name == "http-request"]


def test_simultaneous_connections_each_get_a_thread(server: SlackHTTPServer, health: Health) -> None:
    health.release.clear()
    results: list[int] = []
    clients = [
        threading.Thread(target=lambda: results.append(httpx.get(url(server), timeout=5).status_code)) for _ in range(5)
    ]
    for client in clients:
        client.start()
    wait_until(lambda: len(health.threads) == 5)  # all five held at once: none waits for another
    health.release.set()
    for client in clients:
        client.join(5)
    assert results == [200] * 5


def test_later_waits_for_the_requests_in_flight() -> None:
    in_flight = InFlight()
    ran = threading.Event()
    with ThreadPoolExecutor(max_workers=2) as pool:
        later = on_pool(pool, in_flight, max_wait=5.0)
        in_flight.enter()
        later(ran.set)
        assert not ran.wait(0.1)
        in_flight.leave()
        assert ran.wait(2)


def test_later_waits_at_most_max_wait() -> None:
    in_flight = InFlight()
    in_flight.enter()  # a request that never finishes
    ran = threading.Event()
    with ThreadPoolExecutor(max_workers=1) as pool:
        started = time.monotonic()
        on_pool(pool, in_flight, max_wait=0.1)(ran.set)
        assert ran.wait(2)
    assert 0.09 <= time.monotonic() - started < 1.5


def test_later_logs_what_the_work_lets_out(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise RuntimeError("boom")

    with ThreadPoolExecutor(max_workers=1) as pool, caplog.at_level(logging.ERROR, logger="handlers.later"):
        on_pool(pool)(broken)
    assert "after ack()" in caplog.text
    assert "boom" in caplog.text


def test_a_port_in_use_is_an_os_error_naming_it() -> None:
    """The CLI turns this OSError into its one start-up line; an AttributeError from the half-built
    server (its state was set after binding) used to replace it."""
    import socket

    import pytest

    from bot.slack.server import SlackHTTPServer

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with pytest.raises(OSError, match="in use"):
            SlackHTTPServer(None, port=taken.getsockname()[1], host="127.0.0.1")
