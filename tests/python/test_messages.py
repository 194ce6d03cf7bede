"""Messages a user can act on (issue 13): each names what to change, never a
step that will not help; counts read as English."""

from helpers import EXAMPLE_POSTS, Site, config, mail
from smtp_server import SmtpServer


def test_implicit_tls_against_a_plain_server_says_to_use_starttls(tmp_path):
    with SmtpServer() as server:
        site = Site.create(tmp_path, EXAMPLE_POSTS, config(server.port, connections=1, retries=0, tls="tls") +
                           '[[subscribers]]\nemail = "kim@example.org"\n')
        result = mail(site, code=3)
        assert "did not answer in TLS" in result.stderr, result.stderr
        assert 'use [smtp] tls = "starttls" (usually port 587)' in result.stderr
        assert "InvalidContentType" not in result.stderr.split("did not answer in TLS")[0]
        assert "fix that, then run `digest-feed mail` again." in result.stderr
        assert server.recorder.messages() == []


def test_counts_are_english(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, config(2525, connections=1, retries=0) +
                       '[[subscribers]]\nemail = "kim@example.org"\n')
    check = site.run("check").stdout
    assert "; 1 subscriber\n" in check and "1 subscribers" not in check
    dry = mail(site, "--dry-run").stdout
    assert "to 1 recipient\n" in dry and "Dry run: 1 message," in dry


def test_a_misspelt_key_gets_a_suggestion_and_check_writes_nothing(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, '[site]\nurl = "https://e.org"\n[feed]\nlimt = 3\n')
    result = site.run("check", code=2)
    assert result.stderr.strip() == "config.toml:4: unknown field `limt`; did you mean `limit`?"
    bad = Site.create(tmp_path / "two", EXAMPLE_POSTS, '[site]\nurl = "e.org"\ntimezone = "Mars/Base"\n')
    assert bad.run("check", code=2).stderr.strip().endswith("\n2 problems")
    assert bad.run("build", code=2).stderr.strip().endswith("\n2 problems; nothing was written or sent")


def test_a_colon_in_a_title_gets_a_hint_to_quote(tmp_path):
    (tmp_path / "_posts").mkdir()
    (tmp_path / "_posts" / "2025-01-01-x.md").write_text("---\ntitle: Daily Papers: a colon\n---\nx\n",
                                                          encoding="utf-8")
    (tmp_path / "config.toml").write_text('[site]\nurl = "https://e.org"\n', encoding="utf-8")
    result = Site(tmp_path).run("check", code=2)
    assert result.stderr.strip() == (
        "_posts/2025-01-01-x.md:2: front matter is not valid YAML: mapping values are not allowed in this "
        'context; a value with `: ` in it needs quotes, e.g. title: "Papers: a colon"')
