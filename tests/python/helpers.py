"""What the Python tests share: the site they run the built digest-feed on,
the config.toml they give it, a runner that checks the exit code, and
readers of the delivery state (SQLite).

A plain module rather than more of conftest.py: conftest.py is pytest's
plugin file (hooks and fixtures, loaded by pytest itself), and importing
names from it leans on how pytest imports it; helpers.py is imported like
any module, by the tests and by conftest.py alike."""

import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures"
EXAMPLE_POSTS = ROOT / "example" / "_posts"
TIMEOUT = 300  # seconds; only a guard against a hung run


def binary() -> str:
    path = os.environ.get("DIGEST_FEED_BIN", str(ROOT / "target" / "debug" / "digest-feed"))
    if not os.path.exists(path):
        pytest.fail(f"{path} does not exist: run scripts/test, which builds it first")
    return path


class Site:
    """A site folder: config.toml, _posts/, public/ after a build, the delivery state after a mail run."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.state = path / ".digest-feed" / "state.db"

    @classmethod
    def create(cls, path: pathlib.Path, posts: pathlib.Path, config: str) -> "Site":
        """A site in `path` with a copy of the `posts` folder as _posts and `config` as config.toml."""
        shutil.copytree(posts, path / "_posts")
        (path / "config.toml").write_text(config, encoding="utf-8")
        return cls(path)

    def run(self, *args: str, code: int | None = 0, env: dict | None = None) -> subprocess.CompletedProcess:
        """`digest-feed ARGS` in the site, with `env` set over os.environ; asserts that it exits
        with `code` (None: any code), naming the command, its stdout and its stderr."""
        result = subprocess.run([binary(), *args], cwd=self.path, capture_output=True, text=True,
                                timeout=TIMEOUT, env={**os.environ, **(env or {})})
        if code is not None:
            assert result.returncode == code, (
                f"digest-feed {' '.join(args)}: exit {result.returncode}, not {code}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result

    def build(self, *args: str) -> subprocess.CompletedProcess:
        return self.run("build", *args)

    def out(self, name: str) -> pathlib.Path:
        return self.path / "public" / name


def mail(site: Site, *args: str, code: int | None = 0, env: dict | None = None) -> subprocess.CompletedProcess:
    """`digest-feed mail ARGS`, checked as Site.run checks it."""
    return site.run("mail", *args, code=code, env=env)


def mail_under_way(site: Site, recorder, sent: int = 20) -> subprocess.Popen:
    """`digest-feed mail` started in the background, once `recorder` has taken `sent` messages from it."""
    import time

    run = subprocess.Popen([binary(), "mail"], cwd=site.path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while recorder.count() < sent and run.poll() is None:
        time.sleep(0.005)
    return run


def read_until(run: subprocess.Popen, marker: str) -> str:
    """`run`'s stderr (opened as text) read up to and with the line holding `marker`, or to its
    end: waits for the run to say it, not for time."""
    lines = []
    for line in run.stderr:
        lines.append(line)
        if marker in line:
            break
    return "".join(lines)


def add_post(site: Site, name: str, title: str, date: str, tags: str = "[papers]"):
    (site.path / "_posts" / name).write_text(
        f"---\ntitle: \"{title}\"\ndate: {date}\ntags: {tags}\n---\n\n"
        "# 1. [A new paper](https://arxiv.org/abs/2512.00001)\n\nGoal: something new.\n",
        encoding="utf-8",
    )


CONFIG = """\
[site]
title = "Daily Papers"
url = "https://papers.example.org"
timezone = "Asia/Seoul"
{site}
[email]
from = "Daily Papers <papers@example.org>"
{email}
[smtp]
host = "127.0.0.1"
port = {port}
tls = "{tls}"
connections = {connections}
timeout_s = {timeout_s}
retries = {retries}
{smtp}"""


def config(port: int, *, connections: int, retries: int, timeout_s: int = 5, tls: str = "none",
           site: str = "", email: str = "", smtp: str = "") -> str:
    """config.toml for the Daily Papers site, mailing through 127.0.0.1:`port`.
    `site`, `email` and `smtp`: more lines (TOML) for those tables; the text ends in [smtp]."""
    return CONFIG.format(port=port, connections=connections, retries=retries, timeout_s=timeout_s, tls=tls,
                         site=site, email=email, smtp=smtp)


def addresses(count: int) -> list[str]:
    """The addresses of site_with_subscribers' `count` subscribers, sorted."""
    return [f"reader{i:05}@example.org" for i in range(count)]


def site_with_subscribers(path: pathlib.Path, port: int, count: int, *, connections: int = 4, retries: int = 3,
                          **options) -> Site:
    """The example posts, and `count` subscribers (`addresses(count)`) in subscribers.csv;
    `options` go to config()."""
    (path / "subscribers.csv").write_text(
        "email,name,tags\n" + "".join(f"{address},Reader {i},\n" for i, address in enumerate(addresses(count))),
        encoding="utf-8",
    )
    options["email"] = 'subscribers_file = "subscribers.csv"\n' + options.get("email", "")
    return Site.create(path, EXAMPLE_POSTS, config(port, connections=connections, retries=retries, **options))


def query(site: Site, sql: str, *params) -> list[tuple]:
    with closing(sqlite3.connect(site.state)) as db:
        return db.execute(sql, params).fetchall()


def deliveries(site: Site) -> list[tuple]:
    """Every recorded delivery as (post title, email, status, reply), sorted."""
    return sorted(query(site, "SELECT p.title, d.email, d.status, d.reply FROM deliveries d JOIN posts p ON p.id = d.post_id"))


def delivered(site: Site) -> list[str]:
    """The addresses the state records as delivered, sorted."""
    return sorted(email for (email,) in query(site, "SELECT email FROM deliveries WHERE status = 'delivered'"))


def recorded(site: Site, status: str) -> int:
    """How many recipients the state records with `status` (delivered or failed)."""
    return query(site, "SELECT count(*) FROM deliveries WHERE status = ?", status)[0][0]


def jekyll_build(blog: pathlib.Path, site: pathlib.Path, env: dict) -> pathlib.Path:
    """Real Jekyll (Debian's jekyll + ruby-jekyll-feed) builds a copy of `blog` in `site`: its `_site`."""
    if shutil.which("jekyll") is None:
        pytest.fail("jekyll is not installed: scripts/test installs Debian's jekyll package")
    shutil.copytree(blog, site, dirs_exist_ok=True)
    result = subprocess.run(["jekyll", "build", "--quiet"], cwd=site, capture_output=True, text=True,
                            timeout=300, env={**os.environ, **env})
    assert result.returncode == 0, result.stderr
    return site / "_site"


def make_dkim_key(path: pathlib.Path, algorithm: str):
    """A DKIM private key for `algorithm` (rsa-sha256 or ed25519-sha256) in `path`, made by openssl."""
    args = {"rsa-sha256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            "ed25519-sha256": ["-algorithm", "ed25519"]}[algorithm]
    subprocess.run(["openssl", "genpkey", *args, "-out", str(path)], check=True, capture_output=True)


def dkim_record(site: Site) -> tuple[str, bytes]:
    """The DKIM record's name and text, read from `digest-feed dns` as a DNS server would serve it."""
    out = site.run("dns").stdout
    match = re.search(r'^(\S+)\. 3600 IN TXT (\( .* \)|".*")$', out, re.M)
    assert match and "_domainkey" in match[1], out
    return match[1], "".join(re.findall(r'"([^"]*)"', match[2])).encode()


def cron_home(tmp_path: pathlib.Path) -> pathlib.Path:
    """A HOME as the guide's cron lines expect it: digest-feed in ~/.cargo/bin
    and a password file in ~/.config/digest-feed (unused without a username)."""
    home = tmp_path / "home"
    (home / ".cargo" / "bin").mkdir(parents=True)
    os.symlink(binary(), home / ".cargo" / "bin" / "digest-feed")
    (home / ".config" / "digest-feed").mkdir(parents=True)
    (home / ".config" / "digest-feed" / "smtp-password").write_text("not-used-without-a-username\n")
    return home
