"""Slack's refusals become SlackError with Slack's own code; an HTML page from Slack (or a proxy in
front of it) during an incident is an upstream failure to retry, and its text never travels on."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

from bot.errors import SlackError
from bot.slack.client import SlackPoster, make_web_client


class _Incident(http.server.BaseHTTPRequestHandler):
    status = 502
    body = b"<html><body><h1>502 Bad Gateway</h1><script>x</script></body></html>"
    content_type = "text/html"

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(self.status)
        self.send_header("Content-Type", self.content_type)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def incident() -> Iterator[tuple[type[_Incident], SlackPoster]]:
    handler = type("Handler", (_Incident,), {})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    poster = SlackPoster(make_web_client("xoxb-test", f"http://127.0.0.1:{server.server_port}/", rate_limit_retries=0))
    poster.pacer.reconfigure(1000, burst=1000, key_interval=0.001, key_burst=1000)
    yield handler, poster
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status", [502, 503, 200])
def test_an_html_page_instead_of_json_is_a_retryable_upstream_failure(
    incident: tuple[type[_Incident], SlackPoster], status: int
) -> None:
    handler, poster = incident
    handler.status = status
    for call in (
        lambda: poster.post_message("C0001", text="hello"),
        lambda: poster.open_view("trigger", {"type": "modal"}),
        lambda: poster.history("C0001", oldest="0"),
    ):
        with pytest.raises(SlackError) as refused:
            call()
        assert refused.value.code == "service_unavailable" and refused.value.retryable
        assert "<" not in str(refused.value)


def test_slack_codes_in_json_pass_through(incident: tuple[type[_Incident], SlackPoster]) -> None:
    handler, poster = incident
    handler.status, handler.content_type = 200, "application/json"
    handler.body = b'{"ok": false, "error": "not_in_channel"}'
    with pytest.raises(SlackError) as refused:
        poster.post_message("C0001", text="hello")
    assert refused.value.code == "not_in_channel" and not refused.value.retryable
