"""A real kill -9 of `digest-feed inbox` between the state's commit and a
message's flag, over both mailboxes, with nothing in digest-feed made for
the test:

- Maildir: the flag is a rename (new/ → cur/ with `:2,S`), the only rename
  an `inbox` run makes once its state and key exist; strace injects SIGKILL
  as the `nth` rename is entered, so it never happens.
- IMAP: a TLS proxy in front of the test's Dovecot relays the session and
  holds the `nth` STORE (the flag) without forwarding it; the test then
  kills the process, whose commit for that message is done by then.
"""

import os
import pathlib
import re
import shutil
import socket
import ssl
import subprocess
import threading

from helpers import TIMEOUT, binary
from mailboxes import Maildir


def inbox_killed_at_flag(site, box, nth: int) -> int:
    """Runs `digest-feed inbox` in `site` and kills it as it flags its `nth` message; its exit status."""
    if isinstance(box, Maildir):
        return _killed_at_rename(site, box, nth)
    return _killed_at_store(site, box, nth)


def _killed_at_rename(site, box, nth: int) -> int:
    strace = shutil.which("strace")
    assert strace, "strace is not installed: scripts/test installs Debian's strace"
    calls = "rename,renameat,renameat2"
    result = subprocess.run(
        [strace, "-f", "-qq", "-o", "/dev/null", "-e", f"trace={calls}",
         "-e", f"inject={calls}:signal=KILL:when={nth}", binary(), "inbox"],
        cwd=site.path, capture_output=True, text=True, timeout=TIMEOUT, env={**os.environ, **box.env})
    return result.returncode


def _killed_at_store(site, box, nth: int) -> int:
    config = site.path / "config.toml"
    text = config.read_text()
    with HoldingProxy(box, nth) as proxy:
        config.write_text(re.sub(r"imap_port = \d+", f"imap_port = {proxy.port}", text))
        try:
            run = subprocess.Popen([binary(), "inbox"], cwd=site.path, env={**os.environ, **box.env},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            held = proxy.held.wait(timeout=60)
            run.kill()
            _, stderr = run.communicate(timeout=30)
            assert held, f"inbox never flagged its message {nth}: {stderr.decode()}"
        finally:
            config.write_text(text)
    return run.returncode


class HoldingProxy:
    """`with HoldingProxy(dovecot, nth) as proxy:` IMAPS on 127.0.0.1:`proxy.port` (Dovecot's certificate),
    relayed to `dovecot`; the client's `nth` STORE command is held, never forwarded, and `held` is set."""

    def __init__(self, dovecot, nth: int):
        self.dovecot, self.nth = dovecot, nth
        self.stores = 0
        self.held = threading.Event()
        self.stop = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tmp = pathlib.Path(dovecot.tmp)
        self.tls.load_cert_chain(tmp / "imap-cert.pem", tmp / "imap-key.pem")
        self.upstream_tls = ssl.create_default_context(cafile=str(dovecot.ca_file))

    def __enter__(self):
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.listener.close()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._relay, args=(conn,), daemon=True).start()

    def _relay(self, conn):
        try:
            client = self.tls.wrap_socket(conn, server_side=True)
            upstream = self.upstream_tls.wrap_socket(
                socket.create_connection(("127.0.0.1", self.dovecot.port)), server_hostname="127.0.0.1")
        except (OSError, ssl.SSLError):
            conn.close()
            return
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        with client, upstream, client.makefile("rb") as lines:
            for line in lines:
                # `A0007 UID STORE 4 +FLAGS.SILENT (\Seen)`: the flag.
                if b" STORE " in line.upper():
                    self.stores += 1
                    if self.stores == self.nth:
                        self.held.set()
                        self.stop.wait()
                        return
                upstream.sendall(line)

    @staticmethod
    def _pump(source, sink):
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
