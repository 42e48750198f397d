"""Hostile and bad input: forged requests are refused with 401 and change nothing; hostile command
text and paper data come back escaped, inert and within Slack's limits; bad settings are refused
with a clear reason and nothing stored.

The ``fake_slack`` fixture fails any test whose replies or posts break Slack's documented limits or
Block Kit schema, so "valid" here is checked by the fake, not asserted by hand.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import time
from datetime import timedelta
from urllib.parse import urlsplit

import pytest

from tests.conftest import SIGNING_SECRET, Clock, RunningBot, texts_of
from tests.fakes import FakeHF, FakeSlack, event_callback_body, make_entry, signed_headers, slash_command_body
from tests.reliability.conftest import FRIDAY_0900, THURSDAY, digest_posts, subscribe

# ----- signatures ---------------------------------------------------------------------------------


def _forgeries(body: str) -> dict[str, dict[str, str]]:
    now = int(time.time())
    good = signed_headers(body, SIGNING_SECRET, now)
    return {
        "no headers": {"Content-Type": "application/x-www-form-urlencoded"},
        "no signature": {k: v for k, v in good.items() if k != "X-Slack-Signature"},
        "no timestamp": {k: v for k, v in good.items() if k != "X-Slack-Request-Timestamp"},
        "wrong secret": signed_headers(body, "not-the-signing-secret", now),
        "stale (6 minutes)": signed_headers(body, SIGNING_SECRET, now - 360),
        "from the future": signed_headers(body, SIGNING_SECRET, now + 360),
        "non-numeric timestamp": {**good, "X-Slack-Request-Timestamp": "yesterday"},
        "signature of another body": {
            **good,
            "X-Slack-Signature": signed_headers(body + "&x=1", SIGNING_SECRET, now)["X-Slack-Signature"],
        },
        "malformed signature": {**good, "X-Slack-Signature": "v0=zz"},
    }


@pytest.mark.parametrize("forgery", list(_forgeries("")))
def test_forged_requests_get_401_and_change_nothing(
    bot: RunningBot, clock: Clock, fake_slack: FakeSlack, forgery: str
) -> None:
    subscribe(bot, clock, "C0001")
    fake_slack.reset()
    before = bot.store.channels()
    command = slash_command_body("unsubscribe", channel_id="C0001", response_url=fake_slack.response_url("x"))
    uninstall = event_callback_body({"type": "app_uninstalled"})
    for body in (command, uninstall):
        response = bot.http.post("/slack/events", content=body.encode(), headers=_forgeries(body)[forgery])
        assert response.status_code == 401, (forgery, response.status_code)
    time.sleep(0.2)  # give a wrongly accepted request time to act
    assert bot.store.channels() == before  # still subscribed, not paused
    assert fake_slack.calls() == [] and fake_slack.responses() == []


# ----- slash-command text -------------------------------------------------------------------------

HOSTILE = [
    "",
    "   \t ",
    "x" * 10_000,
    "search " + "word " * 2_000,
    "ctl \x00\x01\x07\x1b[31mred\x1b[0m \x7f",
    "\u202eevil\u202c \u200f\u200e rtl",
    "📚🔥 emoji 👩‍🔬",
    "<!channel>",
    "<!here> <!everyone>",
    "<@U123> <#C999> <!subteam^S1>",
    "<https://evil.example|click me>",
    "*bold* _it_ ~strike~ `code` ```block``` > quote",
    "&amp; &lt; &gt; & < >",
    "(a+)+$ [[ (?<x>",
]
SUBCOMMANDS = ["", "subscribe ", "follow ", "exclude ", "unfollow ", "set max-papers ", "preview ", "status "]
_RAW = re.compile(r"<(?![a-z]+://(?:huggingface\.co|arxiv\.org|github\.com)/)[^<>]*>")  # any <…> we did not build


@pytest.mark.parametrize("prefix", SUBCOMMANDS, ids=lambda p: p.strip() or "bare")
def test_hostile_command_text_gets_an_escaped_sensible_private_reply(
    bot: RunningBot, fake_slack: FakeSlack, fake_hf: FakeHF, prefix: str
) -> None:
    for text in HOSTILE:
        result = bot.command(prefix + text)
        shown = result.text
        assert result.status == 200 and result.reply is not None, text[:40]
        assert result.reply.get("response_type", "ephemeral") == "ephemeral"
        assert shown.strip(), f"empty reply to {text[:40]!r}"
        assert "Something went wrong" not in shown, (prefix, text[:40], shown[:300])
        raw = [m for m in _RAW.findall(shown) if not m.startswith(("<@U0001>", "<#C0001>"))]
        assert raw == [], (prefix, text[:40], raw)
        assert len(shown) < 15_000, (prefix, len(shown))
        assert "\x00" not in shown and "\x1b" not in shown
    for post in fake_slack.posts():  # e.g. the subscription notice: it must not ping anyone either
        assert not _RAW.findall(texts_of(post.args).replace("<@U0001>", ""))


# ----- paper data ---------------------------------------------------------------------------------


@pytest.mark.parametrize("post_format", ["full", "compact"])
def test_hostile_paper_data_posts_valid_and_inert(
    bot: RunningBot, clock: Clock, fake_hf: FakeHF, fake_slack: FakeSlack, post_format: str
) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry(
            "2608.00001",
            "<!everyone> <script>alert(1)</script> & a|b> <https://evil.example|arxiv.org>",
            upvotes=90,
            day=THURSDAY,
            authors=("<!here>", "Bob & <@U1>", *(f"Author {i}" for i in range(598))),
            abstract=r"We show $\frac{a}{b} < c$ & $x > y$ with \textbf{<b>bold</b>} \\ and <!channel>.",
            ai_summary="<!channel> *not bold* `tick` ~x~ <#C1>",
            github_repo="https://github.com/o/r",
        ),
        make_entry("2608.00002", "T" * 2_000, upvotes=80, day=THURSDAY, abstract="Long. " * 2_000),
        make_entry("2608.00003", "Ünïcødé ☃ \u202e RTL title", upvotes=70, day=THURSDAY),
    ]
    subscribe(bot, clock, "C0001")
    bot.store.update_channel("C0001", lambda c: c.replace(post_format=post_format))

    summary = bot.services.runner.run_due(FRIDAY_0900)

    assert summary.ok
    posts = digest_posts(fake_slack, "C0001")
    assert posts, "nothing posted"
    for post in posts:
        text = texts_of(post.args)
        assert _RAW.findall(text) == [], _RAW.findall(text)[:5]
        assert "<script>" not in text and "&lt;script&gt;" in text
        assert len(post.args["text"]) <= 40_000
    assert all(f"papers/2608.0000{i}" in "".join(texts_of(p.args) for p in posts) for i in (1, 2, 3))


# ----- settings -----------------------------------------------------------------------------------

BAD_SETTINGS = [
    ("subscribe 09:00 Mars/Olympus", "not a time zone"),
    ("subscribe 09:00 ../../etc/passwd", "not a time zone"),
    ("subscribe 25:00", "not a valid time"),
    ("subscribe 12:61", "not a valid time"),
    ("subscribe 24:00 UTC", "not a valid time"),
    ("set max-papers -1", "from 1 to 50"),
    ("set max-papers 10000", "from 1 to 50"),
    ("set max-papers 0", "from 1 to 50"),
    ("set max-papers 9" + "9" * 400, "from 1 to 50"),
    ("set min-upvotes -3", "from 0 to"),
    ("set colour blue", "max-papers"),
    ("follow " + ", ".join(f"topic {i}" for i in range(500)), "at most 50 topics"),
]


@pytest.mark.parametrize(("text", "expected"), BAD_SETTINGS, ids=[t[:28] for t, _ in BAD_SETTINGS])
def test_bad_settings_are_refused_clearly_and_store_nothing(
    bot: RunningBot, clock: Clock, text: str, expected: str
) -> None:
    subscribe(bot, clock, "C0001", "08:00 Europe/Berlin")
    before = bot.store.get_channel("C0001")
    reply = bot.command(text).text
    assert expected in reply, reply[:500]
    assert len(reply) < 3_000  # the whole bad input is not echoed back
    assert bot.store.get_channel("C0001") == before


def test_duplicate_topics_are_stored_once(bot: RunningBot, clock: Clock) -> None:
    bot.command("follow diffusion, Diffusion, DIFFUSION, diffusion")
    bot.command("follow diffusion")
    config = bot.store.get_channel("C0001")
    assert config.filter_text.casefold().count("diffusion") == 1


def test_a_full_topic_list_refuses_more_and_keeps_what_is_there(bot: RunningBot, clock: Clock) -> None:
    assert "topic 49" in bot.command("follow " + ", ".join(f"topic {i}" for i in range(50))).text.replace('"', "")
    before = bot.store.get_channel("C0001")
    reply = bot.command("follow one more").text
    assert "at most 50 topics" in reply
    assert bot.store.get_channel("C0001").filter_text == before.filter_text
    clock.advance(minutes=1)
    assert timedelta(0) < timedelta(minutes=1)


@pytest.mark.parametrize("length", ["-1", "abc", "1e3", "99999999999"])
def test_a_bad_content_length_is_refused_before_anything_is_read(bot: RunningBot, length: str) -> None:
    """``Content-Length: -1`` used to read until the client hung up (two such connections took the
    bot from 52 MB to 3.9 GB); it is refused at once, unsigned or not, and the connection closed."""
    import socket
    from urllib.parse import urlsplit

    parts = urlsplit(bot.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(
            f"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {length}\r\n\r\n{{}}".encode()
        )
        answer = conn.recv(4096).decode()
    assert answer.startswith(("HTTP/1.1 400", "HTTP/1.1 413")), answer
    assert bot.http.get("/healthz").status_code in (200, 503)  # and the server goes on answering


def test_a_replayed_command_or_a_retried_event_is_acknowledged_and_not_run_twice(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    body = slash_command_body(
        "subscribe 08:00 UTC", channel_id="C0777", response_url=fake_slack.response_url("replayed")
    )
    moment = int(time.time())
    assert bot.post(body, timestamp=moment).status_code == 200
    fake_slack.wait_for_responses(1, name="replayed")
    assert bot.post(body, timestamp=moment).status_code == 200  # the very same signed request again
    time.sleep(0.5)
    bot.listener_pool.settle()
    assert len(fake_slack.responses("replayed")) == 1
    assert len(fake_slack.posts("C0777")) == 1  # one "subscribed" notice in the channel, not two
    history = bot.store.get_channel("C0777").history
    assert [h.summary for h in history].count(history[-1].summary) == 1

    # Slack retrying an event: a new signature, the same event_id; run once, acknowledged twice.
    event = json.dumps(
        {
            "type": "event_callback",
            "team_id": "T0001",
            "event_id": "Ev0REPLAY",
            "event_time": moment,
            "event": {"type": "app_home_opened", "user": "U0042", "tab": "home"},
        }
    )
    assert bot.post(event, timestamp=moment).status_code == 200
    assert bot.post(event, timestamp=moment + 1).status_code == 200
    time.sleep(0.5)
    bot.listener_pool.settle()
    assert len(fake_slack.calls("views.publish")) == 1


def test_a_forged_copy_does_not_block_the_genuine_request(bot: RunningBot, fake_slack: FakeSlack) -> None:
    body = slash_command_body("status", channel_id="C0778", response_url=fake_slack.response_url("genuine"))
    moment = int(time.time())
    genuine = signed_headers(body, SIGNING_SECRET, moment)
    forged = {**genuine, "X-Slack-Signature": genuine["X-Slack-Signature"]}
    assert bot.http.post("/slack/events", content=(body + "&x=1").encode(), headers=forged).status_code == 401
    assert bot.http.post("/slack/events", content=body.encode(), headers=genuine).status_code == 200
    fake_slack.wait_for_responses(1, name="genuine")


@pytest.mark.parametrize(
    "body",
    [
        "payload=%7Bnot-json",
        "payload=%5B1%2C2%5D",
        '{"type": "event_callback", "event": "x"}',
        '{"type": "event_callback", "event": ',
    ],
    ids=["payload-not-json", "payload-a-list", "event-not-an-object", "json-cut-short"],
)
def test_a_malformed_body_signed_or_not_gets_a_400_and_one_log_line(
    bot: RunningBot, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.INFO)
    assert bot.post(body).status_code == 400  # signed
    assert bot.http.post("/slack/events", content=body.encode()).status_code == 400  # unsigned
    assert not [r for r in caplog.records if r.exc_info], "no traceback in the log"
    assert sum("malformed request" in r.getMessage() for r in caplog.records) == 2
    assert bot.store.channels() == []


# ----- slow clients (slow-loris) ------------------------------------------------------------------


def _trickling(bot: RunningBot, n: int) -> list[socket.socket]:
    """``n`` connections that sent half a request head and nothing more."""
    parts = urlsplit(bot.url)
    socks = []
    for _ in range(n):
        sock = socket.create_connection((parts.hostname, parts.port), timeout=5)
        sock.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")
        socks.append(sock)
    return socks


def _closed_by_server(sock: socket.socket, within: float) -> bool:
    sock.settimeout(within)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def test_a_request_that_never_finishes_arriving_is_cut_off_at_the_deadline(bot: RunningBot) -> None:
    """A client that trickles its request head holds a connection only for ``request_deadline``
    (however often it sends a byte), and the bot answers everyone else meanwhile."""
    bot.server.httpd.request_deadline = 0.6
    (slow,) = _trickling(bot, 1)
    started = time.monotonic()
    for _ in range(3):  # a byte every 0.25 s: each read is quick, the request never completes
        time.sleep(0.25)
        with contextlib.suppress(OSError):
            slow.sendall(b"X")
    assert bot.command("help").text  # answered while the slow one hangs
    assert _closed_by_server(slow, within=3.0)
    assert time.monotonic() - started < 3.0
    slow.close()


def test_an_idle_kept_alive_connection_is_closed_after_the_deadline(bot: RunningBot) -> None:
    bot.server.httpd.request_deadline = 0.5
    parts = urlsplit(bot.url)
    with socket.create_connection((parts.hostname, parts.port), timeout=5) as conn:
        conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = http.client.HTTPResponse(conn)
        answer.begin()
        assert answer.status in (200, 503) and answer.read()
        assert _closed_by_server(conn, within=3.0)


def test_a_full_house_of_slow_connections_gives_way_to_a_slack_request(bot: RunningBot) -> None:
    """At ``max_connections``, a new connection closes the one that has waited longest for its
    request: the attackers take turns evicting each other, and Slack's command is acknowledged and
    answered as if they were not there."""
    bot.server.httpd.max_connections = 8
    attackers = _trickling(bot, 8)
    time.sleep(0.2)  # all eight accepted
    assert "Subscribed" in bot.command("subscribe").text
    stored = bot.store.get_channel("C0001")
    assert stored is not None and stored.subscribed
    assert bot.http.get("/healthz").status_code in (200, 503)
    closed = [s for s in attackers if _closed_by_server(s, within=0.5)]
    assert 1 <= len(closed) <= 3  # the oldest ones made room; the newer ones are still open
    assert closed == attackers[: len(closed)]  # and it was the oldest first
    for sock in attackers:
        sock.close()
