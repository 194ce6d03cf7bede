"""`digest-feed mail` against a real SMTP server (aiosmtpd on loopback):
who gets what, exactly once; the messages read by Python's MIME parser;
the delivery state read with sqlite3."""

import email
import email.policy
import re

import pytest

from helpers import EXAMPLE_POSTS, Site, add_post, config, deliveries, mail
from smtp_server import Login, SmtpServer, free_port

NEWEST_TITLE = "Daily Papers — 2025-12-24"

SUBSCRIBERS = """
[[subscribers]]
email = "kim@example.org"
name = 'Kim, "the Reader"'

[[subscribers]]
email = "hangul@example.org"
name = "김철수"

[[subscribers]]
email = "plain@example.org"

[[subscribers]]
email = "robots@example.org"
name = "Only Robotics"
tags = ["robotics"]
"""
WANTED = ["hangul@example.org", "kim@example.org", "plain@example.org"]
LIST_UNSUBSCRIBE = 'list_unsubscribe = "https://papers.example.org/unsubscribe?email={{ subscriber.email | urlencode }}"\n'


def readers_site(path, port: int, more: str = "", **options) -> Site:
    """The example posts for the SUBSCRIBERS, in Korean, with a List-Unsubscribe link, through 2 connections
    with 1 retry; `options` go to config(), `more` (TOML) after the subscribers."""
    options["email"] = LIST_UNSUBSCRIBE + options.get("email", "")
    text = config(port, connections=2, retries=1, site='language = "ko"\n', **options)
    return Site.create(path, EXAMPLE_POSTS, text + SUBSCRIBERS + more)


@pytest.fixture
def site(tmp_path, server):
    return readers_site(tmp_path, server.port)


def test_first_run_rerun_new_post_and_edited_post(site, server):
    # First run: only the newest post, to every subscriber but the one whose tags it lacks.
    result = mail(site)
    assert server.recorder.recipients() == WANTED
    subjects = {m["Subject"] for _, m, _ in server.recorder.messages()}
    assert subjects == {NEWEST_TITLE}
    assert "1 skipped: not subscribed to its tags" in result.stdout
    assert [row[:3] for row in deliveries(site)] == [(NEWEST_TITLE, a, "delivered") for a in WANTED]

    # A rerun sends nothing new.
    server.recorder.clear()
    result = mail(site)
    assert server.recorder.messages() == []
    assert "Nothing new to mail" in result.stdout

    # A new post goes out alone (the older, never-mailed archive stays unsent).
    add_post(site, "2025-12-25-daily-papers.md", "Daily Papers — 2025-12-25", "2025-12-25 08:00:00")
    mail(site)
    assert server.recorder.recipients() == WANTED
    assert {m["Subject"] for _, m, _ in server.recorder.messages()} == {"Daily Papers — 2025-12-25"}

    # Fixing a typo in a mailed post mails nothing again: a post is its URL.
    server.recorder.clear()
    path = site.path / "_posts" / "2025-12-24-daily-papers.md"
    path.write_text(path.read_text(encoding="utf-8").replace("Segment Anything", "Segment Anything (fixed)"), encoding="utf-8")
    mail(site)
    assert server.recorder.messages() == []
    assert len(deliveries(site)) == 6


def test_messages_read_by_a_mime_parser(site, server):
    mail(site)
    messages = {rcpts[0]: m for rcpts, m, _ in server.recorder.messages()}
    assert sorted(messages) == WANTED
    post = (EXAMPLE_POSTS / "2025-12-24-daily-papers.md").read_text(encoding="utf-8")
    papers = re.findall(r"^# \d+\. \[(.+?)\]\((.+?)\)", post, re.M)
    assert len(papers) == 3
    for address, message in messages.items():
        assert message.get_content_type() == "multipart/alternative"
        parts = {part.get_content_type(): part.get_content() for part in message.iter_parts()}
        assert sorted(parts) == ["text/html", "text/plain"]
        assert message["Subject"] == NEWEST_TITLE, "the RFC 2047 subject decodes to the title"
        assert message["From"].addresses[0].addr_spec == "papers@example.org"
        assert message["Date"].datetime is not None
        assert message["List-Id"] == "Daily Papers <daily-papers.papers.example.org>"
        assert message["List-Unsubscribe"] == f"<https://papers.example.org/unsubscribe?email={address.replace('@', '%40')}>"
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        html, text = parts["text/html"], parts["text/plain"]
        for title, url in papers:
            assert title in html and url in html, title
            assert url in text, url
        assert "<style" not in html and "<script" not in html
        assert 'style="' in html
    names = {address: message["To"].addresses[0].display_name for address, message in messages.items()}
    assert names == {"kim@example.org": 'Kim, "the Reader"', "hangul@example.org": "김철수", "plain@example.org": ""}
    ids = [m["Message-ID"] for m in messages.values()]
    assert len(set(ids)) == 3 and all(re.fullmatch(r"<[0-9a-f]{32}@example\.org>", i) for i in ids)


def test_a_recipient_refused_for_good(site, server):
    server.recorder.reject["hangul@example.org"] = "550 5.1.1 <hangul@example.org>: Recipient address rejected"
    result = mail(site, code=1)
    assert server.recorder.recipients() == ["kim@example.org", "plain@example.org"]
    assert "hangul@example.org: 550 5.1.1 <hangul@example.org>: Recipient address rejected" in result.stderr
    assert ("Daily Papers — 2025-12-24", "hangul@example.org", "failed", "550 5.1.1 <hangul@example.org>: Recipient address rejected") in deliveries(site)

    status = site.run("status")
    assert '"Daily Papers — 2025-12-24": 2 delivered, 1 failed' in status.stdout
    assert "failed: hangul@example.org: 550 5.1.1" in status.stdout
    assert "Next `digest-feed mail`: nothing new to send." in status.stdout

    # A plain rerun resends to no one. The mailbox does not exist, so the address is
    # suppressed: --retry-failed skips it until the owner lifts the suppression.
    server.recorder.clear()
    mail(site)
    assert server.recorder.messages() == []
    server.recorder.reject.clear()
    mail(site, "--retry-failed")
    assert server.recorder.messages() == []
    site.run("subscribers", "unsuppress", "hangul@example.org")
    mail(site, "--retry-failed")
    assert server.recorder.recipients() == ["hangul@example.org"]
    assert all(row[2] == "delivered" for row in deliveries(site))


def test_a_test_send_records_nothing(site, server):
    result = mail(site, "--to", "editor@example.org", "--post", "2025-12-23")
    assert server.recorder.recipients() == ["editor@example.org"]
    assert server.recorder.messages()[0][1]["Subject"] == "Daily Papers — 2025-12-23"
    assert not site.state.exists(), result.stdout
    # The subscribers still get the newest post on the first real run.
    server.recorder.clear()
    mail(site)
    assert server.recorder.recipients() == WANTED


def test_dry_run_needs_no_server_and_writes_eml(tmp_path):
    site = readers_site(tmp_path, free_port())
    result = mail(site, "--dry-run", "--eml-dir", "eml")
    assert not site.state.exists(), "a dry run records nothing"
    lines = [line for line in result.stdout.splitlines() if "would send to" in line]
    assert len(lines) == 3, result.stdout
    assert all(NEWEST_TITLE in line and "KB" in line for line in lines)
    emls = sorted((tmp_path / "eml").glob("*.eml"))
    assert [p.name for p in emls] == [f"2025-12-24-{a}.eml" for a in WANTED]
    for path in emls:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Subject"] == NEWEST_TITLE
        assert message.get_content_type() == "multipart/alternative"
        assert b"\r\n" in path.read_bytes(), "the exact wire bytes, CRLF line ends"


def test_bad_subscribers_are_named_by_check_and_skipped_by_mail(site, server):
    with open(site.path / "config.toml", "a", encoding="utf-8") as config_file:
        config_file.write('\n[[subscribers]]\nemail = "not-an-address"\n\n[[subscribers]]\nemail = "KIM@example.org"\n')
    bad = (r'config\.toml:\d+: subscriber: "not-an-address" is not a valid email address',
           r"config\.toml:\d+: subscriber KIM@example.org is listed twice \(first at config\.toml:\d+\)")
    result = site.run("check", code=2)
    assert all(re.search(pattern, result.stderr) for pattern in bad), result.stderr
    # One bad row is never a reason to mail no one: each is warned about and
    # skipped, and the run ends with exit 1 so that someone fixes the list.
    result = mail(site, code=1)
    assert all(re.search(pattern + r".*\(skipped\)", result.stderr) for pattern in bad), result.stderr
    assert "not-an-address" not in server.recorder.recipients()
    assert server.recorder.recipients().count("kim@example.org") == 1


def test_cr_lf_in_a_title_or_name_never_adds_a_header(tmp_path):
    site = readers_site(tmp_path, free_port(),
                        more='\n[[subscribers]]\nemail = "evil@example.org"\nname = "Evil\\r\\nBcc: victim@example.org"\n')
    (tmp_path / "_posts" / "2025-12-25-evil.md").write_text(
        '---\ntitle: "Hello\\r\\nBcc: victim@example.org\\nX-Evil: 1"\ndate: 2025-12-25\n---\nBody\n', encoding="utf-8"
    )
    mail(site, "--dry-run", "--eml-dir", "eml")
    emls = sorted((tmp_path / "eml").glob("*.eml"))
    assert len(emls) == 4
    for path in emls:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert message["Bcc"] is None and message["X-Evil"] is None, path.name
        assert message["Subject"] == "Hello Bcc: victim@example.org X-Evil: 1"
    evil = email.message_from_bytes((tmp_path / "eml" / "2025-12-25-evil@example.org.eml").read_bytes(), policy=email.policy.default)
    assert evil["To"].addresses[0].display_name == "Evil Bcc: victim@example.org"


def test_html_past_gmails_clip_is_warned_about(tmp_path):
    site = readers_site(tmp_path, free_port())
    paragraphs = "\n\n".join(f"Paragraph {i}: " + "긴 문장입니다. " * 40 for i in range(200))
    (tmp_path / "_posts" / "2025-12-25-long.md").write_text(
        f"---\ntitle: Long\ndate: 2025-12-25\n---\n{paragraphs}\n", encoding="utf-8"
    )
    result = mail(site, "--dry-run")
    assert re.search(r"warning: _posts/2025-12-25-long\.md: the email's HTML is [\d.]+ KB, over the 102 KB where Gmail clips", result.stderr), result.stderr


def test_a_post_past_the_email_limit_is_refused_naming_it(tmp_path):
    # 512 KB of body at most (five times Gmail's clip): rendering an email
    # takes up to hundreds of bytes of memory per byte of HTML, so past it the
    # post is refused: as HTML, or as Markdown before that is rendered at all.
    site = readers_site(tmp_path, free_port())
    rows = "".join(f"| {i} | a | b |\n" for i in range(15000))
    (tmp_path / "_posts" / "2025-12-25-table.md").write_text(
        f"---\ntitle: Table\ndate: 2025-12-25\n---\n| # | x | y |\n|---|---|---|\n{rows}", encoding="utf-8"
    )
    for command in (["mail", "--dry-run"], ["preview"]):
        result = site.run(*command, code=2)
        assert re.search(r"_posts/2025-12-25-table\.md: its body is HTML of [\d.]+ KB \(\d+ bytes\); "
                         r"an email carries at most 512 KB", result.stderr), result.stderr
        assert "would send" not in result.stdout
    # `check` says so beforehand, as a warning: the feeds are fine.
    result = site.run("check")
    assert re.search(r"warning: _posts/2025-12-25-table\.md: its HTML is [\d.]+ KB, over the 512 KB an email "
                     r"carries: `mail` and `preview` refuse it", result.stderr), result.stderr
    (tmp_path / "_posts" / "2025-12-25-table.md").write_text(
        "---\ntitle: Table\ndate: 2025-12-25\n---\n" + "Words. " * 80000, encoding="utf-8"
    )
    result = mail(site, "--dry-run", code=2)
    assert re.search(r"_posts/2025-12-25-table\.md: its body is [\d.]+ KB \(\d+ bytes\)", result.stderr), result.stderr


def test_a_run_ended_by_a_post_it_cannot_mail_is_recorded_and_sends_nothing_of_it(site, server):
    # The post is refused before any of its messages is built; the run still
    # ends in the state with its exit code and why, as `status` shows.
    mail(site)
    sent = server.recorder.count()
    (site.path / "_posts" / "2025-12-25-big.md").write_text(
        "---\ntitle: Big\ndate: 2025-12-25\n---\n" + "Words. " * 80000, encoding="utf-8"
    )
    result = mail(site, code=2)
    assert re.search(r"_posts/2025-12-25-big\.md: its body is [\d.]+ KB \(\d+ bytes\)", result.stderr), result.stderr
    assert server.recorder.count() == sent
    status = site.run("status").stdout
    assert re.search(r"Last run: started \S+, ended \S+, exit 2: _posts/2025-12-25-big\.md: its body is", status), status
    assert "Big" not in status.split("Last run")[0], status


def test_login_with_the_password_from_the_environment(tmp_path):
    password = "s3cret-Pa55word-never-printed"
    login = Login("papers", password)
    with SmtpServer(login) as server:
        site = readers_site(tmp_path, server.port, smtp='username = "papers"\npassword_env = "PAPERS_SMTP_PASSWORD"\n')

        # Without the variable: a clear error naming it, nothing sent.
        result = mail(site, code=2)
        assert "PAPERS_SMTP_PASSWORD" in result.stderr and server.recorder.messages() == []

        # A wrong password: the run stops (exit 3), nobody is recorded as failed.
        wrong = mail(site, code=3, env={"PAPERS_SMTP_PASSWORD": "wrong-password"})
        assert "refused the login: 535" in wrong.stderr
        # Running again as it is would not help: the message says what to fix.
        assert "check [smtp] username and the password" in wrong.stderr
        assert "fix that, then run `digest-feed mail` again." in wrong.stderr
        assert deliveries(site) == []

        right = site.run("-v", "mail", env={"PAPERS_SMTP_PASSWORD": password})
        assert server.recorder.recipients() == WANTED
        assert any(ok for _, ok in login.logins)
        for output in (result, wrong, right):
            assert password not in output.stdout + output.stderr


def test_server_down_then_back_resumes(tmp_path):
    port = free_port()
    site = readers_site(tmp_path, port)
    result = mail(site, code=3)
    assert "Connection refused" in result.stderr and "run `digest-feed mail` again to continue" in result.stderr
    assert deliveries(site) == [], "nothing is recorded as delivered or failed"
    status = site.run("status", code=None)
    assert "(unfinished: the next run resumes it)" in status.stdout, status.stdout

    with SmtpServer(port=port) as server:
        mail(site)
        assert server.recorder.recipients() == WANTED
    assert [row[2] for row in deliveries(site)] == ["delivered"] * 3


def test_subscribers_file_adds_to_the_config_and_names_bad_rows(tmp_path):
    site = readers_site(tmp_path, free_port(), email='subscribers_file = "lists/subscribers.csv"\n')
    (tmp_path / "lists").mkdir()
    csv_path = tmp_path / "lists" / "subscribers.csv"
    csv_path.write_text('email,name,tags\nlee@example.org,"Lee, Min-ho",papers\nml@example.org,,robotics\n', encoding="utf-8")
    result = mail(site, "--dry-run")
    lines = [line for line in result.stdout.splitlines() if "would send to" in line]
    assert len(lines) == 4, result.stdout  # three from config.toml, Lee from the CSV; ml@ wants robotics
    assert any("Lee, Min-ho <lee@example.org>" in line for line in lines)

    csv_path.write_text("email,name,tags\nplain@example.org,Again,\nbroken,,\n", encoding="utf-8")
    result = mail(site, "--dry-run")
    assert re.search(r"lists/subscribers\.csv:2: subscriber plain@example\.org is listed twice \(first at .*config\.toml:\d+\)", result.stderr), result.stderr
    assert re.search(r'lists/subscribers\.csv:3: subscriber: "broken" is not a valid email address', result.stderr), result.stderr
