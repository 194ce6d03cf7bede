"""A real kill -9 of `digest-feed inbox` between the state's commit and a
message's flag, over both mailboxes, with nothing in digest-feed made for
the test:

- Maildir: the flag is a rename (new/ → cur/ with `:2,S`), the only rename
  an `inbox` run makes once its state and key exist; strace injects SIGKILL
  as the `nth` rename is entered, so it never happens.
- IMAP: a TLS proxy in front of the test's Dovecot relays the session and
  holds the `nth` STORE (the flag) without forwarding it; the test then
  kills the process, whose commit for that message is done by then.

The test waits for an event, never for the clock: the proxy holding the flag,
or the run ending without reaching it (then its stderr says why at once).

The proxy runs on an asyncio loop in a thread of its own, the one thread that
touches its sockets, and it has no timer: it waits as long as the client stays
connected, and stops when the test's `with` block ends, closing each
connection and ending its thread. Nothing of it outlives the test. It once
outlived it: a thread blocked in a read, whose socket another thread closed
(which does not wake it on Linux), stayed in OpenSSL's read of the stopped
Dovecot's connection; when that Dovecot's last processes quit about ten
seconds later, the read went on on the socket's old number, by then the next
test's connection, and swallowed the bytes the inbox sent there. One thread
per proxy also keeps OpenSSL's rule that one TLS connection is never read and
written from two threads at once.
"""

import asyncio
import os
import pathlib
import queue
import re
import shutil
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
    events = queue.SimpleQueue()
    with HoldingProxy(box, nth, on_hold=lambda: events.put("held")) as proxy:
        config.write_text(re.sub(r"imap_port = \d+", f"imap_port = {proxy.port}", text))
        try:
            run = subprocess.Popen([binary(), "inbox"], cwd=site.path, env={**os.environ, **box.env},
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            # Whichever comes first: the flag held, or the run's end (it stopped before the flag).
            ended = threading.Thread(target=lambda: events.put(f"ended with exit {run.wait()}"), daemon=True)
            ended.start()
            try:
                first = events.get(timeout=TIMEOUT)
            except queue.Empty:
                first = f"still ran after {TIMEOUT} s (hung)"
            finally:
                run.kill()
                _, stderr = run.communicate(timeout=TIMEOUT)
                ended.join()
            assert first == "held", f"inbox {first} before flagging its message {nth}: {stderr.decode()}"
        finally:
            config.write_text(text)
    return run.returncode


# The longest command line the proxy reads (the inbox's are under 1 KiB): a bound on memory.
LINE_LIMIT = 1024 * 1024


class HoldingProxy:
    """`with HoldingProxy(dovecot, nth, on_hold) as proxy:` IMAPS on 127.0.0.1:`proxy.port` (Dovecot's
    certificate), relayed to `dovecot`; the client's `nth` STORE command is held, never forwarded, and
    `on_hold()` is called (from the proxy's thread). Held until the block ends, however long that is."""

    def __init__(self, dovecot, nth: int, on_hold):
        self.dovecot, self.nth, self.on_hold = dovecot, nth, on_hold
        self.stores = 0
        self.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tmp = pathlib.Path(dovecot.tmp)
        self.tls.load_cert_chain(tmp / "imap-cert.pem", tmp / "imap-key.pem")
        self.upstream_tls = ssl.create_default_context(cafile=str(dovecot.ca_file))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="holding-proxy", daemon=True)
        self.closing = asyncio.Event()
        self.sessions = set()
        self.streams = []

    def __enter__(self):
        self.thread.start()
        try:
            self.server = self._run(asyncio.start_server(
                self._session, "127.0.0.1", 0, ssl=self.tls, limit=LINE_LIMIT, ssl_handshake_timeout=TIMEOUT))
        except BaseException:
            self._end_loop()
            raise
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    def __exit__(self, *exc):
        try:
            self._run(self._close())
        finally:
            self._end_loop()

    def _run(self, coroutine):
        """Runs `coroutine` on the proxy's loop; its result once it is done."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=TIMEOUT)

    def _end_loop(self):
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()

    async def _close(self):
        """Stops listening, ends every session (a held one too) and waits until each socket is closed."""
        self.server.close()
        self.closing.set()
        for stream in self.streams:
            stream.transport.abort()
        await asyncio.gather(*self.sessions, return_exceptions=True)
        await asyncio.gather(*(stream.wait_closed() for stream in self.streams), return_exceptions=True)
        await self.server.wait_closed()

    async def _session(self, client_in, client_out):
        self.sessions.add(asyncio.current_task())
        self.streams.append(client_out)
        upstream_out = pump = None
        try:
            upstream_in, upstream_out = await asyncio.open_connection(
                "127.0.0.1", self.dovecot.port, ssl=self.upstream_tls, server_hostname="127.0.0.1",
                ssl_handshake_timeout=TIMEOUT)
            self.streams.append(upstream_out)
            pump = asyncio.create_task(_pump(upstream_in, client_out))
            while line := await client_in.readline():
                # `A0007 UID STORE 4 +FLAGS.SILENT (\Seen)`: the flag.
                if b" STORE " in line.upper():
                    self.stores += 1
                    if self.stores == self.nth:
                        self.on_hold()
                        await self.closing.wait()
                        return
                upstream_out.write(line)
                await upstream_out.drain()
        except OSError:
            pass  # an end went away; the other is closed below
        finally:
            # The client's end ends the relay to Dovecot, and Dovecot's the relay to the client.
            for stream in (client_out, upstream_out):
                if stream is not None:
                    stream.transport.abort()
            if pump is not None:
                await asyncio.gather(pump, return_exceptions=True)


async def _pump(source, sink):
    """Copies `source` to `sink` until `source` ends, then closes `sink`: the client sees Dovecot's end."""
    try:
        while data := await source.read(65536):
            sink.write(data)
            await sink.drain()
    except OSError:
        pass
    finally:
        sink.transport.abort()
