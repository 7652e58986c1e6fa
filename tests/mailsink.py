"""A real SMTP server for tests (aiosmtpd on a loopback port): it receives, refuses or holds messages.

``MailSink().start()`` listens; ``stop()`` closes the port (connections are then refused, as when a mail
server is down); ``refuse = True`` answers every message with a temporary failure (451), ``refuse_rcpt``
refuses the addresses it holds (550); ``hold()``
makes the next message wait in the server until :meth:`release` (a client stuck mid-send).
"""
from __future__ import annotations

import email
import email.header
import socket
import threading
import time
from typing import Any, Optional

from aiosmtpd.controller import Controller


def free_port() -> int:
    """A loopback port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def header(msg: email.message.Message, name: str) -> str:
    """A decoded header of a received message."""
    return str(email.header.make_header(email.header.decode_header(msg[name] or "")))


class MailSink:
    """The SMTP sink; :attr:`messages` holds what it accepted (250), in order."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.port = port or free_port()
        self.messages: list[email.message.Message] = []
        self.refuse = False
        self.refuse_rcpt: set[str] = set()  # addresses answered 550 at RCPT TO (one recipient refused)
        self.arrived = threading.Event()  # a message reached the DATA stage (accepted or not)
        self._hold: Optional[threading.Event] = None
        self._controller: Optional[Controller] = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802 - aiosmtpd
                          rcpt_options: list[str]) -> str:
        if address in self.refuse_rcpt:
            return "550 5.1.1 recipient refused by the test"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.arrived.set()
        if self._hold is not None:
            hold, self._hold = self._hold, None
            while not hold.is_set():  # the server's loop runs in its own thread: waiting here holds the client
                time.sleep(0.05)
            return "451 4.3.0 not accepted (held by the test)"
        if self.refuse:
            return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> "MailSink":
        """Listen on :attr:`port` (the same port after a :meth:`stop`)."""
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self) -> None:
        """Close the port: clients get 'connection refused'."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def hold(self) -> threading.Event:
        """Hold the next message inside the server until the returned event is set (then refuse it)."""
        self.arrived.clear()
        self._hold = threading.Event()
        return self._hold

    def wait(self, count: int, seconds: float = 30) -> list[email.message.Message]:
        """Wait until at least ``count`` messages were accepted (or ``seconds`` passed); the messages."""
        deadline = time.monotonic() + seconds
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.messages

    def subjects(self) -> list[str]:
        """The subjects of the accepted messages."""
        return [header(m, "Subject") for m in self.messages]
