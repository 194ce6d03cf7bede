"""The daily-run recipes of the user guide (docs/src/daily.md) run as
written: the cron line under cron's own environment, the systemd unit's
steps as systemd runs them, and the GitHub Actions
workflow (docs/src/github-actions.yml), its steps' `run:` scripts executed in
order as a runner would, against a local bare origin, a real SMTP server
(aiosmtpd) and the list's Maildir, twice, with an unsubscribe in between."""

import base64
import io
import os
import pathlib
import re
import secrets
import shlex
import shutil
import subprocess
import sys
import tarfile
import urllib.parse

import yaml

from helpers import EXAMPLE_POSTS, ROOT, Site, binary, config, cron_home
from mailboxes import Maildir
from smtp_server import SmtpServer

DAILY = ROOT / "docs" / "src" / "daily.md"
WORKFLOW = ROOT / "docs" / "src" / "github-actions.yml"


def guide_block(language: str) -> str:
    text = DAILY.read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, f"one ```{language} block in {DAILY.name}, not {len(blocks)}"
    return blocks[0]


def test_the_cron_line_runs_under_crons_environment(tmp_path):
    line = guide_block("cron").strip()
    command = line.split(None, 5)[5]  # the five schedule fields go to cron
    home = cron_home(tmp_path)
    with SmtpServer() as server:
        blog = home / "my-blog"
        blog.mkdir()
        site = Site.create(blog, EXAMPLE_POSTS, config(server.port, connections=1, retries=0) +
                           '[list]\naddress = "list@example.org"\nreturn_path = "bounces@example.org"\n'
                           '[inbox]\nmaildir = "Maildir"\n[[subscribers]]\nemail = "kim@example.org"\n')
        Maildir(blog)
        # What cron gives a job: no login shell, no ~/.cargo/bin on PATH.
        cron_env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LOGNAME": "reader"}
        result = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "" and result.stderr == "", "a good run is silent, so cron mails nothing"
        assert (site.path / "public" / "feed.xml").is_file()
        assert server.recorder.recipients() == ["kim@example.org"]


# --- GitHub Actions ---------------------------------------------------------

# Addresses found nowhere in the binary or the templates, so a hit is a leak.
ANA = "ana.reader@readers.test"
BEN = "ben.reader@readers.test"
POST_ONE = "---\ntitle: First issue\ndate: 2026-01-05 07:00:00 +0000\n---\n\n# 1. [A paper](https://arxiv.org/abs/1)\n\nGoal: one.\n"
POST_TWO = "---\ntitle: Second issue\ndate: 2026-01-06 07:00:00 +0000\n---\n\n# 1. [B paper](https://arxiv.org/abs/2)\n\nGoal: two.\n"


# The repository's variables: where the (cached) binary would be installed from.
VARS = {"DIGEST_FEED_GIT": "https://git.example.org/digest-feed.git", "DIGEST_FEED_REV": "v0.1.0"}


def git(*args: str, cwd) -> str:
    result = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"git {' '.join(args)}: {result.stderr}"
    return result.stdout


def author_commit(origin, scratch, files: dict, message: str):
    """The blog's author pushes `files` to main, as from a laptop."""
    if scratch.exists():
        shutil.rmtree(scratch)
    git("clone", "-q", str(origin), str(scratch), cwd=origin.parent)
    for name, text in files.items():
        (scratch / name).parent.mkdir(parents=True, exist_ok=True)
        (scratch / name).write_text(text, encoding="utf-8")
    git("add", "-A", cwd=scratch)
    git("-c", "user.name=Author", "-c", "user.email=author@blog.test", "commit", "-q", "-m", message, cwd=scratch)
    git("push", "-q", "origin", "HEAD:main", cwd=scratch)


def expand(value: str, secrets_: dict, env: dict) -> str:
    """The workflow's `${{ … }}` expressions this recipe uses."""

    def one(match):
        expression = match.group(1).strip()
        if expression.startswith("secrets."):
            return secrets_.get(expression.removeprefix("secrets."), "")
        if expression.startswith("vars."):
            return VARS[expression.removeprefix("vars.")]
        if expression.startswith("env."):
            return env[expression.removeprefix("env.")]
        return {"github.token": "fake-github-token", "runner.os": "Linux"}[expression]

    return re.sub(r"\$\{\{(.*?)\}\}", one, str(value))


def run_workflow(workflow: dict, *, origin, work, home, secrets_: dict,
                 may_fail: bool = False) -> list[tuple[str, int, str]]:
    """One run of the job in a fresh `work` folder (the same path each run, as on
    GitHub's runners), as the runner does it: `uses:` steps emulated
    (checkout: a fresh clone; cache: the folder under $HOME kept between
    runs), `run:` steps in bash -eo pipefail with the step's env, $GITHUB_PATH
    honoured, a failed step skipping the rest but for `if: always()`. A
    failing step fails the test unless `may_fail`. Each step: name, exit
    code (-1: skipped), standard error."""
    if work.exists():
        shutil.rmtree(work)
    workspace, temp = work / "workspace", work / "runner-temp"
    temp.mkdir(parents=True)
    github_path, github_output = work / "github-path", work / "github-output"
    github_path.touch()
    github_output.touch()
    env = {"HOME": str(home), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8",
           "GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp), "GITHUB_REF_NAME": "main",
           "GITHUB_PATH": str(github_path), "GITHUB_OUTPUT": str(github_output), "CI": "true",
           "GITHUB_ACTIONS": "true"}
    env.update({key: expand(value, secrets_, env) for key, value in workflow.get("env", {}).items()})
    job = workflow["jobs"]["digest"]
    failed, outcomes = False, []
    for number, step in enumerate(job["steps"]):
        condition = str(step.get("if", "success()"))
        if failed and "always()" not in condition:
            outcomes.append((step.get("name", step.get("uses")), -1, ""))
            continue
        if "uses" in step:
            action = step["uses"].split("@")[0]
            assert action in ("actions/checkout", "actions/cache"), action
            if action == "actions/checkout":
                git("clone", "-q", str(origin), str(workspace), cwd=work)
            outcomes.append((action, 0, ""))
            continue
        step_env = dict(env)
        extra = [line for line in github_path.read_text().splitlines() if line]
        step_env["PATH"] = ":".join([*reversed(extra), env["PATH"]])
        step_env.update({key: expand(value, secrets_, env) for key, value in step.get("env", {}).items()})
        script = work / f"step-{number}.sh"
        script.write_text(expand(step["run"], secrets_, env), encoding="utf-8")
        result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                cwd=workspace, env=step_env, capture_output=True, text=True, timeout=300)
        outcomes.append((step["name"], result.returncode, result.stderr))
        assert result.returncode == 0 or failed or may_fail, (
            f"step {step['name']!r} exited {result.returncode}\nstdout:\n{result.stdout}\nstderr:\n{result.stderr}")
        failed = failed or result.returncode != 0
    return outcomes


def every_blob(origin) -> bytes:
    """Every object of every ref of the origin, and its whole history as `git log -p --all` shows it."""
    out = subprocess.run(["git", "log", "-p", "--all", "--binary"], cwd=origin, capture_output=True,
                         timeout=60).stdout
    for line in git("rev-list", "--all", "--objects", cwd=origin).splitlines():
        sha = line.split()[0]
        out += subprocess.run(["git", "cat-file", "-p", sha], cwd=origin, capture_output=True, timeout=60).stdout
    return out


def every_file(folder) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


def unsubscribe_token(message) -> str:
    header = message["List-Unsubscribe"]
    mailto = re.search(r"<mailto:([^>]+)>", header).group(1)
    subject = urllib.parse.parse_qs(urllib.parse.urlsplit(mailto).query)["subject"][0]
    return subject.split()[1]


def test_the_actions_recipe_keeps_every_secret_out_of_git_and_honours_an_unsubscribe(tmp_path):
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    assert "OWNER" not in WORKFLOW.read_text(encoding="utf-8")
    list_secret = base64.b64encode(secrets.token_bytes(32)).decode()
    state_key = subprocess.run(["age-keygen"], capture_output=True, text=True, check=True).stdout
    age_secret = re.search(r"AGE-SECRET-KEY-\S+", state_key).group(0)
    secrets_ = {"DIGEST_FEED_STATE_KEY": state_key, "DIGEST_FEED_LIST_SECRET": list_secret,
                "DIGEST_FEED_SUBSCRIBERS": f"email,name,tags\n{ANA},Ana,\n{BEN},Ben,\n",
                "DIGEST_FEED_SMTP_PASSWORD": "smtp-password-never-used",
                "DIGEST_FEED_IMAP_PASSWORD": "imap-password-never-used"}
    # The runner's tool cache: a cache hit of the public binary.
    home = tmp_path / "home"
    (home / ".digest-feed-bin" / "bin").mkdir(parents=True)
    shutil.copy(binary(), home / ".digest-feed-bin" / "bin" / "digest-feed")
    mailbox = Maildir(tmp_path / "list")

    origin = tmp_path / "origin.git"
    git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
    with SmtpServer() as server:
        author_commit(origin, tmp_path / "author", {
            "_config.yml": "title: Readers' Digest\nurl: https://blog.example.test\ntimezone: UTC\n",
            "_posts/2026-01-05-first.md": POST_ONE,
            ".github/workflows/digest-feed.yml": WORKFLOW.read_text(encoding="utf-8"),
            "_digest-feed/config.toml": f"""[email]
from = "Readers' Digest <digest@blog.example.test>"
state = "state.db"
subscribers_file = "subscribers.csv"

[smtp]
host = "127.0.0.1"
port = {server.port}
tls = "none"
connections = 1
retries = 0

[list]
address = "list@blog.example.test"
return_path = "bounces@blog.example.test"
secret_file = "secret"

[inbox]
maildir = "{mailbox.root}"
""",
        }, "A blog with digest-feed's workflow")

        first = run_workflow(workflow, origin=origin, work=tmp_path / "runner", home=home, secrets_=secrets_)
        assert all(code == 0 for _, code, _ in first), first
        assert server.recorder.recipients() == [ANA, BEN]
        tokens = {message["To"].addresses[0].addr_spec: unsubscribe_token(message)
                  for _, message, _ in server.recorder.messages()}

        # Ben unsubscribes by mail (the List-Unsubscribe mailto), and a new post lands.
        mailbox.deliver("ben-leaves", f"From: Ben <{BEN}>\nTo: list@blog.example.test\n"
                                      f"Subject: unsubscribe {tokens[BEN]}\n\nunsubscribe\n")
        author_commit(origin, tmp_path / "author", {"_posts/2026-01-06-second.md": POST_TWO}, "Second issue")
        server.recorder.clear()

        second = run_workflow(workflow, origin=origin, work=tmp_path / "runner", home=home, secrets_=secrets_)
        assert all(code == 0 for _, code, _ in second), second
        assert server.recorder.recipients() == [ANA], "the unsubscribed reader got the second post"
        (_, message, _), = server.recorder.messages()
        assert message["Subject"] == "Second issue"
        assert unsubscribe_token(message) == tokens[ANA], "the list's key changed between runs"
        assert mailbox.unseen() == [] and mailbox.seen() == ["ben-leaves"]

    # The feeds are committed on main, both posts in them.
    feed = git("show", "main:feed.xml", cwd=origin)
    assert "Second issue" in feed and "First issue" in feed
    # The state is on its branch, as ciphertext only: the state and its WAL, not the run's lock.
    assert git("ls-tree", "--name-only", "digest-feed-state", cwd=origin).split() == ["state.tar.age"]
    (tmp_path / "key").write_text(state_key, encoding="utf-8")
    ciphertext = subprocess.run(["git", "show", "digest-feed-state:state.tar.age"], cwd=origin,
                                capture_output=True, check=True).stdout
    plain = subprocess.run(["age", "-d", "-i", str(tmp_path / "key")], input=ciphertext,
                           capture_output=True, check=True).stdout
    members = tarfile.open(fileobj=io.BytesIO(plain)).getnames()
    assert "state.db" in members and not any(name.endswith(".lock") for name in members), members
    # Nothing private anywhere in the origin's history, nor in the cached folder.
    leaks = [ANA, BEN, "ana.reader", "ben.reader", list_secret, age_secret, "smtp-password-never-used",
             "imap-password-never-used", "fake-github-token"]
    for where, data in [("origin", every_blob(origin)), ("cache", every_file(home))]:
        for secret in leaks:
            assert secret.encode() not in data, f"{secret} is in the {where}"


def test_the_systemd_service_runs_each_step_and_a_failed_inbox_does_not_hold_back_the_post(tmp_path):
    """The guide's unit, its ExecStart= lines run in order as systemd runs a
    oneshot service: %h is the home folder, a line marked `-` may fail, any
    other failure stops the rest. The list's Maildir is missing, so `inbox`
    fails (saying what to make), and the post is still built and mailed."""
    unit = guide_block("ini").split("# digest-feed.timer")[0]
    home = tmp_path / "home"
    (home / ".cargo" / "bin").mkdir(parents=True)
    os.symlink(binary(), home / ".cargo" / "bin" / "digest-feed")
    directives = [line.split("=", 1) for line in unit.splitlines() if re.match(r"^[A-Za-z]+=", line)]
    assert [key for key, _ in directives if key == "ExecStart"], unit
    with SmtpServer() as server:
        blog = home / "my-blog"
        (blog / "_posts").mkdir(parents=True)
        (blog / "_config.yml").write_text("title: Blog\nurl: https://blog.example.org\n", encoding="utf-8")
        (blog / "_posts" / "2026-01-05-first.md").write_text("---\ntitle: First\n---\nHello.\n", encoding="utf-8")
        (blog / "_digest-feed").mkdir()
        (blog / "_digest-feed" / "config.toml").write_text(
            config(server.port, connections=1, retries=0)
            + '[list]\naddress = "list@example.org"\nreturn_path = "bounces@example.org"\n'
            + f'[inbox]\nmaildir = "{home}/Maildir"\n[[subscribers]]\nemail = "kim@example.org"\n',
            encoding="utf-8")
        (home / ".config" / "digest-feed").mkdir(parents=True)
        ran = []
        for key, value in directives:
            value = value.replace("%h", str(home))
            if key == "WorkingDirectory":
                cwd = value
            elif key == "EnvironmentFile":
                with open(value, "w", encoding="utf-8") as env_file:
                    env_file.write("DIGEST_FEED_SMTP_PASSWORD=unused\n")
            elif key == "ExecStart":
                may_fail = value.startswith("-")
                argv = shlex.split(value.lstrip("-"))
                result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300,
                                        env={"HOME": str(home), "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8",
                                             "DIGEST_FEED_SMTP_PASSWORD": "unused"})
                ran.append((argv[-1], result.returncode, result.stderr))
                if result.returncode != 0 and not may_fail:
                    break
        assert [(what, code) for what, code, _ in ran] == [("inbox", 2), ("build", 0), ("--quiet", 0), ("mail", 0)], ran
        assert "mkdir -p" in ran[0][2] and "Maildir/new" in ran[0][2], ran[0][2]
        assert server.recorder.recipients() == ["kim@example.org"]
    assert (blog / "feed.xml").is_file() and (blog / "_site" / "feed.xml").is_file()


def test_the_actions_recipe_refuses_a_committed_list_and_a_serve_it_cannot_share(tmp_path):
    """Subscribers committed in config.toml, or `[list] public_url` (a `serve`
    elsewhere, whose state the workflow never sees): the job stops, saying
    why, before anything is built, committed or mailed."""
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    home = tmp_path / "home"
    (home / ".digest-feed-bin" / "bin").mkdir(parents=True)
    shutil.copy(binary(), home / ".digest-feed-bin" / "bin" / "digest-feed")
    cases = {
        '[[subscribers]]\nemail = "kim@example.org"\n': "lists [[subscribers]] in the repository",
        '[list]\npublic_url = "https://blog.example.test/list"\n': "serve cannot share this workflow's state",
    }
    for number, (config_text, says) in enumerate(cases.items()):
        origin = tmp_path / f"origin-{number}.git"
        git("init", "-q", "--bare", "-b", "main", str(origin), cwd=tmp_path)
        author_commit(origin, tmp_path / "author", {
            "_config.yml": "url: https://blog.example.test\n",
            "_posts/2026-01-05-first.md": POST_ONE,
            "_digest-feed/config.toml": config_text,
        }, "A blog")
        steps = run_workflow(workflow, origin=origin, work=tmp_path / "runner", home=home, secrets_={},
                             may_fail=True)
        failed = [(name, stderr) for name, code, stderr in steps if code > 0]
        assert len(failed) == 1 and says in failed[0][1], steps
        assert [name for name, code, _ in steps if code == -1][:2] == [
            "Build and commit the feeds", "Restore the delivery state, the list's key and the subscribers"], steps
        assert git("log", "--format=%s", "main", cwd=origin).split("\n")[0] == "A blog"


def test_zizmor_finds_nothing_in_the_actions_recipe(tmp_path):
    """zizmor's audits of GitHub Actions security (template injection,
    credentials left in the checkout, unpinned actions, secrets outside an
    environment…), its strictest persona, offline."""
    workflows = tmp_path / ".github" / "workflows"
    workflows.mkdir(parents=True)
    shutil.copy(WORKFLOW, workflows / "digest-feed.yml")
    zizmor = pathlib.Path(sys.executable).parent / "zizmor"
    result = subprocess.run([str(zizmor), "--offline", "--persona", "auditor", "--no-progress",
                             str(workflows / "digest-feed.yml")],
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No findings to report" in result.stdout + result.stderr, result.stdout + result.stderr
