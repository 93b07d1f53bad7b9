"""No secret in the repository (issue 8, point 1): SECRET_KEY comes from the environment, else it is
generated once into var/secret_key (private to its owner) and kept."""
from __future__ import annotations

import stat
import subprocess
from pathlib import Path

from fieldsvc.config import REPO_ROOT, secret_key


def test_secret_key_from_environment(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert secret_key(tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_secret_key_generated_once_and_private(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SECRET_KEY", raising=False)
    first = secret_key(tmp_path)
    assert len(first) >= 40 and secret_key(tmp_path) == first
    mode = stat.S_IMODE((tmp_path / "secret_key").stat().st_mode)
    assert mode == 0o600


def test_no_secret_files_are_tracked() -> None:
    ignore = (REPO_ROOT / ".gitignore").read_text().split()
    assert any(line.strip("/") in ("var", "var/") for line in ignore), "var/ (secret key, database) must be ignored"
    if (REPO_ROOT / ".git").exists():
        tracked = subprocess.run(["git", "ls-files"], cwd=REPO_ROOT, capture_output=True, text=True).stdout.split()
        assert not [f for f in tracked if f.startswith("var/") or f.endswith(("secret_key", ".pem", ".key"))]
