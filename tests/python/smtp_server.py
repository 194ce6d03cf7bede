"""A real SMTP server (aiosmtpd) on a free loopback port, with hooks to
refuse chosen recipients for good (550) or for now (451)."""

import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps every accepted message, refuses as told."""

    def __init__(self):
        self.messages = []  # (envelope recipients, parsed message, raw bytes)
        self.reject = {}  # address -> reply, e.g. "550 5.1.1 no such user"
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.reject.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), parsed, raw))
        return "250 Message accepted for delivery"

    def recipients(self):
        with self.lock:
            return sorted(address for rcpts, _, _ in self.messages for address in rcpts)

    def clear(self):
        with self.lock:
            self.messages.clear()


class Login:
    """aiosmtpd authenticator that accepts one user and password."""

    def __init__(self, user: str, password: str):
        self.user, self.password = user.encode(), password.encode()
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.user, self.password)
        self.logins.append((mechanism, ok))
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=ok, handled=False)


class SmtpServer:
    def __init__(self, login: "Login | None" = None, port: "int | None" = None):
        self.port = port or free_port()
        self.recorder = Recorder()
        extra = {}
        if login is not None:
            # Loopback only, in a test: AUTH without TLS is allowed here.
            extra = {"authenticator": login, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, decode_data=False, **extra)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()
