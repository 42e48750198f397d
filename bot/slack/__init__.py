"""The Slack edge: the Web API client and poster, the posting pace, the HTTP server and its requests
in flight. The only package that imports ``slack_sdk`` (``bot/app.py`` wires Bolt)."""
