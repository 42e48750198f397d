"""``python -m bot``: run the app (Socket Mode or HTTP), post once, or preview a post.

Every failure a user can fix ends in one line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from types import FrameType
from typing import TYPE_CHECKING

from bot.config import Settings, ephemeral_disk_warning, load_dotenv_file, load_settings
from bot.errors import ConfigError, HFError, PapersBotError, StoreError, UserInputError
from bot.logs import setup_logging

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.services import Services
    from bot.slack.in_flight import InFlight
    from bot.slack.server import SlackHTTPServer

__all__ = ["main"]

logger = logging.getLogger("bot")


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-08-21") from None


def _week(text: str) -> str:
    from bot.channels.recap import parse_week

    try:
        return parse_week(text)
    except UserInputError as exc:
        raise argparse.ArgumentTypeError(exc.message) from None


def _positive(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 100")
    return int(text)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("papers-bot")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="papers-bot: Hugging Face Daily Papers in Slack. Without a command: Socket Mode "
        "when SLACK_APP_TOKEN is set, else HTTP mode.",
    )
    parser.add_argument("--version", action="version", version=f"papers-bot {_version()}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="HTTP mode on $PORT: POST /slack/events, GET /healthz")
    sub.add_parser("socket", help="Socket Mode (needs SLACK_APP_TOKEN); GET /healthz on $PORT when PORT is set")
    post = sub.add_parser("post-now", help="run the post job once for every subscribed channel (or one), then exit")
    post.add_argument("--channel", help="only this channel id (e.g. C0123456789)")
    post.add_argument("--date", type=_day, help="post this Hugging Face day (YYYY-MM-DD) instead of the newest")
    post.add_argument(
        "--kind",
        choices=("digest", "recap", "follow-ups"),
        default="digest",
        help="digest: the daily post (default); recap: the weekly recap, to channels that turned it on; "
        "follow-ups: check the papers of the last 14 days' posts and reply in their threads",
    )
    post.add_argument("--week", type=_week, help="with --kind recap: the ISO week to recap (YYYY-Www, e.g. 2026-W23)")
    sub.add_parser(
        "worker",
        help="only the post scheduler (PostgreSQL: a leader candidate); GET /healthz on $PORT when PORT is set",
    )
    move = sub.add_parser(
        "migrate-store", help="copy all state between a TinyDB file and PostgreSQL (either way), then verify"
    )
    move.add_argument("--from", dest="source", required=True, help="a TinyDB file, or a postgres:// URL")
    move.add_argument(
        "--to", dest="destination", required=True, help="an empty PostgreSQL database (postgres:// URL) or a new file"
    )
    sub.add_parser("workspaces", help="list the workspaces: team, installed at, channels, paused or not (no tokens)")
    forget = sub.add_parser(
        "forget-workspace", help="delete everything stored for a workspace now: token, channels, history"
    )
    forget.add_argument("team", help="the workspace's team id, e.g. T0123456789")
    preview = sub.add_parser("preview", help="print what a post would contain; needs no Slack token")
    preview.add_argument("--date", type=_day, help="Hugging Face day (YYYY-MM-DD); default: the newest settled")
    preview.add_argument("--limit", type=_positive, default=10, help="papers to show (default 10)")
    preview.add_argument("--topics", default="", help="a channel filter, e.g. '\"model merging\", rlhf, -medical'")
    preview.add_argument("--json", action="store_true", help="print a JSON array instead of text")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    load_dotenv_file()
    try:
        return _dispatch(args)
    except (ConfigError, StoreError, UserInputError) as exc:
        print(f"papers-bot: {exc}", file=sys.stderr)
        return 2
    except HFError as exc:
        print(f"papers-bot: Hugging Face is unavailable: {exc}", file=sys.stderr)
        return 1
    except PapersBotError as exc:
        print(f"papers-bot: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    import os

    command = args.command or ("socket" if os.environ.get("SLACK_APP_TOKEN", "").strip() else "serve")
    if command == "preview":
        return _preview(args, load_settings(mode="none"))
    if command == "migrate-store":
        return _migrate_store(args)
    if command in ("workspaces", "forget-workspace"):
        settings = load_settings(mode="admin")
        setup_logging(settings.log_level, settings.secrets, settings.log_format)
        return _workspaces(settings) if command == "workspaces" else _forget_workspace(args, settings)
    mode = {"serve": "http", "socket": "socket", "post-now": "web-api", "worker": "web-api"}[command]
    settings = load_settings(mode=mode)
    setup_logging(settings.log_level, settings.secrets, settings.log_format)
    warning = ephemeral_disk_warning(settings)
    if warning:
        logger.warning("%s", warning)
    if command == "post-now":
        return _post_now(args, settings)
    return _run(settings, socket_mode=command == "socket", worker=command == "worker")


def _migrate_store(args: argparse.Namespace) -> int:
    from bot.store.migrate import copy_store, describe

    report = copy_store(args.source, args.destination)
    print(f"Copied and verified {report}: {describe(args.source)} → {describe(args.destination)}")
    return 0


def _workspaces(settings: Settings) -> int:
    """``python -m bot workspaces``: one line per workspace, never a token."""
    from bot.installs import workspace_rows
    from bot.services import open_store

    store = open_store(settings)
    try:
        rows = workspace_rows(store)
    finally:
        store.close()
    if not rows:
        print("No workspaces yet.")
        return 0
    header = ("TEAM", "NAME", "INSTALLED", "CHANNELS", "PAUSED", "STATUS")
    lines = [
        (r.team_id or "(none)", r.team_name or "-", r.installed_at or "-", str(r.channels), str(r.paused), r.status)
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [header, *lines]) for i in range(len(header))]
    for line in [header, *lines]:
        print("  ".join(value.ljust(width) for value, width in zip(line, widths, strict=True)).rstrip())
    return 0


def _forget_workspace(args: argparse.Namespace, settings: Settings) -> int:
    """``python -m bot forget-workspace T…``: its token(s), channels, ledger, follow-up state, reading
    lists, signals and record, now."""
    import re

    from bot.services import open_store

    team = args.team.strip()
    if not re.fullmatch(r"[TE][A-Z0-9]{2,}", team):
        raise UserInputError(f"{team[:40]!r} is not a team id like T0123456789 (Slack: workspace settings → About).")
    store = open_store(settings)
    try:
        known = store.get_workspace(team) is not None or any(c.team_id == team for c in store.channels())
        if settings.slack_client_id:
            from bot.slack.installations import delete_installations

            engine = getattr(store, "engine", None)
            sqlite_path = None if engine is not None else getattr(store, "ledger_path", None)
            delete_installations(settings.slack_client_id, team, engine=engine, sqlite_path=sqlite_path)
        channels = store.forget_workspace(team)
    finally:
        store.close()
    if not known:
        print(f"No workspace {team} is known here; nothing else was stored for it.")
        return 1
    print(
        f"Forgot workspace {team}: its token, {channels} channel(s) with their history, and its people's "
        "reading lists and signals were deleted."
    )
    return 0


def _post_now(args: argparse.Namespace, settings: Settings) -> int:
    from bot.app import check_bot_token
    from bot.services import build_services

    if args.kind != "recap" and args.week:
        raise UserInputError("--week is for the weekly recap: add --kind recap")
    if args.kind == "follow-ups":
        if args.date:
            raise ConfigError("--date picks the Hugging Face day of a digest; follow-ups look at the last 14 days.")
        return _follow_ups_now(args, settings)
    if args.kind == "recap" and args.date:
        raise UserInputError("--date is for the daily post; a recap takes --week (e.g. --week 2026-W23)")
    services = build_services(settings)
    try:
        check_bot_token(services)  # a dead token is one line and exit 2, not "No subscribed channels"
        if args.kind == "recap":
            assert services.recaps is not None
            summary = services.recaps.run_now(channel_id=args.channel, week=args.week or "")
        else:
            summary = services.runner.run_now(channel_id=args.channel, day=args.date)
            if services.follow_ups is not None:
                services.follow_ups.take_baselines()  # what the posts showed: follow-ups announce only what comes after
    finally:
        services.close()
    for channel, outcome in sorted(summary.outcomes.items()):
        print(f"{channel}: {outcome}{' (' + summary.errors[channel] + ')' if channel in summary.errors else ''}")
    if not summary.outcomes and not summary.errors:
        print("No channel has the weekly recap on." if args.kind == "recap" else "No subscribed channels.")
    if summary.stopped:
        print(f"papers-bot: Slack rejected the bot token ({summary.stopped})", file=sys.stderr)
        return 1
    if summary.errors:
        for channel, error in summary.errors.items():
            if channel not in summary.outcomes:
                print(f"papers-bot: {channel}: {error}", file=sys.stderr)
        print(f"papers-bot: {len(summary.errors)} channel(s) failed", file=sys.stderr)
        return 1
    return 0


def _follow_ups_now(args: argparse.Namespace, settings: Settings) -> int:
    """``post-now --kind follow-ups``: the daily follow-up check now, whatever the hour; still one Hugging
    Face request per paper per day and one reply per post per day, so running it twice sends nothing new."""
    from bot.app import check_bot_token
    from bot.services import build_services

    services = build_services(settings)
    try:
        check_bot_token(services)
        assert services.follow_ups is not None
        summary = services.follow_ups.run(channel_id=args.channel)
    finally:
        services.close()
    print(
        f"Follow-ups: {summary.threads} post(s) of the last 14 days with {summary.papers} paper(s); "
        f"{summary.looked_up} looked up on Hugging Face ({summary.hf_requests} request(s)); "
        f"{summary.replies} thread repl{'y' if summary.replies == 1 else 'ies'} telling {summary.announced} "
        f"new item(s); {summary.held} kept for tomorrow."
    )
    problems = 0
    if summary.hf_failed:
        print(f"papers-bot: Hugging Face could not say what {summary.hf_failed} paper(s) have", file=sys.stderr)
        problems += 1
    for channel, error in sorted(summary.errors.items()):
        print(f"papers-bot: {channel}: {error}", file=sys.stderr)
        problems += 1
    return 1 if problems else 0


def _preview(args: argparse.Namespace, settings: Settings) -> int:
    from bot.channels.schedule import candidate_days
    from bot.feed.hf import HFClient
    from bot.filters.selection import channel_filter, select_for_channel
    from bot.models import ChannelConfig
    from bot.ui.render import render_text_preview

    config = ChannelConfig("preview", max_papers=args.limit, filter_text=args.topics.strip())
    channel_filter(config)  # a bad filter fails here, before any network call
    days = [args.date] if args.date else candidate_days(datetime.now(UTC), None)
    with HFClient(settings.hf_endpoint, token=settings.hf_token) as client:
        for day in days:
            papers = client.daily_papers(day)
            if papers:
                break
    if not papers:
        span = days[0].isoformat() if len(days) == 1 else f"any day from {min(days)} to {max(days)}"
        print(f"No papers on Hugging Face for {span}.")
        return 0
    from bot.filters.semantic import load_related

    selection = select_for_channel(config, papers, set(), related=load_related())
    if args.json:
        items = []
        for paper in selection.papers:
            item = paper.to_json()
            item["matched"] = selection.reasons.get(paper.key, "")
            item["match"] = selection.kinds.get(paper.key, "all")  # word, related (in meaning only) or all
            items.append(item)
        print(json.dumps(items, ensure_ascii=False, indent=2))
    else:
        print(render_text_preview(selection.papers, days=[day], reasons=selection.reasons))
        if selection.dropped:
            print(f"\n({selection.dropped} papers of that day did not match the filter)")
    return 0


def _run(settings: Settings, *, socket_mode: bool, worker: bool = False) -> int:
    from bot.app import build_app, check_bot_token, connect_socket_mode
    from bot.posting.leader import make_leader
    from bot.posting.scheduler import PostScheduler
    from bot.services import build_services
    from bot.slack.in_flight import InFlight
    from bot.slack.server import health_report

    services = build_services(settings)
    stop = threading.Event()
    mode = "worker" if worker else "socket" if socket_mode else "http"
    # Listeners ack at once and leave their work here; a stop waits for it (acknowledged = honoured).
    listener_pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="listener")

    def on_signal(signum: int, frame: FrameType | None) -> None:
        logger.info("signal %d received; shutting down", signum)
        stop.set()

    try:
        in_flight = None if socket_mode else InFlight()  # HTTP requests accepted and not answered yet
        # A worker answers no requests, but checks its token as the others do.
        if worker:
            check_bot_token(services)
        app = (
            None
            if worker
            else build_app(services, socket_mode=socket_mode, in_flight=in_flight, listener_pool=listener_pool)
        )
        scheduler = services.scheduler = PostScheduler(
            services.runner,
            services.store,
            make_leader(settings),
            installs=services.installs,
            follow_ups=services.follow_ups,
            recaps=services.recaps,
        )

        def health() -> dict[str, object]:
            return health_report(mode, scheduler.state())

        server = None
        if mode == "http":
            server = _listen(app, settings.port, health, in_flight)
        elif settings.port_given:  # socket and worker: only /healthz, and only when PORT is set
            server = _listen(None, settings.port, health, None)
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        # Socket Mode connects before anything starts: a rejected app token ends start-up in one line.
        handler = connect_socket_mode(app, settings.slack_app_token) if socket_mode and app else None
        scheduler.start()
        if server is not None:
            server.start_background()
        if worker:
            logger.info(
                "papers-bot worker is running (post scheduler only; state in %s%s)",
                settings.database_redacted,
                f"; GET /healthz on port {server.port}" if server else "",
            )
            stop.wait()
        elif handler is not None:
            logger.info(
                "papers-bot is running in Socket Mode%s", f" (GET /healthz on port {server.port})" if server else ""
            )
            stop.wait()
            handler.close()
        else:
            assert server is not None
            logger.info(
                "papers-bot is listening on port %d (POST /slack/events, GET /healthz%s)",
                server.port,
                ", GET / and /slack/install for Add to Slack" if settings.oauth else "",
            )
            stop.wait()
        _stop_gracefully(services, server, listener_pool)
    finally:
        services.close()
    return 0


STOP_BUDGET_SECONDS = 25.0  # hosts allow ~30 s between SIGTERM and SIGKILL (Heroku, Kubernetes' default)


def _stop_gracefully(services: Services, server: SlackHTTPServer | None, listener_pool: ThreadPoolExecutor) -> None:
    """Honour everything already acknowledged before the store closes, within the host's stop window:
    start no new post; stop accepting requests (idle kept-alive connections end at once, requests being
    answered finish); let the listeners' work after ack() finish; let the post run in flight record
    its posts; then the caller closes the store."""
    deadline = time.monotonic() + STOP_BUDGET_SECONDS
    services.runner.stop()
    if services.recaps is not None:
        services.recaps.stop()
    if server is not None:
        server.shutdown(timeout=5.0)
    drained = threading.Thread(target=listener_pool.shutdown, kwargs={"wait": True}, daemon=True)
    drained.start()
    drained.join(max(1.0, deadline - time.monotonic() - 5.0))
    if drained.is_alive():
        logger.warning("stop: acknowledged work was still running after the stop budget; closing anyway")
    if services.scheduler is not None:
        services.scheduler.shutdown(grace=max(1.0, deadline - time.monotonic()))
        services.scheduler = None
    logger.info("stopped: every acknowledged request was answered")


def _listen(
    app: App | None, port: int, health: Callable[[], dict[str, object]], in_flight: InFlight | None
) -> SlackHTTPServer:
    """Bind ``port`` before the scheduler starts: a port in use ends start-up with one line, not a
    traceback, and before this process could post anything."""
    from bot.slack.server import SlackHTTPServer

    try:
        return SlackHTTPServer(app, port=port, health=health, in_flight=in_flight)
    except OSError as exc:
        raise ConfigError(f"Cannot listen on PORT {port}: {exc.strerror or exc}.") from None
