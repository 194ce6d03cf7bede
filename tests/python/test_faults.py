"""`digest-feed mail` when the server, the network or the machine misbehaves
(issue 5, SPEC §5): every recipient gets the post exactly once, or, after a
kill -9, at most once more per connection in flight."""

import collections
import re
import signal
import ssl
import subprocess
import time

import pytest
import trustme

from helpers import (TIMEOUT, add_post, addresses, binary, delivered, mail, mail_under_way, read_until, recorded,
                     site_with_subscribers)
from smtp_server import Login, SmtpServer, free_port

PASSWORD = "Fault-Test-Pa55word-never-printed"
LOGIN = 'username = "papers"\npassword_env = "FAULT_SMTP_PASSWORD"\n'  # [smtp] lines


def test_deferrals_and_dropped_connections_deliver_each_recipient_once(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 400)
        server.recorder.defer["reader00007@example.org"] = [2, "451 4.7.1 Greylisted, try again later"]
        server.recorder.drop_every = 50
        # A message sent whole whose reply never came may have been stored: it
        # waits for the next run rather than going out again in this one.
        result = mail(site, code=3)
        dropped = server.recorder.dropped
        assert dropped >= 8, "the connection was dropped every 50 messages"
        said = result.stdout + result.stderr
        assert f"Sent {400 - dropped}, failed 0, deferred {dropped}" in said, said
        assert "it may have been delivered, so it is not sent again in this run" in said, said
        server.recorder.drop_every = 0
        mail(site)
        counts = collections.Counter(server.recorder.recipients())
        assert sorted(counts) == addresses(400), "nobody missed"
        assert set(counts.values()) == {1}, "nobody twice"
        assert server.recorder.deferred == 2
    assert delivered(site) == addresses(400)


def test_a_421_or_a_drop_does_not_spend_a_recipients_retries(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 300, retries=2)
        # Two greylistings spend its two retries; the 421s are the connection's.
        server.recorder.defer["reader00007@example.org"] = [2, "451 4.7.1 Greylisted, try again later"]
        server.recorder.close_at["reader00007@example.org"] = 2
        server.recorder.close_every = 50
        result = mail(site)
        assert "Sent 300, failed 0, deferred 0" in result.stdout, result.stdout
        assert server.recorder.closed >= 6
        counts = collections.Counter(server.recorder.recipients())
        assert sorted(counts) == addresses(300) and set(counts.values()) == {1}
    assert delivered(site) == addresses(300)


def test_a_lost_final_reply_is_not_retried_in_the_same_run(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 200)
        server.recorder.drop_every = 20
        server.recorder.keep_dropped = True  # stored, but the "250" never reaches us
        mail(site, code=3)
        first = collections.Counter(server.recorder.recipients())
        assert sorted(first) == addresses(200) and set(first.values()) == {1}, "one copy each in the run"
        lost = server.recorder.dropped
        server.recorder.drop_every = 0
        mail(site)
        counts = collections.Counter(server.recorder.recipients())
        # The next run sends those whose outcome was unknown: one copy too many at most.
        assert sorted(counts) == addresses(200) and max(counts.values()) == 2
        assert sum(counts.values()) == 200 + lost
    assert delivered(site) == addresses(200)


def test_a_server_that_defers_everyone_stops_the_run_then_a_rerun_delivers(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 200, retries=1)
        server.recorder.refuse_all = "451 4.7.0 Too many messages, slow down"
        result = mail(site, code=3)
        assert re.search(r"Stopped: 127\.0\.0\.1:\d+ deferred 10 messages in a row "
                         r"\(last: 451 4\.7\.0 Too many messages, slow down\)", result.stderr), result.stderr
        attempts = server.recorder.refused
        assert attempts < 2 * 30, f"stopped early, not after trying all 200 twice: {attempts} refusals"
        assert delivered(site) == []
        server.recorder.refuse_all = None
        mail(site)
        assert server.recorder.recipients() == addresses(200)


def test_a_refused_sender_stops_the_run_and_fails_no_one(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 30)
        server.recorder.refuse_sender = "553 5.7.1 <papers@example.org>: Sender address rejected: not owned by user"
        result = mail(site, code=3)
        assert ("Stopped: the server refused the sender papers@example.org: 553 5.7.1 <papers@example.org>: "
                "Sender address rejected: not owned by user; check [email] from") in result.stderr, result.stderr
        assert recorded(site, "failed") == recorded(site, "delivered") == 0, "nobody is marked failed"
        server.recorder.refuse_sender = None
        mail(site)
        assert server.recorder.recipients() == addresses(30)


def test_the_same_refusal_for_everyone_stops_the_run(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 100)
        server.recorder.refuse_all = "554 5.7.1 Relay access denied"
        result = mail(site, code=3)
        assert re.search(r"Stopped: 127\.0\.0\.1:\d+ refused 10 recipients in a row with the same reply "
                         r"\(554 5\.7\.1 Relay access denied\)", result.stderr), result.stderr
        assert "digest-feed mail --retry-failed" in result.stderr
        failed = recorded(site, "failed")
        assert 10 <= failed < 20, f"stopped after the tenth, with at most a few in flight: {failed}"
        server.recorder.refuse_all = None
        mail(site, "--retry-failed")
        assert server.recorder.recipients() == addresses(100)


def test_kill_9_three_times_then_a_rerun_misses_nobody(tmp_path):
    connections = 4
    total = 2000
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, total, connections=connections)
        for kill_at in (300, 800, 1300):
            process = subprocess.Popen([binary(), "mail"], cwd=site.path, stdout=subprocess.DEVNULL,
                                       stderr=subprocess.PIPE)
            deadline = time.monotonic() + 120
            while server.recorder.count() < kill_at and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.002)
            process.send_signal(signal.SIGKILL)
            _, stderr = process.communicate(timeout=30)
            assert process.returncode == -signal.SIGKILL, f"the run ended before the kill: {stderr.decode()}"
        mail(site)
        counts = collections.Counter(server.recorder.recipients())
        assert sorted(counts) == addresses(total), "nobody missed"
        duplicates = sum(counts.values()) - total
        print(f"kill -9 x3 over {total} recipients, {connections} connections: {duplicates} duplicates")
        assert duplicates <= 3 * connections
    assert delivered(site) == addresses(total)
    # Nothing is owed any more: a further run sends nothing.
    with SmtpServer(port=server.port) as again:
        assert "Nothing new to mail" in mail(site).stdout
        assert again.recorder.count() == 0


def test_server_down_exits_3_then_a_rerun_delivers_to_all(tmp_path):
    # That it gives up within timeout_s, not retries times it, is the retry
    # policy's unit test (mail/transport.rs), which needs no clock.
    port = free_port()
    site = site_with_subscribers(tmp_path, port, 20)
    result = mail(site, code=3)
    assert "127.0.0.1:" in result.stderr and "run `digest-feed mail` again to continue" in result.stderr
    assert delivered(site) == []
    with SmtpServer(port=port) as server:
        mail(site)
        assert server.recorder.recipients() == addresses(20)


def test_a_server_that_never_answers_stops_the_run_at_the_first_timeout(tmp_path):
    # A listening socket that never says hello: connect works, the greeting never comes.
    import socket

    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        site = site_with_subscribers(tmp_path, silent.getsockname()[1], 5, connections=1, timeout_s=2)
        result = mail(site, code=3)
        # The connections it made wait in the backlog: one, no reconnect and no
        # try per recipient after the greeting timed out.
        silent.setblocking(False)
        connections = 0
        while True:
            try:
                silent.accept()[0].close()
            except BlockingIOError:
                break
            connections += 1
    assert connections == 1, connections
    assert "did not answer within 2 s (timeout_s)" in result.stderr, result.stderr
    assert delivered(site) == []


def test_two_overlapping_runs_send_each_message_once(tmp_path):
    with SmtpServer() as server:
        # The first run is held mid-send (its 21st message waits) until the
        # second says it waits for the lock: an overlap by events, not timing.
        server.recorder.hold_after = 20
        site = site_with_subscribers(tmp_path, server.port, 300, connections=2, timeout_s=TIMEOUT)
        first = mail_under_way(site, server.recorder)
        second = subprocess.Popen([binary(), "mail"], cwd=site.path, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        said = read_until(second, "another digest-feed mail run")
        server.recorder.release()
        first_out, first_err = first.communicate(timeout=120)
        second_out, second_err = second.communicate(timeout=120)
        second_err = said + second_err
        assert first.returncode == 0, first_err
        assert second.returncode == 0, second_err
        assert "another digest-feed mail run" in second_err and "waiting" in second_err, second_err
        assert "Nothing new to mail" in second_out
        counts = collections.Counter(server.recorder.recipients())
        assert sorted(counts) == addresses(300) and set(counts.values()) == {1}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_state_is_an_error_and_sends_nothing(tmp_path, damage):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 300)
        mail(site)
        state = site.state
        assert not state.with_name("state.db-wal").exists()
        data = state.read_bytes()
        if damage == "garbage":
            state.write_bytes(b"this is not a database\n" * 200)
        elif damage == "truncated":
            state.write_bytes(data[: len(data) // 2])
        else:
            state.write_bytes(b"")
        # A new post, so that a run that lost its memory would mail someone.
        add_post(site, "2025-12-25-new.md", "New", "2025-12-25")
        server.recorder.clear()
        for args in (["mail"], ["mail", "--dry-run"], ["status"]):
            result = site.run(*args, code=2)
            assert ".digest-feed/state.db: the delivery state cannot be read" in result.stderr, result.stderr
            assert "nothing was sent" in result.stderr
        assert server.recorder.count() == 0


def make_tls_server_context(tmp_path):
    """A CA the test makes, a certificate for 127.0.0.1 it signs, and the CA's PEM for `ca_file`."""
    ca = trustme.CA(organization_name="digest-feed test CA")
    certificate = ca.issue_cert("127.0.0.1", "localhost")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    ca_path = tmp_path / "relay-ca.pem"  # the site folder: ca_file is read beside config.toml
    ca.cert_pem.write_to_path(str(ca_path))
    return context, ca_path


def test_starttls_with_a_private_ca_trusted_through_ca_file(tmp_path):
    context, ca_path = make_tls_server_context(tmp_path)
    login = Login("papers", PASSWORD)
    with SmtpServer(login=login, tls=context) as server:
        site = site_with_subscribers(tmp_path, server.port, 10, tls="starttls", smtp=LOGIN)
        env = {"FAULT_SMTP_PASSWORD": PASSWORD}

        # Without ca_file the certificate is not trusted: refused, exit 3, nothing sent or recorded.
        refused = mail(site, code=3, env=env)
        assert re.search(r"Stopped: the certificate of 127\.0\.0\.1:\d+ is not trusted \(UnknownIssuer\); "
                         r"if the server uses a private CA, name its certificate in \[smtp\] ca_file", refused.stderr), refused.stderr
        assert server.recorder.count() == 0 and login.logins == []
        assert delivered(site) == []

        # With the CA trusted through ca_file: delivered, over TLS, after a login.
        with open(site.path / "config.toml", "a") as config:
            config.write(f'ca_file = "{ca_path.name}"\n')
        result = mail(site, env=env)
        assert server.recorder.recipients() == addresses(10)
        assert login.logins and all(ok for _, ok in login.logins)
        for output in (refused, result):
            assert PASSWORD not in output.stdout + output.stderr


def test_implicit_tls_with_a_private_ca_trusted_through_ca_file(tmp_path):
    context, ca_path = make_tls_server_context(tmp_path)
    with SmtpServer(implicit_tls=context) as server:
        site = site_with_subscribers(tmp_path, server.port, 5, tls="tls")
        refused = mail(site, code=3)
        assert re.search(r"the certificate of 127\.0\.0\.1:\d+ is not trusted \(UnknownIssuer\)", refused.stderr), refused.stderr
        assert server.recorder.count() == 0 and delivered(site) == []
        with open(site.path / "config.toml", "a") as config:
            config.write(f'ca_file = "{ca_path.name}"\n')
        mail(site)
        assert server.recorder.recipients() == addresses(5)


def test_no_command_ever_prints_the_password(tmp_path):
    login = Login("papers", PASSWORD)
    with SmtpServer(login=login) as server:
        site = site_with_subscribers(tmp_path, server.port, 3, smtp=LOGIN)
        server.recorder.reject["reader00001@example.org"] = "550 5.1.1 no such user"
        good = {"FAULT_SMTP_PASSWORD": PASSWORD}
        wrong = {"FAULT_SMTP_PASSWORD": PASSWORD + "-wrong"}
        runs = [
            (["check"], good), (["build"], good), (["preview"], good), (["status"], good),
            (["mail", "--dry-run", "--eml-dir", "eml"], good), (["-v", "mail"], wrong),
            (["-v", "mail"], good), (["-v", "mail", "--retry-failed"], good), (["status"], good),
            (["mail", "--to", "editor@example.org"], good),
        ]
        outputs = []
        for args, env in runs:
            result = site.run(*args, code=None, env=env)
            outputs.append((args, result.returncode, result.stdout + result.stderr))
        codes = [code for _, code, _ in outputs]
        # The 550 "no such user" suppresses the address: --retry-failed has no one to retry (exit 0).
        assert codes == [0, 0, 0, 0, 0, 3, 1, 0, 0, 0], outputs
        for args, _, text in outputs:
            assert PASSWORD not in text, args
        written = [p for p in site.path.rglob("*") if p.is_file()]
        for path in written:
            assert PASSWORD.encode() not in path.read_bytes(), path
        assert server.recorder.recipients() == ["editor@example.org", "reader00000@example.org", "reader00002@example.org"]
