"""Running ``python -m bot`` as a real process against the fakes, for the kill and operations tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.conftest import BOT_TOKEN, SIGNING_SECRET
from tests.fakes import FakeHF, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
HF_TOKEN = "hf_testtoken0123456789abcdef"


def bot_env(fake_slack: FakeSlack, fake_hf: FakeHF, db: Path, **extra: str) -> dict[str, str]:
    """The environment an operator would set, pointing at the fakes; nothing inherited from ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "PAPERS_BOT_", "HF_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        HF_ENDPOINT=fake_hf.base_url,
        HF_TOKEN=HF_TOKEN,
        PAPERS_BOT_DB=str(db),
        LOG_LEVEL="INFO",
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        PAPERS_BOT_SEMANTIC_MODEL="off",  # as in tests/conftest.py: no model load in every bot process
        PAPERS_BOT_HISTORY_PER_MINUTE="100",  # the most it allows: these tests are not about that budget
    )
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class BotProcess:
    """``python -m bot <command>`` in the background; output goes to a file so a kill loses none."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path, *args: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = cwd / f"bot-{command}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", command, *args],
            env={**env, "PORT": str(self.port)},
            cwd=cwd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def output(self) -> str:
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def wait_healthy(self, timeout: float = 20.0) -> dict[str, object]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the bot exited with {self.proc.returncode}:\n{self.output}")
            try:
                return dict(httpx.get(f"{self.url}/healthz", timeout=0.5).json())
            except httpx.TransportError:
                time.sleep(0.05)
        raise AssertionError(f"the bot did not answer /healthz within {timeout}s:\n{self.output}")

    def health(self) -> dict[str, object]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=2).json())

    def kill(self) -> None:
        """SIGKILL: no handler, no cleanup, like a crash or the OOM killer."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return int(self.proc.returncode)

    def wait(self, timeout: float = 60.0) -> int:
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return int(code)
