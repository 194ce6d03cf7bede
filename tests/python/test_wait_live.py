"""`mail --wait-live`: each post's page is fetched (from a blog on loopback,
http.server) until it answers 200 and holds the post's title; only then
does mail go out (to aiosmtpd), and the WebSub hub is pinged. A page not
live in time: exit 3, nothing sent, and the next run sends."""

import html

from helpers import EXAMPLE_POSTS, Site, config, deliveries, mail
from web_server import WebServer, pinged_urls

NEWEST_TITLE = "Daily Papers — 2025-12-24"
READERS = ["kim@example.org", "plain@example.org"]


class Blog:
    """The blog as its host serves it: a stage per request, `live` flips it."""

    def __init__(self, not_found: int):
        self.not_found = not_found  # requests answered 404 before the page is deployed
        self.stale = 0  # then requests answered 200 with a page not yet holding the title
        self.live = True

    def answer(self, method, path, count):
        if not self.live or count <= self.not_found:
            return 404, b"<h1>404: not found</h1>"
        if count <= self.not_found + self.stale:
            return 200, b"<title>Daily Papers</title><p>Site is building</p>"
        page = f"<title>{html.escape(NEWEST_TITLE)} | Daily Papers</title><h1>{html.escape(NEWEST_TITLE)}</h1>"
        return 200, page.encode("utf-8")


def live_site(path, smtp_port: int, blog_url: str, feed: str = "") -> Site:
    text = config(smtp_port, connections=1, retries=1).replace("https://papers.example.org", blog_url)
    text = text.replace("[email]", f"[feed]\n{feed}\n[email]", 1)
    for address in READERS:
        text += f'\n[[subscribers]]\nemail = "{address}"\n'
    return Site.create(path, EXAMPLE_POSTS, text)


def test_mail_waits_for_the_page_then_sends_and_pings_the_hub(tmp_path, server):
    blog = Blog(not_found=1)
    blog.stale = 1
    with WebServer(blog.answer) as host, WebServer(lambda method, path, n: (202, b"")) as hub:
        site = live_site(tmp_path, server.port, host.url, feed=f'websub_hub = "{hub.url}/"')
        site.build()
        result = mail(site, "--wait-live=60")
        gets = host.take()
        assert len(gets) == 3, "404, then 200 without the title, then the live page"
        assert all(method == "GET" and path.endswith("/2025/12/24/daily-papers.html") for method, path, _ in gets), gets
        assert "is live (3 requests)" in result.stdout
        assert server.recorder.recipients() == READERS
        assert {m["Subject"] for _, m, _ in server.recorder.messages()} == {NEWEST_TITLE}
        assert pinged_urls(hub.take()) == sorted(f"{host.url}/{name}" for name in ["atom.xml", "feed.json", "feed.xml"])

        # Nothing owed: nothing to wait for, no page fetched.
        server.recorder.clear()
        mail(site, "--wait-live")
        assert host.take() == [] and server.recorder.messages() == []


def test_a_page_never_live_sends_nothing_and_the_next_run_sends(tmp_path, server):
    blog = Blog(not_found=0)
    blog.live = False
    with WebServer(blog.answer) as host:
        site = live_site(tmp_path, server.port, host.url)
        result = mail(site, "--wait-live=1", code=3)
        assert "is not live after 1 s: HTTP 404" in result.stderr
        assert "nothing was sent" in result.stderr
        assert host.requests, "the page was fetched"
        assert server.recorder.messages() == []
        assert not site.state.exists() or deliveries(site) == []

        blog.live = True
        mail(site, "--wait-live=1")
        assert server.recorder.recipients() == READERS


def test_wait_live_with_the_blog_down_is_exit_3(tmp_path, server):
    with WebServer(lambda *_: (200, b"")) as gone:
        url = gone.url
    site = live_site(tmp_path, server.port, url)
    result = mail(site, "--wait-live=0", code=3)
    assert "no answer" in result.stderr, result.stderr
    assert server.recorder.messages() == []
