"""Server-rendered pages for "Add to Slack": the landing page (``/``), the hand-over to Slack
(``/slack/install``), and the install flow's success and failure pages.

Why plain HTML from Python: four small pages need no framework, no JavaScript and no build step; one
stylesheet inlined in each page keeps them a single request. Every value that comes from outside
(a workspace name, a failure reason) goes through :func:`html.escape`.

Accessibility, checked in a real browser (``tests/scenarios/test_install_browser.py``): one ``h1`` per
page, a ``main`` landmark and a skip link, real links for every action (keyboard and screen readers
need nothing special), a visible focus ring, text contrast of at least 7:1 (WCAG AAA) and a layout
that fits a 360-pixel phone without sideways scrolling.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

__all__ = [
    "BOT_SCOPES",
    "FAILURES",
    "Page",
    "continue_page",
    "failure_page",
    "landing_page",
    "success_page",
]

# The bot scopes papers-bot asks for, and why; the same list is what the install asks Slack for and
# what manifest.json declares (tests/test_manifest.py keeps the three in step).
BOT_SCOPES: tuple[tuple[str, str], ...] = (
    ("commands", "the /papers command"),
    ("chat:write", "posting the daily papers in channels that subscribe"),
    ("chat:write.public", "posting in a public channel without being invited first"),
    ("users:read", "telling workspace admins apart, only when the operator limits who may change settings"),
    ("channels:history", "after a crash mid-post, checking whether the post arrived, so it is never sent twice"),
    ("groups:history", "the same check in private channels the bot was invited to"),
    ("links:read", "noticing arXiv and Hugging Face paper links people paste, to show the paper's card"),
    ("links:write", "adding that card (title, authors, upvotes, code and models) under the link"),
    ("reactions:read", "counting reactions on the bot's own posts as the team's picks of the week"),
    ("files:write", "the weekly recap's chart in its thread, and BibTeX exports sent to the person who asked"),
    ("im:write", "opening the direct message a BibTeX export is sent to"),
    ("channels:read", "knowing which public channels a person is in, for their Home tab's team picks"),
    ("groups:read", "the same for private channels the bot was invited to"),
)

# Why an install failed, in the installer's words: (title, what happened and what to do).
FAILURES: dict[str, tuple[str, str]] = {
    "access_denied": (
        "The installation was cancelled",
        "You (or your workspace's settings) chose not to allow papers-bot. Nothing was installed and "
        "nothing was stored. You can start again whenever you like.",
    ),
    "expired": (
        "This install link has expired",
        "An install link works once and for ten minutes, in the browser that opened it. Nothing was "
        "installed. Start again from the button below.",
    ),
    "slack": (
        "Slack did not confirm the installation",
        "Slack did not hand over the installation (the link may have been used already). Nothing was "
        "installed. Please start again.",
    ),
    "storage": (
        "The installation could not be saved",
        "Slack confirmed it, but papers-bot could not save it. Nothing was installed. Please try again "
        "in a few minutes.",
    ),
}
_REASONS = {
    "access_denied": "access_denied",
    "invalid_browser": "expired",  # the state cookie is missing or does not match (tampered, other browser)
    "invalid_state": "expired",  # unknown, already used or older than ten minutes
    "missing_code": "slack",
    "invalid_code": "slack",
    "storage_error": "storage",
}


@dataclass(frozen=True)
class Page:
    status: int
    html: str


_STYLE = """
:root { --ink: #1d1c1d; --muted: #454245; --brand: #4a154b; --line: #dddddd; --paper: #ffffff;
  --wash: #f8f8f8; --good: #0b5b33; --bad: #8a1c1c; }
* { box-sizing: border-box; }
html { font-size: 100%; }
body { margin: 0; background: var(--paper); color: var(--ink); line-height: 1.55;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
.skip { position: absolute; left: -999px; top: 0; padding: .5rem 1rem; background: var(--brand); color: #fff; }
.skip:focus { left: 0; }
main { max-width: 44rem; margin: 0 auto; padding: 1.5rem 1.25rem 3rem; }
h1 { font-size: 1.9rem; line-height: 1.2; margin: .5rem 0 1rem; }
h2 { font-size: 1.3rem; margin: 2rem 0 .5rem; }
p, li { font-size: 1.05rem; }
a { color: var(--brand); text-underline-offset: .15em; }
a:focus-visible, .button:focus-visible { outline: 3px solid #1264a3; outline-offset: 3px; }
.button { display: inline-block; min-height: 48px; padding: .75rem 1.5rem; border-radius: .4rem;
  background: var(--brand); color: #fff; font-weight: 700; font-size: 1.1rem; text-decoration: none; }
.button:hover { background: #350d36; }
.secondary { margin-left: 1rem; }
.example { margin: 0; border: 1px solid var(--line); border-left: 4px solid var(--brand); border-radius: .4rem;
  background: var(--wash); padding: 1rem 1.1rem; overflow-wrap: anywhere; }
.example p { margin: .35rem 0; }
.meta { color: var(--muted); font-size: .95rem; }
dl.scopes dt { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-weight: 700;
  margin-top: .6rem; }
dl.scopes dd { margin: 0 0 0 1rem; }
.status { font-weight: 700; }
.good { color: var(--good); }
.bad { color: var(--bad); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; background: var(--wash);
  border: 1px solid var(--line); border-radius: .25rem; padding: .05rem .3rem; }
footer { margin-top: 3rem; border-top: 1px solid var(--line); padding-top: 1rem; }
@media (max-width: 30rem) { h1 { font-size: 1.55rem; } .secondary { display: inline-block; margin: 1rem 0 0; } }
"""


def _document(title: str, body: str) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n"
        '<link rel="icon" href="data:,">\n'
        f"<style>{_STYLE}</style>\n</head>\n<body>\n"
        '<a class="skip" href="#main">Skip to content</a>\n'
        f'<main id="main">\n{body}\n</main>\n</body>\n</html>\n'
    )


_EXAMPLE = """
<figure class="example" aria-label="An example post in a Slack channel">
<p><strong>Trending papers · Fri 21 Aug 2026</strong></p>
<p><strong>1. EnvHarness: Awakening Static Worlds for Agent Learning</strong><br>
<span class="meta">▲ 163 upvotes · Chengsong Huang, Zifeng Wang, Rujun Han et al. · Google</span><br>
EnvHarness and EnvRigger dynamically reshape static environments via programmable plugins…<br>
<span class="meta">HF page · arXiv · PDF · GitHub ★ 8</span></p>
<p><strong>2. …</strong></p>
</figure>
"""


def landing_page(install_url: str = "/slack/install", scopes: Sequence[tuple[str, str]] = BOT_SCOPES) -> Page:
    """``/``: what papers-bot does, an example post, what it asks for and why, what it keeps, and
    the "Add to Slack" button."""
    scope_items = "\n".join(f"<dt>{escape(name)}</dt><dd>{escape(why)}</dd>" for name, why in scopes)
    body = f"""
<h1>papers-bot: Hugging Face Daily Papers in your Slack channels</h1>
<p>Every channel that subscribes gets the day's trending AI and machine-learning papers from
<a href="https://huggingface.co/papers">Hugging Face Daily Papers</a>, on its own schedule and
filtered to its own topics, ranked by upvotes and never the same paper twice. <code>/papers</code>
also searches papers privately and shares the ones you choose.</p>
<p><a class="button" id="add-to-slack" href="{escape(install_url, quote=True)}">Add to Slack</a></p>

<h2>What a post looks like</h2>
{_EXAMPLE}

<h2>What it asks Slack for, and why</h2>
<dl class="scopes">
{scope_items}
</dl>
<p>It reads no messages except its own posts and their threads (after a crash, and for follow-ups),
and it never posts unless a channel subscribed, someone pasted a paper link, or someone asked.</p>

<h2>What it stores, and for how long</h2>
<ul>
<li>Your workspace's name and id, and the bot token Slack issues at install, encrypted.</li>
<li>Each subscribed channel's settings: schedule, topics, and who changed them and when (user ids).</li>
<li>Which papers it posted in which channel and when (the post log is kept 120 days; the list of
papers posted, so none repeats, while the app is installed), and what each posted paper's page
showed (its code and models), to reply in the thread when something new appears.</li>
<li>Each person's reading list (the papers they saved), until they remove it or type
<code>/papers forget me</code>; saves, shares and reactions on the bot's posts, for team picks, for
120 days (user ids, never message text).</li>
</ul>
<p>When you uninstall the app (or revoke its token), the token is deleted at once and the channels
stop; everything else is deleted 30 days later, so a reinstall within a month picks up where you
left off. Ask the operator to delete it at once if you prefer.</p>
<footer class="meta"><p>papers-bot is open source (Apache-2.0).</p></footer>
"""
    return Page(200, _document("papers-bot: Add to Slack", body))


def continue_page(authorize_url: str) -> Page:
    """``/slack/install`` answers with a redirect to Slack; this is its body, for a client that does
    not follow redirects."""
    body = f"""
<h1>Continue to Slack</h1>
<p>Slack will ask you to allow papers-bot in your workspace.</p>
<p><a class="button" href="{escape(authorize_url, quote=True)}">Continue to Slack</a></p>
"""
    return Page(302, _document("papers-bot: continue to Slack", body))


def success_page(team_name: str, team_id: str) -> Page:
    """The install worked: name the workspace and say how to start."""
    name = escape(team_name or team_id or "your workspace")
    open_url = f"https://app.slack.com/client/{escape(team_id, quote=True)}" if team_id else "https://app.slack.com/"
    body = f"""
<h1>papers-bot is installed in {name}</h1>
<p class="status good" role="status">Installation complete.</p>
<h2>Start in a channel</h2>
<ol>
<li>Open the channel that should get the papers.</li>
<li>Type <code>/papers subscribe</code> (for example <code>/papers subscribe 08:30 Europe/Berlin mon-fri</code>).</li>
<li>Optionally narrow it: <code>/papers follow LLM agents, "process reward"</code>.</li>
</ol>
<p>Private channels: invite the bot first with <code>/invite @papers-bot</code>.
<code>/papers help</code> lists every command.</p>
<p><a class="button" href="{open_url}">Open Slack</a></p>
"""
    return Page(200, _document(f"papers-bot is installed in {team_name or team_id}", body))


def failure_page(reason: str, *, status: int = 400, install_url: str = "/slack/install") -> Page:
    """The install did not happen: say why in plain words and offer to try again."""
    kind = _REASONS.get(reason, "slack")
    title, explanation = FAILURES[kind]
    body = f"""
<h1>{escape(title)}</h1>
<p class="status bad" role="alert">papers-bot was not installed.</p>
<p>{escape(explanation)}</p>
<p><a class="button" id="try-again" href="{escape(install_url, quote=True)}">Try again</a>
<a class="secondary" href="/">What papers-bot does</a></p>
<p class="meta">Reason given: <code>{escape(reason)}</code></p>
"""
    return Page(status, _document(f"papers-bot: {title}", body))
