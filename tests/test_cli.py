"""``python -m bot`` as an operator runs it: real processes, real fakes, exit codes and output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from bot.store.tinydb_store import TinyStore
from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeHF, FakeSlack, make_entry, signed_headers, slash_command_body

ROOT = Path(__file__).resolve().parents[1]
THURSDAY = "2026-08-20"


def bot_env(fake_slack: FakeSlack | None, fake_hf: FakeHF, db: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_BOT_", "HF_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_ENDPOINT=fake_hf.base_url,
        PAPERS_BOT_DB=str(db),
        LOG_LEVEL="INFO",
    )
    if fake_slack is not None:
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_API_URL=fake_slack.api_url)
    env.update(extra)
    return env


def run_bot(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def thursday(fake_hf: FakeHF) -> None:
    fake_hf.days[THURSDAY] = [
        make_entry("2608.00001", "Second", upvotes=10, day=THURSDAY),
        make_entry("2608.00002", "First <!channel>", upvotes=50, day=THURSDAY, authors=("Ada", "Bob")),
    ]


def test_preview_json_needs_no_slack_token(tmp_path: Path, fake_hf: FakeHF, thursday: None) -> None:
    result = run_bot(
        "preview", "--date", THURSDAY, "--json", env=bot_env(None, fake_hf, tmp_path / "db.json"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)
    assert [(i["id"], i["title"], i["upvotes"]) for i in items] == [
        ("2608.00002", "First <!channel>", 50),
        ("2608.00001", "Second", 10),
    ]
    assert not (tmp_path / "db.json").exists()  # preview never touches the database


def test_preview_text_and_limit(tmp_path: Path, fake_hf: FakeHF, thursday: None) -> None:
    result = run_bot(
        "preview", "--date", THURSDAY, "--limit", "1", env=bot_env(None, fake_hf, tmp_path / "db"), cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "First" in result.stdout and "Second" not in result.stdout
    assert "https://huggingface.co/papers/2608.00002" in result.stdout


def test_preview_topics_runs_the_channel_matcher_and_says_what_matched(
    tmp_path: Path, fake_hf: FakeHF, thursday: None
) -> None:
    env = bot_env(None, fake_hf, tmp_path / "db.json")
    result = run_bot("preview", "--date", THURSDAY, "--topics", "second, -channel", "--json", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    [item] = json.loads(result.stdout)
    assert item["title"] == "Second" and item["matched"] == "second (title)" and item["match"] == "word"

    bad = run_bot("preview", "--date", THURSDAY, "--topics", "colour:blue", env=env, cwd=tmp_path)
    assert bad.returncode == 2 and "Unknown filter `colour:`" in bad.stderr and "Traceback" not in bad.stderr


def test_preview_without_a_date_names_every_day_it_looked_at(tmp_path: Path, fake_hf: FakeHF) -> None:
    result = run_bot("preview", env=bot_env(None, fake_hf, tmp_path / "db"), cwd=tmp_path)  # no day has papers
    assert result.returncode == 0, result.stderr
    assert re.search(r"No papers on Hugging Face for any day from \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d\.", result.stdout)
    assert fake_hf.count("/api/daily_papers") > 1


def test_preview_reports_hugging_face_down(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_ENDPOINT": "http://127.0.0.1:9"}
    result = run_bot("preview", "--date", THURSDAY, env=env, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith("papers-bot: Hugging Face is unavailable")
    assert "Traceback" not in result.stderr


def test_post_now_posts_once_and_reports(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, thursday: None
) -> None:
    db = tmp_path / "db.json"
    with TinyStore(db) as store:
        store.update_channel("C0001", lambda c: c.replace(subscribed=True))
        store.update_channel("C0002", lambda c: c.replace(subscribed=True, timezone="Asia/Tokyo"))
    env = bot_env(fake_slack, fake_hf, db)

    first = run_bot("post-now", "--date", THURSDAY, env=env, cwd=tmp_path)
    again = run_bot("post-now", "--date", THURSDAY, env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert "C0001: posted" in first.stdout and "C0002: posted" in first.stdout
    assert again.returncode == 0 and "C0001: skipped" in again.stdout
    for channel in ("C0001", "C0002"):
        [post] = fake_slack.posts(channel)
        assert "First &lt;!channel&gt;" in json.dumps(post.args["blocks"])
    # One fetch for both channels; the second run sees the ledger and fetches nothing.
    assert fake_hf.count("/api/daily_papers") == 1
    # The posted papers' follow-up baselines were taken right after the posts: one look per paper.
    assert fake_hf.count("/api/papers/") == 2
    with TinyStore(db) as store:
        # Under the token's workspace (auth.test: T0001), which adopted the channels stored without one.
        assert len(store.paper_watches([("T0001", "2608.00001"), ("T0001", "2608.00002")])) == 2


def test_post_now_for_an_unsubscribed_channel_fails_clearly(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    result = run_bot("post-now", "--channel", "C0404", env=bot_env(fake_slack, fake_hf, tmp_path / "db"), cwd=tmp_path)
    assert result.returncode == 1
    assert "C0404: this channel is not subscribed" in result.stderr


@pytest.mark.parametrize(
    ("unset", "extra", "expected"),
    [
        ("SLACK_BOT_TOKEN", {}, "Set SLACK_BOT_TOKEN"),
        ("", {"PAPERS_BOT_TIMEZONE": "Mars/Base"}, "PAPERS_BOT_TIMEZONE must be an IANA time zone"),
        ("", {"PORT": "eighty"}, "PORT must be a port number"),
        ("", {"PAPERS_BOT_ALERT_CHANNEL": "#alerts"}, "PAPERS_BOT_ALERT_CHANNEL must be a channel id like C0123456789"),
        (
            "",
            {"PAPERS_BOT_CONFIG_ADMINS": "U0BOSS, @alice"},
            "PAPERS_BOT_CONFIG_ADMINS: '@alice' is not a Slack user id",
        ),
        ("", {"SLACK_SIGNING_SECRET": ""}, "Set SLACK_SIGNING_SECRET"),
    ],
)
def test_bad_configuration_stops_with_one_line(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, unset: str, extra: dict[str, str], expected: str
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db", **{"SLACK_SIGNING_SECRET": SIGNING_SECRET, **extra})
    env.pop(unset, None)
    result = run_bot("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr
    assert BOT_TOKEN not in result.stderr and SIGNING_SECRET not in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_rejected_token_stops_start_up(command: str, tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF) -> None:
    env = bot_env(
        fake_slack, fake_hf, tmp_path / "db", SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_BOT_TOKEN="xoxb-invalid"
    )
    result = run_bot(command, env=env, cwd=tmp_path)
    assert result.returncode == 2 and "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_rejected_app_token_stops_socket_mode_in_one_line_before_anything_runs(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db", SLACK_APP_TOKEN="xapp-invalid")
    result = run_bot("socket", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Slack rejected SLACK_APP_TOKEN (invalid_auth)" in result.stderr and "connections:write" in result.stderr
    assert "Traceback" not in result.stderr and "xapp-invalid" not in result.stderr
    assert [c.method for c in fake_slack.calls()] == ["auth.test", "apps.connections.open"]  # no tick, no post


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], cwd: Path) -> Iterator[tuple[subprocess.Popen[str], str]]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "serve"],
        env={**env, "PORT": str(port)},
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                break
            try:
                httpx.get(f"{url}/healthz", timeout=0.5)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield proc, url
    finally:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)


def test_serve_answers_health_and_commands_and_a_second_process_refuses(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db.json", SLACK_SIGNING_SECRET=SIGNING_SECRET, LOG_LEVEL="DEBUG")
    with serving(env, tmp_path) as (proc, url):
        health = httpx.get(f"{url}/healthz").json()
        assert health["ok"] is True and health["running"] is True and health["mode"] == "http"

        body = slash_command_body("subscribe 08:00 Europe/Berlin", response_url=fake_slack.response_url("cli"))
        response = httpx.post(f"{url}/slack/events", content=body, headers=signed_headers(body, SIGNING_SECRET))
        assert response.status_code == 200
        assert "Subscribed" in fake_slack.wait_for_responses(1, name="cli")[0]["text"]
        bad = httpx.post(f"{url}/slack/events", content=body, headers=signed_headers(body, "not-the-secret"))
        assert bad.status_code == 401

        second = run_bot("serve", env={**env, "PORT": str(free_port())}, cwd=tmp_path)
        assert second.returncode == 2
        assert "Another papers-bot process is already using" in second.stderr
    output = proc.stdout.read() if proc.stdout else ""
    assert "papers-bot is listening" in output
    for secret in (BOT_TOKEN, SIGNING_SECRET):
        assert secret not in output  # not even at DEBUG
    with TinyStore(tmp_path / "db.json") as store:
        assert store.get_channel("C0001", team_id="T0001").timezone == "Europe/Berlin"  # auth.test's workspace


# ----- DATABASE_URL and migrate-store: one line, never the password -------------------------------

PASSWORD = "Sup3rS3cretPw"
NOWHERE = "127.0.0.1:9"  # the discard port: nothing listens, the connection is refused at once


@pytest.mark.parametrize(
    "url",
    [
        f"postgres://u:{PASSWORD}/x@{NOWHERE}/papers",
        f"postgres://u:{PASSWORD}@{NOWHERE}x/papers",
        f"postgres://u:{PASSWORD}@x@{NOWHERE}/papers",
    ],
)
def test_a_malformed_database_url_stops_start_up_with_one_line_and_no_password(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, url: str
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db", DATABASE_URL=url, LOG_LEVEL="DEBUG")
    result = run_bot("worker", env=env, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("papers-bot: DATABASE_URL is not a valid PostgreSQL URL")
    assert result.stderr.count("\n") == 1 and PASSWORD not in result.stderr


@pytest.mark.parametrize(
    "url",
    [f"postgres://u:{PASSWORD}@{NOWHERE}/papers", f"postgres://u@{NOWHERE}/papers?sslmode=disable&password={PASSWORD}"],
)
def test_an_unreachable_database_is_named_without_its_password(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, url: str
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db", DATABASE_URL=url, LOG_LEVEL="DEBUG")
    result = run_bot("post-now", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "Cannot connect to the database postgresql+psycopg://u" in result.stderr
    assert PASSWORD not in result.stderr and "***" in result.stderr


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_an_unreachable_database_at_start_up_is_the_only_line(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF, command: str
) -> None:
    """At the default INFO level, nothing comes before the one line that names the problem: alembic
    used to log seven plugin lines, and the semantic model its start-up line, first."""
    url = f"postgres://u:{PASSWORD}@{NOWHERE}/papers"
    env = bot_env(fake_slack, fake_hf, tmp_path / "db", DATABASE_URL=url, SLACK_SIGNING_SECRET="s3cret-x")
    result = run_bot(command, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("papers-bot: Cannot connect to the database postgresql+psycopg://u:***@")
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stdout == ""


def test_on_heroku_with_a_tinydb_file_start_up_warns_it_will_be_wiped(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    result = run_bot("post-now", env=bot_env(fake_slack, fake_hf, tmp_path / "db.json", DYNO="run.1"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "WARNING" in result.stderr and "DYNO=run.1 (Heroku) and DATABASE_URL is not set" in result.stderr
    assert "Deploying: which store" in result.stderr

    quiet = run_bot("post-now", env=bot_env(fake_slack, fake_hf, tmp_path / "db.json"), cwd=tmp_path)
    assert quiet.returncode == 0 and "DYNO" not in quiet.stderr


def test_migrate_store_refuses_a_missing_source_and_creates_nothing(tmp_path: Path) -> None:
    """Before, a mistyped --from became a new, empty TinyDB file and the copy "succeeded"."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    to = f"postgres://u:{PASSWORD}@{NOWHERE}/papers"
    result = run_bot("migrate-store", "--from", "data/papers-bot.jsno", "--to", to, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert (
        result.stderr
        == "papers-bot: --from data/papers-bot.jsno: no such TinyDB file (nothing was copied or created).\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("source", "destination", "expected"),
    [
        ("db.json", "export.json", "--from and --to are both files"),
        (  # the same database, however it is spelled and whatever password each one carries
            f"postgres://u:{PASSWORD}@{NOWHERE}/papers",
            f"postgresql+psycopg://u@{NOWHERE}/papers?password={PASSWORD}x",
            "--from and --to are the same database (postgresql+psycopg://u@127.0.0.1:9/papers?password=***)",
        ),
        ("db.json", f"postgres://u:{PASSWORD}/x@{NOWHERE}/papers", "--to is not a valid PostgreSQL URL"),
        ("db.json", f"host=db user=u password={PASSWORD}", "--to looks like a key=value connection string"),
        ("db.json", "", "--to is empty; is DATABASE_URL set in this shell?"),  # `--to "$DATABASE_URL"`, unset
    ],
)
def test_migrate_store_refuses_what_it_cannot_copy_and_says_what_it_can(
    tmp_path: Path, source: str, destination: str, expected: str
) -> None:
    with TinyStore(tmp_path / "db.json") as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True))
    before = sorted(tmp_path.iterdir())
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = run_bot("migrate-store", "--from", source, "--to", destination, env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and expected in result.stderr, result.stderr
    assert PASSWORD not in result.stderr
    if "both files" in expected or "same database" in expected:
        assert "migrate-store copies a TinyDB file into PostgreSQL" in result.stderr
    assert sorted(tmp_path.iterdir()) == before  # nothing new was created


@pytest.mark.postgres
def test_migrate_store_copies_between_two_postgres_databases_and_never_prints_the_password(
    tmp_path: Path, pg_url: str, pg_server: str
) -> None:
    from bot.store.sql_store import SqlStore
    from tests import pg

    source = tmp_path / "db.json"
    with TinyStore(source) as store:
        store.update_channel("C1", lambda c: c.replace(subscribed=True, filter_text="rlhf"))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # The throwaway server trusts every connection, so any password is accepted: what matters is the output.
    with_password = pg_url.replace("postgresql+psycopg://postgres@", f"postgres://postgres:{PASSWORD}@")
    first = run_bot("migrate-store", "--from", str(source), "--to", with_password, env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    with pg.fresh_schema(pg_server) as other:
        other_with_password = f"{other}&password={PASSWORD}"
        second = run_bot("migrate-store", "--from", with_password, "--to", other_with_password, env=env, cwd=tmp_path)
        assert second.returncode == 0, second.stderr
        assert "Copied and verified 1 channels" in second.stdout and "password=***" in second.stdout
        with SqlStore(other) as copied:
            assert [(c.channel_id, c.filter_text) for c in copied.channels()] == [("C1", "rlhf")]
    for result in (first, second):
        assert PASSWORD not in result.stdout + result.stderr


def test_version_names_the_release(tmp_path: Path) -> None:
    from importlib.metadata import version

    result = run_bot("--version", env={**os.environ}, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"papers-bot {version('papers-bot')}"


def test_post_now_with_a_token_slack_rejects_fails_in_one_line(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    env = bot_env(fake_slack, fake_hf, tmp_path / "db.json", SLACK_BOT_TOKEN="xoxb-invalid")
    result = run_bot("post-now", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in result.stderr
    assert "No subscribed channels" not in result.stdout and "xoxb-invalid" not in result.stderr
    assert fake_slack.calls("chat.postMessage") == []


def test_an_unreachable_slack_at_start_up_is_one_line_without_library_noise(tmp_path: Path, fake_hf: FakeHF) -> None:
    env = bot_env(None, fake_hf, tmp_path / "db.json", SLACK_BOT_TOKEN="xoxb-1-test", SLACK_SIGNING_SECRET="s3cret-x")
    env["SLACK_API_URL"] = "http://127.0.0.1:9/"  # the discard port: nothing listens
    result = run_bot("serve", env=env, cwd=tmp_path)
    assert result.returncode == 2
    assert "papers-bot: Cannot reach Slack at http://127.0.0.1:9/; check SLACK_API_URL." in result.stderr
    assert "slack_sdk" not in result.stderr and "Traceback" not in result.stderr


def test_workspaces_lists_installations_without_tokens_and_forget_workspace_deletes_one(tmp_path: Path) -> None:
    from bot.models import Workspace

    db = tmp_path / "db.json"
    with TinyStore(db) as store:
        store.save_workspace(Workspace("T0A1", "Alpha Lab", installed_at="2026-08-20T09:00:00+00:00"))
        store.save_workspace(
            Workspace("T0B2", "Beta", installed_at="2026-08-19T09:00:00+00:00", removed_at="2026-08-21T09:00:00+00:00")
        )
        for channel, team, paused in (("C1", "T0A1", ""), ("C2", "T0A1", ""), ("C3", "T0B2", "app_uninstalled")):
            store.update_channel(channel, lambda c, p=paused: c.replace(subscribed=True, paused_reason=p), team_id=team)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_BOT_", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(ROOT), PAPERS_BOT_DB=str(db), SLACK_CLIENT_ID="1111.2222", SLACK_CLIENT_SECRET="s3cret-x")

    listed = run_bot("workspaces", env=env, cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["TEAM", "NAME", "INSTALLED", "CHANNELS", "PAUSED", "STATUS"]
    assert re.match(r"T0A1\s+Alpha Lab\s+2026-08-20T09:00:00\+00:00\s+2\s+0\s+installed$", lines[1])
    assert re.match(r"T0B2\s+Beta\s+2026-08-19T09:00:00\+00:00\s+1\s+1\s+removed \(uninstalled\)$", lines[2])
    assert "xox" not in listed.stdout

    forgot = run_bot("forget-workspace", "T0B2", env=env, cwd=tmp_path)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.strip() == (
        "Forgot workspace T0B2: its token, 1 channel(s) with their history, and its people's reading lists "
        "and signals were deleted."
    )
    with TinyStore(db) as store:
        assert [c.channel_id for c in store.channels()] == ["C1", "C2"] and store.get_workspace("T0B2") is None

    unknown = run_bot("forget-workspace", "T0ZZ", env=env, cwd=tmp_path)
    assert unknown.returncode == 1 and "No workspace T0ZZ is known" in unknown.stdout
    typo = run_bot("forget-workspace", "alpha", env=env, cwd=tmp_path)
    assert typo.returncode == 2 and "is not a team id like T0123456789" in typo.stderr


def test_post_now_follow_ups_replies_in_the_thread_once_and_says_what_it_did(
    tmp_path: Path, fake_slack: FakeSlack, fake_hf: FakeHF
) -> None:
    from datetime import UTC, datetime, timedelta

    from bot.models import PaperWatch, RunRecord, RunState

    now = datetime.now(UTC)
    key = "2608.00001"
    fake_hf.extra_papers = [make_entry(key, "Gains code", github_repo="https://github.com/o/r", github_stars=3)]
    db = tmp_path / "db.json"
    with TinyStore(db) as store:
        store.update_channel("C0001", lambda c: c.replace(subscribed=True), team_id="T0001")
        post = RunRecord("C0001", now.date() - timedelta(days=1), RunState.CLAIMED, "r1", now - timedelta(days=1))
        store.claim_run(post.replace(paper_keys=(key,), team_id="T0001"))
        store.finish_run(post.replace(state=RunState.POSTED, paper_keys=(key,), ts=("1.000100",), team_id="T0001"))
        yesterday = now - timedelta(days=1) + timedelta(minutes=1)
        store.save_paper_watches([PaperWatch("T0001", key, yesterday, yesterday.date(), title="Gains code")])
    env = bot_env(fake_slack, fake_hf, db)

    first = run_bot("post-now", "--kind", "follow-ups", env=env, cwd=tmp_path)
    again = run_bot("post-now", "--kind", "follow-ups", env=env, cwd=tmp_path)
    dated = run_bot("post-now", "--kind", "follow-ups", "--date", THURSDAY, env=env, cwd=tmp_path)

    assert first.returncode == 0, first.stderr
    assert (
        "1 paper(s); 1 looked up on Hugging Face (1 request(s)); 1 thread reply telling 1 new item(s)" in first.stdout
    )
    [reply] = [c for c in fake_slack.posts("C0001") if c.args.get("thread_ts") == "1.000100"]
    assert "Code released: <https://github.com/o/r|o/r> (★ 3)" in json.dumps(reply.args["blocks"], ensure_ascii=False)
    assert again.returncode == 0 and "0 looked up" in again.stdout and "0 thread replies" in again.stdout
    assert fake_hf.count("/api/papers/") == 1  # once per paper per day, across processes
    assert dated.returncode == 2 and "--date picks the Hugging Face day of a digest" in dated.stderr
