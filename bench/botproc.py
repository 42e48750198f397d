"""Start ``python -m bot serve`` as a real process against the fakes and wait until ``/healthz`` answers.

Why a process and not the app object: start-up time and idle memory are properties of the process
(interpreter, imports, store open, scheduler, HTTP server), and the slash-command benchmark then
measures the bot over real HTTP with its own CPU, as Slack would reach it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Self

import httpx

from bench.common import REPO, free_port

__all__ = ["SIGNING_SECRET", "BotProcess"]

SIGNING_SECRET = "bench-signing-secret-0123456789"


class BotProcess:
    """``with BotProcess(urls, db) as bot:`` → ``bot.url``, ``bot.ready_after`` (s), ``bot.pid``."""

    def __init__(
        self,
        urls: dict[str, str],
        db_path: Path,
        *,
        timeout: float = 60.0,
        env: dict[str, str] | None = None,
        max_open_files: int | None = None,
    ) -> None:
        """``env``: extra environment for the bot; ``max_open_files``: its file-descriptor limit (a VM's
        usual 1024, say), for attacks that used to end when the descriptors ran out."""
        self.max_open_files = max_open_files
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.timeout = timeout
        self.ready_after = 0.0
        extra_env = env
        env = dict(os.environ)
        env.update(
            {
                "SLACK_BOT_TOKEN": "xoxb-bench-0001",
                "SLACK_SIGNING_SECRET": SIGNING_SECRET,
                "SLACK_API_URL": urls["slack_api_url"],
                "HF_ENDPOINT": urls["hf_url"],
                "ARXIV_API_URL": urls.get("arxiv_url", "http://127.0.0.1:9/api/query"),  # never the internet
                "PAPERS_BOT_DB": str(db_path),
                "PORT": str(self.port),
                "LOG_LEVEL": "WARNING",
                "PYTHONPATH": str(REPO),
            }
        )
        env.pop("SLACK_APP_TOKEN", None)
        env.update(extra_env or {})
        self._env = env
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._proc is not None
        return self._proc.pid

    def __enter__(self) -> Self:
        started = time.perf_counter()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            cwd=REPO,
            env=self._env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            preexec_fn=self._limit_files if self.max_open_files else None,
        )
        deadline = started + self.timeout
        with httpx.Client(timeout=1.0) as client:
            while time.perf_counter() < deadline:
                if self._proc.poll() is not None:
                    err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                    raise RuntimeError(f"python -m bot serve exited with {self._proc.returncode}: {err[-2000:]}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        self.ready_after = time.perf_counter() - started
                        return self
                except httpx.TransportError:
                    pass
                time.sleep(0.005)
        self.__exit__()
        raise RuntimeError(f"python -m bot serve was not ready within {self.timeout} s")

    def _limit_files(self) -> None:
        import resource

        assert self.max_open_files is not None
        _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, hard))

    def __exit__(self, *exc: object) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if proc.stderr:
            proc.stderr.close()
