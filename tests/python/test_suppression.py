"""Suppression (SPEC §5): a hard 550 at send time suppresses the address, the
next run exits 0 and does not try it, `status` and `subscribers` say why;
`subscribers suppress` / `unsuppress` by hand; both, and one-click, while a
`mail` run is sending."""

import subprocess
import urllib.parse

import pytest

from helpers import EXAMPLE_POSTS, TIMEOUT, Site, add_post, binary, config, mail, query
from list_helpers import Serve, list_site, unsubscribe_targets
from smtp_server import free_port

SUBSCRIBERS = """
[[subscribers]]
email = "kim@example.org"
name = "Kim"

[[subscribers]]
email = "gone@example.org"

[[subscribers]]
email = "lee@example.org"
"""


@pytest.fixture
def site(tmp_path, server):
    return Site.create(tmp_path, EXAMPLE_POSTS, config(server.port, connections=1, retries=0) + SUBSCRIBERS)


def test_a_hard_550_suppresses_and_the_next_run_exits_0(site, server):
    server.recorder.reject["gone@example.org"] = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
    result = mail(site, code=1)
    assert "gone@example.org: 550 5.1.1" in result.stderr
    assert query(site, "SELECT email, reason, source FROM suppressions") == [("gone@example.org", "bounced", "mail")]

    status = site.run("status").stdout
    assert "Suppressed (1, never mailed until `digest-feed subscribers unsuppress`):" in status
    assert "  gone@example.org: bounced " in status
    assert "by mail (550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown)" in status

    # The next day: a new post goes to everyone but the suppressed address, and the run exits 0.
    server.recorder.clear()
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    result = mail(site)
    assert server.recorder.recipients() == ["kim@example.org", "lee@example.org"]
    assert "failed" not in result.stderr

    listing = site.run("subscribers").stdout
    assert "kim@example.org (Kim)  [config]\n" in listing
    assert "gone@example.org  [config]  suppressed: bounced " in listing
    assert "2 subscribers mailed; 1 suppressed; 0 sign-ups pending" in listing


def test_only_a_missing_mailbox_suppresses(site, server):
    """Refusals worded like a missing mailbox but about the sender, or for policy, suppress no one."""
    server.recorder.reject["kim@example.org"] = (
        "553 5.1.0 <bounces@example.org>: Sender address rejected: User unknown in local recipient table")
    server.recorder.reject["lee@example.org"] = "554 5.7.1 <lee@example.org>: Recipient address rejected: Access denied"
    server.recorder.reject["gone@example.org"] = "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown"
    mail(site, code=1)
    assert query(site, "SELECT email, reason FROM suppressions") == [("gone@example.org", "bounced")]
    server.recorder.reject.clear()
    server.recorder.clear()
    mail(site, "--retry-failed")
    assert server.recorder.recipients() == ["kim@example.org", "lee@example.org"]


def test_suppress_and_unsuppress_by_hand(site, server):
    result = site.run("subscribers", "suppress", "Lee@Example.org")
    assert "Suppressed Lee@Example.org: it is not mailed until `digest-feed subscribers unsuppress Lee@Example.org`" in result.stdout
    assert "was suppressed already" in site.run("subscribers", "suppress", "lee@example.org").stdout
    mail(site)
    assert server.recorder.recipients() == ["gone@example.org", "kim@example.org"]

    export = site.run("subscribers", "export").stdout.splitlines()
    assert export[0] == "email,name,source,suppressed,reason,at,cadence"
    assert export[1] == "kim@example.org,Kim,config,no,,,daily"
    assert export[3].startswith("lee@example.org,,config,yes,manual,20")

    assert "Unsuppressed lee@example.org" in site.run("subscribers", "unsuppress", "lee@example.org").stdout
    assert "was not suppressed" in site.run("subscribers", "unsuppress", "lee@example.org").stdout
    err = site.run("subscribers", "suppress", "not an address", code=2).stderr
    assert "ADDR: \"not an address\" is not a valid email address" in err
    server.recorder.clear()
    mail(site, "--post", "2025-12-24")
    assert server.recorder.recipients() == ["lee@example.org"]


def test_an_older_state_is_upgraded_to_the_current_schema(site, server):
    mail(site)
    db = site.state
    import sqlite3
    with sqlite3.connect(db) as conn:
        conn.executescript("DROP TABLE suppressions; DROP TABLE signups; DROP TABLE soft_bounces; DROP TABLE inbox_messages;"
                           "DROP TABLE inbox_left; DROP TABLE inbox_runs; PRAGMA user_version = 3;")
    conn.close()
    assert "0 suppressed" in site.run("subscribers").stdout
    site.run("subscribers", "suppress", "kim@example.org")
    assert query(site, "PRAGMA user_version") == [(10,)]
    # A state of schema 5 (the inbox's tables, no notified_at) takes the last step alone.
    with sqlite3.connect(db) as conn:
        conn.executescript("DROP INDEX IF EXISTS signups_by_notified; DROP TABLE IF EXISTS keys;"
                           "ALTER TABLE signups DROP COLUMN notified_at; PRAGMA user_version = 5;")
    conn.close()
    site.run("subscribers", "suppress", "lee@example.org")
    assert query(site, "PRAGMA user_version") == [(10,)]
    assert "notified_at" in [c[1] for c in query(site, "PRAGMA table_info(signups)")]
    assert len(query(site, "SELECT * FROM suppressions")) == 2
    # A schema 5 that has notified_at already (a build between two commits added it there): the step is taken alone.
    with sqlite3.connect(db) as conn:
        conn.executescript("PRAGMA user_version = 5;")
    conn.close()
    site.run("subscribers", "suppress", "park@example.org")
    assert query(site, "PRAGMA user_version") == [(10,)]


def test_the_list_changes_while_a_mail_run_sends(tmp_path, server):
    port = free_port()
    # The held reply is waited for as long as the test's guard, not the
    # usual 5 s: a busy machine slows the test, not the run's patience.
    site = list_site(tmp_path, server.port, port, timeout_s=TIMEOUT)
    mail(site)
    kim = [m for rcpts, m, _ in server.recorder.messages() if rcpts == ["kim@example.org"]][0]
    path = urllib.parse.urlsplit(unsubscribe_targets(kim)[0]).path
    add_post(site, "2025-12-25-next.md", "Next day", "2025-12-25")
    # The run's first message is held until released: the run is sending
    # throughout what follows, whatever the machine's speed.
    server.recorder.hold_after = server.recorder.count()
    with Serve(site, port) as web:
        run = subprocess.Popen([binary(), "mail"], cwd=site.path, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        assert server.recorder.holding.wait(timeout=120), "the run never reached the server"
        status, _, page = web.post_form(path, {"List-Unsubscribe": "One-Click"})
        suppress = site.run("subscribers", "suppress", "lee@example.org")
        assert run.poll() is None, "the run was still sending"
        server.recorder.release()
        assert status == 200 and "<h1>You are unsubscribed</h1>" in page, page
        assert "Suppressed lee@example.org" in suppress.stdout
        assert run.wait(timeout=60) == 0, run.stderr.read()
    assert sorted(query(site, "SELECT email, source FROM suppressions")) == [
        ("kim@example.org", "serve"), ("lee@example.org", "subscribers suppress")]
