"""The user guide's local-Postfix recipe (docs/src/relays.md) run as written:
a throwaway Postfix (Debian's postfix) on loopback with the guide's main.cf
lines, its relayhost a real SMTP server (aiosmtpd) that demands the login
over STARTTLS; digest-feed's [smtp] from the guide; every subscriber's
message reaches that server once, its DKIM signature verifying (dkimpy) and
its headers and envelope sender as digest-feed wrote them; and a recipient
that server refuses comes back as Postfix's bounce to the list's VERP
address, which `inbox` reads from the list's Maildir and suppresses."""

import collections
import contextlib
import os
import pathlib
import re
import shutil
import ssl
import subprocess
import tempfile
import time

import dkim
import pytest
import trustme

from helpers import ROOT, addresses, delivered, dkim_record, mail, make_dkim_key, query, site_with_subscribers
from mailboxes import Maildir
from smtp_server import Login, SmtpServer, free_port

GUIDE = ROOT / "docs" / "src" / "relays.md"
POSTFIX = shutil.which("postfix") or "/usr/sbin/postfix"
SUBSCRIBERS = 3
DEADLINE = 120  # seconds; only a guard against a Postfix that never delivers, never a proof

# The daemons a relay-only Postfix runs, none chrooted (the test's folders are not a chroot).
MASTER_CF = """\
127.0.0.1:{port} inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
tlsmgr    unix  - - n 1000? 1 tlsmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
"""


def guide_block(containing: str) -> str:
    """The one fenced block of the guide that holds `containing`."""
    blocks = [b for b in re.findall(r"```\w*\n(.*?)```", GUIDE.read_text(encoding="utf-8"), flags=re.S)
              if containing in b]
    assert len(blocks) == 1, f"one block with {containing!r} in {GUIDE.name}, not {len(blocks)}"
    return blocks[0]


class Postfix:
    """`with Postfix(relayhost_port, "user:password") as postfix:` a Postfix of its own (config,
    queue, data and log folders in a temporary folder) taking mail on 127.0.0.1:`postfix.port`,
    configured with the guide's main.cf, its relayhost replaced by [127.0.0.1]:`relayhost_port`,
    which it logs in to with that user and password."""

    def __init__(self, relayhost_port: int, login: str):
        # Outside pytest's private (0700) folder: Postfix's daemons run as the postfix user.
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="digest-feed-postfix-"))
        self.tmp.chmod(0o755)
        self.conf = self.tmp / "conf"
        self.port = free_port()
        self.relayhost = f"[127.0.0.1]:{relayhost_port}"
        self.login = login
        self.log = self.tmp / "maillog"

    def main_cf(self) -> str:
        guide = guide_block("relayhost = ")
        lines, count = re.subn(r"^relayhost = .*$", f"relayhost = {self.relayhost}", guide, flags=re.M)
        assert count == 1, guide
        # What only a throwaway instance needs: its own folders and log, a name, IPv4, and no DNS
        # (the relayhost is an address; the client's name is never looked up).
        return lines + f"""
compatibility_level = 3.6
queue_directory = {self.tmp}/queue
data_directory = {self.tmp}/data
maillog_file = {self.log}
maillog_file_prefixes = {self.tmp}
myhostname = relay.test.invalid
inet_protocols = ipv4
alias_maps =
smtp_dns_support_level = disabled
smtpd_peername_lookup = no
"""

    def postfix(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([POSTFIX, "-c", str(self.conf), *args], capture_output=True, text=True, timeout=60)

    def __enter__(self):
        if os.getuid() != 0:
            raise RuntimeError("Postfix's master starts as root only: run this test as root, as CI does")
        self.conf.mkdir()
        (self.tmp / "queue").mkdir()
        (self.tmp / "data").mkdir()
        shutil.chown(self.tmp / "data", "postfix")
        (self.conf / "main.cf").write_text(self.main_cf())
        (self.conf / "master.cf").write_text(MASTER_CF.format(port=self.port))
        # The guide's sasl_passwd: the relayhost as written, then the login; postmap makes the map.
        (self.conf / "sasl_passwd").write_text(f"{self.relayhost} {self.login}\n")
        (self.conf / "sasl_passwd").chmod(0o600)
        made = subprocess.run([str(pathlib.Path(POSTFIX).with_name("postmap")), "-c", str(self.conf), f"hash:{self.conf}/sasl_passwd"],
                              capture_output=True, text=True, timeout=60)
        assert made.returncode == 0, made.stderr
        started = self.postfix("start")
        if started.returncode != 0:
            log = self.read_log()
            self.__exit__(None, None, None)
            raise RuntimeError(f"postfix did not start: {started.stdout}{started.stderr}{log}")
        return self

    def read_log(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else "(no log)"

    def queued(self) -> list[str]:
        """The queue files of messages Postfix still holds (to send, or to retry)."""
        queue = self.tmp / "queue"
        return [str(path) for folder in ("incoming", "active", "deferred", "hold", "maildrop")
                for path in (queue / folder).rglob("*") if path.is_file()]

    def __exit__(self, *exc):
        self.postfix("stop")
        # Wait for the master to be gone before its folders go.
        pid_file = self.tmp / "queue" / "pid" / "master.pid"
        pid = int(pid_file.read_text().strip()) if pid_file.exists() else None
        deadline = time.monotonic() + 30
        while pid and time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(self.tmp, ignore_errors=True)


def wait_for(what: str, done, postfix: Postfix, give_up=("status=deferred", "status=bounced")):
    """Polls `done()` until it is true; fails, with Postfix's log, as soon as the log says one of
    `give_up` (a message deferred or bounced), or after DEADLINE seconds."""
    deadline = time.monotonic() + DEADLINE
    while not done():
        log = postfix.read_log()
        if any(word in log for word in give_up) or time.monotonic() > deadline:
            pytest.fail(f"{what}: not so. Postfix's log:\n{log}")
        time.sleep(0.05)


@contextlib.contextmanager
def postfix_in_front(path: pathlib.Path, tables: str = ""):
    """(relay, login, postfix, site): the relay behind Postfix (aiosmtpd, asking for the login, and
    the login only over STARTTLS), a throwaway Postfix with the guide's main.cf in front of it, and a
    site in `path` with SUBSCRIBERS subscribers, the list's VERP return path and the `tables` (TOML),
    mailing through the guide's [smtp] to that Postfix."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    trustme.CA().issue_cert("127.0.0.1").configure_cert(context)
    login = Login("papers-relay", "relay-secret")
    with SmtpServer(login=login, tls=context) as relay, Postfix(relay.port, "papers-relay:relay-secret") as postfix:
        smtp = guide_block('host = "127.0.0.1"')
        port_line = re.search(r"^port = \d+$", smtp, flags=re.M)
        assert port_line, smtp
        site = site_with_subscribers(path, postfix.port, SUBSCRIBERS, connections=2)
        # The guide's [smtp] replaces the helper's, with the throwaway Postfix's port.
        text = (site.path / "config.toml").read_text().split("[smtp]")[0]
        text += smtp.replace(port_line[0], f"port = {postfix.port}")
        text = text.replace("[email]", '[list]\naddress = "list@example.org"\nreturn_path = "bounces@example.org"\n\n'
                                       + tables + "[email]", 1)
        (site.path / "config.toml").write_text(text)
        yield relay, login, postfix, site


def without_postfix_received(raw: bytes) -> bytes:
    """The message as digest-feed wrote it: Postfix adds one Received: header, on top."""
    match = re.match(rb"Received: .*?\r?\n(?=\S)", raw, flags=re.S)
    assert match, f"no Received: line from Postfix on top:\n{raw[:500]!r}"
    rest = raw[match.end():]
    assert b"\nReceived: " not in rest.split(b"\r\n\r\n", 1)[0], "more than one Received: line"
    return rest


def normal(raw: bytes) -> bytes:
    """Without what differs by design between a dry run and a send: the time, the boundary,
    the signature (its time and value; dkimpy checks the sent one)."""
    boundary = re.search(rb'boundary="([^"]+)"', raw)[1]
    raw = raw.replace(boundary, b"BOUNDARY")
    raw = re.sub(rb"^DKIM-Signature:.*?(?=\r\n\S)", b"DKIM-Signature: -", raw, flags=re.S | re.M)
    raw = re.sub(rb"^Date: .*$", rb"Date: -", raw, flags=re.M)
    return raw.replace(b"\r\n", b"\n").rstrip(b"\n")


NEEDS_POSTFIX = pytest.mark.skipif(not os.path.exists(POSTFIX),
                                   reason="postfix is not installed (scripts/test installs Debian's postfix)")
DKIM = ('[email.dkim]\ndomain = "example.org"\nselector = "digest"\nprivate_key_file = "dkim.pem"\n'
        'algorithm = "ed25519-sha256"\n\n')


@NEEDS_POSTFIX
def test_the_guides_local_postfix_relays_each_message_once_with_dkim_and_headers_intact(tmp_path):
    with postfix_in_front(tmp_path, tables=DKIM) as (relay, login, postfix, site):
        make_dkim_key(site.path / "dkim.pem", "ed25519-sha256")
        name, record = dkim_record(site)

        mail(site, "--dry-run", "--eml-dir", "eml")
        written = {path.name.split("-", 3)[3][:-4]: path.read_bytes() for path in (site.path / "eml").glob("*.eml")}
        assert sorted(written) == addresses(SUBSCRIBERS)

        result = mail(site)
        assert f"Sent {SUBSCRIBERS}, failed 0" in result.stdout, result.stdout
        assert f"127.0.0.1:{postfix.port}" in result.stdout, result.stdout
        wait_for(f"{SUBSCRIBERS} messages at the relay", lambda: relay.recorder.count() >= SUBSCRIBERS, postfix)
        # Postfix holds nothing more it could send again later: what arrived is all there is.
        wait_for("an empty Postfix queue", lambda: not postfix.queued(), postfix)
        received = relay.recorder.messages()
        senders = list(relay.recorder.senders)
        log = postfix.read_log()

    assert login.logins and all(ok for _, ok in login.logins), login.logins
    copies = collections.Counter(address for rcpts, _, _ in received for address in rcpts)
    assert copies == collections.Counter(addresses(SUBSCRIBERS)), copies
    assert delivered(site) == addresses(SUBSCRIBERS)
    assert log.count("status=sent") == SUBSCRIBERS, log
    assert f"relay=127.0.0.1[127.0.0.1]:{relay.port}" in log, log

    def dns(qname, timeout=5):
        return record if qname == (name + ".").encode() else None

    for (rcpts, _, raw), sender in zip(received, senders):
        [address] = rcpts
        # The envelope sender is the list's VERP address, as digest-feed said it.
        assert re.fullmatch(r"bounces\+[^@]+@example\.org", sender), sender
        assert dkim.verify(raw, dnsfunc=dns), f"dkimpy refused the signature after Postfix:\n{raw[:1500]!r}"
        ours = without_postfix_received(raw)
        assert ours.startswith(b"DKIM-Signature: "), ours[:200]
        assert normal(ours) == normal(written[address]), f"{address}: Postfix changed the message"


@NEEDS_POSTFIX
def test_a_refusal_behind_postfix_comes_back_as_postfixs_bounce_which_the_inbox_suppresses(tmp_path):
    gone = addresses(SUBSCRIBERS)[1]
    with postfix_in_front(tmp_path, tables=Maildir.config + "\n") as (relay, _, postfix, site):
        relay.recorder.reject[gone] = f"550 5.1.1 <{gone}>: Recipient address rejected: User unknown"
        result = mail(site)
        # Postfix took all three: for digest-feed they are sent.
        assert f"Sent {SUBSCRIBERS}, failed 0" in result.stdout, result.stdout
        wait_for("the others and Postfix's bounce at the relay", lambda: relay.recorder.count() >= SUBSCRIBERS,
                 postfix, give_up=("status=deferred",))
        wait_for("an empty Postfix queue", lambda: not postfix.queued(), postfix, give_up=("status=deferred",))
        received = list(zip(relay.recorder.messages(), relay.recorder.senders))

    newsletters = sorted(rcpts[0] for (rcpts, _, _), _ in received if rcpts[0].startswith("reader"))
    assert newsletters == [a for a in addresses(SUBSCRIBERS) if a != gone]
    [((rcpts, bounce, raw), sender)] = [item for item in received if item[0][0][0].startswith("bounces+")]
    assert sender in ("", "<>"), f"a bounce has the null sender, not {sender!r}"
    assert bounce.get_content_type() == "multipart/report", bounce["Content-Type"]

    # The list's mailbox gets the bounce (its VERP address is the list's); inbox suppresses the address.
    box = Maildir(site.path)
    (box.root / "new" / "1.bounce").write_bytes(raw)
    lines = site.run("inbox").stdout.splitlines()
    assert lines[0].startswith(f"bounced {gone} (5.1.1 "), lines
    assert query(site, "SELECT email, reason FROM suppressions") == [(gone, "bounced")]
