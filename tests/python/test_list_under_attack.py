"""The list run by a new owner after strangers used it: what the commands
print and export (no live spreadsheet formula, no terminal escape), a closed
pipe, a lost or exposed secret key, one person listed in two spellings, and
`status` telling what the next `mail` would send."""

import os
import pathlib
import sqlite3
import subprocess
from contextlib import closing

from helpers import EXAMPLE_POSTS, Site, binary, config, mail, query
from list_helpers import list_site
from smtp_server import free_port


def sign_up(site: Site, email: str, name: str, confirmed: bool = True):
    """A sign-up as the state holds it (written by an older version, or by hand)."""
    with closing(sqlite3.connect(site.state)) as db, db:
        db.execute("INSERT INTO signups (email, name, source, requested_at, confirmed_at) VALUES (?, ?, 'test', "
                   "'2025-12-24T00:00:00Z', ?)", (email, name, "2025-12-24T00:01:00Z" if confirmed else None))


def test_export_writes_no_formula_and_the_terminal_gets_no_escape(tmp_path, server):
    site = list_site(tmp_path, server.port, free_port())
    mail(site)
    sign_up(site, "=1+cmd@example.org", '=HYPERLINK("https://evil.example","click")')
    sign_up(site, "esc@example.org", "\x1b]0;owned\x07\x1b[2J\x00Esc")
    listed = site.run("subscribers").stdout
    assert "\x1b" not in listed and "\x07" not in listed and "\x00" not in listed
    assert "esc@example.org (]0;owned[2JEsc)  [sign-up]" in listed
    exported = site.run("subscribers", "export").stdout
    assert "'=1+cmd@example.org" in exported
    assert "\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"click\"\")\"" in exported
    assert "\n=" not in exported and ",=" not in exported


def test_a_stored_name_with_line_breaks_never_stops_mail(tmp_path, server):
    site = list_site(tmp_path, server.port, free_port())
    mail(site)
    sign_up(site, "evil@example.org", "Evil\r\nBcc: victim@example.org")
    sign_up(site, "not an address", "x")
    result = mail(site)
    assert "not an address" in result.stderr and "(skipped)" in result.stderr
    raw = [raw for rcpts, _, raw in server.recorder.messages() if rcpts == ["evil@example.org"]]
    assert len(raw) == 1 and b"\r\nBcc:" not in raw[0]


def test_a_closed_pipe_ends_quietly(tmp_path, server):
    site = list_site(tmp_path, server.port, free_port())
    mail(site)
    for args in [["links"], ["status"], ["subscribers"], ["subscribers", "export"], ["status", "--json"]]:
        read, write = os.pipe()
        os.close(read)  # the reader (`| head`) is gone before the first line
        result = subprocess.run([binary(), *args], cwd=site.path, stdout=write, stderr=subprocess.PIPE, text=True)
        os.close(write)
        assert result.returncode == 0, (args, result.stderr)
        assert "panicked" not in result.stderr, args


def test_a_lost_secret_is_not_made_anew_and_an_exposed_one_is_named(tmp_path, server):
    site = list_site(tmp_path, server.port, free_port(), inbox='[inbox]\nmaildir = "Maildir"\n')
    for folder in ["new", "cur", "tmp"]:
        (site.path / "Maildir" / folder).mkdir(parents=True)
    mail(site)
    secret = site.path / ".digest-feed" / "secret"
    secret.chmod(0o644)
    assert "is readable by other users (mode 644)" in mail(site).stderr
    secret.unlink()
    for args in [["mail"], ["mail", "--dry-run"], ["inbox"]]:
        result = site.run(*args, code=2)
        assert "the list's secret key is missing, yet the delivery state shows links" in result.stderr, args
        assert "Restore the file from a backup" in result.stderr
    assert not secret.exists()


def test_one_person_in_two_spellings_is_mailed_once_and_no_failure(tmp_path, server):
    (tmp_path / "subscribers.csv").write_text("email,name\njos\u00e9@example.org,NFC\njose\u0301@example.org,NFD\n"
                                              "kim@example.org,Kim\nKIM@Example.org,Kim again\n", encoding="utf-8")
    text = config(server.port, connections=1, retries=0, email='subscribers_file = "subscribers.csv"\n')
    site = Site.create(tmp_path, EXAMPLE_POSTS, text)
    result = mail(site)  # exit 0: a repeat is mailed once, and is no failure
    assert result.stderr.count("is listed twice") == 2, result.stderr
    assert sorted(server.recorder.recipients()) == ["jos\u00e9@example.org", "kim@example.org"]
    assert "0 failed" in site.run("status").stdout


def test_status_counts_a_confirmed_sign_up_in_the_next_mail(tmp_path, server):
    site = list_site(tmp_path, server.port, free_port())
    mail(site)
    assert "nothing new to send" in site.run("status").stdout
    sign_up(site, "new@example.org", "New")
    status = site.run("status").stdout
    assert "nothing new to send" not in status
    assert "to 1 recipient" in status, status
    mail(site)
    assert server.recorder.recipients()[-1] == "new@example.org"


def test_a_message_inbox_cannot_read_is_left_and_the_unsubscribe_behind_it_honoured(server):
    """Another owner's message (mode 0600) in the Maildir: `inbox`, run as a user who cannot read it,
    names it, leaves it, and acts on the rest."""
    import shutil
    import tempfile
    from list_helpers import unsubscribe_targets
    if os.getuid() == 0:
        as_user = [shutil.which("setpriv"), "--reuid=65534", "--regid=65534", "--clear-groups"]
        assert as_user[0], "setpriv (util-linux) runs inbox as nobody, who cannot read a 0600 file of root's"
    else:
        as_user = []
    root = tempfile.mkdtemp(prefix="digest-feed-unreadable-")
    try:
        site = list_site(pathlib.Path(root) / "site", server.port, free_port(), inbox='[inbox]\nmaildir = "Maildir"\n')
        for folder in ["new", "cur", "tmp"]:
            (site.path / "Maildir" / folder).mkdir(parents=True)
        mail(site)
        _, mailto = unsubscribe_targets([m for r, m, _ in server.recorder.messages() if r == ["kim@example.org"]][0])
        new = site.path / "Maildir" / "new"
        (new / "1.private").write_text("From: owner@example.org\nSubject: mine\n\nprivate\n")
        (new / "2.unsubscribe").write_text(f"From: kim@example.org\nTo: list@example.org\n"
                                           f"Subject: unsubscribe {mailto.rsplit('%20', 1)[1]}\n\nbye\n")
        for path in site.path.rglob("*"):
            path.chmod(0o777 if path.is_dir() else 0o666)
        os.chmod(root, 0o777)
        (new / "1.private").chmod(0o600)
        if as_user:
            os.chown(new / "1.private", 0, 0)
        result = subprocess.run([*as_user, binary(), "-v", "inbox"], cwd=site.path, capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["unsubscribed kim@example.org",
                                              "Inbox read: 1 message acted on, 1 left for you"]
        assert "left for you: (cannot be read: Permission denied" in result.stderr
        assert (new / "1.private").exists(), "left where it was"
    finally:
        shutil.rmtree(root, ignore_errors=True)
