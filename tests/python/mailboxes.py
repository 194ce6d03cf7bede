"""The list's mailbox for the inbox tests, two ways: a local Maildir, and a
real IMAP server (Dovecot, Debian's dovecot-imapd) started on a free loopback
port with a throwaway config, user and certificate (trustme); the config is in
Dovecot 2.3's syntax (Debian 12) or 2.4's (Debian 13), after `dovecot --version`,
and $DOVECOT names another dovecot binary to start. Each delivers
a message under a name (an X-Test-Name header), and says which names are
unseen or seen; `unflag` puts a message back as if a crash came between the
state's commit and the flag."""

import email
import getpass
import grp
import imaplib
import os
import pathlib
import pwd
import re
import shutil
import ssl
import subprocess
import tempfile
import time

import trustme

from helpers import TIMEOUT
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

    def deliver(self, name: str, text: str, received: float | None = None):
        """Delivers the message; `received` (seconds since the epoch) is when the mailbox got it: the file's time."""
        (self.root / "tmp" / name).write_bytes(named(name, text))
        if received is not None:
            os.utime(self.root / "tmp" / name, (received, received))
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

    def read_by_owner(self, name: str):
        """The owner reads the message in a mail client: flagged seen."""
        (self.root / "new" / name).rename(self.root / "cur" / f"{name}:2,S")


def dovecot_version(binary: str) -> tuple[int, int]:
    """(major, minor) of `dovecot --version`: "2.3.19.1 (9b53102964)" is (2, 3), "2.4.1-4 (7d8c0e5759)" (2, 4)."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    found = re.match(r"\s*(\d+)\.(\d+)", out)
    if not found:
        raise RuntimeError(f"{binary} --version printed no version: {out!r}")
    return int(found[1]), int(found[2])


class Dovecot:
    """`with Dovecot(tmp) as imap:` a Dovecot on 127.0.0.1:`imap.port` (IMAPS), user `list`."""

    def __init__(self):
        # Outside pytest's private (0700) folder: Dovecot's auth process runs as its own user.
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="digest-feed-dovecot-"))
        self.tmp.chmod(0o755)
        self.port = free_port()
        self.ca_file = self.tmp / "imap-ca.pem"

    def __enter__(self):
        binary = os.environ.get("DOVECOT") or shutil.which("dovecot") or "/usr/sbin/dovecot"
        if not os.path.exists(binary):
            raise RuntimeError("dovecot is not installed: scripts/test installs Debian's dovecot-imapd")
        version = dovecot_version(binary)
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
        if version >= (2, 4):
            conf.write_text(self._config_24(me, root, owner))
        else:
            conf.write_text(f"""
{self._common()}ssl_cert = <{self.tmp}/imap-cert.pem
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
        # Its output in a file, not a pipe nobody reads (which would fill, and was left open).
        with open(self.tmp / "dovecot.out", "wb") as out:
            self.process = subprocess.Popen([binary, "-F", "-c", str(conf)], stdout=out, stderr=subprocess.STDOUT)
        # Up until it logs us in, or exits: a busy machine starts it late, not never (TIMEOUT guards a hang).
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                self._login().logout()
                break
            except (OSError, imaplib.IMAP4.error):
                if time.monotonic() > deadline or self.process.poll() is not None:
                    said = "".join(path.read_text(errors="replace") for path in [self.tmp / "dovecot.out", self.tmp / "dovecot.log"]
                                   if path.exists())
                    self.process.kill()
                    self.process.wait()
                    raise RuntimeError(f"dovecot did not start: {said}")
                time.sleep(0.1)
        return self

    def _common(self) -> str:
        """The settings 2.3 and 2.4 spell alike: folders, the log, IMAP on loopback, TLS required."""
        return f"""base_dir = {self.tmp}/dovecot-run
state_dir = {self.tmp}/dovecot-run
log_path = {self.tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = required
"""

    def _config_24(self, me: str, root: bool, owner: pwd.struct_passwd) -> str:
        """The 2.3 config above in Dovecot 2.4's syntax, every setting as Dovecot's 2.4.1 docs name it
        (doc.dovecot.org/2.4.1/, cited in the comments): [upgrade] installation/upgrade/2.3-to-2.4.html,
        [syntax] core/settings/syntax.html, [settings] core/summaries/settings.html, [quick]
        core/config/quick.html, [passwd-file] and [static] core/config/auth/databases/{passwd_file,static}.html,
        [rootless] core/config/rootless.html. `dovecot_config_version = 2.4.0` keeps 2.4.0's defaults on any 2.4.x."""
        # [rootless]: without root, the internal group too is the tests' own (else 2.4 chowns its sockets to group dovecot and fails).
        group = "" if root else f"default_internal_group = {grp.getgrgid(os.getgid()).gr_name}\n"
        return f"""# [upgrade] Required Settings, [syntax] Config Version: these two first; [quick] starts new configs at 2.4.0.
dovecot_config_version = 2.4.0
dovecot_storage_version = 2.4.0
# [settings]: as in 2.3.
{self._common()}auth_mechanisms = plain
first_valid_uid = 0
default_internal_user = {"dovecot" if root else me}
default_login_user = {"dovenull" if root else me}
{group}# [upgrade] Converted Settings: ssl_cert and ssl_key renamed; [settings]: the files' paths, no "<".
ssl_server_cert_file = {self.tmp}/imap-cert.pem
ssl_server_key_file = {self.tmp}/imap-key.pem
# [upgrade] Converted Settings: mail_location is mail_driver and mail_path; Variable expansion: %u is %{{user}}.
mail_driver = maildir
mail_path = {self.tmp}/imap-mail/%{{user}}
# [upgrade] passdb/userdb Section Naming: named, the name being the driver ([settings] passdb_driver);
# [passwd-file]: the 2.3 args (scheme, username_format, the file) as settings.
passdb passwd-file {{
  default_password_scheme = PLAIN
  auth_username_format = %{{user}}
  passwd_file_path = {self.tmp}/imap-users
}}
# [static]: the 2.3 args as fields.
userdb static {{
  fields {{
    uid = {owner.pw_uid}
    gid = {owner.pw_gid}
    home = {self.tmp}/imap-mail/%{{user}}
  }}
}}
# [settings] inet_listener_port (0 disables) and inet_listener_ssl, [syntax] Named Filters; [rootless]: no chroot.
# (anvil is no longer chrooted in 2.4: [upgrade] Default Settings.)
service imap-login {{
  chroot =
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.port}
    ssl = yes
  }}
}}
"""

    def __exit__(self, *exc):
        self.process.terminate()
        self.process.wait(timeout=TIMEOUT)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _login(self) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.port, ssl_context=ssl.create_default_context(cafile=str(self.ca_file)),
                                   timeout=TIMEOUT)
        client.login("list", PASSWORD)
        client.select("INBOX")
        return client

    @property
    def config(self) -> str:
        return (f'[inbox]\nimap_host = "127.0.0.1"\nimap_port = {self.port}\nusername = "list"\n'
                f'password_env = "LIST_IMAP_PASSWORD"\nca_file = "{self.ca_file}"\n')

    env = {"LIST_IMAP_PASSWORD": PASSWORD}

    def deliver(self, name: str, text: str, received: float | None = None):
        """APPENDs the message; `received` (seconds since the epoch) is its INTERNALDATE."""
        client = self._login()
        date = imaplib.Time2Internaldate(received) if received is not None else None
        client.append("INBOX", None, date, named(name, text))
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

    def _flag(self, name: str, change: str):
        client = self._login()
        _, data = client.uid("SEARCH", None, "HEADER", "X-Test-Name", name)
        client.uid("STORE", data[0].split()[0], change, "(\\Seen)")
        client.logout()

    def unflag(self, name: str):
        self._flag(name, "-FLAGS")

    def read_by_owner(self, name: str):
        """The owner reads the message in a mail client: flagged seen."""
        self._flag(name, "+FLAGS")
