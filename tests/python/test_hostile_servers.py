"""`digest-feed mail` against servers built to break it (issue 11): each one
ends the run in bounded time and memory, with nobody mailed twice or never."""

import resource
import time

from helpers import delivered, mail, site_with_subscribers
from smtp_server import RawServer


def endless_greeting(conn):
    """`220 ` and then bytes without a line end: at most 300 MB, so that a client without a
    bound shows it in its memory rather than taking the test machine down."""
    conn.sendall(b"220 ")
    chunk = b"x" * 65536
    for _ in range(300 * 1024 * 1024 // len(chunk)):
        conn.sendall(chunk)
    time.sleep(30)


def test_an_endless_reply_line_ends_the_run_in_bounded_memory(tmp_path):
    with RawServer(endless_greeting) as server:
        site = site_with_subscribers(tmp_path, server.port, 3, connections=1, timeout_s=5)
        started = time.monotonic()
        result = mail(site, code=3)
        elapsed = time.monotonic() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 150, f"digest-feed (or an earlier child) peaked at {peak_mib:.0f} MiB"
    assert elapsed < 5 + 2, f"took {elapsed:.1f} s"
    assert "the server sent over 1 MiB without waiting for a command" in result.stderr, result.stderr
    assert delivered(site) == []
