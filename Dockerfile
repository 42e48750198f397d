# papers-bot in HTTP mode (`python -m bot serve`): docker build -t papers-bot . &&
#   docker run -p 3000:3000 -v papers-bot-data:/data -e SLACK_BOT_TOKEN=… -e SLACK_SIGNING_SECRET=… papers-bot
# The TinyDB settings file and its SQLite ledger live in the /data volume; set DATABASE_URL to use
# PostgreSQL instead (then the volume only holds the search archive).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PAPERS_BOT_DB=/data/papers-bot.json \
    PORT=3000

WORKDIR /app
COPY requirements.txt pyproject.toml README.md LICENSE NOTICE ./
COPY bot ./bot
COPY handlers ./handlers
RUN pip install -r requirements.txt

RUN useradd --create-home --uid 10001 papers && mkdir -p /data && chown papers /data
USER papers
VOLUME /data
EXPOSE 3000

HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD python -c "import os, sys, urllib.request; sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{os.environ.get(\"PORT\", \"3000\")}/healthz', timeout=4).status == 200 else 1)"

CMD ["python", "-m", "bot", "serve"]
