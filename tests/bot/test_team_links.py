"""Which papers a message names, for the *Save paper* shortcut (``bot/team/links.py``)."""

from __future__ import annotations

from bot.team.links import paper_ids_in, paper_ids_in_message


def test_every_kind_of_paper_link_is_found_once_in_order() -> None:
    text = (
        "see <https://arxiv.org/abs/2406.12345v3|this>, https://huggingface.co/papers/2501.00042 and "
        "arXiv: 2312.00001; also http://arxiv.org/pdf/2406.12345 and hf.co/papers/2502.11111"
    )
    assert paper_ids_in(text) == ["2406.12345", "2501.00042", "2312.00001", "2502.11111"]


def test_links_in_blocks_and_previews_count_and_other_numbers_do_not() -> None:
    message = {
        "text": "version 2406.12345 of the tool, call 0800.12345",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "<https://arxiv.org/abs/2401.00001|x>"}}],
        "attachments": [{"from_url": "https://huggingface.co/papers/2402.00002"}],
    }
    assert paper_ids_in_message(message) == ["2401.00001", "2402.00002"]
    assert paper_ids_in_message({"text": "lunch?"}) == []
