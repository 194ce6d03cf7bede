"""Every feed read the way feed readers read it: Python's feedparser for RSS
and Atom, the JSON Feed 1.1 rules for feed.json."""

import json
import re
from datetime import datetime

import feedparser
import pytest

from helpers import EXAMPLE_POSTS, FIXTURES

CONFIG = """
[site]
title = "Daily Papers"
url = "https://papers.example.org"
description = "Daily summaries of new papers"
language = "ko"
timezone = "Asia/Seoul"
author = "Papers Bot <papers@example.org>"

[feed]
limit = {limit}
items = "{items}"
per_tag = true
"""

# What the bundled example holds, newest first.
EXAMPLE_TITLES = [
    "Daily Papers — 2025-12-24",
    "Daily Papers — 2025-12-23",
    "Notes: reading list & errata",
]
EXAMPLE_PAPER_URLS = [
    "https://arxiv.org/abs/2512.18099",
    "https://arxiv.org/abs/2512.15031",
    "https://arxiv.org/abs/2512.19823",
    "https://arxiv.org/abs/2512.17001",
    "https://arxiv.org/abs/2512.17123",
]
URL_ATTRIBUTE = re.compile(r"""(?:href|src)=["']([^"']*)["']""")


def parse_clean(path):
    """feedparser's result for a file, failing on any bozo (ill-formed) error."""
    parsed = feedparser.parse(path.read_bytes())
    assert not parsed.bozo, f"{path.name}: {parsed.get('bozo_exception')}"
    return parsed


def assert_absolute_links(html, where):
    for url in URL_ATTRIBUTE.findall(html):
        assert re.match(r"^(https?|mailto):", url), f"{where}: relative or odd link {url!r}"


def json_feed(path):
    feed = json.loads(path.read_text(encoding="utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] and isinstance(feed["items"], list)
    for item in feed["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert "content_html" in item or "content_text" in item
        datetime.fromisoformat(item["date_published"])
    assert len({item["id"] for item in feed["items"]}) == len(feed["items"]), "ids are unique"
    return feed


@pytest.fixture
def example(make_site):
    site = make_site(EXAMPLE_POSTS, CONFIG.format(limit=20, items="posts"))
    site.build()
    return site


def test_rss_reads_cleanly_with_full_content(example):
    rss = parse_clean(example.out("feed.xml"))
    assert rss.version == "rss20"
    assert rss.feed.title == "Daily Papers"
    assert [e.title for e in rss.entries] == EXAMPLE_TITLES
    dates = [e.published_parsed for e in rss.entries]
    assert dates == sorted(dates, reverse=True), "newest first"
    first = rss.entries[0]
    assert first.link == "https://papers.example.org/2025/12/24/daily-papers.html"
    # jekyll-feed's id for the same post, so a blog moving from it shows nothing as new.
    assert first.id == "https://papers.example.org/2025/12/24/daily-papers"
    assert first.published == "Wed, 24 Dec 2025 17:15:00 +0900"
    assert [t.term for t in first.tags] == ["papers", "hugginface"]
    assert first.summary.startswith("SAM Audio: Segment Anything in Audio")
    content = first.content[0].value
    assert "범용 오디오 분할" in content and '<h2 id="introduction">' in content
    self_links = [l.href for l in rss.feed.links if l.rel == "self"]
    assert self_links == ["https://papers.example.org/feed.xml"]
    notes = rss.entries[2]
    assert sorted(t.term for t in notes.tags) == ["Notes", "meta"]
    assert notes.summary == "What changed in the digest this week."


def test_atom_reads_cleanly_with_summary_and_content(example):
    atom = parse_clean(example.out("atom.xml"))
    assert atom.version == "atom10"
    assert [e.title for e in atom.entries] == EXAMPLE_TITLES
    assert atom.feed.updated == "2025-12-24T17:15:00+09:00", "updated is the newest post, not the build time"
    for entry in atom.entries:
        assert entry.id.startswith("https://papers.example.org/")
        assert entry.summary
        assert entry.content[0].type == "text/html"
        assert entry.tags


def test_json_feed_has_the_required_fields(example):
    feed = json_feed(example.out("feed.json"))
    assert feed["feed_url"] == "https://papers.example.org/feed.json"
    assert feed["home_page_url"] == "https://papers.example.org/"
    assert [i["title"] for i in feed["items"]] == EXAMPLE_TITLES
    assert feed["items"][0]["date_published"] == "2025-12-24T17:15:00+09:00"
    assert feed["items"][0]["tags"] == ["papers", "hugginface"]


def test_every_link_is_absolute_and_every_paper_is_linked(example):
    rss = parse_clean(example.out("feed.xml"))
    atom = parse_clean(example.out("atom.xml"))
    feed = json_feed(example.out("feed.json"))
    everything = ""
    for entry in rss.entries + atom.entries:
        assert entry.link.startswith("https://papers.example.org/")
        assert_absolute_links(entry.content[0].value, entry.title)
        everything += entry.content[0].value
    for item in feed["items"]:
        assert_absolute_links(item["content_html"], item["title"])
    for url in EXAMPLE_PAPER_URLS:
        assert url in everything
    assert 'src="https://papers.example.org/assets/2025-12-23/depth.png"' in everything
    assert 'href="https://papers.example.org/reading-list/"' in everything


def test_papers_mode_makes_one_item_per_paper(make_site):
    site = make_site(EXAMPLE_POSTS, CONFIG.format(limit=20, items="papers"))
    site.build()
    rss = parse_clean(site.out("feed.xml"))
    atom = parse_clean(site.out("atom.xml"))
    feed = json_feed(site.out("feed.json"))
    for entries in (rss.entries, atom.entries):
        assert [e.link for e in entries] == EXAMPLE_PAPER_URLS
    # JSON Feed's own meaning: `url` the page on the site, `external_url` the paper.
    assert [i["external_url"] for i in feed["items"]] == EXAMPLE_PAPER_URLS
    assert feed["items"][0]["url"] == "https://papers.example.org/2025/12/24/daily-papers.html#1-sam-audio-segment-anything-in-audio"
    assert [i["id"] for i in feed["items"]][:2] == [
        "https://papers.example.org/2025/12/24/daily-papers.html#paper-1",
        "https://papers.example.org/2025/12/24/daily-papers.html#paper-2",
    ]
    first = feed["items"][0]
    assert first["title"] == "SAM Audio: Segment Anything in Audio"
    assert first["summary"].startswith("본 연구는 텍스트, 시각, 시간 간격 프롬프트를")
    assert "DAC-VAE" in first["content_html"] and "Toxicity" not in first["content_html"]


def test_limit_keeps_the_newest(make_site):
    site = make_site(EXAMPLE_POSTS, CONFIG.format(limit=2, items="posts"))
    site.build()
    assert [e.title for e in parse_clean(site.out("feed.xml")).entries] == EXAMPLE_TITLES[:2]


def test_per_tag_feeds(example):
    tagged = parse_clean(example.out("tags/vision/feed.xml"))
    assert [e.title for e in tagged.entries] == ["Daily Papers — 2025-12-23"]
    assert [l.href for l in tagged.feed.links if l.rel == "self"] == ["https://papers.example.org/tags/vision/feed.xml"]
    parse_clean(example.out("tags/vision/atom.xml"))
    assert [i["title"] for i in json_feed(example.out("tags/papers/feed.json"))["items"]] == EXAMPLE_TITLES[:2]


def test_hostile_content_is_defused_for_readers(make_site):
    site = make_site(FIXTURES / "good", CONFIG.format(limit=20, items="posts"))
    site.build()
    for name in ("feed.xml", "atom.xml"):
        parsed = parse_clean(site.out(name))
        hostile = next(e for e in parsed.entries if e.title.startswith("Hostile"))
        assert "script" not in hostile.title and "]]>" in hostile.title
        raw = site.out(name).read_text(encoding="utf-8")
        assert "<script" not in raw.replace("&lt;script", "")
        assert "javascript:" not in raw and "onerror" not in raw and "<iframe" not in raw
        assert "styled text ]]&gt; with a CDATA end" in hostile.content[0].value
    feed = json_feed(site.out("feed.json"))
    html = next(i for i in feed["items"] if i["title"].startswith("Hostile"))["content_html"]
    assert "<script" not in html.replace("&lt;script", "") and "onclick" not in html
