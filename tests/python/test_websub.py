"""`feed.websub_hub`: every feed names the hub, and `digest-feed ping`
POSTs `hub.mode=publish&hub.url=FEED` for each feed whose bytes changed
since the hub last accepted a ping, to a hub on loopback (http.server)."""

import json

import feedparser

from helpers import EXAMPLE_POSTS, Site, add_post
from web_server import WebServer, pinged_urls

SITE_URL = "https://papers.example.org"
FEEDS = ["atom.xml", "feed.json", "feed.xml"]


def hub_site(tmp_path, hub_url: str) -> Site:
    config = f"""\
[site]
title = "Daily Papers"
url = "{SITE_URL}"
timezone = "Asia/Seoul"

[feed]
per_tag = true
websub_hub = "{hub_url}"
"""
    return Site.create(tmp_path, EXAMPLE_POSTS, config)


def feed_files(site: Site) -> dict[str, bytes]:
    """Every feed a reader subscribes to, by URL, with its bytes."""
    out = site.path / "public"
    files = [out / name for name in FEEDS] + sorted(out.glob("tags/*/*.xml")) + sorted(out.glob("tags/*/*.json"))
    return {f"{SITE_URL}/{path.relative_to(out).as_posix()}": path.read_bytes() for path in files}


def test_every_feed_names_the_hub_and_itself(tmp_path):
    site = hub_site(tmp_path, "https://hub.example.org/")
    site.build()
    for feed in ["atom.xml", "feed.xml", "tags/papers/atom.xml"]:
        parsed = feedparser.parse(site.out(feed).read_bytes())
        links = {(link.rel, link.href) for link in parsed.feed.links}
        assert ("hub", "https://hub.example.org/") in links, feed
        assert ("self", f"{SITE_URL}/{feed}") in links, feed
    for feed in ["feed.json", "tags/papers/feed.json"]:
        data = json.loads(site.out(feed).read_text(encoding="utf-8"))
        assert data["hubs"] == [{"type": "WebSub", "url": "https://hub.example.org/"}], feed
        assert data["feed_url"] == f"{SITE_URL}/{feed}"


def test_one_ping_per_changed_feed_and_none_for_an_unchanged_rebuild(tmp_path):
    with WebServer(lambda method, path, n: (202, b"")) as hub:
        site = hub_site(tmp_path, hub.url + "/hub")
        site.build()
        result = site.run("ping")
        first = feed_files(site)
        requests = hub.take()
        assert pinged_urls(requests) == sorted(first), "the first ping names every feed once"
        assert all(path == "/hub" for _, path, _ in requests)
        assert f"Told {hub.url}/hub of {len(first)} changed feeds" in result.stdout
        record = (site.path / ".digest-feed" / "state.db.websub").read_text(encoding="utf-8")
        assert len(record.splitlines()) == len(first), "one line per feed, beside the delivery state"

        site.build()
        result = site.run("ping")
        assert hub.take() == [], "a rebuild that changed nothing pings nothing"
        assert "of 0 changed feeds" in result.stdout

        add_post(site, "2025-12-25-daily-papers.md", "Daily Papers — 2025-12-25", "2025-12-25 08:00:00",
                 tags="[papers]")
        site.build()
        site.run("ping")
        second = feed_files(site)
        changed = sorted(url for url, data in second.items() if first.get(url) != data)
        assert len(changed) == 6, "the main feeds and tags/papers/ changed"
        assert pinged_urls(hub.take()) == changed


def test_a_failed_ping_is_warned_of_and_retried_on_the_next_run(tmp_path):
    status = {"code": 500}
    with WebServer(lambda method, path, n: (status["code"], b"hub trouble")) as hub:
        site = hub_site(tmp_path, hub.url + "/")
        site.build()
        urls = sorted(feed_files(site))
        result = site.run("ping")
        assert "HTTP 500" in result.stderr and "the next `digest-feed ping` tries again" in result.stderr
        assert pinged_urls(hub.take()) == urls

        status["code"] = 204
        site.run("ping")
        assert pinged_urls(hub.take()) == urls, "every ping the hub refused is sent again"
        site.run("ping")
        assert hub.take() == []
        down_url = hub.url

    # The hub is down: a warning, and the change is kept for the next run.
    add_post(site, "2025-12-25-daily-papers.md", "Daily Papers — 2025-12-25", "2025-12-25 08:00:00", tags="[papers]")
    site.build()
    result = site.run("ping")
    assert result.stderr.count(f"cannot ping the WebSub hub {down_url}/") == 1, "no answer: the rest wait too"
    assert "6 pings failed" in result.stdout
    with WebServer(lambda method, path, n: (202, b"")) as hub:
        config = site.path / "config.toml"
        config.write_text(config.read_text(encoding="utf-8").replace(down_url, hub.url), encoding="utf-8")
        site.run("ping")
        assert len(pinged_urls(hub.take())) == 6


def test_ping_without_a_hub_names_the_setting(tmp_path):
    site = Site.create(tmp_path, EXAMPLE_POSTS, f'[site]\ntitle = "T"\nurl = "{SITE_URL}"\n')
    site.build()
    result = site.run("ping", code=2)
    assert "config.toml" in result.stderr and "websub_hub is not set" in result.stderr


def test_ping_before_a_build_says_to_build_first(tmp_path):
    with WebServer(lambda method, path, n: (202, b"")) as hub:
        site = hub_site(tmp_path, hub.url + "/")
        result = site.run("ping")
        assert "no feed in" in result.stderr and "run `digest-feed build` first" in result.stderr
        assert hub.requests == []
