"""A real SMTP server (aiosmtpd) on a free loopback port, with fault hooks:
refuse chosen recipients for good (550) or for now (451, a set number of
times), drop the connection in the middle of every K-th message, hold
messages until the test releases them, and speak STARTTLS with a certificate the test makes."""

import asyncio
import email
import email.policy
import socket
import ssl
import threading

from aiosmtpd.controller import Controller

from helpers import TIMEOUT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Recorder:
    """aiosmtpd handler: keeps every accepted message, misbehaves as told."""

    def __init__(self):
        self.raw = []  # (envelope recipients, raw bytes), in the order accepted
        self.senders = []  # the envelope sender (MAIL FROM) of each accepted message, in the same order
        self.mail_options = []  # the MAIL FROM parameters (e.g. ["SMTPUTF8", "BODY=8BITMIME"]) of each, in the same order
        self.reject = {}  # address -> reply given every time, e.g. "550 5.1.1 no such user"
        self.defer = {}  # address -> [times left, reply]: refused for now that many times
        self.refuse_all = None  # a reply for every recipient, e.g. "451 4.7.0 throttled"
        self.refuse_sender = None  # a reply to every MAIL FROM, e.g. "553 5.7.1 <a@b>: Sender address rejected"
        self.drop_every = 0  # drop the connection, unanswered, at the end of every K-th DATA
        self.hold_after = None  # once this many messages are accepted, each further DATA waits for release()
        self.released = threading.Event()
        self.holding = threading.Event()  # set once a message is held
        self.close_every = 0  # answer every K-th MAIL FROM with 421 and close, as servers limiting messages per connection do
        self.close_at = {}  # address -> times left: answer its RCPT with 421 and close the connection
        self.keep_dropped = False  # with drop_every: the message is stored, only its "250" is lost
        self.refuse_ehlo = False  # answer EHLO with 502, as an old server would; HELO still works
        self.mail_count = 0
        self.closed = 0  # connections closed with 421
        self.dropped = 0
        self.deferred = 0  # refusals from `defer`
        self.refused = 0  # every refusal, for any reason
        self.data_count = 0
        self.lock = threading.Lock()

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.refuse_ehlo:
            return ["502 5.5.2 Error: command not recognized"]
        session.host_name = hostname
        return responses

    def every(self, counter: str, k: int, tally: str) -> bool:
        """Counts one more `counter`; True (and counts one more `tally`) on every `k`-th."""
        with self.lock:
            count = getattr(self, counter) + 1
            setattr(self, counter, count)
            hit = bool(k) and count % k == 0
            if hit:
                setattr(self, tally, getattr(self, tally) + 1)
            return hit

    @staticmethod
    def close_421(server):
        """421, then the connection closes, as RFC 5321 §3.8 lets a server do."""
        server.transport.write(b"421 4.7.0 Too many messages on this connection, closing\r\n")
        server.transport.close()
        return "421 4.7.0 closing"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.refuse_sender:
            return self.refuse_sender
        if self.every("mail_count", self.close_every, "closed"):
            return self.close_421(server)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        key = address.lower()
        with self.lock:
            close = self.close_at.get(key, 0) > 0
            if close:
                self.close_at[key] -= 1
                self.closed += 1
        if close:
            return self.close_421(server)
        with self.lock:
            reply = self.reject.get(key) or self.refuse_all
            deferral = self.defer.get(key)
            if not reply and deferral and deferral[0] > 0:
                deferral[0] -= 1
                self.deferred += 1
                reply = deferral[1]
            if reply:
                self.refused += 1
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.hold_after is not None and self.count() >= self.hold_after:
            # Waits for the test's event, not for time: the run is mid-send until then.
            self.holding.set()
            await asyncio.get_running_loop().run_in_executor(None, self.released.wait)
        if self.every("data_count", self.drop_every, "dropped"):
            # The whole message arrived, but the client never hears "250": it
            # is kept only with keep_dropped (the reply lost on the way back).
            if self.keep_dropped:
                with self.lock:
                    self.raw.append((list(envelope.rcpt_tos), envelope.original_content or envelope.content))
            server.transport.abort()
            return "421 4.4.2 connection dropped"
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.raw.append((list(envelope.rcpt_tos), raw))
            self.senders.append(envelope.mail_from)
            self.mail_options.append(list(envelope.mail_options))
        return "250 Message accepted for delivery"

    def messages(self):
        """(envelope recipients, parsed message, raw bytes) for each accepted message.

        A method, not a property: aiosmtpd inspects the handler's attributes
        on every connection, and would parse every message each time."""
        with self.lock:
            raw = list(self.raw)
        return [(rcpts, email.message_from_bytes(data, policy=email.policy.default), data) for rcpts, data in raw]

    def release(self):
        """Lets every held message (and every later one) through."""
        self.released.set()

    def count(self) -> int:
        with self.lock:
            return len(self.raw)

    def recipients(self):
        with self.lock:
            return sorted(address for rcpts, _ in self.raw for address in rcpts)

    def clear(self):
        with self.lock:
            self.raw.clear()
            self.senders.clear()
            self.mail_options.clear()


class Login:
    """aiosmtpd authenticator that accepts one user and password."""

    def __init__(self, user: str, password: str, echo: bool = False):
        self.user, self.password = user.encode(), password.encode()
        self.logins = []
        self.echo = echo  # a refusal that quotes what the client sent, as some servers' do

    def __call__(self, server, session, envelope, mechanism, auth_data):
        from aiosmtpd.smtp import AuthResult, LoginPassword

        ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (self.user, self.password)
        self.logins.append((mechanism, ok))
        if not ok and self.echo and isinstance(auth_data, LoginPassword):
            import base64

            sent = base64.b64encode(b"\0" + auth_data.login + b"\0" + auth_data.password).decode()
            echoed = f"535 5.7.8 AUTH PLAIN {sent} failed for password {auth_data.password.decode()}"
            return AuthResult(success=False, handled=False, message=echoed)
        # handled=False: aiosmtpd itself answers a failure with 535.
        return AuthResult(success=ok, handled=False)


class SmtpServer:
    """`with SmtpServer() as server:` runs the server on `server.port`.

    `login` requires AUTH; `tls` (an ssl.SSLContext for the server side)
    offers STARTTLS and requires it before MAIL; `implicit_tls` speaks TLS
    from the first byte."""

    def __init__(self, login: "Login | None" = None, port: "int | None" = None, tls: "ssl.SSLContext | None" = None,
                 implicit_tls: "ssl.SSLContext | None" = None, smtputf8: bool = True):
        self.port = port or free_port()
        self.recorder = Recorder()
        extra = {}
        if login is not None:
            # Loopback only, in a test: AUTH without TLS is allowed here.
            extra = {"authenticator": login, "auth_required": True, "auth_require_tls": tls is not None}
        if tls is not None:
            extra.update(tls_context=tls, require_starttls=True)
        if implicit_tls is not None:
            # TLS from the first byte (SMTPS, port 465 style).
            extra.update(ssl_context=implicit_tls)
        # server_hostname: without it aiosmtpd asks socket.getfqdn() on every connection, a DNS lookup
        # that can take seconds (more than the tests' 5 s timeout_s) where the resolver is slow.
        # ready_timeout: aiosmtpd's 5 s for its thread to start failed the test on a busy machine;
        # the start is waited for, TIMEOUT only guards a hang.
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, decode_data=False,
                                     server_hostname="mx.test.invalid", enable_SMTPUTF8=smtputf8,
                                     ready_timeout=TIMEOUT, **extra)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()


class RawServer:
    """`with RawServer(talk) as server:` a TCP server on `server.port` that runs `talk(socket)`
    for each connection, in a thread: a server misbehaving below what aiosmtpd lets one do."""

    def __init__(self, talk):
        self.talk = talk
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn,), daemon=True).start()

    def _talk(self, conn):
        with conn:
            try:
                self.talk(conn)
            except OSError:
                pass

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.listener.close()
