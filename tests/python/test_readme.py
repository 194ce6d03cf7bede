"""The README's recipes run as written (issue 13): its cron line, under
cron's own environment (/bin/sh, PATH=/usr/bin:/bin, HOME and little else),
builds the feeds and mails the new post, and prints nothing when all is well."""

import os
import re
import subprocess

from helpers import EXAMPLE_POSTS, ROOT, Site, binary, config
from smtp_server import SmtpServer


def readme_block(language: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)
    assert len(blocks) == 1, f"one ```{language} block in the README, not {len(blocks)}"
    return blocks[0]


def test_the_cron_line_runs_under_crons_environment(tmp_path):
    line = readme_block("cron").strip()
    command = line.split(None, 5)[5]  # the five schedule fields go to cron
    home = tmp_path / "home"
    (home / ".cargo" / "bin").mkdir(parents=True)
    os.symlink(binary(), home / ".cargo" / "bin" / "digest-feed")
    (home / ".smtp-password").write_text("not-used-without-a-username\n", encoding="utf-8")
    with SmtpServer() as server:
        blog = home / "my-blog"
        blog.mkdir()
        site = Site.create(blog, EXAMPLE_POSTS, config(server.port, connections=1, retries=0) +
                           '[[subscribers]]\nemail = "kim@example.org"\n')
        # What cron gives a job: no login shell, no ~/.cargo/bin on PATH.
        cron_env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LOGNAME": "reader"}
        result = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "" and result.stderr == "", "a good run is silent, so cron mails nothing"
        assert (site.path / "public" / "feed.xml").is_file()
        assert server.recorder.recipients() == ["kim@example.org"]
