"""The weekly roll-up (`mail --weekly`) against a real SMTP server
(aiosmtpd): a week of seven posts mailed day by day to the daily
subscribers, then one roll-up to each weekly subscriber holding every post
they are owed, headlines first; a second roll-up sends nothing; a new post
goes into the next roll-up only. Messages are read by Python's email
package with policy strict. The posts are dated in the last seven days, as
the first roll-up looks back that far; nothing waits on the clock."""

import datetime
import email
import email.policy
import html
import re
import subprocess

from helpers import ROOT, Site, config, cron_home, mail, query
from smtp_server import SmtpServer

NOW = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)

DAILY = "daily@example.org"
DAILY_VISION = "daily-vision@example.org"
WEEKLY = "weekly@example.org"
WEEKLY_VISION = "weekly-vision@example.org"
WEEKLY_COOKING = "weekly-cooking@example.org"
SWITCHER = "switcher@example.org"


def subscriber(address: str, cadence: str, tags: str = "") -> str:
    line = f'[[subscribers]]\nemail = "{address}"\ncadence = "{cadence}"\n'
    return line + (f"tags = [{tags}]\n" if tags else "")


def site_config(port: int, switcher_cadence: str) -> str:
    return config(port, connections=2, retries=0) + "".join([
        subscriber(DAILY, "daily"),
        subscriber(DAILY_VISION, "daily", '"vision"'),
        subscriber(WEEKLY, "weekly"),
        subscriber(WEEKLY_VISION, "weekly", '"vision"'),
        subscriber(WEEKLY_COOKING, "weekly", '"cooking"'),
        subscriber(SWITCHER, switcher_cadence),
    ])


def tag(day: int) -> str:
    """Odd days are about vision, even days about language."""
    return "vision" if day % 2 else "nlp"


def title(day: int) -> str:
    return f"Digest day {day} & more"


def paper_urls(day: int) -> list[str]:
    return [f"https://arxiv.org/abs/2512.{day:02}{n}" for n in (1, 2)]


def add_day(site: Site, day: int, hours_ago: float):
    """Day `day`'s post, published `hours_ago` hours before the test began, with two papers."""
    date = (NOW - datetime.timedelta(hours=hours_ago)).strftime("%Y-%m-%d %H:%M:%S +0000")
    papers = "".join(
        f"# {n}. [Paper {day}.{n}](https://arxiv.org/abs/2512.{day:02}{n})\n\nGoal: finding {day}.{n}.\n\n"
        for n in (1, 2)
    )
    (site.path / "_posts" / f"{date[:10]}-day-{day}.md").write_text(
        f'---\ntitle: "{title(day)}"\ndate: {date}\ntags: [{tag(day)}]\n---\n\nIntro of day {day}.\n\n{papers}',
        encoding="utf-8",
    )


def received(server: SmtpServer) -> dict[str, list[email.message.EmailMessage]]:
    """Each recipient's messages, parsed with policy strict (a defect raises), in the order sent."""
    by_address: dict[str, list] = {}
    for recipients, _, raw in server.recorder.messages():
        message = email.message_from_bytes(raw, policy=email.policy.strict)
        for address in recipients:
            by_address.setdefault(address, []).append(message)
    return by_address


def html_part(message) -> str:
    return message.get_body(("html",)).get_content()


def text_part(message) -> str:
    return message.get_body(("plain",)).get_content()


def new_site(tmp_path, port: int) -> Site:
    (tmp_path / "posts").mkdir()
    return Site.create(tmp_path / "site", tmp_path / "posts", site_config(port, "daily"))


def test_a_week_of_daily_posts_then_one_rollup_each_post_once(tmp_path):
    with SmtpServer() as server:
        site = new_site(tmp_path, server.port)
        # Seven days, one post a day (the first six days and some hours ago), each mailed that day.
        for day in range(1, 8):
            add_day(site, day, hours_ago=(7 - day) * 24 + 6)
            if day == 4:
                # The switcher had days 1 to 3 daily, and wants the rest in the roll-up.
                (site.path / "config.toml").write_text(site_config(server.port, "weekly"), encoding="utf-8")
            mail(site)
        daily = received(server)
        assert [m["Subject"] for m in daily[DAILY]] == [title(day) for day in range(1, 8)]
        assert [m["Subject"] for m in daily[DAILY_VISION]] == [title(day) for day in (1, 3, 5, 7)]
        assert [m["Subject"] for m in daily[SWITCHER]] == [title(day) for day in (1, 2, 3)]
        for weekly in (WEEKLY, WEEKLY_VISION, WEEKLY_COOKING):
            assert weekly not in daily, "plain mail reaches daily subscribers only"
        server.recorder.clear()

        result = mail(site, "--weekly")
        rollups = received(server)
        assert sorted(rollups) == sorted([WEEKLY, WEEKLY_VISION, SWITCHER]), \
            "one roll-up each to the weekly subscribers owed a post, none to the daily ones"
        owed = {WEEKLY: range(1, 8), WEEKLY_VISION: (1, 3, 5, 7), SWITCHER: range(4, 8)}
        for address, days in owed.items():
            assert len(rollups[address]) == 1, address
            message = rollups[address][0]
            assert message["Subject"].startswith("Daily Papers: the week of ")
            assert message["List-Unsubscribe"], "the daily mail's letterhead"
            page, text = html_part(message), text_part(message)
            others = [day for day in range(1, 8) if day not in days]
            for day in others:
                assert f"day {day} " not in page and f"day {day} " not in text, (address, day)
            # Headlines first: every title and every paper link before the first post's body.
            first_body = page.index("finding ")
            for day in days:
                heading = page.index(html.escape(title(day), quote=False))
                assert heading < first_body, (address, day)
                assert re.search(rf'href="https://papers\.example\.org/[^"]*day-{day}\.html"', page), \
                    "the title links to the post"
                for url in paper_urls(day):
                    assert page.index(f'href="{url}"') < first_body, (address, url)
                    assert url in text
                assert f"finding {day}.1" in page and f"finding {day}.2" in text, "then the posts whole"
            titles = [title(day) for day in days]
            assert [t for t in re.findall(r"Digest day \d & more", text)][: len(titles)] == titles, \
                "the text part's headlines, oldest first"
        assert "Sent 3, failed 0, deferred 0" in result.stdout, result.stdout
        rows = query(site, "SELECT email, count(*) FROM rollups WHERE status = 'delivered' GROUP BY email")
        assert dict(rows) == {WEEKLY: 7, WEEKLY_VISION: 4, SWITCHER: 4}

        server.recorder.clear()
        again = mail(site, "--weekly")
        assert "Nothing new for the weekly roll-up" in again.stdout, again.stdout
        assert server.recorder.count() == 0

        status = site.run("status").stdout
        assert "Weekly roll-up: 4 subscribers" in status, status
        assert "nothing waits for the next roll-up" in status, status

        # Day 8: the daily mail, then only day 8 in the next roll-up.
        add_day(site, 8, hours_ago=1)
        waiting = site.run("status").stdout
        assert "1 post waits for the next roll-up" in waiting, waiting
        mail(site)
        assert [m["Subject"] for m in received(server)[DAILY]] == [title(8)]
        server.recorder.clear()
        mail(site, "--weekly")
        rollups = received(server)
        assert sorted(rollups) == sorted([WEEKLY, SWITCHER]), "day 8 is not about vision"
        for message in (rollups[WEEKLY][0], rollups[SWITCHER][0]):
            page = html_part(message)
            assert html.escape(title(8), quote=False) in page
            assert not any(f"Digest day {day} " in page for day in range(1, 8)), "each post once, ever"


def test_a_deferred_rollup_is_sent_by_the_next_run_and_a_dry_run_sends_nothing(tmp_path):
    with SmtpServer() as server:
        site = new_site(tmp_path, server.port)
        for day in (1, 2):
            add_day(site, day, hours_ago=(3 - day) * 24)
        dry = mail(site, "--weekly", "--dry-run", "--eml-dir", str(tmp_path / "eml"))
        assert "would send to weekly@example.org" in dry.stdout, dry.stdout
        assert server.recorder.count() == 0
        eml = sorted((tmp_path / "eml").glob("*weekly@example.org.eml"))
        assert len(eml) == 1
        message = email.message_from_bytes(eml[0].read_bytes(), policy=email.policy.strict)
        assert html.escape(title(1), quote=False) in html_part(message)

        mail(site, "--weekly", "--to", "owner@example.org")
        assert server.recorder.recipients() == ["owner@example.org"]
        assert "Digest day 2" in html_part(received(server)["owner@example.org"][0])
        assert not site.state.exists(), "a test send records nothing"
        server.recorder.clear()

        server.recorder.defer[WEEKLY] = [1, "451 4.3.0 try again later"]
        first = mail(site, "--weekly", code=3)
        assert WEEKLY not in server.recorder.recipients()
        assert server.recorder.recipients() == [WEEKLY_VISION], first.stdout
        server.recorder.clear()
        second = mail(site, "--weekly")
        assert server.recorder.recipients() == [WEEKLY], second.stdout
        page = html_part(received(server)[WEEKLY][0])
        assert html.escape(title(1), quote=False) in page and html.escape(title(2), quote=False) in page


def test_a_refused_rollup_is_recorded_and_not_sent_again(tmp_path):
    with SmtpServer() as server:
        site = new_site(tmp_path, server.port)
        add_day(site, 1, hours_ago=5)
        server.recorder.reject[WEEKLY_VISION] = "550 5.2.2 mailbox full"
        failed = mail(site, "--weekly", code=1)
        assert "Sent 1, failed 1, deferred 0" in failed.stderr, failed.stderr
        assert server.recorder.recipients() == [WEEKLY]
        rows = query(site, "SELECT email, status, reply FROM rollups ORDER BY email")
        assert rows == [(WEEKLY_VISION, "failed", "550 5.2.2 mailbox full"), (WEEKLY, "delivered", None)]
        status = site.run("status").stdout
        assert "Last roll-up: started " in status and "exit 1: Sent 1, failed 1" in status, status
        server.recorder.clear()
        del server.recorder.reject[WEEKLY_VISION]
        again = mail(site, "--weekly")
        assert "Nothing new for the weekly roll-up" in again.stdout and server.recorder.count() == 0
        mail(site, "--weekly", "--retry-failed")
        assert server.recorder.recipients() == [WEEKLY_VISION]


def test_preview_and_check_know_the_weekly_templates(tmp_path):
    with SmtpServer() as server:
        site = new_site(tmp_path, server.port)
        for day in (1, 2, 3):
            add_day(site, day, hours_ago=(3 - day) * 24 + 1)
        out = tmp_path / "weekly.html"
        site.run("preview", "--weekly", "--out", str(out))
        page = out.read_text(encoding="utf-8")
        for day in (1, 2, 3):
            assert page.index(html.escape(title(day), quote=False)) < page.index("finding 1.1")
        (site.path / "templates").mkdir()
        (site.path / "templates" / "weekly.txt").write_text("{{ posts | length }} posts\n{% if %}\n", encoding="utf-8")
        check = site.run("check", code=2)
        assert "templates/weekly.txt:2" in check.stderr, check.stderr
        (site.path / "templates" / "weekly.txt").write_text("{{ posts | length }} posts for {{ subscriber.email }}\n",
                                                            encoding="utf-8")
        site.run("check")
        mail(site, "--weekly")
        message = received(server)[WEEKLY][0]
        assert text_part(message).strip() == f"3 posts for {WEEKLY}", "weekly.txt replaces the built-in one"


def test_the_guides_weekly_cron_line_runs_under_crons_environment(tmp_path):
    guide = (ROOT / "docs" / "src" / "weekly.md").read_text(encoding="utf-8")
    (line,) = re.findall(r"```cron\n(.*?)```", guide, flags=re.S)
    schedule, command = line.strip().split(None, 5)[:5], line.strip().split(None, 5)[5]
    assert schedule[4] == "1" and schedule[2:4] == ["*", "*"], "once a week, on Mondays"
    home = cron_home(tmp_path)
    with SmtpServer() as server:
        (tmp_path / "posts").mkdir()
        site = Site.create(home / "my-blog", tmp_path / "posts", site_config(server.port, "daily"))
        add_day(site, 1, hours_ago=3)
        cron_env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "SHELL": "/bin/sh", "LOGNAME": "reader"}
        result = subprocess.run(["/bin/sh", "-c", command], env=cron_env, capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, result.stderr
        assert result.stdout == "" and result.stderr == "", "a good run is silent, so cron mails nothing"
        assert server.recorder.recipients() == sorted([WEEKLY, WEEKLY_VISION])


def test_a_rollup_ended_by_a_post_it_cannot_mail_is_recorded_and_sends_nothing(tmp_path):
    with SmtpServer() as server:
        site = new_site(tmp_path, server.port)
        add_day(site, 1, hours_ago=5)
        date = (NOW - datetime.timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S +0000")
        (site.path / "_posts" / f"{date[:10]}-big.md").write_text(
            f"---\ntitle: Big\ndate: {date}\n---\n" + "Words. " * 80000, encoding="utf-8"
        )
        result = mail(site, "--weekly", code=2)
        assert re.search(r"-big\.md: its body is [\d.]+ KB \(\d+ bytes\)", result.stderr), result.stderr
        assert server.recorder.count() == 0
        status = site.run("status").stdout
        assert re.search(r"Last roll-up: started \S+, ended \S+, exit 2: _posts/\S+-big\.md: its body is", status), \
            status
        assert "Last run:" not in status, "the daily runs know nothing of it"
        assert query(site, "SELECT count(*) FROM rollups") == [(0,)]
