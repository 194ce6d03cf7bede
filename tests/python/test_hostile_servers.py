"""`digest-feed mail` against servers built to break it (issue 11): each one
ends the run in bounded time and memory, with nobody mailed twice or never."""

import resource
import time

from helpers import addresses, delivered, mail, site_with_subscribers
from smtp_server import RawServer, SmtpServer


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


def add_subscriber(site, address):
    with open(site.path / "subscribers.csv", "a", encoding="utf-8") as csv:
        csv.write(f"{address},Someone,\n")


def test_an_address_needing_smtputf8_fails_alone_on_a_server_without_it(tmp_path):
    with SmtpServer(smtputf8=False) as server:
        site = site_with_subscribers(tmp_path, server.port, 20, connections=1)
        add_subscriber(site, "김@example.org")
        add_subscriber(site, "zz-after@example.org")
        result = mail(site, code=1)
        said = result.stdout + result.stderr
        assert "Sent 21, failed 1" in said, said
        assert "김@example.org: the address needs SMTPUTF8, which 127.0.0.1" in said, said
        assert "zz-after@example.org" in server.recorder.recipients()
    assert len(delivered(site)) == 21


def test_a_server_refusing_ehlo_is_greeted_with_helo(tmp_path):
    with SmtpServer() as server:
        server.recorder.refuse_ehlo = True
        site = site_with_subscribers(tmp_path, server.port, 5)
        result = mail(site)
        assert "Sent 5, failed 0, deferred 0" in result.stdout, result.stdout
        assert server.recorder.recipients() == addresses(5)
