"""The texts users read in replies to commands. Pure; every untrusted string passes escape_mrkdwn."""

from __future__ import annotations

from datetime import datetime

from bot.channels.edits import schedule_text
from bot.channels.recap import format_recap
from bot.models import ChannelConfig, RunRecord, RunState
from bot.ui.commands import COMMANDS, Command
from bot.ui.errors import slack_advice
from bot.ui.render import escape_mrkdwn

__all__ = [
    "help_text",
    "schedule_text",
    "status_text",
    "unknown_command_text",
]


def help_text() -> str:
    lines = ["*papers-bot* brings Hugging Face Daily Papers into this channel.", ""]
    for name, (args, example, what) in COMMANDS.items():
        usage = f"`/papers {name}{' ' + escape_mrkdwn(args) if args else ''}`"  # args hold <topic>
        lines.append(f"• {usage}: {escape_mrkdwn(what)} Example: `{escape_mrkdwn(example)}`")
    return "\n".join(lines)


def unknown_command_text(command: Command) -> str:
    word = escape_mrkdwn(command.word[:60])
    if command.suggestion:
        example = COMMANDS[command.suggestion][1]
        return f"I don't know `{word}`. Did you mean `/papers {command.suggestion}`? For example: `{example}`"
    return f"I don't know `{word}`. Here is what I can do:\n\n{help_text()}"


def _when(moment: datetime | None) -> str:
    return moment.strftime("%a %d %b %Y, %H:%M %Z") if moment else "not scheduled"


def status_text(config: ChannelConfig | None, next_post: datetime | None, last_run: RunRecord | None) -> str:
    if config is None or not config.subscribed:
        recap = (
            f"\n*Weekly recap:* {escape_mrkdwn(format_recap(config))}"
            if config is not None and config.recap_day is not None
            else ""
        )
        return "This channel is not subscribed. Start daily posts with `/papers subscribe`." + recap
    lines = [f"*Daily papers here:* {schedule_text(config)}"]
    if config.paused_reason:
        advice = slack_advice(config.paused_reason, "post") or "Run `/papers subscribe` to resume."
        lines.append(f":double_vertical_bar: *Paused* ({config.paused_reason}). {advice}")
    else:
        lines.append(f"*Next post:* {_when(next_post)}")
    lines.append(f"*Papers per post:* up to {config.max_papers}")
    if config.recap_day is not None:
        lines.append(f"*Weekly recap:* {escape_mrkdwn(format_recap(config))}")
    if config.min_upvotes:
        lines.append(f"*Minimum upvotes:* {config.min_upvotes}")
    topics = escape_mrkdwn(config.filter_text) if config.filter_text else "none (the top papers of the day)"
    lines.append(f"*Filter:* {topics}")
    lines.append(
        "*Follow-ups:* "
        + ("on: a post's thread hears when its papers' code or models appear" if config.follow_ups else "off")
        + " (`/papers set follow-ups on|off`)"
    )
    if last_run is not None:
        if last_run.state == RunState.POSTED:
            lines.append(f"*Last post:* {last_run.local_date:%a %d %b %Y}, {len(last_run.paper_keys)} papers")
        elif last_run.state == RunState.NOTHING:
            lines.append(f"*Last run:* {last_run.local_date:%a %d %b %Y}, nothing new to post")
    if config.last_day:
        lines.append(f"*Newest Hugging Face day posted:* {config.last_day:%a %d %b %Y}")
    return "\n".join(lines)
