"""The few web pages papers-bot serves in OAuth mode: the landing page with "Add to Slack", and the
install flow's success and failure pages. Pure: data in, HTML out (``pages.py``)."""
