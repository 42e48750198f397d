"""The ``/papers settings`` modal as Block Kit, prefilled from a channel's config, and the ids its
submit is read by (``bot.ui.settings_form``). Pure."""

from __future__ import annotations

import json
from typing import Any

from bot.channels.edits import MAX_PAPERS_LIMIT, MAX_UPVOTES_LIMIT
from bot.filters import ChannelFilter, format_filter
from bot.filters.selection import channel_filter
from bot.models import ChannelConfig, PostFormat
from bot.ui.ids import SETTINGS_CALLBACK

__all__ = [
    "BLOCK_AUTHORS",
    "BLOCK_EXCLUDED",
    "BLOCK_FOLLOW_UPS",
    "BLOCK_HAS_CODE",
    "BLOCK_MAX_PAPERS",
    "BLOCK_MIN_UPVOTES",
    "BLOCK_ORGS",
    "BLOCK_POST_FORMAT",
    "BLOCK_POST_TIME",
    "BLOCK_RECAP_DAY",
    "BLOCK_RECAP_TIME",
    "BLOCK_RELATED",
    "BLOCK_TIMEZONE",
    "BLOCK_TOPICS",
    "BLOCK_WEEKDAYS",
    "CALLBACK_ID",
    "FIRST_BLOCK",
    "FOLLOW_UPS_VALUE",
    "HAS_CODE_VALUE",
    "POST_FORMATS",
    "RECAP_OFF",
    "RELATED_VALUE",
    "channel_from_metadata",
    "metadata_for",
    "settings_view",
]

CALLBACK_ID = SETTINGS_CALLBACK
# One action per input block, so each block's action id is its block id: ``values[b][b]``.
BLOCK_TOPICS = "settings_topics"
BLOCK_EXCLUDED = "settings_excluded"
BLOCK_AUTHORS = "settings_authors"
BLOCK_ORGS = "settings_orgs"
BLOCK_MIN_UPVOTES = "settings_min_upvotes"
BLOCK_HAS_CODE = "settings_has_code"
BLOCK_POST_TIME = "settings_post_time"
BLOCK_TIMEZONE = "settings_timezone"
BLOCK_WEEKDAYS = "settings_weekdays"
BLOCK_MAX_PAPERS = "settings_max_papers"
BLOCK_POST_FORMAT = "settings_post_format"
BLOCK_RELATED = "settings_related"
BLOCK_FOLLOW_UPS = "settings_follow_ups"
BLOCK_RECAP_DAY = "settings_recap_day"  # the weekly recap (issue 16): a weekday or "off"
BLOCK_RECAP_TIME = "settings_recap_time"
RECAP_OFF = "off"
FIRST_BLOCK = BLOCK_TOPICS  # where errors about the whole form (permission, lost channel) are shown

POST_FORMATS: dict[str, str] = {
    PostFormat.FULL: "Full: title, summary and links",
    PostFormat.COMPACT: "Compact: one line per paper",
}
HAS_CODE_VALUE = "code"
RELATED_VALUE = "related"
FOLLOW_UPS_VALUE = "follow_ups"
_TEXT_MAX = 3000  # Slack's limit for a plain_text_input
_DAY_LABELS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


# ---------------------------------------------------------------------------------------------------
# Building the modal


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label), "value": value}


def _input(
    block_id: str, label: str, element: dict[str, Any], *, hint: str = "", optional: bool = False
) -> dict[str, Any]:
    block: dict[str, Any] = {
        "type": "input",
        "block_id": block_id,
        "label": _plain(label),
        "element": {**element, "action_id": block_id},
        "optional": optional,
    }
    if hint:
        block["hint"] = _plain(hint)
    return block


def _text_input(value: str, placeholder: str, *, multiline: bool = False) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "plain_text_input",
        "multiline": multiline,
        "max_length": _TEXT_MAX,
        "placeholder": _plain(placeholder),
    }
    if value:
        element["initial_value"] = value[:_TEXT_MAX]
    return element


def _terms_text(terms: tuple[str, ...]) -> str:
    """Terms as the user would type them: comma-separated, quoted only where the parser needs it."""
    return format_filter(ChannelFilter(topics=terms))


def _names_text(names: tuple[str, ...]) -> str:
    return ", ".join(f'"{n}"' if "," in n else n for n in names)


def metadata_for(channel_id: str) -> str:
    """``private_metadata``: a modal opened from a slash command does not know its channel otherwise."""
    return json.dumps({"channel_id": channel_id})


def channel_from_metadata(text: str) -> str:
    """The channel id the modal was opened for, or ``""`` when the metadata is missing or foreign."""
    if not isinstance(text, str):
        return ""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return ""
    channel = data.get("channel_id") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) else ""


def settings_view(config: ChannelConfig) -> dict[str, Any]:
    """The modal for ``views.open``, every field prefilled with the channel's current settings."""
    f = channel_filter(config)  # includes a threshold set through ChannelConfig.min_upvotes
    days = [_option(str(i), _DAY_LABELS[i]) for i in range(7)]
    formats = [_option(value, label) for value, label in POST_FORMATS.items()]
    code_option = _option(HAS_CODE_VALUE, "Only papers with code (a GitHub repo)")
    state = "subscribed" if config.subscribed else "not subscribed (`/papers subscribe` starts the daily posts)"
    if config.subscribed and config.paused_reason:
        state = f"subscribed but paused ({config.paused_reason})"

    weekdays: dict[str, Any] = {"type": "checkboxes", "options": days}
    chosen = [days[d] for d in sorted(set(config.weekdays)) if 0 <= d < 7]
    if chosen:
        weekdays["initial_options"] = chosen
    has_code: dict[str, Any] = {"type": "checkboxes", "options": [code_option]}
    if f.has_code:
        has_code["initial_options"] = [code_option]
    related_option = _option(RELATED_VALUE, "Also post papers close in meaning to a topic")
    related: dict[str, Any] = {"type": "checkboxes", "options": [related_option]}
    if config.related:
        related["initial_options"] = [related_option]
    post_format = config.post_format if config.post_format in POST_FORMATS else PostFormat.FULL
    follow_ups_option = _option(FOLLOW_UPS_VALUE, "Reply in a post's thread when its papers' code or models appear")
    follow_ups: dict[str, Any] = {"type": "checkboxes", "options": [follow_ups_option]}
    if config.follow_ups:
        follow_ups["initial_options"] = [follow_ups_option]
    recap_options = [_option(RECAP_OFF, "Off"), *(_option(str(i), _DAY_LABELS[i]) for i in range(7))]
    recap_day = recap_options[0 if config.recap_day is None else config.recap_day + 1]

    blocks: list[dict[str, Any]] = [
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"Settings for <#{config.channel_id}>: this channel is {state}."},
        },
        {"type": "header", "text": _plain("Which papers")},
        _input(
            BLOCK_TOPICS,
            "Topics",
            _text_input(_terms_text(f.topics), 'model merging, "process reward", LLM', multiline=True),
            hint="Commas separate topics; a paper matching any of them is posted. Empty: the day's top papers.",
            optional=True,
        ),
        _input(
            BLOCK_EXCLUDED,
            "Leave out papers mentioning",
            _text_input(_terms_text(f.excluded), "medical, survey"),
            hint="Commas separate terms; a paper mentioning any of them is never posted.",
            optional=True,
        ),
        _input(
            BLOCK_AUTHORS,
            "Only by these authors",
            _text_input(_names_text(f.authors), "Yann LeCun, Fei-Fei Li"),
            hint="Commas separate names; any of them. Empty: any author.",
            optional=True,
        ),
        _input(
            BLOCK_ORGS,
            "Only from these organizations",
            _text_input(_names_text(f.orgs), "nvidia, google"),
            hint="Hugging Face organization names, comma-separated; any of them. Empty: any organization.",
            optional=True,
        ),
        _input(
            BLOCK_MIN_UPVOTES,
            "Minimum upvotes",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "0",
                "max_value": str(MAX_UPVOTES_LIMIT),
                "initial_value": str(min(f.min_upvotes, MAX_UPVOTES_LIMIT)),  # an older, higher threshold
            },
            hint="0 posts papers whatever their upvotes.",
            optional=True,
        ),
        _input(BLOCK_HAS_CODE, "Code", has_code, optional=True),
        _input(
            BLOCK_RELATED,
            "Related papers",
            related,
            optional=True,
            hint="Marked 'Related to:' in posts; they rank after papers that name a topic.",
        ),
        {"type": "header", "text": _plain("When and how")},
        _input(
            BLOCK_POST_TIME,
            "Post time",
            {"type": "timepicker", "initial_time": config.post_time},
            hint="In the time zone below, 24-hour.",
        ),
        _input(
            BLOCK_TIMEZONE,
            "Time zone",
            _text_input(config.timezone, "Europe/Berlin"),
            hint="An IANA name such as Europe/Berlin, America/New_York or UTC, or a city: Berlin, Kolkata.",
        ),
        _input(BLOCK_WEEKDAYS, "Days", weekdays),
        _input(
            BLOCK_MAX_PAPERS,
            "Papers per post",
            {
                "type": "number_input",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": str(MAX_PAPERS_LIMIT),
                "initial_value": str(config.max_papers),
            },
            hint=f"1 to {MAX_PAPERS_LIMIT}; the most upvoted matching papers are posted.",
        ),
        _input(
            BLOCK_POST_FORMAT,
            "Post format",
            {
                "type": "radio_buttons",
                "options": formats,
                "initial_option": formats[list(POST_FORMATS).index(post_format)],
            },
        ),
        _input(
            BLOCK_FOLLOW_UPS,
            "Follow-ups",
            follow_ups,
            optional=True,
            hint="Checked once a day for papers posted in the last 14 days: one reply per post and day at most.",
        ),
        {"type": "header", "text": _plain("Weekly recap")},
        _input(
            BLOCK_RECAP_DAY,
            "Recap day",
            {"type": "static_select", "options": recap_options, "initial_option": recap_day},
            hint="The week's papers this channel cared most about, with a chart. Off: no recap.",
        ),
        _input(
            BLOCK_RECAP_TIME,
            "Recap time",
            {"type": "timepicker", "initial_time": config.recap_time or "16:00"},
            hint="In the channel's time zone above.",
            optional=True,
        ),
    ]
    return {
        "type": "modal",
        "callback_id": CALLBACK_ID,
        "private_metadata": metadata_for(config.channel_id),
        "title": _plain("Papers settings"),
        "submit": _plain("Save"),
        "close": _plain("Cancel"),
        "blocks": blocks,
    }
