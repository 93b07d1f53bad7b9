"""Fixtures of the channel tests: an IMAP server in this process (pymap's in-memory backend on a
free localhost port, in a thread) and helpers to put messages into it."""
from __future__ import annotations

import asyncio
import imaplib
import threading
from argparse import Namespace
from contextlib import AsyncExitStack
from email.message import EmailMessage
from email.utils import make_msgid

import pytest

IMAP_USER, IMAP_PASSWORD = "support", "mailbox-secret"


class ImapServer:
    """pymap serving one mailbox user over plain IMAP on 127.0.0.1 (tests only)."""

    def __init__(self) -> None:
        self.port = 0
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        from proxyprotocol.reader import ProxyProtocolReader
        from pymap.backend.dict import DictBackend
        from pymap.imap import IMAPServer

        args = Namespace(host="127.0.0.1", port=0, debug=False, cert=None, key=None, tls=False, passlib_cfg=None,
                         demo_data=False, demo_user=IMAP_USER, demo_password=IMAP_PASSWORD, proxy_protocol=None,
                         inherited_sockets=None)
        backend, config = await DictBackend.init(args, invalid_user_sleep=0.0, secure_auth=False)
        config.apply_context()
        async with AsyncExitStack() as stack:
            await backend.start(stack)
            handler = ProxyProtocolReader(config.proxy_protocol).get_callback(IMAPServer(backend.login, config))
            server = await asyncio.start_server(handler, "127.0.0.1", 0)
            self.port = server.sockets[0].getsockname()[1]
            self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
            self._ready.set()
            async with server:
                await self._stop.wait()

    def start(self) -> "ImapServer":
        self._thread.start()
        assert self._ready.wait(20), "the IMAP test server did not start"
        return self

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def client(self) -> imaplib.IMAP4:
        c = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        c.login(IMAP_USER, IMAP_PASSWORD)
        return c

    def deliver(self, raw: bytes) -> None:
        c = self.client()
        try:
            typ, _ = c.append("INBOX", None, None, raw)
            assert typ == "OK"
        finally:
            c.logout()

    def unseen(self) -> int:
        c = self.client()
        try:
            c.select("INBOX")
            _, data = c.uid("SEARCH", None, "UNSEEN")
            return len((data[0] or b"").split())
        finally:
            c.logout()

    def mark_all_unseen(self) -> None:
        c = self.client()
        try:
            c.select("INBOX")
            c.uid("STORE", "1:*", "-FLAGS", "(\\Seen)")
        finally:
            c.logout()


@pytest.fixture(scope="session")
def _imap_server():
    server = ImapServer().start()
    yield server
    server.stop()


@pytest.fixture
def imap(_imap_server, app):
    """The IMAP server with an empty inbox, and the app configured to poll it."""
    c = _imap_server.client()
    c.select("INBOX")
    c.uid("STORE", "1:*", "+FLAGS", "(\\Deleted)")
    c.expunge()
    c.logout()
    app.config.update(IMAP_HOST="127.0.0.1", IMAP_PORT=_imap_server.port, IMAP_USER=IMAP_USER,
                      IMAP_PASSWORD=IMAP_PASSWORD, IMAP_SSL=False, IMAP_FOLDER="INBOX",
                      SUPPORT_PHONE="021-8888 1234", MAIL_FROM="support@fieldsvc.test")
    return _imap_server


def email_bytes(sender: str, subject: str, body: str, message_id: str | None = None, **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "support@fieldsvc.test"
    msg["Subject"] = subject
    msg["Message-ID"] = message_id or make_msgid(domain="shop.test")
    for k, v in headers.items():
        msg[k.replace("_", "-")] = v
    msg.set_content(body)
    return bytes(msg)
