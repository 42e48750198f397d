"""The follow-up reply as Block Kit: what a thread reads, escaped, valid and within Slack's limits."""

from __future__ import annotations

import pytest

from bot.models import PaperLinks
from bot.ui.render_follow_up import PaperNews, news_text, render_follow_up, repo_name
from tests.fakes import check_blocks

LINKS = PaperLinks("https://github.com/acme/grows", 1234, 2, 1, 1)


def test_code_and_counts_read_like_the_issue_says() -> None:
    news = PaperNews("2608.00001", "Grows", LINKS, ("code", "models", "spaces"))
    assert news_text(news, mrkdwn=False) == "Code released: acme/grows (★ 1.2k) · 2 models · 1 Space"
    linked = news_text(news)
    assert linked.startswith("Code released: <https://github.com/acme/grows|acme/grows> (★ 1.2k)")
    assert "<https://huggingface.co/papers/2608.00001|2 models>" in linked  # the page lists them


def test_without_new_code_the_line_says_where_the_news_is() -> None:
    news = PaperNews("2608.00001", "t", LINKS, ("datasets",))
    assert news_text(news, mrkdwn=False) == "New on Hugging Face: 1 dataset"
    assert news_text(PaperNews("2608.00001", "t", PaperLinks("https://gitlab.com/a/b"), ("code",)), mrkdwn=False) == (
        "Code released: gitlab.com/a/b"  # no stars known: none shown
    )


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://github.com/o/r", "o/r"),
        ("https://github.com/o/r.git", "o/r"),
        ("https://www.github.com/o/r/tree/main/src", "o/r"),
        ("https://github.com/o", "github.com/o"),
        ("https://gitlab.com/group/sub/project/", "gitlab.com/group/sub/project"),
    ],
)
def test_repository_names(url: str, name: str) -> None:
    assert repo_name(url) == name


def test_one_reply_names_each_paper_and_every_untrusted_string_is_escaped() -> None:
    hostile = PaperLinks("https://github.com/<!channel>/x", 1, 0, 0, 0)
    news = [
        PaperNews("2608.00001", "<!channel> & <@U1> title", LINKS, ("code",)),
        PaperNews("2608.00002", "", hostile, ("code",)),
    ]
    message = render_follow_up(news)
    problems, _ = check_blocks(message.blocks)
    assert problems == []
    assert message.paper_keys == ("2608.00001", "2608.00002")
    everything = message.text + str(message.blocks)
    for raw in ("<!channel>", "<@U1>"):
        assert raw not in everything
    assert "&lt;!channel&gt; &amp; &lt;@U1&gt; title" in message.text
    assert "arXiv 2608.00002" in str(message.blocks)  # no title: the id
    assert "for 2 papers" in message.blocks[0]["elements"][0]["text"]


def test_twenty_long_papers_stay_inside_slacks_limits() -> None:
    long = "A" * 400
    news = [PaperNews(f"2608.{i:05d}", long, LINKS, ("code", "models", "datasets", "spaces")) for i in range(20)]
    message = render_follow_up(news)
    problems, _ = check_blocks(message.blocks)
    assert problems == [] and len(message.blocks) == 21
    assert len(message.text) <= 3000 and message.text.endswith("; …")


def test_a_reply_needs_news() -> None:
    with pytest.raises(ValueError):
        render_follow_up([])
