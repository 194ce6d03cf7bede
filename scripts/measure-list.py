#!/usr/bin/env python3
"""Measures the list's costs under attack, by hand (not a test: it times):

  measure-list.py index  [N]   serve's token lookup at N subscribers (default 1,000,000)
                               after 1,000 replays of one used one-click link
  measure-list.py imap   [N]   inbox over IMAP (a throwaway Dovecot): time per message
                               for N unread junk mails (default 500) and a second run
  measure-list.py forged [N]   N forged "subscribe" mails (default 400): how many
                               confirmations inbox mails

DIGEST_FEED_BIN names the binary (default target/debug/digest-feed); run it
against two builds to compare. Uses the test helpers in tests/python."""

import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "python"))

from helpers import EXAMPLE_POSTS, Site, binary  # noqa: E402
from list_helpers import Serve, list_site  # noqa: E402
from mailboxes import Dovecot, Maildir  # noqa: E402
from smtp_server import SmtpServer, free_port  # noqa: E402


def token(site, purpose, address):
    import base64
    import hashlib
    import hmac
    key = (site.path / ".digest-feed" / "secret").read_bytes()
    mac = hmac.new(key, purpose.encode() + b"\0" + address.encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()[:16]).rstrip(b"=").decode()


def index(count: int):
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as smtp:
        port = free_port()
        site = list_site(pathlib.Path(tmp), smtp.port, port)
        (site.path / "subscribers.csv").write_text(
            "email\n" + "".join(f"reader{i:07}@example.org\n" for i in range(count)))
        # Written long before serve starts, as a real list is.
        os.utime(site.path / "subscribers.csv", (time.time() - 3600, time.time() - 3600))
        config = site.path / "config.toml"
        config.write_text(config.read_text().replace("[email]\n", '[email]\nsubscribers_file = "subscribers.csv"\n', 1))
        started = time.monotonic()
        with Serve(site, port) as web:
            print(f"serve listening after {time.monotonic() - started:.1f} s ({count} subscribers)")
            first = time.monotonic()
            status = web.request("GET", f"/unsubscribe/{token(site, 'unsubscribe', 'reader0000007@example.org')}")[0]
            assert status == 200, status
            print(f"first request: {status} in {(time.monotonic() - first) * 1000:.1f} ms")
            used = f"/unsubscribe/{token(site, 'unsubscribe', 'reader0000001@example.org')}"
            replay = time.monotonic()
            for _ in range(1000):
                web.post_form(used, {"List-Unsubscribe": "One-Click"},
                              {"X-Forwarded-For": f"198.51.{_ // 250}.{_ % 250 + 1}"})
            print(f"1,000 replayed POSTs: {time.monotonic() - replay:.1f} s")
            times = []
            for n in range(20):
                at = time.monotonic()
                status = web.request("GET", f"/unsubscribe/{token(site, 'unsubscribe', f'reader{n * 4999:07}@example.org')}",
                                     headers={"X-Forwarded-For": f"203.0.113.{n + 1}"})[0]
                times.append((time.monotonic() - at) * 1000)
                assert status == 200, status
            times.sort()
            print(f"lookup after the replays: median {times[10]:.1f} ms, max {times[-1]:.1f} ms (20 requests)")


def imap(count: int):
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as smtp, Dovecot() as box:
        site = list_site(pathlib.Path(tmp) / "site", smtp.port, free_port(), inbox=box.config)
        client = box._login()
        for n in range(count):
            client.append("INBOX", None, None, f"From: spam{n}@example.net\r\nTo: list@example.org\r\n"
                          f"Subject: junk {n}\r\n\r\nbuy now\r\n".encode())
        client.logout()
        for run in ["first", "second"]:
            at = time.monotonic()
            result = subprocess.run([binary(), "inbox"], cwd=site.path, capture_output=True, text=True,
                                    env={**os.environ, **box.env})
            took = time.monotonic() - at
            print(f"{run} run: exit {result.returncode}, {took:.2f} s for {count} unread messages, "
                  f"{took / count * 1000:.2f} ms per message; {result.stdout.strip().splitlines()[-1]}")


def forged(count: int):
    with tempfile.TemporaryDirectory() as tmp, SmtpServer() as smtp:
        site = list_site(pathlib.Path(tmp) / "site", smtp.port, free_port(), inbox=Maildir.config)
        box = Maildir(site.path)
        for n in range(count):
            box.deliver(f"{n:04}.forged", f"From: victim+{n}@example.org\nTo: list@example.org\nSubject: subscribe\n"
                                          f"Message-ID: <f{n}@example.org>\n\nsubscribe\n")
        at = time.monotonic()
        result = subprocess.run([binary(), "inbox"], cwd=site.path, capture_output=True, text=True)
        print(f"{count} forged sign-ups: exit {result.returncode} in {time.monotonic() - at:.1f} s, "
              f"{smtp.recorder.count()} confirmations mailed")


if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "forged"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else {"index": 1_000_000, "imap": 500, "forged": 400}[what]
    {"index": index, "imap": imap, "forged": forged}[what](n)
