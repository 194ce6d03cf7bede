"""The list's mailbox for the inbox tests, two ways: a local Maildir, and a
real IMAP server (Dovecot, Debian's dovecot-imapd) started on a free loopback
port with a throwaway config, user and certificate (trustme). Each delivers
a message under a name (an X-Test-Name header), and says which names are
unseen or seen; `unflag` puts a message back as if a crash came between the
state's commit and the flag."""

import email
import getpass
import imaplib
import os
import pathlib
import pwd
import shutil
import ssl
import subprocess
import tempfile
import time

import trustme

from smtp_server import free_port

PASSWORD = "list-mailbox-password"


def named(name: str, text: str) -> bytes:
    return (f"X-Test-Name: {name}\n" + text).replace("\n", "\r\n").encode()


class Maildir:
    config = '[inbox]\nmaildir = "Maildir"\n'
    env: dict = {}

    def __init__(self, site_path: pathlib.Path):
        self.root = site_path / "Maildir"
        for folder in ["new", "cur", "tmp"]:
            (self.root / folder).mkdir(parents=True, exist_ok=True)

    def deliver(self, name: str, text: str):
        (self.root / "tmp" / name).write_bytes(named(name, text))
        (self.root / "tmp" / name).rename(self.root / "new" / name)

    def _names(self, seen: bool) -> list[str]:
        names = []
        for folder in ["new", "cur"]:
            for path in (self.root / folder).iterdir():
                base, _, flags = path.name.partition(":2,")
                if ("S" in flags) == seen:
                    names.append(base)
        return sorted(names)

    def unseen(self) -> list[str]:
        return self._names(False)

    def seen(self) -> list[str]:
        return self._names(True)

    def unflag(self, name: str):
        (self.root / "cur" / f"{name}:2,S").rename(self.root / "new" / name)


class Dovecot:
    """`with Dovecot(tmp) as imap:` a Dovecot on 127.0.0.1:`imap.port` (IMAPS), user `list`."""

    def __init__(self):
        # Outside pytest's private (0700) folder: Dovecot's auth process runs as its own user.
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="digest-feed-dovecot-"))
        self.tmp.chmod(0o755)
        self.port = free_port()
        self.ca_file = self.tmp / "imap-ca.pem"

    def __enter__(self):
        binary = shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is not installed: scripts/test installs Debian's dovecot-imapd")
        ca = trustme.CA()
        cert = ca.issue_cert("127.0.0.1", "localhost")
        ca.cert_pem.write_to_path(str(self.ca_file))
        cert.cert_chain_pems[0].write_to_path(str(self.tmp / "imap-cert.pem"))
        cert.private_key_pem.write_to_path(str(self.tmp / "imap-key.pem"))
        me = getpass.getuser()
        root = os.getuid() == 0
        (self.tmp / "dovecot-run").mkdir()
        (self.tmp / "imap-mail").mkdir()
        # The mailbox's owner: never root (Dovecot refuses uid 0), so dovecot's own user when the test is root.
        owner = pwd.getpwnam("dovecot") if root else pwd.getpwuid(os.getuid())
        os.chown(self.tmp / "imap-mail", owner.pw_uid, owner.pw_gid)
        (self.tmp / "imap-users").write_text(f"list:{{PLAIN}}{PASSWORD}\n")
        conf = self.tmp / "dovecot.conf"
        conf.write_text(f"""
base_dir = {self.tmp}/dovecot-run
state_dir = {self.tmp}/dovecot-run
log_path = {self.tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.tmp}/imap-cert.pem
ssl_key = <{self.tmp}/imap-key.pem
auth_mechanisms = plain
first_valid_uid = 0
default_internal_user = {"dovecot" if root else me}
default_login_user = {"dovenull" if root else me}
mail_location = maildir:{self.tmp}/imap-mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.tmp}/imap-users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={self.tmp}/imap-mail/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
        self.process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                self._login().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    log = (self.tmp / "dovecot.log").read_text() if (self.tmp / "dovecot.log").exists() else ""
                    self.process.kill()
                    raise RuntimeError(f"dovecot did not start: {log}")
                time.sleep(0.1)
        return self

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _login(self) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ssl.create_default_context(cafile=str(self.ca_file)))
        client.login("list", PASSWORD)
        client.select("INBOX")
        return client

    @property
    def config(self) -> str:
        return (f'[inbox]\nimap_host = "127.0.0.1"\nimap_port = {self.port}\nusername = "list"\n'
                f'password_env = "LIST_IMAP_PASSWORD"\nca_file = "{self.ca_file}"\n')

    env = {"LIST_IMAP_PASSWORD": PASSWORD}

    def deliver(self, name: str, text: str):
        client = self._login()
        client.append("INBOX", None, None, named(name, text))
        client.logout()

    def _names(self, criterion: str) -> list[str]:
        client = self._login()
        _, data = client.uid("SEARCH", None, criterion)
        names = []
        for uid in data[0].split():
            _, parts = client.uid("FETCH", uid, "(BODY.PEEK[HEADER.FIELDS (X-TEST-NAME)])")
            names.append(email.message_from_bytes(parts[0][1])["X-Test-Name"])
        client.logout()
        return sorted(names)

    def unseen(self) -> list[str]:
        return self._names("UNSEEN")

    def seen(self) -> list[str]:
        return self._names("SEEN")

    def unflag(self, name: str):
        client = self._login()
        _, data = client.uid("SEARCH", None, "HEADER", "X-Test-Name", name)
        client.uid("STORE", data[0].split()[0], "-FLAGS", "(\\Seen)")
        client.logout()
