"""`digest-feed mail` against servers built to break it (issue 11): each one
ends the run in bounded time and memory, with nobody mailed twice or never."""

import collections
import os
import pathlib
import subprocess
import tempfile
import time

import pytest

from helpers import TIMEOUT, add_post, addresses, binary, delivered, mail, mail_under_way, site_with_subscribers
from smtp_server import Login, RawServer, SmtpServer


def endless_greeting(conn):
    """`220 ` and then bytes without a line end: at most 300 MB, so that a client without a
    bound shows it in its memory rather than taking the test machine down."""
    conn.sendall(b"220 ")
    chunk = b"x" * 65536
    for _ in range(300 * 1024 * 1024 // len(chunk)):
        conn.sendall(chunk)
    conn.recv(1)  # held open until the client hangs up


def run_measured(site, *args):
    """`digest-feed ARGS` in the site: (exit code, stderr, its peak memory in MiB), the peak read
    from /proc as it runs (VmHWM: its own address space's, unlike getrusage's, which keeps the
    high-water mark of the forked test process)."""
    with tempfile.TemporaryFile() as err:
        child = subprocess.Popen([binary(), *args], cwd=site.path, stdout=subprocess.DEVNULL, stderr=err)
        peak_kib = 0
        while child.poll() is None:
            try:
                status = pathlib.Path(f"/proc/{child.pid}/status").read_text()
                peak_kib = max(peak_kib, int(status.split("VmHWM:")[1].split()[0]))
            except (OSError, IndexError, ValueError):
                pass
            time.sleep(0.01)
        err.seek(0)
        return child.returncode, err.read().decode(), peak_kib / 1024


def test_an_endless_reply_line_ends_the_run_in_bounded_memory(tmp_path):
    with RawServer(endless_greeting) as server:
        # timeout_s is long: the run must end on the reply's bound, not the clock's.
        site = site_with_subscribers(tmp_path, server.port, 3, connections=1, timeout_s=600)
        code, stderr, peak_mib = run_measured(site, "mail")
    assert code == 3, stderr
    assert peak_mib < 100, f"digest-feed peaked at {peak_mib:.0f} MiB"
    assert "the server sent over 1 MiB without waiting for a command" in stderr, stderr
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


def test_an_address_needing_smtputf8_goes_out_with_smtputf8_on_mail_from(tmp_path):
    with SmtpServer() as server:  # aiosmtpd offers SMTPUTF8 in its EHLO reply
        site = site_with_subscribers(tmp_path, server.port, 2, connections=1)
        add_subscriber(site, "김@example.org")
        result = mail(site)
        assert "Sent 3, failed 0" in result.stdout, result.stdout
        rcpts = [rcpts for rcpts, _ in server.recorder.raw]
        options = dict(zip((tuple(r) for r in rcpts), server.recorder.mail_options))
        assert "SMTPUTF8" in options[("김@example.org",)], options
        # An ASCII envelope does not ask for it: RFC 6531 wants it only where needed.
        assert "SMTPUTF8" not in options[(addresses(2)[0],)], options
        [raw] = [data for rcpts, data in server.recorder.raw if rcpts == ["김@example.org"]]
        assert "To: Someone <김@example.org>".encode() in raw, raw[:400]
    assert len(delivered(site)) == 3


def test_a_server_refusing_ehlo_is_greeted_with_helo(tmp_path):
    with SmtpServer() as server:
        server.recorder.refuse_ehlo = True
        site = site_with_subscribers(tmp_path, server.port, 5)
        result = mail(site)
        assert "Sent 5, failed 0, deferred 0" in result.stdout, result.stdout
        assert server.recorder.recipients() == addresses(5)


def test_deleting_the_lock_file_during_a_run_never_lets_a_second_run_send(tmp_path):
    with SmtpServer() as server:
        # The first run is held mid-send until the second has been turned away.
        server.recorder.hold_after = 20
        site = site_with_subscribers(tmp_path, server.port, 200, connections=2, timeout_s=TIMEOUT)
        first = mail_under_way(site, server.recorder)
        (site.path / ".digest-feed" / "state.db.lock").unlink()
        second = mail(site, code=3)
        assert "another digest-feed mail run is sending from" in second.stderr, second.stderr
        server.recorder.release()
        _, first_err = first.communicate(timeout=120)
        assert first.returncode == 0, first_err
        counts = collections.Counter(server.recorder.recipients())
        assert sorted(counts) == addresses(200) and set(counts.values()) == {1}


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes whatever the permissions say")
def test_a_read_only_state_folder_says_what_to_fix_and_never_to_move_the_state(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 3)
        mail(site)
        add_post(site, "2025-12-26-next.md", "Next", "2025-12-26 09:00:00")
        folder = site.path / ".digest-feed"
        folder.chmod(0o555)
        try:
            result = mail(site, code=2)
        finally:
            folder.chmod(0o755)
        assert "cannot be written here" in result.stderr and "write access" in result.stderr, result.stderr
        assert "move it aside" not in result.stderr


PASSWORD = "Echo-Test-Pa55word-never-printed"


def test_a_refusal_echoing_the_credentials_prints_none_of_them(tmp_path):
    import base64

    with SmtpServer(login=Login("papers", "another-password", echo=True)) as server:
        site = site_with_subscribers(tmp_path, server.port, 2,
                                     smtp='username = "papers"\npassword_env = "ECHO_SMTP_PASSWORD"\n')
        result = mail(site, code=3, env={"ECHO_SMTP_PASSWORD": PASSWORD})
    said = result.stdout + result.stderr
    assert "refused the login: 535 5.7.8 AUTH PLAIN [redacted] failed for password [redacted]" in said, said
    assert PASSWORD not in said and base64.b64encode(f"\0papers\0{PASSWORD}".encode()).decode() not in said


def test_a_password_written_into_password_env_is_never_printed(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 2,
                                     smtp=f'username = "papers"\npassword_env = "{PASSWORD}"\n')
        for command in (["check"], ["mail"]):
            result = site.run(*command, code=2)
            said = result.stdout + result.stderr
            assert "password_env must name an environment variable" in said, said
            assert PASSWORD not in said, command


def test_a_second_config_pointed_at_a_state_is_refused(tmp_path):
    with SmtpServer() as server:
        site = site_with_subscribers(tmp_path, server.port, 3)
        mail(site)
        # Another list (its own subscribers) sharing the first one's state.
        other = site.path / "other.toml"
        other.write_text((site.path / "config.toml").read_text().replace(
            'subscribers_file = "subscribers.csv"', 'subscribers_file = "others.csv"'), encoding="utf-8")
        (site.path / "others.csv").write_text("email,name,tags\nsomeone@example.org,Someone,\n", encoding="utf-8")
        for args in (["--dry-run"], []):
            result = site.run("--config", "other.toml", "mail", *args, code=2)
            assert "this delivery state serves the list of" in result.stderr, result.stderr
            assert "one state, one list" in result.stderr
        assert "someone@example.org" not in server.recorder.recipients()
        # The first config's runs go on as before; a moved config takes its state along.
        mail(site)
        (site.path / "config.toml").rename(site.path / "moved.toml")
        site.run("--config", "moved.toml", "mail")
        site.run("--config", "other.toml", "mail", code=2)
