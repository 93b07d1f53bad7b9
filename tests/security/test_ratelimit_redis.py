"""Rate limits hold across processes when kept in Redis (FIELDSVC_RATELIMIT_STORAGE=redis://…):
two gunicorn servers share one limit, so the 11th login attempt for an account is refused
whichever server answers it."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid

import pytest
import requests

#: A Redis database of its own for this test; its keys carry a per-run prefix and are deleted after.
REDIS_URL = "redis://127.0.0.1:6379/14"
GUNICORN = os.path.join(os.path.dirname(sys.executable), "gunicorn")


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({e}); start redis-server on 127.0.0.1:6379 "
                    "(the rate-limit test needs a shared store)")
    return client


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(database_url: str, port: int, prefix: str, storage: str) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret",
           "FIELDSVC_RATELIMIT_STORAGE": storage, "FIELDSVC_RATELIMIT_PREFIX": prefix}
    return subprocess.Popen([GUNICORN, "-w", "1", "-b", f"127.0.0.1:{port}", "fieldsvc.web:create_app()"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)


def _wait_up(base: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server {base} exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            requests.get(f"{base}/healthz", timeout=10)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.3)
    raise AssertionError(f"server {base} did not start within {timeout} s")


def _attempts(app, storage: str, prefix: str) -> list[tuple[int, int]]:
    """12 wrong-password attempts for one account, alternating between two servers: (server, status)."""
    servers = []
    try:
        for _ in range(2):
            port = _free_port()
            servers.append((f"http://127.0.0.1:{port}",
                            _serve(app.config["SQLALCHEMY_DATABASE_URI"], port, prefix, storage)))
        for base, proc in servers:
            _wait_up(base, proc)
        out = []
        for i in range(12):
            base = servers[i % 2][0]
            r = requests.post(f"{base}/api/v1/auth/token", json={"username": "psp-p2", "password": "wrong"},
                              timeout=30)
            out.append((i % 2, r.status_code))
        return out
    finally:
        for _, proc in servers:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


@pytest.mark.slow
def test_eleventh_login_attempt_refused_whichever_server_answers(app, world):
    redis_client = _redis()
    prefix = f"fieldsvc-test-{uuid.uuid4().hex[:12]}"
    try:
        attempts = _attempts(app, REDIS_URL, prefix)
        statuses = [status for _, status in attempts]
        assert {server for server, _ in attempts[:10]} == {0, 1}  # both servers took attempts
        assert 429 not in statuses[:10], attempts
        assert statuses[10:] == [429, 429], attempts  # the 11th on one server, the 12th on the other
        assert list(redis_client.scan_iter(match=f"*{prefix}*")), "the limit's counters live in Redis"
    finally:
        for key in redis_client.scan_iter(match=f"*{prefix}*"):
            redis_client.delete(key)
    assert not list(redis_client.scan_iter(match=f"*{prefix}*"))
