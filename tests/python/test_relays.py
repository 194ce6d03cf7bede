"""A relay's limits: `max_per_day` and a relay's own quota reply leave recipients owed
(deferred, not failed) for a later run, which sends each of them exactly once."""

import collections
import sqlite3
from contextlib import closing

import pytest

from helpers import addresses, delivered, mail, recorded, site_with_subscribers
from smtp_server import Login, SmtpServer, free_port


def age_the_deliveries(site):
    """Moves every recorded delivery a day back, as if the run had been yesterday."""
    with closing(sqlite3.connect(site.state)) as db, db:
        db.execute("UPDATE deliveries SET at = '2000-01-01T00:00:00Z'")


def test_a_daily_cap_defers_the_rest_to_a_later_run_each_sent_once(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 5, connections=1, smtp="max_per_day = 2\n")
        first = mail(site)  # exit 0: a cap is not a failure
        assert "Sent 2, failed 0, deferred 0" in first.stdout, first.stdout
        assert "3 deferred (daily cap of 2 reached; a later run sends them)" in first.stdout, first.stdout
        assert server.recorder.count() == 2
        assert recorded(site, "failed") == 0

        status = site.run("status")
        assert "3 deferred (daily cap of 2 reached" in status.stdout, status.stdout

        again = mail(site)  # within the same 24 hours: nothing more goes out
        assert "Sent 0, failed 0, deferred 0" in again.stdout, again.stdout
        assert "3 deferred (daily cap of 2 reached" in again.stdout, again.stdout
        assert server.recorder.count() == 2

        age_the_deliveries(site)
        later = mail(site)
        assert "Sent 2, failed 0, deferred 0" in later.stdout, later.stdout
        age_the_deliveries(site)
        last = mail(site)
        assert "Sent 1, failed 0, deferred 0" in last.stdout, last.stdout
        assert "deferred (daily cap" not in last.stdout, last.stdout
        copies = collections.Counter(server.recorder.recipients())
    assert copies == collections.Counter(addresses(5)), copies
    assert delivered(site) == addresses(5)


def test_a_relays_quota_reply_defers_instead_of_failing(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 5, connections=1)
        server.recorder.reject[addresses(5)[2]] = "550 5.4.5 Daily user sending quota exceeded."
        first = mail(site)
        assert "Sent 2, failed 0, deferred 0" in first.stdout, first.stdout
        assert "3 deferred (127.0.0.1:" in first.stdout and "quota exceeded" in first.stdout, first.stdout
        assert recorded(site, "failed") == 0

        server.recorder.reject.clear()  # the quota refilled
        later = mail(site)
        assert "Sent 3, failed 0, deferred 0" in later.stdout, later.stdout
        copies = collections.Counter(server.recorder.recipients())
    assert copies == collections.Counter(addresses(5)), copies


def fallback_to(server, connections: int = 1) -> str:
    return (f'[[smtp.fallback]]\nhost = "127.0.0.1"\nport = {server.port}\ntls = "none"\n'
            f'connections = {connections}\n')


def test_a_fallback_relay_takes_what_a_relay_over_quota_could_not_each_once(tmp_path):
    with SmtpServer() as first, SmtpServer() as second:
        first.recorder.reject[addresses(5)[2]] = "550 5.4.5 Daily user sending quota exceeded."
        site = site_with_subscribers(tmp_path, first.port, 5, connections=1, smtp=fallback_to(second))
        result = mail(site)
        assert "Sent 5, failed 0, deferred 0" in result.stdout, result.stdout
        assert "deferred (" not in result.stdout, result.stdout
        assert "could not take 3 recipients" in result.stderr, result.stderr
        assert first.recorder.recipients() == addresses(5)[:2]
        assert second.recorder.recipients() == addresses(5)[2:]
    assert delivered(site) == addresses(5)


@pytest.mark.parametrize("at", [0, 17, 39])
def test_a_quota_reply_with_messages_built_ahead_on_four_connections_sends_each_once(tmp_path, at):
    # Four connections and their builders: when the quota reply comes, messages
    # are in flight on the other connections and built ahead in the queue; the
    # fallback gets exactly those not delivered, the first, a middle and the last.
    with SmtpServer() as first, SmtpServer() as second:
        first.recorder.reject[addresses(40)[at]] = "550 5.4.5 Daily user sending quota exceeded."
        site = site_with_subscribers(tmp_path, first.port, 40, connections=4, smtp=fallback_to(second, 3))
        result = mail(site)
        assert "Sent 40, failed 0, deferred 0" in result.stdout, result.stdout
        assert addresses(40)[at] in second.recorder.recipients()
        copies = collections.Counter(first.recorder.recipients() + second.recorder.recipients())
    assert copies == collections.Counter(addresses(40)), copies
    assert delivered(site) == addresses(40)


@pytest.mark.parametrize("count", [1, 2, 5])
def test_fewer_recipients_than_connections_each_get_one_copy(tmp_path, count):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, count, connections=8)
        result = mail(site)
        assert f"Sent {count}, failed 0, deferred 0" in result.stdout, result.stdout
        assert server.recorder.recipients() == addresses(count)
    assert delivered(site) == addresses(count)


def test_an_unreachable_relay_hands_every_recipient_to_the_fallback(tmp_path):
    with SmtpServer() as second:
        site = site_with_subscribers(tmp_path, free_port(), 4, connections=1, retries=0, smtp=fallback_to(second))
        result = mail(site)
        assert "Sent 4, failed 0, deferred 0" in result.stdout, result.stdout
        copies = collections.Counter(second.recorder.recipients())
    assert copies == collections.Counter(addresses(4)), copies
    assert delivered(site) == addresses(4)


def test_a_relay_refusing_the_login_hands_its_recipients_to_the_fallback(tmp_path):
    with SmtpServer(login=Login("papers", "the-right-one")) as first, SmtpServer() as second:
        site = site_with_subscribers(tmp_path, first.port, 3, connections=1,
                                     smtp='username = "papers"\npassword_env = "RELAY_PASSWORD"\n' + fallback_to(second))
        result = mail(site, env={"RELAY_PASSWORD": "a-wrong-one"})
        assert "Sent 3, failed 0, deferred 0" in result.stdout, result.stdout
        assert "refused the login" in result.stderr, result.stderr
        assert first.recorder.count() == 0
        copies = collections.Counter(second.recorder.recipients())
    assert copies == collections.Counter(addresses(3)), copies
