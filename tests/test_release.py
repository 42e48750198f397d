"""What a deployer installs from: requirements.txt pins every runtime dependency the package declares
(and installs the package itself), and the Dockerfile runs the Procfile's command as a non-root user
with a health check."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~;\s]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_requirements_pin_every_runtime_dependency_and_install_the_package() -> None:
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lines = [line.strip() for line in (ROOT / "requirements.txt").read_text().splitlines()]
    pins = {_name(line): line for line in lines if line and not line.startswith("#") and line != "."}
    assert all("==" in pin for pin in pins.values()), "every requirement is pinned"
    assert {_name(d) for d in declared} <= set(pins), "a declared dependency is missing from requirements.txt"
    assert lines[-1] == "."


def test_the_dockerfile_serves_as_the_procfile_does_as_a_non_root_user_with_a_health_check() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    procfile = (ROOT / "Procfile").read_text()
    assert "web: python -m bot serve" in procfile
    assert 'CMD ["python", "-m", "bot", "serve"]' in dockerfile
    assert re.search(r"^USER (?!root)\S+", dockerfile, re.M)
    assert "HEALTHCHECK" in dockerfile and "/healthz" in dockerfile
    assert "pip install -r requirements.txt" in dockerfile
