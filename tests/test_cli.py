"""The `fieldsvc` command line: every documented command is there, and `serve` really serves."""
from __future__ import annotations

import pytest

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from fieldsvc.cli import main

DOCUMENTED = ["demo", "admin", "db", "import", "solve", "bench", "plan", "plan-horizon", "scorecard", "serve", "scheduler"]


def test_every_documented_command_exists():
    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0, result.output
    for name in DOCUMENTED:
        assert f"  {name} " in result.output, f"`fieldsvc {name}` is missing"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_serve_answers_on_the_given_port(tmp_path: Path):
    port = _free_port()
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{tmp_path / 'serve.sqlite'}", SECRET_KEY="x",
               FIELDSVC_VAR_DIR=str(tmp_path))
    exe = Path(sys.executable).with_name("fieldsvc")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        status = None
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=2) as r:
                    status = r.status
                    break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        assert status == 200, proc.stdout.read().decode() if proc.poll() is not None else "no answer"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
